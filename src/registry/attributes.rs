//! Typed attributes set on a span after its start: which keys a caller may set, under which
//! namespace prefix, and how values are bounded.

use crate::enrich;
use crate::error::{Error, Result};
use crate::limits;
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};

// A namespace is named by a code (a plain `u32`: a public alias or constant here would be
// exported to the C header): 0 for a key used as given, `n` in 1..=7 for
// `enrich::NAMESPACES[n - 1]` (`honeyhive_inputs.<key>` ... `honeyhive_user_properties.<key>`).
// The C ABI's `HH_NS_*` values are these codes.
type Namespace = u32;

/// The namespace code of a key used as given.
const NO_NAMESPACE: Namespace = 0;

/// The namespace code of an `enrich::NAMESPACES` name ("inputs", "metadata", ...).
pub fn namespace(name: &str) -> Option<u32> {
    enrich::NAMESPACES
        .iter()
        .position(|(n, _)| *n == name)
        .map(|i| i as Namespace + 1)
}

/// A typed value; strings are borrowed (the span keeps its own copy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttrValue<'a> {
    /// Truncated to `limits::MAX_ATTRIBUTE_VALUE_BYTES` on a character boundary.
    Str(&'a str),
    I64(i64),
    F64(f64),
    Bool(bool),
    /// Arrays: past `limits::MAX_ARRAY_ELEMENTS` elements (or `limits::MAX_ARRAY_VALUE_BYTES`
    /// of content: 8 bytes a number or boolean, a string its length) the rest is dropped,
    /// the string across the byte limit cut at a character boundary.
    StrArray(&'a [&'a str]),
    I64Array(&'a [i64]),
    F64Array(&'a [f64]),
    BoolArray(&'a [bool]),
}

/// One attribute of a batch (`spans::set_many`, `spans::end_with`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attribute<'a> {
    /// The namespace code (see `attribute_key`).
    pub ns: u32,
    pub key: &'a str,
    pub value: AttrValue<'a>,
}

/// Keys the library stamps from the span's session and tracer; a raw key may not replace them.
const RESERVED_KEYS: [&str; 6] = [
    "honeyhive.session_id",
    "honeyhive.project",
    "honeyhive.source",
    "traceloop.association.properties.session_id",
    "traceloop.association.properties.project",
    "traceloop.association.properties.source",
];

/// The attribute key for `key` under namespace code `ns` (0: `key` as given, except the keys
/// the library stamps; `n` in 1..=7: under `enrich::NAMESPACES[n - 1]`). Keys repeat on every span: they are
/// interned (see `local::intern_joined`), so most calls allocate nothing.
// Inlined: returned through the stack, its `Result<Key>` was read back wider than it was
// written, stalling store forwarding on every setter.
#[inline(always)]
pub fn attribute_key(ns: u32, key: &str) -> Result<Key> {
    if key.is_empty() || key.len() > limits::MAX_KEY_BYTES {
        return Err(Error::arg("attribute key must be 1..=1024 bytes"));
    }
    let prefix = match ns {
        NO_NAMESPACE if RESERVED_KEYS.contains(&key) => {
            return Err(Error::arg(format!(
                "`{key}` is set by the library from the span's session and tracer"
            )))
        }
        NO_NAMESPACE => "",
        n if (1..=enrich::NAMESPACES.len() as Namespace).contains(&n) => {
            enrich::NAMESPACES[(n - 1) as usize].1
        }
        _ => return Err(Error::arg(format!("unknown namespace {ns}"))),
    };
    Ok(match crate::local::intern_joined(ns as u8, prefix, key) {
        Some(s) => Key::from_static_str(s),
        None if prefix.is_empty() => Key::new(key.to_string()),
        None => Key::new(format!("{prefix}.{key}")),
    })
}

/// The span's copy of a value.
#[inline(always)]
pub fn attribute_value(value: AttrValue<'_>) -> Value {
    match value {
        AttrValue::Str(s) => Value::String(crate::local::string_value(limits::truncate_utf8(
            s,
            limits::MAX_ATTRIBUTE_VALUE_BYTES,
        ))),
        AttrValue::I64(v) => v.into(),
        AttrValue::F64(v) => v.into(),
        AttrValue::Bool(v) => v.into(),
        AttrValue::StrArray(v) => Value::Array(Array::String(bounded_strings(v))),
        AttrValue::I64Array(v) => Value::Array(Array::I64(bounded_scalars(v))),
        AttrValue::F64Array(v) => Value::Array(Array::F64(bounded_scalars(v))),
        AttrValue::BoolArray(v) => Value::Array(Array::Bool(bounded_scalars(v))),
    }
}

/// The elements of a number or boolean array that fit the array limits (8 bytes each).
#[cold]
fn bounded_scalars<T: Copy>(items: &[T]) -> Vec<T> {
    let max = limits::MAX_ARRAY_ELEMENTS.min(limits::MAX_ARRAY_VALUE_BYTES / 8);
    items[..items.len().min(max)].to_vec()
}

/// The elements of a string array that fit the array limits: whole while they fit, the one
/// across the byte limit cut at a character boundary, none after it.
#[cold]
fn bounded_strings(items: &[&str]) -> Vec<StringValue> {
    let mut room = limits::MAX_ARRAY_VALUE_BYTES;
    let mut out = Vec::with_capacity(items.len().min(limits::MAX_ARRAY_ELEMENTS));
    for s in items.iter().take(limits::MAX_ARRAY_ELEMENTS) {
        if room == 0 && !s.is_empty() {
            break;
        }
        let kept = limits::truncate_utf8(s, room);
        room -= kept.len();
        out.push(StringValue::from(kept.to_string()));
    }
    out
}

/// The attribute as the span stores it.
#[inline(always)]
pub fn attribute(a: Attribute<'_>) -> Result<KeyValue> {
    Ok(KeyValue::new(
        attribute_key(a.ns, a.key)?,
        attribute_value(a.value),
    ))
}

/// `attribute(made)` for the attribute `i` of a batch of `count`, an error naming it. Not
/// generic over the caller's maker: one copy of the key rules for every batch.
pub(crate) fn batch_attribute(
    i: usize,
    count: usize,
    made: Result<Attribute<'_>>,
) -> Result<KeyValue> {
    made.and_then(attribute)
        .map_err(|e| Error::new(e.kind, format!("attribute {i} of {count}: {}", e.message)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn namespaces_prefix_keys_and_reserved_keys_are_refused() {
        let meta = namespace("metadata").unwrap();
        assert_eq!(
            attribute_key(meta, "model").unwrap().as_str(),
            "honeyhive_metadata.model"
        );
        assert_eq!(
            attribute_key(NO_NAMESPACE, "custom").unwrap().as_str(),
            "custom"
        );
        // Under a namespace the same text is an ordinary key.
        assert_eq!(
            attribute_key(meta, "honeyhive.session_id")
                .unwrap()
                .as_str(),
            "honeyhive_metadata.honeyhive.session_id"
        );
        for reserved in RESERVED_KEYS {
            let e = attribute_key(NO_NAMESPACE, reserved).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{reserved}");
        }
        assert_eq!(
            attribute_key(8, "k").unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            attribute_key(meta, "").unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
        let long = "k".repeat(limits::MAX_KEY_BYTES + 1);
        assert_eq!(
            attribute_key(meta, &long).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn namespace_codes_follow_the_enrichment_namespaces() {
        for (i, (name, prefix)) in enrich::NAMESPACES.iter().enumerate() {
            let ns = namespace(name).unwrap();
            assert_eq!(ns, i as Namespace + 1);
            assert_eq!(
                attribute_key(ns, "k").unwrap().as_str(),
                format!("{prefix}.k")
            );
        }
        assert_eq!(namespace("nope"), None);
    }

    #[test]
    fn long_strings_are_truncated_and_batch_errors_name_the_attribute() {
        let long = "x".repeat(limits::MAX_ATTRIBUTE_VALUE_BYTES + 10);
        match attribute_value(AttrValue::Str(&long)) {
            Value::String(s) => assert_eq!(s.as_str().len(), limits::MAX_ATTRIBUTE_VALUE_BYTES),
            other => panic!("{other:?}"),
        }
        let make = |i: usize| {
            Ok(Attribute {
                ns: NO_NAMESPACE,
                key: if i == 1 { "" } else { "k" },
                value: AttrValue::I64(i as i64),
            })
        };
        assert!(batch_attribute(0, 2, make(0)).is_ok());
        // Arrays keep their element type and are bounded like strings.
        let many = vec![7i64; limits::MAX_ARRAY_ELEMENTS + 5];
        match attribute_value(AttrValue::I64Array(&many)) {
            Value::Array(Array::I64(v)) => assert_eq!(v.len(), limits::MAX_ARRAY_ELEMENTS),
            other => panic!("{other:?}"),
        }
        let big = "y".repeat(limits::MAX_ARRAY_VALUE_BYTES - 3);
        let strs = [big.as_str(), "abcdef", "zz"];
        match attribute_value(AttrValue::StrArray(&strs)) {
            Value::Array(Array::String(v)) => {
                assert_eq!(v.len(), 2);
                assert_eq!(v[1].as_str(), "abc");
            }
            other => panic!("{other:?}"),
        }
        match attribute_value(AttrValue::BoolArray(&[true, false])) {
            Value::Array(Array::Bool(v)) => assert_eq!(v, vec![true, false]),
            other => panic!("{other:?}"),
        }
        let e = batch_attribute(1, 2, make(1)).unwrap_err();
        assert!(e.message.starts_with("attribute 1 of 2: "), "{}", e.message);
    }
}
