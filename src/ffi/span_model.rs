//! The OpenTelemetry span model: start with options (kind, start time, links, typed initial
//! attributes, a remote parent by ids), events, links, status, rename, exceptions with a
//! stack trace, an explicit end time, and a span's ids.

use super::span::{event_type_name, keep_handle};
use super::span_attrs::{hh_attr, key_values};
use super::strings::{non_null, optional, required};
use super::{guard, hh_error, hh_event_type, hh_span, hh_status, hh_tracer};
use crate::enrich;
use crate::error::{Error, Result};
use crate::registry::spans::{self, StartOptions};
use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId};
use std::ffi::c_char;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `hh_span_options.kind`: an internal operation (the default).
pub const HH_SPAN_KIND_INTERNAL: u32 = 0;
/// Handles an incoming request.
pub const HH_SPAN_KIND_SERVER: u32 = 1;
/// Makes an outgoing request.
pub const HH_SPAN_KIND_CLIENT: u32 = 2;
/// Sends a message.
pub const HH_SPAN_KIND_PRODUCER: u32 = 3;
/// Receives a message.
pub const HH_SPAN_KIND_CONSUMER: u32 = 4;

/// `hh_span_set_status`: no status (changes nothing).
pub const HH_SPAN_STATUS_UNSET: u32 = 0;
/// The operation succeeded; final (later statuses are ignored).
pub const HH_SPAN_STATUS_OK: u32 = 1;
/// The operation failed; replaces Unset (and an earlier Error).
pub const HH_SPAN_STATUS_ERROR: u32 = 2;

/// Flag for `hh_span_record_error_ex`: the exception left the span's scope
/// (`exception.escaped` "True").
pub const HH_ERROR_ESCAPED: u32 = 1;

/// Events a span keeps; more are dropped and counted (`droppedEventsCount`).
pub const HH_MAX_EVENTS_PER_SPAN: u32 = 1024;
/// Links a span keeps; more are dropped and counted (`droppedLinksCount`).
pub const HH_MAX_LINKS_PER_SPAN: u32 = 128;
/// Attributes an event or a link keeps; more are dropped and counted.
pub const HH_MAX_ATTRIBUTES_PER_EVENT: u32 = 128;

/// Links one `hh_span_start_ex` call may pass (those past `HH_MAX_LINKS_PER_SPAN` are dropped
/// and counted); more is refused.
const MAX_LINKS_PER_CALL: usize = 1024;

/// A span's ids (OpenTelemetry's SpanContext).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct hh_span_context {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// Bit 0: sampled.
    pub trace_flags: u8,
    /// Whether the context came from another process.
    pub is_remote: CBool,
}

/// A C `bool` field as the library reads it: a byte, non-zero meaning true (a Rust `bool`
/// read from C memory holding any other byte than 0 or 1 would be undefined behaviour).
/// Written `bool` in the header (cbindgen.toml renames it and does not emit the alias).
pub type CBool = u8;

/// A link to another span, with attributes (any namespace).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct hh_link {
    pub context: hh_span_context,
    /// May be NULL when `attrs_len` is 0.
    pub attrs: *const hh_attr,
    pub attrs_len: usize,
}

/// Options of `hh_span_start_ex`; a zeroed struct (or NULL) means `hh_span_start`'s defaults.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct hh_span_options {
    /// An `HH_SPAN_KIND_*` value.
    pub kind: u32,
    /// Unix-epoch nanoseconds; 0: now.
    pub start_time_unix_nano: u64,
    /// Links to other spans (NULL allowed when `links_len` is 0).
    pub links: *const hh_link,
    pub links_len: usize,
    /// Typed initial attributes, with `attributes_json` (a key in both keeps this value).
    pub attrs: *const hh_attr,
    pub attrs_len: usize,
    /// Used when `parent` is 0: a remote parent given by ids (e.g. an OpenTelemetry
    /// SpanContext); the span takes its tracer's session (or `session_id`). NULL: none.
    pub parent_context: *const hh_span_context,
}

/// A Unix-epoch nanosecond time (0: `None`, now).
fn time(unix_nano: u64) -> Option<SystemTime> {
    (unix_nano != 0).then(|| UNIX_EPOCH + Duration::from_nanos(unix_nano))
}

