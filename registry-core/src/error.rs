//! The one error type of the crate, and the name rules it reports on.

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(
    clippy::match_same_arms,
    reason = "messages of different variants may read alike; one arm per variant keeps each message beside its variant"
)]
#![allow(
    clippy::missing_errors_doc,
    reason = "the error type itself: its functions say in prose which errors they return"
)]
#![allow(clippy::too_many_lines, reason = "Display has one arm per variant")]

use std::fmt;

/// A `#[handler]` declaration of a name in a registry other than the one it was looked up in:
/// what [`Error::NotFound`] and [`Error::Missing`] point at when the name exists elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredElsewhere {
    pub(crate) name: &'static str,
    pub(crate) location: Location,
    /// The `registry = PATH` of the declaration as written; empty for the default registry.
    pub(crate) registry: &'static str,
}

impl DeclaredElsewhere {
    /// The name, as the declaration spells it (its primary name or one of its aliases).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Where the declaration is.
    #[must_use]
    pub fn location(&self) -> Location {
        self.location
    }

    /// The registry it was declared for, as written in `registry = PATH`; `None` for the
    /// default registry.
    #[must_use]
    pub fn registry(&self) -> Option<&'static str> {
        (!self.registry.is_empty()).then_some(self.registry)
    }
}

impl fmt::Display for DeclaredElsewhere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let DeclaredElsewhere {
            name,
            location,
            registry,
        } = self;
        if registry.is_empty() {
            write!(
                f,
                "`{name}` is declared at {location} in the default registry: did you forget `registry = …`?"
            )
        } else {
            write!(
                f,
                "`{name}` is declared at {location} in another registry (`registry = {registry}`): is this the registry you meant?"
            )
        }
    }
}

/// Where a handler was declared with `#[handler]`, or installed at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    pub(crate) module_path: &'static str,
    pub(crate) file: &'static str,
    pub(crate) line: u32,
}

impl Location {
    /// The module that declared the handler; empty for names installed at run time.
    #[must_use]
    pub fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// The source file, as `file!()` reports it.
    #[must_use]
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the `#[handler]` attribute or of the run-time call that installed it.
    #[must_use]
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The crate of the declaring module (the first segment of its path); empty for names
    /// installed at run time.
    fn krate(&self) -> &'static str {
        self.module_path.split("::").next().unwrap_or_default()
    }

    #[track_caller]
    pub(crate) fn caller() -> Self {
        let caller = std::panic::Location::caller();
        Location {
            module_path: "",
            file: caller.file(),
            line: caller.line(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Two declarations of the same name in one registry, found by [`Registry::freeze`](crate::Registry::freeze).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub(crate) name: &'static str,
    pub(crate) first: Location,
    pub(crate) second: Location,
}

impl Clash {
    /// The name (primary or alias) declared twice.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The declaration that sorts first (by file, then line).
    #[must_use]
    pub fn first(&self) -> Location {
        self.first
    }

    /// The other declaration.
    #[must_use]
    pub fn second(&self) -> Location {
        self.second
    }
}

/// Why a string is not a valid handler name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The name is the empty string.
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    TooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// The name contains a whitespace character.
    Whitespace {
        /// Byte offset of the offending character.
        at: usize,
    },
    /// The name contains a control character.
    Control {
        /// Byte offset of the offending character.
        at: usize,
    },
}

/// The longest handler name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// Checks the rules every handler name follows: non-empty, at most [`MAX_NAME_LEN`] bytes, no
/// whitespace and no control characters. `#[handler]` applies the same rules at compile time.
///
/// ```
/// # extern crate registry_core as handler_registry;
/// use handler_registry::{validate_name, NameError};
/// assert_eq!(validate_name("order.refresh"), Ok(()));
/// assert_eq!(validate_name("two words"), Err(NameError::Whitespace { at: 3 }));
/// ```
pub fn validate_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { len: name.len() });
    }
    for (at, c) in name.char_indices() {
        if c.is_whitespace() {
            return Err(NameError::Whitespace { at });
        }
        if c.is_control() {
            return Err(NameError::Control { at });
        }
    }
    Ok(())
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("a handler name cannot be empty"),
            NameError::TooLong { len } => write!(
                f,
                "a handler name is at most {MAX_NAME_LEN} bytes; this one has {len}"
            ),
            NameError::Whitespace { at } => write!(
                f,
                "a handler name cannot contain whitespace (found at byte {at}); use `.`, `_` or `-` instead"
            ),
            NameError::Control { at } => write!(
                f,
                "a handler name cannot contain control characters (found at byte {at})"
            ),
        }
    }
}

