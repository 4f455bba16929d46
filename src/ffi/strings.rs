//! C strings in and out: NULL checks, UTF-8 validation, bounded copies into caller buffers.

use crate::error::{Error, ErrorKind, Result};
use std::ffi::{c_char, CStr};

/// Borrows a required NUL-terminated UTF-8 argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for the duration of the call.
#[inline(always)]
pub(crate) unsafe fn required<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    // SAFETY: forwarded from the caller's contract.
    match unsafe { optional(p, name) } {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(null_argument(name)),
        Err(e) => Err(e),
    }
}

/// Borrows an optional NUL-terminated UTF-8 argument (NULL gives `None`).
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for the duration of the call.
// Inlined (with the error paths kept out of line): on the span hot path a returned
// `Result` was read back from the stack wider than it was written, stalling the load.
#[inline(always)]
pub(crate) unsafe fn optional<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    // Names, keys and ids are ASCII nearly always: checked a word at a time.
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return Ok(Some(unsafe { std::str::from_utf8_unchecked(bytes) }));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Some(s)),
        Err(_) => Err(invalid_utf8(name)),
    }
}

#[cold]
#[inline(never)]
pub(crate) fn null_argument(name: &str) -> Error {
    Error::new(
        ErrorKind::NullArgument,
        format!("`{name}` must not be NULL"),
    )
}

#[cold]
#[inline(never)]
fn invalid_utf8(name: &str) -> Error {
    Error::new(
        ErrorKind::InvalidUtf8,
        format!("`{name}` is not valid UTF-8"),
    )
}

/// Copies `s` plus a NUL into `buf` if it fits; always reports the length needed (without the
/// NUL) through `out_len` when that is not NULL.
///
/// # Safety
/// `buf` is NULL or writable for `buf_len` bytes; `out_len` is NULL or writable.
pub(crate) unsafe fn write_out(
    s: &str,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> Result<()> {
    if !out_len.is_null() {
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe { *out_len = s.len() };
    }
    if buf.is_null() {
        return Err(Error::new(
            ErrorKind::NullArgument,
            "output buffer must not be NULL",
        ));
    }
    if buf_len < s.len() + 1 {
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!(
                "buffer of {buf_len} bytes is too small: {} needed",
                s.len() + 1
            ),
        ));
    }
    // SAFETY: `buf` is writable for `buf_len >= s.len() + 1` bytes and cannot overlap `s`,
    // which the library owns.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), buf, s.len());
        *buf.add(s.len()) = 0;
    }
    Ok(())
}

/// Fails with `NullArgument` when a required out-pointer is NULL.
pub(crate) fn non_null<T>(p: *mut T, name: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::new(
            ErrorKind::NullArgument,
            format!("`{name}` must not be NULL"),
        ))
    } else {
        Ok(())
    }
}
