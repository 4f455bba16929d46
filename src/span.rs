//! Spans: started with an explicit parent and session, stamped with the HoneyHive attributes
//! (spec 4.1), enriched, and ended exactly once.

use crate::error::{Error, ErrorKind, Result};
use crate::event_type;
use crate::limits;
use crate::tracer::TracerInner;
use opentelemetry::trace::{
    Span as _, SpanBuilder, SpanContext, Status, TraceContextExt, Tracer as _,
};
use opentelemetry::{Context, Key, KeyValue, StringValue, Value};
use std::sync::Arc;

/// What a child, an injection or an ended span needs to know about a span.
#[derive(Debug, Clone)]
pub struct SpanRef {
    pub context: SpanContext,
    pub session: Option<Arc<str>>,
    /// Project and source carried in from a remote parent's baggage.
    pub remote_baggage: Vec<(String, String)>,
}

/// A span that has not ended yet.
#[derive(Debug)]
pub struct ActiveSpan {
    span: opentelemetry_sdk::trace::Span,
    tracer: Arc<TracerInner>,
    reference: SpanRef,
    recording: bool,
}

const SESSION_KEY: Key = Key::from_static_str("honeyhive.session_id");
const SESSION_MIRROR_KEY: Key = Key::from_static_str("traceloop.association.properties.session_id");
const EVENT_TYPE_KEY: Key = Key::from_static_str("honeyhive_event_type");

impl ActiveSpan {
    pub(crate) fn start(
        tracer: Arc<TracerInner>,
        name: &str,
        event_type: Option<&str>,
        parent: Option<&SpanRef>,
        session: Option<Arc<str>>,
        mut attributes: Vec<KeyValue>,
    ) -> Result<ActiveSpan> {
        if name.is_empty() {
            return Err(Error::arg("span name must not be empty"));
        }
        let name = limits::truncate_utf8(name, limits::MAX_SPAN_NAME_BYTES);
        if let Some(t) = event_type {
            if !crate::enrich::EVENT_TYPES.contains(&t) {
                return Err(Error::arg("event type must be model, tool or chain"));
            }
        }
        let event_type: &'static str = match event_type {
            Some("model") => "model",
            Some("chain") => "chain",
            Some(_) => "tool",
            None => event_type::detect(name, &attributes),
        };

        let mut stamped = Vec::with_capacity(tracer.stamped.len() + attributes.len() + 3);
        if let Some(s) = &session {
            let v = Value::String(StringValue::from(s.clone()));
            stamped.push(KeyValue::new(SESSION_KEY, v.clone()));
            stamped.push(KeyValue::new(SESSION_MIRROR_KEY, v));
        }
        let remote = parent
            .map(|p| p.remote_baggage.as_slice())
            .unwrap_or_default();
        if remote.is_empty() {
            stamped.extend(tracer.stamped.iter().cloned());
        } else {
            // A continued remote trace keeps the caller's project and source (spec 4.1: baggage
            // wins over the tracer's own values).
            for kv in &tracer.stamped {
                let label = kv.key.as_str().rsplit('.').next().unwrap_or_default();
                let from_baggage = (kv.key.as_str().starts_with("honeyhive.")
                    || kv
                        .key
                        .as_str()
                        .starts_with("traceloop.association.properties."))
                .then(|| remote.iter().find(|(k, _)| k == label))
                .flatten();
                match from_baggage {
                    Some((_, v)) => stamped.push(KeyValue::new(kv.key.clone(), v.clone())),
                    None => stamped.push(kv.clone()),
                }
            }
            for (label, v) in remote {
                if !tracer
                    .stamped
                    .iter()
                    .any(|kv| kv.key.as_str() == format!("honeyhive.{label}"))
                {
                    stamped.push(KeyValue::new(format!("honeyhive.{label}"), v.clone()));
                    stamped.push(KeyValue::new(
                        format!("traceloop.association.properties.{label}"),
                        v.clone(),
                    ));
                }
            }
        }
        stamped.push(KeyValue::new(
            EVENT_TYPE_KEY,
            Value::String(StringValue::from(event_type)),
        ));
        // Caller attributes never override the stamped ones (the event type is taken into
        // account above, by detection).
        attributes
            .retain(|kv| kv.key != EVENT_TYPE_KEY && !stamped.iter().any(|s| s.key == kv.key));
        stamped.append(&mut attributes);

