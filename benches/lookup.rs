//! Name lookup: handler-registry against the ways Rust programs usually map names to functions.
//!
//! Every structure holds the same names (`common::names`, 16 / 256 / 4096 dotted names of 6-30
//! bytes) and answers the same 4096 lookups per iteration, in a fixed random order, once with
//! registered names (`hit_N`) and once with unregistered names of the same shape (`miss_N`).
//! Only the lookup is timed: the handler is returned to `black_box`, never called. Divide the
//! reported time by 4096 for nanoseconds per lookup (`scripts/bench_report.py` does).
//!
//! Run with `cargo bench --bench lookup`; see BENCHMARKS.md.

mod common;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, RwLock};

use arc_swap::ArcSwap;
use common::names::{match16, MISSES, NAMES, PHF_16, PHF_256, PHF_4096};
use common::{handler, keys, Handler, BATCH, SIZES};
use dashmap::DashMap;
use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use handler_registry::{AnyHandler, Registry};

fn main() {
    divan::main();
}

/// One row of the report: hits or misses against the set of `size` names.
#[derive(Clone, Copy)]
struct Case {
    miss: bool,
    size: usize,
}

impl Case {
    /// The registered names.
    fn names(self) -> &'static [&'static str] {
        &NAMES[..self.size]
    }

    /// The names looked up, in timing order.
    fn keys(self) -> Vec<String> {
        keys(if self.miss {
            &MISSES[..self.size]
        } else {
            self.names()
        })
    }

    /// Every structure's contents: each name with the benchmark's handler.
    fn entries(self) -> impl Iterator<Item = (&'static str, Handler)> {
        self.names().iter().map(|&name| (name, handler as Handler))
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.miss { "miss" } else { "hit" };
        write!(f, "{kind}_{}", self.size)
    }
}

const CASES: [Case; 6] = [
    Case {
        miss: false,
        size: SIZES[0],
    },
    Case {
        miss: false,
        size: SIZES[1],
    },
    Case {
        miss: false,
        size: SIZES[2],
    },
    Case {
        miss: true,
        size: SIZES[0],
    },
    Case {
        miss: true,
        size: SIZES[1],
    },
    Case {
        miss: true,
        size: SIZES[2],
    },
];

/// Times one pass over the case's keys; the structure is built before and shared by all threads.
fn run<T>(bencher: Bencher, case: Case, get: impl Fn(&str) -> T + Sync) {
    let keys = case.keys();
    bencher.counter(ItemsCount::new(keys.len())).bench(|| {
        for key in &keys {
            black_box(get(key));
        }
    });
}

// A sample is 50 passes (204,800 lookups, 1-30 ms): long enough that two threads overlap even
// when the scheduler hands out whole time slices, so the 2-thread figures show real contention.
#[divan::bench_group(threads = [1, 2], sample_count = 30, sample_size = 50, max_time = 2)]
mod get {
    use super::*;

    /// `Registry::get` on names frozen by `with_static`, as `#[handler]` declarations are.
    #[divan::bench(args = CASES)]
    fn registry_static(bencher: Bencher, case: Case) {
        let registry = Registry::with_static(case.entries()).unwrap();
        run(bencher, case, |key| registry.get(key));
    }

    /// The default registry's typed `lookup_as::<F>` (what `handler_registry::get::<F>` calls) on
    /// hits; on misses, `get` plus the downcast, since a miss through `lookup_as` also builds a
    /// `NotFound` error with a "did you mean" suggestion.
    #[divan::bench(args = CASES)]
    fn registry_typed(bencher: Bencher, case: Case) {
        // Handlers in statics, as `#[handler]` declarations store them.
        let any = case
            .entries()
            .map(|(name, f)| (name, AnyHandler::from_static(Box::leak(Box::new(f)))));
        let registry = Registry::<AnyHandler>::with_static(any).unwrap();
        if case.miss {
            run(bencher, case, |key| {
                registry.get(key).and_then(|any| any.downcast::<Handler>())
            });
        } else {
            run(bencher, case, |key| registry.lookup_as::<Handler>(key).ok());
        }
    }

    /// `Registry::get` on names added at run time with `register` (the overlay).
    #[divan::bench(args = CASES)]
    fn registry_overlay(bencher: Bencher, case: Case) {
        let registry = Registry::new();
        for (name, f) in case.entries() {
            registry.register(name, f).unwrap();
        }
        run(bencher, case, |key| registry.get(key));
    }

    /// A `match` on string literals: only for the 16-name set, as nobody writes one by hand
    /// for thousands of names.
    #[divan::bench(args = [CASES[0], CASES[3]])]
    fn match_literals(bencher: Bencher, case: Case) {
        run(bencher, case, match16);
    }

    #[divan::bench(args = CASES)]
    fn phf(bencher: Bencher, case: Case) {
        let map = match case.size {
            16 => &PHF_16,
            256 => &PHF_256,
            _ => &PHF_4096,
        };
        run(bencher, case, |key| map.get(key).copied());
    }

    #[divan::bench(args = CASES)]
    fn hashmap_sip(bencher: Bencher, case: Case) {
        let map: HashMap<&str, Handler> = case.entries().collect();
        run(bencher, case, |key| map.get(key).copied());
    }

