//! Span entry points: start, enrich, typed setters, record error, end, inject.

use super::handles::{HandleTable, Kind};
use super::strings::{non_null, optional, required, write_out};
use super::tracer::{with_any_tracer, with_open_tracer};
use super::{guard, hh_error, hh_event_type, hh_namespace, hh_span, hh_status, hh_tracer};
use crate::enrich;
use crate::error::{Error, ErrorKind, Result};
use crate::export::AfterEnqueue;
use crate::span::{Recording, SpanRef, Started};
use once_cell::sync::Lazy;
use opentelemetry::{Key, KeyValue};
use std::ffi::c_char;

/// Detect the event type from the span name and attributes (spec 4.4).
pub const HH_EVENT_DEFAULT: hh_event_type = 0;
/// An LLM call.
pub const HH_EVENT_MODEL: hh_event_type = 1;
/// A tool, retrieval or any other step.
pub const HH_EVENT_TOOL: hh_event_type = 2;
/// A chain or agent grouping other steps.
pub const HH_EVENT_CHAIN: hh_event_type = 3;

/// The key is used as given.
pub const HH_NS_NONE: hh_namespace = 0;
/// `honeyhive_inputs.<key>`
pub const HH_NS_INPUTS: hh_namespace = 1;
/// `honeyhive_outputs.<key>`
pub const HH_NS_OUTPUTS: hh_namespace = 2;
/// `honeyhive_metadata.<key>`
pub const HH_NS_METADATA: hh_namespace = 3;
/// `honeyhive_metrics.<key>`
pub const HH_NS_METRICS: hh_namespace = 4;
/// `honeyhive_feedback.<key>`
pub const HH_NS_FEEDBACK: hh_namespace = 5;
/// `honeyhive_config.<key>`
pub const HH_NS_CONFIG: hh_namespace = 6;
/// `honeyhive_user_properties.<key>`
pub const HH_NS_USER_PROPERTIES: hh_namespace = 7;

/// A span handle's slot: the span's context and tracer, and what it has recorded while live.
/// Kept inline in the table (no allocation per span); the tracer is named by its handle (no
/// reference count per span: see `with_any_tracer`).
pub(crate) struct SpanSlot {
    /// The span's reference, and its recording while it is live and recorded.
    pub(crate) span: Started,
    pub(crate) tracer: hh_tracer,
    pub(crate) state: SlotState,
    /// `tracer::closes()` when the span started: unchanged, the tracer is still open.
    pub(crate) closes: u64,
}

