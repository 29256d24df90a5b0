//! Every rule that looks at more than one token: names, aliases, and what can be a handler.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{
    Attribute, Expr, FnArg, GenericArgument, GenericParam, Item, Lifetime, Lit, LitStr, Meta, Path,
    PathArguments, ReturnType, Signature, Type, TypeParamBound,
};

use crate::ctxt::Errors;
use crate::parse::{HandlerArgs, HandlerItem, RegistryItem, ALREADY_DYNAMIC};

/// What is said of `#[handler]` on a function inside an `impl` block, when its signature shows it
/// (`Self`). Without `Self` the macro cannot tell, and rustc's errors on the expansion stand.
const NOT_A_FREE_FUNCTION: &str = "`#[handler]` goes on a free function, not an associated function inside an `impl` block; register a free function that calls it";

/// Mirrors `registry_core::MAX_NAME_LEN`; the runtime checks the same rules again in `register`.
const MAX_NAME_LEN: usize = 256;

/// A `#[handler]` that passed every rule, ready to expand.
pub struct Handler<'a> {
    pub sig: &'a Signature,
    pub name: &'a LitStr,
    pub aliases: &'a [LitStr],
    pub registry: Option<&'a Path>,
    pub dynamic: bool,
    pub doc: String,
    /// The `crate = PATH` given, if any.
    pub krate: Option<&'a Path>,
    /// `meta = EXPR`: its key and value.
    pub meta: Option<&'a (syn::Ident, Expr)>,
}

pub fn handler<'a>(
    args: &'a HandlerArgs,
    item: &'a HandlerItem,
    errors: &mut Errors,
) -> Option<Handler<'a>> {
    if let Some(name) = &args.name {
        check_name(name, "handler name", errors);
    }
    for (index, alias) in args.aliases.iter().enumerate() {
        check_name(alias, "alias", errors);
        if args
            .name
            .as_ref()
            .is_some_and(|name| name.value() == alias.value())
        {
            errors.spanned(
                alias,
                format!(
                    "alias `{}` repeats the handler's name; remove it",
                    alias.value()
                ),
            );
        } else if args.aliases[..index]
            .iter()
            .any(|a| a.value() == alias.value())
        {
            errors.spanned(
                alias,
                format!("alias `{}` is listed twice; remove one", alias.value()),
            );
        }
    }
    let func = match item {
        HandlerItem::Fn(func) => {
            if let (Some(flag), true) = (&args.dynamic, func.dynamic_below) {
                errors.spanned(flag, ALREADY_DYNAMIC);
            }
            func
        }
        HandlerItem::Other(item) => {
            not_a_function(item, errors);
            return None;
        }
        HandlerItem::Unparsed(tokens) => {
            errors.spanned(tokens, "`#[handler]` goes on a free function");
            return None;
        }
    };
    check_signature(&func.head.sig, errors);
    if let (Some((key, _)), None) = (&args.meta, &args.registry) {
        errors.spanned(
            key,
            "the default registry has no metadata: `meta = …` goes with `registry = PATH`, a registry declared as `Registry<F, M>`",
        );
    }
    let name = args.name.as_ref()?;
    if !errors.is_empty() {
        return None;
    }
    Some(Handler {
        sig: &func.head.sig,
        name,
        aliases: &args.aliases,
        registry: args.registry.as_ref(),
        dynamic: args.dynamic.is_some() || func.dynamic_below,
        doc: doc_text(&func.head.attrs),
        krate: args.krate.as_ref(),
        meta: args.meta.as_ref(),
    })
}

