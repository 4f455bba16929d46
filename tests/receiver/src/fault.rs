//! Fault injection: make the receiver misbehave for reliability tests.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// How a faulted request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultMode {
    /// Answer `status` (with `Retry-After` if given) after `delay_ms`.
    #[default]
    #[serde(alias = "Status")]
    Status,
    /// Read and record the request, never answer; the connection stays open
    /// until the client goes away or the receiver stops.
    #[serde(alias = "Hang")]
    Hang,
    /// Read and record the request, wait `delay_ms`, then close with a TCP reset.
    #[serde(alias = "Reset")]
    Reset,
    /// Send the normal response one byte per `delay_ms`.
    #[serde(alias = "Trickle")]
    Trickle,
}

/// A fault, as set with [`crate::Receiver::set_fault`] or `POST /__hh/fault`
/// (JSON, every field optional, e.g.
/// `{"mode":"status","status":503,"retry_after":"1","times":2}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    pub mode: FaultMode,
    /// Status for [`FaultMode::Status`] (default 503).
    pub status: u16,
    /// `Retry-After` header value for [`FaultMode::Status`].
    pub retry_after: Option<String>,
    /// Delay before answering (status), before resetting (reset), or between
    /// response bytes (trickle).
    pub delay_ms: u64,
    /// Apply to this many matching requests, then clear; `None` or 0 = until cleared.
    pub times: Option<u32>,
    /// Only requests whose path starts with this; `None` = every path except
    /// the `/__hh/` control paths (which are never faulted).
    pub path_prefix: Option<String>,
    /// Extra response headers for [`FaultMode::Status`], as `[name, value]` pairs (repeats
    /// allowed), e.g. `[["Location", "http://127.0.0.1:9/x"]]`.
    pub headers: Vec<(String, String)>,
    /// Body of the [`FaultMode::Status`] answer instead of the default error JSON (e.g. an OTLP
    /// partial-success answer with status 200).
    pub body: Option<String>,
    /// Content type of `body` (default `application/json`).
    pub content_type: Option<String>,
    /// Makes the [`FaultMode::Status`] body this many bytes long (`body`, or `x`, repeated),
    /// streamed without ever being held whole, with a `Content-Length` of that size.
    pub body_bytes: Option<u64>,
    /// Sends the [`FaultMode::Status`] body chunked, without a length; with `body_bytes` unset,
    /// the body never ends (it stops when the client goes away).
    pub chunked: bool,
}

impl Default for Fault {
    fn default() -> Self {
        Fault {
            mode: FaultMode::Status,
            status: 503,
            retry_after: None,
            delay_ms: 0,
            times: None,
            path_prefix: None,
            headers: Vec::new(),
            body: None,
            content_type: None,
            body_bytes: None,
            chunked: false,
        }
    }
}

impl Fault {
    /// Answer with `status`.
    pub fn status(status: u16) -> Fault {
        Fault {
            status,
            ..Fault::default()
        }
    }

    /// Never answer.
    pub fn hang() -> Fault {
        Fault {
            mode: FaultMode::Hang,
            ..Fault::default()
        }
    }

    /// Close with a TCP reset after reading the request.
    pub fn reset() -> Fault {
        Fault {
            mode: FaultMode::Reset,
            ..Fault::default()
        }
    }

    /// Send the normal response one byte every `delay_ms`.
    pub fn trickle(delay_ms: u64) -> Fault {
        Fault {
            mode: FaultMode::Trickle,
            delay_ms,
            ..Fault::default()
        }
    }

    /// Adds a `Retry-After` header (status mode).
    pub fn with_retry_after(mut self, value: impl Into<String>) -> Fault {
        self.retry_after = Some(value.into());
        self
    }

    /// Sets `delay_ms`.
    pub fn with_delay_ms(mut self, delay_ms: u64) -> Fault {
        self.delay_ms = delay_ms;
        self
    }

