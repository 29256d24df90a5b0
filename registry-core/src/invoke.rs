//! Calling handlers: lookup, a tracing span, panic isolation and per-name metrics, for plain
//! calls ([`Registry::call`]) and for calls that return a future ([`Registry::call_async`]).

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(
    clippy::inline_always,
    reason = "the static call path is only cheap inlined into its caller (BENCHMARKS.md, section Call metrics by declaration index)"
)]
#![allow(
    clippy::needless_pass_by_value,
    reason = "checks and handlers are taken by value as FnOnce, as their callers pass them"
)]
#![allow(
    clippy::ref_option,
    reason = "a pin-projected field of AsyncCall, borrowed as it is stored"
)]

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tracing::instrument::Instrumented;
use tracing::Instrument;

use crate::drain::Held;
use crate::error::Error;
use crate::metrics::{Declarations, Metrics, Stats, Timer};
use crate::registry::Registry;

impl<F: Clone + Send + Sync + 'static, M: Clone + Send + Sync + 'static> Registry<F, M> {
    /// Looks `name` up and calls `f` with its handler, as one observable, isolated call.
    ///
    /// - `f` runs inside a [`tracing`] span named `handler` with the field `name`, at the `INFO`
    ///   level and with the target `handler_registry` (`RUST_LOG=handler_registry=info` shows
    ///   it); with no subscriber interested, the span costs a load and a branch.
    /// - A panic in `f` is caught and returned as [`Error::Panicked`] with the panic message, so
    ///   the caller and the registry keep working. The panic hook still runs (by default it
    ///   prints the message), and nothing is caught in a program built with `panic = "abort"`.
    ///   As with a thread that panics, data `f` shares with the caller may be left half-updated.
    /// - The call is counted in [`stats`](Registry::stats) under the handler's primary name,
    ///   unless metrics are switched off with [`set_metrics`](Registry::set_metrics).
    /// - No registry lock is held while `f` runs: a slow handler delays no lookup, registration
    ///   or other call, and a handler may itself register, replace or call handlers.
    /// - `f` gets the handler by reference, so a call writes no memory shared with other
    ///   callers, whatever `F` is (an `Arc` is not cloned). A static name's handler is borrowed
    ///   from the frozen table. A `#[dynamic]` or run-time handler is held for the call by
    ///   raising this thread's stripe of its hold count (a cache line no other thread writes):
    ///   if it is replaced or removed meanwhile, the call finishes on it and the registry drops
    ///   it afterwards (see [`drained`](Registry::drained)); it counts in
    ///   [`EntryInfo::in_flight`](crate::EntryInfo::in_flight) until then.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{Error, Registry};
    ///
    /// let math: Registry<fn(i32, i32) -> i32> = Registry::new();
    /// math.register("add", |a, b| a + b)?;
    /// math.register("div", |a, b| a / b)?;
    ///
    /// assert_eq!(math.call("add", |add| add(2, 3))?, 5);
    /// assert!(matches!(math.call("div", |div| div(1, 0)), Err(Error::Panicked { .. })));
    /// assert!(matches!(
    ///     math.call("ad", |add| add(2, 3)),
    ///     Err(Error::NotFound { suggestion: Some(s), .. }) if s == "add"
    /// ));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`] (with a "did you mean" suggestion) when no handler has this name;
    /// [`Error::Panicked`] when `f` panics.
    pub fn call<R>(&self, name: &str, f: impl FnOnce(&F) -> R) -> Result<R, Error> {
        self.call_checked(name, |_| Ok(()), f)
    }

