//! A name's version never goes backwards, whatever happens in between, and a run-time name
//! that is gone for good leaves no stats behind.

use std::time::Duration;

use handler_registry::{dynamic, handler, registry, Error, Kind, Registry};

#[registry]
static VERSIONED: Registry<fn() -> u32>;

#[handler("declared", registry = VERSIONED)]
#[dynamic]
fn declared() -> u32 {
    0
}

#[handler("declared.counted", registry = VERSIONED)]
#[dynamic]
fn counted() -> u32 {
    2
}

fn one() -> u32 {
    1
}

fn version_of<F: Clone + Send + Sync + 'static>(registry: &Registry<F>, name: &str) -> u64 {
    match registry
        .entries()
        .into_iter()
        .find(|e| e.name() == name)
        .map(|e| e.kind())
    {
        Some(Kind::Dynamic { version }) => version,
        other => panic!("`{name}` is listed as {other:?}"),
    }
}

fn stale(result: Result<(), Error>) -> (u64, u64) {
    match result {
        Err(Error::Stale {
            current, offered, ..
        }) => (current, offered),
        other => panic!("expected a stale version, got {other:?}"),
    }
}

#[test]
fn a_removed_name_remembers_its_version() {
    let registry: Registry<fn() -> u32> = Registry::new();
    registry.register_versioned("n", 5, one).unwrap();
    registry.unregister("n").unwrap();
    // An older offer is refused although nothing is installed.
    assert_eq!(stale(registry.register_versioned("n", 1, one)), (5, 1));
    assert_eq!(stale(registry.register_versioned("n", 5, one)), (5, 5));
    assert!(!registry.contains("n"), "a refused offer changes nothing");
    // A plain register continues from the last version.
    registry.register("n", one).unwrap();
    assert_eq!(version_of(&registry, "n"), 6);
    registry.unregister("n").unwrap();
    registry.register_versioned("n", 9, one).unwrap();
    assert_eq!(version_of(&registry, "n"), 9);
}

#[test]
fn a_dynamic_declaration_remembers_its_version_too() {
    VERSIONED.replace("declared", one).unwrap();
    VERSIONED.replace("declared", one).unwrap();
    VERSIONED.unregister("declared").unwrap();
    assert_eq!(
        stale(VERSIONED.register_versioned("declared", 2, one)),
        (2, 2)
    );
    VERSIONED.register("declared", one).unwrap();
    assert_eq!(version_of(&VERSIONED, "declared"), 3);
}

#[test]
fn a_run_time_name_that_is_gone_leaves_no_stats() {
    let registry: Registry<fn() -> u32> = Registry::new();
    for index in 0..1000 {
        let name = format!("session.{index}");
        registry.register(&name, one).unwrap();
        assert_eq!(registry.call(&name, |f| f()), Ok(1));
        registry.unregister(&name).unwrap();
    }
    registry
        .drained("session.999", Duration::from_secs(5))
        .unwrap();
    assert_eq!(registry.len(), 0);
    assert!(registry.stats().is_empty(), "{:?}", registry.stats());

    // A name that is replaced, or removed and added back, keeps its counts.
    registry.register("kept", one).unwrap();
    registry.call("kept", |f| f()).unwrap();
    registry.replace("kept", one).unwrap();
    registry.call("kept", |f| f()).unwrap();
    let calls: Vec<(String, u64)> = registry
        .stats()
        .iter()
        .map(|stats| (stats.name().to_owned(), stats.calls()))
        .collect();
    assert_eq!(calls, [("kept".to_owned(), 2)]);
}

#[test]
fn a_declared_name_keeps_its_stats_when_removed() {
    assert_eq!(VERSIONED.call("declared.counted", |f| f()), Ok(2));
    VERSIONED.unregister("declared.counted").unwrap();
    VERSIONED
        .drained("declared.counted", Duration::from_secs(5))
        .unwrap();
    let counted: Vec<u64> = VERSIONED
        .stats()
        .iter()
        .filter(|stats| stats.name() == "declared.counted")
        .map(|stats| stats.calls())
        .collect();
    assert_eq!(counted, [1]);
}
