//! Drain: who holds an overlay handler, when a retired one may be dropped, and waiting until
//! it has been.
//!
//! The rules, stated once:
//! - **Holds.** Whatever uses an overlay handler outside the overlay's lock (a call through
//!   `call`/`call_async`, a `get` cloning it, `entries` cloning its metadata, a writer cloning
//!   the handler it replaced) first takes a [`Held`]: under the overlay's read (or write) lock,
//!   it adds one to its own thread's stripe of the handler's hold count ([`Holds`]), then lets
//!   the lock go. Each stripe sits alone in 256 bytes, so holds taken on different threads
//!   write different lines: reads of dynamic names scale with cores. A hold is given
//!   back to the stripe it was taken from, on whichever thread it ends.
//! - **Retiring.** `replace`, `register_versioned` (over an installed handler) and
//!   `unregister` take the handler's `Arc<Live<F, M>>` out of the overlay under its write lock,
//!   so no hold can be taken on it any more, then retire it ([`Drain::retire`]): under the
//!   drain's lock they record it and set the `RETIRED` bit in every stripe with an atomic
//!   read-modify-write, adding up the holds the stripes had. The record keeps the `Arc`.
//! - **Dropped exactly once, never while held.** A hold is given back with `fetch_sub`, whose
//!   result says whether the stripe was retired meanwhile. If it was not, the retirer's
//!   `fetch_or` on that stripe comes later and sees the hold gone, and the holder touches the
//!   handler no more. If it was, the holder settles under the drain's lock: it adds up the
//!   stripes again and, at zero, claims the record. The retirer claims at once when its sum
//!   was zero. Every sum after the retirement only sees counts go down (no hold can be taken
//!   any more), so a sum of zero is final, and the last holder to settle sees every other
//!   holder's decrement (theirs came before the retirement's `fetch_or`, or before they took
//!   the drain's lock). Claiming takes the `Arc` out of the record under the lock: one claimer.
//! - **Dropping runs no registry lock.** The claimer drops the handler and the metadata with no
//!   lock held (their `Drop` is the user's code and may use the registry), catching a panic
//!   (counted and logged), then publishes the `Drained` change, and only then removes the
//!   record ([`Drain::finished`]) and wakes the waiters.
//! - **`drained` means dropped.** A waiter notes how many handlers had been retired when it was
//!   called and waits, under the drain's lock, until no record of its name among those is
//!   left: by then each was dropped and its `Drained` published. Records are removed under
//!   the same lock; after every removal the condition variable is notified and the async
//!   waiters' wakers (registered under that lock when they looked) are woken with no lock held.
//! - **Waiting for yourself is an error.** A call on an overlay handler marks its thread (a
//!   stack of frames, one per nested call or poll); `drained` of a name from inside a call on a
//!   retired handler of that name would wait for itself, and fails with
//!   [`Error::DrainDeadlock`] at once.
//! - **Static names are never retired**, so a call borrows their handler from the frozen table
//!   and writes no shared memory; their running calls are counted per thread with the other
//!   call metrics (src/metrics.rs).
//!
//! `registry-core/tests/loom.rs` checks the protocol: holds racing a replacement racing
//! `drained`, with no drop while a hold is taken, exactly one drop, and no early return.

use std::future::{poll_fn, Future};
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::changes::ChangeKind;
use crate::error::Error;
use crate::overlay::Live;
use crate::registry::Registry;
use crate::sync::{const_fn_unless_loom, thread_number, AtomicUsize, Condvar, Mutex, Ordering};
use crate::wakers::{Parked, Slot, Wakers};

/// Set in every stripe of a retired handler's hold count.
const RETIRED: usize = 1 << (usize::BITS - 1);

/// One stripe of a hold count, alone in 256 bytes, so that holds taken on two threads never
/// write one line nor neighbouring ones: with 128 bytes (a cache-line pair), two threads on
/// stripes 0 and 1 ran 1.5x slower per lookup than one thread on this project's Xeon, as if a
/// prefetcher pulled the neighbour's line away (BENCHMARKS.md); with 256 they scale.
#[repr(align(256))]
struct Stripe(AtomicUsize);

