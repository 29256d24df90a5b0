//! [`Client`]: etcd's v3 API through its JSON gateway (`/v3/kv/range`, `/v3/kv/put`,
//! `/v3/kv/txn`, `/v3/watch`, `/v3/lease/*`), with keys and values in base64 and 64-bit numbers
//! as strings, as the gateway writes them.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use crate::error::Error;
use crate::http::{Endpoint, Http, Lines};

/// How long a unary request may take by default: [`Client::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A client of etcd's v3 API over its JSON gateway (HTTP/1.1, on every etcd 3.4+ client URL).
///
/// It speaks plain HTTP to the endpoints given, trying them in turn; it holds a few idle
/// connections and is cheap to clone (clones share them). Every unary request is bounded by
/// [`request_timeout`](Client::request_timeout). It needs a Tokio runtime.
///
/// Why not the gRPC client `etcd-client`: it generates its code with `protoc` when it is
/// built, which a fresh machine does not have; the gateway needs nothing but an HTTP client.
///
/// ```no_run
/// # async fn example() -> Result<(), registry_etcd::Error> {
/// use registry_etcd::Client;
///
/// let etcd = Client::new("http://127.0.0.1:2379")?;
/// let revision = etcd.put("/app/text.greet", r#"{"template": "Ahoy, {name}!"}"#).await?;
/// let value = etcd.get("/app/text.greet").await?.expect("just written");
/// assert_eq!(value.mod_revision, revision);
/// // Only if nobody wrote it since: a compare-and-swap on its revision.
/// etcd.compare_and_swap("/app/text.greet", revision, "{}").await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    http: Arc<Http>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let endpoints: Vec<&str> = self
            .http
            .endpoints()
            .iter()
            .map(|endpoint| endpoint.url.as_str())
            .collect();
        f.debug_struct("Client")
            .field("endpoints", &endpoints)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A key and its value, as etcd stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyValue {
    /// The key (keys that are not UTF-8 are skipped by this crate).
    pub key: String,
    /// The value's bytes.
    pub value: Vec<u8>,
    /// The revision of the key's last change: the handler version of a followed name.
    pub mod_revision: u64,
    /// The revision at which the key was created (since it was last deleted).
    pub create_revision: u64,
    /// How many times the key was written since it was created.
    pub version: u64,
}

/// A read of a range of keys: the keys and the cluster's revision when they were read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Range {
    /// The keys found, sorted.
    pub kvs: Vec<KeyValue>,
    /// The store's revision at the read: a watch from `revision + 1` misses nothing after it.
    pub revision: u64,
}

