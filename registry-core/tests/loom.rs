//! loom models of the overlay protocol: every overlay operation racing with lookups and with
//! each other, on 2-3 threads, explored exhaustively up to a preemption bound.
//!
//! Run with `RUSTFLAGS="--cfg handler_registry_loom" cargo test -p registry-core --release --test loom`; each
//! model prints how many interleavings it explored. `LOOM_MAX_PREEMPTIONS` overrides the
//! bound of every model (a larger bound explores more and takes longer).
#![cfg(handler_registry_loom)]

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex as StdMutex;

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;
use registry_core::__private::{submit, StaticEntry};
use registry_core::{AnyHandler, Error, Kind, Registry};

type Handler = fn() -> u32;

/// The timeout of the models' waits: long enough that none of them ends by timing out.
const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

fn h0() -> u32 {
    0
}
fn h1() -> u32 {
    1
}
fn h2() -> u32 {
    2
}
fn static_handler() -> u32 {
    100
}

/// What a handler answers, so that results compare by identity (`None` for no handler).
fn id(handler: Option<Handler>) -> Option<u32> {
    handler.map(|f| f())
}

/// How `entries()` lists `name`; `None` when it is not listed.
fn kind(registry: &Registry<Handler>, name: &str) -> Option<Kind> {
    registry
        .entries()
        .into_iter()
        .find(|entry| entry.name() == name)
        .map(|entry| entry.kind())
}

/// The version of a dynamic name that must be listed.
fn version(registry: &Registry<Handler>, name: &str) -> u64 {
    match kind(registry, name) {
        Some(Kind::Dynamic { version }) => version,
        other => panic!("`{name}` is listed as {other:?}"),
    }
}

/// A linked registry under loom has to live at a fixed address that `#[handler]`-style
/// declarations can point at, yet be built afresh, inside the model, for every execution
/// (loom's primitives belong to one execution). This slot is that address.
struct Slot(UnsafeCell<MaybeUninit<Registry<Handler>>>);

// SAFETY: the slot is written and dropped only by `with_linked`, which `LINKED` serialises and
// which joins every thread that borrowed the registry before dropping it.
unsafe impl Sync for Slot {}
unsafe impl Send for Slot {}

static SLOT: Slot = Slot(UnsafeCell::new(MaybeUninit::uninit()));
static LINKED: StdMutex<()> = StdMutex::new(());

static DYN: Handler = h0;
static STATIC: Handler = static_handler;

// What `#[handler("dyn", aliases = ["dyn.alias"])] #[dynamic]` and
// `#[handler("static.a", aliases = ["static.alias"])]` submit for the slot's registry.
submit! {
    StaticEntry {
        registry: &SLOT,
        name: "dyn",
        aliases: &["dyn.alias"],
        doc: "",
        module_path: module_path!(),
        file: file!(),
        line: line!(),
        dynamic: true,
        registry_path: "SLOT",
        handler: &DYN,
        meta: &(),
    }
}
submit! {
    StaticEntry {
        registry: &SLOT,
        name: "static.a",
        aliases: &["static.alias"],
        doc: "",
        module_path: module_path!(),
        file: file!(),
        line: line!(),
        dynamic: false,
        registry_path: "SLOT",
        handler: &STATIC,
        meta: &(),
    }
}

/// Gives `model` a fresh, not yet frozen, linked registry holding `dyn` (dynamic, version 0,
/// answering 0, alias `dyn.alias`) and `static.a` (static, answering 100, alias `static.alias`).
/// `model` must join every thread it spawns before it returns.
fn with_linked(model: impl FnOnce(&'static Registry<Handler>)) {
    // SAFETY: loom runs one execution at a time and `LINKED` is held by the caller (`explore`),
    // so nothing else touches the slot; the registry is dropped after `model` joined its threads.
    let registry: &'static Registry<Handler> =
        unsafe { (*SLOT.0.get()).write(Registry::__linked("loom::REGISTRY")) };
    model(registry);
    unsafe { (*SLOT.0.get()).assume_init_drop() };
}

/// Explores every interleaving of `model` (up to `preemptions` preemptions per execution when
/// bounded) and returns how many it ran; the count is also printed, for the record.
fn explore(
    name: &str,
    preemptions: Option<usize>,
    model: impl Fn() + Sync + Send + 'static,
) -> usize {
    static RUNS: StdAtomicUsize = StdAtomicUsize::new(0);
    let _slot = LINKED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    RUNS.store(0, Relaxed);
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = preemptions;
    }
    let bound = match builder.preemption_bound {
        Some(bound) => format!("preemption bound {bound}"),
        None => "exhaustive".to_owned(),
    };
    builder.check(move || {
        RUNS.fetch_add(1, Relaxed);
        model();
    });
    let runs = RUNS.load(Relaxed);
    println!("loom model `{name}`: {runs} interleavings ({bound})");
    runs
}

