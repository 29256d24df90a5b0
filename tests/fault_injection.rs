//! Fault injection: handlers that panic, block, or re-enter the registry they run from, called
//! through `Registry::call`, `Registry::call_async` and `get`. None of them may deadlock the
//! registry, corrupt its state or hold up other callers.
//!
//! Progress is proven with channels: a blocked handler stays blocked until every other thread
//! has reported its work done. The only timeout is a watchdog that turns a deadlock into a
//! failure instead of a hung test run; it measures nothing.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use handler_registry::{dynamic, handler, registry, AnyHandler, BoxFuture, Error, Kind, Registry};

/// Long enough never to fire on a loaded machine; fires only on a deadlock.
const WATCHDOG: Duration = Duration::from_secs(120);

fn progress<T>(what: &str, receiver: &Receiver<T>) -> T {
    match receiver.recv_timeout(WATCHDOG) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => panic!("{what} made no progress: deadlock"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what} failed a check (see above)"),
    }
}

/// Keeps the deliberate panics of these tests out of the output; other panics print as usual.
fn quiet_injected_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let injected = payload.is::<Injected>()
                || payload
                    .downcast_ref::<String>()
                    .is_some_and(|message| message.starts_with("injected"))
                || payload
                    .downcast_ref::<&str>()
                    .is_some_and(|message| message.starts_with("injected"));
            if !injected {
                default(info);
            }
        }));
    });
}

/// A panic payload that is not a string.
struct Injected;

type Numbers = Registry<fn(u64) -> u64>;

fn boom(x: u64) -> u64 {
    panic!("injected panic {x}")
}

fn boom_opaque(_: u64) -> u64 {
    std::panic::panic_any(Injected)
}

fn inc(x: u64) -> u64 {
    x + 1
}

fn ident(x: u64) -> u64 {
    x
}

/// The handler's name and the panic message of a call that panicked.
fn panicked(outcome: Result<u64, Error>) -> (String, String) {
    match outcome {
        Err(Error::Panicked { name, message, .. }) => (name, message),
        other => panic!("expected Panicked, got {other:?}"),
    }
}

/// Every entry as (name, kind): what must survive the faults unchanged.
fn state<F: Copy + Send + Sync + 'static>(registry: &Registry<F>) -> Vec<(String, Kind)> {
    registry
        .entries()
        .into_iter()
        .map(|entry| (entry.name().to_owned(), entry.kind()))
        .collect()
}

const THREADS: u64 = 4;
const ROUNDS: u64 = 500;

