//! Span ids: start, set, enrich, record errors, end, release, inject, extract.
//!
//! Each id names a slot in one table: a live span (what it has recorded so far), an ended
//! one (still recognizable as a parent and for injection until its slot is reused, or until
//! released when ended with `keep`), or a remote parent made by `extract`. Every rule of a
//! span's life is decided here: which session a span joins, what may be set on it and when,
//! that it ends once, that a closed tracer's spans are refused.

use super::attributes::{attribute_key, attribute_value, batch_attribute};
use super::attributes::{AttrValue, Attribute};
use super::handles::{HandleTable, Kind};
use super::tracers::{with_any, with_open};
use crate::enrich;
use crate::error::{Error, ErrorKind, Result};
use crate::export::AfterEnqueue;
pub use crate::span::StartOptions;
use crate::span::{Recording, SpanRef, Started};
use crate::tracer::TracerInner;
use once_cell::sync::Lazy;
use opentelemetry::trace::{Event, Link, SpanContext, Status};
use opentelemetry::KeyValue;
use std::sync::Arc;
use std::time::SystemTime;

/// A span id's slot: the span's context and tracer, and what it has recorded while live.
/// Kept inline in the table (no allocation per span); the tracer is named by its id (no
/// reference count per span: see `tracers::with_any`).
pub(crate) struct SpanSlot {
    /// The span's reference, and its recording while it is live and recorded.
    span: Started,
    tracer: u64,
    state: SlotState,
    /// `tracer::closes()` when the span started: unchanged, the tracer is still open.
    closes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Active,
    Ended,
    /// A remote parent from `extract`.
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

fn too_many_spans() -> Error {
    Error::new(ErrorKind::LimitExceeded, "too many live spans")
}

/// Runs `f` on a live span's recording (`None`: not recorded); an ended span gives
/// `SpanEnded`, a remote parent `InvalidArgument`, a closed tracer `TracerClosed` (and then
/// `f` does not run: a call that reports the close has no effect).
#[inline]
fn with_active(span: u64, f: impl FnOnce(&mut Option<Recording>) -> Result<()>) -> Result<()> {
    SPANS
        .with(span, |slot, _| match slot.state {
            SlotState::Active => {
                if slot.closes != crate::tracer::closes() {
                    check_open(slot.tracer)?;
                }
                f(&mut slot.span.recording)
            }
            SlotState::Ended => Err(span_ended()),
            SlotState::Remote => Err(remote_unchangeable()),
        })
        .unwrap_or_else(|| Err(invalid_span()))
}

/// Some tracer was closed since the span started: was it this one? (A set racing with the
/// close may still land: it is dropped with the span at its end, counted there.)
#[cold]
fn check_open(tracer: u64) -> Result<()> {
    with_any(tracer, |t| {
        if t.is_closed() {
            Err(crate::span::tracer_closed())
        } else {
            Ok(())
        }
    })
    .map_err(|e| match e.kind {
        // The tracer is gone (closed, and its id reused): so is the span.
        ErrorKind::InvalidHandle => crate::span::tracer_closed(),
        _ => e,
    })
}

/// What a child on `tracer` needs from its parent's slot: the parent's context, its session
/// when the child does not name one and may take it (`session_choice::inherits`), and its
/// remote baggage (both only when `inherits` allows: the same tracer or a remote parent).
fn parent_ref_of(slot: &SpanSlot, need_session: bool, tracer: u64) -> SpanRef {
    let r = &slot.span.reference;
    // A child of another tracer's span keeps its own tracer's session, project and source:
    // the remote caller's baggage that span continues is not passed on either.
    let same_side =
        super::session_choice::inherits(slot.tracer, tracer, slot.state == SlotState::Remote);
    SpanRef {
        context: r.context.clone(),
        session: if need_session && same_side {
            r.session.clone()
        } else {
            None
        },
        remote_baggage: if same_side {
            r.remote_baggage.clone()
        } else {
            Vec::new()
        },
    }
}

/// Starts a span on `tracer` and returns its id.
/// - `name`: non-empty; truncated past `limits::MAX_SPAN_NAME_BYTES`.
/// - `event_type`: "model", "tool" or "chain"; `None` detects it from the name and attributes.
/// - `parent`: 0 for a root span, or a span id (live or recently ended, of any tracer), or a
///   remote parent from `extract`; the child joins the parent's trace.
/// - `session`: a session id (a UUID, in any case); `None`: see `session_choice` (the
///   parent's session when the parent is of this tracer or remote, else the tracer's).
/// - `attributes`: initial attributes (see `enrich::initial_attributes`); they never replace
///   the ones the library stamps.
///
/// A span excluded by `span_name_filters` still gets an id (children can name it) but is not
/// exported.
#[inline]
pub fn start(
    tracer: u64,
    name: &str,
    event_type: Option<&str>,
    parent: u64,
    session: Option<&str>,
    attributes: Vec<KeyValue>,
) -> Result<u64> {
    start_in(
        tracer,
        name,
        event_type,
        parent,
        session,
        attributes,
        false,
        |t| t.link_parent.clone(),
        crate::span::begin,
    )
}

/// `start` with the OpenTelemetry span model's options: kind, start time, links, typed
/// initial attributes, and a remote parent given by ids (`parent_context`, used when
/// `parent` is 0; the span takes its tracer's session, or `session` when given).
pub fn start_with(
    tracer: u64,
    name: &str,
    event_type: Option<&str>,
    parent: u64,
    session: Option<&str>,
    attributes: Vec<KeyValue>,
    options: &StartOptions,
) -> Result<u64> {
    let remote_parent = options
        .parent_context
        .as_ref()
        .filter(|_| parent == 0)
        .map(crate::span::remote_parent);
    start_in(
        tracer,
        name,
        event_type,
        parent,
        session,
        attributes,
        options.kind == opentelemetry::trace::SpanKind::Server,
        // A remote parent given by ids, else the tracer's `link_carrier`.
        |t| remote_parent.or_else(|| t.link_parent.clone()),
        |t, n, e, p, s, a| crate::span::begin_with(t, n, e, p, s, a, options),
    )
}

/// The one body of `start` and `start_with`: the caller's session checked, the session
/// chosen (`session_choice`), the slot built where the table stores it. Generic over how a
/// root's parent is found and how the span begins, so that `start` (the hot path) is compiled
/// without the options.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn start_in(
    tracer: u64,
    name: &str,
    event_type: Option<&str>,
    parent: u64,
    session: Option<&str>,
    attributes: Vec<KeyValue>,
    kind_is_server: bool,
    root_parent: impl FnOnce(&TracerInner) -> Option<SpanRef>,
    begin: impl FnOnce(
        &TracerInner,
        &str,
        Option<&str>,
        Option<&SpanRef>,
        Option<Arc<str>>,
        Vec<KeyValue>,
    ) -> Started,
) -> Result<u64> {
    let session = explicit_session(session)?;
    crate::span::check_start(name, event_type)?;
    let closes = crate::tracer::closes();
    let need_session = session.is_none();
    with_open(tracer, |t| {
        // Built where the table stores it (no copies of the slot on the way): one expression.
        let start = |parent_ref: Option<SpanRef>| {
            let mut attributes = attributes;
            SpanSlot {
                span: begin(
                    &t.inner,
                    name,
                    event_type,
                    parent_ref.as_ref(),
                    super::session_choice::choose(
                        &t.inner,
                        session,
                        parent_ref.as_ref().map(|p| p.session.clone()),
                        kind_is_server,
                        &mut attributes,
                    ),
                    attributes,
                ),
                tracer,
                state: SlotState::Active,
                closes,
            }
        };
        if parent == 0 {
            // Two calls: a constant `None` keeps the usual root's slot built in place, without
            // a copy.
            match root_parent(&t.inner) {
                None => SPANS.insert_with(|| start(None)),
                Some(p) => SPANS.insert_with(|| start(Some(p))),
            }
            .ok_or_else(too_many_spans)
        } else {
            SPANS.insert_with_parent(
                parent,
                |slot| parent_ref_of(slot, need_session, tracer),
                |p| start(Some(p)),
                invalid_span,
                too_many_spans,
            )
        }
    })
}

