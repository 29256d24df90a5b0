use handler_registry::handler;

#[handler("show")]
fn show(value: impl std::fmt::Display) -> String {
    value.to_string()
}

fn main() {
    assert_eq!(show(42), "42");
}
