//! A framework that hands handler-registry's attributes to its users. They depend on this crate
//! alone, so the expansion cannot reach `::handler_registry`: they write
//! `crate = framework::__hr`, or use [`command!`] and [`job!`], which write it for them.

pub use handler_registry::{dynamic, handler, registry, BoxFuture, Registry};

/// The path the attributes are given as `crate = …` in crates that depend on this one.
#[doc(hidden)]
pub use handler_registry as __hr;

/// The framework's commands: its users add to them with
/// `#[handler("name", crate = framework::__hr, registry = framework::COMMANDS)]`.
#[registry]
pub static COMMANDS: Registry<fn(&str) -> String>;

/// The framework's background jobs, async: added to with [`job!`].
#[registry]
pub static JOBS: Registry<fn(u32) -> BoxFuture<'static, u32>>;

/// A command of the framework's own.
#[handler("version", registry = COMMANDS)]
fn version(_: &str) -> String {
    "1.0".to_owned()
}

/// Runs the command `name`, as the framework would on a request.
pub fn run(name: &str, input: &str) -> Option<String> {
    COMMANDS.get(name).map(|command| command(input))
}

/// Declares a command without naming handler-registry: `command!("name", fn …)`. The macro
/// passes `crate = $crate::__hr`, which resolves wherever the macro is used.
#[macro_export]
macro_rules! command {
    ($name:literal, $($function:tt)*) => {
        #[$crate::handler($name, crate = $crate::__hr, registry = $crate::COMMANDS)]
        $($function)*
    };
}

/// Declares an async job: `job!("name", async fn …)`, with `crate = $crate::__hr` as
/// [`command!`].
#[macro_export]
macro_rules! job {
    ($name:literal, $($function:tt)*) => {
        #[$crate::handler($name, crate = $crate::__hr, registry = $crate::JOBS)]
        $($function)*
    };
}
