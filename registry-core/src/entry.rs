//! What `#[handler]` submits at link time, and what `entries()` reports.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::error::{DeclaredElsewhere, Location};

/// One `#[handler]` declaration, placed in the link-time table by the macro.
///
/// `registry` is the address of the target registry (entries for every registry share one
/// table and are sorted out at freeze time); `handler` holds the function pointer, already
/// coerced to the registry's handler type by the macro, so the downcast at freeze time cannot
/// fail for macro-generated entries.
#[doc(hidden)]
pub struct StaticEntry {
    pub registry: &'static dyn Address,
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub doc: &'static str,
    pub module_path: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub dynamic: bool,
    /// The `registry = PATH` as written, for messages; empty for the default registry.
    pub registry_path: &'static str,
    pub handler: &'static (dyn Any + Send + Sync),
    /// The registry's metadata type `M` (`meta = …`), or `M::default` as `fn() -> M`.
    pub meta: &'static (dyn Any + Send + Sync),
}

// SAFETY: `registry` is the one field that is not `Sync`. It is only compared by address,
// never dereferenced, and `dyn Address` has no methods to call through it.
unsafe impl Sync for StaticEntry {}

inventory::collect!(StaticEntry);

/// Any `'static` value, seen only as an address: what `StaticEntry::registry` points to.
///
/// The macro writes `registry: &REGISTRY`. Coercing that to `dyn Any + Send + Sync` made rustc
/// prove `Registry<F, M>: Send + Sync` again for every handler, about a sixth of the type-checking
/// time of a crate of 1,000 handlers; this coercion only needs `Registry<F, M>: 'static`.
#[doc(hidden)]
pub trait Address {}

impl<T: 'static> Address for T {}

/// Every declared name (primary names and aliases) of every registry, with its declarations:
/// built on the first miss that asks, so that a name missing from one registry can be found in
/// another with one hash lookup.
static DECLARED: OnceLock<HashMap<&'static str, Vec<&'static StaticEntry>>> = OnceLock::new();

/// A declaration of `name` for a registry other than `registry`, if any.
pub(crate) fn declared_elsewhere<R>(registry: &R, name: &str) -> Option<DeclaredElsewhere> {
    // No declared name is longer: hostile input is turned away before it is hashed.
    if name.len() > crate::error::MAX_NAME_LEN {
        return None;
    }
    let declared = DECLARED.get_or_init(|| {
        let mut declared: HashMap<&'static str, Vec<&'static StaticEntry>> = HashMap::new();
        for entry in inventory::iter::<StaticEntry>() {
            for name in std::iter::once(entry.name).chain(entry.aliases.iter().copied()) {
                declared.entry(name).or_default().push(entry);
            }
        }
        declared
    });
    let entry = declared
        .get(name)?
        .iter()
        .find(|entry| !std::ptr::addr_eq(entry.registry, registry))?;
    let name = std::iter::once(entry.name)
        .chain(entry.aliases.iter().copied())
        .find(|declared| *declared == name)?;
    Some(DeclaredElsewhere {
        name,
        location: entry.location(),
        registry: entry.registry_path,
    })
}

impl StaticEntry {
    pub(crate) fn location(&self) -> Location {
        Location {
            module_path: self.module_path,
            file: self.file,
            line: self.line,
        }
    }
}

/// How a name's handler can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Declared with `#[handler]`, fixed for the life of the process.
    Static,
    /// Declared with `#[handler]` + `#[dynamic]`, or installed at run time: replaceable and
    /// removable. `version` starts at 0 and grows with every replacement.
    Dynamic {
        /// The installed version.
        version: u64,
    },
}

/// A snapshot of one registered handler, as returned by
/// [`Registry::entries`](crate::Registry::entries), with its metadata `M` (`()` for a
/// registry without a metadata type).
///
/// Its fields are read through accessors that borrow from the snapshot (`&str`, not
/// `&'static str`), so that docs and aliases given at run time can be added later without a
/// breaking change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo<M = ()> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) aliases: &'static [&'static str],
    pub(crate) doc: &'static str,
    pub(crate) location: Location,
    pub(crate) kind: Kind,
    pub(crate) in_flight: usize,
    pub(crate) meta: M,
}

impl<M> EntryInfo<M> {
    /// The handler's metadata: the `meta = …` of its `#[handler]`, or what
    /// [`Registry::register_with_meta`](crate::Registry::register_with_meta) was given.
    pub fn meta(&self) -> &M {
        &self.meta
    }

    /// The handler's primary name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Extra names that resolve to the same handler (`aliases = [...]`).
    pub fn aliases(&self) -> &[&str] {
        self.aliases
    }

    /// The function's `///` doc comment, trimmed; empty when it has none.
    pub fn doc(&self) -> &str {
        self.doc
    }

    /// The module that declared the handler; empty for names installed at run time.
    pub fn module_path(&self) -> &str {
        self.location.module_path
    }

    /// The source file of the declaration or of the call that installed the current handler.
    pub fn file(&self) -> &str {
        self.location.file
    }

    /// The line of the declaration or of the call that installed the current handler.
    pub fn line(&self) -> u32 {
        self.location.line
    }

    /// The declaration's location as one value (`Display` prints `file:line`).
    pub fn location(&self) -> Location {
        self.location
    }

    /// Whether the handler is static or dynamic, and its version.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Calls of this name running through [`Registry::call`](crate::Registry::call) or
    /// [`Registry::call_async`](crate::Registry::call_async) when the snapshot was taken,
    /// including calls still running on handlers it had before a replacement.
    ///
    /// Exact for `#[dynamic]` and run-time names (each running call holds the handler). For
    /// static names the count is kept with the per-thread call metrics, so calls started while
    /// metrics are off ([`Registry::set_metrics`](crate::Registry::set_metrics)) are not
    /// counted.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}
