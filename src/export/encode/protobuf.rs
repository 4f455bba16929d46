//! OTLP/protobuf encoding, written straight from `SpanData` into the request body: the bytes
//! prost would produce for the `opentelemetry-proto` messages (fields in number order, proto3
//! defaults left out; a test checks the two agree byte for byte), without building the
//! intermediate messages (a `String` per key and value, a `Vec` per list) first.

use super::json::kind_number;
use crate::clock::unix_nanos;
use opentelemetry::trace::Status;
use opentelemetry::{Array, Key, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

/// Encodes one export request: one resource, spans grouped by instrumentation scope (spans
/// made by libhoneyhive carry none and are reported under `enc.scope`), each span with
/// `enc.stamped` before its own attributes.
pub fn encode(spans: &[SpanData], enc: &super::Encoding) -> Vec<u8> {
    // ResourceSpans { resource = 1, scope_spans = 2 }: its length is needed before it, so
    // its body is built first.
    let mut rs = Vec::with_capacity(256 + spans.len() * 400);
    let mut resource = Vec::new();
    for kv in &enc.resource {
        message(&mut resource, 1, |b| key_value(b, &kv.key, &kv.value));
    }
    message_bytes(&mut rs, 1, &resource);
    let mut span_buf = Vec::with_capacity(512);
    let mut ss = Vec::with_capacity(128 + spans.len() * 400);
    for group in spans.chunk_by(|a, b| a.instrumentation_scope == b.instrumentation_scope) {
        // ScopeSpans { scope = 1, spans = 2 }
        ss.clear();
        let scope = super::attributes::scope_of(&group[0], enc);
        message(&mut ss, 1, |b| {
            string(b, 1, scope.name());
            string(b, 2, scope.version().unwrap_or_default());
        });
        for s in group {
            span_buf.clear();
            span(&mut span_buf, s, &enc.stamped);
            message_bytes(&mut ss, 2, &span_buf);
        }
        message_bytes(&mut rs, 2, &ss);
    }
    // ExportTraceServiceRequest { resource_spans = 1 }
    let mut out = Vec::with_capacity(rs.len() + 8);
    message_bytes(&mut out, 1, &rs);
    out
}

fn span(b: &mut Vec<u8>, s: &SpanData, stamped: &[KeyValue]) {
    bytes(b, 1, &s.span_context.trace_id().to_bytes());
    bytes(b, 2, &s.span_context.span_id().to_bytes());
    if s.parent_span_id != opentelemetry::trace::SpanId::INVALID {
        bytes(b, 4, &s.parent_span_id.to_bytes());
    }
    string(b, 5, &s.name);
    uint(b, 6, kind_number(&s.span_kind) as u64);
    fixed64(b, 7, unix_nanos(s.start_time));
    fixed64(b, 8, unix_nanos(s.end_time));
    for (k, v) in super::attributes::unique_attributes(stamped, &s.attributes) {
        message(b, 9, |b| key_value(b, k, v));
    }
    uint(b, 10, s.dropped_attributes_count as u64);
    for e in s.events.iter() {
        message(b, 11, |b| {
            fixed64(b, 1, unix_nanos(e.timestamp));
            string(b, 2, &e.name);
            for kv in &e.attributes {
                message(b, 3, |b| key_value(b, &kv.key, &kv.value));
            }
            uint(b, 4, e.dropped_attributes_count as u64);
        });
    }
    uint(b, 12, s.events.dropped_count as u64);
    for l in s.links.iter() {
        // Link { trace_id = 1, span_id = 2, trace_state = 3, attributes = 4,
        // dropped_attributes_count = 5 }
        message(b, 13, |b| {
            bytes(b, 1, &l.span_context.trace_id().to_bytes());
            bytes(b, 2, &l.span_context.span_id().to_bytes());
            string(b, 3, &l.span_context.trace_state().header());
            for kv in &l.attributes {
                message(b, 4, |b| key_value(b, &kv.key, &kv.value));
            }
            uint(b, 5, l.dropped_attributes_count as u64);
        });
    }
    uint(b, 14, s.links.dropped_count as u64);
    let (code, message_text): (u64, &str) = match &s.status {
        Status::Unset => (0, ""),
        Status::Ok => (1, ""),
        Status::Error { description } => (2, description),
    };
    message(b, 15, |b| {
        string(b, 2, message_text);
        uint(b, 3, code);
    });
}

fn key_value(b: &mut Vec<u8>, k: &Key, v: &Value) {
    string(b, 1, k.as_str());
    message(b, 2, |b| any_value(b, v));
}

/// AnyValue { string = 1, bool = 2, int = 3, double = 4, array = 5 }: a oneof, so written
/// even when it holds the default.
fn any_value(b: &mut Vec<u8>, v: &Value) {
    match v {
        Value::String(s) => {
            tag(b, 1, 2);
            len_bytes(b, s.as_str().as_bytes());
        }
        Value::Bool(x) => {
            tag(b, 2, 0);
            varint(b, *x as u64);
        }
        Value::I64(i) => {
            tag(b, 3, 0);
            varint(b, *i as u64);
        }
        Value::F64(f) => {
            tag(b, 4, 1);
            b.extend_from_slice(&f.to_le_bytes());
        }
        Value::Array(a) => message(b, 5, |b| match a {
            Array::Bool(items) => items
                .iter()
                .for_each(|x| message(b, 1, |b| any_value(b, &Value::Bool(*x)))),
            Array::I64(items) => items
                .iter()
                .for_each(|x| message(b, 1, |b| any_value(b, &Value::I64(*x)))),
            Array::F64(items) => items
                .iter()
                .for_each(|x| message(b, 1, |b| any_value(b, &Value::F64(*x)))),
            Array::String(items) => items.iter().for_each(|x| {
                message(b, 1, |b| {
                    tag(b, 1, 2);
                    len_bytes(b, x.as_str().as_bytes());
                })
            }),
            _ => {}
        }),
        other => {
            tag(b, 1, 2);
            len_bytes(b, other.as_str().as_bytes());
        }
    }
}

#[inline]
fn varint(b: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        b.push((v as u8) | 0x80);
        v >>= 7;
    }
    b.push(v as u8);
}

