//! Change events: every registration, replacement, removal and drain of a registry, in the
//! order they took effect, to every subscriber.
//!
//! The rules, stated once:
//! - **Order.** A change is posted to the hub's outbox while the writer still holds the
//!   overlay's write lock, so changes are numbered (gap-free per registry) and queued in the
//!   order they took effect. Posting takes only the outbox's lock, held for a push: no writer
//!   waits for subscribers while it holds the overlay lock, so lookups never do either.
//! - **Delivery outside the overlay lock.** After releasing the overlay lock the writer flushes
//!   the outbox: under the log's lock, whoever flushes takes every queued change in order and
//!   appends it to the log, so deliveries never overtake each other. A change reaches only the
//!   subscribers that existed when it was posted: a subscriber starts at the number after the
//!   last posted.
//! - **One log for every subscriber**, as `tokio::sync::broadcast` keeps one ring: the log
//!   holds the latest delivered changes, as many as the largest capacity among the live
//!   subscribers, and each subscriber keeps only the number of the next change it wants. A
//!   delivery costs the same for one subscriber or a thousand: an append, and the wake-up of
//!   those waiting.
//! - **Wake-ups with no lock held.** Waking a subscriber runs its waker (the user's code, which
//!   may use the registry): the waiting tasks are taken under the log's lock and woken after it
//!   is let go.
//! - **Never blocking a writer.** A subscriber more than its capacity behind skips the oldest
//!   changes it has not received; its next receive reports the gap as one
//!   [`ChangeKind::Lagged`] change before the changes it kept, as `tokio::sync::broadcast`
//!   does.
//! - **A dropped subscriber costs nothing**: it gives its capacity back, and the log shrinks to
//!   the largest capacity left (to nothing when none is left). With no subscriber ever, a
//!   change costs a lock and an increment.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::future::poll_fn;
use std::task::Poll;

use crate::sync::{const_fn_unless_loom, Condvar, Mutex, MutexGuard, OnceCell};
use crate::wakers::{Parked, Slot, Wakers};

/// How many changes a subscriber may fall behind before the oldest are dropped, for
/// [`Registry::subscribe`](crate::Registry::subscribe).
pub const DEFAULT_CHANGES_CAPACITY: usize = 1024;

/// What happened to a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// A handler was installed under a name that had none: [`register`](crate::Registry::register),
    /// or [`register_versioned`](crate::Registry::register_versioned) of an absent name.
    /// [`Change::version`] is the version installed.
    Registered,
    /// The name's handler was swapped: [`replace`](crate::Registry::replace) or
    /// [`register_versioned`](crate::Registry::register_versioned). [`Change::version`] is the
    /// version installed; the previous one is retired and gets its own [`Drained`](Self::Drained).
    Replaced,
    /// The name was removed with [`unregister`](crate::Registry::unregister).
    /// [`Change::version`] is the version removed.
    Unregistered,
    /// A retired handler's last call has ended and the registry has dropped it.
    /// [`Change::version`] is the retired version. One per retired handler, after the change
    /// that retired it (at once when no call was running on it).
    Drained,
    /// This subscriber fell more than its capacity behind and skipped `missed` changes,
    /// starting at [`Change::seq`]. [`Change::name`] is empty and [`Change::version`] is 0.
    Lagged {
        /// How many changes were skipped.
        missed: u64,
    },
}

/// One change of a registry, as received from [`Changes`].
#[derive(Clone, PartialEq, Eq)]
pub struct Change {
    name: Arc<str>,
    kind: ChangeKind,
    version: u64,
    seq: u64,
}

impl Change {
    /// The name changed: the primary name of a `#[dynamic]` declaration (a change through an
    /// alias is reported under it), or the run-time name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What happened.
    #[must_use]
    pub fn kind(&self) -> ChangeKind {
        self.kind
    }

