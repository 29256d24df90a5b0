//! `Registry<F, M>`: the frozen table for declared handlers plus the overlay for changing ones.

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(
    clippy::cast_possible_truncation,
    reason = "declaration indices are u32 by design: a registry holds fewer than 2^32 declarations"
)]
#![allow(
    clippy::inline_always,
    reason = "get is only as fast as a frozen FxHash map when inlined into its caller (BENCHMARKS.md)"
)]
#![allow(
    clippy::missing_errors_doc,
    reason = "hidden conversions for the macros: no user calls them"
)]
#![allow(
    clippy::missing_fields_in_debug,
    reason = "Debug shows a summary of the registry, not its tables"
)]
#![allow(
    clippy::needless_pass_by_value,
    reason = "handlers are taken by value, as register hands them to the overlay"
)]
#![allow(
    clippy::unused_self,
    reason = "methods kept on Registry so that every lookup reads as registry.method()"
)]

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::changes::{ChangeKind, Hub};
use crate::drain::{Drain, Held, Holds};
use crate::entry::{EntryInfo, Kind, StaticEntry};
use crate::error::{validate_name, Error, Location, MAX_NAME_LEN};
use crate::frozen::{Frozen, Meta, Nearby, Slot};
use crate::overlay::{Current, Live, Overlay};
use crate::suggest::{self, Answering};
use crate::sync::{const_fn_unless_loom, AtomicUsize, OnceCell, Ordering, ShardedRwLock};

/// A registry of handlers of type `F`, looked up by name.
///
/// Declare one with `#[registry]` (link-time handlers from `#[handler]` anywhere in the program
/// are collected into it) or build a standalone one with [`Registry::new`].
///
/// `F` is any `Clone + Send + Sync` type: a fn pointer, or an owned handler such as
/// `Arc<dyn Fn(&str) -> String + Send + Sync>` whose closures carry state. A handler that is
/// replaced or removed is dropped after the last call running on it (see
/// [`drained`](Registry::drained)); [`subscribe`](Registry::subscribe) reports every change.
///
/// Names declared with `#[handler]` are frozen into an immutable table on first use (or by
/// [`freeze`](Registry::freeze)): looking them up takes no lock, writes no shared memory and
/// allocates nothing. `#[dynamic]` handlers and names added at run time live in an overlay
/// that can replace, add and remove entries, behind a reader-writer lock with a reader count
/// per shard: a lookup writes only its own thread's shard and its own thread's stripe of the
/// handler's hold count, never a cache line another reader writes, so reads of dynamic names
/// scale with cores too (writers lock every shard). A registry with no run-time names never
/// touches that lock on a miss. No code of yours (`Clone`, `Default`, `Drop` of handlers and
/// metadata, checks, wakers) runs while a lock of the registry is held: any of it may use the
/// registry.
///
/// Names from untrusted input are safe to look up and to register: the overlay hashes with a
/// randomly seeded hasher (colliding names cannot be chosen), the frozen table never takes a
/// key at run time, and "did you mean" does bounded work on a name of any length.
///
/// ```
/// # extern crate registry_core as handler_registry;
/// use handler_registry::{Error, Registry};
///
/// let math: Registry<fn(i32, i32) -> i32> = Registry::new();
/// math.register("add", |a, b| a + b)?;
/// assert_eq!(math.get("add").map(|f| f(2, 3)), Some(5));
/// assert!(matches!(math.lookup("ad"), Err(Error::NotFound { suggestion: Some(s), .. }) if s == "add"));
/// # Ok::<(), Error>(())
/// ```
pub struct Registry<F: 'static, M: 'static = ()> {
    /// How a `#[handler]` declaration becomes an `F`; `None` for a standalone registry.
    pub(crate) declarations: Option<Convert<F>>,
    pub(crate) frozen: OnceCell<Result<Frozen<F, M>, Error>>,
    /// Count of run-time names (not owned by a declaration): lets a miss skip the overlay.
    pub(crate) runtime_names: AtomicUsize,
    pub(crate) overlay: ShardedRwLock<Overlay<F, M>>,
    /// Per-name call counts and times, recorded by `call` and `call_async` (src/invoke.rs).
    pub(crate) metrics: crate::metrics::Metrics,
    /// Retired handlers and the calls still running on them (src/drain.rs).
    pub(crate) drain: Drain<F, M>,
    /// Subscribers to changes (src/changes.rs).
    pub(crate) changes: Hub,
    /// Test doubles (src/mock.rs).
    #[cfg(feature = "testing")]
    pub(crate) mocks: crate::mock::Mocks,
}

/// The metadata of a name being installed: given, or kept (the installed handler's, or the
/// `#[dynamic]` declaration's) and otherwise the default.
enum NewMeta<M> {
    Given(M),
    Default(fn() -> M),
}

/// Turns the value a `#[handler]` declaration submitted (the function, coerced to the
/// registry's declaration type) into the registry's handler type; `None` if it has another
/// type.
#[doc(hidden)]
pub type Convert<F> = fn(&'static (dyn Any + Send + Sync)) -> Option<F>;

/// A declaration's metadata: an `M`, or `M::default` for a `#[handler]` without `meta = …`.
fn declared_meta<M: Clone + 'static>(declared: &'static (dyn Any + Send + Sync)) -> Option<M> {
    if let Some(meta) = declared.downcast_ref::<M>() {
        return Some(meta.clone());
    }
    declared
        .downcast_ref::<fn() -> M>()
        .map(|default| default())
}

/// What a declaration of a registry of `F` with metadata `M` must hold, for
/// [`Error::MistypedDeclaration`].
fn mistyped_expectation<F, M: 'static>() -> &'static str {
    if std::any::TypeId::of::<M>() == std::any::TypeId::of::<()>() {
        std::any::type_name::<F>()
    } else {
        std::any::type_name::<(F, M)>()
    }
}

/// The error for a declaration whose value is not of the registry's declaration type
/// `expected`.
#[cold]
fn mistyped(entry: &StaticEntry, expected: &'static str) -> Error {
    Error::MistypedDeclaration {
        name: entry.name.to_owned(),
        expected,
        location: entry.location(),
    }
}

/// The `#[handler]` declarations that target the registry at `registry`, in link order.
fn declarations_of(registry: *const ()) -> Vec<&'static StaticEntry> {
    inventory::iter::<StaticEntry>()
        .filter(|entry| std::ptr::addr_eq(entry.registry, registry))
        .collect()
}

/// The conversion of registries whose declarations are already handlers (fn pointers).
fn clone_declared<F: Clone + 'static>(declared: &'static (dyn Any + Send + Sync)) -> Option<F> {
    declared.downcast_ref::<F>().cloned()
}