/// The session a caller named, as the span keeps it (interned); `InvalidArgument` when it is
/// not a UUID.
#[inline(always)]
fn explicit_session(session: Option<&str>) -> Result<Option<Arc<str>>> {
    match session {
        Some(s) => crate::local::session(s)
            .map(Some)
            .ok_or_else(|| Error::arg("session_id is not a UUID")),
        None => Ok(None),
    }
}

/// Adds attributes to a live span, all or none (`LimitExceeded` past the per-span limit).
pub fn set_attributes(span: u64, attributes: Vec<KeyValue>) -> Result<()> {
    with_active(span, |r| match r {
        Some(r) => r.set_attributes(attributes),
        None => Ok(()),
    })
}

/// Enriches a live span with JSON in the `enrich_span` namespaces (see
/// `enrich::span_enrichment`). All or nothing: on any error nothing is applied.
pub fn enrich(span: u64, enrichment_json: &str) -> Result<()> {
    set_attributes(span, enrich::span_enrichment(enrichment_json)?)
}

/// Sets one typed attribute: `key` under namespace `ns`.
#[inline]
pub fn set(span: u64, ns: u32, key: &str, value: AttrValue<'_>) -> Result<()> {
    set_with(span, ns, key, || Ok(attribute_value(value)))
}

/// `set` with a value made after the key is checked (a caller converting its value learns of
/// a bad key first), by `attributes::attribute_value` (which bounds it).
#[inline(always)]
pub fn set_with(
    span: u64,
    ns: u32,
    key: &str,
    value: impl FnOnce() -> Result<opentelemetry::Value>,
) -> Result<()> {
    let kv = KeyValue::new(attribute_key(ns, key)?, value()?);
    with_active(span, |r| match r {
        Some(r) => r.set_attribute(kv),
        None => Ok(()),
    })
}

