//! Handlers declared in a crate of their own: handler-registry's tests link this crate to prove
//! that declarations in a dependency are collected, and that a registry declared here can be
//! targeted from another crate by path.

use handler_registry::{dynamic, handler, registry, Registry};

/// A typed registry that other crates add handlers to.
pub mod hooks {
    use handler_registry::{registry, Registry};

    /// Hooks turning a number into another.
    #[registry]
    pub static HOOKS: Registry<fn(u32) -> u32>;
}

/// Text filters declared and filled in this crate.
#[registry]
pub static FILTERS: Registry<fn(&str) -> String>;

/// Reverse the text.
#[handler("reverse", registry = FILTERS, aliases = ["rev"])]
fn reverse(text: &str) -> String {
    text.chars().rev().collect()
}

/// Trim surrounding whitespace.
#[handler("trim", registry = FILTERS)]
#[dynamic]
fn trim(text: &str) -> String {
    text.trim().to_owned()
}

/// Double a number.
#[handler("plugin.double", registry = hooks::HOOKS)]
fn double(x: u32) -> u32 {
    x * 2
}

/// Multiply two numbers (default registry).
#[handler("plugin.mul")]
fn mul(a: u64, b: u64) -> u64 {
    a * b
}
