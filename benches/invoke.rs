//! Invoke overhead: what `Registry::call` and `Registry::call_async` add to calling a handler.
//!
//! One frozen registry of 256 names, one name called over and over (so the branch predictor
//! learns the indirect call in every variant alike), tracing with no subscriber:
//!
//! - `direct`: the handler's fn pointer, already in hand, called through `black_box`;
//! - `get_then_call`: `get(name)` and call the result (the lookup alone);
//! - `call`: `Registry::call` with metrics off and on; `threads = 2` shows that recording
//!   metrics from two threads at once does not contend (each thread has its own counters);
//! - `call_async`: the same for a handler returning a ready boxed future, polled once, against
//!   polling the handler's future directly.
//!
//! - `owned`: the same hot declared name in a registry of `Arc<dyn Fn>` closures, from 1 and 2
//!   threads: `call` (the handler by reference: no shared write, so 2 threads should take no
//!   longer per call than 1) against `get` (an `Arc` clone per lookup, whose count is shared).
//!
//! - `guarded`: a declared registry with metadata (`Registry<F, Access>`): `call` against
//!   `call_guarded` with a check of the handler's metadata that allows it, metrics off and on.
//!
//! Run with `cargo bench --bench invoke`; `call` minus `get_then_call` is the invoke layer's own
//! cost.
//!
//! The call benchmarks return `.ok()`, an `Option<u64>` like `get_then_call`'s: divan keeps
//! every output that needs dropping until its sample ends, and storing `call`'s 120-byte
//! `Result<u64, Error>` per call (a 1.2 MB buffer per sample) was timed with the call, 1.2 ns
//! of it (BENCHMARKS.md, "Call metrics by declaration index").

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll, Waker};

use divan::{black_box, Bencher};
use handler_registry::{handler, registry, BoxFuture, Registry};

fn main() {
    divan::main();
}

type Handler = fn(u64) -> u64;
type Job = fn(u64) -> BoxFuture<'static, u64>;

fn handler(x: u64) -> u64 {
    x.wrapping_mul(3).wrapping_add(1)
}

fn job(x: u64) -> BoxFuture<'static, u64> {
    Box::pin(async move { handler(x) })
}

/// The name every benchmark calls; 255 other names share its table.
const NAME: &str = "orders.refresh";

fn registry<F: Clone + Send + Sync + 'static>(handler: F, metrics: bool) -> Registry<F> {
    let names = (0..255)
        .map(|i| &*Box::leak(format!("bench.filler_{i}").into_boxed_str()))
        .chain([NAME]);
    let registry = Registry::with_static(names.map(|name| (name, handler.clone()))).unwrap();
    registry.set_metrics(metrics);
    registry
}

static METRICS_OFF: LazyLock<Registry<Handler>> = LazyLock::new(|| registry(handler, false));
static METRICS_ON: LazyLock<Registry<Handler>> = LazyLock::new(|| registry(handler, true));
static JOBS_OFF: LazyLock<Registry<Job>> = LazyLock::new(|| registry(job, false));
static JOBS_ON: LazyLock<Registry<Job>> = LazyLock::new(|| registry(job, true));

type Owned = Arc<dyn Fn(u64) -> u64 + Send + Sync>;

/// A closure with state, as owned registries hold them.
fn owned() -> Owned {
    let step = Arc::new(3u64);
    Arc::new(move |x| x.wrapping_mul(*step).wrapping_add(1))
}

static OWNED_OFF: LazyLock<Registry<Owned>> = LazyLock::new(|| registry(owned(), false));
static OWNED_ON: LazyLock<Registry<Owned>> = LazyLock::new(|| registry(owned(), true));

#[divan::bench]
fn direct(bencher: Bencher) {
    let handler: Handler = handler;
    bencher.bench(|| black_box(handler)(black_box(7)));
}

#[divan::bench]
fn get_then_call(bencher: Bencher) {
    let registry = &*METRICS_OFF;
    bencher.bench(|| registry.get(black_box(NAME)).map(|f| f(black_box(7))));
}

mod call {
    use super::*;

