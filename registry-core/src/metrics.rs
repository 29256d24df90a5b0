//! Per-name call metrics, kept per thread so that recording a call writes no shared memory.
//!
//! Every thread that calls through a registry owns a table of counters. A declared name's
//! counters sit at its declaration's index in an array of slots (a cache line each), so a call
//! finds them by the index its lookup already produced, without hashing the name again. Only
//! the owning thread writes a slot, with a plain load and store per counter (no lock, no atomic
//! read-modify-write); [`Registry::stats`](crate::Registry::stats) visits every thread's slots
//! to add them up. A shared counter per name would instead bounce its cache line between cores
//! on every call of a popular handler. What has no index, or is rare, is counted by name in a
//! table behind a mutex of the thread's own, which only `stats`, `reset_stats` and the
//! forgetting of a removed name contend with: everything about names added at run time, and
//! the panics of declared names. Tables outlive their threads (a new thread may reuse one), so
//! nothing recorded is lost when a worker exits.
//!
//! Calls are timed with the CPU's time-stamp counter through [`quanta`] (8 ns a reading where
//! BENCHMARKS.md's "Call metrics by declaration index" was measured, against 17 ns for
//! `Instant::now()`, which reads the same counter through the vDSO). Two readings per call
//! would still cost more than the rest of a static name's call, so each thread times one call
//! of each static name in [`SAMPLE`]: the first it starts after a reset, and each it starts
//! when it has started a multiple of `SAMPLE` calls of the name; `stats` scales the timed
//! calls' total up by calls / timed calls. Calls of run-time and `#[dynamic]` names, which take
//! a lock or hold a handler anyway, are all timed; so is every call with the `metrics` feature,
//! whose histogram wants each one.
//!
//! `reset_stats` writes nothing a calling thread writes: it records what each slot holds as
//! that slot's baseline, which `stats` subtracts, and starts a new epoch; a slot's longest call
//! counts only if it was measured in the current epoch. The tables by name are cleared under
//! their mutexes.
//!
//! The calls of static names running now ([`EntryInfo::in_flight`](crate::EntryInfo::in_flight))
//! come from the same slots, with no counter of their own: a static call adds one to `started`
//! on the thread it starts on and, when it ends, one to `calls` on the thread it ends on, so the
//! running calls are the sum over threads of `started - calls + adjust`, where `adjust` makes
//! up for the calls counted without having started as static calls (a mocked or `#[dynamic]`
//! name's, +1) and the static calls that ended without being counted (an async call dropped
//! before it finished, -1). An async call can start on one thread and end on another, so the
//! sum is taken with wrapping arithmetic. (Calls of overlay names are counted by the handlers
//! they hold; see drain.rs.)
//!
//! Finding the calling thread's table through `ThreadLocal` costs a call into another crate
//! and a chain of dependent loads; each thread therefore remembers the table it used last, with
//! the id of the metrics it belongs to. The rule that makes that sound:
//!
//! **A thread's remembered table is used only by the metrics whose id it was remembered with.**
//! Ids are given out once per process (a counter that never repeats), a `Metrics` keeps its id
//! for life, and `ThreadLocal` neither moves nor frees a thread's value while it lives (nothing
//! here takes `&mut` of it). So a matching id means the table belongs to the `Metrics` at hand,
//! which the caller borrows: it is alive. A table remembered from a dropped `Metrics` is never
//! matched again. (A thread that records a call from a thread-local destructor, after
//! `thread_local` handed its table to a new thread, may share it with that thread: the
//! counters are atomics, so at worst an increment is lost.)

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(
    clippy::cast_possible_truncation,
    reason = "counts and nanoseconds of a process fit 64 bits; declaration indices are u32 by design"
)]
#![allow(
    clippy::cast_possible_wrap,
    reason = "a wrapping difference of per-thread counters, read back as signed on purpose"
)]
#![allow(
    clippy::inline_always,
    reason = "the call path is only cheap inlined into its caller (BENCHMARKS.md, section Call metrics by declaration index)"
)]
#![allow(
    clippy::needless_pass_by_value,
    reason = "a Timer or Key is consumed by the call it records, by design"
)]

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use foldhash::fast::FixedState;
use once_cell::sync::{Lazy, OnceCell};
use parking_lot::Mutex;
use thread_local::ThreadLocal;

