//! Spans: started with an explicit parent and session, stamped with the HoneyHive attributes
//! (session, project, source and their `traceloop.association.properties.*` mirrors),
//! enriched, and ended exactly once.
//!
//! The hot path builds the OpenTelemetry SDK's `SpanData` itself instead of going through an
//! `SdkTracer`: the same fields, ids, sampling decision and limits, without the SDK's per-span
//! costs (a `Context` per parent, a provider and scope clone per span, a processor call, an
//! attribute vector that reallocates on the first `set_attribute`; see BENCHMARKS.md).
//! Attributes that are the same on every span of a tracer (project, source, evaluation ids,
//! experiment metadata) are not copied into each span: the export pipeline writes them
//! (`TracerInner::stamped`), before the span's own attributes, so a span attribute with the
//! same key still wins.

use crate::error::{Error, ErrorKind, Result};
use crate::event_type;
use crate::export::AfterEnqueue;
use crate::limits;
use crate::tracer::TracerInner;
use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags};
use opentelemetry::{InstrumentationScope, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{IdGenerator as _, SpanData, SpanEvents, SpanLinks};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

pub use crate::span_ref::SpanRef;

pub(crate) use crate::keys::{SESSION_KEY, SESSION_MIRROR_KEY};
const EVENT_TYPE_KEY: Key = Key::from_static_str("honeyhive_event_type");
/// Room for attributes set after start, so the usual few setters never reallocate.
const SPARE_ATTRIBUTES: usize = 8;

/// What `start_with` may set besides `start`'s arguments (the OpenTelemetry span model);
/// `Default` is `start`'s behaviour.
#[derive(Debug, Clone)]
pub struct StartOptions {
    pub kind: SpanKind,
    /// `None`: now.
    pub start_time: Option<SystemTime>,
    /// Links to other spans (past `limits::MAX_LINKS_PER_SPAN` dropped and counted; each
    /// link's attributes bounded by `limits::MAX_ATTRIBUTES_PER_LINK`).
    pub links: Vec<Link>,
    /// Typed initial attributes, after the JSON ones (a key in both keeps this value).
    pub attributes: Vec<KeyValue>,
    /// A remote parent given by ids, used when the span has no parent id.
    pub parent_context: Option<SpanContext>,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            kind: SpanKind::Internal,
            start_time: None,
            links: Vec::new(),
            attributes: Vec::new(),
            parent_context: None,
        }
    }
}

/// What a recorded span has collected so far (absent for a span excluded by a name filter).
#[derive(Debug)]
pub(crate) struct Recording {
    parent_span_id: SpanId,
    parent_span_is_remote: bool,
    name: Cow<'static, str>,
    start_time: SystemTime,
    attributes: Vec<KeyValue>,
    /// Attributes this span may hold (the per-span limit minus the tracer's stamped ones).
    attribute_limit: u32,
    dropped_attributes_count: u32,
    /// Kind, events, links and status, boxed: most spans have none of them, and the
    /// recording is moved on the hot path (a pointer instead of about 100 bytes).
    model: Option<Box<Model>>,
}

/// The rarer parts of a recording.
#[derive(Debug)]
struct Model {
    kind: SpanKind,
    events: SpanEvents,
    links: SpanLinks,
    status: Status,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            kind: SpanKind::Internal,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
        }
    }
}

impl Recording {
    /// Sets attributes in order, all or none: a key the span already holds gets the new value
    /// in place (the span keeps one value per key, as the SDK's `set_attribute`), and a call
    /// that would take the span past its limit of caller attributes fails with
    /// `LimitExceeded` and changes nothing (RELIABILITY.md B6).
    #[inline]
    pub(crate) fn set_attributes<I>(&mut self, attributes: I) -> Result<()>
    where
        I: IntoIterator<Item = KeyValue>,
        I::IntoIter: ExactSizeIterator,
    {
        let attributes = attributes.into_iter();
        let before = self.attributes.len();
        self.attributes.reserve(attributes.len());
        self.attributes.extend(attributes);
        self.merge_from(before)
    }

