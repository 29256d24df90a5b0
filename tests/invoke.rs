//! The invoke layer: `Registry::call` and `Registry::call_async` look handlers up, run them in a
//! `handler` span, turn panics into `Error::Panicked`, honour deadlines and cancellation, hold no
//! lock while a handler runs, and count every call in `Registry::stats`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use handler_registry::{handler, registry, BoxFuture, Error, Registry};

mod support;
use support::not_found;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

type Numbers = Registry<fn(u64) -> u64>;

#[registry]
static MATH: Registry<fn(u64) -> u64>;

/// Square a number.
#[handler("square", registry = MATH, aliases = ["sq"])]
fn square(x: u64) -> u64 {
    x * x
}

/// Halve a number; refuses odd ones by panicking.
#[handler("halve", registry = MATH)]
fn halve(x: u64) -> u64 {
    assert!(x % 2 == 0, "cannot halve {x}");
    x / 2
}

#[registry]
static JOBS: Registry<fn(u64) -> BoxFuture<'static, u64>>;

/// Double a number after yielding once to the executor.
#[handler("double", registry = JOBS)]
async fn double(x: u64) -> u64 {
    tokio::task::yield_now().await;
    tracing::info!("doubling");
    x * 2
}

/// Panics after its first suspension, so the panic happens in a later poll.
#[handler("explode", registry = JOBS)]
async fn explode(x: u64) -> u64 {
    tokio::task::yield_now().await;
    panic!("exploded on {x}");
}

/// Never finishes: only a deadline or a cancellation ends a call to it.
#[handler("stall", registry = JOBS)]
async fn stall(x: u64) -> u64 {
    std::future::pending::<()>().await;
    x
}

/// The handler's name and the panic message of an [`Error::Panicked`].
fn panicked(error: &Error) -> (&str, &str) {
    match error {
        Error::Panicked { name, message, .. } => (name, message),
        other => panic!("expected Panicked, got {other:?}"),
    }
}

#[test]
fn call_passes_the_handler_and_returns_its_output() {
    assert_eq!(MATH.call("square", |square| square(7)), Ok(49));
    assert_eq!(MATH.call("sq", |square| square(3) + 1), Ok(10));
}

#[test]
fn call_of_an_unknown_name_suggests_the_closest() {
    let error = MATH.call("squre", |square| square(2)).unwrap_err();
    assert_eq!(not_found(&error), ("squre", Some("square")));
    assert!(error.to_string().contains("did you mean `square`?"));
}

#[test]
fn a_panicking_handler_becomes_an_error_and_the_registry_keeps_working() {
    let error = MATH.call("halve", |halve| halve(3)).unwrap_err();
    assert_eq!(panicked(&error), ("halve", "cannot halve 3"));
    assert_eq!(MATH.call("halve", |halve| halve(8)), Ok(4));
    assert_eq!(MATH.call("square", |square| square(5)), Ok(25));
}

#[test]
fn panic_messages_are_kept_for_string_payloads_only() {
    let reg: Registry<fn()> = Registry::new();
    reg.register("noop", || ()).unwrap();
    let static_str = reg.call("noop", |_| std::panic::panic_any("plain"));
    let string = reg.call("noop", |_| std::panic::panic_any(String::from("owned")));
    let other = reg.call("noop", |_| std::panic::panic_any(42_u8));
    assert_eq!(panicked(&static_str.unwrap_err()), ("noop", "plain"));
    assert_eq!(panicked(&string.unwrap_err()), ("noop", "owned"));
    assert_eq!(
        panicked(&other.unwrap_err()),
        ("noop", "the panic payload is not a string")
    );
}

#[test]
fn stats_count_calls_panics_and_time_per_primary_name_sorted() {
    let reg: Registry<fn(Duration)> = Registry::new();
    reg.register("wait", std::thread::sleep).unwrap();
    reg.register("fail", |_| panic!("always")).unwrap();
    reg.call("wait", |wait| wait(Duration::from_millis(20)))
        .unwrap();
    reg.call("wait", |wait| wait(Duration::ZERO)).unwrap();
    reg.call("fail", |fail| fail(Duration::ZERO)).unwrap_err();
    reg.call("missing", |_| ()).unwrap_err();

    let stats = reg.stats();
    let names: Vec<&str> = stats.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["fail", "wait"]);
    let (fail, wait) = (&stats[0], &stats[1]);
    assert_eq!((fail.calls(), fail.panics()), (1, 1));
    assert_eq!((wait.calls(), wait.panics()), (2, 0));
    assert!(wait.max_time() >= Duration::from_millis(20), "{wait:?}");
    assert!(wait.total_time() >= wait.max_time(), "{wait:?}");
}

