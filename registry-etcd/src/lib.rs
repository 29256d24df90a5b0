//! Many replicas, one switchboard: the `#[dynamic]` and run-time names of a
//! [handler-registry](https://docs.rs/handler-registry) registry kept in step with a key
//! prefix in etcd, on every replica of a service.
//!
//! - A key `<prefix>/<name>` holds a value your decode function turns into a handler (JSON
//!   naming a compiled-in implementation, a template, ...). Its `mod_revision` is the
//!   handler's version, installed with `register_versioned`, so a replica never goes back to
//!   an older value. Deleting the key removes a run-time name and gives a `#[dynamic]` name
//!   its declared handler back (`Registry::restore`).
//! - A [`Replica`] reads the prefix at start-up and watches from the revision after that read;
//!   a lost connection is watched again from the last revision applied (backoff capped at
//!   5 s); a compacted revision triggers a full read.
//! - Each replica publishes its state per name under `<prefix>-status/<replica>/<name>`,
//!   bound to a lease: `{"version": u64, "drained": bool, "error": string or null}`
//!   ([`Status`]). A bad value leaves the replica on its current handler, is logged through
//!   `tracing` and shows up there.
//! - [`Fleet`] is the operator's side: compare-and-swap writes (two operators racing: one
//!   wins, the other gets [`Error::Conflict`]), the replicas' status, and
//!   [`Fleet::wait_drained`], which waits until every live replica reports a revision
//!   drained.
//!
//! Lookups never touch etcd: a replica writes into the registry when a change arrives, and
//! `get`/`call` read the registry as they always do.
//!
//! It talks to etcd through its v3 JSON gateway over HTTP ([`Client`]), served on every etcd
//! 3.4+ client URL: the gRPC client `etcd-client` runs `protoc` when it is built, and a fresh
//! machine has none.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use handler_registry::{dynamic, handler, registry, Registry};
//! use registry_etcd::{Client, DecodeError, Fleet, Replica};
//!
//! type Greet = Arc<dyn Fn(&str) -> String + Send + Sync>;
//!
//! #[registry]
//! static GREETERS: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;
//!
//! #[handler("greet", registry = GREETERS)]
//! #[dynamic]
//! fn greet(name: &str) -> String {
//!     format!("Hello, {name}!")
//! }
//!
//! /// `{"template": "Ahoy, {name}!"}` becomes a greeting.
//! fn decode(_name: &str, value: &[u8]) -> Result<Greet, DecodeError> {
//!     #[derive(serde::Deserialize)]
//!     struct Template { template: String }
//!     let Template { template } = serde_json::from_slice(value)?;
//!     if !template.contains("{name}") {
//!         return Err("the template has no `{name}`".into());
//!     }
//!     Ok(Arc::new(move |name: &str| template.replace("{name}", name)))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), registry_etcd::Error> {
//!     let etcd = Client::new("http://127.0.0.1:2379")?;
//!     // On every replica:
//!     let replica = Replica::builder(&etcd, "/app").start(&GREETERS, decode).await?;
//!
//!     // From anywhere (an operator's script):
//!     let fleet = Fleet::new(&etcd, "/app");
//!     let revision = fleet.put("greet", r#"{"template": "Ahoy, {name}!"}"#).await?;
//!     fleet.wait_drained("greet", revision, Duration::from_secs(5)).await?;
//!     assert_eq!(GREETERS.call("greet", |greet| greet("Ada")).unwrap(), "Ahoy, Ada!");
//!
//!     fleet.delete("greet").await?; // back to "Hello, Ada!" everywhere
//!     replica.shutdown().await
//! }
//! ```

mod client;
mod error;
mod fleet;
mod http;
mod replica;
mod status;

pub use client::{Client, KeyValue, Range, DEFAULT_REQUEST_TIMEOUT};
pub use error::Error;
pub use fleet::{Fleet, ReplicaView};
pub use replica::{DecodeError, Replica, ReplicaBuilder, DEFAULT_LEASE_TTL, MAX_BACKOFF};
pub use status::Status;