    /// `try_set_attributes` on a span's recording; a span that is not recorded (excluded by a
    /// name filter) gets the same checks, so a caller learns of a bad attribute either way.
    pub(crate) fn try_set_on(
        recording: &mut Option<Recording>,
        count: usize,
        mut make: impl FnMut(usize) -> Result<KeyValue>,
    ) -> Result<()> {
        match recording {
            Some(r) => r.try_set_attributes(count, make),
            None => (0..count).try_for_each(|i| make(i).map(drop)),
        }
    }

    /// Sets one attribute (the typed setters): a key the span holds gets the new value in
    /// place; a new key takes room (`LimitExceeded` when there is none).
    #[inline(always)]
    pub(crate) fn set_attribute(&mut self, kv: KeyValue) -> Result<()> {
        // Spans hold few attributes: a scan (lengths first) is cheaper than any index.
        let key = kv.key.as_str();
        if let Some(held) = self
            .attributes
            .iter_mut()
            .find(|held| held.key.as_str() == key)
        {
            held.value = kv.value;
            return Ok(());
        }
        self.check_room(1)?;
        self.attributes.push(kv);
        Ok(())
    }

    /// Sets the `count` attributes `make(0..count)` returns, in order, all or none: when one
    /// cannot be made (its error is returned) or they would take the span past its limit,
    /// nothing changes. (No list is built first: what was added is taken back on failure.)
    #[inline]
    pub(crate) fn try_set_attributes(
        &mut self,
        count: usize,
        mut make: impl FnMut(usize) -> Result<KeyValue>,
    ) -> Result<()> {
        let before = self.attributes.len();
        self.attributes.reserve(count);
        for i in 0..count {
            match make(i) {
                Ok(kv) => self.attributes.push(kv),
                Err(e) => {
                    self.attributes.truncate(before);
                    return Err(e);
                }
            }
        }
        self.merge_from(before)
    }

    /// Folds the attributes appended from `before` on into the span: one whose key is held
    /// (earlier, or again later in the same call) replaces that value, the last one winning.
    /// When the new keys would not fit, the appended ones are taken back and nothing changes.
    #[inline]
    fn merge_from(&mut self, before: usize) -> Result<()> {
        let added = &self.attributes[before..];
        let held = &self.attributes[..before];
        // New keys: not held, and not repeated later in this call.
        let new_keys = added
            .iter()
            .enumerate()
            .filter(|(i, kv)| {
                !held.iter().any(|h| h.key == kv.key)
                    && !added[i + 1..].iter().any(|later| later.key == kv.key)
            })
            .count();
        if let Err(e) = self.check_room_for(before, new_keys) {
            self.attributes.truncate(before);
            return Err(e);
        }
        if new_keys == added.len() {
            return Ok(());
        }
        // Some keys repeat: keep one entry per key, at its first place, with its last value.
        let mut i = before;
        while i < self.attributes.len() {
            let key = &self.attributes[i].key;
            match self.attributes[..i].iter().position(|h| h.key == *key) {
                Some(at) => {
                    let kv = self.attributes.remove(i);
                    self.attributes[at].value = kv.value;
                }
                None => i += 1,
            }
        }
        Ok(())
    }

    // Inlined: a `Result` returned through memory is read back wider than it was written
    // (store-forwarding stall), and every setter passes here.
    #[inline(always)]
    fn check_room(&self, count: usize) -> Result<()> {
        self.check_room_for(self.attributes.len(), count)
    }

    #[inline(always)]
    fn check_room_for(&self, held: usize, count: usize) -> Result<()> {
        if held + count > self.attribute_limit as usize {
            return Err(too_many_attributes());
        }
        Ok(())
    }

