//! An application on top of the framework: its handlers use the attributes the framework
//! re-exports, pointed at the framework's re-export of handler-registry.

use framework::{dynamic, handler, registry, Registry};

/// Greet someone: added to the framework's registry.
#[handler(
    "app.greet",
    crate = framework::__hr,
    registry = framework::COMMANDS,
    aliases = ["app.hi"]
)]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

/// Replaceable at run time.
#[dynamic]
#[handler("app.shout", crate = framework::__hr, registry = framework::COMMANDS)]
fn shout(text: &str) -> String {
    text.to_uppercase()
}

framework::command!(
    "app.count",
    fn count(text: &str) -> String {
        text.split_whitespace().count().to_string()
    }
);

framework::job!(
    "app.square",
    async fn square(x: u32) -> u32 {
        x * x
    }
);

/// The application's own registry, declared with the framework's re-export.
#[registry(crate = framework::__hr)]
pub static FILTERS: Registry<fn(&str) -> String>;

#[handler("trim", crate = ::framework::__hr, registry = FILTERS)]
fn trim(text: &str) -> String {
    text.trim().to_owned()
}

/// The default registry, reached through the framework too.
#[handler("app.answer", crate = framework::__hr)]
fn answer() -> u32 {
    42
}
