//! Runtime of [handler-registry](https://docs.rs/handler-registry): the frozen lock-free table,
//! the run-time overlay, the default registry and the error type.
//!
//! Programs depend on the `handler-registry` facade, which re-exports this crate together with
//! the `#[handler]`, `#[registry]` and `#[dynamic]` attributes.
//!
//! # Deadlines
//! Every wait with a deadline has a runtime-agnostic form that takes the runtime's sleep
//! function ([`AsyncCall::timeout`], [`Registry::drained_async`]) or a future to race
//! ([`AsyncCall::cancel_on`]). With the `tokio` feature, the `_after`/`_for` forms take only a
//! [`Duration`](std::time::Duration) and use `tokio::time::sleep`: `AsyncCall::timeout_after`,
//! `Registry::drained_for` and `Changes::recv_for`.
//!
//! # Names
//! One rule names the lookups: a `get` returns an `Option` ([`Registry::get`],
//! [`Registry::get_with_meta`]), a `lookup` returns a `Result` whose [`Error::NotFound`] says
//! which name was closest ([`Registry::lookup`], [`lookup_any`], `lookup::<F>` on the
//! default registry and [`Registry::lookup_as`]). A suffix means one thing: `_as` a type
//! (`lookup_as::<F>`), `_guarded` a check of the metadata before the call
//! ([`Registry::call_guarded`]), `_with_meta` metadata given or returned. Renamed items keep a
//! `#[deprecated]` alias with a note, so code written against the old name still builds.
//!
//! # One default registry per process
//! `HANDLERS` is shared by every crate linked into the program: a library's
//! `#[handler("name")]` and an application's can collide, and [`Registry::freeze`] then
//! reports a duplicate. A library declares its own `#[registry]` and puts its handlers there;
//! the default registry is for applications and quick scripts.
//!

mod any;
mod async_handler;
mod changes;
#[cfg(feature = "tokio")]
mod deadlines;
mod drain;
mod entry;
mod error;
#[cfg(feature = "metrics")]
mod exporter;
mod fallible;
mod frozen;
mod invoke;
mod metrics;
#[cfg(feature = "testing")]
mod mock;
mod overlay;
mod registry;
mod require;
mod several;
mod suggest;
mod sync;
mod wakers;

#[cfg(not(handler_registry_loom))]
#[allow(deprecated)]
pub use any::{get, lookup};
pub use any::{AnyHandler, HANDLERS};
pub use changes::{Change, ChangeKind, Changes, DEFAULT_CHANGES_CAPACITY};
pub use entry::{EntryInfo, Kind};
pub use error::{
    validate_name, Clash, DeclaredElsewhere, Error, Location, NameError, MAX_NAME_LEN,
};
pub use invoke::AsyncCall;
pub use metrics::Stats;
#[cfg(feature = "testing")]
pub use mock::Mock;
pub use registry::Registry;
pub use several::lookup_any;

/// The future an async handler returns once registered: `#[handler]` on an `async fn` registers
/// a shim that boxes the function's future, so registries can hold async handlers as plain fn
/// pointers such as `fn(Request) -> BoxFuture<'static, Response>`.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What the macros expand to. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::any::AnyHandler;
    pub use crate::entry::StaticEntry;
    pub use crate::registry::{
        Convert, GivenMeta, HandlerDecl, MetaLeftOut, NoMeta, Registry, RegistryDecl, WithMeta,
    };
    pub use inventory::submit;
    /// Boxes async handlers' futures without a `::std` path (absent in `#![no_std]` crates).
    pub use std::boxed::Box;
    pub use std::sync::Arc;
}
