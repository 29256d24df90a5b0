use handler_registry::handler;

#[handler("greeter")]
struct Greeter {
    greeting: String,
}

fn main() {
    let greeter = Greeter { greeting: "hello".into() };
    assert_eq!(greeter.greeting, "hello");
}
