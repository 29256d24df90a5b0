//! A crate with one handler in the default registry that the link check depends on but never
//! names: the linker leaves it out, so its handler is absent and `require` must say so.

use handler_registry::handler;

/// Answers 7; present only in binaries that refer to this crate.
#[handler("link.unreferenced")]
fn unreferenced() -> u32 {
    7
}
