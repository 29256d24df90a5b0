//! The dynamic half against the static half (issue 17): names added at run time with
//! `register`, looked up and called, against the same names frozen by `with_static` and against
//! the concurrent maps a program would otherwise put its run-time handlers in.
//!
//! Every read case holds the same 256 names (`common::names::NAMES[..256]`) and looks up the
//! same 4096 keys per iteration (each name 16 times, in a fixed random order, as separate heap
//! strings), from 1 and 2 threads at once. Divan reports the time of one iteration and, from
//! `ItemsCount`, lookups per second: ns per lookup is the time / 4096, or 1000 / Mitem/s. With
//! 2 threads that is each thread's time, so the machine's cost per lookup is half of it and a
//! structure that scales shows the same figure as on 1 thread. A sample is 50 iterations
//! (204,800 lookups per thread), long enough that the two threads overlap (see BENCHMARKS.md).
//!
//! Handlers are `fn(u64) -> u64` (`common::handler`) or `Arc<dyn Fn(u64) -> u64 + Send + Sync>`
//! closures that capture a multiplier, one closure per name. "call" means the handler runs on a
//! `black_box`ed argument and its result goes to `black_box`.
//!
//! - `fn_runtime`: `Registry<fn>` filled by `Registry::new()` + `register`: `get` alone (the
//!   handler to `black_box`, as in benches/lookup.rs) and `get` + call.
//! - `fn_static`: the same names and handler frozen by `Registry::with_static`: `get` alone,
//!   `get` + call, `call(name, |h| h(x))` with metrics on (the default) and off. `fn_runtime`
//!   against `fn_static` is the question: what the dynamic half costs over the static.
//! - `owned_runtime`: `Registry<Arc<dyn Fn>>` filled with `register`: `get` + call (`get`
//!   clones the `Arc`: two writes to a count per lookup, which 2 threads contend on when they
//!   hit the same name), `call` with metrics on (default) and off (the handler by reference).
//! - `fn_baseline`: `ArcSwap<HashMap<&str, fn>>`, SipHash (std's default, as in lookup.rs) and
//!   foldhash: `load` + `get` alone, and `load` + `get` + call. `fn_runtime::get` against
//!   `fn_baseline::arc_swap_sip_get` on 1 thread is the target.
//! - `owned_baseline`: the same closures in `parking_lot::RwLock<HashMap<String, _>>` (read,
//!   clone the `Arc`, release, call; and call through the reference under the read lock),
//!   `ArcSwap<HashMap<String, _>>` with SipHash and foldhash, `papaya::HashMap` (`pin` per
//!   lookup) and `crossbeam_utils::sync::ShardedLock<HashMap<String, _>>`, each `get` + call
//!   by reference. Compare with `owned_runtime::call`.
//! - `writes`: one write at a time on a `Registry<fn>` of 4096 run-time names, with 0 or 2
//!   background threads calling `get` on random names of the same registry all along (started
//!   before timing, stopped after; on a 2-core machine 2 readers and the writer share the
//!   cores). `register_unregister` registers a name that is not in the registry and removes it
//!   again (the names cycle through `common::names::MISSES`); `replace` replaces an existing
//!   name's handler (cycling through the 4096 names). A sample is one write: the reported median
//!   is the median single write, timer included (tens of ns). `arc_swap_copy_on_write` is the
//!   write an `ArcSwap<HashMap>` of the same 4096 names needs (copy, change, publish), for
//!   comparison.
//!
//! Tail latency of lookups while subscribers and a writer are busy is benches/dynamic_p99.rs.
//!
//! Run with `cargo bench --bench dynamic`; one group with `cargo bench --bench dynamic --
//! fn_runtime`.

#[allow(dead_code)] // shared with benches/lookup.rs, which uses the rest
mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use arc_swap::ArcSwap;
use common::names::{MISSES, NAMES};
use common::{handler, keys, Handler};
use crossbeam_utils::sync::ShardedLock;
use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use handler_registry::Registry;

fn main() {
    divan::main();
}

/// Names in every read case.
const SIZE: usize = 256;

type Owned = Arc<dyn Fn(u64) -> u64 + Send + Sync>;

/// A closure with state, as owned registries hold them.
fn owned(step: u64) -> Owned {
    Arc::new(move |x: u64| x.wrapping_mul(step).wrapping_add(1))
}

fn fn_entries() -> impl Iterator<Item = (&'static str, Handler)> {
    NAMES[..SIZE].iter().map(|&name| (name, handler as Handler))
}

/// Each name with a closure of its own.
fn owned_entries() -> impl Iterator<Item = (&'static str, Owned)> {
    NAMES[..SIZE]
        .iter()
        .zip(1..)
        .map(|(&name, i)| (name, owned(2 * i + 1)))
}

