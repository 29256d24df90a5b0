//! handler-registry under another name: `hr = { package = "handler-registry", … }` leaves no
//! `::handler_registry` for the expansion to reach, so every attribute here says
//! `crate = hr` (or `crate = ::hr`), and the tests check that each kind of handler was
//! registered and is what its name looks up.

use std::sync::Arc;

use hr::{dynamic, handler, registry, BoxFuture, Registry};

/// Text commands: plain, aliased and dynamic handlers.
#[hr::registry(crate = hr)]
pub static COMMANDS: hr::Registry<fn(&str) -> String>;

/// Async jobs: handlers are shims returning a boxed future.
#[registry(crate = ::hr)]
pub static JOBS: Registry<fn(u32) -> BoxFuture<'static, u32>>;

/// Owned hooks: declared functions are wrapped in an `Arc` at freeze.
#[registry(crate = hr)]
pub static HOOKS: Registry<Arc<dyn Fn(u32) -> u32 + Send + Sync>>;

/// Say hello.
#[hr::handler("greet", crate = hr, registry = COMMANDS, aliases = ["hi", "hello"])]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

/// `#[dynamic]` above `#[handler]`: it rewrites the attribute below it, which keeps `crate`.
#[hr::dynamic]
#[hr::handler("shout", crate = hr, registry = COMMANDS, aliases = ["yell"])]
fn shout(text: &str) -> String {
    text.to_uppercase()
}

/// `#[dynamic]` below `#[handler]`, imported by name.
#[handler("whisper", registry = COMMANDS, crate = hr)]
#[dynamic]
fn whisper(text: &str) -> String {
    text.to_lowercase()
}

/// The `dynamic` option, with `crate` written first among the options.
#[handler("echo", crate = hr, dynamic, registry = self::COMMANDS)]
fn echo(text: &str) -> String {
    text.to_owned()
}

#[handler("double", crate = hr, registry = JOBS)]
async fn double(x: u32) -> u32 {
    x * 2
}

#[handler("increment", crate = hr, registry = HOOKS)]
fn increment(x: u32) -> u32 {
    x + 1
}

/// Default registry: any signature, checked when taken out.
#[handler("renamed.add", crate = hr)]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

/// Default registry, async: the handler type names `BoxFuture` through `hr`.
#[handler("renamed.len", crate = hr)]
async fn len(text: String) -> usize {
    text.len()
}

/// Two names from two attributes on one function: each registration is its own item.
#[handler("renamed.first", crate = hr)]
#[handler("renamed.second", crate = hr)]
fn stacked() -> u8 {
    7
}

/// Handlers in a module of their own, targeting the registry by a relative path.
pub mod nested {
    use hr::handler;

    #[handler("reverse", crate = hr, registry = super::COMMANDS)]
    fn reverse(text: &str) -> String {
        text.chars().rev().collect()
    }
}

/// Handlers in a module that sees the registry through a glob import.
pub mod glob {
    use super::*;

    #[handler("upper", crate = hr, registry = COMMANDS)]
    fn upper(text: &str) -> String {
        text.to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

    use hr::{Error, Kind};

    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        const VTABLE: RawWakerVTable = RawWakerVTable::new(
            |_| RawWaker::new(std::ptr::null(), &VTABLE),
            |_| {},
            |_| {},
            |_| {},
        );
        // SAFETY: the vtable's functions do nothing and never read the data pointer.
        let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        }
    }

    #[test]
    fn names_and_aliases_look_up_their_handler() {
        assert_eq!(COMMANDS.get("greet").unwrap()("ann"), "hello ann");
        assert_eq!(COMMANDS.get("hi").unwrap()("bob"), "hello bob");
        assert_eq!(COMMANDS.get("hello").unwrap()("cy"), "hello cy");
        assert_eq!(COMMANDS.get("reverse").unwrap()("abc"), "cba");
        assert_eq!(COMMANDS.get("upper").unwrap()("abc"), "ABC");
        let mut names: Vec<_> = COMMANDS
            .entries()
            .iter()
            .map(|entry| entry.name().to_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["echo", "greet", "reverse", "shout", "upper", "whisper"]
        );
        let greet = COMMANDS.entries().into_iter().find(|e| e.name() == "greet");
        let greet = greet.unwrap();
        assert_eq!(greet.kind(), Kind::Static);
        assert_eq!(greet.doc(), "Say hello.");
        assert_eq!(greet.aliases(), ["hi", "hello"]);
    }

    /// The only test that touches the dynamic names, so that no other sees them replaced.
    #[test]
    fn dynamic_handlers_are_replaced_with_their_aliases() {
        for name in ["shout", "whisper", "echo"] {
            let entry = COMMANDS.entries().into_iter().find(|e| e.name() == name);
            assert_eq!(
                entry.unwrap().kind(),
                Kind::Dynamic { version: 0 },
                "{name}"
            );
        }
        assert_eq!(COMMANDS.get("yell").unwrap()("hey"), "HEY");
        let previous = COMMANDS
            .replace("shout", |text| format!("{text}!"))
            .unwrap();
        assert_eq!(previous("abc"), "ABC");
        assert_eq!(COMMANDS.get("shout").unwrap()("abc"), "abc!");
        assert_eq!(COMMANDS.get("yell").unwrap()("abc"), "abc!");

        assert_eq!(COMMANDS.get("whisper").unwrap()("ABC"), "abc");
        COMMANDS.replace("whisper", |_| "shh".to_owned()).unwrap();
        assert_eq!(COMMANDS.get("whisper").unwrap()("ABC"), "shh");

        assert_eq!(COMMANDS.get("echo").unwrap()("x"), "x");
        COMMANDS.replace("echo", |text| text.repeat(2)).unwrap();
        assert_eq!(COMMANDS.get("echo").unwrap()("x"), "xx");

        assert!(matches!(
            COMMANDS.replace("greet", |text| text.to_owned()),
            Err(Error::NotDynamic { .. })
        ));
    }

    #[test]
    fn async_handlers_run_through_their_shim() {
        let double = JOBS.get("double").unwrap();
        assert_eq!(block_on(double(21)), 42);
        let len = hr::lookup::<fn(String) -> BoxFuture<'static, usize>>("renamed.len").unwrap();
        assert_eq!(block_on(len("four".to_owned())), 4);
    }

    #[test]
    fn owned_registries_wrap_declared_functions() {
        assert_eq!(HOOKS.call("increment", |f| f(41)), Ok(42));
        HOOKS.register("add_ten", Arc::new(|x| x + 10)).unwrap();
        assert_eq!(HOOKS.call("add_ten", |f| f(1)), Ok(11));
    }

    #[test]
    fn the_default_registry_checks_the_signature() {
        assert_eq!(
            hr::lookup::<fn(i32, i32) -> i32>("renamed.add").unwrap()(2, 3),
            5
        );
        assert!(matches!(
            hr::lookup::<fn(i32) -> i32>("renamed.add"),
            Err(Error::SignatureMismatch { .. })
        ));
        assert_eq!(hr::lookup::<fn() -> u8>("renamed.first").unwrap()(), 7);
        assert_eq!(hr::lookup::<fn() -> u8>("renamed.second").unwrap()(), 7);
    }

    #[test]
    fn registries_and_handlers_declared_in_a_function_body() {
        #[registry(crate = hr)]
        static LOCAL: Registry<fn(u8) -> u8>;

        #[handler("triple", crate = hr, registry = LOCAL)]
        fn triple(x: u8) -> u8 {
            x * 3
        }

        assert_eq!(LOCAL.get("triple").unwrap()(5), 15);
        assert_eq!(LOCAL.len(), 1);
    }
}
