//! Implementation detail of [handler-registry](https://docs.rs/handler-registry): the
//! `#[handler]`, `#[registry]` and `#[dynamic]` attributes. Depend on `handler-registry`, which
//! re-exports them with their documentation.
//!
//! Each attribute runs the same pipeline: `parse` turns tokens into typed values that keep their
//! spans, `validate` applies every rule and collects all mistakes at once, `expand` generates
//! code that reaches the runtime only through `::handler_registry::__private`, or through the
//! path given as `crate = PATH` (a renamed dependency, or a framework re-exporting the
//! attributes).

mod ctxt;
mod expand;
mod parse;
#[cfg(test)]
mod tests;
mod validate;

use proc_macro::TokenStream;

// Documented where handler-registry re-exports it: rustdoc shows the two texts together.
#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn handler(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::handler(args.into(), item.into()).into()
}

// Documented where handler-registry re-exports it: rustdoc shows the two texts together.
#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn registry(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::registry(args.into(), item.into()).into()
}

// Documented where handler-registry re-exports it: rustdoc shows the two texts together.
#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn dynamic(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::dynamic(args.into(), item.into()).into()
}
