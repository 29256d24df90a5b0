//! Attribute arguments and annotated items, parsed into typed values that keep their spans.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Expr, Ident, Item, Lit, LitStr, Meta, Path, Signature, Token, Type, Visibility,
};

use crate::ctxt::Errors;

/// The options `#[handler]` accepts after the name, for error messages.
pub const HANDLER_OPTIONS: &str =
    "`registry = PATH`, `aliases = [\"…\"]`, `meta = EXPR`, `dynamic`, `crate = PATH`";

/// What is said of a `crate = …` that is not a path, for both attributes.
const CRATE_TAKES_A_PATH: &str =
    "`crate` takes the path handler-registry is reachable at, e.g. `crate = hr` or `crate = ::my_framework::__hr`";

/// What is said of a second `dynamic`, whether written as an option or as `#[dynamic]`.
pub const ALREADY_DYNAMIC: &str =
    "the handler is already dynamic: keep either the `dynamic` option or `#[dynamic]`";

/// `#[handler("name", registry = PATH, aliases = ["a", "b"], dynamic, crate = PATH)]`.
#[derive(Default)]
pub struct HandlerArgs {
    pub name: Option<LitStr>,
    pub registry: Option<Path>,
    pub aliases: Vec<LitStr>,
    /// The `dynamic` flag, kept for its span.
    pub dynamic: Option<Path>,
    /// Where the generated code finds handler-registry, if not at `::handler_registry`.
    pub krate: Option<Path>,
    /// `meta = EXPR`: the key (for spans) and the registry's metadata for this handler.
    pub meta: Option<(Ident, Expr)>,
}

impl HandlerArgs {
    pub fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        // Reading the arguments as a list of expressions is what lets every mistake be named,
        // but syn's expression parser is slow in the unoptimized build proc macros get by
        // default: well-formed arguments are read by the strict grammar of `parse_plain` first,
        // in a third of the time.
        match Self::parse_plain.parse2(tokens.clone()) {
            Ok(args) => args,
            Err(_) => Self::parse_exprs(tokens, errors),
        }
    }

    /// `"name"` then, each at most once and in any order, `registry = a::b::C`,
    /// `aliases = ["…", …]`, `meta = EXPR`, `dynamic` and `crate = a::b`, with an optional trailing comma.
    /// Anything else, including input that merely looks unusual, is an error here and goes to
    /// `parse_exprs`.
    pub fn parse_plain(input: ParseStream) -> syn::Result<Self> {
        let mut args = HandlerArgs {
            name: Some(input.parse()?),
            ..HandlerArgs::default()
        };
        let mut aliases_given = false;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            // `crate` is a keyword, which `Ident::parse` refuses.
            let key = input.call(Ident::parse_any)?;
            if key == "dynamic" && args.dynamic.is_none() && !input.peek(Token![=]) {
                args.dynamic = Some(key.into());
                continue;
            }
            input.parse::<Token![=]>()?;
            if key == "registry" && args.registry.is_none() {
                args.registry = Some(input.call(Path::parse_mod_style)?);
            } else if key == "crate" && args.krate.is_none() {
                args.krate = Some(input.call(Path::parse_mod_style)?);
            } else if key == "meta" && args.meta.is_none() {
                args.meta = Some((key, input.parse()?));
            } else if key == "aliases" && !aliases_given {
                aliases_given = true;
                let content;
                syn::bracketed!(content in input);
                let aliases = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                args.aliases = aliases.into_iter().collect();
            } else {
                return Err(input.error("not a plain option"));
            }
        }
        Ok(args)
    }

    /// Any arguments, read as expressions so that each mistake is reported on its own tokens.
    pub fn parse_exprs(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut args = HandlerArgs::default();
        let exprs = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(tokens) {
            Ok(exprs) => exprs,
            Err(error) => {
                errors.push(error);
                return args;
            }
        };
        let mut name_reported = false;
        let mut keys_seen = Vec::new();
        for (position, expr) in exprs.into_iter().enumerate() {
            match expr {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(name),
                    ..
                }) => {
                    if args.name.is_some() {
                        errors.spanned(
                            name,
                            "a handler has one name; list extra names in `aliases = [\"…\"]`",
                        );
                    } else {
                        if position > 0 {
                            errors.spanned(
                                &name,
                                "the name goes first: `#[handler(\"name\", options…)]`",
                            );
                        }
                        args.name = Some(name);
                    }
                }
                Expr::Assign(assign) if is_key(&assign.left, "name") => {
                    name_reported = true;
                    errors.spanned(
                        assign.left,
                        "the name is written first, without a key: `#[handler(\"greet\")]`",
                    );
                }
                Expr::Assign(assign) => {
                    args.option(*assign.left, *assign.right, &mut keys_seen, errors);
                }
                Expr::Path(path) if path.path.is_ident("dynamic") => {
                    if args.dynamic.is_some() {
                        errors.spanned(&path, ALREADY_DYNAMIC);
                    }
                    args.dynamic = Some(path.path);
                }
                other if position == 0 => {
                    name_reported = true;
                    errors.spanned(
                        other,
                        "the handler name must be a string literal, e.g. `#[handler(\"greet\")]`",
                    );
                }
                Expr::Path(path) if path.path.get_ident().is_some() => errors.spanned(
                    &path,
                    format!(
                        "unknown option `{}`; expected one of {HANDLER_OPTIONS}",
                        quote!(#path)
                    ),
                ),
                other => errors.spanned(
                    other,
                    format!("expected an option, one of {HANDLER_OPTIONS}"),
                ),
            }
        }
        if args.name.is_none() && !name_reported {
            errors.push(syn::Error::new(
                Span::call_site(),
                "missing handler name: write `#[handler(\"name\")]` with the name first",
            ));
        }
        args
    }

    fn option(&mut self, key: Expr, value: Expr, seen: &mut Vec<Ident>, errors: &mut Errors) {
        let Some(ident) = (match &key {
            Expr::Path(path) => path.path.get_ident(),
            _ => None,
        }) else {
            errors.spanned(key, format!("expected an option, one of {HANDLER_OPTIONS}"));
            return;
        };
        if seen.contains(ident) {
            errors.spanned(ident, format!("`{ident}` is given twice; keep one"));
            return;
        }
        seen.push(ident.clone());
        match ident.to_string().as_str() {
            "registry" => match value {
                Expr::Path(path) if path.qself.is_none() => self.registry = Some(path.path),
                other => errors.spanned(
                    other,
                    "`registry` takes the path of a `#[registry]` static, e.g. `registry = crate::COMMANDS`",
                ),
            },
            "aliases" => {
                let Expr::Array(array) = value else {
                    errors.spanned(
                        value,
                        "`aliases` takes an array of string literals, e.g. `aliases = [\"hi\", \"hello\"]`",
                    );
                    return;
                };
                for element in array.elems {
                    match element {
                        Expr::Lit(syn::ExprLit {
                            lit: Lit::Str(alias),
                            ..
                        }) => self.aliases.push(alias),
                        other => errors.spanned(
                            other,
                            "an alias must be a string literal, e.g. `aliases = [\"hi\"]`",
                        ),
                    }
                }
            }
            "dynamic" => errors.spanned(
                &key,
                "`dynamic` is a flag: write `dynamic` without a value, or put `#[dynamic]` on the function",
            ),
            "crate" => self.krate = crate_value(value, errors),
            "meta" => self.meta = Some((ident.clone(), value)),
            other => errors.spanned(
                ident,
                format!("unknown option `{other}`; expected one of {HANDLER_OPTIONS}"),
            ),
        }
    }
}

