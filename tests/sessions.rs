//! Session REST calls on the wire: init, create_session (`POST /session/start`, skip flags),
//! enrich_session (`PUT /events`).

mod common;
use common::*;
use hh_test_receiver::Receiver;
use serde_json::json;
use std::time::Duration;

#[test]
fn init_starts_the_default_session_with_the_reference_body_and_headers() {
    let rx = Receiver::start();
    let t = tracer(
        &rx,
        r#"{"session_name":"my-run","inputs":{"q":"hello","n":null}}"#,
    );
    tracers::flush(t, WAIT).unwrap();
    let starts = session_starts(&rx);
    assert_eq!(starts.len(), 1);
    let r = &starts[0];
    let sid = session_of(t);
    let sid = sid.as_str();
    assert_eq!(
        r.body_json.as_ref().unwrap(),
        &json!({"session": {"project": "proj", "session_name": "my-run", "source": "dev",
                            "session_id": sid, "inputs": {"q": "hello", "n": null}}})
    );
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("hh-client-language"), Some("c"));
    assert_eq!(r.header("hh-client-package"), Some("libhoneyhive"));
    assert_eq!(r.header("hh-client-version"), Some(honeyhive::VERSION));
    let ts: u128 = r.header("hh-client-timestamp").unwrap().parse().unwrap();
    assert!(ts > 1_600_000_000_000_000_000, "timestamp in ns: {ts}");
    assert_eq!(uuid::Uuid::parse_str(sid).unwrap().get_version_num(), 4);
}

#[test]
fn caller_session_id_is_kept_lowercase_and_skip_sends_nothing() {
    let rx = Receiver::start();
    let t = tracer(
        &rx,
        r#"{"session_id":"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"}"#,
    );
    tracers::flush(t, WAIT).unwrap();
    assert_eq!(session_of(t), "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    assert_eq!(
        session_starts(&rx)[0].body_json.as_ref().unwrap()["session"]["session_id"],
        "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    );

    let rx = Receiver::start();
    let t = tracer(
        &rx,
        r#"{"session_id":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","skip_backend_session_creation":true}"#,
    );
    let s = spans::start(t, "step", Some("tool"), 0, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    assert!(session_starts(&rx).is_empty());
    assert_eq!(
        rx.spans()[0].attr_str("honeyhive.session_id"),
        Some("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
    );
}

#[test]
fn create_session_from_many_threads_reaches_the_server_before_its_spans() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let opts = format!(r#"{{"session_name":"req-{i}","inputs":{{"i":{i}}},"metadata":{{"m":1}},"user_properties":{{"u":"x"}}}}"#);
                let sid = tracers::create_session(t, Some(&opts)).unwrap();
                for j in 0..10 {
                    let root = spans::start(t, &format!("root-{i}-{j}"), Some("chain"), 0, Some(&sid), vec![]).unwrap();
                    let child = spans::start(t, "child", Some("tool"), root, None, vec![]).unwrap();
                    spans::end(child, false).unwrap();
                    spans::end(root, false).unwrap();
                }
                sid
            })
        })
        .collect();
    let sids: Vec<String> = threads.into_iter().map(|h| h.join().unwrap()).collect();
    tracers::flush(t, WAIT).unwrap();
    let spans = rx.wait_for_spans(160, WAIT);
    assert_eq!(spans.len(), 160);
    let requests = rx.requests();
    for (i, sid) in sids.iter().enumerate() {
        let start = requests
            .iter()
            .find(|r| {
                r.path == "/session/start"
                    && r.body_json.as_ref().unwrap()["session"]["session_id"] == sid.as_str()
            })
            .expect("session start sent");
        let body = &start.body_json.as_ref().unwrap()["session"];
        assert_eq!(body["session_name"], format!("req-{i}"));
        assert_eq!(body["inputs"], json!({"i": i}));
        assert_eq!(body["metadata"], json!({"m": 1}));
        assert_eq!(body["user_properties"], json!({"u": "x"}));
        assert_eq!(body["source"], "dev");
        let first_export = requests
            .iter()
            .filter(|r| {
                r.spans
                    .iter()
                    .any(|s| s.attr_str("honeyhive.session_id") == Some(sid))
            })
            .map(|r| r.seq)
            .min()
            .unwrap();
        assert!(
            start.seq < first_export,
            "session start must arrive before its spans"
        );
        let mine: Vec<_> = spans
            .iter()
            .filter(|s| s.attr_str("honeyhive.session_id") == Some(sid))
            .collect();
        assert_eq!(mine.len(), 20, "10 roots + 10 children inherit the session");
        for s in &mine {
            assert_eq!(
                s.attr_str("traceloop.association.properties.session_id"),
                Some(sid.as_str())
            );
        }
    }
}

