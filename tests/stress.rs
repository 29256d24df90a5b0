//! Bounded stress: 4 threads run 10^6 mixed operations in total on one registry. Each thread
//! owns a disjoint set of run-time names, so its own sequential model predicts every result it
//! gets, error kind and version included, however the threads interleave; all threads also read
//! shared names that nobody can change. At the end the registry must hold exactly what the
//! merged models hold: no lost entry, no resurrected one, every version as expected.

use std::collections::BTreeMap;
use std::sync::Barrier;

use handler_registry::{dynamic, handler, registry, Error, Kind, Registry};

type Handler = fn() -> u64;

#[registry]
static STRESS: Registry<Handler>;

/// Shared and static: every write to it is refused, every read answers 1000.
#[handler("shared.static", registry = STRESS, aliases = ["shared.alias"])]
fn shared_static() -> u64 {
    1000
}

/// Shared and dynamic, but read-only by convention in this test: stays at version 0.
#[handler("shared.dynamic", registry = STRESS)]
#[dynamic]
fn shared_dynamic() -> u64 {
    1001
}

const THREADS: usize = 4;
const OPS_PER_THREAD: usize = 250_000;
const NAMES_PER_THREAD: usize = 8;

/// Distinct handlers, told apart by what they answer.
fn tag<const N: u64>() -> u64 {
    N
}
const TAGS: [Handler; 8] = [
    tag::<0>, tag::<1>, tag::<2>, tag::<3>, tag::<4>, tag::<5>, tag::<6>, tag::<7>,
];

/// xorshift64*: deterministic per thread, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What one thread's names hold: name → (handler tag, version).
type Model = BTreeMap<String, (u64, u64)>;

/// Runs `OPS_PER_THREAD` operations on thread `t`'s own names (and reads of the shared ones),
/// checking each result against the thread's model as it goes; returns the final model and the
/// number of operations of each kind.
fn worker(t: usize, start: &Barrier) -> (Model, [u64; 8]) {
    let names: Vec<String> = (0..NAMES_PER_THREAD)
        .map(|i| format!("t{t}.name{i}"))
        .collect();
    let mut model = Model::new();
    // The last version of each removed name: versions of a name never go backwards.
    let mut removed: BTreeMap<String, u64> = BTreeMap::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1).wrapping_mul(0xff51_afd7_ed55_8ccd));
    let mut counts = [0u64; 8];
    start.wait();
    for _ in 0..OPS_PER_THREAD {
        let name = &names[rng.below(NAMES_PER_THREAD as u64) as usize];
        let tag = rng.below(TAGS.len() as u64);
        let handler = TAGS[tag as usize];
        let op = rng.below(100);
        let kind = match op {
            0..=9 => 0,
            10..=19 => 1,
            20..=27 => 2,
            28..=35 => 3,
            36..=74 => 4,
            75..=89 => 5,
            90..=97 => 6,
            _ => 7,
        };
        counts[kind] += 1;
        match kind {
            0 => {
                let result = STRESS.register(name, handler);
                match model.get(name) {
                    None => {
                        assert_eq!(result, Ok(()), "register {name}");
                        let version = removed.remove(name).map_or(0, |last| last + 1);
                        model.insert(name.clone(), (tag, version));
                    }
                    Some(_) => assert!(
                        matches!(result, Err(Error::AlreadyRegistered { .. })),
                        "register {name}: {result:?}"
                    ),
                }
            }
            1 => {
                let result = STRESS.replace(name, handler).map(|previous| previous());
                match model.get_mut(name) {
                    Some((current, version)) => {
                        assert_eq!(result, Ok(*current), "replace {name}");
                        *current = tag;
                        *version += 1;
                    }
                    None => assert!(
                        matches!(result, Err(Error::NotFound { .. })),
                        "replace {name}: {result:?}"
                    ),
                }
            }
            2 => {
                let result = STRESS.unregister(name).map(|previous| previous());
                match model.remove(name) {
                    Some((current, version)) => {
                        assert_eq!(result, Ok(current), "unregister {name}");
                        removed.insert(name.clone(), version);
                    }
                    None => assert!(
                        matches!(result, Err(Error::NotFound { .. })),
                        "unregister {name}: {result:?}"
                    ),
                }
            }
            3 => {
                let offered = rng.below(64);
                let result = STRESS.register_versioned(name, offered, handler);
                let last = match model.get(name) {
                    Some(&(_, version)) => Some(version),
                    None => removed.get(name).copied(),
                };
                match last {
                    Some(current) if offered <= current => {
                        let Err(Error::Stale {
                            name: shown,
                            current: installed,
                            offered: refused,
                            ..
                        }) = &result
                        else {
                            panic!("register_versioned {name} {offered}: {result:?}");
                        };
                        assert_eq!((shown, *installed, *refused), (name, current, offered));
                    }
                    _ => {
                        assert_eq!(result, Ok(()), "register_versioned {name} {offered}");
                        removed.remove(name);
                        model.insert(name.clone(), (tag, offered));
                    }
                }
            }
            4 => {
                let seen = STRESS.get(name).map(|handler| handler());
                assert_eq!(seen, model.get(name).map(|&(tag, _)| tag), "get {name}");
            }
            5 => {
                let shared = ["shared.static", "shared.alias", "shared.dynamic"];
                let which = shared[rng.below(3) as usize];
                let expected = if which == "shared.dynamic" {
                    1001
                } else {
                    1000
                };
                assert_eq!(
                    STRESS.get(which).map(|f| f()),
                    Some(expected),
                    "get {which}"
                );
            }
            6 => {
                let result = STRESS.register("shared.static", handler);
                assert!(
                    matches!(result, Err(Error::NotDynamic { .. })),
                    "static names are never shadowed: {result:?}"
                );
            }
            _ => assert_eq!(STRESS.contains(name), model.contains_key(name)),
        }
    }
    (model, counts)
}

#[test]
fn four_threads_a_million_operations_match_the_model() {
    let start = Barrier::new(THREADS);
    let results: Vec<(Model, [u64; 8])> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let start = &start;
                scope.spawn(move || worker(t, start))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a worker's check failed"))
            .collect()
    });

    let total: u64 = results.iter().flat_map(|(_, counts)| counts).sum();
    assert_eq!(total, (THREADS * OPS_PER_THREAD) as u64);
    for (_, counts) in &results {
        assert!(counts.iter().all(|&count| count > 1000), "{counts:?}");
    }

    let mut expected: Model = results.into_iter().flat_map(|(model, _)| model).collect();
    expected.insert("shared.dynamic".to_owned(), (1001, 0));
    let static_listed = STRESS
        .entries()
        .iter()
        .any(|entry| entry.name() == "shared.static" && entry.kind() == Kind::Static);
    assert!(static_listed);

    let actual: Model = STRESS
        .entries()
        .into_iter()
        .filter_map(|entry| match entry.kind() {
            Kind::Dynamic { version } => {
                let tag = STRESS.get(entry.name()).expect("listed names resolve")();
                Some((entry.name().to_owned(), (tag, version)))
            }
            _ => None,
        })
        .collect();
    assert_eq!(actual, expected, "registry and merged models differ");
    assert_eq!(STRESS.len(), expected.len() + 1);
    for t in 0..THREADS {
        for i in 0..NAMES_PER_THREAD {
            let name = format!("t{t}.name{i}");
            assert_eq!(
                STRESS.contains(&name),
                expected.contains_key(&name),
                "{name}"
            );
        }
    }
}
