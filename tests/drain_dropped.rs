//! `drained` means dropped (issue 17): it returns only once everything the registry held for a
//! retired entry (the handler and its metadata) has been dropped, wherever the drop runs and
//! however long it takes, and once its `Drained` change has been published; a panic in that
//! drop is contained. `drained_async` counts what it waits for when it is called, not when it is
//! first polled. A handler that waits for its own name to drain gets `Error::DrainDeadlock` at
//! once instead of waiting for itself.

#[path = "support/hooks.rs"]
mod hooks;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handler_registry::{BoxFuture, ChangeKind, Error, Registry};
use hooks::{
    block_on_timeout, calling, change, install, leaked, quiet_injected_panics, received, running,
    summary, watchdog, Probe, Trap, WATCHDOG,
};

/// How long a slow drop takes: long enough that `drained` is surely waiting meanwhile.
const SLOW: Duration = Duration::from_millis(200);

/// Arms `trap` with a drop that takes [`SLOW`] and then sets the returned flag (or panics, if
/// `panics`, right after setting it).
fn slow_drop(trap: &Trap, panics: bool) -> Arc<AtomicBool> {
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    trap.arm(move || {
        std::thread::sleep(SLOW);
        flag.store(true, Ordering::SeqCst);
        if panics {
            panic!("injected panic in a slow drop");
        }
    });
    done
}

#[test]
fn drained_returns_after_a_slow_handler_drop_on_the_last_callers_thread() {
    watchdog("slow handler drop, drained", |stage| {
        let reg = leaked();
        let a = install(reg, "a", 1, 1);
        let dropped = slow_drop(&a.drop, false);
        let mut changes = reg.subscribe();
        let call = calling(reg, "a");
        assert_eq!(reg.replace("a", Probe::new(2)).map(|a| a.answer), Ok(1));
        call.release();
        stage.at("drained while the last caller drops the old handler");
        assert_eq!(reg.drained("a", WATCHDOG), Ok(()));
        assert!(
            dropped.load(Ordering::SeqCst),
            "drained returned before the old handler's drop finished"
        );
        assert_eq!(
            summary(&received(&mut changes)),
            [
                change("a", ChangeKind::Replaced, 1),
                change("a", ChangeKind::Drained, 0),
            ],
            "the Drained change is published when drained returns"
        );
        assert_eq!(call.join(), Ok(1));
    });
}

#[test]
fn drained_returns_after_a_slow_metadata_drop_on_the_last_callers_thread() {
    watchdog("slow metadata drop, drained", |stage| {
        let reg = leaked();
        let a = install(reg, "a", 1, 1);
        let dropped = slow_drop(&a.meta_drop, false);
        let mut changes = reg.subscribe();
        let call = calling(reg, "a");
        assert_eq!(reg.unregister("a").map(|a| a.answer), Ok(1));
        call.release();
        stage.at("drained while the last caller drops the old metadata");
        assert_eq!(reg.drained("a", WATCHDOG), Ok(()));
        assert!(a.drop.finished(), "the handler was dropped");
        assert!(
            dropped.load(Ordering::SeqCst),
            "drained returned before the old metadata's drop finished"
        );
        assert_eq!(
            summary(&received(&mut changes)),
            [
                change("a", ChangeKind::Unregistered, 0),
                change("a", ChangeKind::Drained, 0),
            ],
            "the Drained change is published when drained returns"
        );
        assert_eq!(call.join(), Ok(1));
    });
}

#[test]
fn drained_async_returns_after_a_slow_metadata_drop_on_the_last_callers_thread() {
    watchdog("slow metadata drop, drained_async", |stage| {
        let reg = leaked();
        let a = install(reg, "a", 1, 1);
        let dropped = slow_drop(&a.meta_drop, false);
        let mut changes = reg.subscribe();
        let call = calling(reg, "a");
        assert_eq!(reg.unregister("a").map(|a| a.answer), Ok(1));
        let never = |_| std::future::pending::<()>();
        let drained = reg.drained_async("a", WATCHDOG, never);
        call.release();
        stage.at("drained_async while the last caller drops the old metadata");
        assert_eq!(block_on_timeout(drained, WATCHDOG), Some(Ok(())));
        assert!(a.drop.finished(), "the handler was dropped");
        assert!(
            dropped.load(Ordering::SeqCst),
            "drained_async returned before the old metadata's drop finished"
        );
        assert_eq!(
            summary(&received(&mut changes)),
            [
                change("a", ChangeKind::Unregistered, 0),
                change("a", ChangeKind::Drained, 0),
            ]
        );
        assert_eq!(call.join(), Ok(1));
    });
}