fn kind(k: u32) -> Result<SpanKind> {
    Ok(match k {
        HH_SPAN_KIND_INTERNAL => SpanKind::Internal,
        HH_SPAN_KIND_SERVER => SpanKind::Server,
        HH_SPAN_KIND_CLIENT => SpanKind::Client,
        HH_SPAN_KIND_PRODUCER => SpanKind::Producer,
        HH_SPAN_KIND_CONSUMER => SpanKind::Consumer,
        _ => return Err(Error::arg(format!("unknown span kind {k}"))),
    })
}

fn span_context(c: &hh_span_context) -> Result<SpanContext> {
    let cx = SpanContext::new(
        TraceId::from_bytes(c.trace_id),
        SpanId::from_bytes(c.span_id),
        TraceFlags::new(c.trace_flags),
        c.is_remote != 0,
        Default::default(),
    );
    if !cx.is_valid() {
        return Err(Error::arg(
            "a span context needs a non-zero trace id and span id",
        ));
    }
    Ok(cx)
}

/// # Safety
/// `l.attrs` points to `l.attrs_len` readable `hh_attr` (or `attrs_len` is 0), their
/// strings and arrays valid.
unsafe fn link(l: &hh_link) -> Result<opentelemetry::trace::Link> {
    let cx = span_context(&l.context)?;
    // SAFETY: forwarded from the caller's contract.
    let attrs = unsafe { key_values(l.attrs, l.attrs_len) }?;
    Ok(spans::link(cx, attrs))
}

/// # Safety
/// As `hh_span_start_ex`'s `options`.
unsafe fn start_options(o: &hh_span_options) -> Result<StartOptions> {
    let links = if o.links_len == 0 {
        Vec::new()
    } else {
        if o.links.is_null() {
            return Err(super::strings::null_argument("links"));
        }
        // As attribute batches: a list no span could take is refused before it is read.
        if o.links_len > MAX_LINKS_PER_CALL {
            return Err(Error::limit(format!(
                "at most {MAX_LINKS_PER_CALL} links per call"
            )));
        }
        // Links past the span's limit are dropped (and counted): only the kept ones are read.
        let read = o.links_len.min(crate::limits::MAX_LINKS_PER_SPAN as usize);
        // SAFETY: non-NULL, at most `links_len` readable links per the contract.
        let list = unsafe { std::slice::from_raw_parts(o.links, read) };
        let mut links = Vec::with_capacity(o.links_len);
        for l in list {
            // SAFETY: forwarded from the caller's contract.
            links.push(unsafe { link(l) }?);
        }
        // The rest only to be counted as dropped.
        links.resize(
            o.links_len,
            opentelemetry::trace::Link::with_context(SpanContext::empty_context()),
        );
        links
    };
    Ok(StartOptions {
        kind: kind(o.kind)?,
        start_time: time(o.start_time_unix_nano),
        links,
        // SAFETY: forwarded from the caller's contract.
        attributes: unsafe { key_values(o.attrs, o.attrs_len) }?,
        parent_context: if o.parent_context.is_null() {
            None
        } else {
            // SAFETY: non-NULL and readable per the contract.
            Some(span_context(unsafe { &*o.parent_context })?)
        },
    })
}

/// `hh_span_start` with options (see `hh_span_options`): span kind, start time, links, typed
/// initial attributes (any key, arrays included) and a remote parent given by ids.
/// `options` NULL is `hh_span_start`. Links past `HH_MAX_LINKS_PER_SPAN` are dropped and
/// counted (not read); more than 1024 give `HH_ERR_LIMIT_EXCEEDED`. Errors: those of `hh_span_start`, and `HH_ERR_INVALID_ARGUMENT` for an unknown
/// kind, a zero trace or span id in a link or parent context, or a bad attribute (`err`
/// names it). Thread-safe; never waits for the network.
///
/// # Safety
/// As `hh_span_start`; `options` is NULL or readable, its `links`, `attrs` and
/// `parent_context` as documented on `hh_span_options` (strings and arrays valid for the
/// call; the library copies what it keeps).
#[no_mangle]
#[must_use]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn hh_span_start_ex(
    tracer: hh_tracer,
    name: *const c_char,
    event_type: hh_event_type,
    parent: hh_span,
    session_id: *const c_char,
    attributes_json: *const c_char,
    options: *const hh_span_options,
    out_span: *mut hh_span,
    err: *mut hh_error,
) -> hh_status {
    if options.is_null() {
        // SAFETY: forwarded from this function's contract.
        return unsafe {
            super::span::hh_span_start(
                tracer,
                name,
                event_type,
                parent,
                session_id,
                attributes_json,
                out_span,
                err,
            )
        };
    }
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
        // SAFETY: non-NULL and readable per this function's contract.
        let opts = unsafe { start_options(&*options) }?;
        let attributes = match attrs {
            Some(json) => enrich::initial_attributes(json)?,
            None => Vec::new(),
        };
        let handle =
            spans::start_with(tracer, name, event_type, parent, session, attributes, &opts)?;
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { *out_span = handle };
        Ok(())
    })
}