    /// [`call`](Registry::call), guarded: `check` runs on the handler's metadata first, and if
    /// it refuses, the call is [`Error::Denied`] with its reason and the handler never runs.
    ///
    /// The refusal is counted in [`Stats::denied`] (not in [`Stats::calls`]) and recorded in
    /// the call's `handler` span as the field `denied`. An unknown name is
    /// [`Error::NotFound`], as with `call`, without running `check`. A static name's metadata
    /// is read where its handler is (no lock, no copy); a dynamic name's is read from the
    /// handler the call holds, so a replacement cannot change it between the check and the
    /// call.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{Error, Registry};
    ///
    /// #[derive(Clone, Copy, Debug, PartialEq)]
    /// enum Access { Public, Admin }
    ///
    /// let methods: Registry<fn(u32) -> u32, Access> = Registry::new_with_meta();
    /// methods.register_with_meta("m.double", |x| x * 2, Access::Public)?;
    /// methods.register_with_meta("m.reset", |_| 0, Access::Admin)?;
    ///
    /// let public_only = |access: &Access| match access {
    ///     Access::Public => Ok(()),
    ///     Access::Admin => Err("admin only".to_owned()),
    /// };
    /// assert_eq!(methods.call_guarded("m.double", public_only, |double| double(4))?, 8);
    /// let refused = methods.call_guarded("m.reset", public_only, |reset| reset(4));
    /// assert!(matches!(refused, Err(Error::Denied { reason, .. }) if reason == "admin only"));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Denied`], [`Error::Panicked`].
    pub fn call_guarded<R>(
        &self,
        name: &str,
        check: impl FnOnce(&M) -> Result<(), String>,
        f: impl FnOnce(&F) -> R,
    ) -> Result<R, Error> {
        self.call_checked(name, check, f)
    }

    /// The former name of [`call_guarded`](Registry::call_guarded).
    ///
    /// # Errors
    /// As [`call_guarded`](Registry::call_guarded).
    #[deprecated(note = "renamed call_guarded: `_as` names a type, as in `lookup_as`")]
    pub fn call_as<R>(
        &self,
        name: &str,
        check: impl FnOnce(&M) -> Result<(), String>,
        f: impl FnOnce(&F) -> R,
    ) -> Result<R, Error> {
        self.call_checked(name, check, f)
    }

    #[inline(always)]
    fn call_checked<R>(
        &self,
        name: &str,
        check: impl FnOnce(&M) -> Result<(), String>,
        f: impl FnOnce(&F) -> R,
    ) -> Result<R, Error> {
        // The static path on its own: it holds nothing and releases nothing.
        let frozen = self.try_frozen()?;
        if let Some((handler, meta, declared)) = self.mock_for(name) {
            return self.run(name, &handler, || check(&meta), None, declared, f);
        }
        let dynamic = match frozen.find(name) {
            Some(slot) if !slot.dynamic => {
                let check = || check(&frozen.entries[slot.entry() as usize].meta);
                return self.run(
                    name,
                    slot.handler,
                    check,
                    Some(slot.entry()),
                    Some(slot.entry()),
                    f,
                );
            }
            slot => slot.map(|slot| slot.entry()),
        };
        self.call_overlay(name, dynamic, check, f)
    }

    #[inline(never)]
    fn call_overlay<R>(
        &self,
        name: &str,
        dynamic: Option<u32>,
        check: impl FnOnce(&M) -> Result<(), String>,
        f: impl FnOnce(&F) -> R,
    ) -> Result<R, Error> {
        let held = self.hold(name, dynamic)?;
        let check = || check(held.meta());
        held.enter(|| self.run(name, held.handler(), check, None, held.declared(), f))
    }

