//! Typed handler metadata (`Registry<F, M>`, `meta = …`) and guarded calls (`call_guarded`).

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use handler_registry::{dynamic, handler, registry, BoxFuture, Error, Kind, Registry};
use support::{block_on, not_found};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Public,
    Admin,
}

/// No `Default`: every handler must say.
#[registry]
pub static METHODS: Registry<fn(u32) -> u32, Access>;

/// Doubles.
#[handler("m.double", registry = METHODS, meta = Access::Public)]
fn double(x: u32) -> u32 {
    x * 2
}

static RESETS: AtomicU32 = AtomicU32::new(0);
static PURGES: AtomicU32 = AtomicU32::new(0);

/// Resets, with a side effect that shows whether it ran.
#[handler("m.reset", registry = METHODS, meta = Access::Admin, aliases = ["m.clear"])]
fn reset(_: u32) -> u32 {
    RESETS.fetch_add(1, Ordering::SeqCst);
    0
}

#[dynamic]
#[handler("m.tune", registry = METHODS, meta = Access::Admin)]
fn tune(x: u32) -> u32 {
    x + 1
}

/// Help categories, with a default: `meta` may be left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Help {
    category: &'static str,
    hidden: bool,
}

#[registry]
pub static COMMANDS: Registry<fn() -> &'static str, Help>;

#[handler("ping", registry = COMMANDS, meta = Help { category: "basics", hidden: false })]
fn ping() -> &'static str {
    "pong"
}

#[handler("roll", registry = COMMANDS, meta = Help { category: "games", hidden: false })]
fn roll() -> &'static str {
    "4"
}

#[handler("debug.dump", registry = COMMANDS, meta = Help { category: "basics", hidden: true })]
fn dump() -> &'static str {
    "state"
}

/// No `meta`: the default.
#[handler("about", registry = COMMANDS)]
fn about() -> &'static str {
    "handler-registry"
}

#[registry]
pub static JOBS: Registry<fn(u32) -> BoxFuture<'static, u32>, Access>;

#[handler("job.triple", registry = JOBS, meta = Access::Public)]
async fn triple(x: u32) -> u32 {
    x * 3
}

#[handler("job.purge", registry = JOBS, meta = Access::Admin)]
async fn purge(_: u32) -> u32 {
    PURGES.fetch_add(1, Ordering::SeqCst);
    0
}

fn public_only(access: &Access) -> Result<(), String> {
    match access {
        Access::Public => Ok(()),
        Access::Admin => Err("admin only".to_owned()),
    }
}

fn denied(error: &Error) -> (&str, &str) {
    match error {
        Error::Denied { name, reason, .. } => (name, reason),
        other => panic!("expected Denied, got {other:?}"),
    }
}

#[test]
fn declared_names_and_aliases_carry_their_metadata() {
    let (f, access) = METHODS.get_with_meta("m.double").unwrap();
    assert_eq!((f(21), access), (42, Access::Public));
    let (f, access) = METHODS.get_with_meta("m.clear").unwrap();
    assert_eq!(access, Access::Admin);
    assert_eq!(f as usize, reset as fn(u32) -> u32 as usize);
    assert_eq!(METHODS.get_with_meta("m.tune").unwrap().1, Access::Admin);
    assert!(METHODS.get_with_meta("m.dobule").is_none());
}

#[test]
fn a_handler_without_meta_gets_the_default() {
    assert_eq!(COMMANDS.get_with_meta("about").unwrap().1, Help::default());
    assert_eq!(
        COMMANDS.get_with_meta("ping").unwrap().1,
        Help {
            category: "basics",
            hidden: false
        }
    );
}

#[test]
fn entries_group_help_by_category_and_skip_hidden_commands() {
    let mut help: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for entry in COMMANDS.entries() {
        if !entry.meta().hidden {
            help.entry(entry.meta().category)
                .or_default()
                .push(entry.name().to_owned());
        }
    }
    assert_eq!(
        help,
        BTreeMap::from([
            ("", vec!["about".to_owned()]),
            ("basics", vec!["ping".to_owned()]),
            ("games", vec!["roll".to_owned()]),
        ])
    );
}