/// One call of a static name in `SAMPLE`, per thread, is timed (a power of two: the test is a
/// mask). With the `metrics` feature every call is, for its `handler_duration_seconds`.
const SAMPLE: u64 = 64;

/// The next id of a `Metrics` (0 is "none yet").
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The id of the metrics this thread last recorded a call in, and its table there (see the
    /// rule at the top of this file); `u64::MAX`, no id, until then.
    static LAST: Cell<(u64, *const PerThread)> = const { Cell::new((u64::MAX, std::ptr::null())) };
}

/// Counters by name. Keys are names that resolved to a handler, never arbitrary input, so a
/// fixed-seed fast hash cannot be flooded.
type Table = HashMap<Box<str>, Counts, FixedState>;

/// What the metrics need from their registry's frozen table.
pub(crate) trait Declarations {
    /// How many declarations the table holds.
    fn count(&self) -> usize;
    /// The primary name of declaration `index`.
    fn name(&self, index: u32) -> &'static str;
}

pub(crate) struct Metrics {
    /// This metrics' id in the threads' memory of their last table, given on first use.
    id: AtomicU64,
    /// The registry's name (a `#[registry]` static's path; empty for a standalone registry):
    /// the `registry` label of the `metrics` feature, and the name a freeze panic gives.
    pub(crate) label: &'static str,
    enabled: AtomicBool,
    /// Raised by every reset: a slot's `max` counts only if measured in the current epoch.
    epoch: AtomicU64,
    /// How many slots a thread's array has (the registry's declarations), known at its first
    /// call.
    declarations: OnceCell<usize>,
    threads: ThreadLocal<PerThread>,
    /// What is counted outside any call (a retired handler's drop that panicked): rare, so in
    /// one table for every thread, made on first use.
    elsewhere: OnceCell<Mutex<Table>>,
}

/// One thread's metrics.
pub(crate) struct PerThread {
    /// Per declaration, written by this thread only.
    declared: Box<[Pair]>,
    /// Per declaration, what `declared` held at the last reset. Read and written by `stats` and
    /// `reset_stats` only.
    base: Mutex<Vec<Counts>>,
    /// By name: run-time names, and declared names' panics.
    named: Mutex<Table>,
}

/// Two slots, alone on a cache-line pair (the prefetcher pulls lines in pairs), so that two
/// threads never write to one line.
#[repr(align(128))]
#[derive(Default)]
struct Pair([Slot; 2]);

/// One declaration's counters on one thread. Written by that thread only, with `Relaxed` loads
/// and stores: there is no other writer whose update could be lost, and a reader needs a recent
/// value of each counter on its own, not an order between counters (a snapshot racing a call
/// may see part of it). `max_epoch` is the one exception: see [`Slot::time`].
#[derive(Default)]
struct Slot {
    /// Static calls started on this thread.
    started: AtomicU64,
    /// Calls that ended on this thread, counted under this declaration.
    calls: AtomicU64,
    /// `calls` less the static calls that ended on this thread (wrapping; see the top of this
    /// file).
    adjust: AtomicU64,
    denied: AtomicU64,
    /// Calls timed, and their total and longest time in nanoseconds.
    timed: AtomicU64,
    time: AtomicU64,
    max: AtomicU64,
    /// The epoch `max` was measured in.
    max_epoch: AtomicU64,
}

/// Counters as plain numbers: a name's in a table, a slot's as read, a baseline, a sum.
#[derive(Clone, Copy, Default)]
struct Counts {
    calls: u64,
    panics: u64,
    denied: u64,
    timed: u64,
    time: u64,
    max: u64,
}

/// Adds `delta` to a counter only the calling thread writes (wrapping: `adjust` goes below
/// zero).
#[inline]
fn bump(counter: &AtomicU64, delta: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(delta),
        Ordering::Relaxed,
    );
}

