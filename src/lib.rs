//! libhoneyhive: HoneyHive tracing for C, C++, Go and Ruby applications.
//!
//! The core (this crate's modules outside `ffi`) knows nothing of C: configuration, tracers,
//! sessions, spans, enrichment, propagation and export. `ffi` is the C ABI over it, and the only
//! place where `unsafe` is allowed (each block says why it is sound).

#![deny(unsafe_code)]

pub mod clock;
pub mod config;
pub mod enrich;
pub mod error;
pub mod event_type;
pub mod export;
#[allow(unsafe_code)]
pub mod ffi;
pub mod fork;
pub mod ids;
mod keys;
pub mod limits;
pub mod local;
pub mod log;
pub mod propagation;
pub mod runtime;
pub mod session;
pub mod span;
pub mod stats;
pub mod tracer;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use span::{ActiveSpan, SpanRef};
pub use stats::StatsSnapshot;
pub use tracer::{Tracer, VERSION};