#[test]
fn run_time_names_take_metadata_and_replacements_keep_it() {
    let registry: Registry<fn(u32) -> u32, Access> = Registry::new_with_meta();
    registry
        .register_with_meta("r.admin", |x| x + 10, Access::Admin)
        .unwrap();
    assert_eq!(registry.get_with_meta("r.admin").unwrap().1, Access::Admin);
    registry.replace("r.admin", |x| x + 20).unwrap();
    let (f, access) = registry.get_with_meta("r.admin").unwrap();
    assert_eq!((f(1), access), (21, Access::Admin));
    let entries = registry.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].meta(), entries[0].kind()),
        (&Access::Admin, Kind::Dynamic { version: 1 })
    );
    registry.unregister("r.admin").unwrap();
    registry
        .register_with_meta("r.admin", |x| x, Access::Public)
        .unwrap();
    assert_eq!(registry.get_with_meta("r.admin").unwrap().1, Access::Public);
    let error = registry
        .register_with_meta("r.admin", |x| x, Access::Admin)
        .unwrap_err();
    assert!(
        matches!(error, Error::AlreadyRegistered { .. }),
        "{error:?}"
    );
    assert_eq!(registry.get_with_meta("r.admin").unwrap().1, Access::Public);
}

#[test]
fn register_uses_the_default_metadata_and_a_dynamic_declaration_keeps_its_own() {
    let registry: Registry<fn() -> &'static str, Help> = Registry::new_with_meta();
    registry.register("plain", || "x").unwrap();
    assert_eq!(registry.get_with_meta("plain").unwrap().1, Help::default());
    registry.register_versioned("plain", 5, || "y").unwrap();
    assert_eq!(registry.get_with_meta("plain").unwrap().1, Help::default());

    // `m.tune` is a `#[dynamic]` declaration: replaced, removed and added back, it keeps the
    // declaration's metadata.
    METHODS.replace("m.tune", |x| x + 2).unwrap();
    assert_eq!(METHODS.get_with_meta("m.tune").unwrap().1, Access::Admin);
    METHODS.unregister("m.tune").unwrap();
    assert!(METHODS.get_with_meta("m.tune").is_none());
    // Only `register` of a type whose metadata has a default; here it is given.
    METHODS
        .register_with_meta("m.tune", |x| x + 3, Access::Admin)
        .unwrap();
    let (f, access) = METHODS.get_with_meta("m.tune").unwrap();
    assert_eq!((f(1), access), (4, Access::Admin));
}

#[test]
fn call_as_refuses_before_the_handler_runs() {
    let before = RESETS.load(Ordering::SeqCst);
    let error = METHODS
        .call_guarded("m.reset", public_only, |reset| reset(1))
        .unwrap_err();
    assert_eq!(denied(&error), ("m.reset", "admin only"));
    assert_eq!(
        error.to_string(),
        "the call of `m.reset` was refused: admin only; the handler did not run"
    );
    // Through the alias too; and the handler never ran.
    let error = METHODS
        .call_guarded("m.clear", public_only, |reset| reset(1))
        .unwrap_err();
    assert_eq!(denied(&error), ("m.clear", "admin only"));
    assert_eq!(RESETS.load(Ordering::SeqCst), before);
}

#[test]
fn call_as_allows_and_passes_the_metadata_to_the_check() {
    let mut seen = None;
    let output = METHODS
        .call_guarded(
            "m.double",
            |access| {
                seen = Some(*access);
                Ok(())
            },
            |double| double(8),
        )
        .unwrap();
    assert_eq!((output, seen), (16, Some(Access::Public)));
}

