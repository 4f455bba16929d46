//! Events by id on the wire (`POST /events`, `PUT /events` with `event_id`), `update_event_id`
//! in span enrichment, and the OTLP resource.

mod common;
use common::*;
use hh_test_receiver::{Fault, Receiver, RecordedRequest};
use honeyhive::registry::events;
use serde_json::json;
use std::time::Duration;

fn event_posts(rx: &Receiver) -> Vec<RecordedRequest> {
    rx.requests_to("POST", "/events")
}

fn event_puts(rx: &Receiver) -> Vec<RecordedRequest> {
    rx.requests_to("PUT", "/events")
}

#[test]
fn create_event_sends_the_reference_body_and_returns_the_id_it_sent() {
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"source":"ref-source"}"#);
    let sid = session_of(t);
    let id = events::create_event(
        t,
        r#"{"event_name":"my_event","event_type":"Model","inputs":{"q":"x"},"outputs":{"a":1},
            "metadata":{"m":1},"metrics":{"s":0.5},"feedback":{"f":true},"config":{"c":"v"},
            "duration":12,"error":"oops","user_properties":{"u":1},"extra_kw":"e","skip":null}"#,
    )
    .unwrap();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    let bare = events::create_event(t, r#"{"event_name":"bare","event_type":"session"}"#).unwrap();
    tracers::flush(t, WAIT).unwrap();

    let posts = event_posts(&rx);
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(
        posts[0].body_json.as_ref().unwrap(),
        &json!({"event": {
            "project": "proj", "source": "ref-source", "session_id": sid,
            "event_name": "my_event", "event_type": "model", "config": {"c": "v"},
            "inputs": {"q": "x"}, "duration": 12.0, "outputs": {"a": 1}, "error": "oops",
            "metadata": {"m": 1}, "feedback": {"f": true}, "metrics": {"s": 0.5},
            "user_properties": {"u": 1}, "extra_kw": "e", "event_id": id}})
    );
    // The reference's defaults: empty config and inputs, duration 0.0, `session` → `tool`.
    assert_eq!(
        posts[1].body_json.as_ref().unwrap(),
        &json!({"event": {
            "project": "proj", "source": "ref-source", "session_id": sid,
            "event_name": "bare", "event_type": "tool", "config": {}, "inputs": {},
            "duration": 0.0, "event_id": bare}})
    );
    let r = &posts[0];
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("hh-client-package"), Some("libhoneyhive"));
    assert!(r.header("hh-client-timestamp").is_some());
    assert_eq!(r.response_status, 200);
}