#[test]
fn drained_returns_after_the_handler_and_the_metadata_are_dropped_with_no_call_running() {
    watchdog("drops with no call running", |_| {
        let reg = leaked();
        let a = install(reg, "a", 1, 1);
        assert_eq!(reg.unregister("a").map(|a| a.answer), Ok(1));
        assert_eq!(reg.drained("a", Duration::ZERO), Ok(()));
        assert!(a.drop.finished(), "the handler was dropped");
        assert!(a.meta_drop.finished(), "the metadata was dropped");
    });
}

#[test]
fn a_panic_in_a_slow_drop_on_the_last_callers_thread_is_contained_and_drained_is_ok() {
    quiet_injected_panics();
    watchdog("slow drops that panic, drained", |stage| {
        let reg = leaked();
        let a = install(reg, "a", 1, 1);
        let handler_dropped = slow_drop(&a.drop, true);
        let meta_dropped = slow_drop(&a.meta_drop, true);
        let mut changes = reg.subscribe();
        let call = calling(reg, "a");
        assert_eq!(reg.unregister("a").map(|a| a.answer), Ok(1));
        call.release();
        stage.at("drained while the last caller's drops panic");
        assert_eq!(reg.drained("a", WATCHDOG), Ok(()));
        assert!(
            handler_dropped.load(Ordering::SeqCst) && meta_dropped.load(Ordering::SeqCst),
            "drained returned before both drops were over"
        );
        assert_eq!(
            summary(&received(&mut changes)),
            [
                change("a", ChangeKind::Unregistered, 0),
                change("a", ChangeKind::Drained, 0),
            ]
        );
        assert_eq!(
            call.join(),
            Ok(1),
            "the call succeeded; the panics stayed inside"
        );
        assert_eq!(reg.register("a", Probe::new(3)), Ok(()));
        assert_eq!(reg.call("a", |a| a.answer), Ok(3));
    });
}

#[test]
fn drained_async_counts_the_retirements_made_before_it_was_called_not_before_its_first_poll() {
    watchdog("drained_async's snapshot", |stage| {
        let reg = leaked();
        install(reg, "a", 0, 0);
        let first = calling(reg, "a");
        assert_eq!(reg.replace("a", Probe::new(1)).map(|a| a.answer), Ok(0));
        // Waits for version 0 only: version 1 is still installed.
        let never = |_| std::future::pending::<()>();
        let drained = reg.drained_async("a", WATCHDOG, never);
        let second = calling(reg, "a");
        assert_eq!(reg.replace("a", Probe::new(2)).map(|a| a.answer), Ok(1));
        first.release();
        assert_eq!(first.join(), Ok(0));
        stage.at("polling drained_async while a call holds version 1");
        let waited = block_on_timeout(drained, Duration::from_secs(2));
        second.release();
        assert_eq!(second.join(), Ok(1));
        assert_eq!(
            waited,
            Some(Ok(())),
            "drained_async waited for version 1, retired after it was called"
        );
        assert_eq!(reg.drained("a", Duration::from_secs(1)), Ok(()));
    });
}

/// What a handler that waits for its own name got, and how long it took.
type Waited = (Result<(), Error>, Duration);

/// Fails unless a handler's wait for its own name failed at once with `DrainDeadlock`.
fn assert_drain_deadlock(waited: Waited, own: &str) {
    let (outcome, took) = waited;
    match outcome {
        Err(Error::DrainDeadlock { name, .. }) => assert_eq!(name, own),
        other => panic!("expected DrainDeadlock for `{own}`, got {other:?} after {took:?}"),
    }
    assert!(took < Duration::from_secs(1), "DrainDeadlock took {took:?}");
}

type Waiter = Arc<dyn Fn() -> Waited + Send + Sync>;

fn answers_at_once() -> Waiter {
    Arc::new(|| (Ok(()), Duration::ZERO))
}

#[test]
fn a_handler_that_replaced_itself_and_drains_its_own_name_gets_drain_deadlock() {
    watchdog(
        "a handler drains its own name after replacing itself",
        |stage| {
            let reg: &'static Registry<Waiter> = Box::leak(Box::new(Registry::new()));
            let waits: Waiter = Arc::new(move || {
                reg.replace("self.sync", answers_at_once()).unwrap();
                let start = Instant::now();
                (
                    reg.drained("self.sync", Duration::from_secs(30)),
                    start.elapsed(),
                )
            });
            reg.register("self.sync", waits).unwrap();
            stage.at("the handler waits for its own drain (30 s timeout)");
            let waited = reg.call("self.sync", |waits| waits()).unwrap();
            assert_drain_deadlock(waited, "self.sync");
            assert_eq!(reg.drained("self.sync", Duration::from_secs(1)), Ok(()));
        },
    );
}

