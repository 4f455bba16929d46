//! W3C trace context and baggage (spec 5): a span's context goes out as `traceparent` plus a
//! `baggage` carrying session_id, project and source; coming in, it becomes a remote parent.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::span::SpanRef;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use std::collections::HashMap;
use std::sync::Arc;

/// Baggage keys that name the session and its labels.
const SESSION_KEYS: [&str; 3] = ["session_id", "honeyhive_session_id", "honeyhive.session_id"];

/// Header values for one span: (`traceparent`, `baggage`).
pub fn inject(c: &Config, span: &SpanRef) -> (String, String) {
    let mut entries: Vec<KeyValue> = Vec::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() && !entries.iter().any(|e| e.key.as_str() == k) {
            entries.push(KeyValue::new(k.to_string(), v.to_string()));
        }
    };
    if let Some(s) = &span.session {
        put("session_id", s);
    }
    for (k, v) in &span.remote_baggage {
        put(k, v);
    }
    if let Some(p) = &c.project {
        put("project", p);
    }
    put("source", &c.source);
    if c.is_evaluation {
        for (k, v) in [
            ("run_id", &c.run_id),
            ("dataset_id", &c.dataset_id),
            ("datapoint_id", &c.datapoint_id),
        ] {
            if let Some(v) = v {
                put(k, v);
            }
        }
    }
    let cx = Context::new()
        .with_remote_span_context(span.context.clone())
        .with_baggage(entries);
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    BaggagePropagator::new().inject_context(&cx, &mut carrier);
    (
        carrier.remove("traceparent").unwrap_or_default(),
        carrier.remove("baggage").unwrap_or_default(),
    )
}

/// A remote parent from incoming headers. The session comes from baggage when present.
pub fn extract(traceparent: &str, baggage: Option<&str>) -> Result<SpanRef> {
    if traceparent.len() > 512 || baggage.is_some_and(|b| b.len() > 8192) {
        return Err(Error::limit("traceparent or baggage header too long"));
    }
    let mut carrier: HashMap<String, String> = HashMap::new();
    carrier.insert("traceparent".into(), traceparent.trim().to_string());
    if let Some(b) = baggage {
        carrier.insert("baggage".into(), b.to_string());
    }
    let cx = TraceContextPropagator::new().extract(&carrier);
    let cx = BaggagePropagator::new().extract_with_context(&cx, &carrier);
    let sc = cx.span().span_context().clone();
    if !sc.is_valid() {
        return Err(Error::arg(
            "traceparent is not a valid W3C traceparent header",
        ));
    }
    let bag = cx.baggage();
    let session = SESSION_KEYS
        .iter()
        .find_map(|k| bag.get(*k))
        .map(|v| v.as_str().trim().to_string())
        .filter(|s| !s.is_empty())
        .map(|s| crate::config::canonical_session_id(&s).unwrap_or(s))
        .map(Arc::<str>::from);
    let remote_baggage = ["project", "source"]
        .iter()
        .filter_map(|k| bag.get(*k).map(|v| (k.to_string(), v.as_str().to_string())))
        .collect();
    Ok(SpanRef {
        context: sc,
        session,
        remote_baggage,
    })
}
