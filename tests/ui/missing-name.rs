use handler_registry::handler;

#[handler]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    // The function is still emitted: calling it adds no error.
    assert_eq!(greet("you"), "hello you");
}
