//! Several registries of one handler type, looked up as one: [`lookup_any`].

use crate::error::Error;
use crate::registry::Registry;
use crate::suggest;

/// Looks `name` up in each registry in turn and returns the first handler found, with the
/// index of the registry it came from. A miss everywhere is one [`Error::NotFound`] whose
/// suggestion is the closest name of all the registries, not of whichever was asked first.
///
/// For registries of different handler types (sync and async commands, say), give them one
/// type instead: an async-shaped handler type (`Arc<dyn Fn(..) -> BoxFuture<..>>`) holds sync
/// commands written as `async fn` too, and one registry answers every name.
///
/// ```
/// # extern crate registry_core as handler_registry;
/// use handler_registry::{lookup_any, Error, Registry};
///
/// let builtins: Registry<fn() -> &'static str> = Registry::new();
/// let plugins: Registry<fn() -> &'static str> = Registry::new();
/// builtins.register("help", || "usage: …")?;
/// plugins.register("weather", || "sunny")?;
///
/// let (from, weather) = lookup_any(&[&builtins, &plugins], "weather")?;
/// assert_eq!((from, weather()), (1, "sunny"));
/// // The closest name of both registries, although the first has a near miss too.
/// let miss = lookup_any(&[&builtins, &plugins], "weathr").unwrap_err();
/// assert!(matches!(miss, Error::NotFound { suggestion: Some(s), .. } if s == "weather"));
/// # Ok::<(), Error>(())
/// ```
///
/// # Errors
/// [`Error::NotFound`] when no registry has the name; the error of
/// [`freeze`](Registry::freeze) of the first registry that cannot be frozen.
pub fn lookup_any<F, M>(registries: &[&Registry<F, M>], name: &str) -> Result<(usize, F), Error>
where
    F: Clone + Send + Sync + 'static,
    M: Clone + Send + Sync + 'static,
{
    // `get`, not `lookup`: a miss here builds no suggestion, the one below is made once.
    for (index, registry) in registries.iter().enumerate() {
        registry.freeze()?;
        if let Some(handler) = registry.get(name) {
            return Ok((index, handler));
        }
    }
    // One suggestion from the names of every registry, as if they were one.
    let mut names = Vec::new();
    for registry in registries {
        names.extend(registry.live_names()?);
    }
    let suggestion = suggest::closest(name, names.iter().map(String::as_str));
    // A hint may name one of the registries asked (a `#[dynamic]` declaration whose name is
    // removed now): it still points at the declaration.
    let declared_elsewhere = registries
        .iter()
        .find_map(|registry| registry.declared_elsewhere(name));
    Err(Error::not_found(name, suggestion, declared_elsewhere))
}
