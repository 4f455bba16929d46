//! A cheap first look at an OTLP/JSON trace export: checks the body and counts its spans
//! without building a `serde_json::Value` tree (which was most of the receiver's cost for a
//! large export), so that parsing and decoding can wait until something reads the request.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// The span count of an OTLP/JSON export whose body is valid JSON (checked exactly as
/// `serde_json::from_slice::<Value>` checks it) of the canonical shape: each of the
/// `resourceSpans` / `scopeSpans` (or `instrumentationLibrarySpans`) / `spans` lists present
/// at most once, under one spelling, as an array of objects. `None` for anything else, also
/// for bodies that are merely unusual (null lists, repeated keys): the caller then parses a
/// `Value` and uses `count_otlp_json`, whose answer and errors stand.
pub(crate) fn count_otlp_json_fast(body: &[u8]) -> Option<usize> {
    // One UTF-8 check of the whole body is cheaper than `from_slice`'s one per string.
    let text = std::str::from_utf8(body).ok()?;
    serde_json::from_str::<Root>(text).ok().map(|r| r.0)
}

/// The member names that matter, at whatever level they appear.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    ResourceSpans,
    ScopeSpans,
    Spans,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
        Ok(match s {
            "resourceSpans" | "resource_spans" => Key::ResourceSpans,
            "scopeSpans"
            | "scope_spans"
            | "instrumentationLibrarySpans"
            | "instrumentation_library_spans" => Key::ScopeSpans,
            "spans" => Key::Spans,
            _ => Key::Other,
        })
    }
}

/// Any JSON value, checked and dropped. Not `IgnoredAny`: serde_json skips that without
/// checking UTF-8, number range or nesting depth, which parsing a `Value` does check.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// Something that holds a number of spans.
trait Spans {
    fn spans(&self) -> usize;
}

/// The body: spans under `resourceSpans`.
struct Root(usize);
/// A `resourceSpans` entry: spans under `scopeSpans`.
struct Resource(usize);
/// A `scopeSpans` entry: spans under `spans`.
struct Scope(usize);
/// A span: any object.
struct Span;

impl Spans for Resource {
    fn spans(&self) -> usize {
        self.0
    }
}

impl Spans for Scope {
    fn spans(&self) -> usize {
        self.0
    }
}

impl Spans for Span {
    fn spans(&self) -> usize {
        1
    }
}

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Root, D::Error> {
        d.deserialize_map(Holder::<Resource>::new(Key::ResourceSpans))
            .map(Root)
    }
}

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Resource, D::Error> {
        d.deserialize_map(Holder::<Scope>::new(Key::ScopeSpans))
            .map(Resource)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
        d.deserialize_map(Holder::<Span>::new(Key::Spans))
            .map(Scope)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        // `deserialize_map` refuses anything but an object.
        d.deserialize_map(SkipVisitor).map(|_| Span)
    }
}

/// Visits an object whose one interesting member (`want`) is an array of `T`: the spans of
/// its entries. A second such member (repeated, or another spelling) is an error, so that
/// which one counts never matters.
struct Holder<T> {
    want: Key,
    entries: PhantomData<T>,
}