/// The clock calls are timed with: the time-stamp counter where quanta finds it invariant, else
/// the OS's monotonic clock. Calibrated once per process, by the first timed call (about half a
/// millisecond).
fn clock() -> &'static quanta::Clock {
    static CLOCK: Lazy<quanta::Clock> = Lazy::new(quanta::Clock::new);
    &CLOCK
}

/// The clock's raw reading now.
#[cold]
fn now() -> u64 {
    clock().raw()
}

/// Nanoseconds since the raw reading `at` (zero if the time-stamp counters of the cores the call
/// started and ended on disagree by more).
#[cold]
fn elapsed(at: u64) -> u64 {
    clock().delta_as_nanos(at, clock().raw())
}

impl Slot {
    /// Counts a static call starting on the owning thread, and tells whether to time it: the
    /// first since a reset (no time measured in this epoch yet), then one in `SAMPLE`.
    #[inline]
    fn start(&self, epoch: &AtomicU64) -> bool {
        let started = self.started.load(Ordering::Relaxed);
        self.started
            .store(started.wrapping_add(1), Ordering::Relaxed);
        // Relaxed: a stale epoch only times one call more or less.
        cfg!(feature = "metrics")
            || started % SAMPLE == 0
            || self.max_epoch.load(Ordering::Relaxed) != epoch.load(Ordering::Relaxed)
    }

    /// Counts a call that ended on the owning thread, with its time if it was timed.
    #[inline]
    fn finished(&self, nanos: Option<u64>, epoch: &AtomicU64) {
        bump(&self.calls, 1);
        if let Some(nanos) = nanos {
            self.time(nanos, epoch);
        }
    }

    /// Adds a timed call's time, and makes it the longest of the epoch if it is.
    #[cold]
    fn time(&self, nanos: u64, epoch: &AtomicU64) {
        bump(&self.timed, 1);
        self.time.store(
            self.time.load(Ordering::Relaxed).saturating_add(nanos),
            Ordering::Relaxed,
        );
        // Relaxed: an epoch read late only counts this call's time toward the epoch before.
        let epoch = epoch.load(Ordering::Relaxed);
        if self.max_epoch.load(Ordering::Relaxed) != epoch {
            self.max.store(nanos, Ordering::Relaxed);
            // Release, paired with the Acquire in `counts`: a reader that sees the new epoch
            // sees this call's time in `max`, not the previous epoch's.
            self.max_epoch.store(epoch, Ordering::Release);
        } else if nanos > self.max.load(Ordering::Relaxed) {
            self.max.store(nanos, Ordering::Relaxed);
        }
    }

    /// Static calls that started minus those that ended, as far as this thread saw them.
    fn running(&self) -> u64 {
        let started = self.started.load(Ordering::Relaxed);
        let calls = self.calls.load(Ordering::Relaxed);
        started
            .wrapping_sub(calls)
            .wrapping_add(self.adjust.load(Ordering::Relaxed))
    }

    /// What the slot holds, its longest call only if measured in `epoch`.
    fn counts(&self, epoch: u64) -> Counts {
        let max = if self.max_epoch.load(Ordering::Acquire) == epoch {
            self.max.load(Ordering::Relaxed)
        } else {
            0
        };
        Counts {
            calls: self.calls.load(Ordering::Relaxed),
            panics: 0,
            denied: self.denied.load(Ordering::Relaxed),
            timed: self.timed.load(Ordering::Relaxed),
            time: self.time.load(Ordering::Relaxed),
            max,
        }
    }
}

impl Counts {
    /// These counts less a baseline taken earlier from the same slot (its counters only grow).
    fn since(self, base: Option<&Counts>) -> Counts {
        let Some(base) = base else { return self };
        Counts {
            calls: self.calls.saturating_sub(base.calls),
            panics: self.panics.saturating_sub(base.panics),
            denied: self.denied.saturating_sub(base.denied),
            timed: self.timed.saturating_sub(base.timed),
            time: self.time.saturating_sub(base.time),
            max: self.max,
        }
    }

