//! Code generation. Everything generated reaches the runtime through the crate path
//! (`::handler_registry`, or the `crate = PATH` given) and its `__private` module, and keeps its
//! helper items inside `const _: () = { … };`.

// `cargo clippy -- -W clippy::pedantic` (.ci/run): the lints this file allows, and why.
#![allow(
    clippy::needless_pass_by_value,
    reason = "parsed attributes are consumed by the expansion, as the pipeline hands them over"
)]

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, Meta, Path, ReturnType, Signature, Type};

use crate::ctxt::Errors;
use crate::parse::{
    FnHead, HandlerArgs, HandlerItem, RegistryArgs, RegistryItem, DYNAMIC_TAKES_NO_ARGUMENTS,
    HANDLED,
};
use crate::validate::{self, Handler};

pub fn handler(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = HandlerArgs::parse(args, &mut errors);
    let item = HandlerItem::parse(item, &mut errors);
    let handler = validate::handler(&args, &item, &mut errors);
    let original = match &item {
        HandlerItem::Fn(func) => func.to_token_stream(),
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
    let sig = handler.sig;
    let ident = &sig.ident;
    let krate = &crate_path(handler.krate);
    let name = handler.name;
    let aliases = handler.aliases;
    let doc = &handler.doc;
    let dynamic = handler.dynamic;
    // The function is coerced to the handler type in a `static` whose value is the function's
    // own name token: a signature mismatch is reported by rustc on the user's function.
    // The registry as written, for "declared in another registry" messages.
    let registry_path = handler.registry.map_or_else(String::new, |path| {
        path.to_token_stream().to_string().replace(' ', "")
    });
    // The registry is imported once, under the name it was written with: both the static and
    // the hidden type sharing its name come in through one `use`, so a path naming nothing is
    // one error ("unresolved import"), not one per namespace.
    let target = handler
        .registry
        .map(|path| registry_alias(path, &sig.ident));
    let (import, handler_ty, registry, erased) = match (handler.registry, &target) {
        (Some(path), Some(target)) => (
            quote!(use #path as #target;),
            registry_decl(target, "Decl", target.span(), krate),
            quote!(#target),
            quote!(__HANDLER_REGISTRY_FN),
        ),
        _ => (
            TokenStream::new(),
            fn_pointer_type(sig, krate),
            quote!(#krate::HANDLERS),
            quote!(#krate::__private::AnyHandler::from_static(
                &__HANDLER_REGISTRY_FN
            )),
        ),
    };
    // The metadata, typed by the registry: a value of its `M` (a wrong type is reported on the
    // expression), or, left out, `M::default` (an error on the name if `M` has none).
    let (meta_item, meta) = match (&target, handler.meta) {
        (Some(target), Some((key, value))) => {
            let decl = registry_decl(target, "Meta", target.span(), krate);
            let ty = quote_spanned! {key.span()=>
                <#decl as #krate::__private::GivenMeta>::Type
            };
            (
                quote!(static __HANDLER_REGISTRY_META: #ty = #value;),
                quote!(&__HANDLER_REGISTRY_META),
            )
        }
        (Some(target), None) => (TokenStream::new(), {
            let decl = registry_decl(target, "Meta", name.span(), krate);
            quote_spanned! {name.span()=>
                <#decl as #krate::__private::MetaLeftOut>::DEFAULT
            }
        }),
        (None, _) => (TokenStream::new(), quote!(&())),
    };
    let entry = quote! {
        #import
        static __HANDLER_REGISTRY_FN: #handler_ty = #ident;
        #meta_item
        #krate::__private::submit! {
            #krate::__private::StaticEntry {
                registry: &#registry,
                name: #name,
                aliases: &[#(#aliases),*],
                doc: #doc,
                module_path: ::core::module_path!(),
                file: ::core::file!(),
                line: ::core::line!(),
                dynamic: #dynamic,
                registry_path: #registry_path,
                handler: &#erased,
                meta: #meta,
            }
        }
    };
    let body = match sig.asyncness {
        Some(_) => async_shim(sig, handler.krate, entry),
        None => entry,
    };
    quote! {
        #[allow(deprecated)]
        const _: () = {
            #body
        };
    }
}

/// The name the registry at `path` is imported under: its own last segment, so that rustc's
/// messages name it as the user wrote it, unless the function has that name too.
fn registry_alias(path: &Path, function: &Ident) -> Ident {
    match path.segments.last() {
        Some(last) if last.ident != *function => last.ident.clone(),
        last => {
            let span = last.map_or_else(Span::call_site, |last| last.ident.span());
            Ident::new("__handler_registry_registry", span)
        }
    }
}

/// `<TARGET as RegistryDecl>::ITEM`, spanned on `span` but for `TARGET`, spanned on the
/// registry's name: a path that is not a `#[registry]` is reported there, once for all uses.
fn registry_decl(target: &Ident, item: &str, span: Span, krate: &TokenStream) -> TokenStream {
    let item = Ident::new(item, span);
    quote_spanned!(span=> <#target as #krate::__private::RegistryDecl>::#item)
}

/// Wraps `entry` so that the name it registers is a shim boxing the async function's future:
/// `fn NAME(args…) -> BoxFuture<'static, T>`. The shim takes the function's own name (the
/// function itself is reached through a `use` alias), so type errors read `{NAME}`.
fn async_shim(sig: &Signature, krate: Option<&Path>, entry: TokenStream) -> TokenStream {
    let ident = &sig.ident;
    let unsafety = unsafety(sig);
    let args: Vec<_> = (0..sig.inputs.len())
        .map(|index| format_ident!("__handler_registry_arg{index}"))
        .collect();
    let types = sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(arg) => Some(&arg.ty),
        FnArg::Receiver(_) => None,
    });
    let output = boxed_output(sig, &crate_path(krate));
    // Spanned on the function's name, so a future that is not `Send` is reported on the user's
    // function rather than inside the expansion. A `crate = PATH` keeps the hygiene of its tokens
    // (a `$crate` in it must still resolve).
    let krate = if let Some(path) = krate {
        respan(quote!(#path), ident.span())
    } else {
        quote_spanned!(ident.span()=> ::handler_registry)
    };
    let boxed = quote_spanned! {ident.span()=>
        #krate::__private::Box::pin(__handler_registry_user(#(#args),*))
    };
    let boxed = match unsafety {
        Some(_) => quote!(unsafe { #boxed }),
        None => boxed,
    };
    quote! {
        use #ident as __handler_registry_user;
        const _: () = {
            #[allow(non_snake_case)]
            #unsafety fn #ident(#(#args: #types),*) #output {
                #boxed
            }
            #entry
        };
    }
}

/// `tokens`, every one of them located at `span`, each with its own hygiene.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            let located = token.span().located_at(span);
            if let TokenTree::Group(group) = &token {
                let inner = respan(group.stream(), span);
                token = TokenTree::Group(proc_macro2::Group::new(group.delimiter(), inner));
            }
            token.set_span(located);
            token
        })
        .collect()
}

/// The path the generated code reaches handler-registry through: `crate = PATH`, or
/// `::handler_registry`.
fn crate_path(krate: Option<&Path>) -> TokenStream {
    if let Some(path) = krate {
        quote!(#path)
    } else {
        quote!(::handler_registry)
    }
}

/// `unsafe`, spanned as written, for an `unsafe fn`.
fn unsafety(sig: &Signature) -> Option<TokenStream> {
    match &sig.safety {
        syn::Safety::Unsafe(token) => Some(token.to_token_stream()),
        _ => None,
    }
}

/// `-> BoxFuture<'static, T>` for an async function returning `T`.
fn boxed_output(sig: &Signature, krate: &TokenStream) -> TokenStream {
    let output = match &sig.output {
        ReturnType::Type(_, ty) => ty.to_token_stream(),
        ReturnType::Default => quote!(()),
    };
    quote!(-> #krate::BoxFuture<'static, #output>)
}

/// The fn pointer type a function coerces to: `for<'a> unsafe extern "C" fn(&'a str) -> T`, or
/// `unsafe fn(A) -> BoxFuture<'static, T>` for an async function.
fn fn_pointer_type(sig: &Signature, krate: &TokenStream) -> TokenStream {
    let lifetimes: Vec<_> = sig
        .generics
        .lifetimes()
        .map(|param| &param.lifetime)
        .collect();
    let binder = if lifetimes.is_empty() {
        TokenStream::new()
    } else {
        quote!(for<#(#lifetimes),*>)
    };
    let unsafety = unsafety(sig);
    let abi = &sig.abi;
    let inputs = sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(arg) => Some(&arg.ty),
        FnArg::Receiver(_) => None,
    });
    let output = match sig.asyncness {
        Some(_) => boxed_output(sig, krate),
        None => sig.output.to_token_stream(),
    };
    quote!(#binder #unsafety #abi fn(#(#inputs),*) #output)
}

pub fn registry(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = RegistryArgs::parse(args, &mut errors);
    let krate = crate_path(args.krate.as_ref());
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
            attrs,
            vis,
            ident,
            ty,
            ..
        } = registry.item;
        let handler_ty = registry.handler_ty;
        let path = quote!(::core::concat!(
            ::core::module_path!(),
            "::",
            ::core::stringify!(#ident)
        ));
        let meta = if let Some(meta_ty) = registry.meta_ty {
            quote!(#krate::__private::WithMeta<#meta_ty>)
        } else {
            quote!(#krate::__private::NoMeta)
        };
        let linked = match (&registry.owned_decl, handler_ty) {
            (None, Type::Path(_)) => named_registry(ident, vis, handler_ty, &meta, &krate, &path),
            (owned_decl, _) => {
                let (value, decl_ty, allow) = match owned_decl {
                    None => (
                        quote!(#krate::__private::Registry::__linked(#path)),
                        quote!(#handler_ty),
                        TokenStream::new(),
                    ),
                    // The `Arc<dyn Fn…>` type has to be written out for the macro to see the
                    // signature, so clippy's `type_complexity` has no better spelling to suggest.
                    Some(decl) => (
                        owned_registry(handler_ty, decl, &krate, &path),
                        quote!(#decl),
                        quote!(#[allow(clippy::type_complexity)]),
                    ),
                };
                Linked {
                    value,
                    marker: quote! {
                        #[doc(hidden)]
                        #[allow(non_camel_case_types, dead_code)]
                        #vis struct #ident {}
                    },
                    decl: quote!(impl #krate::__private::RegistryDecl for #ident {
                        type Handler = #handler_ty;
                        type Decl = #decl_ty;
                        type Meta = #meta;
                    }),
                    allow,
                }
            }
        };
        let Linked {
            value,
            marker,
            decl,
            allow,
        } = linked;
        quote! {
            #(#attrs)*
            #allow
            #vis static #ident: #ty = #value;

            #marker

            #decl
        }
    });
    let errors = errors.into_compile_errors();
    quote!(#errors #declaration)
}

/// What `#[registry]` generates beside the static: its value, the hidden type sharing its name
/// and that type's `RegistryDecl`, and the lints allowed on the static.
struct Linked {
    value: TokenStream,
    marker: TokenStream,
    decl: TokenStream,
    allow: TokenStream,
}

/// A registry whose handler type is a name (a `type` alias, say), not `fn(..)` or
/// `Arc<dyn Fn..>` written out: the type's `HandlerDecl` gives the fn pointer functions are
/// declared as. It is required only where a `#[handler]` targets the registry (the hidden type
/// is generic over the handler type, defaulting to it), so a registry of other handlers is
/// declared as before; the registry converts declarations through `HandlerDecl` when the
/// type has it and has none otherwise.
fn named_registry(
    ident: &Ident,
    vis: &syn::Visibility,
    handler_ty: &Type,
    meta: &TokenStream,
    krate: &TokenStream,
    path: &TokenStream,
) -> Linked {
    let marker = quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #ident<__HandlerRegistryF = #handler_ty> {
            __handler_registry: ::core::marker::PhantomData<__HandlerRegistryF>,
        }
    };
    let decl = quote! {
        impl<__HandlerRegistryF: #krate::__private::HandlerDecl> #krate::__private::RegistryDecl
            for #ident<__HandlerRegistryF>
        {
            type Handler = __HandlerRegistryF;
            type Decl = <__HandlerRegistryF as #krate::__private::HandlerDecl>::Decl;
            type Meta = #meta;
        }
    };
    // A registry's handlers are cloned out of it: said once, on the declared type.
    let clone = quote_spanned! {handler_ty.span()=>
        let _: fn(&#handler_ty) -> #handler_ty = <#handler_ty as ::core::clone::Clone>::clone;
    };
    let value = quote! {{
        type __HandlerRegistryDeclared = &'static (dyn ::core::any::Any + ::core::marker::Send + ::core::marker::Sync);
        fn __handler_registry_convert(
            declared: __HandlerRegistryDeclared,
        ) -> ::core::option::Option<#handler_ty> {
            // Method resolution picks the `HandlerDecl` conversion when the type has one (it
            // takes one more reference), no declarations otherwise.
            struct __Probe<T>(::core::marker::PhantomData<T>);
            #[allow(dead_code)]
            trait __ViaDecl<T> {
                fn __convert(&self, declared: __HandlerRegistryDeclared) -> ::core::option::Option<T>;
            }
            impl<T: #krate::__private::HandlerDecl> __ViaDecl<T> for &__Probe<T> {
                fn __convert(&self, declared: __HandlerRegistryDeclared) -> ::core::option::Option<T> {
                    let &decl = declared.downcast_ref::<T::Decl>()?;
                    ::core::option::Option::Some(T::from_decl(decl))
                }
            }
            #[allow(dead_code)]
            trait __NoDecl<T> {
                fn __convert(&self, declared: __HandlerRegistryDeclared) -> ::core::option::Option<T>;
            }
            // No `#[handler]` can target a registry of a type without `HandlerDecl` (the
            // handler's expansion requires it), so such a registry has no declarations.
            impl<T> __NoDecl<T> for __Probe<T> {
                fn __convert(&self, _: __HandlerRegistryDeclared) -> ::core::option::Option<T> {
                    ::core::option::Option::None
                }
            }
            #clone
            (&&__Probe::<#handler_ty>(::core::marker::PhantomData)).__convert(declared)
        }
        #krate::__private::Registry::__linked_with(__handler_registry_convert, #path)
    }};
    Linked {
        value,
        marker,
        decl,
        allow: TokenStream::new(),
    }
}

/// The value of a registry of owned closures: declarations arrive as fn pointers and are
/// wrapped once, when the registry is frozen.
fn owned_registry(
    handler_ty: &Type,
    decl: &TokenStream,
    krate: &TokenStream,
    path: &TokenStream,
) -> TokenStream {
    quote! {{
        fn __handler_registry_convert(
            declared: &'static (dyn ::core::any::Any + ::core::marker::Send + ::core::marker::Sync),
        ) -> ::core::option::Option<#handler_ty> {
            let &decl = declared.downcast_ref::<#decl>()?;
            let handler: #handler_ty = #krate::__private::Arc::new(decl);
            ::core::option::Option::Some(handler)
        }
        #krate::__private::Registry::__linked_with(__handler_registry_convert, #path)
    }}
}

pub fn dynamic(args: TokenStream, item: TokenStream) -> TokenStream {
    if is_handled_marker(&args) {
        return item;
    }
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.spanned(&args, DYNAMIC_TAKES_NO_ARGUMENTS);
    }
    let flagged = FnHead::split(&item).and_then(|mut head| {
        let flagged = add_dynamic_flag(&mut head.attrs);
        flagged.then_some(head)
    });
    let output = if let Some(head) = flagged {
        head.with_attrs(&item)
    } else {
        errors.push(syn::Error::new(
            Span::call_site(),
            "`#[dynamic]` needs `#[handler(\"name\")]` on the same function",
        ));
        item
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
