//! "Did you mean": the closest known name to a miss, by edit distance.

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(
    clippy::cast_possible_truncation,
    reason = "name lengths are at most MAX_NAME_LEN (256) and counts fit u32"
)]
#![allow(
    clippy::items_after_statements,
    reason = "helpers kept next to their single use"
)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use foldhash::fast::FixedState;

use crate::error::MAX_NAME_LEN;
use crate::frozen::Nearby;

/// Edit-distance cells (name length × candidate length) one suggestion may compute after its
/// first comparison: about 220 comparisons of typical 17-character names. A miss costs one pass
/// of cheap filters over the names plus at most this much dynamic programming (and one
/// comparison of up to the longest names), whatever the input and the registry's size.
const CELL_BUDGET: usize = 1 << 16;

/// Which names resolve now, beside the frozen ones: copied from the overlay under its lock, so
/// that a suggestion is computed with no lock held.
#[derive(Default)]
pub(crate) struct Answering {
    /// The numbers (in [`Nearby`], ascending) of `#[dynamic]` names whose handler is not
    /// installed now.
    pub(crate) absent: Vec<u32>,
    /// The names registered at run time: all of them, or those that may be within one edit
    /// of the name looked up.
    pub(crate) runtime: Vec<Arc<str>>,
}

impl Answering {
    fn answers(&self, number: u32) -> bool {
        self.absent.binary_search(&number).is_err()
    }

    /// Every name that resolves now, frozen names first (in slot order), with its profile.
    pub(crate) fn names<'a>(
        &'a self,
        nearby: &'a Nearby,
    ) -> impl Iterator<Item = (&'a str, Profile)> + 'a {
        let frozen = (0..nearby.names.len() as u32)
            .filter(|&number| self.answers(number))
            .map(|number| (nearby.names[number as usize], nearby.index.profile(number)));
        let runtime = self.runtime.iter().map(|name| (&**name, Profile::of(name)));
        frozen.chain(runtime)
    }
}

/// "Did you mean" for `name` among the names that resolve now, [`closest`] of the frozen names
/// then the run-time names. The names within one edit come first, found through the indexes
/// (the frozen names' and the overlay's, given as `near`: the common typo, at the cost of a few
/// hash lookups whatever the number of names); only when none is that close are all the names
/// fetched (`every`) and scanned, with the profiles the frozen index keeps.
pub(crate) fn suggestion(
    nearby: &Nearby,
    near: &Answering,
    name: &str,
    every: impl FnOnce() -> Answering,
) -> Option<String> {
    if let Some(found) = within_one(nearby, near, name) {
        return Some(found.to_owned());
    }
    let every = every();
    closest_profiled(name, every.names(nearby)).map(str::to_owned)
}

/// The closest name within one edit of `name`: the answer of the rule [`closest`] documents
/// whenever a name is within one edit (`closest` itself may stop earlier on its budget of
/// cells, for names of hundreds of characters).
fn within_one<'a>(nearby: &Nearby, live: &'a Answering, name: &str) -> Option<&'a str> {
    // A name within one edit of a valid name is at most one character (4 bytes) longer.
    if name.is_empty() || name.len() > MAX_NAME_LEN + 4 {
        return None;
    }
    let mut name_chars = Vec::with_capacity(name.len());
    name_chars.extend(name.chars());
    let mut best: Option<(usize, &'a str)> = None;
    nearby.index.within_one(name, |number| {
        if live.answers(number) {
            let candidate = nearby.names[number as usize];
            consider(name, &name_chars, candidate, &mut best);
        }
    });
    for runtime in &live.runtime {
        consider(name, &name_chars, runtime, &mut best);
    }
    best.map(|(_, candidate)| candidate)
}

/// Returns the candidate closest to `name` when it is close enough to be a typo: within one
/// edit per three characters (of the shorter of the two; at least one edit), counting an
/// insertion, a deletion, a substitution and a swap of two adjacent characters as one edit
/// each (optimal string alignment). Ties go to the name that sorts first. Failing that, a
/// name of two or more characters that begins exactly one candidate suggests that candidate
/// (`adm` for `admin`).
///
/// The work is bounded whatever the input:
/// - a name longer than any valid name plus the largest allowed distance cannot be close to
///   anything and is rejected before any distance is computed;
/// - a candidate is skipped when its length, or its character counts, already prove it is too
///   far (each edit changes the length by at most one and the counts by at most two);
/// - edit distances are computed for the survivors only, nearest lower bound first, within
///   [`CELL_BUDGET`].
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    closest_profiled(
        name,
        candidates
            .into_iter()
            .map(|candidate| (candidate, Profile::of(candidate))),
    )
}

