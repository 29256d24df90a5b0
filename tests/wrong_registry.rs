//! A name that misses in one registry but is declared for another: the error says where.

mod support;

use handler_registry::{handler, registry, Error, Registry};

#[registry]
pub static COMMANDS: Registry<fn(&str) -> String>;

/// The line of the `#[handler]` below.
const FLIP_LINE: u32 = line!() + 2;
// `registry = COMMANDS` forgotten: this goes to the default registry.
#[handler("wr.flip")]
fn flip(coin: &str) -> String {
    format!("{coin} landed heads")
}

#[handler("wr.roll", registry = COMMANDS, aliases = ["wr.dice"])]
fn roll(_: &str) -> String {
    "4".to_owned()
}

fn elsewhere(error: &Error) -> &handler_registry::DeclaredElsewhere {
    match error {
        Error::NotFound {
            declared_elsewhere: Some(elsewhere),
            ..
        } => elsewhere,
        other => panic!("expected NotFound declared elsewhere, got {other:?}"),
    }
}

#[test]
fn a_name_declared_in_the_default_registry_is_pointed_at() {
    let line = FLIP_LINE;
    let error = COMMANDS.lookup("wr.flip").unwrap_err();
    let found = elsewhere(&error);
    assert_eq!(
        (found.name(), found.location().line(), found.registry()),
        ("wr.flip", line, None)
    );
    assert_eq!(
        error.to_string(),
        format!(
            "no handler named `wr.flip` in this registry; `wr.flip` is declared at tests/wrong_registry.rs:{line} in the default registry: did you forget `registry = …`?"
        )
    );
    // `call` says the same.
    assert_eq!(COMMANDS.call("wr.flip", |f| f("x")).unwrap_err(), error);
}

#[test]
fn a_name_declared_in_another_registry_is_pointed_at_by_alias_too() {
    let error = handler_registry::lookup::<fn(&str) -> String>("wr.dice").unwrap_err();
    let found = elsewhere(&error);
    assert_eq!(
        (found.name(), found.registry()),
        ("wr.dice", Some("COMMANDS"))
    );
    let line = found.location().line();
    assert_eq!(
        error.to_string(),
        format!(
            "no handler named `wr.dice` in this registry; `wr.dice` is declared at tests/wrong_registry.rs:{line} in another registry (`registry = COMMANDS`): is this the registry you meant?"
        )
    );
}

#[test]
fn require_names_the_other_registry_and_keeps_the_linking_hint_for_the_rest() {
    let error = COMMANDS
        .require(&["wr.roll", "wr.flip", "wr.nowhere"])
        .unwrap_err();
    let Error::Missing {
        names,
        declared_elsewhere,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(names, &["wr.flip", "wr.nowhere"]);
    assert_eq!(declared_elsewhere.len(), 1);
    let line = declared_elsewhere[0].location().line();
    assert_eq!(
        error.to_string(),
        format!(
            "required handlers are not registered: `wr.flip`, `wr.nowhere`; `wr.flip` is declared at tests/wrong_registry.rs:{line} in the default registry: did you forget `registry = …`?; check that the crates declaring them are linked (referenced from this binary) and that the platform is supported"
        )
    );
}

#[test]
fn a_typo_keeps_its_suggestion_and_a_standalone_registry_gets_no_hint() {
    let error = COMMANDS.lookup("wr.rol").unwrap_err();
    assert_eq!(support::not_found(&error), ("wr.rol", Some("wr.roll")));
    assert!(matches!(
        error,
        Error::NotFound {
            declared_elsewhere: None,
            ..
        }
    ));
    let standalone: Registry<fn(&str) -> String> = Registry::new();
    let error = standalone.lookup("wr.flip").unwrap_err();
    assert!(matches!(
        error,
        Error::NotFound {
            declared_elsewhere: None,
            ..
        }
    ));
}
