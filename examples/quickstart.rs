use handler_registry::{handler, registry, Registry};

#[registry]
pub static COMMANDS: Registry<fn(&str) -> String>;

/// Say hello.
#[handler("greet", registry = COMMANDS, aliases = ["hi"])]
fn greet(who: &str) -> String {
    format!("hello {who}")
}

/// Add two numbers.
#[handler("math.add")]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

mod shout {
    use handler_registry::{dynamic, handler};
    /// Shout it.
    #[handler("shout", registry = super::COMMANDS)]
    #[dynamic]
    fn shout(s: &str) -> String {
        s.to_uppercase()
    }
}

fn main() {
    COMMANDS.freeze().unwrap();
    let f = COMMANDS.get("greet").unwrap();
    println!("{}", f("world"));
    println!("{}", COMMANDS.get("hi").unwrap()("alias"));
    for e in COMMANDS.entries() {
        println!("{} {:?} {:?} {}:{} {}", e.name(), e.aliases(), e.kind(), e.file(), e.line(), e.doc());
    }
    let add = handler_registry::get::<fn(i32, i32) -> i32>("math.add").unwrap();
    println!("{}", add(2, 3));
    println!("{}", handler_registry::get::<fn(i64) -> i64>("math.add").unwrap_err());
    println!("{}", COMMANDS.lookup("gret").unwrap_err());
    COMMANDS.replace("shout", |s| format!("{s}!!!")).unwrap();
    println!("{}", COMMANDS.get("shout").unwrap()("hey"));
    println!("{}", COMMANDS.replace("greet", |s| s.into()).unwrap_err());
}
