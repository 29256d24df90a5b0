//! [`Replica`]: one process's registry kept in step with a key prefix in etcd.
//!
//! The rules, stated once:
//! - **A key is a handler.** `<prefix>/<name>` holds a value that the application's decode
//!   function turns into a handler. A put installs it with
//!   [`register_versioned`](registry_core::Registry::register_versioned) at the key's
//!   `mod_revision`: revisions only grow, so whatever order a replica sees changes in (a
//!   replay after a reconnect, a full read after a compaction), it never goes back to an older
//!   value. A delete removes a run-time name
//!   ([`unregister`](registry_core::Registry::unregister)) and gives a `#[dynamic]` name its
//!   declared handler back ([`restore`](registry_core::Registry::restore)).
//! - **Nothing is missed.** Start-up reads the prefix and watches from the revision after
//!   the read's. A broken watch is opened again from the revision after the last one applied, after
//!   a delay that doubles from 100 ms up to [`MAX_BACKOFF`] (with jitter) and starts over once
//!   a watch is set up again. A watch whose revision was compacted away is replaced by a full
//!   read (names whose key vanished meanwhile are removed or restored), then a watch from
//!   that read.
//! - **A bad value changes nothing.** A value that does not decode, a decode function that
//!   panics, a name the registry refuses: the replica keeps its current handler, logs a
//!   warning through `tracing` and shows the error in its status entry for the name. Nothing
//!   else stops.
//! - **Status follows the registry.** After every change the replica publishes
//!   `{"version", "drained", "error"}` for the name (src/status.rs). `drained` turns true when
//!   [`drained`](registry_core::Registry::drained) says every handler retired before the
//!   version is dropped: checked right after the change, and again at each
//!   [`ChangeKind::Drained`] the registry announces through
//!   [`subscribe`](registry_core::Registry::subscribe) (a slow call on the old handler keeps it
//!   false until its end). Writes are coalesced: a burst of changes to one name publishes the
//!   last state. Every status key is bound to the replica's lease, kept alive at a third of
//!   its TTL; a lease found expired is replaced and everything is published again.
//! - **User code runs with no lock of ours held**: the decode function, and the registry's
//!   calls (which run handlers' `Drop`).

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(
    clippy::cast_possible_truncation,
    reason = "backoff and lease durations are seconds and milliseconds well inside u64 and u32"
)]
#![allow(
    clippy::cast_precision_loss,
    reason = "a duration shown in seconds, where f64 precision is ample"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use registry_core::{ChangeKind, Changes, Registry};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::client::{Client, WatchMessage};
use crate::error::Error;
use crate::status::{self, Presence, Status};

/// What a decode function returns when a value is not a handler: any error, whose message
/// goes to the log and to the replica's status entry for the name.
pub type DecodeError = Box<dyn std::error::Error + Send + Sync>;

/// A decode function, boxed.
type DecodeFn<F> = dyn Fn(&str, &[u8]) -> Result<F, DecodeError> + Send + Sync;

/// The longest wait between two attempts to watch again after a lost connection.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The lease TTL of a replica's status entries by default: they vanish this long after the
/// replica dies.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(10);

/// The first wait after a lost connection.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Status entries written per transaction (etcd allows 128 operations by default).
const STATUS_BATCH: usize = 64;

/// How long the drain check waits after a `Drained` change, for the drain's record to go
/// (it goes right after the change is announced).
const DRAIN_SETTLE: Duration = Duration::from_secs(1);

