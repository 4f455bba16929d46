//! The receiver library over real loopback connections.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use common::{connect, get, post_json, post_protobuf, raw_request, read_one, request};
use hh_test_receiver::{Fault, Receiver, ReceiverOptions, RecordedRequest};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use serde_json::{json, Value};

const SECS5: Duration = Duration::from_secs(5);

fn kv(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn protobuf_export() -> Vec<u8> {
    use any_value::Value as V;
    let span = |id: u8, parent: Vec<u8>, name: &str| Span {
        trace_id: vec![0x11; 16],
        span_id: vec![id; 8],
        parent_span_id: parent,
        name: name.into(),
        kind: 1,
        start_time_unix_nano: 1_000,
        end_time_unix_nano: 2_000,
        attributes: vec![
            kv("honeyhive_event_type", V::StringValue("chain".into())),
            kv("honeyhive_inputs.a", V::IntValue(1)),
            kv("score", V::DoubleValue(1.0)),
        ],
        status: Some(Status {
            message: String::new(),
            code: 1,
        }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", V::StringValue("svc".into()))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "honeyhive.7".into(),
                    version: "0.1.0".into(),
                    ..Default::default()
                }),
                spans: vec![
                    span(0xaa, vec![], "root"),
                    span(0xbb, vec![0xaa; 8], "child"),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// An export body shaped as the Python SDK's OTLP/JSON encoder writes it (enum names, a null
/// `parentSpanId` on roots; placeholders filled in).
fn python_style_json() -> Value {
    json!({"resourceSpans": [{
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "unknown_service:python"}}]},
      "scopeSpans": [{
        "scope": {"name": "honeyhive.140522977214160"},
        "spans": [{
          "traceId": "fce26d957658d08deac8754265b49f64", "spanId": "d1bd47d0e552aa18", "parentSpanId": null,
          "name": "__main__.my_func", "kind": "SPAN_KIND_INTERNAL",
          "startTimeUnixNano": "1795233870323218435", "endTimeUnixNano": "1795233870323743138",
          "attributes": [{"key": "honeyhive_event_type", "value": {"stringValue": "chain"}},
                         {"key": "honeyhive_inputs.a", "value": {"intValue": "1"}}],
          "events": [{"timeUnixNano": "1795233870323700000", "name": "exception", "attributes": [
              {"key": "exception.type", "value": {"stringValue": "ValueError"}},
              {"key": "exception.escaped", "value": {"boolValue": false}}]}],
          "status": {"code": "STATUS_CODE_ERROR", "message": "ValueError: boom"}}]}]}]})
}

#[test]
fn protobuf_export_decodes() {
    let r = Receiver::start();
    let resp =
        post_protobuf(r.port(), "/opentelemetry/v1/traces", &protobuf_export()).expect("request");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/x-protobuf"));
    assert!(resp.body.is_empty());

    let spans = r.wait_for_spans(2, SECS5);
    assert_eq!(spans.len(), 2);
    let root = &spans[0];
    assert_eq!(root.name, "root");
    assert_eq!(root.trace_id, "11".repeat(16));
    assert_eq!(root.span_id, "aa".repeat(8));
    assert_eq!(root.parent_span_id, None);
    assert_eq!(root.kind, "SPAN_KIND_INTERNAL");
    assert_eq!(root.status_code, "STATUS_CODE_OK");
    assert_eq!(root.status_message, None);
    assert_eq!(root.attr_i64("honeyhive_inputs.a"), Some(1));
    assert_eq!(root.attr("score").and_then(Value::as_i64), None);
    assert_eq!(root.attr("score").and_then(Value::as_f64), Some(1.0));
    assert_eq!(root.resource["service.name"], json!("svc"));
    assert_eq!(root.scope_name, "honeyhive.7");
    assert_eq!(root.scope_version.as_deref(), Some("0.1.0"));
    assert_eq!(spans[1].parent_span_id.as_deref(), Some("aaaaaaaaaaaaaaaa"));

    let reqs = r.requests_to("POST", "/opentelemetry/v1/traces");
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].otlp_format.as_deref(), Some("protobuf"));
    assert_eq!(reqs[0].body_json, None);
    assert_eq!(reqs[0].response_status, 200);
    assert_eq!(
        reqs[0].content_type.as_deref(),
        Some("application/x-protobuf")
    );
}

