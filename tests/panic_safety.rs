//! Panic safety of user code run by the registry (issue 17): a panic in `F::clone`,
//! `M::clone`, `M::default`, the check of `call_guarded` or a subscriber's waker reaches the caller
//! that triggered it; a panic in the drop of a retired handler or of its metadata is contained
//! (counted as a panic of the name in `stats()` and logged). Either way the registry is left
//! consistent: the operation did not happen or fully happened, no change is lost or repeated,
//! `drained` returns, and later changes and calls work. One test per hook.

#[path = "support/hooks.rs"]
mod hooks;

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use handler_registry::{ChangeKind, Changes, Kind};
use hooks::{
    arm_default, assert_consistent, assert_gap_free, calling, change, install, leaked, message,
    quiet_injected_panics, received, summary, trap_waker, watchdog, Probe, Reg, Tag, Trap, Traps,
};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// A registry holding `alpha` (answers 1, metadata 1) and `beta` (answers 2, metadata 2),
/// and a subscription made after both were registered (its first change is number 3).
struct World {
    reg: &'static Reg,
    alpha: Traps,
    changes: Changes,
}

fn world() -> World {
    quiet_injected_panics();
    let reg = leaked();
    let alpha = install(reg, "alpha", 1, 1);
    install(reg, "beta", 2, 2);
    let changes = reg.subscribe();
    World {
        reg,
        alpha,
        changes,
    }
}

/// Runs `f`, catching a panic.
fn catch<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    panic::catch_unwind(AssertUnwindSafe(f))
}

/// Fails unless `outcome` is a panic with `expected` as its message.
fn assert_panicked<T>(outcome: std::thread::Result<T>, expected: &str) {
    match outcome {
        Err(payload) => assert_eq!(message(&*payload), expected),
        Ok(_) => panic!("the panic `{expected}` did not reach the caller"),
    }
}

impl World {
    /// Waits for `alpha` to drain, then returns the changes received so far, checking they are
    /// numbered from 3 without a gap.
    fn settle(&mut self) -> Vec<(String, ChangeKind, u64)> {
        assert_eq!(self.reg.drained("alpha", Duration::from_secs(1)), Ok(()));
        let seen = received(&mut self.changes);
        assert_gap_free(&seen, 3);
        summary(&seen)
    }

    /// After `settle`: the registry is consistent, nothing runs, and it still works: a new
    /// name is registered, called, replaced and removed, `alpha` is replaced and drained, and
    /// the subscription sees exactly those changes, numbered on from the last one seen.
    fn still_works(&mut self, seen: usize) {
        let reg = self.reg;
        assert_consistent(reg);
        for entry in reg.entries() {
            assert_eq!(
                entry.in_flight(),
                0,
                "a call or hold left behind on {entry:?}"
            );
        }
        reg.register("later", Probe::new(5)).unwrap();
        assert_eq!(reg.call("later", |later| later.answer), Ok(5));
        assert_eq!(reg.replace("later", Probe::new(6)).map(|p| p.answer), Ok(5));
        assert_eq!(reg.unregister("later").map(|p| p.answer), Ok(6));
        assert_eq!(reg.drained("later", Duration::from_secs(1)), Ok(()));
        let mut expected = vec![
            ("later".to_owned(), ChangeKind::Registered, 0),
            ("later".to_owned(), ChangeKind::Replaced, 1),
            ("later".to_owned(), ChangeKind::Drained, 0),
            ("later".to_owned(), ChangeKind::Unregistered, 1),
            ("later".to_owned(), ChangeKind::Drained, 1),
        ];
        let alpha = reg.entries().into_iter().find(|e| e.name() == "alpha");
        if let Some(alpha) = alpha {
            let Kind::Dynamic { version } = alpha.kind() else {
                panic!("alpha is dynamic: {alpha:?}");
            };
            assert!(reg.call("alpha", |alpha| alpha.answer).is_ok());
            reg.replace("alpha", Probe::new(50)).unwrap();
            assert_eq!(
                reg.drained("alpha", Duration::from_secs(1)),
                Ok(()),
                "a hold on alpha was left behind"
            );
            assert_eq!(reg.call("alpha", |alpha| alpha.answer), Ok(50));
            expected.push(("alpha".to_owned(), ChangeKind::Replaced, version + 1));
            expected.push(("alpha".to_owned(), ChangeKind::Drained, version));
        }
        let later = received(&mut self.changes);
        assert_gap_free(&later, 3 + seen as u64);
        assert_eq!(summary(&later), expected);
        assert_consistent(reg);
    }
}