/// A registry following a key prefix in etcd, and publishing its state for the fleet.
///
/// Start one per process with [`Replica::builder`]; it runs on the Tokio runtime it was
/// started on until [`shutdown`](Replica::shutdown) (which withdraws its status entries at
/// once) or until dropped (which stops it as a crash would: its entries vanish when its lease
/// expires).
///
/// ```no_run
/// use std::sync::Arc;
/// use handler_registry::{dynamic, handler, registry, Registry};
/// use registry_etcd::{Client, DecodeError, Replica};
///
/// type Greet = Arc<dyn Fn(&str) -> String + Send + Sync>;
///
/// #[registry]
/// static GREETERS: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;
///
/// #[handler("greet", registry = GREETERS)]
/// #[dynamic]
/// fn greet(name: &str) -> String {
///     format!("Hello, {name}!")
/// }
///
/// /// `{"template": "Ahoy, {name}!"}` at `/app/greet`.
/// fn decode(_name: &str, value: &[u8]) -> Result<Greet, DecodeError> {
///     #[derive(serde::Deserialize)]
///     struct Template { template: String }
///     let Template { template } = serde_json::from_slice(value)?;
///     Ok(Arc::new(move |name: &str| template.replace("{name}", name)))
/// }
///
/// # async fn example() -> Result<(), registry_etcd::Error> {
/// let etcd = Client::new("http://127.0.0.1:2379")?;
/// let replica = Replica::builder(&etcd, "/app").id("web-1").start(&GREETERS, decode).await?;
/// // A put of `/app/greet` reaches `GREETERS` at once; `/app-status/web-1/greet` says so.
/// replica.shutdown().await?;
/// # Ok(())
/// # }
/// ```
pub struct Replica {
    core: Arc<Core>,
    tasks: Vec<JoinHandle<()>>,
    applied: watch::Receiver<u64>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("id", &self.core.id)
            .field("prefix", &self.core.prefix)
            .field("revision", &*self.applied.borrow())
            .finish_non_exhaustive()
    }
}

/// Settings of a [`Replica`], from [`Replica::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start`"]
pub struct ReplicaBuilder {
    client: Client,
    prefix: String,
    id: Option<String>,
    status_prefix: Option<String>,
    lease_ttl: Duration,
}

impl Replica {
    /// Settings for a replica following the keys under `<prefix>/` with `client`.
    pub fn builder(client: &Client, prefix: &str) -> ReplicaBuilder {
        ReplicaBuilder {
            client: client.clone(),
            prefix: prefix.trim_end_matches('/').to_owned(),
            id: None,
            status_prefix: None,
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }

    /// A replica id for this process: the host name and the process id (`web-1-4242`).
    #[must_use]
    pub fn default_id() -> String {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|host| host.trim().replace(['/', ' '], "-"))
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| "replica".to_owned());
        format!("{host}-{}", std::process::id())
    }

    /// This replica's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.core.id
    }

    /// The prefix followed (names are the keys under `<prefix>/`).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.core.prefix
    }

    /// The prefix this replica publishes its status under (`<status prefix>/<id>/<name>`).
    #[must_use]
    pub fn status_prefix(&self) -> &str {
        &self.core.status_prefix
    }

    /// The revision of the last change applied (or of the last full read).
    #[must_use]
    pub fn revision(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Waits until this replica has applied every change of the prefix up to `revision`.
    ///
    /// A revision that changed nothing under the prefix is only passed when a later change
    /// under it is applied.
    ///
    /// # Errors
    /// [`Error::Lagging`] when `timeout` passes first; [`Error::Stopped`] if the replica stops.
    pub async fn wait_applied(&self, revision: u64, timeout: Duration) -> Result<(), Error> {
        let mut applied = self.applied.clone();
        let reached = tokio::time::timeout(timeout, async {
            applied.wait_for(|&now| now >= revision).await.is_ok()
        })
        .await;
        match reached {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::Stopped),
            Err(_) => Err(Error::Lagging {
                replica: self.core.id.clone(),
                revision,
                applied: *self.applied.borrow(),
                after: timeout,
            }),
        }
    }

    /// This replica's status for `name`, as it publishes it (`None` for a name it has not
    /// seen a key of).
    pub fn status(&self, name: &str) -> Option<Status> {
        self.core.lock().names.get(name).map(NameState::status)
    }

    /// This replica's status for every name it has seen a key of, sorted by name.
    #[must_use]
    pub fn statuses(&self) -> Vec<(String, Status)> {
        self.core
            .lock()
            .names
            .iter()
            .map(|(name, state)| (name.clone(), state.status()))
            .collect()
    }

    /// Stops following and withdraws this replica's status entries (its lease is revoked),
    /// so fleet-wide waits stop counting it at once. The registry keeps its handlers.
    ///
    /// # Errors
    /// When etcd cannot be reached to revoke the lease: the entries then vanish when it
    /// expires.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        self.stop();
        let lease = self.core.lock().lease;
        self.core.client.lease_revoke(lease).await
    }

    fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.stop();
    }
}

