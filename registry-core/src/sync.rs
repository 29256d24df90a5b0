//! The synchronisation primitives of the overlay, the drain, the change events and the lazy
//! freeze, in one place so that `--cfg handler_registry_loom` can swap them: loom model-checks only its own
//! primitives and does not see `parking_lot`'s locks or `once_cell`'s cell. The loom versions keep
//! the API the registry uses.

#[cfg(not(handler_registry_loom))]
pub(crate) use once_cell::sync::OnceCell;
#[cfg(not(handler_registry_loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};
#[cfg(not(handler_registry_loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(handler_registry_loom)]
pub(crate) use self::model::{
    AtomicUsize, Condvar, Mutex, MutexGuard, OnceCell, Ordering, ShardedRwLock,
};

/// The overlay's lock: crossbeam-utils' `ShardedLock`, a reader-writer lock with one reader
/// count per shard (8, each on its own cache line), where a thread always reads through the
/// same shard. Readers on different threads therefore write different cache lines and scale
/// with cores; a writer locks every shard. `ShardedLock::new` allocates, so the lock is made
/// on first use to keep `Registry::new` a `const fn`.
#[cfg(not(handler_registry_loom))]
pub(crate) struct ShardedRwLock<T> {
    lock: OnceCell<crossbeam_utils::sync::ShardedLock<T>>,
    init: fn() -> T,
}

#[cfg(not(handler_registry_loom))]
impl<T> ShardedRwLock<T> {
    pub(crate) const fn new(init: fn() -> T) -> Self {
        ShardedRwLock {
            lock: OnceCell::new(),
            init,
        }
    }

    #[inline]
    fn lock(&self) -> &crossbeam_utils::sync::ShardedLock<T> {
        self.lock
            .get_or_init(|| crossbeam_utils::sync::ShardedLock::new((self.init)()))
    }

    /// No code of the user runs under either guard, so a poisoned lock only means a panic in
    /// the registry's own bookkeeping (an allocation failure): the data is still consistent.
    #[inline]
    pub(crate) fn read(&self) -> crossbeam_utils::sync::ShardedLockReadGuard<'_, T> {
        self.lock()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> crossbeam_utils::sync::ShardedLockWriteGuard<'_, T> {
        self.lock()
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `parking_lot`'s condition variable behind a by-value API that loom's can offer too.
#[cfg(not(handler_registry_loom))]
pub(crate) struct Condvar(parking_lot::Condvar);

#[cfg(not(handler_registry_loom))]
impl Condvar {
    pub(crate) const fn new() -> Self {
        Condvar(parking_lot::Condvar::new())
    }

    /// Waits for a notification or the deadline; returns the guard and whether it timed out.
    pub(crate) fn wait_until<'a, T>(
        &self,
        mut guard: parking_lot::MutexGuard<'a, T>,
        deadline: std::time::Instant,
    ) -> (parking_lot::MutexGuard<'a, T>, bool) {
        let timed_out = self.0.wait_until(&mut guard, deadline).timed_out();
        (guard, timed_out)
    }

    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}

