//! A downstream crate built, in CI, with `RUSTFLAGS="--cfg loom"` as projects build their own
//! loom tests: handler-registry keeps its normal API and behaviour under that cfg (its own
//! model-checking mode has a cfg of its own name). The tests below run in both builds.

use handler_registry::{handler, registry, Registry};

/// This crate's commands.
#[registry]
pub static COMMANDS: Registry<fn(u32) -> u32>;

/// Doubles.
#[handler("double", registry = COMMANDS)]
fn double(x: u32) -> u32 {
    x * 2
}

/// Into the default registry.
#[handler("downstream.inc")]
fn inc(x: u32) -> u32 {
    x + 1
}

/// Whether this build is the one with `--cfg loom`.
pub const BUILT_WITH_LOOM_CFG: bool = cfg!(loom);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_works_as_usual() {
        assert_eq!(COMMANDS.get("double").map(|f| f(21)), Some(42));
        assert_eq!(COMMANDS.call("double", |f| f(4)), Ok(8));
        let inc = handler_registry::lookup::<fn(u32) -> u32>("downstream.inc").unwrap();
        assert_eq!(inc(1), 2);
        let standalone: Registry<fn(u32) -> u32> = Registry::new();
        standalone.register("triple", |x| x * 3).unwrap();
        assert_eq!(standalone.call("triple", |f| f(3)), Ok(9));
        standalone.replace("triple", |x| x * 30).unwrap();
        assert_eq!(standalone.get("triple").map(|f| f(3)), Some(90));
    }

    /// Fails unless CI really built this crate with `--cfg loom` when it says it did.
    #[test]
    fn the_cfg_is_the_one_expected() {
        let expected = std::env::var_os("EXPECT_LOOM_CFG").is_some();
        assert_eq!(BUILT_WITH_LOOM_CFG, expected);
    }
}