/// How many stripes a hold count has: twice the cores, a power of two from 4 to 16 (256 bytes
/// each: 1 KiB per installed handler on 2 cores, 4 KiB from 8 cores up). Threads are numbered
/// from 0 with the numbers of exited threads reused (src/sync.rs), so as long as no more
/// threads than stripes take holds, no two of them share one; past 16, threads share stripes
/// two or more to one, which costs when they hold the same handler at the same time.
#[cfg(not(handler_registry_loom))]
fn stripes() -> usize {
    static STRIPES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *STRIPES.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(4, std::num::NonZero::get);
        (cores * 2).next_power_of_two().clamp(4, 16)
    })
}

#[cfg(handler_registry_loom)]
fn stripes() -> usize {
    2
}

/// The holds of one installed handler, counted per stripe.
pub(crate) struct Holds {
    stripes: Box<[Stripe]>,
}

impl Holds {
    pub(crate) fn new() -> Self {
        Holds {
            stripes: (0..stripes())
                .map(|_| Stripe(AtomicUsize::new(0)))
                .collect(),
        }
    }

    /// Adds a hold on this thread's stripe and returns the stripe. Only under the overlay's
    /// lock, on a handler installed in it.
    #[inline]
    fn take(&self) -> usize {
        let stripe = thread_number() & (self.stripes.len() - 1);
        // Relaxed: the hold is taken under the overlay's lock, and the handler is retired only
        // after the write lock has been taken, which orders this increment before it.
        self.stripes[stripe].0.fetch_add(1, Ordering::Relaxed);
        stripe
    }

    /// Marks every stripe retired; the holds they had.
    fn retire(&self) -> usize {
        self.stripes.iter().fold(0, |sum, stripe| {
            // AcqRel: acquires the holders' releases (their use of the handler happened
            // before), and the release lets a holder's later `fetch_sub` see the bit.
            let held = stripe.0.fetch_or(RETIRED, Ordering::AcqRel) & !RETIRED;
            sum.wrapping_add(held)
        })
    }

    /// The holds now (a stale read can only be higher: see the rules above).
    pub(crate) fn count(&self) -> usize {
        self.stripes.iter().fold(0, |sum, stripe| {
            // Acquire: pairs with the holders' `fetch_sub` (Release).
            sum.wrapping_add(stripe.0.load(Ordering::Acquire) & !RETIRED)
        })
    }

    fn is_retired(&self) -> bool {
        // Relaxed: asked by `drained` after it took the drain's lock to count the retirements
        // it waits for; a retirement among those set the bit under that lock, so the lock
        // orders it before this load.
        self.stripes[0].0.load(Ordering::Relaxed) & RETIRED != 0
    }
}

/// The drain bookkeeping of one registry.
pub(crate) struct Drain<F, M> {
    state: Mutex<Retired<F, M>>,
    /// Wakes blocked waiters after every removal of a record.
    done: Condvar,
}

/// Retired handlers not dropped yet.
struct Retired<F, M> {
    /// How many handlers were ever retired: a waiter waits only for those retired before it.
    count: u64,
    records: Vec<Record<F, M>>,
    /// Async waiters, woken (with no lock held) after every removal of a record.
    wakers: Parked,
}

struct Record<F, M> {
    /// The handler's `Arc` address: unique among the records that keep their `Arc` (a claimed
    /// handler's memory may be reused by another before its record is removed).
    addr: usize,
    /// The `count` at the moment it was retired: unique, names the record.
    nth: u64,
    /// The handler until it is claimed for dropping.
    live: Option<Arc<Live<F, M>>>,
    name: Arc<str>,
}

impl<F, M> Retired<F, M> {
    /// The holds still taken on handlers of `name` retired among the first `before`; `None`
    /// when every one of those has been dropped.
    fn blocking(&self, name: &str, before: u64) -> Option<usize> {
        let mut blocking = self
            .records
            .iter()
            .filter(|record| record.nth <= before && *record.name == *name)
            .peekable();
        blocking.peek()?;
        Some(
            blocking
                .map(|record| record.live.as_ref().map_or(0, |live| live.holds.count()))
                .sum(),
        )
    }
}

