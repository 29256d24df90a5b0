use handler_registry::handler;

#[handler("greet", crate = "handler_registry")]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
}
