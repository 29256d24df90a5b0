//! Hostile and wrong input: lookups of strings an attacker or a typo could send (empty, huge,
//! unicode look-alikes, near-misses, case variants, trailing bytes, NUL) never panic and never
//! resolve to a handler they do not name; the "did you mean" search does bounded work on names
//! of any length; registering an invalid name is refused and changes nothing.

use std::sync::Once;

use handler_registry::{
    dynamic, handler, registry, validate_name, AnyHandler, EntryInfo, Error, Registry, HANDLERS,
    MAX_NAME_LEN,
};

type Handler = fn() -> u32;

#[registry]
static HOSTILE: Registry<Handler>;

#[handler("order.create", registry = HOSTILE, aliases = ["oc"])]
fn order_create() -> u32 {
    1
}

#[handler("order.refresh", registry = HOSTILE)]
fn order_refresh() -> u32 {
    2
}

#[handler("user.get", registry = HOSTILE)]
#[dynamic]
fn user_get() -> u32 {
    3
}

#[handler("ünï.cödé", registry = HOSTILE)]
fn unicode() -> u32 {
    4
}

fn runtime() -> u32 {
    5
}

fn replacement() -> u32 {
    6
}

static RUNTIME: Handler = runtime;

/// Every name that resolves, with what its handler answers.
const REAL: [(&str, u32); 6] = [
    ("order.create", 1),
    ("oc", 1),
    ("order.refresh", 2),
    ("user.get", 3),
    ("ünï.cödé", 4),
    ("rt.name", 5),
];

/// The registry with its run-time name added once; no test changes it afterwards.
fn hostile() -> &'static Registry<Handler> {
    static RUNTIME: Once = Once::new();
    RUNTIME.call_once(|| HOSTILE.register("rt.name", runtime).unwrap());
    &HOSTILE
}

const MIB: usize = 1 << 20;

/// Strings that name no handler, though many look like one.
fn near_misses() -> Vec<String> {
    let mut names: Vec<String> = [
        "",
        "\0",
        "order.create\0",
        "\0order.create",
        "order\0.create",
        "order.create ",
        " order.create",
        "order.create\n",
        "order.create\u{7f}",
        "order.create\u{fffd}",
        "order.create\u{200b}",
        "order.create\u{301}",
        "ORDER.CREATE",
        "Order.Create",
        "order.Create",
        "OC",
        "Oc",
        "order.creat",
        "order.createe",
        "order.craete",
        "order_create",
        "order。create",
        "ｏｒｄｅｒ.create",
        "оrder.create",
        "u\u{308}nï.cödé",
        "ÜNÏ.CÖDÉ",
        "ünï.cöd",
        "RT.NAME",
        "rt.name.",
        "rt.nam",
        "user.get\0",
        "USER.GET",
        "🦀",
        "order.create🦀",
        "\u{feff}order.create",
    ]
    .map(str::to_owned)
    .to_vec();
    for real in ["order.create", "rt.name", "ünï.cödé"] {
        names.push(real.repeat(2));
        names.push(real.chars().chain(real.chars().take(1)).collect());
    }
    names.push("x".repeat(MAX_NAME_LEN));
    names.push("x".repeat(MAX_NAME_LEN + 1));
    names.push("é".repeat(MAX_NAME_LEN));
    names.push("a".repeat(MIB));
    names.push("é".repeat(MIB / 2));
    names.push("order.create".repeat(MIB / "order.create".len()));
    names.push(format!("order.create{}", "\0".repeat(MIB)));
    names
}

/// The name an error carries: shortened for long input, so check it is a prefix of the name.
fn assert_names(shown: &str, name: &str) {
    if name.len() <= 80 {
        assert_eq!(shown, name);
    } else {
        assert!(
            shown.len() < 200,
            "an error keeps a {}-byte name",
            shown.len()
        );
        let prefix = shown.split('…').next().unwrap();
        assert!(name.starts_with(prefix), "{prefix:?} is not a prefix");
    }
}

#[test]
fn real_names_resolve_to_their_own_handlers() {
    let registry = hostile();
    for (name, answer) in REAL {
        assert_eq!(registry.get(name).map(|f| f()), Some(answer), "{name}");
        assert_eq!(registry.lookup(name).map(|f| f()), Ok(answer), "{name}");
        assert_eq!(registry.call(name, |f| f()), Ok(answer), "{name}");
    }
}

#[test]
fn near_misses_never_resolve_and_never_panic() {
    let registry = hostile();
    for name in near_misses() {
        let shown = name.escape_debug().take(40).collect::<String>();
        assert_eq!(registry.get(&name).map(|f| f()), None, "{shown}");
        assert!(!registry.contains(&name), "{shown}");
        match registry.lookup(&name) {
            Err(Error::NotFound {
                name: reported,
                suggestion,
                ..
            }) => {
                assert_names(&reported, &name);
                if let Some(suggestion) = suggestion {
                    assert!(
                        REAL.iter().any(|(real, _)| *real == suggestion),
                        "{shown}: suggested {suggestion:?}, which is not registered"
                    );
                }
            }
            other => panic!("{shown}: {other:?}"),
        }
        assert!(matches!(
            registry.call(&name, |f| f()),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            HANDLERS.lookup_as::<fn() -> u32>(&name),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            handler_registry::lookup::<fn() -> u32>(&name),
            Err(Error::NotFound { .. })
        ));
        let message = registry.lookup(&name).err().map(|error| error.to_string());
        assert!(
            message.is_some_and(|message| message.len() < 400),
            "{shown}"
        );
    }
}

