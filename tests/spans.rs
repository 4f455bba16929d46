//! Spans on the wire: stamped attributes, nesting, enrichment, errors, `span_name_filters`.

mod common;
use common::*;
use hh_test_receiver::Receiver;
use honeyhive::enrich;
use honeyhive::ErrorKind;
use serde_json::json;

#[test]
fn nested_spans_carry_session_project_source_and_parents() {
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"source":"prod"}"#);
    let root = spans::start(t, "pipeline", Some("chain"), 0, None, vec![]).unwrap();
    let child = spans::start(t, "openai.chat", None, root, None, vec![]).unwrap();
    let grandchild = spans::start(t, "lookup", None, child, None, vec![]).unwrap();
    spans::end(grandchild, false).unwrap();
    spans::end(child, false).unwrap();
    spans::end(root, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
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
    let sid = session_of(t);
    let sid = sid.as_str();
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
        assert_eq!(
            s.scope_name,
            format!("honeyhive.{}", tracers::get(t).unwrap().id())
        );
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
    let s = spans::start(t, "step", Some("tool"), 0, None, vec![]).unwrap();
    spans::enrich(
        s,
        r#"{"metadata":{"nested":{"x":1,"y":[1,2]},"skip":null,"empty":{}},"inputs":{"q":"hi"},
            "outputs":{"a":"ok"},"metrics":{"score":0.5,"n":3},"feedback":{"good":true},
            "config":{"model":"gpt-4o","temperature":0.2},"user_properties":{"uid":"u1"},
            "error":"partial","extra_key":"e"}"#,
    )
    .unwrap();
    // Invalid JSON applies nothing (no `honeyhive_inputs.late` below).
    assert_eq!(
        spans::enrich(s, r#"{"inputs":{"late":1}"#)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidJson
    );
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
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
    assert!(!a.contains_key("honeyhive_inputs.late"));
}

