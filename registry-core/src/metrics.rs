//! Per-name call metrics, kept per thread so that recording a call writes no shared memory.
//!
//! Every thread that calls through a registry owns a small table of counters behind its own
//! mutex: the call path locks a mutex no other thread touches (an uncontended atomic on a cache
//! line this core already owns), and only [`Registry::stats`](crate::Registry::stats) visits
//! every thread's table to add them up. A shared counter per name would instead bounce its cache
//! line between cores on every call of a popular handler. Tables outlive their threads (a new
//! thread may reuse one), so nothing recorded is lost when a worker exits.
//!
//! The calls of static names running now ([`EntryInfo::in_flight`](crate::EntryInfo::in_flight))
//! are counted the same way: each thread has a counter per declaration, 16 to a cache-line pair,
//! raised when a call starts and lowered when it ends, by the thread that owns it (a plain load
//! and store, no atomic read-modify-write); a reader adds every thread's counters up. An async
//! call that ends on another thread lowers that thread's counter, so the sum is taken with
//! wrapping arithmetic. (Calls of overlay names are counted by the `Arc`s they hold; see
//! drain.rs.)

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use foldhash::fast::FixedState;
use once_cell::sync::OnceCell;
use parking_lot::Mutex;
use thread_local::ThreadLocal;

/// Keys are names that resolved to a handler, never arbitrary input, so a fixed-seed fast hash
/// cannot be flooded.
type Table = HashMap<Cow<'static, str>, Counters, FixedState>;

pub(crate) struct Metrics {
    /// The registry's name as the `metrics` feature labels it (`registry`).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) label: &'static str,
    enabled: AtomicBool,
    threads: ThreadLocal<PerThread>,
}

/// One thread's metrics.
#[derive(Default)]
pub(crate) struct PerThread {
    table: Mutex<Table>,
    /// Per declaration, the static calls this thread started minus those it ended.
    running: OnceCell<Box<[Line]>>,
}

/// Running-call counters of 16 declarations, alone on a cache-line pair (the prefetcher pulls
/// lines in pairs), so that two threads never write to one line.
#[repr(align(128))]
#[derive(Default)]
struct Line([AtomicUsize; PER_LINE]);

const PER_LINE: usize = 16;

impl PerThread {
    /// This thread's counter for declaration `entry` of `entries`.
    #[inline]
    fn running(&self, entries: usize, entry: u32) -> &AtomicUsize {
        let lines = self.running.get_or_init(|| {
            (0..entries.div_ceil(PER_LINE))
                .map(|_| Line::default())
                .collect()
        });
        let entry = entry as usize;
        &lines[entry / PER_LINE].0[entry % PER_LINE]
    }
}

/// Adds `delta` to a counter only the calling thread writes.
#[inline]
fn bump(counter: &AtomicUsize, delta: usize) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(delta),
        Ordering::Relaxed,
    );
}

/// A call being measured: when it started, on whose metrics, and (for a static name) the
/// declaration and registry size whose running count it raised until the timer is dropped,
/// whether the call finished or was abandoned.
pub(crate) struct Timer<'a> {
    at: Instant,
    metrics: &'a Metrics,
    thread: &'a PerThread,
    running: Option<(usize, u32)>,
    /// The call may end on another thread (an async call): count its end on that thread.
    moved: bool,
}

impl<'a> Timer<'a> {
    /// Marks the call as one that may end on another thread.
    pub(crate) fn may_move(&mut self) {
        self.moved = true;
    }

    /// The metrics of the thread the call ends on (the current one).
    fn ending_thread(&self) -> &'a PerThread {
        if self.moved {
            self.metrics.thread()
        } else {
            self.thread
        }
    }
}

