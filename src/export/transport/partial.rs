//! OTLP partial success: a 2xx answer to a trace export may say that the server rejected some
//! of the spans (`ExportTraceServiceResponse.partial_success`). Those spans are lost (the
//! client must not retry them) and are counted and reported as such.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use serde_json::Value;

/// What a server said it did not accept.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PartialSuccess {
    pub rejected_spans: u64,
    /// The server's message, raw (escape before printing).
    pub error_message: Vec<u8>,
}

/// Decodes the partial success of an export answer (possibly a truncated prefix of it).
/// `content_type` is the answer's, or failing that the request's. `None`: a full success (no
/// `partial_success`, or one with nothing in it), or a body that is not an export answer.
pub fn decode(content_type: &str, body: &[u8]) -> Option<PartialSuccess> {
    if body.is_empty() {
        return None;
    }
    let ct = content_type.to_ascii_lowercase();
    let found = if ct.contains("protobuf") {
        from_protobuf(body)
    } else if ct.contains("json") {
        from_json(body)
    } else {
        // An answer without a usable content type: JSON if it looks like it.
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => from_json(body),
            _ => from_protobuf(body),
        }
    }?;
    (found.rejected_spans > 0 || !found.error_message.is_empty()).then_some(found)
}

fn from_protobuf(body: &[u8]) -> Option<PartialSuccess> {
    let p = ExportTraceServiceResponse::decode(body)
        .ok()?
        .partial_success?;
    Some(PartialSuccess {
        rejected_spans: u64::try_from(p.rejected_spans).unwrap_or(0),
        error_message: p.error_message.into_bytes(),
    })
}

/// OTLP/JSON uses lowerCamelCase names and int64 as a decimal string; the protobuf JSON
/// mapping also allows the original snake_case names and plain numbers.
fn from_json(body: &[u8]) -> Option<PartialSuccess> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let p = field(&v, "partialSuccess", "partial_success")?;
    let rejected = match field(p, "rejectedSpans", "rejected_spans") {
        Some(Value::String(s)) => s.trim().parse::<u64>().unwrap_or(0),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        _ => 0,
    };
    let message = match field(p, "errorMessage", "error_message") {
        Some(Value::String(s)) => s.clone().into_bytes(),
        _ => Vec::new(),
    };
    Some(PartialSuccess {
        rejected_spans: rejected,
        error_message: message,
    })
}

fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;

    const JSON: &str = "application/json";

    #[test]
    fn json_forms() {
        let p = decode(
            JSON,
            br#"{"partialSuccess":{"rejectedSpans":"5","errorMessage":"quota"}}"#,
        )
        .expect("partial");
        assert_eq!(p.rejected_spans, 5);
        assert_eq!(p.error_message, b"quota");
        let p = decode(JSON, br#"{"partial_success":{"rejected_spans":3}}"#).expect("partial");
        assert_eq!(p.rejected_spans, 3);
        assert!(p.error_message.is_empty());
        // A warning without rejections is still reported.
        let p =
            decode(JSON, br#"{"partialSuccess":{"errorMessage":"deprecated"}}"#).expect("partial");
        assert_eq!(p.rejected_spans, 0);
        assert_eq!(p.error_message, b"deprecated");
    }

    #[test]
    fn full_success_and_junk_are_none() {
        for body in [
            &b""[..],
            b"  ",
            b"{}",
            br#"{"partialSuccess":{}}"#,
            br#"{"partialSuccess":{"rejectedSpans":"0"}}"#,
            br#"{"partialSuccess":null}"#,
            b"{\"partialSuccess\":{\"rejectedSpans\":\"5\"", // truncated
            b"not json",
            br#"{"partialSuccess":{"rejectedSpans":"-5"}}"#,
            br#"{"partialSuccess":{"rejectedSpans":-5}}"#,
            br#"{"partialSuccess":{"rejectedSpans":"lots"}}"#,
            br#"{"partialSuccess":{"rejectedSpans":1.5}}"#,
        ] {
            assert_eq!(
                decode(JSON, body),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn huge_counts_are_kept_for_the_caller_to_clamp() {
        let p = decode(
            JSON,
            br#"{"partialSuccess":{"rejectedSpans":"18446744073709551615"}}"#,
        )
        .expect("partial");
        assert_eq!(p.rejected_spans, u64::MAX);
    }

    #[test]
    fn protobuf() {
        let body = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 7,
                error_message: "too old".into(),
            }),
        }
        .encode_to_vec();
        let p = decode("application/x-protobuf", &body).expect("partial");
        assert_eq!(p.rejected_spans, 7);
        assert_eq!(p.error_message, b"too old");
        // Without a content type, a body that is not JSON is taken for protobuf.
        assert_eq!(decode("", &body), Some(p));
        let negative = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: -1,
                error_message: String::new(),
            }),
        }
        .encode_to_vec();
        assert_eq!(decode("application/x-protobuf", &negative), None);
        assert_eq!(decode("application/x-protobuf", b"\xff\xff\xff"), None);
        // An empty protobuf answer is a full success.
        assert_eq!(decode("application/x-protobuf", b""), None);
    }
}
