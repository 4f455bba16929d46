//! Status codes, the caller-owned error detail struct, and version information.

use crate::error::{Error, ErrorKind};
use std::ffi::c_char;

/// Result of every fallible function. Numeric values are stable across releases.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hh_status {
    /// Success.
    HH_OK = 0,
    /// A required pointer argument was NULL.
    HH_ERR_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    HH_ERR_INVALID_UTF8 = 2,
    /// JSON text did not parse or did not have the expected shape.
    HH_ERR_INVALID_JSON = 3,
    /// A configuration value is invalid; the error message names the field.
    HH_ERR_INVALID_CONFIG = 4,
    /// Any other invalid argument (event type, session id, header value, empty name).
    HH_ERR_INVALID_ARGUMENT = 5,
    /// Unknown, stale (closed and reused) or wrong-kind handle.
    HH_ERR_INVALID_HANDLE = 6,
    /// The span already ended.
    HH_ERR_SPAN_ENDED = 7,
    /// The tracer (or the span's tracer) is closed.
    HH_ERR_TRACER_CLOSED = 8,
    /// Input over a documented limit (size, nesting depth, attribute count).
    HH_ERR_LIMIT_EXCEEDED = 9,
    /// An output buffer is too small; the `out_len` argument tells the size needed.
    HH_ERR_BUFFER_TOO_SMALL = 10,
    /// flush/close did not finish within the timeout.
    HH_ERR_TIMEOUT = 11,
    /// flush/close finished, but some spans or session calls were not delivered.
    HH_ERR_EXPORT_FAILED = 12,
    /// An internal panic was contained; the library remains usable.
    HH_ERR_PANIC = 13,
    /// An internal error (for example the background runtime could not start).
    HH_ERR_INTERNAL = 14,
}

impl From<ErrorKind> for hh_status {
    fn from(k: ErrorKind) -> Self {
        use hh_status::*;
        match k {
            ErrorKind::NullArgument => HH_ERR_NULL_ARGUMENT,
            ErrorKind::InvalidUtf8 => HH_ERR_INVALID_UTF8,
            ErrorKind::InvalidJson => HH_ERR_INVALID_JSON,
            ErrorKind::InvalidConfig => HH_ERR_INVALID_CONFIG,
            ErrorKind::InvalidArgument => HH_ERR_INVALID_ARGUMENT,
            ErrorKind::InvalidHandle => HH_ERR_INVALID_HANDLE,
            ErrorKind::SpanEnded => HH_ERR_SPAN_ENDED,
            ErrorKind::TracerClosed => HH_ERR_TRACER_CLOSED,
            ErrorKind::LimitExceeded => HH_ERR_LIMIT_EXCEEDED,
            ErrorKind::BufferTooSmall => HH_ERR_BUFFER_TOO_SMALL,
            ErrorKind::Timeout => HH_ERR_TIMEOUT,
            ErrorKind::ExportFailed => HH_ERR_EXPORT_FAILED,
            ErrorKind::Panic => HH_ERR_PANIC,
            ErrorKind::Internal => HH_ERR_INTERNAL,
        }
    }
}

/// Size of `hh_error.message`, including the terminating NUL.
pub const HH_ERROR_MESSAGE_LEN: usize = 256;
/// Buffer size that always fits a session id: 36 characters and a NUL.
pub const HH_SESSION_ID_BUF_LEN: usize = 37;
/// Buffer size that always fits a `traceparent` value: 55 characters and a NUL.
pub const HH_TRACEPARENT_BUF_LEN: usize = 56;

/// Optional, caller-owned error detail. Functions that take an `hh_error *err` fill it on
/// failure when `err` is not NULL and leave it untouched on success. No global or
/// thread-local "last error" exists.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct hh_error {
    /// The same status the function returned.
    pub status: hh_status,
    /// NUL-terminated UTF-8 message; never contains an API key.
    pub message: [c_char; HH_ERROR_MESSAGE_LEN],
}

/// Writes `e` into a caller's `hh_error` (if any); returns the status for `e`.
///
/// # Safety
/// `err` is NULL or points to writable memory for one `hh_error`.
pub(crate) unsafe fn report(err: *mut hh_error, e: &Error) -> hh_status {
    let status = hh_status::from(e.kind);
    if !err.is_null() {
        // SAFETY: the caller guarantees `err` points to one writable hh_error.
        let out = unsafe { &mut *err };
        out.status = status;
        let msg = crate::limits::truncate_utf8(&e.message, HH_ERROR_MESSAGE_LEN - 1).as_bytes();
        for (dst, src) in out.message.iter_mut().zip(msg) {
            *dst = *src as c_char;
        }
        out.message[msg.len()] = 0;
    }
    status
}

/// The library version, e.g. "0.1.0". Static storage: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn hh_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a status code, e.g. "HH_ERR_INVALID_JSON" ("HH_UNKNOWN_STATUS" for values
/// that are not an `hh_status`). Static storage: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn hh_status_name(status: i32) -> *const c_char {
    let name: &'static str = match status {
        0 => "HH_OK\0",
        1 => "HH_ERR_NULL_ARGUMENT\0",
        2 => "HH_ERR_INVALID_UTF8\0",
        3 => "HH_ERR_INVALID_JSON\0",
        4 => "HH_ERR_INVALID_CONFIG\0",
        5 => "HH_ERR_INVALID_ARGUMENT\0",
        6 => "HH_ERR_INVALID_HANDLE\0",
        7 => "HH_ERR_SPAN_ENDED\0",
        8 => "HH_ERR_TRACER_CLOSED\0",
        9 => "HH_ERR_LIMIT_EXCEEDED\0",
        10 => "HH_ERR_BUFFER_TOO_SMALL\0",
        11 => "HH_ERR_TIMEOUT\0",
        12 => "HH_ERR_EXPORT_FAILED\0",
        13 => "HH_ERR_PANIC\0",
        14 => "HH_ERR_INTERNAL\0",
        _ => "HH_UNKNOWN_STATUS\0",
    };
    name.as_ptr().cast()
}