#[inline]
fn tag(b: &mut Vec<u8>, field: u32, wire: u8) {
    varint(b, ((field as u64) << 3) | wire as u64);
}

#[inline]
fn len_bytes(b: &mut Vec<u8>, data: &[u8]) {
    varint(b, data.len() as u64);
    b.extend_from_slice(data);
}

/// A string field (left out when empty, as proto3 does).
#[inline]
fn string(b: &mut Vec<u8>, field: u32, s: &str) {
    bytes(b, field, s.as_bytes());
}

/// A bytes field (left out when empty).
#[inline]
fn bytes(b: &mut Vec<u8>, field: u32, data: &[u8]) {
    if !data.is_empty() {
        tag(b, field, 2);
        len_bytes(b, data);
    }
}

/// A varint field (left out when zero).
#[inline]
fn uint(b: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        tag(b, field, 0);
        varint(b, v);
    }
}

/// A fixed64 field (left out when zero).
#[inline]
fn fixed64(b: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        tag(b, field, 1);
        b.extend_from_slice(&v.to_le_bytes());
    }
}

/// An embedded message (always written, even empty), built in place: its length is not
/// known before its body, so the body is written after a one-byte length and moved when
/// it turns out longer than 127 bytes.
#[inline]
fn message(b: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
    tag(b, field, 2);
    let at = b.len();
    b.push(0);
    body(b);
    let n = b.len() - at - 1;
    if n < 0x80 {
        b[at] = n as u8;
    } else {
        let mut len = Vec::with_capacity(10);
        varint(&mut len, n as u64);
        b.splice(at..at + 1, len);
    }
}

/// An embedded message whose body is already encoded.
#[inline]
fn message_bytes(b: &mut Vec<u8>, field: u32, body: &[u8]) {
    tag(b, field, 2);
    len_bytes(b, body);
}

