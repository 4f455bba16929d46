//! W3C propagation round trip (`traceparent` + `baggage`): inject on one tracer, extract on another ("service").

mod common;
use common::*;
use hh_test_receiver::Receiver;
use honeyhive::propagation::{extract, inject};

#[test]
fn inject_then_extract_continues_the_trace_and_the_session() {
    let rx = Receiver::start();
    let front = tracer(&rx, r#"{"project":"front","source":"edge"}"#);
    let back = tracer(&rx, r#"{"project":"back"}"#);
    let sid = front
        .create_session(Some(r#"{"session_name":"request"}"#))
        .unwrap();
    let outgoing = front
        .start_span("call-backend", Some("tool"), None, Some(&sid), vec![])
        .unwrap();
    let (traceparent, baggage) = inject(front.config(), outgoing.reference());
    assert!(
        traceparent.starts_with("00-") && traceparent.ends_with("-01") && traceparent.len() == 55,
        "{traceparent}"
    );
    assert!(baggage.contains(&format!("session_id={sid}")), "{baggage}");
    assert!(
        baggage.contains("project=front") && baggage.contains("source=edge"),
        "{baggage}"
    );

    let remote = extract(&traceparent, Some(&baggage)).unwrap();
    let handler = back
        .start_span("handle", Some("chain"), Some(&remote), None, vec![])
        .unwrap();
    let (tp2, _) = inject(back.config(), handler.reference());
    handler.end().unwrap();
    outgoing.end().unwrap();
    front.flush(WAIT).unwrap();
    back.flush(WAIT).unwrap();
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
    let remote = extract(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        None,
    )
    .unwrap();
    assert!(remote.session.is_none());
    assert_eq!(
        remote.context.trace_id().to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
    for bad in [
        "",
        "garbage",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    ] {
        assert!(extract(bad, None).is_err(), "{bad:?}");
    }
    let long = "x".repeat(10_000);
    assert_eq!(
        extract(&long, None).unwrap_err().kind,
        honeyhive::ErrorKind::LimitExceeded
    );
}
