//! A JSON-RPC 2.0 service over HTTP whose every method is a `#[handler]`.
//!
//! Sync methods live in one registry, async ones in another; each call goes through
//! `Registry::call_guarded` / `Registry::call_async_guarded`, so it runs in a `handler` span, a panicking
//! method becomes a JSON-RPC internal error while the server keeps serving, async methods get a
//! deadline, and every call is counted (see `admin.stats`, which also shows the calls running
//! now). The sync registry holds owned closures, so `admin.set_greeting` can install a
//! `text.greet` built from its request next to the `#[handler]` functions.
//!
//! Every method declares its [`Access`] as its metadata (`meta = Access::Admin`): `admin.*` and
//! `debug.*` methods need `Authorization: Bearer <token>`, with the token from
//! `JSONRPC_ADMIN_TOKEN` or, unset, generated at start-up and printed once. Without it, the call
//! is refused with `UNAUTHORIZED` before the method runs, and `rpc.discover` lists only the
//! methods the caller may call.
//!
//! `GET /metrics` serves the calls in the Prometheus text format, through
//! `metrics-exporter-prometheus`; the registries report them with the `metrics` feature.
//!
//! ```text
//! $ JSONRPC_ADMIN_TOKEN=secret cargo run --features metrics --example jsonrpc_server
//! listening on http://127.0.0.1:40517
//! $ curl -s http://127.0.0.1:40517 -d '{"jsonrpc":"2.0","id":1,"method":"math.add","params":[2,3]}'
//! {"jsonrpc":"2.0","id":1,"result":5}
//! $ curl -s http://127.0.0.1:40517 -H 'Authorization: Bearer secret' \
//!     -d '{"jsonrpc":"2.0","id":2,"method":"admin.stats"}'
//! $ curl -s http://127.0.0.1:40517/metrics
//! ```
//!
//! The port is the first argument, or `JSONRPC_PORT`, or any free one. Logs (one `request` span
//! per HTTP request, a `handler` span per call) go to stderr.
//!
//! Built with `--features etcd` and started with `JSONRPC_ETCD=http://127.0.0.1:2379`, the
//! server is one replica of a fleet: `text.greet` follows the key `<prefix>/text.greet` in etcd
//! (`JSONRPC_ETCD_PREFIX`, default `/handler-registry/jsonrpc`; the replica's id is
//! `JSONRPC_REPLICA`, default host and pid), whose value is `{"template": "Ahoy, {name}!"}` or
//! `{"style": "formal"}`. A value that does not decode changes nothing (the replica's status
//! entry under `<prefix>-status/<replica>/text.greet` says why); deleting the key restores the
//! built-in greeting; `admin.set_greeting` writes the key with a compare-and-swap. See the
//! README's "A fleet driven from etcd".

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use handler_registry::{registry, BoxFuture, Error, Registry};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tracing::Instrument;

/// A sync method: its params in, a JSON result or a JSON-RPC error out. Owned, so that a method
/// can be a closure made at run time.
pub type Method = Arc<dyn Fn(Params) -> Result<Value, RpcError> + Send + Sync>;

/// An async method: `#[handler]` on an `async fn` with the same argument and output registers a
/// shim of this type.
pub type AsyncMethod = fn(Params) -> BoxFuture<'static, Result<Value, RpcError>>;

/// Who may call a method: every method's metadata, given with `meta = …` on its `#[handler]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Only a request with `Authorization: Bearer <admin token>`: `admin.*` and `debug.*`.
    Admin,
}

/// `Admin`, the stricter: what `Registry::register_versioned` gives a name that has no metadata
/// yet (it keeps the metadata of a name that has some, as `text.greet` does), so a method
/// installed without saying who may call it is never public by accident.
impl Default for Access {
    fn default() -> Self {
        Access::Admin
    }
}

/// Who is calling: what the request's `Authorization` header proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// No `Authorization` header.
    Anonymous,
    /// An `Authorization` header without the admin token.
    WrongToken,
    /// `Authorization: Bearer <admin token>`.
    Admin,
}