impl<F: 'static, M: 'static> Registry<F, M> {
    const_fn_unless_loom! {
        /// A standalone registry with metadata of type `M`: as [`new`](Registry::new), for a
        /// `Registry<F, M>` (`new` makes a registry without metadata, so that its type is
        /// inferred from the handlers alone).
        pub const fn new_with_meta() -> Self {
            Self::with_declarations(None, "")
        }

        /// The registry behind a `#[registry]` static whose declarations are converted to
        /// handlers by `convert` (an owned handler type such as `Arc<dyn Fn(..)>`); `path` is
        /// the static's path, its label in the `metrics` feature.
        #[doc(hidden)]
        pub const fn __linked_with(convert: Convert<F>, path: &'static str) -> Self {
            Self::with_declarations(Some(convert), path)
        }

        const fn with_declarations(declarations: Option<Convert<F>>, path: &'static str) -> Self {
            Registry {
                declarations,
                frozen: OnceCell::new(),
                runtime_names: AtomicUsize::new(0),
                overlay: ShardedRwLock::new(Overlay::new),
                metrics: crate::metrics::Metrics::new(path),
                drain: Drain::new(),
                changes: Hub::new(),
                #[cfg(feature = "testing")]
                mocks: crate::mock::Mocks::new(),
            }
        }
    }

    /// The frozen table of a registry known to be frozen (one of its handlers is held).
    fn frozen_now(&self) -> &Frozen<F, M> {
        match self.frozen.get() {
            Some(Ok(frozen)) => frozen,
            _ => unreachable!("a handler is held only from a frozen registry"),
        }
    }

    /// Forgets the call counts of the run-time name `name` if no handler holds it.
    ///
    /// The overlay's read lock is held while the counts are dropped, so the name cannot be
    /// registered again between the check and the forgetting: a `register` (which takes the
    /// write lock) either came first, and the counts stay, or waits, and every call of the new
    /// handler starts, and is counted, after them.
    pub(crate) fn forget_stats_if_gone(&self, name: &str) {
        let overlay = self.overlay.read();
        if !overlay.contains(name) {
            self.metrics.forget(name);
        }
        drop(overlay);
    }

    /// The primary name of declaration `index`.
    pub(crate) fn declared_name(&self, index: u32) -> &'static str {
        self.frozen_now().entries[index as usize].name
    }

    /// How many declarations the frozen table holds.
    pub(crate) fn declarations(&self) -> usize {
        self.frozen_now().entries.len()
    }
}

impl<F: Clone + 'static, M: 'static> Registry<F, M> {
    const_fn_unless_loom! {
        /// The registry behind a `#[registry]` static: collects the `#[handler]` declarations that
        /// target it; `path` is the static's path, its label in the `metrics` feature.
        #[doc(hidden)]
        pub const fn __linked(path: &'static str) -> Self {
            Self::with_declarations(Some(clone_declared::<F>), path)
        }
    }
}

impl<F: Clone + Send + Sync + 'static, M: Clone + Send + Sync + 'static> Registry<F, M> {
    /// Builds the frozen table from the `#[handler]` declarations, if that has not happened yet.
    ///
    /// Idempotent: every call returns the outcome of the first. Call it at startup to turn
    /// duplicate names into a clean error instead of a panic at the first lookup. After a
    /// failed freeze every method that returns a `Result` returns this error, and the others
    /// ([`get`](Registry::get), [`contains`](Registry::contains), [`len`](Registry::len),
    /// [`entries`](Registry::entries), [`stats`](Registry::stats)) panic with it.
    ///
    /// Declarations are collected once, here: a `#[handler]` in a library loaded later (with
    /// `dlopen`) is not added, and unloading a library whose declarations a registry holds
    /// leaves it pointing at unmapped code, so keep such libraries loaded for the life of the
    /// process. A lookup from a constructor that runs before `main` may freeze the registry
    /// before every constructor has submitted its declaration; look names up from `main`.
    ///
    /// # Errors
    /// - [`Error::Duplicate`] listing every name declared twice, with both locations;
    /// - [`Error::InvalidName`] for a declared name that breaks the naming rules (the macros
    ///   reject those at compile time; names given to [`with_static`](Registry::with_static)
    ///   are checked here);
    /// - [`Error::MistypedDeclaration`] for a declaration whose value has another type (only a
    ///   hand-written link-time entry can cause it).
    pub fn freeze(&self) -> Result<(), Error> {
        match self.frozen.get_or_init(|| self.build()) {
            Ok(_) => Ok(()),
            Err(error) => Err(error.clone()),
        }
    }

    fn build(&self) -> Result<Frozen<F, M>, Error> {
        let Some(convert) = self.declarations else {
            return Ok(Frozen::empty());
        };
        let declared = declarations_of(std::ptr::from_ref(self).cast());
        let mut metas: Vec<Meta<F, M>> = Vec::with_capacity(declared.len());
        for entry in declared {
            let (Some(handler), Some(meta)) = (convert(entry.handler), declared_meta(entry.meta))
            else {
                return Err(mistyped(entry, mistyped_expectation::<F, M>()));
            };
            metas.push(Meta {
                name: entry.name,
                aliases: entry.aliases,
                doc: entry.doc,
                location: entry.location(),
                dynamic: entry.dynamic,
                handler,
                meta,
            });
        }
        let frozen = Frozen::build(metas)?;
        // Cloned before the lock is taken: `Clone` is the user's code.
        let dynamic: Vec<Live<F, M>> = (0..frozen.entries.len())
            .filter(|&index| frozen.entries[index].dynamic)
            .map(|index| {
                let meta = &frozen.entries[index];
                Live {
                    handler: meta.handler.clone(),
                    meta: Arc::new(meta.meta.clone()),
                    name: meta.name.into(),
                    version: 0,
                    location: meta.location,
                    declared: Some(index as u32),
                    holds: Holds::new(),
                }
            })
            .collect();
        if !dynamic.is_empty() {
            let mut overlay = self.overlay.write();
            for live in dynamic {
                overlay.insert(live);
            }
        }
        Ok(frozen)
    }

    /// The frozen table, built on first use, for the APIs without a `Result`: a registry that
    /// cannot be frozen panics here, at the caller's line.
    #[inline]
    #[track_caller]
    pub(crate) fn frozen(&self) -> &Frozen<F, M> {
        match self.frozen.get() {
            Some(Ok(frozen)) => frozen,
            _ => self.frozen_or_panic(),
        }
    }

