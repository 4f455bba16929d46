//! What the receiver records: requests, normalized spans, and the shared store
//! (with wake-ups for waiters, both blocking and async).

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One span event, normalized from OTLP/JSON or OTLP/protobuf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub name: String,
    pub time_unix_nano: u64,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

/// One span link, normalized from OTLP/JSON or OTLP/protobuf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedLink {
    /// 32 lowercase hex characters.
    pub trace_id: String,
    /// 16 lowercase hex characters.
    pub span_id: String,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(default)]
    pub dropped_attributes_count: u32,
}

/// One span, normalized from OTLP/JSON (either style) or OTLP/protobuf.
///
/// Attribute values: `stringValue` → JSON string, `intValue` → JSON integer,
/// `doubleValue` → JSON float (so `as_i64()` is `None` for doubles; non-finite
/// doubles become the strings `"NaN"`, `"inf"`, `"-inf"`), `boolValue` → bool,
/// `arrayValue` → array, `kvlistValue` → object, `bytesValue` → base64 string,
/// an empty value → null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedSpan {
    /// 32 lowercase hex characters.
    pub trace_id: String,
    /// 16 lowercase hex characters.
    pub span_id: String,
    /// `None` for roots (null, empty, absent or all-zero parent id).
    pub parent_span_id: Option<String>,
    pub name: String,
    /// Always the name form, e.g. `"SPAN_KIND_INTERNAL"`.
    pub kind: String,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(default)]
    pub events: Vec<RecordedEvent>,
    #[serde(default)]
    pub dropped_events_count: u32,
    #[serde(default)]
    pub links: Vec<RecordedLink>,
    #[serde(default)]
    pub dropped_links_count: u32,
    /// `"STATUS_CODE_UNSET"`, `"STATUS_CODE_OK"` or `"STATUS_CODE_ERROR"`.
    pub status_code: String,
    /// `None` when absent or empty.
    pub status_message: Option<String>,
    #[serde(default)]
    pub resource: Map<String, Value>,
    #[serde(default)]
    pub scope_name: String,
    /// `None` when absent or empty.
    pub scope_version: Option<String>,
}

impl RecordedSpan {
    /// The attribute `key`, if present.
    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }

    /// The attribute `key` if it is a string.
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }

    /// The attribute `key` if it is an integer (never a double).
    pub fn attr_i64(&self, key: &str) -> Option<i64> {
        self.attributes.get(key).and_then(Value::as_i64)
    }

    /// The attribute `key` if it is a bool.
    pub fn attr_bool(&self, key: &str) -> Option<bool> {
        self.attributes.get(key).and_then(Value::as_bool)
    }

    /// True for root spans (no parent).
    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_none()
    }
}

/// One request as received (control requests under `/__hh/` are never recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Arrival order, starting at 1; keeps increasing across `reset()`.
    pub seq: u64,
    /// Wall clock when the request (headers and body) had been read.
    pub time_unix_nano: u64,
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The query string (without `?`), if any.
    #[serde(default)]
    pub query: Option<String>,
    /// Lowercase header names; repeated headers joined with `", "`.
    pub headers: BTreeMap<String, String>,
    pub content_type: Option<String>,
    /// Body length after de-chunking and gzip decoding.
    pub body_len: u64,
    /// The parsed body for JSON requests, else `None`.
    pub body_json: Option<Value>,
    /// `"json"` or `"protobuf"` for trace exports (`POST .../v1/traces`), else `None`.
    pub otlp_format: Option<String>,
    /// Decoded spans of a trace export (empty otherwise), in body order.
    #[serde(default)]
    pub spans: Vec<RecordedSpan>,
    /// Why the body could not be decoded (gzip, JSON or OTLP), if it could not.
    #[serde(default)]
    pub decode_error: Option<String>,
    /// Status answered; 0 when the connection was reset or never answered (hang).
    pub response_status: u16,
}