impl Caller {
    /// Reads the `Authorization` header of a request against the admin `token`.
    pub fn of(headers: &HeaderMap, token: &str) -> Caller {
        let Some(authorization) = headers.get(header::AUTHORIZATION) else {
            return Caller::Anonymous;
        };
        let bearer = authorization
            .to_str()
            .ok()
            .and_then(|value| value.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, presented)| presented.trim());
        match bearer {
            Some(presented) if same_secret(presented, token) => Caller::Admin,
            _ => Caller::WrongToken,
        }
    }

    /// The check of `Registry::call_guarded`: whether this caller may call a method with `access`,
    /// and if not, why.
    pub fn check(self, access: &Access) -> Result<(), String> {
        match (access, self) {
            (Access::Public, _) | (Access::Admin, Caller::Admin) => Ok(()),
            (Access::Admin, Caller::Anonymous) => {
                Err("this method needs `Authorization: Bearer <token>`".to_owned())
            }
            (Access::Admin, Caller::WrongToken) => {
                Err("the `Authorization` header does not hold the admin token".to_owned())
            }
        }
    }

    /// Whether this caller may call a method with `access`.
    pub fn may_call(self, access: Access) -> bool {
        self.check(&access).is_ok()
    }
}

/// Compares a presented token with the secret in time that does not depend on where they
/// differ (only on their lengths).
fn same_secret(presented: &str, secret: &str) -> bool {
    presented.len() == secret.len()
        && presented
            .bytes()
            .zip(secret.bytes())
            .fold(0, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// The admin token: `JSONRPC_ADMIN_TOKEN`, or a fresh random one (then `true`).
pub fn admin_token() -> Result<(Arc<str>, bool), String> {
    match std::env::var("JSONRPC_ADMIN_TOKEN") {
        Ok(token) if token.trim().is_empty() => Err(
            "JSONRPC_ADMIN_TOKEN is empty: set a token, or unset it to have one generated".into(),
        ),
        Ok(token) => Ok((token.trim().into(), false)),
        Err(std::env::VarError::NotPresent) => Ok((generate_token().into(), true)),
        Err(error) => Err(format!("JSONRPC_ADMIN_TOKEN: {error}")),
    }
}

/// 128 random bits in hex, without a dependency: `RandomState` hashers are keyed from the
/// operating system's randomness (each one differently), and the clock is mixed in.
fn generate_token() -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    (0..2u8)
        .map(|half| {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u128(now.as_nanos());
            hasher.write_u32(std::process::id());
            hasher.write_u8(half);
            format!("{:016x}", hasher.finish())
        })
        .collect()
}

/// The sync methods. The type is spelled out (not `Method`) because `#[registry]` reads it to
/// wrap each `#[handler]` function in an `Arc`, once, at freeze.
#[registry]
pub static METHODS: Registry<Arc<dyn Fn(Params) -> Result<Value, RpcError> + Send + Sync>, Access>;

/// The async methods.
#[registry]
pub static ASYNC_METHODS: Registry<AsyncMethod, Access>;

/// How long an async method may run before its call is dropped and answered with `TIMED_OUT`.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// How long `admin.set_greeting` waits for calls still running on the greeting it replaced.
/// Shorter than `CALL_TIMEOUT`, so that a slow drain is answered with `DRAIN_TIMEOUT` rather
/// than as a timed-out call.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// JSON-RPC 2.0 error codes, and the ones this service defines.
pub mod code {
    /// The body is not valid JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON is not a valid request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No method has this name.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The params do not fit the method.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The method panicked, or failed inside the server.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// The method did not finish within `CALL_TIMEOUT` (a server-defined code).
    pub const TIMED_OUT: i64 = -32000;
    /// The caller may not call the method: an `Access::Admin` method without the admin token
    /// (a server-defined code). The method did not run.
    pub const UNAUTHORIZED: i64 = -32001;
    /// `math.divide` by zero (an application code).
    pub const DIVISION_BY_ZERO: i64 = 1;
    /// `admin.set_greeting` offered a version that is not newer (an application code).
    pub const STALE_VERSION: i64 = 2;
    /// `admin.set_greeting` installed its greeting, but calls on the one it replaced were still
    /// running after `DRAIN_TIMEOUT` (an application code).
    pub const DRAIN_TIMEOUT: i64 = 3;
    /// In a fleet, `admin.set_greeting` lost a compare-and-swap: the greeting in etcd is not at
    /// the version the call expected (an application code).
    pub const CONFLICT: i64 = 4;
}

/// The `params` of a call, turned into a typed value by the method that receives it, and who
/// made the call.
pub struct Params {
    value: Value,
    caller: Caller,
}

impl Params {
    /// Who made the call.
    pub fn caller(&self) -> Caller {
        self.caller
    }

    /// Deserializes the params into `T`: by name (an object) or by position (an array, for
    /// structs and tuples); absent params are `null`. A mismatch is an `INVALID_PARAMS` error
    /// naming the problem, so methods can write `let Args { a, b } = params.parse()?;`.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, RpcError> {
        serde_json::from_value(self.value).map_err(|error| {
            RpcError::new(code::INVALID_PARAMS, "Invalid params").with_data(error.to_string())
        })
    }
}