/// `(calls, panics)` of `name` in `stats()`, if listed.
fn stats_of(reg: &Reg, name: &str) -> Option<(u64, u64)> {
    reg.stats()
        .iter()
        .find(|stats| stats.name() == name)
        .map(|stats| (stats.calls(), stats.panics()))
}

#[test]
fn a_panic_in_handler_clone_during_get_get_with_meta_and_lookup_reaches_the_caller() {
    watchdog("F::clone panics in get, get_with_meta, lookup", |_| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .clone
            .arm(|| panic!("injected panic in Probe::clone (get)"));
        assert_panicked(
            catch(|| reg.get("alpha").map(|a| a.answer)),
            "injected panic in Probe::clone (get)",
        );
        w.alpha
            .clone
            .arm(|| panic!("injected panic in Probe::clone (get_with_meta)"));
        assert_panicked(
            catch(|| reg.get_with_meta("alpha").map(|(a, _)| a.answer)),
            "injected panic in Probe::clone (get_with_meta)",
        );
        w.alpha
            .clone
            .arm(|| panic!("injected panic in Probe::clone (lookup)"));
        assert_panicked(
            catch(|| reg.lookup("alpha").map(|a| a.answer)),
            "injected panic in Probe::clone (lookup)",
        );
        assert_eq!(reg.get("alpha").map(|a| a.answer), Some(1));
        assert_eq!(w.settle(), [], "a lookup changes nothing");
        w.still_works(0);
    });
}

#[test]
fn a_panic_in_handler_clone_during_replace_reaches_the_caller() {
    watchdog("F::clone panics in replace", |_| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .clone
            .arm(|| panic!("injected panic in Probe::clone (replace)"));
        assert_panicked(
            catch(|| reg.replace("alpha", Probe::new(10)).map(|a| a.answer)),
            "injected panic in Probe::clone (replace)",
        );
        let now = reg.get("alpha").map(|a| a.answer);
        let seen = w.settle();
        match now {
            Some(1) => assert_eq!(seen, [], "not replaced: no change"),
            Some(10) => assert_eq!(
                seen,
                [
                    change("alpha", ChangeKind::Replaced, 1),
                    change("alpha", ChangeKind::Drained, 0),
                ],
                "replaced: announced and drained once"
            ),
            other => panic!("alpha answers {other:?} after the panic"),
        }
        w.still_works(seen.len());
    });
}

#[test]
fn a_panic_in_handler_clone_during_unregister_reaches_the_caller() {
    watchdog("F::clone panics in unregister", |_| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .clone
            .arm(|| panic!("injected panic in Probe::clone (unregister)"));
        assert_panicked(
            catch(|| reg.unregister("alpha").map(|a| a.answer)),
            "injected panic in Probe::clone (unregister)",
        );
        let present = reg.get("alpha").map(|a| a.answer);
        let seen = w.settle();
        match present {
            Some(1) => assert_eq!(seen, [], "not removed: no change"),
            None => assert_eq!(
                seen,
                [
                    change("alpha", ChangeKind::Unregistered, 0),
                    change("alpha", ChangeKind::Drained, 0),
                ],
                "removed: announced and drained once"
            ),
            other => panic!("alpha answers {other:?} after the panic"),
        }
        w.still_works(seen.len());
    });
}

#[test]
fn a_panic_in_metadata_clone_during_get_with_meta_and_entries_reaches_the_caller() {
    watchdog("M::clone panics in get_with_meta, entries", |_| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .meta_clone
            .arm(|| panic!("injected panic in Tag::clone (get_with_meta)"));
        assert_panicked(
            catch(|| reg.get_with_meta("alpha").map(|(_, tag)| tag.id)),
            "injected panic in Tag::clone (get_with_meta)",
        );
        w.alpha
            .meta_clone
            .arm(|| panic!("injected panic in Tag::clone (entries)"));
        assert_panicked(
            catch(|| reg.entries().len()),
            "injected panic in Tag::clone (entries)",
        );
        assert_eq!(
            reg.get_with_meta("alpha")
                .map(|(a, tag)| (a.answer, tag.id)),
            Some((1, 1))
        );
        assert_eq!(w.settle(), []);
        w.still_works(0);
    });
}

