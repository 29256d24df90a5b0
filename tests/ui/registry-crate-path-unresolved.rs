use handler_registry::{registry, Registry};

#[registry(crate = not_a_crate)]
static COMMANDS: Registry<fn(&str) -> String>;

fn main() {
    assert!(COMMANDS.is_empty());
}
