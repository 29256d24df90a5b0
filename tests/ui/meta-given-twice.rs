use handler_registry::{handler, registry, Registry};

#[registry]
static LEVELS: Registry<fn() -> u8, u8>;

#[handler("level", registry = LEVELS, meta = 1, meta = 2)]
fn level() -> u8 {
    7
}

fn main() {
    assert!(LEVELS.contains("level"));
}