#[test]
fn a_panic_in_metadata_clone_during_replace_reaches_the_caller() {
    watchdog("M::clone panics in replace", |_| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .meta_clone
            .arm(|| panic!("injected panic in Tag::clone (replace)"));
        let outcome = catch(|| reg.replace("alpha", Probe::new(10)).map(|a| a.answer));
        if w.alpha.meta_clone.entered() {
            assert_panicked(outcome, "injected panic in Tag::clone (replace)");
        } else {
            // The replacement shares the metadata instead of cloning it: no user code ran.
            w.alpha.meta_clone.disarm();
            assert_eq!(outcome.ok(), Some(Ok(1)));
        }
        let now = reg
            .get_with_meta("alpha")
            .map(|(a, tag)| (a.answer, tag.id));
        let seen = w.settle();
        match now {
            Some((1, 1)) => assert_eq!(seen, [], "not replaced: no change"),
            Some((10, 1)) => assert_eq!(
                seen,
                [
                    change("alpha", ChangeKind::Replaced, 1),
                    change("alpha", ChangeKind::Drained, 0),
                ],
                "replaced, keeping the metadata: announced and drained once"
            ),
            other => panic!("alpha is {other:?} after the panic"),
        }
        w.still_works(seen.len());
    });
}

#[test]
fn a_panic_in_metadata_default_during_register_reaches_the_caller() {
    watchdog("M::default panics in register", |_| {
        let mut w = world();
        let reg = w.reg;
        arm_default(|| panic!("injected panic in Tag::default"));
        assert_panicked(
            catch(|| reg.register("gamma", Probe::new(3))),
            "injected panic in Tag::default",
        );
        let gamma = reg
            .get_with_meta("gamma")
            .map(|(g, tag)| (g.answer, tag.id));
        let seen = w.settle();
        match gamma {
            None => assert_eq!(seen, [], "not registered: no change"),
            Some((3, 0)) => assert_eq!(seen, [change("gamma", ChangeKind::Registered, 0)]),
            other => panic!("gamma is {other:?} after the panic"),
        }
        w.still_works(seen.len());
        // The name is usable: registered now, or still.
        if gamma.is_none() {
            assert_eq!(reg.register("gamma", Probe::new(3)), Ok(()));
        }
        assert_eq!(reg.call("gamma", |g| g.answer), Ok(3));
    });
}

/// Every event at WARN or ERROR, as its fields (`name=value …`).
#[derive(Default)]
struct Alarms(Mutex<Vec<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push_str(&format!("{}={value} ", field.name()));
    }
}

impl Subscriber for Alarms {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        if *event.metadata().level() <= Level::WARN {
            let mut fields = String::new();
            event.record(&mut Fields(&mut fields));
            self.0.lock().unwrap().push(fields);
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[test]
fn a_panic_in_the_drop_of_a_handler_retired_by_replace_is_contained_counted_and_logged() {
    watchdog("F's drop panics after replace", |_| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .drop
            .arm(|| panic!("injected panic in Probe::drop (replace)"));
        // As in tests/invoke.rs: with a second dispatcher alive, every callsite's interest is
        // asked of this thread's default too.
        let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let alarms = Arc::new(Alarms::default());
        let outcome = tracing::subscriber::with_default(Arc::clone(&alarms), || {
            catch(|| reg.replace("alpha", Probe::new(10)).map(|a| a.answer))
        });
        assert!(
            matches!(outcome, Ok(Ok(1))),
            "the drop's panic reached the caller of replace"
        );
        assert!(
            w.alpha.drop.entered(),
            "no call ran on it: dropped by replace"
        );
        assert_eq!(
            w.settle(),
            [
                change("alpha", ChangeKind::Replaced, 1),
                change("alpha", ChangeKind::Drained, 0),
            ]
        );
        assert_eq!(
            stats_of(reg, "alpha").map(|(_, panics)| panics),
            Some(1),
            "the drop's panic counted as a panic of alpha"
        );
        let alarms = alarms.0.lock().unwrap();
        assert!(
            alarms.iter().any(|fields| fields.contains("alpha")),
            "a warning or error naming alpha was logged: {alarms:?}"
        );
        drop(alarms);
        w.still_works(2);
    });
}

#[test]
fn a_panic_in_the_drop_of_a_handler_retired_by_unregister_is_contained() {
    watchdog("F's drop panics after unregister", |_| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .drop
            .arm(|| panic!("injected panic in Probe::drop (unregister)"));
        let outcome = catch(|| reg.unregister("alpha").map(|a| a.answer));
        assert!(
            matches!(outcome, Ok(Ok(1))),
            "the drop's panic reached the caller of unregister"
        );
        assert_eq!(
            w.settle(),
            [
                change("alpha", ChangeKind::Unregistered, 0),
                change("alpha", ChangeKind::Drained, 0),
            ]
        );
        // A run-time name gone for good takes its counts with it at its drain: if still
        // listed, the panic is counted.
        if let Some((_, panics)) = stats_of(reg, "alpha") {
            assert_eq!(panics, 1);
        }
        w.still_works(2);
    });
}

