//! HTTP delivery against a misbehaving loopback server: odd `Retry-After` values, huge and
//! endless bodies, redirects, partial success. Asserts on what `transport::send` reports and on
//! what the receivers recorded.

use bytes::Bytes;
use hh_test_receiver::{Fault, Receiver};
use honeyhive::export::transport::{self, Delivery};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use std::time::Duration;

/// One request through the library's own client and shared runtime.
fn send(url: &str, content_type: &'static str, timeout: Duration) -> Delivery {
    let shared = honeyhive::runtime::shared().expect("runtime");
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    headers.insert("x-api-key", HeaderValue::from_static("transport-test-key"));
    let http = shared.http.clone();
    let url = url.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    shared.handle.spawn(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        let body = Bytes::from_static(br#"{"resourceSpans":[]}"#);
        let d = transport::send(&http, Method::POST, &url, &headers, body, deadline).await;
        let _ = tx.send(d);
    });
    rx.recv_timeout(timeout + Duration::from_secs(10))
        .expect("send returned")
}

fn traces_url(rx: &Receiver) -> String {
    format!("{}/v1/traces", rx.url())
}

#[test]
fn retry_after_past_the_deadline_gives_up_at_once() {
    for value in [
        "1e300",
        "99999999999999999999999",
        "inf",
        "3600",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let rx = Receiver::start();
        rx.set_fault(Fault::status(503).with_retry_after(value).with_times(1));
        let d = send(&traces_url(&rx), "application/json", Duration::from_secs(5));
        assert!(!d.delivered, "{value}");
        assert_eq!(d.retries, 0, "{value}");
        assert_eq!(d.last_status, Some(503));
        let error = d.error.unwrap_or_default();
        assert!(error.contains("past the deadline"), "{value}: {error}");
        assert_eq!(rx.requests().len(), 1, "{value}");
    }
}

#[test]
fn unusable_or_short_retry_after_retries() {
    for value in [
        "0",
        "0.05",
        "-1",
        "NaN",
        "",
        "garbage",
        "Thu, 01 Jan 1970 00:00:00 GMT",
    ] {
        let rx = Receiver::start();
        rx.set_fault(Fault::status(503).with_retry_after(value).with_times(1));
        let d = send(&traces_url(&rx), "application/json", Duration::from_secs(5));
        assert!(d.delivered, "{value:?}: {:?}", d.error);
        assert_eq!(d.retries, 1, "{value:?}");
        let statuses: Vec<u16> = rx.requests().iter().map(|q| q.response_status).collect();
        assert_eq!(statuses, [503, 200], "{value:?}");
    }
}

#[test]
fn success_bodies_are_read_only_up_to_the_bound() {
    let rx = Receiver::start();
    // Content-Length, then chunked, then chunked without end.
    for fault in [
        Fault::status(200).with_body_bytes(64 << 20),
        Fault::status(200).with_body_bytes(64 << 20).chunked(),
        Fault::status(200).chunked(),
    ] {
        rx.set_fault(fault.clone().with_times(1));
        let d = send(
            &traces_url(&rx),
            "application/json",
            Duration::from_secs(10),
        );
        assert!(d.delivered, "{fault:?}: {:?}", d.error);
        let body = d.body.unwrap_or_default();
        assert!(
            !body.is_empty() && body.len() <= 16 * 1024,
            "{}",
            body.len()
        );
    }
}

#[test]
fn error_bodies_are_read_only_up_to_the_bound() {
    let rx = Receiver::start();
    rx.set_fault(
        Fault::status(400)
            .with_body("text/plain", "line\nforged \u{1b}[2J")
            .with_body_bytes(64 << 20)
            .with_times(1),
    );
    let d = send(
        &traces_url(&rx),
        "application/json",
        Duration::from_secs(10),
    );
    assert!(!d.delivered);
    assert_eq!(d.last_status, Some(400));
    let error = d.error.unwrap_or_default();
    assert!(error.len() < 1024, "{} bytes of error text", error.len());
    assert!(error.starts_with("HTTP 400"), "{error}");
    assert!(error.contains("line\\nforged"), "{error}");
    assert!(
        !error.contains('\n') && !error.contains('\u{1b}'),
        "{error}"
    );
}

#[test]
fn redirects_are_not_followed() {
    let target = Receiver::start();
    target.set_fault(Fault::status(200));
    let rx = Receiver::start();
    for status in [301, 302, 303, 307, 308] {
        rx.reset();
        rx.set_fault(Fault::status(status).with_header(
            "Location",
            format!("{}/v1/traces?token=location-secret", target.url()),
        ));
        let d = send(&traces_url(&rx), "application/json", Duration::from_secs(5));
        assert!(!d.delivered, "{status}");
        assert_eq!(d.retries, 0, "{status}");
        assert_eq!(d.last_status, Some(status));
        let error = d.error.unwrap_or_default();
        assert!(error.contains(&status.to_string()), "{error}");
        assert!(error.contains("redirect"), "{error}");
        assert!(!error.contains("location-secret"), "{error}");
        assert_eq!(rx.requests().len(), 1, "{status}");
    }
    assert!(
        target.requests().is_empty(),
        "the redirect target received {:?}",
        target.requests()
    );
}

#[test]
fn partial_success_is_reported() {
    let rx = Receiver::start();
    rx.set_fault(
        Fault::status(200)
            .with_body(
                "application/json",
                r#"{"partialSuccess":{"rejectedSpans":"5","errorMessage":"quota\nforged"}}"#,
            )
            .with_times(1),
    );
    let d = send(&traces_url(&rx), "application/json", Duration::from_secs(5));
    assert!(d.delivered);
    assert_eq!(d.rejected, 5);
    let w = d.partial_warning.unwrap_or_default();
    assert!(
        w.contains("rejecting 5") && w.contains("quota\\nforged"),
        "{w}"
    );

    // Protobuf: ExportTraceServiceResponse{partial_success{rejected_spans: 2, error_message: "x"}}.
    let pb = "\n\u{5}\u{8}\u{2}\u{12}\u{1}x";
    rx.set_fault(
        Fault::status(200)
            .with_body("application/x-protobuf", pb)
            .with_times(1),
    );
    let d = send(
        &traces_url(&rx),
        "application/x-protobuf",
        Duration::from_secs(5),
    );
    assert!(d.delivered);
    assert_eq!(d.rejected, 2);

    // A plain success is not partial.
    let d = send(&traces_url(&rx), "application/json", Duration::from_secs(5));
    assert!(d.delivered);
    assert_eq!(d.rejected, 0);
    assert!(d.partial_warning.is_none());
}