impl<F, M> Drain<F, M> {
    const_fn_unless_loom! {
        pub(crate) const fn new() -> Self {
            Drain {
                state: Mutex::new(Retired {
                    count: 0,
                    records: Vec::new(),
                    wakers: Parked::new(),
                }),
                done: Condvar::new(),
            }
        }
    }

    /// Records `live`, just taken out of the overlay, as retired; gives it back (with the
    /// record's number) when no hold is left on it, for the caller to drop
    /// ([`Registry::dispose`]).
    fn retire(&self, live: Arc<Live<F, M>>) -> Option<(u64, Arc<Live<F, M>>)> {
        let mut state = self.state.lock();
        state.count += 1;
        let nth = state.count;
        let claimed = live.holds.retire() == 0;
        state.records.push(Record {
            addr: Arc::as_ptr(&live) as usize,
            nth,
            // The record keeps the handler until it is claimed: now, or by its last holder.
            live: (!claimed).then(|| Arc::clone(&live)),
            name: live.name.clone(),
        });
        drop(state);
        claimed.then_some((nth, live))
    }

    /// A hold on the retired handler at `addr` was given back: the handler (with its record's
    /// number), if no hold is left and nobody claimed it yet. The holder's handler may be gone
    /// and its memory reused by another retired one: that one is then settled, which is right
    /// whoever does it (it is claimed only when nothing holds it).
    fn settle(&self, addr: usize) -> Option<(u64, Arc<Live<F, M>>)> {
        let mut state = self.state.lock();
        let record = state
            .records
            .iter_mut()
            .find(|record| record.addr == addr && record.live.is_some())?;
        if record.live.as_ref()?.holds.count() != 0 {
            return None;
        }
        Some((record.nth, record.live.take()?))
    }

    /// The retired handler of record `nth` has been dropped and announced: forget it and wake
    /// the waiters.
    fn finished(&self, nth: u64) -> Wakers {
        let mut state = self.state.lock();
        state.records.retain(|record| record.nth != nth);
        let wakers = state.wakers.take();
        drop(state);
        self.done.notify_all();
        wakers
    }

    /// Holds still taken on retired handlers of `name`.
    pub(crate) fn retired_in_flight(&self, name: &str) -> usize {
        self.state.lock().blocking(name, u64::MAX).unwrap_or(0)
    }

    /// How many handlers have been retired so far: what a waiter starting now waits for.
    fn retired_so_far(&self) -> u64 {
        self.state.lock().count
    }

    /// Waits until every handler of `name` among the first `before` retired has been dropped;
    /// on timeout, the number of holds still taken on them.
    fn wait(&self, name: &str, before: u64, timeout: Duration) -> Result<(), usize> {
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))));
        let mut state = self.state.lock();
        while state.blocking(name, before).is_some() {
            let timed_out = match deadline {
                Some(deadline) if Instant::now() < deadline => {
                    let (guard, timed_out) = self.done.wait_until(state, deadline);
                    state = guard;
                    timed_out
                }
                _ => true,
            };
            if timed_out {
                return state.blocking(name, before).map_or(Ok(()), Err);
            }
        }
        Ok(())
    }

    /// The async twin of [`wait`](Drain::wait): `deadline` completing ends the wait.
    async fn wait_async<D: Future>(
        &self,
        name: &str,
        before: u64,
        deadline: D,
    ) -> Result<(), usize> {
        let mut deadline = pin!(deadline);
        let mut waiting = Waiting {
            drain: self,
            slot: None,
        };
        poll_fn(|cx| {
            // Cloned before the lock is taken (src/wakers.rs).
            let waker = cx.waker().clone();
            let unused = {
                // Looked at and registered under the lock a removal takes: not missed.
                let mut state = self.state.lock();
                if state.blocking(name, before).is_none() {
                    return Poll::Ready(Ok(()));
                }
                state.wakers.park(&mut waiting.slot, waker)
            };
            drop(unused);
            // The deadline is the caller's future: polled with no lock held.
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(self.state.lock().blocking(name, before).map_or(Ok(()), Err));
            }
            Poll::Pending
        })
        .await
    }
}