/// `replace` racing a first lookup and `freeze`: the lazy freeze (which installs `dyn` at
/// version 0) runs once whichever thread triggers it, so it never undoes the replacement; a
/// reader sees the old or the new handler, never neither; a static name keeps its handler.
#[test]
fn replace_races_lookup_and_lazy_freeze() {
    let runs = explore("replace_races_lookup_and_lazy_freeze", None, || {
        with_linked(|registry| {
            let writer = thread::spawn(move || {
                let previous = registry.replace("dyn", h1).expect("dyn is dynamic");
                assert_eq!(previous(), 0, "replace returns the handler it swapped out");
            });
            let freezer = thread::spawn(move || registry.freeze());
            let seen = id(registry.get("dyn"));
            assert!(matches!(seen, Some(0 | 1)), "reader saw {seen:?}");
            let via_alias = id(registry.get("dyn.alias"));
            assert!(matches!(via_alias, Some(0 | 1)), "alias saw {via_alias:?}");
            if seen == Some(1) {
                assert_eq!(
                    via_alias,
                    Some(1),
                    "a reader never goes back to the old handler"
                );
            }
            assert_eq!(id(registry.get("static.alias")), Some(100));
            writer.join().unwrap();
            assert_eq!(freezer.join().unwrap(), Ok(()));
            assert_eq!(id(registry.get("dyn")), Some(1));
            assert_eq!(version(registry, "dyn"), 1);
            assert_eq!(registry.len(), 2);
        });
    });
    assert!(runs > 1);
}

/// Two `register_versioned` calls racing with a reader: the newest version wins whatever the
/// order, the older offer is refused as stale when it comes second, and the versions a reader
/// sees only grow.
#[test]
fn versioned_installs_race() {
    let runs = explore("versioned_installs_race", Some(4), || {
        with_linked(|registry| {
            registry.freeze().unwrap();
            let older = thread::spawn(move || registry.register_versioned("dyn", 1, h1));
            let newer = thread::spawn(move || registry.register_versioned("dyn", 2, h2));
            let first = version(registry, "dyn");
            let handler = id(registry.get("dyn"));
            let second = version(registry, "dyn");
            assert!(
                first <= second,
                "version went from {first} back to {second}"
            );
            assert!(matches!(handler, Some(0..=2)), "reader saw {handler:?}");
            let older = older.join().unwrap();
            assert_eq!(newer.join().unwrap(), Ok(()));
            match older {
                Ok(()) => {}
                Err(Error::Stale {
                    current, offered, ..
                }) => assert_eq!((current, offered), (2, 1)),
                Err(other) => panic!("unexpected {other:?}"),
            }
            assert_eq!(id(registry.get("dyn")), Some(2));
            assert_eq!(version(registry, "dyn"), 2);
        });
    });
    assert!(runs > 1);
}

/// `replace` racing `unregister` on a `#[dynamic]` name: both orders end with the name gone,
/// each call returns the handler it really removed, and nothing is lost twice.
#[test]
fn replace_races_unregister() {
    let runs = explore("replace_races_unregister", Some(5), || {
        with_linked(|registry| {
            registry.freeze().unwrap();
            let replacer = thread::spawn(move || registry.replace("dyn", h1).map(|f| f()));
            let remover = thread::spawn(move || registry.unregister("dyn").map(|f| f()));
            let seen = id(registry.get("dyn"));
            assert!(matches!(seen, None | Some(0 | 1)), "reader saw {seen:?}");
            match (replacer.join().unwrap(), remover.join().unwrap()) {
                (Ok(0), Ok(1)) => {}
                (Err(Error::NotFound { .. }), Ok(0)) => {}
                other => panic!("impossible outcome {other:?}"),
            }
            assert_eq!(id(registry.get("dyn")), None);
            assert_eq!(registry.len(), 1);
            assert_eq!(id(registry.get("static.a")), Some(100));
        });
    });
    assert!(runs > 1);
}

