use handler_registry::handler;

#[handler("greet", registry = COMMANDS)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
}
