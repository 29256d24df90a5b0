//! Drain: a retired handler serves the calls already running on it, is dropped after the last
//! of them (exactly once, never during one), and `drained` waits for exactly that.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use handler_registry::{BoxFuture, ChangeKind, Error, Registry};

mod support;
use support::block_on;

type Task = Arc<dyn Fn(u32) -> u32 + Send + Sync>;

/// Counts drops of the closure that owns it.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The far side of a [`gated`] handler: it says when a call has started, and holds the call
/// until released.
struct Gate {
    entered: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
}

/// A handler that blocks each call until its [`Gate`] releases it, then answers `then(x)`.
fn gated(then: impl Fn(u32) -> u32 + Send + Sync + 'static) -> (Task, Gate) {
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let entered_tx = std::sync::Mutex::new(entered_tx);
    let release_rx = std::sync::Mutex::new(release_rx);
    let task: Task = Arc::new(move |x| {
        entered_tx.lock().unwrap().send(()).unwrap();
        release_rx.lock().unwrap().recv().unwrap();
        then(x)
    });
    (task, Gate { entered, release })
}

fn in_flight<F: Clone + Send + Sync + 'static>(registry: &Registry<F>, name: &str) -> usize {
    registry
        .entries()
        .iter()
        .find(|entry| entry.name() == name)
        .map_or(0, |entry| entry.in_flight())
}

/// The name and count of calls still running that a drain reported when it timed out.
fn drain_timeout(waited: Result<(), Error>) -> (String, usize) {
    match waited {
        Err(Error::DrainTimeout {
            name, in_flight, ..
        }) => (name, in_flight),
        other => panic!("expected DrainTimeout, got {other:?}"),
    }
}

#[test]
fn a_handler_removed_mid_call_is_dropped_when_the_call_returns() {
    let registry: Registry<Task> = Registry::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let owned = DropCount(Arc::clone(&drops));
    let (slow, gate) = gated(move |x| {
        // Still alive: the registry has not dropped what this call runs on.
        assert_eq!(owned.0.load(Ordering::SeqCst), 0);
        x + 1
    });
    registry.register("slow", slow).unwrap();
    let mut changes = registry.subscribe();

    std::thread::scope(|scope| {
        let call = scope.spawn(|| registry.call("slow", |slow| slow(41)));
        gate.entered.recv().unwrap();
        assert_eq!(in_flight(&registry, "slow"), 1);

        let replacement: Task = Arc::new(|x| x * 10);
        registry.replace("slow", replacement).unwrap();
        // New calls reach the new handler at once; the running call keeps the old one.
        assert_eq!(registry.call("slow", |slow| slow(2)), Ok(20));
        assert_eq!(drops.load(Ordering::SeqCst), 0, "dropped during its call");
        assert_eq!(
            in_flight(&registry, "slow"),
            1,
            "the call on the retired handler"
        );
        assert_eq!(
            drain_timeout(registry.drained("slow", Duration::from_millis(50))),
            ("slow".into(), 1)
        );
        let before: Vec<ChangeKind> = std::iter::from_fn(|| changes.try_recv())
            .map(|change| change.kind())
            .collect();
        assert_eq!(
            before,
            [ChangeKind::Replaced],
            "no drain before the call ends"
        );

        gate.release.send(()).unwrap();
        assert_eq!(registry.drained("slow", Duration::from_secs(10)), Ok(()));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(
            call.join().unwrap(),
            Ok(42),
            "the call finished on the old handler"
        );
    });
    let drained = changes.try_recv().unwrap();
    assert_eq!(
        (drained.name(), drained.kind(), drained.version()),
        ("slow", ChangeKind::Drained, 0)
    );
    assert_eq!(in_flight(&registry, "slow"), 0);
}

#[test]
fn drained_does_not_wait_for_calls_that_started_after_it() {
    let registry: Registry<Task> = Registry::new();
    registry.register("n", Arc::new(|x| x)).unwrap();
    // The new handler blocks; a call on it is no reason to wait for a drain of the old one.
    let (blocking, gate) = gated(|x| x);
    registry.replace("n", blocking).unwrap();
    std::thread::scope(|scope| {
        let call = scope.spawn(|| registry.call("n", |n| n(1)));
        gate.entered.recv().unwrap();
        assert_eq!(registry.drained("n", Duration::ZERO), Ok(()));
        gate.release.send(()).unwrap();
        assert_eq!(call.join().unwrap(), Ok(1));
    });
}

#[test]
fn an_async_call_holds_its_handler_until_it_resolves_or_is_dropped() {
    type Job = Arc<dyn Fn(u32) -> BoxFuture<'static, u32> + Send + Sync>;
    let registry: Registry<Job> = Registry::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let owned = DropCount(Arc::clone(&drops));
    let job: Job = Arc::new(move |x| {
        let _ = &owned;
        Box::pin(async move { x * 2 })
    });
    registry.register("job", job).unwrap();

    let call = registry.call_async("job", |job| job(21));
    registry.unregister("job").unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    // An already-elapsed deadline: the call is still pending, so the drain times out.
    let waited =
        block_on(registry.drained_async("job", Duration::ZERO, |_| std::future::ready(())));
    assert_eq!(drain_timeout(waited), ("job".into(), 1));
    assert_eq!(block_on(call), Ok(42));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let never = std::future::pending::<()>;
    assert_eq!(
        block_on(registry.drained_async("job", Duration::MAX, |_| never())),
        Ok(())
    );

    // A call dropped before it is polled lets go of its handler too.
    let drops = Arc::new(AtomicUsize::new(0));
    let owned = DropCount(Arc::clone(&drops));
    let job: Job = Arc::new(move |x| {
        let _ = &owned;
        Box::pin(async move { x })
    });
    registry.register("job", job).unwrap();
    let call = registry.call_async("job", |job| job(1));
    registry.unregister("job").unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(call);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(registry.drained("job", Duration::ZERO), Ok(()));
}