impl SpanSlot {
    pub(crate) fn reference(&self) -> &SpanRef {
        &self.span.reference
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotState {
    Active,
    Ended,
    /// A remote parent from `hh_tracer_extract`.
    Remote,
}

/// Slots of ended spans kept recognizable (as parents, for inject) per thread before reuse.
const ENDED_SPANS_KEPT: usize = 1024;

pub(crate) static SPANS: Lazy<HandleTable<SpanSlot>> =
    Lazy::new(|| HandleTable::per_thread(Kind::Span, ENDED_SPANS_KEPT));

fn invalid_span() -> Error {
    Error::new(
        ErrorKind::InvalidHandle,
        "not a valid span handle (stale, reused, or another kind)",
    )
}

#[cold]
fn span_ended() -> Error {
    Error::new(ErrorKind::SpanEnded, "the span has already ended")
}

#[cold]
fn remote_unchangeable() -> Error {
    Error::arg("a remote parent context cannot be changed")
}

/// Runs `f` on a live span's recording (`None`: not recorded); ended spans give
/// `HH_ERR_SPAN_ENDED`, a closed tracer `HH_ERR_TRACER_CLOSED`.
#[inline]
pub(crate) fn with_active(
    handle: hh_span,
    f: impl FnOnce(&mut Option<Recording>) -> Result<()>,
) -> Result<()> {
    let (tracer, closes) = SPANS
        .with(handle, |slot, _| match slot.state {
            SlotState::Active => {
                f(&mut slot.span.recording)?;
                Ok((slot.tracer, slot.closes))
            }
            SlotState::Ended => Err(span_ended()),
            SlotState::Remote => Err(remote_unchangeable()),
        })
        .unwrap_or_else(|| Err(invalid_span()))?;
    if closes == crate::tracer::closes() {
        return Ok(());
    }
    // Some tracer was closed since the span started: was it this one? (What was just set
    // races with close and is dropped with the span at its end.)
    with_any_tracer(tracer, |t| {
        if t.is_closed() {
            Err(crate::span::tracer_closed())
        } else {
            Ok(())
        }
    })
}

/// What a child needs from its parent's slot: the parent's context, its session when the
/// child does not name one, and its remote baggage.
fn parent_ref_of(slot: &SpanSlot, need_session: bool) -> SpanRef {
    let r = slot.reference();
    SpanRef {
        context: r.context.clone(),
        session: if need_session {
            r.session.clone()
        } else {
            None
        },
        remote_baggage: r.remote_baggage.clone(),
    }
}

fn event_type_name(t: hh_event_type) -> Result<Option<&'static str>> {
    match t {
        HH_EVENT_DEFAULT => Ok(None),
        HH_EVENT_MODEL => Ok(Some("model")),
        HH_EVENT_TOOL => Ok(Some("tool")),
        HH_EVENT_CHAIN => Ok(Some("chain")),
        _ => Err(Error::arg(format!("unknown event type {t}"))),
    }
}

/// Starts a span on `tracer`.
/// - `name`: required, non-empty; names over 1024 bytes are truncated.
/// - `event_type`: an `HH_EVENT_*` value (`HH_EVENT_DEFAULT` detects it from the name).
/// - `parent`: 0 for a root span, or a span handle (live or recently ended, of any tracer), or
///   a remote parent from `hh_tracer_extract`. The child joins the parent's trace.
/// - `session_id`: NULL to inherit the parent's session (a root span takes the tracer's
///   default session), or a session id from `hh_session_create`.
/// - `attributes_json`: NULL or a JSON object of initial attributes.
///
/// On success writes the handle to `*out_span`; end it with `hh_span_end`. A span excluded by
/// `span_name_filters` still gets a handle (so children can name it) but is not exported.
/// Thread-safe; never waits for the network.
///
/// # Safety
/// `name` is NUL-terminated; `session_id` and `attributes_json` are NULL or NUL-terminated;
/// `out_span` is writable; `err` is NULL or writable.
#[no_mangle]
#[must_use]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn hh_span_start(
    tracer: hh_tracer,
    name: *const c_char,
    event_type: hh_event_type,
    parent: hh_span,
    session_id: *const c_char,
    attributes_json: *const c_char,
    out_span: *mut hh_span,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        non_null(out_span, "out_span")?;
        // SAFETY: NUL-terminated (or NULL where allowed) per this function's contract.
        let (name, session, attrs) = unsafe {
            (
                required(name, "name")?,
                optional(session_id, "session_id")?,
                optional(attributes_json, "attributes_json")?,
            )
        };
        let event_type = event_type_name(event_type)?;
        let session = match session {
            Some(s) => Some(
                crate::local::session(s).ok_or_else(|| Error::arg("session_id is not a UUID"))?,
            ),
            None => None,
        };
        let attributes = match attrs {
            Some(json) => enrich::initial_attributes(json)?,
            None => Vec::new(),
        };
        crate::span::check_start(name, event_type)?;
        let closes = crate::tracer::closes();
        let need_session = session.is_none();
        let handle = with_open_tracer(tracer, |t| {
            // A child inherits its parent's session; a root span takes the tracer's default.
            // Built where the table stores it (no copies of the slot on the way).
            let start = |parent_ref: Option<SpanRef>| SpanSlot {
                span: crate::span::begin(
                    &t.inner,
                    name,
                    event_type,
                    parent_ref.as_ref(),
                    session.or_else(|| {
                        parent_ref
                            .as_ref()
                            .and_then(|p| p.session.clone())
                            .or_else(|| {
                                t.inner
                                    .default_session
                                    .as_ref()
                                    .map(crate::local::session_canonical)
                            })
                    }),
                    attributes,
                ),
                tracer,
                state: SlotState::Active,
                closes,
            };
            let too_many = || Error::new(ErrorKind::LimitExceeded, "too many live spans");
            if parent == 0 {
                SPANS.insert_with(|| start(None)).ok_or_else(too_many)
            } else {
                SPANS.insert_with_parent(
                    parent,
                    |slot| parent_ref_of(slot, need_session),
                    |p| start(Some(p)),
                    invalid_span,
                    too_many,
                )
            }
        })?;
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { *out_span = handle };
        Ok(())
    })
}

