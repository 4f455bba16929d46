//! Exports through an outbound proxy: a loopback proxy written for the test records what it
//! sees. An absolute-form request (`POST http://host/...`) it answers `200 {}` itself; a
//! `CONNECT` it accepts, records the first bytes of the tunnel (the TLS ClientHello), then
//! closes. The environment is passed to the config resolver, never set on the process.

mod common;
use hh_test_receiver::Receiver;
use honeyhive::registry::{self, spans, tracers};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Proxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve(conn, &log));
            }
        });
        Proxy { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> String {
        self.seen.lock().unwrap().join("\n")
    }
}

fn serve(mut conn: TcpStream, log: &Mutex<Vec<String>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    if head.starts_with("CONNECT ") {
        let _ = conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let n = conn.read(&mut chunk).unwrap_or(0);
        log.lock().unwrap().push(format!(
            "{head}TUNNEL {}",
            String::from_utf8_lossy(&chunk[..n])
        ));
        return;
    }
    let want: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + want {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    log.lock().unwrap().push(head);
    let _ = conn.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
}

fn export_one(json: &str, env: &[(&str, &str)]) -> honeyhive::StatsSnapshot {
    let t = registry::create_tracer(common::config(json, env)).unwrap();
    let span = spans::start(t, "proxied", Some("tool"), 0, None, vec![]).unwrap();
    spans::end(span, false).unwrap();
    let _ = tracers::flush(t, Duration::from_secs(5));
    let stats = tracers::stats(t).unwrap();
    let _ = tracers::close(t, Duration::from_secs(2));
    stats
}

const QUIET: &str = r#""skip_backend_session_creation":true,"session_id":"0a0a0a0a-0000-4000-8000-000000000001","schedule_delay_ms":600000"#;

#[test]
fn http_proxy_from_the_environment_carries_plain_http() {
    let proxy = Proxy::start();
    // A host only the proxy can reach: delivered means it went through the proxy.
    let stats = export_one(
        &format!(r#"{{"api_key":"px-key","server_url":"http://hh-proxy.invalid:4318",{QUIET}}}"#),
        &[("HTTP_PROXY", &proxy.url())],
    );
    assert_eq!(stats.spans_exported, 1, "{stats:?}");
    let seen = proxy.seen();
    assert!(
        seen.contains("POST http://hh-proxy.invalid:4318/opentelemetry/v1/traces HTTP/1.1"),
        "{seen}"
    );
}

#[test]
fn no_proxy_goes_direct() {
    let proxy = Proxy::start();
    let rx = Receiver::start();
    // The proxy key applies to loopback too, unless NO_PROXY names it.
    let stats = export_one(
        &format!(
            r#"{{"api_key":"px-key","server_url":"{}","proxy":"{}",{QUIET}}}"#,
            rx.url(),
            proxy.url()
        ),
        &[("NO_PROXY", "localhost, 127.0.0.1")],
    );
    assert_eq!(stats.spans_exported, 1, "{stats:?}");
    assert_eq!(rx.spans().len(), 1);
    assert_eq!(proxy.seen(), "");
}

#[test]
fn loopback_never_goes_to_a_proxy_from_the_environment() {
    let proxy = Proxy::start();
    let rx = Receiver::start();
    let stats = export_one(
        &format!(
            r#"{{"api_key":"px-key","server_url":"{}",{QUIET}}}"#,
            rx.url()
        ),
        &[
            ("HTTP_PROXY", &proxy.url()),
            ("HH_HTTP_PROXY", &proxy.url()),
        ],
    );
    assert_eq!(stats.spans_exported, 1, "{stats:?}");
    assert_eq!(rx.spans().len(), 1);
    assert_eq!(proxy.seen(), "");
    // The same tracer with the proxy key: the proxy sees it.
    let stats = export_one(
        &format!(
            r#"{{"api_key":"px-key","server_url":"{}","proxy":"{}",{QUIET}}}"#,
            rx.url(),
            proxy.url()
        ),
        &[],
    );
    assert_eq!(stats.spans_exported, 1, "{stats:?}");
    assert!(proxy.seen().contains("POST http://127.0.0.1:"));
}

#[test]
fn proxy_key_wins_over_the_environment() {
    let proxy = Proxy::start();
    let stats = export_one(
        &format!(
            r#"{{"exporter":"otlp","otlp_endpoint":"http://hh-proxy-key.invalid/v1/traces","proxy":"{}","schedule_delay_ms":600000}}"#,
            proxy.url()
        ),
        &[
            ("HTTP_PROXY", "http://127.0.0.1:1"),
            ("HH_HTTP_PROXY", "http://127.0.0.1:1"),
        ],
    );
    assert_eq!(stats.spans_exported, 1, "{stats:?}");
    assert!(proxy
        .seen()
        .contains("POST http://hh-proxy-key.invalid/v1/traces HTTP/1.1"));
}

#[test]
fn https_goes_through_a_connect_tunnel_and_the_key_never_in_clear() {
    let proxy = Proxy::start();
    let stats = export_one(
        &format!(
            r#"{{"api_key":"px-tls-key-0123456789","server_url":"https://hh-proxy-tls.invalid","export_timeout_ms":1500,{QUIET}}}"#
        ),
        &[
            ("HH_HTTPS_PROXY", &proxy.url()),
            ("HTTPS_PROXY", "http://127.0.0.1:1"),
        ],
    );
    // The proxy is no TLS server: the handshake fails, the span is counted as lost.
    assert_eq!(stats.spans_exported, 0);
    let seen = proxy.seen();
    assert!(
        seen.contains("CONNECT hh-proxy-tls.invalid:443 HTTP/1.1"),
        "{seen}"
    );
    assert!(seen.contains("TUNNEL "), "{seen}");
    assert!(!seen.contains("px-tls-key"), "{seen}");
    assert!(!seen.contains("POST "), "{seen}");
}
