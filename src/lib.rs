//! libhoneyhive: HoneyHive tracing for C, C++, Go and Ruby applications.
//!
//! The core (this crate's modules outside `ffi`) knows nothing of C: configuration, tracers,
//! sessions, spans, enrichment, propagation and export. `registry` is its API over tracer and
//! span ids, with every rule of their use; `ffi` is the C ABI over the registry (argument
//! conversion and status mapping only). `unsafe` is allowed in two places only, each block
//! saying why it is sound: `ffi`, and `fork::hooks` (installing the process hooks, releasing the
//! locks taken around `fork()`).

#![deny(unsafe_code)]

pub mod clock;
pub mod config;
pub mod enrich;
pub mod error;
pub mod event_type;
pub mod events;
pub mod export;
#[allow(unsafe_code)]
pub mod ffi;
pub mod fork;
pub mod ids;
mod keys;
pub mod limits;
pub mod local;
pub mod log;
pub mod process;
pub mod propagation;
pub mod proxy;
pub mod redact;
pub mod registry;
pub mod resource;
pub mod runtime;
pub mod session;
pub(crate) mod session_state;
pub mod span;
pub mod span_ref;
pub(crate) mod span_size;
pub mod stats;
pub mod sync;
pub mod tracer;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use span::SpanRef;
pub use stats::StatsSnapshot;
pub use tracer::{Tracer, VERSION};