/// `unregister` then `register` of a `#[dynamic]` name (through its alias) racing a reader:
/// once the reader has seen the new handler it never sees the old one or none again.
#[test]
fn unregister_then_register_races_reader() {
    let runs = explore("unregister_then_register_races_reader", None, || {
        with_linked(|registry| {
            registry.freeze().unwrap();
            let writer = thread::spawn(move || {
                assert_eq!(registry.unregister("dyn").map(|f| f()), Ok(0));
                registry.register("dyn.alias", h2).unwrap();
            });
            let first = id(registry.get("dyn"));
            let second = id(registry.get("dyn.alias"));
            assert!(matches!(first, None | Some(0 | 2)), "reader saw {first:?}");
            if first == Some(2) {
                assert_eq!(second, Some(2), "reader went back from the new handler");
            }
            if first.is_none() {
                assert!(matches!(second, None | Some(2)), "resurrected {second:?}");
            }
            writer.join().unwrap();
            assert_eq!(id(registry.get("dyn")), Some(2));
            // Added back, the name continues from the version it was removed at.
            assert_eq!(version(registry, "dyn"), 1);
        });
    });
    assert!(runs > 1);
}

/// Every write to a static name (and its alias) racing lookups of it: all are refused with
/// `NotDynamic`, and the static handler answers throughout (a static name is never shadowed).
#[test]
fn static_names_are_never_shadowed() {
    let runs = explore("static_names_are_never_shadowed", None, || {
        with_linked(|registry| {
            let writer = thread::spawn(move || {
                for name in ["static.a", "static.alias"] {
                    let refused = [
                        registry.register(name, h1).err(),
                        registry.register_versioned(name, 9, h1).err(),
                        registry.replace(name, h1).err(),
                        registry.unregister(name).err(),
                    ];
                    for error in refused {
                        assert!(matches!(error, Some(Error::NotDynamic { .. })), "{error:?}");
                    }
                }
            });
            let runtime = thread::spawn(move || registry.register("runtime", h2));
            for name in ["static.a", "static.alias", "static.a"] {
                assert_eq!(id(registry.get(name)), Some(100));
            }
            writer.join().unwrap();
            assert_eq!(runtime.join().unwrap(), Ok(()));
            assert_eq!(id(registry.get("static.a")), Some(100));
            assert_eq!(kind(registry, "static.a"), Some(Kind::Static));
            assert_eq!(registry.len(), 3);
        });
    });
    assert!(runs > 1);
}

/// Run-time names on a standalone registry: a reader told (by a release/acquire flag) that a
/// `register` finished always finds the name, even through the lock-free miss path that skips
/// the overlay while no run-time name exists; removing another name never hides it.
#[test]
fn runtime_register_is_visible_after_it_returns() {
    let runs = explore(
        "runtime_register_is_visible_after_it_returns",
        Some(4),
        || {
            let registry = Arc::new(Registry::<Handler>::new());
            let done = Arc::new(AtomicBool::new(false));
            let writer = {
                let (registry, done) = (registry.clone(), done.clone());
                thread::spawn(move || {
                    registry.register("x", h1).unwrap();
                    done.store(true, Ordering::Release);
                })
            };
            let churn = {
                let registry = registry.clone();
                thread::spawn(move || {
                    registry.register("y", h2).unwrap();
                    assert_eq!(registry.unregister("y").map(|f| f()), Ok(2));
                })
            };
            let finished = done.load(Ordering::Acquire);
            let seen = id(registry.get("x"));
            if finished {
                assert_eq!(seen, Some(1), "a finished register is visible");
            } else {
                assert!(matches!(seen, None | Some(1)), "reader saw {seen:?}");
            }
            writer.join().unwrap();
            churn.join().unwrap();
            assert_eq!(id(registry.get("x")), Some(1));
            assert_eq!(id(registry.get("y")), None);
            assert_eq!(registry.len(), 1);
            assert_eq!(version(&registry, "x"), 0);
        },
    );
    assert!(runs > 1);
}