    #[divan::bench(args = CASES)]
    fn hashmap_foldhash(bencher: Bencher, case: Case) {
        let map: HashMap<&str, Handler, foldhash::fast::RandomState> = case.entries().collect();
        run(bencher, case, |key| map.get(key).copied());
    }

    #[divan::bench(args = CASES)]
    fn hashmap_fx(bencher: Bencher, case: Case) {
        let map: HashMap<&str, Handler, rustc_hash::FxBuildHasher> = case.entries().collect();
        run(bencher, case, |key| map.get(key).copied());
    }

    #[divan::bench(args = CASES)]
    fn std_rwlock(bencher: Bencher, case: Case) {
        let map = RwLock::new(case.entries().collect::<HashMap<_, _>>());
        run(bencher, case, |key| map.read().unwrap().get(key).copied());
    }

    #[divan::bench(args = CASES)]
    fn parking_lot_rwlock(bencher: Bencher, case: Case) {
        let map = parking_lot::RwLock::new(case.entries().collect::<HashMap<_, _>>());
        run(bencher, case, |key| map.read().get(key).copied());
    }

    #[divan::bench(args = CASES)]
    fn std_mutex(bencher: Bencher, case: Case) {
        let map = Mutex::new(case.entries().collect::<HashMap<_, _>>());
        run(bencher, case, |key| map.lock().unwrap().get(key).copied());
    }

    #[divan::bench(args = CASES)]
    fn dashmap(bencher: Bencher, case: Case) {
        let map: DashMap<&str, Handler> = case.entries().collect();
        run(bencher, case, |key| map.get(key).map(|entry| *entry));
    }

    #[divan::bench(args = CASES)]
    fn arc_swap(bencher: Bencher, case: Case) {
        let map = ArcSwap::from_pointee(case.entries().collect::<HashMap<_, _>>());
        run(bencher, case, |key| map.load().get(key).copied());
    }

    #[divan::bench(args = CASES)]
    fn papaya(bencher: Bencher, case: Case) {
        let map: papaya::HashMap<&str, Handler> = case.entries().collect();
        run(bencher, case, |key| map.pin().get(key).copied());
    }
}

/// A miss through `lookup_as::<F>` (and so `handler_registry::get::<F>`) returns `NotFound` with a
/// "did you mean" suggestion: `get_as_miss` times misses of unregistered names of the same shape
/// (most have no name close enough: every name is scanned), `get_as_typo` misses one edit from a
/// registered name (a character replaced: the index answers them), one miss per iteration.
#[divan::bench(args = SIZES, sample_count = 30, sample_size = 10)]
fn get_as_miss(bencher: Bencher, size: usize) {
    let registry = any_registry(&NAMES[..size]);
    let keys = keys(&MISSES[..size]);
    let mut next = 0;
    bencher
        .with_inputs(|| {
            next = (next + 1) % BATCH;
            keys[next].as_str()
        })
        .bench_local_values(|key| registry.lookup_as::<Handler>(key).is_err());
}

#[divan::bench(args = SIZES, sample_count = 30, sample_size = 10)]
fn get_as_typo(bencher: Bencher, size: usize) {
    let names = &NAMES[..size];
    let registry = any_registry(names);
    bench_typos(bencher, names, |key| {
        registry.lookup_as::<Handler>(key).err()
    });
}

/// A default-registry-like `Registry<AnyHandler>` of `names`, frozen.
fn any_registry(names: &[&'static str]) -> Registry<AnyHandler> {
    let any = names
        .iter()
        .map(|&name| (name, AnyHandler::new(handler as Handler)));
    Registry::<AnyHandler>::with_static(any).unwrap()
}

/// `get_as_typo` for names registered at run time (`Registry::register`, the overlay): a typo
/// one replaced character from a registered name, through `lookup`.
#[divan::bench(args = SIZES, sample_count = 30, sample_size = 10)]
fn lookup_typo_runtime(bencher: Bencher, size: usize) {
    let registry = Registry::<Handler>::new();
    for &name in &NAMES[..size] {
        registry.register(name, handler).unwrap();
    }
    bench_typos(bencher, &NAMES[..size], |key| registry.lookup(key).err());
}

/// Times `miss` on each of `names` with its middle character replaced by one no name contains,
/// after checking that such a miss comes with a suggestion.
fn bench_typos(
    bencher: Bencher,
    names: &[&str],
    miss: impl Fn(&str) -> Option<handler_registry::Error>,
) {
    let typos: Vec<String> = keys(names)
        .into_iter()
        .map(|name| {
            let at = name.len() / 2;
            format!("{}#{}", &name[..at], &name[at + 1..])
        })
        .collect();
    assert!(matches!(
        miss(&typos[0]),
        Some(handler_registry::Error::NotFound {
            suggestion: Some(_),
            ..
        })
    ));
    let mut next = 0;
    bencher
        .with_inputs(|| {
            next = (next + 1) % BATCH;
            typos[next].as_str()
        })
        .bench_local_values(|key| miss(key).is_some());
}
