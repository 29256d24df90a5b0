use handler_registry::{handler, registry, Registry};

#[registry]
static COMMANDS: Registry<fn(&str) -> String>;

#[handler("greet", registry = COMMANDS, meta = 1)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert!(COMMANDS.contains("greet"));
}
