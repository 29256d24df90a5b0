//! [`async_handler!`]: an async closure with state as an owned async handler.

/// Makes an async closure (one that captures state) into the owned handler an async registry
/// holds, `Arc<dyn Fn(..) -> BoxFuture<'static, T> + Send + Sync>`: the closure is wrapped in
/// an `Arc` and each future it returns is boxed. The arguments' types come from the registry's
/// handler type, as for a sync closure given to `register`.
///
/// Write it as a `move` closure whose body is the future: `async_handler!(move |x| async move
/// { .. })`. The state it captures is shared by every call: clone what each future needs to
/// own inside the body, before the `async move` block.
///
/// ```
/// # extern crate registry_core as handler_registry;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use handler_registry::{async_handler, BoxFuture, Registry};
///
/// type Job = Arc<dyn Fn(u64) -> BoxFuture<'static, u64> + Send + Sync>;
///
/// # async fn example() -> Result<(), handler_registry::Error> {
/// let jobs: Registry<Job> = Registry::new();
/// let total = Arc::new(AtomicU64::new(0));
/// let counter = Arc::clone(&total);
/// jobs.register(
///     "add",
///     async_handler!(move |x| {
///         let counter = Arc::clone(&counter);
///         async move { counter.fetch_add(x, Ordering::Relaxed) + x }
///     }),
/// )?;
/// assert_eq!(jobs.call_async("add", |add| add(2)).await?, 2);
/// assert_eq!(jobs.call_async("add", |add| add(3)).await?, 5);
/// assert_eq!(total.load(Ordering::Relaxed), 5);
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
#[macro_export]
macro_rules! async_handler {
    (move |$($arg:ident $(: $ty:ty)?),* $(,)?| $body:expr) => {
        $crate::__private::Arc::new(move |$($arg $(: $ty)?),*| {
            let future: $crate::BoxFuture<'static, _> = $crate::__private::Box::pin($body);
            future
        })
    };
}
