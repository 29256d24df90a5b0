//! Change events: every registration, replacement, removal and drain of a registry, in the
//! order they took effect, to every subscriber.
//!
//! The rules, stated once:
//! - **Order.** A change is posted to the hub's outbox while the writer still holds the
//!   overlay's write lock, so changes are numbered (gap-free per registry) and queued in the
//!   order they took effect. Posting takes only the outbox's lock, held for a push: no writer
//!   waits for subscribers while it holds the overlay lock, so lookups never do either.
//! - **Delivery outside the overlay lock.** After releasing the overlay lock the writer flushes
//!   the outbox: under the hub's lock, whoever flushes takes every queued change in order and
//!   pushes it to each subscriber's queue, so deliveries never overtake each other. A change
//!   reaches only the subscribers that existed when it was posted.
//! - **Wake-ups with no lock held.** Waking a subscriber runs its waker (the user's code, which
//!   may use the registry): queues are woken after the hub's lock is let go.
//! - **Never blocking a writer.** Each subscriber has a bounded queue. A full queue drops its
//!   oldest change and counts it; the subscriber's next receive reports the gap as one
//!   [`ChangeKind::Lagged`] change before the changes it kept, as `tokio::sync::broadcast`
//!   does.
//! - **A dropped subscriber costs nothing**: the hub holds subscribers weakly and forgets dead
//!   ones at the next change. With no subscriber a change costs a lock and an increment.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use std::future::poll_fn;
use std::task::{Poll, Waker};

use crate::sync::{const_fn_unless_loom, Condvar, Mutex};

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
    /// This subscriber fell behind and `missed` changes were dropped from its queue, starting at
    /// [`Change::seq`]. [`Change::name`] is empty and [`Change::version`] is 0.
    Lagged {
        /// How many changes were dropped.
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
/// down: when it falls more than its capacity behind, the oldest changes are dropped and the
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
    queue: Arc<Queue>,
}

struct Queue {
    state: Mutex<QueueState>,
    /// Wakes a receiver blocked in `recv_timeout`.
    ready: Condvar,
}

struct QueueState {
    changes: VecDeque<Change>,
    capacity: usize,
    /// Changes dropped since the last receive, the first of them numbered `first_missed`.
    missed: u64,
    first_missed: u64,
    /// The registry is gone: nothing more will come.
    closed: bool,
    /// The task waiting in `recv`, woken after every lock of the registry is let go.
    waker: Option<Waker>,
}

impl Changes {
    /// The next change if one is waiting, without blocking.
    pub fn try_recv(&mut self) -> Option<Change> {
        self.queue.state.lock().take().ok()
    }