    /// An `exception` event, error status, and `honeyhive_error` / `honeyhive_error_type` on
    /// the span itself (the reference SDK's decorator makes a separate `<name>_error` span in
    /// another trace instead; we keep the error on the span that failed). The event's
    /// attributes are OpenTelemetry's `record_exception`'s: `exception.type`,
    /// `exception.message`, `exception.stacktrace` (when given) and `exception.escaped` as the
    /// text "True" or "False" (the reference sends `str(escaped)`).
    pub(crate) fn record_error(
        &mut self,
        error_type: Option<&str>,
        message: &str,
        stacktrace: Option<&str>,
        escaped: bool,
        time: Option<SystemTime>,
    ) {
        let message = limits::truncate_utf8(message, limits::MAX_ATTRIBUTE_VALUE_BYTES);
        let error_type = error_type.filter(|t| !t.is_empty()).unwrap_or("Error");
        let error_type = limits::truncate_utf8(error_type, limits::MAX_KEY_BYTES);
        let mut attributes = Vec::with_capacity(4);
        attributes.push(KeyValue::new("exception.type", error_type.to_string()));
        attributes.push(KeyValue::new("exception.message", message.to_string()));
        if let Some(trace) = stacktrace {
            let trace = limits::truncate_utf8(trace, limits::MAX_ATTRIBUTE_VALUE_BYTES);
            attributes.push(KeyValue::new("exception.stacktrace", trace.to_string()));
        }
        attributes.push(KeyValue::new(
            "exception.escaped",
            if escaped { "True" } else { "False" },
        ));
        self.push_event(Event::new(
            "exception",
            time.unwrap_or_else(crate::clock::now),
            attributes,
            0,
        ));
        // As `set_status`: Ok is final, anything else is replaced (`Status`'s derived order
        // also compares the description texts, so it cannot decide this).
        self.set_status(Status::error(format!("{error_type}: {message}")));
        // The error always fits: the span keeps room for these two (see `start`), and a later
        // error replaces an earlier one instead of taking more room.
        self.attributes.retain(|kv| {
            kv.key.as_str() != "honeyhive_error" && kv.key.as_str() != "honeyhive_error_type"
        });
        self.attributes
            .push(KeyValue::new("honeyhive_error", message.to_string()));
        self.attributes.push(KeyValue::new(
            "honeyhive_error_type",
            error_type.to_string(),
        ));
    }

    /// Adds an event (its attributes already bounded by `bounded_attributes`); past
    /// `limits::MAX_EVENTS_PER_SPAN` it is dropped and counted, as the SDK does.
    pub(crate) fn push_event(&mut self, event: Event) {
        let events = &mut self.model().events;
        if events.len() < limits::MAX_EVENTS_PER_SPAN as usize {
            events.events.push(event);
        } else {
            events.dropped_count += 1;
        }
    }

    /// Adds a link; past `limits::MAX_LINKS_PER_SPAN` it is dropped and counted.
    pub(crate) fn push_link(&mut self, link: Link) {
        let links = &mut self.model().links;
        if links.len() < limits::MAX_LINKS_PER_SPAN as usize {
            links.links.push(link);
        } else {
            links.dropped_count += 1;
        }
    }

    /// Sets the status as OpenTelemetry does: Ok is final, Error replaces Unset or an
    /// earlier Error, Unset changes nothing. The description is kept for Error only.
    pub(crate) fn set_status(&mut self, status: Status) {
        if status == Status::Unset {
            return;
        }
        let model = self.model();
        if model.status != Status::Ok {
            model.status = status;
        }
    }

    /// The rarer parts, made on first use.
    fn model(&mut self) -> &mut Model {
        self.model.get_or_insert_with(Box::default)
    }

    /// Renames the span (truncated past `limits::MAX_SPAN_NAME_BYTES`).
    pub(crate) fn set_name(&mut self, name: &str) {
        let name = limits::truncate_utf8(name, limits::MAX_SPAN_NAME_BYTES);
        self.name = Cow::Owned(name.to_string());
    }

    /// What the span will weigh in the export queue: every byte it holds.
    pub(crate) fn estimated_size(&self) -> usize {
        let Some(m) = &self.model else {
            return crate::span_size::span_bytes(&self.name, &self.attributes, &[], &[]);
        };
        let status = match &m.status {
            Status::Error { description } => description.len(),
            _ => 0,
        };
        crate::span_size::span_bytes(&self.name, &self.attributes, &m.events, &m.links) + status
    }

