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
/// `hh_attr.items`: `const char *const *`, `hh_attr.len` NUL-terminated UTF-8 strings.
pub const HH_ATTR_STR_ARRAY: hh_attr_type = 5;
/// `hh_attr.items`: `const int64_t *`, `hh_attr.len` of them.
pub const HH_ATTR_I64_ARRAY: hh_attr_type = 6;
/// `hh_attr.items`: `const double *`, `hh_attr.len` of them.
pub const HH_ATTR_F64_ARRAY: hh_attr_type = 7;
/// `hh_attr.items`: `const bool *`, `hh_attr.len` of them.
pub const HH_ATTR_BOOL_ARRAY: hh_attr_type = 8;

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
    /// For the `HH_ATTR_*_ARRAY` types: the elements (NULL allowed when `len` is 0). Arrays
    /// over 65,536 elements or 1 MiB of content are truncated (the rest dropped).
    pub items: *const std::ffi::c_void,
    /// For the `HH_ATTR_*_ARRAY` types: the number of elements in `items`.
    pub len: usize,
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
        // SAFETY: the elements' strings and arrays are valid per this function's contract.
        let arrays = unsafe { converted_arrays(attrs) }?;
        // SAFETY: as above.
        spans::set_many(span, attrs.len(), |i| unsafe {
            attribute(&attrs[i], arrays.get(i))
        })
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
        // SAFETY: the elements' strings and arrays are valid per this function's contract.
        let arrays = unsafe { converted_arrays(attrs) }?;
        // SAFETY: as above.
        spans::end_with(span, keep, attrs.len(), |i| unsafe {
            attribute(&attrs[i], arrays.get(i))
        })
    })
}

/// The caller's list (empty when `count` is 0), checked for NULL.
///
/// # Safety
/// `attrs` points to `count` readable `hh_attr`, or `count` is 0.
pub(crate) unsafe fn attr_list<'a>(attrs: *const hh_attr, count: usize) -> Result<&'a [hh_attr]> {
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

/// String and boolean arrays in Rust's form (a `&str` per C string, a `bool` per C byte),
/// made before the attributes are: `attribute` borrows them.
pub(crate) enum Converted<'a> {
    None,
    Strs(Vec<&'a str>),
    Bools(Vec<bool>),
}

/// The converted arrays of a list, by position; empty (no allocation) when the list holds no
/// string or boolean array.
///
/// # Safety
/// As `attribute`, for every element of `attrs`.
pub(crate) unsafe fn converted_arrays(attrs: &[hh_attr]) -> Result<Vec<Converted<'_>>> {
    if !attrs
        .iter()
        .any(|a| a.r#type == HH_ATTR_STR_ARRAY || a.r#type == HH_ATTR_BOOL_ARRAY)
    {
        return Ok(Vec::new());
    }
    let count = attrs.len();
    attrs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            // SAFETY: forwarded from the caller's contract.
            unsafe { convert(a) }
                .map_err(|e| Error::new(e.kind, format!("attribute {i} of {count}: {}", e.message)))
        })
        .collect()
}

/// # Safety
/// As `attribute`.
unsafe fn convert(a: &hh_attr) -> Result<Converted<'_>> {
    Ok(match a.r#type {
        HH_ATTR_STR_ARRAY => {
            // SAFETY: forwarded from the caller's contract.
            let items = unsafe { items::<*const c_char>(a) }?;
            let mut strs = Vec::with_capacity(items.len());
            for p in items {
                // SAFETY: each element is NULL or NUL-terminated per the contract.
                strs.push(unsafe { required(*p, "items[]") }?);
            }
            Converted::Strs(strs)
        }
        HH_ATTR_BOOL_ARRAY => {
            // Read as bytes: a C `bool` other than 0 or 1 would be undefined as a Rust `bool`.
            // SAFETY: forwarded from the caller's contract.
            let items = unsafe { items::<u8>(a) }?;
            Converted::Bools(items.iter().map(|b| *b != 0).collect())
        }
        _ => Converted::None,
    })
}

/// The elements of an array attribute the library may keep: at most
/// `limits::MAX_ARRAY_ELEMENTS` are read (the rest would be dropped anyway).
///
/// # Safety
/// `a.items` points to `a.len` readable elements of `T`, or `a.len` is 0.
unsafe fn items<T>(a: &hh_attr) -> Result<&[T]> {
    if a.len == 0 {
        return Ok(&[]);
    }
    if a.items.is_null() {
        return Err(super::strings::null_argument("items"));
    }
    let len = a.len.min(crate::limits::MAX_ARRAY_ELEMENTS);
    // SAFETY: non-NULL, `len <= a.len` readable elements per the contract, and at most
    // `MAX_ARRAY_ELEMENTS` of them (far below `isize::MAX` bytes).
    Ok(unsafe { std::slice::from_raw_parts(a.items.cast::<T>(), len) })
}

/// The attribute an `hh_attr` describes (the registry checks its key and bounds its value,
/// and names it in an error); `converted` is its entry of `converted_arrays`.
///
/// # Safety
/// `a.key` (and `a.str` for a string) is NULL or NUL-terminated; for an array type
/// `a.items` points to `a.len` readable elements (or `a.len` is 0).
pub(crate) unsafe fn attribute<'a>(
    a: &'a hh_attr,
    converted: Option<&'a Converted<'a>>,
) -> Result<Attribute<'a>> {
    // SAFETY: forwarded from the caller's contract.
    let key = unsafe { required(a.key, "key") }?;
    let value = match (a.r#type, converted) {
        // SAFETY: forwarded from the caller's contract.
        (HH_ATTR_STR, _) => AttrValue::Str(unsafe { required(a.str, "str") }?),
        (HH_ATTR_I64, _) => AttrValue::I64(a.i64),
        (HH_ATTR_F64, _) => AttrValue::F64(a.f64),
        (HH_ATTR_BOOL, _) => AttrValue::Bool(a.i64 != 0),
        (HH_ATTR_STR_ARRAY, Some(Converted::Strs(v))) => AttrValue::StrArray(v),
        (HH_ATTR_BOOL_ARRAY, Some(Converted::Bools(v))) => AttrValue::BoolArray(v),
        // SAFETY: forwarded from the caller's contract.
        (HH_ATTR_I64_ARRAY, _) => AttrValue::I64Array(unsafe { items::<i64>(a) }?),
        // SAFETY: forwarded from the caller's contract.
        (HH_ATTR_F64_ARRAY, _) => AttrValue::F64Array(unsafe { items::<f64>(a) }?),
        (t, _) => return Err(Error::arg(format!("unknown attribute type {t}"))),
    };
    Ok(Attribute {
        ns: a.ns,
        key,
        value,
    })
}

/// The attributes of an event or a link, as a span keeps them (keys checked as
/// `hh_span_set_attrs` does, values bounded; an error names the attribute).
///
/// # Safety
/// As `hh_span_set_attrs`'s `attrs` and `count`.
pub(crate) unsafe fn key_values(
    attrs: *const hh_attr,
    count: usize,
) -> Result<Vec<opentelemetry::KeyValue>> {
    // SAFETY: forwarded from the caller's contract.
    let attrs = unsafe { attr_list(attrs, count) }?;
    // SAFETY: forwarded from the caller's contract.
    let arrays = unsafe { converted_arrays(attrs) }?;
    (0..attrs.len())
        .map(|i| {
            // SAFETY: forwarded from the caller's contract.
            let made = unsafe { attribute(&attrs[i], arrays.get(i)) };
            crate::registry::attributes::batch_attribute(i, attrs.len(), made)
        })
        .collect()
}