/// [`closest`] of candidates whose [`Profile`]s are already known (the frozen names' are
/// computed once, by the [`Index`]).
pub(crate) fn closest_profiled<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = (&'a str, Profile)>,
) -> Option<&'a str> {
    if name.is_empty() || name.len() > MAX_NAME_LEN + MAX_NAME_LEN / 3 {
        return None;
    }
    let name_chars = name.chars().count();
    let name_counts = Counts::of(name);
    // Survivors of the cheap filters, nearest lower bound first: the closest name is reached
    // early, and the search stops once no remaining bound can beat the best distance.
    let mut survivors: Vec<(usize, &'a str, usize, usize)> = Vec::new();
    // The candidates `name` begins, up to two (one is an answer, two are ambiguous).
    let mut extends: [Option<&'a str>; 2] = [None, None];
    let prefix = name_chars >= 2;
    for (candidate, profile) in candidates {
        if prefix && candidate.len() > name.len() && candidate.starts_with(name) {
            match extends {
                [None, _] => extends[0] = Some(candidate),
                [Some(first), None] if first != candidate => extends[1] = Some(candidate),
                _ => {}
            }
        }
        let candidate_chars = profile.chars as usize;
        let allowed = (name_chars.min(candidate_chars) / 3).max(1);
        let length_bound = name_chars.abs_diff(candidate_chars);
        if length_bound > allowed {
            continue;
        }
        let bound = length_bound.max(name_counts.distance_bound(&profile.counts));
        if bound <= allowed {
            survivors.push((bound, candidate, candidate_chars, allowed));
        }
    }
    survivors.sort_unstable();
    let name_chars: Vec<char> = name.chars().collect();
    // Sized once for the longest survivor: no allocation per comparison.
    let longest = survivors
        .iter()
        .map(|survivor| survivor.2)
        .max()
        .unwrap_or(0);
    let mut scratch = Scratch::with_capacity(longest);
    let mut budget = CELL_BUDGET;
    let mut compared = false;
    let mut best: Option<(usize, &'a str)> = None;
    for (bound, candidate, candidate_chars, allowed) in survivors {
        if best.is_some_and(|(distance, _)| bound > distance) {
            break;
        }
        let distance = if candidate.eq_ignore_ascii_case(name) {
            0
        } else {
            let cells = name_chars.len() * candidate_chars;
            if compared && cells > budget {
                break;
            }
            compared = true;
            budget = budget.saturating_sub(cells);
            // A tie with the best so far can still win (on order), a longer distance cannot.
            let limit = best.map_or(allowed, |(distance, _)| distance.min(allowed));
            match osa_within(&name_chars, candidate, limit, &mut scratch) {
                Some(distance) => distance,
                None => continue,
            }
        };
        if distance <= allowed && best.is_none_or(|best| (distance, candidate) < best) {
            best = Some((distance, candidate));
        }
    }
    match (best, extends) {
        (Some((_, candidate)), _) => Some(candidate),
        (None, [Some(only), None]) => Some(only),
        (None, _) => None,
    }
}

/// The optimal string alignment distance of `a` and `b` (insertions, deletions, substitutions
/// and swaps of neighbours, each substring edited once) if it is at most `limit`, else `None`.
/// The same dynamic programme as `strsim::osa_distance` (the tests check them against each
/// other), with two savings: the rows live in `scratch`, reused from one candidate to the next,
/// and only the band of cells within `limit` of the diagonal is computed (a cell `(r, c)` is at
/// least `|r - c|`, and a distance within `limit` has its whole path within it), with the
/// cells just outside the band set to `limit + 1`.
fn osa_within(a: &[char], b: &str, limit: usize, scratch: &mut Scratch) -> Option<usize> {
    let Scratch {
        b_chars,
        two_back,
        previous,
        current,
    } = scratch;
    b_chars.clear();
    b_chars.extend(b.chars());
    let b_len = b_chars.len();
    if a.len().abs_diff(b_len) > limit {
        return None;
    }
    let outside = limit.saturating_add(1);
    for row in [&mut *two_back, &mut *previous] {
        row.clear();
        row.extend(0..=b_len);
    }
    current.clear();
    current.resize(b_len + 1, 0);
    let mut previous_a = char::MAX;
    // The smallest cell of the row before (row 0's is 0).
    let mut min_one_back: usize = 0;
    for (i, &a_char) in a.iter().enumerate() {
        // Row `r` of the table, columns `low..=high` (1-based, as `b`'s characters).
        let r = i + 1;
        let low = r.saturating_sub(limit).max(1);
        let high = r.saturating_add(limit).min(b_len);
        current[0] = r;
        if low > 1 {
            current[low - 1] = outside;
        }
        // Carried along the row: the cell to the left, and the previous character of `b`.
        let mut left = current[low - 1];
        let mut previous_b = if low > 1 { b_chars[low - 2] } else { char::MAX };
        let mut row_min = if low == 1 { r } else { outside };
        for c in low..=high {
            let b_char = b_chars[c - 1];
            let cost = usize::from(a_char != b_char);
            let mut distance = (left + 1).min(previous[c] + 1).min(previous[c - 1] + cost);
            if cost == 1 && a_char == previous_b && b_char == previous_a && r > 1 && c > 1 {
                distance = distance.min(two_back[c - 2] + 1);
            }
            current[c] = distance;
            row_min = row_min.min(distance);
            left = distance;
            previous_b = b_char;
        }
        if high < b_len {
            current[high + 1] = outside;
        }
        // Every later cell comes from this row or (a swap) the one before it, plus one.
        if row_min > limit && min_one_back.saturating_add(1) > limit {
            return None;
        }
        min_one_back = row_min;
        previous_a = a_char;
        std::mem::swap(two_back, previous);
        std::mem::swap(previous, current);
    }
    let distance = previous[b_len];
    (distance <= limit).then_some(distance)
}

/// The buffers [`osa_within`] reuses.
#[derive(Default)]
pub(crate) struct Scratch {
    b_chars: Vec<char>,
    two_back: Vec<usize>,
    previous: Vec<usize>,
    current: Vec<usize>,
}

impl Scratch {
    /// Buffers for candidates of up to `chars` characters.
    pub(crate) fn with_capacity(chars: usize) -> Self {
        Scratch {
            b_chars: Vec::with_capacity(chars),
            two_back: Vec::with_capacity(chars + 1),
            previous: Vec::with_capacity(chars + 1),
            current: Vec::with_capacity(chars + 1),
        }
    }
}

/// The names of a frozen table, indexed for the common typo: every name within one edit of an
/// input (a deletion neighbourhood, as `SymSpell`'s). Each name is filed under a hash of its
/// ASCII-lowercased form and of each form with one character deleted; an input looks up the
/// same keys of its own, and any name within one edit (case aside) shares one of them: a
/// substitution or a swap leaves both sides equal after one deletion each, an insertion after
/// one deletion on one side. Hash collisions only add candidates, which are verified.
///
/// Built on the first miss that asks for a suggestion, never at freeze: `len + 1` keys a name.
pub(crate) struct Index {
    /// Key hash → the range of `names` filed under it.
    ranges: HashMap<u64, (u32, u32), FixedState>,
    /// Name numbers (positions in the list the index was built from), grouped by key.
    names: Vec<u32>,
    /// The longest name, in characters: longer input is more than one edit from all.
    max_chars: usize,
    /// Each name's profile, by number: what a scan's filters read, computed once.
    profiles: Vec<Profile>,
}

impl Index {
    pub(crate) fn build<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut keyed: Vec<(u64, u32)> = Vec::new();
        let mut max_chars = 0;
        let mut folded = Vec::new();
        let mut profiles = Vec::new();
        for (number, name) in names.into_iter().enumerate() {
            let number = u32::try_from(number).expect("more than u32::MAX names");
            profiles.push(Profile::of(name));
            fold(name, &mut folded);
            max_chars = max_chars.max(folded.len());
            deletion_keys(&folded, |key| keyed.push((key, number)));
        }
        keyed.sort_unstable();
        keyed.dedup();
        let mut ranges: HashMap<u64, (u32, u32), FixedState> =
            HashMap::with_capacity_and_hasher(keyed.len() / 2, FixedState::default());
        let mut start = 0;
        while start < keyed.len() {
            let key = keyed[start].0;
            let end = start + keyed[start..].iter().take_while(|(k, _)| *k == key).count();
            ranges.insert(key, (start as u32, (end - start) as u32));
            start = end;
        }
        Index {
            ranges,
            names: keyed.into_iter().map(|(_, number)| number).collect(),
            max_chars,
            profiles,
        }
    }

    /// The profile of name number `number`.
    pub(crate) fn profile(&self, number: u32) -> Profile {
        self.profiles[number as usize]
    }

    /// The names within one edit of `name` (distance 0 for a difference of ASCII case only):
    /// their numbers in the list the index was built from, and the distance, each once.
    pub(crate) fn within_one(&self, name: &str, mut found: impl FnMut(u32)) {
        let mut folded = Vec::with_capacity(name.len());
        fold(name, &mut folded);
        if folded.is_empty() || folded.len() > self.max_chars + 1 {
            return;
        }
        let mut seen: Vec<u32> = Vec::with_capacity(16);
        deletion_keys(&folded, |key| {
            if let Some(&(start, len)) = self.ranges.get(&key) {
                for &number in &self.names[start as usize..(start + len) as usize] {
                    if !seen.contains(&number) {
                        seen.push(number);
                        found(number);
                    }
                }
            }
        });
    }
}

/// The run-time names indexed as [`Index`] indexes the frozen ones, kept up to date as names
/// are registered and removed (under the overlay's write lock), so that a typo is answered
/// without reading every run-time name under the read lock.
///
/// Run-time names may come from untrusted input: the key map is seeded per process (its keys
/// are hashes anyone can compute), a key shared by many names keeps them in a set (so removing
/// one is not a pass over the others), and a lookup collects a key's names once each in
/// `O(k log k)`: the work stays linear in the names near the input, however many that is.
#[derive(Default)]
pub(crate) struct LiveIndex {
    keys: HashMap<u64, Filed, foldhash::fast::RandomState>,
}

/// The names filed under one key: most keys have one, which then takes no allocation.
enum Filed {
    One(Arc<str>),
    More(HashSet<Arc<str>, foldhash::fast::RandomState>),
}

impl LiveIndex {
    pub(crate) fn insert(&mut self, name: &Arc<str>) {
        folded_keys(name, |key| {
            use std::collections::hash_map::Entry;
            match self.keys.entry(key) {
                Entry::Vacant(vacant) => {
                    vacant.insert(Filed::One(name.clone()));
                }
                Entry::Occupied(mut occupied) => {
                    let filed = occupied.get_mut();
                    if let Filed::One(first) = filed {
                        *filed = Filed::More(HashSet::from_iter([first.clone()]));
                    }
                    if let Filed::More(names) = filed {
                        names.insert(name.clone());
                    }
                }
            }
        });
    }

    pub(crate) fn remove(&mut self, name: &str) {
        folded_keys(name, |key| {
            let emptied = match self.keys.get_mut(&key) {
                Some(Filed::One(filed)) => **filed == *name,
                Some(Filed::More(names)) => {
                    names.remove(name);
                    names.is_empty()
                }
                None => false,
            };
            if emptied {
                self.keys.remove(&key);
            }
        });
    }

    /// Every run-time name that may be within one edit of `name` (to be verified), each once.
    pub(crate) fn near(&self, name: &str) -> Vec<Arc<str>> {
        let mut found: Vec<Arc<str>> = Vec::new();
        if name.is_empty() || name.len() > MAX_NAME_LEN + 4 || self.keys.is_empty() {
            return found;
        }
        folded_keys(name, |key| match self.keys.get(&key) {
            Some(Filed::One(filed)) => found.push(filed.clone()),
            Some(Filed::More(names)) => found.extend(names.iter().cloned()),
            None => {}
        });
        // A name filed under several of the keys is found once per key: keep one.
        found.sort_unstable_by_key(|filed| Arc::as_ptr(filed).cast::<u8>() as usize);
        found.dedup_by(|a, b| Arc::ptr_eq(a, b));
        found
    }
}

/// Makes `candidate` the `best` if it is within one edit of `name` (its characters
/// `name_chars`; a difference of ASCII case only is 0, as [`closest`] counts it) and closer,
/// or as close and first in order.
pub(crate) fn consider<'a>(
    name: &str,
    name_chars: &[char],
    candidate: &'a str,
    best: &mut Option<(usize, &'a str)>,
) {
    let distance = if candidate.eq_ignore_ascii_case(name) {
        Some(0)
    } else {
        one_edit(name_chars, candidate)
    };
    if let Some(distance) = distance {
        if best.is_none_or(|best| (distance, candidate) < best) {
            *best = Some((distance, candidate));
        }
    }
}

/// [`osa_within`] with a limit of one edit, without its table: `a` and `b` are within one edit
/// exactly when, past their longest common prefix and suffix, what is left is one character
/// each (a substitution), one character of the longer and none of the shorter (an insertion or
/// a deletion), or two swapped characters each (a swap of neighbours).
fn one_edit(a: &[char], b: &str) -> Option<usize> {
    let b_len = b.chars().count();
    let (a_len, short) = (a.len(), a.len().min(b_len));
    if a_len.abs_diff(b_len) > 1 {
        return None;
    }
    let prefix = a
        .iter()
        .zip(b.chars())
        .take_while(|(x, y)| **x == *y)
        .count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b.chars().rev())
        .take(short - prefix)
        .take_while(|(x, y)| **x == *y)
        .count();
    let left = short - prefix - suffix;
    match (a_len == b_len, left) {
        (true, 0) => Some(0),
        (true, 1) | (false, 0) => Some(1),
        (true, 2) => {
            let mut rest = b.chars().skip(prefix);
            let swapped = rest.next() == Some(a[prefix + 1]) && rest.next() == Some(a[prefix]);
            swapped.then_some(1)
        }
        _ => None,
    }
}

