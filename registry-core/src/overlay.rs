//! The overlay: `#[dynamic]` names and names added at run time, in a map behind the registry's
//! `RwLock`. Each installed handler sits in its own `Arc<Live<F>>`, so a call can keep the
//! handler it started on after the lock is released and the name is replaced or removed; when
//! that handler is retired is decided in `drain.rs`.

use std::collections::HashMap;
use std::hash::RandomState;
use std::sync::Arc;

use crate::error::Location;

/// The run-time names. They may come from untrusted input, so the map hashes with std's
/// `RandomState` (SipHash-1-3 under random per-process keys): nobody can pick names that
/// collide and turn it into a list.
///
/// The frozen table needs no random seed: it is built once from the names the program
/// declares and never takes a key at run time, so an outside name can only be looked up (one
/// hash of the name and a probe whose length the build fixed), never make the table slower.
pub(crate) struct Overlay<F> {
    map: Option<HashMap<Box<str>, Arc<Live<F>>, RandomState>>,
}

/// One installed handler. Immutable once installed: a replacement is a new `Live`.
pub(crate) struct Live<F> {
    pub(crate) handler: F,
    /// The overlay key: the primary name (aliases of a `#[dynamic]` declaration write through
    /// to it) or the run-time name.
    pub(crate) name: Box<str>,
    pub(crate) version: u64,
    pub(crate) location: Location,
    /// Index of the `#[dynamic]` declaration owning this name, if any.
    pub(crate) declared: Option<u32>,
}

impl<F> Overlay<F> {
    pub(crate) const fn new() -> Self {
        Overlay { map: None }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<Live<F>>> {
        self.map.as_ref()?.get(name)
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Arc<Live<F>>> {
        self.map.as_mut()?.get_mut(name)
    }

    pub(crate) fn insert(&mut self, live: Live<F>) {
        self.map
            .get_or_insert_with(HashMap::default)
            .insert(live.name.clone(), Arc::new(live));
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<Arc<Live<F>>> {
        self.map.as_mut()?.remove(name)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<Live<F>>> {
        self.map.iter().flat_map(HashMap::values)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.as_ref().map_or(0, HashMap::len)
    }
}
