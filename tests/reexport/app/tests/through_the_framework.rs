//! The application's handlers, declared through the framework's re-exports, are found where
//! the framework and the application look for them.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use framework::__hr::{lookup, Error};

// The tests link the application's handlers only if they refer to the crate.
use registry_test_framework_app::FILTERS;

#[test]
fn handlers_join_the_frameworks_registry() {
    assert_eq!(
        framework::run("app.greet", "ann").as_deref(),
        Some("hello ann")
    );
    assert_eq!(
        framework::run("app.hi", "bob").as_deref(),
        Some("hello bob")
    );
    assert_eq!(framework::run("app.count", "a b c").as_deref(), Some("3"));
    assert_eq!(framework::run("version", "").as_deref(), Some("1.0"));
    assert_eq!(framework::run("app.nope", ""), None);
}

#[test]
fn dynamic_handlers_can_be_replaced() {
    assert_eq!(framework::run("app.shout", "hey").as_deref(), Some("HEY"));
    framework::COMMANDS
        .replace("app.shout", |text| format!("{text}!"))
        .unwrap();
    assert_eq!(framework::run("app.shout", "hey").as_deref(), Some("hey!"));
    assert!(matches!(
        framework::COMMANDS.replace("app.greet", |text| text.to_owned()),
        Err(Error::NotDynamic { .. })
    ));
}

#[test]
fn the_applications_own_registry_and_the_default_one() {
    assert_eq!(FILTERS.get("trim").unwrap()("  x  "), "x");
    assert_eq!(FILTERS.len(), 1);
    assert_eq!(lookup::<fn() -> u32>("app.answer").unwrap()(), 42);
}

#[test]
fn async_jobs_declared_through_a_macro_of_the_framework() {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(
        |_| RawWaker::new(std::ptr::null(), &VTABLE),
        |_| {},
        |_| {},
        |_| {},
    );
    // SAFETY: the vtable's functions do nothing and never read the data pointer.
    let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    let mut future = pin!(framework::JOBS.get("app.square").unwrap()(12));
    let Poll::Ready(squared) = future.as_mut().poll(&mut Context::from_waker(&waker)) else {
        panic!("the job does not wait on anything");
    };
    assert_eq!(squared, 144);
}
