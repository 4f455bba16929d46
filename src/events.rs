//! Events by id: `create_event` (`POST /events`, a standalone model/tool/chain event in a
//! session, with the body the reference SDK's `create_event` sends) and `enrich_event`
//! (`PUT /events` with `event_id`, for feedback that arrives after the fact). The id is made
//! here and sent, so nothing waits for the server; the calls run in the background, ordered
//! after their session's start (and an enrichment after the event's creation).

use crate::config::{canonical_session_id, parse_json};
use crate::enrich::session_enrichment_body;
use crate::error::{Error, ErrorKind, Result};
use crate::tracer::{new_session_id, Tracer};
use serde_json::{Map, Value};

/// Keys of an event whose value must be a JSON object (or null: absent).
const OBJECT_KEYS: [&str; 7] = [
    "inputs",
    "outputs",
    "config",
    "metadata",
    "feedback",
    "metrics",
    "user_properties",
];

/// Keys the tracer sets (the reference takes them from the tracer whatever the caller passes).
const TRACER_KEYS: [&str; 2] = ["project", "source"];

impl Tracer {
    /// Queues `POST /events` and returns the new event's id at once. `json`: an object with
    /// `event_name` (default `unknown_event`), `event_type` (`model`, `tool` (default),
    /// `chain`; `session` means `tool`, as in the reference), `inputs`, `outputs`, `config`,
    /// `metadata`, `feedback`, `metrics`, `user_properties` (objects), `error` (string),
    /// `duration` (a number, sent as a float), `session_id` (default: the tracer's session),
    /// `event_id` (a UUID; default: a new one), and any other key, sent as given. Without
    /// HoneyHive's REST API (test mode, the OTLP, file and console exporters) the id is
    /// returned and nothing is sent, as for sessions.
    pub fn create_event(&self, json: &str) -> Result<String> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::TracerClosed, "tracer is closed"));
        }
        let Value::Object(map) = parse_json(json, "event")? else {
            return Err(Error::json("event", "must be a JSON object"));
        };
        let session_id = self
            .inner
            .session_or_default(text(&map, "session_id")?)
            .map_err(|e| Error::new(e.kind, format!("event: {}", e.message)))?;
        let event_id = match text(&map, "event_id")? {
            Some(s) => canonical_session_id(s)
                .ok_or_else(|| Error::arg("event: event_id is not a UUID"))?,
            None => new_session_id(),
        };
        let body = self.event_body(&map, &session_id, &event_id)?;
        // An event in the default session is a use of it: started first if it never was.
        self.inner.use_session(&session_id, None);
        let pipeline = &self.inner.pipeline;
        pipeline.rest_call(
            reqwest::Method::POST,
            "/events",
            serde_json::json!({ "event": body }),
            &session_id,
        );
        if let Some(rest) = &pipeline.rest {
            rest.note_event_create(&event_id, &session_id);
        }
        Ok(event_id)
    }

    /// Queues `PUT /events` for the event `event_id` (a UUID: an event made by
    /// `create_event`, a span's event id, a session id). `json` takes the keys of
    /// `enrich_session` (the same body rules). Nothing is sent when every field is empty.
    pub fn enrich_event(&self, event_id: &str, json: &str) -> Result<()> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::TracerClosed, "tracer is closed"));
        }
        let id =
            canonical_session_id(event_id).ok_or_else(|| Error::arg("event_id is not a UUID"))?;
        let Some(body) = session_enrichment_body(&id, json)? else {
            return Ok(());
        };
        // The default session enriched by its id is a use of it, as `enrich_session` is.
        self.inner.use_session(&id, None);
        let pipeline = &self.inner.pipeline;
        let order = match &pipeline.rest {
            Some(rest) => rest.event_order_key(&id),
            None => id,
        };
        pipeline.rest_call(reqwest::Method::PUT, "/events", body, &order);
        Ok(())
    }

    /// The event as the reference builds it: `project`, `source`, `session_id`, `event_name`,
    /// `event_type`, `config` and `inputs` (`{}` when absent), `duration` (a float, 0 when
    /// absent), the other known keys when not null, then every other key as given.
    fn event_body(
        &self,
        map: &Map<String, Value>,
        session_id: &str,
        event_id: &str,
    ) -> Result<Map<String, Value>> {
        for k in TRACER_KEYS {
            if map.get(k).is_some_and(|v| !v.is_null()) {
                return Err(Error::arg(format!(
                    "event: `{k}` is the tracer's (set it in the tracer's config)"
                )));
            }
        }
        for k in OBJECT_KEYS {
            if !matches!(
                map.get(k),
                None | Some(Value::Null) | Some(Value::Object(_))
            ) {
                return Err(Error::arg(format!("event: `{k}` must be an object")));
            }
        }
        let c = self.config();
        let event_name = text(map, "event_name")?.unwrap_or("unknown_event");
        let event_type = event_type(text(map, "event_type")?)?;
        let duration = match map.get("duration") {
            None | Some(Value::Null) => 0.0,
            Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
            Some(_) => return Err(Error::arg("event: `duration` must be a number")),
        };
        text(map, "error")?;
        let mut body = Map::new();
        body.insert(
            "project".into(),
            c.project.clone().unwrap_or_default().into(),
        );
        body.insert("source".into(), c.source.clone().into());
        body.insert("session_id".into(), session_id.into());
        body.insert("event_name".into(), event_name.into());
        body.insert("event_type".into(), event_type.into());
        for k in ["config", "inputs"] {
            let v = map.get(k).filter(|v| !v.is_null()).cloned();
            body.insert(k.into(), v.unwrap_or_else(|| Value::Object(Map::new())));
        }
        body.insert("duration".into(), duration.into());
        for k in ["outputs", "error", "metadata", "feedback", "metrics"] {
            if let Some(v) = map.get(k).filter(|v| !v.is_null()) {
                body.insert(k.into(), v.clone());
            }
        }
        for (k, v) in map {
            if !v.is_null() && !body.contains_key(k) && k != "event_id" {
                body.insert(k.clone(), v.clone());
            }
        }
        // The reference lets the server choose the id and waits for its answer; the request
        // model takes one from the client, which is what lets this call return at once.
        body.insert("event_id".into(), event_id.into());
        Ok(body)
    }
}

/// A string field (None when absent or null).
fn text<'a>(map: &'a Map<String, Value>, k: &str) -> Result<Option<&'a str>> {
    match map.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::arg(format!("event: `{k}` must be a string"))),
    }
}

/// The reference's event type rule: lower-cased; `session` becomes `tool` (a session is made
/// by its own call). Other values are refused here (the reference turns them into `tool`
/// silently, hiding a typo).
fn event_type(given: Option<&str>) -> Result<&'static str> {
    let Some(given) = given else {
        return Ok("tool");
    };
    match given.to_ascii_lowercase().as_str() {
        "model" => Ok("model"),
        "tool" | "session" => Ok("tool"),
        "chain" => Ok("chain"),
        _ => Err(Error::arg(
            "event: event_type must be \"model\", \"tool\" or \"chain\"",
        )),
    }
}
