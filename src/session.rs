//! Sessions: `create_session` for one session per request on a shared tracer, and
//! `enrich_session` (`POST /session/start`, `PUT /events`). Ids are made on the client; the REST calls run in
//! the background.

use crate::config::{canonical_session_id, parse_object};
use crate::enrich::session_enrichment_body;
use crate::error::{Error, ErrorKind, Result};
use crate::fork::{ForkAware, Layer, LockVisitor, LockWalk};
use crate::session_state::{
    AUTO_CREATE, BAGGAGE_SESSION_NAME_KEY, MAX_START_WAIT_YIELDS, NAMED, NEEDS_START,
    SESSION_NAME_KEY, STARTING,
};
use crate::tracer::{new_session_id, Tracer, TracerInner};
use opentelemetry::{KeyValue, StringValue};
use serde_json::{Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A tracer's session bookkeeping around `fork()`: its named-session lock is taken with the
/// other leaf locks (nothing is taken under it), and its default session's start is settled
/// by one rule: a default session still unstarted at the fork is started by the parent, right
/// after it, and counts as started in the child (which would otherwise start it once per
/// worker of a pre-fork server, or wait for a start another parent thread was submitting).
impl ForkAware for TracerInner {
    fn visit_layer(&self, layer: Layer, walk: &mut LockWalk) -> bool {
        layer != Layer::Leaves || walk.visit(&self.sessions.named)
    }

    fn reset_in_child(&self) {
        self.sessions.forget_start_in_child();
    }

    /// Outside every lock, as a normal background call.
    fn after_fork_in_parent(&self) {
        if self.is_closed() {
            return;
        }
        if let Some(session) = &self.default_session {
            if self.sessions.claim_start() {
                self.start_default_session(session);
                self.sessions.start_registered();
            }
        }
    }
}

impl TracerInner {
    /// A span, enrich, inject or event is about to use `session`. When it is the default
    /// session and that was never started, its `POST /session/start` is submitted now, before
    /// the caller's span or call can be queued (so the server learns of the session first, and
    /// nothing waits). Adds to `attributes` what the session stamps on a span starting in it
    /// (`None`: not for a span). One load when there is nothing to do.
    #[inline]
    pub(crate) fn use_session(&self, session: &str, attributes: Option<&mut Vec<KeyValue>>) {
        // Acquire: a thread that sees the start submitted also sees it registered, so its
        // span is held back by the worker until the start is done.
        let flags = self.sessions.flags.load(Ordering::Acquire);
        if flags != 0 {
            self.use_session_slow(session, flags, attributes);
        }
    }

    #[cold]
    fn use_session_slow(
        &self,
        session: &str,
        mut flags: u8,
        attributes: Option<&mut Vec<KeyValue>>,
    ) {
        let is_default = self.default_session.as_deref() == Some(session);
        let mut patience = MAX_START_WAIT_YIELDS;
        while is_default && flags & (NEEDS_START | STARTING) != 0 {
            if flags & STARTING != 0 {
                // Another thread is submitting the start (no network): its span goes first.
                // Bounded, once per tracer: past it, STARTING is cleared for good (the start
                // stays claimed: NEEDS_START is not set again).
                if patience == 0 {
                    flags = self.sessions.start_registered();
                    break;
                }
                patience -= 1;
                std::thread::yield_now();
                flags = self.sessions.flags.load(Ordering::Acquire);
                continue;
            }
            match self.sessions.flags.compare_exchange(
                flags,
                (flags & !NEEDS_START) | STARTING,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.start_default_session(session);
                    flags = self.sessions.start_registered();
                }
                Err(now) => flags = now,
            }
        }
        let Some(attributes) = attributes else { return };
        let name = if flags & NAMED != 0 {
            self.sessions.name_of(session)
        } else {
            None
        };
        if flags & AUTO_CREATE != 0 {
            let name = name
                .clone()
                .unwrap_or_else(|| Arc::from(self.config.session_name.as_str()));
            attributes.push(KeyValue::new(
                SESSION_NAME_KEY,
                opentelemetry::Value::String(StringValue::from(name)),
            ));
        }
        if let Some(name) = name {
            // As the reference SDK, whose session name travels in baggage and is stamped
            // with the other baggage entries.
            attributes.push(KeyValue::new(
                BAGGAGE_SESSION_NAME_KEY,
                opentelemetry::Value::String(StringValue::from(name)),
            ));
        }
    }

    /// The default session when `session_id` is `None`, else the id canonical (a UUID).
    pub(crate) fn session_or_default(&self, session_id: Option<&str>) -> Result<String> {
        match session_id {
            Some(s) => {
                canonical_session_id(s).ok_or_else(|| Error::arg("session_id is not a UUID"))
            }
            None => self
                .default_session
                .as_deref()
                .map(str::to_owned)
                .ok_or_else(|| Error::arg("the tracer has no default session: pass a session id")),
        }
    }
}

