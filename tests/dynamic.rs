//! `#[dynamic]` handlers and run-time names: replace, unregister, register, versioned
//! replacement, and every error case. Each test uses its own registry so tests can run in
//! parallel.

use handler_registry::{dynamic, handler, registry, Error, Kind, Registry};

mod support;
use support::not_found;

type Op = fn(i64) -> i64;

fn add_one(x: i64) -> i64 {
    x + 1
}
fn times_ten(x: i64) -> i64 {
    x * 10
}
fn negate(x: i64) -> i64 {
    -x
}

/// The name, the installed version and the refused one of an [`Error::Stale`].
fn stale(error: &Error) -> (&str, u64, u64) {
    match error {
        Error::Stale {
            name,
            current,
            offered,
            ..
        } => (name, *current, *offered),
        other => panic!("expected Stale, got {other:?}"),
    }
}

macro_rules! declare {
    ($reg:ident) => {
        #[registry]
        static $reg: Registry<Op>;
    };
}

mod replace_case {
    use super::*;
    declare!(R);

    /// Identity, replaceable.
    #[handler("id", registry = R, aliases = ["same"])]
    #[dynamic]
    fn id(x: i64) -> i64 {
        x
    }

    #[handler("fixed", registry = R)]
    fn fixed(x: i64) -> i64 {
        x
    }

    #[test]
    fn replace_swaps_and_returns_the_previous_handler() {
        assert_eq!(R.get("id").unwrap()(5), 5);
        let previous = R.replace("id", add_one).unwrap();
        assert_eq!(previous(7), 7);
        assert_eq!(R.get("id").unwrap()(5), 6);
        // Aliases follow their primary name.
        assert_eq!(R.get("same").unwrap()(5), 6);
        let previous = R.replace("same", times_ten).unwrap();
        assert_eq!(previous as usize, add_one as Op as usize);
        assert_eq!(R.get("id").unwrap()(5), 50);

        let entry = R.entries().into_iter().find(|e| e.name() == "id").unwrap();
        assert_eq!(entry.kind(), Kind::Dynamic { version: 2 });
        assert_eq!(entry.aliases(), &["same"]);
        assert_eq!(entry.doc(), "Identity, replaceable.");
        // The location now names the call that installed the current handler.
        assert_eq!(entry.file(), "tests/dynamic.rs");

        // Static names can never be replaced.
        let error = R.replace("fixed", add_one).unwrap_err();
        assert!(matches!(&error, Error::NotDynamic { name, .. } if name == "fixed"));
        assert!(error.to_string().contains("#[dynamic]"), "{error}");
        assert_eq!(R.get("fixed").unwrap()(3), 3);

        // Absent names are NotFound, with a suggestion.
        assert_eq!(
            not_found(&R.replace("idd", add_one).unwrap_err()),
            ("idd", Some("id"))
        );
    }
}

mod dynamic_above_handler {
    use super::*;
    declare!(R);

    #[dynamic]
    #[handler("id", registry = R)]
    fn id(x: i64) -> i64 {
        x
    }

    #[handler("flagged", registry = R, dynamic)]
    fn flagged(x: i64) -> i64 {
        x
    }

    #[test]
    fn dynamic_works_above_handler_and_as_a_flag() {
        assert_eq!(R.replace("id", negate).unwrap()(4), 4);
        assert_eq!(R.get("id").unwrap()(4), -4);
        assert_eq!(R.replace("flagged", negate).unwrap()(4), 4);
        let kinds: Vec<Kind> = R.entries().iter().map(|e| e.kind()).collect();
        assert_eq!(
            kinds,
            [Kind::Dynamic { version: 1 }, Kind::Dynamic { version: 1 }]
        );
    }
}

mod unregister_case {
    use super::*;
    declare!(R);

    #[handler("gone", registry = R, aliases = ["bye"])]
    #[dynamic]
    fn gone(x: i64) -> i64 {
        x
    }

    #[handler("fixed", registry = R)]
    fn fixed(x: i64) -> i64 {
        x
    }

