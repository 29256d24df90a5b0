//! No user code under a registry lock (issue 17): every hook the registry runs (`F::clone`,
//! `M::clone`, `M::default`, the drop of a retired handler and of its metadata, the check of
//! `call_guarded`, the waker of an async subscriber or drain) may call any public method of the same
//! registry without deadlock, and gets real answers.
//!
//! One test per hook × method, `<hook>::<method>`: the hook (see [`Scenario`]) calls the method
//! on a fresh registry holding `a` and `b`, under a watchdog that names the case and the stage
//! it stopped at if it hangs. Mocks have their own file (`mock_hooks.rs`).

#[path = "support/hooks.rs"]
mod hooks;
#[macro_use]
#[path = "support/matrix.rs"]
mod matrix;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use handler_registry::ChangeKind;
use hooks::{arm_default, calling, trap_waker, Hook, Probe, Stage, Trap};
use matrix::{Fixture, Scenario};

fn clone_in_get() -> Scenario {
    Scenario {
        hook: "F::clone in get",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.clone.arm(hook);
            assert_eq!(fx.reg.get("a").map(|a| a.answer), Some(1));
            assert!(fx.a.clone.finished(), "get cloned the handler");
        },
    }
}

fn clone_in_get_with_meta() -> Scenario {
    Scenario {
        hook: "F::clone in get_with_meta",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.clone.arm(hook);
            let got = fx.reg.get_with_meta("a");
            assert_eq!(got.map(|(a, tag)| (a.answer, tag.id)), Some((1, 1)));
            assert!(fx.a.clone.finished());
        },
    }
}

fn clone_in_lookup() -> Scenario {
    Scenario {
        hook: "F::clone in lookup",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.clone.arm(hook);
            assert_eq!(fx.reg.lookup("a").map(|a| a.answer), Ok(1));
            assert!(fx.a.clone.finished());
        },
    }
}

fn clone_in_replace() -> Scenario {
    Scenario {
        hook: "F::clone of the previous handler in replace",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.clone.arm(hook);
            let previous = fx.reg.replace("a", Probe::new(10));
            assert_eq!(previous.map(|a| a.answer), Ok(1));
            assert!(fx.a.clone.finished());
        },
    }
}

fn clone_in_unregister() -> Scenario {
    Scenario {
        hook: "F::clone of the removed handler in unregister",
        len: &[1, 2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.clone.arm(hook);
            assert_eq!(fx.reg.unregister("a").map(|a| a.answer), Ok(1));
            assert!(fx.a.clone.finished());
        },
    }
}

fn meta_clone_in_get_with_meta() -> Scenario {
    Scenario {
        hook: "M::clone in get_with_meta",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.meta_clone.arm(hook);
            let got = fx.reg.get_with_meta("a");
            assert_eq!(got.map(|(a, tag)| (a.answer, tag.id)), Some((1, 1)));
            assert!(fx.a.meta_clone.finished());
        },
    }
}

fn meta_clone_in_entries() -> Scenario {
    Scenario {
        hook: "M::clone in entries",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.meta_clone.arm(hook);
            let entries = fx.reg.entries();
            let a = entries.iter().find(|entry| entry.name() == "a");
            assert_eq!(a.map(|a| a.meta().id), Some(1));
            assert!(fx.a.meta_clone.finished());
        },
    }
}

fn meta_clone_in_replace() -> Scenario {
    Scenario {
        hook: "M::clone in replace (the metadata is kept)",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.meta_clone.arm(hook);
            let previous = fx.reg.replace("a", Probe::new(10));
            assert_eq!(previous.map(|a| a.answer), Ok(1));
            if !fx.a.meta_clone.entered() {
                // The replacement shares the metadata instead of cloning it: no user code ran
                // inside replace, so the hook's call is made here, outside it.
                fx.a.meta_clone.fire();
            }
        },
    }
}

fn default_in_register() -> Scenario {
    Scenario {
        hook: "M::default in register",
        len: &[2, 3],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            let trap = Trap::armed(hook);
            let fired = std::sync::Arc::clone(&trap);
            arm_default(move || fired.fire());
            assert_eq!(fx.reg.register("c", Probe::new(3)), Ok(()));
            assert!(trap.finished(), "register called M::default");
            let got = fx.reg.get_with_meta("c");
            assert_eq!(got.map(|(c, tag)| (c.answer, tag.id)), Some((3, 0)));
        },
    }
}

fn drop_on_replace() -> Scenario {
    Scenario {
        hook: "drop of the handler retired by replace",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.drop.arm(hook);
            let previous = fx.reg.replace("a", Probe::new(10));
            assert_eq!(previous.map(|a| a.answer), Ok(1));
            assert!(
                fx.a.drop.finished(),
                "no call ran on it: dropped by replace"
            );
        },
    }
}