#[test]
fn typos_get_the_right_suggestion() {
    let registry = hostile();
    let suggestion = |name: &str| match registry.lookup(name) {
        Err(Error::NotFound { suggestion, .. }) => suggestion,
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(suggestion("order.creat").as_deref(), Some("order.create"));
    assert_eq!(
        suggestion("ORDER.REFRESH").as_deref(),
        Some("order.refresh")
    );
    assert_eq!(suggestion("rt.nam").as_deref(), Some("rt.name"));
    assert_eq!(suggestion("ünï.cöd").as_deref(), Some("ünï.cödé"));
    assert_eq!(suggestion("zzzzzzzzzzzz"), None);
}

/// The suggestion search rejects by length before computing any edit distance: a name longer
/// than the longest valid name plus the largest allowed distance gets no suggestion, however
/// close its start is to a real name, so a 1 MiB name costs a hash and a length check.
#[test]
fn suggestions_do_bounded_work_on_huge_names() {
    let registry: Registry<Handler> = Registry::new();
    let longest = "a".repeat(MAX_NAME_LEN);
    registry.register(&longest, runtime).unwrap();
    let suggestion = |name: &str| match registry.lookup(name) {
        Err(Error::NotFound {
            name: reported,
            suggestion,
            ..
        }) => {
            assert_names(&reported, name);
            suggestion
        }
        other => panic!("{other:?}"),
    };
    // Within reach: a third of the name's length in edits.
    let allowed = MAX_NAME_LEN / 3;
    let near = format!("{longest}{}", "b".repeat(allowed));
    assert_eq!(suggestion(&near).as_deref(), Some(longest.as_str()));
    // One byte more is out of reach, and rejected on its length before any distance is computed.
    let past = format!("{longest}{}", "a".repeat(allowed + 1));
    assert_eq!(suggestion(&past), None);
    for huge in [
        "a".repeat(MIB),
        format!("{longest}{}", "\0".repeat(MIB)),
        "é".repeat(MIB / 2),
    ] {
        assert_eq!(suggestion(&huge), None);
        assert_eq!(registry.get(&huge).map(|f| f()), None);
        assert!(matches!(
            registry.replace(&huge, replacement),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            registry.unregister(&huge),
            Err(Error::NotFound { .. })
        ));
    }
    assert_eq!(registry.get(&longest).map(|f| f()), Some(5));
}

/// Names that break the rules, each with the rule it breaks.
fn invalid_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "",
        " ",
        "two words",
        "tab\there",
        "new\nline",
        "nul\0byte",
        "bell\u{7}",
        "next\u{85}line",
        "no\u{a0}break",
        "line\u{2028}sep",
        "ideographic\u{3000}space",
        "order.create ",
        "\torder.create",
    ]
    .map(str::to_owned)
    .to_vec();
    names.push("x".repeat(MAX_NAME_LEN + 1));
    names.push("é".repeat(MAX_NAME_LEN / 2 + 1));
    names.push("a".repeat(MIB));
    names
}

fn snapshot<F: Clone + Send + Sync + 'static>(registry: &Registry<F>) -> (Vec<EntryInfo>, usize) {
    (registry.entries(), registry.len())
}

#[test]
fn registering_invalid_names_is_refused_and_changes_nothing() {
    let registry = hostile();
    let standalone: Registry<Handler> = Registry::new();
    let before = snapshot(registry);
    let default_before = snapshot(&HANDLERS);
    for name in invalid_names() {
        let reason = validate_name(&name).expect_err("an invalid name");
        let shown = name.escape_debug().take(40).collect::<String>();
        let refused = [
            registry.register(&name, runtime),
            registry.register_versioned(&name, 7, runtime),
            standalone.register(&name, runtime),
            standalone.register_versioned(&name, 7, runtime),
            HANDLERS.register(&name, AnyHandler::from_static(&RUNTIME)),
        ];
        for result in refused {
            match result {
                Err(Error::InvalidName {
                    name: reported,
                    reason: got,
                    ..
                }) => {
                    assert_eq!(got, reason, "{shown}");
                    assert_names(&reported, &name);
                }
                other => panic!("{shown}: {other:?}"),
            }
        }
        assert!(matches!(
            registry.replace(&name, replacement),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            registry.unregister(&name),
            Err(Error::NotFound { .. })
        ));
        assert_eq!(registry.get(&name).map(|f| f()), None, "{shown}");
    }
    assert_eq!(snapshot(registry), before);
    assert_eq!(snapshot(&HANDLERS), default_before);
    assert!(standalone.is_empty());
    assert!(standalone.entries().is_empty());
}

#[test]
fn valid_unicode_names_are_exact() {
    let registry: Registry<Handler> = Registry::new();
    registry.register("ärger.👍", runtime).unwrap();
    assert_eq!(registry.get("ärger.👍").map(|f| f()), Some(5));
    // The same text in decomposed form is another name.
    assert_eq!(registry.get("a\u{308}rger.👍").map(|f| f()), None);
    registry.register("a\u{308}rger.👍", replacement).unwrap();
    assert_eq!(registry.get("a\u{308}rger.👍").map(|f| f()), Some(6));
    assert_eq!(registry.get("ärger.👍").map(|f| f()), Some(5));
    assert_eq!(registry.len(), 2);
}
