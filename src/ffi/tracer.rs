//! Tracer entry points: create, default session id, flush, close, stats, extract.

use super::strings::{non_null, optional, required, write_out};
use super::{guard, hh_error, hh_span, hh_status, hh_tracer};
use crate::config::Config;
use crate::registry::{spans, tracers};
use std::ffi::c_char;
use std::time::Duration;

/// Counters of one tracer: written once, in the core (`crate::stats::StatsSnapshot`), which
/// also derives the live counters from it; cbindgen renames the type `hh_stats`.
pub use crate::stats::StatsSnapshot as hh_stats;

/// Creates a tracer from `config_json` (NULL, "" or a JSON object; explicit keys win over
/// `HH_*`/`OTEL_*` environment variables, which win over defaults). Its default session is
/// started (`POST /session/start`, in the background) at its first use: the first span,
/// `hh_session_enrich`, `hh_span_inject`, `hh_session_inject`, `hh_event_create` or
/// `hh_event_enrich` that targets it, before that span or call reaches the server; a tracer
/// whose spans all name their own sessions never starts it. A process that forks before that
/// use (a pre-fork server) has it started once, by the parent right after the fork: the
/// children count it as started. With `link_carrier` (`{"traceparent": ..., "baggage": ...}`), root spans
/// continue that remote trace and the carrier's baggage `session_id` is the default session
/// (already started by its service: never started here); an invalid carrier is ignored with
/// a warning. Never waits for the network.
///
/// On success writes the new handle to `*out_tracer`. On failure returns a status and, when
/// `err` is not NULL, a message naming the offending field. Release with `hh_tracer_close`.
/// Thread-safe: any number of tracers may exist; they share no state.
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string; `out_tracer` is writable; `err` is NULL or
/// writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_tracer_new(
    config_json: *const c_char,
    out_tracer: *mut hh_tracer,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        non_null(out_tracer, "out_tracer")?;
        // SAFETY: NULL or NUL-terminated per this function's contract.
        let json = unsafe { optional(config_json, "config_json") }?;
        let handle = crate::registry::create_tracer(Config::from_json_and_env(json)?)?;
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { *out_tracer = handle };
        Ok(())
    })
}

/// Copies the tracer's default session id (36 characters) and a NUL into `buf`
/// (`buf_len >= HH_SESSION_ID_BUF_LEN` always suffices). `*out_len`, when `out_len` is not
/// NULL, receives the length without the NUL, also with `HH_ERR_BUFFER_TOO_SMALL`.
/// `HH_ERR_INVALID_ARGUMENT` when the tracer has no default session
/// (skip_backend_session_creation without session_id, HoneyHive exporter). Reading the id does not start the
/// session. Thread-safe.
///
/// # Safety
/// `buf` is writable for `buf_len` bytes; `out_len` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_tracer_session_id(
    tracer: hh_tracer,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        let sid = tracers::session_id(tracer)?;
        // SAFETY: forwarded from this function's contract.
        unsafe { write_out(&sid, buf, buf_len, out_len) }
    })
}

/// Waits at most `timeout_ms` until every span that ended before the call, and every session
/// call made before it, has been delivered. `HH_OK`: all delivered and nothing was lost since
/// the previous flush; `HH_ERR_EXPORT_FAILED`: finished, but something was dropped or failed;
/// `HH_ERR_TIMEOUT`: not finished in time (delivery goes on in the background). Test mode
/// always returns `HH_OK`. Thread-safe; safe to call from finalizers.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_tracer_flush(tracer: hh_tracer, timeout_ms: u32) -> hh_status {
    guard(std::ptr::null_mut(), || {
        let result = tracers::flush(tracer, Duration::from_millis(timeout_ms.into()));
        // Warnings logged under a lock (a span without a session) reach the handler by now.
        crate::log::deliver_deferred();
        result
    })
}

/// Flushes (as `hh_tracer_flush`), stops the tracer's export, frees its memory (only its
/// counters stay, for `hh_tracer_stats`) and invalidates the handle: later calls with it, or
/// with its spans, return `HH_ERR_TRACER_CLOSED` (or `HH_ERR_INVALID_HANDLE` once the slot is
/// reused) and have no effect, except: ending a span still open ends it, drops it (counted in
/// `spans_dropped`) and returns `HH_ERR_TRACER_CLOSED`; releasing a span handle releases it
/// (`HH_OK`). Returns within `timeout_ms` even when the server hangs.
/// Idempotent: another close of the same tracer, during the first or after it, waits for the
/// first (up to its own `timeout_ms`, else `HH_ERR_TIMEOUT`) and returns the first's status, so
/// a second caller is never told "delivered" of spans the first could not deliver.
/// Thread-safe; safe from finalizers and exit hooks.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_tracer_close(tracer: hh_tracer, timeout_ms: u32) -> hh_status {
    guard(std::ptr::null_mut(), || {
        let open = tracers::open(tracer).ok();
        let result = tracers::close(tracer, Duration::from_millis(timeout_ms.into()));
        // A closed tracer's late lines (a session call still running) go to the process's
        // handler: the caller may free its own handler's data once close returns.
        if let Some(t) = open {
            t.inner.log.set_handler(None);
        }
        // Warnings logged under a lock (a span without a session) reach the handler by now.
        crate::log::deliver_deferred();
        result
    })
}

/// Writes the tracer's counters to `*out_stats`. Works on a closed tracer too (its final
/// counts) until its handle slot is reused. Thread-safe.
///
/// # Safety
/// `out_stats` is writable for one `hh_stats`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_tracer_stats(tracer: hh_tracer, out_stats: *mut hh_stats) -> hh_status {
    guard(std::ptr::null_mut(), || {
        non_null(out_stats, "out_stats")?;
        let s = tracers::stats(tracer)?;
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { *out_stats = s };
        Ok(())
    })
}

/// Turns incoming W3C headers into a remote parent for `hh_span_start`: same trace id, the
/// remote span as parent, and the session id from `baggage` (`session_id`) when it is a
/// session id (a UUID, in any case: written lower-case), else the tracer's default session.
/// `project` and `source` from `baggage` are kept when at most 256 bytes without control
/// characters; other baggage entries are ignored (what was ignored is logged at debug level).
/// `baggage` may be NULL. Release the handle with `hh_span_end`. Thread-safe.
///
/// # Safety
/// `traceparent` is a NUL-terminated string; `baggage` is NULL or NUL-terminated;
/// `out_parent` is writable; `err` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_tracer_extract(
    tracer: hh_tracer,
    traceparent: *const c_char,
    baggage: *const c_char,
    out_parent: *mut hh_span,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        non_null(out_parent, "out_parent")?;
        // SAFETY: NUL-terminated (or NULL for baggage) per this function's contract.
        let (tp, bag) = unsafe {
            (
                required(traceparent, "traceparent")?,
                optional(baggage, "baggage")?,
            )
        };
        let handle = spans::extract(tracer, tp, bag)?;
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { *out_parent = handle };
        Ok(())
    })
}
