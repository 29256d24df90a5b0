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
    let mut misses = Vec::with_capacity(registries.len());
    for (index, registry) in registries.iter().enumerate() {
        match registry.lookup(name) {
            Ok(handler) => return Ok((index, handler)),
            Err(Error::NotFound {
                suggestion,
                declared_elsewhere,
                ..
            }) => misses.push((suggestion, declared_elsewhere)),
            Err(other) => return Err(other),
        }
    }
    let suggestion = suggest::closest(
        name,
        misses
            .iter()
            .filter_map(|(suggestion, _)| suggestion.as_deref()),
    )
    .map(str::to_owned);
    // A declaration found elsewhere is in none of the registries asked (it would have been
    // found), so any registry's hint holds for all.
    let declared_elsewhere = misses.into_iter().find_map(|(_, elsewhere)| elsewhere);
    Err(Error::not_found(
        name,
        suggestion.as_deref(),
        declared_elsewhere,
    ))
}
