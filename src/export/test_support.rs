//! Spans for the export unit tests.

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use std::time::{Duration, UNIX_EPOCH};

/// A span numbered `i` (its span id and name), carrying `tag` in `dropped_attributes_count`
/// (the queue tests use it for the size the span was pushed with).
pub(crate) fn span(i: u64, tag: u32) -> SpanData {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(0x5eed_u128 << 64 | u128::from(i)),
            SpanId::from(i + 1),
            TraceFlags::SAMPLED,
            false,
            Default::default(),
        ),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: format!("span-{i}").into(),
        start_time: start,
        end_time: start + Duration::from_millis(1),
        attributes: Vec::new(),
        dropped_attributes_count: tag,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::default(),
    }
}
