use handler_registry::handler;

static COMMANDS: Vec<fn(&str) -> String> = Vec::new();

#[handler("greet", registry = COMMANDS)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    assert_eq!(greet("you"), "hello you");
    assert!(COMMANDS.is_empty());
}
