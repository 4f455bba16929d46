//! Session REST calls on the wire: init, create_session (`POST /session/start`, skip flags),
//! enrich_session (`PUT /events`).

mod common;
use common::*;
use hh_test_receiver::Receiver;
use serde_json::json;
use std::time::Duration;

#[test]
fn the_default_session_starts_at_its_first_use_with_the_reference_body_and_headers() {
    let rx = Receiver::start();
    let t = tracer(
        &rx,
        r#"{"session_name":"my-run","inputs":{"q":"hello","n":null}}"#,
    );
    // Not at init, and reading its id is no use of it.
    let sid = session_of(t);
    tracers::flush(t, WAIT).unwrap();
    assert!(session_starts(&rx).is_empty(), "no start at init");
    let s = spans::start(t, "first", Some("tool"), 0, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
    let s = spans::start(t, "second", Some("tool"), 0, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let starts = session_starts(&rx);
    assert_eq!(starts.len(), 1, "started once, by the first span");
    let r = &starts[0];
    let first_export = otlp_requests(&rx).iter().map(|r| r.seq).min().unwrap();
    assert!(r.seq < first_export, "the start reaches the server first");
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
    // The default session given by the caller starts at its first use, by its id.
    let s = spans::start(
        t,
        "step",
        Some("tool"),
        0,
        Some("aaaaaaaa-bbbb-4ccc-8ddd-EEEEEEEEEEEE"),
        vec![],
    )
    .unwrap();
    spans::end(s, false).unwrap();
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
    assert!(
        session_starts(&rx).is_empty(),
        "nothing: the default session was not used"
    );
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

const SID_A: &str = "aaaaaaaa-0000-4000-8000-00000000000a";

fn end_root(t: u64, name: &str, session: Option<&str>) -> u64 {
    let s = spans::start(t, name, Some("tool"), 0, session, vec![]).unwrap();
    spans::end(s, true).unwrap();
    s
}

#[test]
fn a_child_of_another_tracers_span_takes_its_own_tracers_session() {
    let rx = Receiver::start();
    let t1 = tracer(&rx, r#"{"project":"p1"}"#);
    let t2 = tracer(&rx, r#"{"project":"p2"}"#);
    let parent = spans::start(t1, "t1-parent", Some("chain"), 0, None, vec![]).unwrap();
    let other = spans::start(t2, "t2-child", Some("tool"), parent, None, vec![]).unwrap();
    let grandchild = spans::start(t2, "t2-grandchild", Some("tool"), other, None, vec![]).unwrap();
    let explicit =
        spans::start(t2, "t2-explicit", Some("tool"), parent, Some(SID_A), vec![]).unwrap();
    let same = spans::start(t1, "t1-child", Some("tool"), parent, None, vec![]).unwrap();
    for s in [same, explicit, grandchild, other, parent] {
        spans::end(s, false).unwrap();
    }
    tracers::flush(t1, WAIT).unwrap();
    tracers::flush(t2, WAIT).unwrap();
    let got = rx.wait_for_spans(5, WAIT);
    let (s1, s2) = (session_of(t1), session_of(t2));
    assert_ne!(s1, s2);
    let session = |n: &str| {
        span_named(&got, n)
            .attr_str("honeyhive.session_id")
            .unwrap()
    };
    assert_eq!(session("t1-parent"), s1);
    assert_eq!(session("t1-child"), s1, "same tracer: inherited");
    assert_eq!(session("t2-child"), s2, "another tracer's parent: its own");
    assert_eq!(session("t2-grandchild"), s2);
    assert_eq!(
        session("t2-explicit"),
        SID_A,
        "an explicit session always wins"
    );
    let child = span_named(&got, "t2-child");
    assert_eq!(child.attr_str("honeyhive.project"), Some("p2"));
    // Still one trace: the parent is the parent.
    assert_eq!(child.trace_id, span_named(&got, "t1-parent").trace_id);
    assert_eq!(
        child.parent_span_id.as_deref(),
        Some(span_named(&got, "t1-parent").span_id.as_str())
    );
    // Each tracer started its own default session, once.
    let started: Vec<String> = session_starts(&rx)
        .iter()
        .map(|r| {
            r.body_json.as_ref().unwrap()["session"]["session_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(started.len(), 2, "{started:?}");
    assert!(started.contains(&s1) && started.contains(&s2));
}

#[test]
fn a_remote_parent_gives_its_session_to_any_tracer() {
    let rx = Receiver::start();
    let t1 = tracer(&rx, "");
    let t2 = tracer(&rx, r#"{"project":"p2"}"#);
    let remote = spans::extract(
        t1,
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        Some(&format!("session_id={SID_A}")),
    )
    .unwrap();
    let s = spans::start(t2, "continued", Some("tool"), remote, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t2, WAIT).unwrap();
    let got = rx.wait_for_spans(1, WAIT);
    assert_eq!(got[0].attr_str("honeyhive.session_id"), Some(SID_A));
    assert!(
        session_starts(&rx).is_empty(),
        "the caller's session is not started here"
    );
}

/// A child of another tracer's span keeps its own tracer's project, source and session, also
/// when that span continues a remote trace: the remote caller's baggage stays with the tracer
/// that extracted it.
#[test]
fn a_child_of_another_tracers_continued_span_keeps_its_own_project_and_source() {
    let rx = Receiver::start();
    let t1 = tracer(&rx, r#"{"project":"proj-one"}"#);
    let t2 = tracer(&rx, r#"{"project":"proj-two","source":"two-src"}"#);
    let s2 = session_of(t2);
    let remote = spans::extract(
        t1,
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        Some(&format!(
            "session_id={SID_A},project=upstream-proj,source=upstream"
        )),
    )
    .unwrap();
    let a = spans::start(t1, "a-on-t1", Some("chain"), remote, None, vec![]).unwrap();
    let b = spans::start(t2, "b-on-t2", Some("tool"), a, None, vec![]).unwrap();
    let (_, baggage) = spans::inject(b).unwrap();
    spans::end(b, false).unwrap();
    spans::end(a, false).unwrap();
    tracers::flush(t1, WAIT).unwrap();
    tracers::flush(t2, WAIT).unwrap();
    let got = rx.wait_for_spans(2, WAIT);
    let a = span_named(&got, "a-on-t1");
    assert_eq!(a.attr_str("honeyhive.session_id"), Some(SID_A));
    assert_eq!(a.attr_str("honeyhive.project"), Some("upstream-proj"));
    let b = span_named(&got, "b-on-t2");
    assert_eq!(b.attr_str("honeyhive.session_id"), Some(s2.as_str()));
    assert_eq!(b.attr_str("honeyhive.project"), Some("proj-two"));
    assert_eq!(b.attr_str("honeyhive.source"), Some("two-src"));
    assert!(
        !baggage.contains("upstream"),
        "the other tracer's remote baggage is not passed on: {baggage}"
    );
}

#[test]
fn auto_create_mode_starts_no_session_and_stamps_every_exported_span() {
    let rx = Receiver::start();
    let t = tracer(
        &rx,
        r#"{"skip_backend_session_creation":true,"session_name":"svc"}"#,
    );
    assert!(tracers::session_id(t).is_err(), "no default session");
    // A session named without an API call (its name travels as the SDK's baggage does).
    let named = tracers::create_session(
        t,
        Some(&format!(
            r#"{{"session_id":"{SID_A}","skip_api_call":true,"session_name":"req-a"}}"#
        )),
    )
    .unwrap();
    let root = spans::start(t, "named-root", Some("chain"), 0, Some(&named), vec![]).unwrap();
    let child = spans::start(t, "named-child", Some("tool"), root, None, vec![]).unwrap();
    let (_, injected) = spans::inject(child).unwrap();
    spans::end(child, false).unwrap();
    spans::end(root, false).unwrap();
    // A session made by the API: the tracer's name is stamped (as the SDK).
    let made = tracers::create_session(t, Some(r#"{"session_name":"api-made"}"#)).unwrap();
    end_root(t, "made", Some(&made));
    // No session at all: not exported, counted.
    end_root(t, "orphan-1", None);
    end_root(t, "orphan-2", None);
    tracers::flush(t, WAIT).unwrap();

    let got = rx.wait_for_spans(3, WAIT);
    assert_eq!(
        got.len(),
        3,
        "{:?}",
        got.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    for n in ["named-root", "named-child"] {
        let s = span_named(&got, n);
        assert_eq!(s.attr_str("honeyhive.session_id"), Some(SID_A));
        assert_eq!(
            s.attr_bool("honeyhive.session_auto_create"),
            Some(true),
            "{n}"
        );
        assert_eq!(s.attr_str("honeyhive.session_name"), Some("req-a"), "{n}");
        assert_eq!(s.attr_str("baggage.session_name"), Some("req-a"), "{n}");
    }
    let s = span_named(&got, "made");
    assert_eq!(s.attr_bool("honeyhive.session_auto_create"), Some(true));
    assert_eq!(s.attr_str("honeyhive.session_name"), Some("svc"));
    assert_eq!(s.attr_str("baggage.session_name"), None);
    assert!(injected.contains("session_name=req-a"), "{injected}");
    assert!(
        injected.contains(&format!("session_id={SID_A}")),
        "{injected}"
    );
    let bag = tracers::session_baggage(t, Some(SID_A)).unwrap();
    assert!(
        bag.contains("session_name=req-a") && bag.contains("project=proj"),
        "{bag}"
    );

    // Only the API-made session was started.
    let starts = session_starts(&rx);
    assert_eq!(starts.len(), 1);
    assert_eq!(
        starts[0].body_json.as_ref().unwrap()["session"]["session_id"],
        made.as_str()
    );
    let st = tracers::stats(t).unwrap();
    assert_eq!(st.spans_no_session, 2, "{st:?}");
    assert_eq!(st.spans_ended, 5, "{st:?}");
    assert_eq!(
        st.spans_exported + st.spans_dropped + st.spans_no_session,
        st.spans_ended
    );
}

#[test]
fn the_default_session_starts_when_enriched_or_injected_and_not_for_other_sessions() {
    // Sessions per request only: the default session is never started.
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let sid = tracers::create_session(t, Some(r#"{"session_name":"req"}"#)).unwrap();
    end_root(t, "in-request", Some(&sid));
    tracers::enrich_session(t, Some(&sid), r#"{"metadata":{"k":1}}"#).unwrap();
    let _ = tracers::session_baggage(t, Some(&sid)).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let starts = session_starts(&rx);
    assert_eq!(starts.len(), 1);
    assert_eq!(
        starts[0].body_json.as_ref().unwrap()["session"]["session_id"],
        sid.as_str()
    );

    // Enriching the default session starts it first.
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    tracers::enrich_session(t, None, r#"{"metadata":{"k":1}}"#).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let calls: Vec<String> = rx
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(calls, ["POST /session/start", "PUT /events"]);

    // So does injecting it (hh_session_inject with no id).
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let bag = tracers::session_baggage(t, None).unwrap();
    let mut entries: Vec<&str> = bag.split(',').collect();
    entries.sort_unstable();
    let sid = format!("session_id={}", session_of(t));
    assert_eq!(entries, ["project=proj", sid.as_str(), "source=dev"]);
    tracers::flush(t, WAIT).unwrap();
    assert_eq!(session_starts(&rx).len(), 1);

    // Started by the caller with create_session and its id: not again at its first use.
    let rx = Receiver::start();
    let t = tracer(&rx, &format!(r#"{{"session_id":"{SID_A}"}}"#));
    let sid = tracers::create_session(t, Some(&format!(r#"{{"session_id":"{SID_A}"}}"#))).unwrap();
    assert_eq!(sid, SID_A);
    end_root(t, "in-default", None);
    tracers::flush(t, WAIT).unwrap();
    assert_eq!(session_starts(&rx).len(), 1);
}

#[test]
fn auto_create_mode_gives_each_root_server_span_its_own_session_and_leaks_it_nowhere() {
    let rx = Receiver::start();
    let t = tracer(
        &rx,
        r#"{"skip_backend_session_creation":true,"session_name":"svc"}"#,
    );
    let server = spans::StartOptions {
        kind: opentelemetry::trace::SpanKind::Server,
        ..Default::default()
    };
    let mut roots = Vec::new();
    for i in 0..2 {
        let root = spans::start_with(
            t,
            &format!("request-{i}"),
            Some("chain"),
            0,
            None,
            vec![],
            &server,
        )
        .unwrap();
        let child =
            spans::start(t, &format!("handler-{i}"), Some("tool"), root, None, vec![]).unwrap();
        spans::end(child, false).unwrap();
        spans::end(root, false).unwrap();
        roots.push(root);
    }
    // Not a root, or not SERVER: no session (not exported, counted).
    end_root(t, "later-internal", None);
    let other = tracer(&rx, r#"{"skip_backend_session_creation":true}"#);
    let remote = spans::StartOptions {
        parent_context: Some(opentelemetry::trace::SpanContext::new(
            opentelemetry::trace::TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
            opentelemetry::trace::SpanId::from_hex("b7ad6b7169203331").unwrap(),
            opentelemetry::trace::TraceFlags::SAMPLED,
            true,
            Default::default(),
        )),
        ..server.clone()
    };
    let s =
        spans::start_with(other, "server-under-remote", None, 0, None, vec![], &remote).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    tracers::flush(other, WAIT).unwrap();
    let got = rx.wait_for_spans(4, WAIT);
    assert_eq!(
        got.len(),
        4,
        "{:?}",
        got.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let sid = |n: &str| {
        span_named(&got, n)
            .attr_str("honeyhive.session_id")
            .unwrap()
            .to_string()
    };
    assert_eq!(sid("request-0"), sid("handler-0"));
    assert_eq!(sid("request-1"), sid("handler-1"));
    assert_ne!(
        sid("request-0"),
        sid("request-1"),
        "each request its own session"
    );
    for s in &got {
        assert_eq!(s.attr_bool("honeyhive.session_auto_create"), Some(true));
        assert_eq!(s.attr_str("honeyhive.session_name"), Some("svc"));
    }
    assert_eq!(tracers::stats(t).unwrap().spans_no_session, 1);
    assert_eq!(tracers::stats(other).unwrap().spans_no_session, 1);
    assert!(session_starts(&rx).is_empty());
}

/// Session auto-create mode is the HoneyHive exporter's: with a generic OTLP exporter,
/// `skip_backend_session_creation` without a session id keeps a local default session, and
/// every span is exported in it (none dropped as having no session).
#[test]
fn other_exporters_keep_a_local_session_with_skip_backend_session_creation() {
    let rx = Receiver::start();
    let t = honeyhive::registry::create_tracer(config(
        &format!(
            r#"{{"exporter":"otlp","otlp_endpoint":"{}/v1/traces","schedule_delay_ms":50,
                "skip_backend_session_creation":true}}"#,
            rx.url()
        ),
        &[],
    ))
    .expect("tracer");
    let sid = session_of(t);
    let s = spans::start(t, "plain-root", Some("chain"), 0, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let got = rx.wait_for_spans(1, WAIT);
    let span = span_named(&got, "plain-root");
    assert_eq!(span.attr_str("honeyhive.session_id"), Some(sid.as_str()));
    assert!(span.attr("honeyhive.session_auto_create").is_none());
    let stats = tracers::stats(t).unwrap();
    assert_eq!(stats.spans_no_session, 0, "{stats:?}");
    assert!(rx.requests_to("POST", "/session/start").is_empty());
}
