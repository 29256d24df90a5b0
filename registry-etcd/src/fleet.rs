//! [`Fleet`]: the operator's side of a prefix: write handlers' values (with compare-and-swap),
//! list the replicas and what each runs, and wait until every live replica has the new
//! version drained.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::client::{Client, KeyValue, WatchMessage};
use crate::error::Error;
use crate::replica::Backoff;
use crate::status::{self, Record, Status};

/// The fleet of replicas following one prefix, as seen from etcd: for rollout scripts, admin
/// endpoints and tests.
///
/// ```no_run
/// # async fn example() -> Result<(), registry_etcd::Error> {
/// use std::time::Duration;
/// use registry_etcd::{Client, Fleet};
///
/// let fleet = Fleet::new(&Client::new("http://127.0.0.1:2379")?, "/app");
/// let current = fleet.get("greet").await?.map_or(0, |kv| kv.mod_revision);
/// // Fails with `Error::Conflict` if another operator changed it since it was read.
/// let revision = fleet
///     .compare_and_swap("greet", current, r#"{"template": "Ahoy, {name}!"}"#)
///     .await?;
/// // Every live replica now runs it, and no call runs on the old greeting anywhere.
/// let replicas = fleet.wait_drained("greet", revision, Duration::from_secs(5)).await?;
/// println!("{} replicas switched", replicas.len());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Fleet {
    client: Client,
    prefix: String,
    /// `<status prefix>/`.
    status_dir: String,
}

/// One live replica of a [`Fleet`], from [`Fleet::replicas`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaView {
    /// The replica's id.
    pub id: String,
    /// The revision of its last full read of the prefix.
    pub synced: u64,
    /// Its status per name, sorted by name.
    pub statuses: BTreeMap<String, Status>,
}

impl Fleet {
    /// The fleet following `<prefix>/`, whose replicas publish under `<prefix>-status` (the
    /// default of [`ReplicaBuilder::status_prefix`](crate::ReplicaBuilder::status_prefix)).
    #[must_use]
    pub fn new(client: &Client, prefix: &str) -> Fleet {
        let prefix = prefix.trim_end_matches('/').to_owned();
        Fleet {
            client: client.clone(),
            status_dir: format!("{}/", status::default_prefix(&prefix)),
            prefix,
        }
    }

    /// Reads the replicas' status under `prefix` instead.
    #[must_use]
    pub fn status_prefix(mut self, prefix: &str) -> Fleet {
        self.status_dir = format!("{}/", prefix.trim_end_matches('/'));
        self
    }

    /// The client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The key holding `name`'s value: `<prefix>/<name>`.
    #[must_use]
    pub fn key(&self, name: &str) -> String {
        format!("{}/{name}", self.prefix)
    }

    /// The key holding `name`'s value, if it exists (its `mod_revision` is the version the
    /// replicas install).
    ///
    /// # Errors
    /// When etcd cannot be reached or refuses.
    pub async fn get(&self, name: &str) -> Result<Option<KeyValue>, Error> {
        self.client.get(&self.key(name)).await
    }

    /// Writes `name`'s value whatever it was; returns the revision, the version the replicas
    /// will install. Prefer [`compare_and_swap`](Fleet::compare_and_swap) when several
    /// writers may race.
    ///
    /// # Errors
    /// When etcd cannot be reached or refuses.
    pub async fn put(&self, name: &str, value: impl AsRef<[u8]>) -> Result<u64, Error> {
        self.client.put(&self.key(name), value).await
    }

    /// Writes `name`'s value only if its key is still at revision `expected` (0: only if it
    /// does not exist); returns the new revision.
    ///
    /// # Errors
    /// [`Error::Conflict`], with the key's revision now, if another write came first: nothing
    /// is written. Otherwise when etcd cannot be reached or refuses.
    pub async fn compare_and_swap(
        &self,
        name: &str,
        expected: u64,
        value: impl AsRef<[u8]>,
    ) -> Result<u64, Error> {
        self.client
            .compare_and_swap(&self.key(name), expected, value)
            .await
    }

    /// Deletes `name`'s key: replicas remove a run-time name and restore a `#[dynamic]` one's
    /// declared handler. Returns the revision of the deletion, `None` if there was no key.
    ///
    /// # Errors
    /// When etcd cannot be reached or refuses.
    pub async fn delete(&self, name: &str) -> Result<Option<u64>, Error> {
        self.client.delete(&self.key(name)).await
    }

    /// Deletes `name`'s key only if it is still at revision `expected`.
    ///
    /// # Errors
    /// As [`compare_and_swap`](Fleet::compare_and_swap).
    pub async fn compare_and_delete(&self, name: &str, expected: u64) -> Result<u64, Error> {
        self.client
            .compare_and_delete(&self.key(name), expected)
            .await
    }

    /// The live replicas (those whose lease holds), sorted by id, with their status per name.
    ///
    /// # Errors
    /// When etcd cannot be reached or refuses.
    pub async fn replicas(&self) -> Result<Vec<ReplicaView>, Error> {
        let range = self.client.get_prefix(&self.status_dir).await?;
        let mut replicas: BTreeMap<&str, ReplicaView> = BTreeMap::new();
        let mut statuses: Vec<(&str, &str, Status)> = Vec::new();
        for kv in &range.kvs {
            match status::decode(&self.status_dir, &kv.key, &kv.value) {
                Some(Record::Presence {
                    replica,
                    presence: Some(presence),
                }) => {
                    replicas.insert(
                        replica,
                        ReplicaView {
                            id: replica.to_owned(),
                            synced: presence.synced,
                            statuses: BTreeMap::new(),
                        },
                    );
                }
                Some(Record::Entry {
                    replica,
                    name,
                    status: Some(status),
                }) => statuses.push((replica, name, status)),
                _ => {}
            }
        }
        for (replica, name, status) in statuses {
            if let Some(view) = replicas.get_mut(replica) {
                view.statuses.insert(name.to_owned(), status);
            }
        }
        Ok(replicas.into_values().collect())
    }