/// Sets `count` attributes `make(0..count)`, all or none: when one cannot be made or is
/// invalid (the error names it) or they would take the span past its limit, nothing is set.
pub fn set_many<'a>(
    span: u64,
    count: usize,
    mut make: impl FnMut(usize) -> Result<Attribute<'a>>,
) -> Result<()> {
    if count == 0 {
        return Ok(());
    }
    check_batch(count)?;
    with_active(span, |r| {
        Recording::try_set_on(r, count, |i| batch_attribute(i, count, make(i)))
    })
}

/// A batch larger than a span can hold is refused before anything is read.
pub(crate) fn check_batch(count: usize) -> Result<()> {
    if count > crate::limits::MAX_ATTRIBUTES_PER_SPAN as usize {
        return Err(Error::limit(format!(
            "a span holds at most {} attributes set by the caller",
            crate::limits::MAX_ATTRIBUTES_PER_SPAN
        )));
    }
    Ok(())
}

/// Records an error on a live span: an `exception` event (not escaped, no stack trace: see
/// `record_error_ex`), status ERROR "<type>: <message>", and the attributes `honeyhive_error`
/// and `honeyhive_error_type` (`error_type` `None` or empty: "Error").
pub fn record_error(span: u64, error_type: Option<&str>, message: &str) -> Result<()> {
    record_error_ex(span, error_type, message, None, false, None)
}

/// `record_error` with OpenTelemetry's `record_exception` fields: a stack trace
/// (`exception.stacktrace`, truncated as attribute values are), whether the exception
/// escaped the span's scope (`exception.escaped`, "True"/"False" as the reference sends it),
/// and the event's time (`None`: now).
pub fn record_error_ex(
    span: u64,
    error_type: Option<&str>,
    message: &str,
    stacktrace: Option<&str>,
    escaped: bool,
    time: Option<SystemTime>,
) -> Result<()> {
    with_active(span, |r| {
        if let Some(r) = r {
            r.record_error(error_type, message, stacktrace, escaped, time)
        }
        Ok(())
    })
}

/// Adds an event to a live span: `name` (non-empty, truncated as span names are), its
/// attributes (past `limits::MAX_ATTRIBUTES_PER_EVENT` dropped and counted), its time
/// (`None`: now). Past `limits::MAX_EVENTS_PER_SPAN` events the event is dropped and counted.
pub fn add_event(
    span: u64,
    name: &str,
    attributes: Vec<KeyValue>,
    time: Option<SystemTime>,
) -> Result<()> {
    if name.is_empty() {
        return Err(Error::arg("event name must not be empty"));
    }
    let name = crate::limits::truncate_utf8(name, crate::limits::MAX_SPAN_NAME_BYTES);
    let time = time.unwrap_or_else(crate::clock::now);
    with_active(span, |r| {
        if let Some(r) = r {
            let (attributes, dropped) = crate::span::bounded_attributes(
                attributes,
                crate::limits::MAX_ATTRIBUTES_PER_EVENT,
            );
            r.push_event(Event::new(name.to_string(), time, attributes, dropped));
        }
        Ok(())
    })
}

