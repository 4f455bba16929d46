//! A tracer: one configuration, its own OTel provider and export pipeline, its default session.
//! Tracers share nothing but the process-wide runtime.

use crate::config::{Config, ExporterKind};
use crate::error::{Error, ErrorKind, Result};
use crate::export::json::JsonStyle;
use crate::export::rest::Rest;
use crate::export::{Encoding, FlushError, Pipeline, Sink};
use crate::log::Logger;
use crate::stats::{Stats, StatsSnapshot};
use opentelemetry::{InstrumentationScope, Key, KeyValue, StringValue, Value};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
const CLIENT_PACKAGE: &str = "libhoneyhive";

static NEXT_TRACER_ID: AtomicU64 = AtomicU64::new(1);

/// Bumped by every close: a span that saw the same value at its start knows its tracer is
/// still open without looking it up.
static CLOSES: AtomicU64 = AtomicU64::new(0);

/// The number of tracer closes so far in this process.
#[inline]
pub(crate) fn closes() -> u64 {
    CLOSES.load(Ordering::Acquire)
}

/// The shared state of one tracer.
#[derive(Debug)]
pub struct TracerInner {
    pub id: u64,
    pub config: Config,
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) log: Arc<Logger>,
    pub(crate) default_session: Option<Arc<str>>,
    /// Session bookkeeping read at span start: whether the default session still has to be
    /// started, named sessions, auto-create mode (see `session::SessionState`).
    pub(crate) sessions: crate::session_state::SessionState,
    /// `link_carrier`: the remote parent of the tracer's root spans.
    pub(crate) link_parent: Option<crate::span_ref::SpanRef>,
    /// Attributes stamped on every span besides the session ones (project, source, evaluation).
    /// The pipeline writes them when it encodes a span (see `span`).
    pub(crate) stamped: Vec<KeyValue>,
    closed: AtomicBool,
    /// The outcome of the close (`CloseOutcome`), for other calls to `close`. An atomic of this
    /// crate rather than a `OnceLock`: ThreadSanitizer cannot see the synchronization inside the
    /// (uninstrumented) std, and would report the hand-over as a race.
    close_outcome: AtomicU8,
}

/// `close_outcome`'s values: 0 while the first close runs, then its result.
struct CloseOutcome;

impl CloseOutcome {
    const PENDING: u8 = 0;

    fn encode(r: std::result::Result<(), FlushError>) -> u8 {
        match r {
            Ok(()) => 1,
            Err(FlushError::Timeout) => 2,
            Err(FlushError::Lost) => 3,
            Err(FlushError::Runtime) => 4,
        }
    }

    fn decode(v: u8) -> Option<std::result::Result<(), FlushError>> {
        match v {
            1 => Some(Ok(())),
            2 => Some(Err(FlushError::Timeout)),
            3 => Some(Err(FlushError::Lost)),
            4 => Some(Err(FlushError::Runtime)),
            _ => None,
        }
    }
}

/// A handle to a tracer; cheap to clone.
#[derive(Debug, Clone)]
pub struct Tracer {
    pub(crate) inner: Arc<TracerInner>,
}

