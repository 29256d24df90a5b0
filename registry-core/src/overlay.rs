//! The overlay: `#[dynamic]` names and names added at run time, in a map behind the registry's
//! `RwLock`. Each installed handler sits in its own `Arc<Live<F, M>>`, so a call can keep the
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
pub(crate) struct Overlay<F, M> {
    map: Option<Installed<F, M>>,
    /// The last version of every removed name (a tombstone), so that versions never go
    /// backwards: a stale offer is refused whatever happened in between, and `register` of a
    /// removed name continues from its last version. It costs one entry (the name and a
    /// `u64`) per distinct name ever removed, kept for the life of the registry.
    removed: Option<HashMap<Box<str>, u64, RandomState>>,
}

/// The installed handlers by overlay key.
type Installed<F, M> = HashMap<Box<str>, Arc<Live<F, M>>, RandomState>;

/// What a name holds in the overlay.
pub(crate) enum Current<'a, F, M> {
    Installed(&'a Live<F, M>),
    /// Removed at this version.
    Removed(u64),
    Never,
}

/// One installed handler. Immutable once installed: a replacement is a new `Live`.
pub(crate) struct Live<F, M> {
    pub(crate) handler: F,
    /// The metadata: the declaration's, or the one given to `register_with_meta`; a
    /// replacement keeps it.
    pub(crate) meta: M,
    /// The overlay key: the primary name (aliases of a `#[dynamic]` declaration write through
    /// to it) or the run-time name.
    pub(crate) name: Box<str>,
    pub(crate) version: u64,
    pub(crate) location: Location,
    /// Index of the `#[dynamic]` declaration owning this name, if any.
    pub(crate) declared: Option<u32>,
}

impl<F, M> Overlay<F, M> {
    pub(crate) const fn new() -> Self {
        Overlay {
            map: None,
            removed: None,
        }
    }

    /// The installed handler of `name`, or the version it had when it was removed.
    pub(crate) fn current(&self, name: &str) -> Current<'_, F, M> {
        if let Some(live) = self.get(name) {
            return Current::Installed(live);
        }
        match self.removed.as_ref().and_then(|removed| removed.get(name)) {
            Some(&version) => Current::Removed(version),
            None => Current::Never,
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<Live<F, M>>> {
        self.map.as_ref()?.get(name)
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Arc<Live<F, M>>> {
        self.map.as_mut()?.get_mut(name)
    }

    pub(crate) fn insert(&mut self, live: Live<F, M>) {
        if let Some(removed) = &mut self.removed {
            removed.remove(&*live.name);
        }
        self.map
            .get_or_insert_with(HashMap::default)
            .insert(live.name.clone(), Arc::new(live));
    }

    /// Removes `name`, leaving its version as a tombstone.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Arc<Live<F, M>>> {
        let live = self.map.as_mut()?.remove(name)?;
        self.removed
            .get_or_insert_with(HashMap::default)
            .insert(live.name.clone(), live.version);
        Some(live)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<Live<F, M>>> {
        self.map.iter().flat_map(HashMap::values)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.as_ref().map_or(0, HashMap::len)
    }
}