    /// One call of `handler`, if `check` allows it: `running` is the static declaration whose
    /// running calls it counts, `declared` the declaration whose primary name it is counted
    /// under.
    #[inline(always)]
    fn run<R>(
        &self,
        name: &str,
        handler: &F,
        check: impl FnOnce() -> Result<(), String>,
        running: Option<u32>,
        declared: Option<u32>,
        f: impl FnOnce(&F) -> R,
    ) -> Result<R, Error> {
        let span = call_span(name);
        let _entered = span.enter();
        if let Err(reason) = check() {
            return Err(self.deny(&span, declared, name, reason));
        }
        let timer = self.start(running);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| f(handler)));
        self.record(declared, name, timer, outcome.is_err());
        outcome.map_err(|payload| panicked(name, payload))
    }

    /// The async twin of [`call`](Registry::call): looks `name` up, calls `f` with its handler
    /// to get a future, and returns an [`AsyncCall`] that drives that future.
    ///
    /// Every poll of the handler's future runs inside the `handler` span (through
    /// [`tracing::Instrument`]) and with panics caught, so a panic anywhere in the handler
    /// resolves the call to [`Error::Panicked`]. Add a deadline with
    /// [`AsyncCall::timeout`] and a cancellation signal with [`AsyncCall::cancel_on`]: either
    /// drops the handler's future and resolves to [`Error::TimedOut`] or [`Error::Cancelled`].
    /// Both take plain futures, so this works on any async runtime.
    ///
    /// The lookup and `f` run now; the time counted in [`stats`](Registry::stats) runs from
    /// here to the result. A call dropped before it finishes is not counted. As with `call`, a
    /// `#[dynamic]` or run-time handler is kept alive until the call resolves or is dropped.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{BoxFuture, Registry};
    ///
    /// type Job = fn(u32) -> BoxFuture<'static, u32>;
    /// # async fn example() -> Result<(), handler_registry::Error> {
    /// let jobs: Registry<Job> = Registry::new();
    /// jobs.register("double", |x| Box::pin(async move { x * 2 }))?;
    ///
    /// let output = jobs.call_async("double", |double| double(21)).await?;
    /// assert_eq!(output, 42);
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
    pub fn call_async<'a, Fut: Future>(
        &'a self,
        name: &str,
        f: impl FnOnce(&F) -> Fut,
    ) -> AsyncCall<'a, F, Fut, M> {
        self.call_async_checked(name, |_| Ok(()), f)
    }

    /// The async twin of [`call_guarded`](Registry::call_guarded): `check` runs on the
    /// handler's metadata now, before `f`; a refusal resolves the call to [`Error::Denied`] and
    /// the handler never runs.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{BoxFuture, Error, Registry};
    ///
    /// # async fn example() -> Result<(), Error> {
    /// let jobs: Registry<fn(u32) -> BoxFuture<'static, u32>, bool> = Registry::new_with_meta();
    /// jobs.register_with_meta("purge", |_| Box::pin(async { 0 }), true)?;
    ///
    /// let public_only = |admin: &bool| if *admin { Err("admin only".to_owned()) } else { Ok(()) };
    /// let refused = jobs.call_async_guarded("purge", public_only, |purge| purge(1)).await;
    /// assert!(matches!(refused, Err(Error::Denied { reason, .. }) if reason == "admin only"));
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
    pub fn call_async_guarded<'a, Fut: Future>(
        &'a self,
        name: &str,
        check: impl FnOnce(&M) -> Result<(), String>,
        f: impl FnOnce(&F) -> Fut,
    ) -> AsyncCall<'a, F, Fut, M> {
        self.call_async_checked(name, check, f)
    }

    /// The former name of [`call_async_guarded`](Registry::call_async_guarded).
    #[deprecated(note = "renamed call_async_guarded: `_as` names a type, as in `lookup_as`")]
    pub fn call_async_as<'a, Fut: Future>(
        &'a self,
        name: &str,
        check: impl FnOnce(&M) -> Result<(), String>,
        f: impl FnOnce(&F) -> Fut,
    ) -> AsyncCall<'a, F, Fut, M> {
        self.call_async_checked(name, check, f)
    }

    #[inline(always)]
    fn call_async_checked<'a, Fut: Future>(
        &'a self,
        name: &str,
        check: impl FnOnce(&M) -> Result<(), String>,
        f: impl FnOnce(&F) -> Fut,
    ) -> AsyncCall<'a, F, Fut, M> {
        let mut call = AsyncCall {
            registry: self,
            name: Called::Held,
            early: None,
            handler: None,
            held: None,
            declared: None,
            timer: None,
            deadline: None,
            cancel: None,
        };
        // As in `call`, the static path first: it holds nothing.
        let mock = self.mock_for(name);
        let mut live = None;
        let frozen = match self.try_frozen() {
            Ok(frozen) => frozen,
            Err(error) => {
                call.early = Some(Box::new(error));
                return call;
            }
        };
        let fixed = match (&mock, frozen.find(name)) {
            (Some(_), _) => None,
            (None, Some(slot)) if !slot.dynamic => Some(slot),
            (None, slot) => {
                // A `#[dynamic]` name keeps the declared spelling it was called by; a run-time
                // name is the held handler's own.
                if let Some(slot) = &slot {
                    call.name = Called::Static(slot.name());
                }
                match self.hold(name, slot.map(|slot| slot.entry())) {
                    Ok(held) => {
                        live = Some(held);
                        None
                    }
                    Err(error) => {
                        call.early = Some(Box::new(error));
                        return call;
                    }
                }
            }
        };
        let (handler, meta, running, declared) = match (&mock, fixed, live.as_ref()) {
            (Some((handler, meta, declared)), ..) => {
                call.name = Called::of_mock(frozen.find(name).map(|slot| slot.name()), name);
                (handler, meta, None, *declared)
            }
            (None, Some(slot), _) => {
                call.name = Called::Static(slot.name());
                (
                    slot.handler,
                    &frozen.entries[slot.entry() as usize].meta,
                    Some(slot.entry()),
                    Some(slot.entry()),
                )
            }
            (None, None, Some(held)) => (held.handler(), held.meta(), None, held.declared()),
            (None, None, None) => unreachable!("a name not held is returned early"),
        };
        let span = call_span(name);
        if let Err(reason) = span.in_scope(|| check(meta)) {
            call.early = Some(Box::new(self.deny(&span, declared, name, reason)));
            return call;
        }
        let timer = self.start(running);
        let start = || match live.as_ref() {
            Some(held) => held.enter(|| f(handler)),
            None => f(handler),
        };
        match span.in_scope(|| panic::catch_unwind(AssertUnwindSafe(start))) {
            Ok(future) => {
                call.handler = Some(future.instrument(span));
                call.held = live;
                call.declared = declared;
                call.timer = timer.map(|mut timer| {
                    timer.may_move();
                    timer
                });
            }
            Err(payload) => {
                self.record(declared, name, timer, true);
                call.early = Some(Box::new(panicked(name, payload)));
            }
        }
        call
    }

    /// A snapshot of the metrics of every name called through [`call`](Registry::call) or
    /// [`call_async`](Registry::call_async), sorted by name.
    ///
    /// A name added at run time is listed until it is unregistered and its last call has ended
    /// (its [`Drained`](crate::ChangeKind::Drained) change), so names that come and go do not
    /// accumulate; declared names stay listed. Each thread keeps its own counters (see
    /// [`set_metrics`](Registry::set_metrics)); the snapshot adds them up, one thread at a time,
    /// so calls finishing meanwhile may or may not be included.
    ///
    /// What it promises, for the calls made while metrics were on:
    /// - [`calls`](Stats::calls), [`panics`](Stats::panics) and [`denied`](Stats::denied) are
    ///   exact;
    /// - [`total_time`](Stats::total_time) and [`max_time`](Stats::max_time) are exact for names
    ///   added at run time and `#[dynamic]` names, and for every name with the `metrics`
    ///   feature. For static names they come from a sample: each thread times its first call of
    ///   the name after a [`reset_stats`](Registry::reset_stats) and then one call in 64;
    ///   `total_time` is the sample's total scaled up to every call, `max_time` the longest
    ///   call of the sample.
    ///
    /// # Panics
    /// If the registry cannot be frozen, as [`get`](Registry::get).
    #[track_caller]
    pub fn stats(&self) -> Vec<Stats> {
        self.frozen();
        self.metrics.snapshot(self)
    }

    /// Sets every name's metrics back to zero, as if no call had been made: a test can then
    /// assert exact counts, and a program can report per-interval figures.
    ///
    /// Calls finishing while it runs may be counted before or after the reset. Running calls
    /// ([`EntryInfo::in_flight`](crate::EntryInfo::in_flight)) are not affected.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::Registry;
    ///
    /// let jobs: Registry<fn() -> u8> = Registry::new();
    /// jobs.register("tick", || 1)?;
    /// jobs.call("tick", |tick| tick())?;
    /// jobs.reset_stats();
    /// assert!(jobs.stats().is_empty());
    /// jobs.call("tick", |tick| tick())?;
    /// assert_eq!(jobs.stats()[0].calls(), 1);
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    pub fn reset_stats(&self) {
        self.metrics.reset();
    }

    /// Switches per-name metrics on (the default) or off for calls made from now on; what was
    /// recorded stays in [`stats`](Registry::stats).
    ///
    /// Recording a call updates counters that belong to the calling thread: no lock and no
    /// counter shared between threads, so calls from many threads do not contend. A static
    /// name's counters are found by its declaration's index (its name is not hashed again);
    /// its call is also counted among its running calls for
    /// [`EntryInfo::in_flight`](crate::EntryInfo::in_flight), and one call in 64 per thread is
    /// timed, with two readings of the CPU's time-stamp counter (see [`Stats::total_time`]).
    /// All that adds about 2 ns to a call that costs 7 with metrics off (BENCHMARKS.md, "Call
    /// metrics by declaration index"). Calls of run-time names are counted in a per-thread
    /// table under the thread's own lock; they and calls of `#[dynamic]` names are all timed.
    /// Switch metrics off where a handler is called in a tight loop and every nanosecond
    /// counts; the call then costs a lookup, a disabled span check and a panic guard.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::Registry;
    ///
    /// let hot: Registry<fn(u8) -> u8> = Registry::new();
    /// hot.register("inc", |x| x + 1)?;
    /// hot.set_metrics(false);
    /// assert_eq!(hot.call("inc", |inc| inc(1))?, 2);
    /// assert!(hot.stats().is_empty());
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    pub fn set_metrics(&self, enabled: bool) {
        self.metrics.set_enabled(enabled);
    }

    /// Whether calls are being counted (see [`set_metrics`](Registry::set_metrics)).
    pub fn metrics_enabled(&self) -> bool {
        self.metrics.enabled()
    }

    /// Starts measuring a call (nothing when metrics are off); `running` is the static
    /// declaration whose running calls it counts (and then the declaration it is counted
    /// under).
    #[inline]
    fn start(&self, running: Option<u32>) -> Option<Timer<'_>> {
        if !self.metrics.enabled() {
            return None;
        }
        Some(self.metrics.start(running, self))
    }

    /// Counts a finished call, if it was measured: under the primary name of declaration
    /// `declared`, so aliases add up, or under the run-time name it was called by.
    #[inline(always)]
    fn record(&self, declared: Option<u32>, name: &str, timer: Option<Timer<'_>>, panicked: bool) {
        if let Some(timer) = timer {
            Metrics::finish(timer, declared, name, panicked, self);
        }
    }

    /// A call refused by its check: counted (if metrics are on), recorded in its span.
    #[cold]
    fn deny(
        &self,
        span: &tracing::Span,
        declared: Option<u32>,
        name: &str,
        reason: String,
    ) -> Error {
        span.record("denied", reason.as_str());
        if self.metrics.enabled() {
            self.metrics.deny(declared, name, self);
        }
        Error::Denied {
            name: name.to_owned(),
            reason,
        }
    }
}

