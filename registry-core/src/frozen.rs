//! The frozen table: built once from the link-time entries, then only read.

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(
    clippy::cast_possible_truncation,
    reason = "slot, bucket and declaration indices are u32 by design: the build stops with a panic past u32::MAX handlers (see `u32::try_from` below), and a name's length fits the rotation count"
)]
#![allow(
    clippy::inline_always,
    reason = "the lookup is only fast inlined into its caller (BENCHMARKS.md, section The frozen table's design)"
)]
#![allow(
    clippy::similar_names,
    reason = "hash, pilot and slot names follow the perfect-hash literature"
)]
#![allow(
    clippy::struct_field_names,
    reason = "the fields name the parts of a slot"
)]

use crate::error::{validate_name, Clash, Error, Location};
use crate::suggest::Index;

/// One declaration, with its handler already downcast to the registry's type.
pub(crate) struct Meta<F, M> {
    pub(crate) name: &'static str,
    pub(crate) aliases: &'static [&'static str],
    pub(crate) doc: &'static str,
    pub(crate) location: Location,
    pub(crate) dynamic: bool,
    pub(crate) handler: F,
    /// The declaration's metadata (`meta = …`), read only when asked for.
    pub(crate) meta: M,
}

/// What a lookup reads: 16 bytes for a fn pointer handler. The name's bytes are in the table's
/// arena; the name and its declaration in a side array, read off the hot path.
#[derive(Clone)]
pub(crate) struct Packed<F> {
    handler: F,
    /// Where the name starts in `arena`.
    name_at: u32,
    /// The name's length (0 in a free slot).
    len: u16,
    dynamic: bool,
}

/// A found name: its handler, and its name and declaration read on demand.
pub(crate) struct Slot<'a, F> {
    pub(crate) handler: &'a F,
    pub(crate) dynamic: bool,
    at: usize,
    by_slot: &'a [(&'static str, u32)],
}

impl<F> Slot<'_, F> {
    /// The declaration the name belongs to.
    #[inline]
    pub(crate) fn entry(&self) -> u32 {
        self.by_slot[self.at].1
    }

    /// The name (a primary name or an alias).
    #[inline]
    pub(crate) fn name(&self) -> &'static str {
        self.by_slot[self.at].0
    }
}

/// Names and aliases of every declaration in a perfect-hash table (hash-and-displace) that is
/// never written after `build`: every name has a slot of its own, so any lookup, hit or miss,
/// hashes once, reads one pilot and at most one slot, and compares at most one name. Untrusted
/// input never inserts, and input longer than the longest name is turned away before hashing, so
/// a lookup's work is bounded whatever the input (no flooding, no probe sequences).
///
/// Chosen by measurement over hashbrown's `HashTable` and other layouts (`benches/lookup.rs`;
/// the figures are in BENCHMARKS.md, "The frozen table's design"): most misses stop at the
/// pilot's fingerprint, the slot index is an XOR and a shift with no probe loop, and names of
/// 8-32 bytes are compared as words, not by libc.
pub(crate) struct Frozen<F, M> {
    /// Where every name lives: the same code for every registry type.
    names: Layout,
    /// Every slot holds a slot value, so a lookup takes no branch on emptiness: a free slot
    /// has the empty name, which no input reaching the slots has. 16 bytes a slot for a fn
    /// pointer (was 32 with the name's `&str` and the declaration in it): at 4,096 names the
    /// slots, the names and the pilots stay in a core's L2 next to the keys looked up.
    slots: Vec<Packed<F>>,
    pub(crate) entries: Vec<Meta<F, M>>,
    /// The names indexed for "did you mean" (src/suggest.rs), built on the first miss that
    /// asks.
    nearby: std::sync::OnceLock<Nearby>,
}

/// The frozen names as "did you mean" reads them, numbered in slot order (the order of
/// [`Frozen::slots`]), without the handlers: the suggestion code is the same for every
/// registry type.
pub(crate) struct Nearby {
    pub(crate) index: Index,
    /// Every name, by number.
    pub(crate) names: Vec<&'static str>,
    /// The numbers of `#[dynamic]` names (a name and its aliases), which resolve only while
    /// their handler is installed, with the primary name each writes through to.
    pub(crate) dynamic: Vec<(u32, &'static str)>,
}

const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

impl<F: Clone, M> Frozen<F, M> {
    pub(crate) fn empty() -> Self {
        Frozen {
            names: Layout::empty(),
            slots: Vec::new(),
            entries: Vec::new(),
            nearby: std::sync::OnceLock::new(),
        }
    }

