use handler_registry::{handler, registry, Registry};

#[registry]
static COMMANDS: Registry<fn(&str) -> String>;

#[handler(registry = COMMANDS, "greet")]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
    assert!(COMMANDS.is_empty());
}