    /// The finished span, as the SDK would hand it to a span processor.
    /// `end_time` `None`: now.
    pub(crate) fn into_span_data(
        self,
        context: SpanContext,
        end_time: Option<SystemTime>,
    ) -> SpanData {
        let m = match self.model {
            Some(m) => *m,
            None => Model::default(),
        };
        SpanData {
            span_context: context,
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_is_remote,
            span_kind: m.kind,
            name: self.name,
            start_time: self.start_time,
            end_time: end_time.unwrap_or_else(crate::clock::now),
            attributes: self.attributes,
            dropped_attributes_count: self.dropped_attributes_count,
            events: m.events,
            links: m.links,
            status: m.status,
            // The pipeline writes its tracer's scope (`honeyhive.<id>`): not cloned per span.
            instrumentation_scope: InstrumentationScope::default(),
        }
    }
}

/// A span just started: what children and injection need, and what it records.
#[derive(Debug)]
pub(crate) struct Started {
    pub(crate) reference: SpanRef,
    /// `None` when not recorded (excluded by `span_name_filters`), or once ended.
    pub(crate) recording: Option<Recording>,
}

/// What can make a start fail: an empty name or an unknown explicit event type.
#[inline]
pub(crate) fn check_start(name: &str, event_type: Option<&str>) -> Result<()> {
    if name.is_empty() {
        return Err(Error::arg("span name must not be empty"));
    }
    if let Some(t) = event_type {
        if !crate::enrich::EVENT_TYPES.contains(&t) {
            return Err(Error::arg("event type must be model, tool or chain"));
        }
    }
    Ok(())
}

/// Starts a span on `tracer` (arguments already passed `check_start`): its context (ids,
/// flags, trace state as the SDK's sampler would set them) and, unless a name filter
/// excludes it, its recording with the stamped attributes. (`start_with`'s options are
/// applied by `begin_with`: this path, `start`'s, stays as it is.)
pub(crate) fn begin(
    tracer: &TracerInner,
    name: &str,
    event_type: Option<&str>,
    parent: Option<&SpanRef>,
    session: Option<Arc<str>>,
    mut attributes: Vec<KeyValue>,
) -> Started {
    let name = limits::truncate_utf8(name, limits::MAX_SPAN_NAME_BYTES);
    let event_type: &'static str = match event_type {
        Some("model") => "model",
        Some("chain") => "chain",
        Some(_) => "tool",
        None => event_type::detect(name, &attributes),
    };

    // The SDK's decision for a valid (always remote-wrapped) parent or none: same trace id,
    // the parent's flags with `sampled`, the parent's trace state; a span excluded by
    // `span_name_filters` is not recorded and not sampled (so neither stamped nor exported;
    // its children are judged on their own names).
    let ids = crate::ids::ForkSafeIdGenerator;
    let parent_cx = parent.map(|p| &p.context).filter(|c| c.is_valid());
    let span_id = ids.new_span_id();
    let trace_id = match parent_cx {
        Some(p) => p.trace_id(),
        None => ids.new_trace_id(),
    };
    let trace_state = parent_cx
        .map(|p| p.trace_state().clone())
        .unwrap_or_default();
    let recorded = tracer.config.span_name_filters.allows(name);
    let flags = if recorded {
        parent_cx
            .map(|p| p.trace_flags())
            .unwrap_or_default()
            .with_sampled(true)
    } else {
        TraceFlags::default()
    };
    let context = SpanContext::new(trace_id, span_id, flags, false, trace_state);

    // First use after a fork resets this tracer's pipeline for the child before counting.
    let _ = tracer.pipeline.ensure_worker();
    tracer.stats.spans_started.add(1);
    let remote = parent
        .map(|p| p.remote_baggage.as_slice())
        .unwrap_or_default();
    let reference = SpanRef {
        context,
        session,
        // Only a continued remote trace has baggage: skip the copy's set-up (about 20
        // instructions per span in callgrind).
        remote_baggage: if remote.is_empty() {
            Vec::new()
        } else {
            remote.to_vec()
        },
    };
    if !recorded {
        return Started {
            reference,
            recording: None,
        };
    }

    let mut attrs = crate::local::attribute_vec(2 + attributes.len() + SPARE_ATTRIBUTES);
    if let Some(s) = &reference.session {
        // Stored once: the pipeline writes its mirror key (SESSION_MIRROR_KEY) beside it.
        attrs.push(KeyValue::new(
            SESSION_KEY,
            Value::String(StringValue::from(s.clone())),
        ));
    }
    if !remote.is_empty() {
        remote_overrides(tracer, remote, &mut attrs);
    }
    attrs.push(KeyValue::new(
        EVENT_TYPE_KEY,
        Value::String(StringValue::from(event_type)),
    ));
    // Caller attributes never override the stamped ones (the event type is taken into
    // account above, by detection).
    if !attributes.is_empty() {
        attributes.retain(|kv| {
            kv.key != EVENT_TYPE_KEY
                && (reference.session.is_none() || kv.key != SESSION_MIRROR_KEY)
                && !attrs.iter().any(|s| s.key == kv.key)
                && !tracer.stamped.iter().any(|s| s.key == kv.key)
        });
    }
    // The caller may set MAX_ATTRIBUTES_PER_SPAN attributes of its own; the library's (above)
    // and the two error attributes come on top.
    let attribute_limit = attrs.len() + limits::MAX_ATTRIBUTES_PER_SPAN as usize;
    let dropped = attributes
        .len()
        .saturating_sub(limits::MAX_ATTRIBUTES_PER_SPAN as usize) as u32;
    // Most spans start without attributes: skip the iterator's set-up and drop (about 90
    // instructions per span in callgrind).
    if !attributes.is_empty() {
        attrs.extend(
            attributes
                .into_iter()
                .take(limits::MAX_ATTRIBUTES_PER_SPAN as usize),
        );
    }
    let name: Cow<'static, str> = match crate::local::intern(name) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(name.to_string()),
    };
    let recording = Recording {
        parent_span_id: parent_cx.map(|p| p.span_id()).unwrap_or(SpanId::INVALID),
        parent_span_is_remote: parent_cx.is_some_and(|p| p.is_remote()),
        name,
        start_time: crate::clock::now(),
        attributes: attrs,
        attribute_limit: attribute_limit as u32,
        dropped_attributes_count: dropped,
        model: None,
    };
    Started {
        reference,
        recording: Some(recording),
    }
}