impl Client {
    /// A client of the etcd members at `endpoints`: one client URL (`http://127.0.0.1:2379`) or
    /// several separated by commas. Connects lazily, at the first request.
    ///
    /// # Errors
    /// [`Error::InvalidEndpoint`] for an endpoint that is not `http://host[:port]` (TLS is not
    /// supported; the port defaults to 2379).
    pub fn new(endpoints: &str) -> Result<Client, Error> {
        let endpoints = endpoints
            .split(',')
            .filter(|endpoint| !endpoint.trim().is_empty())
            .map(Endpoint::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if endpoints.is_empty() {
            return Err(Error::InvalidEndpoint {
                endpoint: String::new(),
                reason: "no endpoint given; etcd's client URL is usually `http://127.0.0.1:2379`"
                    .to_owned(),
            });
        }
        Ok(Client {
            http: Arc::new(Http::new(endpoints)),
            timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// Bounds every unary request (not watches) by `timeout` (5 s by default).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// The bound of unary requests.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    async fn call<T: DeserializeOwned>(&self, path: &'static str, body: Value) -> Result<T, Error> {
        let bytes = self
            .http
            .post(path, body.to_string().into_bytes(), self.timeout)
            .await?;
        parse(path, &bytes)
    }

    /// The key `key` and its value, if it exists.
    ///
    /// # Errors
    /// When etcd cannot be reached or refuses: see [`Error`].
    pub async fn get(&self, key: &str) -> Result<Option<KeyValue>, Error> {
        let reply: RangeReply = self
            .call("/v3/kv/range", json!({ "key": encode(key) }))
            .await?;
        Ok(reply.into_range().kvs.into_iter().next())
    }

    /// Every key that starts with `prefix`, sorted, and the revision of the read.
    ///
    /// # Errors
    /// When etcd cannot be reached or refuses: see [`Error`].
    pub async fn get_prefix(&self, prefix: &str) -> Result<Range, Error> {
        let reply: RangeReply = self
            .call(
                "/v3/kv/range",
                json!({ "key": encode(prefix), "range_end": prefix_end(prefix) }),
            )
            .await?;
        Ok(reply.into_range())
    }

    /// The store's current revision.
    ///
    /// # Errors
    /// When etcd cannot be reached or refuses: see [`Error`].
    pub async fn revision(&self) -> Result<u64, Error> {
        let reply: RangeReply = self
            .call(
                "/v3/kv/range",
                json!({ "key": encode("\0"), "count_only": true }),
            )
            .await?;
        Ok(reply.header.revision)
    }

    /// Writes `value` under `key` and returns the revision of the write (the key's new
    /// `mod_revision`).
    ///
    /// # Errors
    /// When etcd cannot be reached or refuses: see [`Error`].
    pub async fn put(&self, key: &str, value: impl AsRef<[u8]>) -> Result<u64, Error> {
        let reply: HeaderOnly = self
            .call(
                "/v3/kv/put",
                json!({ "key": encode(key), "value": BASE64.encode(value) }),
            )
            .await?;
        Ok(reply.header.revision)
    }

    /// Writes several keys bound to `lease` in one transaction.
    pub(crate) async fn put_all_with_lease(
        &self,
        entries: &[(String, Vec<u8>)],
        lease: i64,
    ) -> Result<u64, Error> {
        let success: Vec<Value> = entries
            .iter()
            .map(|(key, value)| {
                json!({ "request_put": {
                    "key": encode(key), "value": BASE64.encode(value), "lease": lease.to_string()
                } })
            })
            .collect();
        let reply: TxnReply = self
            .call("/v3/kv/txn", json!({ "success": success }))
            .await?;
        Ok(reply.header.revision)
    }

    /// Deletes `key`; returns the revision of the deletion, or `None` if there was no such key.
    ///
    /// # Errors
    /// When etcd cannot be reached or refuses: see [`Error`].
    pub async fn delete(&self, key: &str) -> Result<Option<u64>, Error> {
        let reply: DeleteReply = self
            .call("/v3/kv/deleterange", json!({ "key": encode(key) }))
            .await?;
        Ok((reply.deleted > 0).then_some(reply.header.revision))
    }

    /// Writes `value` under `key` only if the key's `mod_revision` is still `expected` (0: only
    /// if the key does not exist), in one transaction; returns the revision of the write.
    ///
    /// # Errors
    /// [`Error::Conflict`] with the key's current revision when another write came first
    /// (nothing is written); otherwise when etcd cannot be reached or refuses.
    pub async fn compare_and_swap(
        &self,
        key: &str,
        expected: u64,
        value: impl AsRef<[u8]>,
    ) -> Result<u64, Error> {
        let then = json!({ "request_put": { "key": encode(key), "value": BASE64.encode(value) } });
        self.compare_and(key, expected, then).await
    }

    /// Deletes `key` only if its `mod_revision` is still `expected`; returns the revision of the
    /// deletion.
    ///
    /// # Errors
    /// As [`compare_and_swap`](Client::compare_and_swap).
    pub async fn compare_and_delete(&self, key: &str, expected: u64) -> Result<u64, Error> {
        let then = json!({ "request_delete_range": { "key": encode(key) } });
        self.compare_and(key, expected, then).await
    }

    async fn compare_and(&self, key: &str, expected: u64, then: Value) -> Result<u64, Error> {
        let request = json!({
            "compare": [{
                "key": encode(key),
                "target": "MOD",
                "result": "EQUAL",
                "mod_revision": expected.to_string(),
            }],
            "success": [then],
            // The key as it is now, to say what the conflict was.
            "failure": [{ "request_range": { "key": encode(key) } }],
        });
        let reply: TxnReply = self.call("/v3/kv/txn", request).await?;
        if reply.succeeded {
            return Ok(reply.header.revision);
        }
        let current = reply
            .responses
            .into_iter()
            .filter_map(|response| response.response_range)
            .flat_map(|range| range.into_range().kvs)
            .next()
            .map(|kv| kv.mod_revision);
        Err(Error::Conflict {
            key: key.to_owned(),
            expected,
            current,
        })
    }

    /// Compacts the store's history up to `revision`: older revisions can no longer be read
    /// or watched from.
    ///
    /// # Errors
    /// [`Error::Etcd`] if `revision` is already compacted or in the future; otherwise when etcd
    /// cannot be reached.
    pub async fn compact(&self, revision: u64) -> Result<(), Error> {
        let _: HeaderOnly = self
            .call(
                "/v3/kv/compaction",
                json!({ "revision": revision.to_string(), "physical": true }),
            )
            .await?;
        Ok(())
    }

    /// Grants a lease of `ttl` seconds; returns its id and the TTL granted.
    pub(crate) async fn lease_grant(&self, ttl: u64) -> Result<(i64, u64), Error> {
        let reply: LeaseReply = self
            .call("/v3/lease/grant", json!({ "TTL": ttl.to_string() }))
            .await?;
        if !reply.error.is_empty() || reply.id == 0 {
            return Err(Error::Etcd {
                request: "/v3/lease/grant",
                code: 0,
                message: reply.error,
            });
        }
        Ok((reply.id, reply.ttl))
    }

    /// Renews `lease`; returns the TTL it has again, or `None` if it no longer exists.
    pub(crate) async fn lease_keep_alive(&self, lease: i64) -> Result<Option<u64>, Error> {
        let reply: StreamReply<LeaseReply> = self
            .call("/v3/lease/keepalive", json!({ "ID": lease.to_string() }))
            .await?;
        let reply = reply.into_result("/v3/lease/keepalive")?;
        Ok((reply.ttl > 0).then_some(reply.ttl))
    }

    /// Ends `lease` now: the keys bound to it are deleted.
    pub(crate) async fn lease_revoke(&self, lease: i64) -> Result<(), Error> {
        let _: HeaderOnly = self
            .call("/v3/lease/revoke", json!({ "ID": lease.to_string() }))
            .await?;
        Ok(())
    }

    /// Watches every key under `prefix` from revision `start`.
    pub(crate) async fn watch_prefix(&self, prefix: &str, start: u64) -> Result<Watch, Error> {
        let request = json!({ "create_request": {
            "key": encode(prefix),
            "range_end": prefix_end(prefix),
            "start_revision": start.to_string(),
        } });
        let lines = self
            .http
            .stream("/v3/watch", request.to_string().into_bytes(), self.timeout)
            .await?;
        Ok(Watch { lines })
    }
}

/// A watch's stream of changes.
pub(crate) struct Watch {
    lines: Lines,
}

/// What a watch reported.
#[derive(Debug)]
pub(crate) enum WatchMessage {
    /// The watch is set up.
    Created,
    /// Changes, in revision order.
    Events(Vec<Event>),
    /// The start revision was compacted away: nothing after it can be watched from there.
    Compacted { compact_revision: u64 },
    /// etcd ended the watch for another reason.
    Canceled { reason: String },
}

/// One change of a watched key.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) deleted: bool,
    /// For a deletion, the key and the revision of the deletion only.
    pub(crate) kv: KeyValue,
}

impl Watch {
    /// The next message; `None` when the connection ends.
    pub(crate) async fn next(&mut self) -> Result<Option<WatchMessage>, Error> {
        loop {
            let Some(line) = self.lines.next().await? else {
                return Ok(None);
            };
            let reply: StreamReply<WatchReply> = parse("/v3/watch", &line)?;
            let reply = reply.into_result("/v3/watch")?;
            if reply.compact_revision > 0 {
                return Ok(Some(WatchMessage::Compacted {
                    compact_revision: reply.compact_revision,
                }));
            }
            if reply.canceled {
                return Ok(Some(WatchMessage::Canceled {
                    reason: reply.cancel_reason,
                }));
            }
            if reply.created {
                return Ok(Some(WatchMessage::Created));
            }
            let events: Vec<Event> = reply
                .events
                .into_iter()
                .filter_map(|event| {
                    Some(Event {
                        deleted: event.kind == "DELETE",
                        kv: event.kv.decode()?,
                    })
                })
                .collect();
            if !events.is_empty() {
                return Ok(Some(WatchMessage::Events(events)));
            }
            // A progress report without events: nothing to do.
        }
    }
}

/// A reply of the gateway to `request`, decoded from JSON.
fn parse<T: DeserializeOwned>(request: &'static str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|error| Error::Protocol {
        request,
        problem: format!("{error}: {}", String::from_utf8_lossy(bytes)),
    })
}

