//! Export modes on the wire: protobuf, immediate, test mode, retries, flush results, generic
//! OTLP, file exporter, multi-tracer isolation.

mod common;
use common::*;
use hh_test_receiver::{Fault, Receiver};
use honeyhive::ErrorKind;
use std::time::Duration;

fn one_span(t: u64, name: &str) {
    let s = spans::start(t, name, Some("tool"), 0, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
}

#[test]
fn protobuf_mode_sends_protobuf() {
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"otlp_protocol":"http/protobuf"}"#);
    let root = spans::start(t, "root", Some("chain"), 0, None, vec![]).unwrap();
    let child = spans::start(t, "child", Some("model"), root, None, vec![]).unwrap();
    spans::enrich(child, r#"{"metrics":{"tokens":42,"cost":0.01}}"#).unwrap();
    spans::end(child, false).unwrap();
    spans::end(root, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let req = &otlp_requests(&rx)[0];
    assert_eq!(req.otlp_format.as_deref(), Some("protobuf"));
    assert_eq!(req.header("content-type"), Some("application/x-protobuf"));
    let (r, c) = (
        span_named(&req.spans, "root"),
        span_named(&req.spans, "child"),
    );
    assert_eq!(c.parent_span_id.as_deref(), Some(r.span_id.as_str()));
    assert_eq!(c.attr_i64("honeyhive_metrics.tokens"), Some(42));
    assert_eq!(
        c.attributes["honeyhive_metrics.cost"],
        serde_json::json!(0.01)
    );
    assert_eq!(
        c.attr_str("honeyhive.session_id"),
        Some(session_of(t).as_str())
    );
}

#[test]
fn immediate_mode_exports_each_span_as_it_ends() {
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"disable_batch":true,"schedule_delay_ms":60000}"#);
    one_span(t, "a");
    assert_eq!(rx.spans().len(), 1, "delivered before end() returned");
    one_span(t, "b");
    assert_eq!(otlp_requests(&rx).len(), 2, "one request per span");
}

#[test]
fn batch_mode_waits_for_the_schedule_or_a_flush() {
    let rx = Receiver::start();
    let t = tracer(
        &rx,
        r#"{"schedule_delay_ms":60000,"max_export_batch_size":3}"#,
    );
    one_span(t, "a");
    one_span(t, "b");
    tracers::flush(t, WAIT).unwrap();
    assert_eq!(otlp_requests(&rx).len(), 1, "both spans in one batch");
    for i in 0..3 {
        one_span(t, &format!("full-{i}"));
    }
    // A full batch is exported without waiting for the 60 s schedule.
    assert_eq!(rx.wait_for_spans(5, WAIT).len(), 5);
}

#[test]
fn test_mode_sends_nothing_at_all() {
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"test_mode":true}"#);
    let sid = tracers::create_session(t, None).unwrap();
    tracers::enrich_session(t, Some(&sid), r#"{"metadata":{"a":1}}"#).unwrap();
    one_span(t, "a");
    tracers::flush(t, WAIT).unwrap();
    tracers::close(t, WAIT).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(rx.requests().is_empty(), "{:?}", rx.requests());
    assert!(uuid::Uuid::parse_str(&sid).is_ok());
    assert_eq!(tracers::stats(t).unwrap().spans_ended, 1);
}

#[test]
fn retryable_failures_are_retried_until_delivered() {
    let rx = Receiver::start();
    rx.set_fault(
        Fault::status(503)
            .with_times(2)
            .with_path_prefix("/opentelemetry"),
    );
    let t = tracer(&rx, "");
    one_span(t, "a");
    tracers::flush(t, WAIT).unwrap();
    let attempts = otlp_requests(&rx);
    assert_eq!(
        attempts
            .iter()
            .map(|r| r.response_status)
            .collect::<Vec<_>>(),
        vec![503, 503, 200]
    );
    let s = tracers::stats(t).unwrap();
    assert_eq!(
        (s.export_retries, s.spans_exported, s.spans_dropped),
        (2, 1, 0)
    );

    rx.reset();
    rx.set_fault(
        Fault::status(429)
            .with_retry_after("1")
            .with_times(1)
            .with_path_prefix("/opentelemetry"),
    );
    one_span(t, "b");
    tracers::flush(t, WAIT).unwrap();
    let attempts = otlp_requests(&rx);
    assert_eq!(attempts.len(), 2);
    let gap_ms = (attempts[1].time_unix_nano - attempts[0].time_unix_nano) / 1_000_000;
    assert!(gap_ms >= 700, "Retry-After: 1 honoured (gap {gap_ms} ms)");
}

#[test]
fn non_retryable_failures_are_not_retried_and_flush_says_so() {
    let rx = Receiver::start();
    rx.set_fault(Fault::status(400).with_path_prefix("/opentelemetry"));
    let t = tracer(&rx, "");
    one_span(t, "a");
    assert_eq!(
        tracers::flush(t, WAIT).unwrap_err().kind,
        ErrorKind::ExportFailed
    );
    assert_eq!(otlp_requests(&rx).len(), 1);
    let s = tracers::stats(t).unwrap();
    assert_eq!(
        (s.export_failures, s.spans_dropped, s.export_retries),
        (1, 1, 0)
    );
    rx.clear_fault();
    one_span(t, "b");
    tracers::flush(t, WAIT).expect("nothing lost since the previous flush");
}

#[test]
fn flush_times_out_and_close_returns_while_the_server_hangs() {
    let rx = Receiver::start();
    rx.set_fault(Fault::hang().with_path_prefix("/opentelemetry"));
    let t = tracer(&rx, r#"{"export_timeout_ms":3000}"#);
    one_span(t, "a");
    let started = std::time::Instant::now();
    assert_eq!(
        tracers::flush(t, Duration::from_millis(200))
            .unwrap_err()
            .kind,
        ErrorKind::Timeout
    );
    assert_eq!(
        tracers::close(t, Duration::from_millis(200))
            .unwrap_err()
            .kind,
        ErrorKind::Timeout
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn connection_refused_is_retried_then_counted() {
    let rx = Receiver::start();
    let url = rx.url();
    drop(rx);
    let t = honeyhive::registry::create_tracer(config(
        &format!(r#"{{"api_key":"k","server_url":"{url}","schedule_delay_ms":50,"export_timeout_ms":600,"api_timeout_ms":600}}"#),
        &[],
    ))
    .unwrap();
    one_span(t, "a");
    assert_eq!(
        tracers::flush(t, WAIT).unwrap_err().kind,
        ErrorKind::ExportFailed
    );
    let s = tracers::stats(t).unwrap();
    assert!(s.export_retries >= 1, "{s:?}");
    assert_eq!((s.spans_dropped, s.rest_failures), (1, 1));
}

#[test]
fn tracers_never_share_keys_sessions_or_batches() {
    let rx = Receiver::start();
    let t1 = tracer(&rx, r#"{"api_key":"key-one","project":"p1","source":"s1"}"#);
    let t2 = tracer(
        &rx,
        r#"{"api_key":"key-two","project":"p2","source":"s2","otlp_protocol":"http/protobuf"}"#,
    );
    assert_ne!(tracers::session_id(t1).ok(), tracers::session_id(t2).ok());
    let threads: Vec<_> = [t1, t2]
        .into_iter()
        .map(|t| std::thread::spawn(move || (0..50).for_each(|i| one_span(t, &format!("s{i}")))))
        .collect();
    threads.into_iter().for_each(|h| h.join().unwrap());
    tracers::flush(t1, WAIT).unwrap();
    tracers::flush(t2, WAIT).unwrap();
    for req in otlp_requests(&rx) {
        let (key, project, source, sid) = if req.header("authorization") == Some("Bearer key-one") {
            ("key-one", "p1", "s1", session_of(t1))
        } else {
            ("key-two", "p2", "s2", session_of(t2))
        };
        assert_eq!(req.header("x-source"), Some(source), "{key}");
        for s in &req.spans {
            assert_eq!(s.attr_str("honeyhive.project"), Some(project));
            assert_eq!(s.attr_str("honeyhive.session_id"), Some(sid.as_str()));
        }
    }
    assert_eq!(rx.spans().len(), 100);
    assert_eq!(tracers::stats(t1).unwrap().spans_exported, 50);
    assert_eq!(tracers::stats(t2).unwrap().spans_exported, 50);
}

#[test]
fn generic_otlp_mode_uses_custom_headers_and_no_rest_calls() {
    let rx = Receiver::start();
    let t = honeyhive::registry::create_tracer(config(
        &format!(
            r#"{{"exporter":"otlp","otlp_endpoint":"{}/v1/traces","headers":{{"x-team":"ml"}},"schedule_delay_ms":50}}"#,
            rx.url()
        ),
        &[],
    ))
    .unwrap();
    let root = spans::start(t, "root", Some("chain"), 0, None, vec![]).unwrap();
    let child = spans::start(t, "child", None, root, None, vec![]).unwrap();
    spans::end(child, false).unwrap();
    spans::end(root, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "no session REST call: {reqs:?}");
    assert_eq!(reqs[0].path, "/v1/traces");
    assert_eq!(reqs[0].header("x-team"), Some("ml"));
    assert!(reqs[0].header("authorization").is_none());
    let raw = reqs[0].body_json.as_ref().unwrap();
    let spans = raw["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap();
    assert!(
        spans.iter().all(|s| s["kind"] == 1),
        "standard OTLP/JSON uses enum integers"
    );
    assert!(spans.iter().any(|s| s.get("parentSpanId").is_none()));
    let child = span_named(&reqs[0].spans, "child");
    assert!(child.attr_str("honeyhive.session_id").is_some());
}

#[test]
fn env_points_the_tracer_at_the_server() {
    let rx = Receiver::start();
    let t = honeyhive::registry::create_tracer(config(
        r#"{"schedule_delay_ms":50}"#,
        &[
            ("HH_API_KEY", "env-key"),
            ("HH_API_URL", &format!("{}/", rx.url())),
            ("HH_PROJECT", "envp"),
            ("HH_OTLP_PROTOCOL", "http/protobuf"),
        ],
    ))
    .unwrap();
    one_span(t, "a");
    tracers::flush(t, WAIT).unwrap();
    let req = &otlp_requests(&rx)[0];
    assert_eq!(
        req.path, "/opentelemetry/v1/traces",
        "trailing slash stripped"
    );
    assert_eq!(req.header("authorization"), Some("Bearer env-key"));
    assert_eq!(req.otlp_format.as_deref(), Some("protobuf"));
    assert_eq!(req.spans[0].attr_str("honeyhive.project"), Some("envp"));
}

#[test]
fn file_exporter_writes_one_otlp_json_export_per_line() {
    let dir = std::env::temp_dir().join(format!("hh-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("spans.jsonl");
    let _ = std::fs::remove_file(&path);
    let t = honeyhive::registry::create_tracer(config(
        &format!(
            r#"{{"exporter":"file","file_path":"{}","schedule_delay_ms":50}}"#,
            path.display()
        ),
        &[],
    ))
    .unwrap();
    one_span(t, "a");
    tracers::flush(t, WAIT).unwrap();
    one_span(t, "b");
    tracers::close(t, WAIT).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    for line in lines {
        let spans =
            hh_test_receiver::decode_otlp_json(&serde_json::from_str(line).unwrap()).unwrap();
        assert_eq!(spans.len(), 1);
    }
}

/// A close whose timeout runs out before delivery returns `Timeout`, and delivery goes on in
/// the background: the spans accepted before the close still reach the server, and every one
/// is counted. (A dropped tracer's finalizer closes it with a short or zero timeout.)
#[test]
fn spans_accepted_before_a_close_that_times_out_are_still_delivered() {
    let rx = Receiver::start();
    // The first export is answered late (then retried), so that the worker is still busy
    // with it when the close returns.
    rx.set_fault(
        Fault::status(503)
            .with_delay_ms(500)
            .with_times(1)
            .with_path_prefix("/opentelemetry"),
    );
    let t = tracer(&rx, "");
    one_span(t, "before-flush");
    assert_eq!(
        tracers::flush(t, Duration::from_millis(1))
            .unwrap_err()
            .kind,
        ErrorKind::Timeout
    );
    one_span(t, "before-close");
    assert_eq!(
        tracers::close(t, Duration::ZERO).unwrap_err().kind,
        ErrorKind::Timeout
    );
    // The receiver records the span of the answer it failed too: three in all.
    let names: std::collections::BTreeSet<String> = rx
        .wait_for_spans(3, WAIT)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["before-close", "before-flush"]
    );
    let deadline = std::time::Instant::now() + WAIT;
    let mut s = tracers::stats(t).unwrap();
    while s.spans_exported + s.spans_dropped < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        s = tracers::stats(t).unwrap();
    }
    assert_eq!(
        (s.spans_ended, s.spans_exported, s.spans_dropped),
        (2, 2, 0),
        "{s:?}"
    );
}