impl Drop for Timer<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some((entries, entry)) = self.running {
            bump(self.ending_thread().running(entries, entry), usize::MAX);
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Counters {
    calls: u64,
    panics: u64,
    denied: u64,
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
    pub(crate) const fn new(label: &'static str) -> Self {
        Metrics {
            label,
            enabled: AtomicBool::new(true),
            threads: ThreadLocal::new(),
        }
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// The start of a measured call (the caller checked that metrics are on). `running` is
    /// `(declarations, entry)` for a static name, whose running count goes up until the timer
    /// is dropped.
    #[inline]
    pub(crate) fn start(&self, running: Option<(usize, u32)>) -> Option<Timer<'_>> {
        let thread = self.thread();
        if let Some((entries, entry)) = running {
            bump(thread.running(entries, entry), 1);
        }
        Some(Timer {
            at: Instant::now(),
            metrics: self,
            thread,
            running,
            moved: false,
        })
    }

    #[inline]
    fn thread(&self) -> &PerThread {
        self.threads.get_or(PerThread::default)
    }

    /// Counts a finished call under `key`, in the table of the thread it ended on.
    pub(crate) fn finish(mut timer: Timer<'_>, key: Key<'_>, panicked: bool) {
        let elapsed = timer.at.elapsed();
        let thread = timer.ending_thread();
        if let Some((entries, entry)) = timer.running.take() {
            bump(thread.running(entries, entry), usize::MAX);
        }
        #[cfg(feature = "metrics")]
        crate::exporter::finished(timer.metrics.label, &key, panicked, elapsed);
        let mut table = thread.table.lock();
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

    /// Counts a call refused by its check (the caller checked that metrics are on).
    #[cold]
    pub(crate) fn deny(&self, key: Key<'_>) {
        #[cfg(feature = "metrics")]
        crate::exporter::denied(self.label, &key);
        counters(&mut self.thread().table.lock(), key).denied += 1;
    }

    /// Counts a panic of `key` outside any call: the drop of a retired handler or of its
    /// metadata panicked (contained by the drain), counted as a panic of the name.
    #[cold]
    pub(crate) fn drop_panicked(&self, key: Key<'_>) {
        counters(&mut self.thread().table.lock(), key).panics += 1;
    }

    /// Static calls of declaration `entry` running now, as the threads' counters add up (a
    /// snapshot racing a call that ends on another thread may be off by that call).
    pub(crate) fn running(&self, entry: u32) -> usize {
        let entry = entry as usize;
        let sum = self
            .threads
            .iter()
            .filter_map(|thread| thread.running.get()?.get(entry / PER_LINE))
            .fold(0usize, |sum, line| {
                sum.wrapping_add(line.0[entry % PER_LINE].load(Ordering::Relaxed))
            });
        usize::try_from(sum as isize).unwrap_or(0)
    }

    /// Drops every thread's counters of a run-time name.
    pub(crate) fn forget(&self, name: &str) {
        for thread in self.threads.iter() {
            thread.table.lock().remove(name);
        }
    }

    /// Clears every thread's counters (running calls stay counted: they belong to calls that
    /// have not ended).
    pub(crate) fn reset(&self) {
        for thread in self.threads.iter() {
            thread.table.lock().clear();
        }
    }

    /// Adds up every thread's table, locking one at a time so that no call waits for long.
    pub(crate) fn snapshot(&self) -> Vec<Stats> {
        let mut sums: HashMap<String, Counters> = HashMap::new();
        for thread in self.threads.iter() {
            for (name, counters) in thread.table.lock().iter() {
                let sum = match sums.get_mut(&**name) {
                    Some(sum) => sum,
                    None => sums.entry(name.to_string()).or_default(),
                };
                sum.calls += counters.calls;
                sum.panics += counters.panics;
                sum.denied += counters.denied;
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
                denied: sum.denied,
                total_time: sum.total,
                max_time: sum.max,
            })
            .collect();
        stats.sort_by(|a, b| a.name.cmp(&b.name));
        stats
    }
}

/// The counters of `key` in one thread's table, added on first use (off the hot path: the key
/// of a run-time name is looked up twice).
fn counters<'t>(table: &'t mut Table, key: Key<'_>) -> &'t mut Counters {
    let name = match key {
        Key::Declared(name) => Cow::Borrowed(name),
        Key::Runtime(name) if table.contains_key(name) => {
            return table.get_mut(name).expect("checked above")
        }
        Key::Runtime(name) => Cow::Owned(name.to_owned()),
    };
    table.entry(name).or_default()
}

/// What [`Registry::stats`](crate::Registry::stats) reports for one name: how often its handler
/// was called through [`Registry::call`](crate::Registry::call) or
/// [`Registry::call_async`](crate::Registry::call_async), how often it panicked, and how long
/// the calls took.
///
/// Calls through an alias count under the handler's primary name.
///
/// ```
/// # extern crate registry_core as handler_registry;
/// use handler_registry::Registry;
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
/// # Ok::<(), handler_registry::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    name: String,
    calls: u64,
    panics: u64,
    denied: u64,
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

    /// Calls refused by the check of [`Registry::call_as`](crate::Registry::call_as): the
    /// handler did not run, and they are not among [`calls`](Stats::calls).
    pub fn denied(&self) -> u64 {
        self.denied
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