#[test]
fn protobuf_export_spans_are_seen_by_every_reader() {
    // Like a JSON export's, a protobuf export's spans are decoded when first read.
    let r = Receiver::start();
    let post = || post_protobuf(r.port(), "/v1/traces", &protobuf_export()).expect("req");
    assert_eq!(post().status, 200);
    let reqs = r.wait_for_requests(|q| q.iter().any(|x| x.spans.len() == 2), SECS5);
    assert_eq!(reqs[0].spans.len(), 2);
    assert_eq!(r.wait_for_spans(2, SECS5).len(), 2);
    let listed = get(r.port(), "/__hh/requests").expect("req").json();
    assert_eq!(listed[0]["spans"][1]["name"], json!("child"));
    let spans = get(r.port(), "/__hh/spans").expect("req").json();
    assert_eq!(spans[0]["name"], json!("root"));
    assert_eq!(post().status, 200);
    let waited = get(r.port(), "/__hh/wait?spans=4&timeout_ms=5000")
        .expect("req")
        .json();
    assert_eq!(waited.as_array().map(Vec::len), Some(4));
    r.reset();
    assert!(r.spans().is_empty());
}

#[test]
fn python_style_json_export_keeps_ints_as_ints() {
    let r = Receiver::start();
    let resp = post_json(r.port(), "/opentelemetry/v1/traces", &python_style_json()).expect("req");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({}));
    let spans = r.spans();
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert_eq!(s.trace_id, "fce26d957658d08deac8754265b49f64");
    assert_eq!(s.span_id, "d1bd47d0e552aa18");
    assert_eq!(s.parent_span_id, None);
    assert_eq!(s.kind, "SPAN_KIND_INTERNAL");
    assert_eq!(s.start_time_unix_nano, 1_795_233_870_323_218_435);
    assert_eq!(s.end_time_unix_nano, 1_795_233_870_323_743_138);
    assert_eq!(s.attr_str("honeyhive_event_type"), Some("chain"));
    assert_eq!(s.attr("honeyhive_inputs.a"), Some(&json!(1)));
    assert_eq!(s.attr_i64("honeyhive_inputs.a"), Some(1));
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.events[0].name, "exception");
    assert_eq!(s.events[0].time_unix_nano, 1_795_233_870_323_700_000);
    assert_eq!(s.events[0].attributes["exception.escaped"], json!(false));
    assert_eq!(s.status_code, "STATUS_CODE_ERROR");
    assert_eq!(s.status_message.as_deref(), Some("ValueError: boom"));
    assert_eq!(s.scope_name, "honeyhive.140522977214160");
    assert_eq!(s.scope_version, None);
    assert_eq!(s.resource["service.name"], json!("unknown_service:python"));
    let req = &r.requests()[0];
    assert_eq!(req.otlp_format.as_deref(), Some("json"));
    assert!(req.body_json.is_some());
}

#[test]
fn json_export_spans_are_seen_by_every_reader() {
    // A JSON export's spans are decoded when first read: every way of reading sees them.
    let r = Receiver::start();
    post_json(r.port(), "/opentelemetry/v1/traces", &python_style_json()).expect("req");
    let reqs = r.wait_for_requests(|q| q.iter().any(|x| x.spans.len() == 1), SECS5);
    assert_eq!(reqs[0].spans.len(), 1);
    assert_eq!(r.wait_for_spans(1, SECS5).len(), 1);
    let listed = get(r.port(), "/__hh/requests").expect("req").json();
    assert_eq!(listed[0]["spans"][0]["name"], json!("__main__.my_func"));
    let waited = get(r.port(), "/__hh/wait?spans=1&timeout_ms=5000")
        .expect("req")
        .json();
    assert_eq!(waited.as_array().map(Vec::len), Some(1));
    post_json(r.port(), "/opentelemetry/v1/traces", &python_style_json()).expect("req");
    assert_eq!(r.spans().len(), 2);
    r.reset();
    assert!(r.spans().is_empty());
}

