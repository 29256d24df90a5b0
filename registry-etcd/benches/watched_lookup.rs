//! What following etcd costs a lookup: nothing, since a replica writes into the registry when
//! a change arrives and lookups read the registry as they always do.
//!
//! One registry (`Registry<Arc<dyn Fn(&str) -> String>>`, standalone) holds `watched`,
//! installed by a replica following a real etcd (started as the tests start it), and
//! `unwatched`, registered locally; `PLAIN` holds the same two names with no replica at all.
//! Each case looks one name up (`get`, which clones the `Arc`) or calls it by reference
//! (`call`), on 1 thread.
//!
//! Run with `cargo bench -p registry-etcd --bench watched_lookup`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use divan::{black_box, Bencher};
use handler_registry::Registry;
use registry_etcd::{DecodeError, Fleet, Replica};

type Greet = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// Follows `/lookup` in etcd: `watched` comes from there.
static FOLLOWING: Registry<Greet> = Registry::new();

/// The same names, no replica.
static PLAIN: Registry<Greet> = Registry::new();

/// etcd, the runtime and the replica, alive while the benchmarks run; dropped (etcd killed)
/// after them.
static FIXTURE: Mutex<Option<(support::Etcd, tokio::runtime::Runtime, Replica)>> = Mutex::new(None);

fn decode(_name: &str, value: &[u8]) -> Result<Greet, DecodeError> {
    let template = std::str::from_utf8(value)?.to_owned();
    Ok(Arc::new(move |name: &str| template.replace("{name}", name)))
}

fn greeting(template: &'static str) -> Greet {
    Arc::new(move |name: &str| template.replace("{name}", name))
}

fn main() {
    let etcd = support::Etcd::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let replica = runtime.block_on(async {
        let fleet = Fleet::new(&etcd.client(), "/lookup");
        let revision = fleet.put("watched", "Ahoy, {name}!").await.expect("a put");
        let replica = Replica::builder(&etcd.client(), "/lookup")
            .id("bench")
            .start(&FOLLOWING, decode)
            .await
            .expect("a replica");
        replica
            .wait_applied(revision, Duration::from_secs(10))
            .await
            .expect("the put applied");
        replica
    });
    FOLLOWING
        .register("unwatched", greeting("Ahoy, {name}!"))
        .expect("a local name");
    for name in ["watched", "unwatched"] {
        PLAIN
            .register(name, greeting("Ahoy, {name}!"))
            .expect("a local name");
        assert_eq!(
            FOLLOWING.call(name, |greet| greet("Ada")).unwrap(),
            "Ahoy, Ada!"
        );
    }
    *FIXTURE.lock().unwrap() = Some((etcd, runtime, replica));
    divan::main();
    FIXTURE.lock().unwrap().take();
}

#[divan::bench(args = ["watched", "unwatched"])]
fn following_get(bencher: Bencher, name: &str) {
    bencher.bench(|| FOLLOWING.get(black_box(name)));
}

#[divan::bench(args = ["watched", "unwatched"])]
fn plain_get(bencher: Bencher, name: &str) {
    bencher.bench(|| PLAIN.get(black_box(name)));
}

#[divan::bench(args = ["watched", "unwatched"])]
fn following_call(bencher: Bencher, name: &str) {
    bencher.bench(|| {
        FOLLOWING.call(black_box(name), |greet| {
            Arc::as_ptr(greet).cast::<()>() as usize
        })
    });
}

#[divan::bench(args = ["watched", "unwatched"])]
fn plain_call(bencher: Bencher, name: &str) {
    bencher.bench(|| {
        PLAIN.call(black_box(name), |greet| {
            Arc::as_ptr(greet).cast::<()>() as usize
        })
    });
}
