use handler_registry::{registry, Registry};

#[registry(name = "commands")]
static COMMANDS: Registry<fn(&str) -> String>;

fn main() {
    assert!(COMMANDS.is_empty());
}
