use std::sync::Arc;

use handler_registry::{handler, registry, Registry};

type Hook = Arc<dyn Fn(&str, &str, &str, &str, &str) -> String + Send + Sync>;

#[registry]
static HOOKS: Registry<Hook>;

#[handler("join", registry = HOOKS)]
fn join(a: &str, b: &str, c: &str, d: &str, e: &str) -> String {
    [a, b, c, d, e].concat()
}

fn main() {
    assert_eq!(join("a", "b", "c", "d", "e"), "abcde");
}
