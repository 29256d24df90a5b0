//! Drain: when a retired handler may be dropped, and waiting until it has been.
//!
//! The rules, stated once:
//! - **Retiring.** `replace`, `register_versioned` (over an installed handler) and `unregister`
//!   take the handler's `Arc<Live<F, M>>` out of the overlay under its write lock, and record it
//!   here as retired (`Drain::retire`) before the lock is released. From then on no new call
//!   can reach it: calls resolve names under the overlay's read lock.
//! - **Calls hold what they started on.** A call through `call`/`call_async` of an overlay name
//!   clones the `Arc` under the read lock and keeps it in a [`Held`] until the call has
//!   finished (returned, panicked, timed out, been cancelled or dropped).
//! - **Dropped exactly once, never during a call.** Whoever lets go of the last `Arc` of a
//!   retired handler (the retiring writer when no call holds it, otherwise the last call to
//!   finish) gets it back from `Arc::into_inner`, which hands it to exactly one of them, and
//!   drops it there ([`Registry::release`]). Only then is a `Drained` change published and the
//!   record removed (`Drain::finished`), waking every waiter.
//! - **`drained` never returns early, never misses the wake-up.** A waiter notes how many
//!   handlers had been retired when it started and waits, under the drain's lock, until none
//!   of those records is left for its name; records are removed under the same lock and the
//!   condition variable (or, for async waiters, the `event-listener` registered before the
//!   check) is notified after every removal.
//! - **Static names are never retired**, so a call borrows their handler from the frozen table
//!   and writes no shared memory; their running calls are counted per thread with the other
//!   call metrics (src/metrics.rs).
//!
//! `registry-core/tests/loom.rs` checks the protocol: a call racing a replacement racing
//! `drained`, with no drop while the call runs, exactly one drop, and no early return.

use std::future::{poll_fn, Future};
use std::panic::{self, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

use event_listener::Event;

use crate::changes::ChangeKind;
use crate::error::Error;
use crate::overlay::Live;
use crate::registry::Registry;
use crate::sync::{const_fn_unless_loom, Condvar, Mutex};

/// The drain bookkeeping of one registry.
pub(crate) struct Drain<F, M> {
    state: Mutex<Retired<F, M>>,
    done: Condvar,
    /// Wakes async waiters; notified together with `done`.
    event: Event,
}

/// Retired handlers not dropped yet.
struct Retired<F, M> {
    /// How many handlers were ever retired: a waiter waits only for those retired before it.
    count: u64,
    records: Vec<Record<F, M>>,
}

struct Record<F, M> {
    /// The handler's `Arc` address: unique while the record exists (the `Weak` keeps the
    /// allocation).
    addr: usize,
    /// The `count` at the moment it was retired.
    nth: u64,
    live: Weak<Live<F, M>>,
    name: Arc<str>,
}

impl<F, M> Retired<F, M> {
    /// The calls still running on handlers of `name` retired among the first `before`; `None`
    /// when every one of those has been dropped.
    fn blocking(&self, name: &str, before: u64) -> Option<usize> {
        let mut blocking = self
            .records
            .iter()
            .filter(|record| record.nth <= before && *record.name == *name)
            .peekable();
        blocking.peek()?;
        Some(blocking.map(|record| record.live.strong_count()).sum())
    }
}

impl<F, M> Drain<F, M> {
    const_fn_unless_loom! {
        pub(crate) const fn new() -> Self {
            Drain {
                state: Mutex::new(Retired {
                    count: 0,
                    records: Vec::new(),
                }),
                done: Condvar::new(),
                event: Event::new(),
            }
        }
    }

    /// Records `live` as retired. Called under the overlay's write lock, before the registry
    /// lets go of its `Arc`.
    pub(crate) fn retire(&self, live: &Arc<Live<F, M>>) {
        let mut state = self.state.lock();
        state.count += 1;
        let nth = state.count;
        state.records.push(Record {
            addr: Arc::as_ptr(live) as usize,
            nth,
            live: Arc::downgrade(live),
            name: live.name.clone(),
        });
    }

    /// The retired handler at `addr` has been dropped: forget it and wake the waiters.
    fn finished(&self, addr: usize) {
        let mut state = self.state.lock();
        state.records.retain(|record| record.addr != addr);
        drop(state);
        self.done.notify_all();
        self.event.notify(usize::MAX);
    }

    /// Calls running on retired handlers of `name`.
    pub(crate) fn retired_in_flight(&self, name: &str) -> usize {
        self.state.lock().blocking(name, u64::MAX).unwrap_or(0)
    }

    /// Waits until every handler of `name` retired so far has been dropped; on timeout, the
    /// number of calls still running on them.
    pub(crate) fn wait(&self, name: &str, timeout: Duration) -> Result<(), usize> {
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))));
        let mut state = self.state.lock();
        let before = state.count;
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
    pub(crate) async fn wait_async<D: Future>(&self, name: &str, deadline: D) -> Result<(), usize> {
        let before = self.state.lock().count;
        let mut deadline = pin!(deadline);
        loop {
            // Listen before looking, so a removal in between still wakes us.
            let mut listener = self.event.listen();
            if self.state.lock().blocking(name, before).is_none() {
                return Ok(());
            }
            let woken = poll_fn(|cx| {
                if Pin::new(&mut listener).poll(cx).is_ready() {
                    Poll::Ready(true)
                } else if deadline.as_mut().poll(cx).is_ready() {
                    Poll::Ready(false)
                } else {
                    Poll::Pending
                }
            })
            .await;
            if !woken {
                return self.state.lock().blocking(name, before).map_or(Ok(()), Err);
            }
        }
    }
}