    #[cold]
    #[track_caller]
    fn frozen_or_panic(&self) -> &Frozen<F, M> {
        match self.try_frozen_slow() {
            Ok(frozen) => frozen,
            // A `#[registry]` static is named by its path; a standalone registry by its type.
            Err(error) if self.metrics.label.is_empty() => panic!(
                "a registry of `{}` cannot be frozen: {error}\n(call `freeze()` at startup to get this as an error)",
                std::any::type_name::<F>()
            ),
            Err(error) => panic!(
                "the registry `{}` cannot be frozen: {error}\n(call `freeze()` at startup to get this as an error)",
                self.metrics.label
            ),
        }
    }

    /// The frozen table, built on first use, for the APIs that return a `Result`: a registry
    /// that cannot be frozen returns the error `freeze` reports.
    #[inline]
    pub(crate) fn try_frozen(&self) -> Result<&Frozen<F, M>, Error> {
        match self.frozen.get() {
            Some(Ok(frozen)) => Ok(frozen),
            _ => self.try_frozen_slow(),
        }
    }

    #[cold]
    fn try_frozen_slow(&self) -> Result<&Frozen<F, M>, Error> {
        self.frozen
            .get_or_init(|| self.build())
            .as_ref()
            .map_err(Error::clone)
    }

    /// The handler registered under `name` (a primary name or an alias).
    ///
    /// For declared, non-dynamic names this takes no lock, performs no atomic read-modify-write
    /// and allocates nothing; so does a miss while no name has been added at run time. For
    /// `#[dynamic]` and run-time names it reads through its thread's shard of the overlay's
    /// lock, holds the handler and clones it with the lock let go: no cache line shared with
    /// other readers is written, unless the clone itself writes one, as cloning an
    /// `Arc<dyn Fn..>` does (its count is shared): for owned handlers on a hot path, use
    /// [`call`](Registry::call), which lends the handler by reference.
    ///
    /// # Panics
    /// If the registry cannot be frozen (duplicate names among its declarations): the panic
    /// names the clashes and points at this call. Call [`freeze`](Registry::freeze) at startup
    /// to handle that as an error; [`lookup`](Registry::lookup) returns it instead.
    #[inline(always)] // the frozen lookup is only fast inlined into the caller (BENCHMARKS.md)
    #[track_caller]
    pub fn get(&self, name: &str) -> Option<F> {
        self.get_in(self.frozen(), name)
    }

    #[inline(always)]
    fn get_in(&self, frozen: &Frozen<F, M>, name: &str) -> Option<F> {
        if let Some((handler, ..)) = self.mock_for(name) {
            return Some(handler);
        }
        self.resolve(
            frozen,
            name,
            |slot| slot.handler.clone(),
            |live| live.handler.clone(),
        )
    }

    /// What `name` resolves to now, mocks aside: `fixed` reads a static name's slot, `live`
    /// the installed handler of a `#[dynamic]` or run-time name (held, with no lock held: it
    /// may run the user's `Clone`).
    #[inline(always)]
    pub(crate) fn resolve<R>(
        &self,
        frozen: &Frozen<F, M>,
        name: &str,
        fixed: impl FnOnce(&Slot<F>) -> R,
        live: impl FnOnce(&Live<F, M>) -> R,
    ) -> Option<R> {
        match frozen.find(name) {
            Some(slot) if !slot.dynamic => Some(fixed(&slot)),
            Some(slot) => self.read_live(frozen.entries[slot.entry() as usize].name, live),
            None if self.runtime_names.load(Ordering::Acquire) == 0 => None,
            None => self.read_live(name, live),
        }
    }

    /// Reads the installed handler of overlay key `key`, held (src/drain.rs) so that `read`
    /// runs with no lock held. Cold and not inlined: the static path that calls it stays small
    /// (a static miss costs 1 ns more without `cold`, benches/lookup.rs).
    #[cold]
    #[inline(never)]
    fn read_live<R>(&self, key: &str, read: impl FnOnce(&Live<F, M>) -> R) -> Option<R> {
        let held = self.hold_key(key)?;
        Some(read(held.live()))
    }