/// Enriches a span with JSON in the reference `enrich_span` namespaces: `inputs`, `outputs`,
/// `metadata`, `metrics`, `feedback`, `config`, `user_properties` (objects, flattened to
/// `honeyhive_<ns>.<dotted.path>` with numbers and booleans keeping their type), `error`
/// (string), `event_type` ("model"/"tool"/"chain"); other top-level keys go to `metadata`.
/// All or nothing: on any error nothing is applied. `HH_ERR_SPAN_ENDED` after the span ended.
/// Thread-safe.
///
/// # Safety
/// `enrichment_json` is NUL-terminated; `err` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_enrich(
    span: hh_span,
    enrichment_json: *const c_char,
    err: *mut hh_error,
) -> hh_status {
    guard(err, || {
        // SAFETY: NUL-terminated per this function's contract.
        let json = unsafe { required(enrichment_json, "enrichment_json") }?;
        let attributes = enrich::span_enrichment(json)?;
        with_active(span, |r| match r {
            Some(r) => r.set_attributes(attributes),
            None => Ok(()),
        })
    })
}

/// Keys the library stamps from the span's session and tracer; a raw setter may not replace them.
const RESERVED_KEYS: [&str; 6] = [
    "honeyhive.session_id",
    "honeyhive.project",
    "honeyhive.source",
    "traceloop.association.properties.session_id",
    "traceloop.association.properties.project",
    "traceloop.association.properties.source",
];

/// The attribute key for `key` under namespace `ns`. Keys repeat on every span: they are
/// interned (see `local::intern_joined`), so most calls allocate nothing.
// Inlined: returned through the stack, its `Result<Key>` was read back wider than it was
// written, stalling store forwarding on every setter.
#[inline(always)]
pub(crate) fn namespaced_key(ns: hh_namespace, key: &str) -> Result<Key> {
    if key.is_empty() || key.len() > crate::limits::MAX_KEY_BYTES {
        return Err(Error::arg("attribute key must be 1..=1024 bytes"));
    }
    let prefix = match ns {
        HH_NS_NONE if RESERVED_KEYS.contains(&key) => {
            return Err(Error::arg(format!(
                "`{key}` is set by the library from the span's session and tracer"
            )))
        }
        HH_NS_NONE => "",
        n if (1..=7).contains(&n) => enrich::NAMESPACES[(n - 1) as usize].1,
        _ => return Err(Error::arg(format!("unknown namespace {ns}"))),
    };
    Ok(match crate::local::intern_joined(ns as u8, prefix, key) {
        Some(s) => Key::from_static_str(s),
        None if prefix.is_empty() => Key::new(key.to_string()),
        None => Key::new(format!("{prefix}.{key}")),
    })
}

/// Shared body of the typed setters.
///
/// # Safety
/// `key` is NUL-terminated.
unsafe fn set_typed(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: impl FnOnce() -> Result<opentelemetry::Value>,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        // SAFETY: forwarded from the setter's contract.
        let key = unsafe { required(key, "key") }?;
        let kv = KeyValue::new(namespaced_key(ns, key)?, value()?);
        with_active(span, |r| match r {
            Some(r) => r.set_attribute(kv),
            None => Ok(()),
        })
    })
}

