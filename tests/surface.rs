//! The public surface that must stay stable: the naming rule's deprecated alias, registries
//! with metadata built like those without, `Display` of `Stats`, and the stats of a name that
//! comes back after removal.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use handler_registry::{handler, lookup, Error, Kind, Registry};

#[handler("surface.double")]
fn double(x: u32) -> u32 {
    x * 2
}

#[test]
fn lookup_and_its_deprecated_alias_agree() {
    assert_eq!(lookup::<fn(u32) -> u32>("surface.double").unwrap()(4), 8);
    #[allow(deprecated)]
    let old = handler_registry::get::<fn(u32) -> u32>("surface.double").unwrap();
    assert_eq!(old(5), 10);
    let Err(Error::NotFound {
        suggestion: Some(suggestion),
        ..
    }) = lookup::<fn(u32) -> u32>("surface.dubble")
    else {
        panic!("expected NotFound with a suggestion");
    };
    let suggestion: String = suggestion;
    assert_eq!(suggestion, "surface.double");
}

#[derive(Clone, Debug, PartialEq)]
struct Access(&'static str);

#[test]
fn with_static_meta_freezes_handlers_with_their_metadata() {
    let ops = Registry::<fn(u8) -> u8, Access>::with_static_meta([
        ("inc", (|x| x + 1) as fn(u8) -> u8, Access("anyone")),
        ("dec", |x| x - 1, Access("admin")),
    ])
    .unwrap();
    let (dec, access) = ops.get_with_meta("dec").unwrap();
    assert_eq!((dec(3), access), (2, Access("admin")));
    let entries = ops.entries();
    let seen: Vec<_> = entries
        .iter()
        .map(|e| (e.name(), e.meta(), e.kind()))
        .collect();
    assert_eq!(
        seen,
        [
            ("dec", &Access("admin"), Kind::Static),
            ("inc", &Access("anyone"), Kind::Static)
        ]
    );
    // Static names: never replaced, never shadowed.
    assert!(matches!(
        ops.register_with_meta("inc", |x| x, Access("x")),
        Err(Error::NotDynamic { .. })
    ));
    assert!(matches!(
        Registry::<fn() -> u8, Access>::with_static_meta([
            ("twice", (|| 1) as fn() -> u8, Access("a")),
            ("twice", || 2, Access("b")),
        ]),
        Err(Error::Duplicate { .. })
    ));
}

#[test]
fn register_versioned_with_meta_sets_the_metadata_of_each_version() {
    // `Access` has no `Default`: only the `_with_meta` forms can register.
    let ops: Registry<fn() -> u8, Access> = Registry::new_with_meta();
    ops.register_versioned_with_meta("op", 2, || 2, Access("v2"))
        .unwrap();
    assert_eq!(ops.entries()[0].kind(), Kind::Dynamic { version: 2 });
    let stale = ops.register_versioned_with_meta("op", 2, || 0, Access("stale"));
    assert!(matches!(
        stale,
        Err(Error::Stale {
            current: 2,
            offered: 2,
            ..
        })
    ));
    ops.register_versioned_with_meta("op", 7, || 7, Access("v7"))
        .unwrap();
    let (op, access) = ops.get_with_meta("op").unwrap();
    assert_eq!((op(), access), (7, Access("v7")));
    // `replace` keeps the metadata.
    ops.replace("op", || 8).unwrap();
    let (op, access) = ops.get_with_meta("op").unwrap();
    assert_eq!((op(), access), (8, Access("v7")));
    // Versions never go backwards across a removal.
    ops.unregister("op").unwrap();
    assert!(matches!(
        ops.register_versioned_with_meta("op", 8, || 0, Access("old")),
        Err(Error::Stale { current: 8, .. })
    ));
    ops.register_versioned_with_meta("op", 9, || 9, Access("v9"))
        .unwrap();
    assert_eq!(ops.get_with_meta("op").unwrap().1, Access("v9"));
}

#[test]
fn stats_display_in_one_line() {
    let jobs: Registry<fn(bool) -> u8> = Registry::new();
    jobs.register("job", |fail| if fail { panic!("boom") } else { 1 })
        .unwrap();
    jobs.call("job", |job| job(false)).unwrap();
    assert!(jobs.call("job", |job| job(true)).is_err());
    let stats = &jobs.stats()[0];
    let line = stats.to_string();
    let expected = format!(
        "job: 2 calls, 1 panics, 0 denied, total {:?}, max {:?}",
        stats.total_time(),
        stats.max_time()
    );
    assert_eq!(line, expected);
    assert!(!line.contains('\n'));
}

/// Disposing of a removed name's last handler forgets its counters, but only if the name is
/// still gone: a name registered again meanwhile keeps the counts of its new calls. Callers
/// keep the retired handlers held, so their disposal (on the callers' threads) races with a
/// checker thread's register and first call. Forgetting visits every thread's table of
/// counters in turn: many threads with counters, and a checker started last (its table is
/// visited last), keep the window between the check and the checker's table open long enough
/// for its register and call to land inside it, if they can.
#[test]
fn stats_of_a_name_registered_again_are_not_forgotten() {
    type Job = Arc<dyn Fn() -> u32 + Send + Sync>;
    let jobs: Arc<Registry<Job>> = Arc::new(Registry::new());
    let job = || -> Job { Arc::new(|| 1) };
    jobs.register("job", job()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let callers: Vec<_> = (0..3)
        .map(|_| {
            let (jobs, stop, calls) = (jobs.clone(), stop.clone(), calls.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if jobs.call("job", |job| job()).is_ok() {
                        calls.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let (counted, done) = (Arc::new(Barrier::new(65)), Arc::new(Barrier::new(65)));
    let idle: Vec<_> = (0..64)
        .map(|_| {
            let (jobs, counted, done) = (jobs.clone(), counted.clone(), done.clone());
            thread::spawn(move || {
                let _ = jobs.call("job", |job| job());
                counted.wait();
                done.wait();
            })
        })
        .collect();
    counted.wait();
    let checker = {
        let jobs = jobs.clone();
        thread::spawn(move || {
            for round in 0..2000 {
                drop(jobs.unregister("job").unwrap());
                jobs.register("job", job()).unwrap();
                jobs.call("job", |job| job()).unwrap();
                // Every handler retired so far has been dropped, and the name's counters
                // forgotten if it was gone at the time: it never was since the register above.
                jobs.drained("job", Duration::from_secs(10)).unwrap();
                let counted = jobs
                    .stats()
                    .iter()
                    .find(|stats| stats.name() == "job")
                    .map_or(0, |stats| stats.calls());
                assert!(
                    counted >= 1,
                    "round {round}: the new name's call was forgotten"
                );
            }
        })
    };
    let checked = checker.join();
    stop.store(true, Ordering::Relaxed);
    done.wait();
    for thread in callers.into_iter().chain(idle) {
        thread.join().unwrap();
    }
    checked.unwrap();
    assert!(calls.load(Ordering::Relaxed) > 0);
}