    /// Builds the table, reporting every duplicate name (with both locations) at once.
    ///
    /// Only the handlers are placed here: the names are laid out by [`Layout::of`], which is
    /// compiled once for every registry type.
    pub(crate) fn build(entries: Vec<Meta<F, M>>) -> Result<Self, Error> {
        let describe = |index: usize| {
            let entry = &entries[index];
            (entry.name, entry.aliases, entry.location)
        };
        let mut names = Layout::of(entries.len(), &describe)?;
        let placed = std::mem::take(&mut names.placed);
        let mut slots = Vec::new();
        if let Some(first) = entries.first() {
            // Free slots hold a copy of some handler and the empty name.
            let free = Packed {
                handler: first.handler.clone(),
                name_at: 0,
                len: 0,
                dynamic: false,
            };
            slots = vec![free; names.by_slot.len()];
        }
        // In declaration order: the declarations are read in sequence, the slots written at
        // random (reading the declarations at random costs a third more at 100k names).
        for &Placed {
            slot,
            entry,
            name_at,
            len,
        } in &placed
        {
            let entry = &entries[entry as usize];
            slots[slot as usize] = Packed {
                handler: entry.handler.clone(),
                name_at,
                len,
                dynamic: entry.dynamic,
            };
        }
        Ok(Frozen {
            names,
            slots,
            entries,
            nearby: std::sync::OnceLock::new(),
        })
    }

    /// The hot path: one hash, one pilot and its fingerprint, then one slot and one compare of
    /// length and bytes (in the arena).
    #[inline(always)]
    pub(crate) fn find(&self, name: &str) -> Option<Slot<'_, F>> {
        // One compare turns away both the empty name and anything longer than every key.
        if name.len().wrapping_sub(1) >= self.names.max_len {
            return None;
        }
        let hash = hash(self.names.seed, name);
        let pilot = self.names.pilots[hash as usize & self.names.bucket_mask];
        if pilot >> fingerprint(hash) & 1 == 0 {
            return None;
        }
        let at = slot_index(hash, pilot, self.names.slot_shift);
        let slot = &self.slots[at];
        let len = name.len();
        let start = slot.name_at as usize;
        let found = usize::from(slot.len) == len
            && same(
                &self.names.arena.as_bytes()[start..start + len],
                name.as_bytes(),
            );
        found.then(|| self.slot(at))
    }

    #[inline(always)]
    fn slot(&self, at: usize) -> Slot<'_, F> {
        let packed = &self.slots[at];
        Slot {
            handler: &packed.handler,
            dynamic: packed.dynamic,
            at,
            by_slot: &self.names.by_slot,
        }
    }

    /// Every name the table answers to (primary names and aliases), with its slot.
    pub(crate) fn slots(&self) -> impl Iterator<Item = Slot<'_, F>> + '_ {
        (0..self.slots.len())
            .filter(|&at| self.slots[at].len != 0)
            .map(|at| self.slot(at))
    }

    /// The names indexed for suggestions, built by the first miss that asks.
    pub(crate) fn nearby(&self) -> &Nearby {
        self.nearby.get_or_init(|| {
            let mut names: Vec<&'static str> = Vec::new();
            let mut dynamic = Vec::new();
            for (number, slot) in self.slots().enumerate() {
                names.push(slot.name());
                if slot.dynamic {
                    dynamic.push((number as u32, self.entries[slot.entry() as usize].name));
                }
            }
            Nearby {
                index: Index::build(names.iter().copied()),
                names,
                dynamic,
            }
        })
    }

    /// Every name the table answers to (primary names and aliases).
    #[cfg(test)]
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.slots().map(|slot| slot.name())
    }
}