#[test]
fn json_export_body_json_is_seen_by_every_reader() {
    // A usual JSON export is only counted on arrival, an unusual one parsed at once: either
    // way every reader sees its body_json.
    let r = Receiver::start();
    let odd = json!({"resourceSpans": null, "x": 1});
    post_json(r.port(), "/opentelemetry/v1/traces", &python_style_json()).expect("req");
    post_json(r.port(), "/opentelemetry/v1/traces", &odd).expect("req");
    let want = [Some(python_style_json()), Some(odd)];
    let reqs = r.wait_for_requests(
        |q| q.len() == 2 && q.iter().zip(&want).all(|(x, w)| x.body_json == *w),
        SECS5,
    );
    assert_eq!(reqs.len(), 2);
    for (i, w) in want.iter().enumerate() {
        assert_eq!(reqs[i].body_json, *w);
        assert_eq!(reqs[i].response_status, 200);
        assert_eq!(reqs[i].decode_error, None);
    }
    assert_eq!((reqs[0].spans.len(), reqs[1].spans.len()), (1, 0));
    let listed = get(r.port(), "/__hh/requests").expect("req").json();
    let waited = get(r.port(), "/__hh/wait?requests=2&timeout_ms=5000")
        .expect("req")
        .json();
    for answer in [&listed, &waited] {
        assert_eq!(answer[0]["body_json"], python_style_json());
        assert_eq!(answer[1]["body_json"], want[1].clone().unwrap_or_default());
    }
    assert_eq!(r.requests_to("POST", "/opentelemetry/v1/traces"), reqs);
}

#[test]
fn invalid_json_export_is_400_with_the_parse_error() {
    let r = Receiver::start();
    let bodies: [&[u8]; 4] = [
        br#"{"resourceSpans": ["#,
        br#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"x": 1e400}]}]}]}"#,
        b"{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [{\"x\": \"\xff\"}]}]}]}",
        br#"{"resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}]} x"#,
    ];
    for body in bodies {
        let resp = request(
            r.port(),
            "POST",
            "/v1/traces",
            &[("Content-Type", "application/json")],
            body,
        )
        .expect("req");
        let want = match serde_json::from_slice::<Value>(body) {
            Err(e) => format!("invalid JSON: {e}"),
            Ok(_) => panic!("valid JSON: {body:?}"),
        };
        assert_eq!(resp.status, 400);
        assert_eq!(resp.json(), json!({ "error": want }));
        let req = r.requests().pop().expect("recorded");
        assert_eq!(req.response_status, 400);
        assert_eq!(req.decode_error.as_deref(), Some(want.as_str()));
        assert_eq!((req.body_json, req.spans.len()), (None, 0));
    }
    // Valid JSON, not OTLP: the body is kept.
    let not_otlp = json!({"resourceSpans": [{"scopeSpans": [{"spans": [1]}]}]});
    assert_eq!(
        post_json(r.port(), "/v1/traces", &not_otlp)
            .expect("req")
            .status,
        400
    );
    let req = r.requests().pop().expect("recorded");
    assert_eq!(req.decode_error.as_deref(), Some("span is not an object"));
    assert_eq!(req.body_json, Some(not_otlp));
}

