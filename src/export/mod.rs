//! Export: from an ended span to the wire. Each part has one job:
//!
//! | Part | Job |
//! |---|---|
//! | `pipeline.rs` | a tracer's pipeline: ties the parts together; push, flush, shutdown; fork hooks |
//! | `queue.rs` | the bounded, striped queue application threads push ended spans into |
//! | `batch_policy.rs` | when spans are sent (full batch, schedule delay, flush, shutdown, immediate mode) |
//! | `worker.rs` | the task that sends what is queued through the sink and counts the outcome |
//! | `sink/` | the destinations behind one trait: OTLP/HTTP (HoneyHive or generic), file, console, discard |
//! | `encode/` | spans to request bodies: OTLP/JSON, OTLP/protobuf, the attributes as exported |
//! | `rest.rs` | HoneyHive session calls |
//! | `transport/` | HTTP delivery with retries; what is taken from a server's answer; the HTTP client |
//! | `fork_component.rs` | how a pipeline takes part in the fork protocol |
//!
//! The encoders know nothing of the pipeline; the sinks know nothing of the queue.

mod batch_policy;
pub mod encode;
mod fault;
mod fork_component;
mod panic_guard;
mod pipeline;
mod queue;
pub mod rest;
mod sink;
pub mod transport;
mod worker;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub(crate) use batch_policy::AfterEnqueue;
pub use encode::{json, protobuf, Encoding};
pub use pipeline::{FlushError, Pipeline};
pub use sink::Sink;