/// Serializes a method's typed result.
pub fn reply<T: Serialize>(result: T) -> Result<Value, RpcError> {
    serde_json::to_value(result).map_err(|error| {
        RpcError::new(code::INTERNAL_ERROR, "Internal error").with_data(error.to_string())
    })
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcError {
    code: i64,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
}

impl RpcError {
    /// An error without data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches the `data` member.
    pub fn with_data(mut self, data: impl Into<Value>) -> Self {
        self.data = Some(data.into());
        self
    }
}

/// Arithmetic and text: sync methods.
mod calc {
    use std::sync::Arc;

    use handler_registry::{dynamic, handler};
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    use super::{code, reply, Access, Method, Params, RpcError};

    #[derive(Deserialize)]
    struct Operands {
        a: i64,
        b: i64,
    }

    /// Add two integers: `{"a": 2, "b": 3}` or `[2, 3]`.
    #[handler("math.add", registry = super::METHODS, aliases = ["add"], meta = Access::Public)]
    fn add(params: Params) -> Result<Value, RpcError> {
        let Operands { a, b } = params.parse()?;
        match a.checked_add(b) {
            Some(sum) => reply(sum),
            None => Err(RpcError::new(code::INVALID_PARAMS, "Invalid params")
                .with_data("the sum does not fit in a 64-bit integer")),
        }
    }

    #[derive(Deserialize)]
    struct Division {
        dividend: i64,
        divisor: i64,
    }

    #[derive(Serialize)]
    struct Quotient {
        quotient: i64,
        remainder: i64,
    }

    /// Divide integers: `{"dividend": 7, "divisor": 2}` gives the quotient and the remainder.
    #[handler("math.divide", registry = super::METHODS, meta = Access::Public)]
    fn divide(params: Params) -> Result<Value, RpcError> {
        let Division { dividend, divisor } = params.parse()?;
        match (dividend.checked_div(divisor), dividend.checked_rem(divisor)) {
            (Some(quotient), Some(remainder)) => reply(Quotient {
                quotient,
                remainder,
            }),
            _ if divisor == 0 => Err(RpcError::new(code::DIVISION_BY_ZERO, "division by zero")),
            _ => Err(RpcError::new(code::INVALID_PARAMS, "Invalid params")
                .with_data("the quotient does not fit in a 64-bit integer")),
        }
    }

    #[derive(Deserialize)]
    struct Person {
        name: String,
    }

    /// Greet someone: `{"name": "Ada"}`. Replaced at run time with `admin.set_greeting`.
    #[handler("text.greet", registry = super::METHODS, meta = Access::Public)]
    #[dynamic]
    pub fn greet(params: Params) -> Result<Value, RpcError> {
        let Person { name } = params.parse()?;
        reply(format!("Hello, {name}!"))
    }

    /// Where a greeting template puts the name.
    pub const NAME: &str = "{name}";

    /// A `text.greet` that puts the name in `template` (which contains `NAME`), e.g.
    /// `"Ahoy, {name}!"`.
    pub fn greeting(template: String) -> Method {
        Arc::new(move |params: Params| {
            let Person { name } = params.parse()?;
            reply(template.replace(NAME, &name))
        })
    }

    /// Panic on purpose, to show that the server keeps serving.
    #[handler("debug.panic", registry = super::METHODS, meta = Access::Admin)]
    fn panic(_: Params) -> Result<Value, RpcError> {
        panic!("debug.panic was called");
    }
}

/// A key-value store and timers: async methods.
mod store {
    use std::collections::BTreeMap;
    use std::sync::LazyLock;
    use std::time::Duration;

    use handler_registry::handler;
    use serde::Deserialize;
    use serde_json::{json, Value};
    use tokio::sync::RwLock;

    use super::{reply, Access, Params, RpcError};

    static STORE: LazyLock<RwLock<BTreeMap<String, Value>>> = LazyLock::new(RwLock::default);

    #[derive(Deserialize)]
    struct Entry {
        key: String,
        value: Value,
    }

    #[derive(Deserialize)]
    struct Key {
        key: String,
    }

    /// Store a JSON value under a key: `{"key": "k", "value": ...}`; returns the previous value
    /// or `null`.
    #[handler("kv.put", registry = super::ASYNC_METHODS, meta = Access::Public)]
    async fn put(params: Params) -> Result<Value, RpcError> {
        let Entry { key, value } = params.parse()?;
        let previous = STORE.write().await.insert(key, value);
        reply(previous)
    }

    /// The value stored under a key, or `null`: `{"key": "k"}`.
    #[handler("kv.get", registry = super::ASYNC_METHODS, meta = Access::Public)]
    async fn get(params: Params) -> Result<Value, RpcError> {
        let Key { key } = params.parse()?;
        let value = STORE.read().await.get(&key).cloned();
        reply(value)
    }

    #[derive(Deserialize)]
    struct Nap {
        ms: u64,
    }

    /// Wait `{"ms": n}` milliseconds, then answer; past the call deadline, the call times out.
    #[handler("util.sleep", registry = super::ASYNC_METHODS, meta = Access::Public)]
    async fn sleep(params: Params) -> Result<Value, RpcError> {
        let Nap { ms } = params.parse()?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        reply(json!({ "slept_ms": ms }))
    }

    /// Panic after suspending once, to show that a panic in a later poll is caught too.
    #[handler("debug.panic_later", registry = super::ASYNC_METHODS, meta = Access::Admin)]
    async fn panic_later(_: Params) -> Result<Value, RpcError> {
        tokio::task::yield_now().await;
        panic!("debug.panic_later was polled again");
    }
}

/// Introspection and hot swap: methods about the service itself.
mod admin {
    use std::collections::BTreeMap;

    use handler_registry::{handler, Error, Kind};
    use serde::{Deserialize, Serialize};
    use serde_json::{json, Value};

    use super::{
        calc, code, reply, Access, Params, RpcError, ASYNC_METHODS, DRAIN_TIMEOUT, METHODS,
    };

    /// The method `admin.set_greeting` replaces.
    const GREET: &str = "text.greet";

    #[derive(Serialize)]
    struct Description {
        name: String,
        aliases: Vec<String>,
        doc: String,
        #[serde(rename = "async")]
        is_async: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
    }

    /// List the methods the caller may call, with their aliases and documentation (`version`
    /// marks hot-swappable ones); `admin.*` and `debug.*` only with the admin token.
    #[handler("rpc.discover", registry = super::METHODS, meta = Access::Public)]
    fn discover(params: Params) -> Result<Value, RpcError> {
        let caller = params.caller();
        let sync = METHODS.entries().into_iter().map(|entry| (entry, false));
        let not_sync = ASYNC_METHODS
            .entries()
            .into_iter()
            .map(|entry| (entry, true));
        let mut methods: Vec<Description> = sync
            .chain(not_sync)
            .filter(|(entry, _)| caller.may_call(*entry.meta()))
            .map(|(entry, is_async)| Description {
                name: entry.name().to_owned(),
                aliases: entry.aliases().iter().map(ToString::to_string).collect(),
                doc: entry.doc().to_owned(),
                is_async,
                version: match entry.kind() {
                    Kind::Dynamic { version } => Some(version),
                    _ => None,
                },
            })
            .collect();
        methods.sort_by(|a, b| a.name.cmp(&b.name));
        reply(json!({ "methods": methods }))
    }

    /// The built-in greetings, for `{"style": ...}` instead of a template.
    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Style {
        Plain,
        Formal,
        Pirate,
    }

    impl Style {
        /// The greeting's template.
        pub fn template(self) -> &'static str {
            match self {
                Style::Plain => "Hello, {name}!",
                Style::Formal => "Good day to you, {name}.",
                Style::Pirate => "Ahoy, {name}!",
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Swap {
        template: Option<String>,
        style: Option<Style>,
        version: Option<u64>,
    }

    #[derive(Serialize)]
    struct Swapped {
        method: &'static str,
        version: u64,
        /// No call is running on the replaced greeting any more.
        drained: bool,
    }

    /// Hot-swap `text.greet`: `{"template": "Ahoy, {name}!", "version": n}` (or a built-in
    /// `"style": "plain" | "formal" | "pirate"` instead of `template`), where `n` must be greater
    /// than the installed version. Answers once no call runs on the replaced greeting.
    ///
    /// In a fleet (`--features etcd` and `JSONRPC_ETCD`), the greeting is written to etcd with
    /// a compare-and-swap instead, so versions have one source: `n` is the version replaced
    /// (the key's revision, 0 when there is no key; left out, the revision read just before),
    /// and the answer comes once every live replica runs the new one and has drained the old.
    #[handler("admin.set_greeting", registry = super::ASYNC_METHODS, meta = Access::Admin)]
    async fn set_greeting(params: Params) -> Result<Value, RpcError> {
        let Swap {
            template,
            style,
            version,
        } = params.parse()?;
        let template = match (template, style) {
            (Some(template), None) => template,
            (None, Some(style)) => style.template().to_owned(),
            _ => {
                return Err(RpcError::new(code::INVALID_PARAMS, "Invalid params")
                    .with_data("give either `template` or `style`"))
            }
        };
        if !template.contains(calc::NAME) {
            return Err(RpcError::new(code::INVALID_PARAMS, "Invalid params").with_data(
                "the template must contain `{name}` where the name goes, e.g. \"Ahoy, {name}!\"",
            ));
        }
        #[cfg(feature = "etcd")]
        if let Some(fleet) = super::fleet::FLEET.get() {
            return super::fleet::set_greeting(fleet, &template, version).await;
        }
        let Some(version) = version else {
            return Err(
                RpcError::new(code::INVALID_PARAMS, "Invalid params").with_data(
                    "give `version`, greater than the installed one (`rpc.discover` shows it)",
                ),
            );
        };
        match METHODS.register_versioned(GREET, version, calc::greeting(template)) {
            Ok(()) => {}
            Err(
                error @ Error::Stale {
                    current, offered, ..
                },
            ) => {
                return Err(RpcError::new(code::STALE_VERSION, error.to_string())
                    .with_data(json!({ "current": current, "offered": offered })))
            }
            Err(error) => return Err(RpcError::new(code::INTERNAL_ERROR, error.to_string())),
        }
        match METHODS
            .drained_async(GREET, DRAIN_TIMEOUT, tokio::time::sleep)
            .await
        {
            Ok(()) => reply(Swapped {
                method: GREET,
                version,
                drained: true,
            }),
            // The new greeting is installed; only the wait for the old one's calls gave up.
            Err(error @ Error::DrainTimeout { in_flight, .. }) => {
                let data = json!({ "method": GREET, "version": version, "in_flight": in_flight });
                Err(RpcError::new(code::DRAIN_TIMEOUT, error.to_string()).with_data(data))
            }
            Err(error) => Err(RpcError::new(code::INTERNAL_ERROR, error.to_string())),
        }
    }

    #[derive(Serialize, Default)]
    struct Counts {
        name: String,
        in_flight: usize,
        calls: u64,
        panics: u64,
        /// Calls refused for want of the admin token: the method did not run.
        denied: u64,
        total_us: u128,
        max_us: u128,
    }

    /// Per method: the calls running now (`in_flight`), and calls, panics, refused calls
    /// (`denied`) and time since the server started.
    #[handler("admin.stats", registry = super::METHODS, meta = Access::Admin)]
    fn stats(_: Params) -> Result<Value, RpcError> {
        let mut counts = BTreeMap::new();
        for entry in METHODS.entries().into_iter().chain(ASYNC_METHODS.entries()) {
            counts_of(&mut counts, entry.name()).in_flight = entry.in_flight();
        }
        // Also lists a name called before and not registered now.
        for stats in METHODS.stats().into_iter().chain(ASYNC_METHODS.stats()) {
            let counts = counts_of(&mut counts, stats.name());
            counts.calls = stats.calls();
            counts.panics = stats.panics();
            counts.denied = stats.denied();
            counts.total_us = stats.total_time().as_micros();
            counts.max_us = stats.max_time().as_micros();
        }
        reply(json!({ "methods": counts.into_values().collect::<Vec<_>>() }))
    }

    /// The row of `name`, added if missing.
    fn counts_of<'a>(counts: &'a mut BTreeMap<String, Counts>, name: &str) -> &'a mut Counts {
        counts.entry(name.to_owned()).or_insert_with(|| Counts {
            name: name.to_owned(),
            ..Counts::default()
        })
    }
}

/// A fleet of servers whose `text.greet` follows a key in etcd (the `etcd` feature).
#[cfg(feature = "etcd")]
pub mod fleet {
    use std::sync::OnceLock;

    use registry_etcd::{Client, DecodeError, Error as EtcdError, Fleet, Replica};
    use serde::Deserialize;
    use serde_json::{json, Value};

    use super::{admin::Style, calc, code, reply, Method, RpcError, DRAIN_TIMEOUT, METHODS};

    /// The prefix followed when `JSONRPC_ETCD_PREFIX` is not set.
    pub const DEFAULT_PREFIX: &str = "/handler-registry/jsonrpc";

    /// The only method set from etcd.
    const GREET: &str = "text.greet";

    /// The fleet this server is a replica of, once it has joined.
    pub static FLEET: OnceLock<Fleet> = OnceLock::new();

    /// A value of `<prefix>/text.greet`.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Greeting {
        template: Option<String>,
        style: Option<Style>,
    }

    /// Turns the value of `<prefix>/<name>` into a method: `{"template": "Ahoy, {name}!"}` or
    /// `{"style": "plain" | "formal" | "pirate"}` for `text.greet`; nothing else.
    pub fn decode(name: &str, value: &[u8]) -> Result<Method, DecodeError> {
        if name != GREET {
            return Err(format!("only `{GREET}` can be set from etcd").into());
        }
        let Greeting { template, style } = serde_json::from_slice(value)?;
        let template = match (template, style) {
            (Some(template), None) => template,
            (None, Some(style)) => style.template().to_owned(),
            _ => return Err("give either `template` or `style`".into()),
        };
        if !template.contains(calc::NAME) {
            return Err("the template must contain `{name}` where the name goes".into());
        }
        Ok(calc::greeting(template))
    }

    /// Joins the fleet at `JSONRPC_ETCD` (comma-separated client URLs), if it is set: reads
    /// `<prefix>/` into `METHODS` and follows it until the process ends.
    pub async fn join() -> Result<Option<Replica>, Box<dyn std::error::Error>> {
        let endpoints = match std::env::var("JSONRPC_ETCD") {
            Ok(endpoints) if !endpoints.trim().is_empty() => endpoints,
            _ => return Ok(None),
        };
        let prefix =
            std::env::var("JSONRPC_ETCD_PREFIX").unwrap_or_else(|_| DEFAULT_PREFIX.to_owned());
        let id = std::env::var("JSONRPC_REPLICA").unwrap_or_else(|_| Replica::default_id());
        let client = Client::new(&endpoints)?;
        let replica = Replica::builder(&client, &prefix)
            .id(id)
            .start(&METHODS, decode)
            .await?;
        // One fleet per process: `main` joins once.
        let _ = FLEET.set(Fleet::new(&client, &prefix));
        Ok(Some(replica))
    }

    /// `admin.set_greeting` in a fleet: a compare-and-swap of `<prefix>/text.greet` from
    /// revision `expected` (read now if `None`), then a wait until every live replica has the
    /// new greeting drained.
    pub async fn set_greeting(
        fleet: &Fleet,
        template: &str,
        expected: Option<u64>,
    ) -> Result<Value, RpcError> {
        let internal = |error: EtcdError| RpcError::new(code::INTERNAL_ERROR, error.to_string());
        let expected = match expected {
            Some(expected) => expected,
            None => fleet
                .get(GREET)
                .await
                .map_err(internal)?
                .map_or(0, |kv| kv.mod_revision),
        };
        let value = json!({ "template": template }).to_string();
        let version = match fleet.compare_and_swap(GREET, expected, value).await {
            Ok(version) => version,
            Err(
                error @ EtcdError::Conflict {
                    expected, current, ..
                },
            ) => {
                let data = json!({ "expected": expected, "current": current });
                return Err(RpcError::new(code::CONFLICT, error.to_string()).with_data(data));
            }
            Err(error) => return Err(internal(error)),
        };
        match fleet.wait_drained(GREET, version, DRAIN_TIMEOUT).await {
            Ok(replicas) => reply(json!({
                "method": GREET, "version": version, "drained": true, "replicas": replicas
            })),
            Err(error) => {
                let EtcdError::WaitTimeout { pending, .. } = &error else {
                    return Err(internal(error));
                };
                // Written: the replicas listed have not reported it drained yet.
                let pending: Vec<&str> = pending.iter().map(|(id, _)| id.as_str()).collect();
                let data = json!({ "method": GREET, "version": version, "pending": pending });
                Err(RpcError::new(code::DRAIN_TIMEOUT, error.to_string()).with_data(data))
            }
        }
    }
}

