//! Span entry points: start, enrich, typed setters, record error, end, inject.

use super::strings::{non_null, optional, required, write_out};
use super::{guard, hh_error, hh_event_type, hh_namespace, hh_span, hh_status, hh_tracer};
use crate::enrich;
use crate::error::{Error, ErrorKind, Result};
use crate::registry::attributes::attribute_value;
use crate::registry::{spans, AttrValue};
use std::ffi::c_char;

/// Detect the event type from the span name and attributes (`gen_ai.operation.name`,
/// `openinference.span.kind`, a model-ish name, a model attribute key; else tool).
pub const HH_EVENT_DEFAULT: hh_event_type = 0;
/// An LLM call.
pub const HH_EVENT_MODEL: hh_event_type = 1;
/// A tool, retrieval or any other step.
pub const HH_EVENT_TOOL: hh_event_type = 2;
/// A chain or agent grouping other steps.
pub const HH_EVENT_CHAIN: hh_event_type = 3;

/// The key is used as given.
pub const HH_NS_NONE: hh_namespace = 0;
/// `honeyhive_inputs.<key>`
pub const HH_NS_INPUTS: hh_namespace = 1;
/// `honeyhive_outputs.<key>`
pub const HH_NS_OUTPUTS: hh_namespace = 2;
/// `honeyhive_metadata.<key>`
pub const HH_NS_METADATA: hh_namespace = 3;
/// `honeyhive_metrics.<key>`
pub const HH_NS_METRICS: hh_namespace = 4;
/// `honeyhive_feedback.<key>`
pub const HH_NS_FEEDBACK: hh_namespace = 5;
/// `honeyhive_config.<key>`
pub const HH_NS_CONFIG: hh_namespace = 6;
/// `honeyhive_user_properties.<key>`
pub const HH_NS_USER_PROPERTIES: hh_namespace = 7;

pub(crate) fn event_type_name(t: hh_event_type) -> Result<Option<&'static str>> {
    match t {
        HH_EVENT_DEFAULT => Ok(None),
        HH_EVENT_MODEL => Ok(Some("model")),
        HH_EVENT_TOOL => Ok(Some("tool")),
        HH_EVENT_CHAIN => Ok(Some("chain")),
        _ => Err(Error::arg(format!("unknown event type {t}"))),
    }
}

/// Starts a span on `tracer`.
/// - `name`: required, non-empty; names over 1024 bytes are truncated.
/// - `event_type`: an `HH_EVENT_*` value (`HH_EVENT_DEFAULT` detects it from the name).
/// - `parent`: 0 for a root span, or a span handle (live or recently ended, of any tracer), or
///   a remote parent from `hh_tracer_extract`. The child joins the parent's trace.
/// - `session_id`: a session id (from `hh_session_create`, or any UUID), which always wins; or
///   NULL: the parent's session when the parent is a span of this tracer or a remote parent,
///   else (a root span, or a parent of another tracer) the tracer's default session. With
///   skip_backend_session_creation and no session_id, HoneyHive exporter (session auto-create
///   mode; other exporters keep a local default session) there is no
///   default session: a span with no session is not exported (counted in `spans_no_session`).
///   In that mode every exported span carries `honeyhive.session_auto_create` and
///   `honeyhive.session_name`.
/// - `attributes_json`: NULL or a JSON object of initial attributes.
///
/// On success writes the handle to `*out_span`; end it with `hh_span_end`. A span excluded by
/// `span_name_filters` still gets a handle (so children can name it) but is not exported.
/// Thread-safe; never waits for the network.
///
/// # Safety
/// `name` is NUL-terminated; `session_id` and `attributes_json` are NULL or NUL-terminated;
/// `out_span` is writable; `err` is NULL or writable.
#[no_mangle]
#[must_use]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn hh_span_start(
    tracer: hh_tracer,
    name: *const c_char,
    event_type: hh_event_type,
    parent: hh_span,
    session_id: *const c_char,
    attributes_json: *const c_char,
    out_span: *mut hh_span,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        non_null(out_span, "out_span")?;
        // SAFETY: NUL-terminated (or NULL where allowed) per this function's contract.
        let (name, session, attrs) = unsafe {
            (
                required(name, "name")?,
                optional(session_id, "session_id")?,
                optional(attributes_json, "attributes_json")?,
            )
        };
        let event_type = event_type_name(event_type)?;
        let attributes = match attrs {
            Some(json) => enrich::initial_attributes(json)?,
            None => Vec::new(),
        };
        let handle = spans::start(tracer, name, event_type, parent, session, attributes)?;
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { *out_span = handle };
        Ok(())
    })
}