    /// Holds the installed handler of overlay key `key`: found and held under the read lock,
    /// which is let go before this returns.
    #[inline]
    fn hold_key(&self, key: &str) -> Option<Held<'_, F, M>> {
        // No installed name is longer: hostile input is turned away before it is hashed.
        if key.len() > MAX_NAME_LEN {
            return None;
        }
        let overlay = self.overlay.read();
        let live = overlay.get(key)?;
        Some(Held::take(self, live))
    }

    /// The handler registered under `name` (a primary name or an alias) and its metadata, in
    /// one lookup: the `meta = …` of its `#[handler]`, or what
    /// [`register_with_meta`](Registry::register_with_meta) was given.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::Registry;
    ///
    /// #[derive(Clone, Copy, Debug, PartialEq)]
    /// enum Access { Public, Admin }
    ///
    /// let methods: Registry<fn(u32) -> u32, Access> = Registry::new_with_meta();
    /// methods.register_with_meta("m.reset", |_| 0, Access::Admin)?;
    /// let (reset, access) = methods.get_with_meta("m.reset").unwrap();
    /// assert_eq!((reset(7), access), (0, Access::Admin));
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    ///
    /// # Panics
    /// If the registry cannot be frozen, as [`get`](Registry::get).
    #[track_caller]
    pub fn get_with_meta(&self, name: &str) -> Option<(F, M)> {
        let frozen = self.frozen();
        if let Some((handler, meta, _)) = self.mock_for(name) {
            return Some((handler, meta));
        }
        self.get_with_meta_in(frozen, name)
    }

    /// [`get_with_meta`](Registry::get_with_meta) in the frozen table `frozen`, mocks aside.
    pub(crate) fn get_with_meta_in(&self, frozen: &Frozen<F, M>, name: &str) -> Option<(F, M)> {
        self.resolve(
            frozen,
            name,
            |slot| {
                let meta = &frozen.entries[slot.entry() as usize].meta;
                (slot.handler.clone(), meta.clone())
            },
            |live| (live.handler.clone(), M::clone(&live.meta)),
        )
    }

    /// Without the `testing` feature there are no mocks: nothing to check.
    #[cfg(not(feature = "testing"))]
    #[inline(always)]
    pub(crate) fn mock_for(&self, _name: &str) -> Option<(F, M, Option<u32>)> {
        None
    }

    /// The overlay handler a call of `name` runs on, held until the call is over (so a
    /// replacement cannot drop it mid-call). The caller has looked `name` up in the frozen
    /// table and found no static name: `dynamic` is the `#[dynamic]` declaration it found, if
    /// any, whose primary name is the overlay key.
    #[cold]
    pub(crate) fn hold(&self, name: &str, dynamic: Option<u32>) -> Result<Held<'_, F, M>, Error> {
        let key = match dynamic {
            Some(entry) => self.declared_name(entry),
            None if self.runtime_names.load(Ordering::Acquire) == 0 => {
                return Err(self.not_found(name))
            }
            None => name,
        };
        match self.hold_key(key) {
            Some(held) => Ok(held),
            None => Err(self.not_found(name)),
        }
    }

    /// Like [`get`](Registry::get), but a miss is an [`Error::NotFound`] carrying the closest
    /// registered name as a suggestion.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no handler has this name; the error of
    /// [`freeze`](Registry::freeze) if the registry cannot be frozen.
    #[inline]
    pub fn lookup(&self, name: &str) -> Result<F, Error> {
        match self.get_in(self.try_frozen()?, name) {
            Some(handler) => Ok(handler),
            None => Err(self.not_found(name)),
        }
    }

    #[cold]
    pub(crate) fn not_found(&self, name: &str) -> Error {
        let nearby = self.frozen().nearby();
        let near = self.answering(nearby, Some(name));
        let suggestion = suggest::suggestion(nearby, &near, name, || self.answering(nearby, None));
        Error::not_found(name, suggestion.as_deref(), self.declared_elsewhere(name))
    }

    /// What "did you mean" needs of the overlay, copied under its read lock, which is released
    /// before any distance is computed: a flood of unknown names never stalls a writer. With
    /// `near`, only the run-time names that the overlay's index finds within one edit of it
    /// are copied; without, all of them. The lock is not taken at all without `#[dynamic]`
    /// declarations and run-time names.
    fn answering(&self, nearby: &Nearby, near: Option<&str>) -> Answering {
        let runtime = self.runtime_names.load(Ordering::Acquire) != 0;
        if nearby.dynamic.is_empty() && !runtime {
            return Answering::default();
        }
        let overlay = self.overlay.read();
        Answering {
            absent: nearby
                .dynamic
                .iter()
                .filter(|(_, primary)| overlay.get(primary).is_none())
                .map(|&(number, _)| number)
                .collect(),
            runtime: match (runtime, near) {
                (false, _) => Vec::new(),
                (true, Some(name)) => overlay.runtime_near(name),
                (true, None) => overlay.runtime_names().cloned().collect(),
            },
        }
    }

    /// Every name that resolves now (primary names and aliases), for suggestions made across
    /// registries.
    pub(crate) fn live_names(&self) -> Result<Vec<String>, Error> {
        let nearby = self.try_frozen()?.nearby();
        let live = self.answering(nearby, None);
        Ok(live
            .names(nearby)
            .map(|(name, _)| name.to_owned())
            .collect())
    }

    /// A `#[handler]` of `name` for another registry, when this one collects declarations (a
    /// standalone registry never holds them, so a declaration elsewhere is no hint for it).
    pub(crate) fn declared_elsewhere(&self, name: &str) -> Option<crate::error::DeclaredElsewhere> {
        self.declarations?;
        crate::entry::declared_elsewhere(self, name)
    }

    /// Whether `name` currently resolves to a handler.
    ///
    /// # Panics
    /// If the registry cannot be frozen, as [`get`](Registry::get).
    #[track_caller]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The number of handlers (not counting aliases), as [`entries`](Registry::entries) lists them.
    ///
    /// # Panics
    /// If the registry cannot be frozen, as [`get`](Registry::get).
    #[track_caller]
    pub fn len(&self) -> usize {
        let frozen = self.frozen();
        let fixed = frozen.entries.iter().filter(|meta| !meta.dynamic).count();
        fixed + self.overlay.read().len()
    }

    /// Whether the registry holds no handler at all.
    ///
    /// # Panics
    /// If the registry cannot be frozen, as [`get`](Registry::get).
    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A consistent snapshot of every handler, sorted by name, with the calls running on each.
    ///
    /// # Panics
    /// If the registry cannot be frozen, as [`get`](Registry::get).
    #[track_caller]
    pub fn entries(&self) -> Vec<EntryInfo<M>> {
        let frozen = self.frozen();
        let mut entries: Vec<EntryInfo<M>> = frozen
            .entries
            .iter()
            .zip(0..)
            .filter(|(meta, _)| !meta.dynamic)
            .map(|(meta, index)| EntryInfo {
                name: Cow::Borrowed(meta.name),
                aliases: meta.aliases,
                doc: meta.doc,
                location: meta.location,
                kind: Kind::Static,
                in_flight: self.metrics.running(index),
                meta: meta.meta.clone(),
            })
            .collect();
        // Held under the read lock, read after it: cloning the metadata is the user's code.
        let overlay = self.overlay.read();
        let held: Vec<Held<'_, F, M>> = overlay.iter().map(|live| Held::take(self, live)).collect();
        drop(overlay);
        entries.extend(held.iter().map(|held| {
            let live = held.live();
            let declared = live.declared.map(|index| &frozen.entries[index as usize]);
            EntryInfo {
                name: match declared {
                    Some(meta) => Cow::Borrowed(meta.name),
                    None => Cow::Owned(live.name.to_string()),
                },
                aliases: declared.map_or(&[], |meta| meta.aliases),
                doc: declared.map_or("", |meta| meta.doc),
                location: live.location,
                kind: Kind::Dynamic {
                    version: live.version,
                },
                // Less this listing's own hold.
                in_flight: live.holds.count() - 1 + self.drain.retired_in_flight(&live.name),
                meta: M::clone(&live.meta),
            }
        }));
        drop(held);
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries
    }

    /// The overlay key a write to `name` goes to, and the `#[dynamic]` declaration owning it:
    /// a declaration's primary name (aliases write through to it), or `name` itself for a
    /// run-time name. Static names refuse every write.
    fn write_target<'a>(
        &self,
        frozen: &Frozen<F, M>,
        name: &'a str,
    ) -> Result<(&'a str, Option<u32>), Error> {
        match frozen.find(name) {
            Some(slot) if !slot.dynamic => Err(Error::NotDynamic {
                name: name.to_owned(),
                location: frozen.entries[slot.entry() as usize].location,
            }),
            Some(slot) => Ok((
                frozen.entries[slot.entry() as usize].name,
                Some(slot.entry()),
            )),
            None => Ok((name, None)),
        }
    }

    /// Where the handler that `name` resolves to now was declared or installed.
    pub(crate) fn location_of(&self, name: &str) -> Option<Location> {
        let frozen = self.frozen();
        self.resolve(
            frozen,
            name,
            |slot| frozen.entries[slot.entry() as usize].location,
            |live| live.location,
        )
    }

    /// Adds a handler under `name` at run time with its metadata, as
    /// [`register`](Registry::register) does with the default metadata (the way to register
    /// in a registry whose metadata type has no default).
    ///
    /// # Errors
    /// As [`register`](Registry::register).
    #[track_caller]
    pub fn register_with_meta(&self, name: &str, handler: F, meta: M) -> Result<(), Error> {
        let location = Location::caller();
        self.install(
            name,
            location,
            |current| Self::fresh(name, current),
            handler,
            NewMeta::Given(meta),
        )?;
        Ok(())
    }

    /// Installs `handler` with its metadata under `name` only if `version` is newer, as
    /// [`register_versioned`](Registry::register_versioned) does with the default metadata
    /// (the way to do it in a registry whose metadata type has no default).
    ///
    /// The metadata given replaces the name's metadata, also when a handler is installed
    /// (unlike [`replace`](Registry::replace), which keeps it).
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{Error, Registry};
    ///
    /// let ops: Registry<fn(u8) -> u8, &'static str> = Registry::new_with_meta();
    /// ops.register_versioned_with_meta("step", 3, |x| x + 1, "v3")?;
    /// ops.register_versioned_with_meta("step", 5, |x| x + 2, "v5")?;
    /// let stale = ops.register_versioned_with_meta("step", 4, |x| x, "v4");
    /// assert!(matches!(stale, Err(Error::Stale { current: 5, offered: 4, .. })));
    /// let (step, meta) = ops.get_with_meta("step").unwrap();
    /// assert_eq!((step(1), meta), (3, "v5"));
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`register_versioned`](Registry::register_versioned).
    #[track_caller]
    pub fn register_versioned_with_meta(
        &self,
        name: &str,
        version: u64,
        handler: F,
        meta: M,
    ) -> Result<(), Error> {
        let location = Location::caller();
        self.install(
            name,
            location,
            |current| Self::newer(name, version, current),
            handler,
            NewMeta::Given(meta),
        )?;
        Ok(())
    }

    /// `version` if it is newer than the name's installed or last removed version.
    fn newer(name: &str, version: u64, current: Current<'_, F, M>) -> Result<u64, Error> {
        let Some(last) = current.last() else {
            return Ok(version);
        };
        if version > last {
            Ok(version)
        } else {
            Err(Error::Stale {
                name: name.to_owned(),
                current: last,
                offered: version,
            })
        }
    }

    /// The version a name not held by any handler gets: 0, or one past its last.
    fn fresh(name: &str, current: Current<'_, F, M>) -> Result<u64, Error> {
        match current {
            Current::Never => Ok(0),
            Current::Removed(last) => Self::past(name, last),
            Current::Installed(live) => Err(Error::AlreadyRegistered {
                name: name.to_owned(),
                location: live.location,
            }),
        }
    }

    /// One past version `last`: [`Error::Stale`] when it is already `u64::MAX`.
    fn past(name: &str, last: u64) -> Result<u64, Error> {
        last.checked_add(1).ok_or(Error::Stale {
            name: name.to_owned(),
            current: last,
            offered: last,
        })
    }

    /// Validates, resolves and writes one name; `decide` sees the installed handler (if any)
    /// and returns the version to install or the error to report. Returns the version
    /// installed.
    fn install(
        &self,
        name: &str,
        location: Location,
        decide: impl FnOnce(Current<'_, F, M>) -> Result<u64, Error>,
        handler: F,
        meta: NewMeta<M>,
    ) -> Result<u64, Error> {
        validate_name(name).map_err(|reason| Error::invalid_name(name, reason))?;
        let frozen = self.try_frozen()?;
        let (key, declared) = self.write_target(frozen, name)?;
        // Everything the user's code makes (`M::default`, `M::clone`) is made before the lock is
        // taken, and what goes unused is dropped after it is let go (`spare`, declared before
        // the guard, is dropped after it).
        let (given, meta) = match meta {
            NewMeta::Given(meta) => (true, meta),
            NewMeta::Default(default) => match declared {
                Some(index) => (false, frozen.entries[index as usize].meta.clone()),
                None => (false, default()),
            },
        };
        let mut spare = None;
        let (name_arc, holds) = (Arc::<str>::from(key), Holds::new());
        let mut overlay = self.overlay.write();
        let version = decide(overlay.current(key))?;
        let meta = match overlay.get(key) {
            // A replacement keeps the installed handler's metadata.
            Some(live) if !given => {
                spare = Some(meta);
                live.meta.clone()
            }
            _ => Arc::new(meta),
        };
        let live = Live {
            handler,
            meta,
            name: name_arc,
            version,
            location,
            declared,
            holds,
        };
        match overlay.swap(live) {
            Ok(retired) => {
                self.announce(overlay, key, ChangeKind::Replaced, version, Some(retired));
            }
            Err(live) => {
                overlay.insert(live);
                if declared.is_none() {
                    self.runtime_names.fetch_add(1, Ordering::Release);
                }
                self.announce(overlay, key, ChangeKind::Registered, version, None);
            }
        }
        drop(spare);
        Ok(version)
    }

    /// Publishes a change that has just taken effect under the overlay's write lock `overlay`:
    /// numbers it (in the order changes took effect), lets the lock go, retires the handler it
    /// replaced or removed (dropped at once if nothing holds it), then delivers the change.
    /// Retired before subscribers are woken, so a panicking waker loses nothing.
    fn announce<G>(
        &self,
        overlay: G,
        key: &str,
        kind: ChangeKind,
        version: u64,
        retired: Option<Arc<Live<F, M>>>,
    ) {
        self.changes.post(key, kind, version);
        drop(overlay);
        if let Some(retired) = retired {
            self.retire(retired);
        }
        self.changes.flush();
    }

    /// [`announce`](Registry::announce) a change that took `retired` out of the overlay, and
    /// return a clone of its handler (what `replace` and `unregister` give back).
    fn announce_returning<G>(
        &self,
        overlay: G,
        key: &str,
        kind: ChangeKind,
        version: u64,
        retired: Arc<Live<F, M>>,
    ) -> F {
        // Held before it is retired, so that it stays alive while its clone is made.
        let held = Held::take(self, &retired);
        self.announce(overlay, key, kind, version, Some(retired));
        // `Clone` is the user's code: no lock is held, and a panic in it lets `held` go, which
        // drops the retired handler as if the clone had been made.
        let previous = held.handler().clone();
        drop(held);
        previous
    }

    /// Swaps the handler of a `#[dynamic]` or run-time name and returns (a clone of) the
    /// previous one; the version grows by one.
    ///
    /// The previous handler stops receiving calls at once. Calls already running on it through
    /// [`call`](Registry::call) or [`call_async`](Registry::call_async) finish on it, and the
    /// registry drops its copy after the last of them: [`drained`](Registry::drained) waits for
    /// that, and [`subscribe`](Registry::subscribe) reports it as [`ChangeKind::Drained`].
    ///
    /// The name keeps its metadata: the new handler gets the `meta = …` of its declaration, or
    /// what [`register_with_meta`](Registry::register_with_meta) was given. To change the
    /// metadata too, [`unregister`](Registry::unregister) the name and register it again with
    /// its new metadata.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use std::sync::Arc;
    /// use handler_registry::Registry;
    ///
    /// type Hook = Arc<dyn Fn(&str) -> String + Send + Sync>;
    /// let hooks: Registry<Hook> = Registry::new();
    /// hooks.register("greet", Arc::new(|who: &str| format!("hello {who}")))?;
    ///
    /// let greeting = String::from("ahoy");
    /// let previous = hooks.replace("greet", Arc::new(move |who: &str| format!("{greeting} {who}")))?;
    /// assert_eq!(previous("ann"), "hello ann");
    /// assert_eq!(hooks.call("greet", |greet| greet("ann"))?, "ahoy ann");
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    ///
    /// # Errors
    /// - [`Error::NotDynamic`] for static names;
    /// - [`Error::NotFound`] (with a suggestion) if no handler holds the name;
    /// - [`Error::Stale`] if the version is already `u64::MAX` and cannot grow;
    /// - the error of [`freeze`](Registry::freeze) if the registry cannot be frozen.
    #[track_caller]
    pub fn replace(&self, name: &str, handler: F) -> Result<F, Error> {
        let location = Location::caller();
        let (key, _) = self.write_target(self.try_frozen()?, name)?;
        let holds = Holds::new();
        let mut overlay = self.overlay.write();
        let Some(slot) = overlay.get(key) else {
            drop(overlay);
            return Err(self.not_found(name));
        };
        let Some(version) = slot.version.checked_add(1) else {
            let current = slot.version;
            drop(overlay);
            return Err(Error::Stale {
                name: name.to_owned(),
                current,
                offered: current,
            });
        };
        let live = Live {
            handler,
            meta: slot.meta.clone(),
            name: slot.name.clone(),
            version,
            location,
            declared: slot.declared,
            holds,
        };
        let Ok(retired) = overlay.swap(live) else {
            unreachable!("`{key}` is installed: the write lock is held since it was read")
        };
        Ok(self.announce_returning(overlay, key, ChangeKind::Replaced, version, retired))
    }

    /// Installs the declared handler (and declared metadata) of a `#[dynamic]` name again, as
    /// a new version: one past the installed one, or past the one it was removed at. Returns
    /// the version installed. Subscribers see it as a `Replaced` change (or `Registered`, if
    /// the name had been removed); a handler it replaces drains as with
    /// [`replace`](Registry::replace).
    ///
    /// This is how a name driven from outside (a configuration store, an operator's switch)
    /// goes back to what the program declared when the override is withdrawn.
    ///
    /// # Errors
    /// - [`Error::NotDeclared`] for a name no `#[dynamic]` declaration holds (a run-time name,
    ///   an unknown name), [`Error::NotDynamic`] for a static name;
    /// - [`Error::Stale`] if the version cannot grow past `u64::MAX`;
    /// - the error of [`freeze`](Registry::freeze) if the registry cannot be frozen.
    #[track_caller]
    pub fn restore(&self, name: &str) -> Result<u64, Error> {
        let location = Location::caller();
        let frozen = self.try_frozen()?;
        let index = match self.write_target(frozen, name)? {
            (_, Some(index)) => index as usize,
            (_, None) => {
                return Err(Error::NotDeclared {
                    name: name.to_owned(),
                })
            }
        };
        // Cloned with no lock held: `Clone` is the user's code.
        let declared = &frozen.entries[index];
        let (handler, meta) = (declared.handler.clone(), declared.meta.clone());
        self.install(
            name,
            location,
            |current| current.last().map_or(Ok(0), |last| Self::past(name, last)),
            handler,
            NewMeta::Given(meta),
        )
    }

    /// Removes a `#[dynamic]` or run-time name and returns (a clone of) its handler. A
    /// `#[dynamic]` name can be added back with [`register`](Registry::register).
    ///
    /// Calls already running on the handler finish on it, as with [`replace`](Registry::replace).
    /// The registry remembers the name's version, so that re-adding it never goes back to an
    /// older one, in bounded memory: the versions of up to 16,384 removed names; when that many
    /// are remembered they are forgotten at once and only the highest version is kept as a
    /// floor, past which every name not remembered (a fresh one too) then starts. Churning any
    /// number of distinct names through `register` and `unregister` keeps under 8 MiB.
    ///
    /// # Errors
    /// [`Error::NotDynamic`] for static names; [`Error::NotFound`] if no handler holds the
    /// name; the error of [`freeze`](Registry::freeze) if the registry cannot be frozen.
    pub fn unregister(&self, name: &str) -> Result<F, Error> {
        let (key, _) = self.write_target(self.try_frozen()?, name)?;
        let mut overlay = self.overlay.write();
        let Some(retired) = overlay.remove(key) else {
            drop(overlay);
            return Err(self.not_found(name));
        };
        if retired.declared.is_none() {
            self.runtime_names.fetch_sub(1, Ordering::Release);
        }
        let version = retired.version;
        Ok(self.announce_returning(overlay, key, ChangeKind::Unregistered, version, retired))
    }
}