    /// The version installed ([`Registered`](ChangeKind::Registered),
    /// [`Replaced`](ChangeKind::Replaced)) or retired ([`Unregistered`](ChangeKind::Unregistered),
    /// [`Drained`](ChangeKind::Drained)).
    #[must_use]
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The change's number in its registry: 1 for the first change, then one more per change,
    /// whoever subscribed.
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// One line for logs: `#12 text.greet replaced, now version 3`.
///
/// ```
/// # extern crate registry_core as handler_registry;
/// let hooks: handler_registry::Registry<fn() -> u8> = handler_registry::Registry::new();
/// let mut changes = hooks.subscribe();
/// hooks.register("tick", || 1)?;
/// assert_eq!(changes.try_recv().unwrap().to_string(), "#1 tick registered at version 0");
/// # Ok::<(), handler_registry::Error>(())
/// ```
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (seq, name, version) = (self.seq, &*self.name, self.version);
        match self.kind {
            ChangeKind::Registered => write!(f, "#{seq} {name} registered at version {version}"),
            ChangeKind::Replaced => write!(f, "#{seq} {name} replaced, now version {version}"),
            ChangeKind::Unregistered => {
                write!(f, "#{seq} {name} unregistered at version {version}")
            }
            ChangeKind::Drained => write!(f, "#{seq} {name} version {version} drained"),
            ChangeKind::Lagged { missed } => {
                write!(
                    f,
                    "#{seq} {missed} changes missed (the subscriber fell behind)"
                )
            }
        }
    }
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Change")
            .field("seq", &self.seq)
            .field("name", &&*self.name)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .finish()
    }
}

/// A subscription to a registry's changes, from [`Registry::subscribe`](crate::Registry::subscribe).
///
/// Receives every change made after it was created, in order. It never slows the registry
/// down: when it falls more than its capacity behind, the oldest changes are skipped and the
/// next receive returns one [`ChangeKind::Lagged`] change saying how many.
///
/// ```
/// # extern crate registry_core as handler_registry;
/// use handler_registry::{ChangeKind, Registry};
///
/// let hooks: Registry<fn() -> u8> = Registry::new();
/// let mut changes = hooks.subscribe();
/// hooks.register("tick", || 1)?;
/// hooks.replace("tick", || 2)?;
///
/// let seen: Vec<_> = std::iter::from_fn(|| changes.try_recv())
///     .map(|change| (change.kind(), change.version()))
///     .collect();
/// assert_eq!(
///     seen,
///     [(ChangeKind::Registered, 0), (ChangeKind::Replaced, 1), (ChangeKind::Drained, 0)]
/// );
/// # Ok::<(), handler_registry::Error>(())
/// ```
pub struct Changes {
    log: Arc<Log>,
    /// The number of the next change to receive.
    next: u64,
    capacity: usize,
    /// Where this subscriber's waker sits in the log's list (src/wakers.rs).
    parked: Option<Slot>,
}

/// The changes delivered so far, shared by the hub and every subscriber.
struct Log {
    state: Mutex<LogState>,
    /// Wakes the receivers blocked in `recv_timeout`.
    ready: Condvar,
}

struct LogState {
    /// The latest changes delivered, oldest first, numbered without gaps: as many as the
    /// largest capacity among the live subscribers, so each finds all it may still receive.
    recent: VecDeque<Change>,
    /// The number of the last change delivered (0 before the first).
    last: u64,
    /// The capacities of the live subscribers, each with how many have it.
    capacities: BTreeMap<usize, usize>,
    /// The tasks waiting in `recv`, taken (and woken) by the next delivery.
    wakers: Parked,
    /// How many threads wait in `recv_timeout`.
    blocked: usize,
    /// The registry is gone: nothing more will come.
    closed: bool,
}

impl Changes {
    /// The next change if one is waiting, without blocking.
    pub fn try_recv(&mut self) -> Option<Change> {
        self.log
            .state
            .lock()
            .take(&mut self.next, self.capacity)
            .ok()
    }

