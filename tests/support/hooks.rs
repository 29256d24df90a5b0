//! User code that runs inside the registry, for the reentrancy, panic-safety and drain tests:
//! a handler type ([`Probe`]) and a metadata type ([`Tag`]) whose `Clone`, `Drop` and
//! `Default` run whatever a test armed in a [`Trap`], wakers that do the same, and a watchdog
//! that turns a deadlock into a failure naming the case and where it stopped.
//!
//! Included with `#[macro_use] #[path = "support/hooks.rs"] mod hooks;` (each test binary uses
//! some of it).
#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use handler_registry::{Change, ChangeKind, Changes, Error, Registry};

/// How long a case may take before it counts as deadlocked. A passing case takes
/// milliseconds; this only turns a hang into a failure.
pub const WATCHDOG: Duration = Duration::from_secs(10);

/// What a trap runs when it fires.
pub type Hook = Box<dyn FnOnce() + Send>;

/// A one-shot slot for user code: [`arm`](Trap::arm) it with a hook, and the next
/// [`fire`](Trap::fire) runs that hook (later ones run nothing).
#[derive(Default)]
pub struct Trap {
    hook: Mutex<Option<Hook>>,
    entered: AtomicBool,
    finished: AtomicBool,
}

impl Trap {
    pub fn armed(hook: impl FnOnce() + Send + 'static) -> Arc<Trap> {
        let trap = Arc::new(Trap::default());
        trap.arm(hook);
        trap
    }

    pub fn arm(&self, hook: impl FnOnce() + Send + 'static) {
        *self.hook.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(hook));
    }

    /// Takes the armed hook out unrun, if the event never came.
    pub fn disarm(&self) {
        self.hook
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// Runs the armed hook, if any (taken out first: no lock is held while it runs).
    pub fn fire(&self) {
        self.entered.store(true, Ordering::SeqCst);
        let hook = self
            .hook
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(hook) = hook {
            hook();
        }
        self.finished.store(true, Ordering::SeqCst);
    }

    /// Whether the event the trap watches has started (the hook began, if armed).
    pub fn entered(&self) -> bool {
        self.entered.load(Ordering::SeqCst)
    }

    /// Whether the event the trap watches has completed (the hook returned, if armed).
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }
}

/// The traps a watched value carries: every clone fires the trap shared by the original and its
/// clones; only the original's drop fires its drop trap (clones get none), so a test can tell
/// the drop of the copy the registry holds from the drop of a clone it was handed.
struct Watched {
    clone: Arc<Trap>,
    drop: Option<Arc<Trap>>,
}

impl Watched {
    fn original() -> Self {
        Watched {
            clone: Arc::default(),
            drop: Some(Arc::default()),
        }
    }

    fn clone_trap(&self) -> Arc<Trap> {
        Arc::clone(&self.clone)
    }

    fn drop_trap(&self) -> Arc<Trap> {
        Arc::clone(self.drop.as_ref().expect("an original, not a clone"))
    }
}

impl Clone for Watched {
    fn clone(&self) -> Self {
        self.clone.fire();
        Watched {
            clone: Arc::clone(&self.clone),
            drop: None,
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(trap) = &self.drop {
            trap.fire();
        }
    }
}

/// A handler: answers `answer`, watched (see [`Watched`]).
#[derive(Clone)]
pub struct Probe {
    pub answer: u64,
    watched: Watched,
}

impl Probe {
    pub fn new(answer: u64) -> Self {
        Probe {
            answer,
            watched: Watched::original(),
        }
    }

    /// Fires when this handler or any clone of it is cloned.
    pub fn clone_trap(&self) -> Arc<Trap> {
        self.watched.clone_trap()
    }

    /// Fires when this very value (not a clone) is dropped.
    pub fn drop_trap(&self) -> Arc<Trap> {
        self.watched.drop_trap()
    }
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Probe({})", self.answer)
    }
}

thread_local! {
    /// What the next `Tag::default()` on this thread runs.
    static DEFAULT_HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
}

/// Makes the next `Tag::default()` on this thread run `hook`.
pub fn arm_default(hook: impl FnOnce() + Send + 'static) {
    DEFAULT_HOOK.with(|slot| *slot.borrow_mut() = Some(Box::new(hook)));
}