    /// The next change, waiting for one at most `timeout`; `None` if none came in time or the
    /// registry is gone.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Change> {
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))))?;
        let mut state = self.queue.state.lock();
        loop {
            match state.take() {
                Ok(change) => return Some(change),
                Err(Closed(true)) => return None,
                Err(Closed(false)) if Instant::now() >= deadline => return None,
                Err(Closed(false)) => {
                    // Looked at and waited on under the same lock: a delivery in between is
                    // not missed.
                    state = self.queue.ready.wait_until(state, deadline).0;
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
            let mut state = self.queue.state.lock();
            match state.take() {
                Ok(change) => Poll::Ready(Some(change)),
                Err(Closed(true)) => Poll::Ready(None),
                Err(Closed(false)) => {
                    // Registered under the lock the delivery takes: it cannot be missed. The
                    // waker replaced, if any, is dropped after the lock is let go.
                    let previous = match &state.waker {
                        Some(waker) if waker.will_wake(cx.waker()) => None,
                        _ => state.waker.replace(cx.waker().clone()),
                    };
                    drop(state);
                    drop(previous);
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// How many changes this subscriber can fall behind before it lags.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.queue.state.lock().capacity
    }
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.queue.state.lock();
        f.debug_struct("Changes")
            .field("waiting", &state.changes.len())
            .field("capacity", &state.capacity)
            .field("closed", &state.closed)
            .finish()
    }
}

/// Nothing to receive; `true` when nothing ever will be.
struct Closed(bool);

impl QueueState {
    fn take(&mut self) -> Result<Change, Closed> {
        if self.missed > 0 {
            let lagged = Change {
                name: Arc::from(""),
                kind: ChangeKind::Lagged {
                    missed: self.missed,
                },
                version: 0,
                seq: self.first_missed,
            };
            self.missed = 0;
            return Ok(lagged);
        }
        self.changes.pop_front().ok_or(Closed(self.closed))
    }
}

impl Queue {
    /// Queues `change`; the task to wake, once every lock is let go.
    fn push(&self, change: Change) -> Option<Waker> {
        let mut state = self.state.lock();
        if state.changes.len() == state.capacity {
            let dropped = state
                .changes
                .pop_front()
                .expect("a full queue has a change");
            if state.missed == 0 {
                state.first_missed = dropped.seq;
            }
            state.missed += 1;
        }
        state.changes.push_back(change);
        let waker = state.waker.take();
        drop(state);
        self.ready.notify_all();
        waker
    }

    /// Nothing more will come; the task to wake.
    fn close(&self) -> Option<Waker> {
        let mut state = self.state.lock();
        state.closed = true;
        let waker = state.waker.take();
        drop(state);
        self.ready.notify_all();
        waker
    }
}

/// A registry's subscribers, and the changes posted but not delivered yet.
pub(crate) struct Hub {
    outbox: Mutex<Outbox>,
    /// The subscribers; held by whoever delivers, so that deliveries keep the posting order.
    subscribers: Mutex<Vec<Subscriber>>,
}

struct Outbox {
    /// The number of the last change posted.
    seq: u64,
    /// Whether anybody subscribed yet: until then a change is only numbered.
    watched: bool,
    pending: VecDeque<Change>,
}

struct Subscriber {
    queue: Weak<Queue>,
    /// The first change it receives: the first posted after it subscribed.
    from: u64,
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
                subscribers: Mutex::new(Vec::new()),
            }
        }
    }

    pub(crate) fn subscribe(&self, capacity: usize) -> Changes {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState {
                changes: VecDeque::new(),
                capacity: capacity.max(1),
                missed: 0,
                first_missed: 0,
                closed: false,
                waker: None,
            }),
            ready: Condvar::new(),
        });
        let mut subscribers = self.subscribers.lock();
        let from = {
            let mut outbox = self.outbox.lock();
            outbox.watched = true;
            outbox.seq + 1
        };
        subscribers.push(Subscriber {
            queue: Arc::downgrade(&queue),
            from,
        });
        Changes { queue }
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

    /// Delivers every change posted so far, in order, then wakes the subscribers it reached
    /// with no lock held.
    pub(crate) fn flush(&self) {
        self.deliver().wake();
    }

    /// Delivers every change posted so far, in order; the subscribers to wake once the caller
    /// has let every lock go.
    #[must_use = "the subscribers reached must be woken"]
    pub(crate) fn deliver(&self) -> Wakers {
        let mut woken: Vec<Waker> = Vec::new();
        let mut subscribers = self.subscribers.lock();
        loop {
            let Some(change) = self.outbox.lock().pending.pop_front() else {
                break;
            };
            subscribers.retain(|subscriber| match subscriber.queue.upgrade() {
                Some(queue) => {
                    if change.seq >= subscriber.from {
                        woken.extend(queue.push(change.clone()));
                    }
                    true
                }
                None => false,
            });
        }
        drop(subscribers);
        Wakers(woken)
    }
}

/// Tasks to wake once every lock of the registry is let go.
pub(crate) struct Wakers(pub(crate) Vec<Waker>);

impl Wakers {
    /// Wakes every task. A waker is the user's code and may use the registry; if one panics,
    /// the others are still woken, then the first panic goes on to the caller.
    pub(crate) fn wake(self) {
        let mut panicked = None;
        for waker in self.0 {
            if let Err(payload) =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()))
            {
                panicked.get_or_insert(payload);
            }
        }
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let queues: Vec<Arc<Queue>> = self
            .subscribers
            .lock()
            .iter()
            .filter_map(|subscriber| subscriber.queue.upgrade())
            .collect();
        Wakers(queues.iter().filter_map(|queue| queue.close()).collect()).wake();
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
