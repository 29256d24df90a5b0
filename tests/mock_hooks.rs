//! User code in test doubles (the `testing` feature): a mock's fake handler is cloned by every
//! lookup that finds it and dropped with its guard. That code may call any public method of the
//! same registry (the matrix of `reentrancy.rs`, with the fake's `Clone` and `Drop` as hooks,
//! for thread mocks and global mocks), and a panic in it reaches the caller and leaves the
//! mocks consistent (as `panic_safety.rs` does for the other hooks).
//!
//! Run with `cargo test --features testing --test mock_hooks` (.ci/run does). Global mocks
//! take turns through one process-wide lock: when a global case deadlocks while holding it,
//! the other global cases report a deadlock at "taking the global mock" too.
#![cfg(feature = "testing")]

#[path = "support/hooks.rs"]
mod hooks;
#[macro_use]
#[path = "support/matrix.rs"]
mod matrix;

use std::panic::{self, AssertUnwindSafe};

use handler_registry::Mock;
use hooks::{install, leaked, message, quiet_injected_panics, watchdog, Hook, Probe, Reg, Stage};
use matrix::{Fixture, Scenario};

/// Mocks `a` with `fake`: for this thread, or (`global`) for the process, which waits for the
/// global mocks' turn.
fn mock_a(reg: &'static Reg, fake: Probe, global: bool, stage: &Stage) -> Mock<'static> {
    if global {
        stage.at("taking the global mock (one test at a time)");
        let mock = reg.mock_global("a", fake).unwrap();
        stage.at("the operation that runs the hook");
        mock
    } else {
        reg.mock("a", fake).unwrap()
    }
}

fn fake_clone_in_get_with(fx: &Fixture, hook: Hook, stage: &Stage, global: bool) {
    let fake = Probe::new(99);
    let trap = fake.clone_trap();
    let _mock = mock_a(fx.reg, fake, global, stage);
    trap.arm(hook);
    let got = fx.reg.get("a").map(|a| a.answer);
    assert!(trap.finished(), "get cloned the fake");
    if !fx.hook_changes_a {
        assert_eq!(got, Some(99));
    }
}

fn fake_drop_with(fx: &Fixture, hook: Hook, stage: &Stage, global: bool) {
    let fake = Probe::new(99);
    let trap = fake.drop_trap();
    let mock = mock_a(fx.reg, fake, global, stage);
    assert_eq!(fx.reg.get("a").map(|a| a.answer), Some(99));
    trap.arm(hook);
    drop(mock);
    assert!(trap.finished(), "the fake was dropped with its guard");
    if !fx.hook_changes_a {
        assert_eq!(fx.reg.get("a").map(|a| a.answer), Some(1));
    }
}

fn fake_clone_in_get() -> Scenario {
    Scenario {
        hook: "a thread mock's Clone in get",
        len: &[2],
        run: |fx, hook, stage| fake_clone_in_get_with(fx, hook, stage, false),
    }
}

fn fake_clone_in_get_global() -> Scenario {
    Scenario {
        hook: "a global mock's Clone in get",
        len: &[2],
        run: |fx, hook, stage| fake_clone_in_get_with(fx, hook, stage, true),
    }
}

fn fake_drop() -> Scenario {
    Scenario {
        hook: "a thread mock's Drop when its guard is dropped",
        len: &[2],
        run: |fx, hook, stage| fake_drop_with(fx, hook, stage, false),
    }
}

fn fake_drop_global() -> Scenario {
    Scenario {
        hook: "a global mock's Drop when its guard is dropped",
        len: &[2],
        run: |fx, hook, stage| fake_drop_with(fx, hook, stage, true),
    }
}

matrix! {
    fake_clone_in_get,
    fake_clone_in_get_global,
    fake_drop,
    fake_drop_global,
}

/// Runs `f`, catching a panic; the panic's message.
fn panic_of<T>(f: impl FnOnce() -> T) -> Option<String> {
    panic::catch_unwind(AssertUnwindSafe(f))
        .err()
        .map(|payload| message(&*payload))
}

/// A registry holding `a` (answers 1) and `b` (answers 2).
fn two_names() -> &'static Reg {
    quiet_injected_panics();
    let reg = leaked();
    install(reg, "a", 1, 1);
    install(reg, "b", 2, 2);
    reg
}

/// After a panic in a fake: the real handlers answer, and `a` can be mocked again (globally too:
/// the global mocks' turn was given back) and restored.
fn assert_mocks_still_work(reg: &'static Reg) {
    assert_eq!(reg.get("b").map(|b| b.answer), Some(2));
    {
        let _again = reg.mock("a", Probe::new(7)).unwrap();
        assert_eq!(reg.call("a", |a| a.answer), Ok(7));
    }
    {
        let _again = reg.mock_global("a", Probe::new(8)).unwrap();
        assert_eq!(reg.call("a", |a| a.answer), Ok(8));
    }
    assert_eq!(reg.call("a", |a| a.answer), Ok(1));
    assert_eq!(reg.get("a").map(|a| a.answer), Some(1));
}

#[test]
fn a_panic_in_a_fakes_clone_reaches_the_caller_and_the_mock_stays() {
    watchdog("a fake's Clone panics", |stage| {
        let reg = two_names();
        for global in [false, true] {
            let fake = Probe::new(99);
            let trap = fake.clone_trap();
            stage.at("taking the mock");
            let mock = if global {
                reg.mock_global("a", fake).unwrap()
            } else {
                reg.mock("a", fake).unwrap()
            };
            stage.at("get, which clones the fake");
            trap.arm(|| panic!("injected panic in a fake's Clone"));
            assert_eq!(
                panic_of(|| reg.get("a").map(|a| a.answer)),
                Some("injected panic in a fake's Clone".to_owned()),
                "global: {global}"
            );
            assert_eq!(reg.get("a").map(|a| a.answer), Some(99), "the mock stays");
            assert_eq!(reg.call("a", |a| a.answer), Ok(99));
            drop(mock);
            assert_eq!(reg.get("a").map(|a| a.answer), Some(1), "restored");
        }
        stage.at("mocking again");
        assert_mocks_still_work(reg);
    });
}

#[test]
fn a_panic_in_a_fakes_drop_reaches_the_caller_and_the_mock_is_gone() {
    watchdog("a fake's Drop panics", |stage| {
        let reg = two_names();
        for global in [false, true] {
            let fake = Probe::new(99);
            let trap = fake.drop_trap();
            stage.at("taking the mock");
            let mock = if global {
                reg.mock_global("a", fake).unwrap()
            } else {
                reg.mock("a", fake).unwrap()
            };
            assert_eq!(reg.call("a", |a| a.answer), Ok(99));
            trap.arm(|| panic!("injected panic in a fake's Drop"));
            stage.at("dropping the mock, which drops the fake");
            assert_eq!(
                panic_of(move || drop(mock)),
                Some("injected panic in a fake's Drop".to_owned()),
                "global: {global}"
            );
            assert_eq!(reg.get("a").map(|a| a.answer), Some(1), "the mock is gone");
            assert_eq!(reg.call("a", |a| a.answer), Ok(1));
        }
        stage.at("mocking again");
        assert_mocks_still_work(reg);
    });
}