/// The metrics count a declared name's calls at its declaration's index.
impl<F, M> Declarations for Registry<F, M> {
    fn count(&self) -> usize {
        self.declarations()
    }

    fn name(&self, index: u32) -> &'static str {
        self.declared_name(index)
    }
}

/// A deadline or cancellation signal of an [`AsyncCall`], boxed: few calls set one, and the
/// others neither carry its type nor pay for its size.
type Signal<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The name a call was made by, kept without borrowing the caller's string, so that the call
/// can outlive it (a spawned task).
enum Called {
    /// A declared name or alias: the frozen table's own spelling.
    Static(&'static str),
    /// A run-time name: the name of the handler the call holds.
    Held,
    /// A mocked name that is not declared (the `testing` feature only).
    Owned(Box<str>),
}

impl Called {
    #[cold]
    fn of_mock(declared: Option<&'static str>, name: &str) -> Self {
        match declared {
            Some(name) => Called::Static(name),
            None => Called::Owned(name.into()),
        }
    }

    fn get<'n, F, M>(&'n self, held: &'n Option<Held<'_, F, M>>) -> &'n str {
        match (self, held) {
            (Called::Static(name), _) => name,
            (Called::Owned(name), _) => name,
            (Called::Held, Some(held)) => &held.live().name,
            (Called::Held, None) => unreachable!("a run-time name's call holds its handler"),
        }
    }
}

