//! OTLP trace export decoding (protobuf and both OTLP/JSON styles) into
//! [`RecordedSpan`], plus small helpers (gzip, base64, hex).

use std::io::Read;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use prost::Message;
use serde_json::{Map, Number, Value};

use crate::record::{RecordedEvent, RecordedLink, RecordedSpan};

/// The wire format of a trace export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpFormat {
    Json,
    Protobuf,
}

impl OtlpFormat {
    /// `"json"` or `"protobuf"`.
    pub fn as_str(self) -> &'static str {
        match self {
            OtlpFormat::Json => "json",
            OtlpFormat::Protobuf => "protobuf",
        }
    }

    /// Picks the format from the content type (`application/json`,
    /// `application/x-protobuf`, `application/protobuf`); without a usable
    /// content type, a body starting with `{` is JSON and anything else protobuf.
    pub fn detect(content_type: Option<&str>, body: &[u8]) -> OtlpFormat {
        let ct = content_type
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if ct.ends_with("json") {
            OtlpFormat::Json
        } else if ct.ends_with("protobuf") {
            OtlpFormat::Protobuf
        } else if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            OtlpFormat::Json
        } else {
            OtlpFormat::Protobuf
        }
    }
}

/// Decodes a trace export body in the given format.
pub fn decode_otlp(format: OtlpFormat, body: &[u8]) -> Result<Vec<RecordedSpan>, String> {
    match format {
        OtlpFormat::Protobuf => decode_otlp_protobuf(body),
        OtlpFormat::Json => {
            let v: Value =
                serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
            decode_otlp_json(&v)
        }
    }
}

/// Decodes an `ExportTraceServiceRequest` in protobuf.
pub fn decode_otlp_protobuf(body: &[u8]) -> Result<Vec<RecordedSpan>, String> {
    let req = parse_otlp_protobuf(body)?;
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let resource = rs
            .resource
            .as_ref()
            .map(|r| pb_attrs(&r.attributes))
            .unwrap_or_default();
        for ss in &rs.scope_spans {
            let (scope_name, scope_version) = match &ss.scope {
                Some(s) => (s.name.clone(), non_empty(&s.version)),
                None => (String::new(), None),
            };
            for sp in &ss.spans {
                let (status_code, status_message) = match &sp.status {
                    Some(st) => (status_name(i64::from(st.code)), non_empty(&st.message)),
                    None => (status_name(0), None),
                };
                out.push(RecordedSpan {
                    trace_id: hex(&sp.trace_id),
                    span_id: hex(&sp.span_id),
                    parent_span_id: parent_from_hex(hex(&sp.parent_span_id)),
                    name: sp.name.clone(),
                    kind: kind_name(i64::from(sp.kind)),
                    start_time_unix_nano: sp.start_time_unix_nano,
                    end_time_unix_nano: sp.end_time_unix_nano,
                    attributes: pb_attrs(&sp.attributes),
                    events: sp
                        .events
                        .iter()
                        .map(|e| RecordedEvent {
                            name: e.name.clone(),
                            time_unix_nano: e.time_unix_nano,
                            attributes: pb_attrs(&e.attributes),
                        })
                        .collect(),
                    dropped_events_count: sp.dropped_events_count,
                    links: sp
                        .links
                        .iter()
                        .map(|l| RecordedLink {
                            trace_id: hex(&l.trace_id),
                            span_id: hex(&l.span_id),
                            attributes: pb_attrs(&l.attributes),
                            dropped_attributes_count: l.dropped_attributes_count,
                        })
                        .collect(),
                    dropped_links_count: sp.dropped_links_count,
                    status_code,
                    status_message,
                    resource: resource.clone(),
                    scope_name: scope_name.clone(),
                    scope_version: scope_version.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// Checks an OTLP/protobuf body the way `decode_otlp_protobuf` does (the same errors) and
/// counts its spans, without converting them: the receiver does that when they are first read.
pub(crate) fn count_otlp_protobuf(body: &[u8]) -> Result<usize, String> {
    let req = parse_otlp_protobuf(body)?;
    Ok(req
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum())
}

fn parse_otlp_protobuf(body: &[u8]) -> Result<ExportTraceServiceRequest, String> {
    ExportTraceServiceRequest::decode(body).map_err(|e| format!("invalid OTLP protobuf: {e}"))
}

fn pb_attrs(kvs: &[KeyValue]) -> Map<String, Value> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), pb_value(kv.value.as_ref())))
        .collect()
}

fn pb_value(v: Option<&AnyValue>) -> Value {
    use any_value::Value as V;
    match v.and_then(|v| v.value.as_ref()) {
        None => Value::Null,
        Some(V::StringValue(s)) => Value::String(s.clone()),
        Some(V::BoolValue(b)) => Value::Bool(*b),
        Some(V::IntValue(i)) => Value::from(*i),
        Some(V::DoubleValue(d)) => double(*d),
        Some(V::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(|x| pb_value(Some(x))).collect())
        }
        Some(V::KvlistValue(kv)) => Value::Object(pb_attrs(&kv.values)),
        Some(V::BytesValue(b)) => Value::String(base64_encode(b)),
        // Dictionary references (profiles only) carry no value on their own.
        #[allow(unreachable_patterns)]
        Some(_) => Value::Null,
    }
}