/// `begin` with `start_with`'s options: the typed initial attributes join the JSON ones (a
/// key in both keeps the typed value), then kind, start time and links are set.
#[allow(clippy::too_many_arguments)]
pub(crate) fn begin_with(
    tracer: &TracerInner,
    name: &str,
    event_type: Option<&str>,
    parent: Option<&SpanRef>,
    session: Option<Arc<str>>,
    mut attributes: Vec<KeyValue>,
    options: &StartOptions,
) -> Started {
    for kv in &options.attributes {
        match attributes.iter_mut().find(|held| held.key == kv.key) {
            Some(held) => held.value = kv.value.clone(),
            None => attributes.push(kv.clone()),
        }
    }
    let mut started = begin(tracer, name, event_type, parent, session, attributes);
    if let Some(r) = &mut started.recording {
        apply_options(r, options);
    }
    started
}

/// Kind, start time and links of `start_with`.
fn apply_options(recording: &mut Recording, o: &StartOptions) {
    if o.kind != SpanKind::Internal {
        recording.model().kind = o.kind.clone();
    }
    if let Some(t) = o.start_time {
        recording.start_time = t;
    }
    for link in &o.links {
        recording.push_link(link.clone());
    }
}

/// A remote parent given by ids (`StartOptions::parent_context`): what `begin` needs of it.
/// It has no session of its own (the span takes its tracer's).
pub(crate) fn remote_parent(context: &SpanContext) -> SpanRef {
    SpanRef {
        context: context.clone(),
        session: None,
        remote_baggage: Vec::new(),
    }
}

/// Attributes of an event or link as the span keeps them: past `max` dropped (the count
/// returned), one value per key (the last), strings and keys bounded as a span's are.
pub(crate) fn bounded_attributes(attributes: Vec<KeyValue>, max: u32) -> (Vec<KeyValue>, u32) {
    let mut out: Vec<KeyValue> = Vec::with_capacity(attributes.len().min(max as usize));
    let mut dropped = 0u32;
    for kv in attributes {
        if let Some(held) = out.iter_mut().find(|h| h.key == kv.key) {
            held.value = kv.value;
        } else if out.len() < max as usize {
            out.push(kv);
        } else {
            dropped = dropped.saturating_add(1);
        }
    }
    (out, dropped)
}

