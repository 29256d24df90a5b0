use handler_registry::{handler, registry, Registry};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Access {
    Public,
    Admin,
}

#[registry]
static METHODS: Registry<fn(u32) -> u32, Access>;

#[handler("m.double", registry = METHODS, meta = "public")]
fn double(x: u32) -> u32 {
    x * 2
}

fn main() {
    assert!(METHODS.get_with_meta("m.double").is_some());
    let _ = (Access::Public, Access::Admin);
}