    #[divan::bench(threads = [1, 2], sample_size = 10_000)]
    fn metrics_off(bencher: Bencher) {
        let registry = &*METRICS_OFF;
        bencher.bench(|| registry.call(black_box(NAME), |f| f(black_box(7))).ok());
    }

    #[divan::bench(threads = [1, 2], sample_size = 10_000)]
    fn metrics_on(bencher: Bencher) {
        let registry = &*METRICS_ON;
        bencher.bench(|| registry.call(black_box(NAME), |f| f(black_box(7))).ok());
    }
}

/// Polls a future that is ready at once.
fn ready<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the benchmark's futures are ready at once"),
    }
}

mod call_async {
    use super::*;

    #[divan::bench]
    fn direct(bencher: Bencher) {
        let job: Job = job;
        bencher.bench(|| ready(black_box(job)(black_box(7))));
    }

    #[divan::bench]
    fn metrics_off(bencher: Bencher) {
        let registry = &*JOBS_OFF;
        bencher.bench(|| ready(registry.call_async(black_box(NAME), |job| job(black_box(7)))).ok());
    }

    #[divan::bench]
    fn metrics_on(bencher: Bencher) {
        let registry = &*JOBS_ON;
        bencher.bench(|| ready(registry.call_async(black_box(NAME), |job| job(black_box(7)))).ok());
    }
}

mod owned {
    use super::*;

    #[divan::bench(threads = [1, 2], sample_size = 10_000)]
    fn call_metrics_off(bencher: Bencher) {
        let registry = &*OWNED_OFF;
        bencher.bench(|| registry.call(black_box(NAME), |f| f(black_box(7))).ok());
    }

    #[divan::bench(threads = [1, 2], sample_size = 10_000)]
    fn call_metrics_on(bencher: Bencher) {
        let registry = &*OWNED_ON;
        bencher.bench(|| registry.call(black_box(NAME), |f| f(black_box(7))).ok());
    }

    /// `get` clones the `Arc`: an increment and a decrement of a count both threads share.
    #[divan::bench(threads = [1, 2], sample_size = 10_000)]
    fn get_then_call(bencher: Bencher) {
        let registry = &*OWNED_OFF;
        bencher.bench(|| registry.get(black_box(NAME)).map(|f| f(black_box(7))));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Admin,
}

#[registry]
static GUARDED: Registry<Handler, Access>;

#[handler("orders.refresh", registry = GUARDED, meta = Access::Public)]
fn refresh(x: u64) -> u64 {
    handler(x)
}

#[handler("orders.purge", registry = GUARDED, meta = Access::Admin)]
fn purge(x: u64) -> u64 {
    handler(x)
}

fn public_only(access: &Access) -> Result<(), String> {
    match access {
        Access::Public => Ok(()),
        Access::Admin => Err("admin only".to_owned()),
    }
}

mod guarded {
    use super::*;

    fn metrics(enabled: bool) -> &'static Registry<Handler, Access> {
        GUARDED.set_metrics(enabled);
        &GUARDED
    }

    #[divan::bench(sample_size = 10_000)]
    fn call_metrics_off(bencher: Bencher) {
        let registry = metrics(false);
        bencher.bench(|| registry.call(black_box(NAME), |f| f(black_box(7))).ok());
    }

    #[divan::bench(sample_size = 10_000)]
    fn call_as_metrics_off(bencher: Bencher) {
        let registry = metrics(false);
        bencher.bench(|| {
            registry
                .call_guarded(black_box(NAME), public_only, |f| f(black_box(7)))
                .ok()
        });
    }

    #[divan::bench(sample_size = 10_000)]
    fn call_metrics_on(bencher: Bencher) {
        let registry = metrics(true);
        bencher.bench(|| registry.call(black_box(NAME), |f| f(black_box(7))).ok());
    }

    #[divan::bench(sample_size = 10_000)]
    fn call_as_metrics_on(bencher: Bencher) {
        let registry = metrics(true);
        bencher.bench(|| {
            registry
                .call_guarded(black_box(NAME), public_only, |f| f(black_box(7)))
                .ok()
        });
    }
}
