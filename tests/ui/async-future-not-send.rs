use std::rc::Rc;

use handler_registry::handler;

async fn tick() {}

#[handler("count")]
async fn count(start: u32) -> u32 {
    let counter = Rc::new(start);
    tick().await;
    *counter + 1
}

fn main() {
    let _future = count(1);
}
