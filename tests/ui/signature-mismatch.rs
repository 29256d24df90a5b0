use handler_registry::{handler, registry, Registry};

#[registry]
static COMMANDS: Registry<fn(&str) -> String>;

#[handler("double", registry = COMMANDS)]
fn double(x: i32) -> i32 {
    x * 2
}

fn main() {
    assert_eq!(double(2), 4);
}
