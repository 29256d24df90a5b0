//! A small command shell: reads lines from stdin, dispatches the first word by name.
//!
//! Commands are `#[handler]` functions and closures defined at run time, side by side in one
//! registry of owned closures: `define shout HELLO {}` adds a command `shout`, and `shout ann`
//! prints `HELLO ann`.
//!
//! ```text
//! $ printf 'help\ngreet ann\nstyle formal\ngreet ann\ngret\n' | cargo run --example commands
//! $ printf 'define shout HELLO {}\nshout ann\nundefine shout\n' | cargo run --example commands
//! ```

use std::io::{self, BufRead, Write};
use std::sync::Arc;

use handler_registry::{dynamic, handler, registry, Kind, Registry};

/// A command takes the rest of the line and returns what to print.
type Command = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The commands. The type is spelled out (not `Command`) because `#[registry]` reads it to wrap
/// each `#[handler]` function in an `Arc`, once, at freeze.
#[registry]
static COMMANDS: Registry<Arc<dyn Fn(&str) -> String + Send + Sync>>;

/// List every command with its description.
#[handler("help", registry = COMMANDS, aliases = ["?"])]
fn help(_: &str) -> String {
    COMMANDS
        .entries()
        .iter()
        .map(|entry| {
            let aliases = match entry.aliases() {
                [] => String::new(),
                aliases => format!(" (also: {})", aliases.join(", ")),
            };
            let version = match entry.kind() {
                Kind::Dynamic { version } => format!(" [dynamic, v{version}]"),
                _ => String::new(),
            };
            // Only `#[handler]` functions have doc comments.
            let doc = match entry.doc() {
                "" => "(made with `define`)",
                doc => doc,
            };
            format!("{:<10}{doc}{aliases}{version}", entry.name())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Print the arguments back.
#[handler("echo", registry = COMMANDS)]
fn echo(args: &str) -> String {
    args.to_owned()
}

/// Add the numbers given as arguments.
#[handler("sum", registry = COMMANDS, aliases = ["add"])]
fn sum(args: &str) -> String {
    let parsed: Result<Vec<f64>, _> = args.split_whitespace().map(str::parse::<f64>).collect();
    match parsed {
        Ok(numbers) => numbers.iter().sum::<f64>().to_string(),
        Err(error) => format!("sum: {error}"),
    }
}

/// Greet someone (its style can be changed with `style`).
#[handler("greet", registry = COMMANDS)]
#[dynamic]
fn greet(who: &str) -> String {
    format!("hi {who}!")
}

fn greet_formal(who: &str) -> String {
    format!("Good day to you, {who}.")
}

fn greet_casual(who: &str) -> String {
    format!("hi {who}!")
}

/// Switch the greeting style: `style formal` or `style casual`.
#[handler("style", registry = COMMANDS)]
fn style(args: &str) -> String {
    let replacement: Command = match args.trim() {
        "formal" => Arc::new(greet_formal),
        "casual" => Arc::new(greet_casual),
        other => return format!("style: unknown style `{other}`; use `formal` or `casual`"),
    };
    match COMMANDS.replace("greet", replacement) {
        Ok(_) => format!("greet is now {}", args.trim()),
        Err(error) => format!("style: {error}"),
    }
}

/// Where a `define`d command puts its arguments.
const ARGS: &str = "{}";

/// Define a command from a template: `define shout HELLO {}`; defining it again replaces it.
#[handler("define", registry = COMMANDS)]
fn define(args: &str) -> String {
    let Some((name, template)) = args.split_once(' ') else {
        return "define: usage: define NAME TEMPLATE, e.g. `define shout HELLO {}`".to_owned();
    };
    let template = template.trim().to_owned();
    if !template.contains(ARGS) {
        return format!("define: the template needs `{ARGS}` where the arguments go");
    }
    let command: Command = Arc::new(move |args: &str| template.replace(ARGS, args));
    // Versioned, so that a definition racing another one cannot silently undo it.
    let current = version(name);
    let next = current.map_or(0, |version| version + 1);
    match COMMANDS.register_versioned(name, next, command) {
        Ok(()) if current.is_some() => format!("redefined {name} (v{next})"),
        Ok(()) => format!("defined {name} (v{next})"),
        Err(error) => format!("define: {error}"),
    }
}

/// Remove a command made with `define`: `undefine shout`.
#[handler("undefine", registry = COMMANDS)]
fn undefine(args: &str) -> String {
    let name = args.trim();
    match COMMANDS.unregister(name) {
        Ok(_) => format!("undefined {name}"),
        Err(error) => format!("undefine: {error}"),
    }
}

/// The installed version of a `#[dynamic]` or defined command; `None` for other names.
fn version(name: &str) -> Option<u64> {
    COMMANDS
        .entries()
        .into_iter()
        .find(|entry| entry.name() == name)
        .and_then(|entry| match entry.kind() {
            Kind::Dynamic { version } => Some(version),
            _ => None,
        })
}

fn dispatch(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let (name, args) = line.split_once(' ').unwrap_or((line, ""));
    Some(match COMMANDS.lookup(name) {
        Ok(command) => command(args.trim()),
        Err(error) => format!("error: {error}"),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Fail at startup, not at the first command, if two commands share a name.
    COMMANDS.freeze()?;
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        if matches!(line.trim(), "quit" | "exit") {
            break;
        }
        if let Some(output) = dispatch(&line) {
            writeln!(stdout, "{output}")?;
        }
    }
    Ok(())
}
