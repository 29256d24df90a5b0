//! Property tests: random sequences of every registry operation, run on a `Registry` and on a
//! plain `HashMap` model side by side. Both must agree on every result, error kind included,
//! for a registry without static names and for one built with `Registry::with_static`.

use std::collections::HashMap;
use std::sync::OnceLock;

use handler_registry::{validate_name, Error, Kind, NameError, Registry, MAX_NAME_LEN};
use proptest::prelude::*;

type Handler = fn() -> u8;

/// Distinct handlers, told apart by what they answer.
fn tag<const N: u8>() -> u8 {
    N
}
const TAGS: [Handler; 4] = [tag::<0>, tag::<1>, tag::<2>, tag::<3>];

/// The static names of the `with_static` registry and their handlers' tags.
const STATICS: [(&str, u8); 3] = [("static.x", 10), ("static.y", 11), ("b", 12)];

/// Names the operations pick from: some collide with static names, some are near-misses of
/// each other (so "did you mean" has work to do), some break the naming rules.
fn names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = [
            "a",
            "b",
            "ab",
            "alpha",
            "alpah",
            "Alpha",
            "static.x",
            "static.X",
            "static.x\u{200b}",
            "ünïcödé",
            "",
            "two words",
            "bell\u{7}",
        ]
        .map(str::to_owned)
        .to_vec();
        names.push("n".repeat(MAX_NAME_LEN));
        names.push("n".repeat(MAX_NAME_LEN + 1));
        names
    })
}

#[derive(Debug, Clone)]
enum Op {
    Register(usize, usize),
    Replace(usize, usize),
    Unregister(usize),
    RegisterVersioned(usize, u64, usize),
    Get(usize),
    Lookup(usize),
    Contains(usize),
    Len,
    Entries,
}

fn op() -> impl Strategy<Value = Op> {
    let name = 0..names().len();
    let tag = 0..TAGS.len();
    let version = prop_oneof![0..4u64, Just(u64::MAX - 1), Just(u64::MAX)];
    prop_oneof![
        (name.clone(), tag.clone()).prop_map(|(n, t)| Op::Register(n, t)),
        (name.clone(), tag.clone()).prop_map(|(n, t)| Op::Replace(n, t)),
        name.clone().prop_map(Op::Unregister),
        (name.clone(), version, tag).prop_map(|(n, v, t)| Op::RegisterVersioned(n, v, t)),
        name.clone().prop_map(Op::Get),
        name.clone().prop_map(Op::Lookup),
        name.prop_map(Op::Contains),
        Just(Op::Len),
        Just(Op::Entries),
    ]
}

/// A result reduced to what the model can predict: the tag of the handler returned (if any),
/// or the error's kind and the fields that matter.
#[derive(Debug, PartialEq)]
enum Outcome {
    Done,
    Handler(u8),
    InvalidName(NameError),
    NotDynamic,
    AlreadyRegistered,
    NotFound,
    Stale { current: u64, offered: u64 },
}

/// The plain model: static names, the run-time names with (tag, version), and the last version
/// of every removed name (versions of a name never go backwards).
struct Model {
    statics: HashMap<&'static str, u8>,
    dynamic: HashMap<String, (u8, u64)>,
    removed: HashMap<String, u64>,
}

impl Model {
    fn resolve(&self, name: &str) -> Option<u8> {
        match self.statics.get(name) {
            Some(&tag) => Some(tag),
            None => self.dynamic.get(name).map(|&(tag, _)| tag),
        }
    }

    fn writable(&self, name: &str) -> Result<(), Outcome> {
        match self.statics.contains_key(name) {
            true => Err(Outcome::NotDynamic),
            false => Ok(()),
        }
    }

