//! Register functions at compile time, dispatch to them by name at run time: lock-free.
//!
//! `#[handler("name")]` submits a function to a link-time table from any module or crate. On
//! first use (or at [`Registry::freeze`]) each registry freezes its declarations into an
//! immutable table, so looking a declared name up takes no lock, writes no shared memory and
//! allocates nothing: [`Registry::get`] of a fn-pointer handler, and [`Registry::call`] (which
//! lends the handler by reference) for any handler type. `get` of an `Arc` handler writes its
//! count; the `metrics` feature allocates and writes its recorder's counters on every call.
//! `#[dynamic]` handlers and names added at run time live in a small
//! lock-guarded overlay that can replace, add and remove entries, with versioned hot
//! replacement. Duplicate names, unknown names and wrong signatures are errors that say where
//! the handlers are defined and what to do.
//!
//! ```
//! use handler_registry::{handler, registry, Registry};
//!
//! #[registry]
//! pub static COMMANDS: Registry<fn(&str) -> String>;
//!
//! /// Say hello.
//! #[handler("greet", registry = COMMANDS, aliases = ["hi"])]
//! fn greet(who: &str) -> String {
//!     format!("hello {who}")
//! }
//!
//! /// Add two numbers; no `registry = …`, so it goes to the default registry.
//! #[handler("math.add")]
//! fn add(a: i32, b: i32) -> i32 {
//!     a + b
//! }
//!
//! COMMANDS.freeze()?; // at startup: duplicates become an error here, not a panic later
//! let greet = COMMANDS.get("greet").unwrap(); // lock-free, allocation-free
//! assert_eq!(greet("world"), "hello world");
//! assert_eq!(COMMANDS.get("hi").unwrap()("you"), "hello you");
//!
//! let add = handler_registry::lookup::<fn(i32, i32) -> i32>("math.add")?;
//! assert_eq!(add(2, 3), 5);
//!
//! let typo = COMMANDS.lookup("gret").unwrap_err();
//! assert_eq!(typo.to_string(), "no handler named `gret`; did you mean `greet`?");
//! # Ok::<(), handler_registry::Error>(())
//! ```
//!
//! # Where handlers go
//! - `#[registry] static NAME: Registry<F>;` declares a typed registry in any module of any crate;
//!   `#[handler("name", registry = path::to::NAME)]` targets it from anywhere that can name the
//!   path. The function must coerce to `F` (usually a fn pointer type); if it does not, rustc
//!   reports the mismatch on the function.
//! - Without `registry = …` a handler goes to the default registry [`HANDLERS`], which accepts any
//!   signature and checks it when the handler is taken out with [`lookup`]: asking for the wrong type
//!   is [`Error::SignatureMismatch`], never a call through the wrong type.
//!
//! # Names
//! One rule names the lookups: a `get` returns an `Option` ([`Registry::get`],
//! [`Registry::get_with_meta`]), a `lookup` returns a `Result` whose [`Error::NotFound`] says
//! which name was closest ([`Registry::lookup`], [`lookup_any`], [`lookup::<F>`](lookup) on
//! the default registry and [`Registry::lookup_as`]). A suffix means one thing: `_as` a type
//! (`lookup_as::<F>`), `_guarded` a check of the metadata before the call
//! ([`Registry::call_guarded`]), `_with_meta` metadata given or returned. Renamed items keep a
//! `#[deprecated]` alias with a note, so code written against the old name still builds.
//!
//! # One default registry per process
//! [`HANDLERS`] is shared by every crate linked into the program: a library's
//! `#[handler("name")]` and an application's can collide, and [`Registry::freeze`] then
//! reports a duplicate. A library declares its own `#[registry]` and puts its handlers there;
//! the default registry is for applications and quick scripts.
//!
//! # Changing handlers at run time
//! Names declared with `#[handler]` are fixed. `#[dynamic]` on a handler makes its name
//! replaceable ([`Registry::replace`], [`Registry::register_versioned`]) and removable
//! ([`Registry::unregister`]); [`Registry::register`] adds names at run time. Static names can never
//! be shadowed by run-time ones.
//!
//! # Owned handlers
//! A registry holds any `Clone + Send + Sync` handler. With `Arc<dyn Fn(..) + Send + Sync>`,
//! `#[handler]` functions (wrapped in an `Arc` once, at freeze) sit beside closures that capture
//! state, registered at run time. Spell the `Arc<dyn Fn..>` type out in the `#[registry]`
//! declaration: the macro reads the signature from it.
//!
//! ```
//! use std::sync::Arc;
//! use handler_registry::{handler, registry, Registry};
//!
//! #[registry]
//! pub static HOOKS: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;
//!
//! #[handler("hello", registry = HOOKS)]
//! fn hello(who: &str) -> String {
//!     format!("hello {who}")
//! }
//!
//! let greeting = String::from("good day");
//! HOOKS.register("greet", Arc::new(move |who: &str| format!("{greeting}, {who}")))?;
//! assert_eq!(HOOKS.call("hello", |hello| hello("ann"))?, "hello ann");
//! assert_eq!(HOOKS.call("greet", |greet| greet("ann"))?, "good day, ann");
//! # Ok::<(), handler_registry::Error>(())
//! ```
//!
//! # Drain: when a replaced handler is dropped
//! [`Registry::replace`], [`Registry::register_versioned`] and [`Registry::unregister`] retire the
//! old handler at once; calls already running on it through [`Registry::call`] or
//! [`Registry::call_async`] finish on it, and the registry drops it after the last of them, never
//! during one. [`Registry::drained`] (and [`Registry::drained_async`], for any runtime) waits for
//! that; [`EntryInfo::in_flight`] shows the calls running now.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use handler_registry::Registry;
//!
//! let jobs: Registry<Arc<dyn Fn() -> u32 + Send + Sync>> = Registry::new();
//! jobs.register("job", Arc::new(|| 1))?;
//! jobs.replace("job", Arc::new(|| 2))?;
//! jobs.drained("job", Duration::from_secs(5))?; // the first closure is gone
//! assert_eq!(jobs.call("job", |job| job())?, 2);
//! # Ok::<(), handler_registry::Error>(())
//! ```
//!
//! # Change events
//! [`Registry::subscribe`] returns a [`Changes`] receiver of every later change, in the order the
//! changes took effect and numbered without gaps: [`ChangeKind::Registered`],
//! [`ChangeKind::Replaced`], [`ChangeKind::Unregistered`] and [`ChangeKind::Drained`]. Every
//! subscriber reads one bounded log of the latest changes, so a change costs the same for one
//! subscriber or a thousand; one that falls behind receives [`ChangeKind::Lagged`] instead of
//! slowing the registry down.
//!
//! # Calling handlers
//! [`Registry::call`] looks a handler up and runs it inside a
//! [`tracing`](https://docs.rs/tracing) span named `handler`, turns a panic into
//! [`Error::Panicked`] (the registry and the caller keep working) and counts the call in
//! [`Registry::stats`]. `#[handler]` on an `async fn` registers a shim returning a
//! [`BoxFuture`]; [`Registry::call_async`] is the async twin of `call`, with
//! [`AsyncCall::timeout`] and [`AsyncCall::cancel_on`] to drop a handler that takes too long.
//! No registry lock is held while a handler runs, and `call` hands the handler over by
//! reference: calling a declared name writes no shared memory, whatever the handler type
//! (without the `metrics` feature, whose recorder is shared).
//! A call looks its handler up when it is made and does not borrow the name: on a `static`
//! registry it is a `'static` future, `Send` when the handler's is, so it can be spawned.
//!
//! Deadlines follow one convention: the runtime-agnostic forms take your runtime's sleep
//! function (`timeout(after, sleep)`, `drained_async(name, timeout, sleep)`); with the `tokio`
//! feature, the `_after`/`_for` forms take only a `Duration` (`timeout_after`, `drained_for`,
//! `Changes::recv_for`).
//!
//! # Valid names
//! Non-empty, at most 256 bytes, no whitespace and no control characters: checked at compile time
//! by the macros (the error points at the string literal) and at run time by `register`.
//!
//! # Linking
//! Declarations are collected with [`inventory`](https://docs.rs/inventory), which runs a
//! constructor per handler before `main` on Linux, macOS, Windows, the BSDs, illumos, Android and
//! wasm. A crate that nothing in the binary references is not linked, and its handlers are absent:
//! reference it (`use plugins as _;` or `extern crate plugins;`) and check the names your program
//! needs at startup with [`Registry::require`].