impl Tracer {
    /// Creates a tracer. Its default session is started (`POST /session/start`) when first
    /// used, not here (see `TracerInner::use_session`). Never waits for the network.
    pub fn new(config: Config) -> Result<Tracer> {
        let id = NEXT_TRACER_ID.fetch_add(1, Ordering::Relaxed);
        let log = Logger::new(config.verbose, id, config.redactor());
        let stats = Arc::new(Stats::default());
        let headers = base_headers(&config)?;
        for notice in &config.notices {
            log.info(notice);
        }
        warn_plain_http(&config, &log);
        log_proxy_routes(&config, &log);

        let rest = config.rest_enabled().then(|| {
            let mut h = headers.clone();
            h.insert(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(
                reqwest::header::ACCEPT,
                HeaderValue::from_static("application/json"),
            );
            Arc::new(
                Rest::new(
                    config.server_url.clone(),
                    h,
                    config.api_timeout,
                    stats.clone(),
                    log.clone(),
                )
                .with_proxy(config.proxy.clone()),
            )
        });
        let sink = make_sink(&config, headers)?;
        let stamped = stamped_attributes(&config);
        // The instrumentation scope of every span, named as the reference names it
        // (`honeyhive.<tracer id>`, no version).
        let scope = InstrumentationScope::builder(format!("honeyhive.{id}")).build();
        let pipeline = Pipeline::new(
            config.batch.clone(),
            config.disable_batch,
            sink,
            Encoding {
                resource: crate::resource::build(&config),
                scope,
                stamped: stamped.clone(),
            },
            stats.clone(),
            log.clone(),
            rest,
        );

        // `link_carrier`: root spans continue the carrier's trace, and its session (already
        // started by the service that sent it) is the default one.
        let link_parent = config
            .link_carrier
            .as_ref()
            .and_then(|c| crate::propagation::link_parent(c, &log));
        let carried_session = link_parent.as_ref().and_then(|p| p.session.clone());
        let auto_create = session_auto_create(&config);
        let default_session = if let Some(s) = carried_session.clone() {
            Some(s)
        } else if auto_create {
            None
        } else {
            // Local and generic OTLP exporters still group spans into a session.
            Some(Arc::<str>::from(
                config.session_id.clone().unwrap_or_else(new_session_id),
            ))
        };
        // Started lazily, by its first use: unless it came with the carrier, the caller said
        // it exists (skip_backend_session_creation with session_id), or nothing is sent.
        let needs_start = default_session.is_some()
            && carried_session.is_none()
            && !config.skip_backend_session_creation
            && config.rest_enabled();
        let inner = Arc::new(TracerInner {
            id,
            config,
            pipeline,
            stats,
            log,
            default_session,
            sessions: crate::session_state::SessionState::new(needs_start, auto_create),
            link_parent,
            stamped,
            closed: AtomicBool::new(false),
            close_outcome: AtomicU8::new(CloseOutcome::PENDING),
        });
        // Its session bookkeeping takes part in the fork protocol (see `session`).
        crate::fork::register(&inner);
        let tracer = Tracer { inner };
        tracer.inner.log.debug(|| {
            format!(
                "tracer ready: exporter {:?}, session {:?}, source {:?}",
                tracer.inner.config.exporter,
                tracer.inner.default_session,
                tracer.inner.config.source
            )
        });
        Ok(tracer)
    }

    pub fn id(&self) -> u64 {
        self.inner.id
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The tracer's default session id (absent only in session auto-create mode).
    pub fn session_id(&self) -> Option<&str> {
        self.inner.default_session.as_deref()
    }

    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot(self.inner.pipeline.queue_len())
    }

    /// Waits up to `timeout` until everything that ended before the call is delivered.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        if self.inner.is_closed() {
            return Err(Error::new(ErrorKind::TracerClosed, "tracer is closed"));
        }
        flush_result(self.inner.pipeline.flush(timeout))
    }

    /// Flushes, stops export and marks the tracer closed. Idempotent.
    pub fn close(&self, timeout: Duration) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return self.outcome_of_first_close(timeout);
        }
        CLOSES.fetch_add(1, Ordering::AcqRel);
        // The OTel provider is not shut down: spans still open end through the pipeline, which
        // counts them as dropped, instead of vanishing silently.
        let result = self.inner.pipeline.shutdown(timeout);
        self.inner
            .close_outcome
            .store(CloseOutcome::encode(result), Ordering::Release);
        flush_result(result)
    }

    /// A close after the first (or during it) reports the first's outcome, waiting for it up
    /// to `timeout` (RELIABILITY.md O1: "delivered" must not be said of what the first close
    /// could not deliver). Polls: closes are rare, and it holds no lock a fork could strand.
    fn outcome_of_first_close(&self, timeout: Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let outcome = self.inner.close_outcome.load(Ordering::Acquire);
            if let Some(result) = CloseOutcome::decode(outcome) {
                return flush_result(result);
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    "another close of this tracer is still delivering",
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl TracerInner {
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// `POST /session/start` for the default session, with the tracer's name, inputs and
    /// metadata (see `use_session`).
    pub(crate) fn start_default_session(&self, session_id: &str) {
        let c = &self.config;
        let mut session = serde_json::Map::new();
        if let Some(p) = &c.project {
            session.insert("project".into(), p.clone().into());
        }
        session.insert("session_name".into(), c.session_name.clone().into());
        session.insert("source".into(), c.source.clone().into());
        session.insert("session_id".into(), session_id.into());
        if let Some(inputs) = &c.inputs {
            session.insert("inputs".into(), inputs.clone());
        }
        let mut metadata = match &c.metadata {
            Some(serde_json::Value::Object(m)) => m.clone(),
            _ => serde_json::Map::new(),
        };
        if c.is_evaluation {
            for (k, v) in [
                ("run_id", &c.run_id),
                ("dataset_id", &c.dataset_id),
                ("datapoint_id", &c.datapoint_id),
            ] {
                if let Some(v) = v {
                    metadata.insert(k.into(), v.clone().into());
                }
            }
        }
        if !metadata.is_empty() {
            session.insert("metadata".into(), metadata.into());
        }
        self.pipeline.rest_call(
            reqwest::Method::POST,
            "/session/start",
            serde_json::json!({ "session": session }),
            session_id,
        );
    }
}

fn flush_result(r: std::result::Result<(), FlushError>) -> Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(FlushError::Timeout) => Err(Error::new(
            ErrorKind::Timeout,
            "flush did not finish within the timeout",
        )),
        Err(FlushError::Lost) => Err(Error::new(
            ErrorKind::ExportFailed,
            "some spans or session calls were not delivered (see stats)",
        )),
        Err(FlushError::Runtime) => Err(Error::new(
            ErrorKind::Internal,
            "background runtime unavailable",
        )),
    }
}

