use handler_registry::{handler, registry, Registry};

#[registry]
static COMMANDS: Registry<fn(String) -> String>;

#[handler("greet", registry = COMMANDS)]
async fn greet(who: String) -> String {
    format!("hello {who}")
}

fn main() {
    let _future = greet("you".into());
}