    fn add(&mut self, other: &Counts) {
        self.calls += other.calls;
        self.panics += other.panics;
        self.denied += other.denied;
        self.timed += other.timed;
        self.time = self.time.saturating_add(other.time);
        self.max = self.max.max(other.max);
    }

    /// A run-time name's finished call, with its time (every such call is timed).
    fn finished(&mut self, nanos: Option<u64>) {
        self.calls += 1;
        if let Some(nanos) = nanos {
            self.timed += 1;
            self.time = self.time.saturating_add(nanos);
            self.max = self.max.max(nanos);
        }
    }

    /// The total time of all calls: the timed calls' total, scaled up to every call.
    fn total_time(&self) -> Duration {
        if self.timed == 0 {
            return Duration::ZERO;
        }
        // A snapshot racing a call may read its `timed` but not its `calls`.
        let calls = self.calls.max(self.timed);
        let total = u128::from(self.time) * u128::from(calls) / u128::from(self.timed);
        Duration::from_nanos(u64::try_from(total).unwrap_or(u64::MAX))
    }
}

/// The counters of `name` in a table by name, added on first use.
fn named<'t>(table: &'t mut Table, name: &str) -> &'t mut Counts {
    if !table.contains_key(name) {
        table.insert(name.into(), Counts::default());
    }
    table.get_mut(name).expect("inserted above")
}

impl PerThread {
    fn new(declarations: usize) -> Self {
        PerThread {
            declared: (0..declarations.div_ceil(2))
                .map(|_| Pair::default())
                .collect(),
            base: Mutex::default(),
            named: Mutex::default(),
        }
    }

    /// This thread's slot of declaration `entry`.
    #[inline]
    fn slot(&self, entry: u32) -> &Slot {
        slot(&self.declared, entry).expect("one slot per declaration")
    }
}

/// The slots of a thread's array, in declaration order.
fn slots(pairs: &[Pair]) -> impl Iterator<Item = &Slot> {
    pairs.iter().flat_map(|pair| &pair.0)
}

/// Slot `entry` of a thread's array.
#[inline]
fn slot(pairs: &[Pair], entry: u32) -> Option<&Slot> {
    let entry = entry as usize;
    pairs.get(entry / 2).map(|pair| &pair.0[entry % 2])
}

/// A call being measured: on whose metrics, when it started if it is timed, and (for a static
/// name) the declaration and slot whose `started` it raised. Dropped before the call is counted
/// (an async call abandoned), it records that the static call ended.
pub(crate) struct Timer<'a> {
    metrics: &'a Metrics,
    /// The static declaration whose `started` the call raised, and its slot on the thread the
    /// call started on.
    running: Option<(u32, &'a Slot)>,
    /// The clock's raw reading at the start of a timed call.
    at: Option<u64>,
    /// The call may end on another thread (an async call): count its end on that thread.
    moved: bool,
}

impl Timer<'_> {
    /// Marks the call as one that may end on another thread.
    pub(crate) fn may_move(&mut self) {
        self.moved = true;
    }
}

/// A static call dropped before it finished (an async call): not counted, but no longer
/// running.
impl Drop for Timer<'_> {
    fn drop(&mut self) {
        if let Some((entry, slot)) = self.running.take() {
            let slot = if self.moved {
                self.metrics
                    .thread(|| unreachable!("sized by the call's start"))
                    .slot(entry)
            } else {
                slot
            };
            bump(&slot.adjust, u64::MAX);
        }
    }
}

impl Metrics {
    pub(crate) const fn new(label: &'static str) -> Self {
        Metrics {
            id: AtomicU64::new(0),
            label,
            enabled: AtomicBool::new(true),
            epoch: AtomicU64::new(0),
            declarations: OnceCell::new(),
            threads: ThreadLocal::new(),
            elsewhere: OnceCell::new(),
        }
    }

    /// Relaxed, here and in `enabled`: the switch publishes nothing; a call that reads it late
    /// is counted or not, as if it had started a moment earlier.
    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// The calling thread's table, made on its first call with a slot per declaration.
    #[inline]
    fn thread(&self, declarations: impl FnOnce() -> usize) -> &PerThread {
        let (id, thread) = LAST.with(Cell::get);
        // Relaxed: the id is set once, and this thread remembered it after reading it.
        if id == self.id.load(Ordering::Relaxed) {
            // SAFETY: the remembered table belongs to this `Metrics`, by the rule at the top
            // of this file.
            return unsafe { &*thread };
        }
        self.remember_thread(declarations)
    }