#[test]
fn skip_api_call_with_an_id_sends_nothing() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let sid = tracers::create_session(
        t,
        Some(r#"{"session_id":"11111111-2222-4333-8444-555555555555","skip_api_call":true}"#),
    )
    .unwrap();
    assert_eq!(sid, "11111111-2222-4333-8444-555555555555");
    tracers::flush(t, WAIT).unwrap();
    assert_eq!(session_starts(&rx).len(), 1, "only the default session");
    assert!(tracers::create_session(t, Some(r#"{"session_id":"nope"}"#)).is_err());
    assert!(tracers::create_session(t, Some(r#"{"bogus":1}"#)).is_err());
}

#[test]
fn enrich_session_sends_put_events_after_the_start() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let sid = tracers::create_session(t, None).unwrap();
    tracers::enrich_session(t,
        Some(&sid),
        r#"{"metadata":{"m":1},"inputs":{"i":2},"extra":"e","feedback":{"f":4},"metrics":{"mm":5},"outputs":{"o":3},"config":{"c":6},"user_properties":{"u":7}}"#,
    )
    .unwrap();
    tracers::enrich_session(t, None, r#"{"metrics":{"score":1.5},"duration":12.5}"#).unwrap();
    tracers::enrich_session(t, None, r#"{"metadata":{}}"#).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let puts = rx.requests_to("PUT", "/events");
    assert_eq!(puts.len(), 2, "an all-empty enrichment sends nothing");
    let mine = puts
        .iter()
        .find(|r| r.body_json.as_ref().unwrap()["event_id"] == sid.as_str())
        .unwrap();
    assert_eq!(
        mine.body_json.as_ref().unwrap(),
        &json!({"event_id": sid, "metadata": {"m": 1, "inputs": {"i": 2}, "extra": "e"},
                "feedback": {"f": 4}, "metrics": {"mm": 5}, "outputs": {"o": 3}, "config": {"c": 6}, "user_properties": {"u": 7}})
    );
    let start = rx
        .requests()
        .into_iter()
        .find(|r| {
            r.path == "/session/start"
                && r.body_json.as_ref().unwrap()["session"]["session_id"] == sid.as_str()
        })
        .unwrap();
    assert!(
        start.seq < mine.seq,
        "PUT /events follows its session's start"
    );
    let default = puts
        .iter()
        .find(|r| r.body_json.as_ref().unwrap()["event_id"] == session_of(t))
        .unwrap();
    assert_eq!(default.body_json.as_ref().unwrap()["duration"], 12.5);
    assert!(tracers::enrich_session(t, None, "{oops").is_err());
}

#[test]
fn failed_session_call_is_counted_and_not_fatal() {
    let rx = Receiver::start();
    rx.set_fault(hh_test_receiver::Fault::status(401).with_path_prefix("/session"));
    let t = tracer(&rx, "");
    let s = spans::start(t, "work", Some("tool"), 0, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
    let r = tracers::flush(t, WAIT);
    assert_eq!(r.unwrap_err().kind, honeyhive::ErrorKind::ExportFailed);
    let stats = tracers::stats(t).unwrap();
    assert_eq!(stats.rest_failures, 1);
    assert_eq!(stats.spans_exported, 1, "spans still go out");
    assert_eq!(rx.wait_for_spans(1, WAIT).len(), 1);
}

#[test]
fn evaluation_ids_go_to_session_metadata_and_every_span() {
    let rx = Receiver::start();
    let t = tracer(
        &rx,
        r#"{"run_id":"run-1","dataset_id":"ds-1","datapoint_id":"dp-1"}"#,
    );
    let s = spans::start(t, "step", None, 0, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let body = session_starts(&rx)[0].body_json.clone().unwrap();
    assert_eq!(
        body["session"]["metadata"],
        json!({"run_id": "run-1", "dataset_id": "ds-1", "datapoint_id": "dp-1"})
    );
    let span = &rx.wait_for_spans(1, WAIT)[0];
    assert_eq!(span.attr_str("honeyhive_metadata.run_id"), Some("run-1"));
    assert_eq!(span.attr_str("honeyhive_metadata.dataset_id"), Some("ds-1"));
    assert_eq!(
        span.attr_str("honeyhive_metadata.datapoint_id"),
        Some("dp-1")
    );
    let _ = Duration::ZERO;
}