impl ReplicaBuilder {
    /// The replica's id in status keys (default: [`Replica::default_id`]). At most 128
    /// bytes, without `/`, whitespace or control characters; unique in the fleet.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Where status entries go (default: `<prefix>-status`); outside the watched prefix.
    pub fn status_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.status_prefix = Some(prefix.into().trim_end_matches('/').to_owned());
        self
    }

    /// How long the status entries outlive a replica that died (default
    /// [`DEFAULT_LEASE_TTL`]); whole seconds, at least 2 (etcd's shortest).
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// Reads the prefix into `registry`, publishes the replica's status, then follows the
    /// prefix in the background.
    ///
    /// `decode(name, value)` turns a key's value into a handler for `name` (an error leaves
    /// the name as it is). Every key under `<prefix>/` names a handler: run-time names are
    /// added and removed, `#[dynamic]` ones replaced and restored; static names cannot be
    /// driven (their status says so).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an unusable prefix, id or TTL; [`Error::Registry`] if the
    /// registry cannot be frozen; an etcd error if the first read or the status cannot be
    /// written (nothing is left behind in etcd then).
    pub async fn start<F, M, D>(
        self,
        registry: &'static Registry<F, M>,
        decode: D,
    ) -> Result<Replica, Error>
    where
        F: Clone + Send + Sync + 'static,
        M: Clone + Default + Send + Sync + 'static,
        D: Fn(&str, &[u8]) -> Result<F, DecodeError> + Send + Sync + 'static,
    {
        let config = self.validate()?;
        registry.freeze()?;
        // Before anything is installed, so that no `Drained` is missed.
        let changes = registry.subscribe();
        let (lease, _) = self.client.lease_grant(config.ttl).await?;
        let (applied, receiver) = watch::channel(0);
        let core = Arc::new(Core {
            client: self.client,
            id: config.id,
            prefix: self.prefix,
            names_dir: config.names_dir,
            status_prefix: config.status_prefix,
            status_dir: config.status_dir,
            ttl: config.ttl,
            state: Mutex::new(State {
                lease,
                ..State::default()
            }),
            publish: Notify::new(),
            check: Notify::new(),
            applied,
        });
        let follower = Arc::new(Follower {
            core: core.clone(),
            registry,
            decode: Box::new(decode),
        });
        let first = async {
            let revision = follower.resync().await?;
            follower.check_drains();
            core.flush().await?;
            Ok::<u64, Error>(revision)
        };
        let revision = match first.await {
            Ok(revision) => revision,
            Err(error) => {
                let _ = core.client.lease_revoke(lease).await;
                return Err(error);
            }
        };
        tracing::info!(replica = %core.id, prefix = %core.prefix, revision, "following");
        let tasks = vec![
            tokio::spawn(follower.clone().follow(revision + 1)),
            tokio::spawn(follower.drain(changes)),
            tokio::spawn(core.clone().publish()),
            tokio::spawn(core.clone().keep_alive()),
        ];
        Ok(Replica {
            core,
            tasks,
            applied: receiver,
        })
    }

    fn validate(&self) -> Result<Config, Error> {
        let invalid = |setting, value: &str, reason: &str| Error::InvalidConfig {
            setting,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        if self.prefix.is_empty() {
            return Err(invalid(
                "prefix",
                &self.prefix,
                "the prefix is empty; use a path such as `/my-service/handlers`",
            ));
        }
        let id = self.id.clone().unwrap_or_else(Replica::default_id);
        if id.is_empty()
            || id.len() > 128
            || id
                .chars()
                .any(|c| c == '/' || c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "replica id",
                &id,
                "a replica id is 1 to 128 bytes without `/`, whitespace or control characters",
            ));
        }
        let status_prefix = self
            .status_prefix
            .clone()
            .unwrap_or_else(|| status::default_prefix(&self.prefix));
        let names_dir = format!("{}/", self.prefix);
        let status_dir = format!("{status_prefix}/");
        if status_prefix.is_empty()
            || status_dir.starts_with(&names_dir)
            || names_dir.starts_with(&status_dir)
        {
            return Err(invalid(
                "status prefix",
                &status_prefix,
                "the status prefix must not contain the followed prefix nor be inside it",
            ));
        }
        let ttl = self.lease_ttl.as_secs();
        if ttl < 2 || self.lease_ttl.subsec_nanos() != 0 {
            return Err(invalid(
                "lease TTL",
                &format!("{:?}", self.lease_ttl),
                "a lease TTL is a whole number of seconds, at least 2",
            ));
        }
        Ok(Config {
            id,
            names_dir,
            status_prefix,
            status_dir,
            ttl,
        })
    }
}