    /// [`thread`](Metrics::thread) through `ThreadLocal`, remembered for the next call.
    #[cold]
    #[inline(never)]
    fn remember_thread(&self, declarations: impl FnOnce() -> usize) -> &PerThread {
        let thread = self
            .threads
            .get_or(|| PerThread::new(*self.declarations.get_or_init(declarations)));
        // Relaxed: ids are only compared; `fetch_add` alone makes them unique, and the
        // `compare_exchange` keeps the first one given.
        let id = match self.id.load(Ordering::Relaxed) {
            0 => {
                let fresh = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                match self
                    .id
                    .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => fresh,
                    Err(id) => id,
                }
            }
            id => id,
        };
        LAST.with(|last| last.set((id, thread)));
        thread
    }

    /// The start of a measured call (the caller checked that metrics are on). `running` is the
    /// static declaration, if any, whose call it is (counted as started, and sampled); any
    /// other call is timed.
    #[inline]
    pub(crate) fn start(&self, running: Option<u32>, registry: &impl Declarations) -> Timer<'_> {
        let (running, timed) = match running {
            Some(entry) => {
                let slot = self.thread(|| registry.count()).slot(entry);
                (Some((entry, slot)), slot.start(&self.epoch))
            }
            None => (None, true),
        };
        Timer {
            metrics: self,
            running,
            at: if timed { Some(now()) } else { None },
            moved: false,
        }
    }

    /// Counts a finished call, on the thread it ended on: under declaration `declared`, or
    /// under the run-time `name`.
    #[inline(always)]
    pub(crate) fn finish(
        timer: Timer<'_>,
        declared: Option<u32>,
        name: &str,
        panicked: bool,
        registry: &impl Declarations,
    ) {
        // Not dropped: its drop is for calls abandoned before this (and its guard would keep
        // the timer in memory).
        let timer = ManuallyDrop::new(timer);
        let nanos = timer.at.map(elapsed);
        #[cfg(feature = "metrics")]
        let label = timer.metrics.label;
        match timer.running {
            // The common case, kept inline: a static call that returned on the thread it
            // started on, counted under its declaration.
            Some((entry, slot)) if !timer.moved && !panicked => {
                debug_assert_eq!(declared, Some(entry), "a static call counts under its own");
                slot.finished(nanos, &timer.metrics.epoch);
            }
            _ => Self::finish_elsewhere(
                timer.metrics,
                timer.running.is_some(),
                declared,
                name,
                panicked,
                nanos,
                registry,
            ),
        }
        #[cfg(feature = "metrics")]
        crate::exporter::finished(
            label,
            &Key::of(declared, name, registry),
            panicked,
            nanos.map(Duration::from_nanos),
        );
    }

    /// [`finish`](Metrics::finish) of a call of a run-time or `#[dynamic]` name, of a mocked
    /// one, of one that panicked, or of one that may have moved to another thread. `started`:
    /// whether it was counted as a static call starting.
    #[inline(never)]
    fn finish_elsewhere(
        &self,
        started: bool,
        declared: Option<u32>,
        name: &str,
        panicked: bool,
        nanos: Option<u64>,
        registry: &impl Declarations,
    ) {
        // The thread the call ends on, whether or not it started here.
        let thread = self.thread(|| registry.count());
        if let Some(index) = declared {
            let slot = thread.slot(index);
            slot.finished(nanos, &self.epoch);
            if !started {
                bump(&slot.adjust, 1);
            }
        }
        if declared.is_none() || panicked {
            let name = declared.map_or(name, |index| registry.name(index));
            let mut table = thread.named.lock();
            let counts = named(&mut table, name);
            if declared.is_none() {
                counts.finished(nanos);
            }
            counts.panics += u64::from(panicked);
        }
    }

    /// Counts a call refused by its check (the caller checked that metrics are on).
    #[cold]
    pub(crate) fn deny(&self, declared: Option<u32>, name: &str, registry: &impl Declarations) {
        #[cfg(feature = "metrics")]
        crate::exporter::denied(self.label, &Key::of(declared, name, registry));
        let thread = self.thread(|| registry.count());
        match declared {
            Some(index) => bump(&thread.slot(index).denied, 1),
            None => named(&mut thread.named.lock(), name).denied += 1,
        }
    }

    /// Counts a panic of `key` outside any call: the drop of a retired handler or of its
    /// metadata panicked (contained by the drain), counted as a panic of the name.
    #[cold]
    pub(crate) fn drop_panicked(&self, key: Key<'_>) {
        let (Key::Declared(name) | Key::Runtime(name)) = key;
        named(&mut self.elsewhere.get_or_init(Mutex::default).lock(), name).panics += 1;
    }

    /// Static calls of declaration `entry` running now, as the threads' counters add up (a
    /// snapshot racing a call that ends on another thread may be off by that call).
    pub(crate) fn running(&self, entry: u32) -> usize {
        let sum = self
            .threads
            .iter()
            .filter_map(|thread| slot(&thread.declared, entry))
            .fold(0u64, |sum, slot| sum.wrapping_add(slot.running()));
        usize::try_from(sum as i64).unwrap_or(0)
    }

    /// Drops every thread's counters of a run-time name.
    pub(crate) fn forget(&self, name: &str) {
        for thread in &self.threads {
            thread.named.lock().remove(name);
        }
        if let Some(table) = self.elsewhere.get() {
            table.lock().remove(name);
        }
    }

    /// Counts every name from zero again (running calls stay counted: they belong to calls that
    /// have not ended).
    pub(crate) fn reset(&self) {
        // Relaxed: see `Slot::time`; the epoch is a number compared, not a publication.
        self.epoch.fetch_add(1, Ordering::Relaxed);
        if let Some(table) = self.elsewhere.get() {
            table.lock().clear();
        }
        for thread in &self.threads {
            thread.named.lock().clear();
            let mut base = thread.base.lock();
            base.clear();
            // No epoch is `u64::MAX`: a baseline has no longest call (`since` keeps the slot's).
            base.extend(slots(&thread.declared).map(|slot| slot.counts(u64::MAX)));
        }
    }

    /// Adds up every thread's counters, locking one table at a time so that no call waits for
    /// long.
    pub(crate) fn snapshot(&self, registry: &impl Declarations) -> Vec<Stats> {
        let epoch = self.epoch.load(Ordering::Relaxed);
        let mut sums: Sums = HashMap::new();
        if let Some(table) = self.elsewhere.get() {
            add_table(&mut sums, &table.lock());
        }
        for thread in &self.threads {
            let base = thread.base.lock();
            for (index, slot) in slots(&thread.declared).enumerate() {
                let counts = slot.counts(epoch).since(base.get(index));
                if counts.calls > 0 || counts.denied > 0 {
                    let name = registry.name(index as u32);
                    sums.entry(Cow::Borrowed(name)).or_default().add(&counts);
                }
            }
            drop(base);
            add_table(&mut sums, &thread.named.lock());
        }
        let mut stats: Vec<Stats> = sums
            .into_iter()
            .map(|(name, sum)| Stats {
                name: name.into_owned(),
                calls: sum.calls,
                panics: sum.panics,
                denied: sum.denied,
                total_time: sum.total_time(),
                max_time: Duration::from_nanos(sum.max),
            })
            .collect();
        stats.sort_by(|a, b| a.name.cmp(&b.name));
        stats
    }
}

