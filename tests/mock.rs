//! Test doubles (the `testing` feature): `Registry::mock` per thread, `mock_global` for every
//! thread. Run with `cargo test --features testing --test mock` (.ci/run does).
#![cfg(feature = "testing")]

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use handler_registry::{dynamic, handler, registry, BoxFuture, Error, Registry, HANDLERS};
use support::{block_on, not_found};

#[registry]
pub static DICE: Registry<fn(u32) -> u32>;

/// Rolls a die of `sides` sides (deterministically here).
#[handler("roll", registry = DICE, aliases = ["r"])]
fn roll(sides: u32) -> u32 {
    sides / 2 + 1
}

#[dynamic]
#[handler("flip", registry = DICE)]
fn flip(_: u32) -> u32 {
    1
}

type Hook = Arc<dyn Fn(&str) -> String + Send + Sync>;

#[registry]
pub static HOOKS: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;

#[handler("notify", registry = HOOKS)]
fn notify(who: &str) -> String {
    format!("sent to {who}")
}

#[registry]
pub static JOBS: Registry<fn(u32) -> BoxFuture<'static, u32>>;

#[handler("job.square", registry = JOBS)]
async fn square(x: u32) -> u32 {
    x * x
}

#[handler("mock.default.add")]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[registry]
pub static GLOBAL: Registry<fn() -> u32>;

#[handler("answer", registry = GLOBAL)]
fn answer() -> u32 {
    42
}

/// One side of the two parallel tests below: 200 times, mock `roll` with a fake answering
/// `mine`, check that this thread sees it through every path, then that the real one is back.
fn mock_roll_repeatedly(mine: u32) {
    for _ in 0..200 {
        let fake = DICE.mock("roll", |_| 0).unwrap();
        drop(fake);
        let _fake = match mine {
            1000 => DICE.mock("roll", |_| 1000).unwrap(),
            _ => DICE.mock("roll", |_| 2000).unwrap(),
        };
        assert_eq!(DICE.get("roll").map(|f| f(6)), Some(mine));
        assert_eq!(DICE.get("r").map(|f| f(6)), Some(mine));
        assert_eq!(DICE.lookup("roll").map(|f| f(6)), Ok(mine));
        assert_eq!(DICE.call("roll", |f| f(6)), Ok(mine));
        std::thread::yield_now();
        assert_eq!(DICE.call("r", |f| f(6)), Ok(mine));
    }
    assert_eq!(DICE.call("roll", |f| f(6)), Ok(4));
}

#[test]
fn parallel_tests_each_see_only_their_own_fake_a() {
    mock_roll_repeatedly(1000);
}

#[test]
fn parallel_tests_each_see_only_their_own_fake_b() {
    mock_roll_repeatedly(2000);
}

#[test]
fn two_threads_mocking_the_same_name_at_once_never_see_each_other() {
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        for mine in [1000, 2000] {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                mock_roll_repeatedly(mine);
            });
        }
    });
}

#[test]
fn another_thread_keeps_the_real_handler() {
    let _fake = DICE.mock("roll", |_| 7).unwrap();
    assert_eq!(DICE.call("roll", |f| f(6)), Ok(7));
    let elsewhere = std::thread::spawn(|| DICE.call("roll", |f| f(6)))
        .join()
        .unwrap();
    assert_eq!(elsewhere, Ok(4));
}

#[test]
fn a_mock_capturing_a_channel_records_its_calls() {
    let (sent, received) = mpsc::channel();
    let fake: Hook = Arc::new(move |who: &str| {
        sent.send(who.to_owned()).unwrap();
        "recorded".to_owned()
    });
    {
        let _fake = HOOKS.mock("notify", fake).unwrap();
        assert_eq!(HOOKS.call("notify", |f| f("ann")), Ok("recorded".into()));
        assert_eq!(HOOKS.get("notify").unwrap()("bob"), "recorded");
    }
    assert_eq!(received.try_iter().collect::<Vec<_>>(), ["ann", "bob"]);
    assert_eq!(HOOKS.call("notify", |f| f("cy")), Ok("sent to cy".into()));
    // The fake (and the channel's sender it holds) was dropped with the guard.
    assert!(received.recv_timeout(Duration::from_millis(10)).is_err());
}

#[test]
fn a_panicking_test_restores_the_real_handler() {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _fake = DICE.mock("flip", |_| 99).unwrap();
        assert_eq!(DICE.call("flip", |f| f(0)), Ok(99));
        panic!("the test fails here");
    }));
    assert!(outcome.is_err());
    assert_eq!(DICE.call("flip", |f| f(0)), Ok(1));

    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _fake = GLOBAL.mock_global("answer", || 0).unwrap();
        panic!("the test fails here too");
    }));
    assert!(outcome.is_err());
    assert_eq!(GLOBAL.call("answer", |f| f()), Ok(42));
    // The lock of global mocks was released too: another one can be taken.
    let _again = GLOBAL.mock_global("answer", || 1).unwrap();
    assert_eq!(GLOBAL.call("answer", |f| f()), Ok(1));
}