#[test]
fn standard_json_gzip_on_generic_path() {
    use flate2::write::GzEncoder;
    let r = Receiver::start();
    let body = json!({"resourceSpans": [{"scopeSpans": [{"scope": {"name": "s"}, "spans": [{
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "0000000000000000", "name": "g", "kind": 2,
        "startTimeUnixNano": 1, "endTimeUnixNano": 2,
        "attributes": [{"key": "n", "value": {"intValue": 5}}, {"key": "d", "value": {"doubleValue": 0.5}},
                       {"key": "arr", "value": {"arrayValue": {"values": [{"stringValue": "x"}, {"intValue": "2"}]}}}],
        "status": {"code": 2, "message": "m"}}]}]}]});
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body.to_string().as_bytes()).expect("gzip");
    let gz = enc.finish().expect("gzip");
    let resp = request(
        r.port(),
        "POST",
        "/v1/traces",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        &gz,
    )
    .expect("req");
    assert_eq!(resp.status, 200);
    let s = &r.spans()[0];
    assert_eq!(s.parent_span_id, None);
    assert_eq!(s.kind, "SPAN_KIND_SERVER");
    assert_eq!(s.status_code, "STATUS_CODE_ERROR");
    assert_eq!(s.attr_i64("n"), Some(5));
    assert_eq!(s.attr("d"), Some(&json!(0.5)));
    assert_eq!(s.attr("arr"), Some(&json!(["x", 2])));
    assert_eq!(r.requests()[0].body_len, body.to_string().len() as u64);
}

#[test]
fn undecodable_export_is_400_and_recorded() {
    let r = Receiver::start();
    let resp = post_protobuf(r.port(), "/v1/traces", b"\xff\xff\xff\xff").expect("req");
    assert_eq!(resp.status, 400);
    let req = &r.requests()[0];
    assert_eq!(req.response_status, 400);
    assert!(req.decode_error.is_some());
}

#[test]
fn session_start_and_events() {
    let r = Receiver::start();
    let sid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    let resp = post_json(
        r.port(),
        "/session/start",
        &json!({"session": {"session_id": sid, "session_name": "t2", "source": "dev", "project": "p"}}),
    )
    .expect("req");
    assert_eq!(resp.status, 200);
    let v = resp.json();
    assert_eq!(v["session_id"], json!(sid));
    for k in ["event_id", "org_id", "workspace_id", "project_id"] {
        assert!(v[k].is_string(), "{k} missing in {v}");
    }

    let v = post_json(
        r.port(),
        "/session/start",
        &json!({"session": {"session_name": "x"}}),
    )
    .expect("req")
    .json();
    let new_id = v["session_id"].as_str().expect("session id");
    assert_eq!(new_id.len(), 36);
    assert_ne!(new_id, sid);

    let put = request(
        r.port(),
        "PUT",
        "/events",
        &[("Content-Type", "application/json")],
        br#"{"event_id":"e","metadata":{"m":1}}"#,
    )
    .expect("req");
    assert_eq!(put.status, 200);
    assert_eq!(put.json(), json!({"success": true}));
    let post = post_json(r.port(), "/events", &json!({"event": {"event_name": "x"}})).expect("req");
    assert_eq!(post.json()["success"], json!(true));
    assert!(post.json()["event_id"].is_string());

    let nf = request(
        r.port(),
        "GET",
        "/nope?x=1",
        &[("X-Multi", "a"), ("x-multi", "b")],
        b"",
    )
    .expect("req");
    assert_eq!(nf.status, 404);

    let reqs = r.requests();
    assert_eq!(reqs.len(), 5);
    assert!(reqs.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        reqs[0]
            .body_json
            .as_ref()
            .map(|b| &b["session"]["session_id"]),
        Some(&json!(sid))
    );
    assert_eq!(reqs[0].header("Content-Type"), Some("application/json"));
    let put = &r.requests_to("put", "/events")[0];
    assert_eq!(
        put.body_json,
        Some(json!({"event_id": "e", "metadata": {"m": 1}}))
    );
    let last = &reqs[4];
    assert_eq!(last.path, "/nope");
    assert_eq!(last.query.as_deref(), Some("x=1"));
    assert_eq!(
        last.headers.get("x-multi").map(String::as_str),
        Some("a, b")
    );
    assert_eq!(last.response_status, 404);
    assert!(last.spans.is_empty() && last.otlp_format.is_none());

    // Serialize + Deserialize round trip.
    let text = serde_json::to_string(&reqs).expect("ser");
    let back: Vec<RecordedRequest> = serde_json::from_str(&text).expect("de");
    assert_eq!(back, reqs);

    r.reset();
    assert!(r.requests().is_empty());
}

