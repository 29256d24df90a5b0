use handler_registry::handler;

#[handler("double")]
async extern "C" fn double(x: u32) -> u32 {
    x * 2
}

fn main() {
    let _future = double(2);
}
