//! Events by id: create a standalone event in a session, enrich any event by its id.

use super::strings::{non_null, required, write_out};
use super::{guard, hh_error, hh_status, hh_tracer};
use crate::registry::events;
use std::ffi::c_char;

/// Bytes of an event id buffer: a UUID (36 characters) and a NUL.
pub const HH_EVENT_ID_BUF_LEN: usize = 37;

/// Records a standalone event (`POST /events`, in the background) and writes its id (36
/// characters and a NUL) to `out_event_id` (`buf_len >= HH_EVENT_ID_BUF_LEN`). Never waits
/// for the network: the id is made here and sent with the event, which reaches the server
/// after its session's start. `event_json`: an object with any of `event_name` (default
/// "unknown_event"), `event_type` ("model", "tool" (default) or "chain"), `inputs`,
/// `outputs`, `config`, `metadata`, `feedback`, `metrics`, `user_properties` (objects),
/// `error` (string), `duration` (number), `session_id` (a UUID; default: the tracer's
/// session), `event_id` (a UUID; default: a new one); other keys are sent as given
/// (`project` and `source` are the tracer's and refused). Thread-safe.
///
/// Returns `HH_ERR_NULL_ARGUMENT` (NULL `event_json` or `out_event_id`),
/// `HH_ERR_BUFFER_TOO_SMALL`, `HH_ERR_INVALID_JSON`, `HH_ERR_INVALID_ARGUMENT` (a field of the
/// wrong type, an id that is not a UUID, no session), `HH_ERR_LIMIT_EXCEEDED` (oversized or
/// too deeply nested JSON), `HH_ERR_INVALID_HANDLE`, `HH_ERR_TRACER_CLOSED`. Delivery
/// failures are not reported here: they are counted in stats `rest_failures`.
///
/// # Safety
/// `event_json` is NUL-terminated; `out_event_id` is writable for `buf_len` bytes; `err` is
/// NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_event_create(
    tracer: hh_tracer,
    event_json: *const c_char,
    out_event_id: *mut c_char,
    buf_len: usize,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        non_null(out_event_id, "out_event_id")?;
        if buf_len < HH_EVENT_ID_BUF_LEN {
            return Err(crate::Error::new(
                crate::ErrorKind::BufferTooSmall,
                "out_event_id needs HH_EVENT_ID_BUF_LEN (37) bytes",
            ));
        }
        // SAFETY: NUL-terminated per this function's contract.
        let json = unsafe { required(event_json, "event_json") }?;
        let id = events::create_event(tracer, json)?;
        // SAFETY: buffer checked above; writable per the contract.
        unsafe { write_out(&id, out_event_id, buf_len, std::ptr::null_mut()) }
    })
}

/// Enriches an event by its id (`PUT /events` with `event_id`, in the background): an event
/// from `hh_event_create`, a span's event id, or a session id, for example user feedback that
/// arrives after the request ended. `enrichment_json` takes the keys of `hh_session_enrich`
/// (`metadata`, `inputs` (sent as `metadata.inputs`), `outputs`, `metrics`, `feedback`,
/// `config`, `user_properties`, `duration`; other keys join `metadata`); nothing is sent when
/// all are empty. An enrichment of an event created by this tracer reaches the server after
/// the event. Thread-safe.
///
/// Returns `HH_ERR_NULL_ARGUMENT`, `HH_ERR_INVALID_ARGUMENT` (`event_id` not a UUID),
/// `HH_ERR_INVALID_JSON`, `HH_ERR_LIMIT_EXCEEDED`, `HH_ERR_INVALID_HANDLE`,
/// `HH_ERR_TRACER_CLOSED`; nothing is sent on error.
///
/// # Safety
/// `event_id` and `enrichment_json` are NUL-terminated; `err` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_event_enrich(
    tracer: hh_tracer,
    event_id: *const c_char,
    enrichment_json: *const c_char,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        // SAFETY: NUL-terminated per this function's contract.
        let (id, json) = unsafe {
            (
                required(event_id, "event_id")?,
                required(enrichment_json, "enrichment_json")?,
            )
        };
        events::enrich_event(tracer, id, json)
    })
}
