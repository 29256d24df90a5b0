//! The default registry: handlers of any signature, checked when they are looked up.

use std::any::{type_name, Any};
use std::fmt;
use std::sync::Arc;

use crate::error::Error;
use crate::registry::{Registry, RegistryDecl};

/// A handler of any type, as held by the default registry [`HANDLERS`].
///
/// It can only be taken out as the type it was stored with ([`AnyHandler::downcast`]), so a
/// function can never be called through the wrong signature.
#[derive(Clone)]
pub struct AnyHandler {
    value: Value,
    type_name: fn() -> &'static str,
}

#[derive(Clone)]
enum Value {
    /// A `#[handler]` function, in the `static` the macro made for it.
    Static(&'static (dyn Any + Send + Sync)),
    /// A handler created at run time, freed with the last clone.
    Owned(Arc<dyn Any + Send + Sync>),
}

impl AnyHandler {
    /// Wraps a handler created at run time, for [`Registry::register`] on the default registry
    /// (or any `Registry<AnyHandler>`). The handler is freed like any other: when it is replaced
    /// or removed and its last call has finished (see [`Registry::drained`]).
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{AnyHandler, Registry};
    /// let reg: Registry<AnyHandler> = Registry::new();
    /// reg.register("double", AnyHandler::new((|x| x * 2) as fn(i32) -> i32))?;
    /// assert_eq!(reg.lookup_as::<fn(i32) -> i32>("double")?(21), 42);
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    pub fn new<F: Any + Send + Sync>(handler: F) -> Self {
        AnyHandler {
            value: Value::Owned(Arc::new(handler)),
            type_name: type_name::<F>,
        }
    }

    /// Wraps a handler stored in a `static` (what `#[handler]` does).
    pub const fn from_static<F: Any + Send + Sync>(handler: &'static F) -> Self {
        AnyHandler {
            value: Value::Static(handler),
            type_name: type_name::<F>,
        }
    }

    /// The handler, if it was stored as an `F` (a clone of it).
    #[inline]
    #[must_use]
    pub fn downcast<F: Clone + 'static>(&self) -> Option<F> {
        let value: &(dyn Any + Send + Sync) = match &self.value {
            Value::Static(value) => *value,
            Value::Owned(value) => &**value,
        };
        value.downcast_ref::<F>().cloned()
    }

    /// The name of the type the handler was stored with.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        (self.type_name)()
    }
}

impl fmt::Debug for AnyHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AnyHandler")
            .field(&self.type_name())
            .finish()
    }
}

impl Registry<AnyHandler> {
    /// Looks `name` up and returns its handler as an `F` (a `lookup`: a `Result` with the
    /// suggestion; `_as`: as a type).
    ///
    /// # Errors
    /// [`Error::NotFound`] (with a suggestion) or, if the handler has another type,
    /// [`Error::SignatureMismatch`] naming both types and where the handler is defined.
    #[inline]
    pub fn lookup_as<F: Clone + Send + Sync + 'static>(&self, name: &str) -> Result<F, Error> {
        // A static name: downcast in place, without cloning the `AnyHandler`.
        let frozen = self.try_frozen()?;
        if let Some((handler, ..)) = self.mock_for(name) {
            return handler
                .downcast::<F>()
                .ok_or_else(|| self.mismatch::<F>(name, &handler));
        }
        if let Some(slot) = frozen.find(name).filter(|slot| !slot.dynamic) {
            return match slot.handler.downcast::<F>() {
                Some(f) => Ok(f),
                None => Err(self.mismatch::<F>(name, slot.handler)),
            };
        }
        match self.get(name) {
            Some(handler) => match handler.downcast::<F>() {
                Some(f) => Ok(f),
                None => Err(self.mismatch::<F>(name, &handler)),
            },
            None => Err(self.not_found(name)),
        }
    }

    /// The former name of [`lookup_as`](Registry::lookup_as).
    ///
    /// # Errors
    /// As [`lookup_as`](Registry::lookup_as).
    #[deprecated(
        since = "0.1.0",
        note = "renamed lookup_as: a `get` returns an `Option`, a `lookup` a `Result`"
    )]
    #[inline]
    pub fn get_as<F: Clone + Send + Sync + 'static>(&self, name: &str) -> Result<F, Error> {
        self.lookup_as(name)
    }

    #[cold]
    fn mismatch<F>(&self, name: &str, handler: &AnyHandler) -> Error {
        let location = self.location_of(name);
        // Another thread may have unregistered the name since the lookup: it is gone now.
        let Some(location) = location else {
            return self.not_found(name);
        };
        Error::SignatureMismatch {
            name: name.to_owned(),
            expected: type_name::<F>(),
            found: handler.type_name(),
            location,
        }
    }
}

/// The default registry: `#[handler("name")]` without `registry = …` registers here, whatever
/// the function's signature. Take handlers out with [`lookup`].
#[cfg(not(handler_registry_loom))]
pub static HANDLERS: Registry<AnyHandler> = Registry::__linked("handler_registry::HANDLERS");

/// Lets `#[handler]` name the default registry's handler type through the path `HANDLERS`.
#[doc(hidden)]
#[allow(non_camel_case_types)]
pub struct HANDLERS {}

impl RegistryDecl for HANDLERS {
    type Handler = AnyHandler;
    /// Handlers reach the default registry through `AnyHandler::from_static`, never this.
    type Decl = &'static (dyn Any + Send + Sync);
    type Meta = crate::registry::NoMeta;
}

/// The handler `name` from the default registry [`HANDLERS`], as an `F`.
///
/// Named by the crate's rule: `lookup` returns a `Result` whose [`Error::NotFound`] carries a
/// "did you mean" suggestion; `get` returns an `Option`.
///
/// ```
/// # extern crate registry_core as handler_registry;
/// use handler_registry::{lookup, Error};
///
/// // `#[handler("math.add")] fn add(a: i32, b: i32) -> i32` would make this `Ok(add)`; this
/// // doctest declares no handler, so the name is unknown.
/// let missing = lookup::<fn(i32, i32) -> i32>("math.add");
/// assert!(matches!(missing, Err(Error::NotFound { .. })));
/// ```
///
/// # Errors
/// [`Error::NotFound`] with a "did you mean" suggestion, or [`Error::SignatureMismatch`] if the
/// handler was declared with another signature.
#[cfg(not(handler_registry_loom))]
#[inline]
pub fn lookup<F: Clone + Send + Sync + 'static>(name: &str) -> Result<F, Error> {
    HANDLERS.lookup_as(name)
}

/// The former name of [`lookup`], which it calls: it returns a `Result`, and by the crate's
/// naming rule a `get` returns an `Option`.
///
/// # Errors
/// As [`lookup`].
#[cfg(not(handler_registry_loom))]
#[deprecated(
    since = "0.1.0",
    note = "renamed `handler_registry::lookup::<F>(name)`: `lookup` returns a `Result`, `get` an `Option`"
)]
#[inline]
pub fn get<F: Clone + Send + Sync + 'static>(name: &str) -> Result<F, Error> {
    lookup(name)
}