/// Counts by name, as `stats` adds them up.
type Sums = HashMap<Cow<'static, str>, Counts>;

/// Adds a table of counts by name to `sums`.
fn add_table(sums: &mut Sums, table: &Table) {
    for (name, counts) in table {
        match sums.get_mut(&**name) {
            Some(sum) => sum.add(counts),
            None => {
                sums.insert(Cow::Owned(name.to_string()), *counts);
            }
        }
    }
}

/// The name something is counted under outside a call's own slot (a panicking drop, the
/// `metrics` feature's reports): a declared handler's primary name (so aliases add up under it,
/// without allocating), or a name added at run time.
pub(crate) enum Key<'a> {
    Declared(&'static str),
    Runtime(&'a str),
}

#[cfg(feature = "metrics")]
impl<'a> Key<'a> {
    fn of(declared: Option<u32>, name: &'a str, registry: &impl Declarations) -> Self {
        match declared {
            Some(index) => Key::Declared(registry.name(index)),
            None => Key::Runtime(name),
        }
    }
}

/// What [`Registry::stats`](crate::Registry::stats) reports for one name: how often its handler
/// was called through [`Registry::call`](crate::Registry::call) or
/// [`Registry::call_async`](crate::Registry::call_async), how often it panicked, and how long
/// the calls took.
///
/// Calls through an alias count under the handler's primary name. The counts are exact; the
/// times of a static name's calls come from a sample of them (see
/// [`total_time`](Stats::total_time)).
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

/// One line for logs: `name: N calls, P panics, D denied, total T, max M` (times as `Debug`
/// prints a [`Duration`]).
///
/// ```
/// # extern crate registry_core as handler_registry;
/// let jobs: handler_registry::Registry<fn() -> u8> = handler_registry::Registry::new();
/// jobs.register("tick", || 1)?;
/// jobs.call("tick", |tick| tick())?;
/// let line = jobs.stats()[0].to_string();
/// assert!(line.starts_with("tick: 1 calls, 0 panics, 0 denied, total "), "{line}");
/// # Ok::<(), handler_registry::Error>(())
/// ```
impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} calls, {} panics, {} denied, total {:?}, max {:?}",
            self.name, self.calls, self.panics, self.denied, self.total_time, self.max_time
        )
    }
}

