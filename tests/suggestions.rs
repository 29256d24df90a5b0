//! "Did you mean": the registry's suggestion (an index for names within one edit, a scan
//! beyond) against the documented rule computed by brute force with strsim's optimal string
//! alignment, on random names, random typos and random strings.

use handler_registry::{Error, Registry, MAX_NAME_LEN};

/// The rule of `Error::NotFound`, by brute force.
fn oracle<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    if name.is_empty() || name.len() > MAX_NAME_LEN + MAX_NAME_LEN / 3 {
        return None;
    }
    let chars = name.chars().count();
    let closest = names
        .iter()
        .filter_map(|&candidate| {
            let allowed = (chars.min(candidate.chars().count()) / 3).max(1);
            let distance = if candidate.eq_ignore_ascii_case(name) {
                0
            } else {
                strsim::osa_distance(name, candidate)
            };
            (distance <= allowed).then_some((distance, candidate))
        })
        .min()
        .map(|(_, candidate)| candidate);
    if closest.is_some() || chars < 2 {
        return closest;
    }
    let mut extended = names
        .iter()
        .filter(|candidate| candidate.len() > name.len() && candidate.starts_with(name));
    match (extended.next(), extended.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

fn suggestion(error: Error) -> Option<String> {
    match error {
        Error::NotFound { suggestion, .. } => suggestion,
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// A small xorshift generator: the same cases on every run.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

#[test]
fn suggestions_follow_the_documented_rule() {
    let alphabet = ['a', 'b', 'c', 'd', '.', '_', 'A', 'é'];
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    for round in 0..150 {
        // Up to 80 frozen names, half of them indexed, half registered at run time.
        let mut names: Vec<String> = (0..1 + random.below(160))
            .map(|_| {
                (0..1 + random.below(12))
                    .map(|_| alphabet[random.below(alphabet.len())])
                    .collect()
            })
            .collect();
        names.sort();
        names.dedup();
        // Half the names frozen (indexed), half registered at run time (scanned).
        let (frozen, runtime) = names.split_at(names.len() / 2);
        let registry = Registry::<fn() -> u8>::with_static(frozen.iter().map(|name| {
            (
                &*Box::leak(name.clone().into_boxed_str()),
                (|| 0) as fn() -> u8,
            )
        }))
        .unwrap();
        // Half of them before a first miss (which indexes the run-time names), half after (the
        // index follows each change).
        let (early, late) = runtime.split_at(runtime.len() / 2);
        for name in early {
            registry.register(name, || 1).unwrap();
        }
        assert!(registry.lookup("?").is_err());
        for name in late {
            registry.register(name, || 1).unwrap();
        }
        // Every third run-time name removed again: neither suggested nor in the way.
        let removed: Vec<&str> = runtime.iter().step_by(3).map(String::as_str).collect();
        for name in &removed {
            registry.unregister(name).unwrap();
        }
        let all: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|name| !removed.contains(name))
            .collect();
        for _ in 0..60 {
            let typo: String = if random.below(4) == 0 {
                (0..1 + random.below(14))
                    .map(|_| alphabet[random.below(alphabet.len())])
                    .collect()
            } else {
                let mut typo: Vec<char> = all[random.below(all.len())].chars().collect();
                for _ in 0..1 + random.below(3) {
                    let at = random.below(typo.len() + 1);
                    let c = alphabet[random.below(alphabet.len())];
                    match random.below(4) {
                        0 if at < typo.len() => typo[at] = c,
                        1 => typo.insert(at, c),
                        2 if at < typo.len() => drop(typo.remove(at)),
                        _ if at + 1 < typo.len() => typo.swap(at, at + 1),
                        _ => {}
                    }
                }
                typo.into_iter().collect()
            };
            if all.contains(&typo.as_str()) {
                continue;
            }
            let Err(error) = registry.lookup(&typo) else {
                panic!("{typo:?} resolved")
            };
            assert_eq!(
                suggestion(error).as_deref(),
                oracle(&typo, &all),
                "round {round}: {typo:?} among {all:?}"
            );
        }
    }
}

#[test]
fn every_single_substitution_of_a_name_is_answered_with_it() {
    // Names as a service has them, far enough apart that no typo is one edit from two names.
    let names: Vec<String> = (0..4096)
        .map(|i| format!("svc{:02}.op_{:04}", i % 97, i * 7919 % 10_000))
        .collect();
    let registry = Registry::<fn() -> u8>::with_static(names.iter().map(|name| {
        (
            &*Box::leak(name.clone().into_boxed_str()),
            (|| 0) as fn() -> u8,
        )
    }))
    .unwrap();
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    // Every 257th name (16 of them), each character replaced in turn.
    for name in names.iter().step_by(257) {
        for (at, _) in name.char_indices() {
            let typo = format!("{}#{}", &name[..at], &name[at + 1..]);
            let suggested = suggestion(registry.lookup(&typo).unwrap_err());
            assert_eq!(suggested.as_deref(), oracle(&typo, &all), "{typo}");
            assert_eq!(suggested.as_deref(), Some(name.as_str()), "{typo}");
        }
    }
}

#[test]
fn run_time_names_are_suggested_through_every_change() {
    type Op = fn() -> u8;
    let long = format!("{}.long", "segment".repeat(10));
    let registry = Registry::<Op>::new();
    for name in ["alpha.one", "beta.two", long.as_str()] {
        registry.register(name, || 1).unwrap();
    }
    let suggested = |name: &str| suggestion(registry.lookup(name).unwrap_err());
    // The first miss indexes the run-time names; every change after it updates the index.
    assert_eq!(suggested("alpha.onf").as_deref(), Some("alpha.one"));
    registry.replace("alpha.one", || 2).unwrap();
    assert_eq!(suggested("alpha.onf").as_deref(), Some("alpha.one"));
    registry.unregister("alpha.one").unwrap();
    assert_eq!(suggested("alpha.onf"), None);
    registry.register("alpha.one", || 3).unwrap();
    assert_eq!(suggested("alpha.onf").as_deref(), Some("alpha.one"));
    registry.register_versioned("gamma.three", 4, || 4).unwrap();
    assert_eq!(suggested("gama.three").as_deref(), Some("gamma.three"));
    // A name of more than 64 characters (its deletion forms hashed on the heap).
    let typo = long.replacen("segment", "segmant", 1);
    assert_eq!(suggested(&typo).as_deref(), Some(long.as_str()));
    registry.unregister(&long).unwrap();
    assert_eq!(suggested(&typo), None);
}

#[test]
fn many_run_time_names_sharing_a_form_are_each_suggested_once() {
    // Every name is `k` and one more character: all share the form `k`, and each is one edit
    // from `k` and from each other.
    let registry = Registry::<fn() -> u8>::new();
    let names: Vec<String> = ('a'..='z')
        .chain('A'..='Z')
        .chain('\u{100}'..'\u{600}')
        .map(|c| format!("k{c}"))
        .collect();
    for name in &names {
        registry.register(name, || 1).unwrap();
    }
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    for typo in ["k", "kz1", "k\u{2000}", "zk"] {
        assert_eq!(
            suggestion(registry.lookup(typo).unwrap_err()).as_deref(),
            oracle(typo, &all),
            "{typo:?}"
        );
    }
    for name in names.iter().step_by(2) {
        registry.unregister(name).unwrap();
    }
    let left: Vec<&str> = names
        .iter()
        .skip(1)
        .step_by(2)
        .map(String::as_str)
        .collect();
    for typo in ["k", "ka", "kc", "kz1"] {
        assert_eq!(
            suggestion(registry.lookup(typo).unwrap_err()).as_deref(),
            oracle(typo, &left),
            "{typo:?}"
        );
    }
}