pub use registry_core::{
    lookup, lookup_any, validate_name, AnyHandler, AsyncCall, BoxFuture, Change, ChangeKind,
    Changes, Clash, DeclaredElsewhere, EntryInfo, Error, Kind, Location, NameError, Registry,
    Stats, DEFAULT_CHANGES_CAPACITY, HANDLERS, MAX_NAME_LEN,
};

/// An async closure with state as an owned async handler: see [`async_handler!`].
pub use registry_core::async_handler;

/// The former name of [`lookup`]: deprecated, kept so that code written against it builds.
#[allow(deprecated)]
pub use registry_core::get;

/// A test double, active until dropped: see [`Registry::mock`] (the `testing` feature).
#[cfg(feature = "testing")]
pub use registry_core::Mock;

/// Registers a free function as a handler under a name.
///
/// ```text
/// #[handler("name")]                                  // default registry, any signature
/// #[handler("name", registry = path::to::REGISTRY)]  // a #[registry] static
/// #[handler("name", aliases = ["a", "b"])]            // extra names for the same handler
/// #[handler("name", dynamic)]                         // same as adding #[dynamic]
/// #[handler("name", registry = R, meta = EXPR)]       // metadata of a Registry<F, M>
/// #[handler("name", crate = hr)]                       // handler-registry is reached as `hr`
/// ```
///
/// `meta = EXPR` gives the handler its metadata in a registry declared as `Registry<F, M>`: a
/// constant expression of type `M` (it initializes a `static`), read with
/// [`Registry::get_with_meta`], [`EntryInfo::meta`] and checked by [`Registry::call_guarded`].
/// It may be left out when `M: Default`.
///
/// `crate = PATH` names the path handler-registry is reachable at, for a renamed dependency
/// (`hr = { package = "handler-registry", … }`) or a framework that re-exports the attributes:
/// it re-exports the crate (`#[doc(hidden)] pub use handler_registry as __hr;`) and its users,
/// or its own `macro_rules!`, write `crate = my_framework::__hr` (`crate = $crate::__hr` in a
/// macro). Without it the expansion names `::handler_registry`.
///
/// The function's `///` doc comment becomes the entry's [`EntryInfo::doc`]. Generic functions,
/// methods with `self`, `impl Trait` arguments and variadic functions are compile errors, as are
/// names that break the naming rules. On an `async fn` the registered handler is a shim that
/// returns a [`BoxFuture`].
#[doc(inline)]
pub use registry_macros::handler;

/// Declares a typed registry: `#[registry] pub static COMMANDS: Registry<fn(&str) -> String>;`.
///
/// The static gets its value from the macro (write no initializer). Every
/// `#[handler(…, registry = COMMANDS)]` in the program is collected into it. Importing the static
/// (`use crate::commands::COMMANDS;`) is all a handler in another module or crate needs.
///
/// `#[registry(crate = PATH)]` names the path handler-registry is reachable at, as on
/// [`handler`].
#[doc(inline)]
pub use registry_macros::registry;

/// Makes a handler's names replaceable and removable at run time.
///
/// Put it above or below `#[handler(…)]`. The handler starts at version 0 in the registry's
/// overlay; see [`Registry::replace`], [`Registry::unregister`] and
/// [`Registry::register_versioned`]. Lookups of dynamic names take a read lock; lookups of every
/// other declared name stay lock-free.
#[doc(inline)]
pub use registry_macros::dynamic;

#[doc(hidden)]
pub use registry_core::__private;

#[doc = include_str!("../docs/guides.md")]
pub mod guides {}

/// The README's example, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