/// A registry holding `entries` as run-time names.
fn runtime<F: Clone + Send + Sync + 'static>(
    entries: impl Iterator<Item = (&'static str, F)>,
) -> Registry<F> {
    let registry = Registry::new();
    for (name, handler) in entries {
        registry.register(name, handler).unwrap();
    }
    registry
}

/// Times one pass over the keys; the structure is built before and shared by all threads.
fn run<T>(bencher: Bencher, op: impl Fn(&str) -> T + Sync) {
    let keys = keys(&NAMES[..SIZE]);
    bencher.counter(ItemsCount::new(keys.len())).bench(|| {
        for key in &keys {
            black_box(op(key));
        }
    });
}

#[divan::bench_group(threads = [1, 2], sample_count = 30, sample_size = 50, max_time = 2)]
mod fn_runtime {
    use super::*;

    #[divan::bench]
    fn get(bencher: Bencher) {
        let registry = runtime(fn_entries());
        run(bencher, |key| registry.get(key));
    }

    #[divan::bench]
    fn get_call(bencher: Bencher) {
        let registry = runtime(fn_entries());
        run(bencher, |key| registry.get(key).map(|h| h(black_box(7))));
    }
}

#[divan::bench_group(threads = [1, 2], sample_count = 30, sample_size = 50, max_time = 2)]
mod fn_static {
    use super::*;

    fn frozen(metrics: bool) -> Registry<Handler> {
        let registry = Registry::with_static(fn_entries()).unwrap();
        registry.set_metrics(metrics);
        registry
    }

    #[divan::bench]
    fn get(bencher: Bencher) {
        let registry = frozen(true);
        run(bencher, |key| registry.get(key));
    }

    #[divan::bench]
    fn get_call(bencher: Bencher) {
        let registry = frozen(true);
        run(bencher, |key| registry.get(key).map(|h| h(black_box(7))));
    }

    #[divan::bench]
    fn call(bencher: Bencher) {
        let registry = frozen(true);
        run(bencher, |key| registry.call(key, |h| h(black_box(7))));
    }

    #[divan::bench]
    fn call_metrics_off(bencher: Bencher) {
        let registry = frozen(false);
        run(bencher, |key| registry.call(key, |h| h(black_box(7))));
    }
}

#[divan::bench_group(threads = [1, 2], sample_count = 30, sample_size = 50, max_time = 2)]
mod owned_runtime {
    use super::*;

    #[divan::bench]
    fn get_call(bencher: Bencher) {
        let registry = runtime(owned_entries());
        run(bencher, |key| registry.get(key).map(|h| h(black_box(7))));
    }

    #[divan::bench]
    fn call(bencher: Bencher) {
        let registry = runtime(owned_entries());
        run(bencher, |key| registry.call(key, |h| h(black_box(7))));
    }

    #[divan::bench]
    fn call_metrics_off(bencher: Bencher) {
        let registry = runtime(owned_entries());
        registry.set_metrics(false);
        run(bencher, |key| registry.call(key, |h| h(black_box(7))));
    }
}

#[divan::bench_group(threads = [1, 2], sample_count = 30, sample_size = 50, max_time = 2)]
mod fn_baseline {
    use super::*;

    #[divan::bench]
    fn arc_swap_sip_get(bencher: Bencher) {
        let map = ArcSwap::from_pointee(fn_entries().collect::<HashMap<_, _>>());
        run(bencher, |key| map.load().get(key).copied());
    }

    #[divan::bench]
    fn arc_swap_foldhash_get(bencher: Bencher) {
        let map: HashMap<_, _, foldhash::fast::RandomState> = fn_entries().collect();
        let map = ArcSwap::from_pointee(map);
        run(bencher, |key| map.load().get(key).copied());
    }

    #[divan::bench]
    fn arc_swap_sip_get_call(bencher: Bencher) {
        let map = ArcSwap::from_pointee(fn_entries().collect::<HashMap<_, _>>());
        run(bencher, |key| map.load().get(key).map(|h| h(black_box(7))));
    }

    #[divan::bench]
    fn arc_swap_foldhash_get_call(bencher: Bencher) {
        let map: HashMap<_, _, foldhash::fast::RandomState> = fn_entries().collect();
        let map = ArcSwap::from_pointee(map);
        run(bencher, |key| map.load().get(key).map(|h| h(black_box(7))));
    }
}

#[divan::bench_group(threads = [1, 2], sample_count = 30, sample_size = 50, max_time = 2)]
mod owned_baseline {
    use super::*;

    /// The closures under owned keys, as a map filled at run time holds them.
    fn entries() -> impl Iterator<Item = (String, Owned)> {
        owned_entries().map(|(name, h)| (name.to_owned(), h))
    }

