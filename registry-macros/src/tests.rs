//! The expansions run on arbitrary, mostly broken input: they must never panic, must report an
//! error exactly when the input is wrong, and must always emit the user's item again.

use std::str::FromStr;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;

use crate::ctxt::Errors;
use crate::expand;
use crate::parse::HandlerArgs;

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
    r#""greet", crate = hr"#,
    r#""greet", crate = ::my::hr, registry = COMMANDS, dynamic"#,
    r#""greet", registry = COMMANDS, meta = Access::Admin"#,
    r#""greet", meta = Help { category: "x", hidden: [1, 2].len() > 1 }, registry = COMMANDS"#,
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
    r#""greet", crate = hr, crate = hr"#,
    r#""greet", crate = "hr""#,
    r#""greet", crate = 1"#,
    r#""greet", crate = hr::<u8>"#,
    r#""greet", crate"#,
    r#""greet", registry = COMMANDS, meta = 1, meta = 2"#,
    r#""greet", meta = Access::Admin"#,
    r#""greet", registry = COMMANDS, meta"#,
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

/// What `#[handler]` does with its arguments: name, registry path, aliases, dynamic flag, crate
/// path.
type Summary = (
    Option<String>,
    Option<String>,
    Vec<String>,
    bool,
    Option<String>,
);

fn summary(args: &HandlerArgs) -> Summary {
    (
        args.name.as_ref().map(|name| name.value()),
        args.registry
            .as_ref()
            .map(|path| path.to_token_stream().to_string()),
        args.aliases.iter().map(|alias| alias.value()).collect(),
        args.dynamic.is_some(),
        args.krate
            .as_ref()
            .map(|path| path.to_token_stream().to_string()),
    )
}

#[test]
fn plain_arguments_are_read_as_the_expression_parser_reads_them() {
    let more_valid = [
        r#""greet", dynamic, aliases = ["a", "b",], registry = ::x::Y,"#,
        r#""greet", aliases = ["hi"], dynamic, registry = self::Y"#,
        r#""greet", crate = ::a::hr, aliases = ["hi"],"#,
    ];
    for args in VALID_ARGS.iter().chain(&more_valid) {
        assert!(
            HandlerArgs::parse_plain.parse2(tokens(args)).is_ok(),
            "well-formed arguments take the plain path: {args}"
        );
    }
    for args in VALID_ARGS.iter().chain(&more_valid).chain(INVALID_ARGS) {
        let Ok(plain) = HandlerArgs::parse_plain.parse2(tokens(args)) else {
            continue;
        };
        let mut errors = Errors::default();
        let exprs = HandlerArgs::parse_exprs(tokens(args), &mut errors);
        assert!(errors.is_empty(), "accepted by the plain path only: {args}");
        assert_eq!(summary(&plain), summary(&exprs), "{args}");
    }
}