pin_project! {
    /// A call in flight, returned by [`Registry::call_async`]: a future resolving to the
    /// handler's output, or to an [`Error`].
    ///
    /// The handler is looked up (and a run-time handler held) when the call is created, and
    /// the call does not borrow the name it was made by: with a registry that lives for
    /// `'static` (a `#[registry]` static, the default registry) the call is `'static`, and
    /// `Send` when `Fut` is, so it can be spawned. A deadline ([`timeout`](AsyncCall::timeout))
    /// and a cancellation signal ([`cancel_on`](AsyncCall::cancel_on)) are boxed when set.
    #[must_use = "a call does nothing unless it is awaited or polled"]
    pub struct AsyncCall<'a, F: 'static, Fut, M: 'static = ()> {
        registry: &'a Registry<F, M>,
        name: Called,
        // Boxed: the error is the cold path, and a smaller call is cheaper to move.
        early: Option<Box<Error>>,
        #[pin]
        handler: Option<Instrumented<Fut>>,
        // After `handler`: the handler's future is dropped before the handler it came from.
        held: Option<Held<'a, F, M>>,
        declared: Option<u32>,
        timer: Option<Timer<'a>>,
        deadline: Option<(Duration, Signal<'a>)>,
        cancel: Option<Signal<'a>>,
    }
}

