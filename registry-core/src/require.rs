//! Startup checks: fail at launch, naming every missing handler, instead of at a first request.

use crate::error::Error;
use crate::registry::Registry;

impl<F: Clone + Send + Sync + 'static, M: Clone + Send + Sync + 'static> Registry<F, M> {
    /// Checks that every name in `names` resolves to a handler (primary names and aliases
    /// alike), so that a program stops at startup, naming everything that is missing, rather
    /// than failing at its first request.
    ///
    /// Also freezes the registry, so duplicate declarations are reported here too.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{Error, Registry};
    ///
    /// let ops: Registry<fn(i64) -> i64> = Registry::new();
    /// ops.register("neg", |x| -x)?;
    /// ops.require(&["neg"])?;
    /// let missing = ops.require(&["abs", "neg", "sqrt"]);
    /// let Err(Error::Missing { names, .. }) = &missing else { panic!("{missing:?}") };
    /// assert_eq!(names, &["abs", "sqrt"]);
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Why declared handlers go missing
    /// `#[handler]` declarations are collected at link time by
    /// [`inventory`](https://docs.rs/inventory): each one adds a constructor that the platform's
    /// loader runs before `main`. A declaration is absent, silently, when:
    /// - **its crate is never linked.** The linker leaves out a dependency that nothing in the
    ///   binary refers to, and its handlers with it. Refer to the crate from the binary
    ///   (`use plugins as _;` or `extern crate plugins;`). Link-time optimisation and the
    ///   number of codegen units make no difference once the crate is linked.
    /// - **the platform runs no constructors.** inventory supports Linux, Android, the BSDs
    ///   (FreeBSD, NetBSD, OpenBSD, `DragonFly`), illumos, Haiku, Redox, QNX Neutrino, `VxWorks`
    ///   and bare-metal ELF (`.init_array`), macOS and iOS (`__mod_init_func`), Windows
    ///   (`.CRT$XCU`), and WebAssembly with Rust 1.85 or newer (`.init_array`, run by
    ///   `__wasm_call_ctors`: a library module's embedder must call it once after
    ///   instantiation). Elsewhere the program builds and runs, every declared registry is
    ///   empty, and only names registered at run time resolve.
    ///
    /// A name that is registered at run time is missing until its
    /// [`register`](Registry::register) call has run.
    ///
    /// # Errors
    /// - [`Error::Missing`] listing every name in `names` that does not resolve, in the order
    ///   given, each once;
    /// - [`Error::Duplicate`], [`Error::InvalidName`] or [`Error::MistypedDeclaration`] if the
    ///   registry cannot be frozen, as from [`freeze`](Registry::freeze).
    pub fn require(&self, names: &[&str]) -> Result<(), Error> {
        self.freeze()?;
        let mut missing: Vec<String> = Vec::new();
        for &name in names {
            if !self.contains(name) && !missing.iter().any(|seen| seen == name) {
                missing.push(name.to_owned());
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            let declared_elsewhere = missing
                .iter()
                .filter_map(|name| self.declared_elsewhere(name))
                .collect();
            Err(Error::Missing {
                names: missing,
                declared_elsewhere,
            })
        }
    }
}