fn check_name(lit: &LitStr, what: &str, errors: &mut Errors) {
    let value = lit.value();
    let problem = if value.is_empty() {
        Some(format!("{what} cannot be empty"))
    } else if value.len() > MAX_NAME_LEN {
        Some(format!(
            "{what} is {} bytes long; the limit is {MAX_NAME_LEN}",
            value.len()
        ))
    } else if value.chars().any(char::is_whitespace) {
        Some(format!(
            "{what} `{}` contains whitespace; use `.`, `_` or `-` instead",
            value.escape_debug()
        ))
    } else if value.chars().any(char::is_control) {
        Some(format!(
            "{what} `{}` contains a control character; remove it",
            value.escape_debug()
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        errors.spanned(lit, problem);
    }
}

fn check_signature(sig: &Signature, errors: &mut Errors) {
    if let Some(receiver) = sig.receiver() {
        errors.spanned(
            receiver.self_token,
            "`#[handler]` goes on free functions, not methods with `self`; register a free function that calls the method",
        );
    } else if let Some(self_type) = find_self_type(sig) {
        // Only an associated function can name `Self`: say so now, whatever rustc would say.
        errors.spanned(self_type, NOT_A_FREE_FUNCTION);
    }
    for param in &sig.generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            GenericParam::Type(param) => errors.spanned(
                &param.ident,
                "a handler cannot be generic: a registry stores one concrete function; register a wrapper for each type you need",
            ),
            GenericParam::Const(param) => errors.spanned(
                &param.ident,
                "a handler cannot have const parameters: a registry stores one concrete function",
            ),
        }
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.spanned(
            where_clause.where_token,
            "a handler cannot have a `where` clause: a registry stores one concrete function",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(
            variadic.dots,
            "variadic functions cannot be handlers: their arguments cannot be named in a fn pointer type",
        );
    }
    if sig.asyncness.is_some() {
        check_async(sig, errors);
    }
    for input in &sig.inputs {
        if let FnArg::Typed(arg) = input {
            if let Some(impl_trait) = find_impl_trait(&arg.ty) {
                errors.spanned(
                    impl_trait,
                    "`impl Trait` arguments make the function generic; take a concrete type or `&dyn Trait`",
                );
            }
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        if let Some(impl_trait) = find_impl_trait(ty) {
            errors.spanned(
                impl_trait,
                "an `impl Trait` return type cannot be named in a fn pointer; return a concrete type or a `Box<dyn Trait>`",
            );
        }
    }
}

/// An async handler is registered as a shim returning `BoxFuture<'static, T>`, so its future must
/// own everything it uses: no borrowed arguments, no lifetime parameters, a Rust ABI.
fn check_async(sig: &Signature, errors: &mut Errors) {
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi,
            "an async handler is registered as a Rust `fn` returning a boxed future; remove the `extern` ABI",
        );
    }
    let mut borrowed = false;
    for input in &sig.inputs {
        if let FnArg::Typed(arg) = input {
            if let Some(borrow) = find_borrow(&arg.ty) {
                borrowed = true;
                errors.spanned(
                    borrow,
                    "an async handler takes owned arguments: its boxed future must be `'static`; take an owned type (`String`, `Vec<T>`, `Arc<T>`) instead of a borrow",
                );
            }
        }
    }
    if !borrowed {
        if let Some(lifetime) = sig.generics.lifetimes().next() {
            errors.spanned(
                &lifetime.lifetime,
                "an async handler cannot have lifetime parameters: its boxed future must be `'static`; take owned arguments",
            );
        }
    }
}

