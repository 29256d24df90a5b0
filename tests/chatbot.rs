//! The chat bot of `examples/chatbot.rs`, tested the intended way: commands replaced by test
//! doubles with `Registry::mock`, each test seeing only its own, in parallel. Run with
//! `cargo test --features testing --test chatbot` (.ci/run does).
#![cfg(feature = "testing")]

use std::sync::{mpsc, Arc};

#[allow(dead_code)]
#[path = "../examples/chatbot.rs"]
mod chatbot;

use chatbot::{answer, Ctx, COMMANDS};
use handler_registry::BoxFuture;

type Command = Arc<dyn Fn(Ctx, String) -> BoxFuture<'static, String> + Send + Sync>;

/// A command that answers `reply` and records the arguments it was called with.
fn recording(reply: &'static str) -> (Command, mpsc::Receiver<String>) {
    let (sent, received) = mpsc::channel();
    let command: Command = Arc::new(move |_, args| {
        sent.send(args).unwrap();
        Box::pin(async move { reply.to_owned() })
    });
    (command, received)
}

#[tokio::test]
async fn a_mocked_die_is_loaded() {
    let bot = Ctx::default();
    let (fake, calls) = recording("rolled 6, of course");
    let _loaded = COMMANDS.mock("roll", fake).unwrap();
    assert_eq!(answer(&bot, "roll 6").await, "rolled 6, of course");
    // The alias is the same command.
    assert_eq!(answer(&bot, "dice 20").await, "rolled 6, of course");
    assert_eq!(calls.try_iter().collect::<Vec<_>>(), ["6", "20"]);
}

#[tokio::test]
async fn a_reminder_can_be_tested_without_waiting() {
    let bot = Ctx::default();
    let (fake, calls) = recording("reminder: (instant)");
    let _instant = COMMANDS.mock("remind", fake).unwrap();
    assert_eq!(
        answer(&bot, "remind 600000 tea").await,
        "reminder: (instant)"
    );
    assert_eq!(calls.recv().unwrap(), "600000 tea");
}

#[tokio::test]
async fn the_real_commands_answer_where_nothing_is_mocked() {
    let bot = Ctx::default();
    assert_eq!(answer(&bot, "ping").await, "pong (0 answered)");
    assert!(answer(&bot, "roll 1").await == "rolled 1");
    assert!(answer(&bot, "help").await.contains("  roll    Roll a die"));
    assert_eq!(
        answer(&bot, "motdd").await,
        "no handler named `motdd`; did you mean `motd`?"
    );
}
