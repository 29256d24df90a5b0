use handler_registry::handler;

#[handler("greet")]
async fn greet(who: &str) -> String {
    format!("hello {who}")
}

fn main() {
    let _future = greet("you");
}