/// Sets one string attribute: `key` under namespace `ns` (an `HH_NS_*` value). Values over
/// 1 MiB are truncated. Hot-path alternative to `hh_span_enrich`. Thread-safe.
///
/// # Safety
/// `key` and `value` are NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_str(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: *const c_char,
) -> hh_status {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        set_typed(span, ns, key, || {
            let v = required(value, "value")?;
            Ok(opentelemetry::Value::String(crate::local::string_value(
                crate::limits::truncate_utf8(v, crate::limits::MAX_ATTRIBUTE_VALUE_BYTES),
            )))
        })
    }
}

/// Sets one integer attribute (see `hh_span_set_str`). Thread-safe.
///
/// # Safety
/// `key` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_i64(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: i64,
) -> hh_status {
    // SAFETY: forwarded from this function's contract.
    unsafe { set_typed(span, ns, key, || Ok(value.into())) }
}

/// Sets one floating-point attribute (see `hh_span_set_str`). Thread-safe.
///
/// # Safety
/// `key` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_f64(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: f64,
) -> hh_status {
    // SAFETY: forwarded from this function's contract.
    unsafe { set_typed(span, ns, key, || Ok(value.into())) }
}

/// Sets one boolean attribute (see `hh_span_set_str`). Thread-safe.
///
/// # Safety
/// `key` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_set_bool(
    span: hh_span,
    ns: hh_namespace,
    key: *const c_char,
    value: bool,
) -> hh_status {
    // SAFETY: forwarded from this function's contract.
    unsafe { set_typed(span, ns, key, || Ok(value.into())) }
}

/// Records an error on the span: an `exception` event, status ERROR "<type>: <message>", and
/// the attributes `honeyhive_error` and `honeyhive_error_type`. `error_type` may be NULL
/// ("Error"). Thread-safe.
///
/// # Safety
/// `error_type` is NULL or NUL-terminated; `message` is NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_record_error(
    span: hh_span,
    error_type: *const c_char,
    message: *const c_char,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        // SAFETY: NUL-terminated (or NULL for error_type) per this function's contract.
        let (t, m) = unsafe {
            (
                optional(error_type, "error_type")?,
                required(message, "message")?,
            )
        };
        with_active(span, |r| {
            if let Some(r) = r {
                r.record_error(t, m)
            }
            Ok(())
        })
    })
}

/// Flag for `hh_span_end_ex`: keep the handle valid (as a parent, for `hh_span_inject`, for
/// `hh_span_session_id`) until `hh_span_release`, however many other spans end meanwhile.
pub const HH_END_KEEP_HANDLE: u32 = 1;

/// Ends a span and hands it to the export pipeline (never waits for the network, except in
/// `disable_batch` mode); or releases a remote parent from `hh_tracer_extract`. Idempotent:
/// ending an ended span returns `HH_OK`. The handle stays usable as a parent for a while
/// (`HH_ERR_INVALID_HANDLE` once its slot is reused; use `hh_span_end_ex` with
/// `HH_END_KEEP_HANDLE` to pin it). `HH_ERR_TRACER_CLOSED` if the tracer was closed first (the
/// span is then dropped and counted in `spans_dropped`). Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_span_end(span: hh_span) -> hh_status {
    hh_span_end_ex(span, 0)
}

/// `hh_span_end` with flags: `HH_END_KEEP_HANDLE` keeps the handle valid until
/// `hh_span_release` (made for bindings whose span objects outlive the span, e.g. Go and Ruby
/// wrappers released by a finalizer). Unknown flags give `HH_ERR_INVALID_ARGUMENT`. Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_span_end_ex(span: hh_span, flags: u32) -> hh_status {
    guard(std::ptr::null_mut(), || end_span(span, flags, None))
}

/// Attributes to set on a span as it ends (see `hh_span_end_attrs`): `count` of them, made by
/// `make(0..count)`.
pub(crate) struct EndAttributes<'a> {
    pub count: usize,
    pub make: &'a dyn Fn(usize) -> Result<KeyValue>,
}