impl<'a, F: Clone + Send + Sync + 'static, M: Clone + Send + Sync + 'static, Fut>
    AsyncCall<'a, F, Fut, M>
{
    /// Gives the call a deadline `after` from now: if the handler has not finished when the
    /// future `sleep(after)` completes, its future is dropped and the call resolves to
    /// [`Error::TimedOut`]. Pass the sleep function of your runtime, such as
    /// `tokio::time::sleep` or `async_io::Timer::after`.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use std::time::Duration;
    /// use handler_registry::{BoxFuture, Error, Registry};
    ///
    /// # async fn example() -> Result<(), Error> {
    /// let jobs: Registry<fn() -> BoxFuture<'static, ()>> = Registry::new();
    /// jobs.register("forever", || Box::pin(std::future::pending()))?;
    ///
    /// // With tokio: `.timeout(Duration::from_secs(5), tokio::time::sleep)`. Here, a timer that
    /// // has already fired.
    /// let outcome = jobs
    ///     .call_async("forever", |forever| forever())
    ///     .timeout(Duration::from_secs(5), |_| std::future::ready(()))
    ///     .await;
    /// let Err(Error::TimedOut { name, after, .. }) = &outcome else { panic!("{outcome:?}") };
    /// assert_eq!((name.as_str(), *after), ("forever", Duration::from_secs(5)));
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
    pub fn timeout<S, D>(mut self, after: Duration, sleep: S) -> Self
    where
        S: FnOnce(Duration) -> D,
        D: Future + Send + 'a,
    {
        let deadline = sleep(after);
        self.deadline = Some((
            after,
            Box::pin(async move {
                deadline.await;
            }),
        ));
        self
    }

    /// Cancels the call when `signal` completes first: the handler's future is dropped and the
    /// call resolves to [`Error::Cancelled`]. Any future works as a signal, such as a oneshot
    /// receiver, `CancellationToken::cancelled_owned()`, or a shutdown notification.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{BoxFuture, Error, Registry};
    ///
    /// # async fn example() -> Result<(), Error> {
    /// let jobs: Registry<fn() -> BoxFuture<'static, ()>> = Registry::new();
    /// jobs.register("forever", || Box::pin(std::future::pending()))?;
    ///
    /// // With tokio-util: `.cancel_on(shutdown.cancelled_owned())`. Here, a signal that has
    /// // already fired.
    /// let outcome = jobs
    ///     .call_async("forever", |forever| forever())
    ///     .cancel_on(std::future::ready(()))
    ///     .await;
    /// let Err(Error::Cancelled { name, .. }) = &outcome else { panic!("{outcome:?}") };
    /// assert_eq!(name, "forever");
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
    pub fn cancel_on<C: Future + Send + 'a>(mut self, signal: C) -> Self {
        self.cancel = Some(Box::pin(async move {
            signal.await;
        }));
        self
    }
}

