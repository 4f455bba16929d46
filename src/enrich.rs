//! Enrichment: JSON namespaces flattened into span attributes exactly as the reference
//! `enrich_span` / `_set_span_attributes` do (dicts recurse into `ns.key.sub`, lists into
//! `ns.key.0`, nulls skipped), and session enrichment bodies (`PUT /events`).

use crate::config::parse_json;
use crate::error::{Error, Result};
use crate::limits;
use opentelemetry::{Key, KeyValue, Value as OtelValue};
use serde_json::{Map, Value};

/// The enrichment namespaces and their attribute prefixes, in the order they are applied.
pub const NAMESPACES: [(&str, &str); 7] = [
    ("inputs", "honeyhive_inputs"),
    ("outputs", "honeyhive_outputs"),
    ("metadata", "honeyhive_metadata"),
    ("metrics", "honeyhive_metrics"),
    ("feedback", "honeyhive_feedback"),
    ("config", "honeyhive_config"),
    ("user_properties", "honeyhive_user_properties"),
];

/// Event types a caller may set explicitly.
pub const EVENT_TYPES: [&str; 3] = ["model", "tool", "chain"];

/// Parses enrichment JSON and flattens it into attributes. Nothing is applied on error.
pub fn span_enrichment(json: &str) -> Result<Vec<KeyValue>> {
    let Value::Object(map) = parse_json(json, "enrichment")? else {
        return Err(Error::json("enrichment", "must be a JSON object"));
    };
    let mut out = Vec::new();
    for (name, prefix) in NAMESPACES {
        if let Some(v) = map.get(name) {
            flatten(prefix, v, &mut out)?;
        }
    }
    if let Some(v) = map.get("attributes") {
        flatten("honeyhive_metadata", v, &mut out)?;
    }
    for (k, v) in &map {
        match k.as_str() {
            "error" => match v {
                Value::Null => {}
                Value::String(s) => out.push(KeyValue::new("honeyhive_error", clip(s))),
                other => out.push(KeyValue::new("honeyhive_error", clip(&other.to_string()))),
            },
            "event_type" => match v {
                Value::String(s) if EVENT_TYPES.contains(&s.as_str()) => {
                    out.push(KeyValue::new("honeyhive_event_type", s.clone()))
                }
                _ => {
                    return Err(Error::arg(
                        "enrichment: event_type must be \"model\", \"tool\" or \"chain\"",
                    ))
                }
            },
            "event_name" => match v {
                Value::String(s) => out.push(KeyValue::new("honeyhive_event_name", clip(s))),
                _ => return Err(Error::arg("enrichment: event_name must be a string")),
            },
            // The reference's `enrich_span(update_event_id=...)`: the span's event id, as given.
            "update_event_id" => match v {
                Value::Null => {}
                Value::String(s) if s.is_empty() => {}
                Value::String(s) => out.push(KeyValue::new("honeyhive_event_id", clip(s))),
                _ => return Err(Error::arg("enrichment: update_event_id must be a string")),
            },
            "attributes" => {}
            k if NAMESPACES.iter().any(|(n, _)| *n == k) => {}
            other => flatten(&format!("honeyhive_metadata.{other}"), v, &mut out)?,
        }
    }
    check_count(&out)?;
    Ok(out)
}

/// Initial span attributes, as the reference's `start_span(attributes=...)` writes them: each under
/// its raw key and again under its normalized key when that differs (`custom.attr` and
/// `custom_attr`). Scalars keep their type; a list of same-typed scalars is one array value;
/// other lists and objects are written as JSON text (the reference writes Python's `repr` under
/// the normalized key, which no other language can reproduce).
pub fn initial_attributes(json: &str) -> Result<Vec<KeyValue>> {
    let Value::Object(map) = parse_json(json, "attributes")? else {
        return Err(Error::json("attributes", "must be a JSON object"));
    };
    let mut out = Vec::new();
    for (k, v) in &map {
        check_key(k)?;
        let Some(value) = attribute_value(v) else {
            continue;
        };
        let normalized = normalize_key(k);
        if normalized != *k {
            put(&mut out, KeyValue::new(k.clone(), value.clone()));
            put(&mut out, KeyValue::new(normalized, value));
        } else {
            put(&mut out, KeyValue::new(k.clone(), value));
        }
        check_count(&out)?;
    }
    Ok(out)
}

