//! Helpers shared by the Rust integration tests: a tracer pointed at a fresh loopback receiver.
#![allow(dead_code)]

use hh_test_receiver::{Receiver, RecordedRequest, RecordedSpan};
#[allow(unused_imports)]
pub use honeyhive::registry::{spans, tracers, AttrValue, Attribute};
use honeyhive::Config;
use std::collections::HashMap;
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(10);
pub const KEY: &str = "hh_test_key_0123456789";

/// A config resolved from `json` with only the given environment (never the process's).
pub fn config(json: &str, env: &[(&str, &str)]) -> Config {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::resolve(Some(json), &move |n| env.get(n).cloned()).expect("valid config")
}

/// A tracer (its registry id, as the C ABI's handle) exporting to `rx` with a short batch
/// delay; `extra` is merged into the config.
pub fn tracer(rx: &Receiver, extra: &str) -> u64 {
    let mut base: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&format!(
        r#"{{"api_key":"{KEY}","project":"proj","server_url":"{}","schedule_delay_ms":50}}"#,
        rx.url()
    ))
    .unwrap();
    let extra: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(if extra.is_empty() { "{}" } else { extra }).unwrap();
    base.extend(extra);
    honeyhive::registry::create_tracer(config(&serde_json::Value::Object(base).to_string(), &[]))
        .expect("tracer")
}

/// The tracer's default session id.
pub fn session_of(t: u64) -> String {
    tracers::session_id(t).expect("a default session")
}

/// The namespace code of an enrichment namespace ("metadata", "outputs", ...).
pub fn ns(name: &str) -> u32 {
    honeyhive::registry::attributes::namespace(name).expect("a namespace")
}

pub fn span_named<'a>(spans: &'a [RecordedSpan], name: &str) -> &'a RecordedSpan {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no span named {name:?} in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

pub fn otlp_requests(rx: &Receiver) -> Vec<RecordedRequest> {
    rx.requests()
        .into_iter()
        .filter(|r| r.otlp_format.is_some())
        .collect()
}

pub fn session_starts(rx: &Receiver) -> Vec<RecordedRequest> {
    rx.requests_to("POST", "/session/start")
}