/// Decodes an OTLP/JSON trace export, accepting the Python-SDK style (enum
/// names, `parentSpanId: null`, `intValue` as a string) and the standard style
/// (enum integers, `parentSpanId` empty or absent, `intValue` number or string).
/// Field names may be lowerCamelCase or snake_case.
pub fn decode_otlp_json(v: &Value) -> Result<Vec<RecordedSpan>, String> {
    let root = v
        .as_object()
        .ok_or_else(|| "OTLP/JSON body is not an object".to_string())?;
    // First the structure (resources, scopes, which span goes where), then the spans
    // themselves: in two halves on two threads when there are many (a large export is the
    // receiver's most expensive request, and it has only one thread serving).
    let mut scopes: Vec<JsonScope> = Vec::new();
    let mut jobs: Vec<(usize, &Map<String, Value>)> = Vec::new();
    for rs in arr(field(root, "resourceSpans", "resource_spans")) {
        let Some(rs) = rs.as_object() else {
            return Err("resourceSpans entry is not an object".into());
        };
        let resource = field(rs, "resource", "resource")
            .and_then(Value::as_object)
            .map(|r| json_attrs(field(r, "attributes", "attributes")))
            .unwrap_or_default();
        let scope_lists = field(rs, "scopeSpans", "scope_spans").or_else(|| {
            field(
                rs,
                "instrumentationLibrarySpans",
                "instrumentation_library_spans",
            )
        });
        for ss in arr(scope_lists) {
            let Some(ss) = ss.as_object() else {
                return Err("scopeSpans entry is not an object".into());
            };
            let scope = field(ss, "scope", "scope")
                .or_else(|| field(ss, "instrumentationLibrary", "instrumentation_library"))
                .and_then(Value::as_object);
            scopes.push(JsonScope {
                resource: resource.clone(),
                name: scope
                    .and_then(|s| s.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                version: scope
                    .and_then(|s| s.get("version"))
                    .and_then(Value::as_str)
                    .and_then(non_empty),
            });
            for sp in arr(field(ss, "spans", "spans")) {
                let Some(sp) = sp.as_object() else {
                    return Err("span is not an object".into());
                };
                jobs.push((scopes.len() - 1, sp));
            }
        }
    }
    let decode = |jobs: &[(usize, &Map<String, Value>)]| -> Vec<RecordedSpan> {
        jobs.iter()
            .map(|(scope, sp)| json_span(sp, &scopes[*scope]))
            .collect()
    };
    if jobs.len() < PARALLEL_DECODE_MIN_SPANS {
        return Ok(decode(&jobs));
    }
    let (first, second) = jobs.split_at(jobs.len() / 2);
    std::thread::scope(|s| {
        let other = std::thread::Builder::new()
            .name("hh-receiver-decode".into())
            .spawn_scoped(s, || decode(second));
        let mut out = decode(first);
        match other {
            Ok(h) => out.extend(h.join().unwrap_or_else(|_| decode(second))),
            Err(_) => out.extend(decode(second)),
        }
        Ok(out)
    })
}

/// Checks an OTLP/JSON body the way `decode_otlp_json` does (the same errors) and counts its
/// spans, without decoding them: the receiver decodes a JSON export's spans (from the
/// request's `body_json`) only when they are first read.
pub(crate) fn count_otlp_json(v: &Value) -> Result<usize, String> {
    let root = v
        .as_object()
        .ok_or_else(|| "OTLP/JSON body is not an object".to_string())?;
    let mut n = 0;
    for rs in arr(field(root, "resourceSpans", "resource_spans")) {
        let Some(rs) = rs.as_object() else {
            return Err("resourceSpans entry is not an object".into());
        };
        let scope_lists = field(rs, "scopeSpans", "scope_spans").or_else(|| {
            field(
                rs,
                "instrumentationLibrarySpans",
                "instrumentation_library_spans",
            )
        });
        for ss in arr(scope_lists) {
            let Some(ss) = ss.as_object() else {
                return Err("scopeSpans entry is not an object".into());
            };
            for sp in arr(field(ss, "spans", "spans")) {
                if !sp.is_object() {
                    return Err("span is not an object".into());
                }
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Spans in one request from which decoding is split over two threads.
const PARALLEL_DECODE_MIN_SPANS: usize = 128;

/// What the spans of one scope share.
struct JsonScope {
    resource: Map<String, Value>,
    name: String,
    version: Option<String>,
}

fn json_span(sp: &Map<String, Value>, scope: &JsonScope) -> RecordedSpan {
    let status = field(sp, "status", "status").and_then(Value::as_object);
    let status_code = status
        .and_then(|s| s.get("code"))
        .map(json_status)
        .unwrap_or_else(|| status_name(0));
    let status_message = status
        .and_then(|s| s.get("message"))
        .and_then(Value::as_str)
        .and_then(non_empty);
    RecordedSpan {
        trace_id: json_id(field(sp, "traceId", "trace_id"), 16),
        span_id: json_id(field(sp, "spanId", "span_id"), 8),
        parent_span_id: parent_from_hex(json_id(field(sp, "parentSpanId", "parent_span_id"), 8)),
        name: field(sp, "name", "name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        kind: field(sp, "kind", "kind")
            .map(json_kind)
            .unwrap_or_else(|| kind_name(0)),
        start_time_unix_nano: json_u64(field(sp, "startTimeUnixNano", "start_time_unix_nano")),
        end_time_unix_nano: json_u64(field(sp, "endTimeUnixNano", "end_time_unix_nano")),
        attributes: json_attrs(field(sp, "attributes", "attributes")),
        events: arr(field(sp, "events", "events"))
            .iter()
            .filter_map(Value::as_object)
            .map(|e| RecordedEvent {
                name: e
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                time_unix_nano: json_u64(field(e, "timeUnixNano", "time_unix_nano")),
                attributes: json_attrs(field(e, "attributes", "attributes")),
            })
            .collect(),
        dropped_events_count: json_u64(field(sp, "droppedEventsCount", "dropped_events_count"))
            as u32,
        links: arr(field(sp, "links", "links"))
            .iter()
            .filter_map(Value::as_object)
            .map(|l| RecordedLink {
                trace_id: json_id(field(l, "traceId", "trace_id"), 16),
                span_id: json_id(field(l, "spanId", "span_id"), 8),
                attributes: json_attrs(field(l, "attributes", "attributes")),
                dropped_attributes_count: json_u64(field(
                    l,
                    "droppedAttributesCount",
                    "dropped_attributes_count",
                )) as u32,
            })
            .collect(),
        dropped_links_count: json_u64(field(sp, "droppedLinksCount", "dropped_links_count")) as u32,
        status_code,
        status_message,
        resource: scope.resource.clone(),
        scope_name: scope.name.clone(),
        scope_version: scope.version.clone(),
    }
}

fn field<'a>(o: &'a Map<String, Value>, camel: &str, snake: &str) -> Option<&'a Value> {
    o.get(camel)
        .or_else(|| o.get(snake))
        .filter(|v| !v.is_null())
}

fn arr(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn json_attrs(v: Option<&Value>) -> Map<String, Value> {
    arr(v)
        .iter()
        .filter_map(Value::as_object)
        .map(|kv| {
            let key = kv
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            (key, json_any_value(kv.get("value")))
        })
        .collect()
}

fn json_any_value(v: Option<&Value>) -> Value {
    let Some(o) = v.and_then(Value::as_object) else {
        return Value::Null;
    };
    if let Some(s) = field(o, "stringValue", "string_value") {
        return match s {
            Value::String(_) => s.clone(),
            other => Value::String(other.to_string()),
        };
    }
    if let Some(b) = field(o, "boolValue", "bool_value") {
        return match b {
            Value::Bool(_) => b.clone(),
            Value::String(s) => Value::Bool(s.eq_ignore_ascii_case("true")),
            _ => Value::Null,
        };
    }
    if let Some(i) = field(o, "intValue", "int_value") {
        return json_int(i);
    }
    if let Some(d) = field(o, "doubleValue", "double_value") {
        return match d {
            Value::Number(n) => n.as_f64().map(double).unwrap_or(Value::Null),
            Value::String(s) => match parse_double(s) {
                Some(x) => double(x),
                None => Value::String(s.clone()),
            },
            _ => Value::Null,
        };
    }
    if let Some(a) = field(o, "arrayValue", "array_value") {
        let values = a.as_object().map(|a| arr(a.get("values"))).unwrap_or(&[]);
        return Value::Array(values.iter().map(|x| json_any_value(Some(x))).collect());
    }
    if let Some(kv) = field(o, "kvlistValue", "kvlist_value") {
        return Value::Object(json_attrs(kv.as_object().and_then(|k| k.get("values"))));
    }
    if let Some(b) = field(o, "bytesValue", "bytes_value") {
        return match b {
            Value::String(_) => b.clone(),
            other => Value::String(other.to_string()),
        };
    }
    Value::Null
}

fn json_int(v: &Value) -> Value {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(f) = n.as_f64() {
                // An integer written as 1.0: keep it an integer.
                Value::from(f as i64)
            } else {
                Value::Null
            }
        }
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                Value::from(i)
            } else if let Ok(u) = t.parse::<u64>() {
                Value::from(u)
            } else {
                Value::String(s.clone())
            }
        }
        _ => Value::Null,
    }
}

fn parse_double(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok(),
    }
}