/// Declares `const fn`s that become plain `fn`s under loom, whose primitives cannot be built in
/// a constant (a `#[registry]` static is not available under loom; models build registries at
/// run time).
macro_rules! const_fn_unless_loom {
    ($($(#[$attr:meta])* $vis:vis const fn $name:ident $args:tt -> $ret:ty $body:block)*) => {
        $(
            #[cfg(not(handler_registry_loom))]
            $(#[$attr])*
            $vis const fn $name $args -> $ret $body

            #[cfg(handler_registry_loom)]
            $(#[$attr])*
            $vis fn $name $args -> $ret $body
        )*
    };
}
pub(crate) use const_fn_unless_loom;

#[cfg(handler_registry_loom)]
mod model {
    use std::sync::PoisonError;

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::AtomicBool;
    pub(crate) use loom::sync::MutexGuard;
    use loom::sync::{RwLockReadGuard, RwLockWriteGuard};

    pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};

    /// The overlay lock's API over loom's reader-writer lock (one lock stands for the shards:
    /// what a model checks is that readers and writers exclude each other).
    pub(crate) struct ShardedRwLock<T>(loom::sync::RwLock<T>);

    impl<T> ShardedRwLock<T> {
        pub(crate) fn new(init: fn() -> T) -> Self {
            ShardedRwLock(loom::sync::RwLock::new(init()))
        }

        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read().unwrap_or_else(PoisonError::into_inner)
        }

        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// parking_lot's mutex API over loom's: a guard without poisoning.
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// loom's condition variable. Its timed wait never times out: a model waits until it is
    /// notified, so a lost wake-up shows up as a deadlock loom reports.
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait_until<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _deadline: std::time::Instant,
        ) -> (MutexGuard<'a, T>, bool) {
            let guard = self.0.wait(guard).unwrap_or_else(PoisonError::into_inner);
            (guard, false)
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    /// once_cell's `sync::OnceCell` API over loom's primitives, built the way once_cell builds
    /// it: a flag read with `Acquire` on the fast path, a lock serialising initialisers, and a
    /// value written once before the flag is set with `Release`.
    pub(crate) struct OnceCell<T> {
        ready: AtomicBool,
        init: loom::sync::Mutex<()>,
        value: UnsafeCell<Option<T>>,
    }

    // SAFETY: the value is written once, under `init`, before `ready` is released; it is only
    // read after `ready` is acquired, and never written again. Sharing it hands out `&T` across
    // threads (needs `Sync`) and lets another thread's initialiser produce it (needs `Send`).
    unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}

    impl<T> OnceCell<T> {
        pub(crate) fn new() -> Self {
            OnceCell {
                ready: AtomicBool::new(false),
                init: loom::sync::Mutex::new(()),
                value: UnsafeCell::new(None),
            }
        }

        pub(crate) fn get(&self) -> Option<&T> {
            if !self.ready.load(Ordering::Acquire) {
                return None;
            }
            // SAFETY: `ready` is set only after the value is written, and it is never written
            // again, so no `&mut` to it can exist any more.
            self.value.with(|value| unsafe { (*value).as_ref() })
        }

        pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
            if let Some(value) = self.get() {
                return value;
            }
            let _guard = self.init.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(value) = self.get() {
                return value;
            }
            let value = init();
            // SAFETY: under `init` with `ready` still unset, no other thread reads or writes
            // the value.
            self.value.with_mut(|slot| unsafe { *slot = Some(value) });
            self.ready.store(true, Ordering::Release);
            self.get().expect("the value was just written")
        }

        pub(crate) fn set(&self, value: T) -> Result<(), T> {
            let mut value = Some(value);
            self.get_or_init(|| value.take().expect("taken once"));
            match value {
                None => Ok(()),
                Some(value) => Err(value),
            }
        }
    }
}

/// The number of this thread among those that took a hold (src/drain.rs): it picks the
/// thread's stripe of every hold count. Numbers are given on first use, lowest free first, and
/// given back when the thread exits (as crossbeam-utils numbers threads for its sharded lock),
/// so the threads alive at once hold the smallest numbers and do not share a stripe while
/// there are no more of them than stripes, however many threads came and went before.
#[cfg(not(handler_registry_loom))]
#[inline]
pub(crate) fn thread_number() -> usize {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// The next number never given, and the numbers given back, smallest first.
    static FREE: Mutex<(usize, BinaryHeap<Reverse<usize>>)> =
        parking_lot::const_mutex((0, BinaryHeap::new()));

    struct Number(usize);

    impl Drop for Number {
        fn drop(&mut self) {
            FREE.lock().1.push(Reverse(self.0));
        }
    }

    thread_local! {
        static NUMBER: Number = {
            let mut free = FREE.lock();
            let number = if let Some(Reverse(number)) = free.1.pop() { number } else {
                free.0 += 1;
                free.0 - 1
            };
            Number(number)
        };
    }
    // `try_with`: a hold taken from another thread-local's destructor shares stripe 0.
    NUMBER.try_with(|number| number.0).unwrap_or(0)
}

/// Under loom every model thread runs on one OS thread: loom's own thread-local and a counter
/// made afresh for each execution (so the stripes taken are the same in every execution).
#[cfg(handler_registry_loom)]
pub(crate) fn thread_number() -> usize {
    use std::cell::Cell;
    loom::lazy_static! {
        static ref NEXT: AtomicUsize = AtomicUsize::new(0);
    }
    loom::thread_local! {
        static NUMBER: Cell<usize> = Cell::new(usize::MAX);
    }
    NUMBER.with(|number| {
        if number.get() == usize::MAX {
            number.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        number.get()
    })
}