impl<F, M, Fut> Future for AsyncCall<'_, F, Fut, M>
where
    F: Clone + Send + Sync + 'static,
    M: Clone + Send + Sync + 'static,
    Fut: Future,
{
    type Output = Result<Fut::Output, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(error) = this.early.take() {
            return Poll::Ready(Err(*error));
        }
        let handler = this
            .handler
            .as_mut()
            .as_pin_mut()
            .expect("`AsyncCall` polled after it completed");
        let name = this.name.get(this.held);
        // A poll of a held handler runs as a call on it (see `drained`).
        let poll = || match this.held.as_ref() {
            Some(held) => held.enter(|| handler.poll(cx)),
            None => handler.poll(cx),
        };
        let outcome = match panic::catch_unwind(AssertUnwindSafe(poll)) {
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(panicked(name, payload)),
            Ok(Poll::Pending) if fired(this.cancel.as_mut(), cx) => Err(Error::Cancelled {
                name: name.to_owned(),
            }),
            Ok(Poll::Pending) if fired(this.deadline.as_mut().map(|(_, signal)| signal), cx) => {
                Err(Error::TimedOut {
                    name: name.to_owned(),
                    after: this
                        .deadline
                        .as_ref()
                        .map_or(Duration::ZERO, |(after, _)| *after),
                })
            }
            Ok(Poll::Pending) => return Poll::Pending,
        };
        // Drop the handler's future now, inside its span (`Instrumented` enters it on drop). A
        // panic while dropping it changes nothing for the caller: the outcome is already known.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| this.handler.set(None)));
        *this.deadline = None;
        *this.cancel = None;
        let panicked = matches!(outcome, Err(Error::Panicked { .. }));
        this.registry
            .record(*this.declared, name, this.timer.take(), panicked);
        *this.held = None;
        Poll::Ready(outcome)
    }
}

/// The span every call runs in: named `handler`, with the called name as `name` and, after
/// OpenTelemetry's RPC conventions, as `rpc.method`; `denied` holds the reason of a refusal.
#[inline(always)]
fn call_span(name: &str) -> tracing::Span {
    tracing::info_span!(
        target: "handler_registry",
        "handler",
        name,
        rpc.method = name,
        denied = tracing::field::Empty,
    )
}

/// Whether an optional signal has completed.
fn fired(signal: Option<&mut Signal<'_>>, cx: &mut Context<'_>) -> bool {
    signal.is_some_and(|signal| signal.as_mut().poll(cx).is_ready())
}

#[cold]
fn panicked(name: &str, payload: Box<dyn Any + Send>) -> Error {
    let message = if let Some(message) = payload.downcast_ref::<&'static str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "the panic payload is not a string".to_owned()
    };
    Error::Panicked {
        name: name.to_owned(),
        message,
    }
}
