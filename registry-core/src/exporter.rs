//! The `metrics` feature: every call counted in [`stats`](crate::Registry::stats) is also
//! reported through the [`metrics`] facade, to whatever recorder the program installed
//! (Prometheus, `StatsD`, OpenTelemetry…):
//!
//! | metric | kind | when |
//! |---|---|---|
//! | `handler_calls_total` | counter | a call finished (returned, panicked, timed out, cancelled) |
//! | `handler_panics_total` | counter | a call panicked |
//! | `handler_denied_total` | counter | a guarded call was refused ([`Registry::call_guarded`](crate::Registry::call_guarded)) |
//! | `handler_duration_seconds` | histogram | a call finished: its time |
//!
//! Labels: `handler`, the handler's primary name (aliases add up under it), and `registry`, the
//! path of the `#[registry]` static (`my_crate::COMMANDS`; `handler_registry::HANDLERS` for the
//! default registry; empty for a standalone [`Registry::new`](crate::Registry::new)).
//!
//! Calls are reported when they are counted: with metrics switched off
//! ([`set_metrics(false)`](crate::Registry::set_metrics)) nothing is reported either. Each
//! report builds its key with the two labels, which the `metrics` crate holds in a `Vec`: an
//! allocation per call, paid only with the feature.

use std::time::Duration;

use metrics::{counter, histogram, SharedString};

use crate::metrics::Key;

/// The `handler` label: a declared name is borrowed, a run-time name copied.
fn handler(key: &Key<'_>) -> SharedString {
    match key {
        Key::Declared(name) => SharedString::const_str(name),
        Key::Runtime(name) => SharedString::from((*name).to_owned()),
    }
}

/// A finished call, with its time if it was timed (with this feature every call is: see
/// src/metrics.rs).
pub(crate) fn finished(
    registry: &'static str,
    key: &Key<'_>,
    panicked: bool,
    elapsed: Option<Duration>,
) {
    let name = handler(key);
    counter!("handler_calls_total", "handler" => name.clone(), "registry" => registry).increment(1);
    if panicked {
        counter!("handler_panics_total", "handler" => name.clone(), "registry" => registry)
            .increment(1);
    }
    if let Some(elapsed) = elapsed {
        histogram!("handler_duration_seconds", "handler" => name, "registry" => registry)
            .record(elapsed.as_secs_f64());
    }
}

/// A call refused by its check.
pub(crate) fn denied(registry: &'static str, key: &Key<'_>) {
    counter!("handler_denied_total", "handler" => handler(key), "registry" => registry)
        .increment(1);
}
