//! After a failed freeze, every API that returns a `Result` returns the freeze error, and the
//! others panic at the caller's line with a message that says what to do. In a test binary of
//! its own: the default registry here is broken on purpose.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::Duration;

use handler_registry::{handler, registry, Error, Registry, HANDLERS};

mod support;
use support::block_on;

#[registry]
static BROKEN: Registry<fn() -> u8>;

#[handler("dup", registry = BROKEN)]
fn first() -> u8 {
    1
}

mod other {
    #[handler_registry::handler("dup", registry = super::BROKEN)]
    fn second() -> u8 {
        2
    }
}

#[handler("fine", registry = BROKEN)]
fn fine() -> u8 {
    3
}

// Two handlers of one name in the default registry, which every crate of a program shares.
#[handler("default.dup")]
fn default_first() -> u8 {
    4
}

mod default_other {
    #[handler_registry::handler("default.dup")]
    fn default_second() -> u8 {
        5
    }
}

#[handler("default.fine")]
fn default_fine() -> u8 {
    6
}

fn freeze_error<F: Clone + Send + Sync + 'static>(registry: &Registry<F>) -> Error {
    let error = registry.freeze().unwrap_err();
    assert!(matches!(error, Error::Duplicate { .. }), "{error:?}");
    error
}

#[test]
fn every_result_api_returns_the_freeze_error() {
    let expected = freeze_error(&BROKEN);
    let results: Vec<(&str, Result<(), Error>)> = vec![
        ("lookup", BROKEN.lookup("fine").map(drop)),
        ("call", BROKEN.call("fine", |f| f()).map(drop)),
        (
            "call_async",
            block_on(BROKEN.call_async("fine", |f| std::future::ready(f()))).map(drop),
        ),
        ("register", BROKEN.register("new", fine)),
        (
            "register_versioned",
            BROKEN.register_versioned("new", 1, fine),
        ),
        ("replace", BROKEN.replace("fine", fine).map(drop)),
        ("unregister", BROKEN.unregister("fine").map(drop)),
        ("require", BROKEN.require(&["fine"])),
        ("drained", BROKEN.drained("fine", Duration::ZERO)),
        (
            "drained_async",
            block_on(BROKEN.drained_async("fine", Duration::ZERO, |_| std::future::ready(()))),
        ),
    ];
    for (api, result) in results {
        assert_eq!(result.as_ref().err(), Some(&expected), "{api}");
    }
}

#[test]
fn the_default_registry_returns_its_freeze_error_from_typed_lookups() {
    let expected = freeze_error(&HANDLERS);
    assert_eq!(
        handler_registry::lookup::<fn() -> u8>("default.fine").err(),
        Some(expected.clone())
    );
    assert_eq!(
        HANDLERS.lookup_as::<fn() -> u8>("default.fine").err(),
        Some(expected)
    );
}

thread_local! {
    /// Where this thread's last panic was raised.
    static PANIC_SITE: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns the panic's message and line (in this file).
fn panic_site(f: impl FnOnce()) -> (String, u32) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let site = info.location().map(|l| (l.file().to_owned(), l.line()));
            PANIC_SITE.with(|cell| *cell.borrow_mut() = site);
        }));
    });
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("it panics");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .expect("the panic carries a String");
    let (file, line) = PANIC_SITE
        .with(|cell| cell.borrow_mut().take())
        .expect("the hook saw the panic");
    assert_eq!(file, "tests/failed_freeze.rs", "{message}");
    (message, line)
}

/// Runs `$call`, which must panic, checks that the panic names the line of this invocation,
/// and returns the panic's message.
macro_rules! panics_here {
    ($call:expr) => {{
        let (message, line) = panic_site(|| {
            let _ = $call;
        });
        assert_eq!(
            line,
            line!(),
            "`{}` panics at its caller's line",
            stringify!($call)
        );
        message
    }};
}

#[test]
fn the_other_apis_panic_at_the_callers_line_saying_what_to_do() {
    let expected = freeze_error(&BROKEN).to_string();
    let messages = [
        panics_here!(BROKEN.get("fine")),
        panics_here!(BROKEN.contains("fine")),
        panics_here!(BROKEN.len()),
        panics_here!(BROKEN.is_empty()),
        panics_here!(BROKEN.entries()),
        panics_here!(BROKEN.stats()),
    ];
    for message in messages {
        assert!(message.contains(&expected), "{message}");
        // Named by its static, not by the handler type it expands to.
        assert!(
            message.starts_with("the registry `failed_freeze::BROKEN` cannot be frozen"),
            "{message}"
        );
        assert!(
            message.contains("call `freeze()` at startup to get this as an error"),
            "{message}"
        );
    }
}
