//! The default registry: any signature goes in, the signature is checked on the way out.

use handler_registry::{handler, lookup, AnyHandler, Error, Registry, HANDLERS};

// Link the plugin crate: its `plugin.mul` goes to the default registry too.
use registry_test_plugins as _;

/// Add two numbers.
#[handler("math.add")]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

// Named lifetimes on purpose: the registered type is `for<'a> fn(&'a str) -> &'a str`.
#[handler("text.first_word", aliases = ["text.head"])]
#[allow(clippy::needless_lifetimes)]
fn first_word<'a>(text: &'a str) -> &'a str {
    text.split(' ').next().unwrap_or("")
}

#[handler("text.len")]
fn len(text: &str) -> usize {
    text.len()
}

#[handler("math.checked_div")]
const fn checked_div(a: u8, b: u8) -> Option<u8> {
    a.checked_div(b)
}

#[handler("ffi.negate")]
extern "C" fn negate(x: i64) -> i64 {
    -x
}

#[handler("unsafe.read")]
unsafe fn read(p: *const u8) -> u8 {
    // SAFETY: callers pass a valid pointer (the test passes a reference).
    unsafe { *p }
}

#[test]
fn the_right_signature_returns_the_function() {
    let add = lookup::<fn(i32, i32) -> i32>("math.add").unwrap();
    assert_eq!(add(40, 2), 42);
    let first = lookup::<fn(&str) -> &str>("text.first_word").unwrap();
    assert_eq!(first("alpha beta"), "alpha");
    let head = lookup::<for<'a> fn(&'a str) -> &'a str>("text.head").unwrap();
    assert_eq!(head("x y"), "x");
    assert_eq!(lookup::<fn(&str) -> usize>("text.len").unwrap()("four"), 4);
    assert_eq!(
        lookup::<fn(u8, u8) -> Option<u8>>("math.checked_div").unwrap()(9, 0),
        None
    );
    assert_eq!(
        lookup::<extern "C" fn(i64) -> i64>("ffi.negate").unwrap()(5),
        -5
    );
    let read = lookup::<unsafe fn(*const u8) -> u8>("unsafe.read").unwrap();
    // SAFETY: the pointer comes from a live reference.
    assert_eq!(unsafe { read(&7u8) }, 7);
}

#[test]
fn handlers_from_another_crate_reach_the_default_registry() {
    assert_eq!(
        lookup::<fn(u64, u64) -> u64>("plugin.mul").unwrap()(6, 7),
        42
    );
}

#[test]
fn a_wrong_signature_is_a_mismatch_with_both_types_and_the_location() {
    let error = lookup::<fn(i64, i64) -> i64>("math.add").unwrap_err();
    let Error::SignatureMismatch {
        name,
        expected,
        found,
        location,
        ..
    } = &error
    else {
        panic!("expected SignatureMismatch, got {error:?}");
    };
    assert_eq!(name, "math.add");
    assert_eq!(*expected, "fn(i64, i64) -> i64");
    assert_eq!(*found, "fn(i32, i32) -> i32");
    assert_eq!(location.file(), "tests/default_registry.rs");
    assert_eq!(location.module_path(), "default_registry");
    assert_eq!(
        error.to_string(),
        format!(
            "handler `math.add` (defined at tests/default_registry.rs:{}) has type `fn(i32, i32) -> i32`, not the requested `fn(i64, i64) -> i64`; ask for `fn(i32, i32) -> i32` or change the handler",
            location.line()
        )
    );
    // Through an alias, the mismatch still names where the handler is defined.
    let Error::SignatureMismatch {
        location: via_alias,
        ..
    } = lookup::<fn(&str) -> String>("text.head").unwrap_err()
    else {
        panic!("expected SignatureMismatch");
    };
    assert_eq!(via_alias.file(), "tests/default_registry.rs");
}

#[test]
fn an_unknown_name_suggests_the_closest() {
    let error = lookup::<fn(i32, i32) -> i32>("math.ad").unwrap_err();
    let Error::NotFound {
        name, suggestion, ..
    } = &error
    else {
        panic!("expected NotFound, got {error:?}");
    };
    assert_eq!(
        (name.as_str(), suggestion.as_deref()),
        ("math.ad", Some("math.add"))
    );
}

#[test]
fn entries_list_every_default_handler() {
    let names: Vec<String> = HANDLERS
        .entries()
        .iter()
        .map(|e| e.name().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "ffi.negate",
            "math.add",
            "math.checked_div",
            "plugin.mul",
            "text.first_word",
            "text.len",
            "unsafe.read"
        ]
    );
}

#[test]
fn run_time_handlers_of_any_type_can_be_added_to_a_standalone_default_style_registry() {
    let registry: Registry<AnyHandler> = Registry::new();
    registry
        .register("square", AnyHandler::new((|x| x * x) as fn(u32) -> u32))
        .unwrap();
    assert_eq!(
        registry.lookup_as::<fn(u32) -> u32>("square").unwrap()(9),
        81
    );
    let handler = registry.get("square").unwrap();
    assert_eq!(handler.type_name(), "fn(u32) -> u32");
    assert!(handler.downcast::<fn(u64) -> u64>().is_none());
    assert!(matches!(
        registry.lookup_as::<fn(u64) -> u64>("square"),
        Err(Error::SignatureMismatch {
            found: "fn(u32) -> u32",
            ..
        })
    ));
}
