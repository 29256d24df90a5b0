use handler_registry::handler;

#[handler("greet", aliases = [], aliases = ["hi"])]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
}
