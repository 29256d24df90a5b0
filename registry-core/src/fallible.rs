//! Handlers that fail: [`Registry::try_call`] and [`Registry::try_call_async`] turn a handler's
//! `Err` into [`Error::Handler`], so that `?` carries both the registry's errors and the
//! handler's.

use std::future::Future;
use std::sync::Arc;

use crate::error::Error;
use crate::registry::Registry;

/// What a handler's error becomes: the boxed error every error type converts into.
type Source = Box<dyn std::error::Error + Send + Sync>;

fn handler_error(name: &str, error: impl Into<Source>) -> Error {
    Error::Handler {
        name: name.to_owned(),
        source: Arc::from(error.into()),
    }
}

impl<F: Clone + Send + Sync + 'static, M: Clone + Send + Sync + 'static> Registry<F, M> {
    /// [`call`](Registry::call) for a handler that returns a `Result`: its `Ok` value is
    /// returned, its error becomes [`Error::Handler`] (with the error as its
    /// [`source`](std::error::Error::source)), so one `?` handles a missing name, a panic and
    /// the handler's own failure alike. The call is counted in [`stats`](Registry::stats) as
    /// any other (an `Err` is not a panic).
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{Error, Registry};
    ///
    /// let parse: Registry<fn(&str) -> Result<u32, std::num::ParseIntError>> = Registry::new();
    /// parse.register("u32", |text| text.parse())?;
    ///
    /// assert_eq!(parse.try_call("u32", |f| f("42"))?, 42);
    /// let failed = parse.try_call("u32", |f| f("forty-two")).unwrap_err();
    /// assert!(matches!(&failed, Error::Handler { name, .. } if name == "u32"));
    /// assert_eq!(failed.to_string(), "handler `u32` failed: invalid digit found in string");
    /// assert!(std::error::Error::source(&failed).is_some());
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Handler`] when the handler returns an error; those of [`call`](Registry::call).
    pub fn try_call<T, E: Into<Source>>(
        &self,
        name: &str,
        f: impl FnOnce(&F) -> Result<T, E>,
    ) -> Result<T, Error> {
        self.call(name, f)?
            .map_err(|error| handler_error(name, error))
    }

    /// The async twin of [`try_call`](Registry::try_call): [`call_async`](Registry::call_async)
    /// for a handler whose future resolves to a `Result`.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use handler_registry::{BoxFuture, Error, Registry};
    ///
    /// type Job = fn(u32) -> BoxFuture<'static, Result<u32, String>>;
    /// # async fn example() -> Result<(), Error> {
    /// let jobs: Registry<Job> = Registry::new();
    /// jobs.register("half", |x| {
    ///     Box::pin(async move { if x % 2 == 0 { Ok(x / 2) } else { Err(format!("{x} is odd")) } })
    /// })?;
    /// assert_eq!(jobs.try_call_async("half", |half| half(8)).await?, 4);
    /// let odd = jobs.try_call_async("half", |half| half(3)).await.unwrap_err();
    /// assert_eq!(odd.to_string(), "handler `half` failed: 3 is odd");
    /// # Ok(())
    /// # }
    /// # fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     let mut future = std::pin::pin!(future);
    /// #     loop {
    /// #         if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
    /// #             return output;
    /// #         }
    /// #     }
    /// # }
    /// # block_on(example()).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::Handler`] when the handler's future resolves to an error; those of
    /// [`call_async`](Registry::call_async).
    pub fn try_call_async<'a, T, E, Fut>(
        &'a self,
        name: &'a str,
        f: impl FnOnce(&F) -> Fut,
    ) -> impl Future<Output = Result<T, Error>> + 'a
    where
        Fut: Future<Output = Result<T, E>> + 'a,
        E: Into<Source>,
    {
        let call = self.call_async(name, f);
        async move { call.await?.map_err(|error| handler_error(name, error)) }
    }
}
