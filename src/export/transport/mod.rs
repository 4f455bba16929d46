//! HTTP delivery with retries: 2xx is success; 429, 502, 503, 504 and connection errors are
//! retried with exponential backoff (never sooner than a `Retry-After` asks) until the
//! deadline; any other answer, including a redirect (3xx, never followed), is a failure.
//!
//! Nothing in an answer is trusted: at most `body::MAX_RESPONSE_BODY` bytes of a body are read,
//! `Retry-After` may hold anything, and text from the server is escaped before it is logged.

pub mod body;
pub mod client;
pub mod partial;
pub mod retry_after;

use bytes::Bytes;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Bytes of an error answer's body quoted in the failure message.
const ERROR_SNIPPET: usize = 200;
/// How long the body of an error answer is waited for (it is only quoted).
const ERROR_BODY_WAIT: Duration = Duration::from_secs(1);
/// Bytes of a partial-success message quoted in the warning.
const PARTIAL_MESSAGE: usize = 256;

/// What happened to one request after all its attempts.
#[derive(Debug, Default)]
pub struct Delivery {
    pub delivered: bool,
    pub retries: u64,
    pub last_status: Option<u16>,
    pub error: Option<String>,
    /// At most `body::MAX_RESPONSE_BODY` bytes of the successful attempt's body (REST callers
    /// read it).
    pub body: Option<Bytes>,
    /// Items (spans) the server said it rejected in a 2xx answer (OTLP partial success); may
    /// exceed what was sent (the caller clamps).
    pub rejected: u64,
    /// The partial success, escaped for a log line, when the server reported one.
    pub partial_warning: Option<String>,
}

pub fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Sends until delivered, a non-retryable answer, or `deadline`.
pub async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    headers: &HeaderMap,
    body: Bytes,
    deadline: Instant,
) -> Delivery {
    let mut out = Delivery::default();
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 0u64;
    loop {
        let now = Instant::now();
        if now >= deadline {
            out.error
                .get_or_insert_with(|| "export timeout reached".into());
            return out;
        }
        if attempts > 0 {
            out.retries += 1; // counted when actually sent
        }
        attempts += 1;
        let attempt = http
            .request(method.clone(), url)
            .headers(headers.clone())
            .body(body.clone())
            .timeout(deadline - now)
            .send()
            .await;
        let own_backoff = jitter(backoff);
        let wait = match attempt {
            Ok(mut resp) => {
                let status = resp.status();
                out.last_status = Some(status.as_u16());
                if status.is_success() {
                    let content_type = content_type(resp.headers())
                        .or_else(|| content_type(headers))
                        .unwrap_or_default();
                    let prefix = body::read_prefix(&mut resp, body::MAX_RESPONSE_BODY).await;
                    if let Some(p) = partial::decode(&content_type, &prefix) {
                        out.rejected = p.rejected_spans;
                        out.partial_warning = Some(format!(
                            "the server accepted the export partially, rejecting {}: {}",
                            p.rejected_spans,
                            body::printable(&p.error_message, PARTIAL_MESSAGE)
                        ));
                    }
                    out.delivered = true;
                    out.error = None;
                    out.body = Some(prefix);
                    return out;
                }
                if status.is_redirection() {
                    // Where it points (and whatever its query holds) is not repeated.
                    out.error = Some(format!(
                        "HTTP {status}: redirects are not followed (check the server URL or \
                         endpoint); not retried"
                    ));
                    return out;
                }
                let asked = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| retry_after::parse(v.as_bytes(), SystemTime::now()));
                // One byte more than quoted, to know whether the quote is cut; a body that
                // stalls does not hold up the retry.
                let snippet = tokio::time::timeout(
                    ERROR_BODY_WAIT,
                    body::read_prefix(&mut resp, ERROR_SNIPPET + 1),
                )
                .await
                .unwrap_or_default();
                out.error = Some(format!(
                    "HTTP {status}: {}",
                    body::printable(&snippet, ERROR_SNIPPET)
                ));
                if !is_retryable(status) {
                    return out;
                }
                match asked {
                    // Never sooner than the server asked; our own backoff still grows.
                    Some(asked) if asked >= deadline.saturating_duration_since(Instant::now()) => {
                        if let Some(e) = out.error.as_mut() {
                            e.push_str(&format!(
                                " (the server asked for a retry after {} s, past the \
                                 deadline: not retried)",
                                asked.as_secs()
                            ));
                        }
                        return out;
                    }
                    Some(asked) => asked.max(own_backoff),
                    None => own_backoff,
                }
            }
            Err(e) => {
                out.error = Some(describe(&e));
                let transient = e.is_connect() || e.is_request() || is_reset(&e);
                if !transient || e.is_timeout() || is_certificate_error(&e) {
                    return out;
                }
                own_backoff
            }
        };
        // Give up now rather than sleep past the deadline; a retry is counted only when sent.
        if wait >= deadline.saturating_duration_since(Instant::now()) {
            return out;
        }
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A certificate the verifier rejected will be rejected again: not worth a retry.
fn is_certificate_error(e: &reqwest::Error) -> bool {
    // Walk both the `source()` chain and the payloads of wrapped `io::Error`s: the TLS layers
    // wrap rustls' error in io errors whose `source()` skips the wrapped error itself.
    let mut pending: Vec<&(dyn std::error::Error + 'static)> = vec![e];
    while let Some(err) = pending.pop() {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            pending.push(inner);
        }
        if let Some(next) = err.source() {
            pending.push(next);
        }
    }
    false
}

fn is_reset(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            );
        }
        source = s.source();
    }
    // hyper reports a connection closed before a response as an incomplete message.
    e.to_string().contains("connection closed") || format!("{e:?}").contains("IncompleteMessage")
}

/// Error text with its causes, never including request headers.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Spreads retries of many processes apart (±20%), without a random number generator.
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    let factor = 0.8 + (nanos % 400) as f64 / 1000.0;
    d.mul_f64(factor)
}