#[cfg(test)]
mod tests {
    use super::super::Encoding;
    use super::*;
    use opentelemetry::trace::{
        Event, Link, SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::{InstrumentationScope, StringValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use std::time::{Duration, SystemTime};

    /// The encoder this module replaced: the `opentelemetry-proto` messages and prost.
    fn prost_encode(spans: &[SpanData], enc: &Encoding) -> Vec<u8> {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use opentelemetry_proto::tonic::common::v1 as common;
        use opentelemetry_proto::tonic::resource::v1::Resource;
        use opentelemetry_proto::tonic::trace::v1 as trace;
        use prost::Message;
        fn kvs<'a>(attrs: impl IntoIterator<Item = (&'a Key, &'a Value)>) -> Vec<common::KeyValue> {
            attrs
                .into_iter()
                .map(|(k, v)| common::KeyValue {
                    key: k.to_string(),
                    value: Some(any(v)),
                    ..Default::default()
                })
                .collect()
        }
        fn any(v: &Value) -> common::AnyValue {
            use common::any_value::Value as V;
            let wrap = |v| common::AnyValue { value: Some(v) };
            wrap(match v {
                Value::Bool(b) => V::BoolValue(*b),
                Value::I64(i) => V::IntValue(*i),
                Value::F64(f) => V::DoubleValue(*f),
                Value::String(s) => V::StringValue(s.to_string()),
                Value::Array(a) => V::ArrayValue(common::ArrayValue {
                    values: match a {
                        Array::Bool(i) => i.iter().map(|b| wrap(V::BoolValue(*b))).collect(),
                        Array::I64(i) => i.iter().map(|x| wrap(V::IntValue(*x))).collect(),
                        Array::F64(i) => i.iter().map(|x| wrap(V::DoubleValue(*x))).collect(),
                        Array::String(i) => i
                            .iter()
                            .map(|s| wrap(V::StringValue(s.to_string())))
                            .collect(),
                        _ => Vec::new(),
                    },
                }),
                other => V::StringValue(other.as_str().into_owned()),
            })
        }
        let scope_spans = spans
            .chunk_by(|a, b| a.instrumentation_scope == b.instrumentation_scope)
            .map(|group| {
                let scope = super::super::attributes::scope_of(&group[0], enc);
                trace::ScopeSpans {
                    scope: Some(common::InstrumentationScope {
                        name: scope.name().to_string(),
                        version: scope.version().unwrap_or_default().to_string(),
                        ..Default::default()
                    }),
                    spans: group
                        .iter()
                        .map(|s| trace::Span {
                            trace_id: s.span_context.trace_id().to_bytes().to_vec(),
                            span_id: s.span_context.span_id().to_bytes().to_vec(),
                            parent_span_id: if s.parent_span_id == SpanId::INVALID {
                                Vec::new()
                            } else {
                                s.parent_span_id.to_bytes().to_vec()
                            },
                            name: s.name.to_string(),
                            kind: kind_number(&s.span_kind),
                            start_time_unix_nano: unix_nanos(s.start_time),
                            end_time_unix_nano: unix_nanos(s.end_time),
                            attributes: kvs(super::super::attributes::unique_attributes(
                                &enc.stamped,
                                &s.attributes,
                            )),
                            dropped_attributes_count: s.dropped_attributes_count,
                            events: s
                                .events
                                .iter()
                                .map(|e| trace::span::Event {
                                    time_unix_nano: unix_nanos(e.timestamp),
                                    name: e.name.to_string(),
                                    attributes: kvs(e
                                        .attributes
                                        .iter()
                                        .map(|kv| (&kv.key, &kv.value))),
                                    dropped_attributes_count: e.dropped_attributes_count,
                                })
                                .collect(),
                            dropped_events_count: s.events.dropped_count,
                            links: s
                                .links
                                .iter()
                                .map(|l| trace::span::Link {
                                    trace_id: l.span_context.trace_id().to_bytes().to_vec(),
                                    span_id: l.span_context.span_id().to_bytes().to_vec(),
                                    trace_state: l.span_context.trace_state().header(),
                                    attributes: kvs(l
                                        .attributes
                                        .iter()
                                        .map(|kv| (&kv.key, &kv.value))),
                                    dropped_attributes_count: l.dropped_attributes_count,
                                    ..Default::default()
                                })
                                .collect(),
                            dropped_links_count: s.links.dropped_count,
                            status: Some(match &s.status {
                                Status::Unset => trace::Status {
                                    message: String::new(),
                                    code: 0,
                                },
                                Status::Ok => trace::Status {
                                    message: String::new(),
                                    code: 1,
                                },
                                Status::Error { description } => trace::Status {
                                    message: description.to_string(),
                                    code: 2,
                                },
                            }),
                            ..Default::default()
                        })
                        .collect(),
                    schema_url: String::new(),
                }
            })
            .collect();
        ExportTraceServiceRequest {
            resource_spans: vec![trace::ResourceSpans {
                resource: Some(Resource {
                    attributes: kvs(enc.resource.iter().map(|kv| (&kv.key, &kv.value))),
                    ..Default::default()
                }),
                scope_spans,
                schema_url: String::new(),
            }],
        }
        .encode_to_vec()
    }

    fn span(i: u64, attrs: Vec<KeyValue>) -> SpanData {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut events = SpanEvents::default();
        if i % 3 == 1 {
            events.events.push(Event::new(
                "exception",
                now,
                vec![
                    KeyValue::new("exception.type", "Boom"),
                    KeyValue::new("exception.message", "x".repeat(300)),
                    KeyValue::new("exception.escaped", "False"),
                ],
                (i % 2) as u32,
            ));
            events.dropped_count = i as u32;
        }
        let mut links = SpanLinks::default();
        if i % 2 == 1 {
            links.links.push(Link::new(
                SpanContext::new(
                    TraceId::from(0x77_u128 + i as u128),
                    SpanId::from(0x88 + i),
                    TraceFlags::SAMPLED,
                    true,
                    TraceState::from_key_value([("k", "v")]).unwrap_or_default(),
                ),
                vec![
                    KeyValue::new("link.n", i as i64),
                    KeyValue::new("link.tags", Value::Array(Array::I64(vec![1, 2]))),
                ],
                i as u32,
            ));
            links.links.push(Link::new(
                SpanContext::new(
                    TraceId::from(0x99_u128),
                    SpanId::from(0xaa),
                    TraceFlags::default(),
                    false,
                    TraceState::default(),
                ),
                Vec::new(),
                0,
            ));
            links.dropped_count = 3;
        }
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(0xabcdef_u128 + i as u128),
                SpanId::from(0x1234 + i),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: if i % 2 == 0 {
                SpanId::INVALID
            } else {
                SpanId::from(7)
            },
            parent_span_is_remote: false,
            span_kind: match i % 5 {
                0 => SpanKind::Internal,
                1 => SpanKind::Server,
                2 => SpanKind::Client,
                3 => SpanKind::Producer,
                _ => SpanKind::Consumer,
            },
            name: format!("span-{i}").into(),
            start_time: now,
            end_time: now + Duration::from_millis(i),
            attributes: attrs,
            dropped_attributes_count: (i % 4) as u32,
            events,
            links,
            status: match i % 3 {
                0 => Status::Unset,
                1 => Status::error("Boom: bad"),
                _ => Status::Ok,
            },
            instrumentation_scope: if i == 5 {
                InstrumentationScope::builder("other")
                    .with_version("1.2")
                    .build()
            } else {
                InstrumentationScope::default()
            },
        }
    }

