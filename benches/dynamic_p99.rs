//! Tail latency of run-time-name lookups while the registry is being changed and watched
//! (issue 17): do subscribers and a busy writer slow the readers down?
//!
//! A `Registry<fn(u64) -> u64>` holds 256 run-time names (`common::names::NAMES[..256]`,
//! `register`ed) and 4 more that only the writer touches. One reader thread runs `get` on the
//! 256 names in a fixed random order (`common::keys`) for `SECONDS`, and times every batch of
//! `BATCH` lookups with `Instant`; a lookup's latency is its batch's time / `BATCH`, so a stall
//! of the reader (a lock wait, a cache line taken away, a preemption) shows as the batch it fell
//! in. Scenarios, one after the other, on a fresh registry each:
//!
//! - `idle`: no subscribers, no writer (case a of the issue);
//! - `writer`: a writer thread making `RATE` changes a second (`replace` of the 4 writer names,
//!   in turn, paced against the clock), no subscribers: what the writes alone cost the reader;
//! - `writer+subs`: the same writer and 1,000 subscribers (`subscribe()`, held, never read: each
//!   falls behind and lags; every change is appended to the log they share) (case b).
//!
//! The table gives p50/p90/p99/p99.9 per lookup in ns, the writer's achieved rate, and each
//! scenario's ratio to `idle` (`writer+subs / idle` is the b/a); a writer that could not
//! keep up (a change slower than 1 / `RATE`) is reported under the table, and its row then holds
//! fewer changes than asked. The timer's own cost (two `Instant::now()` per batch) is printed once;
//! divided by `BATCH` it is a fraction of a nanosecond per lookup. On a 2-core machine the reader
//! and the writer each have a core; other load on the machine shows in the tails.
//!
//! Run with `cargo bench --bench dynamic_p99` (a plain `main`, no divan: divan reports medians,
//! not percentiles).

#[allow(dead_code)] // shared with benches/lookup.rs, which uses the rest
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use common::names::NAMES;
use common::{handler, keys, Handler};
use divan::black_box;
use handler_registry::Registry;

/// Lookups per timed batch.
const BATCH: usize = 64;
/// How long the reader times lookups in each scenario, after a warm-up of a tenth of it.
const SECONDS: f64 = 3.0;
/// Changes a second made by the writer.
const RATE: f64 = 10_000.0;
/// Subscribers in the `writer+subs` scenario.
const SUBSCRIBERS: usize = 1_000;
/// The names only the writer replaces.
const WRITER_NAMES: [&str; 4] = [
    "p99.writer_0",
    "p99.writer_1",
    "p99.writer_2",
    "p99.writer_3",
];

struct Scenario {
    name: &'static str,
    writer: bool,
    subscribers: usize,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "idle",
        writer: false,
        subscribers: 0,
    },
    Scenario {
        name: "writer",
        writer: true,
        subscribers: 0,
    },
    Scenario {
        name: "writer+subs",
        writer: true,
        subscribers: SUBSCRIBERS,
    },
];

/// Percentiles reported, as fractions.
const PERCENTILES: [(&str, f64); 4] = [
    ("p50", 0.50),
    ("p90", 0.90),
    ("p99", 0.99),
    ("p99.9", 0.999),
];

struct Report {
    /// ns per lookup at each of `PERCENTILES`.
    latency: [f64; PERCENTILES.len()],
    /// Changes a second the writer achieved (0 without a writer).
    rate: f64,
}

