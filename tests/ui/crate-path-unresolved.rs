use handler_registry::handler;

#[handler("greet", crate = not_a_crate)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
}
