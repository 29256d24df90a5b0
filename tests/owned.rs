//! Registries of owned handlers (`Arc<dyn Fn>`): `#[handler]` functions beside closures that
//! capture state, test doubles, and calls that borrow the handler.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use handler_registry::{dynamic, handler, registry, ChangeKind, Error, Kind, Registry};

type Hook = Arc<dyn Fn(&str) -> String + Send + Sync>;

#[registry]
pub static HOOKS: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;

/// Says hello.
#[handler("hello", registry = HOOKS, aliases = ["hi"])]
fn hello(who: &str) -> String {
    format!("hello {who}")
}

/// Audits a line.
#[handler("audit", registry = HOOKS)]
#[dynamic]
fn audit(line: &str) -> String {
    format!("audited {line}")
}

/// Declarations convert to a `dyn Fn` with a `for<'a>` binder and a borrowed result too.
#[registry]
static FIRST_WORDS: Registry<std::sync::Arc<dyn for<'a> Fn(&'a str) -> &'a str + Send + Sync>>;

#[handler("first", registry = FIRST_WORDS)]
fn first(text: &str) -> &str {
    text.split(' ').next().unwrap_or("")
}

#[test]
fn declared_functions_and_closures_share_an_owned_registry() {
    HOOKS.freeze().unwrap();
    assert_eq!(HOOKS.get("hello").unwrap()("ann"), "hello ann");
    assert_eq!(HOOKS.get("hi").unwrap()("bob"), "hello bob");
    assert_eq!(HOOKS.call("hello", |f| f("cy")).unwrap(), "hello cy");

    let greeting = String::from("good day");
    HOOKS
        .register(
            "owned.greet",
            Arc::new(move |who: &str| format!("{greeting}, {who}")),
        )
        .unwrap();
    assert_eq!(
        HOOKS.call("owned.greet", |f| f("dee")).unwrap(),
        "good day, dee"
    );

    let hello = HOOKS
        .entries()
        .into_iter()
        .find(|entry| entry.name() == "hello")
        .unwrap();
    assert_eq!(hello.doc(), "Says hello.");
    assert_eq!(hello.aliases(), ["hi"]);
    assert_eq!(hello.kind(), Kind::Static);
    assert_eq!(FIRST_WORDS.call("first", |f| f("two words").len()), Ok(3));
}

#[test]
fn a_test_double_records_calls_in_place_of_a_dynamic_declaration() {
    let (tx, rx) = mpsc::channel::<String>();
    let tx = std::sync::Mutex::new(tx);
    let double: Hook = Arc::new(move |line: &str| {
        tx.lock().unwrap().send(line.to_owned()).unwrap();
        "ok".to_owned()
    });
    let original = HOOKS.replace("audit", double).unwrap();
    assert_eq!(original("x"), "audited x");

    assert_eq!(HOOKS.call("audit", |f| f("first")).unwrap(), "ok");
    assert_eq!(HOOKS.get("audit").unwrap()("second"), "ok");
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["first", "second"]);

    // Restoring the declared handler drops the double once its calls are over; the channel
    // closes with it.
    HOOKS.replace("audit", original).unwrap();
    HOOKS.drained("audit", Duration::from_secs(5)).unwrap();
    assert_eq!(
        HOOKS.call("audit", |f| f("third")).unwrap(),
        "audited third"
    );
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(1)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
}

#[test]
fn closures_keep_their_state_between_calls() {
    let counters: Registry<Arc<dyn Fn() -> usize + Send + Sync>> = Registry::new();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    counters
        .register(
            "next",
            Arc::new(move || counted.fetch_add(1, Ordering::Relaxed) + 1),
        )
        .unwrap();
    let seen: Vec<usize> = (0..3)
        .map(|_| counters.call("next", |next| next()).unwrap())
        .collect();
    assert_eq!(seen, [1, 2, 3]);
    assert_eq!(count.load(Ordering::Relaxed), 3);

    // `get` hands out a clone: it keeps the closure alive after the registry lets go.
    let kept = counters.get("next").unwrap();
    counters.unregister("next").unwrap();
    counters.drained("next", Duration::from_secs(5)).unwrap();
    assert_eq!(kept(), 4);
    assert_eq!(
        Arc::strong_count(&count),
        2,
        "held by `count` and the kept clone"
    );
    drop(kept);
    assert_eq!(Arc::strong_count(&count), 1);
}