/// A JSON float for finite values (`1.0` stays a float), else a string.
fn double(x: f64) -> Value {
    match Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None => Value::String(x.to_string()),
    }
}

fn json_u64(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().map(|f| f as u64))
            .unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse::<u64>().unwrap_or(0),
        _ => 0,
    }
}

/// Ids: hex (the OTLP/JSON rule) or, leniently, base64 (the generic proto3
/// JSON rule); anything else is kept as given, lower-cased.
fn json_id(v: Option<&Value>, len: usize) -> String {
    let Some(s) = v.and_then(Value::as_str) else {
        return String::new();
    };
    let s = s.trim();
    if s.len() == len * 2 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return s.to_ascii_lowercase();
    }
    if let Some(bytes) = base64_decode(s) {
        if bytes.len() == len {
            return hex(&bytes);
        }
    }
    s.to_ascii_lowercase()
}

fn parent_from_hex(h: String) -> Option<String> {
    if h.is_empty() || h.bytes().all(|b| b == b'0') {
        None
    } else {
        Some(h)
    }
}

fn json_kind(v: &Value) -> String {
    match v {
        Value::Number(n) => kind_name(n.as_i64().unwrap_or(0)),
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                kind_name(i)
            } else if t.to_ascii_uppercase().starts_with("SPAN_KIND_") {
                t.to_ascii_uppercase()
            } else {
                format!("SPAN_KIND_{}", t.to_ascii_uppercase())
            }
        }
        _ => kind_name(0),
    }
}

