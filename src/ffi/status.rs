//! Status codes, the caller-owned error detail struct, and version information.

use crate::error::Error;
use std::ffi::c_char;

/// The status codes: written once, in the core (`crate::error::Status`), which also derives
/// `ErrorKind`, the mapping and the names from them; cbindgen renames the type `hh_status`.
pub use crate::error::Status as hh_status;

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
    let name = hh_status::from_code(status).map_or("HH_UNKNOWN_STATUS\0", hh_status::name_nul);
    name.as_ptr().cast()
}
