use std::sync::Arc;

use handler_registry::{handler, registry, Registry};

#[registry]
static HOOKS: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;

#[handler("count", registry = HOOKS)]
fn count(line: &str) -> usize {
    line.len()
}

fn main() {
    assert_eq!(count("abc"), 3);
}
