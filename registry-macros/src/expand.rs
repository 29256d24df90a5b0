//! Code generation. Everything generated reaches the runtime through
//! `::handler_registry::__private` and keeps its helper items inside `const _: () = { … };`.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::{FnArg, Item, Meta, Signature};

use crate::ctxt::Errors;
use crate::parse::{HandlerArgs, HandlerItem, RegistryItem, HANDLED};
use crate::validate::{self, Handler};

pub fn handler(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = HandlerArgs::parse(args, &mut errors);
    let item = HandlerItem::parse(item);
    let handler = validate::handler(&args, &item, &mut errors);
    let original = match &item {
        HandlerItem::Fn { func, .. } => func.to_token_stream(),
        HandlerItem::Other(item) => item.to_token_stream(),
        HandlerItem::Unparsed(tokens) => tokens.clone(),
    };
    match handler {
        Some(handler) if errors.is_empty() => {
            let registration = registration(&handler);
            quote!(#original #registration)
        }
        _ => {
            let errors = errors.into_compile_errors();
            quote!(#errors #original)
        }
    }
}

fn registration(handler: &Handler) -> TokenStream {
    let private = quote!(::handler_registry::__private);
    let ident = &handler.func.sig.ident;
    let name = handler.name;
    let aliases = handler.aliases;
    let doc = &handler.doc;
    let dynamic = handler.dynamic;
    // The function is coerced to the handler type in a `static` whose value is the function's
    // own name token: a signature mismatch is reported by rustc on the user's function.
    let (handler_static, registry, erased) = match handler.registry {
        Some(path) => (
            quote! {
                static __HANDLER_REGISTRY_FN: <#path as #private::RegistryDecl>::Handler = #ident;
            },
            quote!(&#path),
            quote!(&__HANDLER_REGISTRY_FN),
        ),
        None => {
            let fn_type = fn_pointer_type(&handler.func.sig);
            (
                quote! {
                    static __HANDLER_REGISTRY_FN: #fn_type = #ident;
                    static __HANDLER_REGISTRY_ANY: #private::AnyHandler =
                        #private::AnyHandler::new(&__HANDLER_REGISTRY_FN);
                },
                quote!(&::handler_registry::HANDLERS),
                quote!(&__HANDLER_REGISTRY_ANY),
            )
        }
    };
    quote! {
        const _: () = {
            #handler_static
            #private::submit! {
                #private::StaticEntry {
                    registry: #registry,
                    name: #name,
                    aliases: &[#(#aliases),*],
                    doc: #doc,
                    module_path: ::core::module_path!(),
                    file: ::core::file!(),
                    line: ::core::line!(),
                    dynamic: #dynamic,
                    handler: #erased,
                }
            }
        };
    }
}

/// The fn pointer type a function coerces to: `for<'a> unsafe extern "C" fn(&'a str) -> T`.
fn fn_pointer_type(sig: &Signature) -> TokenStream {
    let lifetimes: Vec<_> = sig.generics.lifetimes().map(|param| &param.lifetime).collect();
    let binder = if lifetimes.is_empty() {
        TokenStream::new()
    } else {
        quote!(for<#(#lifetimes),*>)
    };
    let unsafety = &sig.unsafety;
    let abi = &sig.abi;
    let inputs = sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(arg) => Some(&arg.ty),
        FnArg::Receiver(_) => None,
    });
    let output = &sig.output;
    quote!(#binder #unsafety #abi fn(#(#inputs),*) #output)
}

pub fn registry(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.spanned(
            &args,
            "`#[registry]` takes no arguments: write `#[registry] static NAME: Registry<F>;`",
        );
    }
    let parsed = match syn::parse2::<RegistryItem>(item.clone()) {
        Ok(parsed) => parsed,
        Err(error) => {
            errors.push(error);
            let errors = errors.into_compile_errors();
            return quote!(#errors #item);
        }
    };
    let declaration = validate::registry(&parsed, &mut errors).map(|registry| {
        let RegistryItem {
            attrs, vis, ident, ty, ..
        } = registry.item;
        let handler_ty = registry.handler_ty;
        quote! {
            #(#attrs)*
            #vis static #ident: #ty = ::handler_registry::__private::Registry::__linked();

            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code)]
            #vis struct #ident {}

            impl ::handler_registry::__private::RegistryDecl for #ident {
                type Handler = #handler_ty;
            }
        }
    });
    let errors = errors.into_compile_errors();
    quote!(#errors #declaration)
}

pub fn dynamic(args: TokenStream, item: TokenStream) -> TokenStream {
    if is_handled_marker(&args) {
        return item;
    }
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.spanned(&args, "`#[dynamic]` takes no arguments");
    }
    let flagged = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(mut func)) => add_dynamic_flag(&mut func.attrs).then_some(func),
        _ => None,
    };
    let output = match flagged {
        Some(func) => func.to_token_stream(),
        None => {
            errors.push(syn::Error::new(
                Span::call_site(),
                "`#[dynamic]` needs `#[handler(\"name\")]` on the same function",
            ));
            item
        }
    };
    let errors = errors.into_compile_errors();
    quote!(#errors #output)
}

fn is_handled_marker(args: &TokenStream) -> bool {
    let mut tokens = args.clone().into_iter();
    matches!(
        (tokens.next(), tokens.next()),
        (Some(TokenTree::Ident(ident)), None) if ident == HANDLED
    )
}

/// Turns the `#[handler(…)]` below a `#[dynamic]` into `#[handler(…, dynamic)]`.
fn add_dynamic_flag(attrs: &mut [syn::Attribute]) -> bool {
    let Some(attr) = attrs.iter_mut().find(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "handler")
    }) else {
        return false;
    };
    match &mut attr.meta {
        Meta::List(list) => {
            let ends_with_comma = matches!(
                list.tokens.clone().into_iter().last(),
                Some(TokenTree::Punct(punct)) if punct.as_char() == ','
            );
            let tokens = &list.tokens;
            list.tokens = if tokens.is_empty() || ends_with_comma {
                quote!(#tokens dynamic)
            } else {
                quote!(#tokens, dynamic)
            };
        }
        Meta::Path(path) => {
            let path = path.clone();
            attr.meta = syn::parse_quote!(#path(dynamic));
        }
        Meta::NameValue(_) => return false,
    }
    true
}
