//! Making text printable: every secret removed in any form a server may echo it in, and every
//! control character escaped so that text from outside cannot forge log lines or drive the
//! terminal.
//!
//! A secret is found in a decoded view of the text (JSON `\uXXXX`/`\/` escapes, `\xHH`, URL
//! `%HH`, HTML `&#..;` entities, applied repeatedly so double encodings decode too), and every
//! byte of the original text behind a match is replaced. What counts as a match:
//! - a credential (an API key, a proxy password, a header value that looks like one, see
//!   [`looks_like_credential`]) of `MIN_FRAGMENT` characters or more: any run of at least
//!   `MIN_FRAGMENT` of its characters (a whole echo, a truncated one, a prefix or suffix);
//! - any other secret (a shorter credential, a header value such as `production` or
//!   `application/json`): only a whole copy standing alone, not inside a longer word, so that
//!   a value like `1` does not eat every digit of a message and `application/json` does not
//!   eat half of `application/x-protobuf`;
//! - at a cut made by [`snippet`] (marked by [`CUT`], or an ellipsis `…`): any beginning of a
//!   secret, whatever its length, since the rest of it was cut away.

/// Characters of a secret that, echoed in a row, count as a leak.
pub(crate) const MIN_FRAGMENT: usize = 8;
/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";
/// Marks where outside text was cut (see [`snippet`]).
pub const CUT: &str = "[...]";
/// Marks after which text may have been cut: ours, and the ellipsis other quoting code uses.
const CUT_MARKS: [&str; 2] = [CUT, "\u{2026}"];
/// Text longer than this is cut before it is searched (the search is quadratic).
const MAX_INPUT: usize = 16 * 1024;
/// Rounds of decoding (a double-encoded echo needs two).
const DECODE_ROUNDS: usize = 4;

/// At most `max` bytes of a server's answer as text, with [`CUT`] where it was cut.
pub fn snippet(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut out = String::from_utf8_lossy(&bytes[..max]).into_owned();
    out.push_str(CUT);
    out
}

/// Whether a header value is a credential, whose pieces are secret too: its name says so, or
/// it looks generated (letters and at least two digits, no spaces). Anything else is still
/// never printed whole.
pub fn looks_like_credential(header_name: &str, value: &str) -> bool {
    let name = header_name.to_ascii_lowercase();
    let named = [
        "auth",
        "key",
        "token",
        "secret",
        "pass",
        "cookie",
        "session",
        "signature",
        "credential",
    ]
    .iter()
    .any(|w| name.contains(w));
    let generated = value.chars().any(char::is_alphabetic)
        && value.chars().filter(char::is_ascii_digit).count() >= 2
        && !value.contains(char::is_whitespace);
    named || generated
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    chars: Vec<char>,
    /// Runs of `MIN_FRAGMENT` characters count (a credential), not only whole copies.
    pieces: bool,
}

/// The secrets of one tracer, ready to be searched for.
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Vec<Entry>,
}

impl Redactor {
    /// `credentials` are hidden whole and in pieces, `values` whole.
    pub fn new<C, V>(credentials: C, values: V) -> Self
    where
        C: IntoIterator,
        C::Item: AsRef<str>,
        V: IntoIterator,
        V::Item: AsRef<str>,
    {
        let entry = |s: &str, pieces: bool| Entry {
            chars: s.chars().collect(),
            pieces: pieces && s.chars().count() >= MIN_FRAGMENT,
        };
        let mut list: Vec<Entry> = credentials
            .into_iter()
            .map(|s| entry(s.as_ref(), true))
            .chain(values.into_iter().map(|s| entry(s.as_ref(), false)))
            .filter(|e| !e.chars.is_empty())
            .collect();
        list.sort();
        list.dedup();
        Redactor { secrets: list }
    }

    /// `text` with every secret replaced and every control character escaped.
    pub fn clean(&self, text: &str) -> String {
        let owned;
        let text = if text.len() > MAX_INPUT {
            let mut end = MAX_INPUT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            owned = format!("{}{CUT}", &text[..end]);
            owned.as_str()
        } else {
            text
        };
        let hidden = self.hidden_ranges(text);
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for (start, end) in hidden {
            escape_into(&text[pos..start], &mut out);
            out.push_str(REDACTED);
            pos = end;
        }
        escape_into(&text[pos..], &mut out);
        out
    }