/// Runs one call, if its caller may make it: a sync method in place, an async one under
/// `CALL_TIMEOUT`.
pub async fn invoke(method: &str, params: Params) -> Result<Value, RpcError> {
    let caller = params.caller();
    let check = |access: &Access| caller.check(access);
    let outcome = if METHODS.contains(method) {
        METHODS.call_guarded(method, check, |method| method(params))
    } else {
        ASYNC_METHODS
            .call_async_guarded(method, check, |method| method(params))
            .timeout(CALL_TIMEOUT, tokio::time::sleep)
            .await
    };
    outcome.unwrap_or_else(|error| Err(rpc_error(method, caller, error)))
}

/// The access a method needs, if there is such a method.
fn access_of(method: &str) -> Option<Access> {
    let sync = METHODS.get_with_meta(method).map(|(_, access)| access);
    sync.or_else(|| {
        ASYNC_METHODS
            .get_with_meta(method)
            .map(|(_, access)| access)
    })
}

/// Maps the registry's errors to JSON-RPC errors.
fn rpc_error(method: &str, caller: Caller, error: Error) -> RpcError {
    match error {
        Error::NotFound { suggestion, .. } => {
            // The async registry answered; the sync one may know a closer name.
            let suggestion = match METHODS.lookup(method) {
                Err(Error::NotFound {
                    suggestion: Some(closer),
                    ..
                }) => Some(closer),
                _ => suggestion,
            };
            // Like `rpc.discover`, a suggestion names only a method the caller may call.
            let suggestion = suggestion
                .filter(|name| access_of(name).is_some_and(|access| caller.may_call(access)));
            RpcError::new(code::METHOD_NOT_FOUND, "Method not found")
                .with_data(json!({ "method": method, "suggestion": suggestion }))
        }
        Error::Denied { reason, .. } => RpcError::new(code::UNAUTHORIZED, "Unauthorized")
            .with_data(json!({ "method": method, "reason": reason })),
        Error::Panicked { message, .. } => RpcError::new(code::INTERNAL_ERROR, "Internal error")
            .with_data(json!({ "panic": message })),
        Error::TimedOut { after, .. } => RpcError::new(
            code::TIMED_OUT,
            format!("the method did not finish within {} ms", after.as_millis()),
        ),
        other => RpcError::new(code::INTERNAL_ERROR, other.to_string()),
    }
}

