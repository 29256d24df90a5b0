//! `lookup_any`: several registries of one handler type looked up as one.

use handler_registry::{lookup_any, Error, Registry};

fn registry(names: &[&'static str]) -> Registry<fn() -> &'static str> {
    let registry: Registry<fn() -> &'static str> = Registry::new();
    for &name in names {
        registry.register(name, || "ran").unwrap();
    }
    registry
}

fn suggestion(error: &Error) -> Option<&str> {
    match error {
        Error::NotFound { suggestion, .. } => suggestion.as_deref(),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn the_first_registry_holding_the_name_answers() {
    let (a, b) = (registry(&["help"]), registry(&["weather", "help"]));
    assert_eq!(
        lookup_any(&[&a, &b], "weather").map(|(i, f)| (i, f())),
        Ok((1, "ran"))
    );
    assert_eq!(lookup_any(&[&a, &b], "help").map(|(i, _)| i), Ok(0));
}

#[test]
fn the_suggestion_is_the_closest_name_of_all_the_registries() {
    // The first registry has a name within reach (two edits), the second a closer one.
    let (a, b) = (registry(&["wealth"]), registry(&["weather"]));
    assert_eq!(suggestion(&a.lookup("weathr").unwrap_err()), Some("wealth"));
    let miss = lookup_any(&[&a, &b], "weathr").unwrap_err();
    assert_eq!(suggestion(&miss), Some("weather"));
    assert_eq!(
        miss.to_string(),
        "no handler named `weathr`; did you mean `weather`?"
    );
}

#[test]
fn a_prefix_shared_across_registries_is_ambiguous() {
    // `adm` begins three names in two registries: as in one registry, no guess.
    let (a, b) = (registry(&["admin", "admiral"]), registry(&["adminx"]));
    assert_eq!(suggestion(&lookup_any(&[&a, &b], "adm").unwrap_err()), None);
    // Alone, `adminx` would be the answer.
    assert_eq!(
        suggestion(&lookup_any(&[&b], "adm").unwrap_err()),
        Some("adminx")
    );
}
