//! The overlay: `#[dynamic]` names and names added at run time, in a map behind the registry's
//! sharded reader-writer lock. Each installed handler sits in its own `Arc<Live<F, M>>` with a
//! hold count, so a call can keep the handler it started on after the lock is released and the
//! name is replaced or removed; holds, retiring and dropping are in `drain.rs`.

use std::any::Any;
use std::collections::HashMap;
use std::hash::RandomState;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use crate::drain::Holds;
use crate::error::Location;
use crate::suggest::LiveIndex;

/// The run-time names. They may come from untrusted input, so the map of installed handlers
/// hashes with foldhash under a random seed of its own (made when the map is), and the
/// tombstones with std's `RandomState` (SipHash-1-3 under random keys): names that collide
/// cannot be picked without knowing the seed. foldhash is the hash hashbrown uses by default;
/// it is "minimally DoS-resistant" (its own words): a seed it never reveals, but not a
/// cryptographic guarantee against an attacker who can time many lookups. It costs a third of
/// `SipHash` on a lookup of a run-time name (BENCHMARKS.md), which is on every read path.
///
/// The frozen table needs no random seed: it is built once from the names the program
/// declares and never takes a key at run time, so an outside name can only be looked up (one
/// hash of the name and a probe whose length the build fixed), never make the table slower.
///
/// The map holds each `Live<F, M>` behind a type-erased `Arc`, so that its code (hashing,
/// probing, growing, dropping) is compiled once for every registry type instead of once per
/// handler type; the typed accessors below restore the type.
pub(crate) struct Overlay<F, M> {
    map: Option<Installed>,
    /// The last versions of removed names (see [`Tombstones`]).
    removed: Option<Tombstones>,
    /// The run-time names (not those of `#[dynamic]` declarations, which the frozen table's
    /// index holds), indexed for "did you mean": built by the first miss that asks (under the
    /// read lock), then kept up to date by every change (under the write lock), so that
    /// registering costs nothing more until a miss has needed it.
    runtime: OnceLock<LiveIndex>,
    handlers: PhantomData<fn() -> Live<F, M>>,
}

/// How many removed names the overlay remembers by name, at most.
pub(crate) const TOMBSTONES: usize = 16_384;

/// The last version of removed names, so that versions never go backwards: a stale offer is
/// refused whatever happened in between, and `register` of a removed name continues from its
/// last version. Bounded, so that names that come and go (a million of them) cannot grow it
/// without end: up to [`TOMBSTONES`] names are remembered each with its version; when that
/// many are, they are all forgotten at once and only the highest of their versions is kept as
/// a floor, which every name not remembered is then taken to have been removed at. A version
/// still never goes backwards (the floor is at least the last version of every forgotten
/// name); what is lost is only that a fresh name then starts past the floor instead of at 0.
/// At most 16,384 names of at most 256 bytes and their table: under 8 MiB.
struct Tombstones {
    names: HashMap<Box<str>, u64, RandomState>,
    floor: Option<u64>,
}

impl Tombstones {
    fn version_of(&self, name: &str) -> Option<u64> {
        self.names.get(name).copied().or(self.floor)
    }

    fn remember(&mut self, name: &str, version: u64) {
        if self.names.len() >= TOMBSTONES && !self.names.contains_key(name) {
            let highest = self.names.values().copied().max();
            self.floor = self.floor.max(highest);
            self.names.clear();
        }
        self.names.insert(Box::from(name), version);
    }
}

/// An installed `Live<F, M>`, its type erased.
type Erased = Arc<dyn Any + Send + Sync>;

/// The installed handlers by overlay key.
type Installed = HashMap<Box<str>, Erased, foldhash::fast::RandomState>;

/// The `Live<F, M>` behind a value of the map of an `Overlay<F, M>`.
#[inline]
fn typed<F: 'static, M: 'static>(value: &Erased) -> &Live<F, M> {
    debug_assert!(value.is::<Live<F, M>>());
    // SAFETY: an `Overlay<F, M>` puts only `Live<F, M>` values in its map (`insert`, `swap`),
    // and `Arc::as_ptr` points at the value.
    unsafe { &*Arc::as_ptr(value).cast::<Live<F, M>>() }
}

/// A value of the map of an `Overlay<F, M>`, as the `Arc<Live<F, M>>` it was made from.
fn owned<F: 'static, M: 'static>(value: Erased) -> Arc<Live<F, M>> {
    debug_assert!(value.is::<Live<F, M>>());
    // SAFETY: as in `typed`: the pointer `into_raw` gives back is that of an `Arc<Live<F, M>>`
    // coerced to `Erased`, to a value of this type.
    unsafe { Arc::from_raw(Arc::into_raw(value).cast::<Live<F, M>>()) }
}