fn is_key(expr: &Expr, key: &str) -> bool {
    matches!(expr, Expr::Path(path) if path.path.is_ident(key))
}

/// The value of `crate = …`: a path, written as in a `use` (no generic arguments).
fn crate_value(value: Expr, errors: &mut Errors) -> Option<Path> {
    match value {
        Expr::Path(path)
            if path.qself.is_none()
                && path
                    .path
                    .segments
                    .iter()
                    .all(|segment| segment.arguments.is_none()) =>
        {
            Some(path.path)
        }
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(string),
            ..
        }) => {
            errors.spanned(
                &string,
                format!(
                    "`crate` takes a path, not a string: write `crate = {}`",
                    string.value()
                ),
            );
            None
        }
        other => {
            errors.spanned(other, CRATE_TAKES_A_PATH);
            None
        }
    }
}

/// `#[registry]` or `#[registry(crate = PATH)]`.
#[derive(Default)]
pub struct RegistryArgs {
    /// Where the generated code finds handler-registry, if not at `::handler_registry`.
    pub krate: Option<Path>,
}

impl RegistryArgs {
    pub fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut args = RegistryArgs::default();
        let exprs = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(tokens) {
            Ok(exprs) => exprs,
            Err(error) => {
                errors.push(error);
                return args;
            }
        };
        let mut given = false;
        for expr in exprs {
            match expr {
                Expr::Assign(assign) if is_key(&assign.left, "crate") => {
                    if given {
                        errors.spanned(assign.left, "`crate` is given twice; keep one");
                        continue;
                    }
                    given = true;
                    args.krate = crate_value(*assign.right, errors);
                }
                Expr::Assign(assign) => match &*assign.left {
                    Expr::Path(path) if path.path.get_ident().is_some() => errors.spanned(
                        &assign.left,
                        format!(
                            "unknown option `{}`; expected `crate = PATH`",
                            quote!(#path)
                        ),
                    ),
                    other => errors.spanned(other, REGISTRY_OPTIONS),
                },
                other => errors.spanned(other, REGISTRY_OPTIONS),
            }
        }
        args
    }
}

/// What `#[registry]` says of arguments it does not know.
const REGISTRY_OPTIONS: &str =
    "`#[registry]` takes one option, `crate = PATH`, or none: `#[registry] static NAME: Registry<F>;`";

/// What `#[handler]` was put on.
pub enum HandlerItem {
    Fn(FnItem),
    Other(Item),
    Unparsed(TokenStream),
}

