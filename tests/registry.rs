//! Typed registries: handlers from several modules and from another crate, aliases, doc text
//! and locations in `entries()`, lookups and misses.

use handler_registry::{handler, registry, Kind, Registry};

mod support;
use registry_test_plugins::hooks::HOOKS;
use registry_test_plugins::FILTERS;
use support::not_found;

#[registry]
pub static COMMANDS: Registry<fn(&str) -> String>;

/// Say hello.
///
/// Second paragraph of the doc.
#[handler("greet", registry = COMMANDS, aliases = ["hi", "hello"])]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

mod admin {
    use handler_registry::handler;

    /// Shout the text.
    #[handler("admin.shout", registry = super::COMMANDS)]
    pub fn shout(text: &str) -> String {
        text.to_uppercase()
    }

    pub mod deep {
        #[handler_registry::handler("admin.deep.len", registry = crate::COMMANDS)]
        fn len(text: &str) -> String {
            text.len().to_string()
        }
    }
}

/// Triple a number: a handler in this crate for a registry declared in the plugin crate.
#[handler("test.triple", registry = HOOKS)]
fn triple(x: u32) -> u32 {
    x * 3
}

fn source_line(file: &str, line: u32) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(file))
        .unwrap_or_else(|e| panic!("cannot read {file} from {}: {e}", root.display()));
    text.lines().nth(line as usize - 1).unwrap().to_owned()
}

#[test]
fn handlers_from_several_modules_resolve() {
    COMMANDS.freeze().unwrap();
    assert_eq!(COMMANDS.get("greet").unwrap()("ann"), "hello ann");
    assert_eq!(COMMANDS.get("admin.shout").unwrap()("quiet"), "QUIET");
    assert_eq!(COMMANDS.get("admin.deep.len").unwrap()("four"), "4");
    assert_eq!(COMMANDS.len(), 3);
    assert!(!COMMANDS.is_empty());
    assert!(COMMANDS.contains("admin.shout"));
    assert!(!COMMANDS.contains("admin"));
}

#[test]
fn aliases_resolve_to_the_same_function() {
    let primary = COMMANDS.get("greet").unwrap();
    for alias in ["hi", "hello"] {
        let via_alias = COMMANDS.get(alias).unwrap();
        assert_eq!(via_alias as usize, primary as usize, "alias {alias}");
        assert_eq!(via_alias("bo"), "hello bo");
    }
}

#[test]
fn entries_carry_doc_text_and_locations() {
    let entries = COMMANDS.entries();
    let names: Vec<&str> = entries.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["admin.deep.len", "admin.shout", "greet"]);

    let greet = &entries[2];
    assert_eq!(greet.aliases(), &["hi", "hello"]);
    assert_eq!(greet.doc(), "Say hello.\n\nSecond paragraph of the doc.");
    assert_eq!(greet.kind(), Kind::Static);
    assert_eq!(greet.module_path(), "registry");
    assert_eq!(greet.file(), "tests/registry.rs");
    assert!(
        source_line(greet.file(), greet.line()).starts_with("#[handler(\"greet\""),
        "line {} is not the attribute",
        greet.line()
    );
    assert_eq!(
        greet.location().to_string(),
        format!("tests/registry.rs:{}", greet.line())
    );

    let shout = &entries[1];
    assert_eq!(shout.doc(), "Shout the text.");
    assert_eq!(shout.module_path(), "registry::admin");
    assert_eq!(entries[0].doc(), "");
    assert_eq!(entries[0].module_path(), "registry::admin::deep");
}

#[test]
fn handlers_from_another_crate_are_collected() {
    let reverse = FILTERS.get("reverse").unwrap();
    assert_eq!(reverse("abc"), "cba");
    assert_eq!(FILTERS.get("rev").unwrap()("xy"), "yx");
    assert_eq!(FILTERS.get("trim").unwrap()("  t  "), "t");
    let entries = FILTERS.entries();
    let reverse = entries.iter().find(|e| e.name() == "reverse").unwrap();
    assert_eq!(reverse.file(), "tests/plugin-crate/src/lib.rs");
    assert_eq!(reverse.module_path(), "registry_test_plugins");
    assert!(source_line(reverse.file(), reverse.line()).starts_with("#[handler(\"reverse\""));
    assert_eq!(reverse.doc(), "Reverse the text.");
}

#[test]
fn a_registry_in_another_crate_collects_handlers_from_both_crates() {
    assert_eq!(HOOKS.get("plugin.double").unwrap()(21), 42);
    assert_eq!(HOOKS.get("test.triple").unwrap()(5), 15);
    let names: Vec<String> = HOOKS
        .entries()
        .iter()
        .map(|e| e.name().to_owned())
        .collect();
    assert_eq!(names, ["plugin.double", "test.triple"]);
}

#[test]
fn registries_do_not_see_each_others_handlers() {
    assert!(COMMANDS.get("reverse").is_none());
    assert!(FILTERS.get("greet").is_none());
    assert!(handler_registry::HANDLERS.get("greet").is_none());
}

#[test]
fn misses_suggest_the_closest_name() {
    assert_eq!(
        not_found(&COMMANDS.lookup("gret").unwrap_err()),
        ("gret", Some("greet"))
    );
    assert_eq!(
        COMMANDS.lookup("admin.shuot").unwrap_err().to_string(),
        "no handler named `admin.shuot`; did you mean `admin.shout`?"
    );
    let far = COMMANDS.lookup("zzzzzzzz").unwrap_err();
    assert_eq!(not_found(&far), ("zzzzzzzz", None));
    assert!(far.to_string().contains("entries()"), "{far}");
    assert!(COMMANDS.get("").is_none());
}

#[test]
fn freeze_is_idempotent() {
    assert_eq!(COMMANDS.freeze(), Ok(()));
    assert_eq!(COMMANDS.freeze(), Ok(()));
    assert_eq!(COMMANDS.len(), 3);
}

#[test]
fn a_standalone_registry_holds_only_run_time_names() {
    static LOCAL: Registry<fn(&str) -> String> = Registry::new();
    assert!(LOCAL.is_empty());
    assert!(LOCAL.get("greet").is_none());
    LOCAL.register("echo", |s| s.to_owned()).unwrap();
    assert_eq!(LOCAL.get("echo").unwrap()("e"), "e");
    let entries = LOCAL.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].kind(), Kind::Dynamic { version: 0 });
    assert_eq!(entries[0].file(), "tests/registry.rs");
    assert_eq!(entries[0].module_path(), "");
}