    fn register(&mut self, name: &str, tag: u8) -> Outcome {
        if let Err(reason) = validate_name(name) {
            return Outcome::InvalidName(reason);
        }
        if let Err(outcome) = self.writable(name) {
            return outcome;
        }
        if self.dynamic.contains_key(name) {
            return Outcome::AlreadyRegistered;
        }
        // A removed name continues from its last version.
        let version = match self.removed.get(name) {
            None => 0,
            Some(&u64::MAX) => {
                return Outcome::Stale {
                    current: u64::MAX,
                    offered: u64::MAX,
                }
            }
            Some(&last) => last + 1,
        };
        self.removed.remove(name);
        self.dynamic.insert(name.to_owned(), (tag, version));
        Outcome::Done
    }

    fn replace(&mut self, name: &str, tag: u8) -> Outcome {
        if let Err(outcome) = self.writable(name) {
            return outcome;
        }
        match self.dynamic.get_mut(name) {
            None => Outcome::NotFound,
            Some((_, version)) if *version == u64::MAX => Outcome::Stale {
                current: u64::MAX,
                offered: u64::MAX,
            },
            Some((current, version)) => {
                *version += 1;
                Outcome::Handler(std::mem::replace(current, tag))
            }
        }
    }

    fn unregister(&mut self, name: &str) -> Outcome {
        if let Err(outcome) = self.writable(name) {
            return outcome;
        }
        match self.dynamic.remove(name) {
            None => Outcome::NotFound,
            Some((tag, version)) => {
                self.removed.insert(name.to_owned(), version);
                Outcome::Handler(tag)
            }
        }
    }

    fn register_versioned(&mut self, name: &str, offered: u64, tag: u8) -> Outcome {
        if let Err(reason) = validate_name(name) {
            return Outcome::InvalidName(reason);
        }
        if let Err(outcome) = self.writable(name) {
            return outcome;
        }
        let last = match self.dynamic.get(name) {
            Some(&(_, current)) => Some(current),
            None => self.removed.get(name).copied(),
        };
        match last {
            Some(current) if offered <= current => Outcome::Stale { current, offered },
            _ => {
                self.removed.remove(name);
                self.dynamic.insert(name.to_owned(), (tag, offered));
                Outcome::Done
            }
        }
    }

    /// `entries()` as the model sees it: (name, kind), sorted by name.
    fn entries(&self) -> Vec<(String, Kind)> {
        let mut entries: Vec<(String, Kind)> = self
            .statics
            .keys()
            .map(|&name| (name.to_owned(), Kind::Static))
            .chain(
                self.dynamic
                    .iter()
                    .map(|(name, &(_, version))| (name.clone(), Kind::Dynamic { version })),
            )
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries
    }
}

