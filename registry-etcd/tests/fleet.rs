//! Replicas following a prefix of a real etcd (started per test by `support`, installed into
//! the target directory when none is on `PATH`): convergence, bursts, an etcd restart, a
//! compaction, bad values, racing compare-and-swaps, a replica that dies, and `#[dynamic]`
//! names restored. Registries in one process stand for the replicas of a fleet.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use handler_registry::{
    dynamic, handler, registry, ChangeKind, Error as RegistryError, Kind, Registry,
};
use registry_etcd::{Client, DecodeError, Error, Fleet, Replica, Status};
use serde_json::json;
use support::{eventually, Etcd, Proxy};

type Greet = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// Every wait of a fleet-wide drain in these tests, unless a test says otherwise.
const WAIT: Duration = Duration::from_secs(10);

/// The application's decode function: `{"template": "Ahoy, {name}!"}`, or a compiled-in
/// implementation by name, `{"impl": "shout"}`.
fn decode(_name: &str, value: &[u8]) -> Result<Greet, DecodeError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Value {
        template: Option<String>,
        #[serde(rename = "impl")]
        implementation: Option<String>,
    }
    let value: Value = serde_json::from_slice(value)?;
    match (value.template, value.implementation.as_deref()) {
        (Some(template), None) if template.contains("{name}") => {
            Ok(Arc::new(move |name: &str| template.replace("{name}", name)))
        }
        (Some(_), None) => Err("the template has no `{name}`".into()),
        (None, Some("shout")) => Ok(Arc::new(|name: &str| {
            format!("HELLO, {}!", name.to_uppercase())
        })),
        (None, Some("panic")) => panic!("asked to panic"),
        (None, Some(other)) => {
            Err(format!("unknown implementation `{other}`; known: shout").into())
        }
        _ => Err("give either `template` or `impl`".into()),
    }
}

fn template(text: &str) -> String {
    json!({ "template": text }).to_string()
}

/// A registry of its own for one replica.
fn runtime_registry() -> &'static Registry<Greet> {
    Box::leak(Box::new(Registry::new()))
}

/// What `name` answers for "Ada" (`None`: no such handler).
fn answer(registry: &Registry<Greet>, name: &str) -> Option<String> {
    registry.call(name, |greet| greet("Ada")).ok()
}

/// The version of an overlay name.
fn version(registry: &Registry<Greet>, name: &str) -> Option<u64> {
    registry
        .entries()
        .into_iter()
        .find(|entry| entry.name() == name)
        .and_then(|entry| match entry.kind() {
            Kind::Dynamic { version } => Some(version),
            _ => None,
        })
}

/// Starts one replica per id, each with a registry of its own.
async fn start_replicas(
    client: &Client,
    prefix: &str,
    ids: &[&str],
    ttl: Duration,
) -> Vec<(Replica, &'static Registry<Greet>)> {
    let mut replicas = Vec::new();
    for id in ids {
        let registry = runtime_registry();
        let replica = Replica::builder(client, prefix)
            .id(*id)
            .lease_ttl(ttl)
            .start(registry, decode)
            .await
            .unwrap_or_else(|error| panic!("replica {id} did not start: {error}"));
        replicas.push((replica, registry));
    }
    replicas
}