fn json_status(v: &Value) -> String {
    match v {
        Value::Number(n) => status_name(n.as_i64().unwrap_or(0)),
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                status_name(i)
            } else if t.to_ascii_uppercase().starts_with("STATUS_CODE_") {
                t.to_ascii_uppercase()
            } else {
                format!("STATUS_CODE_{}", t.to_ascii_uppercase())
            }
        }
        _ => status_name(0),
    }
}

fn kind_name(k: i64) -> String {
    match k {
        0 => "SPAN_KIND_UNSPECIFIED".into(),
        1 => "SPAN_KIND_INTERNAL".into(),
        2 => "SPAN_KIND_SERVER".into(),
        3 => "SPAN_KIND_CLIENT".into(),
        4 => "SPAN_KIND_PRODUCER".into(),
        5 => "SPAN_KIND_CONSUMER".into(),
        other => format!("SPAN_KIND_UNKNOWN_{other}"),
    }
}

fn status_name(c: i64) -> String {
    match c {
        0 => "STATUS_CODE_UNSET".into(),
        1 => "STATUS_CODE_OK".into(),
        2 => "STATUS_CODE_ERROR".into(),
        other => format!("STATUS_CODE_UNKNOWN_{other}"),
    }
}

fn non_empty(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_string())
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Standard or URL-safe base64, padding optional. `None` if invalid.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    if bits >= 6 {
        return None;
    }
    Some(out)
}

