//! Handlers spread over several modules (so that with many codegen units they land in separate
//! object files), none of them referred to by name: the only way in is the registry [`TOOLS`].
//! `tests/linked.rs` checks that every one is collected whatever the build profile.

use handler_registry::{registry, Registry};

/// The registry the link check looks handlers up in.
#[registry]
pub static TOOLS: Registry<fn(u32) -> u32>;

mod arithmetic {
    use handler_registry::handler;

    #[handler("add_one", registry = super::TOOLS, aliases = ["inc"])]
    fn add_one(x: u32) -> u32 {
        x + 1
    }

    #[handler("double", registry = super::TOOLS)]
    fn double(x: u32) -> u32 {
        x * 2
    }
}

mod bits {
    use handler_registry::{dynamic, handler};

    #[handler("flip", registry = super::TOOLS)]
    #[dynamic]
    fn flip(x: u32) -> u32 {
        !x
    }

    pub(crate) mod deeper {
        use handler_registry::handler;

        #[handler("shift", registry = crate::TOOLS)]
        fn shift(x: u32) -> u32 {
            x << 4
        }
    }
}

mod default_registry {
    use handler_registry::handler;

    /// In the default registry, which lives in registry-core, not in this crate.
    #[handler("link.square")]
    fn square(x: u64) -> u64 {
        x * x
    }
}