/// An overlay handler a running call holds, kept alive by its `Arc` even if it is retired
/// meanwhile, and released ([`Registry::release`]) when the call is over.
pub(crate) struct Held<'a, F: 'static, M: 'static> {
    registry: &'a Registry<F, M>,
    live: Option<Arc<Live<F, M>>>,
}

impl<'a, F: 'static, M: 'static> Held<'a, F, M> {
    pub(crate) fn new(registry: &'a Registry<F, M>, live: Arc<Live<F, M>>) -> Self {
        Held {
            registry,
            live: Some(live),
        }
    }

    fn live(&self) -> &Live<F, M> {
        self.live.as_ref().expect("held until dropped")
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
}

impl<F: 'static, M: 'static> Drop for Held<'_, F, M> {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            self.registry.release(live);
        }
    }
}

impl<F: 'static, M: 'static> Registry<F, M> {
    /// Lets go of one `Arc` of an overlay handler. If it was the last one, the handler has been
    /// retired (the overlay holds an `Arc` of every installed handler) and no call runs on it
    /// any more: drop it, announce it and wake the waiters, in that order.
    pub(crate) fn release(&self, live: Arc<Live<F, M>>) {
        let addr = Arc::as_ptr(&live) as usize;
        let Some(live) = Arc::into_inner(live) else {
            return;
        };
        let Live {
            handler,
            name,
            version,
            declared,
            ..
        } = live;
        // A handler whose drop panics must not leave its waiters waiting.
        let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(handler)));
        // A run-time name that is gone for good takes its call counts with it.
        if declared.is_none() && !self.overlay.read().contains(&name) {
            self.metrics.forget(&name);
        }
        self.changes.publish(&name, ChangeKind::Drained, version);
        self.drain.finished(addr);
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
    /// # Errors
    /// - [`Error::DrainTimeout`] with the number of calls still running on retired handlers
    ///   of `name` when `timeout` passes first;
    /// - the error of [`freeze`](Registry::freeze) if the registry cannot be frozen.
    pub fn drained(&self, name: &str, timeout: Duration) -> Result<(), Error> {
        let Some(key) = self.drain_key(name)? else {
            return Ok(());
        };
        self.drain
            .wait(key, timeout)
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
    pub async fn drained_async<D: Future>(
        &self,
        name: &str,
        timeout: Duration,
        sleep: impl FnOnce(Duration) -> D,
    ) -> Result<(), Error> {
        let Some(key) = self.drain_key(name)? else {
            return Ok(());
        };
        self.drain
            .wait_async(key, sleep(timeout))
            .await
            .map_err(|in_flight| Error::drain_timeout(name, in_flight))
    }

    /// The overlay key whose retired handlers a drain of `name` waits for; `None` for a static
    /// name.
    fn drain_key<'n>(&self, name: &'n str) -> Result<Option<&'n str>, Error> {
        self.freeze()?;
        let frozen = self.frozen();
        Ok(match frozen.find(name) {
            Some(slot) if !slot.dynamic => None,
            Some(slot) => Some(frozen.entries[slot.entry() as usize].name),
            None => Some(name),
        })
    }
}