#[test]
fn calls_through_an_alias_count_under_the_primary_name() {
    let before = MATH
        .stats()
        .into_iter()
        .find(|s| s.name() == "square")
        .map_or(0, |s| s.calls());
    MATH.call("sq", |f| f(2)).unwrap();
    MATH.call("square", |f| f(2)).unwrap();
    let stats = MATH.stats();
    let square = stats.iter().find(|s| s.name() == "square").unwrap();
    assert!(square.calls() >= before + 2, "{square:?}");
    assert!(stats.iter().all(|s| s.name() != "sq"), "{stats:?}");
}

#[test]
fn stats_add_up_calls_from_threads_that_have_exited() {
    let reg: Arc<Numbers> = Arc::new(Registry::new());
    reg.register("inc", |x| x + 1).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let reg = Arc::clone(&reg);
            std::thread::spawn(move || {
                for i in 0..1000 {
                    assert_eq!(reg.call("inc", |inc| inc(i)), Ok(i + 1));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let stats = reg.stats();
    assert_eq!(stats.len(), 1);
    assert_eq!((stats[0].name(), stats[0].calls()), ("inc", 4000));
}

#[test]
fn metrics_can_be_switched_off_and_on() {
    let reg: Registry<fn() -> u8> = Registry::new();
    reg.register("one", || 1).unwrap();
    assert!(reg.metrics_enabled());
    reg.set_metrics(false);
    assert_eq!(reg.call("one", |one| one()), Ok(1));
    assert!(reg.stats().is_empty());
    reg.set_metrics(true);
    reg.call("one", |one| one()).unwrap();
}

#[test]
fn a_handler_may_change_and_call_the_registry_it_runs_from() {
    let reg: Registry<fn(u64) -> u64> = Registry::new();
    reg.register("inc", |x| x + 1).unwrap();
    let nested = reg.call("inc", |inc| {
        reg.register("dec", |x| x - 1).unwrap();
        reg.replace("inc", |x| x + 10).unwrap();
        reg.call("dec", |dec| dec(inc(5))).unwrap()
    });
    assert_eq!(nested, Ok(5));
    assert_eq!(reg.call("inc", |inc| inc(5)), Ok(15));
}

#[test]
fn no_lock_is_held_while_a_handler_runs() {
    let reg: Arc<Numbers> = Arc::new(Registry::new());
    reg.register("slow", |x| x).unwrap();
    reg.register("fast", |x| x + 1).unwrap();
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let slow = {
        let reg = Arc::clone(&reg);
        std::thread::spawn(move || {
            reg.call("slow", |slow| {
                started_tx.send(()).unwrap();
                // Released only once the main thread got through everything below: if a lock
                // were held here, it would still be blocked and this wait would time out.
                let released = release_rx.recv_timeout(Duration::from_secs(10)).is_ok();
                (slow(1), released)
            })
        })
    };
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    reg.register("late", |x| x * 2).unwrap();
    assert_eq!(reg.replace("fast", |x| x + 2).map(|old| old(0)), Ok(1));
    assert_eq!(reg.call("fast", |fast| fast(1)), Ok(3));
    assert_eq!(reg.get("late").map(|late| late(4)), Some(8));
    assert!(reg.unregister("late").is_ok());
    assert!(reg.stats().iter().any(|s| s.name() == "fast"));
    release.send(()).unwrap();
    assert_eq!(slow.join().unwrap(), Ok((1, true)));
}

#[tokio::test]
async fn call_async_resolves_to_the_handlers_output() {
    assert_eq!(JOBS.call_async("double", |double| double(21)).await, Ok(42));
    let outcome = JOBS.call_async("dubble", |double| double(1)).await;
    assert_eq!(not_found(&outcome.unwrap_err()), ("dubble", Some("double")));
}

#[tokio::test]
async fn a_panic_in_a_later_poll_becomes_an_error() {
    let outcome = JOBS.call_async("explode", |explode| explode(7)).await;
    assert_eq!(
        panicked(&outcome.unwrap_err()),
        ("explode", "exploded on 7")
    );
    assert_eq!(JOBS.call_async("double", |double| double(2)).await, Ok(4));
    let explode = JOBS.stats().into_iter().find(|s| s.name() == "explode");
    assert!(explode.is_some_and(|s| s.panics() >= 1 && s.calls() >= s.panics()));
}

#[tokio::test]
async fn a_panic_while_creating_the_future_becomes_an_error() {
    let outcome = JOBS
        .call_async("double", |_| -> BoxFuture<'static, u64> {
            panic!("no future")
        })
        .await;
    assert_eq!(panicked(&outcome.unwrap_err()), ("double", "no future"));
}

/// Sets a flag when dropped: shows that a call dropped the handler's future.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn stalled_with_flag(dropped: &Arc<AtomicBool>) -> BoxFuture<'static, u64> {
    let flag = DropFlag(Arc::clone(dropped));
    let stall = JOBS.get("stall").unwrap();
    Box::pin(async move {
        let _flag = flag;
        stall(0).await
    })
}

#[tokio::test]
async fn a_deadline_drops_the_handlers_future_and_times_out() {
    // A registry of this test's own, so that the call is its thread's first of the static name
    // `stall`, which is timed (only a sample of later ones is).
    let jobs = Registry::with_static([("stall", JOBS.get("stall").unwrap())]).unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let outcome = jobs
        .call_async("stall", |_| stalled_with_flag(&dropped))
        .timeout(Duration::from_millis(30), tokio::time::sleep)
        .await;
    let Err(Error::TimedOut { name, after, .. }) = &outcome else {
        panic!("expected TimedOut, got {outcome:?}");
    };
    assert_eq!(
        (name.as_str(), *after),
        ("stall", Duration::from_millis(30))
    );
    assert!(dropped.load(Ordering::SeqCst));
    let stats = jobs.stats();
    assert_eq!((stats[0].name(), stats[0].calls()), ("stall", 1));
    assert!(
        stats[0].max_time() >= Duration::from_millis(30),
        "{stats:?}"
    );
}

#[tokio::test]
async fn a_cancellation_signal_drops_the_handlers_future() {
    let dropped = Arc::new(AtomicBool::new(false));
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let call = JOBS
        .call_async("stall", |_| stalled_with_flag(&dropped))
        .timeout(Duration::from_secs(10), tokio::time::sleep)
        .cancel_on(async {
            let _ = cancelled.await;
        });
    let canceller = async {
        tokio::task::yield_now().await;
        cancel.send(()).unwrap();
    };
    let (outcome, ()) = tokio::join!(call, canceller);
    assert!(
        matches!(&outcome, Err(Error::Cancelled { name, .. }) if name == "stall"),
        "{outcome:?}"
    );
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_finished_handler_wins_over_a_signal_that_fired_too() {
    let ready: Registry<fn() -> BoxFuture<'static, u8>> = Registry::new();
    ready.register("now", || Box::pin(async { 9 })).unwrap();
    let outcome = ready
        .call_async("now", |now| now())
        .cancel_on(std::future::ready(()))
        .timeout(Duration::ZERO, |_| std::future::ready(()))
        .await;
    assert_eq!(outcome, Ok(9));
}

/// A span's target, name and `name` field.
type SpanSeen = (&'static str, &'static str, String);

/// A subscriber that remembers each span's target, name and `name` field, and which span each
/// event was emitted in.
#[derive(Default)]
struct Recorder {
    spans: Mutex<Vec<SpanSeen>>,
    stack: Mutex<Vec<u64>>,
    events: Mutex<Vec<(String, Option<SpanSeen>)>>,
}

struct Fields<'a>(&'a mut String, &'static str);

impl tracing::field::Visit for Fields<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == self.1 {
            value.clone_into(self.0);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == self.1 {
            *self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut name = String::new();
        span.record(&mut Fields(&mut name, "name"));
        let mut spans = self.spans.lock().unwrap();
        spans.push((span.metadata().target(), span.metadata().name(), name));
        Id::from_u64(spans.len() as u64)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut message = String::new();
        event.record(&mut Fields(&mut message, "message"));
        let current = self.stack.lock().unwrap().last().copied();
        let span = current.map(|id| self.spans.lock().unwrap()[id as usize - 1].clone());
        self.events.lock().unwrap().push((message, span));
    }

    fn enter(&self, span: &Id) {
        self.stack.lock().unwrap().push(span.into_u64());
    }

    fn exit(&self, _: &Id) {
        self.stack.lock().unwrap().pop();
    }
}

#[test]
fn handlers_run_inside_a_handler_span_named_after_the_call() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // While exactly one dispatcher is registered, tracing-core lets a thread that hits a
    // callsite first decide its interest from that thread's own default alone: another test
    // calling a handler at that moment would disable the span for everyone. With a second
    // dispatcher alive, every callsite's interest is asked of both.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let recorder = Arc::new(Recorder::default());
    tracing::subscriber::with_default(Arc::clone(&recorder), || {
        MATH.call("sq", |square| {
            tracing::info!("squaring");
            square(2)
        })
        .unwrap();
        let doubled = runtime.block_on(JOBS.call_async("double", |double| double(4)));
        assert_eq!(doubled, Ok(8));
    });
    let events = recorder.events.lock().unwrap();
    // The target lets `RUST_LOG=handler_registry=info` select the spans.
    let handler = |name: &str| Some(("handler_registry", "handler", name.to_owned()));
    assert!(
        events.contains(&("squaring".into(), handler("sq"))),
        "{events:?}"
    );
    assert!(
        events.contains(&("doubling".into(), handler("double"))),
        "{events:?}"
    );
}

#[test]
fn reset_stats_counts_from_zero_again() {
    let registry: Registry<fn(u8) -> u8> = Registry::new();
    registry.register("inc", |x| x + 1).unwrap();
    registry.register("boom", |_| panic!("boom")).unwrap();
    for _ in 0..3 {
        registry.call("inc", |f| f(1)).unwrap();
    }
    assert!(registry.call("boom", |f| f(1)).is_err());
    let counts = |registry: &Registry<fn(u8) -> u8>| -> Vec<(String, u64, u64)> {
        registry
            .stats()
            .iter()
            .map(|s| (s.name().to_owned(), s.calls(), s.panics()))
            .collect()
    };
    assert_eq!(
        counts(&registry),
        [("boom".to_owned(), 1, 1), ("inc".to_owned(), 3, 0)]
    );
    registry.reset_stats();
    assert_eq!(counts(&registry), []);
    registry.call("inc", |f| f(1)).unwrap();
    assert_eq!(counts(&registry), [("inc".to_owned(), 1, 0)]);
}

/// A registry of static names (declared, not `#[dynamic]`), each adding one: their calls are
/// counted by declaration index, and a sample of them is timed.
fn static_numbers(names: &[&'static str]) -> Numbers {
    let add_one: fn(u64) -> u64 = |x| x + 1;
    Registry::with_static(names.iter().map(|&name| (name, add_one))).unwrap()
}

fn calls(registry: &Numbers) -> Vec<(String, u64)> {
    registry
        .stats()
        .iter()
        .map(|stats| (stats.name().to_owned(), stats.calls()))
        .collect()
}

#[test]
fn a_static_names_calls_are_all_counted_and_its_sampled_time_scaled_to_them() {
    let sleep: fn(Duration) = std::thread::sleep;
    let registry = Registry::with_static([("wait", sleep)]).unwrap();
    for _ in 0..130 {
        registry
            .call("wait", |wait| wait(Duration::from_millis(1)))
            .unwrap();
    }
    let stats = registry.stats();
    let wait = &stats[0];
    assert_eq!((wait.name(), wait.calls()), ("wait", 130));
    // Three calls were timed (the 1st, 65th and 129th), each of 1 ms or more; the total is
    // scaled up to all 130.
    assert!(wait.total_time() >= Duration::from_millis(130), "{wait:?}");
    assert!(wait.max_time() >= Duration::from_millis(1), "{wait:?}");
    assert!(wait.total_time() >= wait.max_time(), "{wait:?}");
}

#[test]
fn reset_stats_forgets_a_static_names_longest_call_and_times_the_next_one() {
    let sleep: fn(Duration) = std::thread::sleep;
    let registry = Registry::with_static([("wait", sleep)]).unwrap();
    registry
        .call("wait", |wait| wait(Duration::from_millis(100)))
        .unwrap();
    assert!(registry.stats()[0].max_time() >= Duration::from_millis(100));
    registry.reset_stats();
    assert!(registry.stats().is_empty());
    // The thread's second call of the name, not one of the sample, but the first since the
    // reset: timed.
    registry
        .call("wait", |wait| wait(Duration::from_millis(1)))
        .unwrap();
    let stats = registry.stats();
    let wait = &stats[0];
    assert_eq!(wait.calls(), 1);
    assert!(wait.max_time() >= Duration::from_millis(1), "{wait:?}");
    assert!(wait.max_time() < Duration::from_millis(100), "{wait:?}");
    assert!(wait.total_time() >= wait.max_time(), "{wait:?}");
}

#[test]
fn static_calls_are_counted_in_their_own_registry_whatever_the_thread_called_before() {
    let first = static_numbers(&["a", "b"]);
    let second = static_numbers(&["a"]);
    for i in 0..100 {
        first.call("a", |f| f(i)).unwrap();
        second.call("a", |f| f(i)).unwrap();
        first.call("b", |f| f(i)).unwrap();
    }
    assert_eq!(
        calls(&first),
        [("a".to_owned(), 100), ("b".to_owned(), 100)]
    );
    assert_eq!(calls(&second), [("a".to_owned(), 100)]);

    // A registry replaced in place: the new one lives at the old one's address, and starts
    // from zero.
    let mut reused = Box::new(static_numbers(&["a"]));
    for i in 0..3 {
        reused.call("a", |f| f(i)).unwrap();
    }
    *reused = static_numbers(&["a"]);
    reused.call("a", |f| f(1)).unwrap();
    assert_eq!(calls(&reused), [("a".to_owned(), 1)]);
}

#[test]
fn a_static_names_calls_from_threads_that_have_exited_add_up() {
    let registry = Arc::new(static_numbers(&["inc"]));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let registry = Arc::clone(&registry);
            std::thread::spawn(move || {
                for i in 0..1000 {
                    assert_eq!(registry.call("inc", |inc| inc(i)), Ok(i + 1));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(calls(&registry), [("inc".to_owned(), 4000)]);
}

#[test]
fn a_running_static_call_is_in_flight() {
    let registry = static_numbers(&["inc"]);
    let in_flight = |registry: &Numbers| registry.entries()[0].in_flight();
    let inside = registry.call("inc", |inc| (in_flight(&registry), inc(1)));
    assert_eq!(inside, Ok((1, 2)));
    assert_eq!(in_flight(&registry), 0);
}

#[test]
fn a_static_names_panics_are_counted_and_a_panicked_call_is_no_longer_in_flight() {
    let fail_on_zero: fn(u64) -> u64 = |x| {
        assert!(x != 0, "zero");
        x
    };
    let registry = Registry::with_static([("checked", fail_on_zero)]).unwrap();
    assert!(registry.call("checked", |f| f(0)).is_err());
    assert_eq!(registry.call("checked", |f| f(1)), Ok(1));
    let stats = registry.stats();
    assert_eq!(
        (stats[0].name(), stats[0].calls(), stats[0].panics()),
        ("checked", 2, 1)
    );
    assert_eq!(registry.entries()[0].in_flight(), 0);
}

#[test]
fn an_abandoned_static_async_call_is_not_counted_and_no_longer_in_flight() {
    let forever: fn() -> BoxFuture<'static, u64> = || Box::pin(std::future::pending());
    let registry = Registry::with_static([("forever", forever)]).unwrap();
    let in_flight = || registry.entries()[0].in_flight();

    let call = registry.call_async("forever", |forever| forever());
    assert_eq!(in_flight(), 1);
    drop(call);
    assert_eq!(in_flight(), 0);

    // Polled and dropped on another thread than the one it started on.
    let call = registry.call_async("forever", |forever| forever());
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut call = std::pin::pin!(call);
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(std::future::Future::poll(call.as_mut(), &mut cx).is_pending());
        });
    });
    assert_eq!(in_flight(), 0);
    assert!(registry.stats().is_empty(), "{:?}", registry.stats());
}