#[test]
fn caller_ids_are_used_and_bad_events_send_nothing() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let sid = tracers::create_session(t, None).unwrap();
    let id = events::create_event(
        t,
        &format!(
            r#"{{"session_id":"{}","event_id":"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"}}"#,
            sid.to_uppercase()
        ),
    )
    .unwrap();
    assert_eq!(id, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    tracers::flush(t, WAIT).unwrap();
    let calls = tracers::stats(t).unwrap().rest_calls;
    for bad in [
        "{",
        "[1]",
        r#"{"event_type":"bogus"}"#,
        r#"{"project":"other"}"#,
        r#"{"source":"other"}"#,
        r#"{"session_id":"nope"}"#,
        r#"{"event_id":"nope"}"#,
        r#"{"inputs":[1]}"#,
        r#"{"duration":"5"}"#,
        r#"{"error":{"e":1}}"#,
        r#"{"event_name":5}"#,
    ] {
        assert!(events::create_event(t, bad).is_err(), "{bad}");
    }
    assert!(events::enrich_event(t, "nope", r#"{"metadata":{"a":1}}"#).is_err());
    assert!(events::enrich_event(t, &id, "{").is_err());
    // All empty: nothing to send.
    events::enrich_event(t, &id, r#"{"metadata":{}}"#).unwrap();
    tracers::flush(t, WAIT).unwrap();
    assert_eq!(tracers::stats(t).unwrap().rest_calls, calls);
    let posts = event_posts(&rx);
    assert_eq!(posts.len(), 1);
    let body = &posts[0].body_json.as_ref().unwrap()["event"];
    assert_eq!(body["session_id"], json!(sid));
    assert_eq!(body["event_id"], json!(id));
    assert_eq!(body["event_name"], json!("unknown_event"));
    assert!(event_puts(&rx).is_empty());

    tracers::close(t, WAIT).unwrap();
    assert!(events::create_event(t, "{}").is_err());
    assert!(events::enrich_event(t, &id, r#"{"metadata":{"a":1}}"#).is_err());
}

#[test]
fn enrich_event_sends_the_session_enrichment_body_for_the_event() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let id = "11111111-2222-4333-8444-555555555555";
    events::enrich_event(
        t,
        id,
        r#"{"metadata":{"later":1},"feedback":{"rating":5},"inputs":{"i":1},"outputs":{"o":2},
            "metrics":{"m":3},"config":{"c":4},"user_properties":{"u":5},"duration":3,"extra":3}"#,
    )
    .unwrap();
    tracers::flush(t, WAIT).unwrap();
    let puts = event_puts(&rx);
    assert_eq!(puts.len(), 1);
    assert_eq!(
        puts[0].body_json.as_ref().unwrap(),
        &json!({"event_id": id, "metadata": {"later": 1, "inputs": {"i": 1}, "extra": 3},
                "feedback": {"rating": 5}, "outputs": {"o": 2}, "metrics": {"m": 3},
                "config": {"c": 4}, "user_properties": {"u": 5}, "duration": 3})
    );
}

/// Enriching the default session by its id as an event is a use of it, as enriching it as a
/// session is: its start is sent first (once), then the enrichment.
#[test]
fn enrich_event_of_the_default_session_starts_it_first() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let sid = session_of(t);
    events::enrich_event(t, &sid.to_uppercase(), r#"{"metadata":{"k":1}}"#).unwrap();
    events::enrich_event(t, &sid, r#"{"metadata":{"k":2}}"#).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let starts = session_starts(&rx);
    assert_eq!(starts.len(), 1, "started once");
    assert_eq!(
        starts[0].body_json.as_ref().unwrap()["session"]["session_id"],
        json!(sid)
    );
    let puts = event_puts(&rx);
    assert_eq!(puts.len(), 2);
    assert!(puts.iter().all(|p| starts[0].seq < p.seq));
}

#[test]
fn an_event_reaches_the_server_after_its_session_start_and_its_enrichment_after_it() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    tracers::flush(t, WAIT).unwrap();
    // The session's start is slow: the event and its enrichment must wait for it.
    rx.set_fault(
        Fault::status(200)
            .with_body("application/json", "{}")
            .with_delay_ms(300)
            .with_path_prefix("/session/start")
            .with_times(1),
    );
    let sid = tracers::create_session(t, Some(r#"{"session_name":"slow"}"#)).unwrap();
    let id =
        events::create_event(t, &format!(r#"{{"session_id":"{sid}","event_name":"e"}}"#)).unwrap();
    events::enrich_event(t, &id, r#"{"feedback":{"thumbs":"up"}}"#).unwrap();
    tracers::flush(t, WAIT).unwrap();

    let start = session_starts(&rx)
        .into_iter()
        .find(|r| r.body_json.as_ref().unwrap()["session"]["session_id"] == json!(sid))
        .expect("the session's start");
    let post = event_posts(&rx).pop().expect("the event");
    let put = event_puts(&rx).pop().expect("its enrichment");
    assert!(
        start.seq < post.seq && post.seq < put.seq,
        "{} {} {}",
        start.seq,
        post.seq,
        put.seq
    );
    assert_eq!(put.body_json.as_ref().unwrap()["event_id"], json!(id));
    let s = tracers::stats(t).unwrap();
    assert_eq!(s.rest_failures, 0, "{s:?}");
}

#[test]
fn hostile_answers_to_events_block_neither_the_caller_nor_spans() {
    for (what, fault) in [
        ("hang", Fault::hang()),
        ("500", Fault::status(500)),
        ("huge body", Fault::status(200).with_body_bytes(64 << 20)),
        ("endless body", Fault::status(200).chunked()),
        ("trickle", Fault::trickle(200)),
    ] {
        let rx = Receiver::start();
        let t = tracer(&rx, r#"{"api_timeout_ms":1500}"#);
        tracers::flush(t, WAIT).unwrap();
        rx.set_fault(fault.with_path_prefix("/events"));
        let id = events::create_event(t, r#"{"event_name":"e"}"#).unwrap();
        events::enrich_event(t, &id, r#"{"feedback":{"f":1}}"#).unwrap();
        // Spans of the same session go while the event calls are stuck.
        let s = spans::start(t, "after", Some("tool"), 0, None, vec![]).unwrap();
        spans::end(s, false).unwrap();
        let got = rx.wait_for_spans(1, WAIT);
        assert_eq!(got.len(), 1, "{what}");
        // Every call ends within its timeout (plus retries' bound), counted.
        let _ = tracers::flush(t, Duration::from_secs(30));
        let st = tracers::stats(t).unwrap();
        assert_eq!(st.spans_exported, 1, "{what}: {st:?}");
        assert_eq!(st.rest_calls, 3, "{what}: {st:?}");
        // A 2xx answer counts as delivered, however long its body (read within a bound).
        if !what.ends_with("body") {
            assert!(st.rest_failures >= 1, "{what}: {st:?}");
        }
        rx.clear_fault();
        tracers::close(t, WAIT).unwrap_or(());
    }
}

#[test]
fn update_event_id_sets_the_span_event_id() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let s = spans::start(t, "sp", Some("tool"), 0, None, vec![]).unwrap();
    spans::enrich(
        s,
        r#"{"update_event_id":"11111111-2222-4333-8444-555555555555","metadata":{"a":1}}"#,
    )
    .unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let got = rx.spans();
    let sp = span_named(&got, "sp");
    assert_eq!(
        sp.attr_str("honeyhive_event_id"),
        Some("11111111-2222-4333-8444-555555555555")
    );
    assert_eq!(sp.attr_i64("honeyhive_metadata.a"), Some(1));
    assert!(sp.attr("honeyhive_metadata.update_event_id").is_none());
}

#[test]
fn the_resource_follows_opentelemetry_conventions() {
    let rx = Receiver::start();
    let json = |extra: &str| {
        format!(
            r#"{{"api_key":"{KEY}","project":"proj","server_url":"{}","schedule_delay_ms":50{extra}}}"#,
            rx.url()
        )
    };
    let env = [
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=staging,team=search%20ranking,broken",
        ),
        ("OTEL_SERVICE_NAME", "env-service"),
    ];
    let t1 = honeyhive::registry::create_tracer(config(
        &json(r#","resource_attributes":{"deployment.environment":"prod","process.runtime.name":"go","replicas":3}"#),
        &env,
    ))
    .unwrap();
    let t2 =
        honeyhive::registry::create_tracer(config(&json(r#","service_name":"cfg-service""#), &env))
            .unwrap();
    for (t, name) in [(t1, "one"), (t2, "two")] {
        let s = spans::start(t, name, Some("tool"), 0, None, vec![]).unwrap();
        spans::end(s, false).unwrap();
        tracers::flush(t, WAIT).unwrap();
    }
    let got = rx.spans();
    let (one, two) = (
        &span_named(&got, "one").resource,
        &span_named(&got, "two").resource,
    );
    assert_eq!(one["service.name"], json!("env-service"));
    assert_eq!(two["service.name"], json!("cfg-service"));
    assert_eq!(one["deployment.environment"], json!("prod"));
    assert_eq!(two["deployment.environment"], json!("staging"));
    assert_eq!(one["team"], json!("search ranking"));
    assert_eq!(one["replicas"], json!(3));
    assert_eq!(one["process.runtime.name"], json!("go"));
    assert_eq!(two["process.runtime.name"], json!("c"));
    assert_eq!(one["process.pid"], json!(std::process::id()));
    assert_eq!(one["telemetry.sdk.name"], json!("libhoneyhive"));
    assert_eq!(one["telemetry.sdk.language"], json!("rust"));
    assert_eq!(one["telemetry.sdk.version"], json!(honeyhive::VERSION));
    assert!(one["host.arch"].as_str().is_some_and(|a| !a.is_empty()));
    assert_eq!(one["os.type"], json!(std::env::consts::OS));
    let instance = |r: &serde_json::Map<String, serde_json::Value>| {
        uuid::Uuid::parse_str(r["service.instance.id"].as_str().unwrap()).unwrap()
    };
    assert_ne!(instance(one), instance(two));
    assert!(!one.contains_key("broken"));
}
