//! `hh_span_set_attrs`: several typed attributes in one call. Each crossing of the C boundary
//! costs a binding (cgo above all) far more than the setter's own work, so a span's
//! attributes can be handed over at once.

use super::span::keep_handle;
use super::strings::required;
use super::{guard, hh_error, hh_namespace, hh_span, hh_status};
use crate::error::{Error, Result};
use crate::registry::{spans, AttrValue, Attribute};
use std::os::raw::c_char;

/// The type of an `hh_attr`'s value.
pub type hh_attr_type = u32;
/// `hh_attr.str`: a NUL-terminated UTF-8 string (values over 1 MiB are truncated).
pub const HH_ATTR_STR: hh_attr_type = 1;
/// `hh_attr.i64`.
pub const HH_ATTR_I64: hh_attr_type = 2;
/// `hh_attr.f64`.
pub const HH_ATTR_F64: hh_attr_type = 3;
/// `hh_attr.i64`: 0 is false, anything else true.
pub const HH_ATTR_BOOL: hh_attr_type = 4;

/// One typed attribute for `hh_span_set_attrs`: `key` under namespace `ns` (an `HH_NS_*`
/// value), its value in the field `type` names (the others are ignored).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct hh_attr {
    pub ns: hh_namespace,
    /// One of the `HH_ATTR_*` values.
    pub r#type: hh_attr_type,
    /// NUL-terminated UTF-8, 1..=1024 bytes.
    pub key: *const c_char,
    /// For `HH_ATTR_STR`: NUL-terminated UTF-8.
    pub str: *const c_char,
    /// For `HH_ATTR_I64` and `HH_ATTR_BOOL`.
    pub i64: i64,
    /// For `HH_ATTR_F64`.
    pub f64: f64,
}

/// Sets `count` attributes of a live span, all or none: if any is invalid (NULL or non-UTF-8
/// key or string, empty or over-long key, unknown namespace or type, a key the library sets
/// itself) or the span would exceed its attribute limit, nothing is set, the status says why
/// and `err` (if not NULL) names the attribute. The same attributes as the typed setters
/// (`hh_span_set_str` ...) called in order. `count` 0 does nothing. Thread-safe.
///
/// Errors: `HH_ERR_INVALID_HANDLE`, `HH_ERR_SPAN_ENDED`, `HH_ERR_NULL_ARGUMENT` (`attrs` NULL
/// with `count` > 0, or a NULL string), `HH_ERR_INVALID_UTF8`, `HH_ERR_INVALID_ARGUMENT`,
/// `HH_ERR_LIMIT_EXCEEDED`, `HH_ERR_TRACER_CLOSED`.
///
/// # Safety
/// `attrs` points to `count` readable `hh_attr` (or is NULL when `count` is 0); their strings
/// are valid for the duration of the call (the library copies what it keeps).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_attrs(
    span: hh_span,
    attrs: *const hh_attr,
    count: usize,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        // SAFETY: forwarded from this function's contract.
        let attrs = unsafe { attr_list(attrs, count) }?;
        // SAFETY: the elements' strings are valid per this function's contract.
        spans::set_many(span, attrs.len(), |i| unsafe { attribute(&attrs[i]) })
    })
}

/// `hh_span_set_attrs` then `hh_span_end_ex(span, flags)`, in one call: for attributes known
/// when the work is done (outputs, token counts, scores). When the attributes are refused
/// (see `hh_span_set_attrs`) the span is NOT ended: the status says why, `err` (if not NULL)
/// names the attribute, and the caller ends it. With `count` 0 it is `hh_span_end_ex`. On an
/// already ended span: `HH_ERR_SPAN_ENDED` when `count` > 0 (the attributes would be lost).
/// After the tracer's close: `HH_ERR_TRACER_CLOSED`, and the span is ended and dropped
/// (counted in `spans_dropped`), as `hh_span_end` does. Thread-safe.
///
/// Errors: those of `hh_span_set_attrs` and `hh_span_end_ex`.
///
/// # Safety
/// As `hh_span_set_attrs`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_end_attrs(
    span: hh_span,
    attrs: *const hh_attr,
    count: usize,
    flags: u32,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        // SAFETY: forwarded from this function's contract.
        let attrs = unsafe { attr_list(attrs, count) }?;
        let keep = keep_handle(flags)?;
        // SAFETY: the elements' strings are valid per this function's contract.
        spans::end_with(span, keep, attrs.len(), |i| unsafe { attribute(&attrs[i]) })
    })
}

/// The caller's list (empty when `count` is 0), checked for NULL.
///
/// # Safety
/// `attrs` points to `count` readable `hh_attr`, or `count` is 0.
unsafe fn attr_list<'a>(attrs: *const hh_attr, count: usize) -> Result<&'a [hh_attr]> {
    if count == 0 {
        return Ok(&[]);
    }
    if attrs.is_null() {
        return Err(super::strings::null_argument("attrs"));
    }
    // Before the slice is made: a count past the limit is refused anyway, and one past
    // `isize::MAX` bytes would make the slice itself undefined.
    crate::registry::spans::check_batch(count)?;
    // SAFETY: non-NULL, at most the batch limit, and `count` readable elements per the
    // contract.
    Ok(unsafe { std::slice::from_raw_parts(attrs, count) })
}

/// The attribute an `hh_attr` describes (the registry checks its key and bounds its value,
/// and names it in an error).
///
/// # Safety
/// `a.key` (and `a.str` for a string) is NULL or NUL-terminated.
unsafe fn attribute(a: &hh_attr) -> Result<Attribute<'_>> {
    // SAFETY: forwarded from the caller's contract.
    let key = unsafe { required(a.key, "key") }?;
    let value = match a.r#type {
        // SAFETY: forwarded from the caller's contract.
        HH_ATTR_STR => AttrValue::Str(unsafe { required(a.str, "str") }?),
        HH_ATTR_I64 => AttrValue::I64(a.i64),
        HH_ATTR_F64 => AttrValue::F64(a.f64),
        HH_ATTR_BOOL => AttrValue::Bool(a.i64 != 0),
        t => return Err(Error::arg(format!("unknown attribute type {t}"))),
    };
    Ok(Attribute {
        ns: a.ns,
        key,
        value,
    })
}
