use handler_registry::handler;

struct Commands;

#[handler("greet", registry = crate::Commands)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    let _ = Commands;
    assert_eq!(greet("you"), "hello you");
}
