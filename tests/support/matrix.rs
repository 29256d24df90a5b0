//! The reentrancy matrix: user code that runs inside a registry operation (a scenario: which
//! hook, fired by which operation) × the public method that code calls on the same registry.
//! Each case runs under the watchdog, checks what the reentrant call returned, and checks the
//! registry afterwards.
//!
//! Included after `hooks` with `#[macro_use] #[path = "support/matrix.rs"] mod matrix;`.
#![allow(dead_code)]

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use handler_registry::{ChangeKind, Changes, Error};

use crate::hooks::{
    assert_consistent, assert_gap_free, install, leaked, message, received, summary, watchdog,
    Hook, Probe, Reg, Stage, Traps,
};

/// A registry with `a` (answers 1, metadata 1; its traps are `a`) and `b` (answers 2,
/// metadata 2, called once).
pub struct Fixture {
    pub reg: &'static Reg,
    pub a: Traps,
    /// Whether the hook changes `a` itself (then what `a` resolves to afterwards is open).
    pub hook_changes_a: bool,
}

pub fn fixture(hook_changes_a: bool) -> Fixture {
    let reg = leaked();
    let a = install(reg, "a", 1, 1);
    install(reg, "b", 2, 2);
    assert_eq!(reg.call("b", |b| b.answer), Ok(2));
    Fixture {
        reg,
        a,
        hook_changes_a,
    }
}

/// Where user code runs: `run` arms the hook and performs the operation that fires it, and
/// checks that operation's own result.
#[derive(Clone, Copy)]
pub struct Scenario {
    /// Which hook, fired by what, for messages.
    pub hook: &'static str,
    /// What `len()` may be while the hook runs (before or after the operation took effect).
    pub len: &'static [usize],
    pub run: fn(&Fixture, Hook, &Stage),
}