/// An async waiter of a drain: when it stops waiting (done, timed out or dropped), its waker
/// leaves the list.
struct Waiting<'a, F, M> {
    drain: &'a Drain<F, M>,
    slot: Option<Slot>,
}

impl<F, M> Drop for Waiting<'_, F, M> {
    fn drop(&mut self) {
        let waker = self.drain.state.lock().wakers.leave(self.slot);
        drop(waker);
    }
}

/// An overlay handler held by a call, a `get` or a writer: it is not dropped until every hold
/// on it is given back (when this is dropped), even if it is retired meanwhile.
pub(crate) struct Held<'a, F: 'static, M: 'static> {
    registry: &'a Registry<F, M>,
    live: NonNull<Live<F, M>>,
    stripe: usize,
}

// SAFETY: a `Held` is a shared reference to a `Live<F, M>` kept alive by its hold (the rules
// at the top of this file), plus a shared reference to the registry: sending or sharing it
// across threads is sending or sharing `&Live<F, M>` and `&Registry<F, M>`, sound when both are
// `Sync`, which `F: Send + Sync` and `M: Send + Sync` make them.
unsafe impl<F: Send + Sync, M: Send + Sync> Send for Held<'_, F, M> {}
// SAFETY: as for `Send`.
unsafe impl<F: Send + Sync, M: Send + Sync> Sync for Held<'_, F, M> {}

impl<'a, F: 'static, M: 'static> Held<'a, F, M> {
    /// Holds `live`. Only under the overlay's lock (read or write), with `live` installed in
    /// it: a retired handler can take no new hold.
    pub(crate) fn take(registry: &'a Registry<F, M>, live: &Live<F, M>) -> Self {
        let stripe = live.holds.take();
        Held {
            registry,
            live: NonNull::from(live),
            stripe,
        }
    }

    pub(crate) fn live(&self) -> &Live<F, M> {
        // SAFETY: the hold keeps the `Live` from being dropped (rules at the top of this file:
        // it is dropped only once every hold is given back, and its record keeps the `Arc`).
        unsafe { self.live.as_ref() }
    }

    pub(crate) fn handler(&self) -> &F {
        &self.live().handler
    }

    pub(crate) fn meta(&self) -> &M {
        &self.live().meta
    }

    /// The `#[dynamic]` declaration the handler was installed under, if any.
    pub(crate) fn declared(&self) -> Option<u32> {
        self.live().declared
    }

    /// Runs `f` as a call on this handler: `drained` of its name from inside `f` knows that it
    /// would wait for this call.
    pub(crate) fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let live = self.live();
        let frame = Frame {
            registry: std::ptr::from_ref(self.registry) as usize,
            name: &raw const *live.name,
            holds: &raw const live.holds,
            outer: RUNNING.with(std::cell::Cell::get),
        };
        RUNNING.with(|running| running.set(&raw const frame));
        let _restore = Restore(frame.outer);
        f()
    }
}

impl<F: 'static, M: 'static> Drop for Held<'_, F, M> {
    #[inline]
    fn drop(&mut self) {
        let addr = self.live.as_ptr() as usize;
        // SAFETY: as in `live`; nothing reads the `Live` after this decrement, unless the
        // stripe was retired, and then only through the drain's record, which keeps it.
        let stripe = unsafe { &self.live.as_ref().holds.stripes[self.stripe] };
        // Release: the use of the handler happens before whoever drops it sees the hold gone
        // (their `fetch_or` or `load`, Acquire).
        if stripe.0.fetch_sub(1, Ordering::Release) & RETIRED != 0 {
            self.registry.settle(addr);
        }
    }
}

/// A call running on this thread on an overlay handler, in a stack of nested calls.
struct Frame {
    registry: usize,
    name: *const str,
    holds: *const Holds,
    outer: *const Frame,
}

/// Pops a frame, also when the call unwinds.
struct Restore(*const Frame);

impl Drop for Restore {
    fn drop(&mut self) {
        let outer = self.0;
        RUNNING.with(|running| running.set(outer));
    }
}

