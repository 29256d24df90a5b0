//! Duplicate names, in a test binary of their own: every clash is reported with both
//! locations, by `freeze()` as an error and by an implicit freeze as a panic.

use handler_registry::{handler, registry, Error, Registry};

#[registry]
static CLASHING: Registry<fn() -> u8>;

#[registry]
static HEALTHY: Registry<fn() -> u8>;

mod a {
    #[handler_registry::handler("dup", registry = super::CLASHING)]
    fn dup() -> u8 {
        1
    }
}

mod b {
    #[handler_registry::handler("dup", registry = super::CLASHING)]
    fn dup() -> u8 {
        2
    }
}

#[handler("primary", registry = CLASHING, aliases = ["taken"])]
fn primary() -> u8 {
    3
}

#[handler("taken", registry = CLASHING)]
fn taken() -> u8 {
    4
}

// The same name in another registry is no clash.
#[handler("dup", registry = HEALTHY)]
fn healthy_dup() -> u8 {
    5
}

fn line_of(needle: &str, nth: usize) -> u32 {
    let source = include_str!("duplicates.rs");
    let index = source
        .lines()
        .enumerate()
        .filter(|(_, line)| line.trim_start().starts_with(needle))
        .nth(nth)
        .unwrap_or_else(|| panic!("no line {nth} starting with {needle}"))
        .0;
    index as u32 + 1
}

#[test]
fn freeze_reports_every_clash_with_both_locations() {
    let error = CLASHING.freeze().unwrap_err();
    let Error::Duplicate { clashes, .. } = &error else {
        panic!("expected a Duplicate error, got {error:?}");
    };
    assert_eq!(clashes.len(), 2);

    assert_eq!(clashes[0].name(), "dup");
    assert_eq!(clashes[0].first().file(), "tests/duplicates.rs");
    assert_eq!(clashes[0].second().file(), "tests/duplicates.rs");
    let dup_lines = [
        line_of("#[handler_registry::handler(\"dup\"", 0),
        line_of("#[handler_registry::handler(\"dup\"", 1),
    ];
    assert_eq!(
        [clashes[0].first().line(), clashes[0].second().line()],
        dup_lines
    );
    assert_eq!(clashes[0].first().module_path(), "duplicates::a");
    assert_eq!(clashes[0].second().module_path(), "duplicates::b");

    assert_eq!(clashes[1].name(), "taken");
    assert_eq!(
        clashes[1].first().line(),
        line_of("#[handler(\"primary\"", 0)
    );
    assert_eq!(
        clashes[1].second().line(),
        line_of("#[handler(\"taken\"", 0)
    );

    assert_eq!(
        error.to_string(),
        format!(
            "2 duplicate handler names (rename one of each pair or put it in another registry):\n  `dup` is declared at tests/duplicates.rs:{} and at tests/duplicates.rs:{}\n  `taken` is declared at tests/duplicates.rs:{} and at tests/duplicates.rs:{}",
            dup_lines[0],
            dup_lines[1],
            clashes[1].first().line(),
            clashes[1].second().line()
        )
    );
}

#[test]
fn freeze_keeps_returning_the_same_error() {
    let first = CLASHING.freeze().unwrap_err();
    let second = CLASHING.freeze().unwrap_err();
    assert_eq!(first, second);
}

#[test]
fn an_implicit_freeze_panics_with_the_same_message() {
    let expected = CLASHING.freeze().unwrap_err().to_string();
    let panic = std::panic::catch_unwind(|| CLASHING.get("primary")).unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .expect("the panic carries a String");
    assert!(message.contains(&expected), "{message}");
    assert!(message.contains("call `freeze()` at startup"), "{message}");
    // The process keeps working: other registries are unaffected.
    assert_eq!(HEALTHY.get("dup").unwrap()(), 5);
}
