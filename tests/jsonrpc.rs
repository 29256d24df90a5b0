//! The JSON-RPC service of `examples/jsonrpc_server.rs`, served on an ephemeral loopback port
//! and driven over HTTP by hyper's client: only what goes over the wire is checked.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{header, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};

// `main` (logging, port selection) is run by .ci/run; the tests serve through `serve`.
#[allow(dead_code)]
#[path = "../examples/jsonrpc_server.rs"]
mod server;

/// Every exchange must finish well within this, or the test fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

/// The admin token of the servers the tests start.
const TOKEN: &str = "test-admin-token";

/// The `Authorization` header that carries `TOKEN`.
const ADMIN: &str = "Bearer test-admin-token";

struct Client {
    addr: SocketAddr,
}

impl Client {
    /// Starts a server on an ephemeral loopback port, with `TOKEN` as its admin token.
    async fn start() -> Client {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(server::serve(listener, Arc::from(TOKEN)));
        Client { addr }
    }

    /// Sends `request` (to which it adds the `Host` header) on a fresh connection; returns the
    /// status, the `Content-Type` and the body.
    async fn exchange(&self, request: Request<Full<Bytes>>) -> (StatusCode, String, String) {
        let exchange = async {
            let stream = TcpStream::connect(self.addr).await.unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(connection);
            let mut request = request;
            request
                .headers_mut()
                .insert(header::HOST, self.addr.to_string().parse().unwrap());
            let response = sender.send_request(request).await.unwrap();
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|value| value.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                content_type,
                String::from_utf8(body.to_vec()).unwrap(),
            )
        };
        tokio::time::timeout(LIMIT, exchange)
            .await
            .expect("the server answers in time")
    }

    /// POSTs `body` to `/`, with `authorization` as the `Authorization` header if given;
    /// returns the status and the body.
    async fn post_as(&self, authorization: Option<&str>, body: String) -> (StatusCode, String) {
        let mut request = Request::post("/").header(header::CONTENT_TYPE, "application/json");
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let request = request.body(Full::new(Bytes::from(body))).unwrap();
        let (status, _, body) = self.exchange(request).await;
        (status, body)
    }

    /// POSTs `body` to `/` without an `Authorization` header.
    async fn post(&self, body: String) -> (StatusCode, String) {
        self.post_as(None, body).await
    }

    /// `GET path`: the status, the `Content-Type` and the body.
    async fn get(&self, path: &str) -> (StatusCode, String, String) {
        let request = Request::get(path).body(Full::new(Bytes::new())).unwrap();
        self.exchange(request).await
    }

    /// Sends a JSON body, with `authorization` if given, and parses the JSON reply.
    async fn send_as(&self, authorization: Option<&str>, body: Value) -> Value {
        let (status, reply) = self.post_as(authorization, body.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        serde_json::from_str(&reply).unwrap()
    }

    /// Sends a JSON body without an `Authorization` header and parses the JSON reply.
    async fn send(&self, body: Value) -> Value {
        self.send_as(None, body).await
    }

    /// Calls `method` with `params` and id 1, with `authorization` if given.
    async fn call_as(&self, authorization: Option<&str>, method: &str, params: Value) -> Value {
        let request = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let reply = self.send_as(authorization, request).await;
        assert_eq!(
            (&reply["jsonrpc"], &reply["id"]),
            (&json!("2.0"), &json!(1))
        );
        reply
    }

    /// Calls `method` with `params` and id 1, without an `Authorization` header.
    async fn call(&self, method: &str, params: Value) -> Value {
        self.call_as(None, method, params).await
    }

    /// Calls `method` with `params` and id 1, with the admin token.
    async fn admin(&self, method: &str, params: Value) -> Value {
        self.call_as(Some(ADMIN), method, params).await
    }

    /// The names `rpc.discover` lists for `authorization`.
    async fn discover(&self, authorization: Option<&str>) -> Vec<String> {
        let discovered = self.call_as(authorization, "rpc.discover", json!([])).await;
        discovered["result"]["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|method| method["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[tokio::test]
async fn sync_and_async_methods_answer_with_typed_results() {
    let client = Client::start().await;
    let by_name = client.call("math.add", json!({ "a": 2, "b": 3 })).await;
    assert_eq!(by_name, json!({ "jsonrpc": "2.0", "id": 1, "result": 5 }));
    let by_position = client.call("math.add", json!([40, 2])).await;
    assert_eq!(by_position["result"], json!(42));
    let by_alias = client.call("add", json!([1, 1])).await;
    assert_eq!(by_alias["result"], json!(2));
    let divided = client
        .call("math.divide", json!({ "dividend": 7, "divisor": 2 }))
        .await;
    assert_eq!(divided["result"], json!({ "quotient": 3, "remainder": 1 }));

    let key = "sync_and_async_methods_answer_with_typed_results";
    let put = client
        .call("kv.put", json!({ "key": key, "value": [1, "two"] }))
        .await;
    assert_eq!(put["result"], Value::Null);
    let got = client.call("kv.get", json!({ "key": key })).await;
    assert_eq!(got["result"], json!([1, "two"]));
}

#[tokio::test]
async fn an_unknown_method_is_32601_with_a_suggestion() {
    let client = Client::start().await;
    let sync_typo = client.call("math.ad", json!([1, 2])).await;
    assert_eq!(
        sync_typo["error"],
        json!({
            "code": -32601,
            "message": "Method not found",
            "data": { "method": "math.ad", "suggestion": "math.add" },
        })
    );
    let async_typo = client.call("kv.gte", json!({ "key": "k" })).await;
    assert_eq!(async_typo["error"]["data"]["suggestion"], json!("kv.get"));
    let unrelated = client.call("zzzzzzzz", json!([])).await;
    assert_eq!(unrelated["error"]["code"], json!(-32601));
    assert_eq!(unrelated["error"]["data"]["suggestion"], Value::Null);
}

#[tokio::test]
async fn params_that_do_not_fit_are_32602() {
    let client = Client::start().await;
    let wrong_type = client.call("math.add", json!({ "a": "x", "b": 1 })).await;
    assert_eq!(wrong_type["error"]["code"], json!(-32602));
    assert_eq!(
        wrong_type["error"]["data"],
        json!("invalid type: string \"x\", expected i64")
    );
    let missing = client.call("math.add", json!({ "a": 1 })).await;
    assert_eq!(missing["error"]["data"], json!("missing field `b`"));
    let absent = client
        .send(json!({ "jsonrpc": "2.0", "id": 1, "method": "kv.get" }))
        .await;
    assert_eq!(absent["error"]["code"], json!(-32602));
    let overflow = client.call("math.add", json!([i64::MAX, 1])).await;
    assert_eq!(overflow["error"]["code"], json!(-32602));
    let by_zero = client
        .call("math.divide", json!({ "dividend": 1, "divisor": 0 }))
        .await;
    assert_eq!(
        by_zero["error"],
        json!({ "code": 1, "message": "division by zero" })
    );
}

#[tokio::test]
async fn a_panicking_method_is_32603_and_the_server_keeps_serving() {
    let client = Client::start().await;
    let panicked = client.admin("debug.panic", json!([])).await;
    assert_eq!(
        panicked["error"],
        json!({
            "code": -32603,
            "message": "Internal error",
            "data": { "panic": "debug.panic was called" },
        })
    );
    let panicked_later = client.admin("debug.panic_later", json!([])).await;
    assert_eq!(
        panicked_later["error"]["data"]["panic"],
        json!("debug.panic_later was polled again")
    );
    let after = client.call("math.add", json!([2, 2])).await;
    assert_eq!(after["result"], json!(4));

    let stats = client.admin("admin.stats", json!([])).await;
    let methods = stats["result"]["methods"].as_array().unwrap();
    let panics = |name: &str| {
        methods
            .iter()
            .find(|method| method["name"] == name)
            .map(|method| (method["calls"].as_u64(), method["panics"].as_u64()))
    };
    assert!(matches!(panics("debug.panic"), Some((Some(c), Some(p))) if c >= p && p >= 1));
    assert!(matches!(panics("debug.panic_later"), Some((Some(c), Some(p))) if c >= p && p >= 1));
}

#[tokio::test]
async fn a_batch_is_answered_in_order_without_notifications() {
    let client = Client::start().await;
    let key = "a_batch_is_answered_in_order_without_notifications";
    let replies = client
        .send(json!([
            { "jsonrpc": "2.0", "id": "first", "method": "math.add", "params": [1, 2] },
            { "jsonrpc": "2.0", "method": "kv.put", "params": { "key": key, "value": 7 } },
            { "jsonrpc": "2.0", "id": 2, "method": "kv.get", "params": { "key": key } },
            { "jsonrpc": "2.0", "id": 3, "method": "nope" },
            42,
        ]))
        .await;
    let replies = replies.as_array().unwrap();
    assert_eq!(replies.len(), 4, "{replies:?}");
    assert_eq!(
        replies[0],
        json!({ "jsonrpc": "2.0", "id": "first", "result": 3 })
    );
    assert_eq!(
        replies[1],
        json!({ "jsonrpc": "2.0", "id": 2, "result": 7 })
    );
    assert_eq!(
        (&replies[2]["id"], &replies[2]["error"]["code"]),
        (&json!(3), &json!(-32601))
    );
    assert_eq!(
        (&replies[3]["id"], &replies[3]["error"]["code"]),
        (&Value::Null, &json!(-32600))
    );

    let notifications = json!([{ "jsonrpc": "2.0", "method": "math.add", "params": [1, 1] }]);
    let (status, body) = client.post(notifications.to_string()).await;
    assert_eq!((status, body.as_str()), (StatusCode::NO_CONTENT, ""));
    let empty = client.send(json!([])).await;
    assert_eq!(empty["error"]["code"], json!(-32600));
}

#[tokio::test]
async fn malformed_bodies_are_parse_errors_or_invalid_requests() {
    let client = Client::start().await;
    let (status, body) = client.post("{\"jsonrpc\": \"2.0\",".into()).await;
    assert_eq!(status, StatusCode::OK);
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&reply["id"], &reply["error"]["code"]),
        (&Value::Null, &json!(-32700))
    );
    let old_version = client
        .send(json!({ "jsonrpc": "1.0", "id": 5, "method": "math.add", "params": [1, 2] }))
        .await;
    assert_eq!(
        (&old_version["id"], &old_version["error"]["code"]),
        (&json!(5), &json!(-32600))
    );
    let scalar_params = client
        .send(json!({ "jsonrpc": "2.0", "id": 6, "method": "math.add", "params": 3 }))
        .await;
    assert_eq!(scalar_params["error"]["code"], json!(-32600));
}

#[tokio::test]
async fn a_slow_async_method_times_out() {
    let client = Client::start().await;
    let quick = client.call("util.sleep", json!({ "ms": 1 })).await;
    assert_eq!(quick["result"], json!({ "slept_ms": 1 }));
    let slow = client.call("util.sleep", json!({ "ms": 60_000 })).await;
    assert_eq!(
        slow["error"],
        json!({ "code": -32000, "message": "the method did not finish within 2000 ms" })
    );
}

#[tokio::test]
async fn discovery_lists_every_method_with_its_doc_text_to_an_admin() {
    let client = Client::start().await;
    let discovered = client.admin("rpc.discover", json!([])).await;
    let methods = discovered["result"]["methods"].as_array().unwrap();
    let names: Vec<&str> = methods
        .iter()
        .map(|method| method["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "admin.set_greeting",
            "admin.stats",
            "debug.panic",
            "debug.panic_later",
            "kv.get",
            "kv.put",
            "math.add",
            "math.divide",
            "rpc.discover",
            "text.greet",
            "util.sleep",
        ]
    );
    let add = &methods[6];
    assert_eq!(add["aliases"], json!(["add"]));
    assert_eq!(add["async"], json!(false));
    assert_eq!(
        add["doc"],
        json!("Add two integers: `{\"a\": 2, \"b\": 3}` or `[2, 3]`.")
    );
    assert_eq!(methods[4]["async"], json!(true));
    assert!(methods[9]["version"].is_u64(), "{:?}", methods[9]);
}

#[tokio::test]
async fn an_admin_call_hot_swaps_a_method_and_refuses_stale_versions() {
    let client = Client::start().await;
    let greet = || client.call("text.greet", json!({ "name": "Ada" }));
    assert_eq!(greet().await["result"], json!("Hello, Ada!"));

    let swap_as = |authorization, style: &str, version: u64| {
        client.call_as(
            authorization,
            "admin.set_greeting",
            json!({ "style": style, "version": version }),
        )
    };
    let swap = |style, version| swap_as(Some(ADMIN), style, version);

    // Refused without the admin token, or with a wrong one: the greeting stays.
    let anonymous = swap_as(None, "pirate", 1).await;
    assert_eq!(anonymous["error"]["code"], json!(-32001));
    let wrong_token = swap_as(Some("Bearer not-the-token"), "pirate", 1).await;
    assert_eq!(wrong_token["error"]["code"], json!(-32001));
    assert_eq!(greet().await["result"], json!("Hello, Ada!"));

    let swapped = swap("pirate", 1).await;
    assert_eq!(
        swapped["result"],
        json!({ "method": "text.greet", "version": 1, "drained": true })
    );
    assert_eq!(greet().await["result"], json!("Ahoy, Ada!"));

    let stale = swap("formal", 1).await;
    assert_eq!(stale["error"]["code"], json!(2));
    assert_eq!(
        stale["error"]["data"],
        json!({ "current": 1, "offered": 1 })
    );
    assert_eq!(greet().await["result"], json!("Ahoy, Ada!"));

    assert!(swap("formal", 5).await["result"].is_object());
    assert_eq!(greet().await["result"], json!("Good day to you, Ada."));
    let unknown_style = swap("shouting", 6).await;
    assert_eq!(unknown_style["error"]["code"], json!(-32602));
    let refused = swap_as(None, "pirate", 9).await;
    assert_eq!(refused["error"]["code"], json!(-32001));
    assert_eq!(greet().await["result"], json!("Good day to you, Ada."));

    let discovered = client.call("rpc.discover", json!([])).await;
    let greet_entry = discovered["result"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|method| method["name"] == "text.greet")
        .cloned();
    assert_eq!(
        greet_entry.map(|entry| entry["version"].clone()),
        Some(json!(5))
    );
}

#[tokio::test]
async fn an_admin_method_without_the_token_is_refused_before_it_runs() {
    let client = Client::start().await;
    let denied = |stats: &Value, name: &str| {
        stats["result"]["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|method| method["name"] == name)
            .map_or(0, |method| method["denied"].as_u64().unwrap())
    };
    let before = client.admin("admin.stats", json!([])).await;

    let anonymous = client.call("admin.stats", json!([])).await;
    assert_eq!(
        anonymous,
        json!({
            "jsonrpc": "2.0",
            "id": 1,
            "error": {
                "code": -32001,
                "message": "Unauthorized",
                "data": {
                    "method": "admin.stats",
                    "reason": "this method needs `Authorization: Bearer <token>`",
                },
            },
        })
    );
    let wrong_token = client
        .call_as(Some("Bearer test-admin-tokeN"), "admin.stats", json!([]))
        .await;
    assert_eq!(
        wrong_token["error"],
        json!({
            "code": -32001,
            "message": "Unauthorized",
            "data": {
                "method": "admin.stats",
                "reason": "the `Authorization` header does not hold the admin token",
            },
        })
    );
    let other_scheme = client
        .call_as(Some("Basic test-admin-token"), "admin.stats", json!([]))
        .await;
    assert_eq!(other_scheme["error"]["code"], json!(-32001));
    let longer = client
        .call_as(Some("Bearer test-admin-token2"), "admin.stats", json!([]))
        .await;
    assert_eq!(longer["error"]["code"], json!(-32001));

    // A refused `debug.panic` does not run: no panic, only a refusal.
    let not_run = client.call("debug.panic", json!([])).await;
    assert_eq!(not_run["error"]["code"], json!(-32001));
    assert_eq!(not_run["error"]["data"]["method"], json!("debug.panic"));
    let async_not_run = client.call("debug.panic_later", json!([])).await;
    assert_eq!(async_not_run["error"]["code"], json!(-32001));

    // Public methods need no token, in the same batch as a refused call too.
    let replies = client
        .send(json!([
            { "jsonrpc": "2.0", "id": 1, "method": "admin.stats" },
            { "jsonrpc": "2.0", "id": 2, "method": "math.add", "params": [3, 4] },
        ]))
        .await;
    assert_eq!(replies[0]["error"]["code"], json!(-32001));
    assert_eq!(
        replies[1],
        json!({ "jsonrpc": "2.0", "id": 2, "result": 7 })
    );

    // The scheme is case-insensitive; the token is not.
    let lowercase = client
        .call_as(Some("bearer test-admin-token"), "admin.stats", json!([]))
        .await;
    assert!(lowercase["result"]["methods"].is_array(), "{lowercase}");
    assert_eq!(
        denied(&lowercase, "admin.stats") - denied(&before, "admin.stats"),
        5
    );
    assert_eq!(
        denied(&lowercase, "debug.panic") - denied(&before, "debug.panic"),
        1
    );
    assert_eq!(
        denied(&lowercase, "debug.panic_later") - denied(&before, "debug.panic_later"),
        1
    );
}

#[tokio::test]
async fn an_unknown_method_is_not_found_and_suggests_only_what_the_caller_may_call() {
    let client = Client::start().await;
    let anonymous = client.call("admin.stat", json!([])).await;
    assert_eq!(
        anonymous["error"],
        json!({
            "code": -32601,
            "message": "Method not found",
            "data": { "method": "admin.stat", "suggestion": null },
        })
    );
    let admin = client.admin("admin.stat", json!([])).await;
    assert_eq!(
        admin["error"]["data"],
        json!({ "method": "admin.stat", "suggestion": "admin.stats" })
    );
    let public_typo = client.call("kv.gte", json!({ "key": "k" })).await;
    assert_eq!(public_typo["error"]["data"]["suggestion"], json!("kv.get"));
}

#[tokio::test]
async fn discovery_lists_only_what_the_caller_may_call() {
    let client = Client::start().await;
    let public = [
        "kv.get",
        "kv.put",
        "math.add",
        "math.divide",
        "rpc.discover",
        "text.greet",
        "util.sleep",
    ];
    assert_eq!(client.discover(None).await, public);
    assert_eq!(client.discover(Some("Bearer wrong")).await, public);
    let every = client.discover(Some(ADMIN)).await;
    assert_eq!(
        every,
        [
            "admin.set_greeting",
            "admin.stats",
            "debug.panic",
            "debug.panic_later",
            "kv.get",
            "kv.put",
            "math.add",
            "math.divide",
            "rpc.discover",
            "text.greet",
            "util.sleep",
        ]
    );
}

/// The value of the Prometheus sample `metric{labels}` in `text`, 0 when absent.
fn sample(text: &str, metric: &str, labels: &str) -> u64 {
    let series = format!("{metric}{{{labels}}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |value| value.parse().unwrap())
}

#[tokio::test]
async fn metrics_are_served_as_prometheus_text() {
    let client = Client::start().await;
    let (status, content_type, before) = client.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    for _ in 0..3 {
        let added = client.call("math.add", json!([1, 2])).await;
        assert_eq!(added["result"], json!(3));
    }
    let refused = client.call("admin.set_greeting", json!({})).await;
    assert_eq!(refused["error"]["code"], json!(-32001));
    let (status, _, after) = client.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);

    let add = r#"handler="math.add",registry="jsonrpc::server::METHODS""#;
    let set_greeting = r#"handler="admin.set_greeting",registry="jsonrpc::server::ASYNC_METHODS""#;
    let calls = |text| sample(text, "handler_calls_total", add);
    let denied = |text| sample(text, "handler_denied_total", set_greeting);
    if cfg!(feature = "metrics") {
        // Other tests call too, at the same time: at least these calls are counted.
        assert!(calls(&after) >= calls(&before) + 3, "{after}");
        assert!(denied(&after) > denied(&before), "{after}");
        assert!(
            after.contains("# TYPE handler_duration_seconds summary\n"),
            "{after}"
        );
    } else {
        assert!(!after.contains("handler_"), "{after}");
    }
}