#[cfg(not(handler_registry_loom))]
thread_local! {
    static RUNNING: std::cell::Cell<*const Frame> = const { std::cell::Cell::new(std::ptr::null()) };
}

#[cfg(handler_registry_loom)]
loom::thread_local! {
    static RUNNING: std::cell::Cell<*const Frame> = std::cell::Cell::new(std::ptr::null());
}

/// Whether this thread runs, right now, a call on a retired handler of overlay key `name` of
/// the registry at `registry`: waiting for `name` to drain would wait for itself.
fn waits_for_itself(registry: usize, name: &str) -> bool {
    let mut frame = RUNNING.with(std::cell::Cell::get);
    while !frame.is_null() {
        // SAFETY: a frame lives on the stack of `Held::enter` on this thread, which pops it
        // before returning (also when unwinding); its name and holds belong to the `Live`
        // that the `Held` keeps alive meanwhile.
        let current = unsafe { &*frame };
        // SAFETY: as above.
        let (same, retired) = unsafe { (*current.name == *name, (*current.holds).is_retired()) };
        if current.registry == registry && same && retired {
            return true;
        }
        frame = current.outer;
    }
    false
}

impl<F: 'static, M: 'static> Registry<F, M> {
    /// A hold on the retired handler at `addr` was given back: drops it if it was the last.
    #[cold]
    #[inline(never)]
    fn settle(&self, addr: usize) {
        if let Some((nth, live)) = self.drain.settle(addr) {
            self.dispose(nth, live);
        }
    }

    /// Retires a handler just taken out of the overlay (no lock held), dropping it at once if
    /// nothing holds it.
    pub(crate) fn retire(&self, live: Arc<Live<F, M>>) {
        if let Some((nth, live)) = self.drain.retire(live) {
            self.dispose(nth, live);
        }
    }

    /// Drops a retired handler that nothing holds any more (claimed from record `nth`), with
    /// no lock held; announces it, then lets the waiters go.
    fn dispose(&self, nth: u64, live: Arc<Live<F, M>>) {
        let (name, version, declared) = (live.name.clone(), live.version, live.declared);
        // The record's `Arc` is the last: the overlay gave its own up when it retired it.
        if let Some(live) = Arc::into_inner(live) {
            let Live { handler, meta, .. } = live;
            let handler = panic::catch_unwind(AssertUnwindSafe(move || drop(handler)));
            let meta = panic::catch_unwind(AssertUnwindSafe(move || drop(meta)));
            if handler.is_err() || meta.is_err() {
                self.drop_panicked(&name, declared);
            }
        }
        // A run-time name that is gone for good takes its call counts with it.
        if declared.is_none() {
            self.forget_stats_if_gone(&name);
        }
        self.changes.post(&name, ChangeKind::Drained, version);
        // Delivered before the waiters are let go (`drained` means announced too); the tasks
        // are woken last, with no lock held.
        let subscribers = self.changes.deliver();
        let waiters = self.drain.finished(nth);
        // Woken together: a panicking waker of one set leaves none of the other asleep.
        waiters.and(subscribers).wake();
    }

    /// A retired handler's (or its metadata's) `Drop` panicked: the panic is contained, logged
    /// and counted as a panic of the name.
    #[cold]
    fn drop_panicked(&self, name: &str, declared: Option<u32>) {
        tracing::error!(
            target: "handler_registry",
            name,
            "the drop of a retired handler of `{name}` or of its metadata panicked; the panic was contained"
        );
        let key = match declared {
            Some(index) => crate::metrics::Key::Declared(self.declared_name(index)),
            None => crate::metrics::Key::Runtime(name),
        };
        self.metrics.drop_panicked(key);
    }
}

