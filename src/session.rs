//! Sessions: `create_session` for one session per request on a shared tracer, and
//! `enrich_session` (`POST /session/start`, `PUT /events`). Ids are made on the client; the REST calls run in
//! the background.

use crate::config::{canonical_session_id, parse_object};
use crate::enrich::session_enrichment_body;
use crate::error::{Error, ErrorKind, Result};
use crate::tracer::{new_session_id, Tracer};
use serde_json::{Map, Value};

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
        self.inner.pipeline.rest_call(
            reqwest::Method::POST,
            "/session/start",
            serde_json::json!({ "session": session }),
            &session_id,
        );
        Ok(session_id)
    }

    /// Sends `PUT /events` for a session (the default one when `session_id` is `None`).
    /// Nothing is sent when every field is empty.
    pub fn enrich_session(&self, session_id: Option<&str>, json: &str) -> Result<()> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::TracerClosed, "tracer is closed"));
        }
        let sid = match session_id {
            Some(s) => {
                canonical_session_id(s).ok_or_else(|| Error::arg("session_id is not a UUID"))?
            }
            None => self
                .session_id()
                .ok_or_else(|| Error::arg("the tracer has no default session: pass a session id"))?
                .to_string(),
        };
        if let Some(body) = session_enrichment_body(&sid, json)? {
            self.inner
                .pipeline
                .rest_call(reqwest::Method::PUT, "/events", body, &sid);
        }
        Ok(())
    }
}
