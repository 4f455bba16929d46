//! Resource attributes in the configuration: `resource_attributes`, `OTEL_RESOURCE_ATTRIBUTES`
//! and the precedence of `service.name` (the resource itself is built by `crate::resource`).

use super::{program_name, Sources};
use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// Resource attributes at most (`OTEL_RESOURCE_ATTRIBUTES` and `resource_attributes` each).
pub(crate) const MAX_RESOURCE_ATTRIBUTES: usize = 128;
/// Bytes of one resource attribute key at most.
pub(crate) const MAX_RESOURCE_KEY_BYTES: usize = 256;
/// Bytes of one resource attribute value at most.
pub(crate) const MAX_RESOURCE_VALUE_BYTES: usize = 4096;
/// `OTEL_RESOURCE_ATTRIBUTES` longer than this is ignored whole (with a notice).
const MAX_RESOURCE_ENV_BYTES: usize = 64 * 1024;

/// Keys the library sets itself, whatever the configuration says.
const LIBRARY_RESOURCE_KEYS: [&str; 1] = ["process.pid"];

/// `service.name` and the other resource attributes, by the precedence documented on
/// `Config::service_name` and `Config::resource_attributes`.
pub(super) fn resolve_resource(
    src: &Sources<'_>,
    notices: &mut Vec<String>,
) -> Result<(String, Vec<(String, Value)>)> {
    let from_env = match src.env_first(&["OTEL_RESOURCE_ATTRIBUTES"]) {
        Some((_, text)) => parse_resource_env(&text, notices),
        None => Vec::new(),
    };
    let from_config = config_resource_attributes(src.json)?;
    let text_of = |attrs: &[(String, Value)]| {
        attrs
            .iter()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    };
    let explicit = src.string("service_name", &[])?;
    let service_name = explicit
        .or_else(|| text_of(&from_config))
        .or_else(|| {
            src.env_first(&["OTEL_SERVICE_NAME", "HH_SERVICE_NAME"])
                .map(|(_, v)| v.trim().to_string())
        })
        .or_else(|| text_of(&from_env))
        .unwrap_or_else(|| format!("unknown_service:{}", program_name()));
    let mut merged: Vec<(String, Value)> = Vec::new();
    for (k, v) in from_env.into_iter().chain(from_config) {
        if k == "service.name" {
            continue;
        }
        match merged.iter_mut().find(|(held, _)| *held == k) {
            Some(held) => held.1 = v,
            None => merged.push((k, v)),
        }
    }
    Ok((service_name, merged))
}

/// The config's `resource_attributes`: an object of string, number or bool values, within
/// the bounds; anything else fails (explicit settings are never silently dropped).
fn config_resource_attributes(json: &Map<String, Value>) -> Result<Vec<(String, Value)>> {
    let field = "resource_attributes";
    let map = match json.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(Error::config(field, "must be an object")),
    };
    if map.len() > MAX_RESOURCE_ATTRIBUTES {
        return Err(Error::config(
            field,
            format!("at most {MAX_RESOURCE_ATTRIBUTES} attributes"),
        ));
    }
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        if k.trim().is_empty() || k.len() > MAX_RESOURCE_KEY_BYTES {
            return Err(Error::config(
                field,
                format!("keys must be 1..={MAX_RESOURCE_KEY_BYTES} bytes"),
            ));
        }
        if LIBRARY_RESOURCE_KEYS.contains(&k.as_str()) {
            return Err(Error::config(field, format!("{k:?} is set by the library")));
        }
        match v {
            Value::String(s) if s.len() > MAX_RESOURCE_VALUE_BYTES => {
                return Err(Error::config(
                    field,
                    format!("the value of {k:?} exceeds {MAX_RESOURCE_VALUE_BYTES} bytes"),
                ))
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                out.push((k.clone(), v.clone()))
            }
            Value::Null => {}
            _ => {
                return Err(Error::config(
                    field,
                    format!("the value of {k:?} must be a string, number or bool"),
                ))
            }
        }
    }
    Ok(out)
}

/// `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by `,`, values percent-decoded
/// (W3C Baggage's form). Entries without `=`, with an empty or oversized key, a bad escape, or
/// an oversized value are skipped, and so are entries past the count bound: one notice says
/// how many and why (the environment must never stop a program from starting).
pub fn parse_resource_env(text: &str, notices: &mut Vec<String>) -> Vec<(String, Value)> {
    if text.len() > MAX_RESOURCE_ENV_BYTES {
        notices.push(format!(
            "OTEL_RESOURCE_ATTRIBUTES ignored: longer than {MAX_RESOURCE_ENV_BYTES} bytes"
        ));
        return Vec::new();
    }
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut skipped = Vec::new();
    for entry in text.split(',').filter(|e| !e.trim().is_empty()) {
        let parsed = entry.split_once('=').and_then(|(k, v)| {
            let k = k.trim();
            let v = percent_decode(v.trim())?;
            let ok = !k.is_empty()
                && k.len() <= MAX_RESOURCE_KEY_BYTES
                && v.len() <= MAX_RESOURCE_VALUE_BYTES
                && !LIBRARY_RESOURCE_KEYS.contains(&k);
            ok.then(|| (k.to_string(), v))
        });
        match parsed {
            Some((k, v)) => match out.iter().position(|(held, _)| *held == k) {
                Some(i) => out[i].1 = Value::String(v),
                None if out.len() < MAX_RESOURCE_ATTRIBUTES => out.push((k, Value::String(v))),
                None => skipped.push("over the count bound"),
            },
            None => skipped.push("malformed"),
        }
    }
    if !skipped.is_empty() {
        let malformed = skipped.iter().filter(|w| **w == "malformed").count();
        notices.push(format!(
            "OTEL_RESOURCE_ATTRIBUTES: {} entries skipped ({malformed} malformed: key=value \
             with a non-empty key of at most {MAX_RESOURCE_KEY_BYTES} bytes, a percent-encoded \
             value of at most {MAX_RESOURCE_VALUE_BYTES} bytes, not process.pid; {} past \
             {MAX_RESOURCE_ATTRIBUTES} attributes)",
            skipped.len(),
            skipped.len() - malformed
        ));
    }
    out
}

/// `%XX` escapes decoded; None for a bad escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
