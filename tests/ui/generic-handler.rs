use handler_registry::handler;

#[handler("show")]
fn show<T: std::fmt::Display>(value: T) -> String {
    value.to_string()
}

fn main() {
    assert_eq!(show(42), "42");
}
