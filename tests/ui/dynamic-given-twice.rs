use handler_registry::{dynamic, handler};

#[handler("greet", dynamic)]
#[dynamic]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
}
