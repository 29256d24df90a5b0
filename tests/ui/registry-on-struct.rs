use handler_registry::registry;

#[registry]
struct Commands;

fn main() {}