/// Answers one request of a body: `None` for a notification (a valid call without `id`).
async fn answer(request: Value, caller: Caller) -> Option<Reply> {
    let (id, call) = parse_request(request);
    let (method, params) = match call {
        Ok(call) => call,
        Err(error) => return Some(Reply::failure(id.unwrap_or(Value::Null), error)),
    };
    let outcome = invoke(
        &method,
        Params {
            value: params,
            caller,
        },
    )
    .await;
    match &outcome {
        Ok(_) => tracing::info!(method, "ok"),
        Err(error) => tracing::warn!(method, code = error.code, message = %error.message, "failed"),
    }
    Some(Reply::new(id?, outcome))
}

/// Splits a request into its `id` (absent for a notification) and its checked method and params.
fn parse_request(request: Value) -> (Option<Value>, Result<(String, Value), RpcError>) {
    let Value::Object(mut request) = request else {
        return (None, Err(invalid_request("a request is a JSON object")));
    };
    let id = request.remove("id");
    if matches!(
        id,
        Some(Value::Array(_) | Value::Object(_) | Value::Bool(_))
    ) {
        return (
            None,
            Err(invalid_request("`id` is a string, a number or null")),
        );
    }
    (id, check_call(request))
}

fn check_call(mut request: Map<String, Value>) -> Result<(String, Value), RpcError> {
    if request.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid_request("`jsonrpc` must be \"2.0\""));
    }
    let Some(Value::String(method)) = request.remove("method") else {
        return Err(invalid_request("`method` is a string"));
    };
    match request.remove("params") {
        None => Ok((method, Value::Null)),
        Some(params @ (Value::Array(_) | Value::Object(_))) => Ok((method, params)),
        Some(_) => Err(invalid_request("`params` is an array or an object")),
    }
}