    #[test]
    fn same_bytes_as_prost() {
        let session: std::sync::Arc<str> = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f".into();
        let spans: Vec<SpanData> = (0..8)
            .map(|i| {
                span(
                    i,
                    vec![
                        KeyValue::new(
                            crate::keys::SESSION_KEY,
                            Value::String(StringValue::from(session.clone())),
                        ),
                        KeyValue::new("honeyhive_event_type", "model"),
                        KeyValue::new("s", "v".repeat(i as usize * 40)),
                        KeyValue::new("i", -42i64 * i as i64),
                        KeyValue::new("big", i64::MAX),
                        KeyValue::new("f", 0.5 * i as f64),
                        KeyValue::new("zero", 0i64),
                        KeyValue::new("no", false),
                        KeyValue::new("empty", ""),
                        KeyValue::new("", "empty key"),
                        KeyValue::new("b", Value::Array(Array::Bool(vec![true, false]))),
                        KeyValue::new("a", Value::Array(Array::I64(vec![1, -2, 3]))),
                        KeyValue::new("d", Value::Array(Array::F64(vec![1.5, f64::NAN]))),
                        KeyValue::new(
                            "t",
                            Value::Array(Array::String(vec!["x".into(), "".into()])),
                        ),
                        KeyValue::new("honeyhive.project", "override"),
                        KeyValue::new("s", "last wins"),
                    ],
                )
            })
            .collect();
        let enc = Encoding {
            resource: vec![
                KeyValue::new("service.name", "svc"),
                KeyValue::new("telemetry.sdk.version", "0.1.0"),
            ],
            scope: InstrumentationScope::builder("honeyhive.7").build(),
            stamped: vec![
                KeyValue::new("honeyhive.project", "p"),
                KeyValue::new("honeyhive.source", "dev"),
            ],
        };
        assert_eq!(encode(&spans, &enc), prost_encode(&spans, &enc));
        assert_eq!(encode(&spans[..1], &enc), prost_encode(&spans[..1], &enc));
        assert_eq!(encode(&[], &enc), prost_encode(&[], &enc));
        let empty = Encoding::default();
        assert_eq!(encode(&spans, &empty), prost_encode(&spans, &empty));
    }
}