#[test]
fn a_panic_in_the_drop_of_a_handler_after_its_last_call_is_contained_and_counted() {
    watchdog("F's drop panics when the last call ends", |_| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .drop
            .arm(|| panic!("injected panic in Probe::drop (last call)"));
        let outcome = catch(|| {
            reg.call("alpha", |alpha| {
                reg.replace("alpha", Probe::new(10)).unwrap();
                alpha.answer
            })
        });
        assert!(
            matches!(outcome, Ok(Ok(1))),
            "the call succeeded and the drop's panic did not reach its caller: {:?}",
            outcome.as_ref().map_err(|payload| message(&**payload))
        );
        assert!(w.alpha.drop.entered(), "dropped when the call ended");
        assert_eq!(
            w.settle(),
            [
                change("alpha", ChangeKind::Replaced, 1),
                change("alpha", ChangeKind::Drained, 0),
            ]
        );
        assert_eq!(
            stats_of(reg, "alpha"),
            Some((1, 1)),
            "one call, and the drop's panic counted as a panic of alpha"
        );
        w.still_works(2);
    });
}

#[test]
fn a_panic_in_the_drop_of_metadata_retired_by_unregister_is_contained() {
    watchdog("M's drop panics after unregister", |_| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .meta_drop
            .arm(|| panic!("injected panic in Tag::drop (unregister)"));
        let outcome = catch(|| reg.unregister("alpha").map(|a| a.answer));
        assert!(
            matches!(outcome, Ok(Ok(1))),
            "the drop's panic reached the caller of unregister"
        );
        assert!(w.alpha.meta_drop.entered(), "dropped by unregister");
        assert_eq!(
            w.settle(),
            [
                change("alpha", ChangeKind::Unregistered, 0),
                change("alpha", ChangeKind::Drained, 0),
            ]
        );
        w.still_works(2);
    });
}

#[test]
fn a_panic_in_the_drop_of_metadata_after_its_last_call_is_contained_and_counted() {
    watchdog("M's drop panics when the last call ends", |stage| {
        let mut w = world();
        let reg = w.reg;
        w.alpha
            .meta_drop
            .arm(|| panic!("injected panic in Tag::drop (last call)"));
        let call = calling(reg, "alpha");
        assert_eq!(reg.unregister("alpha").map(|a| a.answer), Ok(1));
        // Registered again (with metadata of its own), so that its counts stay listed.
        reg.register_with_meta("alpha", Probe::new(3), Tag::new(3))
            .unwrap();
        stage.at("the last call on the retired alpha ends");
        call.release();
        assert_eq!(call.join(), Ok(1), "the call succeeded");
        assert!(w.alpha.meta_drop.entered(), "dropped when the call ended");
        assert_eq!(
            w.settle(),
            [
                change("alpha", ChangeKind::Unregistered, 0),
                change("alpha", ChangeKind::Registered, 1),
                change("alpha", ChangeKind::Drained, 0),
            ]
        );
        assert_eq!(
            stats_of(reg, "alpha"),
            Some((1, 1)),
            "one call, and the drop's panic counted as a panic of alpha"
        );
        w.still_works(3);
    });
}