struct Config {
    id: String,
    names_dir: String,
    status_prefix: String,
    status_dir: String,
    ttl: u64,
}

/// What the tasks of a replica share, whatever the registry's type.
struct Core {
    client: Client,
    id: String,
    prefix: String,
    /// `<prefix>/`.
    names_dir: String,
    status_prefix: String,
    /// `<status prefix>/`.
    status_dir: String,
    ttl: u64,
    state: Mutex<State>,
    /// Status entries to write: wakes the publisher.
    publish: Notify,
    /// Names whose drain to check now: wakes the drain task.
    check: Notify,
    /// The last revision applied.
    applied: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    names: BTreeMap<String, NameState>,
    /// Names whose status entry is not written yet.
    dirty: BTreeSet<String>,
    /// Whether the presence key is not written yet.
    presence_dirty: bool,
    /// Names whose drain the drain task checks at once.
    to_check: BTreeSet<String>,
    /// The revision of the last full read.
    synced: u64,
    lease: i64,
}

/// What a replica knows of one name.
#[derive(Default)]
struct NameState {
    /// The revision of the last change of the key seen (applied or refused).
    seen: u64,
    /// The revision of the last change applied: the status's `version`.
    version: u64,
    /// Whether the key existed at `seen`.
    present: bool,
    /// Whether a handler decoded from the key is installed now.
    installed: bool,
    drained: bool,
    error: Option<String>,
}

impl NameState {
    fn status(&self) -> Status {
        Status::new(self.version, self.drained, self.error.clone())
    }
}

impl Core {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock is held leaves nothing half-done: every update is a few
        // assignments.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records what happened to `name` and asks for its status to be published and its drain
    /// checked.
    fn record(&self, name: &str, update: impl FnOnce(&mut NameState)) {
        let mut state = self.lock();
        update(state.names.entry(name.to_owned()).or_default());
        state.dirty.insert(name.to_owned());
        state.to_check.insert(name.to_owned());
        drop(state);
        self.publish.notify_one();
        self.check.notify_one();
    }

    /// Writes the status entries not written yet, then the presence key if it changed.
    async fn flush(&self) -> Result<(), Error> {
        let (names, presence, writes, lease) = {
            let mut state = self.lock();
            let names = std::mem::take(&mut state.dirty);
            let presence = std::mem::take(&mut state.presence_dirty);
            let mut writes: Vec<(String, Vec<u8>)> = names
                .iter()
                .filter_map(|name| {
                    let status = state.names.get(name)?.status();
                    let value = serde_json::to_vec(&status).ok()?;
                    Some((format!("{}{}/{name}", self.status_dir, self.id), value))
                })
                .collect();
            if presence {
                let value = Presence {
                    synced: state.synced,
                };
                if let Ok(value) = serde_json::to_vec(&value) {
                    writes.push((format!("{}{}", self.status_dir, self.id), value));
                }
            }
            (names, presence, writes, state.lease)
        };
        // In order, the presence last: it says every entry of its read is written.
        for batch in writes.chunks(STATUS_BATCH) {
            if let Err(error) = self.client.put_all_with_lease(batch, lease).await {
                let mut state = self.lock();
                state.dirty.extend(names);
                state.presence_dirty |= presence;
                return Err(error);
            }
        }
        Ok(())
    }