impl Stats {
    /// The handler's name (the primary name for a declared handler).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls that finished: returned, panicked, or (async calls) timed out or were cancelled.
    /// Exact.
    #[must_use]
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Calls that ended in a panic, caught and reported as [`Error::Panicked`](crate::Error::Panicked).
    /// Exact.
    ///
    /// Also counts, without a call, every retired handler of the name (or its metadata) whose
    /// `Drop` panicked when the registry dropped it after a replacement or removal: that panic
    /// is contained and logged, and has no caller to report it to.
    #[must_use]
    pub fn panics(&self) -> u64 {
        self.panics
    }

    /// Calls refused by the check of [`Registry::call_as`](crate::Registry::call_as): the
    /// handler did not run, and they are not among [`calls`](Stats::calls). Exact.
    #[must_use]
    pub fn denied(&self) -> u64 {
        self.denied
    }

    /// The time all calls took together, each from the call to its result.
    ///
    /// Exact, the sum of every call's time, for names added at run time and `#[dynamic]`
    /// names, and for every name with the `metrics` feature. For a static name (declared, not
    /// `#[dynamic]`) it is an estimate from a sample, so that its calls are not slowed by two
    /// clock readings each: every thread times the first call of the name it starts after
    /// [`reset_stats`](crate::Registry::reset_stats) (or ever), and each call it starts when it
    /// has started a multiple of 64 calls of the name (its 1st, 65th, 129th…); this is the
    /// timed calls' total × [`calls`](Stats::calls) / the number of timed calls. It is exact
    /// when all calls take equally long, and otherwise as close to the truth as the sample's
    /// mean time is to the mean of all calls (a call is picked by its place in its thread's
    /// sequence, never by its time). Zero if no call since the last reset was timed, which can
    /// only happen when the calls counted started before it.
    ///
    /// Never less than [`max_time`](Stats::max_time).
    #[must_use]
    pub fn total_time(&self) -> Duration {
        self.total_time
    }

    /// The longest call: exact where [`total_time`](Stats::total_time) is; for a static name
    /// the longest call of the sample, so a rare slow call of a busy static name can go unseen
    /// (the `metrics` feature times every call).
    #[must_use]
    pub fn max_time(&self) -> Duration {
        self.max_time
    }
}