#[test]
fn keep_alive_chunked_and_expect_continue() {
    let r = Receiver::start();
    let mut s = connect(r.port()).expect("connect");
    let body = br#"{"session":{"session_id":"s-1"}}"#;
    s.write_all(&raw_request(
        "POST",
        "/session/start",
        &[("Content-Type", "application/json")],
        body,
        false,
    ))
    .expect("write");
    assert_eq!(
        read_one(&mut s).expect("resp").json()["session_id"],
        json!("s-1")
    );

    // Chunked, on the same connection.
    let mut chunked = raw_request(
        "PUT",
        "/events",
        &[
            ("Content-Type", "application/json"),
            ("Transfer-Encoding", "chunked"),
        ],
        b"",
        false,
    );
    chunked.extend_from_slice(b"5;ext=1\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\nX-Trailer: t\r\n\r\n");
    s.write_all(&chunked).expect("write");
    assert_eq!(read_one(&mut s).expect("resp").status, 200);

    // Expect: 100-continue: the interim answer comes before the body is sent.
    let head = raw_request(
        "POST",
        "/events",
        &[
            ("Content-Type", "application/json"),
            ("Expect", "100-continue"),
        ],
        b"",
        false,
    );
    let head = String::from_utf8(head)
        .expect("utf8")
        .replace("Content-Length: 0", "Content-Length: 2");
    s.write_all(head.as_bytes()).expect("write");
    let interim = read_one(&mut s).expect("100");
    assert_eq!(interim.status, 100);
    s.write_all(b"{}").expect("write");
    assert_eq!(read_one(&mut s).expect("resp").status, 200);

    let reqs = r.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].body_json, Some(json!({"a": 1})));
    assert_eq!(reqs[2].body_json, Some(json!({})));
}

#[test]
fn malformed_requests_get_400_and_server_survives() {
    let r = Receiver::start();
    for garbage in [
        &b"HELLO WORLD\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /\x01 HTTP/1.1\r\n\r\n",
    ] {
        let mut s = connect(r.port()).expect("connect");
        s.write_all(garbage).expect("write");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).expect("read");
        let resp = common::parse_response(&buf).expect("a response");
        assert_eq!(resp.status, 400, "{}", String::from_utf8_lossy(garbage));
    }
    // Half a request, then hang up.
    let mut s = connect(r.port()).expect("connect");
    s.write_all(b"POST /events HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        .expect("write");
    drop(s);
    assert_eq!(get(r.port(), "/ok").expect("still up").status, 404);
}

#[test]
fn fault_status_with_retry_after_and_times() {
    let r = Receiver::start();
    r.set_fault(Fault::status(503).with_retry_after("1").with_times(2));
    for _ in 0..2 {
        let resp = post_json(r.port(), "/v1/traces", &json!({})).expect("req");
        assert_eq!(resp.status, 503);
        assert_eq!(resp.header("retry-after"), Some("1"));
    }
    assert_eq!(r.fault(), None);
    assert_eq!(
        post_json(r.port(), "/v1/traces", &json!({}))
            .expect("req")
            .status,
        200
    );
    let statuses: Vec<u16> = r.requests().iter().map(|q| q.response_status).collect();
    assert_eq!(statuses, [503, 503, 200]);

    // Control paths are never faulted; path_prefix limits the fault.
    r.set_fault(Fault::status(500).with_path_prefix("/session"));
    assert_eq!(
        post_json(r.port(), "/v1/traces", &json!({}))
            .expect("req")
            .status,
        200
    );
    assert_eq!(
        post_json(r.port(), "/session/start", &json!({"session": {}}))
            .expect("req")
            .status,
        500
    );
    assert_eq!(get(r.port(), "/__hh/health").expect("req").status, 200);
    r.clear_fault();
    assert_eq!(
        post_json(r.port(), "/session/start", &json!({"session": {}}))
            .expect("req")
            .status,
        200
    );
}

