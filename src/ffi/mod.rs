//! The C ABI: the only place with `extern "C"` and `unsafe`. Each entry point checks its
//! arguments, converts them, calls the core (`crate::registry` for tracers and spans, which
//! decides every rule), maps errors to `hh_status`, and contains panics.
//! Rules: checked handles, no thread-local state, out-params written
//! only on success, nothing on the hot path for the caller to free.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

pub mod event;
#[cfg(test)]
mod fork_window_tests;
pub mod session;
pub mod span;
pub mod span_attrs;
pub mod span_model;
pub mod status;
pub mod strings;
pub mod tracer;

pub use status::{hh_error, hh_status};

use crate::error::{Error, ErrorKind};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A tracer handle. 0 is never valid.
pub type hh_tracer = u64;
/// A span handle, or a remote parent context from `hh_tracer_extract`. 0 means "none".
pub type hh_span = u64;
/// One of the `HH_EVENT_*` values.
pub type hh_event_type = u32;
/// One of the `HH_NS_*` values.
pub type hh_namespace = u32;

/// Runs an entry point's body with panics contained: a panic becomes `HH_ERR_PANIC` (with a
/// message in `err`) and never unwinds into the caller. While another thread forks, waits
/// for the fork first (see `crate::fork`).
pub(crate) fn guard(err: *mut hh_error, body: impl FnOnce() -> Result<(), Error>) -> hh_status {
    crate::fork::wait_while_forking();
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::new(
            ErrorKind::Panic,
            format!("internal panic contained: {what}"),
        ))
    });
    match outcome {
        Ok(()) => hh_status::HH_OK,
        // SAFETY: every entry point passes its caller's `err`, documented as NULL or valid.
        Err(e) => unsafe { status::report(err, &e) },
    }
}

/// For tests of the panic boundary: panics inside the library and returns what the boundary
/// made of it (`HH_ERR_PANIC`). Has no other effect. Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_test_panic(err: *mut hh_error) -> hh_status {
    guard(err, || {
        panic!("hh_test_panic: deliberate panic to test containment")
    })
}
