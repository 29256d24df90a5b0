//! The time from a put to every replica answering with the new handler: a real etcd (started
//! as the tests start it, with fsync on), 3 replicas in this process (a registry each, each
//! with its own client and watch), 1,000 puts of one key, one at a time.
//!
//! Each sample starts just before the put is sent and ends when the last of the 3 registries
//! announces the new version (`subscribe()`, `Replaced` at the put's revision); then each
//! replica's answer is checked. The put's own round trip (etcd's commit) is included: it is
//! what an operator waits for. Prints p50, p90, p99 and the maximum, the same for the put
//! alone, and for what follows its acknowledgement (the watch's delivery and the install).
//!
//! Run with `cargo bench -p registry-etcd --bench fleet`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use handler_registry::{ChangeKind, Registry};
use registry_etcd::{DecodeError, Fleet, Replica};

type Greet = Arc<dyn Fn(&str) -> String + Send + Sync>;

const PUTS: usize = 1000;
const REPLICAS: usize = 3;

fn decode(_name: &str, value: &[u8]) -> Result<Greet, DecodeError> {
    let template = std::str::from_utf8(value)?.to_owned();
    Ok(Arc::new(move |name: &str| template.replace("{name}", name)))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{what:<32} p50 {:>7.0} us   p90 {:>7.0} us   p99 {:>7.0} us   max {:>7.0} us   ({} samples)",
        us(percentile(&samples, 0.50)),
        us(percentile(&samples, 0.90)),
        us(percentile(&samples, 0.99)),
        us(*samples.last().unwrap()),
        samples.len()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read.
    let etcd = support::Etcd::start_with_fsync();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(async {
        let mut replicas = Vec::new();
        for id in 0..REPLICAS {
            let registry: &'static Registry<Greet> = Box::leak(Box::new(Registry::new()));
            let changes = registry.subscribe_with_capacity(8192);
            let replica = Replica::builder(&etcd.client(), "/bench")
                .id(format!("bench-{id}"))
                .start(registry, decode)
                .await
                .expect("a replica");
            replicas.push((replica, registry, changes));
        }
        let fleet = Fleet::new(&etcd.client(), "/bench");
        let mut everywhere = Vec::with_capacity(PUTS);
        let mut puts = Vec::with_capacity(PUTS);
        for i in 0..PUTS {
            let template = format!("v{i}, {{name}}");
            let started = Instant::now();
            let revision = fleet.put("greet", &template).await.expect("a put");
            puts.push(started.elapsed());
            for (replica, _, changes) in &mut replicas {
                loop {
                    let change = tokio::time::timeout(Duration::from_secs(10), changes.recv())
                        .await
                        .unwrap_or_else(|_| panic!("{} missed revision {revision}", replica.id()))
                        .expect("the registry lives");
                    if matches!(change.kind(), ChangeKind::Registered | ChangeKind::Replaced)
                        && change.version() >= revision
                    {
                        break;
                    }
                }
            }
            everywhere.push(started.elapsed());
            let expected = format!("v{i}, Ada");
            for (replica, registry, _) in &replicas {
                let answer = registry.call("greet", |greet| greet("Ada")).expect("greet");
                assert_eq!(answer, expected, "{}", replica.id());
            }
        }
        println!("{PUTS} puts of one key, {REPLICAS} replicas, etcd 3.5 on loopback (fsync on):");
        let after_ack = everywhere
            .iter()
            .zip(&puts)
            .map(|(everywhere, put)| everywhere.saturating_sub(*put))
            .collect();
        report("put acknowledged by etcd", puts);
        report("put to every replica answering", everywhere);
        report("acknowledged to every replica", after_ack);
        for (replica, _, _) in replicas {
            replica.shutdown().await.expect("a clean shutdown");
        }
    });
}
