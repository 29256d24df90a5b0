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

#[test]
fn subscribers_of_different_capacities_each_lag_by_their_own() {
    let registry: Registry<fn() -> u32> = Registry::new();
    let mut small = registry.subscribe_with_capacity(2);
    let mut large = registry.subscribe_with_capacity(64);
    for index in 0..10 {
        registry.register(&format!("n{index}"), one).unwrap();
    }
    let seqs = |changes: &[Change]| -> Vec<(u64, ChangeKind)> {
        changes.iter().map(|c| (c.seq(), c.kind())).collect()
    };
    assert_eq!(
        seqs(&drain(&mut small)),
        [
            (1, ChangeKind::Lagged { missed: 8 }),
            (9, ChangeKind::Registered),
            (10, ChangeKind::Registered)
        ]
    );
    let all = drain(&mut large);
    assert_eq!(
        all.iter().map(Change::seq).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );

    // The large subscriber gone, the small one still lags by its own capacity, and a new one
    // starts after the changes made before it.
    drop(large);
    for index in 10..13 {
        registry.register(&format!("n{index}"), one).unwrap();
    }
    let mut late = registry.subscribe_with_capacity(1);
    registry.register("late", one).unwrap();
    assert_eq!(
        seqs(&drain(&mut small)),
        [
            (11, ChangeKind::Lagged { missed: 2 }),
            (13, ChangeKind::Registered),
            (14, ChangeKind::Registered)
        ]
    );
    assert_eq!(seqs(&drain(&mut late)), [(14, ChangeKind::Registered)]);
}

#[test]
fn every_blocked_receiver_wakes_for_a_change() {
    let registry: Registry<fn() -> u32> = Registry::new();
    let mut subscribers: Vec<_> = (0..4).map(|_| registry.subscribe()).collect();
    let ready = Barrier::new(5);
    std::thread::scope(|scope| {
        let receivers: Vec<_> = subscribers
            .iter_mut()
            .map(|changes| {
                let ready = &ready;
                scope.spawn(move || {
                    ready.wait();
                    changes
                        .recv_timeout(Duration::from_secs(10))
                        .map(|c| (c.seq(), c.name().to_owned()))
                })
            })
            .collect();
        ready.wait();
        std::thread::sleep(Duration::from_millis(20));
        registry.register("wake", one).unwrap();
        for receiver in receivers {
            assert_eq!(receiver.join().unwrap(), Some((1, "wake".to_owned())));
        }
    });
}

/// Counts its wake-ups.
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_repolled_recv_is_woken_through_its_latest_waker_only() {
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    let registry: Registry<fn() -> u32> = Registry::new();
    let mut changes = registry.subscribe();
    let mut other = registry.subscribe();
    let first = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let second = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let bystander = Arc::new(CountingWaker(AtomicUsize::new(0)));
    {
        let mut other_recv = std::pin::pin!(other.recv());
        let waker = Waker::from(Arc::clone(&bystander));
        assert!(other_recv
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    drop(other);
    let mut recv = std::pin::pin!(changes.recv());
    for waker in [&first, &second] {
        let waker = Waker::from(Arc::clone(waker));
        assert!(recv
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    registry.register("x", one).unwrap();
    assert_eq!(first.0.load(Ordering::SeqCst), 0, "the replaced waker");
    assert_eq!(second.0.load(Ordering::SeqCst), 1, "the latest waker");
    assert_eq!(
        bystander.0.load(Ordering::SeqCst),
        0,
        "a dropped subscriber's waker is taken out"
    );
    let waker = Waker::from(second);
    match recv.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(Some(change)) => assert_eq!((change.seq(), change.name()), (1, "x")),
        other => panic!("expected the change, got {other:?}"),
    }
}

#[test]
fn a_thousand_async_subscribers_each_receive_every_change_in_order() {
    const SUBSCRIBERS: usize = 1_000;
    const CHANGES: u64 = 50;
    let registry: &'static Registry<fn() -> u32> = Box::leak(Box::new(Registry::new()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| {
            let mut changes = registry.subscribe();
            runtime.spawn(async move {
                let mut seqs = Vec::new();
                while seqs.len() < CHANGES as usize {
                    let change = changes.recv().await.expect("the registry lives");
                    seqs.push(change.seq());
                }
                seqs
            })
        })
        .collect();
    for index in 0..CHANGES {
        registry.register(&format!("n{index}"), one).unwrap();
        if index % 10 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    runtime.block_on(async {
        for task in tasks {
            let seqs = tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("every subscriber is woken")
                .unwrap();
            assert_eq!(seqs, (1..=CHANGES).collect::<Vec<_>>());
        }
    });
}