/// Writes `kv` as the reference's `set_attribute` does: a key already written (a raw key equal
/// to another's normalized one) gets the later value, so the span holds one value per key.
fn put(out: &mut Vec<KeyValue>, kv: KeyValue) {
    match out.iter_mut().find(|held| held.key == kv.key) {
        Some(held) => held.value = kv.value,
        None => out.push(kv),
    }
}

/// One attribute value for a JSON value (None for null).
fn attribute_value(v: &Value) -> Option<OtelValue> {
    use opentelemetry::{Array, StringValue};
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => OtelValue::Bool(*b),
        Value::Number(n) => number(n),
        Value::String(s) => OtelValue::String(clip(s).into()),
        Value::Array(items) if !items.is_empty() => {
            if items.iter().all(Value::is_boolean) {
                let b = scalars(items).filter_map(Value::as_bool).collect();
                OtelValue::Array(Array::Bool(b))
            } else if items.iter().all(|i| i.as_i64().is_some()) {
                let i = scalars(items).filter_map(Value::as_i64).collect();
                OtelValue::Array(Array::I64(i))
            } else if items.iter().all(Value::is_number) {
                let f = scalars(items).filter_map(Value::as_f64).collect();
                OtelValue::Array(Array::F64(f))
            } else if items.iter().all(Value::is_string) {
                let s = strings(items).map(StringValue::from).collect();
                OtelValue::Array(Array::String(s))
            } else {
                OtelValue::String(clip(&v.to_string()).into())
            }
        }
        other => OtelValue::String(clip(&other.to_string()).into()),
    })
}

/// The elements of a number or boolean array that fit its limits (8 bytes each).
fn scalars(items: &[Value]) -> impl Iterator<Item = &Value> {
    let max = limits::MAX_ARRAY_ELEMENTS.min(limits::MAX_ARRAY_VALUE_BYTES / 8);
    items.iter().take(max)
}

/// The elements of a string array that fit its limits: whole while they fit, the one across
/// the byte limit cut at a UTF-8 boundary, none after it.
fn strings(items: &[Value]) -> impl Iterator<Item = String> + '_ {
    let mut room = limits::MAX_ARRAY_VALUE_BYTES;
    items
        .iter()
        .take(limits::MAX_ARRAY_ELEMENTS)
        .filter_map(Value::as_str)
        .map_while(move |s| {
            if room == 0 && !s.is_empty() {
                return None;
            }
            let kept = limits::truncate_utf8(s, room);
            room -= kept.len();
            Some(kept.to_string())
        })
}

/// `.`, `-` and space become `_`; a leading digit gets `attr_` (the reference SDK's
/// normalization of initial attribute keys).
pub fn normalize_key(k: &str) -> String {
    let mut s: String = k
        .chars()
        .map(|c| if matches!(c, '.' | '-' | ' ') { '_' } else { c })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "attr_");
    }
    s
}

/// Dicts recurse into `prefix.key`, lists into `prefix.index`; nulls and empty containers
/// produce nothing; scalars keep their JSON type.
pub fn flatten(prefix: &str, v: &Value, out: &mut Vec<KeyValue>) -> Result<()> {
    let mut path = String::with_capacity(prefix.len() + 32);
    path.push_str(prefix);
    flatten_into(&mut path, v, out)
}

