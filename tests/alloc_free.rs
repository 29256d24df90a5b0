//! Looking a name up allocates nothing: hits and misses on a static table, the default
//! registry's typed lookup and run-time (overlay) names, counted by a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use handler_registry::{handler, lookup, registry, AnyHandler, Registry};

/// Counts this thread's allocations, so tests running in parallel do not disturb each other.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` through `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations `run` made on this thread.
fn allocations(run: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    run();
    ALLOCATIONS.with(Cell::get) - before
}

/// `count` names like `svc3.refresh_17`, and as many unregistered names of the same shape.
fn names(count: usize) -> (Vec<&'static str>, Vec<String>) {
    let hits = (0..count)
        .map(|i| &*format!("svc{}.refresh_{i}", i % 7).leak())
        .collect();
    let mut misses: Vec<String> = (0..count)
        .map(|i| format!("svc{}.refresh_{i}", i % 7 + 1))
        .collect();
    misses.push(String::new());
    misses.push("x".repeat(1 << 20));
    (hits, misses)
}

#[test]
fn static_get_allocates_nothing() {
    let (hits, misses) = names(1000);
    let registry = Registry::with_static(hits.iter().copied().zip(0usize..)).unwrap();
    let mut found = 0;
    let count = allocations(|| {
        for _ in 0..10 {
            for (index, name) in hits.iter().enumerate() {
                assert_eq!(registry.get(name), Some(index));
                found += 1;
            }
            for name in &misses {
                assert_eq!(registry.get(name), None);
            }
        }
    });
    assert_eq!(found, 10_000);
    assert_eq!(count, 0);
}

#[test]
fn typed_default_registry_get_allocates_nothing() {
    let (hits, misses) = names(1000);
    let handlers = hits
        .iter()
        .enumerate()
        .map(|(index, &name)| (name, AnyHandler::new(index)));
    let registry = Registry::<AnyHandler>::with_static(handlers).unwrap();
    let count = allocations(|| {
        for _ in 0..10 {
            for (index, name) in hits.iter().enumerate() {
                assert_eq!(registry.lookup_as::<usize>(name).ok(), Some(index));
            }
            for name in &misses {
                assert_eq!(
                    registry
                        .get(name)
                        .and_then(|handler| handler.downcast::<usize>()),
                    None
                );
            }
        }
    });
    assert_eq!(count, 0);
}

/// Doubles its argument.
#[handler("alloc_free.double")]
fn double(x: u64) -> u64 {
    x * 2
}

/// A declared registry, frozen on first use like in a program.
#[registry]
static OPS: Registry<fn(u64) -> u64>;

#[handler("alloc_free.inc", registry = OPS)]
fn inc(x: u64) -> u64 {
    x + 1
}

#[test]
fn declared_handlers_lookup_allocates_nothing() {
    // The first lookups freeze the tables (that allocates once, at startup).
    assert_eq!(lookup::<fn(u64) -> u64>("alloc_free.double").unwrap()(4), 8);
    assert_eq!(OPS.get("alloc_free.inc").unwrap()(4), 5);
    let count = allocations(|| {
        for _ in 0..1000 {
            let double = lookup::<fn(u64) -> u64>("alloc_free.double").unwrap();
            assert_eq!(double(21), 42);
            assert_eq!(OPS.get("alloc_free.inc").map(|inc| inc(1)), Some(2));
            assert!(OPS.get("alloc_free.dec").is_none());
        }
    });
    assert_eq!(count, 0);
}

#[test]
fn overlay_get_allocates_nothing() {
    let (hits, misses) = names(1000);
    let registry = Registry::new();
    for (index, name) in hits.iter().enumerate() {
        registry.register(name, index).unwrap();
    }
    // A thread's first read of the overlay registers it with the sharded lock (crossbeam-utils
    // numbers each thread once, in a table that may grow): once per thread, not per lookup.
    assert_eq!(registry.get(hits[0]), Some(0));
    let count = allocations(|| {
        for _ in 0..10 {
            for (index, name) in hits.iter().enumerate() {
                assert_eq!(registry.get(name), Some(index));
            }
            for name in &misses {
                assert_eq!(registry.get(name), None);
            }
        }
    });
    assert_eq!(count, 0);
}
