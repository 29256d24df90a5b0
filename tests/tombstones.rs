//! Memory kept for removed names is bounded: a million distinct run-time names registered and
//! removed keep a fixed amount (the overlay's tombstones are capped), and a version still never
//! goes backwards for any name, remembered or forgotten.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use handler_registry::{Error, Registry};

/// Bytes allocated and not freed, by everything in this test binary.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CHURN: usize = 1_000_000;
const BOUND: isize = 16 << 20;

#[test]
fn a_million_removed_names_keep_bounded_memory_and_versions_never_go_back() {
    let registry: Registry<fn() -> u32> = Registry::new();
    // The first removed name, at version 7: remembered at first, forgotten later.
    registry.register_versioned("first", 7, || 7).unwrap();
    registry.unregister("first").unwrap();
    assert!(matches!(
        registry.register_versioned("first", 7, || 7),
        Err(Error::Stale { current: 7, .. })
    ));

    let before = LIVE.load(Ordering::Relaxed);
    let mut peak = 0;
    let mut name = String::new();
    for index in 0..CHURN {
        name.clear();
        use std::fmt::Write;
        write!(name, "churn.{index}").unwrap();
        registry.register(&name, || 1).unwrap();
        registry.unregister(&name).unwrap();
        if index % 4096 == 0 {
            peak = peak.max(LIVE.load(Ordering::Relaxed) - before);
        }
    }
    let kept = LIVE.load(Ordering::Relaxed) - before;
    peak = peak.max(kept);
    assert!(
        peak < BOUND,
        "churning {CHURN} names kept up to {peak} bytes (bound {BOUND})"
    );
    assert!(registry.is_empty());

    // "first" was forgotten among a million names: it may not go back to 7 or below, nor may
    // any churned name go back to its version 0. What they are refused below is the floor.
    let floor = match registry.register_versioned("first", 7, || 7) {
        Err(Error::Stale { current, .. }) => current,
        other => panic!("a forgotten name went back to version 7: {other:?}"),
    };
    assert!(floor >= 7);
    assert!(matches!(
        registry.register_versioned("churn.0", 0, || 0),
        Err(Error::Stale { current, .. }) if current == floor
    ));
    // A fresh name starts past the floor too, and every name can still move forward.
    registry.register("never.seen", || 3).unwrap();
    let version = |name: &str| {
        registry
            .entries()
            .into_iter()
            .find(|entry| entry.name() == name)
            .map(|entry| entry.kind())
    };
    assert_eq!(
        version("never.seen"),
        Some(handler_registry::Kind::Dynamic { version: floor + 1 })
    );
    registry
        .register_versioned("first", floor + 1, || 8)
        .unwrap();
    assert_eq!(registry.get("first").map(|f| f()), Some(8));
}
