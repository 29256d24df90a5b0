//! Test doubles (the `testing` feature): [`Registry::mock`] makes lookups of a name from the
//! current thread return a fake until the returned [`Mock`] is dropped, so tests running in
//! parallel threads over the same global registry cannot see each other's fakes;
//! [`Registry::mock_global`] does it for every thread, one test at a time.
//!
//! Rules:
//! - A registry counts its active mocks. Every lookup path (`get`, `lookup`, `contains`,
//!   `get_with_meta`, `call`, `call_guarded`, `call_async`, `call_async_guarded`, and `lookup_as` of
//!   the default registry) first checks that count (one relaxed load) and looks for a mock only
//!   while it is not zero. Without the feature there is no count and no check.
//! - Thread mocks live in a thread-local list keyed by the registry's address and shadow global
//!   ones; within each, the newest mock of a name wins, so mocks nest.
//! - A mock covers every name of its handler: the primary name and the aliases of a
//!   declaration, or the run-time name. A guarded call of a mocked name is checked on the real
//!   handler's metadata (the fake replaces the handler, not who may call it).
//! - [`Mock`]'s drop removes the mock, also while a panicking test unwinds. A global mock also
//!   holds a process-wide lock (reentrant, so one test may hold several) from creation to drop:
//!   tests that use `mock_global` run one after another.

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(
    clippy::inline_always,
    reason = "the mock check sits on every lookup path: a load and a branch only when inlined"
)]

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use parking_lot::{ReentrantMutex, ReentrantMutexGuard};

use crate::error::Error;
use crate::registry::Registry;

/// One registry's mocks: how many are active, and the global ones.
pub(crate) struct Mocks {
    active: AtomicUsize,
    global: Mutex<Vec<Mocked<Fake>>>,
}

struct Mocked<H> {
    /// The registry's address (thread-local mocks of every registry share one list).
    registry: usize,
    id: u64,
    names: Vec<Box<str>>,
    handler: H,
}

impl<H> Mocked<H> {
    fn is(&self, registry: usize, id: u64) -> bool {
        self.registry == registry && self.id == id
    }

    fn covers(&self, registry: usize, name: &str) -> bool {
        self.registry == registry && self.names.iter().any(|covered| **covered == *name)
    }
}

/// A fake handler. Shared, so that a lookup takes it out of its list by reference count and
/// clones the handler (the user's `Clone`, which may use the registry and its mocks) after
/// letting the list go.
type Fake = Arc<dyn Any + Send + Sync>;

/// A mock taken out of its list, to be dropped after the list is released.
struct Taken(#[allow(dead_code)] Mocked<Fake>);

thread_local! {
    static LOCAL: RefCell<Vec<Mocked<Fake>>> = const { RefCell::new(Vec::new()) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Held by every global mock: tests using `mock_global` run one at a time.
static GLOBAL_TESTS: ReentrantMutex<()> = parking_lot::const_reentrant_mutex(());

impl Mocks {
    pub(crate) const fn new() -> Self {
        Mocks {
            active: AtomicUsize::new(0),
            global: Mutex::new(Vec::new()),
        }
    }

    /// Whether any mock of this registry is active (on any thread).
    #[inline(always)]
    pub(crate) fn any(&self) -> bool {
        self.active.load(Ordering::Relaxed) != 0
    }
}

/// A mock, active until dropped; returned by [`Registry::mock`] and [`Registry::mock_global`].
///
/// Not `Send`: a thread mock is removed from the thread that made it.
#[must_use = "the mock is removed when this guard is dropped"]
pub struct Mock<'a> {
    mocks: &'a Mocks,
    registry: usize,
    id: u64,
    global: Option<ReentrantMutexGuard<'static, ()>>,
    _thread: PhantomData<*const ()>,
}

impl Drop for Mock<'_> {
    fn drop(&mut self) {
        let (registry, id) = (self.registry, self.id);
        // The fake is taken out under the lock (or the borrow) and dropped once it is released:
        // its `Drop` may look names up in this registry.
        let taken = if self.global.is_some() {
            let mut global = self
                .mocks
                .global
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let index = global.iter().position(|mocked| mocked.is(registry, id));
            index.map(|index| Taken(global.remove(index)))
        } else {
            // During thread teardown the list may be gone already, and the mock with it.
            LOCAL
                .try_with(|local| {
                    let mut local = local.borrow_mut();
                    let index = local.iter().position(|mocked| mocked.is(registry, id));
                    index.map(|index| Taken(local.remove(index)))
                })
                .ok()
                .flatten()
        };
        drop(taken);
        self.mocks.active.fetch_sub(1, Ordering::Release);
    }
}

impl std::fmt::Debug for Mock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mock")
            .field("global", &self.global.is_some())
            .finish_non_exhaustive()
    }
}

