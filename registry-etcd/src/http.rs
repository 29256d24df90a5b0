//! HTTP/1.1 POSTs of JSON to etcd's gateway, on hyper's client connections.
//!
//! Unary calls reuse idle connections (a few per client); a stream (a watch, a lease
//! keep-alive) gets a connection of its own, read line by line: the gateway writes one JSON
//! object per line. Endpoints are tried in turn until one accepts a connection.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{header, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::error::Error;

/// How many idle connections a client keeps for unary calls.
const IDLE_CONNECTIONS: usize = 4;

/// How long opening a TCP connection to one endpoint may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// An etcd member's client URL, split for requests.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// As given, for messages.
    pub(crate) url: String,
    /// `host:port`, to connect to and for the `Host` header.
    authority: String,
}

impl Endpoint {
    /// Parses `http://host:port` (a trailing `/` is allowed; the port defaults to 2379).
    pub(crate) fn parse(url: &str) -> Result<Endpoint, Error> {
        let invalid = |reason: &str| Error::InvalidEndpoint {
            endpoint: url.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = url.trim();
        if trimmed.starts_with("https://") {
            return Err(invalid(
                "TLS is not supported: give etcd a plain `http://` client URL (on loopback or a private network), or put a TLS-terminating proxy in front of it",
            ));
        }
        let Some(rest) = trimmed.strip_prefix("http://") else {
            return Err(invalid(
                "an endpoint is a URL such as `http://127.0.0.1:2379`",
            ));
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') || authority.contains('@') {
            return Err(invalid(
                "an endpoint is `http://host:port`, without a path or credentials",
            ));
        }
        // `host`, `host:port`, `[v6]` or `[v6]:port`.
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((address, "")) => (format!("[{address}]"), None),
                Some((address, port)) => (format!("[{address}]"), port.strip_prefix(':')),
                None => return Err(invalid("an IPv6 address is written `[address]:port`")),
            },
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (authority.to_owned(), None),
            },
        };
        let port = match port {
            None => 2379,
            Some(port) => match port.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => return Err(invalid("the port is not a number from 1 to 65535")),
            },
        };
        if host.is_empty() || host == "[]" {
            return Err(invalid("the host is missing"));
        }
        let authority = format!("{host}:{port}");
        Ok(Endpoint {
            url: trimmed.to_owned(),
            authority,
        })
    }
}

/// The connections of one client.
pub(crate) struct Http {
    endpoints: Vec<Endpoint>,
    /// The endpoint that accepted the last connection: tried first next time.
    current: AtomicUsize,
    idle: Mutex<Vec<(usize, SendRequest<Full<Bytes>>)>>,
}

/// A response whose body is still to be read, and the connection it came on.
struct Exchange {
    response: Response<Incoming>,
    endpoint: usize,
    sender: SendRequest<Full<Bytes>>,
}

impl Http {
    pub(crate) fn new(endpoints: Vec<Endpoint>) -> Http {
        Http {
            endpoints,
            current: AtomicUsize::new(0),
            idle: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// POSTs `body` to `path` and returns the whole response body, within `timeout`.
    pub(crate) async fn post(
        &self,
        path: &'static str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Bytes, Error> {
        self.within(path, timeout, async {
            let Exchange {
                response,
                endpoint,
                sender,
            } = self.exchange(path, body, true).await?;
            let status = response.status();
            let bytes = self.read_body(response, endpoint, path).await?;
            self.give_back(endpoint, sender);
            if status != StatusCode::OK {
                return Err(gateway_error(status, &bytes, path));
            }
            Ok(bytes)
        })
        .await
    }

    /// POSTs `body` to `path` on a connection of its own and returns its response as a stream
    /// of lines, once the response's head has come (within `timeout`).
    pub(crate) async fn stream(
        &self,
        path: &'static str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Lines, Error> {
        self.within(path, timeout, async {
            let Exchange {
                response, endpoint, ..
            } = self.exchange(path, body, false).await?;
            let status = response.status();
            if status != StatusCode::OK {
                let bytes = self.read_body(response, endpoint, path).await?;
                return Err(gateway_error(status, &bytes, path));
            }
            Ok(Lines {
                body: response.into_body(),
                buffer: BytesMut::new(),
                path,
                endpoint: self.endpoints[endpoint].url.clone(),
            })
        })
        .await
    }

    /// `call`'s outcome, or [`Error::Timeout`] if `timeout` passes first.
    async fn within<T>(
        &self,
        request: &'static str,
        timeout: Duration,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(timeout, call).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Timeout {
                endpoint: self.current_url(),
                request,
                after: timeout,
            }),
        }
    }

    /// The whole body of `response`, which came from `endpoint`.
    async fn read_body(
        &self,
        response: Response<Incoming>,
        endpoint: usize,
        request: &'static str,
    ) -> Result<Bytes, Error> {
        Ok(response
            .into_body()
            .collect()
            .await
            .map_err(|error| self.io_error(endpoint, request, &error))?
            .to_bytes())
    }

    fn current_url(&self) -> String {
        let current = self.current.load(Ordering::Relaxed) % self.endpoints.len();
        self.endpoints[current].url.clone()
    }