/// Registries without metadata.
impl<F: Clone + Send + Sync + 'static> Registry<F> {
    /// A standalone registry whose names are frozen at once from `handlers`, as if each had been
    /// declared with `#[handler]`: lookups are lock-free and the names can never be replaced.
    /// A registry with metadata is built with [`with_static_meta`](Registry::with_static_meta).
    ///
    /// Fails with [`Error::Duplicate`] or [`Error::InvalidName`] like a declared registry would.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::Registry;
    /// let ops = Registry::<fn(u8) -> u8>::with_static([("inc", (|x| x + 1) as fn(u8) -> u8)])?;
    /// assert_eq!(ops.get("inc").map(|f| f(1)), Some(2));
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    #[track_caller]
    pub fn with_static(
        handlers: impl IntoIterator<Item = (&'static str, F)>,
    ) -> Result<Self, Error> {
        Self::frozen_from(
            Location::caller(),
            handlers
                .into_iter()
                .map(|(name, handler)| (name, handler, ())),
        )
    }
}

impl<F: Clone + Send + Sync + 'static, M: Clone + Send + Sync + 'static> Registry<F, M> {
    /// [`with_static`](Registry::with_static) for a registry with metadata: each name comes
    /// with its handler and its metadata, as `#[handler(…, meta = …)]` would give them.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::Registry;
    ///
    /// #[derive(Clone, Debug, PartialEq)]
    /// struct Help(&'static str);
    ///
    /// let ops = Registry::<fn(u8) -> u8, Help>::with_static_meta([
    ///     ("inc", (|x| x + 1) as fn(u8) -> u8, Help("adds one")),
    ///     ("dec", |x| x - 1, Help("takes one away")),
    /// ])?;
    /// let (inc, help) = ops.get_with_meta("inc").unwrap();
    /// assert_eq!((inc(1), help), (2, Help("adds one")));
    /// assert_eq!(ops.entries()[0].meta(), &Help("takes one away"));
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Duplicate`] or [`Error::InvalidName`], as for
    /// [`with_static`](Registry::with_static).
    #[track_caller]
    pub fn with_static_meta(
        handlers: impl IntoIterator<Item = (&'static str, F, M)>,
    ) -> Result<Self, Error> {
        Self::frozen_from(Location::caller(), handlers)
    }

    /// A new registry frozen at once from `handlers`, all located at `location`.
    fn frozen_from(
        location: Location,
        handlers: impl IntoIterator<Item = (&'static str, F, M)>,
    ) -> Result<Self, Error> {
        let metas = handlers
            .into_iter()
            .map(|(name, handler, meta)| Meta {
                name,
                aliases: &[],
                doc: "",
                location,
                dynamic: false,
                handler,
                meta,
            })
            .collect();
        let frozen = Frozen::build(metas)?;
        let registry = Self::new_with_meta();
        if registry.frozen.set(Ok(frozen)).is_err() {
            unreachable!("a new registry has no frozen table");
        }
        Ok(registry)
    }
}

/// Registration with default metadata: what a registry without a metadata type (`M = ()`)
/// always has.
impl<F: Clone + Send + Sync + 'static, M: Clone + Default + Send + Sync + 'static> Registry<F, M> {
    /// Adds a handler under `name` at run time, at version 0, or, for a name that was removed,
    /// at one past the version it had (versions of a name never go backwards; after very many
    /// removals, past the floor described at [`unregister`](Registry::unregister)).
    ///
    /// Also re-adds a `#[dynamic]` handler's name after [`unregister`](Registry::unregister).
    ///
    /// # Errors
    /// - [`Error::InvalidName`] if `name` breaks the naming rules (nothing changes);
    /// - [`Error::NotDynamic`] if a static declaration holds the name (static names are never
    ///   shadowed);
    /// - [`Error::AlreadyRegistered`] if a run-time or `#[dynamic]` handler holds it;
    /// - [`Error::Stale`] if the name was removed at version `u64::MAX`;
    /// - the error of [`freeze`](Registry::freeze) if the registry cannot be frozen.
    #[track_caller]
    pub fn register(&self, name: &str, handler: F) -> Result<(), Error> {
        let location = Location::caller();
        self.install(
            name,
            location,
            |current| Self::fresh(name, current),
            handler,
            NewMeta::Default(M::default),
        )?;
        Ok(())
    }

