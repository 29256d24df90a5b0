//! Helpers shared by the integration tests: driving futures without a runtime, reading errors.
//! Each test binary uses some of them.
#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use handler_registry::Error;

/// Polls `future` to completion on this thread with a no-op waker: enough for futures that
/// only wait on something that is ready when polled again.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// The name looked up and the suggestion of an [`Error::NotFound`].
pub fn not_found(error: &Error) -> (&str, Option<&str>) {
    match error {
        Error::NotFound {
            name, suggestion, ..
        } => (name, suggestion.as_deref()),
        other => panic!("expected NotFound, got {other:?}"),
    }
}