fn invalid_request(reason: &str) -> RpcError {
    RpcError::new(code::INVALID_REQUEST, "Invalid Request").with_data(reason)
}

/// A response object: `result` on success, `error` on failure.
#[derive(Serialize)]
struct Reply {
    jsonrpc: &'static str,
    id: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<RpcError>,
}

impl Reply {
    fn new(id: Value, outcome: Result<Value, RpcError>) -> Self {
        let (result, error) = match outcome {
            Ok(result) => (Some(result), None),
            Err(error) => (None, Some(error)),
        };
        Reply {
            jsonrpc: "2.0",
            id,
            result,
            error,
        }
    }

    fn failure(id: Value, error: RpcError) -> Self {
        Reply::new(id, Err(error))
    }
}

/// What an HTTP request is answered with: nothing when it held only notifications.
#[derive(Serialize)]
#[serde(untagged)]
enum Body {
    Single(Reply),
    Batch(Vec<Reply>),
}

/// Answers a single request or a batch, all made by `caller`.
async fn respond(body: &[u8], caller: Caller) -> Option<Body> {
    let request: Value = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(error) => {
            let error =
                RpcError::new(code::PARSE_ERROR, "Parse error").with_data(error.to_string());
            return Some(Body::Single(Reply::failure(Value::Null, error)));
        }
    };
    match request {
        Value::Array(batch) if batch.is_empty() => Some(Body::Single(Reply::failure(
            Value::Null,
            invalid_request("a batch holds at least one request"),
        ))),
        Value::Array(batch) => {
            let mut replies = Vec::with_capacity(batch.len());
            for request in batch {
                replies.extend(answer(request, caller).await);
            }
            (!replies.is_empty()).then_some(Body::Batch(replies))
        }
        request => answer(request, caller).await.map(Body::Single),
    }
}