/// Enriches a span with JSON in the reference `enrich_span` namespaces: `inputs`, `outputs`,
/// `metadata`, `metrics`, `feedback`, `config`, `user_properties` (objects, flattened to
/// `honeyhive_<ns>.<dotted.path>` with numbers and booleans keeping their type), `error`
/// (string), `event_type` ("model"/"tool"/"chain"); other top-level keys go to `metadata`.
/// All or nothing: on any error nothing is applied. `HH_ERR_SPAN_ENDED` after the span ended.
/// Thread-safe.
///
/// # Safety
/// `enrichment_json` is NUL-terminated; `err` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_enrich(
    span: hh_span,
    enrichment_json: *const c_char,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        // SAFETY: NUL-terminated per this function's contract.
        let json = unsafe { required(enrichment_json, "enrichment_json") }?;
        spans::enrich(span, json)
    })
}

/// Shared body of the typed setters.
///
/// # Safety
/// `key` is NUL-terminated.
unsafe fn set_typed<'v>(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: impl FnOnce() -> Result<AttrValue<'v>>,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        // SAFETY: forwarded from the setter's contract.
        let key = unsafe { required(key, "key") }?;
        spans::set_with(span, ns, key, || value().map(attribute_value))
    })
}

/// Sets one string attribute: `key` under namespace `ns` (an `HH_NS_*` value). Values over
/// 1 MiB are truncated. Hot-path alternative to `hh_span_enrich`. Thread-safe.
///
/// # Safety
/// `key` and `value` are NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_str(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: *const c_char,
) -> hh_status {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        set_typed(span, ns, key, || {
            Ok(AttrValue::Str(required(value, "value")?))
        })
    }
}

/// Sets one integer attribute (see `hh_span_set_str`). Thread-safe.
///
/// # Safety
/// `key` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_i64(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: i64,
) -> hh_status {
    // SAFETY: forwarded from this function's contract.
    unsafe { set_typed(span, ns, key, || Ok(AttrValue::I64(value))) }
}

/// Sets one floating-point attribute (see `hh_span_set_str`). Thread-safe.
///
/// # Safety
/// `key` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_f64(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: f64,
) -> hh_status {
    // SAFETY: forwarded from this function's contract.
    unsafe { set_typed(span, ns, key, || Ok(AttrValue::F64(value))) }
}

/// Sets one boolean attribute (see `hh_span_set_str`). Thread-safe.
///
/// # Safety
/// `key` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_bool(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: bool,
) -> hh_status {
    // SAFETY: forwarded from this function's contract.
    unsafe { set_typed(span, ns, key, || Ok(AttrValue::Bool(value))) }
}

/// Records an error on the span: an `exception` event (`exception.type`,
/// `exception.message`, `exception.escaped` "False"), status ERROR "<type>: <message>", and
/// the attributes `honeyhive_error` and `honeyhive_error_type`. `error_type` may be NULL
/// ("Error"). `hh_span_record_error_ex` adds a stack trace, the escaped flag and a time.
/// Thread-safe.
///
/// # Safety
/// `error_type` is NULL or NUL-terminated; `message` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_record_error(
    span: hh_span,
    error_type: *const c_char,
    message: *const c_char,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        // SAFETY: NUL-terminated (or NULL for error_type) per this function's contract.
        let (t, m) = unsafe {
            (
                optional(error_type, "error_type")?,
                required(message, "message")?,
            )
        };
        spans::record_error(span, t, m)
    })
}

/// Flag for `hh_span_end_ex`: keep the handle valid (as a parent, for `hh_span_inject`, for
/// `hh_span_session_id`) until `hh_span_release`, however many other spans end meanwhile.
pub const HH_END_KEEP_HANDLE: u32 = 1;

/// Ends a span and hands it to the export pipeline (never waits for the network, except in
/// `disable_batch` mode); or releases a remote parent from `hh_tracer_extract`. Idempotent:
/// ending an ended span returns `HH_OK`. The handle stays usable as a parent for a while
/// (`HH_ERR_INVALID_HANDLE` once its slot is reused; use `hh_span_end_ex` with
/// `HH_END_KEEP_HANDLE` to pin it). `HH_ERR_TRACER_CLOSED` if the tracer was closed first (the
/// span is then dropped and counted in `spans_dropped`). Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_span_end(span: hh_span) -> hh_status {
    hh_span_end_ex(span, 0)
}

/// `hh_span_end` with flags: `HH_END_KEEP_HANDLE` keeps the handle valid until
/// `hh_span_release` (made for bindings whose span objects outlive the span, e.g. Go and Ruby
/// wrappers released by a finalizer). Unknown flags give `HH_ERR_INVALID_ARGUMENT`. Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_span_end_ex(span: hh_span, flags: u32) -> hh_status {
    guard(std::ptr::null_mut(), || {
        spans::end(span, keep_handle(flags)?)
    })
}