/// Ends a span (after setting `attrs`, all or none: when they are refused, the span is not
/// ended and the error says why).
pub(crate) fn end_span(span: hh_span, flags: u32, attrs: Option<EndAttributes>) -> Result<()> {
    if flags & !HH_END_KEEP_HANDLE != 0 {
        return Err(Error::arg(format!("unknown flags {flags:#x}")));
    }
    let keep = flags & HH_END_KEEP_HANDLE != 0;
    // One lock: set the attributes, mark the slot ended (and retire it unless kept) and move
    // the recording straight into the tracer's queue. What may block comes after the lock.
    let (tracer, result, then) = SPANS
        .with_then_retire(span, |slot, _| match slot.state {
            SlotState::Active => {
                if let Some(a) = &attrs {
                    let set = crate::span::Recording::try_set_on(
                        &mut slot.span.recording,
                        a.count,
                        |i| (a.make)(i),
                    );
                    if let Err(e) = set {
                        return ((slot.tracer, Err(e), AfterEnqueue::Nothing), false);
                    }
                }
                slot.state = SlotState::Ended;
                if slot.span.recording.is_none() {
                    return ((slot.tracer, Ok(()), AfterEnqueue::Nothing), !keep);
                }
                let tracer = slot.tracer;
                let span = &mut slot.span;
                let mut then = AfterEnqueue::Nothing;
                let result = with_any_tracer(tracer, |t| {
                    let (accepted, after) = crate::span::finish_enqueue(
                        &t.inner,
                        &span.reference.context,
                        span.reference.session.is_some(),
                        &mut span.recording,
                    );
                    then = after;
                    if accepted {
                        Ok(())
                    } else {
                        Err(crate::span::refused_after_close())
                    }
                });
                // Not reached (the tracer is gone): the span goes with it.
                span.recording = None;
                ((tracer, result, then), !keep)
            }
            // Ending again is a no-op, but attributes for it would be lost: refused.
            SlotState::Ended if attrs.is_some() => (
                (slot.tracer, Err(span_ended()), AfterEnqueue::Nothing),
                false,
            ),
            SlotState::Remote if attrs.is_some() => (
                (
                    slot.tracer,
                    Err(remote_unchangeable()),
                    AfterEnqueue::Nothing,
                ),
                false,
            ),
            SlotState::Ended | SlotState::Remote => {
                ((slot.tracer, Ok(()), AfterEnqueue::Nothing), !keep)
            }
        })
        .ok_or_else(invalid_span)?;
    if then != AfterEnqueue::Nothing {
        let _ = with_any_tracer(tracer, |t| {
            t.inner.pipeline.after_enqueue(then);
            Ok(())
        });
    }
    match result {
        // The tracer is gone (closed, and its handle reused): so is the span.
        Err(e) if e.kind == ErrorKind::InvalidHandle => Err(crate::span::tracer_closed()),
        other => other,
    }
}

/// Releases a handle kept by `hh_span_end_ex(..., HH_END_KEEP_HANDLE)`, ending the span first
/// if it is still open. Idempotent; safe from finalizers. Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_span_release(span: hh_span) -> hh_status {
    guard(std::ptr::null_mut(), || {
        if span == 0 {
            return Err(invalid_span());
        }
        release(&[span])
    })
}

/// `hh_span_release` for each of `count` handles (0 entries are skipped): one call for a
/// binding that releases spans in batches. Every valid handle is released; returns the first
/// failure (`HH_ERR_INVALID_HANDLE` for a stale or forged handle), `HH_OK` when none failed.
/// Thread-safe.
///
/// # Safety
/// `spans` points to `count` readable handles (or is NULL when `count` is 0).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_release_many(spans: *const hh_span, count: usize) -> hh_status {
    if count == 0 {
        return hh_status::HH_OK;
    }
    if spans.is_null() {
        return hh_status::HH_ERR_NULL_ARGUMENT;
    }
    // SAFETY: non-NULL, and `count` readable handles per the contract.
    let spans = unsafe { std::slice::from_raw_parts(spans, count) };
    guard(std::ptr::null_mut(), || release(spans))
}

