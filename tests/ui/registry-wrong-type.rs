use handler_registry::registry;

#[registry]
static COMMANDS: Vec<fn(&str) -> String>;

fn main() {}
