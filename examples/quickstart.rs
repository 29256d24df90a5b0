//! The tour: declare a registry, register handlers from several modules, look them up by name.
//!
//! Run it with `cargo run --example quickstart`.

use handler_registry::{handler, registry, Registry};

/// Commands that turn a text argument into a reply.
#[registry]
pub static COMMANDS: Registry<fn(&str) -> String>;

/// Say hello.
#[handler("greet", registry = COMMANDS, aliases = ["hi"])]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

mod text {
    use handler_registry::{dynamic, handler};

    /// Shout the text back.
    #[handler("shout", registry = super::COMMANDS)]
    #[dynamic]
    fn shout(text: &str) -> String {
        text.to_uppercase()
    }

    /// Count the words.
    #[handler("words", registry = super::COMMANDS)]
    fn words(text: &str) -> String {
        text.split_whitespace().count().to_string()
    }
}

/// Add two numbers. No `registry = …`: it goes to the default registry, which takes any
/// signature and checks it on the way out.
#[handler("math.add")]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

fn main() -> Result<(), handler_registry::Error> {
    // Freeze at startup: duplicate names become an error here instead of a panic later.
    COMMANDS.freeze()?;

    println!("registered commands:");
    for entry in COMMANDS.entries() {
        println!(
            "  {:<6} {:<22} {:?} at {}",
            entry.name(),
            entry.doc(),
            entry.kind(),
            entry.location()
        );
    }

    for (name, argument) in [
        ("greet", "world"),
        ("hi", "again"),
        ("words", "one two three"),
    ] {
        let command = COMMANDS.get(name).expect("declared above");
        println!("{name}({argument:?}) = {:?}", command(argument));
    }

    // `#[dynamic]` handlers can be swapped while the program runs.
    COMMANDS.replace("shout", |text| format!("{}!!!", text.to_uppercase()))?;
    println!("shout(\"hey\") = {:?}", COMMANDS.lookup("shout")?("hey"));

    // The default registry hands a handler out only as the type it was declared with.
    let add = handler_registry::lookup::<fn(i32, i32) -> i32>("math.add")?;
    println!("math.add(2, 3) = {}", add(2, 3));

    // Mistakes are errors that say what to do.
    println!("{}", COMMANDS.lookup("gret").unwrap_err());
    println!(
        "{}",
        handler_registry::lookup::<fn(i64) -> i64>("math.add").unwrap_err()
    );
    println!(
        "{}",
        COMMANDS.replace("greet", |text| text.into()).unwrap_err()
    );
    Ok(())
}
