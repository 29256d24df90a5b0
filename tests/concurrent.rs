//! Readers racing a writer: a name being replaced always resolves to the old or the new
//! handler, never to nothing; static names stay answerable throughout.

use std::sync::atomic::{AtomicBool, Ordering};

use handler_registry::{dynamic, handler, registry, Registry};

#[registry]
static OPS: Registry<fn() -> u32>;

#[handler("swap", registry = OPS)]
#[dynamic]
fn swap_initial() -> u32 {
    1
}

#[handler("steady", registry = OPS)]
fn steady() -> u32 {
    7
}

fn one() -> u32 {
    1
}
fn two() -> u32 {
    2
}

const REPLACEMENTS: u32 = 20_000;
const READERS: usize = 3;

#[test]
fn readers_see_the_old_or_the_new_handler_never_none() {
    OPS.register("rt.swap", one).unwrap();
    let done = AtomicBool::new(false);
    let reads = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut seen = [0u64; 3];
                    while !done.load(Ordering::Acquire) {
                        for name in ["swap", "rt.swap"] {
                            let value = OPS.get(name).expect("a replaced name never vanishes")();
                            assert!(
                                value == 1 || value == 2,
                                "unexpected handler result {value}"
                            );
                            seen[value as usize] += 1;
                        }
                        assert_eq!(OPS.get("steady").map(|f| f()), Some(7));
                        if let Some(churn) = OPS.get("churn") {
                            assert_eq!(churn(), 1, "a churned name resolves only to its handler");
                        }
                    }
                    seen
                })
            })
            .collect();
        scope.spawn(|| {
            for i in 0..REPLACEMENTS {
                let next = if i % 2 == 0 { two } else { one };
                OPS.replace("swap", next).unwrap();
                OPS.replace("rt.swap", next).unwrap();
                // Unrelated churn in the overlay while readers run.
                OPS.register("churn", one).unwrap();
                assert_eq!(OPS.unregister("churn").unwrap()(), 1);
            }
            done.store(true, Ordering::Release);
        });
        readers
            .into_iter()
            .map(|reader| reader.join().unwrap())
            .collect::<Vec<_>>()
    });
    let total: u64 = reads.iter().map(|seen| seen[1] + seen[2]).sum();
    assert!(total > 0, "readers ran");
    // REPLACEMENTS is even: the last replacement installed `one`, at version REPLACEMENTS.
    assert_eq!(OPS.get("swap").unwrap()(), 1);
    let entry = OPS
        .entries()
        .into_iter()
        .find(|e| e.name() == "swap")
        .unwrap();
    assert_eq!(
        entry.kind(),
        handler_registry::Kind::Dynamic {
            version: u64::from(REPLACEMENTS)
        }
    );
    assert!(OPS.get("churn").is_none());
    assert_eq!(OPS.len(), 3);
}