    /// Writes status entries as they change, retrying with backoff while etcd is away.
    async fn publish(self: Arc<Self>) {
        let mut backoff = Backoff::new();
        loop {
            self.publish.notified().await;
            while let Err(error) = self.flush().await {
                let delay = backoff.next_delay();
                tracing::warn!(replica = %self.id, %error, retry_in_ms = delay.as_millis() as u64, "cannot publish status");
                tokio::time::sleep(delay).await;
            }
            backoff.reset();
        }
    }

    /// Keeps the lease alive; replaces it, and publishes everything again, if it expired.
    async fn keep_alive(self: Arc<Self>) {
        let period = Duration::from_millis(self.ttl * 1000 / 3).max(Duration::from_millis(500));
        loop {
            tokio::time::sleep(period).await;
            let lease = self.lock().lease;
            match self.client.lease_keep_alive(lease).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    tracing::warn!(replica = %self.id, lease, "the lease expired: status entries are published again under a new one");
                    match self.client.lease_grant(self.ttl).await {
                        Ok((lease, _)) => {
                            let mut state = self.lock();
                            state.lease = lease;
                            let names: Vec<String> = state.names.keys().cloned().collect();
                            state.dirty.extend(names);
                            state.presence_dirty = true;
                            drop(state);
                            self.publish.notify_one();
                        }
                        Err(error) => {
                            tracing::warn!(replica = %self.id, %error, "cannot grant a new lease");
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(replica = %self.id, %error, "cannot keep the lease alive");
                }
            }
        }
    }
}

/// The part of a replica that knows the registry's type.
struct Follower<F: 'static, M: 'static> {
    core: Arc<Core>,
    registry: &'static Registry<F, M>,
    decode: Box<DecodeFn<F>>,
}

