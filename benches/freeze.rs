//! Freeze time: building the frozen table for 1k, 10k and 100k names through
//! `Registry::with_static`, which runs the same build as the first use of a `#[registry]`
//! (sort, name validation, duplicate check, perfect-hash placement).
//!
//! Run with `cargo bench --bench freeze`; see BENCHMARKS.md.

use divan::Bencher;
use handler_registry::Registry;

fn main() {
    divan::main();
}

type Handler = fn(u64) -> u64;

fn handler(x: u64) -> u64 {
    x.wrapping_add(1)
}

/// `count` distinct dotted names of 10-30 bytes, made once per size and kept for the process.
fn names(count: usize) -> Vec<&'static str> {
    const DOMAINS: [&str; 8] = [
        "order", "user", "cart", "invoice", "payment", "shipping", "stock", "report",
    ];
    (0..count)
        .map(|i| {
            let name = format!("{}.refresh_{i}", DOMAINS[i % DOMAINS.len()]);
            &*Box::leak(name.into_boxed_str())
        })
        .collect()
}

#[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 20, sample_size = 1)]
fn with_static(bencher: Bencher, count: usize) {
    let names = names(count);
    bencher.bench(|| {
        Registry::with_static(names.iter().map(|&name| (name, handler as Handler))).unwrap()
    });
}