/// Metadata: an id, with the same traps as [`Probe`]. `Default` (id 0) runs the hook armed
/// with [`arm_default`] on the calling thread.
#[derive(Clone)]
pub struct Tag {
    pub id: u32,
    watched: Watched,
}

impl Tag {
    pub fn new(id: u32) -> Self {
        Tag {
            id,
            watched: Watched::original(),
        }
    }

    pub fn clone_trap(&self) -> Arc<Trap> {
        self.watched.clone_trap()
    }

    pub fn drop_trap(&self) -> Arc<Trap> {
        self.watched.drop_trap()
    }
}

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tag({})", self.id)
    }
}

impl Default for Tag {
    fn default() -> Self {
        let hook = DEFAULT_HOOK.with(|slot| slot.borrow_mut().take());
        if let Some(hook) = hook {
            hook();
        }
        Tag::new(0)
    }
}

/// The registry every hook test uses.
pub type Reg = Registry<Probe, Tag>;

/// A registry for one case, alive for the rest of the process: hooks and threads that outlive
/// a deadlocked case can keep using it.
pub fn leaked() -> &'static Reg {
    Box::leak(Box::new(Registry::new_with_meta()))
}

/// The traps of a handler and of its metadata, taken before both move into the registry.
pub struct Traps {
    pub clone: Arc<Trap>,
    pub drop: Arc<Trap>,
    pub meta_clone: Arc<Trap>,
    pub meta_drop: Arc<Trap>,
}

/// Registers `name` answering `answer` with metadata id `id`; returns its traps.
pub fn install(registry: &Reg, name: &str, answer: u64, id: u32) -> Traps {
    let (probe, tag) = (Probe::new(answer), Tag::new(id));
    let traps = Traps {
        clone: probe.clone_trap(),
        drop: probe.drop_trap(),
        meta_clone: tag.clone_trap(),
        meta_drop: tag.drop_trap(),
    };
    registry.register_with_meta(name, probe, tag).unwrap();
    traps
}

/// A waker whose wake-up fires a trap.
pub struct TrapWaker(pub Arc<Trap>);

impl Wake for TrapWaker {
    fn wake(self: Arc<Self>) {
        self.0.fire();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fire();
    }
}

pub fn trap_waker(trap: &Arc<Trap>) -> Waker {
    Waker::from(Arc::new(TrapWaker(Arc::clone(trap))))
}

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it is ready or `limit` has passed (`None`).
pub fn block_on_timeout<F: Future>(future: F, limit: Duration) -> Option<F::Output> {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let deadline = Instant::now() + limit;
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::park_timeout(deadline - now);
    }
}

/// Where a case is, for the watchdog's report.
#[derive(Default)]
pub struct Stage(Mutex<&'static str>);

impl Stage {
    pub fn at(&self, stage: &'static str) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = stage;
    }

    fn now(&self) -> &'static str {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `case` on a thread of its own and returns its result, or fails naming `what` and the
/// stage it was stuck at if it does not finish within [`WATCHDOG`]. A panic in the case fails
/// the test with the case's own message.
pub fn watchdog<T: Send + 'static>(
    what: &str,
    case: impl FnOnce(Arc<Stage>) -> T + Send + 'static,
) -> T {
    let stage = Arc::new(Stage::default());
    stage.at("starting");
    let (done, outcome) = mpsc::channel();
    let inner = Arc::clone(&stage);
    std::thread::Builder::new()
        .name(what.to_owned())
        .spawn(move || {
            let _ = done.send(panic::catch_unwind(AssertUnwindSafe(|| case(inner))));
        })
        .unwrap();
    match outcome.recv_timeout(WATCHDOG) {
        Ok(Ok(value)) => value,
        // An injected panic that reaches this far escaped where the case expected it: say so
        // (the quiet panic hook kept it out of the output).
        Ok(Err(payload)) if message(&*payload).starts_with("injected") => panic!(
            "{what}: an injected panic escaped the case: {}",
            message(&*payload)
        ),
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(RecvTimeoutError::Timeout) => panic!(
            "DEADLOCK in {what}: no progress for {WATCHDOG:?}, stuck at: {}",
            stage.now()
        ),
        Err(RecvTimeoutError::Disconnected) => unreachable!("the case reports before it ends"),
    }
}

/// The message of a panic payload.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic payload that is not a string".to_owned()
    }
}