/// Counts its drops.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_registry_drops_what_it_retires_and_what_it_still_holds() {
    let drops = Arc::new(AtomicUsize::new(0));
    let tracked = |drops: &Arc<AtomicUsize>| {
        let tracked = Tracked(Arc::clone(drops));
        Arc::new(move || tracked.0.load(Ordering::SeqCst)) as Arc<dyn Fn() -> usize + Send + Sync>
    };
    let registry: Registry<Arc<dyn Fn() -> usize + Send + Sync>> = Registry::new();
    registry.register("a", tracked(&drops)).unwrap();
    registry.register("b", tracked(&drops)).unwrap();
    drop(registry.replace("a", tracked(&drops)).unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the replaced closure");
    drop(registry.unregister("b").unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 2, "the removed closure");
    drop(registry);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "the installed closure, with the registry"
    );
}

#[test]
fn the_default_registry_frees_run_time_handlers() {
    let drops = Arc::new(AtomicUsize::new(0));
    let tracked = Tracked(Arc::clone(&drops));
    let handler: Arc<dyn Fn() -> usize + Send + Sync> =
        Arc::new(move || tracked.0.load(Ordering::SeqCst) + 10);
    let any = handler_registry::AnyHandler::new(handler);
    handler_registry::HANDLERS
        .register("owned.default", any)
        .unwrap();
    let got =
        handler_registry::lookup::<Arc<dyn Fn() -> usize + Send + Sync>>("owned.default").unwrap();
    assert_eq!(got(), 10);
    drop(got);
    let mut changes = handler_registry::HANDLERS.subscribe();
    handler_registry::HANDLERS
        .unregister("owned.default")
        .unwrap();
    handler_registry::HANDLERS
        .drained("owned.default", Duration::from_secs(5))
        .unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1, "freed, not leaked");
    let kinds: Vec<ChangeKind> = std::iter::from_fn(|| changes.try_recv())
        .filter(|change| change.name() == "owned.default")
        .map(|change| change.kind())
        .collect();
    assert_eq!(kinds, [ChangeKind::Unregistered, ChangeKind::Drained]);
}

#[test]
fn wrong_names_and_static_names_are_errors_in_an_owned_registry() {
    let noop: Hook = Arc::new(|_| String::new());
    assert!(matches!(
        HOOKS.replace("hello", Arc::clone(&noop)),
        Err(Error::NotDynamic { .. })
    ));
    assert!(matches!(
        HOOKS.call("helo", |f| f("x")),
        Err(Error::NotFound { suggestion: Some(s), .. }) if s == "hello"
    ));
    // A static name never drains anything: it returns at once.
    assert_eq!(HOOKS.drained("hello", Duration::ZERO), Ok(()));
    assert_eq!(HOOKS.drained("no.such.name", Duration::ZERO), Ok(()));
}

/// Any `Clone + Send + Sync` type can be a handler, such as a trait object.
pub trait Greeter: Send + Sync {
    fn greet(&self, who: &str) -> String;
}

struct Formal;

impl Greeter for Formal {
    fn greet(&self, who: &str) -> String {
        format!("Good day, {who}.")
    }
}

#[registry]
static GREETERS: Registry<Arc<dyn Greeter>>;

#[test]
fn an_owned_registry_of_trait_objects_takes_run_time_handlers() {
    GREETERS.register("formal", Arc::new(Formal)).unwrap();
    assert_eq!(
        GREETERS.call("formal", |greeter| greeter.greet("Ann")),
        Ok("Good day, Ann.".to_owned())
    );
    assert_eq!(GREETERS.len(), 1);
}
