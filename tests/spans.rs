//! Spans on the wire: stamped attributes, nesting, enrichment, errors, `span_name_filters`.

mod common;
use common::*;
use hh_test_receiver::Receiver;
use honeyhive::enrich;
use serde_json::json;

#[test]
fn nested_spans_carry_session_project_source_and_parents() {
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"source":"prod"}"#);
    let root = t
        .start_span("pipeline", Some("chain"), None, None, vec![])
        .unwrap();
    let child = t
        .start_span("openai.chat", None, Some(root.reference()), None, vec![])
        .unwrap();
    let grandchild = t
        .start_span("lookup", None, Some(child.reference()), None, vec![])
        .unwrap();
    grandchild.end().unwrap();
    child.end().unwrap();
    root.end().unwrap();
    t.flush(WAIT).unwrap();
    let spans = rx.wait_for_spans(3, WAIT);
    let (r, c, g) = (
        span_named(&spans, "pipeline"),
        span_named(&spans, "openai.chat"),
        span_named(&spans, "lookup"),
    );
    assert!(r.is_root());
    assert_eq!(c.parent_span_id.as_deref(), Some(r.span_id.as_str()));
    assert_eq!(g.parent_span_id.as_deref(), Some(c.span_id.as_str()));
    assert!(spans.iter().all(|s| s.trace_id == r.trace_id));
    let sid = t.session_id().unwrap();
    for s in [r, c, g] {
        assert_eq!(s.kind, "SPAN_KIND_INTERNAL");
        assert_eq!(s.attr_str("honeyhive.session_id"), Some(sid));
        assert_eq!(
            s.attr_str("traceloop.association.properties.session_id"),
            Some(sid)
        );
        assert_eq!(s.attr_str("honeyhive.project"), Some("proj"));
        assert_eq!(
            s.attr_str("traceloop.association.properties.project"),
            Some("proj")
        );
        assert_eq!(s.attr_str("honeyhive.source"), Some("prod"));
        assert_eq!(
            s.attr_str("traceloop.association.properties.source"),
            Some("prod")
        );
        assert_eq!(s.scope_name, format!("honeyhive.{}", t.id()));
        assert!(s.end_time_unix_nano >= s.start_time_unix_nano);
    }
    // Explicit type, detection from a model-ish word in the name, default tool.
    assert_eq!(r.attr_str("honeyhive_event_type"), Some("chain"));
    assert_eq!(c.attr_str("honeyhive_event_type"), Some("model"));
    assert_eq!(g.attr_str("honeyhive_event_type"), Some("tool"));

    let req = &otlp_requests(&rx)[0];
    assert_eq!(req.path, "/opentelemetry/v1/traces");
    assert_eq!(req.otlp_format.as_deref(), Some("json"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("x-source"), Some("prod"));
    assert_eq!(req.header("hh-client-language"), Some("c"));
    assert!(
        req.header("hh-client-timestamp").is_none(),
        "hh-client-timestamp is sent on session REST calls only, not on OTLP"
    );
    // The reference encoder's shape: enum names and a null parent on roots.
    let raw = req.body_json.as_ref().unwrap();
    let span0 = &raw["resourceSpans"][0]["scopeSpans"][0]["spans"];
    let root_json = span0
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "pipeline")
        .unwrap();
    assert_eq!(root_json["parentSpanId"], serde_json::Value::Null);
    assert_eq!(root_json["kind"], "SPAN_KIND_INTERNAL");
    assert_eq!(root_json["status"]["code"], "STATUS_CODE_UNSET");
    assert!(root_json["startTimeUnixNano"].is_string());
}

#[test]
fn enrichment_flattens_exactly_as_the_reference() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let mut s = t
        .start_span("step", Some("tool"), None, None, vec![])
        .unwrap();
    s.set_attributes(
        enrich::span_enrichment(
            r#"{"metadata":{"nested":{"x":1,"y":[1,2]},"skip":null,"empty":{}},"inputs":{"q":"hi"},
                "outputs":{"a":"ok"},"metrics":{"score":0.5,"n":3},"feedback":{"good":true},
                "config":{"model":"gpt-4o","temperature":0.2},"user_properties":{"uid":"u1"},
                "error":"partial","extra_key":"e"}"#,
        )
        .unwrap(),
    )
    .unwrap();
    assert!(s
        .set_attributes(enrich::span_enrichment("{bad").unwrap_or_default())
        .is_ok());
    s.end().unwrap();
    t.flush(WAIT).unwrap();
    let span = &rx.wait_for_spans(1, WAIT)[0];
    let a = &span.attributes;
    assert_eq!(a["honeyhive_metadata.nested.x"], json!(1));
    assert_eq!(a["honeyhive_metadata.nested.y.0"], json!(1));
    assert_eq!(a["honeyhive_metadata.nested.y.1"], json!(2));
    assert!(
        !a.contains_key("honeyhive_metadata.skip")
            && !a.keys().any(|k| k.starts_with("honeyhive_metadata.empty"))
    );
    assert_eq!(a["honeyhive_inputs.q"], json!("hi"));
    assert_eq!(a["honeyhive_outputs.a"], json!("ok"));
    assert_eq!(a["honeyhive_metrics.score"], json!(0.5));
    assert!(a["honeyhive_metrics.n"].is_i64());
    assert_eq!(a["honeyhive_feedback.good"], json!(true));
    assert_eq!(a["honeyhive_config.model"], json!("gpt-4o"));
    assert_eq!(a["honeyhive_user_properties.uid"], json!("u1"));
    assert_eq!(a["honeyhive_error"], json!("partial"));
    assert_eq!(a["honeyhive_metadata.extra_key"], json!("e"));
}

