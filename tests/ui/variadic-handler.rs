use handler_registry::handler;

// Defining a C-variadic function is itself unstable, so rustc adds its own error (E0658).
#[handler("sum")]
unsafe extern "C" fn sum(count: usize, _args: ...) -> usize {
    count
}

fn main() {}