    /// Installs `handler` under `name` only if `version` is newer than the installed one, or
    /// than the version the name had when it was removed.
    ///
    /// A name that never had a handler has no version, so any `version` installs it;
    /// `#[dynamic]` declarations start at version 0.
    ///
    /// # Errors
    /// - [`Error::Stale`] if `version` is not greater than the installed (or last removed)
    ///   version (nothing changes);
    /// - [`Error::InvalidName`] and [`Error::NotDynamic`] as for [`register`](Registry::register);
    /// - the error of [`freeze`](Registry::freeze) if the registry cannot be frozen.
    #[track_caller]
    pub fn register_versioned(&self, name: &str, version: u64, handler: F) -> Result<(), Error> {
        let location = Location::caller();
        self.install(
            name,
            location,
            |current| Self::newer(name, version, current),
            handler,
            NewMeta::Default(M::default),
        )?;
        Ok(())
    }
}

impl<F: 'static, M: 'static> Default for Registry<F, M> {
    fn default() -> Self {
        Self::new_with_meta()
    }
}

impl<F: 'static> Registry<F> {
    const_fn_unless_loom! {
        /// A standalone registry: it holds only what is registered at run time, never `#[handler]`
        /// declarations. Usable in a `static` and in tests. For a registry with metadata, see
        /// [`new_with_meta`](Registry::new_with_meta).
        pub const fn new() -> Self {
            Self::with_declarations(None, "")
        }
    }
}