#[test]
fn fault_status_delay() {
    let r = Receiver::start();
    r.set_fault(Fault::status(429).with_delay_ms(300));
    let t = Instant::now();
    let resp = post_json(r.port(), "/v1/traces", &json!({})).expect("req");
    assert_eq!(resp.status, 429);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[test]
fn fault_reset_gives_client_a_read_error() {
    let r = Receiver::start();
    r.set_fault(Fault::reset());
    let err = post_json(r.port(), "/v1/traces", &json!({})).expect_err("reset");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
        ),
        "{err:?}"
    );
    let reqs = r.wait_for_requests(|q| !q.is_empty(), SECS5);
    assert_eq!(reqs[0].response_status, 0);
}

#[test]
fn fault_hang_makes_client_time_out() {
    let r = Receiver::start();
    r.set_fault(Fault::hang());
    let mut s = connect(r.port()).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    s.write_all(&raw_request("POST", "/v1/traces", &[], b"{}", true))
        .expect("write");
    let mut buf = [0u8; 16];
    let t = Instant::now();
    let err = s.read(&mut buf).expect_err("must time out");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err:?}"
    );
    assert!(t.elapsed() >= Duration::from_millis(250));
    let reqs = r.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].response_status, 0);
    // Shutting down releases the hung connection.
    drop(r);
    s.set_read_timeout(Some(SECS5)).expect("timeout");
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty());
}

#[test]
fn fault_trickle_is_slow_but_complete() {
    let r = Receiver::start();
    let delay = 5;
    r.set_fault(Fault::trickle(delay));
    let t = Instant::now();
    let resp = post_json(r.port(), "/v1/traces", &json!({})).expect("req");
    let elapsed = t.elapsed();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({}));
    // Rebuild the byte count of what was sent.
    let n = {
        let mut s = connect(r.port()).expect("connect");
        r.clear_fault();
        s.write_all(&raw_request(
            "POST",
            "/v1/traces",
            &[("Content-Type", "application/json")],
            b"{}",
            true,
        ))
        .expect("write");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).expect("read");
        buf.len() as u64
    };
    assert!(
        elapsed >= Duration::from_millis(n * delay),
        "{elapsed:?} for {n} bytes"
    );
    assert_eq!(r.requests()[0].response_status, 200);
}

#[test]
fn fault_with_headers_and_body() {
    let r = Receiver::start();
    let partial = r#"{"partialSuccess":{"rejectedSpans":"5","errorMessage":"quota"}}"#;
    r.set_fault(
        Fault::status(200)
            .with_body("application/json", partial)
            .with_times(1),
    );
    let resp = post_json(r.port(), "/v1/traces", &json!({})).expect("req");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.body, partial.as_bytes());

    r.set_fault(
        Fault::status(302)
            .with_header("Location", "http://127.0.0.1:9/elsewhere?token=x")
            .with_header("X-Twice", "1")
            .with_header("X-Twice", "2"),
    );
    let resp = post_json(r.port(), "/v1/traces", &json!({})).expect("req");
    assert_eq!(resp.status, 302);
    assert_eq!(
        resp.header("location"),
        Some("http://127.0.0.1:9/elsewhere?token=x")
    );
    let twice: Vec<&str> = resp
        .headers
        .iter()
        .filter(|(n, _)| n == "x-twice")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(twice, ["1", "2"]);
    // The faulted requests are recorded with what was answered.
    let statuses: Vec<u16> = r.requests().iter().map(|q| q.response_status).collect();
    assert_eq!(statuses, [200, 302]);
}