/// What [`Layout::of`] reads of declaration `index`: its name, aliases and location.
type Describe<'a> = &'a dyn Fn(usize) -> (&'static str, &'static [&'static str], Location);

/// Where a name goes: its slot, its declaration, and its bytes in the arena.
#[derive(Clone, Copy)]
struct Placed {
    slot: u32,
    entry: u32,
    name_at: u32,
    len: u16,
}

/// Where every name of a table goes, worked out from the names alone.
struct Layout {
    seed: [u64; 2],
    /// Longest name in the table: longer (and empty) input misses without being hashed.
    max_len: usize,
    /// `pilots.len() - 1`; a power of two minus one.
    bucket_mask: usize,
    /// `64 - log2(slots)`: the slot index is the top bits of the hash XOR the pilot.
    slot_shift: u32,
    /// Per bucket (names sharing the hash's low bits), the pilot: its top bits, found at build
    /// time, send the bucket's names to free slots; its low 32 bits are the bucket's
    /// fingerprint, one bit per name chosen by the top five bits of its hash, so most misses stop
    /// here without reading a slot.
    pilots: Box<[u64]>,
    /// Per slot, its name (empty in a free slot) and the number of its declaration (read by
    /// calls, metadata and suggestions, not by `get`).
    by_slot: Box<[(&'static str, u32)]>,
    /// Every name, in declaration order, with its place (taken by the build).
    placed: Vec<Placed>,
    /// Every name's bytes, in declaration order, none split across two cache lines when it
    /// fits in one (zero bytes fill the skips).
    arena: String,
}

impl Layout {
    /// The layout of no names: every input misses (at the length check).
    fn empty() -> Self {
        Layout {
            seed: [0; 2],
            max_len: 0,
            bucket_mask: 0,
            slot_shift: 63,
            pilots: Box::new([0]),
            by_slot: Box::new([]),
            placed: Vec::new(),
            arena: String::new(),
        }
    }

    /// The layout of the names of `count` declarations.
    fn of(count: usize, describe: Describe<'_>) -> Result<Layout, Error> {
        let mut names: Vec<(&'static str, u32)> = Vec::with_capacity(count);
        for index in 0..count {
            let (name, aliases, _) = describe(index);
            let index = u32::try_from(index).expect("more than u32::MAX handlers");
            for name in std::iter::once(name).chain(aliases.iter().copied()) {
                validate_name(name).map_err(|reason| Error::invalid_name(name, reason))?;
                names.push((name, index));
            }
        }
        if names.is_empty() {
            return Ok(Layout::empty());
        }

        // About two names per bucket and a load factor between 0.4 and 0.8 keep the pilot
        // search short (freeze times are in BENCHMARKS.md).
        let buckets = (names.len() / 2).next_power_of_two();
        let slots = (names.len() + names.len() / 4).next_power_of_two().max(2);
        let slot_shift = 64 - slots.trailing_zeros();
        let mut attempt = 0;
        let (seed, pilots, places) = loop {
            let seed = [splitmix(attempt), splitmix(attempt ^ MIX)];
            let hashes: Vec<u64> = names.iter().map(|(name, _)| hash(seed, name)).collect();
            match place(&names, &hashes, buckets, slots, slot_shift) {
                Placement::Placed { pilots, places } => break (seed, pilots, places),
                Placement::Duplicate => return Err(duplicates(describe, names)),
                // Rare (for 100k names, about one seed in three): the next seed succeeds.
                Placement::Retry => attempt += 1,
            }
        };
        let max_len = names.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        // A name is never split across two cache lines (64 bytes) when it fits in one: before a
        // name that would cross a line, the arena skips to the next line. Each skip is shorter
        // than the name after it, so twice the names' bytes is room enough, and the arena never
        // moves while it is filled (its addresses decide the skips). The names go in in
        // declaration order, read in sequence (a lookup reads one name at random whatever the
        // order: what counts is that they are few lines).
        let total: usize = names.iter().map(|(name, _)| name.len()).sum();
        let mut arena = String::with_capacity(2 * total);
        let mut by_slot = vec![("", 0u32); slots].into_boxed_slice();
        let mut placed = Vec::with_capacity(names.len());
        for (&(name, entry), slot) in names.iter().zip(places) {
            by_slot[slot] = (name, entry);
            let line = (arena.as_ptr() as usize + arena.len()) % 64;
            if line + name.len() > 64 && name.len() <= 64 {
                arena.extend(std::iter::repeat_n('\0', 64 - line));
            }
            placed.push(Placed {
                slot: slot as u32,
                entry,
                name_at: u32::try_from(arena.len()).expect("names under 4 GiB"),
                len: u16::try_from(name.len()).expect("names are short"),
            });
            arena.push_str(name);
        }
        Ok(Layout {
            seed,
            max_len,
            bucket_mask: buckets - 1,
            slot_shift,
            pilots: pilots.into_boxed_slice(),
            by_slot,
            placed,
            arena,
        })
    }
}

/// Which bit of its bucket's fingerprint a hash sets (0 to 31).
#[inline]
fn fingerprint(hash: u64) -> u64 {
    hash >> 59
}

#[inline]
fn slot_index(hash: u64, pilot: u64, shift: u32) -> usize {
    ((hash ^ pilot) >> shift) as usize
}

enum Placement {
    /// Each bucket's pilot, and each name's slot.
    Placed {
        pilots: Vec<u64>,
        places: Vec<usize>,
    },
    /// Two names are equal.
    Duplicate,
    /// Two names of one bucket agree on the slot bits of their hashes, or a bucket found no
    /// pilot: try another seed.
    Retry,
}

/// Hash-and-displace: gives each bucket (names sharing the hash's low bits) the first pilot
/// under which all its names land in free, distinct slots, largest buckets first. Equal names
/// have equal hashes, so they meet in one bucket: that is where duplicates are found.
fn place(
    names: &[(&str, u32)],
    hashes: &[u64],
    buckets: usize,
    slots: usize,
    shift: u32,
) -> Placement {
    // Keys grouped by bucket (a counting sort): bucket `b` owns `keys[start[b]..start[b + 1]]`.
    let mut start = vec![0u32; buckets + 1];
    for hash in hashes {
        start[(*hash as usize & (buckets - 1)) + 1] += 1;
    }
    for b in 0..buckets {
        start[b + 1] += start[b];
    }
    let mut fill = start.clone();
    let mut keys = vec![0u32; hashes.len()];
    for (key, hash) in hashes.iter().enumerate() {
        let b = *hash as usize & (buckets - 1);
        keys[fill[b] as usize] = key as u32;
        fill[b] += 1;
    }
    // The hashes in bucket order, so everything below reads them sequentially.
    let sorted: Vec<u64> = keys.iter().map(|&key| hashes[key as usize]).collect();
    let range = |b: usize| start[b] as usize..start[b + 1] as usize;

    // A pilot moves a bucket's names together, so two names of one bucket whose hashes agree
    // on the slot bits can never part: find them (and equal names) before searching.
    for b in 0..buckets {
        let range = range(b);
        for x in range.clone() {
            for y in x + 1..range.end {
                if (sorted[x] ^ sorted[y]) >> shift == 0 {
                    let (x, y) = (keys[x] as usize, keys[y] as usize);
                    return if names[x].0 == names[y].0 {
                        Placement::Duplicate
                    } else {
                        Placement::Retry
                    };
                }
            }
        }
    }

    let mut order: Vec<usize> = (0..buckets).filter(|&b| !range(b).is_empty()).collect();
    order.sort_unstable_by_key(|&b| std::cmp::Reverse(range(b).len()));
    let mut taken = vec![false; slots];
    let mut pilots = vec![0u64; buckets];
    let mut places = vec![0usize; hashes.len()];
    let mut tried: Vec<usize> = Vec::new();
    for b in order {
        let bucket = &sorted[range(b)];
        let print = bucket
            .iter()
            .fold(0, |print, &hash| print | 1 << fingerprint(hash));
        let fits = |pilot: u64, tried: &mut Vec<usize>| {
            tried.clear();
            bucket.iter().all(|&hash| {
                let at = slot_index(hash, pilot, shift);
                let free = !taken[at] && !tried.contains(&at);
                tried.push(at);
                free
            })
        };
        let Some(pilot) = (0..slots as u64)
            .map(|p| p << shift | print)
            .find(|&pilot| fits(pilot, &mut tried))
        else {
            return Placement::Retry;
        };
        pilots[b] = pilot;
        for (&hash, &key) in bucket.iter().zip(&keys[range(b)]) {
            let at = slot_index(hash, pilot, shift);
            taken[at] = true;
            places[key as usize] = at;
        }
    }
    Placement::Placed { pilots, places }
}

/// The error for a build with duplicate names: every clash, sorted by name and location so the
/// report is the same whatever order the linker gave the declarations in.
fn duplicates(describe: Describe<'_>, mut names: Vec<(&'static str, u32)>) -> Error {
    let location = |index: u32| describe(index as usize).2;
    let key = |&(name, index): &(&'static str, u32)| {
        let location = location(index);
        (name, location.file, location.line)
    };
    names.sort_by_key(key);
    let clashes = names
        .windows(2)
        .filter(|pair| pair[0].0 == pair[1].0)
        .map(|pair| Clash {
            name: pair[0].0,
            first: location(pair[0].1),
            second: location(pair[1].1),
        })
        .collect();
    Error::Duplicate { clashes }
}

/// A seeded hash of every byte of `name`, for short keys one multiply (foldhash's folded
/// multiply on the first and last eight bytes).
#[inline]
fn hash(seed: [u64; 2], name: &str) -> u64 {
    let bytes = name.as_bytes();
    let len = bytes.len();
    // The length turns the seed (a rotation costs what an XOR does): two names of different
    // lengths whose bytes line up (`ab` and `abc`, or `aaaaaaaa` and `` `aaaaaaaa ``) then
    // differ by a seed-dependent value and part under another seed. XORed in, the length could
    // cancel a byte's difference under every seed, and the build would retry forever.
    let mut acc = seed[0].rotate_left(len as u32);
    let (a, b) = if len <= 16 {
        if len >= 8 {
            (word(bytes, 0), word(bytes, len - 8))
        } else if len >= 4 {
            (half(bytes, 0), half(bytes, len - 4))
        } else if len > 0 {
            let spread = u64::from(bytes[0]) << 16 | u64::from(bytes[len / 2]) << 8;
            (spread | u64::from(bytes[len - 1]), 0)
        } else {
            (0, 0)
        }
    } else {
        let mut at = 0;
        while len - at > 16 {
            acc = fold(word(bytes, at) ^ acc, word(bytes, at + 8) ^ seed[1]);
            at += 16;
        }
        (word(bytes, len - 16), word(bytes, len - 8))
    };
    fold(a ^ acc, b ^ seed[1])
}

/// Byte equality without a call into libc for names of up to 32 bytes (overlapping words).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    let differ = |at: usize| word(a, at) ^ word(b, at);
    match len {
        8..=16 => differ(0) | differ(len - 8) == 0,
        17..=32 => differ(0) | differ(8) | differ(len - 16) | differ(len - 8) == 0,
        _ => a == b,
    }
}

#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    product as u64 ^ (product >> 64) as u64
}

#[inline]
fn word(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

#[inline]
fn half(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(
        bytes[at..at + 4].try_into().expect("four bytes"),
    ))
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(MIX);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &'static str, aliases: &'static [&'static str], line: u32) -> Meta<u32, ()> {
        Meta {
            name,
            aliases,
            doc: "",
            location: Location {
                module_path: "tests",
                file: "frozen.rs",
                line,
            },
            dynamic: false,
            handler: line,
            meta: (),
        }
    }

    fn names(count: usize) -> Vec<&'static str> {
        (0..count)
            .map(|i| &*format!("svc{}.refresh_{i}", i % 7).leak())
            .collect()
    }

    #[test]
    fn names_whose_bytes_line_up_across_lengths_are_placed() {
        // With the length XORed into the hash, each of these pairs hashed alike under every
        // seed (`b` ^ 2 == `c` ^ 3, and the 8- and 9-byte words overlap), and the build
        // retried forever.
        for pair in [["ab", "abc"], ["aaaaaaaa", "`aaaaaaaa"], ["_b", "_bc"]] {
            let metas = pair
                .iter()
                .enumerate()
                .map(|(i, &name)| meta(name, &[], i as u32));
            let frozen = Frozen::build(metas.collect()).unwrap();
            for name in pair {
                assert_eq!(frozen.find(name).map(|slot| slot.name()), Some(name));
            }
        }
    }

    #[test]
    fn finds_every_name_and_alias_and_nothing_else() {
        let mut entries: Vec<Meta<u32, ()>> = names(5000)
            .into_iter()
            .zip(0..)
            .map(|(name, line)| meta(name, &[], line))
            .collect();
        entries.push(meta(
            "short",
            &["s", "a.very.long.alias.name.of.forty.bytes"],
            9999,
        ));
        let frozen = Frozen::build(entries).unwrap();
        for (line, name) in names(5000).into_iter().enumerate() {
            assert_eq!(
                frozen.find(name).map(|slot| *slot.handler),
                Some(line as u32)
            );
        }
        for name in ["short", "s", "a.very.long.alias.name.of.forty.bytes"] {
            assert_eq!(frozen.find(name).map(|slot| *slot.handler), Some(9999));
        }
        for miss in [
            "",
            "sh",
            "svc0.refresh_1",
            "svc1.refresh_0",
            "a.very.long.alias.name.of.forty.byte",
        ] {
            assert!(frozen.find(miss).is_none(), "{miss}");
        }
        assert_eq!(frozen.names().count(), 5003);
    }

    #[test]
    fn every_table_size_finds_all_its_names() {
        let all = names(300);
        for count in (1..=70).chain([127, 128, 129, 255, 256, 257, 300]) {
            let entries = all[..count]
                .iter()
                .zip(0..)
                .map(|(&name, line)| meta(name, &[], line))
                .collect();
            let frozen = Frozen::build(entries).unwrap();
            for (line, name) in all[..count].iter().enumerate() {
                assert_eq!(
                    frozen.find(name).map(|slot| slot.entry()),
                    Some(line as u32)
                );
            }
            for miss in &all[count..] {
                assert!(frozen.find(miss).is_none(), "{count} names, {miss}");
            }
        }
    }

    #[test]
    fn names_of_every_length_are_found_and_read_back() {
        // 1 to 256 bytes (the longest valid name): lengths past `u8`, arena skips at every
        // offset in a cache line.
        let all: Vec<&'static str> = (1..=256)
            .map(|len| &*format!("{:x<len$}", len % 10).leak())
            .collect();
        let entries = all
            .iter()
            .zip(0..)
            .map(|(&name, line)| meta(name, &[], line));
        let frozen = Frozen::build(entries.collect()).unwrap();
        for (line, name) in all.iter().enumerate() {
            let slot = frozen.find(name).expect(name);
            assert_eq!((slot.name(), slot.entry()), (*name, line as u32));
            assert!(frozen.find(&name[1..]).is_none() || name.len() == 1);
        }
        assert_eq!(frozen.names().count(), 256);
    }

    #[test]
    fn a_name_longer_than_every_key_misses() {
        let frozen = Frozen::build(vec![meta("order.refresh", &[], 1)]).unwrap();
        assert!(frozen.find(&"order.refresh".repeat(100_000)).is_none());
        assert_eq!(frozen.names.max_len, "order.refresh".len());
    }

    #[test]
    fn the_empty_table_finds_nothing() {
        let frozen = Frozen::<u32, ()>::build(Vec::new()).unwrap();
        assert!(frozen.find("").is_none());
        assert!(frozen.find("order.refresh").is_none());
        assert_eq!(frozen.names().count(), 0);
    }

    #[test]
    fn reports_every_duplicate_in_name_order() {
        let entries = vec![
            meta("b", &[], 1),
            meta("a", &["b"], 2),
            meta("a", &[], 3),
            meta("c", &[], 4),
        ];
        let Err(Error::Duplicate { clashes }) = Frozen::build(entries) else {
            panic!("duplicates must fail the build");
        };
        let found: Vec<(&str, u32, u32)> = clashes
            .iter()
            .map(|clash| (clash.name, clash.first.line, clash.second.line))
            .collect();
        assert_eq!(found, [("a", 2, 3), ("b", 1, 2)]);
    }

    #[test]
    fn the_hash_reads_every_byte() {
        let seed = [splitmix(1), splitmix(2)];
        let base = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl";
        for len in 0..=base.len() {
            let name = &base[..len];
            for at in 0..len {
                let mut changed = name.as_bytes().to_vec();
                changed[at] ^= 1;
                let changed = String::from_utf8(changed).unwrap();
                assert_ne!(
                    hash(seed, name),
                    hash(seed, &changed),
                    "{len} bytes, byte {at}"
                );
            }
        }
    }
}