/// Two threads registering the same run-time name: exactly one wins, the other gets
/// `AlreadyRegistered`, and a reader that saw the winner keeps seeing it.
#[test]
fn concurrent_register_of_one_name() {
    let runs = explore("concurrent_register_of_one_name", Some(5), || {
        let registry = Arc::new(Registry::<Handler>::new());
        let spawn = |handler: Handler| {
            let registry = registry.clone();
            thread::spawn(move || registry.register("x", handler))
        };
        let (first, second) = (spawn(h1), spawn(h2));
        let seen = id(registry.get("x"));
        let again = id(registry.get("x"));
        assert!(matches!(seen, None | Some(1 | 2)), "reader saw {seen:?}");
        if seen.is_some() {
            assert_eq!(again, seen, "the first registration is never overwritten");
        }
        let outcomes = [first.join().unwrap(), second.join().unwrap()];
        let winners: Vec<u32> = outcomes
            .iter()
            .zip([1, 2])
            .filter(|(outcome, _)| outcome.is_ok())
            .map(|(_, id)| id)
            .collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        assert!(outcomes
            .iter()
            .any(|outcome| matches!(outcome, Err(Error::AlreadyRegistered { .. }))));
        assert_eq!(id(registry.get("x")), Some(winners[0]));
        assert_eq!(registry.len(), 1);
    });
    assert!(runs > 1);
}

