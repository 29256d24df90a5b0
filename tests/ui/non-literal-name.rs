use handler_registry::handler;

const NAME: &str = "greet";

#[handler(NAME)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    let _ = NAME;
    assert_eq!(greet("you"), "hello you");
}
