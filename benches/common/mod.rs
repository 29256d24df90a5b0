//! What the benchmarks share: the name sets and the lookup order.

pub mod names;

/// Names per set: each set is `names::NAMES[..size]`.
pub const SIZES: [usize; 3] = [16, 256, 4096];

/// Lookups per timed iteration: every name of the largest set once, in random order.
pub const BATCH: usize = 4096;

/// The handler type stored in every structure; lookups return it and never call it.
pub type Handler = fn(u64) -> u64;

pub fn handler(x: u64) -> u64 {
    x.wrapping_add(1)
}

/// `BATCH` keys drawn from `set` in a fixed random order, as separate heap strings (like names
/// parsed from requests), so the timed loop runs no random number generator.
pub fn keys(set: &[&str]) -> Vec<String> {
    let mut rng = 0x5eed_2026_u64;
    let mut order: Vec<&str> = set.iter().copied().cycle().take(BATCH).collect();
    for i in (1..order.len()).rev() {
        rng = splitmix(rng);
        order.swap(i, (rng % (i as u64 + 1)) as usize);
    }
    order.into_iter().map(str::to_owned).collect()
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
