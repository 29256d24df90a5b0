use std::rc::Rc;

use handler_registry::{registry, Registry};

#[registry]
static HOOKS: Registry<Rc<dyn Fn(&str) -> String>>;

fn main() {}