impl Tracer {
    /// Starts a new session and returns its id at once. Options (all optional):
    /// `session_name`, `session_id`, `inputs`, `metadata`, `user_properties`, `source`,
    /// `skip_api_call`.
    pub fn create_session(&self, options_json: Option<&str>) -> Result<String> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::TracerClosed, "tracer is closed"));
        }
        let opts = parse_object(options_json)
            .map_err(|e| Error::new(e.kind, e.message.replace("config", "session options")))?;
        let text = |k: &str| -> Result<Option<String>> {
            match opts.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Error::arg(format!("session option `{k}` must be a string"))),
            }
        };
        let object = |k: &str| -> Result<Option<Value>> {
            match opts.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(o)) if o.is_empty() => Ok(None),
                Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
                Some(_) => Err(Error::arg(format!(
                    "session option `{k}` must be an object"
                ))),
            }
        };
        for k in opts.keys() {
            if !matches!(
                k.as_str(),
                "session_name"
                    | "session_id"
                    | "inputs"
                    | "metadata"
                    | "user_properties"
                    | "source"
                    | "skip_api_call"
            ) {
                return Err(Error::arg(format!("unknown session option `{k}`")));
            }
        }
        let session_id = match text("session_id")? {
            Some(s) => canonical_session_id(&s)
                .ok_or_else(|| Error::arg("session option `session_id` is not a UUID"))?,
            None => new_session_id(),
        };
        let skip = match opts.get("skip_api_call") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(Error::arg(
                    "session option `skip_api_call` must be true or false",
                ))
            }
        };
        let (inputs, metadata, user_properties) = (
            object("inputs")?,
            object("metadata")?,
            object("user_properties")?,
        );
        let name =
            text("session_name")?.unwrap_or_else(|| format!("session-{}", &new_session_id()[..8]));
        let source = text("source")?.unwrap_or_else(|| self.config().source.clone());

        // skip_api_call only skips with a caller-given id; without one the session is started
        // as usual (as in the reference SDK).
        if skip && opts.get("session_id").is_some() {
            // The reference SDK puts this name into baggage: it is stamped on the session's
            // spans (`baggage.session_name`, and `honeyhive.session_name` in auto-create
            // mode) and injected with it.
            if let Some(given) = text("session_name")? {
                self.inner.sessions.remember_name(&session_id, &given);
            }
            return Ok(session_id);
        }
        let mut session = Map::new();
        if let Some(p) = &self.config().project {
            session.insert("project".into(), p.clone().into());
        }
        session.insert("source".into(), source.into());
        session.insert("session_name".into(), name.into());
        session.insert("session_id".into(), session_id.clone().into());
        for (k, v) in [
            ("inputs", inputs),
            ("metadata", metadata),
            ("user_properties", user_properties),
        ] {
            if let Some(v) = v {
                session.insert(k.into(), v);
            }
        }
        // The caller starts the default session itself (by its id): not again at its first use.
        // Claimed before the call is registered and released after, so that a concurrent span
        // in it waits for the start to be registered first.
        let claimed = self.inner.default_session.as_deref() == Some(session_id.as_str())
            && self.inner.sessions.claim_start();
        self.inner.pipeline.rest_call(
            reqwest::Method::POST,
            "/session/start",
            serde_json::json!({ "session": session }),
            &session_id,
        );
        if claimed {
            self.inner.sessions.start_registered();
        }
        Ok(session_id)
    }

    /// The `baggage` header that continues a session in another service without a span:
    /// `session_id`, project, source (and what else `hh_span_inject` writes). `None`: the
    /// default session (which counts as using it: it is started if it was not).
    pub fn session_baggage(&self, session_id: Option<&str>) -> Result<String> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::TracerClosed, "tracer is closed"));
        }
        let sid = self.inner.session_or_default(session_id)?;
        self.inner.use_session(&sid, None);
        let name = self.inner.sessions.name_of(&sid);
        Ok(crate::propagation::session_baggage(
            &self.inner.config,
            &sid,
            name.as_deref(),
        ))
    }

    /// `inject` of a span: its (`traceparent`, `baggage`). Using its session counts as using
    /// it (a remote parent's may be the default one, never started yet).
    pub fn inject(&self, reference: &crate::span_ref::SpanRef) -> (String, String) {
        let name = reference.session.as_deref().and_then(|s| {
            self.inner.use_session(s, None);
            self.inner.sessions.name_of(s)
        });
        crate::propagation::inject(&self.inner.config, reference, name.as_deref())
    }

    /// Sends `PUT /events` for a session (the default one when `session_id` is `None`).
    /// Nothing is sent when every field is empty.
    pub fn enrich_session(&self, session_id: Option<&str>, json: &str) -> Result<()> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::TracerClosed, "tracer is closed"));
        }
        let sid = self.inner.session_or_default(session_id)?;
        if let Some(body) = session_enrichment_body(&sid, json)? {
            self.inner.use_session(&sid, None);
            self.inner
                .pipeline
                .rest_call(reqwest::Method::PUT, "/events", body, &sid);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::session_state::{SessionState, MAX_SESSION_NAME_BYTES};

    /// A HoneyHive tracer whose REST calls go to a closed loopback port (nothing waits).
    fn tracer() -> Tracer {
        let json = r#"{"api_key":"k","project":"p","server_url":"http://127.0.0.1:9"}"#;
        Tracer::new(Config::resolve(Some(json), &|_| None).expect("config")).expect("tracer")
    }

    fn flags(t: &Tracer) -> u8 {
        t.inner.sessions.flags.load(Ordering::Acquire)
    }

    /// A fork while another thread of the parent submits the start (STARTING), or before any
    /// use (NEEDS_START): in the child, the default session counts as started.
    #[test]
    fn in_a_forked_child_the_default_session_counts_as_started() {
        let t = tracer();
        t.inner
            .sessions
            .flags
            .store(NEEDS_START | STARTING, Ordering::Release);
        t.inner.reset_in_child();
        assert_eq!(flags(&t) & (NEEDS_START | STARTING), 0);
        assert_eq!(flags(&t), 0, "a span pays one load again");
    }

    /// The parent starts a default session still unstarted at the fork.
    #[test]
    fn after_a_fork_the_parent_starts_an_unstarted_default_session() {
        let t = tracer();
        t.inner.after_fork_in_parent();
        assert_eq!(flags(&t), 0, "claimed and registered");
        // (The wire side, one start from a pre-fork parent: tests/c/test_fork_sessions.c.)
    }

    /// Once a use of the default session ran out of patience waiting for a start another
    /// thread was submitting, no later use waits again.
    #[test]
    fn the_wait_for_another_threads_start_is_paid_once() {
        let t = tracer();
        let sid = t.session_id().expect("a default session").to_owned();
        // As a start claimed by a thread that never registers it.
        t.inner.sessions.flags.store(STARTING, Ordering::Release);
        t.inner.use_session(&sid, None);
        assert_eq!(flags(&t) & (NEEDS_START | STARTING), 0);
    }

    /// The caller's `create_session` of the default session claims its start before the call
    /// is registered: a concurrent use sees STARTING (and waits), never "started" too early.
    #[test]
    fn a_caller_started_default_session_is_claimed_until_registered() {
        let s = SessionState::new(true, false);
        assert!(s.claim_start());
        assert_eq!(s.flags.load(Ordering::Acquire), STARTING);
        assert!(!s.claim_start(), "claimed once");
        assert_eq!(s.start_registered(), 0);
    }

    /// A remembered name is bounded in bytes, cut at a UTF-8 boundary.
    #[test]
    fn remembered_session_names_are_bounded_in_bytes() {
        let s = SessionState::new(false, false);
        let long = format!("a{}", "é".repeat(1 << 20));
        s.remember_name("11111111-2222-4333-8444-555555555555", &long);
        let kept = s
            .name_of("11111111-2222-4333-8444-555555555555")
            .expect("remembered");
        assert!(kept.len() <= MAX_SESSION_NAME_BYTES && kept.len() >= MAX_SESSION_NAME_BYTES - 1);
        assert!(long.starts_with(&*kept));
    }
}
