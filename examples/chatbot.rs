//! A chat bot: each line from stdin is a message `command args…`, answered on stdout.
//!
//! The commands live in three modules, with aliases, help text from their doc comments and a
//! help category in their metadata. They share the bot's state through the context argument,
//! one is async (a reminder that waits), and one (`motd`) is `#[dynamic]`: `setmotd` swaps it at
//! run time for a closure carrying the new text. Every command has one type, async-shaped, so
//! one registry answers every name, with one "did you mean" for all of them.
//! `tests/chatbot.rs` replaces commands with test doubles (`Registry::mock`).
//!
//! ```text
//! $ printf 'help\nroll 6\nhlep\nremind 10 tea\nsetmotd Ship it\nmotd\n' | cargo run --example chatbot
//! ```

use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use handler_registry::{registry, BoxFuture, Registry};

/// The bot's state, shared by every command.
#[derive(Default)]
pub struct Bot {
    /// Messages answered so far.
    pub answered: AtomicU64,
    /// The dice's state: a small linear congruential generator, so runs are reproducible.
    dice: AtomicU64,
}

impl Bot {
    /// The next roll of a die with `sides` sides (1 if `sides` is 0).
    pub fn roll(&self, sides: u64) -> u64 {
        let state = self
            .dice
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % sides.max(1) + 1
    }
}

/// What a command gets: the shared state, and the rest of the message.
pub type Ctx = Arc<Bot>;

/// Help categories: `meta = Help("…")` on each command; a command without one is "other".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Help(pub &'static str);

impl Default for Help {
    fn default() -> Self {
        Help("other")
    }
}

/// Every command. Async-shaped (`async fn` commands and plain ones alike are `async fn`), and
/// owned, so that a closure with state can replace a command at run time.
#[registry]
pub static COMMANDS: Registry<
    Arc<dyn Fn(Ctx, String) -> BoxFuture<'static, String> + Send + Sync>,
    Help,
>;

mod basics {
    use handler_registry::handler;

    use super::{Ctx, Help, COMMANDS};

    /// List the commands by category.
    #[handler("help", registry = super::COMMANDS, meta = Help("basics"), aliases = ["h", "?"])]
    async fn help(_: Ctx, _: String) -> String {
        let mut entries = COMMANDS.entries();
        entries.sort_by_key(|entry| *entry.meta());
        let mut lines = Vec::new();
        let mut category = "";
        for entry in &entries {
            if entry.meta().0 != category {
                category = entry.meta().0;
                lines.push(format!("{category}:"));
            }
            let aliases = match entry.aliases() {
                [] => String::new(),
                aliases => format!(" (also {})", aliases.join(", ")),
            };
            lines.push(format!("  {:<8}{}{aliases}", entry.name(), entry.doc()));
        }
        lines.join("\n")
    }

    /// Check that the bot is alive.
    #[handler("ping", registry = super::COMMANDS, meta = Help("basics"))]
    async fn ping(bot: Ctx, _: String) -> String {
        let answered = bot.answered.load(std::sync::atomic::Ordering::Relaxed);
        format!("pong ({answered} answered)")
    }
}

mod games {
    use handler_registry::handler;

    use super::{Ctx, Help};

    /// Roll a die: `roll [SIDES]` (6 by default).
    #[handler("roll", registry = super::COMMANDS, meta = Help("games"), aliases = ["dice"])]
    pub async fn roll(bot: Ctx, args: String) -> String {
        match args.trim() {
            "" => format!("rolled {}", bot.roll(6)),
            sides => match sides.parse() {
                Ok(sides) => format!("rolled {}", bot.roll(sides)),
                Err(_) => format!("`{sides}` is not a number of sides"),
            },
        }
    }

    /// Flip a coin.
    #[handler("flip", registry = super::COMMANDS, meta = Help("games"))]
    async fn flip(bot: Ctx, _: String) -> String {
        if bot.roll(2) == 1 { "heads" } else { "tails" }.to_owned()
    }
}

mod admin {
    use std::sync::Arc;
    use std::time::Duration;

    use handler_registry::{dynamic, handler};

    use super::{Ctx, Help, COMMANDS};

    /// Remind you after a while: `remind MILLISECONDS TEXT`.
    #[handler("remind", registry = super::COMMANDS, meta = Help("tools"))]
    async fn remind(_: Ctx, args: String) -> String {
        let (delay, text) = args.trim().split_once(' ').unwrap_or((args.trim(), ""));
        let Ok(delay) = delay.parse() else {
            return "usage: remind MILLISECONDS TEXT".to_owned();
        };
        tokio::time::sleep(Duration::from_millis(delay)).await;
        format!("reminder: {text}")
    }

    /// The message of the day (change it with `setmotd`).
    #[dynamic]
    #[handler("motd", registry = super::COMMANDS, meta = Help("tools"))]
    async fn motd(_: Ctx, _: String) -> String {
        "no message today".to_owned()
    }

    /// Set the message of the day: `setmotd TEXT`.
    #[handler("setmotd", registry = super::COMMANDS, meta = Help("tools"))]
    async fn setmotd(_: Ctx, args: String) -> String {
        let text: Arc<str> = args.trim().into();
        let motd = move |_: Ctx, _: String| {
            let text = Arc::clone(&text);
            Box::pin(async move { format!("message of the day: {text}") }) as _
        };
        match COMMANDS.replace("motd", Arc::new(motd)) {
            Ok(_) => "message of the day updated".to_owned(),
            Err(error) => error.to_string(),
        }
    }
}

/// Answers one message: runs its command (with a deadline), or says what went wrong.
pub async fn answer(bot: &Ctx, message: &str) -> String {
    let (name, args) = message
        .trim()
        .split_once(' ')
        .unwrap_or((message.trim(), ""));
    let reply = COMMANDS
        .call_async(name, |command| command(Arc::clone(bot), args.to_owned()))
        .timeout(Duration::from_secs(5), tokio::time::sleep)
        .await;
    bot.answered.fetch_add(1, Ordering::Relaxed);
    reply.unwrap_or_else(|error| error.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    COMMANDS.freeze()?;
    let bot = Ctx::default();
    let mut out = io::stdout().lock();
    for line in io::stdin().lock().lines() {
        let line = line?;
        if !line.trim().is_empty() {
            writeln!(out, "{}", answer(&bot, &line).await)?;
        }
    }
    Ok(())
}
