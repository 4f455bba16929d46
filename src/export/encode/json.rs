//! OTLP/JSON encoding. The HoneyHive style reproduces the reference SDK's own encoder
//! (enum names, `parentSpanId: null` on roots); the standard style follows the
//! OTLP/JSON specification (enum integers, no parent field on roots) for generic collectors.

use crate::clock::unix_nanos;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, Key, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    HoneyHive,
    Standard,
}

/// Encodes one export request: one resource, spans grouped by instrumentation scope (spans
/// made by libhoneyhive carry none and are reported under `enc.scope`), each span with
/// `enc.stamped` before its own attributes.
pub fn encode(spans: &[SpanData], enc: &super::Encoding, style: JsonStyle) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + spans.len() * 768);
    out.extend_from_slice(b"{\"resourceSpans\":[{\"resource\":{");
    if !enc.resource.is_empty() {
        out.extend_from_slice(b"\"attributes\":");
        attributes(&mut out, enc.resource.iter().map(|kv| (&kv.key, &kv.value)));
    }
    out.extend_from_slice(b"},\"scopeSpans\":[");
    for (n, group) in spans
        .chunk_by(|a, b| a.instrumentation_scope == b.instrumentation_scope)
        .enumerate()
    {
        let scope = super::attributes::scope_of(&group[0], enc);
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"scope\":{\"name\":");
        string(&mut out, scope.name());
        if let Some(v) = scope.version().filter(|v| !v.is_empty()) {
            out.extend_from_slice(b",\"version\":");
            string(&mut out, v);
        }
        out.extend_from_slice(b"},\"spans\":[");
        for (i, span) in group.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            encode_span(&mut out, span, &enc.stamped, style);
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}]}");
    out
}

fn encode_span(out: &mut Vec<u8>, span: &SpanData, stamped: &[KeyValue], style: JsonStyle) {
    let ctx = &span.span_context;
    out.extend_from_slice(b"{\"traceId\":\"");
    hex(out, &ctx.trace_id().to_bytes());
    out.extend_from_slice(b"\",\"spanId\":\"");
    hex(out, &ctx.span_id().to_bytes());
    out.push(b'"');
    if span.parent_span_id != opentelemetry::trace::SpanId::INVALID {
        out.extend_from_slice(b",\"parentSpanId\":\"");
        hex(out, &span.parent_span_id.to_bytes());
        out.push(b'"');
    } else if style == JsonStyle::HoneyHive {
        out.extend_from_slice(b",\"parentSpanId\":null");
    }
    out.extend_from_slice(b",\"name\":");
    string(out, &span.name);
    let kind = kind_number(&span.span_kind);
    match style {
        JsonStyle::HoneyHive => {
            let _ = write!(out, ",\"kind\":\"{}\"", KIND_NAMES[kind as usize]);
        }
        JsonStyle::Standard => {
            let _ = write!(out, ",\"kind\":{kind}");
        }
    }
    out.extend_from_slice(b",\"startTimeUnixNano\":\"");
    decimal(out, unix_nanos(span.start_time));
    out.extend_from_slice(b"\",\"endTimeUnixNano\":\"");
    decimal(out, unix_nanos(span.end_time));
    out.extend_from_slice(b"\",\"attributes\":");
    attributes(
        out,
        super::attributes::unique_attributes(stamped, &span.attributes),
    );
    out.extend_from_slice(b",\"events\":[");
    for (n, event) in span.events.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let _ = write!(
            out,
            "{{\"timeUnixNano\":\"{}\",\"name\":",
            unix_nanos(event.timestamp)
        );
        string(out, &event.name);
        out.extend_from_slice(b",\"attributes\":");
        attributes(out, event.attributes.iter().map(|kv| (&kv.key, &kv.value)));
        dropped(
            out,
            "droppedAttributesCount",
            event.dropped_attributes_count,
        );
        out.push(b'}');
    }
    out.push(b']');
    dropped(out, "droppedEventsCount", span.events.dropped_count);
    // Links only when there are some: a span without links reads as before.
    if !span.links.is_empty() {
        out.extend_from_slice(b",\"links\":[");
        for (n, link) in span.links.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            let cx = &link.span_context;
            out.extend_from_slice(b"{\"traceId\":\"");
            hex(out, &cx.trace_id().to_bytes());
            out.extend_from_slice(b"\",\"spanId\":\"");
            hex(out, &cx.span_id().to_bytes());
            out.push(b'"');
            let state = cx.trace_state().header();
            if !state.is_empty() {
                out.extend_from_slice(b",\"traceState\":");
                string(out, &state);
            }
            out.extend_from_slice(b",\"attributes\":");
            attributes(out, link.attributes.iter().map(|kv| (&kv.key, &kv.value)));
            dropped(out, "droppedAttributesCount", link.dropped_attributes_count);
            out.push(b'}');
        }
        out.push(b']');
    }
    dropped(out, "droppedLinksCount", span.links.dropped_count);
    out.extend_from_slice(b",\"status\":{");
    let (code, message) = match &span.status {
        Status::Unset => (0, None),
        Status::Ok => (1, None),
        Status::Error { description } => (2, Some(description.as_ref())),
    };
    match style {
        JsonStyle::HoneyHive => {
            let _ = write!(out, "\"code\":\"{}\"", STATUS_NAMES[code]);
        }
        JsonStyle::Standard => {
            let _ = write!(out, "\"code\":{code}");
        }
    }
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        out.extend_from_slice(b",\"message\":");
        string(out, m);
    }
    out.extend_from_slice(b"}}");
}