/// Calls `key` with the keys [`LiveIndex`] files `name` under: those of [`deletion_keys`] of
/// its [`fold`]ed characters.
fn folded_keys(name: &str, key: impl FnMut(u64)) {
    let mut folded = Vec::with_capacity(name.len());
    fold(name, &mut folded);
    deletion_keys(&folded, key);
}

/// `name`'s characters, ASCII letters lowercased.
fn fold(name: &str, out: &mut Vec<char>) {
    out.clear();
    out.extend(name.chars().map(|c| c.to_ascii_lowercase()));
}

/// Calls `key` with the hash of `chars` and of each of its forms with one character deleted.
///
/// The hash is a polynomial in the characters, so each deleted form's is computed from a prefix
/// and a suffix in constant time (`O(n)` for all of them, not `O(n²)`): the form without
/// character `i` is `prefix(i) · B^(n-1-i) + suffix(i + 1)`. A form's length is mixed in, so
/// that a string and a shorter one never share a value by construction. Values that collide
/// anyway only add candidates, which are verified.
fn deletion_keys(chars: &[char], mut key: impl FnMut(u64)) {
    const B: u64 = 0x9e37_79b9_7f4a_7c15 | 1;
    let n = chars.len();
    let value = |c: char| u64::from(c) + 1;
    let mix = |hash: u64, len: usize| (hash ^ len as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    // `suffix[i]` is the polynomial of `chars[i..]`; `power[k]` is `B^k`. On the stack for
    // names of up to 63 characters (a miss allocates enough already).
    const ON_STACK: usize = 64;
    let mut stack = [[0u64; ON_STACK]; 2];
    let mut heap: Vec<u64>;
    let (suffix, power): (&mut [u64], &mut [u64]) = if n < ON_STACK {
        let [suffix, power] = &mut stack;
        (&mut suffix[..=n], &mut power[..=n])
    } else {
        heap = vec![0u64; 2 * (n + 1)];
        heap.split_at_mut(n + 1)
    };
    power[0] = 1;
    for i in (0..n).rev() {
        power[n - i] = power[n - i - 1].wrapping_mul(B);
        suffix[i] = value(chars[i])
            .wrapping_mul(power[n - i - 1])
            .wrapping_add(suffix[i + 1]);
    }
    key(mix(suffix[0], n));
    let mut prefix = 0u64;
    for (skip, &c) in chars.iter().enumerate() {
        // Deleting either of two equal neighbours gives the same form: file it once.
        if skip == 0 || c != chars[skip - 1] {
            let form = prefix
                .wrapping_mul(power[n - 1 - skip])
                .wrapping_add(suffix[skip + 1]);
            key(mix(form, n - 1));
        }
        prefix = prefix.wrapping_mul(B).wrapping_add(value(c));
    }
}

/// What the filters of [`closest`] read of a candidate: its length in characters and its
/// character counts.
#[derive(Clone, Copy)]
pub(crate) struct Profile {
    chars: u32,
    counts: Counts,
}

impl Profile {
    pub(crate) fn of(name: &str) -> Self {
        Profile {
            chars: u32::try_from(name.chars().count()).unwrap_or(u32::MAX),
            counts: Counts::of(name),
        }
    }
}

/// Character counts folded into 32 classes (case-insensitively for ASCII letters, so that a
/// name differing only in case still passes the filter), each saturating at 255 (which keeps
/// every difference of counts a lower bound of the true one).
#[derive(Clone, Copy)]
struct Counts([u8; 32]);

impl Counts {
    fn of(text: &str) -> Self {
        let mut counts = [0u8; 32];
        for c in text.chars() {
            let class = c.to_ascii_lowercase() as usize % 32;
            counts[class] = counts[class].saturating_add(1);
        }
        Counts(counts)
    }

    /// A lower bound of the edit distance: a substitution moves one count down and one up, an
    /// insertion or deletion moves one, a swap of neighbours none; folding characters into
    /// classes only lowers the sum.
    fn distance_bound(&self, other: &Counts) -> usize {
        let moved: u32 = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| u32::from(a.abs_diff(*b)))
            .sum();
        moved.div_ceil(2) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn picks_the_nearest_name() {
        let names = ["greet", "order.refresh", "order.create"];
        assert_eq!(closest("gret", names), Some("greet"));
        assert_eq!(closest("order.refesh", names), Some("order.refresh"));
        assert_eq!(closest("GREET", names), Some("greet"));
        assert_eq!(closest("zzzzzz", names), None);
        assert_eq!(closest("", names), None);
    }

    #[test]
    fn a_swap_of_neighbours_is_one_edit_and_a_unique_prefix_is_an_answer() {
        let names = ["help", "ping", "admin", "remind", "roll", "reset"];
        assert_eq!(closest("hlep", names), Some("help"));
        assert_eq!(closest("pnig", names), Some("ping"));
        assert_eq!(closest("adm", names), Some("admin"));
        assert_eq!(closest("rem", names), Some("remind"));
        // `re` begins two names: no guess.
        assert_eq!(closest("re", ["remind", "reset"]), None);
        // One character is too short to call a prefix.
        assert_eq!(closest("a", ["admin"]), None);
    }

    /// A xorshift generator of numbers below a bound: the same cases on every run.
    fn random(mut state: u64) -> impl FnMut(usize) -> usize {
        move |bound| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        }
    }

    #[test]
    fn the_distance_is_strsims_optimal_string_alignment() {
        // Random strings over small alphabets (so that swaps and repeats are common), ASCII and
        // not, against the crate's implementation, the oracle.
        let alphabets: [&[char]; 3] = [&['a', 'b'], &['a', 'b', 'c', '.'], &['ß', 'ü', 'e', '字']];
        let mut next = random(0x2545_f491_4f6c_dd1du64);
        let mut scratch = super::Scratch::default();
        for _ in 0..20_000 {
            let alphabet = alphabets[next(alphabets.len())];
            let (a_len, b_len) = (next(9), next(9));
            let a: String = (0..a_len).map(|_| alphabet[next(alphabet.len())]).collect();
            let b: String = (0..b_len).map(|_| alphabet[next(alphabet.len())]).collect();
            let a_chars: Vec<char> = a.chars().collect();
            let expected = strsim::osa_distance(&a, &b);
            // With room to spare, the distance itself; with a limit, it or `None` past it.
            assert_eq!(
                super::osa_within(&a_chars, &b, usize::MAX, &mut scratch),
                Some(expected),
                "{a:?} {b:?}"
            );
            assert_eq!(
                super::one_edit(&a_chars, &b),
                (expected <= 1).then_some(expected),
                "{a:?} {b:?} within one edit"
            );
            let limit = next(5);
            assert_eq!(
                super::osa_within(&a_chars, &b, limit, &mut scratch),
                (expected <= limit).then_some(expected),
                "{a:?} {b:?} within {limit}"
            );
        }
    }

    /// The oracle of the index: every name within one edit, by brute force.
    fn brute_within_one<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
        if name.is_empty() {
            return None; // as `closest`: an empty name suggests nothing
        }
        names
            .iter()
            .filter_map(|&candidate| {
                let distance = if candidate.eq_ignore_ascii_case(name) {
                    0
                } else {
                    strsim::osa_distance(name, candidate)
                };
                (distance <= 1).then_some((distance, candidate))
            })
            .min()
            .map(|(_, candidate)| candidate)
    }

    #[test]
    fn the_index_finds_what_a_scan_finds_within_one_edit() {
        let alphabet = ['a', 'b', 'c', '.', 'A', 'ü'];
        let mut next = random(0x9e37_79b9_7f4a_7c15u64);
        for round in 0..300 {
            let count = 1 + next(40);
            let mut names: Vec<String> = (0..count)
                .map(|_| {
                    (0..1 + next(6))
                        .map(|_| alphabet[next(alphabet.len())])
                        .collect()
                })
                .collect();
            names.sort();
            names.dedup();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let index = super::Index::build(names.iter().copied());
            for _ in 0..40 {
                // A typo of a name (one or two random edits) or a random string.
                let mut typo: Vec<char> = names[next(names.len())].chars().collect();
                for _ in 0..1 + next(2) {
                    let at = next(typo.len() + 1);
                    match next(4) {
                        0 if at < typo.len() => typo[at] = alphabet[next(alphabet.len())],
                        1 => typo.insert(at, alphabet[next(alphabet.len())]),
                        2 if at < typo.len() => drop(typo.remove(at)),
                        _ if at + 1 < typo.len() => typo.swap(at, at + 1),
                        _ => {}
                    }
                }
                let typo: String = typo.into_iter().collect();
                let typo_chars: Vec<char> = typo.chars().collect();
                let mut best = None;
                index.within_one(&typo, |number| {
                    let candidate = names[number as usize];
                    super::consider(&typo, &typo_chars, candidate, &mut best);
                });
                assert_eq!(
                    best.map(|(_, candidate)| candidate),
                    brute_within_one(&typo, &names),
                    "round {round}: {typo:?} among {names:?}"
                );
            }
        }
    }

    #[test]
    fn ties_go_to_the_first_name_in_order() {
        assert_eq!(closest("cat", ["bat", "cab", "car"]), Some("bat"));
    }

    #[test]
    fn unicode_names_are_compared_by_character() {
        assert_eq!(closest("grüse", ["grüße", "greet"]), Some("grüße"));
        assert_eq!(
            closest("grüsse", ["grüße"]),
            None,
            "two edits in five characters is too far"
        );
    }

    #[test]
    fn huge_input_is_rejected_without_work() {
        let huge = "g".repeat(1 << 20);
        assert_eq!(closest(&huge, ["greet"]), None);
    }

    #[test]
    fn the_filters_never_hide_a_close_name() {
        let names: Vec<String> = (0..5000)
            .map(|i| format!("svc{}.refresh_{i}", i % 7))
            .collect();
        let refs = names.iter().map(String::as_str);
        assert_eq!(
            closest("svc3.refresh_4999", refs.clone()),
            Some("svc1.refresh_4999")
        );
        assert_eq!(
            closest("svc1.refrseh_4999", refs.clone()),
            Some("svc1.refresh_4999")
        );
        // One insertion away from several names; ties go to the first in order.
        assert_eq!(closest("svc1.refresh_499", refs), Some("svc1.refresh_1499"));
    }
}