/// A link to `context` with `attributes` (past `limits::MAX_ATTRIBUTES_PER_LINK` dropped and
/// counted), as a span keeps it.
pub fn link(context: SpanContext, attributes: Vec<KeyValue>) -> Link {
    let (attributes, dropped) =
        crate::span::bounded_attributes(attributes, crate::limits::MAX_ATTRIBUTES_PER_LINK);
    Link::new(context, attributes, dropped)
}

/// Adds a link (see `link`) to a live span; past `limits::MAX_LINKS_PER_SPAN` it is dropped
/// and counted. A link to an invalid context (zero ids) is refused.
pub fn add_link(span: u64, link: Link) -> Result<()> {
    if !link.span_context.is_valid() {
        return Err(Error::arg("a link needs a valid trace id and span id"));
    }
    with_active(span, |r| {
        if let Some(r) = r {
            r.push_link(link)
        }
        Ok(())
    })
}

/// Sets a live span's status as OpenTelemetry does: Ok is final, Error replaces Unset (and an
/// earlier Error), Unset changes nothing; the description (Error only) is truncated as
/// attribute values are.
pub fn set_status(span: u64, status: Status) -> Result<()> {
    let status = match status {
        Status::Error { description } => {
            let d = crate::limits::truncate_utf8(
                &description,
                crate::limits::MAX_ATTRIBUTE_VALUE_BYTES,
            );
            Status::error(d.to_string())
        }
        other => other,
    };
    with_active(span, |r| {
        if let Some(r) = r {
            r.set_status(status)
        }
        Ok(())
    })
}

/// Renames a live span (`name` non-empty; truncated as at start). The span keeps the event
/// type it was given or detected at start.
pub fn set_name(span: u64, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::arg("span name must not be empty"));
    }
    with_active(span, |r| {
        if let Some(r) = r {
            r.set_name(name)
        }
        Ok(())
    })
}

/// The span's context (trace id, span id, flags, whether remote): of a live, ended or remote
/// span.
pub fn context(span: u64) -> Result<SpanContext> {
    SPANS
        .with(span, |slot, _| slot.span.reference.context.clone())
        .ok_or_else(invalid_span)
}