impl<T> Holder<T> {
    fn new(want: Key) -> Holder<T> {
        Holder {
            want,
            entries: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de> + Spans> Visitor<'de> for Holder<T> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OTLP/JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut spans = None;
        while let Some(key) = map.next_key::<Key>()? {
            if key != self.want {
                map.next_value::<Skip>()?;
            } else if spans.is_some() {
                return Err(de::Error::custom("member given twice"));
            } else {
                spans = Some(map.next_value::<List<T>>()?.0);
            }
        }
        Ok(spans.unwrap_or(0))
    }
}

/// An array (never null) of `T`: the sum of their spans.
struct List<T>(usize, PhantomData<T>);

impl<'de, T: Deserialize<'de> + Spans> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<List<T>, D::Error> {
        d.deserialize_seq(ListVisitor(PhantomData))
    }
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Spans> Visitor<'de> for ListVisitor<T> {
    type Value = List<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
        let mut n = 0usize;
        while let Some(t) = seq.next_element::<T>()? {
            n += t.spans();
        }
        Ok(List(n, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::count_otlp_json;
    use serde_json::{json, Value};

    /// The fast count, after checking it against the `Value` path: when it answers, the
    /// body parses and `count_otlp_json` gives the same number.
    fn fast(body: &[u8]) -> Option<usize> {
        let got = count_otlp_json_fast(body);
        if let Some(n) = got {
            let v: Value = serde_json::from_slice(body)
                .unwrap_or_else(|e| panic!("fast path took invalid JSON ({e}): {body:?}"));
            assert_eq!(
                count_otlp_json(&v),
                Ok(n),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        got
    }

    fn fast_v(v: &Value) -> Option<usize> {
        fast(v.to_string().as_bytes())
    }

    fn span(i: usize) -> Value {
        json!({"traceId": format!("{:032x}", i + 1), "spanId": format!("{:016x}", i + 1),
               "parentSpanId": "00f067aa0ba902b7", "name": "llm.call", "kind": 1,
               "startTimeUnixNano": "1795233870323218435", "endTimeUnixNano": 1795233870323743138u64,
               "attributes": [{"key": "s", "value": {"stringValue": "gpt-4o \u{e9}\n"}},
                              {"key": "i", "value": {"intValue": "42"}},
                              {"key": "d", "value": {"doubleValue": 0.7}},
                              {"key": "a", "value": {"arrayValue": {"values": [{"boolValue": true}]}}}],
               "events": [], "status": {}})
    }

    #[test]
    fn canonical_bodies_are_counted_fast() {
        let spans: Vec<Value> = (0..512).map(span).collect();
        let large = json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "b"}}]},
            "scopeSpans": [{"scope": {"name": "honeyhive.1"}, "spans": spans}]}]});
        assert_eq!(fast_v(&large), Some(512));
        let two = json!({"resource_spans": [
            {"scope_spans": [{"spans": [span(0), span(1)]}, {"spans": []}]},
            {"instrumentationLibrarySpans": [{"instrumentationLibrary": {}, "spans": [span(2)]}]},
            {"instrumentation_library_spans": [{"spans": [{}]}]},
            {"resource": {}}]});
        assert_eq!(fast_v(&two), Some(4));
        for (v, n) in [
            (json!({}), 0),
            (json!({"resourceSpans": []}), 0),
            (json!({"resourceSpans": [{}], "other": [1, null]}), 0),
            (json!({"resourceSpans": [{"scopeSpans": [{}]}]}), 0),
        ] {
            assert_eq!(fast_v(&v), Some(n), "{v}");
        }
        // Keys are compared unescaped, as in a `Value`.
        assert_eq!(
            fast(br#" {"resource\u0053pans": [{"scopeSpans": [{"spans": [{"a": "\u00e9"}]}]}]} "#),
            Some(1)
        );
    }

    #[test]
    fn unusual_or_invalid_bodies_take_the_slow_path() {
        let unusual: &[&str] = &[
            // Null, or not an array / object where one is expected.
            r#"{"resourceSpans": null}"#,
            r#"{"resourceSpans": {}}"#,
            r#"{"resourceSpans": 3}"#,
            r#"{"resourceSpans": [{"scopeSpans": null, "instrumentationLibrarySpans": [{"spans": [{}]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": "x", "instrumentationLibrarySpans": [{"spans": [{}]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": null}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": {}}]}]}"#,
            r#"{"resourceSpans": ["x"]}"#,
            r#"{"resourceSpans": [null]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [3]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [1]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{}, null]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [[]]}]}]}"#,
            // Both spellings, or a list given twice.
            r#"{"resourceSpans": [], "resource_spans": [{"scopeSpans": [{"spans": [{}]}]}]}"#,
            r#"{"resource_spans": [{"scopeSpans": [{"spans": [{}]}]}], "resourceSpans": []}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}], "resourceSpans": []}"#,
            r#"{"resourceSpans": [{"scopeSpans": [], "scope_spans": [{"spans": [{}]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [], "instrumentationLibrarySpans": [{"spans": [{}]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{}], "spans": []}]}]}"#,
            // Not an object at all.
            "[]",
            "[1]",
            "null",
            "3",
            "\"x\"",
            // Invalid JSON, also where `IgnoredAny` would not notice.
            "",
            "{",
            "{nope",
            r#"{"resourceSpans": [}"#,
            r#"{"resourceSpans": []} x"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"x": 1e400}]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"x": "\ud800"}]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"x": "\q"}]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"x": 01}]}]}]}"#,
            r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"x": [1,]}]}]}]}"#,
        ];
        for body in unusual {
            assert_eq!(fast(body.as_bytes()), None, "{body}");
        }
        let mut bad_utf8 = br#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"x": "#.to_vec();
        bad_utf8.extend_from_slice(b"\"\xff\xfe\"}]}]}]}");
        assert_eq!(fast(&bad_utf8), None);
        let deep = format!(
            r#"{{"resourceSpans": [{{"scopeSpans": [{{"spans": [{{"x": {}{}}}]}}]}}]}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(serde_json::from_str::<Value>(&deep).is_err());
        assert_eq!(fast(deep.as_bytes()), None);
    }

    /// Deterministic xorshift, for generated shapes.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    const KEYS: &[&str] = &[
        "resourceSpans",
        "resource_spans",
        "scopeSpans",
        "scope_spans",
        "instrumentationLibrarySpans",
        "instrumentation_library_spans",
        "spans",
        "resource",
        "name",
    ];

    /// Random JSON text around the OTLP skeleton (repeated keys and other spellings
    /// included): mostly an object of `level` (0 the body, 1 a resource, 2 a scope, 3 a span).
    fn gen(rng: &mut Rng, level: usize, out: &mut String) {
        match rng.below(30) {
            0 => out.push_str(["null", "1", "-2.5e3", "\"s\"", "true", "[]"][rng.below(6)]),
            1 => gen_list(rng, level + 1, out),
            _ if level >= 3 => {
                out.push_str(["{}", "{\"name\":\"x\"}", "{\"a\":[{}]}"][rng.below(3)])
            }
            _ => {
                out.push('{');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    // Mostly one key of this level, then others.
                    let key = match (rng.below(8), i, level) {
                        (0, _, _) => KEYS[rng.below(KEYS.len())],
                        (_, 1.., _) => KEYS[7 + rng.below(2)],
                        (_, _, 0) => KEYS[rng.below(2)],
                        (_, _, 1) => KEYS[2 + rng.below(4)],
                        _ => "spans",
                    };
                    out.push_str(&format!("\"{key}\":"));
                    if rng.below(10) == 0 {
                        gen(rng, level + 1, out);
                    } else {
                        gen_list(rng, level + 1, out);
                    }
                }
                out.push('}');
            }
        }
    }

    fn gen_list(rng: &mut Rng, level: usize, out: &mut String) {
        out.push('[');
        for i in 0..rng.below(4) {
            if i > 0 {
                out.push(',');
            }
            gen(rng, level, out);
        }
        out.push(']');
    }

    #[test]
    fn generated_shapes_agree_with_the_value_path() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut fast_taken, mut nonzero) = (0, 0);
        for _ in 0..20_000 {
            let mut text = String::new();
            gen(&mut rng, 0, &mut text);
            let mut body = text.into_bytes();
            if rng.below(8) == 0 && !body.is_empty() {
                // Now and then, damage it.
                let i = rng.below(body.len());
                body[i] = b"{}[],:\"x"[rng.below(8)];
            }
            if let Some(n) = fast(&body) {
                fast_taken += 1;
                nonzero += usize::from(n > 0);
            }
        }
        // Most take the fast path, many with spans.
        assert!(fast_taken > 5000 && nonzero > 500, "{fast_taken} {nonzero}");
    }
}
