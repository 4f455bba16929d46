//! Tracer entry points: create, default session id, flush, close, stats, extract.

use super::handles::{HandleTable, Kind};
use super::span::{SlotState, SpanSlot, SPANS};
use super::strings::{non_null, optional, required, write_out};
use super::{guard, hh_error, hh_span, hh_status, hh_tracer};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::tracer::Tracer;
use once_cell::sync::Lazy;
use std::ffi::c_char;
use std::time::Duration;

/// A tracer handle's slot: closed tracers stay readable for stats until the slot is reused.
pub(crate) enum TracerSlot {
    Open(Tracer),
    Closed(Tracer),
}

pub(crate) static TRACERS: Lazy<HandleTable<TracerSlot>> =
    Lazy::new(|| HandleTable::new(Kind::Tracer, 256));

type Recent = std::cell::RefCell<[Option<(hh_tracer, Tracer)>; 2]>;

thread_local! {
    // The tracers this thread used last (most recent first), so that the span hot path finds
    // its tracer without the table's lock or a reference count. An entry is only trusted for
    // its exact (generation-checked) handle; a closed tracer is looked up again.
    static RECENT: Recent = const { std::cell::RefCell::new([None, None]) };
}

/// Runs `f` on the open tracer behind a handle (`TracerClosed` / `InvalidHandle` otherwise).
#[inline]
pub(crate) fn with_open_tracer<R>(
    handle: hh_tracer,
    f: impl FnOnce(&Tracer) -> Result<R>,
) -> Result<R> {
    with_tracer(handle, true, f)
}

/// Runs `f` on the tracer behind a handle, open or closed (a span ending after its tracer's
/// close still reaches the tracer, which counts it as dropped).
#[inline]
pub(crate) fn with_any_tracer<R>(
    handle: hh_tracer,
    f: impl FnOnce(&Tracer) -> Result<R>,
) -> Result<R> {
    with_tracer(handle, false, f)
}

fn with_tracer<R>(
    handle: hh_tracer,
    open_only: bool,
    f: impl FnOnce(&Tracer) -> Result<R>,
) -> Result<R> {
    // SAFETY: a thread-local lives until its thread exits; the reference is only used during
    // this call, on this thread.
    let recent: Option<&Recent> = RECENT.try_with(|r| unsafe { &*(r as *const Recent) }).ok();
    if let Some(Ok(cached)) = recent.map(|r| r.try_borrow()) {
        // The shared borrow is held while `f` runs: a nested lookup cannot evict this entry.
        if let Some((_, t)) = cached.iter().flatten().find(|(h, _)| *h == handle) {
            if !(open_only && t.is_closed()) {
                return f(t);
            }
        }
    }
    let t = match TRACERS.with(handle, |slot, _| match slot {
        TracerSlot::Open(t) => Ok(t.clone()),
        TracerSlot::Closed(t) if !open_only => Ok(t.clone()),
        TracerSlot::Closed(_) => Err(Error::new(ErrorKind::TracerClosed, "tracer is closed")),
    }) {
        Some(r) => r?,
        None => return Err(invalid_tracer()),
    };
    if let Some(Ok(mut recent)) = recent.map(|r| r.try_borrow_mut()) {
        recent.rotate_right(1);
        recent[0] = Some((handle, t.clone()));
    }
    f(&t)
}

/// The open tracer behind a handle.
pub(crate) fn open_tracer(handle: hh_tracer) -> Result<Tracer> {
    match TRACERS.with(handle, |slot, _| match slot {
        TracerSlot::Open(t) => Ok(t.clone()),
        TracerSlot::Closed(_) => Err(Error::new(ErrorKind::TracerClosed, "tracer is closed")),
    }) {
        Some(r) => r,
        None => Err(invalid_tracer()),
    }
}

pub(crate) fn invalid_tracer() -> Error {
    Error::new(
        ErrorKind::InvalidHandle,
        "not a valid tracer handle (stale, closed and reused, or another kind)",
    )
}

/// Counters of one tracer, for `hh_tracer_stats`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct hh_stats {
    /// Spans started on this tracer.
    pub spans_started: u64,
    /// Spans ended and recorded (spans excluded by span_name_filters are not recorded).
    pub spans_ended: u64,
    /// Spans delivered: a 2xx answer, or written by the file/console exporter.
    pub spans_exported: u64,
    /// Spans lost: queue full, export failed after retries, or ended after close.
    pub spans_dropped: u64,
    /// Export requests attempted (one per batch).
    pub export_requests: u64,
    /// Export requests that failed after all retries.
    pub export_failures: u64,
    /// Retries made by export requests.
    pub export_retries: u64,
    /// Session REST calls (session start, enrich session) made.
    pub rest_calls: u64,
    /// Session REST calls that failed after all retries (or were dropped).
    pub rest_failures: u64,
    /// Spans waiting in the export queue now.
    pub queue_len: u64,
}

