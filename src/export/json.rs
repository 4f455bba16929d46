//! OTLP/JSON encoding. The HoneyHive style reproduces the reference SDK's own encoder
//! (spec 3.2: enum names, `parentSpanId: null` on roots); the standard style follows the
//! OTLP/JSON specification (enum integers, no parent field on roots) for generic collectors.

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    HoneyHive,
    Standard,
}

/// Encodes one export request: one resource, spans grouped by instrumentation scope.
pub fn encode(spans: &[SpanData], resource: &[KeyValue], style: JsonStyle) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + spans.len() * 768);
    out.extend_from_slice(b"{\"resourceSpans\":[{\"resource\":{");
    if !resource.is_empty() {
        out.extend_from_slice(b"\"attributes\":");
        attributes(&mut out, resource.iter());
    }
    out.extend_from_slice(b"},\"scopeSpans\":[");
    for (n, group) in spans
        .chunk_by(|a, b| a.instrumentation_scope == b.instrumentation_scope)
        .enumerate()
    {
        let scope = &group[0].instrumentation_scope;
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
            encode_span(&mut out, span, style);
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}]}");
    out
}

fn encode_span(out: &mut Vec<u8>, span: &SpanData, style: JsonStyle) {
    let ctx = &span.span_context;
    let _ = write!(
        out,
        "{{\"traceId\":\"{}\",\"spanId\":\"{}\"",
        ctx.trace_id(),
        ctx.span_id()
    );
    if span.parent_span_id != opentelemetry::trace::SpanId::INVALID {
        let _ = write!(out, ",\"parentSpanId\":\"{}\"", span.parent_span_id);
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
    let _ = write!(
        out,
        ",\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",\"attributes\":",
        nanos(span.start_time),
        nanos(span.end_time)
    );
    attributes(out, super::unique_attributes(&span.attributes));
    out.extend_from_slice(b",\"events\":[");
    for (n, event) in span.events.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let _ = write!(
            out,
            "{{\"timeUnixNano\":\"{}\",\"name\":",
            nanos(event.timestamp)
        );
        string(out, &event.name);
        out.extend_from_slice(b",\"attributes\":");
        attributes(out, event.attributes.iter());
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"status\":{");
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

/// Nanoseconds since the Unix epoch (0 for times before it).
pub fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn attributes<'a>(out: &mut Vec<u8>, attrs: impl IntoIterator<Item = &'a KeyValue>) {
    out.push(b'[');
    for (n, kv) in attrs.into_iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"key\":");
        string(out, kv.key.as_str());
        out.extend_from_slice(b",\"value\":");
        value(out, &kv.value);
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
            let _ = write!(out, "{{\"intValue\":\"{i}\"}}");
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

/// Doubles as `doubleValue`; NaN and infinities, which JSON cannot hold, as strings (spec 3.2).
fn double(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        // `{:?}` keeps a decimal point on whole numbers, so receivers see a double, not an int.
        let _ = write!(out, "{{\"doubleValue\":{f:?}}}");
    } else {
        let _ = write!(out, "{{\"stringValue\":\"{f}\"}}");
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaper is correct for every code point; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}
