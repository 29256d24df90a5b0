//! Async calls that can be spawned: `call_async` looks the handler up (and holds a run-time one)
//! when the call is made, and the call does not borrow the name, so a call on a `'static`
//! registry is a `'static`, `Send` future that `tokio::spawn` takes (which checks both at
//! compile time) and that runs on the handler it found even if the name is replaced meanwhile.

use std::sync::Arc;
use std::time::Duration;

use handler_registry::{handler, registry, BoxFuture, Error, Registry};
use tokio::sync::Notify;

#[derive(Clone, Debug, PartialEq)]
struct State {
    prefix: &'static str,
}

type Event = fn(State, u32) -> BoxFuture<'static, String>;

#[registry]
static EVENTS: Registry<Event>;

/// Labels a payload after yielding once, so the task really suspends.
#[handler("label", registry = EVENTS, aliases = ["tag"])]
async fn label(state: State, payload: u32) -> String {
    tokio::task::yield_now().await;
    format!("{}{payload}", state.prefix)
}

/// Never finishes: only a deadline ends a call to it.
#[handler("stall", registry = EVENTS)]
async fn stall(_: State, _: u32) -> String {
    std::future::pending().await
}

type Job = Arc<dyn Fn() -> BoxFuture<'static, u32> + Send + Sync>;

/// A registry that lives for `'static`, for run-time names.
fn leaked() -> &'static Registry<Job> {
    Box::leak(Box::new(Registry::new()))
}

/// A handler whose call waits for `gate`, then returns `output`.
fn gated(gate: &Arc<Notify>, output: u32) -> Job {
    let gate = Arc::clone(gate);
    Arc::new(move || {
        let gate = Arc::clone(&gate);
        Box::pin(async move {
            gate.notified().await;
            output
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_call_outlives_the_name_it_was_made_by() {
    let state = State { prefix: "#" };
    let mut tasks = Vec::new();
    for (name, payload) in [("label", 1), ("tag", 2)] {
        let name: String = name.to_owned();
        tasks.push(tokio::spawn(
            EVENTS.call_async(&name, |h| h(state.clone(), payload)),
        ));
        drop(name);
    }
    let mut outputs = Vec::new();
    for task in tasks {
        outputs.push(task.await.unwrap());
    }
    assert_eq!(outputs, [Ok("#1".to_owned()), Ok("#2".to_owned())]);
    let label = EVENTS.stats().into_iter().find(|s| s.name() == "label");
    assert_eq!(label.map(|s| s.calls()), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_calls_errors_name_the_name_it_was_made_by() {
    // A declared alias: the error keeps the spelling the call was made by.
    let name = String::from("stall");
    let task = tokio::spawn(
        EVENTS
            .call_async(&name, |h| h(State { prefix: "" }, 0))
            .timeout(Duration::from_millis(10), tokio::time::sleep),
    );
    drop(name);
    let outcome = task.await.unwrap();
    assert!(
        matches!(&outcome, Err(Error::TimedOut { name, .. }) if name == "stall"),
        "{outcome:?}"
    );

    // A run-time name: the error names it from the handler the call holds.
    let jobs = leaked();
    let gate = Arc::new(Notify::new());
    jobs.register("job.run-time", gated(&gate, 1)).unwrap();
    let name = String::from("job.run-time");
    let task = tokio::spawn(
        jobs.call_async(&name, |job| job())
            .timeout(Duration::from_millis(10), tokio::time::sleep),
    );
    drop(name);
    let outcome = task.await.unwrap();
    assert!(
        matches!(&outcome, Err(Error::TimedOut { name, .. }) if name == "job.run-time"),
        "{outcome:?}"
    );
    let stats = jobs.stats();
    assert_eq!(
        (stats[0].name(), stats[0].calls()),
        ("job.run-time", 1),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_made_before_a_replace_runs_on_the_old_handler() {
    let jobs = leaked();
    let old_gate = Arc::new(Notify::new());
    let new_gate = Arc::new(Notify::new());
    jobs.register("job", gated(&old_gate, 1)).unwrap();

    let name = String::from("job");
    let call = jobs.call_async(&name, |job| job());
    drop(name);
    jobs.replace("job", gated(&new_gate, 2)).unwrap();
    // First polled after the replace, on another thread.
    let task = tokio::spawn(call);

    // The retired handler still has the call: a drain waits for it.
    let waited = jobs
        .drained_async("job", Duration::from_millis(50), tokio::time::sleep)
        .await;
    assert!(
        matches!(waited, Err(Error::DrainTimeout { in_flight: 1, .. })),
        "{waited:?}"
    );
    old_gate.notify_one();
    assert_eq!(task.await.unwrap(), Ok(1));
    let drained = jobs
        .drained_async("job", Duration::from_secs(10), tokio::time::sleep)
        .await;
    assert_eq!(drained, Ok(()));

    new_gate.notify_one();
    assert_eq!(jobs.call_async("job", |job| job()).await, Ok(2));
}

#[tokio::test]
#[allow(deprecated)]
async fn the_former_names_of_the_guarded_calls_still_work() {
    let guarded: Registry<fn() -> u8, bool> = Registry::new_with_meta();
    guarded.register_with_meta("admin", || 1, true).unwrap();
    let public_only = |admin: &bool| match admin {
        true => Err("admin only".to_owned()),
        false => Ok(()),
    };
    assert!(matches!(
        guarded.call_as("admin", public_only, |f| f()),
        Err(Error::Denied { .. })
    ));
    assert_eq!(guarded.call_as("admin", |_| Ok(()), |f| f()), Ok(1));
    let refused = guarded
        .call_async_as("admin", public_only, |f| std::future::ready(f()))
        .await;
    assert!(matches!(refused, Err(Error::Denied { .. })), "{refused:?}");
}

/// The `tokio` feature's short forms: a `Duration` on tokio's clock.
#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tokio_forms_take_a_duration() {
    let name = String::from("stall");
    let task = tokio::spawn(
        EVENTS
            .call_async(&name, |h| h(State { prefix: "" }, 0))
            .timeout_after(Duration::from_millis(10)),
    );
    drop(name);
    let outcome = task.await.unwrap();
    assert!(
        matches!(&outcome, Err(Error::TimedOut { after, .. }) if *after == Duration::from_millis(10)),
        "{outcome:?}"
    );

    let jobs = leaked();
    let mut changes = jobs.subscribe();
    assert!(changes.recv_for(Duration::from_millis(10)).await.is_none());
    let gate = Arc::new(Notify::new());
    jobs.register("job", gated(&gate, 1)).unwrap();
    let registered = changes.recv_for(Duration::from_secs(10)).await;
    assert_eq!(registered.as_ref().map(|c| c.name()), Some("job"));

    let task = tokio::spawn(jobs.call_async("job", |job| job()));
    jobs.replace("job", gated(&gate, 2)).unwrap();
    let waited = jobs.drained_for("job", Duration::from_millis(50)).await;
    assert!(
        matches!(waited, Err(Error::DrainTimeout { in_flight: 1, .. })),
        "{waited:?}"
    );
    gate.notify_one();
    assert_eq!(task.await.unwrap(), Ok(1));
    assert_eq!(
        jobs.drained_for("job", Duration::from_secs(10)).await,
        Ok(())
    );
}