/// A call running on another thread, paused inside the handler until released.
pub struct Running<T> {
    /// Sending on it lets the paused call go on (a clone can be handed to other code).
    pub release: mpsc::Sender<()>,
    caller: JoinHandle<T>,
}

/// Starts `call` on another thread and returns once it has called the `wait` it is given;
/// `wait` returns when the call is released.
pub fn running<T: Send + 'static>(
    call: impl FnOnce(&dyn Fn()) -> T + Send + 'static,
) -> Running<T> {
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let caller = std::thread::spawn(move || {
        call(&|| {
            entered_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        })
    });
    entered.recv_timeout(WATCHDOG).expect("the call started");
    Running { release, caller }
}

impl<T> Running<T> {
    /// Lets the paused call go on.
    pub fn release(&self) {
        self.release.send(()).unwrap();
    }

    /// What the call returned; a panic that escaped it fails here.
    pub fn join(self) -> T {
        match self.caller.join() {
            Ok(outcome) => outcome,
            Err(payload) => panic!(
                "a panic escaped the call on the last caller's thread: {}",
                message(&*payload)
            ),
        }
    }
}

/// A call of `name` in `reg` on another thread, paused inside the handler until released;
/// answers the handler's answer.
pub fn calling(reg: &'static Reg, name: &'static str) -> Running<Result<u64, Error>> {
    running(move |wait| {
        reg.call(name, |probe| {
            wait();
            probe.answer
        })
    })
}

/// Keeps the deliberate panics of these tests (messages starting with "injected") out of the
/// output; other panics print as usual.
pub fn quiet_injected_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !message(info.payload()).starts_with("injected") {
                default(info);
            }
        }));
    });
}

/// Every change waiting for `changes`.
pub fn received(changes: &mut Changes) -> Vec<Change> {
    std::iter::from_fn(|| changes.try_recv()).collect()
}

/// Changes as (name, kind, version).
pub fn summary(changes: &[Change]) -> Vec<(String, ChangeKind, u64)> {
    changes
        .iter()
        .map(|change| (change.name().to_owned(), change.kind(), change.version()))
        .collect()
}

/// One change as [`summary`] lists it.
pub fn change(name: &str, kind: ChangeKind, version: u64) -> (String, ChangeKind, u64) {
    (name.to_owned(), kind, version)
}

/// Fails unless `changes` are numbered `first`, `first + 1`, … with no gap, repeat or lag.
pub fn assert_gap_free(changes: &[Change], first: u64) {
    for (index, change) in changes.iter().enumerate() {
        assert!(
            !matches!(change.kind(), ChangeKind::Lagged { .. }),
            "a subscriber lagged: {change:?}"
        );
        assert_eq!(
            change.seq(),
            first + index as u64,
            "gap, repeat or reorder at {change:?} in {:?}",
            summary(changes)
        );
    }
}

/// The changes of `name`, in the order received, as (kind, version).
pub fn of(changes: &[Change], name: &str) -> Vec<(ChangeKind, u64)> {
    changes
        .iter()
        .filter(|change| change.name() == name)
        .map(|change| (change.kind(), change.version()))
        .collect()
}

/// Fails unless the registry agrees with itself: `len` is the number of entries, and every
/// listed name resolves through `get` and `contains` (and `a`, `b`, `c` resolve only if listed).
pub fn assert_consistent(registry: &Reg) {
    let entries = registry.entries();
    let names: Vec<&str> = entries.iter().map(|entry| entry.name()).collect();
    assert_eq!(
        registry.len(),
        entries.len(),
        "len against entries {names:?}"
    );
    for name in ["a", "b", "c", "alpha", "beta", "gamma"]
        .into_iter()
        .chain(names.iter().copied())
    {
        let listed = names.contains(&name);
        assert_eq!(
            registry.get(name).is_some(),
            listed,
            "get({name:?}) against {names:?}"
        );
        assert_eq!(
            registry.contains(name),
            listed,
            "contains({name:?}) against {names:?}"
        );
    }
}
