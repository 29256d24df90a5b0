//! The expansions run on arbitrary, mostly broken input: they must never panic, must report an
//! error exactly when the input is wrong, and must always emit the user's item again.

use std::str::FromStr;

use proc_macro2::TokenStream;

use crate::expand;

fn tokens(source: &str) -> TokenStream {
    TokenStream::from_str(source).unwrap()
}

fn has_error(output: &TokenStream) -> bool {
    output.to_string().contains("compile_error")
}

const VALID_ARGS: &[&str] = &[
    r#""greet""#,
    r#""greet","#,
    r#""greet", registry = COMMANDS"#,
    r#""greet", registry = crate::a::COMMANDS, aliases = ["hi", "hello"]"#,
    r#""greet", dynamic"#,
    r#""greet", aliases = []"#,
    r#"r"raw.name""#,
];

const INVALID_ARGS: &[&str] = &[
    "",
    ",",
    "=",
    "greet",
    r#""greet" "hi""#,
    r#""greet" = 1"#,
    r#""greet", registry"#,
    r#""greet", registry ="#,
    r#""greet", registry = 1 + 2"#,
    r#""greet", registry = <T as X>::Y"#,
    r#""greet", aliases = "hi""#,
    r#""greet", aliases = [1, "x", greet()]"#,
    r#""greet", aliases = ["greet"]"#,
    r#""greet", aliases = ["a", "a"]"#,
    r#""greet", dynamic = true"#,
    r#""greet", dynamic, dynamic"#,
    r#""greet", a::b"#,
    r#""greet", a::b = 1"#,
    r#""greet", 1 = 2"#,
    r#""greet", unknown"#,
    r#""greet", registry = A, registry = B"#,
    r#"name = "greet""#,
    r#"registry = A, "greet""#,
    r#""""#,
    r#"" ""#,
    "\"a\\u{0}b\"",
    r#"b"greet""#,
    "42",
    "{ }",
    "#[x]",
];

const VALID_ITEMS: &[&str] = &[
    "fn greet(who: &str) -> String { who.into() }",
    "pub(crate) unsafe extern \"C\" fn greet(x: i32) -> i32 { x }",
    "fn greet<'a>(x: &'a str) -> &'a str { x }",
    "async fn greet(x: String) -> String { x }",
    "async unsafe fn greet((a, b): (u8, u8), mut c: u8) { }",
    "async fn greet(x: &'static str, y: Box<dyn Send>) { }",
    "/// Docs.\n#[inline] fn greet() {}",
];

const INVALID_ITEMS: &[&str] = &[
    "",
    "+ + +",
    "struct greet;",
    "const greet: u8 = 1;",
    "impl greet {}",
    "fn greet(&self) {}",
    "fn greet<T>(x: T) {}",
    "fn greet<const N: usize>() {}",
    "fn greet() where u8: Copy {}",
    "fn greet(x: impl Copy) {}",
    "fn greet() -> impl Copy {}",
    "unsafe extern \"C\" fn greet(x: i32, ...) {}",
    "fn greet();",
    "async fn greet(x: &str) {}",
    "async fn greet<'a>() {}",
    "async fn greet(x: Cow<'_, str>, y: Box<dyn Send + 'a>) {}",
    "async extern \"C\" fn greet() {}",
    "#[dynamic(x)] fn greet() {}",
    "#[dynamic] #[dynamic] fn greet() {}",
    "extern \"C\" { fn greet(); }",
    "mod greet {}",
];

#[test]
fn handler_reports_exactly_the_wrong_inputs_and_keeps_the_item() {
    let cases = VALID_ARGS
        .iter()
        .map(|args| (args, true))
        .chain(INVALID_ARGS.iter().map(|args| (args, false)));
    for (args, args_valid) in cases {
        let items = VALID_ITEMS
            .iter()
            .map(|item| (item, true))
            .chain(INVALID_ITEMS.iter().map(|item| (item, false)));
        for (item, item_valid) in items {
            let output = expand::handler(tokens(args), tokens(item));
            assert_eq!(
                has_error(&output),
                !(args_valid && item_valid),
                "#[handler({args})] {item}\n=> {output}"
            );
            if item.contains("greet") {
                assert!(
                    output.to_string().contains("greet"),
                    "the item is lost: #[handler({args})] {item}\n=> {output}"
                );
            }
        }
    }
}

#[test]
fn handler_takes_in_a_dynamic_written_below() {
    let output = expand::handler(tokens(r#""greet""#), tokens("#[dynamic] fn greet() {}"));
    let output = output.to_string();
    assert!(!output.contains("compile_error"), "{output}");
    assert!(output.contains("dynamic : true"), "{output}");
    assert!(
        output.contains("# [dynamic (__handled_by_handler)]"),
        "{output}"
    );
}

#[test]
fn registry_reports_exactly_the_wrong_inputs() {
    let valid = [
        "static COMMANDS: Registry<fn(&str) -> String>;",
        "pub static COMMANDS: handler_registry::Registry<fn() -> BoxFuture<'static, ()>>;",
        "/// Docs.\n#[allow(unused)] pub(crate) static COMMANDS: Registry<u8>;",
    ];
    let invalid = [
        "",
        "static",
        "static COMMANDS",
        "static COMMANDS: Registry<u8>",
        "static mut COMMANDS: Registry<u8>;",
        "static COMMANDS: Registry<u8> = Registry::new();",
        "static COMMANDS: Registry;",
        "static COMMANDS: Registry<u8, u16>;",
        "static COMMANDS: Vec<u8>;",
        "static COMMANDS: <T as X>::Registry<u8>;",
        "const COMMANDS: Registry<u8>;",
        "struct COMMANDS;",
        "fn COMMANDS() {}",
    ];
    for (item, item_valid) in valid
        .iter()
        .map(|i| (i, true))
        .chain(invalid.iter().map(|i| (i, false)))
    {
        for (args, args_valid) in [("", true), ("x", false), ("a = 1", false)] {
            let output = expand::registry(tokens(args), tokens(item));
            assert_eq!(
                has_error(&output),
                !(args_valid && item_valid),
                "#[registry({args})] {item}\n=> {output}"
            );
        }
    }
}

#[test]
fn dynamic_reports_exactly_the_wrong_inputs() {
    let cases = [
        ("", "#[handler(\"greet\")] fn greet() {}", true),
        ("", "#[handler] fn greet() {}", true),
        ("", "#[handler(\"greet\",)] fn greet() {}", true),
        (
            "",
            "#[handler_registry::handler(\"greet\")] fn greet() {}",
            true,
        ),
        ("x", "#[handler(\"greet\")] fn greet() {}", false),
        ("", "fn greet() {}", false),
        ("", "struct greet;", false),
        ("", "", false),
        ("", "+ + +", false),
    ];
    for (args, item, valid) in cases {
        let output = expand::dynamic(tokens(args), tokens(item));
        assert_eq!(
            has_error(&output),
            !valid,
            "#[dynamic({args})] {item}\n=> {output}"
        );
        if valid {
            assert!(output.to_string().contains("dynamic"), "{output}");
        }
    }
}
