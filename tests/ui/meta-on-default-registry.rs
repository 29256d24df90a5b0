use handler_registry::handler;

#[handler("greet", meta = 1)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
}