#[test]
fn initial_attributes_are_written_raw_and_normalized() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let attrs =
        enrich::initial_attributes(r#"{"custom.attr":1,"gen_ai.operation.name":"invoke_agent"}"#)
            .unwrap();
    t.start_span("agent", None, None, None, attrs)
        .unwrap()
        .end()
        .unwrap();
    t.flush(WAIT).unwrap();
    let span = &rx.wait_for_spans(1, WAIT)[0];
    assert_eq!(span.attr_i64("custom.attr"), Some(1));
    assert_eq!(span.attr_i64("custom_attr"), Some(1));
    assert_eq!(
        span.attr_str("honeyhive_event_type"),
        Some("chain"),
        "gen_ai.operation.name rule"
    );
}

#[test]
fn record_error_marks_the_span_itself() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let mut s = t
        .start_span("tool.call", Some("tool"), None, None, vec![])
        .unwrap();
    s.record_error(Some("ValueError"), "boom").unwrap();
    s.end().unwrap();
    t.flush(WAIT).unwrap();
    let span = &rx.wait_for_spans(1, WAIT)[0];
    assert_eq!(span.status_code, "STATUS_CODE_ERROR");
    assert_eq!(span.status_message.as_deref(), Some("ValueError: boom"));
    assert_eq!(span.attr_str("honeyhive_error"), Some("boom"));
    assert_eq!(span.attr_str("honeyhive_error_type"), Some("ValueError"));
    let ev = &span.events[0];
    assert_eq!(ev.name, "exception");
    assert_eq!(ev.attributes["exception.type"], json!("ValueError"));
    assert_eq!(ev.attributes["exception.message"], json!("boom"));
}

#[test]
fn span_name_filters_drop_excluded_spans_but_not_their_children() {
    let rx = Receiver::start();
    let t = tracer(
        &rx,
        r#"{"span_name_filters":{"exclude":[{"type":"prefix","value":"internal."}]}}"#,
    );
    let hidden = t
        .start_span("internal.cache", None, None, None, vec![])
        .unwrap();
    assert!(!hidden.is_recording());
    let child = t
        .start_span("llm.call", None, Some(hidden.reference()), None, vec![])
        .unwrap();
    child.end().unwrap();
    hidden.end().unwrap();
    t.flush(WAIT).unwrap();
    let spans = rx.wait_for_spans(1, WAIT);
    assert_eq!(
        spans.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["llm.call"]
    );
    assert_eq!(t.stats().spans_ended, 1);
}

#[test]
fn closed_tracer_refuses_new_work_and_close_is_idempotent() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let open = t.start_span("left-open", None, None, None, vec![]).unwrap();
    t.close(WAIT).unwrap();
    t.close(WAIT).unwrap();
    let e = t.start_span("late", None, None, None, vec![]).unwrap_err();
    assert_eq!(e.kind, honeyhive::ErrorKind::TracerClosed);
    assert_eq!(
        open.end().unwrap_err().kind,
        honeyhive::ErrorKind::TracerClosed
    );
    assert_eq!(
        t.stats().spans_dropped,
        1,
        "a span ended after close is counted as dropped"
    );
    assert_eq!(
        t.flush(WAIT).unwrap_err().kind,
        honeyhive::ErrorKind::TracerClosed
    );
}

#[test]
fn attributes_set_twice_go_out_once_with_the_last_value() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let attrs = enrich::initial_attributes(r#"{"honeyhive.session_id":"evil","k":1}"#).unwrap();
    let mut s = t.start_span("step", None, None, None, attrs).unwrap();
    s.set_attributes(enrich::span_enrichment(r#"{"outputs":{"k":"first"}}"#).unwrap())
        .unwrap();
    s.set_attributes(
        enrich::span_enrichment(r#"{"outputs":{"k":"second"},"event_type":"model"}"#).unwrap(),
    )
    .unwrap();
    s.end().unwrap();
    t.flush(WAIT).unwrap();
    let req = &otlp_requests(&rx)[0];
    let raw = req.body_json.as_ref().unwrap();
    let keys: Vec<&str> = raw["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        keys.len(),
        unique.len(),
        "OTLP keys must be unique: {keys:?}"
    );
    let span = &req.spans[0];
    assert_eq!(span.attr_str("honeyhive_outputs.k"), Some("second"));
    assert_eq!(span.attr_str("honeyhive_event_type"), Some("model"));
    assert_eq!(
        span.attr_str("honeyhive.session_id"),
        t.session_id(),
        "stamped keys cannot be overridden"
    );
}

#[test]
fn a_continued_remote_trace_keeps_the_callers_project_and_source() {
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"project":"mine","source":"mine-src"}"#);
    let remote = honeyhive::propagation::extract(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        Some("session_id=11111111-2222-4333-8444-555555555555,project=theirs,source=their-src"),
    )
    .unwrap();
    let handler = t
        .start_span("handle", None, Some(&remote), None, vec![])
        .unwrap();
    let child = t
        .start_span("child", None, Some(handler.reference()), None, vec![])
        .unwrap();
    let (_, baggage) = honeyhive::propagation::inject(t.config(), child.reference());
    child.end().unwrap();
    handler.end().unwrap();
    t.flush(WAIT).unwrap();
    for s in rx.wait_for_spans(2, WAIT) {
        assert_eq!(
            s.attr_str("honeyhive.project"),
            Some("theirs"),
            "{}",
            s.name
        );
        assert_eq!(
            s.attr_str("traceloop.association.properties.project"),
            Some("theirs")
        );
        assert_eq!(s.attr_str("honeyhive.source"), Some("their-src"));
        assert_eq!(
            s.attr_str("honeyhive.session_id"),
            Some("11111111-2222-4333-8444-555555555555")
        );
    }
    assert!(
        baggage.contains("project=theirs") && baggage.contains("source=their-src"),
        "{baggage}"
    );
}
