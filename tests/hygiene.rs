//! The expansion of every attribute compiles warning-free under strict lints, with the
//! prelude's names shadowed by user items, and `#[dynamic]` imported by name above or below
//! `#[handler]` (the import must count as used either way).

#![deny(warnings, unused_qualifications)]

mod support;

use handler_registry::{lookup, Kind};
use support::block_on;

mod shadowed {
    #![allow(dead_code, unused_macros, non_camel_case_types, non_upper_case_globals)]

    use handler_registry::{dynamic, handler, registry, BoxFuture, Registry};

    // Every name the expansion could reach unqualified, taken by something else.
    struct Result;
    struct Option;
    struct Box;
    struct Vec;
    struct String;
    struct Pin;
    struct Send;
    struct Sync;
    struct Copy;
    struct Clone;
    struct Fn;
    struct Any;
    struct Some;
    struct None;
    struct Ok;
    struct Err;
    struct bool;
    struct usize;
    struct AnyHandler;
    struct StaticEntry;
    struct RegistryDecl;
    trait Future {}
    const HANDLERS: () = ();
    macro_rules! module_path {
        () => {
            compile_error!("the expansion used an unqualified `module_path!`")
        };
    }
    macro_rules! file {
        () => {
            compile_error!("the expansion used an unqualified `file!`")
        };
    }
    macro_rules! line {
        () => {
            compile_error!("the expansion used an unqualified `line!`")
        };
    }
    macro_rules! submit {
        ($($tokens:tt)*) => {
            compile_error!("the expansion used an unqualified `submit!`")
        };
    }

    #[registry]
    pub static NUMBERS: Registry<fn(u32) -> u32>;

    #[registry]
    pub static ASYNC_NUMBERS: Registry<fn(u32) -> BoxFuture<'static, u32>>;

    /// An owned registry, its `Fn`, `Send` and `Sync` spelled by path (shadowed above).
    #[registry]
    pub static HOOKS: Registry<
        std::sync::Arc<dyn core::ops::Fn(u32) -> u32 + core::marker::Send + core::marker::Sync>,
    >;

    #[handler("owned.increment", registry = HOOKS)]
    #[dynamic]
    fn owned_increment(x: u32) -> u32 {
        x + 1
    }

    /// Double it.
    #[handler("double", registry = NUMBERS, aliases = ["twice"])]
    fn double(x: u32) -> u32 {
        x * 2
    }

    #[handler("triple", registry = NUMBERS)]
    #[dynamic]
    fn triple(x: u32) -> u32 {
        x * 3
    }

    #[dynamic]
    #[handler("quadruple", registry = NUMBERS)]
    fn quadruple(x: u32) -> u32 {
        x * 4
    }

    #[handler("negate")]
    fn negate(x: i64) -> i64 {
        -x
    }

    #[handler("first_word")]
    fn first_word(text: &str) -> &str {
        text.split(' ').next().unwrap_or_default()
    }

    #[handler("async.increment", registry = ASYNC_NUMBERS)]
    async fn increment(x: u32) -> u32 {
        x + 1
    }

    #[handler("async.square")]
    #[dynamic]
    async fn square(x: u64) -> u64 {
        x * x
    }

    #[allow(non_snake_case)]
    #[handler("async.Shout")]
    async fn Shout(text: std::string::String) -> std::string::String {
        text.to_uppercase()
    }

    #[deprecated = "kept registered for old clients"]
    #[handler("old")]
    fn old() -> u8 {
        7
    }
}

/// `#[dynamic]` used only below `#[handler]`: the import must still count as used.
mod dynamic_below_only {
    use handler_registry::{dynamic, handler};

    #[handler("below.only")]
    #[dynamic]
    fn below(x: u8) -> u8 {
        x + 1
    }
}

/// `#[dynamic]` used only above `#[handler]`.
mod dynamic_above_only {
    use handler_registry::{dynamic, handler};

    #[dynamic]
    #[handler("above.only")]
    fn above(x: u8) -> u8 {
        x + 2
    }
}

#[test]
fn typed_handlers_resolve_despite_shadowing() {
    let numbers = &shadowed::NUMBERS;
    assert_eq!(numbers.get("double").unwrap()(21), 42);
    assert_eq!(numbers.get("twice").unwrap()(5), 10);
    assert_eq!(numbers.get("triple").unwrap()(5), 15);
    assert_eq!(numbers.get("quadruple").unwrap()(5), 20);
    let kinds: Vec<_> = numbers
        .entries()
        .iter()
        .map(|entry| {
            (
                entry.name().to_owned(),
                entry.kind(),
                entry.doc().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("double".into(), Kind::Static, "Double it.".into()),
            ("quadruple".into(), Kind::Dynamic { version: 0 }, "".into()),
            ("triple".into(), Kind::Dynamic { version: 0 }, "".into()),
        ]
    );
}

#[test]
fn owned_handlers_resolve_despite_shadowing() {
    let hooks = &shadowed::HOOKS;
    assert_eq!(hooks.call("owned.increment", |f| f(41)), Ok(42));
    let previous = hooks
        .replace("owned.increment", std::sync::Arc::new(|x| x + 2))
        .unwrap();
    assert_eq!(previous(1), 2);
    assert_eq!(hooks.call("owned.increment", |f| f(1)), Ok(3));
}

#[test]
fn default_registry_handlers_resolve_despite_shadowing() {
    assert_eq!(lookup::<fn(i64) -> i64>("negate").unwrap()(3), -3);
    assert_eq!(
        lookup::<fn(&str) -> &str>("first_word").unwrap()("a b"),
        "a"
    );
    assert_eq!(lookup::<fn() -> u8>("old").unwrap()(), 7);
    assert_eq!(lookup::<fn(u8) -> u8>("below.only").unwrap()(1), 2);
    assert_eq!(lookup::<fn(u8) -> u8>("above.only").unwrap()(1), 3);
    let dynamic: Vec<_> = handler_registry::HANDLERS
        .entries()
        .into_iter()
        .filter(|entry| entry.name().ends_with(".only"))
        .map(|entry| (entry.name().to_owned(), entry.kind()))
        .collect();
    assert_eq!(
        dynamic,
        [
            ("above.only".into(), Kind::Dynamic { version: 0 }),
            ("below.only".into(), Kind::Dynamic { version: 0 }),
        ]
    );
}

#[test]
fn async_handlers_resolve_despite_shadowing() {
    let increment = shadowed::ASYNC_NUMBERS.get("async.increment").unwrap();
    assert_eq!(block_on(increment(41)), 42);
    let square = lookup::<fn(u64) -> handler_registry::BoxFuture<'static, u64>>("async.square");
    assert_eq!(block_on(square.unwrap()(12)), 144);
    let shout = lookup::<fn(String) -> handler_registry::BoxFuture<'static, String>>("async.Shout");
    assert_eq!(block_on(shout.unwrap()("hey".into())), "HEY");
    let square_entry = handler_registry::HANDLERS
        .entries()
        .into_iter()
        .find(|entry| entry.name() == "async.square")
        .unwrap();
    assert_eq!(square_entry.kind(), Kind::Dynamic { version: 0 });
}