    /// Byte ranges of `text` that show a secret, sorted and merged.
    fn hidden_ranges(&self, text: &str) -> Vec<(usize, usize)> {
        if self.secrets.is_empty() {
            return Vec::new();
        }
        let view = decoded_view(text);
        let mut hidden = vec![false; view.len()];
        let cuts: Vec<usize> = CUT_MARKS
            .iter()
            .flat_map(|m| text.match_indices(m).map(|(i, _)| i))
            .collect();
        for secret in &self.secrets {
            if secret.pieces {
                mark_fragments(&view, &secret.chars, &mut hidden);
            } else {
                mark_whole_words(&view, &secret.chars, &mut hidden);
            }
            for &cut in &cuts {
                mark_prefix_before(&view, &secret.chars, cut, &mut hidden);
            }
        }
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for (unit, _) in view.iter().zip(&hidden).filter(|(_, h)| **h) {
            match ranges.last_mut() {
                Some(last) if unit.start <= last.1 => last.1 = last.1.max(unit.end),
                _ => ranges.push((unit.start, unit.end)),
            }
        }
        ranges
    }
}

/// One character of the decoded view and the bytes of the original text it stands for.
#[derive(Debug, Clone, Copy)]
struct Unit {
    ch: char,
    start: usize,
    end: usize,
}

fn decoded_view(text: &str) -> Vec<Unit> {
    let mut view: Vec<Unit> = text
        .char_indices()
        .map(|(i, ch)| Unit {
            ch,
            start: i,
            end: i + ch.len_utf8(),
        })
        .collect();
    for _ in 0..DECODE_ROUNDS {
        let (next, changed) = decode_once(&view);
        view = next;
        if !changed {
            break;
        }
    }
    view
}

/// Decodes one level of escapes; each decoded character spans the bytes of its escape.
fn decode_once(view: &[Unit]) -> (Vec<Unit>, bool) {
    let mut out = Vec::with_capacity(view.len());
    let mut changed = false;
    let mut i = 0;
    while i < view.len() {
        if let Some((ch, len)) = escape_at(view, i) {
            out.push(Unit {
                ch,
                start: view[i].start,
                end: view[i + len - 1].end,
            });
            changed = true;
            i += len;
        } else {
            out.push(view[i]);
            i += 1;
        }
    }
    (out, changed)
}

/// The character an escape starting at `i` stands for, and how many units it takes.
fn escape_at(v: &[Unit], i: usize) -> Option<(char, usize)> {
    let at = |k: usize| v.get(i + k).map(|u| u.ch);
    let hex = |from: usize, n: usize| -> Option<u32> {
        let mut value = 0u32;
        for k in from..from + n {
            value = value * 16 + at(k)?.to_digit(16)?;
        }
        Some(value)
    };
    let ascii = |code: u32| char::from_u32(code).filter(char::is_ascii);
    match at(0)? {
        '\\' => match at(1)? {
            'u' => Some((char::from_u32(hex(2, 4)?)?, 6)),
            'x' => Some((ascii(hex(2, 2)?)?, 4)),
            c @ ('/' | '"' | '\\' | '\'') => Some((c, 2)),
            'n' => Some(('\n', 2)),
            'r' => Some(('\r', 2)),
            't' => Some(('\t', 2)),
            _ => None,
        },
        '%' => Some((ascii(hex(1, 2)?)?, 3)),
        '&' => {
            // `&#NN;`, `&#xHH;` or a named entity of the five XML ones.
            let end = (1..12).find(|&k| at(k) == Some(';'))?;
            let body: String = (1..end).filter_map(at).collect();
            let ch = if let Some(h) = body.strip_prefix("#x").or_else(|| body.strip_prefix("#X")) {
                char::from_u32(u32::from_str_radix(h, 16).ok()?)?
            } else if let Some(d) = body.strip_prefix('#') {
                char::from_u32(d.parse().ok()?)?
            } else {
                match body.as_str() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => return None,
                }
            };
            Some((ch, end + 1))
        }
        _ => None,
    }
}

/// A form-encoded space (`+`) stands for a space of the secret.
fn same(view: char, secret: char) -> bool {
    view == secret || (view == '+' && secret == ' ')
}