/// `flatten` with the key built in one buffer (a path is extended and cut back, not copied
/// per level) and, for repeated keys, interned (see `local::intern`).
fn flatten_into(path: &mut String, v: &Value, out: &mut Vec<KeyValue>) -> Result<()> {
    let key = |path: &str| match crate::local::intern(path) {
        Some(s) => Key::from_static_str(s),
        None => Key::new(path.to_string()),
    };
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push(KeyValue::new(key(path), *b)),
        Value::Number(n) => out.push(KeyValue::new(key(path), number(n))),
        Value::String(s) => out.push(KeyValue::new(key(path), clip_shared(s))),
        Value::Array(items) => {
            let len = path.len();
            for (i, item) in items.iter().enumerate() {
                use std::fmt::Write as _;
                let _ = write!(path, ".{i}");
                flatten_into(path, item, out)?;
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            let len = path.len();
            for (k, item) in map {
                path.push('.');
                path.push_str(k);
                flatten_into(path, item, out)?;
                path.truncate(len);
            }
        }
    }
    if out.len() > limits::MAX_ATTRIBUTES_PER_CALL {
        return Err(too_many(out.len()));
    }
    Ok(())
}

/// A string value, clipped, shared when it is short and repeats (see `local::string_value`).
fn clip_shared(s: &str) -> OtelValue {
    OtelValue::String(crate::local::string_value(limits::truncate_utf8(
        s,
        limits::MAX_ATTRIBUTE_VALUE_BYTES,
    )))
}

fn number(n: &serde_json::Number) -> OtelValue {
    match n.as_i64() {
        Some(i) => OtelValue::I64(i),
        None => OtelValue::F64(n.as_f64().unwrap_or(f64::NAN)),
    }
}

fn clip(s: &str) -> String {
    limits::truncate_utf8(s, limits::MAX_ATTRIBUTE_VALUE_BYTES).to_string()
}

fn check_key(k: &str) -> Result<()> {
    if k.is_empty() || k.len() > limits::MAX_KEY_BYTES {
        return Err(Error::arg(format!(
            "attribute keys must be 1..={} bytes",
            limits::MAX_KEY_BYTES
        )));
    }
    Ok(())
}

fn check_count(out: &[KeyValue]) -> Result<()> {
    if out.len() > limits::MAX_ATTRIBUTES_PER_CALL {
        return Err(too_many(out.len()));
    }
    Ok(())
}

fn too_many(n: usize) -> Error {
    Error::limit(format!(
        "one call may set at most {} attributes (got {n} or more)",
        limits::MAX_ATTRIBUTES_PER_CALL
    ))
}