impl<F, M> Follower<F, M>
where
    F: Clone + Send + Sync + 'static,
    M: Clone + Default + Send + Sync + 'static,
{
    /// The name a key holds, if it is under the followed prefix.
    fn name_of<'k>(&self, key: &'k str) -> Option<&'k str> {
        key.strip_prefix(&self.core.names_dir)
            .filter(|name| !name.is_empty())
    }

    /// The revision of the last change seen for `name` (0: none).
    fn seen(&self, name: &str) -> u64 {
        self.core
            .lock()
            .names
            .get(name)
            .map_or(0, |state| state.seen)
    }

    /// Installs the value of `name` written at `revision`, unless a later change was applied.
    fn apply_put(&self, name: &str, revision: u64, value: &[u8]) {
        if revision <= self.seen(name) {
            return;
        }
        let decoded = catch_unwind(AssertUnwindSafe(|| (self.decode)(name, value)));
        let installed = match decoded {
            Ok(Ok(handler)) => self
                .registry
                .register_versioned(name, revision, handler)
                .map_err(|error| error.to_string()),
            Ok(Err(error)) => Err(format!("the value does not decode: {error}")),
            Err(panic) => Err(format!(
                "the decode function panicked: {}",
                panic_message(&*panic)
            )),
        };
        match installed {
            Ok(()) => {
                tracing::info!(replica = %self.core.id, name, revision, "installed");
                self.core.record(name, |state| {
                    *state = NameState {
                        seen: revision,
                        version: revision,
                        present: true,
                        installed: true,
                        drained: false,
                        error: None,
                    };
                });
            }
            Err(error) => {
                let error = format!("revision {revision}: {error}");
                tracing::warn!(replica = %self.core.id, name, revision, %error, "value refused; the current handler stays");
                self.core.record(name, |state| {
                    state.seen = revision;
                    state.present = true;
                    state.error = Some(error);
                });
            }
        }
    }

    /// Removes (or restores) `name`, whose key was deleted at `revision`.
    fn apply_delete(&self, name: &str, revision: u64) {
        let installed = {
            let state = self.core.lock();
            match state.names.get(name) {
                Some(state) if revision > state.seen => state.installed,
                _ => return,
            }
        };
        let outcome = if installed {
            match self.registry.restore(name) {
                Ok(_) => Ok("restored its declared handler"),
                Err(registry_core::Error::NotDeclared { .. }) => self
                    .registry
                    .unregister(name)
                    .map(|_| "removed")
                    .map_err(|error| error.to_string()),
                Err(error) => Err(error.to_string()),
            }
        } else {
            Ok("had nothing installed")
        };
        match &outcome {
            Ok(what) => {
                tracing::info!(replica = %self.core.id, name, revision, "key deleted: {what}");
            }
            Err(error) => {
                tracing::warn!(replica = %self.core.id, name, revision, %error, "key deleted, but the name could not be removed");
            }
        }
        self.core.record(name, |state| {
            state.seen = revision;
            state.version = revision;
            state.present = false;
            state.installed = false;
            state.drained = false;
            state.error = outcome
                .err()
                .map(|error| format!("revision {revision}: deleted, but {error}"));
        });
    }

    /// Reads the whole prefix and applies it: keys changed since they were last seen are
    /// installed, names whose key is gone are removed or restored. Returns the read's revision.
    async fn resync(&self) -> Result<u64, Error> {
        let range = self.core.client.get_prefix(&self.core.names_dir).await?;
        let mut present = BTreeSet::new();
        for kv in &range.kvs {
            if let Some(name) = self.name_of(&kv.key) {
                present.insert(name);
                self.apply_put(name, kv.mod_revision, &kv.value);
            }
        }
        let gone: Vec<String> = self
            .core
            .lock()
            .names
            .iter()
            .filter(|(name, state)| state.present && !present.contains(name.as_str()))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            self.apply_delete(&name, range.revision);
        }
        let mut state = self.core.lock();
        state.synced = range.revision;
        state.presence_dirty = true;
        drop(state);
        self.core.publish.notify_one();
        self.core.applied.send_replace(range.revision);
        Ok(range.revision)
    }

    /// Watches the prefix from `next`, for as long as the replica runs.
    async fn follow(self: Arc<Self>, mut next: u64) {
        let core = &self.core;
        let mut backoff = Backoff::new();
        let mut resync = false;
        loop {
            if resync {
                match self.resync().await {
                    Ok(revision) => {
                        tracing::info!(replica = %core.id, revision, "read the prefix again");
                        next = revision + 1;
                        resync = false;
                    }
                    Err(error) => {
                        let delay = backoff.next_delay();
                        tracing::warn!(replica = %core.id, %error, retry_in_ms = delay.as_millis() as u64, "cannot read the prefix");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                }
            }
            match core.client.watch_prefix(&core.names_dir, next).await {
                Ok(mut watch) => loop {
                    match watch.next().await {
                        Ok(Some(WatchMessage::Created)) => {
                            backoff.reset();
                            tracing::debug!(replica = %core.id, from = next, "watching");
                        }
                        Ok(Some(WatchMessage::Events(events))) => {
                            for event in &events {
                                if let Some(name) = self.name_of(&event.kv.key) {
                                    if event.deleted {
                                        self.apply_delete(name, event.kv.mod_revision);
                                    } else {
                                        self.apply_put(
                                            name,
                                            event.kv.mod_revision,
                                            &event.kv.value,
                                        );
                                    }
                                }
                                next = next.max(event.kv.mod_revision + 1);
                            }
                            core.applied.send_replace(next - 1);
                        }
                        Ok(Some(WatchMessage::Compacted { compact_revision })) => {
                            tracing::warn!(replica = %core.id, from = next, compact_revision, "the revision to watch from is compacted: reading the prefix again");
                            resync = true;
                            break;
                        }
                        Ok(Some(WatchMessage::Canceled { reason })) => {
                            tracing::warn!(replica = %core.id, %reason, "etcd canceled the watch");
                            break;
                        }
                        Ok(None) => {
                            tracing::warn!(replica = %core.id, from = next, "etcd ended the watch");
                            break;
                        }
                        Err(error) => {
                            tracing::warn!(replica = %core.id, from = next, %error, "the watch broke");
                            break;
                        }
                    }
                },
                Err(error) => {
                    tracing::warn!(replica = %core.id, from = next, %error, "cannot watch");
                }
            }
            if !resync {
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }

    /// Marks drained, once the registry says so, the names whose version is current.
    fn settle(&self, name: &str, version: u64) {
        let mut state = self.core.lock();
        if let Some(entry) = state.names.get_mut(name) {
            if entry.version == version && !entry.drained {
                entry.drained = true;
                state.dirty.insert(name.to_owned());
                drop(state);
                self.core.publish.notify_one();
            }
        }
    }

    /// The names to check now, with their current versions.
    fn undrained(&self, only: Option<&BTreeSet<String>>) -> Vec<(String, u64)> {
        let state = self.core.lock();
        state
            .names
            .iter()
            .filter(|(name, entry)| !entry.drained && only.is_none_or(|only| only.contains(*name)))
            .map(|(name, entry)| (name.clone(), entry.version))
            .collect()
    }

    /// Checks without waiting the drains that changes asked for.
    fn check_drains(&self) {
        let asked = std::mem::take(&mut self.core.lock().to_check);
        for (name, version) in self.undrained(Some(&asked)) {
            if self.registry.drained(&name, Duration::ZERO).is_ok() {
                self.settle(&name, version);
            }
        }
    }

    /// Turns `drained` true as retired handlers are dropped: at once after a change when
    /// nothing runs on the old handler, at the registry's `Drained` change otherwise.
    async fn drain(self: Arc<Self>, mut changes: Changes) {
        loop {
            tokio::select! {
                () = self.core.check.notified() => self.check_drains(),
                change = changes.recv() => {
                    let Some(change) = change else { return };
                    if !matches!(change.kind(), ChangeKind::Drained | ChangeKind::Lagged { .. }) {
                        continue;
                    }
                    for (name, version) in self.undrained(None) {
                        // The drain's record goes right after `Drained` is announced: wait
                        // for it on the name announced, check the others as they are.
                        let done = if name == change.name() {
                            self.registry
                                .drained_async(&name, DRAIN_SETTLE, tokio::time::sleep)
                                .await
                                .is_ok()
                        } else {
                            self.registry.drained(&name, Duration::ZERO).is_ok()
                        };
                        if done {
                            self.settle(&name, version);
                        }
                    }
                    // In case a check asked for lost its wake-up to this branch.
                    self.check_drains();
                }
            }
        }
    }
}

/// The message of a panic's payload.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(message), _) => message,
        (_, Some(message)) => message,
        _ => "a payload that is not a string",
    }
}

