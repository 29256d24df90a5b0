//! What each replica publishes about itself, and where.
//!
//! Under the status prefix (by default `<prefix>-status`, outside the watched prefix), a
//! replica `R` writes, all bound to one lease of its own:
//! - `<status prefix>/R/<name>`: a [`Status`] per followed name, as JSON
//!   `{"version": u64, "drained": bool, "error": string or null}`;
//! - `<status prefix>/R`: its presence, JSON `{"synced": u64}`, the revision of its last full
//!   read of the prefix. Written after the status entries of that read, so a replica that is
//!   present and has no entry for a name had none at that revision.
//!
//! When the replica stops (or dies and its lease expires), every one of these keys goes with
//! the lease.

use serde::{Deserialize, Serialize};

/// A replica's state for one name, as published under `<status prefix>/<replica>/<name>`.
///
/// ```
/// use registry_etcd::Status;
///
/// let status: Status = serde_json::from_str(r#"{"version": 42, "drained": true, "error": null}"#)?;
/// assert_eq!((status.version, status.drained, status.error), (42, true, None));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Status {
    /// The etcd revision of the last change of the name's key that the replica runs: the
    /// key's `mod_revision` after a put (the handler's version in the registry), the revision
    /// of the deletion after a delete; 0 while it runs what it started with.
    pub version: u64,
    /// Whether every handler the name had before `version` has been dropped: no call runs on
    /// old code any more.
    pub drained: bool,
    /// Why the last value of the key was not installed (it does not decode, names an unknown
    /// implementation, or the registry refused the name), with its revision; `null` once a
    /// later change is applied. The replica keeps running `version` meanwhile.
    pub error: Option<String>,
}

impl Status {
    /// A status entry (for tests and tools that read or write them).
    #[must_use]
    pub fn new(version: u64, drained: bool, error: Option<String>) -> Status {
        Status {
            version,
            drained,
            error,
        }
    }
}

/// The presence of a replica, under `<status prefix>/<replica>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Presence {
    /// The revision of the replica's last full read of the prefix.
    pub(crate) synced: u64,
}

/// What a key under `<status prefix>/` is.
pub(crate) enum StatusKey<'a> {
    /// `<replica>`: a replica's presence.
    Presence { replica: &'a str },
    /// `<replica>/<name>`: a replica's status for a name.
    Entry { replica: &'a str, name: &'a str },
}

/// Splits a key under the status prefix (`status_dir` is the prefix followed by `/`).
pub(crate) fn parse_key<'a>(status_dir: &str, key: &'a str) -> Option<StatusKey<'a>> {
    let rest = key.strip_prefix(status_dir)?;
    match rest.split_once('/') {
        Some((replica, name)) if !replica.is_empty() && !name.is_empty() => {
            Some(StatusKey::Entry { replica, name })
        }
        Some(_) => None,
        None if rest.is_empty() => None,
        None => Some(StatusKey::Presence { replica: rest }),
    }
}

/// The status prefix of replicas following `prefix` when none is given: `<prefix>-status`.
pub(crate) fn default_prefix(prefix: &str) -> String {
    format!("{prefix}-status")
}

/// A key under `<status prefix>/` with its value decoded; `None` for a value that does not
/// decode as what the key holds (a deletion's empty value, or something else's writing).
pub(crate) enum Record<'a> {
    /// `<replica>`: a replica's presence.
    Presence {
        replica: &'a str,
        presence: Option<Presence>,
    },
    /// `<replica>/<name>`: a replica's status for a name.
    Entry {
        replica: &'a str,
        name: &'a str,
        status: Option<Status>,
    },
}

/// Splits `key` as [`parse_key`] does and decodes `value` as what the key holds.
pub(crate) fn decode<'a>(status_dir: &str, key: &'a str, value: &[u8]) -> Option<Record<'a>> {
    Some(match parse_key(status_dir, key)? {
        StatusKey::Presence { replica } => Record::Presence {
            replica,
            presence: serde_json::from_slice(value).ok(),
        },
        StatusKey::Entry { replica, name } => Record::Entry {
            replica,
            name,
            status: serde_json::from_slice(value).ok(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_key, Status, StatusKey};

    #[test]
    fn keys_split_into_replica_and_name() {
        let dir = "/app-status/";
        assert!(matches!(
            parse_key(dir, "/app-status/r1"),
            Some(StatusKey::Presence { replica: "r1" })
        ));
        assert!(matches!(
            parse_key(dir, "/app-status/r1/a/b"),
            Some(StatusKey::Entry {
                replica: "r1",
                name: "a/b"
            })
        ));
        assert!(parse_key(dir, "/app-status/").is_none());
        assert!(parse_key(dir, "/app-status/r1/").is_none());
        assert!(parse_key(dir, "/other/r1").is_none());
    }

    #[test]
    fn status_json_has_the_documented_shape() {
        let status = Status::new(7, false, Some("revision 7: no".to_owned()));
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            r#"{"version":7,"drained":false,"error":"revision 7: no"}"#
        );
        assert_eq!(
            serde_json::to_string(&Status::new(3, true, None)).unwrap(),
            r#"{"version":3,"drained":true,"error":null}"#
        );
    }
}