/// Whether `flags` (of `hh_span_end_ex` / `hh_span_end_attrs`) ask to keep the handle.
pub(crate) fn keep_handle(flags: u32) -> Result<bool> {
    if flags & !HH_END_KEEP_HANDLE != 0 {
        return Err(Error::arg(format!("unknown flags {flags:#x}")));
    }
    Ok(flags & HH_END_KEEP_HANDLE != 0)
}

/// Releases a handle kept by `hh_span_end_ex(..., HH_END_KEEP_HANDLE)`, ending the span first
/// if it is still open. Idempotent; safe from finalizers. Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_span_release(span: hh_span) -> hh_status {
    guard(std::ptr::null_mut(), || {
        if span == 0 {
            return Err(Error::new(
                ErrorKind::InvalidHandle,
                "not a valid span handle (stale, reused, or another kind)",
            ));
        }
        spans::release(&[span])
    })
}

/// `hh_span_release` for each of `count` handles (0 entries are skipped): one call for a
/// binding that releases spans in batches. Every valid handle is released; returns the first
/// failure (`HH_ERR_INVALID_HANDLE` for a stale or forged handle), `HH_OK` when none failed;
/// `HH_ERR_NULL_ARGUMENT` for a NULL `spans` with a non-zero `count`, `HH_ERR_INVALID_ARGUMENT`
/// for a `count` no memory could hold (nothing released). Thread-safe.
///
/// # Safety
/// `spans` points to `count` readable handles (or is NULL when `count` is 0).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_release_many(spans: *const hh_span, count: usize) -> hh_status {
    if count == 0 {
        return hh_status::HH_OK;
    }
    if spans.is_null() {
        return hh_status::HH_ERR_NULL_ARGUMENT;
    }
    // A count no memory can hold would make the slice itself undefined.
    if count > isize::MAX as usize / std::mem::size_of::<hh_span>() {
        return hh_status::HH_ERR_INVALID_ARGUMENT;
    }
    // SAFETY: non-NULL, `count` handles fit in memory, and are readable per the contract.
    let spans = unsafe { std::slice::from_raw_parts(spans, count) };
    guard(std::ptr::null_mut(), || spans::release(spans))
}

/// Writes the span's W3C context: `traceparent` (55 characters and a NUL; `traceparent_len >=
/// HH_TRACEPARENT_BUF_LEN`) and `baggage` (session_id, project, source, and evaluation ids).
/// `*baggage_len`, when not NULL, receives the baggage length without the NUL, also with
/// `HH_ERR_BUFFER_TOO_SMALL`, so the caller can retry with a larger buffer. Works on live,
/// recently ended and remote spans. Thread-safe.
///
/// # Safety
/// `traceparent` is writable for `traceparent_len` bytes, `baggage` for `baggage_buf_len`
/// bytes; `baggage_len` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_inject(
    span: hh_span,
    traceparent: *mut c_char,
    traceparent_len: usize,
    baggage: *mut c_char,
    baggage_buf_len: usize,
    baggage_len: *mut usize,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        let (tp, bag) = spans::inject(span)?;
        if !baggage_len.is_null() {
            // SAFETY: non-NULL and writable per this function's contract.
            unsafe { *baggage_len = bag.len() };
        }
        // Both buffers are checked before either is written: outputs only on success.
        non_null(traceparent, "traceparent")?;
        non_null(baggage, "baggage")?;
        if traceparent_len <= tp.len() || baggage_buf_len <= bag.len() {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!(
                    "traceparent needs {} bytes, baggage {} bytes",
                    tp.len() + 1,
                    bag.len() + 1
                ),
            ));
        }
        // SAFETY: forwarded from this function's contract; sizes checked above.
        unsafe {
            write_out(&bag, baggage, baggage_buf_len, std::ptr::null_mut())?;
            write_out(&tp, traceparent, traceparent_len, std::ptr::null_mut())
        }
    })
}

/// Copies the span's session id and a NUL into `buf` (`HH_SESSION_ID_BUF_LEN` bytes suffice
/// for ids made by this library); `*out_len` as in `hh_tracer_session_id`.
/// `HH_ERR_INVALID_ARGUMENT` when the span has no session. Thread-safe.
///
/// # Safety
/// `buf` is writable for `buf_len` bytes; `out_len` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_session_id(
    span: hh_span,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        let session = spans::session_id(span)?;
        // SAFETY: forwarded from this function's contract.
        unsafe { write_out(&session, buf, buf_len, out_len) }
    })
}
