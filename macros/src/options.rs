//! The attributes' options: `flavor = "multi" | "single"`, `worker_threads = N` and
//! `crate = "path"`, parsed and checked together.
//!
//! Every mistake is reported, not only the first one, each with the span of its culprit: the
//! option's name for an unknown, repeated or misplaced option, its value for a bad value.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitInt, LitStr, Meta, Path, Token};

/// The options of every attribute, in the order of the error messages.
const OPTIONS: &str = "`flavor`, `worker_threads` and `crate`";

/// Which attribute is being expanded: it decides the default flavour and the messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `#[ringloop::main]`: multi-threaded by default.
    Main,
    /// `#[ringloop::test]`: single-threaded by default.
    Test,
}

impl Entry {
    /// The attribute as the user writes it, for messages.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Entry::Main => "#[ringloop::main]",
            Entry::Test => "#[ringloop::test]",
        }
    }

    fn default_flavor(self) -> Flavor {
        match self {
            Entry::Main => Flavor::Multi,
            Entry::Test => Flavor::Single,
        }
    }
}

/// The runtime flavour to build.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Runtime::builder()`, with `worker_threads(n)` if given.
    Multi,
    /// `Runtime::builder().single_threaded()`.
    Single,
}

/// The checked options.
pub(crate) struct Options {
    pub(crate) flavor: Flavor,
    pub(crate) worker_threads: Option<usize>,
    /// The path of the facade crate (default `::ringloop`).
    pub(crate) krate: Path,
}

impl Options {
    /// The options every attribute has when it is given none.
    pub(crate) fn defaults(entry: Entry) -> Options {
        Options {
            flavor: entry.default_flavor(),
            worker_threads: None,
            krate: syn::parse_quote!(::ringloop),
        }
    }

    /// Parses and checks the attribute's arguments (`flavor = "single", ...`).
    pub(crate) fn parse(entry: Entry, args: TokenStream) -> syn::Result<Options> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
        let mut options = Options::defaults(entry);
        let mut errors = Errors::default();
        // Where each option was named, for duplicates and for the checks across options.
        let mut named: [Option<Path>; 3] = [None, None, None];
        for meta in metas {
            let pair = match meta {
                Meta::NameValue(pair) => pair,
                other => {
                    errors.push(not_a_pair(&other));
                    continue;
                }
            };
            let key = match pair.path.get_ident().map(ToString::to_string).as_deref() {
                Some("flavor") => Key::Flavor,
                Some("worker_threads") => Key::WorkerThreads,
                Some("crate") => Key::Crate,
                _ => {
                    let shown = pair.path.to_token_stream().to_string().replace(' ', "");
                    errors.push(syn::Error::new_spanned(
                        &pair.path,
                        format!("unknown option `{shown}`; the options are {OPTIONS}"),
                    ));
                    continue;
                }
            };
            if named[key as usize].is_some() {
                errors.push(syn::Error::new_spanned(
                    &pair.path,
                    format!("duplicate option `{}`", key.name()),
                ));
                continue;
            }
            named[key as usize] = Some(pair.path.clone());
            let parsed = match key {
                Key::Flavor => parse_flavor(&pair.value).map(|f| options.flavor = f),
                Key::WorkerThreads => {
                    parse_workers(&pair.value).map(|n| options.worker_threads = Some(n))
                }
                Key::Crate => parse_crate(&pair.value).map(|path| options.krate = path),
            };
            if let Err(err) = parsed {
                errors.push(err);
            }
        }
        if let Some(workers) = &named[Key::WorkerThreads as usize] {
            if options.flavor == Flavor::Single {
                let message = if named[Key::Flavor as usize].is_some() {
                    "`worker_threads` cannot be used with `flavor = \"single\"`: a \
                     single-threaded runtime runs every task on the thread that calls it"
                        .to_owned()
                } else {
                    format!(
                        "`worker_threads` needs `flavor = \"multi\"`: `{}` runs on a \
                         single-threaded runtime by default",
                        entry.attribute()
                    )
                };
                errors.push(syn::Error::new_spanned(workers, message));
            }
        }
        errors.finish().map(|()| options)
    }
}

/// An option's name, as an index into the options seen so far.
#[derive(Clone, Copy)]
enum Key {
    Flavor = 0,
    WorkerThreads = 1,
    Crate = 2,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Flavor => "flavor",
            Key::WorkerThreads => "worker_threads",
            Key::Crate => "crate",
        }
    }
}

/// Errors gathered so that all of them are reported at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(err),
            None => self.0 = Some(err),
        }
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// An option without a value (`single`) or with a list (`flavor("single")`).
fn not_a_pair(meta: &Meta) -> syn::Error {
    let path = meta.path();
    let message = if path.is_ident("single") || path.is_ident("multi") {
        let flavor = path.to_token_stream();
        format!("expected `option = value`: write `flavor = \"{flavor}\"`")
    } else {
        format!("expected `option = value`; the options are {OPTIONS}")
    };
    syn::Error::new_spanned(meta, message)
}

fn string(value: &Expr, expected: &str) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("expected a string: {expected}"),
        )),
    }
}

fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    let expected = "`flavor = \"multi\"` or `flavor = \"single\"`";
    let lit = string(value, expected)?;
    match lit.value().as_str() {
        "multi" => Ok(Flavor::Multi),
        "single" => Ok(Flavor::Single),
        other => Err(syn::Error::new(
            lit.span(),
            format!("unknown flavor `{other}`; expected {expected}"),
        )),
    }
}

fn parse_workers(value: &Expr) -> syn::Result<usize> {
    let lit: &LitInt = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => lit,
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "expected an integer literal: `worker_threads = 4`",
            ))
        }
    };
    match lit.base10_parse::<usize>()? {
        0 => Err(syn::Error::new(
            lit.span(),
            "`worker_threads` must be at least 1 (for a runtime without worker threads, use \
             `flavor = \"single\"`)",
        )),
        n => Ok(n),
    }
}

fn parse_crate(value: &Expr) -> syn::Result<Path> {
    let lit = string(
        value,
        "the path of the ringloop crate, `crate = \"ringloop\"`",
    )?;
    lit.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!("`{}` is not a path to the ringloop crate", lit.value()),
        )
    })
}