impl RecordedRequest {
    /// Header value by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

pub(crate) fn now_unix_nano() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A trace export recorded with its spans left to decode when first read (a large export
/// usually never is, see `Store::lock`).
pub(crate) struct Pending {
    /// Its span count (its body already checked).
    pub spans: usize,
    pub body: Deferred,
}

/// What a pending export's spans are decoded from.
pub(crate) enum Deferred {
    /// The request's `body_json`.
    Parsed,
    /// OTLP/JSON, to be parsed into `body_json` first.
    Json(Vec<u8>),
    /// OTLP/protobuf.
    Protobuf(Vec<u8>),
}

impl Pending {
    /// Fills in what was left for later: the spans, and `body_json` for `Deferred::Json`.
    pub(crate) fn complete(self, r: &mut RecordedRequest) {
        let json = match self.body {
            Deferred::Protobuf(raw) => {
                r.spans = crate::decode::decode_otlp_protobuf(&raw).unwrap_or_default();
                return;
            }
            Deferred::Json(raw) => {
                r.body_json = serde_json::from_slice(&raw).ok();
                &r.body_json
            }
            Deferred::Parsed => &r.body_json,
        };
        if let Some(v) = json {
            r.spans = crate::decode::decode_otlp_json(v).unwrap_or_default();
        }
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    next_seq: u64,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) span_count: usize,
    /// Trace exports (by request index) not decoded yet.
    pending: Vec<(usize, Pending)>,
}

impl Inner {
    /// Decodes the requests still pending.
    fn materialize(&mut self) {
        for (i, p) in std::mem::take(&mut self.pending) {
            if let Some(r) = self.requests.get_mut(i) {
                p.complete(r);
            }
        }
    }

    pub(crate) fn spans(&self) -> Vec<RecordedSpan> {
        self.requests
            .iter()
            .flat_map(|r| r.spans.iter().cloned())
            .collect()
    }
}

/// Recorded requests plus wake-ups: a `Condvar` for blocking waiters and a
/// `watch` channel for async ones (the binary's `/__hh/wait`).
pub(crate) struct Store {
    inner: Mutex<Inner>,
    cond: Condvar,
    changed: tokio::sync::watch::Sender<u64>,
}

impl Store {
    pub(crate) fn new() -> Store {
        Store {
            inner: Mutex::new(Inner::default()),
            cond: Condvar::new(),
            changed: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The recorded requests, every span decoded.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.lock_raw();
        inner.materialize();
        inner
    }

    fn lock_raw(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self) {
        self.cond.notify_all();
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Assigns `seq`, stores the request and wakes waiters. `also` sees the stored request
    /// (under the store's lock): the request is not copied. `pending`: a trace export left to
    /// decode when first read.
    pub(crate) fn record(
        &self,
        mut req: RecordedRequest,
        pending: Option<Pending>,
        also: impl FnOnce(&RecordedRequest),
    ) {
        {
            let mut inner = self.lock_raw();
            inner.next_seq += 1;
            req.seq = inner.next_seq;
            match pending {
                Some(p) => {
                    inner.span_count += p.spans;
                    let i = inner.requests.len();
                    inner.pending.push((i, p));
                }
                None => inner.span_count += req.spans.len(),
            }
            also(&req);
            inner.requests.push(req);
        }
        self.wake();
    }

    pub(crate) fn reset(&self) {
        {
            let mut inner = self.lock_raw();
            inner.pending.clear();
            inner.span_count = 0;
            inner.requests.clear();
        }
        self.wake();
    }

    /// Blocks until `done(inner)` or the timeout; returns `f(inner)` either way.
    pub(crate) fn wait_blocking<T>(
        &self,
        timeout: Duration,
        done: impl Fn(&Inner) -> bool,
        f: impl FnOnce(&Inner) -> T,
    ) -> T {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        loop {
            if done(&inner) {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            inner = match self.cond.wait_timeout(inner, deadline - now) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
            inner.materialize();
        }
        f(&inner)
    }

    /// Async version of [`Store::wait_blocking`].
    pub(crate) async fn wait_async<T>(
        &self,
        timeout: Duration,
        done: impl Fn(&Inner) -> bool,
        f: impl FnOnce(&Inner) -> T,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.changed.subscribe();
        loop {
            let ok = {
                let inner = self.lock();
                done(&inner)
            };
            if ok {
                break;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => continue,
                _ => break,
            }
        }
        let inner = self.lock();
        f(&inner)
    }
}