/// Adds an event to a live span: `name` (required, non-empty), `attrs_len` attributes (any
/// namespace, arrays included; past `HH_MAX_ATTRIBUTES_PER_EVENT` dropped and counted), at
/// `time_unix_nano` (0: now). Past `HH_MAX_EVENTS_PER_SPAN` events the event is dropped and
/// counted. Errors: `HH_ERR_INVALID_HANDLE`, `HH_ERR_SPAN_ENDED`, `HH_ERR_TRACER_CLOSED`,
/// `HH_ERR_NULL_ARGUMENT`, `HH_ERR_INVALID_UTF8`, `HH_ERR_INVALID_ARGUMENT` (`err` names a
/// bad attribute), `HH_ERR_LIMIT_EXCEEDED` (more than 1024 attributes). Thread-safe.
///
/// # Safety
/// `name` is NUL-terminated; `attrs` as `hh_span_set_attrs`'s; `err` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_add_event(
    span: hh_span,
    name: *const c_char,
    attrs: *const hh_attr,
    attrs_len: usize,
    time_unix_nano: u64,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        // SAFETY: NUL-terminated per this function's contract.
        let name = unsafe { required(name, "name") }?;
        // SAFETY: forwarded from this function's contract.
        let attrs = unsafe { key_values(attrs, attrs_len) }?;
        spans::add_event(span, name, attrs, time(time_unix_nano))
    })
}

/// Adds a link to another span (its context and attributes) to a live span; past
/// `HH_MAX_LINKS_PER_SPAN` it is dropped and counted. Errors: as `hh_span_add_event`, and
/// `HH_ERR_INVALID_ARGUMENT` for a zero trace or span id. Thread-safe.
///
/// # Safety
/// `link` is readable, its `attrs` as `hh_span_set_attrs`'s; `err` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_add_link(
    span: hh_span,
    link: *const hh_link,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        if link.is_null() {
            return Err(super::strings::null_argument("link"));
        }
        // SAFETY: non-NULL and readable per this function's contract.
        let link = unsafe { self::link(&*link) }?;
        spans::add_link(span, link)
    })
}

/// Sets the span's status (`HH_SPAN_STATUS_*`) as OpenTelemetry does: OK is final, ERROR
/// replaces UNSET (and an earlier ERROR), UNSET changes nothing. `description` (NULL
/// allowed) is kept for ERROR only. Independent of `hh_span_record_error`. Errors:
/// `HH_ERR_INVALID_HANDLE`, `HH_ERR_SPAN_ENDED`, `HH_ERR_TRACER_CLOSED`,
/// `HH_ERR_INVALID_ARGUMENT` (unknown code), `HH_ERR_INVALID_UTF8`. Thread-safe.
///
/// # Safety
/// `description` is NULL or NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_status(
    span: hh_span,
    code: u32,
    description: *const c_char,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        // SAFETY: NULL or NUL-terminated per this function's contract.
        let description = unsafe { optional(description, "description") }?;
        let status = match code {
            HH_SPAN_STATUS_UNSET => Status::Unset,
            HH_SPAN_STATUS_OK => Status::Ok,
            HH_SPAN_STATUS_ERROR => Status::error(description.unwrap_or_default().to_string()),
            _ => return Err(Error::arg(format!("unknown status code {code}"))),
        };
        spans::set_status(span, status)
    })
}

/// Renames a live span (`name` non-empty; over 1024 bytes truncated). The event type chosen
/// at start is kept. Thread-safe.
///
/// # Safety
/// `name` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_name(span: hh_span, name: *const c_char) -> hh_status {
    guard(std::ptr::null_mut(), || {
        // SAFETY: NUL-terminated per this function's contract.
        let name = unsafe { required(name, "name") }?;
        spans::set_name(span, name)
    })
}