#[test]
fn handler_takes_in_a_dynamic_written_below() {
    let item = "/// Greets.\n#[inline] #[dynamic] pub fn greet() -> u8 { 1 + 1 }";
    let output = expand::handler(tokens(r#""greet""#), tokens(item));
    let output = output.to_string();
    assert!(!output.contains("compile_error"), "{output}");
    assert!(output.contains("dynamic : true"), "{output}");
    assert!(
        output.starts_with(
            "# [doc = \" Greets.\"] # [inline] # [dynamic (__handled_by_handler)] pub fn greet () -> u8 { 1 + 1 }"
        ),
        "{output}"
    );
    assert!(output.contains(r#"doc : "Greets.""#), "{output}");
}

#[test]
fn handler_emits_the_function_as_written_without_parsing_its_body() {
    // Not Rust syntax: the body is rustc's to report, not a reason to refuse the function.
    let item = "#[inline] fn greet(who: &str) -> String { who => + }";
    let output = expand::handler(tokens(r#""greet""#), tokens(item)).to_string();
    assert!(!output.contains("compile_error"), "{output}");
    assert!(output.starts_with(&tokens(item).to_string()), "{output}");
    assert_eq!(output.matches("fn greet").count(), 1, "{output}");
}

#[test]
fn registry_reports_exactly_the_wrong_inputs() {
    let valid = [
        "static COMMANDS: Registry<fn(&str) -> String>;",
        "pub static COMMANDS: handler_registry::Registry<fn() -> BoxFuture<'static, ()>>;",
        "/// Docs.\n#[allow(unused)] pub(crate) static COMMANDS: Registry<u8>;",
        "static COMMANDS: Registry<u8, u16>;",
        "static HOOKS: Registry<Arc<dyn Fn(u8) + Send + Sync>, Access>;",
    ];
    let invalid = [
        "",
        "static",
        "static COMMANDS",
        "static COMMANDS: Registry<u8>",
        "static mut COMMANDS: Registry<u8>;",
        "static COMMANDS: Registry<u8> = Registry::new();",
        "static COMMANDS: Registry;",
        "static COMMANDS: Registry<u8, u16, u32>;",
        "static COMMANDS: Registry<u8, 'a>;",
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
        let args = [
            ("", true),
            ("crate = hr", true),
            ("crate = ::a::hr,", true),
            ("x", false),
            ("a = 1", false),
            ("crate", false),
            ("crate = \"hr\"", false),
            ("crate = hr, crate = hr", false),
            ("crate = hr, x = 1", false),
        ];
        for (args, args_valid) in args {
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

/// The crates an expansion names in a path other than the crate path: `handler_registry` if any
/// path bypasses it.
fn runtime_roots(output: &TokenStream) -> Vec<String> {
    let text = output.to_string();
    [
        "handler_registry ::",
        "registry_core ::",
        "registry_macros ::",
    ]
    .into_iter()
    .filter(|root| text.contains(root))
    .map(str::to_owned)
    .collect()
}

#[test]
fn every_path_goes_through_the_crate_path() {
    let items = [
        (
            r#""greet", crate = hr"#,
            "fn greet(x: &str) -> String { x.into() }",
        ),
        (
            r#""greet", crate = hr"#,
            "async fn greet(x: String) -> String { x }",
        ),
        (
            r#""greet", crate = hr, registry = COMMANDS"#,
            "fn greet(x: &str) -> String { x.into() }",
        ),
        (
            r#""greet", crate = hr, registry = a::COMMANDS"#,
            "async unsafe fn greet(x: String) -> String { x }",
        ),
        (r#""greet", crate = hr"#, "#[dynamic] fn greet() {}"),
    ];
    for (args, item) in items {
        let output = expand::handler(tokens(args), tokens(item));
        assert!(!has_error(&output), "{output}");
        assert!(output.to_string().contains("hr :: __private"), "{output}");
        assert_eq!(runtime_roots(&output), Vec::<String>::new(), "{output}");
    }
    for item in [
        "static COMMANDS: Registry<fn(&str) -> String>;",
        "static HOOKS: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;",
    ] {
        let output = expand::registry(tokens("crate = hr"), tokens(item));
        assert!(!has_error(&output), "{output}");
        assert!(output.to_string().contains("hr :: __private"), "{output}");
        assert_eq!(runtime_roots(&output), Vec::<String>::new(), "{output}");
    }
}

#[test]
fn dynamic_keeps_the_crate_option() {
    let output = expand::dynamic(
        tokens(""),
        tokens(r#"#[hr::handler("greet", crate = hr, registry = R)] fn greet() {}"#),
    );
    assert_eq!(
        output.to_string(),
        tokens(r#"#[hr::handler("greet", crate = hr, registry = R, dynamic)] fn greet() {}"#)
            .to_string()
    );
}

#[test]
fn a_function_naming_self_is_not_a_free_function() {
    for item in [
        "fn new() -> Self { Self }",
        "fn merge(a: Self, b: Vec<Self>) {}",
        "fn get(x: &<Self as Tr>::Item) {}",
    ] {
        let output = expand::handler(tokens(r#""greet""#), tokens(item)).to_string();
        assert!(
            output.contains("not an associated function inside an `impl` block"),
            "{item}\n=> {output}"
        );
    }
}
