//! The `tokio` feature's short forms of every wait with a deadline. The runtime-agnostic forms
//! take the runtime's sleep function (`timeout(after, sleep)`, `drained_async(name, timeout,
//! sleep)`) or a plain future to race; with the `tokio` feature, the `_after`/`_for` forms take
//! only a [`Duration`] and use `tokio::time::sleep`: [`AsyncCall::timeout_after`],
//! [`Registry::drained_for`] and [`Changes::recv_for`]. They must run inside a tokio runtime
//! with its time driver enabled, as `tokio::time::sleep` does.

use std::future::Future;
use std::time::Duration;

use crate::changes::{Change, Changes};
use crate::error::Error;
use crate::invoke::AsyncCall;
use crate::registry::Registry;

impl<F, M, Fut> AsyncCall<'_, F, Fut, M>
where
    F: Clone + Send + Sync + 'static,
    M: Clone + Send + Sync + 'static,
{
    /// [`timeout`](AsyncCall::timeout) on tokio's clock: the call resolves to
    /// [`Error::TimedOut`] if the handler has not finished `after` from now.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use std::time::Duration;
    /// use handler_registry::{BoxFuture, Error, Registry};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Error> {
    /// let jobs: Registry<fn() -> BoxFuture<'static, ()>> = Registry::new();
    /// jobs.register("forever", || Box::pin(std::future::pending()))?;
    ///
    /// let outcome = jobs
    ///     .call_async("forever", |forever| forever())
    ///     .timeout_after(Duration::from_secs(5))
    ///     .await;
    /// assert!(matches!(outcome, Err(Error::TimedOut { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub fn timeout_after(self, after: Duration) -> Self {
        self.timeout(after, tokio::time::sleep)
    }
}

impl<F: Clone + Send + Sync + 'static, M: Clone + Send + Sync + 'static> Registry<F, M> {
    /// [`drained_async`](Registry::drained_async) on tokio's clock: waits at most `timeout`
    /// for the calls still running on `name`'s retired handlers.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use handler_registry::Registry;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), handler_registry::Error> {
    /// let hooks: Registry<Arc<dyn Fn() -> u32 + Send + Sync>> = Registry::new();
    /// hooks.register("answer", Arc::new(|| 41))?;
    /// hooks.replace("answer", Arc::new(|| 42))?;
    /// hooks.drained_for("answer", Duration::from_secs(1)).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`drained`](Registry::drained).
    pub fn drained_for<'s>(
        &'s self,
        name: &'s str,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), Error>> + 's {
        self.drained_async(name, timeout, tokio::time::sleep)
    }
}

impl Changes {
    /// [`recv`](Changes::recv) on tokio's clock: the next change, waiting at most `timeout`;
    /// `None` if none came in time or the registry is gone.
    ///
    /// ```
    /// # extern crate registry_core as handler_registry;
    /// use std::time::Duration;
    /// use handler_registry::{ChangeKind, Registry};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), handler_registry::Error> {
    /// let hooks: Registry<fn() -> u8> = Registry::new();
    /// let mut changes = hooks.subscribe();
    /// assert!(changes.recv_for(Duration::from_millis(10)).await.is_none());
    /// hooks.register("tick", || 1)?;
    /// let change = changes.recv_for(Duration::from_secs(10)).await.unwrap();
    /// assert_eq!((change.name(), change.kind()), ("tick", ChangeKind::Registered));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn recv_for(&mut self, timeout: Duration) -> Option<Change> {
        tokio::time::timeout(timeout, self.recv())
            .await
            .ok()
            .flatten()
    }
}