/// `hh_span_record_error` with OpenTelemetry's `record_exception` fields: the `exception`
/// event carries `exception.type` (`error_type`, NULL: "Error"), `exception.message`,
/// `exception.stacktrace` (when `stacktrace` is not NULL; truncated past 1 MiB) and
/// `exception.escaped` ("True" with `HH_ERROR_ESCAPED`, else "False": the text the reference
/// SDK sends), at `time_unix_nano` (0: now). Also status ERROR and `honeyhive_error` /
/// `honeyhive_error_type`, as `hh_span_record_error`. Unknown flags give
/// `HH_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
/// `error_type` and `stacktrace` are NULL or NUL-terminated; `message` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_record_error_ex(
    span: hh_span,
    error_type: *const c_char,
    message: *const c_char,
    stacktrace: *const c_char,
    flags: u32,
    time_unix_nano: u64,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        if flags & !HH_ERROR_ESCAPED != 0 {
            return Err(Error::arg(format!("unknown flags {flags:#x}")));
        }
        // SAFETY: NUL-terminated (or NULL where allowed) per this function's contract.
        let (t, m, st) = unsafe {
            (
                optional(error_type, "error_type")?,
                required(message, "message")?,
                optional(stacktrace, "stacktrace")?,
            )
        };
        spans::record_error_ex(
            span,
            t,
            m,
            st,
            flags & HH_ERROR_ESCAPED != 0,
            time(time_unix_nano),
        )
    })
}

/// `hh_span_end_ex` with an explicit end time (Unix-epoch nanoseconds; 0: now), for work
/// measured elsewhere. `flags` as `hh_span_end_ex`'s. Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_span_end_at(span: hh_span, end_time_unix_nano: u64, flags: u32) -> hh_status {
    guard(std::ptr::null_mut(), || {
        spans::end_at(span, keep_handle(flags)?, time(end_time_unix_nano))
    })
}

/// Writes the span's ids (trace id, span id, flags, whether remote) to `*out`: of a live,
/// recently ended or remote span (from `hh_tracer_extract`), without injecting a header.
/// `HH_ERR_INVALID_HANDLE` for a stale handle, `HH_ERR_NULL_ARGUMENT` for a NULL `out`.
/// Thread-safe.
///
/// # Safety
/// `out` is writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_get_context(
    span: hh_span,
    out: *mut hh_span_context,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        non_null(out, "out")?;
        let cx = spans::context(span)?;
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe {
            *out = hh_span_context {
                trace_id: cx.trace_id().to_bytes(),
                span_id: cx.span_id().to_bytes(),
                trace_flags: cx.trace_flags().to_u8(),
                is_remote: CBool::from(cx.is_remote()),
            }
        };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_limits_are_the_library_limits() {
        assert_eq!(HH_MAX_EVENTS_PER_SPAN, crate::limits::MAX_EVENTS_PER_SPAN);
        assert_eq!(HH_MAX_LINKS_PER_SPAN, crate::limits::MAX_LINKS_PER_SPAN);
        assert_eq!(
            HH_MAX_ATTRIBUTES_PER_EVENT,
            crate::limits::MAX_ATTRIBUTES_PER_EVENT
        );
        assert_eq!(
            HH_MAX_ATTRIBUTES_PER_EVENT,
            crate::limits::MAX_ATTRIBUTES_PER_LINK
        );
    }

    /// `is_remote` is a byte of C memory: any non-zero value is true (C code may leave a byte
    /// other than 0 or 1 there, e.g. from a memcpy or a union).
    #[test]
    fn is_remote_reads_any_non_zero_byte_as_true() {
        let mut c = hh_span_context {
            trace_id: [1; 16],
            span_id: [2; 8],
            trace_flags: 1,
            is_remote: 0,
        };
        for (byte, remote) in [(0u8, false), (1, true), (2, true), (0xff, true)] {
            c.is_remote = byte;
            assert_eq!(span_context(&c).map(|cx| cx.is_remote()).ok(), Some(remote));
        }
        assert_eq!(std::mem::size_of::<CBool>(), std::mem::size_of::<bool>());
    }
}