    /// The next change, waiting for one at most `timeout`; `None` if none came in time or the
    /// registry is gone.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Change> {
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))))?;
        let mut state = self.log.state.lock();
        loop {
            match state.take(&mut self.next, self.capacity) {
                Ok(change) => return Some(change),
                Err(Closed(true)) => return None,
                Err(Closed(false)) if Instant::now() >= deadline => return None,
                Err(Closed(false)) => {
                    // Looked at and waited on under the same lock: a delivery in between is
                    // not missed.
                    state.blocked += 1;
                    state = self.log.ready.wait_until(state, deadline).0;
                    state.blocked -= 1;
                }
            }
        }
    }

    /// The next change, waiting as long as it takes; `None` once the registry is dropped.
    /// Works on any async runtime; wrap it in the runtime's timeout to bound the wait.
    ///
    /// The task is woken with no registry lock held: its waker may use the registry.
    pub async fn recv(&mut self) -> Option<Change> {
        poll_fn(|cx| {
            // Cloned before the lock is taken, and dropped after it is let go if unused: the
            // clone and the drop of a waker are the executor's code.
            let waker = cx.waker().clone();
            let mut state = self.log.state.lock();
            match state.take(&mut self.next, self.capacity) {
                Ok(change) => Poll::Ready(Some(change)),
                Err(Closed(true)) => Poll::Ready(None),
                Err(Closed(false)) => {
                    // Registered under the lock the delivery takes: it cannot be missed.
                    let unused = state.wakers.park(&mut self.parked, waker);
                    drop(state);
                    drop(unused);
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// How many changes this subscriber can fall behind before it lags.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.log.state.lock();
        let behind = (state.last + 1).saturating_sub(self.next);
        f.debug_struct("Changes")
            .field("waiting", &behind.min(self.capacity as u64))
            .field("capacity", &self.capacity)
            .field("closed", &state.closed)
            .finish_non_exhaustive()
    }
}

impl Drop for Changes {
    /// Gives the subscriber's capacity back (the log shrinks to the largest left) and takes its
    /// waker out of the list; both are dropped after the lock is let go.
    fn drop(&mut self) {
        let mut state = self.log.state.lock();
        if let Entry::Occupied(mut count) = state.capacities.entry(self.capacity) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
        let waker = state.wakers.leave(self.parked);
        let trimmed = state.trim();
        drop(state);
        drop(waker);
        drop(trimmed);
    }
}

/// Nothing to receive; `true` when nothing ever will be.
struct Closed(bool);

impl LogState {
    /// The change numbered `*next` for a subscriber of `capacity`, or the gap it lagged by.
    fn take(&self, next: &mut u64, capacity: usize) -> Result<Change, Closed> {
        if *next > self.last {
            return Err(Closed(self.closed));
        }
        let behind = self.last - *next + 1;
        let capacity = capacity as u64;
        if behind > capacity {
            let missed = behind - capacity;
            let lagged = Change {
                name: Arc::from(""),
                kind: ChangeKind::Lagged { missed },
                version: 0,
                seq: *next,
            };
            *next += missed;
            return Ok(lagged);
        }
        let first = self
            .recent
            .front()
            .map_or(self.last + 1, |change| change.seq);
        let change = usize::try_from(*next - first)
            .ok()
            .and_then(|index| self.recent.get(index))
            .expect("the log keeps the latest changes of the largest capacity");
        *next += 1;
        Ok(change.clone())
    }

    /// Drops the changes no live subscriber may still receive; returns them to be dropped once
    /// the lock is let go.
    fn trim(&mut self) -> Vec<Change> {
        let keep = self
            .capacities
            .last_key_value()
            .map_or(0, |(&capacity, _)| capacity);
        let excess = self.recent.len().saturating_sub(keep);
        self.recent.drain(..excess).collect()
    }
}

impl Log {
    fn new() -> Self {
        Log {
            state: Mutex::new(LogState {
                recent: VecDeque::new(),
                last: 0,
                capacities: BTreeMap::new(),
                wakers: Parked::new(),
                blocked: 0,
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }

    /// Takes the waiting tasks (to wake once every lock is let go) and wakes the blocked
    /// threads; `state` is the log's locked state, let go here.
    fn wake_all(&self, mut state: MutexGuard<'_, LogState>) -> Wakers {
        let wakers = state.wakers.take();
        let blocked = state.blocked > 0;
        drop(state);
        if blocked {
            self.ready.notify_all();
        }
        wakers
    }
}

/// A registry's subscribers, and the changes posted but not delivered yet.
pub(crate) struct Hub {
    outbox: Mutex<Outbox>,
    /// The log every subscriber reads, made by the first `subscribe`. Its lock is taken before
    /// the outbox's, and held by whoever delivers, so that deliveries keep the posting order.
    log: OnceCell<Arc<Log>>,
}

struct Outbox {
    /// The number of the last change posted.
    seq: u64,
    /// Whether anybody subscribed yet: until then a change is only numbered.
    watched: bool,
    pending: VecDeque<Change>,
}

impl Hub {
    const_fn_unless_loom! {
        pub(crate) const fn new() -> Self {
            Hub {
                outbox: Mutex::new(Outbox {
                    seq: 0,
                    watched: false,
                    pending: VecDeque::new(),
                }),
                log: OnceCell::new(),
            }
        }
    }

    pub(crate) fn subscribe(&self, capacity: usize) -> Changes {
        let capacity = capacity.max(1);
        let log = Arc::clone(self.log.get_or_init(|| Arc::new(Log::new())));
        let mut state = log.state.lock();
        let next = {
            let mut outbox = self.outbox.lock();
            outbox.watched = true;
            outbox.seq + 1
        };
        *state.capacities.entry(capacity).or_default() += 1;
        drop(state);
        Changes {
            log,
            next,
            capacity,
            parked: None,
        }
    }

    /// Numbers a change and queues it for delivery. Called while the change is still the
    /// latest (under the overlay's write lock for a registration, replacement or removal), so
    /// that numbers follow the order the changes took effect; [`flush`](Hub::flush) after
    /// releasing that lock.
    pub(crate) fn post(&self, name: &str, kind: ChangeKind, version: u64) {
        let mut outbox = self.outbox.lock();
        outbox.seq += 1;
        if outbox.watched {
            let change = Change {
                name: Arc::from(name),
                kind,
                version,
                seq: outbox.seq,
            };
            outbox.pending.push_back(change);
        }
    }

    /// Delivers every change posted so far, in order, then wakes the subscribers waiting with
    /// no lock held.
    pub(crate) fn flush(&self) {
        self.deliver().wake();
    }

    /// Delivers every change posted so far, in order: appends them to the log, whatever the
    /// number of subscribers. The tasks to wake once the caller has let every lock go.
    #[must_use = "the subscribers reached must be woken"]
    pub(crate) fn deliver(&self) -> Wakers {
        // Nobody subscribed yet: nothing was queued.
        let Some(log) = self.log.get() else {
            return Wakers::none();
        };
        let mut state = log.state.lock();
        let mut delivered = false;
        loop {
            let Some(change) = self.outbox.lock().pending.pop_front() else {
                break;
            };
            state.last = change.seq;
            state.recent.push_back(change);
            delivered = true;
        }
        let trimmed = state.trim();
        let wakers = if delivered {
            log.wake_all(state)
        } else {
            Wakers::none()
        };
        drop(trimmed);
        wakers
    }
}
impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(log) = self.log.get() {
            let mut state = log.state.lock();
            state.closed = true;
            log.wake_all(state).wake();
        }
    }
}

impl<F: 'static, M: 'static> crate::Registry<F, M> {
    /// Subscribes to every change of this registry made from now on, in the order the changes
    /// took effect: registrations, replacements and removals of run-time and `#[dynamic]`
    /// names, and the drain of each retired handler. See [`Changes`].
    ///
    /// A subscriber never slows the registry: it may fall [`DEFAULT_CHANGES_CAPACITY`] changes
    /// behind before the oldest are dropped (and reported as [`ChangeKind::Lagged`]).
    pub fn subscribe(&self) -> Changes {
        self.changes.subscribe(DEFAULT_CHANGES_CAPACITY)
    }

    /// [`subscribe`](Self::subscribe) with room for `capacity` undelivered changes (at least 1).
    pub fn subscribe_with_capacity(&self, capacity: usize) -> Changes {
        self.changes.subscribe(capacity)
    }
}
