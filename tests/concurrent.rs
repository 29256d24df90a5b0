//! Readers racing a writer: a name being replaced always resolves to the old or the new
//! handler, never to nothing; static names stay answerable throughout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Barrier};

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
    // The writer and the readers start together, and halfway through its replacements the writer
    // waits until every reader has made a whole round of lookups since: each reader reads in the
    // middle of the replacements, however the threads are scheduled. A reader reports by
    // dropping its sender, which a panicking reader does as well, so the writer never waits for
    // a reader that died.
    let start = Barrier::new(READERS + 1);
    let halfway = AtomicBool::new(false);
    let (reached, all_reached) = mpsc::channel::<()>();
    let done = AtomicBool::new(false);
    let rounds_from_halfway = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let mut reached = Some(reached.clone());
                let (start, halfway, done) = (&start, &halfway, &done);
                scope.spawn(move || {
                    let mut rounds_from_halfway = 0u64;
                    start.wait();
                    while !done.load(Ordering::Acquire) {
                        let past_halfway = halfway.load(Ordering::Acquire);
                        for name in ["swap", "rt.swap"] {
                            let value = OPS.get(name).expect("a replaced name never vanishes")();
                            assert!(
                                value == 1 || value == 2,
                                "unexpected handler result {value}"
                            );
                        }
                        assert_eq!(OPS.get("steady").map(|f| f()), Some(7));
                        if let Some(churn) = OPS.get("churn") {
                            assert_eq!(churn(), 1, "a churned name resolves only to its handler");
                        }
                        if past_halfway {
                            rounds_from_halfway += 1;
                            drop(reached.take());
                        }
                    }
                    rounds_from_halfway
                })
            })
            .collect();
        drop(reached);
        let (start, halfway, done) = (&start, &halfway, &done);
        scope.spawn(move || {
            start.wait();
            for i in 0..REPLACEMENTS {
                if i == REPLACEMENTS / 2 {
                    halfway.store(true, Ordering::Release);
                    // Nothing is ever sent: this returns once every reader has dropped its sender.
                    all_reached.recv().unwrap_err();
                }
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
    assert!(
        rounds_from_halfway.iter().all(|&rounds| rounds > 0),
        "every reader read in the middle of the replacements: {rounds_from_halfway:?} rounds"
    );
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
