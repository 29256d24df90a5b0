//! Implementation detail of [handler-registry](https://docs.rs/handler-registry): the
//! `#[handler]`, `#[registry]` and `#[dynamic]` attributes. Depend on `handler-registry`, which
//! re-exports them with their documentation.
//!
//! Each attribute runs the same pipeline: `parse` turns tokens into typed values that keep their
//! spans, `validate` applies every rule and collects all mistakes at once, `expand` generates
//! code that reaches the runtime only through `::handler_registry::__private`.

mod ctxt;
mod expand;
mod parse;
#[cfg(test)]
mod tests;
mod validate;

use proc_macro::TokenStream;

/// Registers a free function as a handler. See `handler_registry::handler`.
#[proc_macro_attribute]
pub fn handler(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::handler(args.into(), item.into()).into()
}

/// Declares a typed registry. See `handler_registry::registry`.
#[proc_macro_attribute]
pub fn registry(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::registry(args.into(), item.into()).into()
}

/// Makes a handler replaceable at run time. See `handler_registry::dynamic`.
#[proc_macro_attribute]
pub fn dynamic(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::dynamic(args.into(), item.into()).into()
}