/// Marks every run of at least `MIN_FRAGMENT` characters of `secret` (longest common
/// substrings, by dynamic programming over one row).
fn mark_fragments(view: &[Unit], secret: &[char], hidden: &mut [bool]) {
    let m = secret.len();
    let mut prev = vec![0usize; m + 1];
    let mut cur = vec![0usize; m + 1];
    // Longest match ending at each unit.
    let mut ending = vec![0usize; view.len()];
    for (i, unit) in view.iter().enumerate() {
        for j in 0..m {
            cur[j + 1] = if same(unit.ch, secret[j]) {
                prev[j] + 1
            } else {
                0
            };
            ending[i] = ending[i].max(cur[j + 1]);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    // A run of length L ending at i covers i-L+1..=i: sweep back carrying the reach.
    let mut reach = 0usize;
    for i in (0..view.len()).rev() {
        reach = reach.saturating_sub(1);
        if ending[i] >= MIN_FRAGMENT {
            reach = reach.max(ending[i]);
        }
        if reach > 0 {
            hidden[i] = true;
        }
    }
}

/// Marks whole copies of a short secret that are not part of a longer word.
fn mark_whole_words(view: &[Unit], secret: &[char], hidden: &mut [bool]) {
    let m = secret.len();
    if view.len() < m {
        return;
    }
    let word = |i: usize| view.get(i).is_some_and(|u| u.ch.is_alphanumeric());
    for i in 0..=view.len() - m {
        let matches = (0..m).all(|k| same(view[i + k].ch, secret[k]));
        if matches && (i == 0 || !word(i - 1)) && !word(i + m) {
            hidden[i..i + m].iter_mut().for_each(|h| *h = true);
        }
    }
}

/// Marks the longest beginning of `secret` that ends right where the text was cut.
fn mark_prefix_before(view: &[Unit], secret: &[char], cut: usize, hidden: &mut [bool]) {
    let Some(last) = view.iter().rposition(|u| u.end <= cut) else {
        return;
    };
    if view[last].end != cut {
        return;
    }
    let longest = (1..secret.len().min(last + 1) + 1)
        .rev()
        .find(|&k| (0..k).all(|q| same(view[last + 1 - k + q].ch, secret[q])));
    if let Some(k) = longest {
        hidden[last + 1 - k..=last]
            .iter_mut()
            .for_each(|h| *h = true);
    }
}

/// Appends `text` with control characters (C0, DEL, C1) and invisible line or direction
/// changers written as escapes.
pub fn escape_into(text: &str, out: &mut String) {
    use std::fmt::Write;
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}' => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `text` with control characters escaped (see [`escape_into`]).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "hh_live_Zq8mK2/pX9+wR4tY7vB1nC6e";

    fn clean(text: &str) -> String {
        Redactor::new([KEY], [""; 0]).clean(text)
    }

    /// No run of 6 characters of the key survives (a stricter bar than the one redaction uses).
    fn assert_no_key(out: &str) {
        let key: Vec<char> = KEY.chars().collect();
        for w in key.windows(6) {
            let piece: String = w.iter().collect();
            assert!(!out.contains(&piece), "{piece:?} of the key in {out:?}");
        }
    }

    #[test]
    fn whole_key() {
        let out = clean(&format!("HTTP 401: invalid key {KEY} for project"));
        assert_eq!(out, "HTTP 401: invalid key <redacted> for project");
    }

    #[test]
    fn json_escaped_key() {
        // `/` as `\/`, `+` as `\u002b` (HTML-safe encoders), all of it as `\uXXXX`.
        let escaped = KEY.replace('/', "\\/").replace('+', "\\u002b");
        let out = clean(&format!(r#"{{"error":"bad key","key":"{escaped}"}}"#));
        assert_no_key(&out);
        assert!(
            out.contains(r#"{"error":"bad key","key":"<redacted>"}"#),
            "{out}"
        );
        let all: String = KEY
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        let out = clean(&format!("echo {all} end"));
        assert_eq!(out, "echo <redacted> end");
    }

    #[test]
    fn url_encoded_and_double_encoded_key() {
        let url = KEY.replace('/', "%2F").replace('+', "%2b");
        assert_eq!(
            clean(&format!("GET /x?key={url}&a=1")),
            "GET /x?key=<redacted>&a=1"
        );
        let double = KEY.replace('/', "%252F");
        assert_no_key(&clean(&format!("q={double}")));
        let html = KEY.replace('/', "&#x2F;").replace('+', "&#43;");
        assert_no_key(&clean(&format!("<p>{html}</p>")));
        let hex = KEY.replace('/', "\\x2f");
        assert_no_key(&clean(&format!("'{hex}'")));
    }

    #[test]
    fn truncated_prefix_suffix_and_middle() {
        for piece in [&KEY[..8], &KEY[..20], &KEY[KEY.len() - 8..], &KEY[5..17]] {
            let out = clean(&format!("key {piece}... is invalid"));
            assert_eq!(out, "key <redacted>... is invalid", "{piece}");
        }
        // Seven characters are not enough to be sure: the text stays.
        let seven = &KEY[..7];
        assert_eq!(clean(&format!("x {seven} y")), format!("x {seven} y"));
    }

    #[test]
    fn beginning_of_a_key_at_a_cut_is_redacted_whatever_its_length() {
        let body = format!("{{\"message\":\"unauthorized\",\"key\":\"{KEY}\"}}");
        let at = body.find(KEY).unwrap() + 3;
        let text = format!("HTTP 401: {}", snippet(body.as_bytes(), at));
        let out = clean(&text);
        assert!(
            out.ends_with(&format!("\"key\":\"<redacted>{CUT}")),
            "{out}"
        );
        // The same after a cut marked by an ellipsis.
        let out = clean(&format!("HTTP 401: {}\u{2026}", &body[..at]));
        assert!(out.ends_with("\"key\":\"<redacted>\u{2026}"), "{out}");
        // Without a cut the same three characters are ordinary text.
        assert!(clean("abc hh_ def").contains("hh_"));
    }

    #[test]
    fn several_secrets_and_overlapping_echoes() {
        let r = Redactor::new(["custom-header-secret-value", KEY, ""], ["x"]);
        let out = r.clean(&format!(
            "{KEY}{KEY} and custom-header-secret-value and custom-header"
        ));
        assert_eq!(out, "<redacted> and <redacted> and <redacted>");
    }

    #[test]
    fn short_secrets_only_as_whole_words() {
        let r = Redactor::new(["1"], ["abc"]);
        assert_eq!(
            r.clean("export of 12 spans failed: HTTP 401, x=1, abcd abc"),
            "export of 12 spans failed: HTTP 401, x=<redacted>, abcd <redacted>"
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "export of 5 spans failed: HTTP 400 Bad Request: {\"error\":\"invalid span\"}";
        assert_eq!(clean(text), text);
        // A header value that is not a credential is hidden whole, never in pieces.
        let r = Redactor::new([""; 0], ["application/json; charset=utf-8", "production"]);
        assert_eq!(
            r.clean("application/x-protobuf rejected in production-eu, not preproduction"),
            "application/x-protobuf rejected in <redacted>-eu, not preproduction"
        );
        assert_eq!(
            r.clean(r#"sent "application\/json; charset=utf-8""#),
            r#"sent "<redacted>""#
        );
    }

    #[test]
    fn which_header_values_are_credentials() {
        assert!(looks_like_credential("X-API-Key", "abc"));
        assert!(looks_like_credential("Authorization", "Basic dXNlcjpwYXNz"));
        assert!(looks_like_credential("x-tenant", "tn_8f3k2j9a"));
        assert!(!looks_like_credential("x-env", "production-us-east-1"));
        assert!(!looks_like_credential(
            "accept",
            "application/json; charset=utf-8"
        ));
    }

    #[test]
    fn control_characters_are_escaped() {
        let out = clean("line1\nFAKE warning: x\r\x1b[2J\x07\x7f\u{85}\u{9b}31m\u{202e}txt.exe\t");
        assert_eq!(
            out,
            "line1\\nFAKE warning: x\\r\\x1b[2J\\x07\\x7f\\x85\\x9b31m\\u{202e}txt.exe\\t"
        );
        assert!(!out.chars().any(|c| c.is_control()));
    }

    #[test]
    fn escaped_newline_in_a_key_echo_is_not_a_way_around() {
        // A key split by an escaped newline: each half is long enough to be found.
        let (a, b) = KEY.split_at(16);
        let out = clean(&format!("{a}\\n{b}"));
        assert_no_key(&out);
        assert!(!out.contains('\n'));
    }

    #[test]
    fn huge_text_is_cut_and_still_clean() {
        let text = format!("{}{KEY}", "x".repeat(MAX_INPUT - 5));
        let out = clean(&text);
        assert!(
            out.ends_with(&format!("<redacted>{CUT}")),
            "{}",
            &out[out.len() - 40..]
        );
        assert_no_key(&out);
    }

    #[test]
    fn snippet_marks_its_cut() {
        assert_eq!(snippet(b"short", 10), "short");
        assert_eq!(snippet(b"0123456789abc", 10), format!("0123456789{CUT}"));
    }
}