#[test]
fn a_panic_in_the_check_of_call_as_reaches_the_caller() {
    watchdog("the check of call_as panics", |_| {
        let mut w = world();
        let reg = w.reg;
        let ran = AtomicBool::new(false);
        assert_panicked(
            catch(|| {
                reg.call_guarded(
                    "alpha",
                    |_| panic!("injected panic in the check"),
                    |alpha| {
                        ran.store(true, Ordering::SeqCst);
                        alpha.answer
                    },
                )
            }),
            "injected panic in the check",
        );
        assert!(!ran.load(Ordering::SeqCst), "the handler did not run");
        assert_eq!(reg.call_guarded("alpha", |_| Ok(()), |a| a.answer), Ok(1));
        assert_eq!(w.settle(), []);
        w.still_works(0);
    });
}

#[test]
fn a_panic_in_a_subscribers_waker_reaches_the_caller_and_loses_no_change() {
    watchdog("a subscriber's waker panics", |stage| {
        let mut w = world();
        let reg = w.reg;
        // Woken first (subscribed first): its waker panics.
        let mut first = reg.subscribe();
        let bomb = Trap::armed(|| panic!("injected panic in a waker"));
        let bomb_waker = trap_waker(&bomb);
        // Subscribed after it: its waker must still be called.
        let mut second = reg.subscribe();
        let woken = Arc::new(Trap::default());
        let woken_waker = trap_waker(&woken);
        let (mut first_cx, mut second_cx) = (
            Context::from_waker(&bomb_waker),
            Context::from_waker(&woken_waker),
        );
        // Everything is observed first and asserted after the receivers are dropped: a receiver
        // whose bookkeeping the panic corrupted may panic again when polled or dropped, and
        // must not do so while a failed assertion unwinds (that would abort the test binary).
        let (registered, woken_all, got, dropped) = {
            let mut first_next = Box::pin(first.recv());
            let mut second_next = Box::pin(second.recv());
            assert!(first_next.as_mut().poll(&mut first_cx).is_pending());
            assert!(second_next.as_mut().poll(&mut second_cx).is_pending());
            stage.at("register, which wakes the subscribers");
            let registered = catch(|| reg.register("gamma", Probe::new(3)));
            let woken_all = woken.entered();
            stage.at("polling the woken subscribers");
            let got: Vec<_> = [
                catch(|| first_next.as_mut().poll(&mut first_cx)),
                catch(|| second_next.as_mut().poll(&mut second_cx)),
            ]
            .into_iter()
            .map(|polled| match polled {
                Ok(Poll::Ready(Some(change))) => Ok(Some((
                    change.name().to_owned(),
                    change.kind(),
                    change.version(),
                    change.seq(),
                ))),
                Ok(_) => Ok(None),
                Err(payload) => Err(message(&*payload)),
            })
            .collect();
            let dropped = catch(move || drop((first_next, second_next))).map_err(|p| message(&*p));
            (registered, woken_all, got, dropped)
        };
        assert_panicked(registered, "injected panic in a waker");
        assert!(
            reg.contains("gamma"),
            "the change took effect before delivery"
        );
        assert!(woken_all, "the next subscriber was woken all the same");
        let gamma = ("gamma".to_owned(), ChangeKind::Registered, 0, 3);
        assert_eq!(
            got,
            [Ok(Some(gamma.clone())), Ok(Some(gamma))],
            "each subscriber's pending recv gets the change"
        );
        assert_eq!(dropped, Ok(()), "dropping the subscribers' recv futures");
        for changes in [&mut first, &mut second] {
            assert!(changes.try_recv().is_none(), "the change came once");
        }
        assert_eq!(w.settle(), [change("gamma", ChangeKind::Registered, 0)]);
        w.still_works(1);
        // The other two subscribers follow the later changes too.
        for changes in [&mut first, &mut second] {
            let later = received(changes);
            assert_gap_free(&later, 4);
            assert_eq!(later.len(), 7, "{:?}", summary(&later));
        }
    });
}
