use handler_registry::handler;

#[handler("", regsitry = COMMANDS, aliases = ["hi", "hi"])]
fn greet<T>(who: T) -> T {
    who
}

fn main() {
    assert_eq!(greet(1), 1);
}