/// A key (or prefix) as the gateway wants it.
fn encode(key: &str) -> String {
    BASE64.encode(key)
}

/// The end of the range of keys starting with `prefix`: the prefix with its last byte below
/// 0xff increased (etcd's convention; `\0` means "to the end" when none is).
fn prefix_end(prefix: &str) -> String {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return BASE64.encode(end);
        }
    }
    BASE64.encode([0])
}

/// A 64-bit number the gateway writes as a string (absent when zero).
fn number<'de, D: Deserializer<'de>, N: TryFrom<i128>>(deserializer: D) -> Result<N, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Text(String),
        Integer(i128),
    }
    let value = match Number::deserialize(deserializer)? {
        Number::Text(text) => text.parse::<i128>().map_err(serde::de::Error::custom)?,
        Number::Integer(value) => value,
    };
    N::try_from(value).map_err(|_| serde::de::Error::custom("number out of range"))
}

#[derive(Deserialize, Default)]
struct Header {
    #[serde(default, deserialize_with = "number")]
    revision: u64,
}

#[derive(Deserialize)]
struct HeaderOnly {
    #[serde(default)]
    header: Header,
}

#[derive(Deserialize)]
struct RawKeyValue {
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
    #[serde(default, deserialize_with = "number")]
    mod_revision: u64,
    #[serde(default, deserialize_with = "number")]
    create_revision: u64,
    #[serde(default, deserialize_with = "number")]
    version: u64,
}