/// A dropped-items count, written only when not zero (OTLP/JSON leaves defaults out).
fn dropped(out: &mut Vec<u8>, field: &str, count: u32) {
    if count != 0 {
        let _ = write!(out, ",\"{field}\":{count}");
    }
}

const KIND_NAMES: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const STATUS_NAMES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

/// OTLP's numeric span kind.
pub fn kind_number(kind: &SpanKind) -> i32 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn attributes<'a>(out: &mut Vec<u8>, attrs: impl IntoIterator<Item = (&'a Key, &'a Value)>) {
    out.push(b'[');
    for (n, (k, v)) in attrs.into_iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"key\":");
        string(out, k.as_str());
        out.extend_from_slice(b",\"value\":");
        value(out, v);
        out.push(b'}');
    }
    out.push(b']');
}

fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Bool(b) => {
            let _ = write!(out, "{{\"boolValue\":{b}}}");
        }
        Value::I64(i) => {
            out.extend_from_slice(b"{\"intValue\":\"");
            if *i < 0 {
                out.push(b'-');
            }
            decimal(out, i.unsigned_abs());
            out.extend_from_slice(b"\"}");
        }
        Value::F64(f) => double(out, *f),
        Value::String(s) => {
            out.extend_from_slice(b"{\"stringValue\":");
            string(out, s.as_str());
            out.push(b'}');
        }
        Value::Array(a) => {
            out.extend_from_slice(b"{\"arrayValue\":{\"values\":[");
            match a {
                Array::Bool(items) => list(out, items, |o, b| {
                    let _ = write!(o, "{{\"boolValue\":{b}}}");
                }),
                Array::I64(items) => list(out, items, |o, i| {
                    let _ = write!(o, "{{\"intValue\":\"{i}\"}}");
                }),
                Array::F64(items) => list(out, items, |o, f| double(o, *f)),
                Array::String(items) => list(out, items, |o, s| {
                    o.extend_from_slice(b"{\"stringValue\":");
                    string(o, s.as_str());
                    o.push(b'}');
                }),
                _ => {}
            }
            out.extend_from_slice(b"]}}");
        }
        _ => {
            out.extend_from_slice(b"{\"stringValue\":");
            string(out, &v.as_str());
            out.push(b'}');
        }
    }
}

fn list<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        each(out, item);
    }
}

/// Doubles as `doubleValue`; NaN and infinities, which JSON cannot hold, as strings (as the reference SDK does).
fn double(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        // `{:?}` keeps a decimal point on whole numbers, so receivers see a double, not an int.
        let _ = write!(out, "{{\"doubleValue\":{f:?}}}");
    } else {
        let _ = write!(out, "{{\"stringValue\":\"{f}\"}}");
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    // Most strings need no escaping: copied as they are. Otherwise serde_json's escaper,
    // correct for every code point (writing to a Vec cannot fail).
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Lower-case hex, as the SDK's `{:x}` of ids.
fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 0xf) as usize]);
    }
}

/// Decimal digits of `v` (what `{}` writes).
fn decimal(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::super::Encoding;
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
    use opentelemetry::InstrumentationScope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use std::time::Duration;
    use std::time::UNIX_EPOCH;

    #[test]
    fn ids_numbers_and_strings_are_written_as_the_formatter_would() {
        let t = UNIX_EPOCH + Duration::from_nanos(1_795_233_870_323_218_435);
        let span = SpanData {
            span_context: SpanContext::new(
                TraceId::from(0x00e26d957658d08deac8754265b49f64_u128),
                SpanId::from(0x01bd47d0e552aa18),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(0x0a),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "quote \" back \\ tab \t é ✓ \u{7f}".into(),
            start_time: t,
            end_time: UNIX_EPOCH,
            attributes: vec![
                KeyValue::new("neg", i64::MIN),
                KeyValue::new("pos", i64::MAX),
                KeyValue::new("zero", 0i64),
                KeyValue::new("plain", "gpt-4o"),
                KeyValue::new("ctl", "a\u{1}b\nc"),
            ],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::default(),
        };
        let enc = Encoding::default();
        let out = encode(std::slice::from_ref(&span), &enc, JsonStyle::HoneyHive);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let s = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], format!("{}", span.span_context.trace_id()));
        assert_eq!(s["spanId"], format!("{}", span.span_context.span_id()));
        assert_eq!(s["parentSpanId"], "000000000000000a");
        assert_eq!(s["name"], &*span.name);
        assert_eq!(s["startTimeUnixNano"], "1795233870323218435");
        assert_eq!(s["endTimeUnixNano"], "0");
        let attrs = s["attributes"].as_array().unwrap();
        assert_eq!(attrs[0]["value"]["intValue"], i64::MIN.to_string());
        assert_eq!(attrs[1]["value"]["intValue"], i64::MAX.to_string());
        assert_eq!(attrs[2]["value"]["intValue"], "0");
        assert_eq!(attrs[3]["value"]["stringValue"], "gpt-4o");
        assert_eq!(attrs[4]["value"]["stringValue"], "a\u{1}b\nc");
        // Byte for byte what serde_json writes for strings.
        let mut a = Vec::new();
        string(&mut a, &span.name);
        assert_eq!(a, serde_json::to_vec(&*span.name).unwrap());
        let mut b = Vec::new();
        string(&mut b, "plain");
        assert_eq!(b, serde_json::to_vec("plain").unwrap());
    }
}
