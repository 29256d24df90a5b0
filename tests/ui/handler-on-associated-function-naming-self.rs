use handler_registry::handler;

struct Greeter;

impl Greeter {
    #[handler("greeter.new")]
    fn new() -> Self {
        Greeter
    }
}

fn main() {
    let _ = Greeter::new();
}