/// A continued remote trace keeps the caller's project and source (baggage values win
/// over the tracer's own values): written on the span, they replace the tracer's stamped ones.
#[cold]
fn remote_overrides(tracer: &TracerInner, remote: &[(String, String)], attrs: &mut Vec<KeyValue>) {
    for kv in &tracer.stamped {
        let key = kv.key.as_str();
        let label = key.rsplit('.').next().unwrap_or_default();
        let from_baggage = (key.starts_with("honeyhive.")
            || key.starts_with("traceloop.association.properties."))
        .then(|| remote.iter().find(|(k, _)| k == label))
        .flatten();
        if let Some((_, v)) = from_baggage {
            attrs.push(KeyValue::new(kv.key.clone(), v.clone()));
        }
    }
    for (label, v) in remote {
        if !tracer
            .stamped
            .iter()
            .any(|kv| kv.key.as_str() == format!("honeyhive.{label}"))
        {
            attrs.push(KeyValue::new(format!("honeyhive.{label}"), v.clone()));
            attrs.push(KeyValue::new(
                format!("traceloop.association.properties.{label}"),
                v.clone(),
            ));
        }
    }
}

/// Ends a span: moves its recording (if any) into the tracer's export queue, without what may
/// block (waking the worker, immediate-mode export): callers hold a lock, and then call
/// `pipeline.after_enqueue` with what this returns. Also returns whether the pipeline accepted
/// the span (false: refused after close; it is counted in spans_dropped). Small results, so
/// they come back in registers.
#[inline]
pub(crate) fn finish_enqueue(
    tracer: &TracerInner,
    context: &SpanContext,
    has_session: bool,
    recording: &mut Option<Recording>,
    end_time: Option<SystemTime>,
) -> (bool, AfterEnqueue) {
    let Some(size) = recording.as_ref().map(Recording::estimated_size) else {
        return (true, AfterEnqueue::Nothing);
    };
    // A span without a session is not exported (HoneyHive cannot attribute it), unless the
    // pipeline is closed: then it is refused and counted as any span ended after close.
    if !has_session {
        return no_session(tracer, context, size, recording, end_time);
    }
    tracer.pipeline.enqueue(size, || {
        recording
            .take()
            .expect("checked above")
            .into_span_data(context.clone(), end_time)
    })
}

#[cold]
fn too_many_attributes() -> Error {
    Error::limit(format!(
        "a span holds at most {} attributes set by the caller: this call would exceed it",
        limits::MAX_ATTRIBUTES_PER_SPAN
    ))
}

/// Counts a span ended without a session (`spans_ended` and `spans_no_session`) and drops it;
/// warns the first time. After close it is refused as any span (counted in `spans_dropped`).
#[cold]
#[inline(never)]
fn no_session(
    tracer: &TracerInner,
    context: &SpanContext,
    size: usize,
    recording: &mut Option<Recording>,
    end_time: Option<SystemTime>,
) -> (bool, AfterEnqueue) {
    if tracer.is_closed() {
        return tracer.pipeline.enqueue(size, || {
            recording
                .take()
                .expect("checked by finish_enqueue")
                .into_span_data(context.clone(), end_time)
        });
    }
    drop(recording.take());
    tracer.stats.spans_ended.add(1);
    crate::stats::Stats::add(&tracer.stats.spans_no_session, 1);
    if tracer.sessions.first_no_session() {
        // Under the span's lock: a log handler must not run here.
        tracer.log.warn_deferred(format!(
            "span {:?} has no session (skip_backend_session_creation without session_id, and \
             none given or inherited): not exported, HoneyHive cannot attribute it; such spans \
             are counted in stats spans_no_session (warned once)",
            context.span_id()
        ));
    }
    (true, AfterEnqueue::Nothing)
}

/// The error of a span ended after its tracer was closed.
#[cold]
pub(crate) fn refused_after_close() -> Error {
    Error::new(
        ErrorKind::TracerClosed,
        "the span's tracer is closed: the span was dropped (counted in spans_dropped)",
    )
}