/// `lookup_as` asking for the wrong type while another thread unregisters the name: the answer is
/// `SignatureMismatch` or `NotFound`, never a panic. (`lookup_as`, then `get_as`, used to panic when the name
/// vanished between its lookup and the search for the handler's location.)
#[test]
fn get_as_mismatch_races_unregister() {
    static SMALL: fn() -> u8 = || 8;
    let runs = explore("get_as_mismatch_races_unregister", Some(6), || {
        let registry = Arc::new(Registry::<AnyHandler>::new());
        registry.register("flip", AnyHandler::new(&SMALL)).unwrap();
        let remover = {
            let registry = registry.clone();
            thread::spawn(move || registry.unregister("flip").is_ok())
        };
        match registry.lookup_as::<fn() -> u16>("flip") {
            Err(Error::SignatureMismatch { name, .. }) | Err(Error::NotFound { name, .. }) => {
                assert_eq!(name, "flip")
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(remover.join().unwrap());
        assert!(registry.is_empty());
    });
    assert!(runs > 1);
}

/// `entries()`, `len()` and a lookup's suggestion racing a writer that moves a handler from one
/// run-time name to another: a snapshot shows the handler under one name or none, never under
/// both (no torn state), and a suggestion is always a name that was registered.
#[test]
fn snapshots_and_suggestions_are_never_torn() {
    let runs = explore("snapshots_and_suggestions_are_never_torn", None, || {
        let registry = Arc::new(Registry::<Handler>::new());
        registry.register("alpha", h1).unwrap();
        let mover = {
            let registry = registry.clone();
            thread::spawn(move || {
                let handler = registry.unregister("alpha").unwrap();
                registry.register("alpine", handler).unwrap();
            })
        };
        let names: Vec<String> = registry
            .entries()
            .iter()
            .map(|entry| entry.name().to_owned())
            .collect();
        assert!(
            names.is_empty() || names == ["alpha"] || names == ["alpine"],
            "torn snapshot {names:?}"
        );
        assert!(registry.len() <= 1);
        match registry.lookup("alph") {
            Err(Error::NotFound { suggestion, .. }) => assert!(
                matches!(suggestion.as_deref(), None | Some("alpha" | "alpine")),
                "suggested {suggestion:?}"
            ),
            other => panic!("unexpected {other:?}"),
        }
        mover.join().unwrap();
        assert_eq!(id(registry.get("alpine")), Some(1));
        assert_eq!(id(registry.get("alpha")), None);
    });
    assert!(runs > 1);
}

/// A handler owning state, for the drain models: `Arc<dyn Fn>` as users register it.
type Owned = std::sync::Arc<dyn Fn() -> u32 + Send + Sync>;

/// Counts the drops of the closure that owns it (a loom atomic, so loom sees the ordering).
struct Dropped(Arc<loom::sync::atomic::AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A closure answering `answer` that checks, while it runs, that it has not been dropped, and
/// marks its run with `running`.
fn owned(
    answer: u32,
    drops: &Arc<loom::sync::atomic::AtomicUsize>,
    running: &Arc<AtomicBool>,
) -> Owned {
    let dropped = Dropped(Arc::clone(drops));
    let running = Arc::clone(running);
    std::sync::Arc::new(move || {
        running.store(true, Ordering::SeqCst);
        assert_eq!(
            dropped.0.load(Ordering::SeqCst),
            0,
            "dropped during its call"
        );
        running.store(false, Ordering::SeqCst);
        answer
    })
}

/// The drain protocol (registry-core/src/drain.rs): a call racing a `replace` racing
/// `drained`. The call runs on the old or the new handler; the old handler is never dropped
/// while its call runs, is dropped exactly once, and `drained` returns only after that drop
/// (loom's condition variable never times out, so a lost wake-up would be a deadlock loom
/// reports). The change events read `Replaced` then `Drained` for the old version.
#[test]
fn drain_call_races_replace_and_drained() {
    let runs = explore("drain_call_races_replace_and_drained", None, || {
        let registry = Arc::new(Registry::<Owned>::new());
        let old_drops = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let new_drops = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let running = Arc::new(AtomicBool::new(false));
        registry
            .register("x", owned(0, &old_drops, &running))
            .unwrap();
        let mut changes = registry.subscribe();

        let caller = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || registry.call("x", |x| x()).unwrap())
        };
        drop(
            registry
                .replace("x", owned(1, &new_drops, &running))
                .unwrap(),
        );
        registry.drained("x", HOUR).unwrap();
        assert_eq!(
            old_drops.load(Ordering::SeqCst),
            1,
            "drained before the drop"
        );
        assert!(!running.load(Ordering::SeqCst) || registry.call("x", |x| x()) == Ok(1));

        let answer = caller.join().unwrap();
        assert!(answer == 0 || answer == 1, "the call saw {answer}");
        assert_eq!(old_drops.load(Ordering::SeqCst), 1, "dropped exactly once");
        assert_eq!(new_drops.load(Ordering::SeqCst), 0);
        let kinds: Vec<(Kind2, u64)> = std::iter::from_fn(|| changes.try_recv())
            .map(|change| (Kind2::from(change.kind()), change.version()))
            .collect();
        assert_eq!(kinds, [(Kind2::Replaced, 1), (Kind2::Drained, 0)]);
    });
    assert!(runs > 1);
}

/// Two calls racing `unregister` and `drained`: whichever of the three lets go of the removed
/// handler last drops it, once, and `drained` waits for both calls.
#[test]
fn drain_two_calls_race_unregister() {
    let runs = explore("drain_two_calls_race_unregister", Some(5), || {
        let registry = Arc::new(Registry::<Owned>::new());
        let drops = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let running = Arc::new(AtomicBool::new(false));
        registry.register("x", owned(7, &drops, &running)).unwrap();
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let registry = Arc::clone(&registry);
                thread::spawn(move || registry.call("x", |x| x()))
            })
            .collect();
        drop(registry.unregister("x").unwrap());
        registry.drained("x", HOUR).unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "drained before the drop");
        for caller in callers {
            match caller.join().unwrap() {
                Ok(answer) => assert_eq!(answer, 7),
                Err(Error::NotFound { .. }) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped exactly once");
    });
    assert!(runs > 1);
}

/// `ChangeKind` without its non-exhaustive tail, to compare lists of kinds.
#[derive(Debug, PartialEq)]
enum Kind2 {
    Replaced,
    Drained,
    Other,
}

impl From<registry_core::ChangeKind> for Kind2 {
    fn from(kind: registry_core::ChangeKind) -> Self {
        match kind {
            registry_core::ChangeKind::Replaced => Kind2::Replaced,
            registry_core::ChangeKind::Drained => Kind2::Drained,
            _ => Kind2::Other,
        }
    }
}