/// Builds the `PUT /events` body for `enrich_session` (`event_id` = the session id; inputs go
/// under `metadata.inputs`), or `None` when every field
/// is empty (nothing is sent then).
pub fn session_enrichment_body(session_id: &str, json: &str) -> Result<Option<Value>> {
    let Value::Object(map) = parse_json(json, "session enrichment")? else {
        return Err(Error::json("session enrichment", "must be a JSON object"));
    };
    let mut metadata = match map.get("metadata") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => {
            return Err(Error::json(
                "session enrichment",
                "metadata must be an object",
            ))
        }
    };
    if let Some(inputs) = map.get("inputs").filter(|v| !is_empty(v)) {
        metadata.insert("inputs".into(), inputs.clone());
    }
    let mut body = Map::new();
    body.insert("event_id".into(), Value::String(session_id.to_string()));
    for (k, v) in &map {
        match k.as_str() {
            "metadata" | "inputs" => {}
            "feedback" | "metrics" | "outputs" | "config" | "user_properties" if !is_empty(v) => {
                body.insert(k.clone(), v.clone());
            }
            "feedback" | "metrics" | "outputs" | "config" | "user_properties" => {}
            "duration" => match v {
                Value::Number(_) => {
                    body.insert("duration".into(), v.clone());
                }
                Value::Null => {}
                _ => {
                    return Err(Error::json(
                        "session enrichment",
                        "duration must be a number",
                    ))
                }
            },
            // Unknown keys join metadata, as the reference's **kwargs do.
            _ if !v.is_null() => {
                metadata.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    if !metadata.is_empty() {
        body.insert("metadata".into(), Value::Object(metadata));
    }
    Ok((body.len() > 1).then_some(Value::Object(body)))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(json: &str) -> Vec<(String, OtelValue)> {
        span_enrichment(json)
            .unwrap()
            .into_iter()
            .map(|kv| (kv.key.to_string(), kv.value))
            .collect()
    }

    #[test]
    fn spec_4_2_example_flattens_with_types() {
        let a =
            attrs(r#"{"metadata":{"nested":{"x":1,"y":[1,2]},"f":1.5,"b":true,"n":null,"e":{}}}"#);
        assert_eq!(
            a,
            vec![
                ("honeyhive_metadata.b".into(), OtelValue::Bool(true)),
                ("honeyhive_metadata.f".into(), OtelValue::F64(1.5)),
                ("honeyhive_metadata.nested.x".into(), OtelValue::I64(1)),
                ("honeyhive_metadata.nested.y.0".into(), OtelValue::I64(1)),
                ("honeyhive_metadata.nested.y.1".into(), OtelValue::I64(2)),
            ]
        );
    }

    #[test]
    fn namespaces_error_event_type_and_extra_keys() {
        let a = attrs(
            r#"{"inputs":{"q":"hi"},"metrics":{"score":0.5},"error":"boom","event_type":"model","custom":7}"#,
        );
        assert!(a.contains(&("honeyhive_inputs.q".into(), OtelValue::String("hi".into()))));
        assert!(a.contains(&("honeyhive_metrics.score".into(), OtelValue::F64(0.5))));
        assert!(a.contains(&("honeyhive_error".into(), OtelValue::String("boom".into()))));
        assert!(a.contains(&(
            "honeyhive_event_type".into(),
            OtelValue::String("model".into())
        )));
        assert!(a.contains(&("honeyhive_metadata.custom".into(), OtelValue::I64(7))));
    }

    #[test]
    fn update_event_id_sets_the_span_event_id() {
        let a = attrs(
            r#"{"update_event_id":"11111111-2222-4333-8444-555555555555","metadata":{"a":1}}"#,
        );
        assert!(a.contains(&(
            "honeyhive_event_id".into(),
            OtelValue::String("11111111-2222-4333-8444-555555555555".into())
        )));
        assert!(
            !a.iter().any(|(k, _)| k.contains("update_event_id")),
            "{a:?}"
        );
        assert!(attrs(r#"{"update_event_id":null}"#).is_empty());
        assert!(span_enrichment(r#"{"update_event_id":5}"#).is_err());
    }

    #[test]
    fn invalid_input_applies_nothing() {
        assert!(span_enrichment(r#"{"event_type":"bogus"}"#).is_err());
        assert!(span_enrichment("[1]").is_err());
        assert!(span_enrichment("{").is_err());
        let many: String = (0..2000)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let e = span_enrichment(&format!("{{\"metadata\":{{{many}}}}}")).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::LimitExceeded);
    }

    #[test]
    fn initial_attributes_are_written_twice_when_normalized() {
        let a: Vec<String> = initial_attributes(r#"{"custom.attr":1,"plain":2,"9x":3}"#)
            .unwrap()
            .into_iter()
            .map(|kv| kv.key.to_string())
            .collect();
        assert_eq!(
            a,
            vec!["9x", "attr_9x", "custom.attr", "custom_attr", "plain"]
        );
    }

    #[test]
    fn session_body_matches_spec_2_3() {
        let b = session_enrichment_body(
            "sid",
            r#"{"metadata":{"m":1},"inputs":{"i":2},"extra":"e","feedback":{"f":4},"metrics":{"mm":5},"outputs":{"o":3},"config":{"c":6},"user_properties":{"u":7}}"#,
        )
        .unwrap()
        .unwrap();
        let expected: Value = serde_json::from_str(
            r#"{"event_id":"sid","metadata":{"m":1,"inputs":{"i":2},"extra":"e"},"feedback":{"f":4},"metrics":{"mm":5},"outputs":{"o":3},"config":{"c":6},"user_properties":{"u":7}}"#,
        )
        .unwrap();
        assert_eq!(b, expected);
        assert_eq!(
            session_enrichment_body("sid", r#"{"metadata":{}}"#).unwrap(),
            None
        );
    }
}