#[test]
fn panicking_handlers_under_load_leave_the_registry_intact() {
    quiet_injected_panics();
    let registry: Arc<Numbers> = Arc::new(Registry::new());
    registry.register("boom", boom).unwrap();
    registry.register("opaque", boom_opaque).unwrap();
    registry.register("inc", inc).unwrap();
    let before = state(&registry);
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let registry = Arc::clone(&registry);
            std::thread::spawn(move || {
                let own = format!("worker.{t}");
                for round in 0..ROUNDS {
                    assert_eq!(
                        panicked(registry.call("boom", |boom| boom(round))),
                        ("boom".into(), format!("injected panic {round}"))
                    );
                    assert_eq!(
                        panicked(registry.call("opaque", |opaque| opaque(round))),
                        ("opaque".into(), "the panic payload is not a string".into())
                    );
                    // A handler taken out with `get` panics in the caller only.
                    let direct = registry.get("boom").unwrap();
                    assert!(std::panic::catch_unwind(|| direct(round)).is_err());
                    assert_eq!(registry.call("inc", |inc| inc(round)), Ok(round + 1));
                    registry.register(&own, ident).unwrap();
                    assert_eq!(registry.replace("inc", inc).map(|old| old(1)), Ok(2));
                    assert_eq!(registry.unregister(&own).map(|old| old(round)), Ok(round));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a worker's check failed");
    }
    let after: Vec<(String, Kind)> = state(&registry);
    let expected: Vec<(String, Kind)> = before
        .into_iter()
        .map(|(name, kind)| match name.as_str() {
            "inc" => (
                name,
                Kind::Dynamic {
                    version: THREADS * ROUNDS,
                },
            ),
            _ => (name, kind),
        })
        .collect();
    assert_eq!(after, expected);
    let stats: Vec<(String, u64, u64)> = registry
        .stats()
        .iter()
        .map(|stats| (stats.name().to_owned(), stats.calls(), stats.panics()))
        .collect();
    let calls = THREADS * ROUNDS;
    assert_eq!(
        stats,
        [
            ("boom".to_owned(), calls, calls),
            ("inc".to_owned(), calls, 0),
            ("opaque".to_owned(), calls, calls),
        ]
    );
}

/// What a blocking handler waits on: it reports that it is running, then waits for release.
struct Gate {
    entered: Mutex<Sender<()>>,
    release: Mutex<Receiver<()>>,
}

type Gated = fn(&Gate) -> u64;

#[registry]
static GATED: Registry<Gated>;

/// Blocks until released; returns 1.
#[handler("blocker", registry = GATED)]
#[dynamic]
fn blocker(gate: &Gate) -> u64 {
    gate.entered.lock().unwrap().send(()).unwrap();
    gate.release.lock().unwrap().recv().unwrap();
    1
}

#[handler("steady", registry = GATED, aliases = ["st"])]
fn steady(_: &Gate) -> u64 {
    10
}

fn unblocked(_: &Gate) -> u64 {
    2
}

fn extra(_: &Gate) -> u64 {
    3
}

#[test]
fn a_blocked_handler_holds_up_no_lookup_registration_or_call() {
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let gate = Arc::new(Gate {
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    });
    let blocked = {
        let gate = Arc::clone(&gate);
        std::thread::spawn(move || GATED.call("blocker", |blocker| blocker(&gate)))
    };
    progress("the blocking handler", &entered);

    // While `blocker` is provably still running, two threads use the registry in every way,
    // including replacing and calling the very name that is blocked.
    let (done_tx, done) = mpsc::channel();
    let workers: Vec<_> = (0..2u64)
        .map(|t| {
            let (gate, done_tx) = (Arc::clone(&gate), done_tx.clone());
            std::thread::spawn(move || {
                let own = format!("extra.{t}");
                for round in 0..ROUNDS {
                    assert_eq!(GATED.get("steady").map(|f| f(&gate)), Some(10));
                    assert_eq!(GATED.call("st", |f| f(&gate)), Ok(10));
                    assert!(matches!(
                        GATED.lookup("stedy"),
                        Err(Error::NotFound { suggestion: Some(s), .. }) if s == "steady"
                    ));
                    GATED.register(&own, extra).unwrap();
                    assert_eq!(GATED.call(&own, |f| f(&gate)), Ok(3));
                    assert_eq!(GATED.unregister(&own).map(|f| f(&gate)), Ok(3));
                    if t == 0 {
                        if round == 0 {
                            assert!(GATED.replace("blocker", unblocked).is_ok());
                        }
                        // The old handler would block this thread: only the new one answers.
                        assert_eq!(GATED.call("blocker", |f| f(&gate)), Ok(2));
                    }
                    assert!(GATED.len() >= 2);
                    GATED.freeze().unwrap();
                }
                done_tx.send(t).unwrap();
            })
        })
        .collect();
    drop(done_tx);
    let mut finished = [progress("worker", &done), progress("worker", &done)];
    finished.sort();
    assert_eq!(finished, [0, 1]);
    for worker in workers {
        worker.join().expect("a worker's check failed");
    }
    assert_eq!(GATED.call("blocker", |f| f(&gate)), Ok(2));

    release.send(()).unwrap();
    assert_eq!(
        blocked.join().unwrap(),
        Ok(1),
        "the old handler finishes its call"
    );
    assert_eq!(
        state(&GATED),
        [
            ("blocker".to_owned(), Kind::Dynamic { version: 1 }),
            ("steady".to_owned(), Kind::Static),
        ]
    );
}

static REENTRANT: Numbers = Registry::new();

/// Counts down through nested calls of itself: `countdown(n)` makes `n` nested calls.
fn countdown(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    REENTRANT.call("countdown", |f| f(n - 1)).unwrap() + 1
}

/// Installs a handler under a fresh name, calls it through the registry, removes it again.
fn installer(n: u64) -> u64 {
    let name = format!("installed.{n}");
    REENTRANT.register(&name, inc).unwrap();
    assert!(REENTRANT.entries().iter().any(|entry| entry.name() == name));
    let result = REENTRANT.call(&name, |f| f(n)).unwrap();
    assert_eq!(REENTRANT.unregister(&name).map(|f| f(0)), Ok(1));
    result
}

/// Removes its own name while running, then installs itself again (under the next version).
fn phoenix(n: u64) -> u64 {
    let me = REENTRANT.unregister(&format!("phoenix.{n}")).unwrap();
    assert!(REENTRANT.get(&format!("phoenix.{n}")).is_none());
    REENTRANT.register(&format!("phoenix.{n}"), me).unwrap();
    n
}

/// Calls a panicking handler through the registry and survives it.
fn survivor(n: u64) -> u64 {
    match REENTRANT.call("boom", |boom| boom(n)) {
        Err(Error::Panicked { message, .. }) => {
            assert_eq!(message, format!("injected panic {n}"));
            n * 2
        }
        other => panic!("expected a caught panic, got {other:?}"),
    }
}

#[test]
fn handlers_that_reenter_the_registry_do_not_deadlock() {
    quiet_injected_panics();
    for (name, handler) in [
        ("countdown", countdown as fn(u64) -> u64),
        ("installer", installer),
        ("survivor", survivor),
        ("boom", boom),
    ] {
        REENTRANT.register(name, handler).unwrap();
    }
    let before = state(&REENTRANT);
    let (done_tx, done) = mpsc::channel();
    let workers: Vec<_> = (0..2u64)
        .map(|t| {
            let done_tx = done_tx.clone();
            std::thread::spawn(move || {
                let own = format!("phoenix.{}", 1000 + t);
                REENTRANT.register(&own, phoenix).unwrap();
                for round in 0..ROUNDS / 5 {
                    assert_eq!(REENTRANT.call("countdown", |f| f(32)), Ok(32));
                    let n = t * ROUNDS + round;
                    assert_eq!(REENTRANT.call("installer", |f| f(n)), Ok(n + 1));
                    assert_eq!(REENTRANT.call("survivor", |f| f(n)), Ok(n * 2));
                    assert_eq!(REENTRANT.call(&own, |f| f(1000 + t)), Ok(1000 + t));
                    assert!(REENTRANT.unregister(&own).is_ok());
                    REENTRANT.register(&own, phoenix).unwrap();
                }
                assert!(REENTRANT.unregister(&own).is_ok());
                done_tx.send(()).unwrap();
            })
        })
        .collect();
    drop(done_tx);
    progress("re-entering worker", &done);
    progress("re-entering worker", &done);
    for worker in workers {
        worker.join().expect("a worker's check failed");
    }
    assert_eq!(state(&REENTRANT), before, "no name leaked or lost");
    let stats = REENTRANT.stats();
    let boom = stats.iter().find(|stats| stats.name() == "boom").unwrap();
    assert_eq!(
        (boom.calls(), boom.panics()),
        (2 * (ROUNDS / 5), 2 * (ROUNDS / 5))
    );
}

type Job = fn(u64) -> BoxFuture<'static, u64>;

fn job_ok(x: u64) -> BoxFuture<'static, u64> {
    Box::pin(async move {
        tokio::task::yield_now().await;
        x + 1
    })
}

fn job_panics_later(x: u64) -> BoxFuture<'static, u64> {
    Box::pin(async move {
        tokio::task::yield_now().await;
        panic!("injected async panic {x}")
    })
}