/// What every HTTP request is served with.
struct Server {
    /// The admin token.
    token: Arc<str>,
    /// Renders what the registries reported through the `metrics` crate.
    metrics: &'static PrometheusHandle,
}

async fn http_post(State(server): State<Arc<Server>>, headers: HeaderMap, body: Bytes) -> Response {
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    let span = tracing::info_span!("request", n = REQUESTS.fetch_add(1, Ordering::Relaxed) + 1);
    let caller = Caller::of(&headers, &server.token);
    match respond(&body, caller).instrument(span).await {
        Some(reply) => (
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_string(&reply).expect("replies serialize"),
        )
            .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// `GET /metrics`: the Prometheus text format.
async fn http_metrics(State(server): State<Arc<Server>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        server.metrics.render(),
    )
        .into_response()
}

/// How often the Prometheus recorder's histograms are folded into their summaries between
/// scrapes, so that they do not grow while nobody scrapes.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// The process's `metrics` recorder, installed on first use: a Prometheus one, whose handle
/// renders `GET /metrics`. A process has one recorder, so this fails if another was installed.
pub fn prometheus() -> std::io::Result<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .install_recorder()
                .map_err(|error| format!("cannot install the Prometheus recorder: {error}"))?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(METRICS_UPKEEP);
                    upkeep.run_upkeep();
                })
                .map_err(|error| format!("cannot start the metrics upkeep: {error}"))?;
            Ok(handle)
        })
        .as_ref()
        .map_err(|error| std::io::Error::other(error.clone()))
}

