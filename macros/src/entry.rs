//! The function an attribute is put on: parsing it, checking its shape, and writing the
//! synchronous function that replaces it.
//!
//! The body is kept as tokens, not parsed into statements: it moves, unchanged and with its
//! spans, into an `async` block, as the value of a variable of the function's return type, so
//! that `?` and `return` resolve as in the `async fn` and a wrong type is reported at the
//! body's end. The block is pinned on the stack and run as a `Pin<&mut dyn Future>`, so that
//! `Runtime::block_on` is compiled once per return type, not once per test.

use crate::options::{Entry, Errors, Flavor, Options};
use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::parse::{ParseStream, Parser};
use syn::{braced, Visibility};
use syn::{token, AttrStyle, Attribute, Ident, ReturnType, Safety, Signature, Token, Type};

/// An `async fn` item, its body left as tokens.
struct EntryFn {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    brace: token::Brace,
    /// The body's inner attributes (`#![allow(..)]`), moved onto the new function.
    inner_attrs: Vec<Attribute>,
    body: TokenStream,
}

/// Expands `entry` with its arguments `args` on `item`. After a mistake, the errors come with
/// a stand-in for the item, so that the compiler reports the mistake and not the symptoms of
/// a missing or still `async` function: the item expanded with the default options if only
/// the options are wrong, a plain function with the same name and return type if the
/// function's shape is, the item itself if it is no function.
pub(crate) fn expand(entry: Entry, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let (options, options_error) = match Options::parse(entry, args) {
        Ok(options) => (options, None),
        Err(err) => (Options::defaults(entry), Some(err)),
    };
    let parser = |input: ParseStream<'_>| EntryFn::parse(entry, input);
    let mut tokens = match parser.parse2(item.clone()) {
        Err(err) => {
            errors.push(err);
            item
        }
        Ok(function) => match function.check(entry) {
            Ok(()) => function.expand(entry, options),
            Err(err) => {
                errors.push(err);
                function.stand_in()
            }
        },
    };
    if let Some(err) = options_error {
        errors.push(err);
    }
    if let Err(err) = errors.finish() {
        tokens.extend(err.into_compile_error());
    }
    tokens
}

impl EntryFn {
    /// Parses a function item; an item that is not a function is an error at its keyword.
    fn parse(entry: Entry, input: ParseStream<'_>) -> syn::Result<EntryFn> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let starts_a_fn = input.peek(Token![fn])
            || input.peek(Token![async])
            || input.peek(Token![const])
            || input.peek(Token![unsafe])
            || input.peek(Token![extern]);
        if !starts_a_fn {
            let attribute = entry.attribute();
            return Err(input.error(format!("`{attribute}` applies only to an `async fn`")));
        }
        let sig: Signature = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body: TokenStream = content.parse()?;
        Ok(EntryFn {
            attrs,
            vis,
            sig,
            brace,
            inner_attrs,
            body,
        })
    }

    /// Every reason the function cannot be run by a runtime, each at its culprit.
    fn check(&self, entry: Entry) -> syn::Result<()> {
        let attribute = entry.attribute();
        let sig = &self.sig;
        let mut errors = Errors::default();
        if sig.asyncness.is_none() {
            errors.push(syn::Error::new_spanned(
                sig.fn_token,
                "the `async` keyword is missing from the function declaration",
            ));
        }
        let qualifiers: [(&str, Option<&dyn ToTokens>); 3] = [
            ("const", sig.constness.as_ref().map(|t| t as _)),
            (
                "unsafe",
                match &sig.safety {
                    Safety::Unsafe(token) => Some(token as _),
                    _ => None,
                },
            ),
            ("extern", sig.abi.as_ref().map(|t| t as _)),
        ];
        for (qualifier, token) in qualifiers {
            if let Some(token) = token {
                errors.push(syn::Error::new_spanned(
                    token,
                    format!("the function of `{attribute}` cannot be `{qualifier}`"),
                ));
            }
        }
        if !sig.generics.params.is_empty() {
            errors.push(syn::Error::new_spanned(
                &sig.generics,
                format!("the function of `{attribute}` cannot be generic"),
            ));
        } else if let Some(clause) = &sig.generics.where_clause {
            errors.push(syn::Error::new_spanned(
                clause,
                format!("the function of `{attribute}` cannot have a `where` clause"),
            ));
        }
        if !sig.inputs.is_empty() || sig.variadic.is_some() {
            errors.push(syn::Error::new_spanned(
                &sig.inputs,
                format!(
                    "the function of `{attribute}` cannot take arguments: the runtime calls it \
                     with none"
                ),
            ));
        }
        if entry == Entry::Test {
            if let Some(test) = self.attrs.iter().find(|attr| is_test_attribute(attr)) {
                errors.push(syn::Error::new_spanned(
                    test,
                    "`#[ringloop::test]` adds `#[test]` itself: remove this one",
                ));
            }
        }
        errors.finish()
    }

