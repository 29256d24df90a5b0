//! Change events under reentrancy (issue 17): when user code run by the registry (a drop, a
//! clone, `M::default`, a subscriber's waker) makes changes of its own, a subscriber still sees
//! every `Registered`, `Replaced`, `Unregistered` and `Drained` exactly once, numbered without
//! gaps, in each name's order; and a change made by the drop of a retired handler comes before
//! that handler's `Drained`.

#[path = "support/hooks.rs"]
mod hooks;

use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

use handler_registry::{Change, ChangeKind, Changes};
use hooks::{
    arm_default, assert_gap_free, install, leaked, of, received, summary, trap_waker, watchdog,
    Probe, Reg, Trap,
};

use ChangeKind::{Drained, Registered, Replaced, Unregistered};

/// Drains `names`, then checks what `changes` received: numbered from `first` without a gap,
/// `expected` per name (exactly, in order), and nothing of any other name.
fn assert_changes(
    reg: &Reg,
    changes: &mut Changes,
    first: u64,
    expected: &[(&str, &[(ChangeKind, u64)])],
) -> Vec<Change> {
    for (name, _) in expected {
        assert_eq!(reg.drained(name, Duration::from_secs(1)), Ok(()), "{name}");
    }
    let seen = received(changes);
    assert_gap_free(&seen, first);
    for (name, kinds) in expected {
        assert_eq!(of(&seen, name), *kinds, "{name} in {:?}", summary(&seen));
    }
    let total: usize = expected.iter().map(|(_, kinds)| kinds.len()).sum();
    assert_eq!(
        seen.len(),
        total,
        "only these changes: {:?}",
        summary(&seen)
    );
    seen
}

/// The position of a change in `seen`.
fn position(seen: &[Change], name: &str, kind: ChangeKind, version: u64) -> usize {
    seen.iter()
        .position(|c| (c.name(), c.kind(), c.version()) == (name, kind, version))
        .unwrap_or_else(|| panic!("no {name} {kind:?} {version} in {:?}", summary(seen)))
}

#[test]
fn changes_made_by_drops_of_retired_handlers_and_metadata_are_seen_once_in_order() {
    watchdog("changes made in drops", |stage| {
        let reg = leaked();
        let a = install(reg, "a", 1, 1);
        install(reg, "b", 2, 2);
        let m = install(reg, "m", 3, 3);
        let mut changes = reg.subscribe();

        stage.at("replace(a): its old handler's drop registers d1 and replaces b");
        a.drop.arm(move || {
            reg.register("d1", Probe::new(11)).unwrap();
            reg.replace("b", Probe::new(20)).unwrap();
        });
        reg.replace("a", Probe::new(10)).unwrap();
        assert!(a.drop.finished());

        stage.at("a call on a removes a; when it ends, the drop removes d1");
        let current = Probe::new(100);
        let current_drop = current.drop_trap();
        reg.replace("a", current).unwrap();
        current_drop.arm(move || {
            reg.unregister("d1").unwrap();
        });
        let answer = reg.call("a", |a| {
            reg.unregister("a").unwrap();
            a.answer
        });
        assert_eq!(answer, Ok(100));
        assert!(current_drop.finished());

        stage.at("unregister(m): its metadata's drop registers d2");
        m.meta_drop.arm(move || {
            reg.register("d2", Probe::new(12)).unwrap();
        });
        reg.unregister("m").unwrap();
        assert!(m.meta_drop.finished());

        let seen = assert_changes(
            reg,
            &mut changes,
            4,
            &[
                (
                    "a",
                    &[
                        (Replaced, 1),
                        (Drained, 0),
                        (Replaced, 2),
                        (Drained, 1),
                        (Unregistered, 2),
                        (Drained, 2),
                    ],
                ),
                ("b", &[(Replaced, 1), (Drained, 0)]),
                ("d1", &[(Registered, 0), (Unregistered, 0), (Drained, 0)]),
                ("m", &[(Unregistered, 0), (Drained, 0)]),
                ("d2", &[(Registered, 0)]),
            ],
        );
        // A drop runs before its `Drained` is published, so what it changed comes first.
        assert!(position(&seen, "d1", Registered, 0) < position(&seen, "a", Drained, 0));
        assert!(position(&seen, "b", Replaced, 1) < position(&seen, "a", Drained, 0));
        assert!(position(&seen, "d1", Unregistered, 0) < position(&seen, "a", Drained, 2));
        assert!(
            position(&seen, "d2", Registered, 0) < position(&seen, "m", Drained, 0),
            "the metadata's drop ran after its Drained was published: {:?}",
            summary(&seen)
        );
    });
}