/// Delays between attempts: doubling from [`FIRST_BACKOFF`] to [`MAX_BACKOFF`].
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff {
            next: FIRST_BACKOFF,
        }
    }

    fn reset(&mut self) {
        self.next = FIRST_BACKOFF;
    }

    /// The next delay, not shortened (the fleet's drain wait retries on these).
    pub(crate) fn next_exact(&mut self) -> Duration {
        let delay = self.next;
        self.next = (delay * 2).min(MAX_BACKOFF);
        delay
    }

    /// The next delay shortened by up to a fifth at random, so that replicas that lost etcd
    /// together do not return together.
    fn next_delay(&mut self) -> Duration {
        let delay = self.next_exact();
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(delay.as_nanos() as u64);
        let fifth = delay / 5;
        delay
            .checked_sub(fifth.mul_f64((hasher.finish() % 1000) as f64 / 1000.0))
            .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::{Backoff, FIRST_BACKOFF, MAX_BACKOFF};

    #[test]
    fn backoff_doubles_up_to_the_cap_and_starts_over() {
        let mut backoff = Backoff::new();
        let delays: Vec<_> = (0..10).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] <= FIRST_BACKOFF && delays[0] >= FIRST_BACKOFF * 4 / 5);
        assert!(delays.iter().all(|&delay| delay <= MAX_BACKOFF));
        assert!(delays[9] >= MAX_BACKOFF * 4 / 5, "{delays:?}");
        backoff.reset();
        assert!(backoff.next_delay() <= FIRST_BACKOFF);
    }

    #[test]
    fn exact_backoff_doubles_from_100_ms_up_to_the_cap() {
        let mut backoff = Backoff::new();
        let delays: Vec<_> = (0..8).map(|_| backoff.next_exact().as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    }
}