/// A handler whose `Clone` (the user's code, run by `get` and by `replace` with no lock held)
/// asserts that the registry's copy has not been dropped yet; only that copy counts its drop.
struct Tracked {
    answer: u32,
    drops: Arc<loom::sync::atomic::AtomicUsize>,
    original: bool,
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        assert_eq!(
            self.drops.load(Ordering::SeqCst),
            0,
            "cloned after the registry dropped it"
        );
        Tracked {
            answer: self.answer,
            drops: Arc::clone(&self.drops),
            original: false,
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if self.original {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The read path of `get`: a lookup holds the handler under the read lock and clones it after
/// letting the lock go, racing a `replace` (whose own clone of the previous handler is made the
/// same way) and `drained`. No clone ever runs on a dropped handler, the old handler is dropped
/// exactly once, and `drained` returns only after that drop.
#[test]
fn get_clone_races_replace_and_drained() {
    let runs = explore("get_clone_races_replace_and_drained", None, || {
        let registry = Arc::new(Registry::<Tracked>::new());
        let old_drops = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let new_drops = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let tracked = |answer, drops: &Arc<loom::sync::atomic::AtomicUsize>| Tracked {
            answer,
            drops: Arc::clone(drops),
            original: true,
        };
        registry.register("x", tracked(0, &old_drops)).unwrap();

        let reader = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || registry.get("x").map(|tracked| tracked.answer))
        };
        let previous = registry.replace("x", tracked(1, &new_drops)).unwrap();
        assert_eq!(previous.answer, 0);
        drop(previous);
        registry.drained("x", HOUR).unwrap();
        assert_eq!(
            old_drops.load(Ordering::SeqCst),
            1,
            "drained before the drop"
        );

        let seen = reader.join().unwrap();
        assert!(
            seen == Some(0) || seen == Some(1),
            "the reader saw {seen:?}"
        );
        assert_eq!(old_drops.load(Ordering::SeqCst), 1, "dropped exactly once");
        assert_eq!(new_drops.load(Ordering::SeqCst), 0);
    });
    assert!(runs > 1);
}

/// The change log (registry-core/src/changes.rs): a receiver blocked in `recv_timeout` while
/// two writers register is woken for each change and receives both, numbered in order; a
/// subscriber that gives up meanwhile (dropped with its capacity) takes nothing from it. loom's
/// condition variable never times out, so a lost wake-up is a deadlock loom reports.
#[test]
fn change_log_wakes_a_blocked_receiver() {
    let runs = explore("change_log_wakes_a_blocked_receiver", Some(4), || {
        let registry = Arc::new(Registry::<Handler>::new());
        let mut changes = registry.subscribe_with_capacity(2);
        let quitter = registry.subscribe_with_capacity(8);
        let receiver = thread::spawn(move || {
            let first = changes.recv_timeout(HOUR).unwrap();
            let second = changes.recv_timeout(HOUR).unwrap();
            [first, second].map(|change| (change.seq(), change.name().to_owned()))
        });
        let writer = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || {
                registry.register("a", h0).unwrap();
                drop(quitter);
            })
        };
        registry.register("b", h1).unwrap();
        writer.join().unwrap();
        let [(first, one), (second, other)] = receiver.join().unwrap();
        assert_eq!((first, second), (1, 2));
        let mut names = [one, other];
        names.sort();
        assert_eq!(names, ["a", "b"]);
    });
    assert!(runs > 1);
}

/// The waiter list (registry-core/src/wakers.rs) under the change log: a task awaiting
/// `recv` while a writer registers is woken and receives the change. The task registers its
/// waker under the lock the delivery takes; registering it after letting that lock go loses
/// the wake-up, which loom reports as a deadlock of `block_on`.
#[test]
fn change_log_wakes_an_async_receiver() {
    let runs = explore("change_log_wakes_an_async_receiver", Some(4), || {
        let registry = Arc::new(Registry::<Handler>::new());
        let mut changes = registry.subscribe();
        let writer = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || registry.register("a", h0).unwrap())
        };
        let change = loom::future::block_on(changes.recv()).unwrap();
        assert_eq!((change.seq(), change.name()), (1, "a"));
        writer.join().unwrap();
    });
    assert!(runs > 1);
}
