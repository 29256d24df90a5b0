use handler_registry::{dynamic, handler};

#[dynamic(version = 2)]
#[handler("greet")]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
}
