use handler_registry::{registry, Registry};

#[registry]
static COMMANDS: Registry<fn(&str) -> String> = Registry::new();

fn main() {}