#[test]
fn call_as_of_an_unknown_name_is_not_found_and_runs_no_check() {
    let mut checked = false;
    let error = METHODS
        .call_guarded(
            "m.doubel",
            |_| {
                checked = true;
                Ok(())
            },
            |double| double(1),
        )
        .unwrap_err();
    assert_eq!(not_found(&error), ("m.doubel", Some("m.double")));
    assert!(!checked);
}

#[test]
fn refusals_are_counted_apart_from_calls() {
    let registry: Registry<fn() -> u8, Access> = Registry::new_with_meta();
    registry
        .register_with_meta("guarded", || 1, Access::Admin)
        .unwrap();
    for _ in 0..3 {
        assert!(registry
            .call_guarded("guarded", public_only, |f| f())
            .is_err());
    }
    assert_eq!(registry.call_guarded("guarded", |_| Ok(()), |f| f()), Ok(1));
    let stats = registry.stats();
    assert_eq!(stats.len(), 1);
    assert_eq!(
        (stats[0].name(), stats[0].calls(), stats[0].denied()),
        ("guarded", 1, 3)
    );
}

#[test]
fn a_dynamic_handler_is_checked_on_the_metadata_of_the_handler_it_runs() {
    let registry: Registry<Arc<dyn Fn() -> u8 + Send + Sync>, Access> = Registry::new_with_meta();
    registry
        .register_with_meta("swap", Arc::new(|| 1), Access::Public)
        .unwrap();
    let output = registry.call_guarded("swap", public_only, |f| {
        // Replaced mid-call: the check already passed on this handler's metadata.
        registry.replace("swap", Arc::new(|| 2)).unwrap();
        f()
    });
    assert_eq!(output, Ok(1));
    assert_eq!(registry.call_guarded("swap", public_only, |f| f()), Ok(2));
}

#[test]
fn call_async_as_refuses_and_allows() {
    let refused = block_on(JOBS.call_async_guarded("job.purge", public_only, |purge| purge(1)));
    assert_eq!(denied(&refused.unwrap_err()), ("job.purge", "admin only"));
    assert_eq!(PURGES.load(Ordering::SeqCst), 0);
    let allowed = block_on(JOBS.call_async_guarded("job.triple", public_only, |triple| triple(5)));
    assert_eq!(allowed, Ok(15));
    let stats = JOBS.stats();
    let purge = stats.iter().find(|s| s.name() == "job.purge").unwrap();
    assert_eq!((purge.calls(), purge.denied()), (0, 1));
}

/// Every span's fields, as recorded when it was created and later.
#[derive(Default)]
struct Spans(Mutex<Vec<(&'static str, BTreeMap<String, String>)>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for Spans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = BTreeMap::new();
        span.record(&mut Fields(&mut fields));
        let mut spans = self.0.lock().unwrap();
        spans.push((span.metadata().name(), fields));
        Id::from_u64(spans.len() as u64)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.0.lock().unwrap();
        values.record(&mut Fields(&mut spans[span.into_u64() as usize - 1].1));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[test]
fn a_refusal_is_recorded_in_the_calls_span() {
    // A second dispatcher keeps every callsite's interest asked of each thread's own (as in
    // tests/invoke.rs): other tests run handlers meanwhile without a subscriber.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let spans = Arc::new(Spans::default());
    tracing::subscriber::with_default(Arc::clone(&spans), || {
        assert!(METHODS
            .call_guarded("m.reset", public_only, |f| f(1))
            .is_err());
        assert_eq!(
            METHODS.call_guarded("m.double", public_only, |f| f(1)),
            Ok(2)
        );
    });
    let spans = spans.0.lock().unwrap();
    let fields = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        *spans,
        vec![
            (
                "handler",
                fields(&[
                    ("name", "m.reset"),
                    ("rpc.method", "m.reset"),
                    ("denied", "admin only")
                ])
            ),
            (
                "handler",
                fields(&[("name", "m.double"), ("rpc.method", "m.double")])
            ),
        ]
    );
}