#[test]
fn a_handler_replaced_by_another_thread_that_drains_its_own_name_gets_drain_deadlock() {
    watchdog(
        "a handler drains its own name after another thread replaced it",
        |stage| {
            let reg: &'static Registry<Waiter> = Box::leak(Box::new(Registry::new()));
            let waits: Waiter = Arc::new(move || {
                let start = Instant::now();
                (
                    reg.drained("self.other", Duration::from_secs(30)),
                    start.elapsed(),
                )
            });
            reg.register("self.other", waits).unwrap();
            // Paused while holding the handler, before it runs.
            let call = running(move |wait| {
                reg.call("self.other", |waits| {
                    wait();
                    waits()
                })
            });
            reg.replace("self.other", answers_at_once()).unwrap();
            call.release();
            stage.at("the handler waits for its own drain (30 s timeout)");
            let waited = call.join().unwrap();
            assert_drain_deadlock(waited, "self.other");
            assert_eq!(reg.drained("self.other", Duration::from_secs(1)), Ok(()));
        },
    );
}

#[test]
fn an_async_handler_awaiting_its_own_drain_gets_drain_deadlock() {
    type Job = Arc<dyn Fn() -> BoxFuture<'static, Waited> + Send + Sync>;
    watchdog("an async handler awaits its own drain", |stage| {
        let reg: &'static Registry<Job> = Box::leak(Box::new(Registry::new()));
        let waits: Job = Arc::new(move || {
            Box::pin(async move {
                let done: Job = Arc::new(|| Box::pin(async { (Ok(()), Duration::ZERO) }));
                reg.replace("self.async", done).unwrap();
                let start = Instant::now();
                let outcome = reg
                    .drained_async("self.async", Duration::from_secs(30), tokio::time::sleep)
                    .await;
                (outcome, start.elapsed())
            })
        });
        reg.register("self.async", waits).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        stage.at("the handler awaits its own drain (30 s timeout)");
        let waited = runtime
            .block_on(reg.call_async("self.async", |waits| waits()))
            .unwrap();
        assert_drain_deadlock(waited, "self.async");
        assert_eq!(reg.drained("self.async", Duration::from_secs(1)), Ok(()));
    });
}

#[test]
fn a_handler_draining_its_own_name_that_was_not_replaced_returns_at_once() {
    watchdog("a handler drains its own, current, name", |_| {
        let reg: &'static Registry<Waiter> = Box::leak(Box::new(Registry::new()));
        let waits: Waiter = Arc::new(move || {
            let start = Instant::now();
            (
                reg.drained("self.current", Duration::from_secs(30)),
                start.elapsed(),
            )
        });
        reg.register("self.current", waits).unwrap();
        let (outcome, took) = reg.call("self.current", |waits| waits()).unwrap();
        assert_eq!(outcome, Ok(()), "nothing of the name is retired");
        assert!(took < Duration::from_secs(1), "took {took:?}");
    });
}

#[test]
fn the_installed_handler_draining_its_own_name_waits_for_older_calls_as_usual() {
    watchdog("the installed handler drains its own name", |stage| {
        let reg: &'static Registry<Waiter> = Box::leak(Box::new(Registry::new()));
        reg.register("self.newer", answers_at_once()).unwrap();
        // Paused while holding the old handler, before it runs.
        let call = running(move |wait| {
            reg.call("self.newer", |old| {
                wait();
                old()
            })
        });
        let release = call.release.clone();
        // The new handler is not retired: its own call is no reason to fail, and the old call
        // (on another thread) ends once it has let it go.
        let new: Waiter = Arc::new(move || {
            release.send(()).unwrap();
            let start = Instant::now();
            (reg.drained("self.newer", WATCHDOG), start.elapsed())
        });
        reg.replace("self.newer", new).unwrap();
        stage.at("the new handler waits for the old one's call");
        let (outcome, _) = reg.call("self.newer", |new| new()).unwrap();
        assert_eq!(outcome, Ok(()));
        assert_eq!(call.join().map(|(outcome, _)| outcome), Ok(Ok(())));
    });
}

#[test]
fn a_handler_draining_another_name_waits_for_its_calls_as_usual() {
    watchdog("a handler drains another name", |stage| {
        let reg = leaked();
        install(reg, "other", 1, 1);
        let call = calling(reg, "other");
        assert_eq!(reg.replace("other", Probe::new(2)).map(|o| o.answer), Ok(1));
        let release = call.release.clone();
        let drainer = Probe::new(3);
        reg.register("drainer", drainer).unwrap();
        stage.at("a handler drains `other`, whose last call ends meanwhile");
        let outcome = reg.call("drainer", |_| {
            release.send(()).unwrap();
            reg.drained("other", WATCHDOG)
        });
        assert_eq!(outcome, Ok(Ok(())));
        assert_eq!(call.join(), Ok(1));
    });
}
