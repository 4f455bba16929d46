//! W3C trace context and baggage: a span's context goes out as `traceparent` plus a
//! `baggage` carrying session_id, project and source; coming in, it becomes a remote parent.

use crate::config::{Config, LinkCarrier};
use crate::error::{Error, Result};
use crate::log::Logger;
use crate::span_ref::SpanRef;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use std::collections::HashMap;
use std::sync::Arc;

/// Baggage keys that name the session and its labels.
const SESSION_KEYS: [&str; 3] = ["session_id", "honeyhive_session_id", "honeyhive.session_id"];

/// Header values for one span: (`traceparent`, `baggage`). `session_name`: the name its
/// session was given by `create_session` without an API call (the reference SDK carries it in
/// baggage).
pub fn inject(c: &Config, span: &SpanRef, session_name: Option<&str>) -> (String, String) {
    let entries = baggage_entries(
        c,
        span.session.as_deref(),
        session_name,
        &span.remote_baggage,
    );
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

/// The `baggage` header of a session without a span (the same entries `inject` writes).
pub fn session_baggage(c: &Config, session: &str, session_name: Option<&str>) -> String {
    let cx = Context::new().with_baggage(baggage_entries(c, Some(session), session_name, &[]));
    let mut carrier: HashMap<String, String> = HashMap::new();
    BaggagePropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove("baggage").unwrap_or_default()
}

/// The `link_carrier` of a tracer's config as the remote parent of its root spans, or `None`
/// (with a warning) when its `traceparent` is missing or invalid. A `session_id` in its
/// baggage that is not a UUID is ignored (warned about too).
pub fn link_parent(carrier: &LinkCarrier, log: &Logger) -> Option<SpanRef> {
    let Some(traceparent) = carrier.traceparent.as_deref() else {
        log.warn("link_carrier has no traceparent: ignored");
        return None;
    };
    match extract(traceparent, carrier.baggage.as_deref()) {
        Ok(extracted) => {
            if !extracted.rejected.is_empty() {
                log.warn(format!(
                    "link_carrier: baggage ignored: {}",
                    extracted.rejected.join(", ")
                ));
            }
            Some(extracted.reference)
        }
        Err(e) => {
            log.warn(format!("link_carrier ignored: {}", e.message));
            None
        }
    }
}

fn baggage_entries(
    c: &Config,
    session: Option<&str>,
    session_name: Option<&str>,
    remote: &[(String, String)],
) -> Vec<KeyValue> {
    let mut entries: Vec<KeyValue> = Vec::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() && !entries.iter().any(|e| e.key.as_str() == k) {
            entries.push(KeyValue::new(k.to_string(), v.to_string()));
        }
    };
    if let Some(s) = session {
        put("session_id", s);
    }
    if let Some(n) = session_name {
        put("session_name", n);
    }
    for (k, v) in remote {
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
    entries
}

/// A remote parent from incoming headers. The session comes from baggage when it is a valid
/// session id; project and source when they are valid labels (`label_value`). What is not
/// valid is left out and listed in `Extracted::rejected`.
pub fn extract(traceparent: &str, baggage: Option<&str>) -> Result<Extracted> {
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
    let mut rejected = Vec::new();
    // The session id is checked as everywhere else (a UUID, written canonical): anything
    // else is ignored, and the caller falls back to the tracer's default session.
    let session = SESSION_KEYS
        .iter()
        .find_map(|k| bag.get(*k).map(|v| (*k, v.as_str())))
        .filter(|(_, v)| !v.trim().is_empty())
        .and_then(|(k, v)| {
            // Bounded before it is parsed: no UUID form is longer than 64 bytes.
            match Some(v)
                .filter(|v| v.len() <= 64)
                .and_then(crate::config::canonical_session_id)
            {
                Some(s) => Some(Arc::<str>::from(s)),
                None => {
                    rejected.push(format!("{k} is not a UUID"));
                    None
                }
            }
        });
    let mut remote_baggage = Vec::new();
    for k in REMOTE_LABELS {
        let Some(v) = bag.get(k) else { continue };
        match label_value(v.as_str()) {
            Ok(v) => remote_baggage.push((k.to_string(), v.to_string())),
            Err(why) => rejected.push(format!("{k} {why}")),
        }
    }
    Ok(Extracted {
        reference: SpanRef {
            context: sc,
            session,
            remote_baggage,
        },
        rejected,
    })
}

/// The labels a continued trace takes from the caller's baggage (other entries are ignored).
const REMOTE_LABELS: [&str; 2] = ["project", "source"];

/// The longest project or source taken from baggage.
const MAX_BAGGAGE_LABEL_BYTES: usize = 256;

/// A project or source from another service, if it is a label this library would write: not
/// empty, at most `MAX_BAGGAGE_LABEL_BYTES`, without control characters (they would forge log
/// lines or break the attributes' readers).
fn label_value(v: &str) -> std::result::Result<&str, &'static str> {
    let v = v.trim();
    if v.is_empty() {
        Err("is empty")
    } else if v.len() > MAX_BAGGAGE_LABEL_BYTES {
        Err("is too long")
    } else if v.chars().any(char::is_control) {
        Err("has control characters")
    } else {
        Ok(v)
    }
}

/// What `extract` made of incoming headers: the remote parent, and the baggage entries it
/// ignored (each with why), for the caller's debug log.
#[derive(Debug)]
pub struct Extracted {
    pub reference: SpanRef,
    pub rejected: Vec<String>,
}
