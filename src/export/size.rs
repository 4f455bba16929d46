//! What a queued span weighs, for the queue's byte bound.

use opentelemetry::trace::Event;
use opentelemetry::{KeyValue, Value};

/// Rough in-memory size of a queued span, for the byte bound.
pub(crate) fn estimate_size(name: &str, attributes: &[KeyValue], events: &[Event]) -> usize {
    let attrs: usize = attributes
        .iter()
        .map(|kv| {
            kv.key.as_str().len()
                + match &kv.value {
                    Value::String(v) => v.as_str().len(),
                    _ => 8,
                }
                + 48
        })
        .sum();
    let events: usize = events
        .iter()
        .map(|e| e.name.len() + 64 + e.attributes.len() * 64)
        .sum();
    256 + name.len() + attrs + events
}
