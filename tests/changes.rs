//! Change events: every change after a subscription, in the order the changes took effect,
//! numbered without gaps; a slow subscriber lags instead of blocking writers.

use std::collections::HashMap;
use std::sync::Barrier;
use std::time::Duration;

use handler_registry::{dynamic, handler, registry, Change, ChangeKind, Registry};

#[registry]
static EVENTS: Registry<fn() -> u32>;

#[handler("events.dyn", registry = EVENTS, aliases = ["events.alias"])]
#[dynamic]
fn declared() -> u32 {
    0
}

fn one() -> u32 {
    1
}

fn drain(changes: &mut handler_registry::Changes) -> Vec<Change> {
    std::iter::from_fn(|| changes.try_recv()).collect()
}

fn summary(changes: &[Change]) -> Vec<(String, ChangeKind, u64)> {
    changes
        .iter()
        .map(|change| (change.name().to_owned(), change.kind(), change.version()))
        .collect()
}

#[test]
fn every_kind_of_change_in_order() {
    let registry: Registry<fn() -> u32> = Registry::new();
    registry.register("early", one).unwrap();
    let mut changes = registry.subscribe();
    registry.register("a", one).unwrap();
    registry.replace("a", one).unwrap();
    registry.register_versioned("a", 7, one).unwrap();
    assert!(
        registry.register_versioned("a", 3, one).is_err(),
        "stale: no event"
    );
    registry.unregister("a").unwrap();
    let seen = drain(&mut changes);
    assert_eq!(
        summary(&seen),
        [
            ("a".into(), ChangeKind::Registered, 0),
            ("a".into(), ChangeKind::Replaced, 1),
            ("a".into(), ChangeKind::Drained, 0),
            ("a".into(), ChangeKind::Replaced, 7),
            ("a".into(), ChangeKind::Drained, 1),
            ("a".into(), ChangeKind::Unregistered, 7),
            ("a".into(), ChangeKind::Drained, 7),
        ]
    );
    // Numbered per registry, counting the change made before the subscription.
    let seqs: Vec<u64> = seen.iter().map(Change::seq).collect();
    assert_eq!(seqs, [2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn changes_through_an_alias_are_reported_under_the_primary_name() {
    let mut changes = EVENTS.subscribe();
    EVENTS.replace("events.alias", one).unwrap();
    assert_eq!(
        summary(&drain(&mut changes)),
        [
            ("events.dyn".into(), ChangeKind::Replaced, 1),
            ("events.dyn".into(), ChangeKind::Drained, 0),
        ]
    );
}

#[test]
fn four_writers_give_a_gap_free_sequence_in_per_name_order() {
    const WRITERS: usize = 4;
    const ROUNDS: u64 = 500;
    let registry: Registry<fn() -> u32> = Registry::new();
    // Room for everything: 4 writers × 500 rounds × 5 changes.
    let mut changes = registry.subscribe_with_capacity(20_000);
    let start = Barrier::new(WRITERS);
    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let (registry, start) = (&registry, &start);
            scope.spawn(move || {
                let name = format!("w{writer}");
                start.wait();
                for _ in 0..ROUNDS {
                    registry.register(&name, one).unwrap();
                    registry.replace(&name, one).unwrap();
                    registry.unregister(&name).unwrap();
                }
            });
        }
    });
    let seen = drain(&mut changes);
    assert_eq!(seen.len(), WRITERS * ROUNDS as usize * 5);
    for (index, change) in seen.iter().enumerate() {
        assert_eq!(
            change.seq(),
            index as u64 + 1,
            "gap or reorder at {change:?}"
        );
    }
    // Per name, round k reads: registered 2k, replaced 2k+1, drained 2k, unregistered 2k+1,
    // drained 2k+1 (a name added back continues from the version it was removed at).
    let mut per_name: HashMap<&str, Vec<(ChangeKind, u64)>> = HashMap::new();
    for change in &seen {
        per_name
            .entry(change.name())
            .or_default()
            .push((change.kind(), change.version()));
    }
    assert_eq!(per_name.len(), WRITERS);
    for (name, kinds) in per_name {
        let round = |k: u64| {
            [
                (ChangeKind::Registered, 2 * k),
                (ChangeKind::Replaced, 2 * k + 1),
                (ChangeKind::Drained, 2 * k),
                (ChangeKind::Unregistered, 2 * k + 1),
                (ChangeKind::Drained, 2 * k + 1),
            ]
        };
        let expected: Vec<_> = (0..ROUNDS).flat_map(round).collect();
        assert_eq!(kinds, expected, "{name}");
    }
}

#[test]
fn a_subscriber_that_falls_behind_learns_how_many_changes_it_missed() {
    let registry: Registry<fn() -> u32> = Registry::new();
    let mut changes = registry.subscribe_with_capacity(4);
    assert_eq!(changes.capacity(), 4);
    for index in 0..10 {
        registry.register(&format!("n{index}"), one).unwrap();
    }
    let lagged = changes.try_recv().unwrap();
    assert_eq!(lagged.kind(), ChangeKind::Lagged { missed: 6 });
    assert_eq!((lagged.name(), lagged.version(), lagged.seq()), ("", 0, 1));
    let kept = drain(&mut changes);
    let kept: Vec<(u64, &str)> = kept.iter().map(|c| (c.seq(), c.name())).collect();
    assert_eq!(kept, [(7, "n6"), (8, "n7"), (9, "n8"), (10, "n9")]);
    // Caught up: nothing more, and the next change arrives normally.
    assert!(changes.try_recv().is_none());
    registry.unregister("n0").unwrap();
    assert_eq!(
        changes.try_recv().map(|c| (c.seq(), c.kind())),
        Some((11, ChangeKind::Unregistered))
    );
}

#[test]
fn a_dropped_subscriber_does_not_stop_the_others() {
    let registry: Registry<fn() -> u32> = Registry::new();
    let gone = registry.subscribe();
    let mut kept = registry.subscribe();
    drop(gone);
    registry.register("x", one).unwrap();
    assert_eq!(
        kept.try_recv().map(|c| (c.name().to_owned(), c.kind())),
        Some(("x".into(), ChangeKind::Registered))
    );
}

#[test]
fn recv_timeout_waits_for_a_change_or_gives_up() {
    let registry: Registry<fn() -> u32> = Registry::new();
    let mut changes = registry.subscribe();
    assert!(changes.recv_timeout(Duration::from_millis(20)).is_none());
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            registry.register("late", one).unwrap();
        });
        let change = changes.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(
            (change.name(), change.kind()),
            ("late", ChangeKind::Registered)
        );
    });
}

#[test]
fn async_recv_wakes_on_a_change_and_ends_with_the_registry() {
    let registry: Registry<fn() -> u32> = Registry::new();
    let mut changes = registry.subscribe();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            registry.register("async", one).unwrap();
        });
        let change = runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), changes.recv()).await })
            .unwrap()
            .unwrap();
        assert_eq!(
            (change.name(), change.kind()),
            ("async", ChangeKind::Registered)
        );
    });
    drop(registry);
    assert!(
        runtime.block_on(changes.recv()).is_none(),
        "closed with the registry"
    );
}
