use handler_registry::{dynamic, handler};

#[dynamic]
#[handler("greet", dynamic)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
}