/// A new client-side session id (UUID v4), so that nothing waits for the server (the
/// reference SDK blocks at init on `POST /session/start` to learn the id).
pub fn new_session_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// Headers on every request, REST and OTLP alike: `Authorization: Bearer <key>` (HoneyHive
/// exporter) and `hh-client-version` / `-language` / `-package`, plus the custom headers
/// of generic OTLP mode. Built once, so invalid values fail at init.
fn base_headers(c: &Config) -> Result<HeaderMap> {
    let mut h = HeaderMap::new();
    let value = |field: &str, v: &str| {
        HeaderValue::from_str(v)
            .map_err(|_| Error::config(field, "is not a valid HTTP header value"))
    };
    if c.exporter == ExporterKind::HoneyHive {
        if let Some(key) = c.bearer_key() {
            let mut v = value("api_key", &format!("Bearer {key}"))?;
            v.set_sensitive(true);
            h.insert(reqwest::header::AUTHORIZATION, v);
        }
    }
    h.insert("hh-client-version", HeaderValue::from_static(VERSION));
    h.insert(
        "hh-client-language",
        value("client_language", &c.client_language)?,
    );
    h.insert(
        "hh-client-package",
        HeaderValue::from_static(CLIENT_PACKAGE),
    );
    h.insert(
        reqwest::header::USER_AGENT,
        value(
            "client_language",
            &format!("{CLIENT_PACKAGE}/{VERSION} ({})", c.client_language),
        )?,
    );
    for (k, v) in &c.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| Error::config("headers", format!("invalid header name {k:?}")))?;
        h.insert(name, value("headers", v)?);
    }
    Ok(h)
}

fn make_sink(c: &Config, mut headers: HeaderMap) -> Result<Sink> {
    if c.test_mode {
        return Ok(Sink::Discard);
    }
    Ok(match c.exporter {
        ExporterKind::HoneyHive | ExporterKind::Otlp => {
            let content_type = match c.protocol {
                crate::config::Protocol::Json => "application/json",
                crate::config::Protocol::Protobuf => "application/x-protobuf",
            };
            headers.insert(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static(content_type),
            );
            if c.exporter == ExporterKind::HoneyHive {
                // An export header only: the reference sends `X-Source` on OTLP, never on session REST calls.
                let source = HeaderValue::from_str(&c.source)
                    .map_err(|_| Error::config("source", "is not a valid HTTP header value"))?;
                headers.insert("x-source", source);
            }
            Sink::Http {
                url: c.traces_url().unwrap_or_default(),
                proxy: Arc::new(c.proxy.clone()),
                headers,
                protocol: c.protocol,
                style: if c.exporter == ExporterKind::HoneyHive {
                    JsonStyle::HoneyHive
                } else {
                    JsonStyle::Standard
                },
            }
        }
        ExporterKind::File => Sink::File(c.file_path.clone().unwrap_or_default()),
        ExporterKind::Console => Sink::Console,
    })
}

