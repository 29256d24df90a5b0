//! Per-name call metrics, kept per thread so that recording a call writes no shared memory.
//!
//! Every thread that calls through a registry owns a small table of counters behind its own
//! mutex: the call path locks a mutex no other thread touches (an uncontended atomic on a cache
//! line this core already owns), and only [`Registry::stats`](crate::Registry::stats) visits
//! every thread's table to add them up. A shared counter per name would instead bounce its cache
//! line between cores on every call of a popular handler. Tables outlive their threads (a new
//! thread may reuse one), so nothing recorded is lost when a worker exits.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use foldhash::fast::FixedState;
use parking_lot::Mutex;
use thread_local::ThreadLocal;

/// Keys are names that resolved to a handler, never arbitrary input, so a fixed-seed fast hash
/// cannot be flooded.
type Table = HashMap<Cow<'static, str>, Counters, FixedState>;

pub(crate) struct Metrics {
    enabled: AtomicBool,
    threads: ThreadLocal<Mutex<Table>>,
}

#[derive(Clone, Copy, Default)]
struct Counters {
    calls: u64,
    panics: u64,
    total: Duration,
    max: Duration,
}

/// The name a call is counted under: a declared handler's primary name (so aliases add up
/// under it, without allocating), or a name added at run time.
pub(crate) enum Key<'a> {
    Declared(&'static str),
    Runtime(&'a str),
}

impl Metrics {
    pub(crate) const fn new() -> Self {
        Metrics {
            enabled: AtomicBool::new(true),
            threads: ThreadLocal::new(),
        }
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// The start of a timed call, or `None` when metrics are off (then nothing else is done).
    #[inline]
    pub(crate) fn start(&self) -> Option<Instant> {
        if self.enabled() {
            Some(Instant::now())
        } else {
            None
        }
    }

    pub(crate) fn record(&self, key: Key<'_>, elapsed: Duration, panicked: bool) {
        let mut table = self
            .threads
            .get_or(|| Mutex::new(HashMap::with_hasher(FixedState::default())))
            .lock();
        let counters = match key {
            Key::Declared(name) => table.entry(Cow::Borrowed(name)).or_default(),
            Key::Runtime(name) => match table.get_mut(name) {
                Some(counters) => counters,
                None => table.entry(Cow::Owned(name.to_owned())).or_default(),
            },
        };
        counters.calls += 1;
        counters.panics += u64::from(panicked);
        counters.total = counters.total.saturating_add(elapsed);
        counters.max = counters.max.max(elapsed);
    }

    /// Adds up every thread's table, locking one at a time so that no call waits for long.
    pub(crate) fn snapshot(&self) -> Vec<Stats> {
        let mut sums: HashMap<String, Counters> = HashMap::new();
        for table in self.threads.iter() {
            for (name, counters) in table.lock().iter() {
                let sum = match sums.get_mut(&**name) {
                    Some(sum) => sum,
                    None => sums.entry(name.to_string()).or_default(),
                };
                sum.calls += counters.calls;
                sum.panics += counters.panics;
                sum.total = sum.total.saturating_add(counters.total);
                sum.max = sum.max.max(counters.max);
            }
        }
        let mut stats: Vec<Stats> = sums
            .into_iter()
            .map(|(name, sum)| Stats {
                name,
                calls: sum.calls,
                panics: sum.panics,
                total_time: sum.total,
                max_time: sum.max,
            })
            .collect();
        stats.sort_by(|a, b| a.name.cmp(&b.name));
        stats
    }
}

/// What [`Registry::stats`](crate::Registry::stats) reports for one name: how often its handler
/// was called through [`Registry::call`](crate::Registry::call) or
/// [`Registry::call_async`](crate::Registry::call_async), how often it panicked, and how long
/// the calls took.
///
/// Calls through an alias count under the handler's primary name.
///
/// ```
/// use registry_core::Registry;
///
/// let jobs: Registry<fn(u64) -> u64> = Registry::new();
/// jobs.register("square", |x| x * x)?;
/// jobs.call("square", |square| square(3))?;
/// jobs.call("square", |square| square(4))?;
///
/// let stats = jobs.stats();
/// assert_eq!(stats[0].name(), "square");
/// assert_eq!(stats[0].calls(), 2);
/// assert_eq!(stats[0].panics(), 0);
/// assert!(stats[0].max_time() <= stats[0].total_time());
/// # Ok::<(), registry_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    name: String,
    calls: u64,
    panics: u64,
    total_time: Duration,
    max_time: Duration,
}

impl Stats {
    /// The handler's name (the primary name for a declared handler).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls that finished: returned, panicked, or (async calls) timed out or were cancelled.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Calls that ended in a panic, caught and reported as [`Error::Panicked`](crate::Error::Panicked).
    pub fn panics(&self) -> u64 {
        self.panics
    }

    /// The time all calls took together, from the call to its result.
    pub fn total_time(&self) -> Duration {
        self.total_time
    }

    /// The longest single call.
    pub fn max_time(&self) -> Duration {
        self.max_time
    }
}