#[test]
fn async_drained_wakes_when_the_last_call_ends() {
    let registry: Registry<Task> = Registry::new();
    let (slow, gate) = gated(|x| x);
    registry.register("slow", slow).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    std::thread::scope(|scope| {
        let call = scope.spawn(|| registry.call("slow", |slow| slow(7)));
        gate.entered.recv().unwrap();
        registry.unregister("slow").unwrap();
        let release = gate.release;
        let releaser = scope.spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            release.send(()).unwrap();
        });
        let waited = runtime.block_on(registry.drained_async(
            "slow",
            Duration::from_secs(10),
            tokio::time::sleep,
        ));
        assert_eq!(waited, Ok(()));
        assert_eq!(call.join().unwrap(), Ok(7));
        releaser.join().unwrap();
    });
}

#[test]
fn a_static_call_is_counted_in_flight_on_any_thread() {
    type Job = Arc<dyn Fn() -> BoxFuture<'static, u32> + Send + Sync>;
    let (release, wait) = tokio::sync::oneshot::channel::<u32>();
    let wait = std::sync::Mutex::new(Some(wait));
    let job: Job = Arc::new(move || {
        let wait = wait.lock().unwrap().take().expect("called once");
        Box::pin(async move { wait.await.unwrap() })
    });
    let registry = Registry::with_static([("fixed", job)]).unwrap();
    let call = registry.call_async("fixed", |job| job());
    assert_eq!(in_flight(&registry, "fixed"), 1);
    // The call is started here and finished on another thread.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                release.send(5).unwrap();
                assert_eq!(block_on(call), Ok(5));
            })
            .join()
            .unwrap();
    });
    assert_eq!(in_flight(&registry, "fixed"), 0);
}

const REPLACEMENTS: usize = 20_000;
const READERS: usize = 3;

/// What the readers check: each closure is dropped once, never while or after being called.
struct Ledger {
    dropped: Vec<AtomicBool>,
    double_drops: AtomicUsize,
    called_after_drop: AtomicUsize,
}

/// Closure `id`'s state: a 4 KiB buffer and its entry in the ledger.
struct Owned {
    id: usize,
    buffer: Vec<u8>,
    ledger: Arc<Ledger>,
}

impl Drop for Owned {
    fn drop(&mut self) {
        if self.ledger.dropped[self.id].swap(true, Ordering::SeqCst) {
            self.ledger.double_drops.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn closure(id: usize, ledger: &Arc<Ledger>) -> Task {
    let owned = Owned {
        id,
        buffer: vec![id as u8; 4096],
        ledger: Arc::clone(ledger),
    };
    Arc::new(move |x| {
        if owned.ledger.dropped[owned.id].load(Ordering::SeqCst) {
            owned
                .ledger
                .called_after_drop
                .fetch_add(1, Ordering::SeqCst);
        }
        // Read the whole buffer: a freed one would not hold the id any more.
        let sum: u32 = owned.buffer.iter().map(|&b| u32::from(b)).sum();
        assert_eq!(sum, 4096 * u32::from(owned.id as u8));
        x + owned.id as u32
    })
}

#[test]
fn readers_racing_20_000_replacements_see_every_closure_dropped_exactly_once() {
    let ledger = Arc::new(Ledger {
        dropped: (0..=REPLACEMENTS).map(|_| AtomicBool::new(false)).collect(),
        double_drops: AtomicUsize::new(0),
        called_after_drop: AtomicUsize::new(0),
    });
    let registry: Registry<Task> = Registry::new();
    registry.register("hot", closure(0, &ledger)).unwrap();
    let done = AtomicBool::new(false);
    let start = Barrier::new(READERS + 1);
    let calls = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    let mut calls = 0u64;
                    let mut last = 0;
                    while !done.load(Ordering::Relaxed) {
                        let seen = registry.call("hot", |hot| hot(0)).unwrap() as usize;
                        assert!(seen >= last, "a reader went back from {last} to {seen}");
                        last = seen;
                        calls += 1;
                    }
                    calls
                })
            })
            .collect();
        start.wait();
        for id in 1..=REPLACEMENTS {
            drop(registry.replace("hot", closure(id, &ledger)).unwrap());
        }
        done.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().unwrap()).sum::<u64>()
    });
    drop(registry.unregister("hot").unwrap());
    registry.drained("hot", Duration::from_secs(10)).unwrap();
    assert!(calls > 0, "the readers ran alongside the writer");
    let dropped = ledger
        .dropped
        .iter()
        .filter(|dropped| dropped.load(Ordering::SeqCst))
        .count();
    assert_eq!(dropped, REPLACEMENTS + 1, "every closure dropped");
    assert_eq!(ledger.double_drops.load(Ordering::SeqCst), 0);
    assert_eq!(ledger.called_after_drop.load(Ordering::SeqCst), 0);
    assert_eq!(in_flight(&registry, "hot"), 0);
}