/// `end` with an explicit end time (`None`: now), for work measured elsewhere.
pub fn end_at(span: u64, keep: bool, end_time: Option<SystemTime>) -> Result<()> {
    end_span(
        span,
        keep,
        None::<(usize, fn(usize) -> Result<Attribute<'static>>)>,
        end_time,
    )
}

/// Ends a span and hands it to its tracer's export queue (never waits for the network, except
/// in `disable_batch` mode), or releases a remote parent. Idempotent: ending an ended span is
/// `Ok`. `keep`: the id stays valid (as a parent, for `inject`, for `session_id`) until
/// `release`; otherwise it stays recognizable until its slot is reused. `TracerClosed` when
/// the tracer was closed first (the span is dropped and counted in `spans_dropped`).
#[inline]
pub fn end(span: u64, keep: bool) -> Result<()> {
    end_span(
        span,
        keep,
        None::<(usize, fn(usize) -> Result<Attribute<'static>>)>,
        None,
    )
}

/// `set_many` then `end`, under one lock. When the attributes are refused the span is NOT
/// ended (the error says why). On an ended span: `SpanEnded` when `count` > 0 (the attributes
/// would be lost). With `count` 0 it is `end`.
pub fn end_with<'a>(
    span: u64,
    keep: bool,
    count: usize,
    make: impl FnMut(usize) -> Result<Attribute<'a>>,
) -> Result<()> {
    if count == 0 {
        return end(span, keep);
    }
    check_batch(count)?;
    end_span(span, keep, Some((count, make)), None)
}

#[inline]
fn end_span<'a, F>(
    span: u64,
    keep: bool,
    mut attrs: Option<(usize, F)>,
    end_time: Option<SystemTime>,
) -> Result<()>
where
    F: FnMut(usize) -> Result<Attribute<'a>>,
{
    // One lock: set the attributes, mark the slot ended (and retire it unless kept) and move
    // the recording straight into the tracer's queue. What may block comes after the lock.
    let (tracer, result, then) = SPANS
        .with_then_retire(span, |slot, _| match slot.state {
            SlotState::Active => {
                if let Some((count, make)) = &mut attrs {
                    let count = *count;
                    let set = Recording::try_set_on(&mut slot.span.recording, count, |i| {
                        batch_attribute(i, count, make(i))
                    });
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
                let mut reached = false;
                let result = with_any(tracer, |t| {
                    reached = true;
                    let (accepted, after) = crate::span::finish_enqueue(
                        &t.inner,
                        &span.reference.context,
                        span.reference.session.is_some(),
                        &mut span.recording,
                        end_time,
                    );
                    then = after;
                    if accepted {
                        Ok(())
                    } else {
                        Err(crate::span::refused_after_close())
                    }
                });
                // Not reached: the tracer is closed (only its counters are left, and they
                // count the span as dropped) or gone (its id reused): the span goes with it.
                let result = if reached {
                    result
                } else {
                    super::tracers::count_refused_after_close(tracer);
                    Err(crate::span::refused_after_close())
                };
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
        let _ = with_any(tracer, |t| {
            t.inner.pipeline.after_enqueue(then);
            Ok(())
        });
    }
    result
}

/// Releases ids (0 skipped): ended spans and remote parents are retired under one lock per
/// run of ids in the same shard; a span still open is ended first (then retired), as an SDK
/// span is when dropped. Idempotent. Every valid id is released; the first failure
/// (`InvalidHandle` for a stale or forged id) is returned.
pub fn release(spans: &[u64]) -> Result<()> {
    let mut first_failure: Option<Error> = None;
    let mut open: Vec<u64> = Vec::new();
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
    // Dropped without an end (rare): ended now (without keeping the id: that retires it).
    for span in open {
        match end(span, false) {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::TracerClosed => {}
            Err(e) => {
                first_failure.get_or_insert(e);
            }
        }
    }
    first_failure.map_or(Ok(()), Err)
}

/// The span's W3C context as (`traceparent`, `baggage`): the baggage carries the session id,
/// project, source and evaluation ids. Works on live, recently ended and remote spans;
/// `TracerClosed` once the span's tracer is closed.
pub fn inject(span: u64) -> Result<(String, String)> {
    let (tracer, reference) = SPANS
        .with(span, |slot, _| (slot.tracer, slot.span.reference.clone()))
        .ok_or_else(invalid_span)?;
    with_any(tracer, |t| {
        if t.is_closed() {
            return Err(crate::span::tracer_closed());
        }
        Ok(t.inject(&reference))
    })
    .map_err(|e| match e.kind {
        ErrorKind::TracerClosed => e,
        _ => invalid_span(),
    })
}

/// The span's session id (`InvalidArgument` when it has none; `TracerClosed` once the span's
/// tracer is closed).
pub fn session_id(span: u64) -> Result<Arc<str>> {
    let (session, tracer, closes) = SPANS
        .with(span, |slot, _| {
            (
                slot.span.reference.session.clone(),
                slot.tracer,
                slot.closes,
            )
        })
        .ok_or_else(invalid_span)?;
    if closes != crate::tracer::closes() {
        check_open(tracer)?;
    }
    session.ok_or_else(|| Error::arg("the span has no session"))
}

/// Whether a span is recorded (false when `span_name_filters` excluded it, or once ended).
pub fn is_recording(span: u64) -> Result<bool> {
    SPANS
        .with(span, |slot, _| slot.span.recording.is_some())
        .ok_or_else(invalid_span)
}

/// A remote parent for `start` from incoming W3C headers: same trace id, the remote span as
/// parent, and the session from `baggage` (`session_id`) when it is a valid session id (a
/// UUID, written lower-case), else the tracer's default session. Project and source from
/// baggage are kept when they are at most 256 bytes without control characters; what is
/// ignored is logged (debug). Release it with `end` or `release`.
pub fn extract(tracer: u64, traceparent: &str, baggage: Option<&str>) -> Result<u64> {
    let t = super::tracers::open(tracer)?;
    let extracted = crate::propagation::extract(traceparent, baggage)?;
    if !extracted.rejected.is_empty() {
        t.inner.log.debug(|| {
            format!(
                "extract: baggage ignored from the caller: {}",
                extracted.rejected.join(", ")
            )
        });
    }
    let mut reference = extracted.reference;
    if reference.session.is_none() {
        reference.session = t.session_id().map(Into::into);
    }
    SPANS
        .insert(SpanSlot {
            span: Started {
                reference,
                recording: None,
            },
            tracer,
            state: SlotState::Remote,
            closes: crate::tracer::closes(),
        })
        .ok_or_else(too_many_spans)
}
