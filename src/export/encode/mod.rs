//! Encoders: a batch of spans to the bytes of one export request. They know spans and the
//! OTLP formats, nothing of queues, workers or sinks (which use them).

pub mod attributes;
pub mod json;
pub mod protobuf;

use opentelemetry::{InstrumentationScope, KeyValue};

/// What every export request of a tracer carries besides its spans.
#[derive(Debug, Clone, Default)]
pub struct Encoding {
    pub resource: Vec<KeyValue>,
    /// The scope every span of the tracer is reported under.
    pub scope: InstrumentationScope,
    /// Attributes of every span, written before the span's own (which win on equal keys).
    pub stamped: Vec<KeyValue>,
}