fn job_panics_at_once(x: u64) -> BoxFuture<'static, u64> {
    panic!("injected panic before the future exists {x}")
}

fn job_never_finishes(_: u64) -> BoxFuture<'static, u64> {
    Box::pin(std::future::pending())
}

/// Async handlers that panic (while polled or before their future exists) or never finish,
/// called concurrently with writes: every call resolves, to its output or to the right error,
/// and the registry keeps its state.
#[test]
fn faulty_async_handlers_resolve_every_call() {
    quiet_injected_panics();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let jobs: Arc<Registry<Job>> = Arc::new(Registry::new());
    for (name, job) in [
        ("ok", job_ok as Job),
        ("later", job_panics_later),
        ("at_once", job_panics_at_once),
        ("never", job_never_finishes),
    ] {
        jobs.register(name, job).unwrap();
    }
    let before = state(&jobs);
    let outcomes = runtime.block_on(async {
        let tasks: Vec<_> = (0..200u64)
            .map(|i| {
                let jobs = Arc::clone(&jobs);
                tokio::spawn(async move {
                    let name = ["ok", "later", "at_once", "never"][(i % 4) as usize];
                    let temp = format!("temp.{i}");
                    jobs.register(&temp, job_ok).unwrap();
                    let outcome = jobs
                        .call_async(name, |job| job(i))
                        .timeout(Duration::from_millis(20), tokio::time::sleep)
                        .await;
                    assert!(jobs.unregister(&temp).is_ok());
                    (i, outcome)
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.expect("a task's check failed"));
        }
        outcomes
    });
    for (i, outcome) in outcomes {
        match i % 4 {
            0 => assert_eq!(outcome, Ok(i + 1), "call {i}"),
            1 => assert_eq!(
                panicked(outcome),
                ("later".into(), format!("injected async panic {i}")),
                "call {i}"
            ),
            2 => assert_eq!(
                panicked(outcome),
                (
                    "at_once".into(),
                    format!("injected panic before the future exists {i}")
                ),
                "call {i}"
            ),
            _ => {
                let Err(Error::TimedOut { name, after, .. }) = &outcome else {
                    panic!("call {i}: expected TimedOut, got {outcome:?}");
                };
                assert_eq!(
                    (name.as_str(), *after),
                    ("never", Duration::from_millis(20)),
                    "call {i}"
                );
            }
        }
    }
    assert_eq!(state(&jobs), before);
}

/// `lookup_as` on the default-registry type racing the removal of the name it found: the answer is
/// a signature mismatch or "not found", never a panic. (It once panicked when the name vanished
/// between the lookup and the search for its location.)
#[test]
fn a_mismatch_racing_unregister_is_an_error_not_a_panic() {
    const ENOUGH: u64 = 2_000;
    const MAX_ROUNDS: u64 = 1_000_000;
    static SMALL: fn() -> u8 = || 8;
    let registry: Arc<Registry<AnyHandler>> = Arc::new(Registry::new());
    let (started_tx, started) = mpsc::channel();
    let (stop_tx, stop) = mpsc::channel::<()>();
    let churn = {
        let registry = Arc::clone(&registry);
        std::thread::spawn(move || {
            started_tx.send(()).unwrap();
            let mut rounds = 0u64;
            while stop.try_recv().is_err() {
                registry
                    .register("flip", AnyHandler::from_static(&SMALL))
                    .unwrap();
                registry.unregister("flip").unwrap();
                rounds += 1;
            }
            rounds
        })
    };
    progress("the churning thread", &started);
    let (mut mismatches, mut missing, mut rounds) = (0u64, 0u64, 0u64);
    while (mismatches < ENOUGH || missing < ENOUGH) && rounds < MAX_ROUNDS {
        match registry.lookup_as::<fn() -> u16>("flip") {
            Err(Error::SignatureMismatch { name, found, .. }) => {
                assert_eq!(
                    (name.as_str(), found),
                    ("flip", std::any::type_name::<fn() -> u8>())
                );
                mismatches += 1;
            }
            Err(Error::NotFound { name, .. }) => {
                assert_eq!(name, "flip");
                missing += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
        rounds += 1;
    }
    stop_tx.send(()).unwrap();
    assert!(churn.join().unwrap() > 0);
    assert!(
        mismatches > 0 && missing > 0,
        "{mismatches} mismatches, {missing} misses"
    );
    assert!(registry.is_empty());
}
