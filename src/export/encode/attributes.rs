//! The attributes and scope of a span as every encoder writes them.

use super::Encoding;
use crate::keys::{SESSION_KEY, SESSION_MIRROR_KEY};
use opentelemetry::{InstrumentationScope, Key, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

/// `SESSION_MIRROR_KEY` with a `'static` address, to hand out references to it.
static MIRROR_KEY: Key = SESSION_MIRROR_KEY;

/// Below this many attributes, duplicates are found by scanning (no allocation); above, with
/// a hash set.
const SCAN_LIMIT: usize = 32;

/// The attributes of a span as exported: the tracer's stamped ones, then the span's own, with
/// `SESSION_MIRROR_KEY` written beside `SESSION_KEY` (a span stores its session id once).
/// OTLP requires unique keys; a key set twice keeps the last value, as the reference's
/// `set_attribute` does (so a span's own attribute wins over a stamped one). Runs on the
/// export worker, never on the hot path.
pub(crate) fn unique_attributes<'a>(
    stamped: &'a [KeyValue],
    attrs: &'a [KeyValue],
) -> Vec<(&'a Key, &'a Value)> {
    let n = stamped.len() + attrs.len();
    let mut out = Vec::with_capacity(n + 1);
    let mut push = |kv: &'a KeyValue| {
        out.push((&kv.key, &kv.value));
        if kv.key == SESSION_KEY {
            out.push((&MIRROR_KEY, &kv.value));
        }
    };
    if n <= SCAN_LIMIT {
        for kv in stamped {
            if !attrs.iter().any(|later| later.key == kv.key) {
                push(kv);
            }
        }
        for (i, kv) in attrs.iter().enumerate() {
            if !attrs[i + 1..].iter().any(|later| later.key == kv.key) {
                push(kv);
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut keep: Vec<&KeyValue> = Vec::with_capacity(n);
        for kv in stamped.iter().chain(attrs).rev() {
            if seen.insert(kv.key.as_str()) {
                keep.push(kv);
            }
        }
        for kv in keep.into_iter().rev() {
            push(kv);
        }
    }
    out
}

/// The scope a span is reported under: its own, or the tracer's for spans made here.
pub(crate) fn scope_of<'a>(span: &'a SpanData, enc: &'a Encoding) -> &'a InstrumentationScope {
    if span.instrumentation_scope.name().is_empty() {
        &enc.scope
    } else {
        &span.instrumentation_scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(out: &[(&Key, &Value)]) -> Vec<String> {
        out.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    #[test]
    fn the_last_value_of_a_key_wins_and_keeps_its_place() {
        let stamped = [KeyValue::new("project", "p"), KeyValue::new("source", "s")];
        let attrs = [
            KeyValue::new("a", 1),
            KeyValue::new("source", "mine"),
            KeyValue::new("a", 2),
        ];
        assert_eq!(
            keys(&unique_attributes(&stamped, &attrs)),
            ["project=p", "source=mine", "a=2"]
        );
    }

    #[test]
    fn the_session_is_mirrored_beside_it() {
        let attrs = [KeyValue::new(SESSION_KEY, "sid"), KeyValue::new("x", 1)];
        assert_eq!(
            keys(&unique_attributes(&[], &attrs)),
            [
                "honeyhive.session_id=sid",
                "traceloop.association.properties.session_id=sid",
                "x=1"
            ]
        );
    }

    #[test]
    fn many_attributes_are_deduplicated_the_same_way() {
        // Past SCAN_LIMIT the hash-set path runs: same result as the scan.
        let stamped: Vec<KeyValue> = (0..20).map(|i| KeyValue::new(format!("k{i}"), 0)).collect();
        let attrs: Vec<KeyValue> = (0..40)
            .map(|i| KeyValue::new(format!("k{}", i % 30), i as i64))
            .collect();
        let out = keys(&unique_attributes(&stamped, &attrs));
        let expected: Vec<String> = (10..40).map(|i| format!("k{}={i}", i % 30)).collect();
        assert_eq!(out, expected);
        let small = keys(&unique_attributes(&stamped[..2], &attrs[..10]));
        assert_eq!(small.len(), 10);
    }
}
