//! Handlers of a dependency crate reached only through its registry are all collected, in every
//! build profile; a dependency nothing refers to is absent and `require` names what is missing.
//!
//! CI runs this test in the default (debug) profile and in the custom profiles of the root
//! `Cargo.toml`: `cargo test -p registry-link-plugins --profile release-lto` (fat LTO) and
//! `--profile release-cgu256` (256 codegen units).

use handler_registry::{Error, Kind, HANDLERS};
use registry_link_plugins::TOOLS;

#[test]
fn every_handler_of_the_dependency_is_collected() {
    TOOLS
        .require(&["add_one", "inc", "double", "flip", "shift"])
        .expect("all declared");
    let names: Vec<(String, Kind)> = TOOLS
        .entries()
        .into_iter()
        .map(|entry| (entry.name().to_owned(), entry.kind()))
        .collect();
    assert_eq!(
        names,
        [
            ("add_one".to_owned(), Kind::Static),
            ("double".to_owned(), Kind::Static),
            ("flip".to_owned(), Kind::Dynamic { version: 0 }),
            ("shift".to_owned(), Kind::Static),
        ]
    );
    let apply = |name: &str| TOOLS.get(name).map(|handler| handler(5));
    assert_eq!(apply("add_one"), Some(6));
    assert_eq!(apply("inc"), Some(6));
    assert_eq!(apply("double"), Some(10));
    assert_eq!(apply("flip"), Some(!5));
    assert_eq!(apply("shift"), Some(80));
}

#[test]
fn default_registry_handlers_of_the_dependency_are_collected() {
    HANDLERS.require(&["link.square"]).expect("declared");
    let square = handler_registry::lookup::<fn(u64) -> u64>("link.square").unwrap();
    assert_eq!(square(12), 144);
}

#[test]
fn an_unreferenced_dependency_is_reported_missing() {
    let missing = HANDLERS.require(&["link.square", "link.unreferenced", "link.absent"]);
    let Err(Error::Missing { names, .. }) = &missing else {
        panic!("expected Missing, got {missing:?}");
    };
    assert_eq!(names, &["link.unreferenced", "link.absent"]);
}
