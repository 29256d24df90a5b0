use handler_registry::handler;

#[handler("greeting")]
const GREETING: &str = "hello";

fn main() {
    assert_eq!(GREETING, "hello");
}