fn drop_on_unregister() -> Scenario {
    Scenario {
        hook: "drop of the handler retired by unregister",
        len: &[1],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.drop.arm(hook);
            assert_eq!(fx.reg.unregister("a").map(|a| a.answer), Ok(1));
            assert!(
                fx.a.drop.finished(),
                "no call ran on it: dropped by unregister"
            );
        },
    }
}

fn drop_after_last_call() -> Scenario {
    Scenario {
        hook: "drop of a retired handler when its last call ends",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.drop.arm(hook);
            let reg = fx.reg;
            let answer = reg.call("a", |a| {
                assert_eq!(
                    reg.replace("a", Probe::new(10)).map(|old| old.answer),
                    Ok(1)
                );
                a.answer
            });
            assert_eq!(answer, Ok(1));
            assert!(fx.a.drop.finished(), "dropped when the call ended");
        },
    }
}

fn meta_drop_on_unregister() -> Scenario {
    Scenario {
        hook: "drop of the metadata retired by unregister",
        len: &[1],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.meta_drop.arm(hook);
            assert_eq!(fx.reg.unregister("a").map(|a| a.answer), Ok(1));
            assert!(fx.a.meta_drop.finished(), "dropped by unregister");
        },
    }
}

fn meta_drop_after_last_call() -> Scenario {
    Scenario {
        hook: "drop of retired metadata when its last call ends",
        len: &[1],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            fx.a.meta_drop.arm(hook);
            let reg = fx.reg;
            let answer = reg.call("a", |a| {
                assert_eq!(reg.unregister("a").map(|old| old.answer), Ok(1));
                a.answer
            });
            assert_eq!(answer, Ok(1));
            assert!(fx.a.meta_drop.finished(), "dropped when the call ended");
        },
    }
}

fn check_in_call_as() -> Scenario {
    Scenario {
        hook: "the check of call_as",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, _: &Stage| {
            let trap = Trap::armed(hook);
            let answer = fx.reg.call_guarded(
                "a",
                |tag| {
                    trap.fire();
                    if tag.id == 1 {
                        Ok(())
                    } else {
                        Err(format!("metadata {}", tag.id))
                    }
                },
                |a| a.answer,
            );
            assert_eq!(answer, Ok(1));
            assert!(trap.finished());
        },
    }
}

fn waker_of_subscriber() -> Scenario {
    Scenario {
        hook: "the waker of an async subscriber (woken by register)",
        len: &[3],
        run: |fx: &Fixture, hook: Hook, stage: &Stage| {
            let mut changes = fx.reg.subscribe();
            let trap = Trap::armed(hook);
            let waker = trap_waker(&trap);
            let mut cx = Context::from_waker(&waker);
            let mut next = pin!(changes.recv());
            assert!(next.as_mut().poll(&mut cx).is_pending(), "nothing yet");
            stage.at("register(\"c\"), which wakes the subscriber");
            assert_eq!(fx.reg.register("c", Probe::new(3)), Ok(()));
            assert!(trap.finished(), "the subscriber was woken");
            match next.as_mut().poll(&mut cx) {
                Poll::Ready(Some(change)) => assert_eq!(
                    (change.name(), change.kind()),
                    ("c", ChangeKind::Registered)
                ),
                other => panic!("after the wake-up: {other:?}"),
            }
        },
    }
}

fn waker_of_drained_async() -> Scenario {
    Scenario {
        hook: "the waker of drained_async (woken when the last call ends)",
        len: &[2],
        run: |fx: &Fixture, hook: Hook, stage: &Stage| {
            let reg = fx.reg;
            let call = calling(reg, "a");
            assert_eq!(reg.replace("a", Probe::new(10)).map(|a| a.answer), Ok(1));
            let trap = Trap::armed(hook);
            let waker = trap_waker(&trap);
            let mut cx = Context::from_waker(&waker);
            let never = |_| std::future::pending::<()>();
            let mut drained = pin!(reg.drained_async("a", Duration::from_secs(60), never));
            assert!(drained.as_mut().poll(&mut cx).is_pending(), "a call runs");
            stage.at("the last call ends; the drain's waker runs on its thread");
            call.release();
            assert_eq!(call.join(), Ok(1));
            assert!(trap.finished(), "the drain was woken");
            assert_eq!(drained.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
        },
    }
}

matrix! {
    clone_in_get,
    clone_in_get_with_meta,
    clone_in_lookup,
    clone_in_replace,
    clone_in_unregister,
    meta_clone_in_get_with_meta,
    meta_clone_in_entries,
    meta_clone_in_replace,
    default_in_register,
    drop_on_replace,
    drop_on_unregister,
    drop_after_last_call,
    meta_drop_on_unregister,
    meta_drop_after_last_call,
    check_in_call_as,
    waker_of_subscriber,
    waker_of_drained_async,
}