/// Everything that can go wrong when registering, looking up or replacing a handler.
///
/// Every message says what to do next and, where a handler is involved, where it is defined.
///
/// The enum and each of its variants are non-exhaustive, so variants and fields can be added
/// without a breaking change: match with a wildcard arm and with `..` in every variant pattern.
/// Other crates cannot build a variant, so they check an error by matching it, not with `==`.
///
/// ```
/// # extern crate registry_core as handler_registry;
/// use handler_registry::{Error, Registry};
///
/// let math: Registry<fn(i32, i32) -> i32> = Registry::new();
/// match math.lookup("add") {
///     Err(Error::NotFound { name, .. }) => assert_eq!(name, "add"),
///     other => panic!("expected NotFound, got {other:?}"),
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// No handler has this name. `suggestion` is the closest registered name, when one is close:
    /// at most one edit per three characters away (counted on the shorter name, and at least
    /// one), where inserting, deleting or replacing a character or swapping two neighbours is
    /// one edit (`hlep` → `help`; `greet.al` → `greet.all`); ties go to the name that sorts first.
    /// Failing that, a name of two or more characters that begins exactly one registered name
    /// suggests it (`adm` → `admin`).
    #[non_exhaustive]
    NotFound {
        /// The name looked up (cut to a readable length).
        name: String,
        /// The closest registered name by edit distance, if one is close enough to be a typo.
        suggestion: Option<String>,
        /// A `#[handler]` of this name in another registry, when there is one (the usual
        /// mistake: `registry = …` left out, or a lookup in the wrong registry).
        declared_elsewhere: Option<DeclaredElsewhere>,
    },
    /// The default registry holds this name, but with another signature.
    #[non_exhaustive]
    SignatureMismatch {
        /// The handler's name.
        name: String,
        /// The type the caller asked for.
        expected: &'static str,
        /// The type the handler was registered with.
        found: &'static str,
        /// Where the handler is defined.
        location: Location,
    },
    /// A declaration submitted to a typed registry holds a value of another type than the
    /// registry's declarations. `#[handler]` coerces every function to the registry's type, so
    /// only a hand-written submission of the hidden link-time entry can cause it.
    #[non_exhaustive]
    MistypedDeclaration {
        /// The declared name.
        name: String,
        /// The type the registry's declarations have.
        expected: &'static str,
        /// Where the declaration is.
        location: Location,
    },
    /// Two or more declarations share a name (primary names and aliases alike).
    #[non_exhaustive]
    Duplicate {
        /// Every clash, sorted by name.
        clashes: Vec<Clash>,
    },
    /// The name belongs to a static handler, which cannot be replaced, removed or shadowed.
    #[non_exhaustive]
    NotDynamic {
        /// The handler's name.
        name: String,
        /// Where the handler is defined.
        location: Location,
    },
    /// A run-time or `#[dynamic]` handler already holds the name.
    #[non_exhaustive]
    AlreadyRegistered {
        /// The handler's name.
        name: String,
        /// Where the current handler was declared or installed.
        location: Location,
    },
    /// `register_versioned` offered a version that is not newer than the installed one (or
    /// than the one the name had when it was removed), or a version cannot grow past
    /// `u64::MAX`.
    #[non_exhaustive]
    Stale {
        /// The handler's name.
        name: String,
        /// The installed version, or the last one of a removed name.
        current: u64,
        /// The version that was offered and refused.
        offered: u64,
    },
    /// The name breaks the naming rules (see [`validate_name`]).
    #[non_exhaustive]
    InvalidName {
        /// The rejected name (cut to a readable length).
        name: String,
        /// Which rule it breaks.
        reason: NameError,
    },
    /// Names a program requires at startup are not registered.
    #[non_exhaustive]
    Missing {
        /// Every required name that is not registered, in the order asked.
        names: Vec<String>,
        /// Those of them declared with `#[handler]` for another registry.
        declared_elsewhere: Vec<DeclaredElsewhere>,
    },
    /// The check given to [`Registry::call_guarded`](crate::Registry::call_guarded) refused the
    /// call on the handler's metadata; the handler did not run.
    #[non_exhaustive]
    Denied {
        /// The name that was called.
        name: String,
        /// Why the check refused it.
        reason: String,
    },
    /// The handler panicked; the registry and the caller keep working.
    #[non_exhaustive]
    Panicked {
        /// The handler's name.
        name: String,
        /// The panic payload, when it was a string.
        message: String,
    },
    /// The handler did not finish before its deadline; its future was dropped.
    #[non_exhaustive]
    TimedOut {
        /// The handler's name.
        name: String,
        /// The deadline that passed, measured from the call.
        after: std::time::Duration,
    },
    /// The call was cancelled before the handler finished; its future was dropped.
    #[non_exhaustive]
    Cancelled {
        /// The handler's name.
        name: String,
    },
    /// [`Registry::drained`](crate::Registry::drained) timed out: calls that started before the
    /// latest change of the name are still running on a retired handler.
    #[non_exhaustive]
    DrainTimeout {
        /// The name waited for.
        name: String,
        /// Calls still running on retired handlers of the name when the wait ended.
        in_flight: usize,
    },
    /// [`Registry::restore`](crate::Registry::restore) of a name that no `#[dynamic]`
    /// declaration holds: there is no declared handler to go back to.
    #[non_exhaustive]
    NotDeclared {
        /// The name given.
        name: String,
    },
    /// [`Registry::drained`](crate::Registry::drained) (or `drained_async`) was called from
    /// inside a call running on a retired handler of the same name: the wait would never end,
    /// since that call is one it waits for.
    #[non_exhaustive]
    DrainDeadlock {
        /// The name waited for.
        name: String,
    },
    /// The handler returned an error, through [`Registry::try_call`](crate::Registry::try_call)
    /// or [`try_call_async`](crate::Registry::try_call_async): `source` is that error, also
    /// returned by [`std::error::Error::source`]. Two `Handler` errors are equal when they name
    /// the same handler and share the same `source` (the same `Arc`, as a clone of the error
    /// does), whatever the source's own notion of equality.
    #[non_exhaustive]
    Handler {
        /// The handler's name, as called.
        name: String,
        /// The error the handler returned.
        source: std::sync::Arc<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    pub(crate) fn not_found(
        name: &str,
        suggestion: Option<&str>,
        declared_elsewhere: Option<DeclaredElsewhere>,
    ) -> Self {
        Error::NotFound {
            name: shown(name),
            suggestion: suggestion.map(str::to_owned),
            declared_elsewhere,
        }
    }

    pub(crate) fn drain_timeout(name: &str, in_flight: usize) -> Self {
        Error::DrainTimeout {
            name: shown(name),
            in_flight,
        }
    }

    pub(crate) fn invalid_name(name: &str, reason: NameError) -> Self {
        Error::InvalidName {
            name: shown(name),
            reason,
        }
    }
}

