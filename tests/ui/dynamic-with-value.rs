use handler_registry::handler;

#[handler("greet", dynamic = true)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
}