/// What a type is written with, one level down.
enum Part<'a> {
    Type(&'a Type),
    Lifetime(&'a Lifetime),
}

/// The parts of `ty`, in source order: the element of a reference, pointer, slice, array,
/// parenthesised or grouped type, a tuple's fields, a path's generic arguments, and a trait
/// object's lifetime bounds.
fn parts(ty: &Type) -> Vec<Part<'_>> {
    match ty {
        Type::Reference(reference) => vec![Part::Type(&reference.elem)],
        Type::Paren(paren) => vec![Part::Type(&paren.elem)],
        Type::Group(group) => vec![Part::Type(&group.elem)],
        Type::Slice(slice) => vec![Part::Type(&slice.elem)],
        Type::Array(array) => vec![Part::Type(&array.elem)],
        Type::Ptr(ptr) => vec![Part::Type(&ptr.elem)],
        Type::Tuple(tuple) => tuple.elems.iter().map(Part::Type).collect(),
        Type::TraitObject(object) => object
            .bounds
            .iter()
            .filter_map(|bound| match bound {
                TypeParamBound::Lifetime(lifetime) => Some(Part::Lifetime(lifetime)),
                _ => None,
            })
            .collect(),
        Type::Path(path) => path
            .path
            .segments
            .iter()
            .filter_map(|segment| match &segment.arguments {
                PathArguments::AngleBracketed(args) => Some(&args.args),
                _ => None,
            })
            .flatten()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(Part::Type(ty)),
                GenericArgument::Lifetime(lifetime) => Some(Part::Lifetime(lifetime)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The first reference or lifetime in `ty` that is not `'static`.
fn find_borrow(ty: &Type) -> Option<TokenStream> {
    match ty {
        Type::Reference(reference)
            if reference
                .lifetime
                .as_ref()
                .is_none_or(|lifetime| lifetime.ident != "static") =>
        {
            Some(reference.to_token_stream())
        }
        _ => parts(ty).into_iter().find_map(|part| match part {
            Part::Type(ty) => find_borrow(ty),
            Part::Lifetime(lifetime) if lifetime.ident != "static" => {
                Some(lifetime.to_token_stream())
            }
            Part::Lifetime(_) => None,
        }),
    }
}

/// The first `Self` in the argument or return types.
fn find_self_type(sig: &Signature) -> Option<TokenTree> {
    fn find(tokens: TokenStream) -> Option<TokenTree> {
        tokens.into_iter().find_map(|token| match token {
            TokenTree::Ident(ident) if ident == "Self" => Some(TokenTree::Ident(ident)),
            TokenTree::Group(group) => find(group.stream()),
            _ => None,
        })
    }
    let types = sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(arg) => Some(arg.ty.to_token_stream()),
        FnArg::Receiver(_) => None,
    });
    let output = match &sig.output {
        ReturnType::Type(_, ty) => Some(ty.to_token_stream()),
        ReturnType::Default => None,
    };
    types.chain(output).find_map(find)
}

/// The first `impl Trait` in `ty`.
fn find_impl_trait(ty: &Type) -> Option<&Type> {
    if let Type::ImplTrait(_) = ty {
        return Some(ty);
    }
    parts(ty).into_iter().find_map(|part| match part {
        Part::Type(ty) => find_impl_trait(ty),
        Part::Lifetime(_) => None,
    })
}

/// The `///` comment: one leading space per line removed, surrounding blank lines trimmed.
fn doc_text(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|text| {
            text.split('\n')
                .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    lines.join("\n").trim().to_owned()
}

/// `#[handler]` on something other than a function, reported on the item's keyword.
fn not_a_function(item: &Item, errors: &mut Errors) {
    let (keyword, kind) = match item {
        Item::Struct(item) => (item.struct_token.to_token_stream(), "a struct"),
        Item::Enum(item) => (item.enum_token.to_token_stream(), "an enum"),
        Item::Union(item) => (item.union_token.to_token_stream(), "a union"),
        Item::Const(item) => (item.const_token.to_token_stream(), "a const"),
        Item::Static(item) => (item.static_token.to_token_stream(), "a static"),
        Item::Impl(item) => (item.impl_token.to_token_stream(), "an impl block"),
        Item::Trait(item) => (item.trait_token.to_token_stream(), "a trait"),
        Item::Mod(item) => (item.mod_token.to_token_stream(), "a module"),
        Item::Type(item) => (item.type_token.to_token_stream(), "a type alias"),
        Item::Use(item) => (item.use_token.to_token_stream(), "a `use` item"),
        Item::ForeignMod(item) => (item.abi.to_token_stream(), "an extern block"),
        other => (other.to_token_stream(), "this item"),
    };
    let instead = match item {
        Item::Impl(_) | Item::Trait(_) => "calls the method",
        _ => "uses it",
    };
    errors.spanned(
        keyword,
        format!("`#[handler]` goes on a free function, not {kind}; register a free function that {instead}"),
    );
}

/// A `#[registry]` that passed every rule: the static, its handler type `F` and its metadata
/// type `M`, if it has one.
pub struct Registry<'a> {
    pub item: &'a RegistryItem,
    pub handler_ty: &'a Type,
    pub meta_ty: Option<&'a Type>,
    /// For `Arc<dyn Fn(A) -> R + …>`: the fn pointer type `#[handler]` functions are coerced
    /// to; the registry wraps each in an `Arc` once, at freeze.
    pub owned_decl: Option<TokenStream>,
}

pub fn registry<'a>(item: &'a RegistryItem, errors: &mut Errors) -> Option<Registry<'a>> {
    if let Some(mutability) = &item.mutability {
        errors.spanned(
            mutability,
            "a registry cannot be `static mut`: it is shared and synchronised; remove `mut`",
        );
    }
    if let Some((eq, value)) = &item.init {
        errors.spanned(
            quote::quote!(#eq #value),
            "remove the initializer: `#[registry]` supplies it (`static NAME: Registry<F>;`)",
        );
    }
    let handler_ty = registry_handler_type(&item.ty);
    if handler_ty.is_none() {
        errors.spanned(
            &item.ty,
            "a registry's type is `Registry<F>` or `Registry<F, M>`, with `F` the handler type and `M` the metadata type, e.g. `Registry<fn(&str) -> String>`",
        );
    }
    let (handler_ty, meta_ty) = handler_ty?;
    Some(Registry {
        item,
        handler_ty,
        meta_ty,
        owned_decl: owned_fn_decl(handler_ty),
    })
}

/// `Arc<dyn Fn(A) -> R + Send + Sync>` (with any `for<'a>` binder and extra bounds): the fn
/// pointer type `for<'a> fn(A) -> R`.
fn owned_fn_decl(handler_ty: &Type) -> Option<TokenStream> {
    let Type::Path(path) = handler_ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Arc" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let [GenericArgument::Type(inner)] = args.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let mut inner = inner;
    while let Type::Paren(paren) = inner {
        inner = &paren.elem;
    }
    let Type::TraitObject(object) = inner else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let segment = bound.path.segments.last()?;
        let PathArguments::Parenthesized(call) = &segment.arguments else {
            return None;
        };
        if segment.ident != "Fn" {
            return None;
        }
        let binder = &bound.lifetimes;
        let inputs = &call.inputs;
        let output = &call.output;
        Some(quote::quote!(#binder fn(#inputs) #output))
    })
}

fn registry_handler_type(ty: &Type) -> Option<(&Type, Option<&Type>)> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Registry" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [syn::GenericArgument::Type(handler)] => Some((handler, None)),
        [syn::GenericArgument::Type(handler), syn::GenericArgument::Type(meta)] => {
            Some((handler, Some(meta)))
        }
        _ => None,
    }
}