/// Keeps error values small and printable when the input is huge or hostile.
pub(crate) fn shown(name: &str) -> String {
    const SHOWN: usize = 80;
    if name.len() <= SHOWN {
        return name.to_owned();
    }
    let mut end = SHOWN;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &name[..end], name.len())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound {
                name,
                suggestion,
                declared_elsewhere: Some(elsewhere),
            } => {
                write!(f, "no handler named `{name}` in this registry; {elsewhere}")?;
                match suggestion {
                    Some(suggestion) => write!(f, "; or did you mean `{suggestion}`?"),
                    None => Ok(()),
                }
            }
            Error::NotFound {
                name,
                suggestion: Some(suggestion),
                ..
            } => write!(f, "no handler named `{name}`; did you mean `{suggestion}`?"),
            Error::NotFound {
                name,
                suggestion: None,
                ..
            } => write!(
                f,
                "no handler named `{name}`; `Registry::entries()` lists the registered names"
            ),
            Error::SignatureMismatch {
                name,
                expected,
                found,
                location,
            } => write!(
                f,
                "handler `{name}` (defined at {location}) has type `{found}`, not the requested `{expected}`; ask for `{found}` or change the handler"
            ),
            Error::MistypedDeclaration {
                name,
                expected,
                location,
            } => write!(
                f,
                "the declaration of `{name}` at {location} does not hold a `{expected}`, the type of this registry's declarations; declare handlers with `#[handler(registry = …)]`, which checks the type"
            ),
            Error::Duplicate { clashes } => {
                write!(f, "{} duplicate handler name", clashes.len())?;
                if clashes.len() != 1 {
                    f.write_str("s")?;
                }
                f.write_str(" (rename one of each pair or put it in another registry):")?;
                for clash in clashes {
                    write!(
                        f,
                        "\n  `{}` is declared at {} and at {}",
                        clash.name, clash.first, clash.second
                    )?;
                    let crates = (clash.first.krate(), clash.second.krate());
                    if crates.0 != crates.1 {
                        write!(
                            f,
                            ", in crates `{}` and `{}` (a library should declare its own `#[registry]`)",
                            crates.0, crates.1
                        )?;
                    }
                }
                Ok(())
            }
            Error::NotDynamic { name, location } => write!(
                f,
                "handler `{name}` (defined at {location}) is static and cannot be replaced, removed or shadowed; mark it `#[dynamic]` to change it at run time"
            ),
            Error::AlreadyRegistered { name, location } => write!(
                f,
                "a handler named `{name}` is already registered (at {location}); use `replace` or `register_versioned` to swap it"
            ),
            Error::Stale {
                name,
                current,
                offered,
            } => write!(
                f,
                "version {offered} of `{name}` is stale: the latest version is {current}; offer a version greater than {current}"
            ),
            Error::InvalidName { name, reason } => {
                write!(f, "invalid handler name `{}`: {reason}", name.escape_debug())
            }
            Error::Missing {
                names,
                declared_elsewhere,
            } => {
                f.write_str("required handlers are not registered: ")?;
                for (index, name) in names.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{name}`")?;
                }
                for elsewhere in declared_elsewhere {
                    write!(f, "; {elsewhere}")?;
                }
                if declared_elsewhere.len() < names.len() {
                    f.write_str("; check that the crates declaring them are linked (referenced from this binary) and that the platform is supported")?;
                }
                Ok(())
            }
            Error::Denied { name, reason } => {
                write!(f, "the call of `{name}` was refused: {reason}; the handler did not run")
            }
            Error::Panicked { name, message } => write!(
                f,
                "handler `{name}` panicked: {message}; the registry keeps serving other calls"
            ),
            Error::TimedOut { name, after } => write!(
                f,
                "handler `{name}` did not finish within {after:?}; it was cancelled"
            ),
            Error::Cancelled { name } => {
                write!(f, "the call to handler `{name}` was cancelled before it finished")
            }
            Error::DrainTimeout { name, in_flight } => {
                let calls = if *in_flight == 1 { "call is" } else { "calls are" };
                write!(
                    f,
                    "`{name}` did not drain in time: {in_flight} {calls} still running on a retired handler; wait longer or make its calls finish (a timeout on `call_async`)"
                )
            }
            Error::NotDeclared { name } => write!(
                f,
                "`{name}` has no `#[dynamic]` declaration to restore; only a name declared with `#[handler(..)]` and `#[dynamic]` can go back to its declared handler"
            ),
            Error::Handler { name, source } => write!(f, "handler `{name}` failed: {source}"),
            Error::DrainDeadlock { name } => write!(
                f,
                "`{name}` cannot be drained from a call running on one of its retired handlers: the wait would never end, since that call is one it waits for; wait from outside the handler"
            ),
        }
    }
}