impl<F: Clone + Send + Sync + 'static, M: Clone + Send + Sync + 'static> Registry<F, M> {
    /// Makes lookups of `name` from the current thread return `handler` until the returned
    /// guard is dropped; other threads keep seeing the real handler, so tests running in
    /// parallel cannot see each other's fakes. Every name of the handler is covered (a
    /// declaration's aliases too), whether it is static, `#[dynamic]` or added at run time,
    /// and every lookup path sees it: `get`, `lookup`, `call`, `call_guarded`, `call_async`,
    /// `get_with_meta` and, in the default registry, `get::<F>`.
    ///
    /// Only with the `testing` feature (enable it under `[dev-dependencies]`). A lookup pays
    /// for mocks only while one is active, on any thread: a load and a branch otherwise.
    /// An async call whose task moves to another thread does not see a thread mock once there:
    /// use [`mock_global`](Registry::mock_global) on a multi-thread runtime.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::Registry;
    ///
    /// let math: Registry<fn(i32) -> i32> = Registry::new();
    /// math.register("double", |x| x * 2)?;
    /// {
    ///     let _fake = math.mock("double", |_| 0)?;
    ///     assert_eq!(math.call("double", |f| f(21))?, 0);
    ///     std::thread::scope(|s| {
    ///         // Another thread sees the real handler.
    ///         s.spawn(|| assert_eq!(math.call("double", |f| f(21)), Ok(42)));
    ///     });
    /// }
    /// assert_eq!(math.call("double", |f| f(21))?, 42);
    /// # Ok::<(), handler_registry::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NotFound`] (with its suggestion) if no handler has this name now: a mock never
    /// adds a name; the error of [`freeze`](Registry::freeze) if the registry cannot be frozen.
    pub fn mock(&self, name: &str, handler: F) -> Result<Mock<'_>, Error> {
        let names = self.names_of(name)?;
        Ok(self.activate(None, |registry, id| {
            LOCAL.with(|local| {
                local.borrow_mut().push(Mocked {
                    registry,
                    id,
                    names,
                    handler: Arc::new(handler),
                });
            });
        }))
    }

    /// Like [`mock`](Registry::mock), for every thread: for async tests on a multi-thread
    /// runtime, where a task moves between threads. Tests that use it run one at a time: it
    /// waits until no other thread holds a global mock (of any registry), and the guard
    /// restores the real handler when dropped, also when the test panics.
    ///
    /// # Errors
    /// As [`mock`](Registry::mock).
    pub fn mock_global(&self, name: &str, handler: F) -> Result<Mock<'_>, Error> {
        let turn = GLOBAL_TESTS.lock();
        let names = self.names_of(name)?;
        Ok(self.activate(Some(turn), |registry, id| {
            self.mocks
                .global
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Mocked {
                    registry,
                    id,
                    names,
                    handler: Arc::new(handler),
                });
        }))
    }

    /// Files a new mock with `file(registry, id)` and counts it active.
    fn activate(
        &self,
        global: Option<ReentrantMutexGuard<'static, ()>>,
        file: impl FnOnce(usize, u64),
    ) -> Mock<'_> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let registry = self.address();
        file(registry, id);
        self.mocks.active.fetch_add(1, Ordering::Release);
        Mock {
            mocks: &self.mocks,
            registry,
            id,
            global,
            _thread: PhantomData,
        }
    }

    fn address(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Every name the handler `name` resolves to now answers to.
    fn names_of(&self, name: &str) -> Result<Vec<Box<str>>, Error> {
        let frozen = self.try_frozen()?;
        let declared = frozen
            .find(name)
            .map(|slot| &frozen.entries[slot.entry() as usize]);
        // A mock never adds a name: it needs a handler to stand in for.
        if self.resolve(frozen, name, |_| (), |_| ()).is_none() {
            return Err(self.not_found(name));
        }
        Ok(match declared {
            Some(meta) => std::iter::once(meta.name)
                .chain(meta.aliases.iter().copied())
                .map(Box::from)
                .collect(),
            None => vec![name.into()],
        })
    }

    /// What a call of `name` runs on while a mock covers it: the fake, the real handler's
    /// metadata and the declaration it is counted under.
    #[inline(always)]
    pub(crate) fn mock_for(&self, name: &str) -> Option<(F, M, Option<u32>)> {
        if !self.mocks.any() {
            return None;
        }
        self.mock_slow(name)
    }

    #[cold]
    #[inline(never)]
    fn mock_slow(&self, name: &str) -> Option<(F, M, Option<u32>)> {
        let handler = self.mocked(name)?;
        let frozen = self.try_frozen().ok()?;
        let (_, meta) = self.get_with_meta_in(frozen, name)?;
        Some((handler, meta, frozen.find(name).map(|slot| slot.entry())))
    }

    /// The handler a mock gives `name` on this thread, if any.
    #[cold]
    #[inline(never)]
    pub(crate) fn mocked(&self, name: &str) -> Option<F> {
        let registry = self.address();
        let find = |mocks: &[Mocked<Fake>]| {
            mocks
                .iter()
                .rev()
                .find(|mocked| mocked.covers(registry, name))
                .map(|mocked| mocked.handler.clone())
        };
        // `try_with`: a lookup from another thread-local's destructor finds no thread mocks.
        let local = LOCAL.try_with(|local| find(&local.borrow())).ok().flatten();
        let fake = local.or_else(|| {
            find(
                &self
                    .mocks
                    .global
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            )
        })?;
        // Cloned with neither the thread's list borrowed nor the global list locked.
        fake.downcast_ref::<F>().cloned()
    }
}