#[test]
fn initial_attributes_are_written_raw_and_normalized() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let attrs =
        enrich::initial_attributes(r#"{"custom.attr":1,"gen_ai.operation.name":"invoke_agent"}"#)
            .unwrap();
    let s = spans::start(t, "agent", None, 0, None, attrs).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
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
fn list_initial_attributes_arrive_as_arrays_under_the_raw_and_normalized_keys() {
    // The reference scenario's non-scalar initial attributes: a list of same-typed scalars is
    // one typed array under both keys (the raw key as the reference's OTel writes it); an
    // object or a mixed list is JSON text.
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let attrs = json!({
        "tags.list": ["a", "b"],
        "ints": [1, 2],
        "d": {"a": 1},
        "mixed-list": [1, "a"],
    })
    .to_string();
    let attrs = enrich::initial_attributes(&attrs).unwrap();
    let s = spans::start(t, "attrs", None, 0, None, attrs).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let spans = rx.wait_for_spans(1, WAIT);
    let sp = span_named(&spans, "attrs");
    assert_eq!(sp.attr("tags.list"), Some(&json!(["a", "b"])));
    assert_eq!(sp.attr("tags_list"), Some(&json!(["a", "b"])));
    assert_eq!(sp.attr("ints"), Some(&json!([1, 2])));
    assert_eq!(sp.attr_str("d"), Some(r#"{"a":1}"#));
    assert_eq!(sp.attr_str("mixed-list"), Some(r#"[1,"a"]"#));
    assert_eq!(sp.attr_str("mixed_list"), Some(r#"[1,"a"]"#));
}

#[test]
fn record_error_marks_the_span_itself() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let s = spans::start(t, "tool.call", Some("tool"), 0, None, vec![]).unwrap();
    spans::record_error(s, Some("ValueError"), "boom").unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
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
    let hidden = spans::start(t, "internal.cache", None, 0, None, vec![]).unwrap();
    assert!(!spans::is_recording(hidden).unwrap());
    let child = spans::start(t, "llm.call", None, hidden, None, vec![]).unwrap();
    assert!(spans::is_recording(child).unwrap());
    spans::end(child, false).unwrap();
    spans::end(hidden, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let spans = rx.wait_for_spans(1, WAIT);
    assert_eq!(
        spans.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["llm.call"]
    );
    assert_eq!(tracers::stats(t).unwrap().spans_ended, 1);
}

#[test]
fn closed_tracer_refuses_new_work_and_close_is_idempotent() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let open = spans::start(t, "left-open", None, 0, None, vec![]).unwrap();
    tracers::close(t, WAIT).unwrap();
    tracers::close(t, WAIT).unwrap();
    let e = spans::start(t, "late", None, 0, None, vec![]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TracerClosed);
    assert_eq!(
        spans::set(open, ns("metadata"), "k", AttrValue::I64(1))
            .unwrap_err()
            .kind,
        ErrorKind::TracerClosed
    );
    assert_eq!(
        spans::end(open, false).unwrap_err().kind,
        ErrorKind::TracerClosed
    );
    assert_eq!(
        tracers::stats(t).unwrap().spans_dropped,
        1,
        "a span ended after close is counted as dropped"
    );
    assert_eq!(
        tracers::flush(t, WAIT).unwrap_err().kind,
        ErrorKind::TracerClosed
    );
    assert!(rx.spans().is_empty());
}

#[test]
fn attributes_set_twice_go_out_once_with_the_last_value() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let attrs = enrich::initial_attributes(r#"{"honeyhive.session_id":"evil","k":1}"#).unwrap();
    let s = spans::start(t, "step", None, 0, None, attrs).unwrap();
    spans::enrich(s, r#"{"outputs":{"k":"first"}}"#).unwrap();
    spans::enrich(s, r#"{"outputs":{"k":"second"},"event_type":"model"}"#).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
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
        Some(session_of(t).as_str()),
        "stamped keys cannot be overridden"
    );
}

#[test]
fn a_continued_remote_trace_keeps_the_callers_project_and_source() {
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"project":"mine","source":"mine-src"}"#);
    let remote = spans::extract(
        t,
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        Some("session_id=11111111-2222-4333-8444-555555555555,project=theirs,source=their-src"),
    )
    .unwrap();
    let handler = spans::start(t, "handle", None, remote, None, vec![]).unwrap();
    let child = spans::start(t, "child", None, handler, None, vec![]).unwrap();
    let (_, baggage) = spans::inject(child).unwrap();
    spans::end(child, false).unwrap();
    spans::end(handler, false).unwrap();
    spans::end(remote, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
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

#[test]
fn typed_attributes_go_under_their_namespace_and_reserved_keys_are_refused() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let s = spans::start(t, "step", Some("tool"), 0, None, vec![]).unwrap();
    spans::set(s, ns("metadata"), "model", AttrValue::Str("gpt-4o")).unwrap();
    spans::set(s, ns("metrics"), "tokens", AttrValue::I64(42)).unwrap();
    spans::set(s, ns("config"), "temperature", AttrValue::F64(0.5)).unwrap();
    spans::set(s, ns("feedback"), "good", AttrValue::Bool(true)).unwrap();
    spans::set(s, 0, "raw.key", AttrValue::Str("as given")).unwrap();
    for reserved in [
        "honeyhive.session_id",
        "traceloop.association.properties.project",
    ] {
        let e = spans::set(s, 0, reserved, AttrValue::Str("evil")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{reserved}");
    }
    let e = spans::set(s, 99, "k", AttrValue::I64(1)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    let e = spans::set(s, ns("metadata"), "", AttrValue::I64(1)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    spans::end(s, false).unwrap();
    assert_eq!(
        spans::set(s, ns("metadata"), "late", AttrValue::I64(1))
            .unwrap_err()
            .kind,
        ErrorKind::SpanEnded
    );
    tracers::flush(t, WAIT).unwrap();
    let span = &rx.wait_for_spans(1, WAIT)[0];
    assert_eq!(span.attr_str("honeyhive_metadata.model"), Some("gpt-4o"));
    assert_eq!(span.attr_i64("honeyhive_metrics.tokens"), Some(42));
    assert_eq!(span.attributes["honeyhive_config.temperature"], json!(0.5));
    assert_eq!(span.attributes["honeyhive_feedback.good"], json!(true));
    assert_eq!(span.attr_str("raw.key"), Some("as given"));
    assert_eq!(
        span.attr_str("honeyhive.session_id"),
        Some(session_of(t).as_str())
    );
    assert!(!span.attributes.contains_key("honeyhive_metadata.late"));
}

#[test]
fn a_span_session_must_be_a_uuid_and_goes_out_lowercase() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let e = spans::start(t, "bad", None, 0, Some("not-a-uuid"), vec![]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    let root = spans::start(
        t,
        "root",
        None,
        0,
        Some("AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"),
        vec![],
    )
    .unwrap();
    let child = spans::start(t, "child", None, root, None, vec![]).unwrap();
    assert_eq!(
        &*spans::session_id(child).unwrap(),
        "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    );
    spans::end(child, false).unwrap();
    spans::end(root, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let sent = rx.wait_for_spans(2, WAIT);
    assert_eq!(sent.len(), 2, "the refused start made no span");
    for s in &sent {
        assert_eq!(
            s.attr_str("honeyhive.session_id"),
            Some("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"),
            "{}",
            s.name
        );
    }
}

#[test]
fn end_with_attributes_sets_all_or_none_and_a_refused_end_leaves_the_span_open() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let s = spans::start(t, "step", None, 0, None, vec![]).unwrap();
    let good = Attribute {
        ns: ns("outputs"),
        key: "answer",
        value: AttrValue::Str("42"),
    };
    let reserved = Attribute {
        ns: 0,
        key: "honeyhive.project",
        value: AttrValue::Str("evil"),
    };
    let batch = [good, reserved];
    let e = spans::end_with(s, false, batch.len(), |i| Ok(batch[i])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.starts_with("attribute 1 of 2"), "{}", e.message);
    // Not ended: it still takes attributes, and ends with the next call.
    spans::set(s, ns("metadata"), "after", AttrValue::Bool(true)).unwrap();
    let ok = [good];
    spans::end_with(s, true, 1, |i| Ok(ok[i])).unwrap();
    // Ended: more attributes would be lost, so they are refused; a plain end is a no-op.
    assert_eq!(
        spans::end_with(s, true, 1, |i| Ok(ok[i])).unwrap_err().kind,
        ErrorKind::SpanEnded
    );
    spans::end(s, true).unwrap();
    // Kept: still usable for injection until released.
    assert!(spans::inject(s).is_ok());
    spans::release(&[s]).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let sent = rx.wait_for_spans(1, WAIT);
    assert_eq!(sent.len(), 1);
    let span = &sent[0];
    assert_eq!(span.attr_str("honeyhive_outputs.answer"), Some("42"));
    assert_eq!(span.attributes["honeyhive_metadata.after"], json!(true));
    assert_eq!(span.attr_str("honeyhive.project"), Some("proj"));
}

#[test]
fn an_extracted_parent_without_a_session_joins_the_tracers_default_session() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let remote = spans::extract(
        t,
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        None,
    )
    .unwrap();
    assert_eq!(*spans::session_id(remote).unwrap(), *session_of(t));
    // A remote parent is a context, not a span: it records nothing.
    assert_eq!(
        spans::set(remote, 0, "k", AttrValue::I64(1))
            .unwrap_err()
            .kind,
        ErrorKind::InvalidArgument
    );
    let handler = spans::start(t, "handle", None, remote, None, vec![]).unwrap();
    spans::release(&[remote]).unwrap();
    // Released while open: ended then, as an SDK span is when dropped.
    spans::release(&[handler]).unwrap();
    assert_eq!(
        spans::release(&[handler ^ (1 << 40)]).unwrap_err().kind,
        ErrorKind::InvalidHandle
    );
    tracers::flush(t, WAIT).unwrap();
    let sent = rx.wait_for_spans(1, WAIT);
    assert_eq!(sent.len(), 1, "the remote parent is not exported");
    let s = &sent[0];
    assert_eq!(s.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(s.parent_span_id.as_deref(), Some("b7ad6b7169203331"));
    assert_eq!(
        s.attr_str("honeyhive.session_id"),
        Some(session_of(t).as_str())
    );
}

#[test]
fn setting_a_key_again_replaces_its_value_and_takes_no_room() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let meta = honeyhive::registry::attributes::namespace("metadata").unwrap();
    let s = spans::start(t, "overwrites", None, 0, None, vec![]).unwrap();
    spans::set(s, meta, "k", AttrValue::I64(1)).unwrap();
    spans::set(s, meta, "k", AttrValue::I64(2)).unwrap();
    // A batch setting a key twice: the last value wins.
    let batch = [("k", 3), ("j", 1), ("j", 2)];
    spans::set_many(s, batch.len(), |i| {
        Ok(Attribute {
            ns: meta,
            key: batch[i].0,
            value: AttrValue::I64(batch[i].1),
        })
    })
    .unwrap();
    // Fill the span to its limit of caller attributes (k and j hold two places)...
    let limit = honeyhive::limits::MAX_ATTRIBUTES_PER_SPAN as usize;
    for i in 0..limit - 2 {
        spans::set(s, meta, &format!("fill{i}"), AttrValue::Bool(true)).unwrap();
    }
    assert_eq!(
        spans::set(s, meta, "one-more", AttrValue::I64(0))
            .unwrap_err()
            .kind,
        ErrorKind::LimitExceeded
    );
    // ...where a key it holds can still be set again, by every setter.
    spans::set(s, meta, "k", AttrValue::Str("last")).unwrap();
    spans::enrich(s, r#"{"metadata":{"j":"enriched"}}"#).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let spans = rx.wait_for_spans(1, WAIT);
    let sp = span_named(&spans, "overwrites");
    assert_eq!(sp.attr_str("honeyhive_metadata.k"), Some("last"));
    assert_eq!(sp.attr_str("honeyhive_metadata.j"), Some("enriched"));
    assert!(sp.attr("honeyhive_metadata.one-more").is_none());
}

#[test]
fn array_values_are_truncated_at_their_limits() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let ints: Vec<i64> = (0..70_000).collect();
    let big = "s".repeat(600 * 1024);
    let attrs = json!({
        "ints": ints,
        "strings": [big, big, big],
        "small": ["a", "b"],
    })
    .to_string();
    let s = spans::start(
        t,
        "arrays",
        None,
        0,
        None,
        enrich::initial_attributes(&attrs).unwrap(),
    )
    .unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let spans = rx.wait_for_spans(1, WAIT);
    let sp = span_named(&spans, "arrays");
    let ints = sp.attr("ints").and_then(|v| v.as_array()).unwrap();
    assert_eq!(ints.len(), honeyhive::limits::MAX_ARRAY_ELEMENTS);
    let strings = sp.attr("strings").and_then(|v| v.as_array()).unwrap();
    let lens: Vec<usize> = strings.iter().map(|v| v.as_str().unwrap().len()).collect();
    assert_eq!(
        lens,
        vec![
            600 * 1024,
            honeyhive::limits::MAX_ARRAY_VALUE_BYTES - 600 * 1024
        ]
    );
    let small = sp.attr("small").and_then(|v| v.as_array()).unwrap();
    assert_eq!(small.len(), 2);
}

/// The OpenTelemetry span model, through both OTLP encodings: kind, explicit times, links
/// with attributes, events with attributes and times, status, rename, exceptions with a
/// stack trace, typed array attributes under any key, a remote parent given by ids.
#[test]
fn the_span_model_goes_over_the_wire_in_json_and_protobuf() {
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId};
    use std::time::{Duration, UNIX_EPOCH};
    for protocol in ["http/json", "http/protobuf"] {
        let rx = Receiver::start();
        let t = tracer(&rx, &format!(r#"{{"otlp_protocol":"{protocol}"}}"#));
        let remote = SpanContext::new(
            TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128),
            SpanId::from(0xb7ad6b7169203331_u64),
            TraceFlags::SAMPLED,
            true,
            Default::default(),
        );
        let linked = SpanContext::new(
            TraceId::from(0x11_u128),
            SpanId::from(0x22_u64),
            TraceFlags::SAMPLED,
            false,
            Default::default(),
        );
        let start = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_123);
        let options = spans::StartOptions {
            kind: SpanKind::Server,
            start_time: Some(start),
            links: vec![spans::link(
                linked.clone(),
                vec![opentelemetry::KeyValue::new("link.why", "retry")],
            )],
            attributes: vec![opentelemetry::KeyValue::new(
                "http.request.header.accept",
                opentelemetry::Value::Array(opentelemetry::Array::String(vec!["a".into()])),
            )],
            parent_context: Some(remote.clone()),
        };
        let s = spans::start_with(t, "request", None, 0, None, vec![], &options).unwrap();
        let cx = spans::context(s).unwrap();
        assert_eq!(cx.trace_id(), remote.trace_id());
        spans::set_many(s, 2, |i| {
            Ok(Attribute {
                ns: 0,
                key: ["any.ints", "any.flags"][i],
                value: if i == 0 {
                    AttrValue::I64Array(&[1, -2, 3])
                } else {
                    AttrValue::BoolArray(&[true, false])
                },
            })
        })
        .unwrap();
        let at = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_500_000_000);
        spans::add_event(
            s,
            "cache.miss",
            vec![opentelemetry::KeyValue::new("key", "k1")],
            Some(at),
        )
        .unwrap();
        spans::add_link(s, spans::link(remote.clone(), vec![])).unwrap();
        spans::record_error_ex(
            s,
            Some("ValueError"),
            "boom",
            Some("Traceback: line 1"),
            true,
            None,
        )
        .unwrap();
        // Ok is final: a later Error does not replace it.
        spans::set_status(s, Status::Ok).unwrap();
        spans::set_status(s, Status::error("late")).unwrap();
        spans::set_name(s, "GET /items").unwrap();
        let end = UNIX_EPOCH + Duration::from_nanos(1_700_000_001_000_000_000);
        spans::end_at(s, false, Some(end)).unwrap();
        tracers::flush(t, WAIT).unwrap();
        let got = rx.wait_for_spans(1, WAIT);
        let sp = span_named(&got, "GET /items");
        assert_eq!(sp.kind, "SPAN_KIND_SERVER", "{protocol}");
        assert_eq!(sp.trace_id, "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(sp.parent_span_id.as_deref(), Some("b7ad6b7169203331"));
        assert_eq!(sp.start_time_unix_nano, 1_700_000_000_000_000_123);
        assert_eq!(sp.end_time_unix_nano, 1_700_000_001_000_000_000);
        assert_eq!(sp.status_code, "STATUS_CODE_OK");
        assert_eq!(
            sp.attr_str("honeyhive.session_id"),
            Some(session_of(t).as_str())
        );
        assert_eq!(sp.attr("any.ints"), Some(&json!([1, -2, 3])));
        assert_eq!(sp.attr("any.flags"), Some(&json!([true, false])));
        assert_eq!(sp.attr("http.request.header.accept"), Some(&json!(["a"])));
        assert_eq!(sp.links.len(), 2, "{protocol}");
        assert_eq!(sp.links[0].trace_id, format!("{:032x}", 0x11));
        assert_eq!(sp.links[0].span_id, format!("{:016x}", 0x22));
        assert_eq!(sp.links[0].attributes["link.why"], json!("retry"));
        assert_eq!(sp.links[1].span_id, "b7ad6b7169203331");
        assert_eq!(sp.events.len(), 2);
        assert_eq!(sp.events[0].name, "cache.miss");
        assert_eq!(sp.events[0].time_unix_nano, 1_700_000_000_500_000_000);
        assert_eq!(sp.events[0].attributes["key"], json!("k1"));
        let ex = &sp.events[1];
        assert_eq!(ex.name, "exception");
        assert_eq!(ex.attributes["exception.type"], json!("ValueError"));
        assert_eq!(ex.attributes["exception.message"], json!("boom"));
        assert_eq!(
            ex.attributes["exception.stacktrace"],
            json!("Traceback: line 1")
        );
        // The reference sends `str(escaped)`: a string, not a boolean.
        assert_eq!(ex.attributes["exception.escaped"], json!("True"));
        tracers::close(t, WAIT).unwrap();
    }
}

/// Events and links past the per-span limits are dropped and counted, as OpenTelemetry does;
/// an event's attributes past their limit too.
#[test]
fn events_and_links_past_their_limits_are_dropped_and_counted() {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId};
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"otlp_protocol":"http/protobuf"}"#);
    let s = spans::start(t, "busy", None, 0, None, vec![]).unwrap();
    let max_events = honeyhive::limits::MAX_EVENTS_PER_SPAN as usize;
    let max_links = honeyhive::limits::MAX_LINKS_PER_SPAN as usize;
    let max_attrs = honeyhive::limits::MAX_ATTRIBUTES_PER_EVENT as usize;
    let attrs: Vec<opentelemetry::KeyValue> = (0..max_attrs + 3)
        .map(|i| opentelemetry::KeyValue::new(format!("a{i}"), i as i64))
        .collect();
    spans::add_event(s, "first", attrs, None).unwrap();
    for _ in 1..max_events + 5 {
        spans::add_event(s, "e", vec![], None).unwrap();
    }
    for i in 0..max_links + 2 {
        let cx = SpanContext::new(
            TraceId::from(1 + i as u128),
            SpanId::from(1 + i as u64),
            TraceFlags::SAMPLED,
            false,
            Default::default(),
        );
        spans::add_link(s, spans::link(cx, vec![])).unwrap();
    }
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let got = rx.wait_for_spans(1, WAIT);
    let sp = span_named(&got, "busy");
    assert_eq!(sp.events.len(), max_events);
    assert_eq!(sp.dropped_events_count, 5);
    assert_eq!(sp.events[0].attributes.len(), max_attrs);
    assert_eq!(sp.links.len(), max_links);
    assert_eq!(sp.dropped_links_count, 2);
    tracers::close(t, WAIT).unwrap();
}