#[test]
fn fault_streams_a_body_of_the_given_size() {
    let r = Receiver::start();
    let size = 3 * 64 * 1024 + 17;
    r.set_fault(
        Fault::status(400)
            .with_body("text/plain", "ab")
            .with_body_bytes(size),
    );
    let resp = post_json(r.port(), "/v1/traces", &json!({})).expect("req");
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.header("content-length"),
        Some(size.to_string().as_str())
    );
    assert_eq!(resp.body.len() as u64, size);
    assert!(resp.body.chunks(2).all(|c| c == b"ab" || c == b"a"));

    // Chunked with a size: the chunks add up to it, then the last chunk.
    r.set_fault(Fault::status(200).with_body_bytes(100_000).chunked());
    let resp = post_json(r.port(), "/v1/traces", &json!({})).expect("req");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert!(resp.header("content-length").is_none());
    assert_eq!(dechunk(&resp.body).len(), 100_000);
    assert!(resp.body.ends_with(b"\r\n0\r\n\r\n"));
}

#[test]
fn fault_endless_body_goes_on_until_the_client_leaves() {
    let r = Receiver::start();
    r.set_fault(Fault::status(200).chunked());
    let mut s = connect(r.port()).expect("connect");
    s.write_all(&raw_request("POST", "/v1/traces", &[], b"{}", true))
        .expect("write");
    // Far more than any buffer between the two ends: the body really keeps coming.
    let want = 8 * 1024 * 1024;
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    while got < want {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "the endless body ended after {got} bytes");
        got += n;
    }
    drop(s);
    // The receiver stays healthy once the client has gone.
    r.clear_fault();
    assert_eq!(get(r.port(), "/__hh/health").expect("req").status, 200);
}

/// The payload of a chunked body (chunk extensions and trailers are not used here).
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size = usize::from_str_radix(std::str::from_utf8(&body[..eol]).expect("utf8"), 16)
            .expect("hex size");
        body = &body[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        assert_eq!(&body[size..size + 2], b"\r\n");
        body = &body[size + 2..];
    }
}

#[test]
fn pause_and_resume_on_the_same_port() {
    let r = Receiver::start();
    let port = r.port();
    assert_eq!(
        post_json(port, "/v1/traces", &json!({}))
            .expect("req")
            .status,
        200
    );
    // An idle keep-alive connection is closed by pause.
    let mut idle = connect(port).expect("connect");
    r.pause();
    let err = std::net::TcpStream::connect(("127.0.0.1", port)).expect_err("refused while paused");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    let mut buf = [0u8; 8];
    assert!(matches!(idle.read(&mut buf), Ok(0) | Err(_)));
    r.resume();
    assert_eq!(r.port(), port);
    assert_eq!(
        post_json(port, "/v1/traces", &json!({}))
            .expect("req")
            .status,
        200
    );
    assert_eq!(r.requests().len(), 2);
    // Pausing twice / resuming twice is harmless.
    r.pause();
    r.pause();
    r.resume();
    r.resume();
    assert_eq!(get(port, "/__hh/health").expect("req").status, 200);
}

#[test]
fn waits_wake_on_arrival() {
    let r = Receiver::start();
    let port = r.port();
    let poster = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        post_json(port, "/opentelemetry/v1/traces", &python_style_json()).map(|r| r.status)
    });
    let t = Instant::now();
    let spans = r.wait_for_spans(1, Duration::from_secs(20));
    assert_eq!(spans.len(), 1);
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(poster.join().expect("thread").expect("req"), 200);

    // Timeout: returns what it has.
    let t = Instant::now();
    let spans = r.wait_for_spans(5, Duration::from_millis(200));
    assert_eq!(spans.len(), 1);
    assert!(t.elapsed() >= Duration::from_millis(200));
    let reqs = r.wait_for_requests(|q| q.len() >= 3, Duration::from_millis(100));
    assert_eq!(reqs.len(), 1);
}