    #[test]
    fn unregister_removes_and_register_brings_back() {
        assert_eq!(R.len(), 2);
        let removed = R.unregister("gone").unwrap();
        assert_eq!(removed(9), 9);
        assert!(R.get("gone").is_none());
        assert!(R.get("bye").is_none(), "aliases disappear with their name");
        assert!(!R.contains("gone"));
        assert_eq!(R.len(), 1);
        assert_eq!(R.entries().len(), 1);
        // The removed name is not suggested any more.
        assert_eq!(not_found(&R.lookup("gon").unwrap_err()), ("gon", None));
        assert_eq!(not_found(&R.lookup("byee").unwrap_err()), ("byee", None));
        assert!(matches!(R.unregister("gone"), Err(Error::NotFound { .. })));
        assert!(matches!(
            R.unregister("fixed"),
            Err(Error::NotDynamic { .. })
        ));

        R.register("gone", negate).unwrap();
        assert_eq!(R.get("gone").unwrap()(2), -2);
        assert_eq!(R.get("bye").unwrap()(2), -2);
        // Back, the name and its alias are suggested again.
        assert_eq!(
            not_found(&R.lookup("byee").unwrap_err()),
            ("byee", Some("bye"))
        );
        let entry = R
            .entries()
            .into_iter()
            .find(|e| e.name() == "gone")
            .unwrap();
        // Added back, the name continues from the version it was removed at.
        assert_eq!(entry.kind(), Kind::Dynamic { version: 1 });
        assert_eq!(entry.aliases(), &["bye"]);
    }
}

mod register_case {
    use super::*;
    declare!(R);

    #[handler("static.one", registry = R)]
    fn one(_: i64) -> i64 {
        1
    }

    #[handler("dyn.two", registry = R)]
    #[dynamic]
    fn two(_: i64) -> i64 {
        2
    }

    #[test]
    fn register_adds_run_time_names_and_refuses_taken_ones() {
        R.register("rt.neg", negate).unwrap();
        assert_eq!(R.get("rt.neg").unwrap()(3), -3);
        assert_eq!(R.len(), 3);

        let error = R.register("rt.neg", add_one).unwrap_err();
        let Error::AlreadyRegistered { name, location, .. } = &error else {
            panic!("expected AlreadyRegistered, got {error:?}");
        };
        assert_eq!(name, "rt.neg");
        assert_eq!(location.file(), "tests/dynamic.rs");
        assert!(error.to_string().contains("use `replace`"), "{error}");
        assert_eq!(
            R.get("rt.neg").unwrap()(3),
            -3,
            "the refused register changed nothing"
        );

        assert!(matches!(
            R.register("dyn.two", add_one),
            Err(Error::AlreadyRegistered { .. })
        ));
        let error = R.register("static.one", add_one).unwrap_err();
        assert!(matches!(&error, Error::NotDynamic { name, .. } if name == "static.one"));
        assert_eq!(
            R.get("static.one").unwrap()(0),
            1,
            "static names are never shadowed"
        );

        let error = R.register("bad name", add_one).unwrap_err();
        assert!(matches!(error, Error::InvalidName { .. }));
        assert_eq!(
            error.to_string(),
            "invalid handler name `bad name`: a handler name cannot contain whitespace (found at byte 3); use `.`, `_` or `-` instead"
        );
        assert!(matches!(
            R.register("", add_one),
            Err(Error::InvalidName { .. })
        ));
        assert!(matches!(
            R.register(&"x".repeat(257), add_one),
            Err(Error::InvalidName { .. })
        ));
        assert!(matches!(
            R.register("tab\there", add_one),
            Err(Error::InvalidName { .. })
        ));
        assert!(matches!(
            R.register("nul\0", add_one),
            Err(Error::InvalidName { .. })
        ));
        assert_eq!(R.len(), 3, "invalid names changed nothing");

        // Run-time names are replaceable and removable.
        assert_eq!(R.replace("rt.neg", add_one).unwrap()(1), -1);
        assert_eq!(R.unregister("rt.neg").unwrap()(1), 2);
        assert!(R.get("rt.neg").is_none());
        assert_eq!(R.len(), 2);
    }
}

mod versioned_case {
    use super::*;
    declare!(R);

    #[handler("v", registry = R)]
    #[dynamic]
    fn v(x: i64) -> i64 {
        x
    }

    #[handler("fixed", registry = R)]
    fn fixed(x: i64) -> i64 {
        x
    }