impl HandlerItem {
    pub fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        if let Some(head) = FnHead::split(&tokens) {
            let mut func = FnItem {
                head,
                tokens,
                dynamic_below: false,
            };
            func.dynamic_below = mark_dynamic_handled(&mut func.head.attrs, errors);
            return HandlerItem::Fn(func);
        }
        match syn::parse2::<Item>(tokens.clone()) {
            Ok(item) => HandlerItem::Other(item),
            Err(_) => HandlerItem::Unparsed(tokens),
        }
    }
}

/// A function's attributes and signature, parsed; its body is left as unparsed tokens.
///
/// Registration never looks inside the body, so an item whose last token is a `{ … }` block is
/// split there and only what precedes the block is parsed: the macro's cost no longer grows
/// with the size of the function, and the function is emitted again exactly as written.
pub struct FnHead {
    pub attrs: Vec<Attribute>,
    pub sig: Signature,
}

impl FnHead {
    /// The head of `tokens` if they are `ATTRS VIS SIGNATURE { … }`.
    pub fn split(tokens: &TokenStream) -> Option<Self> {
        let mut head: Vec<TokenTree> = tokens.clone().into_iter().collect();
        match head.pop() {
            Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => {}
            _ => return None,
        }
        let parser = |input: ParseStream| {
            let attrs = input.call(Attribute::parse_outer)?;
            input.parse::<Visibility>()?;
            let sig = input.parse()?;
            Ok(FnHead { attrs, sig })
        };
        parser.parse2(head.into_iter().collect()).ok()
    }

    /// `tokens`, the item this head was split from, with its attributes replaced by `attrs`.
    pub fn with_attrs(&self, tokens: &TokenStream) -> TokenStream {
        // Each outer attribute is two token trees, `#` and `[…]`; all that follows is kept as
        // written.
        let attrs = &self.attrs;
        let mut output = quote!(#(#attrs)*);
        output.extend(tokens.clone().into_iter().skip(2 * attrs.len()));
        output
    }
}

/// A function under `#[handler]`.
pub struct FnItem {
    pub head: FnHead,
    /// The item as written, emitted again unchanged unless a `#[dynamic]` was rewritten.
    tokens: TokenStream,
    /// A `#[dynamic]` written below `#[handler]`, already rewritten so it expands to nothing.
    pub dynamic_below: bool,
}

impl ToTokens for FnItem {
    fn to_tokens(&self, output: &mut TokenStream) {
        if self.dynamic_below {
            output.extend(self.head.with_attrs(&self.tokens));
        } else {
            output.extend(self.tokens.clone());
        }
    }
}

/// The argument `#[handler]` gives a `#[dynamic]` it has taken into account. Rewriting the
/// attribute, rather than deleting it, keeps the user's `use …::dynamic` import in use.
pub const HANDLED: &str = "__handled_by_handler";

/// What `#[dynamic]` says when given arguments, above or below `#[handler]`.
pub const DYNAMIC_TAKES_NO_ARGUMENTS: &str =
    "`#[dynamic]` takes no arguments: write `#[dynamic]` alone";

fn mark_dynamic_handled(attrs: &mut [Attribute], errors: &mut Errors) -> bool {
    let mut found = false;
    for attr in attrs {
        let is_dynamic = attr
            .path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "dynamic");
        if !is_dynamic {
            continue;
        }
        if found {
            errors.spanned(attr.path(), ALREADY_DYNAMIC);
        }
        match &attr.meta {
            Meta::Path(_) => {}
            Meta::List(list) if list.tokens.is_empty() => {}
            Meta::List(list) => errors.spanned(&list.tokens, DYNAMIC_TAKES_NO_ARGUMENTS),
            Meta::NameValue(name_value) => {
                errors.spanned(&name_value.value, DYNAMIC_TAKES_NO_ARGUMENTS);
            }
        }
        let path = attr.path().clone();
        let handled = Ident::new(HANDLED, Span::call_site());
        attr.meta = syn::parse_quote!(#path(#handled));
        found = true;
    }
    found
}

/// `#[registry]`'s input: `VIS static NAME: Registry<F>;`, with the mistakes kept for
/// `validate` to report (`static mut`, an initializer).
pub struct RegistryItem {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub mutability: Option<Token![mut]>,
    pub ident: Ident,
    pub ty: Type,
    pub init: Option<(Token![=], Expr)>,
}

impl Parse for RegistryItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if !input.peek(Token![static]) {
            return Err(input.error(
                "`#[registry]` goes on a static without a value: `static NAME: Registry<F>;`",
            ));
        }
        input.parse::<Token![static]>()?;
        let mutability = input.parse()?;
        let ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty = input.parse()?;
        let init = if input.peek(Token![=]) {
            Some((input.parse()?, input.parse()?))
        } else {
            None
        };
        input.parse::<Token![;]>()?;
        Ok(RegistryItem {
            attrs,
            vis,
            mutability,
            ident,
            ty,
            init,
        })
    }
}