    /// Applies to `n` requests only.
    pub fn with_times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    /// Applies only to paths starting with `prefix`.
    pub fn with_path_prefix(mut self, prefix: impl Into<String>) -> Fault {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Adds a response header (status mode).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Fault {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Answers with this body (status mode) and content type.
    pub fn with_body(mut self, content_type: impl Into<String>, body: impl Into<String>) -> Fault {
        self.content_type = Some(content_type.into());
        self.body = Some(body.into());
        self
    }

    /// Makes the body `n` bytes long, streamed (status mode).
    pub fn with_body_bytes(mut self, n: u64) -> Fault {
        self.body_bytes = Some(n);
        self
    }

    /// Sends the body chunked; without `with_body_bytes`, endless (status mode).
    pub fn chunked(mut self) -> Fault {
        self.chunked = true;
        self
    }

    /// True when the answer's body is streamed rather than built whole.
    pub(crate) fn streams_body(&self) -> bool {
        self.body_bytes.is_some() || self.chunked
    }

    fn matches(&self, path: &str) -> bool {
        if path.starts_with("/__hh/") {
            return false;
        }
        match &self.path_prefix {
            Some(p) => path.starts_with(p.as_str()),
            None => true,
        }
    }
}

struct Active {
    fault: Fault,
    remaining: Option<u32>,
}

/// The currently active fault, if any.
#[derive(Default)]
pub(crate) struct FaultSlot {
    active: Mutex<Option<Active>>,
}

impl FaultSlot {
    pub(crate) fn set(&self, fault: Fault) {
        let remaining = fault.times.filter(|n| *n > 0);
        *self.lock() = Some(Active { fault, remaining });
    }

    pub(crate) fn clear(&self) {
        *self.lock() = None;
    }

    pub(crate) fn current(&self) -> Option<Fault> {
        self.lock().as_ref().map(|a| a.fault.clone())
    }

    /// The fault to apply to a request for `path`, counting it against `times`.
    pub(crate) fn take_for(&self, path: &str) -> Option<Fault> {
        let mut guard = self.lock();
        let active = guard.as_mut()?;
        if !active.fault.matches(path) {
            return None;
        }
        let fault = active.fault.clone();
        if let Some(n) = active.remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                *guard = None;
            }
        }
        Some(fault)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_json() {
        let f: Fault =
            serde_json::from_str(r#"{"mode":"status","status":503,"retry_after":"1","times":2}"#)
                .expect("parses");
        assert_eq!(f, Fault::status(503).with_retry_after("1").with_times(2));
        let h: Fault = serde_json::from_str(r#"{"mode":"hang"}"#).expect("parses");
        assert_eq!(h.mode, FaultMode::Hang);
        let r: Fault = serde_json::from_str(
            r#"{"status":307,"headers":[["Location","http://127.0.0.1:9/v1/traces"]],
                "body":"{}","content_type":"application/json","body_bytes":1048576,"chunked":true}"#,
        )
        .expect("parses");
        assert_eq!(
            r,
            Fault::status(307)
                .with_header("Location", "http://127.0.0.1:9/v1/traces")
                .with_body("application/json", "{}")
                .with_body_bytes(1 << 20)
                .chunked()
        );
        assert!(r.streams_body());
        assert!(!Fault::status(200)
            .with_body("text/plain", "x")
            .streams_body());
    }

    #[test]
    fn times_and_prefix() {
        let slot = FaultSlot::default();
        slot.set(
            Fault::status(500)
                .with_times(2)
                .with_path_prefix("/session"),
        );
        assert!(slot.take_for("/events").is_none());
        assert!(slot.take_for("/__hh/requests").is_none());
        assert!(slot.take_for("/session/start").is_some());
        assert!(slot.take_for("/session/start").is_some());
        assert!(slot.take_for("/session/start").is_none());
        slot.set(Fault::hang().with_times(0));
        for _ in 0..5 {
            assert!(slot.take_for("/v1/traces").is_some());
        }
        assert!(slot.take_for("/__hh/spans").is_none());
        slot.clear();
        assert!(slot.take_for("/v1/traces").is_none());
    }
}