/// Decompresses a gzip body.
pub fn gunzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    // `bufread`: the body is already in memory, no copy through a `BufReader`.
    flate2::bufread::MultiGzDecoder::new(body)
        .read_to_end(&mut out)
        .map_err(|e| format!("invalid gzip body: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, InstrumentationScope};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
    use serde_json::json;

    fn kv(key: &str, v: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    #[test]
    fn protobuf_decodes_to_normalized_shape() {
        use any_value::Value as V;
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", V::StringValue("svc".into()))],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "honeyhive.1".into(),
                        version: String::new(),
                        ..Default::default()
                    }),
                    spans: vec![Span {
                        trace_id: vec![0xab; 16],
                        span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
                        parent_span_id: vec![0; 8],
                        name: "root".into(),
                        kind: 2,
                        start_time_unix_nano: 10,
                        end_time_unix_nano: 20,
                        attributes: vec![
                            kv("i", V::IntValue(1)),
                            kv("d", V::DoubleValue(1.0)),
                            kv("b", V::BoolValue(true)),
                            kv("bytes", V::BytesValue(vec![0xff, 0x00])),
                            kv(
                                "a",
                                V::ArrayValue(ArrayValue {
                                    values: vec![AnyValue {
                                        value: Some(V::IntValue(7)),
                                    }],
                                }),
                            ),
                        ],
                        events: vec![span::Event {
                            time_unix_nano: 15,
                            name: "exception".into(),
                            attributes: vec![kv("m", V::StringValue("boom".into()))],
                            ..Default::default()
                        }],
                        status: Some(Status {
                            message: "bad".into(),
                            code: 2,
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let spans = decode_otlp_protobuf(&req.encode_to_vec()).expect("decodes");
        assert_eq!(spans.len(), 1);
        assert_eq!(count_otlp_protobuf(&req.encode_to_vec()), Ok(1));
        let s = &spans[0];
        assert_eq!(s.trace_id, "ab".repeat(16));
        assert_eq!(s.span_id, "0102030405060708");
        assert_eq!(s.parent_span_id, None);
        assert_eq!(s.kind, "SPAN_KIND_SERVER");
        assert_eq!(s.status_code, "STATUS_CODE_ERROR");
        assert_eq!(s.status_message.as_deref(), Some("bad"));
        assert_eq!(s.attr_i64("i"), Some(1));
        assert_eq!(s.attr("d").and_then(Value::as_i64), None);
        assert_eq!(s.attr("d").and_then(Value::as_f64), Some(1.0));
        assert_eq!(s.attr_bool("b"), Some(true));
        assert_eq!(s.attr_str("bytes"), Some("/wA="));
        assert_eq!(s.attr("a"), Some(&json!([7])));
        assert_eq!(s.events[0].name, "exception");
        assert_eq!(s.events[0].attributes["m"], json!("boom"));
        assert_eq!(s.resource["service.name"], json!("svc"));
        assert_eq!(s.scope_name, "honeyhive.1");
        assert_eq!(s.scope_version, None);
        // Floats serialize as floats.
        let text = serde_json::to_string(s).expect("serializes");
        assert!(text.contains("\"d\":1.0"), "{text}");
    }

    #[test]
    fn large_json_exports_decode_in_order() {
        // Enough spans for the two-thread path, in two scopes of two resources.
        let spans = |from: usize, n: usize| -> Vec<Value> {
            (from..from + n)
                .map(|i| {
                    json!({"traceId": format!("{:032x}", i + 1), "spanId": format!("{:016x}", i + 1),
                           "name": format!("s{i}"), "kind": 1,
                           "attributes": [{"key": "i", "value": {"intValue": i.to_string()}}]})
                })
                .collect()
        };
        let body = json!({"resourceSpans": [
            {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]},
             "scopeSpans": [{"scope": {"name": "one"}, "spans": spans(0, 100)},
                            {"scope": {"name": "two", "version": "2"}, "spans": spans(100, 60)}]},
            {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "b"}}]},
             "scopeSpans": [{"scope": {"name": "three"}, "spans": spans(160, 140)}]}]});
        let out = decode_otlp_json(&body).unwrap();
        assert_eq!(out.len(), 300);
        for (i, s) in out.iter().enumerate() {
            assert_eq!(s.name, format!("s{i}"));
            assert_eq!(s.attr_i64("i"), Some(i as i64));
            let (scope, service) = match i {
                0..=99 => ("one", "a"),
                100..=159 => ("two", "a"),
                _ => ("three", "b"),
            };
            assert_eq!(s.scope_name, scope);
            assert_eq!(s.resource["service.name"], service);
            assert_eq!(s.scope_version.as_deref(), (scope == "two").then_some("2"));
        }
        assert_eq!(count_otlp_json(&body), Ok(300));
        for bad in [
            json!({"resourceSpans": [{"scopeSpans": [{"spans": [1]}]}]}),
            json!({"resourceSpans": [{"scopeSpans": [3]}]}),
            json!({"resourceSpans": ["x"]}),
            json!([1]),
        ] {
            assert_eq!(count_otlp_json(&bad).err(), decode_otlp_json(&bad).err());
            assert!(count_otlp_json(&bad).is_err());
        }
        for odd in [
            json!({}),
            json!({"resourceSpans": null}),
            json!({"resource_spans": [{}]}),
        ] {
            assert_eq!(
                count_otlp_json(&odd),
                Ok(decode_otlp_json(&odd).unwrap().len())
            );
        }
    }

    #[test]
    fn protobuf_count_agrees_with_decoding() {
        let scope = |n: u8| ScopeSpans {
            spans: (0..n)
                .map(|i| Span {
                    name: format!("s{i}"),
                    span_id: vec![i; 8],
                    attributes: vec![kv("k", any_value::Value::StringValue("v".into()))],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let body = ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    scope_spans: vec![scope(2), scope(0), scope(3)],
                    ..Default::default()
                },
                ResourceSpans::default(),
                ResourceSpans {
                    scope_spans: vec![scope(1)],
                    ..Default::default()
                },
            ],
        }
        .encode_to_vec();
        assert_eq!(count_otlp_protobuf(&body), Ok(6));
        // Every prefix and some damaged copies: the same count, or the same error.
        let mut damaged: Vec<Vec<u8>> = (0..body.len()).map(|n| body[..n].to_vec()).collect();
        for i in 0..body.len() {
            let mut b = body.clone();
            b[i] ^= 0x80;
            damaged.push(b);
        }
        damaged.push(b"\xff\xff\xff".to_vec());
        for b in &damaged {
            let decoded = decode_otlp_protobuf(b).map(|s| s.len());
            assert_eq!(count_otlp_protobuf(b), decoded, "{b:?}");
        }
    }

    #[test]
    fn standard_json_style() {
        let body = json!({"resourceSpans": [{
            "resource": {},
            "scopeSpans": [{
                "scope": {"name": "lib", "version": "1.2"},
                "spans": [{
                    "traceId": "0AF7651916CD43DD8448EB211C80319C",
                    "spanId": "b7ad6b7169203331",
                    "parentSpanId": "",
                    "name": "x", "kind": 3,
                    "startTimeUnixNano": 5, "endTimeUnixNano": "6",
                    "attributes": [
                        {"key": "n", "value": {"intValue": 42}},
                        {"key": "s", "value": {"intValue": "-3"}},
                        {"key": "f", "value": {"doubleValue": 2}},
                        {"key": "nan", "value": {"doubleValue": "NaN"}},
                        {"key": "kv", "value": {"kvlistValue": {"values": [
                            {"key": "k", "value": {"boolValue": false}}]}}},
                        {"key": "e", "value": {}}
                    ],
                    "status": {"code": 1}
                }, {
                    "traceId": "0af7651916cd43dd8448eb211c80319c",
                    "spanId": "00f067aa0ba902b7",
                    "parentSpanId": "b7ad6b7169203331",
                    "name": "child"
                }]
            }]
        }]});
        let spans = decode_otlp_json(&body).expect("decodes");
        assert_eq!(spans.len(), 2);
        let s = &spans[0];
        assert_eq!(s.trace_id, "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(s.parent_span_id, None);
        assert_eq!(s.kind, "SPAN_KIND_CLIENT");
        assert_eq!((s.start_time_unix_nano, s.end_time_unix_nano), (5, 6));
        assert_eq!(s.attr_i64("n"), Some(42));
        assert_eq!(s.attr_i64("s"), Some(-3));
        assert_eq!(s.attr("f").and_then(Value::as_i64), None);
        assert_eq!(s.attr("f").and_then(Value::as_f64), Some(2.0));
        assert_eq!(s.attr_str("nan"), Some("NaN"));
        assert_eq!(s.attr("kv"), Some(&json!({"k": false})));
        assert_eq!(s.attr("e"), Some(&Value::Null));
        assert_eq!(s.status_code, "STATUS_CODE_OK");
        assert_eq!(s.scope_version.as_deref(), Some("1.2"));
        let c = &spans[1];
        assert_eq!(c.parent_span_id.as_deref(), Some("b7ad6b7169203331"));
        assert_eq!(c.kind, "SPAN_KIND_UNSPECIFIED");
        assert_eq!(c.status_code, "STATUS_CODE_UNSET");
    }

    #[test]
    fn base64_ids_and_roundtrip() {
        let raw = [0x12u8, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0];
        let b = base64_encode(&raw);
        assert_eq!(base64_decode(&b).as_deref(), Some(&raw[..]));
        assert_eq!(json_id(Some(&json!(b)), 8), "123456789abcdef0");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"abc"), "YWJj");
        assert_eq!(base64_decode("YQ").as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn format_detection() {
        assert_eq!(
            OtlpFormat::detect(Some("application/json; charset=utf-8"), b""),
            OtlpFormat::Json
        );
        assert_eq!(
            OtlpFormat::detect(Some("application/x-protobuf"), b"{"),
            OtlpFormat::Protobuf
        );
        assert_eq!(OtlpFormat::detect(None, b"  {}"), OtlpFormat::Json);
        assert_eq!(OtlpFormat::detect(None, b"\x0a\x00"), OtlpFormat::Protobuf);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_otlp(OtlpFormat::Protobuf, b"\xff\xff\xff").is_err());
        assert!(decode_otlp(OtlpFormat::Json, b"{nope").is_err());
        assert!(decode_otlp_json(&json!([1])).is_err());
        assert_eq!(decode_otlp_json(&json!({})).map(|v| v.len()), Ok(0));
        assert!(
            decode_otlp_json(&json!({"resourceSpans": [{"scopeSpans": [{"spans": [
            {"traceId": 5, "attributes": [{"key": "k"}], "events": [1], "status": "x"}]}]}]}))
            .is_ok()
        );
    }
}