/// Every replica's answer for `name`.
fn answers(replicas: &[(Replica, &'static Registry<Greet>)], name: &str) -> Vec<Option<String>> {
    replicas
        .iter()
        .map(|(_, registry)| answer(registry, name))
        .collect()
}

/// Waits until every replica answers `expected` for `name`; returns how long it took.
async fn converge(
    replicas: &[(Replica, &'static Registry<Greet>)],
    name: &str,
    expected: &str,
    limit: Duration,
) -> Duration {
    let what = format!("every replica answering {expected:?} for `{name}`");
    eventually(
        limit,
        &what,
        || {
            answers(replicas, name)
                .iter()
                .all(|answer| answer.as_deref() == Some(expected))
                .then_some(())
        },
        || format!("{:?}", answers(replicas, name)),
    )
    .await
    .1
}

/// The log lines of every test, captured from `tracing`.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Capture(sink.clone()))
            .init();
        logs
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured log lines that contain every one of `parts`.
fn log_lines(parts: &[&str]) -> Vec<String> {
    let logs = logs().lock().unwrap();
    String::from_utf8_lossy(&logs)
        .lines()
        .filter(|line| parts.iter().all(|part| line.contains(part)))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_converge_within_a_second_of_a_put() {
    logs();
    let etcd = Etcd::start();
    let client = etcd.client();
    let fleet = Fleet::new(&client, "/converge");
    let replicas = start_replicas(
        &client,
        "/converge",
        &["a", "b", "c"],
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(answers(&replicas, "text.greet"), [None, None, None]);

    for text in ["Ahoy, {name}!", "Good day to you, {name}.", "Hi, {name}"] {
        let put = Instant::now();
        let revision = fleet.put("text.greet", template(text)).await.unwrap();
        let expected = text.replace("{name}", "Ada");
        converge(&replicas, "text.greet", &expected, Duration::from_secs(1)).await;
        let took = put.elapsed();
        assert!(took < Duration::from_secs(1), "converged in {took:?}");
        for (replica, registry) in &replicas {
            assert_eq!(
                version(registry, "text.greet"),
                Some(revision),
                "{}",
                replica.id()
            );
        }
        let counted = fleet
            .wait_drained("text.greet", revision, WAIT)
            .await
            .unwrap();
        assert_eq!(counted, ["a", "b", "c"]);
        for view in fleet.replicas().await.unwrap() {
            assert_eq!(
                view.statuses.get("text.greet"),
                Some(&Status::new(revision, true, None)),
                "{}",
                view.id
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_a_thousand_puts_ends_on_the_last_value_everywhere() {
    logs();
    let etcd = Etcd::start();
    let client = etcd.client();
    let fleet = Fleet::new(&client, "/burst");
    let replicas =
        start_replicas(&client, "/burst", &["a", "b", "c"], Duration::from_secs(10)).await;
    let mut changes: Vec<_> = replicas
        .iter()
        .map(|(_, registry)| registry.subscribe_with_capacity(4096))
        .collect();

    let mut last = 0;
    for i in 0..1000 {
        last = fleet
            .put("text.greet", template(&format!("v{i}: {{name}}")))
            .await
            .unwrap();
    }
    converge(
        &replicas,
        "text.greet",
        "v999: Ada",
        Duration::from_secs(10),
    )
    .await;
    let counted = fleet.wait_drained("text.greet", last, WAIT).await.unwrap();
    assert_eq!(counted, ["a", "b", "c"]);
    for ((replica, registry), changes) in replicas.iter().zip(&mut changes) {
        assert_eq!(version(registry, "text.greet"), Some(last));
        assert_eq!(
            replica.status("text.greet"),
            Some(Status::new(last, true, None))
        );
        // Installed versions only went up, whatever was skipped.
        let installed: Vec<u64> = std::iter::from_fn(|| changes.try_recv())
            .filter(|change| matches!(change.kind(), ChangeKind::Registered | ChangeKind::Replaced))
            .map(|change| change.version())
            .collect();
        assert!(
            installed.windows(2).all(|pair| pair[0] < pair[1]),
            "{}: {installed:?}",
            replica.id()
        );
        assert_eq!(installed.last(), Some(&last));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_resume_after_etcd_is_killed_and_restarted_on_its_data_directory() {
    logs();
    let mut etcd = Etcd::start();
    let client = etcd.client();
    let fleet = Fleet::new(&client, "/restart");
    let replicas = start_replicas(
        &client,
        "/restart",
        &["r-a", "r-b", "r-c"],
        Duration::from_secs(10),
    )
    .await;
    fleet
        .put("text.greet", template("before, {name}"))
        .await
        .unwrap();
    converge(
        &replicas,
        "text.greet",
        "before, Ada",
        Duration::from_secs(1),
    )
    .await;

    // Puts keep coming while etcd goes away (those that fail are lost, as for any client).
    let writing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = tokio::spawn({
        let fleet = fleet.clone();
        let writing = writing.clone();
        async move {
            let mut written = 0;
            for i in 0.. {
                if !writing.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                if fleet
                    .put("text.greet", template(&format!("stream {i}, {{name}}")))
                    .await
                    .is_ok()
                {
                    written += 1;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            written
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| etcd.kill());
    tokio::time::sleep(Duration::from_secs(1)).await;
    tokio::task::block_in_place(|| etcd.restart());
    tokio::time::sleep(Duration::from_millis(300)).await;
    writing.store(false, std::sync::atomic::Ordering::SeqCst);
    let written = writer.await.unwrap();
    assert!(
        written > 10,
        "only {written} puts went through around the restart"
    );

    let put = Instant::now();
    let revision = fleet
        .put("text.greet", template("after, {name}"))
        .await
        .unwrap();
    converge(
        &replicas,
        "text.greet",
        "after, Ada",
        Duration::from_secs(15),
    )
    .await;
    let took = put.elapsed();
    assert!(took < Duration::from_secs(15), "converged in {took:?}");
    for (replica, registry) in &replicas {
        assert_eq!(
            version(registry, "text.greet"),
            Some(revision),
            "{}",
            replica.id()
        );
    }
    let counted = fleet
        .wait_drained("text.greet", revision, Duration::from_secs(15))
        .await
        .unwrap();
    assert_eq!(counted, ["r-a", "r-b", "r-c"]);
    assert!(
        !log_lines(&["replica=r-a", "the watch broke"]).is_empty()
            || !log_lines(&["replica=r-a", "etcd ended the watch"]).is_empty(),
        "replica r-a did not log losing its watch: {:?}",
        log_lines(&["replica=r-a"])
    );
}

#[registry]
static COMPACTED: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;

/// Replaced from etcd in the compaction test.
#[handler("greet", registry = COMPACTED)]
#[dynamic]
fn compacted_greet(name: &str) -> String {
    format!("Hello, {name}!")
}

/// Overridden from etcd, then its key deleted while the replica is cut off.
#[handler("farewell", registry = COMPACTED)]
#[dynamic]
fn compacted_farewell(name: &str) -> String {
    format!("Goodbye, {name}!")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compaction_past_a_replicas_revision_makes_it_read_the_prefix_again() {
    logs();
    let etcd = Etcd::start();
    let client = etcd.client();
    let fleet = Fleet::new(&client, "/compact");
    // The replica reaches etcd through a proxy that the test cuts.
    let proxy = Proxy::start(etcd.addr()).await;
    let behind = Replica::builder(&proxy.client(), "/compact")
        .id("behind")
        .start(&COMPACTED, decode)
        .await
        .unwrap();
    fleet.put("greet", template("Ahoy, {name}!")).await.unwrap();
    let farewell_put = fleet
        .put("farewell", template("Fare thee well, {name}!"))
        .await
        .unwrap();
    let extra = fleet
        .put("extra", template("Extra, {name}!"))
        .await
        .unwrap();
    behind.wait_applied(extra, WAIT).await.unwrap();
    assert_eq!(
        answer(&COMPACTED, "farewell").as_deref(),
        Some("Fare thee well, Ada!")
    );
    assert_eq!(answer(&COMPACTED, "extra").as_deref(), Some("Extra, Ada!"));

    proxy.cut();
    let greet = fleet
        .put("greet", template("Ahoy again, {name}!"))
        .await
        .unwrap();
    fleet.delete("farewell").await.unwrap().unwrap();
    fleet.delete("extra").await.unwrap().unwrap();
    let added = fleet
        .put("added", template("Added, {name}!"))
        .await
        .unwrap();
    let now = client.revision().await.unwrap();
    client.compact(now).await.unwrap();
    assert!(
        behind.revision() < now,
        "the replica was not behind: {behind:?}"
    );
    assert_eq!(answer(&COMPACTED, "greet").as_deref(), Some("Ahoy, Ada!"));

    proxy.resume();
    behind
        .wait_applied(now, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        answer(&COMPACTED, "greet").as_deref(),
        Some("Ahoy again, Ada!")
    );
    assert_eq!(version(&COMPACTED, "greet"), Some(greet));
    // Its key deleted: back to the declared handler, at a new version.
    assert_eq!(
        answer(&COMPACTED, "farewell").as_deref(),
        Some("Goodbye, Ada!")
    );
    assert_eq!(version(&COMPACTED, "farewell"), Some(farewell_put + 1));
    assert_eq!(answer(&COMPACTED, "extra"), None);
    assert_eq!(answer(&COMPACTED, "added").as_deref(), Some("Added, Ada!"));
    assert_eq!(version(&COMPACTED, "added"), Some(added));
    // A deletion seen only through the full read is reported at that read's revision.
    let status = behind.status("farewell").unwrap();
    assert!(
        status.version >= now && status.error.is_none(),
        "{status:?}"
    );
    assert_eq!(
        log_lines(&["replica=behind", "compacted: reading the prefix again"]).len(),
        1,
        "{:?}",
        log_lines(&["replica=behind"])
    );
    // Then it follows the watch again.
    let revision = fleet.put("greet", template("Back, {name}!")).await.unwrap();
    behind.wait_applied(revision, WAIT).await.unwrap();
    assert_eq!(answer(&COMPACTED, "greet").as_deref(), Some("Back, Ada!"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_leave_replicas_on_their_current_handler_and_show_in_their_status() {
    logs();
    let etcd = Etcd::start();
    let client = etcd.client();
    let fleet = Fleet::new(&client, "/bad");
    let replicas = start_replicas(
        &client,
        "/bad",
        &["bad-a", "bad-b"],
        Duration::from_secs(10),
    )
    .await;
    let good = fleet
        .put("text.greet", template("Ahoy, {name}!"))
        .await
        .unwrap();
    fleet.wait_drained("text.greet", good, WAIT).await.unwrap();

    let cases = [
        (
            "not json".to_owned(),
            "the value does not decode: expected ident",
        ),
        (
            json!({ "impl": "klingon" }).to_string(),
            "unknown implementation `klingon`; known: shout",
        ),
        (template("no name here"), "the template has no `{name}`"),
        (
            json!({ "impl": "panic" }).to_string(),
            "the decode function panicked: asked to panic",
        ),
    ];
    for (value, expected) in cases {
        let revision = fleet.put("text.greet", &value).await.unwrap();
        let error = format!("revision {revision}: ");
        for (replica, registry) in &replicas {
            replica.wait_applied(revision, WAIT).await.unwrap();
            let status = replica.status("text.greet").unwrap();
            let message = status.error.clone().unwrap_or_default();
            assert!(
                message.starts_with(&error) && message.contains(expected),
                "{}: {status:?} for {value}",
                replica.id()
            );
            // Still on the good value.
            assert_eq!((status.version, status.drained), (good, true));
            assert_eq!(
                answer(registry, "text.greet").as_deref(),
                Some("Ahoy, Ada!")
            );
            assert_eq!(version(registry, "text.greet"), Some(good));
            let logged = log_lines(&[
                "WARN",
                &format!("replica={}", replica.id()),
                "name=\"text.greet\"",
                &format!("revision={revision}"),
                "value refused; the current handler stays",
            ]);
            assert_eq!(logged.len(), 1, "{logged:?}");
        }
        // Published too, so a rollout waiting for it says why it never comes.
        let waited = fleet
            .wait_drained("text.greet", revision, Duration::from_secs(1))
            .await;
        let Err(Error::WaitTimeout { pending, .. }) = &waited else {
            panic!("expected a timeout, got {waited:?}");
        };
        let ids: Vec<&str> = pending.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["bad-a", "bad-b"]);
        let message = waited.unwrap_err().to_string();
        assert!(
            message.contains(&format!(
                "`bad-a` (at revision {good}, drained, error: {error}"
            )),
            "{message}"
        );
    }

    // A name the registry refuses is refused alone; other names keep following.
    let refused = fleet
        .put("two words", template("Hi, {name}"))
        .await
        .unwrap();
    let fixed = fleet
        .put("text.greet", json!({ "impl": "shout" }).to_string())
        .await
        .unwrap();
    for (replica, registry) in &replicas {
        replica.wait_applied(fixed, WAIT).await.unwrap();
        let status = replica.status("two words").unwrap();
        assert!(
            status
                .error
                .as_deref()
                .is_some_and(|error| error.starts_with(&format!("revision {refused}: "))
                    && error.contains("cannot contain whitespace")),
            "{status:?}"
        );
        assert_eq!(
            answer(registry, "text.greet").as_deref(),
            Some("HELLO, ADA!")
        );
        assert_eq!(replica.status("text.greet").unwrap().error, None);
    }
    fleet.wait_drained("text.greet", fixed, WAIT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_compare_and_swaps_one_wins_the_other_gets_a_conflict() {
    logs();
    let etcd = Etcd::start();
    let fleet = Fleet::new(&etcd.client(), "/cas");
    // Another operator, with a client of its own.
    let other = Fleet::new(&etcd.client(), "/cas");
    let replicas = start_replicas(&etcd.client(), "/cas", &["a"], Duration::from_secs(10)).await;
    let first = fleet
        .compare_and_swap("text.greet", 0, template("First, {name}"))
        .await
        .unwrap();

    let (mine, theirs) = tokio::join!(
        fleet.compare_and_swap("text.greet", first, template("Mine, {name}")),
        other.compare_and_swap("text.greet", first, template("Theirs, {name}")),
    );
    let (winner, loser, expected) = match (mine, theirs) {
        (Ok(revision), Err(error)) => (revision, error, "Mine, Ada"),
        (Err(error), Ok(revision)) => (revision, error, "Theirs, Ada"),
        outcome => panic!("expected one winner and one conflict, got {outcome:?}"),
    };
    assert_eq!(
        loser,
        Error::Conflict {
            key: "/cas/text.greet".to_owned(),
            expected: first,
            current: Some(winner),
        }
    );
    assert_eq!(
        loser.to_string(),
        format!("`/cas/text.greet` was changed by another writer: the write expected revision {first}, the key is at revision {winner}; read it again and retry")
    );
    converge(&replicas, "text.greet", expected, WAIT).await;
    assert_eq!(
        fleet.get("text.greet").await.unwrap().unwrap().mod_revision,
        winner
    );

    // Creating what exists, deleting at a stale revision: refused, nothing changes.
    let created = fleet
        .compare_and_swap("text.greet", 0, template("x {name}"))
        .await;
    assert_eq!(
        created.unwrap_err().to_string(),
        format!("`/cas/text.greet` was changed by another writer: the write expected it not to exist, the key is at revision {winner}; read it again and retry")
    );
    assert!(matches!(
        fleet.compare_and_delete("text.greet", first).await,
        Err(Error::Conflict { current: Some(current), .. }) if current == winner
    ));
    let deleted = fleet
        .compare_and_delete("text.greet", winner)
        .await
        .unwrap();
    assert_eq!(fleet.get("text.greet").await.unwrap(), None);
    assert!(matches!(
        fleet
            .compare_and_swap("text.greet", winner, template("late {name}"))
            .await,
        Err(Error::Conflict { current: None, .. })
    ));
    replicas[0].0.wait_applied(deleted, WAIT).await.unwrap();
    assert_eq!(answer(replicas[0].1, "text.greet"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_replicas_status_vanishes_with_its_lease_and_the_wait_stops_counting_it() {
    logs();
    let etcd = Etcd::start();
    let client = etcd.client();
    let fleet = Fleet::new(&client, "/dead");
    let ttl = Duration::from_secs(3);
    let mut replicas = start_replicas(&client, "/dead", &["a", "b", "c"], ttl).await;
    let first = fleet
        .put("text.greet", template("One, {name}"))
        .await
        .unwrap();
    assert_eq!(
        fleet.wait_drained("text.greet", first, WAIT).await.unwrap(),
        ["a", "b", "c"]
    );
    let ids = |views: Vec<registry_etcd::ReplicaView>| -> Vec<String> {
        views.into_iter().map(|view| view.id).collect()
    };
    assert_eq!(ids(fleet.replicas().await.unwrap()), ["a", "b", "c"]);

    // `c` dies without a word: its tasks stop, its lease is left to expire.
    let (c, _) = replicas.pop().unwrap();
    let died = Instant::now();
    drop(c);
    let second = fleet
        .put("text.greet", template("Two, {name}"))
        .await
        .unwrap();
    // Until its lease expires (at least 2 s from now: it was renewed under a second ago), it
    // is still counted, at its old revision.
    let waited = fleet
        .wait_drained("text.greet", second, Duration::from_secs(1))
        .await;
    assert_eq!(
        waited,
        Err(Error::WaitTimeout {
            name: "text.greet".to_owned(),
            revision: second,
            after: Duration::from_secs(1),
            pending: vec![("c".to_owned(), Some(Status::new(first, true, None)))],
        })
    );
    // Then it is not.
    let counted = fleet
        .wait_drained("text.greet", second, WAIT)
        .await
        .unwrap();
    let gone = died.elapsed();
    assert_eq!(counted, ["a", "b"]);
    assert!(gone < ttl + Duration::from_secs(2), "counted for {gone:?}");
    assert_eq!(client.get_prefix("/dead-status/c").await.unwrap().kvs, []);
    assert_eq!(ids(fleet.replicas().await.unwrap()), ["a", "b"]);

    // A replica shut down withdraws its entries at once.
    let (b, _) = replicas.pop().unwrap();
    b.shutdown().await.unwrap();
    assert_eq!(ids(fleet.replicas().await.unwrap()), ["a"]);
    assert_eq!(client.get_prefix("/dead-status/b").await.unwrap().kvs, []);
}

#[registry]
static DECLARED: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;

/// Hot-swapped from etcd, restored when its key is deleted.
#[handler("greet", registry = DECLARED)]
#[dynamic]
fn declared_greet(name: &str) -> String {
    format!("Hello, {name}!")
}

/// Static: etcd cannot drive it.
#[handler("ping", registry = DECLARED)]
fn ping(_: &str) -> String {
    "pong".to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_key_restores_a_dynamic_name_and_removes_a_runtime_name() {
    logs();
    let etcd = Etcd::start();
    let client = etcd.client();
    let fleet = Fleet::new(&client, "/restore");
    // Written before the replica starts: its first read installs them.
    let greet = fleet.put("greet", template("Ahoy, {name}!")).await.unwrap();
    let extra = fleet
        .put("extra", template("Extra, {name}!"))
        .await
        .unwrap();
    let ping_put = fleet.put("ping", template("no {name}")).await.unwrap();
    let replica = Replica::builder(&client, "/restore")
        .id("r")
        .start(&DECLARED, decode)
        .await
        .unwrap();
    assert_eq!(replica.revision(), ping_put);
    assert_eq!(answer(&DECLARED, "greet").as_deref(), Some("Ahoy, Ada!"));
    assert_eq!(version(&DECLARED, "greet"), Some(greet));
    assert_eq!(answer(&DECLARED, "extra").as_deref(), Some("Extra, Ada!"));
    assert_eq!(version(&DECLARED, "extra"), Some(extra));
    assert_eq!(answer(&DECLARED, "ping").as_deref(), Some("pong"));
    let refused = replica.status("ping").unwrap();
    assert_eq!(refused.version, 0);
    assert!(
        refused
            .error
            .as_deref()
            .is_some_and(|error| error.starts_with(&format!("revision {ping_put}: "))
                && error.contains("is static")),
        "{refused:?}"
    );

    let deleted = fleet.delete("greet").await.unwrap().unwrap();
    replica.wait_applied(deleted, WAIT).await.unwrap();
    assert_eq!(answer(&DECLARED, "greet").as_deref(), Some("Hello, Ada!"));
    assert_eq!(version(&DECLARED, "greet"), Some(greet + 1));
    assert_eq!(
        fleet.wait_drained("greet", deleted, WAIT).await.unwrap(),
        ["r"]
    );
    assert_eq!(
        replica.status("greet"),
        Some(Status::new(deleted, true, None))
    );

    let removed = fleet.delete("extra").await.unwrap().unwrap();
    replica.wait_applied(removed, WAIT).await.unwrap();
    assert!(matches!(
        DECLARED.lookup("extra"),
        Err(RegistryError::NotFound { .. })
    ));

    let again = fleet.put("greet", template("Back, {name}!")).await.unwrap();
    replica.wait_applied(again, WAIT).await.unwrap();
    assert_eq!(answer(&DECLARED, "greet").as_deref(), Some("Back, Ada!"));
    assert_eq!(version(&DECLARED, "greet"), Some(again));
    replica.shutdown().await.unwrap();
    assert_eq!(client.get_prefix("/restore-status/").await.unwrap().kvs, []);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_unreachable_etcd_are_clear_errors() {
    let registry = runtime_registry();
    let nowhere = Client::new("http://127.0.0.1:1").unwrap();
    let error = Replica::builder(&nowhere, "/x")
        .start(registry, decode)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot connect to etcd (http://127.0.0.1:1: "),
        "{error}"
    );
    let error = Replica::builder(&nowhere, "/x")
        .id("a/b")
        .start(registry, decode)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid replica id `a/b`: a replica id is 1 to 128 bytes without `/`, whitespace or control characters"
    );
    let error = Replica::builder(&nowhere, "/x")
        .status_prefix("/x/status")
        .start(registry, decode)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidConfig {
                setting: "status prefix",
                ..
            }
        ),
        "{error}"
    );
    let error = Replica::builder(&nowhere, "/x")
        .lease_ttl(Duration::from_millis(1500))
        .start(registry, decode)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("at least 2"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_still_running_on_the_old_handler_keeps_the_status_draining() {
    logs();
    let etcd = Etcd::start();
    let client = etcd.client();
    let fleet = Fleet::new(&client, "/draining");
    let replicas = start_replicas(&client, "/draining", &["slow"], Duration::from_secs(10)).await;
    let (replica, registry) = (&replicas[0].0, replicas[0].1);
    let first = fleet
        .put("text.greet", template("Old, {name}"))
        .await
        .unwrap();
    assert_eq!(
        fleet.wait_drained("text.greet", first, WAIT).await.unwrap(),
        ["slow"]
    );

    // A call on the first greeting that lasts until the test lets it end.
    let (started, running) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let call = std::thread::spawn(move || {
        registry.call("text.greet", |greet| {
            started.send(()).unwrap();
            released.recv_timeout(WAIT).unwrap();
            greet("Ada")
        })
    });
    running.recv_timeout(WAIT).unwrap();
    let second = fleet
        .put("text.greet", template("New, {name}"))
        .await
        .unwrap();
    replica.wait_applied(second, WAIT).await.unwrap();
    assert_eq!(answer(registry, "text.greet").as_deref(), Some("New, Ada"));
    assert_eq!(
        replica.status("text.greet"),
        Some(Status::new(second, false, None))
    );
    // Published as draining: the fleet-wide wait does not count it.
    let published = Instant::now();
    loop {
        let views = fleet.replicas().await.unwrap();
        let status = views[0].statuses.get("text.greet").cloned();
        if status == Some(Status::new(second, false, None)) {
            break;
        }
        assert!(published.elapsed() < WAIT, "not published: {status:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let waited = fleet
        .wait_drained("text.greet", second, Duration::from_secs(1))
        .await;
    assert!(
        waited.as_ref().is_err_and(|error| error
            .to_string()
            .ends_with(&format!("`slow` (at revision {second}, draining);"))),
        "{waited:?}"
    );

    // The old call ends on the old greeting; then the replica reports the drain.
    release.send(()).unwrap();
    assert_eq!(call.join().unwrap().unwrap(), "Old, Ada");
    assert_eq!(
        fleet
            .wait_drained("text.greet", second, WAIT)
            .await
            .unwrap(),
        ["slow"]
    );
    assert_eq!(
        replica.status("text.greet"),
        Some(Status::new(second, true, None))
    );
}