/// Creates a tracer from `config_json` (NULL, "" or a JSON object; explicit keys win over
/// `HH_*`/`OTEL_*` environment variables, which win over defaults) and starts its default
/// session in the background. Never waits for the network.
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
        let tracer = Tracer::new(Config::from_json_and_env(json)?)?;
        register_process_state();
        let handle = TRACERS
            .insert(TracerSlot::Open(tracer))
            .ok_or_else(|| Error::new(ErrorKind::LimitExceeded, "too many tracers"))?;
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { *out_tracer = handle };
        Ok(())
    })
}

/// With the first tracer: the handle tables join the fork protocol, then the core registers
/// the process-wide state and installs the process hooks.
fn register_process_state() {
    static TABLES: std::sync::Once = std::sync::Once::new();
    TABLES.call_once(|| {
        crate::fork::register_static(&*TRACERS);
        crate::fork::register_static(&*SPANS);
    });
    crate::process::init();
}

/// Copies the tracer's default session id (36 characters) and a NUL into `buf`
/// (`buf_len >= HH_SESSION_ID_BUF_LEN` always suffices). `*out_len`, when `out_len` is not
/// NULL, receives the length without the NUL, also with `HH_ERR_BUFFER_TOO_SMALL`.
/// `HH_ERR_INVALID_ARGUMENT` when the tracer has no default session
/// (skip_backend_session_creation without session_id). Thread-safe.
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
        let t = open_tracer(tracer)?;
        let sid = t
            .session_id()
            .ok_or_else(|| Error::arg("the tracer has no default session"))?;
        // SAFETY: forwarded from this function's contract.
        unsafe { write_out(sid, buf, buf_len, out_len) }
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
        open_tracer(tracer)?.flush(Duration::from_millis(timeout_ms.into()))
    })
}

/// Flushes (as `hh_tracer_flush`), stops the tracer's export and invalidates the handle: later
/// calls with it, or with its spans, return `HH_ERR_TRACER_CLOSED` (or `HH_ERR_INVALID_HANDLE`
/// once the slot is reused). Returns within `timeout_ms` even when the server hangs.
/// Idempotent: another close of the same tracer, during the first or after it, waits for the
/// first (up to its own `timeout_ms`, else `HH_ERR_TIMEOUT`) and returns the first's status, so
/// a second caller is never told "delivered" of spans the first could not deliver.
/// Thread-safe; safe from finalizers and exit hooks.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_tracer_close(tracer: hh_tracer, timeout_ms: u32) -> hh_status {
    guard(std::ptr::null_mut(), || {
        let (t, open) = TRACERS
            .with(tracer, |slot, _| match slot {
                TracerSlot::Open(t) => (t.clone(), true),
                TracerSlot::Closed(t) => (t.clone(), false),
            })
            .ok_or_else(invalid_tracer)?;
        let result = t.close(Duration::from_millis(timeout_ms.into()));
        if open {
            TRACERS.with(tracer, |slot, _| *slot = TracerSlot::Closed(t));
            TRACERS.retire(tracer);
        }
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
        let s = TRACERS
            .with(tracer, |slot, _| match slot {
                TracerSlot::Open(t) | TracerSlot::Closed(t) => t.stats(),
            })
            .ok_or_else(invalid_tracer)?;
        let out = hh_stats {
            spans_started: s.spans_started,
            spans_ended: s.spans_ended,
            spans_exported: s.spans_exported,
            spans_dropped: s.spans_dropped,
            export_requests: s.export_requests,
            export_failures: s.export_failures,
            export_retries: s.export_retries,
            rest_calls: s.rest_calls,
            rest_failures: s.rest_failures,
            queue_len: s.queue_len,
        };
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { *out_stats = out };
        Ok(())
    })
}

/// Turns incoming W3C headers into a remote parent for `hh_span_start`: same trace id, the
/// remote span as parent, and the session id from `baggage` (`session_id`) when present,
/// else the tracer's default session. `baggage` may be NULL. Release the handle with
/// `hh_span_end`. Thread-safe.
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
        let t = open_tracer(tracer)?;
        let mut reference = crate::propagation::extract(tp, bag)?;
        if reference.session.is_none() {
            reference.session = t.session_id().map(Into::into);
        }
        let handle = SPANS
            .insert(SpanSlot {
                span: crate::span::Started {
                    reference,
                    recording: None,
                },
                tracer,
                state: SlotState::Remote,
                closes: crate::tracer::closes(),
            })
            .ok_or_else(|| Error::new(ErrorKind::LimitExceeded, "too many live spans"))?;
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { *out_parent = handle };
        Ok(())
    })
}