impl<F: 'static, M: 'static> fmt::Debug for Registry<F, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.frozen.get() {
            None => "not frozen",
            Some(Ok(_)) => "frozen",
            Some(Err(_)) => "failed to freeze",
        };
        f.debug_struct("Registry")
            .field("handler", &std::any::type_name::<F>())
            .field("state", &state)
            .field("runtime_names", &self.runtime_names.load(Ordering::Relaxed))
            .finish()
    }
}

/// Implemented by `#[registry]` for a hidden type that shares the static's name, so that
/// `#[handler(registry = path::TO::STATIC)]` can name the handler type through the same path.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a registry declared with `#[registry]`",
    label = "declare it as `#[registry] static NAME: Registry<F, M>;`"
)]
pub trait RegistryDecl {
    /// The registry's handler type `F`. Unbounded here: the `static` itself must be `Sync`, and
    /// rustc says so once, on the declared type, when `F` is not `Send + Sync`.
    type Handler;
    /// What a `#[handler]` function is coerced to: `F` itself for fn pointers, the fn pointer
    /// form of `dyn Fn(A) -> R` for `Arc<dyn Fn(A) -> R + Send + Sync>`.
    type Decl;
    /// [`NoMeta`] for `Registry<F>`, [`WithMeta<M>`] for `Registry<F, M>`: what `meta = …`
    /// on a `#[handler]` may be, and whether it may be left out.
    type Meta;
}

/// The [`RegistryDecl::Meta`] of a registry declared without a metadata type.
#[doc(hidden)]
pub struct NoMeta;