fn main() {
    let timer = timer_cost();
    println!(
        "timer: {timer:.0} ns per batch of {BATCH} lookups ({:.2} ns per lookup)",
        timer / BATCH as f64
    );
    let reports: Vec<Report> = SCENARIOS.iter().map(measure).collect();

    print!("\n{:<12} {:>10}", "scenario", "changes/s");
    for (label, _) in PERCENTILES {
        print!(" {:>8}", format!("{label} ns"));
    }
    for (label, _) in PERCENTILES {
        print!(" {:>8}", format!("{label} x"));
    }
    println!();
    let idle = &reports[0];
    for (scenario, report) in SCENARIOS.iter().zip(&reports) {
        print!("{:<12} {:>10.0}", scenario.name, report.rate);
        for ns in report.latency {
            print!(" {ns:>8.1}");
        }
        for (ns, base) in report.latency.iter().zip(idle.latency) {
            print!(" {:>8.2}", ns / base);
        }
        println!();
    }
    println!("\n(ns: per lookup, from {BATCH}-lookup batches; x: ratio to `idle`)");
    for (scenario, report) in SCENARIOS.iter().zip(&reports) {
        if scenario.writer && report.rate < 0.95 * RATE {
            println!(
                "`{}`: the writer fell short of {RATE} changes/s: a change took {:.0} us",
                scenario.name,
                1e6 / report.rate
            );
        }
    }
}

/// Median time of two back-to-back `Instant::now()`, in ns: what timing a batch adds to it.
fn timer_cost() -> f64 {
    let mut samples: Vec<u128> = (0..10_001)
        .map(|_| {
            let start = Instant::now();
            black_box(Instant::now()).duration_since(start).as_nanos()
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2] as f64
}

fn measure(scenario: &Scenario) -> Report {
    let registry: Registry<Handler> = Registry::new();
    for &name in NAMES[..256].iter().chain(&WRITER_NAMES) {
        registry.register(name, handler).unwrap();
    }
    let subscribers: Vec<_> = (0..scenario.subscribers)
        .map(|_| registry.subscribe())
        .collect();
    let stop = AtomicBool::new(false);
    let started = Barrier::new(2);
    let (latency, rate) = thread::scope(|scope| {
        let writer = scope.spawn(|| {
            started.wait();
            if scenario.writer {
                write(&registry, &stop)
            } else {
                0.0
            }
        });
        started.wait();
        let latency = read(&registry);
        stop.store(true, Ordering::Relaxed);
        (latency, writer.join().unwrap())
    });
    drop(subscribers);
    Report { latency, rate }
}

/// Replaces the writer names in turn, `RATE` a second on average, until `stop`; returns the rate
/// achieved. Pacing: whenever it wakes, the writer catches up with the clock, then sleeps 100 us.
fn write(registry: &Registry<Handler>, stop: &AtomicBool) -> f64 {
    let start = Instant::now();
    let mut changes = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let due = (start.elapsed().as_secs_f64() * RATE) as u64;
        while changes < due {
            let name = WRITER_NAMES[changes as usize % WRITER_NAMES.len()];
            registry.replace(name, handler).unwrap();
            changes += 1;
        }
        thread::sleep(Duration::from_micros(100));
    }
    changes as f64 / start.elapsed().as_secs_f64()
}

/// Times batches of lookups for `SECONDS` after a warm-up; returns the percentiles per lookup.
fn read(registry: &Registry<Handler>) -> [f64; PERCENTILES.len()] {
    let keys = keys(&NAMES[..256]);
    let mut batches = keys.chunks_exact(BATCH).cycle();
    let warm_up = Instant::now();
    while warm_up.elapsed().as_secs_f64() < SECONDS / 10.0 {
        for key in batches.next().unwrap() {
            black_box(registry.get(key));
        }
    }
    // Room for every batch even at 10 ns a lookup, so the timed loop never reallocates.
    let mut times: Vec<u32> = Vec::with_capacity((SECONDS * 1e9 / (10.0 * BATCH as f64)) as usize);
    let end = Instant::now() + Duration::from_secs_f64(SECONDS);
    loop {
        let batch = batches.next().unwrap();
        let start = Instant::now();
        for key in batch {
            black_box(registry.get(key));
        }
        let now = Instant::now();
        times.push(
            now.duration_since(start)
                .as_nanos()
                .min(u128::from(u32::MAX)) as u32,
        );
        if now >= end || times.len() == times.capacity() {
            break;
        }
    }
    times.sort_unstable();
    PERCENTILES.map(|(_, p)| {
        let at = ((times.len() as f64 * p) as usize).min(times.len() - 1);
        f64::from(times[at]) / BATCH as f64
    })
}