        let builder = SpanBuilder::from_name(name.to_string()).with_attributes(stamped);
        let span = match parent {
            Some(p) => {
                let cx = Context::new().with_remote_span_context(p.context.clone());
                tracer.sdk.build_with_context(builder, &cx)
            }
            None => tracer.sdk.build_with_context(builder, &Context::new()),
        };
        let recording = span.is_recording();
        // First use after a fork resets this tracer's pipeline for the child before counting.
        let _ = tracer.pipeline.ensure_worker();
        crate::stats::Stats::add(&tracer.stats.spans_started, 1);
        let remote_baggage = parent.map(|p| p.remote_baggage.clone()).unwrap_or_default();
        let reference = SpanRef {
            context: span.span_context().clone(),
            session,
            remote_baggage,
        };
        Ok(ActiveSpan {
            span,
            tracer,
            reference,
            recording,
        })
    }

    pub fn reference(&self) -> &SpanRef {
        &self.reference
    }

    pub fn tracer(&self) -> &Arc<TracerInner> {
        &self.tracer
    }

    /// Whether the span is recorded (false when a name filter excluded it).
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    fn check_open(&self) -> Result<()> {
        if self.tracer.is_closed() {
            return Err(Error::new(
                ErrorKind::TracerClosed,
                "the span's tracer is closed",
            ));
        }
        Ok(())
    }

    /// Applies already-validated attributes (all of them, or none on error).
    pub fn set_attributes(&mut self, attributes: Vec<KeyValue>) -> Result<()> {
        self.check_open()?;
        self.span.set_attributes(attributes);
        Ok(())
    }

    pub fn set_attribute(&mut self, kv: KeyValue) -> Result<()> {
        self.check_open()?;
        self.span.set_attribute(kv);
        Ok(())
    }

    /// An `exception` event, error status, and `honeyhive_error` / `honeyhive_error_type` on
    /// the span itself (spec 11, recommendation 8).
    pub fn record_error(&mut self, error_type: Option<&str>, message: &str) -> Result<()> {
        self.check_open()?;
        let message = limits::truncate_utf8(message, limits::MAX_ATTRIBUTE_VALUE_BYTES);
        let error_type = error_type.filter(|t| !t.is_empty()).unwrap_or("Error");
        let error_type = limits::truncate_utf8(error_type, limits::MAX_KEY_BYTES);
        self.span.add_event(
            "exception",
            vec![
                KeyValue::new("exception.type", error_type.to_string()),
                KeyValue::new("exception.message", message.to_string()),
            ],
        );
        self.span
            .set_status(Status::error(format!("{error_type}: {message}")));
        self.span.set_attributes([
            KeyValue::new("honeyhive_error", message.to_string()),
            KeyValue::new("honeyhive_error_type", error_type.to_string()),
        ]);
        Ok(())
    }

    /// Ends the span; the export pipeline takes it from here.
    pub fn end(mut self) -> Result<SpanRef> {
        let reference = self.reference.clone();
        if self.recording
            && reference.session.is_none()
            && self.tracer.config.exporter == crate::config::ExporterKind::HoneyHive
        {
            self.tracer.log.warn(format!(
                "span {:?} has no session id (skip_backend_session_creation without session_id): HoneyHive cannot attribute it",
                reference.context.span_id()
            ));
        }
        crate::export::take_push_outcome();
        self.span.end();
        if !crate::export::take_push_outcome() {
            return Err(Error::new(
                ErrorKind::TracerClosed,
                "the span's tracer is closed: the span was dropped (counted in spans_dropped)",
            ));
        }
        Ok(reference)
    }
}