/// Serves JSON-RPC over HTTP POST on `listener`, with `admin.*` and `debug.*` methods for
/// requests that carry `Authorization: Bearer <token>`, and `GET /metrics`, until the process
/// ends.
pub async fn serve(listener: TcpListener, token: Arc<str>) -> std::io::Result<()> {
    // Duplicate method names fail here, at startup, rather than at the first request.
    for frozen in [METHODS.freeze(), ASYNC_METHODS.freeze()] {
        frozen.map_err(std::io::Error::other)?;
    }
    let server = Arc::new(Server {
        token,
        metrics: prometheus()?,
    });
    let routes = Router::new()
        .route("/", post(http_post))
        .route("/metrics", get(http_metrics))
        .with_state(server);
    axum::serve(listener, routes).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();
    // A panicking method is logged in its request's span, on one line.
    std::panic::set_hook(Box::new(|panic| {
        let at = panic.location().map(ToString::to_string);
        let payload = panic.payload();
        let message = match (
            payload.downcast_ref::<&str>(),
            payload.downcast_ref::<String>(),
        ) {
            (Some(message), _) => message,
            (_, Some(message)) => message.as_str(),
            _ => "a payload that is not a string",
        };
        tracing::error!(at, "panicked: {message}");
    }));
    let port: u16 = match std::env::args()
        .nth(1)
        .or_else(|| std::env::var("JSONRPC_PORT").ok())
    {
        Some(port) => port
            .parse()
            .map_err(|_| format!("not a port number: {port}"))?,
        None => 0,
    };
    let (token, generated) = admin_token()?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    if generated {
        println!("admin token (set JSONRPC_ADMIN_TOKEN to choose it): {token}");
    }
    #[cfg(not(feature = "metrics"))]
    tracing::warn!("built without `--features metrics`: GET /metrics shows no handler calls");
    // Kept until the process ends: dropping it would stop following etcd.
    #[cfg(feature = "etcd")]
    let _replica = match fleet::join().await? {
        Some(replica) => {
            println!(
                "replica `{}` following {}/ in etcd (revision {})",
                replica.id(),
                replica.prefix(),
                replica.revision()
            );
            Some(replica)
        }
        None => None,
    };
    #[cfg(not(feature = "etcd"))]
    if std::env::var_os("JSONRPC_ETCD").is_some() {
        tracing::warn!("built without `--features etcd`: JSONRPC_ETCD is ignored");
    }
    serve(listener, token).await?;
    Ok(())
}