    #[divan::bench]
    fn parking_lot_clone_call(bencher: Bencher) {
        let map = parking_lot::RwLock::new(entries().collect::<HashMap<_, _>>());
        run(bencher, |key| {
            let h = map.read().get(key).cloned();
            h.map(|h| h(black_box(7)))
        });
    }

    #[divan::bench]
    fn parking_lot_ref_call(bencher: Bencher) {
        let map = parking_lot::RwLock::new(entries().collect::<HashMap<_, _>>());
        run(bencher, |key| map.read().get(key).map(|h| h(black_box(7))));
    }

    #[divan::bench]
    fn arc_swap_sip_ref_call(bencher: Bencher) {
        let map = ArcSwap::from_pointee(entries().collect::<HashMap<_, _>>());
        run(bencher, |key| map.load().get(key).map(|h| h(black_box(7))));
    }

    #[divan::bench]
    fn arc_swap_foldhash_ref_call(bencher: Bencher) {
        let map: HashMap<_, _, foldhash::fast::RandomState> = entries().collect();
        let map = ArcSwap::from_pointee(map);
        run(bencher, |key| map.load().get(key).map(|h| h(black_box(7))));
    }

    #[divan::bench]
    fn papaya_ref_call(bencher: Bencher) {
        let map: papaya::HashMap<_, _> = entries().collect();
        run(bencher, |key| map.pin().get(key).map(|h| h(black_box(7))));
    }

    #[divan::bench]
    fn sharded_lock_ref_call(bencher: Bencher) {
        let map = ShardedLock::new(entries().collect::<HashMap<_, _>>());
        run(bencher, |key| {
            map.read().unwrap().get(key).map(|h| h(black_box(7)))
        });
    }
}

/// Background readers for the write benchmarks.
const READERS: [usize; 2] = [0, 2];

/// Runs `timed` while `readers` threads `get` random names of `registry` in a loop: they have
/// all started before `timed` begins and stop when it is over (or panics).
fn with_readers(readers: usize, registry: &Registry<Handler>, timed: impl FnOnce()) {
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    let stop = AtomicBool::new(false);
    let started = Barrier::new(readers + 1);
    thread::scope(|scope| {
        for _ in 0..readers {
            scope.spawn(|| {
                let keys = keys(&NAMES);
                started.wait();
                while !stop.load(Ordering::Relaxed) {
                    for key in &keys {
                        black_box(registry.get(key));
                    }
                }
            });
        }
        let _stop = StopOnDrop(&stop);
        started.wait();
        timed();
    });
}

// A sample is one write (1 iteration), so the median is the median single write.
#[divan::bench_group(sample_count = 5000, sample_size = 1, max_time = 5)]
mod writes {
    use super::*;

    #[divan::bench(args = READERS)]
    fn register_unregister(bencher: Bencher, readers: usize) {
        let registry = runtime(fn_entries_all());
        let mut next = 0;
        with_readers(readers, &registry, || {
            bencher
                .with_inputs(|| {
                    next = (next + 1) % MISSES.len();
                    MISSES[next]
                })
                .bench_local_values(|name| {
                    registry.register(name, handler).unwrap();
                    registry.unregister(name).unwrap()
                });
        });
    }

    #[divan::bench(args = READERS)]
    fn replace(bencher: Bencher, readers: usize) {
        let registry = runtime(fn_entries_all());
        let mut next = 0;
        with_readers(readers, &registry, || {
            bencher
                .with_inputs(|| {
                    next = (next + 1) % NAMES.len();
                    NAMES[next]
                })
                .bench_local_values(|name| registry.replace(name, handler).unwrap());
        });
    }

    /// The write an `ArcSwap<HashMap>` needs: copy the 4096-name map, replace one entry,
    /// publish the copy (readers never wait, but every write costs the whole map). The map
    /// holds what the registry's does: owned names and shared handlers.
    #[divan::bench]
    fn arc_swap_copy_on_write(bencher: Bencher) {
        let entries = fn_entries_all().map(|(name, f)| (Box::<str>::from(name), Arc::new(f)));
        let map = ArcSwap::from_pointee(entries.collect::<HashMap<_, _>>());
        let mut next = 0;
        bencher
            .with_inputs(|| {
                next = (next + 1) % NAMES.len();
                NAMES[next]
            })
            .bench_local_values(|name| {
                let mut copy = HashMap::clone(&map.load());
                copy.insert(Box::from(name), Arc::new(handler as Handler));
                map.store(Arc::new(copy));
            });
    }

    /// All 4096 names with the fn handler.
    fn fn_entries_all() -> impl Iterator<Item = (&'static str, Handler)> {
        NAMES.iter().map(|&name| (name, handler as Handler))
    }
}