/// Project, source, evaluation and experiment attributes stamped on every span (each
/// `honeyhive.*` key with its `traceloop.association.properties.*` mirror).
fn stamped_attributes(c: &Config) -> Vec<KeyValue> {
    let mut out = Vec::new();
    let shared = |s: &str| Value::String(StringValue::from(Arc::<str>::from(s)));
    if let Some(p) = c.project.as_deref().filter(|p| !p.is_empty()) {
        let v = shared(p);
        out.push(KeyValue::new(
            Key::from_static_str("honeyhive.project"),
            v.clone(),
        ));
        out.push(KeyValue::new(
            Key::from_static_str("traceloop.association.properties.project"),
            v,
        ));
    }
    let v = shared(&c.source);
    out.push(KeyValue::new(
        Key::from_static_str("honeyhive.source"),
        v.clone(),
    ));
    out.push(KeyValue::new(
        Key::from_static_str("traceloop.association.properties.source"),
        v,
    ));
    if c.is_evaluation {
        for (k, v) in [
            ("honeyhive_metadata.run_id", &c.run_id),
            ("honeyhive_metadata.dataset_id", &c.dataset_id),
            ("honeyhive_metadata.datapoint_id", &c.datapoint_id),
        ] {
            if let Some(v) = v {
                out.push(KeyValue::new(Key::from_static_str(k), shared(v)));
            }
        }
    }
    for (k, v) in &c.experiment_metadata {
        out.push(KeyValue::new(
            format!("honeyhive.experiment_metadata.{k}"),
            v.clone(),
        ));
    }
    // Session auto-create mode: ingestion creates each session from its spans. Only spans
    // with a session are exported, so every span that carries this has one.
    if session_auto_create(c) {
        out.push(KeyValue::new(
            Key::from_static_str("honeyhive.session_auto_create"),
            true,
        ));
    }
    out
}

/// Session auto-create mode (`skip_backend_session_creation` without `session_id`): HoneyHive's
/// ingestion makes the sessions, so it is the HoneyHive exporter's only. Other exporters keep a
/// local default session that groups the spans, as they do without the key.
fn session_auto_create(c: &Config) -> bool {
    c.skip_backend_session_creation
        && c.session_id.is_none()
        && c.exporter == ExporterKind::HoneyHive
}

/// Plain http:// to a host other than loopback sends the API key in the clear; so does plain
/// http:// to loopback through a proxy elsewhere.
fn warn_plain_http(c: &Config, log: &Logger) {
    let url = match c.exporter {
        ExporterKind::HoneyHive if !c.test_mode => c.server_url.as_str(),
        ExporterKind::Otlp => c.otlp_endpoint.as_deref().unwrap_or(""),
        _ => return,
    };
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return;
    };
    if parsed.scheme() != "http" {
        return;
    }
    // The parsed host, not the text: userinfo (`127.0.0.1@host`) and look-alike names
    // (`127.example`) are not loopback.
    let loopback = |u: &reqwest::Url| match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let proxy = c.proxy.proxy_for(&parsed);
    if !loopback(&parsed) {
        log.warn(format!(
            "exporting over plain http:// to {}: data and credentials are not encrypted",
            parsed.host_str().unwrap_or("")
        ));
    } else if let Some(p) = proxy.filter(|p| !loopback(p.url())) {
        log.warn(format!(
            "exporting over plain http:// through proxy {}: data and credentials are not encrypted",
            p.display()
        ));
    }
}

/// Where the requests go when a proxy is configured: printed once per process for each route
/// (it decides who sees the data), and by every tracer when verbose.
fn log_proxy_routes(c: &Config, log: &Logger) {
    static PRINTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut urls = Vec::new();
    urls.extend(c.traces_url());
    if c.rest_enabled() {
        urls.push(c.server_url.clone());
    }
    let mut seen = Vec::new();
    for route in urls.iter().filter_map(|u| c.proxy.route(u)) {
        if seen.contains(&route) {
            continue;
        }
        // Never waits: a contended or poisoned set means the line is printed again.
        let first = match PRINTED.try_lock() {
            Ok(printed) if printed.contains(&route) => false,
            Ok(mut printed) => {
                if printed.len() < 64 {
                    printed.push(route.clone());
                }
                true
            }
            Err(_) => true,
        };
        if first {
            log.info(&route);
        } else {
            log.debug(|| route.clone());
        }
        seen.push(route);
    }
}
