//! Events by id on a tracer id (see `Tracer::create_event`, `Tracer::enrich_event`).

use super::tracers;
use crate::error::Result;

/// Queues `POST /events` on the tracer and returns the new event's id at once.
pub fn create_event(tracer: u64, event_json: &str) -> Result<String> {
    tracers::open(tracer)?.create_event(event_json)
}

/// Queues `PUT /events` for `event_id` on the tracer.
pub fn enrich_event(tracer: u64, event_id: &str, enrichment_json: &str) -> Result<()> {
    tracers::open(tracer)?.enrich_event(event_id, enrichment_json)
}
