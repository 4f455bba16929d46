//! OTLP/protobuf encoding with the `opentelemetry-proto` message types.

use super::json::{kind_number, nanos};
use opentelemetry::trace::Status;
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as trace;
use opentelemetry_sdk::trace::SpanData;
use prost::Message;

/// Encodes one export request: one resource, spans grouped by instrumentation scope.
pub fn encode(spans: &[SpanData], resource: &[KeyValue]) -> Vec<u8> {
    let scope_spans: Vec<trace::ScopeSpans> = spans
        .chunk_by(|a, b| a.instrumentation_scope == b.instrumentation_scope)
        .map(|group| {
            let scope = &group[0].instrumentation_scope;
            trace::ScopeSpans {
                scope: Some(common::InstrumentationScope {
                    name: scope.name().to_string(),
                    version: scope.version().unwrap_or_default().to_string(),
                    ..Default::default()
                }),
                spans: group.iter().map(span).collect(),
                schema_url: String::new(),
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![trace::ResourceSpans {
            resource: Some(Resource {
                attributes: key_values(resource.iter()),
                ..Default::default()
            }),
            scope_spans,
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

fn span(s: &SpanData) -> trace::Span {
    let parent = if s.parent_span_id == opentelemetry::trace::SpanId::INVALID {
        Vec::new()
    } else {
        s.parent_span_id.to_bytes().to_vec()
    };
    let (code, message) = match &s.status {
        Status::Unset => (0, String::new()),
        Status::Ok => (1, String::new()),
        Status::Error { description } => (2, description.to_string()),
    };
    trace::Span {
        trace_id: s.span_context.trace_id().to_bytes().to_vec(),
        span_id: s.span_context.span_id().to_bytes().to_vec(),
        parent_span_id: parent,
        name: s.name.to_string(),
        kind: kind_number(&s.span_kind),
        start_time_unix_nano: nanos(s.start_time),
        end_time_unix_nano: nanos(s.end_time),
        attributes: key_values(super::unique_attributes(&s.attributes)),
        dropped_attributes_count: s.dropped_attributes_count,
        events: s
            .events
            .iter()
            .map(|e| trace::span::Event {
                time_unix_nano: nanos(e.timestamp),
                name: e.name.to_string(),
                attributes: key_values(e.attributes.iter()),
                dropped_attributes_count: e.dropped_attributes_count,
            })
            .collect(),
        status: Some(trace::Status { message, code }),
        ..Default::default()
    }
}

fn key_values<'a>(attrs: impl IntoIterator<Item = &'a KeyValue>) -> Vec<common::KeyValue> {
    attrs
        .into_iter()
        .map(|kv| common::KeyValue {
            key: kv.key.to_string(),
            value: Some(any_value(&kv.value)),
            ..Default::default()
        })
        .collect()
}

fn any_value(v: &Value) -> common::AnyValue {
    use common::any_value::Value as V;
    let value = match v {
        Value::Bool(b) => V::BoolValue(*b),
        Value::I64(i) => V::IntValue(*i),
        Value::F64(f) => V::DoubleValue(*f),
        Value::String(s) => V::StringValue(s.to_string()),
        Value::Array(a) => V::ArrayValue(common::ArrayValue {
            values: match a {
                Array::Bool(items) => items.iter().map(|b| wrap(V::BoolValue(*b))).collect(),
                Array::I64(items) => items.iter().map(|i| wrap(V::IntValue(*i))).collect(),
                Array::F64(items) => items.iter().map(|f| wrap(V::DoubleValue(*f))).collect(),
                Array::String(items) => items
                    .iter()
                    .map(|s| wrap(V::StringValue(s.to_string())))
                    .collect(),
                _ => Vec::new(),
            },
        }),
        other => V::StringValue(other.as_str().into_owned()),
    };
    wrap(value)
}

fn wrap(v: common::any_value::Value) -> common::AnyValue {
    common::AnyValue { value: Some(v) }
}
