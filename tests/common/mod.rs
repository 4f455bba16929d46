//! Helpers shared by the Rust integration tests: a tracer pointed at a fresh loopback receiver.
#![allow(dead_code)]

use hh_test_receiver::{Receiver, RecordedRequest, RecordedSpan};
use honeyhive::{Config, Tracer};
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

/// A tracer exporting to `rx` with a short batch delay; `extra` is merged into the config.
pub fn tracer(rx: &Receiver, extra: &str) -> Tracer {
    let mut base: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&format!(
        r#"{{"api_key":"{KEY}","project":"proj","server_url":"{}","schedule_delay_ms":50}}"#,
        rx.url()
    ))
    .unwrap();
    let extra: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(if extra.is_empty() { "{}" } else { extra }).unwrap();
    base.extend(extra);
    Tracer::new(config(&serde_json::Value::Object(base).to_string(), &[])).expect("tracer")
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