#[test]
fn every_lookup_path_sees_the_mock() {
    let _job = JOBS
        .mock("job.square", |x| Box::pin(async move { x + 1000 }))
        .unwrap();
    assert_eq!(block_on(JOBS.call_async("job.square", |f| f(3))), Ok(1003));
    assert_eq!(
        block_on(JOBS.call_async_guarded("job.square", |_| Ok(()), |f| f(3))),
        Ok(1003)
    );
    assert_eq!(block_on(JOBS.get("job.square").unwrap()(3)), 1003);

    // The default registry: `lookup::<F>` downcasts the fake.
    let fake: fn(i32, i32) -> i32 = |a, b| a * b;
    let _add = HANDLERS
        .mock("mock.default.add", handler_registry::AnyHandler::new(fake))
        .unwrap();
    let add = handler_registry::lookup::<fn(i32, i32) -> i32>("mock.default.add").unwrap();
    assert_eq!(add(6, 7), 42);
    // A fake of another type is reported as such.
    assert!(matches!(
        handler_registry::lookup::<fn(i32) -> i32>("mock.default.add"),
        Err(Error::SignatureMismatch { .. })
    ));
}

#[test]
fn dynamic_and_run_time_names_can_be_mocked_and_mocks_nest() {
    let registry: Registry<fn(u32) -> u32> = Registry::new();
    registry.register("twice", |x| x * 2).unwrap();
    {
        let _outer = registry.mock("twice", |_| 1).unwrap();
        {
            let _inner = registry.mock("twice", |_| 2).unwrap();
            assert_eq!(registry.call("twice", |f| f(5)), Ok(2));
        }
        assert_eq!(registry.call("twice", |f| f(5)), Ok(1));
        // Replacing the real handler does not remove the mock.
        registry.replace("twice", |x| x * 20).unwrap();
        assert_eq!(registry.call("twice", |f| f(5)), Ok(1));
    }
    assert_eq!(registry.call("twice", |f| f(5)), Ok(100));
}

#[test]
fn mocking_a_name_that_does_not_exist_is_not_found() {
    let error = DICE.mock("rol", |_| 0).unwrap_err();
    assert_eq!(not_found(&error), ("rol", Some("roll")));
    let registry: Registry<fn(u32) -> u32> = Registry::new();
    registry.register("gone", |x| x).unwrap();
    registry.unregister("gone").unwrap();
    assert!(registry.mock("gone", |x| x).is_err());
    assert!(registry.get("gone").is_none());
}

#[test]
fn a_global_mock_is_seen_by_every_thread_and_global_mocks_take_turns() {
    let first = GLOBAL.mock_global("answer", || 1).unwrap();
    let seen = std::thread::spawn(|| GLOBAL.call("answer", |f| f()))
        .join()
        .unwrap();
    assert_eq!(seen, Ok(1));
    // Another test's global mock waits for this one to be dropped.
    let second_started = Arc::new(AtomicBool::new(false));
    let waiter = {
        let second_started = Arc::clone(&second_started);
        std::thread::spawn(move || {
            let _second = GLOBAL.mock_global("answer", || 2).unwrap();
            second_started.store(true, Ordering::SeqCst);
            GLOBAL.call("answer", |f| f())
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    assert!(!second_started.load(Ordering::SeqCst));
    drop(first);
    assert_eq!(waiter.join().unwrap(), Ok(2));
    assert_eq!(GLOBAL.call("answer", |f| f()), Ok(42));
}

#[test]
fn a_guarded_call_of_a_mock_is_checked_on_the_real_metadata() {
    let registry: Registry<fn() -> u8, bool> = Registry::new_with_meta();
    registry
        .register_with_meta("admin.only", || 1, false)
        .unwrap();
    let _fake = registry.mock("admin.only", || 2).unwrap();
    let public = |public: &bool| {
        if *public {
            Ok(())
        } else {
            Err("no".to_owned())
        }
    };
    assert!(matches!(
        registry.call_guarded("admin.only", public, |f| f()),
        Err(Error::Denied { .. })
    ));
    assert_eq!(
        registry.get_with_meta("admin.only").map(|(f, m)| (f(), m)),
        Some((2, false))
    );
}

/// Looks a name up in `DICE` when dropped.
struct LooksUpOnDrop(Arc<AtomicBool>);

impl Drop for LooksUpOnDrop {
    fn drop(&mut self) {
        // The mock being removed must not be in the way (no borrow or lock held).
        let seen = DICE.call("roll", |f| f(6));
        self.0.store(seen == Ok(4), Ordering::SeqCst);
    }
}

#[test]
fn a_fake_may_look_names_up_when_it_is_dropped() {
    let looked_up = Arc::new(AtomicBool::new(false));
    let guard = Arc::new(LooksUpOnDrop(Arc::clone(&looked_up)));
    let fake: Hook = Arc::new(move |_| {
        let _ = &guard;
        String::new()
    });
    let mock = HOOKS.mock("notify", fake).unwrap();
    drop(mock);
    assert!(looked_up.load(Ordering::SeqCst));
}
