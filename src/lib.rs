//! Placeholder, replaced below.
pub use registry_core::*;
pub use registry_macros::{dynamic, handler, registry};