pub(crate) fn tracer_closed() -> Error {
    Error::new(ErrorKind::TracerClosed, "the span's tracer is closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording() -> Recording {
        Recording {
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            name: Cow::Borrowed("n"),
            start_time: SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            attribute_limit: limits::MAX_ATTRIBUTES_PER_SPAN,
            dropped_attributes_count: 0,
            model: None,
        }
    }

    #[test]
    fn the_queue_size_counts_events_links_and_the_status_description() {
        let base = recording().estimated_size();
        let mut r = recording();
        r.push_event(Event::new(
            "e",
            SystemTime::UNIX_EPOCH,
            vec![KeyValue::new("k", "x".repeat(5000))],
            0,
        ));
        assert!(r.estimated_size() >= base + 5000);
        let mut r = recording();
        r.push_link(Link::new(
            SpanContext::empty_context(),
            vec![KeyValue::new("k", "y".repeat(7000))],
            0,
        ));
        assert!(r.estimated_size() >= base + 7000);
        let mut r = recording();
        r.set_status(Status::error("z".repeat(9000)));
        assert!(r.estimated_size() >= base + 9000);
    }

    #[test]
    fn status_ok_is_final_and_unset_changes_nothing() {
        let mut r = recording();
        r.set_status(Status::error("first"));
        r.set_status(Status::Unset);
        r.set_status(Status::error("second"));
        let data = |r: Recording| r.into_span_data(SpanContext::empty_context(), None).status;
        let mut ok = recording();
        ok.set_status(Status::Ok);
        ok.set_status(Status::error("late"));
        assert_eq!(data(ok), Status::Ok);
        assert_eq!(data(r), Status::error("second"));
        // A span with none of the rarer parts goes out as an internal span with no status.
        let plain = recording().into_span_data(SpanContext::empty_context(), None);
        assert_eq!(plain.span_kind, SpanKind::Internal);
        assert_eq!(plain.status, Status::Unset);
    }

    /// A recorded error replaces an earlier error status whatever its text (status texts are
    /// not ordered), and never an Ok one.
    #[test]
    fn a_later_error_replaces_an_earlier_error_status() {
        let data = |r: Recording| r.into_span_data(SpanContext::empty_context(), None).status;
        let mut r = recording();
        r.record_error(Some("TypeError"), "first", None, false, None);
        r.record_error(Some("AssertionError"), "second", None, false, None);
        assert_eq!(data(r), Status::error("AssertionError: second"));
        let mut r = recording();
        r.set_status(Status::error("zzz"));
        r.record_error(Some("ValueError"), "boom", None, false, None);
        assert_eq!(data(r), Status::error("ValueError: boom"));
        let mut r = recording();
        r.set_status(Status::Ok);
        r.record_error(Some("ValueError"), "boom", None, false, None);
        assert_eq!(data(r), Status::Ok);
    }

    #[test]
    fn events_and_links_past_the_limits_are_counted() {
        let mut r = recording();
        for _ in 0..limits::MAX_EVENTS_PER_SPAN + 2 {
            r.push_event(Event::new("e", SystemTime::UNIX_EPOCH, Vec::new(), 0));
        }
        for _ in 0..limits::MAX_LINKS_PER_SPAN + 3 {
            r.push_link(Link::new(SpanContext::empty_context(), Vec::new(), 0));
        }
        let d = r.into_span_data(SpanContext::empty_context(), None);
        assert_eq!(d.events.len(), limits::MAX_EVENTS_PER_SPAN as usize);
        assert_eq!(d.events.dropped_count, 2);
        assert_eq!(d.links.len(), limits::MAX_LINKS_PER_SPAN as usize);
        assert_eq!(d.links.dropped_count, 3);
        let many: Vec<KeyValue> = (0..limits::MAX_ATTRIBUTES_PER_EVENT + 4)
            .map(|i| KeyValue::new(format!("k{i}"), 1))
            .chain([KeyValue::new("k0", 2)])
            .collect();
        let (kept, dropped) = bounded_attributes(many, limits::MAX_ATTRIBUTES_PER_EVENT);
        assert_eq!(kept.len(), limits::MAX_ATTRIBUTES_PER_EVENT as usize);
        assert_eq!(dropped, 4);
        // A key repeated keeps its last value in place.
        assert_eq!(kept[0].value, Value::I64(2));
    }
}
