//! What a queued span weighs, for the queue's byte bound.

use opentelemetry::trace::Event;
use opentelemetry::KeyValue;

/// What a queued span holds in memory, every byte of it (see `crate::span_size`).
pub(crate) fn estimate_size(name: &str, attributes: &[KeyValue], events: &[Event]) -> usize {
    crate::span_size::span_bytes(name, attributes, events, &[])
}
