use handler_registry::{registry, Registry};

#[registry]
static mut COMMANDS: Registry<fn(&str) -> String>;

fn main() {}