impl RawKeyValue {
    /// `None` for a key that is not UTF-8 or for base64 that does not decode (never sent by
    /// etcd): such keys cannot name a handler.
    fn decode(self) -> Option<KeyValue> {
        let key = String::from_utf8(BASE64.decode(self.key).ok()?).ok()?;
        let value = BASE64.decode(self.value).ok()?;
        Some(KeyValue {
            key,
            value,
            mod_revision: self.mod_revision,
            create_revision: self.create_revision,
            version: self.version,
        })
    }
}

#[derive(Deserialize)]
struct RangeReply {
    #[serde(default)]
    header: Header,
    #[serde(default)]
    kvs: Vec<RawKeyValue>,
}

impl RangeReply {
    fn into_range(self) -> Range {
        Range {
            kvs: self
                .kvs
                .into_iter()
                .filter_map(RawKeyValue::decode)
                .collect(),
            revision: self.header.revision,
        }
    }
}

#[derive(Deserialize)]
struct DeleteReply {
    #[serde(default)]
    header: Header,
    #[serde(default, deserialize_with = "number")]
    deleted: u64,
}

#[derive(Deserialize)]
struct TxnReply {
    #[serde(default)]
    header: Header,
    #[serde(default)]
    succeeded: bool,
    #[serde(default)]
    responses: Vec<TxnResponse>,
}

#[derive(Deserialize)]
struct TxnResponse {
    response_range: Option<RangeReply>,
}

#[derive(Deserialize)]
struct LeaseReply {
    #[serde(default, rename = "ID", deserialize_with = "number")]
    id: i64,
    #[serde(default, rename = "TTL", deserialize_with = "number")]
    ttl: u64,
    #[serde(default)]
    error: String,
}

/// A message of a streamed reply: a result, or an error in the stream.
#[derive(Deserialize)]
struct StreamReply<T> {
    result: Option<T>,
    error: Option<StreamError>,
}

#[derive(Deserialize)]
struct StreamError {
    #[serde(default, alias = "grpc_code")]
    code: i64,
    #[serde(default)]
    message: String,
}

impl<T> StreamReply<T> {
    fn into_result(self, request: &'static str) -> Result<T, Error> {
        match (self.result, self.error) {
            (_, Some(error)) => Err(Error::Etcd {
                request,
                code: error.code,
                message: error.message,
            }),
            (Some(result), None) => Ok(result),
            (None, None) => Err(Error::Protocol {
                request,
                problem: "a message with neither `result` nor `error`".to_owned(),
            }),
        }
    }
}

#[derive(Deserialize)]
struct WatchReply {
    #[serde(default)]
    created: bool,
    #[serde(default)]
    canceled: bool,
    #[serde(default, deserialize_with = "number")]
    compact_revision: u64,
    #[serde(default)]
    cancel_reason: String,
    #[serde(default)]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    /// `"DELETE"`, or absent for a put (the gateway leaves out zero values).
    #[serde(default, rename = "type")]
    kind: String,
    kv: RawKeyValue,
}

#[cfg(test)]
mod tests {
    use super::{prefix_end, BASE64};
    use base64::Engine as _;

    #[test]
    fn prefix_ends() {
        assert_eq!(BASE64.decode(prefix_end("/p/")).unwrap(), b"/p0");
        assert_eq!(BASE64.decode(prefix_end("a")).unwrap(), b"b");
        assert_eq!(BASE64.decode(prefix_end("")).unwrap(), [0]);
    }
}
