//! The crate's error type: one enum whose messages say what went wrong and what to do.

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(clippy::too_many_lines, reason = "Display has one arm per variant")]

use std::fmt;
use std::time::Duration;

use crate::status::Status;

/// Everything that can go wrong talking to etcd, following a prefix or waiting on a fleet.
///
/// Errors about one name's value (a value that does not decode, a name the registry refuses)
/// are not returned: the replica keeps its current handler, logs them and shows them in its
/// status entry for that name ([`Status::error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An endpoint is not a `http://host:port` URL.
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No endpoint accepted a connection.
    Unreachable {
        /// Each endpoint tried, with why it failed.
        endpoints: Vec<String>,
    },
    /// A connection broke during a request.
    Connection {
        /// The endpoint.
        endpoint: String,
        /// The request (a path of the gateway, such as `/v3/kv/put`).
        request: &'static str,
        /// What the HTTP client reported.
        problem: String,
    },
    /// A request got no answer in time.
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// The request.
        request: &'static str,
        /// How long it waited.
        after: Duration,
    },
    /// etcd refused a request.
    Etcd {
        /// The request.
        request: &'static str,
        /// The gRPC status code etcd answered with (3 invalid argument, 5 not found, 11 out
        /// of range, 14 unavailable, ...).
        code: i64,
        /// etcd's message.
        message: String,
    },
    /// etcd's answer was not what the v3 JSON gateway sends.
    Protocol {
        /// The request.
        request: &'static str,
        /// What was wrong with the answer.
        problem: String,
    },
    /// A compare-and-swap lost: the key is not at the revision the write expected (another
    /// writer came first).
    Conflict {
        /// The key.
        key: String,
        /// The `mod_revision` the write expected (0: that the key does not exist).
        expected: u64,
        /// The key's `mod_revision` now; `None` if it does not exist.
        current: Option<u64>,
    },
    /// A prefix, a replica id or another setting is not usable.
    InvalidConfig {
        /// Which setting.
        setting: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The registry cannot be followed: it failed to freeze.
    Registry(registry_core::Error),
    /// Not every live replica reported the awaited revision of a name drained in time.
    WaitTimeout {
        /// The name waited for.
        name: String,
        /// The revision waited for.
        revision: u64,
        /// How long it waited.
        after: Duration,
        /// The live replicas that had not reported it, each with its status entry for the name
        /// (`None`: it has none).
        pending: Vec<(String, Option<Status>)>,
    },
    /// A replica had not applied a revision in time
    /// ([`Replica::wait_applied`](crate::Replica::wait_applied)).
    Lagging {
        /// The replica.
        replica: String,
        /// The revision waited for.
        revision: u64,
        /// The last revision it had applied.
        applied: u64,
        /// How long it waited.
        after: Duration,
    },
    /// The replica has stopped.
    Stopped,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidEndpoint { endpoint, reason } => {
                write!(f, "invalid etcd endpoint `{endpoint}`: {reason}")
            }
            Error::Unreachable { endpoints } => write!(
                f,
                "cannot connect to etcd ({}); check that etcd runs and that the endpoint is its client URL (`--advertise-client-urls`)",
                endpoints.join("; ")
            ),
            Error::Connection {
                endpoint,
                request,
                problem,
            } => write!(
                f,
                "the connection to etcd at {endpoint} broke during {request}: {problem}"
            ),
            Error::Timeout {
                endpoint,
                request,
                after,
            } => write!(
                f,
                "etcd at {endpoint} did not answer {request} within {} ms; is it overloaded or partitioned?",
                after.as_millis()
            ),
            Error::Etcd {
                request,
                code,
                message,
            } => write!(f, "etcd refused {request} (code {code}): {message}"),
            Error::Protocol { request, problem } => write!(
                f,
                "unexpected answer from etcd's JSON gateway to {request}: {problem} (is this an etcd 3.4+ client URL?)"
            ),
            Error::Conflict {
                key,
                expected,
                current,
            } => {
                let expected = match expected {
                    0 => "it not to exist".to_owned(),
                    revision => format!("revision {revision}"),
                };
                let now = match current {
                    Some(current) => format!("is at revision {current}"),
                    None => "does not exist".to_owned(),
                };
                write!(
                    f,
                    "`{key}` was changed by another writer: the write expected {expected}, the key {now}; read it again and retry"
                )
            }
            Error::InvalidConfig {
                setting,
                value,
                reason,
            } => write!(f, "invalid {setting} `{value}`: {reason}"),
            Error::Registry(error) => write!(f, "the registry cannot be followed: {error}"),
            Error::WaitTimeout {
                name,
                revision,
                after,
                pending,
            } => {
                write!(
                    f,
                    "after {} ms, {} live replica(s) had not reported revision {revision} of `{name}` drained:",
                    after.as_millis(),
                    pending.len()
                )?;
                for (replica, status) in pending {
                    match status {
                        None => write!(f, " `{replica}` (no status for `{name}` yet);")?,
                        Some(status) => {
                            write!(
                                f,
                                " `{replica}` (at revision {}, {}",
                                status.version,
                                if status.drained {
                                    "drained"
                                } else {
                                    "draining"
                                }
                            )?;
                            match &status.error {
                                Some(error) => write!(f, ", error: {error});")?,
                                None => f.write_str(");")?,
                            }
                        }
                    }
                }
                Ok(())
            }
            Error::Lagging {
                replica,
                revision,
                applied,
                after,
            } => write!(
                f,
                "replica `{replica}` had not applied revision {revision} after {} ms (it is at revision {applied}); is its connection to etcd down? Its log says why",
                after.as_millis()
            ),
            Error::Stopped => f.write_str("the replica has been shut down"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Registry(error) => Some(error),
            _ => None,
        }
    }
}

impl From<registry_core::Error> for Error {
    fn from(error: registry_core::Error) -> Self {
        Error::Registry(error)
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn conflicts_say_where_the_key_is_now() {
        let conflict = |expected, current| {
            Error::Conflict {
                key: "/app/greet".to_owned(),
                expected,
                current,
            }
            .to_string()
        };
        assert_eq!(
            conflict(3, Some(5)),
            "`/app/greet` was changed by another writer: the write expected revision 3, the key is at revision 5; read it again and retry"
        );
        assert_eq!(
            conflict(0, Some(5)),
            "`/app/greet` was changed by another writer: the write expected it not to exist, the key is at revision 5; read it again and retry"
        );
        assert_eq!(
            conflict(3, None),
            "`/app/greet` was changed by another writer: the write expected revision 3, the key does not exist; read it again and retry"
        );
    }
}