/// What to check once the operation that ran the hook has returned.
pub enum After {
    Nothing,
    /// `get(name)` answers this.
    Holds(&'static str, u64),
    /// `name` is gone.
    Absent(&'static str),
    /// The subscription made in the hook receives the changes made after it.
    Subscribed(Changes),
}

/// A public method called from inside a hook, and the check of its result.
#[derive(Clone, Copy)]
pub struct Method {
    pub name: &'static str,
    /// Whether it changes `a`, the name the hook runs for.
    pub changes_a: bool,
    pub call: fn(&'static Reg, &'static [usize]) -> Result<After, String>,
}

pub mod method {
    use super::*;

    pub const GET: Method = Method {
        name: "get(\"b\")",
        changes_a: false,
        call: |reg, _| match reg.get("b").map(|b| b.answer) {
            Some(2) => Ok(After::Nothing),
            other => Err(format!("get(\"b\") answered {other:?}, not Some(2)")),
        },
    };

    pub const CONTAINS: Method = Method {
        name: "contains",
        changes_a: false,
        call: |reg, _| match (reg.contains("b"), reg.contains("nope")) {
            (true, false) => Ok(After::Nothing),
            other => Err(format!(
                "(contains(\"b\"), contains(\"nope\")) = {other:?}, not (true, false)"
            )),
        },
    };

    pub const LEN: Method = Method {
        name: "len",
        changes_a: false,
        call: |reg, len| match reg.len() {
            n if len.contains(&n) => Ok(After::Nothing),
            n => Err(format!("len() = {n}, expected one of {len:?}")),
        },
    };

    pub const ENTRIES: Method = Method {
        name: "entries",
        changes_a: false,
        call: |reg, len| {
            let entries = reg.entries();
            let names: Vec<&str> = entries.iter().map(|entry| entry.name()).collect();
            let b = entries.iter().find(|entry| entry.name() == "b");
            if len.contains(&entries.len()) && b.is_some_and(|b| b.meta().id == 2) {
                Ok(After::Nothing)
            } else {
                Err(format!(
                    "entries() = {names:?} (b's metadata {:?}); expected {len:?} entries with b's metadata 2",
                    b.map(|b| b.meta().id)
                ))
            }
        },
    };

    pub const REGISTER: Method = Method {
        name: "register(\"fresh\")",
        changes_a: false,
        call: |reg, _| match reg.register("fresh", Probe::new(7)) {
            Ok(()) => Ok(After::Holds("fresh", 7)),
            Err(error) => Err(format!("register(\"fresh\") failed: {error}")),
        },
    };

    pub const REPLACE: Method = Method {
        name: "replace(\"b\")",
        changes_a: false,
        call: |reg, _| match reg.replace("b", Probe::new(20)) {
            Ok(previous) if previous.answer == 2 => Ok(After::Holds("b", 20)),
            Ok(previous) => Err(format!(
                "replace(\"b\") returned a previous handler answering {}, not 2",
                previous.answer
            )),
            Err(error) => Err(format!("replace(\"b\") failed: {error}")),
        },
    };

    pub const UNREGISTER: Method = Method {
        name: "unregister(\"b\")",
        changes_a: false,
        call: |reg, _| match reg.unregister("b") {
            Ok(previous) if previous.answer == 2 => Ok(After::Absent("b")),
            Ok(previous) => Err(format!(
                "unregister(\"b\") returned a handler answering {}, not 2",
                previous.answer
            )),
            Err(error) => Err(format!("unregister(\"b\") failed: {error}")),
        },
    };

    pub const DRAINED: Method = Method {
        name: "drained(ZERO)",
        changes_a: false,
        call: |reg, _| {
            // `b` has nothing retired: done at once. `a` may be mid-retirement (the hook may run
            // in its drop): any answer will do, as long as there is one.
            let _ = reg.drained("a", Duration::ZERO);
            match reg.drained("b", Duration::ZERO) {
                Ok(()) => Ok(After::Nothing),
                Err(error) => Err(format!("drained(\"b\", ZERO) failed: {error}")),
            }
        },
    };

    pub const SUBSCRIBE: Method = Method {
        name: "subscribe",
        changes_a: false,
        call: |reg, _| Ok(After::Subscribed(reg.subscribe())),
    };

    pub const STATS: Method = Method {
        name: "stats",
        changes_a: false,
        call: |reg, _| {
            let stats = reg.stats();
            match stats.iter().find(|stats| stats.name() == "b") {
                Some(b) if b.calls() == 1 => Ok(After::Nothing),
                b => Err(format!(
                    "stats() of b: {b:?}, expected 1 call (all stats: {stats:?})"
                )),
            }
        },
    };

    /// The name the hook fires for, replaced: it may be gone by then.
    pub const REPLACE_SAME: Method = Method {
        name: "replace(\"a\") (the hook's own name)",
        changes_a: true,
        call: |reg, _| match reg.replace("a", Probe::new(100)) {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(After::Nothing),
            Err(error) => Err(format!("replace(\"a\") failed: {error}")),
        },
    };

    /// The name the hook fires for, removed: it may be gone by then.
    pub const UNREGISTER_SAME: Method = Method {
        name: "unregister(\"a\") (the hook's own name)",
        changes_a: true,
        call: |reg, _| match reg.unregister("a") {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(After::Nothing),
            Err(error) => Err(format!("unregister(\"a\") failed: {error}")),
        },
    };
}

/// One case: a fresh registry, `scenario`'s operation with a hook that calls `method`, then the
/// checks.
pub fn run(scenario: Scenario, method: Method) {
    let what = format!("{} × {}", scenario.hook, method.name);
    let name = what.clone();
    watchdog(&what, move |stage| {
        stage.at("setting up");
        let fixture = fixture(method.changes_a);
        let reg = fixture.reg;
        type Outcome = Arc<Mutex<Option<Result<After, String>>>>;
        let outcome: Outcome = Arc::default();
        let hook: Hook = {
            let (outcome, stage) = (Arc::clone(&outcome), Arc::clone(&stage));
            Box::new(move || {
                stage.at("in the hook: the reentrant call");
                let result =
                    panic::catch_unwind(AssertUnwindSafe(|| (method.call)(reg, scenario.len)))
                        .unwrap_or_else(|payload| {
                            Err(format!("it panicked: {}", message(&*payload)))
                        });
                *outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
                stage.at("in the hook: returning to the registry");
            })
        };
        stage.at("the operation that runs the hook");
        (scenario.run)(&fixture, hook, &stage);
        stage.at("checking after the operation returned");
        let result = outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_else(|| panic!("{name}: the hook never ran"));
        match result {
            Ok(After::Nothing) => {}
            Ok(After::Holds(held, answer)) => assert_eq!(
                reg.get(held).map(|probe| probe.answer),
                Some(answer),
                "{name}: what the reentrant call installed"
            ),
            Ok(After::Absent(gone)) => {
                assert!(
                    !reg.contains(gone),
                    "{name}: what the reentrant call removed"
                )
            }
            Ok(After::Subscribed(mut changes)) => {
                reg.register("after.subscribe", Probe::new(5)).unwrap();
                let seen = received(&mut changes);
                let first = seen.first().map_or(0, |change| change.seq());
                assert_gap_free(&seen, first);
                let last = seen.last().map(|change| (change.name(), change.kind()));
                assert_eq!(
                    last,
                    Some(("after.subscribe", ChangeKind::Registered)),
                    "{name}: the subscription made in the hook saw {:?}",
                    summary(&seen)
                );
            }
            Err(wrong) => panic!("{name}: the reentrant call was wrong: {wrong}"),
        }
        stage.at("checking consistency");
        assert_consistent(reg);
        for name in ["a", "b"] {
            assert_eq!(reg.drained(name, Duration::from_secs(1)), Ok(()), "{name}");
        }
    });
}

/// A module per scenario (a function of that name returning the [`Scenario`], in scope where
/// the macro is invoked), with a test per method.
macro_rules! matrix {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                use crate::matrix::{method, run};

                fn case(method: crate::matrix::Method) {
                    run(super::$scenario(), method);
                }

                #[test]
                fn get() {
                    case(method::GET);
                }

                #[test]
                fn contains() {
                    case(method::CONTAINS);
                }

                #[test]
                fn len() {
                    case(method::LEN);
                }

                #[test]
                fn entries() {
                    case(method::ENTRIES);
                }

                #[test]
                fn register() {
                    case(method::REGISTER);
                }

                #[test]
                fn replace() {
                    case(method::REPLACE);
                }

                #[test]
                fn unregister() {
                    case(method::UNREGISTER);
                }

                #[test]
                fn drained() {
                    case(method::DRAINED);
                }

                #[test]
                fn subscribe() {
                    case(method::SUBSCRIBE);
                }

                #[test]
                fn stats() {
                    case(method::STATS);
                }

                #[test]
                fn replace_same_name() {
                    case(method::REPLACE_SAME);
                }

                #[test]
                fn unregister_same_name() {
                    case(method::UNREGISTER_SAME);
                }
            }
        )*
    };
}