/// Equality field by field; a [`Error::Handler`] compares its `source` by identity (see there).
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Error::NotFound {
                    name: a_name,
                    suggestion: a_suggestion,
                    declared_elsewhere: a_declared_elsewhere,
                },
                Error::NotFound {
                    name: b_name,
                    suggestion: b_suggestion,
                    declared_elsewhere: b_declared_elsewhere,
                },
            ) => {
                a_name == b_name
                    && a_suggestion == b_suggestion
                    && a_declared_elsewhere == b_declared_elsewhere
            }
            (
                Error::SignatureMismatch {
                    name: a_name,
                    expected: a_expected,
                    found: a_found,
                    location: a_location,
                },
                Error::SignatureMismatch {
                    name: b_name,
                    expected: b_expected,
                    found: b_found,
                    location: b_location,
                },
            ) => {
                a_name == b_name
                    && a_expected == b_expected
                    && a_found == b_found
                    && a_location == b_location
            }
            (
                Error::MistypedDeclaration {
                    name: a_name,
                    expected: a_expected,
                    location: a_location,
                },
                Error::MistypedDeclaration {
                    name: b_name,
                    expected: b_expected,
                    location: b_location,
                },
            ) => a_name == b_name && a_expected == b_expected && a_location == b_location,
            (Error::Duplicate { clashes: a_clashes }, Error::Duplicate { clashes: b_clashes }) => {
                a_clashes == b_clashes
            }
            (
                Error::NotDynamic {
                    name: a_name,
                    location: a_location,
                },
                Error::NotDynamic {
                    name: b_name,
                    location: b_location,
                },
            ) => a_name == b_name && a_location == b_location,
            (
                Error::AlreadyRegistered {
                    name: a_name,
                    location: a_location,
                },
                Error::AlreadyRegistered {
                    name: b_name,
                    location: b_location,
                },
            ) => a_name == b_name && a_location == b_location,
            (
                Error::Stale {
                    name: a_name,
                    current: a_current,
                    offered: a_offered,
                },
                Error::Stale {
                    name: b_name,
                    current: b_current,
                    offered: b_offered,
                },
            ) => a_name == b_name && a_current == b_current && a_offered == b_offered,
            (
                Error::InvalidName {
                    name: a_name,
                    reason: a_reason,
                },
                Error::InvalidName {
                    name: b_name,
                    reason: b_reason,
                },
            ) => a_name == b_name && a_reason == b_reason,
            (
                Error::Missing {
                    names: a_names,
                    declared_elsewhere: a_declared_elsewhere,
                },
                Error::Missing {
                    names: b_names,
                    declared_elsewhere: b_declared_elsewhere,
                },
            ) => a_names == b_names && a_declared_elsewhere == b_declared_elsewhere,
            (
                Error::Denied {
                    name: a_name,
                    reason: a_reason,
                },
                Error::Denied {
                    name: b_name,
                    reason: b_reason,
                },
            ) => a_name == b_name && a_reason == b_reason,
            (
                Error::Panicked {
                    name: a_name,
                    message: a_message,
                },
                Error::Panicked {
                    name: b_name,
                    message: b_message,
                },
            ) => a_name == b_name && a_message == b_message,
            (
                Error::TimedOut {
                    name: a_name,
                    after: a_after,
                },
                Error::TimedOut {
                    name: b_name,
                    after: b_after,
                },
            ) => a_name == b_name && a_after == b_after,
            (Error::Cancelled { name: a_name }, Error::Cancelled { name: b_name }) => {
                a_name == b_name
            }
            (
                Error::DrainTimeout {
                    name: a_name,
                    in_flight: a_in_flight,
                },
                Error::DrainTimeout {
                    name: b_name,
                    in_flight: b_in_flight,
                },
            ) => a_name == b_name && a_in_flight == b_in_flight,
            (Error::NotDeclared { name: a_name }, Error::NotDeclared { name: b_name }) => {
                a_name == b_name
            }
            (Error::DrainDeadlock { name: a_name }, Error::DrainDeadlock { name: b_name }) => {
                a_name == b_name
            }
            (
                Error::Handler {
                    name: a_name,
                    source: a_source,
                },
                Error::Handler {
                    name: b_name,
                    source: b_source,
                },
            ) => a_name == b_name && std::sync::Arc::ptr_eq(a_source, b_source),
            _ => false,
        }
    }
}

impl Eq for Error {}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Handler { source, .. } => Some(&**source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Clash, Error, Location};

    fn at(module_path: &'static str, file: &'static str) -> Location {
        Location {
            module_path,
            file,
            line: 3,
        }
    }

    #[test]
    fn a_duplicate_between_two_crates_names_them() {
        let error = Error::Duplicate {
            clashes: vec![
                Clash {
                    name: "ping",
                    first: at("app::handlers", "src/handlers.rs"),
                    second: at("net_plugin", "plugin/src/lib.rs"),
                },
                Clash {
                    name: "pong",
                    first: at("app::a", "src/a.rs"),
                    second: at("app::b", "src/b.rs"),
                },
            ],
        };
        assert_eq!(
            error.to_string(),
            "2 duplicate handler names (rename one of each pair or put it in another registry):\n  \
             `ping` is declared at src/handlers.rs:3 and at plugin/src/lib.rs:3, in crates `app` \
             and `net_plugin` (a library should declare its own `#[registry]`)\n  \
             `pong` is declared at src/a.rs:3 and at src/b.rs:3"
        );
    }
}
