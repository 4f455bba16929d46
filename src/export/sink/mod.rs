//! Where a tracer's spans go: one `SpanSink` per destination, behind one trait. The worker
//! hands each request's spans to its sink and counts the outcome; a sink only delivers.
//!
//! Sinks that block (files, the console) write on a thread of their own (`blocking.rs`): a
//! stuck destination then delays only its own tracer, never the shared runtime's thread that
//! every tracer's network export runs on.

mod blocking;
mod console;
mod discard;
mod file;
mod http;

use super::encode::json::JsonStyle;
use super::encode::Encoding;
use crate::config::Protocol;
use crate::proxy::ProxySettings;
use crate::runtime::Shared;
use opentelemetry_sdk::trace::SpanData;
use reqwest::header::HeaderMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Where a tracer's spans go (its configuration; `open` makes the sink).
#[derive(Debug)]
pub enum Sink {
    /// HoneyHive or a generic OTLP/HTTP endpoint.
    Http {
        url: String,
        headers: HeaderMap,
        protocol: Protocol,
        style: JsonStyle,
        /// Which proxy (if any) requests go through.
        proxy: Arc<ProxySettings>,
    },
    /// One OTLP/JSON export request per line, appended.
    File(PathBuf),
    /// One readable line per span on stderr.
    Console,
    /// Test mode: spans are recorded but go nowhere.
    Discard,
}

/// What became of one request.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// `Ok(rejected)` when the request was delivered, `rejected` of its spans refused by the
    /// server (OTLP partial success); else why it was not delivered.
    pub(crate) result: Result<u64, String>,
    /// Attempts beyond the first.
    pub(crate) retries: u64,
    /// What the server said about a partial success, to report.
    pub(crate) warning: Option<String>,
}

impl Outcome {
    /// A request delivered whole (`Ok`) or not at all.
    pub(crate) fn of(result: Result<(), String>) -> Outcome {
        Outcome {
            result: result.map(|()| 0),
            retries: 0,
            warning: None,
        }
    }
}

/// A request under way.
pub(crate) type Export<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// A destination of spans.
pub(crate) trait SpanSink: Send {
    /// Delivers one request's spans (with what every request carries, `enc`), within the
    /// tracer's export timeout.
    fn export<'a>(&'a mut self, batch: &'a [SpanData], enc: &'a Encoding) -> Export<'a>;
}

/// The sink for `sink`, for one worker (one process generation: it may hold the runtime's
/// HTTP client and threads of its own, none of which survive a fork).
pub(crate) fn open(sink: &Sink, shared: &Shared, timeout: Duration) -> Box<dyn SpanSink> {
    match sink {
        Sink::Http {
            url,
            headers,
            protocol,
            style,
            proxy,
        } => Box::new(http::HttpSink {
            // A client that cannot be built (a proxy setting the TLS stack refuses) fails each
            // request with the reason, counted like any failed export.
            http: shared.client(proxy),
            url: url.clone(),
            headers: headers.clone(),
            protocol: *protocol,
            style: *style,
            timeout,
        }),
        Sink::File(path) => Box::new(file::FileSink::new(path.clone(), timeout)),
        Sink::Console => Box::new(console::ConsoleSink::new(timeout)),
        Sink::Discard => Box::new(discard::DiscardSink),
    }
}