#[test]
fn changes_made_by_clones_and_defaults_are_seen_once_in_order() {
    watchdog("changes made in clones and M::default", |stage| {
        let reg = leaked();
        let a = install(reg, "a", 1, 1);
        install(reg, "b", 2, 2);
        let mut changes = reg.subscribe();

        stage.at("replace(a): the clone of its old handler registers e1");
        a.clone.arm(move || {
            reg.register("e1", Probe::new(11)).unwrap();
        });
        assert_eq!(reg.replace("a", Probe::new(10)).map(|a| a.answer), Ok(1));
        assert!(a.clone.finished());

        stage.at("register(c): M::default registers e2");
        arm_default(move || {
            reg.register("e2", Probe::new(12)).unwrap();
        });
        reg.register("c", Probe::new(3)).unwrap();

        stage.at("get_with_meta(a): the metadata's clone replaces b");
        a.meta_clone.arm(move || {
            reg.replace("b", Probe::new(20)).unwrap();
        });
        let got = reg.get_with_meta("a").map(|(a, tag)| (a.answer, tag.id));
        assert_eq!(got, Some((10, 1)));

        stage.at("unregister(a): the clone of the removed handler removes e1");
        let current = Probe::new(100);
        let current_clone = current.clone_trap();
        reg.replace("a", current).unwrap();
        current_clone.arm(move || {
            reg.unregister("e1").unwrap();
        });
        assert_eq!(reg.unregister("a").map(|a| a.answer), Ok(100));
        assert!(current_clone.finished());

        assert_changes(
            reg,
            &mut changes,
            3,
            &[
                (
                    "a",
                    &[
                        (Replaced, 1),
                        (Drained, 0),
                        (Replaced, 2),
                        (Drained, 1),
                        (Unregistered, 2),
                        (Drained, 2),
                    ],
                ),
                ("e1", &[(Registered, 0), (Unregistered, 0), (Drained, 0)]),
                ("c", &[(Registered, 0)]),
                ("e2", &[(Registered, 0)]),
                ("b", &[(Replaced, 1), (Drained, 0)]),
            ],
        );
    });
}

#[test]
fn changes_made_by_a_subscribers_waker_are_seen_once_in_order_by_every_subscriber() {
    watchdog("changes made in a waker", |stage| {
        let reg = leaked();
        install(reg, "a", 1, 1);
        install(reg, "b", 2, 2);
        let mut woken = reg.subscribe();
        let mut plain = reg.subscribe();
        let trap = Trap::armed(move || {
            reg.register("w1", Probe::new(11)).unwrap();
            reg.replace("b", Probe::new(20)).unwrap();
        });
        let waker = trap_waker(&trap);
        let mut cx = Context::from_waker(&waker);
        let first = {
            let mut next = Box::pin(woken.recv());
            assert!(next.as_mut().poll(&mut cx).is_pending());
            stage.at("register(c) wakes a subscriber whose waker makes changes");
            reg.register("c", Probe::new(3)).unwrap();
            assert!(trap.finished(), "woken");
            match next.as_mut().poll(&mut cx) {
                Poll::Ready(Some(change)) => change,
                other => panic!("after the wake-up: {other:?}"),
            }
        };
        assert_eq!(
            (first.name(), first.kind(), first.seq()),
            ("c", Registered, 3)
        );
        let expected: &[(&str, &[(ChangeKind, u64)])] = &[
            ("c", &[(Registered, 0)]),
            ("w1", &[(Registered, 0)]),
            ("b", &[(Replaced, 1), (Drained, 0)]),
        ];
        let all = assert_changes(reg, &mut plain, 3, expected);
        let rest = received(&mut woken);
        assert_eq!(
            summary(&rest),
            summary(&all[1..]),
            "the woken subscriber sees the same changes"
        );
        assert_gap_free(&rest, 4);
    });
}
