//! Handler errors with `?`: `try_call` and `try_call_async` turn a handler's `Err` into
//! `Error::Handler`, whose source is the handler's error, beside the registry's own errors.

use std::fmt;

use handler_registry::{BoxFuture, Error, Registry};

#[derive(Debug, PartialEq)]
struct Refused(u32);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is refused", self.0)
    }
}

impl std::error::Error for Refused {}

type Check = fn(u32) -> Result<u32, Refused>;

fn checks() -> Registry<Check> {
    let checks: Registry<Check> = Registry::new();
    checks
        .register("even", |x| if x % 2 == 0 { Ok(x) } else { Err(Refused(x)) })
        .unwrap();
    checks
        .register("boom", |_| panic!("the check blew up"))
        .unwrap();
    checks
}

/// What an application writes: one `?` for every failure.
fn double_even(checks: &Registry<Check>, name: &str, x: u32) -> Result<u32, Error> {
    Ok(checks.try_call(name, |check| check(x))? * 2)
}

#[test]
fn ok_values_pass_through_and_errors_become_handler_errors() {
    let checks = checks();
    assert_eq!(double_even(&checks, "even", 4), Ok(8));

    let error = double_even(&checks, "even", 3).unwrap_err();
    let Error::Handler { name, source, .. } = &error else {
        panic!("expected Error::Handler, got {error:?}")
    };
    assert_eq!(name, "even");
    assert_eq!(source.downcast_ref::<Refused>(), Some(&Refused(3)));
    assert_eq!(error.to_string(), "handler `even` failed: 3 is refused");
    let through_source = std::error::Error::source(&error).expect("a source");
    assert_eq!(through_source.to_string(), "3 is refused");
    // A handler's error is a call, not a panic.
    let stats = checks.stats();
    let even = stats.iter().find(|stats| stats.name() == "even").unwrap();
    assert_eq!((even.calls(), even.panics()), (2, 0));
}

#[test]
fn registry_errors_keep_their_variants() {
    let checks = checks();
    assert!(matches!(
        double_even(&checks, "evn", 2),
        Err(Error::NotFound { suggestion: Some(s), .. }) if s == "even"
    ));
    assert!(matches!(
        double_even(&checks, "boom", 2),
        Err(Error::Panicked { message, .. }) if message == "the check blew up"
    ));
}

#[test]
fn handler_errors_are_equal_when_they_share_their_source() {
    let checks = checks();
    let first = double_even(&checks, "even", 3).unwrap_err();
    let again = double_even(&checks, "even", 3).unwrap_err();
    assert_eq!(first.clone(), first, "a clone shares the source");
    assert_ne!(
        first, again,
        "two failures are two sources, even with equal messages"
    );
    assert_eq!(first.to_string(), again.to_string());
}

#[test]
fn try_call_async_does_the_same_for_futures() {
    type Job = fn(u32) -> BoxFuture<'static, Result<u32, Refused>>;
    let jobs: Registry<Job> = Registry::new();
    jobs.register("even", |x| {
        Box::pin(async move {
            if x % 2 == 0 {
                Ok(x)
            } else {
                Err(Refused(x))
            }
        })
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        assert_eq!(jobs.try_call_async("even", |even| even(6)).await, Ok(6));
        let error = jobs
            .try_call_async("even", |even| even(5))
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "handler `even` failed: 5 is refused");
        assert!(matches!(
            jobs.try_call_async("odd", |even| even(5)).await,
            Err(Error::NotFound { .. })
        ));
    });
}
