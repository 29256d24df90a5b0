use handler_registry::handler;

#[handler("count")]
async fn count<'a>(items: Vec<u32>) -> usize {
    items.len()
}

fn main() {
    let _future = count(Vec::new());
}