/// What a name holds in the overlay.
pub(crate) enum Current<'a, F, M> {
    Installed(&'a Live<F, M>),
    /// Removed at this version.
    Removed(u64),
    Never,
}

impl<F, M> Current<'_, F, M> {
    /// The name's last version: installed, or removed at; `None` if it never had one.
    pub(crate) fn last(&self) -> Option<u64> {
        match self {
            Current::Installed(live) => Some(live.version),
            Current::Removed(last) => Some(*last),
            Current::Never => None,
        }
    }
}

/// One installed handler. Immutable once installed (but for its hold count): a replacement is
/// a new `Live`.
pub(crate) struct Live<F, M> {
    pub(crate) handler: F,
    /// The metadata: the declaration's, or the one given to `register_with_meta`; a
    /// replacement shares it (no `M::clone`, which is the user's code, under the lock).
    pub(crate) meta: Arc<M>,
    /// The overlay key: the primary name (aliases of a `#[dynamic]` declaration write through
    /// to it) or the run-time name. Shared, so that "did you mean" copies the run-time names
    /// under the read lock without allocating.
    pub(crate) name: Arc<str>,
    pub(crate) version: u64,
    pub(crate) location: Location,
    /// Index of the `#[dynamic]` declaration owning this name, if any.
    pub(crate) declared: Option<u32>,
    /// Who holds it outside the lock (src/drain.rs).
    pub(crate) holds: Holds,
}

impl<F, M> Overlay<F, M> {
    pub(crate) const fn new() -> Self {
        Overlay {
            map: None,
            removed: None,
            runtime: OnceLock::new(),
            handlers: PhantomData,
        }
    }

    /// Whether a handler is installed under `name`.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.map.as_ref().is_some_and(|map| map.contains_key(name))
    }
}

impl<F: Send + Sync + 'static, M: Send + Sync + 'static> Overlay<F, M> {
    /// The installed handler of `name`, or the version it had when it was removed.
    pub(crate) fn current(&self, name: &str) -> Current<'_, F, M> {
        if let Some(live) = self.get(name) {
            return Current::Installed(live);
        }
        match self
            .removed
            .as_ref()
            .and_then(|removed| removed.version_of(name))
        {
            Some(version) => Current::Removed(version),
            None => Current::Never,
        }
    }

    /// The run-time names that may be within one edit of `name`.
    pub(crate) fn runtime_near(&self, name: &str) -> Vec<Arc<str>> {
        self.runtime
            .get_or_init(|| {
                let mut index = LiveIndex::default();
                for name in self.runtime_names() {
                    index.insert(name);
                }
                index
            })
            .near(name)
    }

    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<&Live<F, M>> {
        self.map.as_ref()?.get(name).map(typed)
    }

    pub(crate) fn insert(&mut self, live: Live<F, M>) {
        if let Some(removed) = &mut self.removed {
            removed.names.remove(&*live.name);
        }
        if let (None, Some(index)) = (live.declared, self.runtime.get_mut()) {
            index.insert(&live.name);
        }
        let name = Box::from(&*live.name);
        self.map
            .get_or_insert_with(HashMap::default)
            .insert(name, Arc::new(live));
    }

    /// Installs `live` in place of the installed handler of its name and returns that one;
    /// gives `live` back if none is installed.
    pub(crate) fn swap(&mut self, live: Live<F, M>) -> Result<Arc<Live<F, M>>, Live<F, M>> {
        match self.map.as_mut().and_then(|map| map.get_mut(&*live.name)) {
            Some(slot) => Ok(owned(std::mem::replace(slot, Arc::new(live)))),
            None => Err(live),
        }
    }

    /// Removes `name`, leaving its version as a tombstone.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Arc<Live<F, M>>> {
        let live: Arc<Live<F, M>> = owned(self.map.as_mut()?.remove(name)?);
        if let (None, Some(index)) = (live.declared, self.runtime.get_mut()) {
            index.remove(name);
        }
        self.removed
            .get_or_insert_with(|| Tombstones {
                names: HashMap::default(),
                floor: None,
            })
            .remember(&live.name, live.version);
        Some(live)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Live<F, M>> {
        self.map.iter().flat_map(HashMap::values).map(typed)
    }

    /// The names registered at run time (not those of `#[dynamic]` declarations).
    pub(crate) fn runtime_names(&self) -> impl Iterator<Item = &Arc<str>> {
        self.iter()
            .filter(|live| live.declared.is_none())
            .map(|live| &live.name)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.as_ref().map_or(0, HashMap::len)
    }
}
