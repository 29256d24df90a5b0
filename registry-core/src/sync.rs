//! The synchronisation primitives the overlay uses, in one place so that loom can swap them.

pub(crate) use parking_lot::RwLock;
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
