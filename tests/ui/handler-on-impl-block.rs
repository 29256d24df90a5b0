use handler_registry::handler;

struct Greeter;

#[handler("greeter")]
impl Greeter {
    fn greet(&self, who: &str) -> String {
        format!("hello {who}")
    }
}

fn main() {
    assert_eq!(Greeter.greet("you"), "hello you");
}
