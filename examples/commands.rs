//! A small command shell: reads lines from stdin, dispatches the first word by name.
//!
//! ```text
//! $ printf 'help\ngreet ann\nstyle formal\ngreet ann\ngret\n' | cargo run --example commands
//! ```

use std::io::{self, BufRead, Write};

use handler_registry::{dynamic, handler, registry, Kind, Registry};

/// A command takes the rest of the line and returns what to print.
type Command = fn(&str) -> String;

#[registry]
static COMMANDS: Registry<Command>;

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
            format!("{:<8}{}{aliases}{version}", entry.name(), entry.doc())
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
        "formal" => greet_formal,
        "casual" => greet_casual,
        other => return format!("style: unknown style `{other}`; use `formal` or `casual`"),
    };
    match COMMANDS.replace("greet", replacement) {
        Ok(_) => format!("greet is now {}", args.trim()),
        Err(error) => format!("style: {error}"),
    }
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