    /// Sends the request on an idle connection (when `reuse`) or a new one.
    async fn exchange(
        &self,
        path: &'static str,
        body: Vec<u8>,
        reuse: bool,
    ) -> Result<Exchange, Error> {
        let idle = if reuse { self.take_idle().await } else { None };
        let (endpoint, mut sender) = match idle {
            Some(idle) => idle,
            None => self.connect().await?,
        };
        let request = Request::post(path)
            .header(header::HOST, &self.endpoints[endpoint].authority)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| Error::Protocol {
                request: path,
                problem: format!("cannot build the request: {error}"),
            })?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| self.io_error(endpoint, path, &error))?;
        Ok(Exchange {
            response,
            endpoint,
            sender,
        })
    }

    /// An idle connection that is still open.
    async fn take_idle(&self) -> Option<(usize, SendRequest<Full<Bytes>>)> {
        loop {
            let (endpoint, mut sender) = self.idle.lock().ok()?.pop()?;
            if sender.ready().await.is_ok() {
                return Some((endpoint, sender));
            }
        }
    }

    fn give_back(&self, endpoint: usize, sender: SendRequest<Full<Bytes>>) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_CONNECTIONS {
                idle.push((endpoint, sender));
            }
        }
    }

    /// Opens a connection to the first endpoint that accepts one, starting with the one that
    /// did last time.
    async fn connect(&self) -> Result<(usize, SendRequest<Full<Bytes>>), Error> {
        let first = self.current.load(Ordering::Relaxed);
        let mut failures = Vec::new();
        for offset in 0..self.endpoints.len() {
            let index = (first + offset) % self.endpoints.len();
            let endpoint = &self.endpoints[index];
            let stream = match tokio::time::timeout(
                CONNECT_TIMEOUT,
                TcpStream::connect(&endpoint.authority),
            )
            .await
            {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    failures.push(format!("{}: {error}", endpoint.url));
                    continue;
                }
                Err(_) => {
                    failures.push(format!(
                        "{}: no connection within {} ms",
                        endpoint.url,
                        CONNECT_TIMEOUT.as_millis()
                    ));
                    continue;
                }
            };
            // Small requests and replies: do not wait to fill packets.
            let _ = stream.set_nodelay(true);
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|error| self.io_error(index, "connect", &error))?;
            tokio::spawn(async move {
                // Ends when the connection closes; a broken one fails its request instead.
                let _ = connection.await;
            });
            self.current.store(index, Ordering::Relaxed);
            return Ok((index, sender));
        }
        Err(Error::Unreachable {
            endpoints: failures,
        })
    }

    fn io_error(&self, endpoint: usize, request: &'static str, error: &hyper::Error) -> Error {
        Error::Connection {
            endpoint: self.endpoints[endpoint].url.clone(),
            request,
            problem: error.to_string(),
        }
    }
}

/// The error a gateway's non-200 reply stands for: [`Error::Etcd`] when its body is
/// `{"error", "code", "message"}`, [`Error::Protocol`] otherwise.
fn gateway_error(status: StatusCode, body: &[u8], request: &'static str) -> Error {
    #[derive(serde::Deserialize)]
    struct Failure {
        #[serde(default)]
        code: i64,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Failure>(body) {
        Ok(failure) => Error::Etcd {
            request,
            code: failure.code,
            message: failure.message,
        },
        Err(_) => Error::Protocol {
            request,
            problem: format!(
                "HTTP status {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ),
        },
    }
}

/// A streamed response, one JSON object per line.
pub(crate) struct Lines {
    body: Incoming,
    buffer: BytesMut,
    path: &'static str,
    endpoint: String,
}

impl Lines {
    /// The next non-empty line; `None` when the server ends the response.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&byte| byte == b'\n') {
                let line = self.buffer.split_to(end + 1).freeze();
                let line = line.slice(..end);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(line));
            }
            match self.body.frame().await {
                None if self.buffer.iter().all(u8::is_ascii_whitespace) => return Ok(None),
                // The last line without its newline.
                None => return Ok(Some(self.buffer.split().freeze())),
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        while data.has_remaining() {
                            let chunk = data.chunk();
                            self.buffer.extend_from_slice(chunk);
                            let read = chunk.len();
                            data.advance(read);
                        }
                    }
                }
                Some(Err(error)) => {
                    return Err(Error::Connection {
                        endpoint: self.endpoint.clone(),
                        request: self.path,
                        problem: error.to_string(),
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn endpoints_parse() {
        let endpoint = Endpoint::parse("http://127.0.0.1:2379").unwrap();
        assert_eq!(endpoint.authority, "127.0.0.1:2379");
        assert_eq!(
            Endpoint::parse("http://etcd-0/").unwrap().authority,
            "etcd-0:2379"
        );
        let refused = Endpoint::parse("https://etcd:2379")
            .unwrap_err()
            .to_string();
        assert!(refused.contains("TLS is not supported"), "{refused}");
        let refused = Endpoint::parse("127.0.0.1:2379").unwrap_err().to_string();
        assert!(refused.contains("`http://127.0.0.1:2379`"), "{refused}");
        let refused = Endpoint::parse("http://etcd:port").unwrap_err().to_string();
        assert!(refused.contains("port is not a number"), "{refused}");
    }
}