#[test]
fn control_endpoints_work_in_library_mode() {
    let r = Receiver::start();
    let port = r.port();
    post_json(port, "/v1/traces", &python_style_json()).expect("req");
    let spans = get(port, "/__hh/wait?spans=1&timeout_ms=2000")
        .expect("wait")
        .json();
    assert_eq!(spans.as_array().map(Vec::len), Some(1));
    assert_eq!(spans[0]["attributes"]["honeyhive_inputs.a"], json!(1));
    let reqs = get(port, "/__hh/requests").expect("req").json();
    assert_eq!(reqs.as_array().map(Vec::len), Some(1));
    let f = request(
        port,
        "POST",
        "/__hh/fault",
        &[],
        br#"{"mode":"status","status":503,"retry_after":"1","times":2}"#,
    )
    .expect("req");
    assert_eq!(f.status, 200);
    assert_eq!(
        r.fault(),
        Some(Fault::status(503).with_retry_after("1").with_times(2))
    );
    assert_eq!(
        request(port, "POST", "/__hh/fault", &[], b"{bad")
            .expect("req")
            .status,
        400
    );
    assert_eq!(
        request(port, "POST", "/__hh/clear_fault", &[], b"")
            .expect("req")
            .status,
        200
    );
    assert_eq!(r.fault(), None);
    assert_eq!(
        request(port, "POST", "/__hh/reset", &[], b"")
            .expect("req")
            .status,
        200
    );
    assert!(r.requests().is_empty());
    assert_eq!(get(port, "/__hh/nope").expect("req").status, 404);
    assert!(r.requests().is_empty());
}

#[test]
fn record_file_gets_json_lines() {
    let path = std::env::temp_dir().join(format!(
        "hh-receiver-record-{}-{}.jsonl",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let _ = std::fs::remove_file(&path);
    let r = Receiver::start_with(ReceiverOptions {
        port: 0,
        record_file: Some(path.clone()),
    })
    .expect("start");
    post_json(r.port(), "/v1/traces", &python_style_json()).expect("req");
    get(r.port(), "/missing").expect("req");
    let pb = post_protobuf(r.port(), "/v1/traces", &protobuf_export()).expect("req");
    assert_eq!(pb.status, 200);
    drop(r);
    let text = std::fs::read_to_string(&path).expect("record file");
    let lines: Vec<RecordedRequest> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].spans.len(), 1);
    assert_eq!(lines[0].body_json, Some(python_style_json()));
    assert_eq!(lines[1].response_status, 404);
    assert_eq!(lines[2].spans.len(), 2);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn start_on_a_given_port() {
    let first = Receiver::start();
    let port = first.port();
    assert!(Receiver::start_on(port).is_err());
    drop(first);
    let again = Receiver::start_on(port).expect("port is free again");
    assert_eq!(again.url(), format!("http://127.0.0.1:{port}"));
}

#[tokio::test]
async fn usable_and_droppable_from_a_current_thread_async_test() {
    let r = Receiver::start();
    assert_eq!(get(r.port(), "/__hh/health").expect("req").status, 200);
    r.pause();
    r.resume();
    assert_eq!(
        post_json(r.port(), "/v1/traces", &json!({}))
            .expect("req")
            .status,
        200
    );
    assert_eq!(r.wait_for_requests(|q| q.len() == 1, SECS5).len(), 1);
    drop(r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usable_and_droppable_from_a_multi_thread_async_test() {
    let r = Receiver::start();
    let port = r.port();
    let status = tokio::task::spawn_blocking(move || {
        post_json(port, "/v1/traces", &python_style_json()).map(|r| r.status)
    })
    .await
    .expect("join")
    .expect("req");
    assert_eq!(status, 200);
    assert_eq!(r.wait_for_spans(1, SECS5).len(), 1);
    drop(r);
}
