//! What a child, an injection or an ended span needs to know about a span: a leaf, so that
//! the tracer (its `link_carrier` parent) and propagation can hold one without `span`.

use opentelemetry::trace::SpanContext;
use std::sync::Arc;

/// What a child, an injection or an ended span needs to know about a span.
#[derive(Debug, Clone)]
pub struct SpanRef {
    pub context: SpanContext,
    pub session: Option<Arc<str>>,
    /// Project and source carried in from a remote parent's baggage.
    pub remote_baggage: Vec<(String, String)>,
}
