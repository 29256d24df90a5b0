//! A registry whose handler type is spelled through a `type` alias accepts `#[handler]`
//! functions: the type's hidden `HandlerDecl` gives the signature the macro cannot read.

use std::sync::Arc;

use handler_registry::{handler, registry, Registry};

type Hook = Arc<dyn Fn(&str) -> String + Send + Sync>;

#[registry]
static HOOKS: Registry<Hook>;

#[handler("x", registry = HOOKS)]
fn x(s: &str) -> String {
    format!("x({s})")
}

type Op = fn(i64, &i64) -> i64;

#[registry]
static OPS: Registry<Op, u8>;

#[handler("add", registry = OPS, meta = 7)]
fn add(a: i64, b: &i64) -> i64 {
    a + b
}

/// A registry of a type no `#[handler]` can target is still declared, and holds what is
/// registered at run time.
#[derive(Clone)]
struct Plain(u32);

#[registry]
static PLAIN: Registry<Plain>;

#[test]
fn an_aliased_owned_registry_wraps_declared_functions_beside_closures() {
    let suffix = String::from("!");
    HOOKS
        .register("y", Arc::new(move |s: &str| format!("y({s}){suffix}")))
        .unwrap();
    assert_eq!(HOOKS.call("x", |x| x("a")).unwrap(), "x(a)");
    assert_eq!(HOOKS.call("y", |y| y("b")).unwrap(), "y(b)!");
}

#[test]
fn an_aliased_fn_pointer_registry_keeps_its_metadata() {
    let (add, meta) = OPS.get_with_meta("add").unwrap();
    assert_eq!((add(2, &3), meta), (5, 7));
}

#[test]
fn a_registry_of_other_handlers_needs_no_handler_decl() {
    PLAIN.register("one", Plain(1)).unwrap();
    assert_eq!(PLAIN.get("one").map(|plain| plain.0), Some(1));
    assert_eq!(PLAIN.len(), 1);
}

mod mutable_context {
    use handler_registry::{handler, registry, Registry};

    /// A handler shape common in command frameworks: a mutable context first.
    type Command = fn(&mut Vec<String>, &str) -> usize;

    #[registry]
    static COMMANDS: Registry<Command>;

    #[handler("push", registry = COMMANDS)]
    fn push(log: &mut Vec<String>, line: &str) -> usize {
        log.push(line.to_owned());
        log.len()
    }

    #[test]
    fn an_alias_with_a_mutable_first_argument_takes_handlers() {
        let mut log = Vec::new();
        let push = COMMANDS.get("push").unwrap();
        assert_eq!(push(&mut log, "a"), 1);
        assert_eq!(push(&mut log, "b"), 2);
        assert_eq!(log, ["a", "b"]);
    }
}