/// Reduces a registry result to an [`Outcome`], checking on the way that the error names the
/// operation's name (shortened names aside) and that a suggestion is a name that resolves.
fn observe(registry: &Registry<Handler>, name: &str, result: Result<Option<u8>, Error>) -> Outcome {
    let named = |shown: &str| {
        if name.len() <= 80 {
            assert_eq!(shown, name, "the error names the operation's name");
        }
    };
    match result {
        Ok(None) => Outcome::Done,
        Ok(Some(tag)) => Outcome::Handler(tag),
        Err(Error::InvalidName {
            name: shown,
            reason,
            ..
        }) => {
            named(&shown);
            Outcome::InvalidName(reason)
        }
        Err(Error::NotDynamic { name: shown, .. }) => {
            named(&shown);
            Outcome::NotDynamic
        }
        Err(Error::AlreadyRegistered { name: shown, .. }) => {
            named(&shown);
            Outcome::AlreadyRegistered
        }
        Err(Error::NotFound {
            name: shown,
            suggestion,
            ..
        }) => {
            named(&shown);
            if let Some(suggestion) = suggestion {
                assert_ne!(
                    suggestion, name,
                    "a missing name is never its own suggestion"
                );
                assert!(
                    registry.contains(&suggestion),
                    "suggested `{suggestion}` does not resolve"
                );
            }
            Outcome::NotFound
        }
        Err(Error::Stale {
            name: shown,
            current,
            offered,
            ..
        }) => {
            named(&shown);
            Outcome::Stale { current, offered }
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

fn run(registry: &Registry<Handler>, model: &mut Model, ops: &[Op]) {
    let names = names();
    let tag_of = |handler: Handler| handler();
    for op in ops {
        match *op {
            Op::Register(n, t) => {
                let name = &names[n];
                let result = registry.register(name, TAGS[t]).map(|()| None);
                assert_eq!(
                    observe(registry, name, result),
                    model.register(name, t as u8),
                    "{op:?}"
                );
            }
            Op::Replace(n, t) => {
                let name = &names[n];
                let result = registry.replace(name, TAGS[t]).map(|f| Some(tag_of(f)));
                assert_eq!(
                    observe(registry, name, result),
                    model.replace(name, t as u8),
                    "{op:?}"
                );
            }
            Op::Unregister(n) => {
                let name = &names[n];
                let result = registry.unregister(name).map(|f| Some(tag_of(f)));
                assert_eq!(
                    observe(registry, name, result),
                    model.unregister(name),
                    "{op:?}"
                );
            }
            Op::RegisterVersioned(n, version, t) => {
                let name = &names[n];
                let result = registry
                    .register_versioned(name, version, TAGS[t])
                    .map(|()| None);
                assert_eq!(
                    observe(registry, name, result),
                    model.register_versioned(name, version, t as u8),
                    "{op:?}"
                );
            }
            Op::Get(n) => {
                let name = &names[n];
                assert_eq!(
                    registry.get(name).map(tag_of),
                    model.resolve(name),
                    "{op:?}"
                );
            }
            Op::Lookup(n) => {
                let name = &names[n];
                let result = registry.lookup(name).map(|f| Some(tag_of(f)));
                let expected = match model.resolve(name) {
                    Some(tag) => Outcome::Handler(tag),
                    None => Outcome::NotFound,
                };
                assert_eq!(observe(registry, name, result), expected, "{op:?}");
            }
            Op::Contains(n) => {
                let name = &names[n];
                assert_eq!(
                    registry.contains(name),
                    model.resolve(name).is_some(),
                    "{op:?}"
                );
            }
            Op::Len => {
                assert_eq!(
                    registry.len(),
                    model.statics.len() + model.dynamic.len(),
                    "{op:?}"
                );
                assert_eq!(
                    registry.is_empty(),
                    model.statics.is_empty() && model.dynamic.is_empty()
                );
            }
            Op::Entries => {
                let entries: Vec<(String, Kind)> = registry
                    .entries()
                    .into_iter()
                    .map(|entry| (entry.name().to_owned(), entry.kind()))
                    .collect();
                assert_eq!(entries, model.entries(), "{op:?}");
            }
        }
    }
    let final_state = model.entries();
    assert_eq!(final_state.len(), registry.len());
    for (name, _) in final_state {
        assert_eq!(
            registry.get(&name).map(tag_of),
            model.resolve(&name),
            "{name}"
        );
    }
}

/// Every sequence is checked op by op; a failure is shrunk to a minimal sequence.
const CASES: u32 = 512;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn standalone_registry_matches_the_model(ops in prop::collection::vec(op(), 1..120)) {
        let registry = Registry::<Handler>::new();
        let mut model = Model { statics: HashMap::new(), dynamic: HashMap::new(), removed: HashMap::new() };
        run(&registry, &mut model, &ops);
    }

    #[test]
    fn registry_with_static_names_matches_the_model(ops in prop::collection::vec(op(), 1..120)) {
        let registry = Registry::<Handler>::with_static(
            STATICS.map(|(name, tag)| (name, handler_for(tag))),
        )
        .expect("valid static names");
        let mut model = Model {
            statics: STATICS.into_iter().collect(),
            dynamic: HashMap::new(),
            removed: HashMap::new(),
        };
        run(&registry, &mut model, &ops);
    }
}

/// The handlers of the static names, answering their tags.
fn handler_for(static_tag: u8) -> Handler {
    match static_tag {
        10 => tag::<10>,
        11 => tag::<11>,
        _ => tag::<12>,
    }
}
