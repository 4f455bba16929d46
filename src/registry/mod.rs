//! The registry: tracers and spans named by `u64` ids, and every rule of their use, behind
//! one safe API. The C ABI (`crate::ffi`) converts its arguments and calls these functions;
//! Rust callers and tests call them directly, so both take the same path.
//!
//! - `create_tracer`: the way a tracer id is made.
//! - `tracers`: look up, flush, close, stats, sessions of a tracer id.
//! - `events`: events by id (create, enrich) on a tracer id.
//! - `spans`: start, set, enrich, record errors, end, release, inject, extract.
//! - `attributes`: which keys a caller may set, namespaces, value bounds.
//! - `handles`: the generation-checked table behind both kinds of id.
//!
//! Ids are checked: a stale, reused, forged or wrong-kind id gives `InvalidHandle`, never
//! another object. 0 is never a valid id.

pub mod attributes;
pub mod events;
pub mod handles;
pub(crate) mod session_choice;
pub mod spans;
pub mod tracers;

pub use attributes::{AttrValue, Attribute};

use crate::config::Config;
use crate::error::Result;
use crate::tracer::Tracer;

/// Creates a tracer from `config` (never waits for the network) and returns its id. The
/// process hooks (flush at exit, fork handling) are installed with the first tracer.
pub fn create_tracer(config: Config) -> Result<u64> {
    let tracer = Tracer::new(config)?;
    register_process_state();
    tracers::insert(tracer)
}

/// With the first tracer: both handle tables join the fork protocol (created now, before the
/// process hooks exist, so no fork can see a table appear between its two hooks), then the core
/// registers the process-wide state and installs the process hooks.
fn register_process_state() {
    static TABLES: std::sync::Once = std::sync::Once::new();
    TABLES.call_once(|| {
        crate::fork::register_static(&*tracers::TRACERS);
        crate::fork::register_static(&*spans::SPANS);
    });
    crate::process::init();
}