    /// Waits until every live replica reports revision `revision` of `name` (or a later one)
    /// drained: it runs that handler (or a later one) and no call runs on an older one any
    /// more. Returns the ids of the replicas counted. What an operator's rollout awaits after
    /// a write (`revision` is what [`put`](Fleet::put) or
    /// [`compare_and_swap`](Fleet::compare_and_swap) returned) or a delete.
    ///
    /// A replica is live while its lease holds: one that stops or dies stops being counted
    /// (at once after [`Replica::shutdown`](crate::Replica::shutdown), within its lease TTL
    /// after a crash). A replica that joined after `revision` without the name counts as done.
    /// With no live replica, it returns at once with an empty list. Waits on a watch of the
    /// status prefix, not by polling.
    ///
    /// # Errors
    /// [`Error::WaitTimeout`] listing the replicas not there yet with their status (an
    /// `error` in it says why a replica refused the value) when `timeout` passes first; if
    /// etcd could not even be read meanwhile, that error.
    pub async fn wait_drained(
        &self,
        name: &str,
        revision: u64,
        timeout: Duration,
    ) -> Result<Vec<String>, Error> {
        let mut view = View {
            status_dir: self.status_dir.clone(),
            name: name.to_owned(),
            revision,
            presence: BTreeMap::new(),
            statuses: BTreeMap::new(),
            read: false,
        };
        let mut last_error = None;
        let wait = self.watch_until_drained(&mut view, &mut last_error);
        match tokio::time::timeout(timeout, wait).await {
            Ok(replicas) => Ok(replicas),
            Err(_) => match last_error {
                Some(error) if !view.read => Err(error),
                _ => Err(Error::WaitTimeout {
                    name: name.to_owned(),
                    revision,
                    after: timeout,
                    pending: view.pending(),
                }),
            },
        }
    }

    /// Reads the status prefix, then follows it, until `view` says every replica is done;
    /// reads it again after a broken watch.
    async fn watch_until_drained(
        &self,
        view: &mut View,
        last_error: &mut Option<Error>,
    ) -> Vec<String> {
        let mut backoff = Backoff::new();
        loop {
            let range = match self.client.get_prefix(&view.status_dir).await {
                Ok(range) => range,
                Err(error) => {
                    *last_error = Some(error);
                    tokio::time::sleep(backoff.next_exact()).await;
                    continue;
                }
            };
            view.reset(&range.kvs);
            if let Some(done) = view.done() {
                return done;
            }
            let mut watch = match self
                .client
                .watch_prefix(&view.status_dir, range.revision + 1)
                .await
            {
                Ok(watch) => watch,
                Err(error) => {
                    *last_error = Some(error);
                    tokio::time::sleep(backoff.next_exact()).await;
                    continue;
                }
            };
            while let Ok(Some(message)) = watch.next().await {
                match message {
                    WatchMessage::Created => {}
                    WatchMessage::Events(events) => {
                        for event in events {
                            view.apply(&event.kv, event.deleted);
                        }
                        if let Some(done) = view.done() {
                            return done;
                        }
                    }
                    WatchMessage::Compacted { .. } | WatchMessage::Canceled { .. } => break,
                }
            }
        }
    }
}

/// What a wait knows of the replicas: their presence and their status for one name.
struct View {
    status_dir: String,
    name: String,
    revision: u64,
    /// Live replicas and the revision of their last full read.
    presence: BTreeMap<String, u64>,
    /// Each replica's status for the name.
    statuses: BTreeMap<String, Status>,
    /// Whether the status prefix was read at least once.
    read: bool,
}

impl View {
    fn reset(&mut self, kvs: &[KeyValue]) {
        self.presence.clear();
        self.statuses.clear();
        self.read = true;
        for kv in kvs {
            self.apply(kv, false);
        }
    }

    fn apply(&mut self, kv: &KeyValue, deleted: bool) {
        match status::decode(&self.status_dir, &kv.key, &kv.value) {
            Some(Record::Presence { replica, presence }) => match presence {
                Some(presence) if !deleted => {
                    self.presence.insert(replica.to_owned(), presence.synced);
                }
                _ => {
                    self.presence.remove(replica);
                }
            },
            Some(Record::Entry {
                replica,
                name,
                status,
            }) if name == self.name => match status {
                Some(status) if !deleted => {
                    self.statuses.insert(replica.to_owned(), status);
                }
                _ => {
                    self.statuses.remove(replica);
                }
            },
            _ => {}
        }
    }

    fn is_done(&self, replica: &str, synced: u64) -> bool {
        match self.statuses.get(replica) {
            Some(status) => status.version >= self.revision && status.drained,
            None => synced >= self.revision,
        }
    }

    /// The live replicas, if every one is done.
    fn done(&self) -> Option<Vec<String>> {
        self.presence
            .iter()
            .all(|(replica, &synced)| self.is_done(replica, synced))
            .then(|| self.presence.keys().cloned().collect())
    }

    fn pending(&self) -> Vec<(String, Option<Status>)> {
        self.presence
            .iter()
            .filter(|(replica, &synced)| !self.is_done(replica, synced))
            .map(|(replica, _)| (replica.clone(), self.statuses.get(replica).cloned()))
            .collect()
    }
}
