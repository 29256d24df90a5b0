use handler_registry::{registry, Registry};

// A registry hands out clones of its handlers: a `Box<dyn Fn..>` cannot be one (`Arc` can).
#[registry]
static HOOKS: Registry<Box<dyn Fn(&str) -> String + Send + Sync>>;

fn main() {
    let _ = &HOOKS;
}