    #[test]
    fn versions_only_grow() {
        // `#[dynamic]` declarations start at version 0: 0 is stale, 1 installs.
        assert_eq!(
            stale(&R.register_versioned("v", 0, add_one).unwrap_err()),
            ("v", 0, 0)
        );
        R.register_versioned("v", 1, add_one).unwrap();
        assert_eq!(R.get("v").unwrap()(1), 2);
        R.register_versioned("v", 5, times_ten).unwrap();
        let refused = R.register_versioned("v", 3, negate).unwrap_err();
        assert_eq!(stale(&refused), ("v", 5, 3));
        assert_eq!(
            refused.to_string(),
            "version 3 of `v` is stale: the latest version is 5; offer a version greater than 5"
        );
        assert_eq!(R.get("v").unwrap()(1), 10, "a stale offer changes nothing");
        // replace continues from the installed version.
        R.replace("v", negate).unwrap();
        let entry = R.entries().into_iter().find(|e| e.name() == "v").unwrap();
        assert_eq!(entry.kind(), Kind::Dynamic { version: 6 });

        // An absent name has no version: anything installs it, then the rule applies.
        R.register_versioned("fresh", 7, add_one).unwrap();
        assert!(matches!(
            R.register_versioned("fresh", 7, negate),
            Err(Error::Stale {
                current: 7,
                offered: 7,
                ..
            })
        ));
        assert_eq!(R.get("fresh").unwrap()(0), 1);

        assert!(matches!(
            R.register_versioned("fixed", 100, negate),
            Err(Error::NotDynamic { .. })
        ));
        assert!(matches!(
            R.register_versioned("a b", 1, negate),
            Err(Error::InvalidName { .. })
        ));

        // At u64::MAX a version cannot grow any more.
        R.register_versioned("fresh", u64::MAX, times_ten).unwrap();
        assert!(matches!(
            R.replace("fresh", negate),
            Err(Error::Stale {
                current: u64::MAX,
                ..
            })
        ));
        assert_eq!(R.get("fresh").unwrap()(1), 10);
    }
}

mod restore_case {
    use super::*;
    use handler_registry::ChangeKind;
    declare!(S);

    /// Identity, replaceable and restorable.
    #[handler("id", registry = S, aliases = ["same"])]
    #[dynamic]
    fn id(x: i64) -> i64 {
        x
    }

    #[handler("fixed", registry = S)]
    fn fixed(x: i64) -> i64 {
        x
    }

    #[test]
    fn restore_installs_the_declared_handler_as_a_new_version() {
        let mut changes = S.subscribe();
        S.replace("id", add_one).unwrap();
        assert_eq!(S.get("id").unwrap()(5), 6);
        // Through an alias too: it writes through to the primary name.
        assert_eq!(S.restore("same"), Ok(2));
        assert_eq!(S.get("id").unwrap()(5), 5);
        let version = S.entries().into_iter().find(|e| e.name() == "id").unwrap();
        assert_eq!(version.kind(), Kind::Dynamic { version: 2 });

        S.unregister("id").unwrap();
        assert!(S.get("id").is_none());
        assert_eq!(S.restore("id"), Ok(3));
        assert_eq!(S.get("same").unwrap()(7), 7);

        let seen: Vec<(ChangeKind, u64)> = std::iter::from_fn(|| changes.try_recv())
            .map(|change| (change.kind(), change.version()))
            .collect();
        assert_eq!(
            seen,
            [
                (ChangeKind::Replaced, 1),
                (ChangeKind::Drained, 0),
                (ChangeKind::Replaced, 2),
                (ChangeKind::Drained, 1),
                (ChangeKind::Unregistered, 2),
                (ChangeKind::Drained, 2),
                (ChangeKind::Registered, 3),
            ]
        );
    }

    #[test]
    fn restore_refuses_names_without_a_dynamic_declaration() {
        assert!(matches!(S.restore("fixed"), Err(Error::NotDynamic { .. })));
        assert!(matches!(
            S.restore("nowhere"),
            Err(Error::NotDeclared { name, .. }) if name == "nowhere"
        ));
        let plain: Registry<Op> = Registry::new();
        plain.register("runtime", negate).unwrap();
        assert!(matches!(
            plain.restore("runtime"),
            Err(Error::NotDeclared { .. })
        ));
        assert_eq!(plain.get("runtime").unwrap()(3), -3, "nothing changed");
    }
}
