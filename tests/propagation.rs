//! W3C propagation round trip (`traceparent` + `baggage`): inject on one tracer, extract on another ("service").

mod common;
use common::*;
use hh_test_receiver::Receiver;

#[test]
fn inject_then_extract_continues_the_trace_and_the_session() {
    let rx = Receiver::start();
    let front = tracer(&rx, r#"{"project":"front","source":"edge"}"#);
    let back = tracer(&rx, r#"{"project":"back"}"#);
    let sid = tracers::create_session(front, Some(r#"{"session_name":"request"}"#)).unwrap();
    let outgoing =
        spans::start(front, "call-backend", Some("tool"), 0, Some(&sid), vec![]).unwrap();
    let (traceparent, baggage) = spans::inject(outgoing).unwrap();
    assert!(
        traceparent.starts_with("00-") && traceparent.ends_with("-01") && traceparent.len() == 55,
        "{traceparent}"
    );
    assert!(baggage.contains(&format!("session_id={sid}")), "{baggage}");
    assert!(
        baggage.contains("project=front") && baggage.contains("source=edge"),
        "{baggage}"
    );

    let remote = spans::extract(back, &traceparent, Some(&baggage)).unwrap();
    assert_eq!(*spans::session_id(remote).unwrap(), *sid);
    let handler = spans::start(back, "handle", Some("chain"), remote, None, vec![]).unwrap();
    let (tp2, _) = spans::inject(handler).unwrap();
    spans::end(handler, false).unwrap();
    spans::end(remote, false).unwrap();
    spans::end(outgoing, false).unwrap();
    tracers::flush(front, WAIT).unwrap();
    tracers::flush(back, WAIT).unwrap();
    let spans = rx.wait_for_spans(2, WAIT);
    let (out, inn) = (
        span_named(&spans, "call-backend"),
        span_named(&spans, "handle"),
    );
    assert_eq!(inn.trace_id, out.trace_id);
    assert_eq!(inn.parent_span_id.as_deref(), Some(out.span_id.as_str()));
    assert_eq!(inn.attr_str("honeyhive.session_id"), Some(sid.as_str()));
    assert!(tp2.contains(&out.trace_id));
}

#[test]
fn extract_without_baggage_and_invalid_headers() {
    let rx = Receiver::start();
    let t = tracer(&rx, "");
    let remote = spans::extract(
        t,
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        None,
    )
    .unwrap();
    let (traceparent, _) = spans::inject(remote).unwrap();
    assert_eq!(
        traceparent,
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    );
    for bad in [
        "",
        "garbage",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    ] {
        assert!(spans::extract(t, bad, None).is_err(), "{bad:?}");
    }
    let long = "x".repeat(10_000);
    assert_eq!(
        spans::extract(t, &long, None).unwrap_err().kind,
        honeyhive::ErrorKind::LimitExceeded
    );
}

#[test]
fn hostile_baggage_is_validated_and_falls_back_to_the_tracers_own_values() {
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"project":"own-project","source":"own-source"}"#);
    let default_session = tracers::session_id(t).unwrap();
    let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let long = "a".repeat(300);
    let cases: Vec<(&str, String)> = vec![
        ("not-uuid", "session_id=not-a-uuid".to_string()),
        ("dotdot", "session_id=../../x".to_string()),
        ("dotdot-encoded", "session_id=..%2F..%2Fx".to_string()),
        (
            "newline-project",
            "project=evil%0Aforged,source=ok%1B%5B2J".to_string(),
        ),
        ("long-source", format!("project=,source={long}")),
    ];
    for (name, baggage) in &cases {
        let remote = spans::extract(t, tp, Some(baggage)).unwrap();
        assert_eq!(
            *spans::session_id(remote).unwrap(),
            *default_session,
            "{name}"
        );
        let s = spans::start(t, name, Some("tool"), remote, None, vec![]).unwrap();
        spans::end(s, false).unwrap();
        spans::end(remote, false).unwrap();
    }
    // A valid id in capitals is taken, written lower-case, with a valid project.
    let upper = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
    let remote = spans::extract(
        t,
        tp,
        Some(&format!("session_id={upper},project=their-project")),
    )
    .unwrap();
    let s = spans::start(t, "valid", Some("tool"), remote, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let spans = rx.wait_for_spans(cases.len() + 1, WAIT);
    for (name, _) in &cases {
        let s = span_named(&spans, name);
        assert_eq!(
            s.attr_str("honeyhive.session_id"),
            Some(default_session.as_str()),
            "{name}"
        );
        assert_eq!(
            s.attr_str("honeyhive.project"),
            Some("own-project"),
            "{name}"
        );
        assert_eq!(s.attr_str("honeyhive.source"), Some("own-source"), "{name}");
    }
    let valid = span_named(&spans, "valid");
    assert_eq!(
        valid.attr_str("honeyhive.session_id"),
        Some(upper.to_lowercase().as_str())
    );
    assert_eq!(valid.attr_str("honeyhive.project"), Some("their-project"));
}

#[test]
fn link_carrier_roots_continue_the_carriers_trace_and_session_without_starting_it() {
    let rx = Receiver::start();
    let sid = "cccccccc-0000-4000-8000-00000000000c";
    let t = tracer(
        &rx,
        &format!(
            r#"{{"link_carrier":{{"Traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","BAGGAGE":"session_id={sid}","other":"x"}}}}"#
        ),
    );
    assert_eq!(
        session_of(t),
        sid,
        "the carrier's session is the default one"
    );
    let root = spans::start(t, "root", Some("chain"), 0, None, vec![]).unwrap();
    let child = spans::start(t, "child", Some("tool"), root, None, vec![]).unwrap();
    spans::end(child, false).unwrap();
    spans::end(root, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let got = rx.wait_for_spans(2, WAIT);
    let root = span_named(&got, "root");
    assert_eq!(root.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(root.parent_span_id.as_deref(), Some("b7ad6b7169203331"));
    assert_eq!(span_named(&got, "child").trace_id, root.trace_id);
    for s in &got {
        assert_eq!(s.attr_str("honeyhive.session_id"), Some(sid));
    }
    assert!(
        session_starts(&rx).is_empty(),
        "the carrier's session belongs to its service"
    );

    // An invalid carrier is ignored (warned): new traces, a default session of our own.
    let rx = Receiver::start();
    let t = tracer(&rx, r#"{"link_carrier":{"traceparent":"00-zz"}}"#);
    let s = spans::start(t, "root", Some("chain"), 0, None, vec![]).unwrap();
    spans::end(s, false).unwrap();
    tracers::flush(t, WAIT).unwrap();
    let got = rx.wait_for_spans(1, WAIT);
    assert_eq!(got[0].parent_span_id, None);
    assert_eq!(session_starts(&rx).len(), 1);
    // A value that is not a string is a config error.
    let bad = honeyhive::Config::resolve(
        Some(r#"{"api_key":"k","link_carrier":{"traceparent":1}}"#),
        &|_| None,
    );
    assert!(bad.is_err());
}
