//! The `metrics` feature: calls reported through the `metrics` facade, checked with
//! metrics-util's debugging recorder installed for this thread. Run with
//! `cargo test --features metrics --test metrics_feature` (.ci/run does).
#![cfg(feature = "metrics")]

use std::collections::BTreeMap;

use handler_registry::{handler, registry, Registry};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[registry]
pub static OPS: Registry<fn(u32) -> u32, bool>;

#[handler("op.double", registry = OPS, meta = true, aliases = ["op.twice"])]
fn double(x: u32) -> u32 {
    x * 2
}

#[handler("op.fail", registry = OPS, meta = true)]
fn fail(_: u32) -> u32 {
    panic!("failing on purpose")
}

#[handler("op.secret", registry = OPS, meta = false)]
fn secret(x: u32) -> u32 {
    x
}

/// `(metric, handler label, registry label)` → counter value or histogram sample count.
type Seen = BTreeMap<(String, String, String), u64>;

fn reported(f: impl FnOnce()) -> Seen {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, f);
    let mut seen = Seen::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let label = |name: &str| {
            key.labels()
                .find(|label| label.key() == name)
                .map(|label| label.value().to_owned())
                .unwrap_or_default()
        };
        let count = match value {
            DebugValue::Counter(count) => count,
            DebugValue::Histogram(samples) => samples.len() as u64,
            DebugValue::Gauge(_) => panic!("no gauge is reported"),
        };
        let labels: Vec<&str> = key.labels().map(|label| label.key()).collect();
        assert_eq!(labels, ["handler", "registry"], "{key:?}");
        seen.insert(
            (key.name().to_owned(), label("handler"), label("registry")),
            count,
        );
    }
    seen
}

fn entry(
    metric: &str,
    handler: &str,
    registry: &str,
    count: u64,
) -> ((String, String, String), u64) {
    (
        (metric.to_owned(), handler.to_owned(), registry.to_owned()),
        count,
    )
}

#[test]
fn calls_panics_refusals_and_durations_are_reported_with_their_labels() {
    let allowed = |public: &bool| {
        if *public {
            Ok(())
        } else {
            Err("private".to_owned())
        }
    };
    let seen = reported(|| {
        assert_eq!(OPS.call("op.double", |f| f(1)), Ok(2));
        assert_eq!(OPS.call("op.twice", |f| f(2)), Ok(4));
        assert_eq!(OPS.call_guarded("op.double", allowed, |f| f(3)), Ok(6));
        assert!(OPS.call("op.fail", |f| f(1)).is_err());
        assert!(OPS.call_guarded("op.secret", allowed, |f| f(1)).is_err());
        assert!(OPS.call_guarded("op.secret", allowed, |f| f(1)).is_err());
        assert!(OPS.call("op.unknown", |f| f(1)).is_err());
    });
    let registry = "metrics_feature::OPS";
    let expected: Seen = [
        entry("handler_calls_total", "op.double", registry, 3),
        entry("handler_duration_seconds", "op.double", registry, 3),
        entry("handler_calls_total", "op.fail", registry, 1),
        entry("handler_panics_total", "op.fail", registry, 1),
        entry("handler_duration_seconds", "op.fail", registry, 1),
        entry("handler_denied_total", "op.secret", registry, 2),
    ]
    .into_iter()
    .collect();
    assert_eq!(seen, expected);
}

#[test]
fn run_time_names_and_standalone_registries_are_labelled() {
    let standalone: Registry<fn() -> u8> = Registry::new();
    standalone.register("tick", || 1).unwrap();
    let seen = reported(|| {
        for _ in 0..4 {
            assert_eq!(standalone.call("tick", |f| f()), Ok(1));
        }
    });
    let expected: Seen = [
        entry("handler_calls_total", "tick", "", 4),
        entry("handler_duration_seconds", "tick", "", 4),
    ]
    .into_iter()
    .collect();
    assert_eq!(seen, expected);
}

#[test]
fn nothing_is_reported_with_metrics_switched_off() {
    let quiet: Registry<fn() -> u8> = Registry::new();
    quiet.register("tick", || 1).unwrap();
    quiet.set_metrics(false);
    let seen = reported(|| {
        assert_eq!(quiet.call("tick", |f| f()), Ok(1));
    });
    assert_eq!(seen, Seen::new());
}
