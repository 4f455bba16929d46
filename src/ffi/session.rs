//! Session entry points: create a session (one per request on a shared tracer), enrich one.

use super::strings::{optional, required, write_out};
use super::{guard, hh_error, hh_status, hh_tracer};
use crate::registry::tracers;
use std::ffi::c_char;

/// Starts a new session on `tracer` and writes its id (36 characters and a NUL) to
/// `out_session_id` (`buf_len >= HH_SESSION_ID_BUF_LEN`). Never waits for the network: the id
/// is made here and `POST /session/start` runs in the background, reaching the server before
/// the session's spans. `options_json`: NULL or an object with any of `session_name`,
/// `session_id` (a UUID), `inputs`, `metadata`, `user_properties` (objects), `source`,
/// `skip_api_call` (with `session_id`: no REST call; a `session_name` given with it is
/// stamped on the session's spans as `baggage.session_name` and travels in injected baggage,
/// as the reference SDK's). Thread-safe: many threads may create
/// sessions on one tracer at once.
///
/// # Safety
/// `options_json` is NULL or NUL-terminated; `out_session_id` is writable for `buf_len` bytes;
/// `err` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_session_create(
    tracer: hh_tracer,
    options_json: *const c_char,
    out_session_id: *mut c_char,
    buf_len: usize,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        super::strings::non_null(out_session_id, "out_session_id")?;
        if buf_len < super::status::HH_SESSION_ID_BUF_LEN {
            return Err(crate::Error::new(
                crate::ErrorKind::BufferTooSmall,
                "out_session_id needs HH_SESSION_ID_BUF_LEN (37) bytes",
            ));
        }
        // SAFETY: NULL or NUL-terminated per this function's contract.
        let options = unsafe { optional(options_json, "options_json") }?;
        let sid = tracers::create_session(tracer, options)?;
        // SAFETY: buffer checked above; writable per the contract.
        unsafe { write_out(&sid, out_session_id, buf_len, std::ptr::null_mut()) }
    })
}

/// Enriches a session (`PUT /events`, in the background): `session_id` NULL means the
/// tracer's default session. `enrichment_json` is an object with any of `metadata`, `inputs`
/// (sent as `metadata.inputs`), `outputs`, `metrics`, `feedback`, `config`,
/// `user_properties`, `duration`; other keys join `metadata`. Nothing is sent when all are
/// empty. Invalid JSON sends nothing. Thread-safe.
///
/// # Safety
/// `session_id` is NULL or NUL-terminated; `enrichment_json` is NUL-terminated; `err` is NULL
/// or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_session_enrich(
    tracer: hh_tracer,
    session_id: *const c_char,
    enrichment_json: *const c_char,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        // SAFETY: NULL or NUL-terminated per this function's contract.
        let (sid, json) = unsafe {
            (
                optional(session_id, "session_id")?,
                required(enrichment_json, "enrichment_json")?,
            )
        };
        tracers::enrich_session(tracer, sid, json)
    })
}

/// Writes the `baggage` header that continues a session in another service without a span:
/// `session_id=...,project=...,source=...` (the entries `hh_span_inject` writes, and the
/// session's name when `hh_session_create` gave it one without an API call). `session_id`
/// NULL means the tracer's default session; using it this way starts it if it was not yet
/// (in the background). `*baggage_len`, when not NULL, receives the length without the NUL,
/// also with `HH_ERR_BUFFER_TOO_SMALL`, so the caller can retry with a larger buffer.
/// Returns `HH_ERR_INVALID_ARGUMENT` for a session id that is not a UUID or when the tracer
/// has no default session, `HH_ERR_NULL_ARGUMENT` for a NULL `baggage`,
/// `HH_ERR_TRACER_CLOSED` / `HH_ERR_INVALID_HANDLE` for a closed or invalid tracer. Never
/// waits for the network. Thread-safe.
///
/// # Safety
/// `session_id` is NULL or NUL-terminated; `baggage` is writable for `baggage_buf_len` bytes;
/// `baggage_len` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_session_inject(
    tracer: hh_tracer,
    session_id: *const c_char,
    baggage: *mut c_char,
    baggage_buf_len: usize,
    baggage_len: *mut usize,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        // SAFETY: NULL or NUL-terminated per this function's contract.
        let sid = unsafe { optional(session_id, "session_id") }?;
        let bag = tracers::session_baggage(tracer, sid)?;
        // SAFETY: writable per this function's contract (write_out checks NULL and size).
        unsafe { write_out(&bag, baggage, baggage_buf_len, baggage_len) }
    })
}
