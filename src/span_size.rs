//! What a span weighs while it waits in the export queue: every byte it holds (its name, each
//! attribute's key and value, array elements one by one, events with their attributes, links),
//! so that `max_queue_bytes` bounds the memory the queue really holds.

use opentelemetry::trace::{Event, Link};
use opentelemetry::{Array, KeyValue, Value};
use std::mem::size_of;

/// The fixed part of a span in the queue (its `SpanData`, ids, times, status) and the export
/// batch's per-span overhead.
const SPAN_OVERHEAD: usize = 256;

/// The bytes one value holds besides its `Value` itself.
#[inline]
fn value_heap_bytes(v: &Value) -> usize {
    match v {
        Value::String(s) => s.as_str().len(),
        Value::Array(a) => match a {
            Array::Bool(v) => v.len() * size_of::<bool>(),
            Array::I64(v) => v.len() * size_of::<i64>(),
            Array::F64(v) => v.len() * size_of::<f64>(),
            Array::String(v) => v
                .iter()
                .map(|s| size_of::<opentelemetry::StringValue>() + s.as_str().len())
                .sum(),
            // A future element type: counted as its debug text would be (never undercounted
            // to nothing).
            _ => 64,
        },
        _ => 0,
    }
}

/// The bytes one attribute holds: the `KeyValue`, its key's text and its value's contents.
#[inline]
pub(crate) fn attribute_bytes(kv: &KeyValue) -> usize {
    size_of::<KeyValue>() + kv.key.as_str().len() + value_heap_bytes(&kv.value)
}

fn attributes_bytes(attributes: &[KeyValue]) -> usize {
    attributes.iter().map(attribute_bytes).sum()
}

/// What a span with these parts weighs in the queue.
pub(crate) fn span_bytes(
    name: &str,
    attributes: &[KeyValue],
    events: &[Event],
    links: &[Link],
) -> usize {
    let events: usize = events
        .iter()
        .map(|e| size_of::<Event>() + e.name.len() + attributes_bytes(&e.attributes))
        .sum();
    let links: usize = links
        .iter()
        .map(|l| size_of::<Link>() + attributes_bytes(&l.attributes))
        .sum();
    SPAN_OVERHEAD + name.len() + attributes_bytes(attributes) + events + links
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::StringValue;

    #[test]
    fn arrays_count_every_element() {
        let small = KeyValue::new("k", Value::Array(Array::I64(vec![1])));
        let big = KeyValue::new("k", Value::Array(Array::I64(vec![1; 100_000])));
        assert!(attribute_bytes(&big) >= 800_000);
        assert!(attribute_bytes(&small) < 200);
        let strings = KeyValue::new(
            "k",
            Value::Array(Array::String(vec![
                StringValue::from("x".repeat(1000));
                100
            ])),
        );
        assert!(attribute_bytes(&strings) >= 100_000);
    }

    #[test]
    fn keys_names_events_and_links_count() {
        let long_key = KeyValue::new("k".repeat(5000), 1i64);
        assert!(attribute_bytes(&long_key) >= 5000);
        let base = span_bytes("n", &[], &[], &[]);
        assert!(span_bytes(&"n".repeat(1000), &[], &[], &[]) >= base + 999);
        let event = Event::new(
            "e",
            std::time::SystemTime::UNIX_EPOCH,
            vec![KeyValue::new("m", "x".repeat(10_000))],
            0,
        );
        assert!(span_bytes("n", &[], &[event], &[]) >= base + 10_000);
        let link = Link::new(
            opentelemetry::trace::SpanContext::empty_context(),
            vec![KeyValue::new("m", "x".repeat(10_000))],
            0,
        );
        assert!(span_bytes("n", &[], &[], &[link]) >= base + 10_000);
    }
}
