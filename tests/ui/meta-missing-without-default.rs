use handler_registry::{handler, registry, Registry};

/// No `Default`: every handler of the registry must give its access.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Access {
    Public,
    Admin,
}

#[registry]
static METHODS: Registry<fn(u32) -> u32, Access>;

#[handler("m.public", registry = METHODS, meta = Access::Public)]
fn public(x: u32) -> u32 {
    x
}

#[handler("m.reset", registry = METHODS)]
fn reset(_: u32) -> u32 {
    0
}

fn main() {
    assert!(METHODS.get_with_meta("m.reset").is_some());
    let _ = Access::Admin;
}
