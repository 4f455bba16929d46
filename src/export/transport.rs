//! HTTP delivery with retries: 2xx is success; 429, 502, 503, 504 and connection errors are
//! retried with exponential backoff (honouring `Retry-After`) until the deadline.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use std::time::Duration;
use tokio::time::Instant;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What happened to one request after all its attempts.
#[derive(Debug, Default)]
pub struct Delivery {
    pub delivered: bool,
    pub retries: u64,
    pub last_status: Option<u16>,
    pub error: Option<String>,
    /// The response body of the successful attempt (REST callers read it).
    pub body: Option<Bytes>,
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
        let wait = match attempt {
            Ok(resp) => {
                let status = resp.status();
                out.last_status = Some(status.as_u16());
                if status.is_success() {
                    out.delivered = true;
                    out.error = None;
                    out.body = resp.bytes().await.ok();
                    return out;
                }
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(Duration::from_secs_f64);
                let snippet = resp
                    .bytes()
                    .await
                    .map(|b| crate::redact::snippet(&b, 200))
                    .unwrap_or_default();
                out.error = Some(format!("HTTP {status}: {snippet}"));
                if !is_retryable(status) {
                    return out;
                }
                // The server's Retry-After is honoured as given; only our own backoff is jittered.
                retry_after.unwrap_or_else(|| jitter(backoff))
            }
            Err(e) => {
                out.error = Some(describe(&e));
                let transient = e.is_connect() || e.is_request() || is_reset(&e);
                if !transient || e.is_timeout() || is_certificate_error(&e) {
                    return out;
                }
                jitter(backoff)
            }
        };
        // Give up now rather than sleep past the deadline; a retry is counted only when sent.
        if Instant::now() + wait >= deadline {
            return out;
        }
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
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