    /// A plain function with the same attributes, name and return type, which stands in for
    /// one whose shape is wrong while the error is shown. Its body is not compiled: its
    /// errors would only repeat the attribute's.
    fn stand_in(self) -> TokenStream {
        let EntryFn {
            attrs, vis, sig, ..
        } = self;
        let (ident, output) = (&sig.ident, &sig.output);
        quote! {
            #(#attrs)*
            #vis fn #ident() #output {
                ::core::unimplemented!()
            }
        }
    }

    /// The synchronous function: it builds the runtime and blocks on the body.
    fn expand(self, entry: Entry, options: Options) -> TokenStream {
        let EntryFn {
            attrs,
            vis,
            sig,
            brace,
            mut inner_attrs,
            body,
        } = self;
        for attr in &mut inner_attrs {
            attr.style = AttrStyle::Outer;
        }
        let Options {
            flavor,
            worker_threads,
            krate,
        } = options;
        let configure = match (flavor, worker_threads) {
            (Flavor::Single, _) => quote!(.single_threaded()),
            (Flavor::Multi, Some(n)) => quote!(.worker_threads(#n)),
            (Flavor::Multi, None) => quote!(),
        };
        let test_attr = (entry == Entry::Test).then(|| quote!(#[::core::prelude::v1::test]));
        let ident = &sig.ident;
        let output = &sig.output;
        let (future, value) = (
            Ident::new("future", Span::mixed_site()),
            // Underscored: a body that never returns leaves it unread.
            Ident::new("_output", Span::mixed_site()),
        );
        // The body keeps its own braces, and so the spans of a type mismatch at its end.
        let mut block = TokenStream::new();
        brace.surround(&mut block, |tokens| tokens.extend(body));
        // The body's value is given the function's return type, so that `?` and `return`
        // resolve as in the `async fn` and a mismatch is reported at the body's end; but
        // `impl Trait` cannot be a variable's type: such a body's type is inferred.
        let ty = match output {
            ReturnType::Type(_, ty) if matches!(**ty, Type::ImplTrait(_)) => None,
            ReturnType::Type(_, ty) => Some(ty.to_token_stream()),
            ReturnType::Default => Some(quote!(())),
        };
        let pinned = match ty {
            Some(ty) => quote! {
                let #future: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #ty>> =
                    ::core::pin::pin!(async {
                        let #value: #ty = #block;
                        // Unreachable when the body diverges (a test that panics, a server's
                        // endless loop): a warning about this line would be about nothing.
                        #[allow(unreachable_code)]
                        return #value;
                    });
            },
            None => quote! {
                let #future = ::core::pin::pin!(async #block);
            },
        };
        let message = format!("{} could not start a runtime: {{}}", entry.attribute());
        quote! {
            #test_attr
            #(#attrs)*
            #(#inner_attrs)*
            #vis fn #ident() #output {
                #pinned
                #krate::Runtime::builder()
                    #configure
                    .build()
                    .unwrap_or_else(|err| ::core::panic!(#message, err))
                    .block_on(#future)
            }
        }
    }
}

/// `#[test]` (or the standard library's full path to it), which `#[ringloop::test]` adds.
fn is_test_attribute(attr: &Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    match segments.as_slice() {
        [name] => name == "test",
        [root, prelude, _, name] => {
            (root == "core" || root == "std") && prelude == "prelude" && name == "test"
        }
        _ => false,
    }
}