impl<F: Clone + Send + Sync + 'static, M: Clone + Send + Sync + 'static> Registry<F, M> {
    /// Waits until no call that started before the latest change of `name` is still running,
    /// and every handler that change (or an earlier one) retired has been dropped.
    ///
    /// Returns at once when nothing is running on a retired handler of `name`, including for
    /// static names (never retired) and unknown names. Aliases of a `#[dynamic]` declaration
    /// wait for its primary name. Calls that start after `drained` was called do not delay it.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use handler_registry::Registry;
    ///
    /// let hooks: Registry<Arc<dyn Fn() -> u32 + Send + Sync>> = Registry::new();
    /// hooks.register("answer", Arc::new(|| 41))?;
    /// hooks.replace("answer", Arc::new(|| 42))?;
    /// // No call was running on the old handler: it is already dropped.
    /// hooks.drained("answer", Duration::from_secs(1))?;
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    ///
    /// Returns only once each of those handlers (and its metadata) has been dropped and its
    /// [`Drained`](crate::ChangeKind::Drained) change published: a subscriber's `try_recv`
    /// right after sees it.
    ///
    /// # Errors
    /// - [`Error::DrainTimeout`] with the number of calls still running on retired handlers
    ///   of `name` when `timeout` passes first;
    /// - [`Error::DrainDeadlock`], at once, when called from inside a call running on a
    ///   retired handler of `name` (it would wait for itself);
    /// - the error of [`freeze`](Registry::freeze) if the registry cannot be frozen.
    pub fn drained(&self, name: &str, timeout: Duration) -> Result<(), Error> {
        let before = self.drain.retired_so_far();
        let Some(key) = self.drain_key(name)? else {
            return Ok(());
        };
        self.drain
            .wait(key, before, timeout)
            .map_err(|in_flight| Error::drain_timeout(name, in_flight))
    }

    /// The async twin of [`drained`](Registry::drained), for any runtime: `sleep` is the
    /// runtime's sleep function (`tokio::time::sleep`, `async_io::Timer::after`), called once
    /// with `timeout` to make the deadline. Waiting blocks no thread.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use handler_registry::Registry;
    ///
    /// # async fn example() -> Result<(), handler_registry::Error> {
    /// let hooks: Registry<Arc<dyn Fn() -> u32 + Send + Sync>> = Registry::new();
    /// hooks.register("answer", Arc::new(|| 41))?;
    /// hooks.replace("answer", Arc::new(|| 42))?;
    /// // With tokio: `.drained_async("answer", timeout, tokio::time::sleep)`. Here, a deadline
    /// // that never comes.
    /// let sleep = |_| std::future::pending::<()>();
    /// hooks.drained_async("answer", Duration::from_secs(1), sleep).await?;
    /// # Ok(())
    /// # }
    /// # fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     let mut future = std::pin::pin!(future);
    /// #     loop {
    /// #         if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
    /// #             return output;
    /// #         }
    /// #     }
    /// # }
    /// # block_on(example()).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`drained`](Registry::drained).
    pub fn drained_async<'s, D: Future + 's>(
        &'s self,
        name: &'s str,
        timeout: Duration,
        sleep: impl FnOnce(Duration) -> D + 's,
    ) -> impl Future<Output = Result<(), Error>> + 's {
        // What to wait for is decided now, not when the future is first polled; the deadline is
        // made on the first poll, inside the caller's runtime.
        let before = self.drain.retired_so_far();
        let key = self.drain_key(name);
        async move {
            let Some(key) = key? else {
                return Ok(());
            };
            self.drain
                .wait_async(key, before, sleep(timeout))
                .await
                .map_err(|in_flight| Error::drain_timeout(name, in_flight))
        }
    }

    /// The overlay key whose retired handlers a drain of `name` waits for; `None` for a static
    /// name. A drain from inside a call on a retired handler of that key is refused: it would
    /// wait for itself.
    fn drain_key<'n>(&self, name: &'n str) -> Result<Option<&'n str>, Error> {
        let frozen = self.try_frozen()?;
        let key = match frozen.find(name) {
            Some(slot) if !slot.dynamic => return Ok(None),
            Some(slot) => frozen.entries[slot.entry() as usize].name,
            None => name,
        };
        if waits_for_itself(std::ptr::from_ref(self) as usize, key) {
            return Err(Error::DrainDeadlock {
                name: name.to_owned(),
            });
        }
        Ok(Some(key))
    }
}