/// Releases handles (0 skipped): ended spans and remote parents are retired under one lock
/// per run of handles in the same shard; a span still open is ended first (then retired).
/// Every valid handle is released; the first failure is returned.
fn release(spans: &[hh_span]) -> Result<()> {
    let mut first_failure: Option<Error> = None;
    let mut open: Vec<hh_span> = Vec::new();
    SPANS.retire_many(
        spans,
        |slot| slot.state != SlotState::Active,
        |span, outcome| match outcome {
            _ if span == 0 => {}
            Some(true) => {}
            Some(false) => open.push(span),
            None => {
                first_failure.get_or_insert_with(invalid_span);
            }
        },
    );
    // Dropped without an end (rare): ended now (without keeping the handle: that retires it),
    // as an SDK span is when dropped.
    for span in open {
        match end_span(span, 0, None) {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::TracerClosed => {}
            Err(e) => {
                first_failure.get_or_insert(e);
            }
        }
    }
    first_failure.map_or(Ok(()), Err)
}

/// Writes the span's W3C context: `traceparent` (55 characters and a NUL; `traceparent_len >=
/// HH_TRACEPARENT_BUF_LEN`) and `baggage` (session_id, project, source, and evaluation ids).
/// `*baggage_len`, when not NULL, receives the baggage length without the NUL, also with
/// `HH_ERR_BUFFER_TOO_SMALL`, so the caller can retry with a larger buffer. Works on live,
/// recently ended and remote spans. Thread-safe.
///
/// # Safety
/// `traceparent` is writable for `traceparent_len` bytes, `baggage` for `baggage_buf_len`
/// bytes; `baggage_len` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_inject(
    span: hh_span,
    traceparent: *mut c_char,
    traceparent_len: usize,
    baggage: *mut c_char,
    baggage_buf_len: usize,
    baggage_len: *mut usize,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        let (tracer, reference) = SPANS
            .with(span, |slot, _| (slot.tracer, slot.reference().clone()))
            .ok_or_else(invalid_span)?;
        let (tp, bag) = with_any_tracer(tracer, |t| {
            Ok(crate::propagation::inject(&t.inner.config, &reference))
        })
        .map_err(|_| invalid_span())?;
        if !baggage_len.is_null() {
            // SAFETY: non-NULL and writable per this function's contract.
            unsafe { *baggage_len = bag.len() };
        }
        // Both buffers are checked before either is written: outputs only on success.
        non_null(traceparent, "traceparent")?;
        non_null(baggage, "baggage")?;
        if traceparent_len <= tp.len() || baggage_buf_len <= bag.len() {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!(
                    "traceparent needs {} bytes, baggage {} bytes",
                    tp.len() + 1,
                    bag.len() + 1
                ),
            ));
        }
        // SAFETY: forwarded from this function's contract; sizes checked above.
        unsafe {
            write_out(&bag, baggage, baggage_buf_len, std::ptr::null_mut())?;
            write_out(&tp, traceparent, traceparent_len, std::ptr::null_mut())
        }
    })
}

/// Copies the span's session id and a NUL into `buf` (`HH_SESSION_ID_BUF_LEN` bytes suffice
/// for ids made by this library); `*out_len` as in `hh_tracer_session_id`.
/// `HH_ERR_INVALID_ARGUMENT` when the span has no session. Thread-safe.
///
/// # Safety
/// `buf` is writable for `buf_len` bytes; `out_len` is NULL or writable.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn hh_span_session_id(
    span: hh_span,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> hh_status {
    guard(std::ptr::null_mut(), || {
        let session = SPANS
            .with(span, |slot, _| slot.reference().session.clone())
            .ok_or_else(invalid_span)?
            .ok_or_else(|| Error::arg("the span has no session"))?;
        // SAFETY: forwarded from this function's contract.
        unsafe { write_out(&session, buf, buf_len, out_len) }
    })
}
