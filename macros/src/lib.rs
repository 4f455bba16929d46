//! `#[derive(Table)]`: hands an item, as written, to the declarative macro that its
//! `#[table(macro_name)]` attribute names.
//!
//! Why: cbindgen reads the Rust source as written and does not expand macros, so every list
//! the C header shows (status codes, stats fields) must be written out as a plain enum or
//! struct. A derive leaves that item in place for cbindgen and lets a `macro_rules!` macro
//! beside it derive the rest (the core's error kinds, name tables, counters) from the same
//! tokens, so each list is written once. No dependencies: the item is forwarded untouched.
//!
//! The helper attributes the tables' macros read are declared here so rustc accepts them:
//! `#[kind(..)]` (an error kind for a status) and `#[counter(..)]` / `#[gauge]` (how a stats
//! field is kept).

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

#[proc_macro_derive(Table, attributes(table, kind, counter, gauge))]
pub fn table(item: TokenStream) -> TokenStream {
    match macro_path(&item) {
        Some(path) => {
            let mut out = path;
            out.extend([
                TokenTree::Punct(Punct::new('!', Spacing::Alone)),
                TokenTree::Group(Group::new(Delimiter::Brace, item)),
            ]);
            out
        }
        None => compile_error("#[derive(Table)] needs #[table(macro_name)] on the item"),
    }
}

/// The tokens inside the item's outer `#[table(...)]` attribute.
fn macro_path(item: &TokenStream) -> Option<TokenStream> {
    let tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    tokens.windows(2).find_map(|pair| match pair {
        [TokenTree::Punct(p), TokenTree::Group(attr)]
            if p.as_char() == '#' && attr.delimiter() == Delimiter::Bracket =>
        {
            let inner: Vec<TokenTree> = attr.stream().into_iter().collect();
            match inner.as_slice() {
                [TokenTree::Ident(name), TokenTree::Group(args)]
                    if name.to_string() == "table"
                        && args.delimiter() == Delimiter::Parenthesis =>
                {
                    Some(args.stream())
                }
                _ => None,
            }
        }
        _ => None,
    })
}

fn compile_error(message: &str) -> TokenStream {
    let span = Span::call_site();
    let mut message = proc_macro::Literal::string(message);
    message.set_span(span);
    TokenStream::from_iter([
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
        TokenTree::Group(Group::new(
            Delimiter::Parenthesis,
            TokenStream::from(TokenTree::Literal(message)),
        )),
        TokenTree::Punct(Punct::new(';', Spacing::Alone)),
    ])
}