/// The [`RegistryDecl::Meta`] of a registry declared as `Registry<F, M>`.
#[doc(hidden)]
pub struct WithMeta<M>(std::marker::PhantomData<M>);

/// The type `meta = …` must have on a `#[handler]` of a registry.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "this registry has no metadata type, so its handlers take no `meta = …`",
    label = "remove `meta = …`, or declare the registry as `Registry<F, M>` with `M` the metadata type"
)]
pub trait GivenMeta {
    type Type: Send + Sync + 'static;
}

impl<M: Send + Sync + 'static> GivenMeta for WithMeta<M> {
    type Type = M;
}

/// What a `#[handler]` without `meta = …` submits: `()` for a registry without metadata, or
/// `M::default` (as `fn() -> M`) for a metadata type with a default. Without one, rustc
/// reports `M: Default` unsatisfied on the handler's name, "required for `WithMeta<M>` to
/// implement `MetaLeftOut`".
#[doc(hidden)]
pub trait MetaLeftOut {
    const DEFAULT: &'static (dyn Any + Send + Sync);
}

impl MetaLeftOut for NoMeta {
    const DEFAULT: &'static (dyn Any + Send + Sync) = &();
}

impl<M: Default + Send + Sync + 'static> MetaLeftOut for WithMeta<M> {
    const DEFAULT: &'static (dyn Any + Send + Sync) = &(<M as Default>::default as fn() -> M);
}

/// What a `#[registry]` whose handler type is not written out as `fn(..)` or
/// `Arc<dyn Fn(..)>` (a `type` alias, say) declares its `#[handler]` functions as: the macro
/// cannot read a signature through a name, so the type answers for itself. `Decl` is the fn
/// pointer a function is coerced to (a type error on the function if it does not fit), and
/// `from_decl` makes the handler from it when the registry is frozen.
///
/// Implemented for fn pointers and `Arc<dyn Fn(..) -> R + Send + Sync>` of up to four
/// arguments, each owned or a `&` reference, and of a `&mut` first argument and up to two more;
/// a handler type written out in the declaration needs none of this and may have any signature.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`#[handler]` cannot see the signature of the registry's handler type `{Self}`",
    label = "the `#[registry]` declaration names its handler type through an alias or another name",
    note = "write the handler type out in the `#[registry]` declaration, as `Registry<fn(..) -> R>` or `Registry<Arc<dyn Fn(..) -> R + Send + Sync>>`; through a `type` alias the macro sees those of up to four arguments, each owned or a `&` reference, or a `&mut` first argument and up to two more"
)]
pub trait HandlerDecl: Sized + 'static {
    /// The fn pointer a `#[handler]` function is coerced to.
    type Decl: Copy + Send + Sync + 'static;
    /// The handler for a declared function.
    fn from_decl(decl: Self::Decl) -> Self;
}

/// `HandlerDecl` for the fn pointers and `Arc<dyn Fn..>` of each listed argument shape.
///
/// `fn(A)` and `for<'a> fn(&'a A)` are different types, whose impls the future-compatibility
/// lint `coherence_leak_check` (rust-lang/rust#56105) still reports as overlapping.
macro_rules! handler_decl {
    ($([$($generic:ident $(: ?$sized:ident)?),*] ($($arg:ty),*);)*) => {$(
        #[allow(coherence_leak_check)]
        impl<$($generic: $(?$sized +)? 'static,)* R: 'static> HandlerDecl for fn($($arg),*) -> R {
            type Decl = Self;
            fn from_decl(decl: Self) -> Self {
                decl
            }
        }

        #[allow(coherence_leak_check)]
        impl<$($generic: $(?$sized +)? 'static,)* R: 'static> HandlerDecl
            for Arc<dyn Fn($($arg),*) -> R + Send + Sync>
        {
            type Decl = fn($($arg),*) -> R;
            fn from_decl(decl: Self::Decl) -> Self {
                Arc::new(decl)
            }
        }
    )*};
}

handler_decl! {
    [] ();
    [A] (A);
    [A: ?Sized] (&A);
    [A, B] (A, B);
    [A, B: ?Sized] (A, &B);
    [A: ?Sized, B] (&A, B);
    [A: ?Sized, B: ?Sized] (&A, &B);
    [A, B, C] (A, B, C);
    [A, B, C: ?Sized] (A, B, &C);
    [A, B: ?Sized, C] (A, &B, C);
    [A, B: ?Sized, C: ?Sized] (A, &B, &C);
    [A: ?Sized, B, C] (&A, B, C);
    [A: ?Sized, B, C: ?Sized] (&A, B, &C);
    [A: ?Sized, B: ?Sized, C] (&A, &B, C);
    [A: ?Sized, B: ?Sized, C: ?Sized] (&A, &B, &C);
    [A, B, C, D] (A, B, C, D);
    [A, B, C, D: ?Sized] (A, B, C, &D);
    [A, B, C: ?Sized, D] (A, B, &C, D);
    [A, B, C: ?Sized, D: ?Sized] (A, B, &C, &D);
    [A, B: ?Sized, C, D] (A, &B, C, D);
    [A, B: ?Sized, C, D: ?Sized] (A, &B, C, &D);
    [A, B: ?Sized, C: ?Sized, D] (A, &B, &C, D);
    [A, B: ?Sized, C: ?Sized, D: ?Sized] (A, &B, &C, &D);
    [A: ?Sized, B, C, D] (&A, B, C, D);
    [A: ?Sized, B, C, D: ?Sized] (&A, B, C, &D);
    [A: ?Sized, B, C: ?Sized, D] (&A, B, &C, D);
    [A: ?Sized, B, C: ?Sized, D: ?Sized] (&A, B, &C, &D);
    [A: ?Sized, B: ?Sized, C, D] (&A, &B, C, D);
    [A: ?Sized, B: ?Sized, C, D: ?Sized] (&A, &B, C, &D);
    [A: ?Sized, B: ?Sized, C: ?Sized, D] (&A, &B, &C, D);
    [A: ?Sized, B: ?Sized, C: ?Sized, D: ?Sized] (&A, &B, &C, &D);
    // A context passed mutably first, then owned or borrowed arguments.
    [A: ?Sized] (&mut A);
    [A: ?Sized, B] (&mut A, B);
    [A: ?Sized, B: ?Sized] (&mut A, &B);
    [A: ?Sized, B, C] (&mut A, B, C);
    [A: ?Sized, B, C: ?Sized] (&mut A, B, &C);
    [A: ?Sized, B: ?Sized, C] (&mut A, &B, C);
    [A: ?Sized, B: ?Sized, C: ?Sized] (&mut A, &B, &C);
}
