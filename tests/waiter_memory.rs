//! A task that waits on a registry and gives up leaves nothing behind in it, however many come
//! and go before anything wakes them (src/wakers.rs): a subscriber in `recv`, a
//! `drained_async`. Counted by a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::sync::{mpsc, Arc};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use handler_registry::{ChangeKind, Registry};

/// Counts the bytes this thread holds, so tests running in parallel do not disturb each other.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn add(bytes: usize, sign: isize) {
    let bytes = isize::try_from(bytes).expect("an allocation fits isize");
    let _ = HELD.try_with(|held| held.set(held.get() + sign * bytes));
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size(), 1);
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(layout.size(), -1);
        // SAFETY: `ptr` came from `System.alloc` through `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Ignore;

impl Wake for Ignore {
    fn wake(self: Arc<Self>) {}
}

/// The bytes this thread holds more after 20,000 runs of `wait` than after a first 1,000.
fn held_after_many(wait: impl Fn()) -> isize {
    for _ in 0..1_000 {
        wait();
    }
    let before = HELD.with(Cell::get);
    for _ in 0..20_000 {
        wait();
    }
    HELD.with(Cell::get) - before
}

/// Subscribes, waits once in `recv` (nothing comes), gives up and drops the subscriber.
fn wait_and_leave(registry: &Registry<fn() -> u32>, waker: &Waker) {
    let mut changes = registry.subscribe();
    let mut recv = std::pin::pin!(changes.recv());
    assert!(recv
        .as_mut()
        .poll(&mut Context::from_waker(waker))
        .is_pending());
}

#[test]
fn subscribers_that_wait_and_leave_while_nothing_changes_hold_no_memory() {
    let registry: Registry<fn() -> u32> = Registry::new();
    let mut staying = registry.subscribe();
    let waker = Waker::from(Arc::new(Ignore));
    let grown = held_after_many(|| wait_and_leave(&registry, &waker));
    assert!(
        grown < 1024,
        "20,000 subscribers that came and went left {grown} bytes behind"
    );

    // The subscriber that stayed still receives, and the registry still works.
    registry.register("after", || 1).unwrap();
    let change = staying.try_recv().unwrap();
    assert_eq!(
        (change.seq(), change.name(), change.kind()),
        (1, "after", ChangeKind::Registered)
    );
}

/// Waits once in `drained_async` (the name cannot drain yet), then gives up.
fn wait_for_drain_and_leave(registry: &Registry<fn() -> u32>, waker: &Waker) {
    let never = |_| std::future::pending::<()>();
    let mut drained =
        std::pin::pin!(registry.drained_async("held", Duration::from_secs(3600), never));
    assert!(drained
        .as_mut()
        .poll(&mut Context::from_waker(waker))
        .is_pending());
}

#[test]
fn drain_waiters_that_give_up_while_a_call_runs_hold_no_memory() {
    let registry: &'static Registry<fn() -> u32> = Box::leak(Box::new(Registry::new()));
    registry.register("held", || 1).unwrap();
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let call = std::thread::spawn(move || {
        registry.call("held", |held| {
            entered_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            held()
        })
    });
    entered.recv_timeout(Duration::from_secs(10)).unwrap();
    // The old handler is retired but held by the call: nothing drains meanwhile.
    registry.replace("held", || 2).unwrap();

    let waker = Waker::from(Arc::new(Ignore));
    let grown = held_after_many(|| wait_for_drain_and_leave(registry, &waker));
    assert!(
        grown < 1024,
        "20,000 drain waiters that came and went left {grown} bytes behind"
    );

    release.send(()).unwrap();
    assert_eq!(call.join().unwrap(), Ok(1));
    assert_eq!(registry.drained("held", Duration::from_secs(10)), Ok(()));
    assert_eq!(registry.call("held", |held| held()), Ok(2));
}
