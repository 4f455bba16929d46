//! Tracer configuration: explicit JSON, then `HH_*` / `OTEL_*` environment variables, then
//! defaults (an explicit value beats the environment, which beats the default). Every
//! invalid value fails with a message naming the field.

use crate::error::{Error, Result};
use crate::limits;
use crate::proxy::ProxySettings;
use crate::redact::{looks_like_credential, Redactor};
use serde_json::{Map, Value};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

mod resource_attrs;
pub use resource_attrs::parse_resource_env;
use resource_attrs::resolve_resource;
#[cfg(test)]
pub(crate) use resource_attrs::MAX_RESOURCE_ATTRIBUTES;

pub const DEFAULT_SERVER_URL: &str = "https://api.dp1.us.honeyhive.ai";
pub const DEFAULT_SOURCE: &str = "dev";

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExporterKind {
    /// HoneyHive: session REST calls plus OTLP to `{base}/opentelemetry/v1/traces`.
    HoneyHive,
    /// Any OTLP/HTTP endpoint (collector, Jaeger); no HoneyHive REST calls.
    Otlp,
    /// OTLP/JSON, one export request per line, appended to a file.
    File,
    /// A readable line per span on stderr.
    Console,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    Protobuf,
}

/// Batch processor settings (OTel defaults, overridable by `OTEL_BSP_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchConfig {
    pub max_queue_size: usize,
    pub max_queue_bytes: usize,
    pub schedule_delay: Duration,
    pub max_export_batch_size: usize,
    pub export_timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_queue_size: 2048,
            max_queue_bytes: 64 * 1024 * 1024,
            schedule_delay: Duration::from_millis(5000),
            max_export_batch_size: 512,
            export_timeout: Duration::from_millis(30_000),
        }
    }
}

/// `span_name_filters`: only `prefix` matching exists (with `include` a name must start
/// with one of the values, with `exclude` with none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanNameFilters {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl SpanNameFilters {
    /// Whether a span with this name is recorded and exported.
    pub fn allows(&self, name: &str) -> bool {
        if !self.include.is_empty() && !self.include.iter().any(|p| name.starts_with(p.as_str())) {
            return false;
        }
        !self.exclude.iter().any(|p| name.starts_with(p.as_str()))
    }
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A fully resolved tracer configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub api_key: Option<Secret>,
    pub ingestion_api_key: Option<Secret>,
    pub project: Option<String>,
    pub source: String,
    pub session_name: String,
    pub session_id: Option<String>,
    pub server_url: String,
    pub inputs: Option<Value>,
    pub metadata: Option<Value>,
    pub disable_batch: bool,
    pub test_mode: bool,
    pub verbose: bool,
    pub protocol: Protocol,
    pub exporter: ExporterKind,
    pub otlp_endpoint: Option<String>,
    pub headers: Vec<(String, String)>,
    pub file_path: Option<PathBuf>,
    pub skip_backend_session_creation: bool,
    pub is_evaluation: bool,
    pub run_id: Option<String>,
    pub dataset_id: Option<String>,
    pub datapoint_id: Option<String>,
    pub span_name_filters: SpanNameFilters,
    pub client_language: String,
    pub api_timeout: Duration,
    pub batch: BatchConfig,
    /// `service.name` of the resource: `service_name`, else `resource_attributes`' one, else
    /// `OTEL_SERVICE_NAME` / `HH_SERVICE_NAME`, else `OTEL_RESOURCE_ATTRIBUTES`' one, else
    /// `unknown_service:<program>`.
    pub service_name: String,
    /// Resource attributes from `OTEL_RESOURCE_ATTRIBUTES` and `resource_attributes` (the
    /// config's win on equal keys), in order, each key once; string, number or bool values.
    /// Neither `service.name` (see `service_name`) nor `process.pid` (the library's).
    pub resource_attributes: Vec<(String, Value)>,
    /// Lines the tracer prints once it exists: keys of the Python SDK accepted without effect,
    /// `OTEL_RESOURCE_ATTRIBUTES` entries skipped.
    pub notices: Vec<String>,
    pub experiment_metadata: Vec<(String, String)>,
    /// Outbound proxies (`proxy`, `no_proxy`, `HTTPS_PROXY`, ...).
    pub proxy: ProxySettings,
    /// `link_carrier`: the W3C headers of a remote trace the tracer's root spans continue.
    pub link_carrier: Option<LinkCarrier>,
}

/// `link_carrier` (the reference SDK's init parameter): `traceparent` and `baggage`, keys in
/// any case. Checked when the tracer is made (`Tracer::new`), which ignores an invalid one
/// with a warning: the carrier usually comes from another service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCarrier {
    pub traceparent: Option<String>,
    pub baggage: Option<String>,
}

impl LinkCarrier {
    /// An object of string values; other keys are ignored (a carrier holds other headers).
    fn parse(v: Option<Value>) -> Result<Option<LinkCarrier>> {
        let Some(Value::Object(map)) = v else {
            return Ok(None);
        };
        let mut carrier = LinkCarrier {
            traceparent: None,
            baggage: None,
        };
        for (k, v) in map {
            let Value::String(v) = v else {
                return Err(Error::config(
                    "link_carrier",
                    format!("value of {k:?} must be a string"),
                ));
            };
            if k.eq_ignore_ascii_case("traceparent") {
                carrier.traceparent = Some(v);
            } else if k.eq_ignore_ascii_case("baggage") {
                carrier.baggage = Some(v);
            }
        }
        Ok(Some(carrier))
    }
}

impl Config {
    /// The key sent as `Authorization: Bearer`: the ingestion key when set (it replaces
    /// `api_key` on OTLP and on session calls alike).
    pub fn bearer_key(&self) -> Option<&str> {
        self.ingestion_api_key
            .as_ref()
            .or(self.api_key.as_ref())
            .map(Secret::expose)
    }

    /// Every string that must never appear in logs or messages: the keys, the bearer, proxy
    /// credentials and header values that look like credentials (hidden whole and in pieces),
    /// every other custom header value (hidden whole).
    pub fn redactor(&self) -> Redactor {
        let mut credentials: Vec<String> = [&self.api_key, &self.ingestion_api_key]
            .into_iter()
            .flatten()
            .map(|k| k.expose().to_string())
            .collect();
        credentials.extend(self.proxy.secrets());
        // Credentials written into an endpoint URL (`https://user:token@collector/...`).
        for url in [Some(&self.server_url), self.otlp_endpoint.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|u| url::Url::parse(u).ok())
        {
            credentials.push(url.username().to_string());
            credentials.extend(url.password().map(str::to_string));
        }
        let mut values = Vec::new();
        for (name, value) in &self.headers {
            if looks_like_credential(name, value) {
                credentials.push(value.clone());
            } else {
                values.push(value.clone());
            }
        }
        Redactor::new(credentials, values)
    }

    /// The OTLP traces URL this tracer exports to.
    pub fn traces_url(&self) -> Option<String> {
        match self.exporter {
            ExporterKind::HoneyHive => Some(format!("{}/opentelemetry/v1/traces", self.server_url)),
            ExporterKind::Otlp => self.otlp_endpoint.clone(),
            ExporterKind::File | ExporterKind::Console => None,
        }
    }

    /// Whether session REST calls go to the HoneyHive API.
    pub fn rest_enabled(&self) -> bool {
        !self.test_mode && self.exporter == ExporterKind::HoneyHive
    }

    /// Resolves a config from optional JSON text and the process environment.
    pub fn from_json_and_env(json: Option<&str>) -> Result<Config> {
        Config::resolve(json, &|name| std::env::var(name).ok())
    }

    /// Resolves a config from optional JSON text and an environment lookup (testable).
    pub fn resolve(json: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
        let explicit = parse_object(json)?;
        let src = Sources {
            json: &explicit,
            env,
        };
        check_known_keys(&explicit)?;

        let api_key = src.string("api_key", &["HH_API_KEY", "HONEYHIVE_API_KEY"])?;
        let ingestion_api_key = src.string("ingestion_api_key", &["HH_INGESTION_API_KEY"])?;
        if let Some(k) = &ingestion_api_key {
            validate_ingestion_key(k)?;
        }
        for (field, key) in [
            ("api_key", &api_key),
            ("ingestion_api_key", &ingestion_api_key),
        ] {
            if let Some(k) = key {
                validate_header_value(field, k)?;
            }
        }

        let project = src.string("project", &["HH_PROJECT"])?;
        if let Some(p) = &project {
            if p.contains(['/', '\\', '?', '#', '&']) {
                return Err(Error::config("project", "must not contain / \\ ? # &"));
            }
            validate_header_value("project", p)?;
        }
        let source = src
            .string("source", &["HH_SOURCE"])?
            .unwrap_or_else(|| DEFAULT_SOURCE.to_string());
        validate_header_value("source", &source)?;

        let session_name = src
            .string("session_name", &["HH_SESSION_NAME"])?
            .unwrap_or_else(program_name);
        let session_id = match src.string("session_id", &[])? {
            Some(s) => Some(canonical_session_id(&s).ok_or_else(|| {
                Error::config(
                    "session_id",
                    "is not a UUID (expected e.g. 6f1c...-...-... )",
                )
            })?),
            None => None,
        };

        let server_url = match src.string(
            "server_url",
            &["HH_API_URL", "HONEYHIVE_SERVER_URL", "HH_SERVER_URL"],
        )? {
            Some(u) => normalize_url("server_url", &u)?,
            None => match src.string("api_url", &[])? {
                Some(u) => normalize_url("api_url", &u)?,
                None => DEFAULT_SERVER_URL.to_string(),
            },
        };

        let inputs = src.object("inputs")?;
        let metadata = src.object("metadata")?;
        let disable_batch = src
            .boolean("disable_batch", &["HH_DISABLE_BATCH"])?
            .unwrap_or(false);
        let test_mode = src
            .boolean("test_mode", &["HH_TEST_MODE"])?
            .unwrap_or(false);
        let verbose = src.boolean("verbose", &["HH_VERBOSE"])?.unwrap_or(false);
        let protocol = match src.string(
            "otlp_protocol",
            &["HH_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"],
        )? {
            None => Protocol::Json,
            Some(p) => match p.as_str() {
                "http/json" | "json" => Protocol::Json,
                "http/protobuf" | "protobuf" => Protocol::Protobuf,
                other => {
                    return Err(Error::config(
                        "otlp_protocol",
                        format!(
                            "unknown protocol {other:?} (use \"http/json\" or \"http/protobuf\")"
                        ),
                    ))
                }
            },
        };

        let exporter = match src.string("exporter", &["HH_EXPORTER"])? {
            None => ExporterKind::HoneyHive,
            Some(e) => match e.as_str() {
                "honeyhive" => ExporterKind::HoneyHive,
                "otlp" => ExporterKind::Otlp,
                "file" => ExporterKind::File,
                "console" => ExporterKind::Console,
                other => {
                    return Err(Error::config(
                        "exporter",
                        format!(
                            "unknown exporter {other:?} (use honeyhive, otlp, file or console)"
                        ),
                    ))
                }
            },
        };

        let otlp_endpoint =
            match src.string("otlp_endpoint", &["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"])? {
                Some(u) => Some(normalize_url("otlp_endpoint", &u)?),
                None => match env("OTEL_EXPORTER_OTLP_ENDPOINT").filter(|v| !v.trim().is_empty()) {
                    Some(base) => Some(format!(
                        "{}/v1/traces",
                        normalize_url("OTEL_EXPORTER_OTLP_ENDPOINT", &base)?
                    )),
                    None => None,
                },
            };
        let headers = src.headers()?;
        let file_path = src
            .string("file_path", &["HH_EXPORT_FILE"])?
            .map(PathBuf::from);

        let skip_backend_session_creation = src
            .boolean("skip_backend_session_creation", &[])?
            .unwrap_or(false);
        let run_id = src.string("run_id", &[])?;
        let dataset_id = src.string("dataset_id", &[])?;
        let datapoint_id = src.string("datapoint_id", &[])?;
        let is_evaluation = src.boolean("is_evaluation", &[])?.unwrap_or(false)
            || (run_id.is_some() && dataset_id.is_some() && datapoint_id.is_some());
        let span_name_filters = src.span_name_filters()?;
        let client_language = src
            .string("client_language", &[])?
            .unwrap_or_else(|| "c".to_string());
        validate_header_value("client_language", &client_language)?;

        let api_timeout = match src.number("api_timeout_ms", &[])? {
            Some(ms) => Duration::from_millis(ms),
            None => match env("HH_API_TIMEOUT").filter(|v| !v.trim().is_empty()) {
                Some(v) => {
                    let secs: f64 = v.trim().parse().map_err(|_| {
                        Error::config(
                            "HH_API_TIMEOUT",
                            format!("{v:?} is not a number of seconds"),
                        )
                    })?;
                    if !(secs.is_finite() && secs > 0.0 && secs < 86_400.0) {
                        return Err(Error::config(
                            "HH_API_TIMEOUT",
                            "must be between 0 and 86400 seconds",
                        ));
                    }
                    Duration::from_secs_f64(secs)
                }
                None => Duration::from_secs(5),
            },
        };

        let defaults = BatchConfig::default();
        let batch = BatchConfig {
            max_queue_size: src
                .number("max_queue_size", &["OTEL_BSP_MAX_QUEUE_SIZE"])?
                .map_or(defaults.max_queue_size, |v| v as usize),
            max_queue_bytes: src
                .number("max_queue_bytes", &[])?
                .map_or(defaults.max_queue_bytes, |v| v as usize),
            schedule_delay: src
                .number("schedule_delay_ms", &["OTEL_BSP_SCHEDULE_DELAY"])?
                .map_or(defaults.schedule_delay, Duration::from_millis),
            max_export_batch_size: src
                .number("max_export_batch_size", &["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"])?
                .map_or(defaults.max_export_batch_size, |v| v as usize),
            export_timeout: src
                .number("export_timeout_ms", &["OTEL_BSP_EXPORT_TIMEOUT"])?
                .map_or(defaults.export_timeout, Duration::from_millis),
        };
        if batch.max_queue_size == 0 || batch.max_export_batch_size == 0 {
            return Err(Error::config(
                "max_queue_size",
                "queue and batch sizes must be at least 1",
            ));
        }

        let mut notices = sdk_key_notices(&explicit);
        let (service_name, resource_attributes) = resolve_resource(&src, &mut notices)?;
        let experiment_metadata =
            match env("HH_EXPERIMENT_METADATA").filter(|v| !v.trim().is_empty()) {
                None => Vec::new(),
                Some(text) => {
                    let value: Value = serde_json::from_str(&text).map_err(|e| {
                        Error::config("HH_EXPERIMENT_METADATA", format!("invalid JSON: {e}"))
                    })?;
                    let Value::Object(map) = value else {
                        return Err(Error::config(
                            "HH_EXPERIMENT_METADATA",
                            "must be a JSON object",
                        ));
                    };
                    map.into_iter()
                        .map(|(k, v)| {
                            let text = match v {
                                Value::String(s) => s,
                                other => other.to_string(),
                            };
                            (k, text)
                        })
                        .collect()
                }
            };

        let proxy = ProxySettings::resolve(
            src.string("proxy", &[])?.as_deref(),
            src.string("no_proxy", &[])?.as_deref(),
            env,
        )?;

        let link_carrier = LinkCarrier::parse(src.object("link_carrier")?)?;

        let config = Config {
            api_key: api_key.map(Secret),
            ingestion_api_key: ingestion_api_key.map(Secret),
            project,
            source,
            session_name,
            session_id,
            server_url,
            inputs,
            metadata,
            disable_batch,
            test_mode,
            verbose,
            protocol,
            exporter,
            otlp_endpoint,
            headers,
            file_path,
            skip_backend_session_creation,
            is_evaluation,
            run_id,
            dataset_id,
            datapoint_id,
            span_name_filters,
            client_language,
            api_timeout,
            batch,
            service_name,
            resource_attributes,
            notices,
            experiment_metadata,
            proxy,
            link_carrier,
        };
        config.check_exporter_ready()?;
        Ok(config)
    }

    fn check_exporter_ready(&self) -> Result<()> {
        match self.exporter {
            ExporterKind::HoneyHive if !self.test_mode && self.bearer_key().is_none() => Err(Error::config(
                "api_key",
                "no API key: set HH_API_KEY (or \"api_key\" in the config); or run offline with \
                 HH_TEST_MODE=true, HH_EXPORTER=console, or HH_EXPORTER=file with HH_EXPORT_FILE=<path>",
            )),
            ExporterKind::Otlp if self.otlp_endpoint.is_none() => Err(Error::config(
                "otlp_endpoint",
                "exporter \"otlp\" needs an endpoint: set \"otlp_endpoint\" or \
                 OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT",
            )),
            ExporterKind::File if self.file_path.is_none() => Err(Error::config(
                "file_path",
                "exporter \"file\" needs a path: set \"file_path\" or HH_EXPORT_FILE",
            )),
            _ => Ok(()),
        }
    }
}

const KNOWN_KEYS: &[&str] = &[
    "api_key",
    "ingestion_api_key",
    "project",
    "source",
    "session_name",
    "session_id",
    "server_url",
    "api_url",
    "inputs",
    "metadata",
    "disable_batch",
    "test_mode",
    "verbose",
    "otlp_protocol",
    "exporter",
    "otlp_endpoint",
    "headers",
    "file_path",
    "skip_backend_session_creation",
    "is_evaluation",
    "run_id",
    "dataset_id",
    "datapoint_id",
    "span_name_filters",
    "client_language",
    "api_timeout_ms",
    "max_queue_size",
    "max_queue_bytes",
    "schedule_delay_ms",
    "max_export_batch_size",
    "export_timeout_ms",
    "service_name",
    "resource_attributes",
    "proxy",
    "no_proxy",
    "link_carrier",
];

/// Keys of the Python SDK's tracer configuration that mean nothing here: accepted (so that one
/// configuration serves both), with a notice the first time each is seen in the process.
const SDK_KEYS_WITHOUT_EFFECT: [&str; 12] = [
    "disable_http_tracing",
    "disable_tracing",
    "max_attributes",
    "max_events",
    "max_links",
    "max_span_size",
    "preserve_core_attributes",
    "cache_enabled",
    "cache_max_size",
    "cache_ttl",
    "cache_cleanup_interval",
    "requests_session",
];

/// Bit `i` set: `SDK_KEYS_WITHOUT_EFFECT[i]` was noticed in this process already.
static SDK_KEYS_NOTICED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The notices for the Python SDK's keys in `explicit` not noticed before in this process.
fn sdk_key_notices(explicit: &Map<String, Value>) -> Vec<String> {
    use std::sync::atomic::Ordering;
    let mut out = Vec::new();
    for (i, key) in SDK_KEYS_WITHOUT_EFFECT.iter().enumerate() {
        let bit = 1u32 << i;
        if explicit.contains_key(*key)
            && SDK_KEYS_NOTICED.fetch_or(bit, Ordering::AcqRel) & bit == 0
        {
            out.push(format!(
                "config key `{key}` (of the Python SDK) has no effect in this library; accepted and ignored"
            ));
        }
    }
    out
}

/// Headers the user may not set: they frame the message or concern one connection (a wrong
/// `content-length` would cut every export short, still counted as delivered), or the library
/// sets them for the protocol (`content-type`, `content-encoding`), or they belong to the proxy
/// settings (`proxy-authorization`: put credentials in the proxy URL).
const FORBIDDEN_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "content-type",
    "content-encoding",
    "proxy-authorization",
];

fn check_known_keys(explicit: &Map<String, Value>) -> Result<()> {
    match explicit.keys().find(|k| {
        !KNOWN_KEYS.contains(&k.as_str()) && !SDK_KEYS_WITHOUT_EFFECT.contains(&k.as_str())
    }) {
        Some(k) => Err(Error::config(k, "unknown config key")),
        None => Ok(()),
    }
}

/// Parses optional JSON text into an object; NULL or blank means "no explicit settings".
pub fn parse_object(json: Option<&str>) -> Result<Map<String, Value>> {
    let Some(text) = json.filter(|t| !t.trim().is_empty()) else {
        return Ok(Map::new());
    };
    match parse_json(text, "config")? {
        Value::Object(map) => Ok(map),
        _ => Err(Error::json("config", "must be a JSON object")),
    }
}

/// Parses JSON text within the size and depth limits.
pub fn parse_json(text: &str, what: &str) -> Result<Value> {
    if text.len() > limits::MAX_JSON_BYTES {
        return Err(Error::limit(format!(
            "{what}: JSON text of {} bytes exceeds the limit of {} bytes",
            text.len(),
            limits::MAX_JSON_BYTES
        )));
    }
    // serde_json refuses nesting beyond 128 levels itself; that is our stack guard.
    let value: Value = serde_json::from_str(text).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            Error::limit(format!(
                "{what}: JSON nested deeper than the limit of {}",
                limits::MAX_JSON_DEPTH
            ))
        } else {
            Error::json(what, format!("invalid JSON: {e}"))
        }
    })?;
    if depth(&value) > limits::MAX_JSON_DEPTH {
        return Err(Error::limit(format!(
            "{what}: JSON nested deeper than the limit of {}",
            limits::MAX_JSON_DEPTH
        )));
    }
    Ok(value)
}

/// Nesting depth of a parsed value (bounded by serde_json's own recursion limit).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Where one setting may come from: the explicit JSON, then the environment.
struct Sources<'a> {
    json: &'a Map<String, Value>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Sources<'_> {
    fn env_first(&self, names: &[&str]) -> Option<(String, String)> {
        names.iter().find_map(|n| {
            (self.env)(n)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (n.to_string(), v))
        })
    }

    fn string(&self, field: &str, env: &[&str]) -> Result<Option<String>> {
        match self.json.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            Some(Value::String(_)) | Some(Value::Null) | None => {
                Ok(self.env_first(env).map(|(_, v)| v.trim().to_string()))
            }
            Some(_) => Err(Error::config(field, "must be a string")),
        }
    }

    fn boolean(&self, field: &str, env: &[&str]) -> Result<Option<bool>> {
        match self.json.get(field) {
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Null) | None => match self.env_first(env) {
                Some((name, v)) => parse_bool(&v).map(Some).ok_or_else(|| {
                    Error::config(&name, format!("{v:?} is not a boolean (true/false)"))
                }),
                None => Ok(None),
            },
            Some(_) => Err(Error::config(field, "must be true or false")),
        }
    }

    fn number(&self, field: &str, env: &[&str]) -> Result<Option<u64>> {
        match self.json.get(field) {
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| Error::config(field, "must be a non-negative integer")),
            Some(Value::Null) | None => match self.env_first(env) {
                Some((name, v)) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                    Error::config(&name, format!("{v:?} is not a non-negative integer"))
                }),
                None => Ok(None),
            },
            Some(_) => Err(Error::config(field, "must be a non-negative integer")),
        }
    }

    fn object(&self, field: &str) -> Result<Option<Value>> {
        match self.json.get(field) {
            Some(Value::Object(o)) if o.is_empty() => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
            Some(Value::Null) | None => Ok(None),
            Some(_) => Err(Error::config(field, "must be a JSON object")),
        }
    }

    fn headers(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        match self.json.get("headers") {
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    let Value::String(v) = v else {
                        return Err(Error::config(
                            "headers",
                            format!("value of {k:?} must be a string"),
                        ));
                    };
                    out.push((k.clone(), v.clone()));
                }
            }
            Some(Value::Null) | None => {
                if let Some((_, text)) = self.env_first(&["OTEL_EXPORTER_OTLP_HEADERS"]) {
                    for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
                        let (k, v) = pair.split_once('=').ok_or_else(|| {
                            Error::config(
                                "OTEL_EXPORTER_OTLP_HEADERS",
                                "expected key=value pairs separated by ','",
                            )
                        })?;
                        out.push((k.trim().to_string(), v.trim().to_string()));
                    }
                }
            }
            Some(_) => return Err(Error::config("headers", "must be a JSON object of strings")),
        }
        for (k, v) in &out {
            if k.is_empty()
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return Err(Error::config(
                    "headers",
                    format!("invalid header name {k:?}"),
                ));
            }
            if FORBIDDEN_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(k)) {
                return Err(Error::config(
                    "headers",
                    format!(
                        "header {k:?} may not be set: the library manages framing, connection \
                         and content headers itself (proxy credentials go in the proxy URL)"
                    ),
                ));
            }
            validate_header_value("headers", v)?;
        }
        Ok(out)
    }

    fn span_name_filters(&self) -> Result<SpanNameFilters> {
        let field = "span_name_filters";
        let Some(v) = self.json.get(field).filter(|v| !v.is_null()) else {
            return Ok(SpanNameFilters::default());
        };
        let Value::Object(map) = v else {
            return Err(Error::config(
                field,
                "must be an object with \"include\" and/or \"exclude\"",
            ));
        };
        let mut filters = SpanNameFilters::default();
        for (key, list) in map {
            let target = match key.as_str() {
                "include" => &mut filters.include,
                "exclude" => &mut filters.exclude,
                other => return Err(Error::config(field, format!("unknown key {other:?}"))),
            };
            let Value::Array(items) = list else {
                return Err(Error::config(field, format!("{key} must be a list")));
            };
            for item in items {
                let prefix = match item {
                    Value::String(s) => s.clone(),
                    Value::Object(o) => {
                        let kind = o.get("type").and_then(Value::as_str).unwrap_or("prefix");
                        if kind != "prefix" {
                            return Err(Error::config(
                                field,
                                format!("unsupported filter type {kind:?}"),
                            ));
                        }
                        o.get("value")
                            .and_then(Value::as_str)
                            .ok_or_else(|| {
                                Error::config(field, "each filter needs a string \"value\"")
                            })?
                            .to_string()
                    }
                    _ => {
                        return Err(Error::config(
                            field,
                            "filters are {\"type\":\"prefix\",\"value\":...}",
                        ))
                    }
                };
                target.push(prefix);
            }
        }
        Ok(filters)
    }
}

/// Boolean environment values as the reference SDK parses them.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "enabled" => Some(true),
        "false" | "0" | "no" | "off" | "disabled" | "" => Some(false),
        _ => None,
    }
}

/// Accepts any RFC 4122 text form and returns the lower-case hyphenated form.
pub fn canonical_session_id(s: &str) -> Option<String> {
    uuid::Uuid::parse_str(s.trim())
        .ok()
        .map(|u| u.hyphenated().to_string())
}

fn normalize_url(field: &str, url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| Error::config(field, "must start with http:// or https://"))?;
    if rest.is_empty() || trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::config(field, "is not a valid URL"));
    }
    Ok(trimmed.to_string())
}

/// Rejects values that would allow header injection (CR, LF, other control characters).
fn validate_header_value(field: &str, v: &str) -> Result<()> {
    if v.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(Error::config(
            field,
            "contains control characters (CR/LF are not allowed)",
        ));
    }
    Ok(())
}

/// `hh_ingst_` + 24 alphanumerics + `_` + 64 of `[A-Za-z0-9_-]` (the ingestion key's format;
/// a malformed one is a config error, as in the reference SDK).
fn validate_ingestion_key(k: &str) -> Result<()> {
    let ok = k.strip_prefix("hh_ingst_").is_some_and(|rest| {
        let b = rest.as_bytes();
        b.len() == 24 + 1 + 64
            && b[..24].iter().all(u8::is_ascii_alphanumeric)
            && b[24] == b'_'
            && b[25..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    });
    if ok {
        Ok(())
    } else {
        Err(Error::config(
            "ingestion_api_key",
            "malformed: expected hh_ingst_<24 alphanumerics>_<64 of A-Z a-z 0-9 _ ->",
        ))
    }
}

/// Basename of the running program: the default session name (the analogue of the
/// reference SDK's caller-filename rule).
pub fn program_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(json: &str, env: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(Some(json), &move |n| map.get(n).cloned())
    }

    #[test]
    fn explicit_beats_env_beats_default() {
        let c = resolve(
            r#"{"api_key":"k1","source":"prod"}"#,
            &[("HH_API_KEY", "k2"), ("HH_SOURCE", "staging")],
        )
        .unwrap();
        assert_eq!(c.api_key.unwrap().expose(), "k1");
        assert_eq!(c.source, "prod");
        let c = resolve("{}", &[("HH_API_KEY", "k2")]).unwrap();
        assert_eq!(c.source, "dev");
        assert_eq!(c.server_url, DEFAULT_SERVER_URL);
        assert_eq!(c.api_key.unwrap().expose(), "k2");
    }

    #[test]
    fn url_env_alternates_and_trailing_slash() {
        let c = resolve(
            "{}",
            &[("HH_API_KEY", "k"), ("HONEYHIVE_SERVER_URL", "http://x:1/")],
        )
        .unwrap();
        assert_eq!(c.server_url, "http://x:1");
        let c = resolve(
            r#"{"server_url":"http://a/"}"#,
            &[("HH_API_KEY", "k"), ("HH_API_URL", "http://b")],
        )
        .unwrap();
        assert_eq!(c.server_url, "http://a");
        let e = resolve(r#"{"server_url":"ftp://a"}"#, &[("HH_API_KEY", "k")]).unwrap_err();
        assert!(e.message.contains("server_url"), "{}", e.message);
    }

    #[test]
    fn invalid_values_name_their_field() {
        for (json, field) in [
            (r#"{"api_key":"k","session_id":"nope"}"#, "session_id"),
            (r#"{"api_key":"k","otlp_protocol":"grpc"}"#, "otlp_protocol"),
            (
                r#"{"api_key":"k","ingestion_api_key":"hh_ingst_short"}"#,
                "ingestion_api_key",
            ),
            (r#"{"api_key":"k","source":"a\r\nX-Evil: 1"}"#, "source"),
            (r#"{"api_key":"k","bogus":1}"#, "bogus"),
            (r#"{"api_key":"k","disable_batch":"yes"}"#, "disable_batch"),
        ] {
            let e = resolve(json, &[]).unwrap_err();
            assert!(e.message.contains(field), "{json}: {}", e.message);
        }
        let e = resolve("{}", &[("HH_OTLP_PROTOCOL", "grpc")]).unwrap_err();
        assert!(e.message.contains("otlp_protocol"));
    }

    #[test]
    fn python_sdk_keys_are_accepted_with_one_notice() {
        // Only this test uses these keys: the notice is once per process.
        let json = r#"{"api_key":"k","disable_http_tracing":true,"cache_ttl":5.5,"max_links":3}"#;
        let c = resolve(json, &[]).unwrap();
        assert_eq!(c.notices.len(), 3, "{:?}", c.notices);
        assert!(
            c.notices[0].contains("`disable_http_tracing`"),
            "{:?}",
            c.notices
        );
        assert!(resolve(json, &[]).unwrap().notices.is_empty());
        let e = resolve(r#"{"api_key":"k","disable_http_tracin":true}"#, &[]).unwrap_err();
        assert!(e.message.contains("disable_http_tracin"), "{}", e.message);
    }

    #[test]
    fn missing_key_explains_what_to_set() {
        let e = resolve("{}", &[]).unwrap_err();
        assert!(e.message.contains("HH_API_KEY"), "{}", e.message);
        assert!(resolve(r#"{"test_mode":true}"#, &[]).is_ok());
        assert!(resolve(
            "{}",
            &[("HH_EXPORTER", "file"), ("HH_EXPORT_FILE", "/tmp/x")]
        )
        .is_ok());
    }

    #[test]
    fn session_id_is_canonicalized() {
        let c = resolve(
            r#"{"api_key":"k","session_id":"{AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE}"}"#,
            &[],
        )
        .unwrap();
        assert_eq!(
            c.session_id.as_deref(),
            Some("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
        );
    }

    #[test]
    fn valid_ingestion_key_is_preferred() {
        let key = format!("hh_ingst_{}_{}", "a".repeat(24), "B-_".repeat(21) + "x");
        let c = resolve(
            &format!(r#"{{"api_key":"k","ingestion_api_key":"{key}"}}"#),
            &[],
        )
        .unwrap();
        assert_eq!(c.bearer_key(), Some(key.as_str()));
        assert!(!format!("{c:?}").contains(&key));
    }

    #[test]
    fn bsp_env_and_filters() {
        let c = resolve(
            r#"{"api_key":"k","span_name_filters":{"include":[{"type":"prefix","value":"llm."}],"exclude":["llm.debug"]}}"#,
            &[("OTEL_BSP_MAX_QUEUE_SIZE", "10"), ("OTEL_BSP_SCHEDULE_DELAY", "250")],
        )
        .unwrap();
        assert_eq!(c.batch.max_queue_size, 10);
        assert_eq!(c.batch.schedule_delay, Duration::from_millis(250));
        assert!(c.span_name_filters.allows("llm.call"));
        assert!(!c.span_name_filters.allows("llm.debug.x"));
        assert!(!c.span_name_filters.allows("db.query"));
    }

    #[test]
    fn evaluation_turns_on_with_all_three_ids() {
        let c = resolve(
            r#"{"api_key":"k","run_id":"r","dataset_id":"d","datapoint_id":"p"}"#,
            &[],
        )
        .unwrap();
        assert!(c.is_evaluation);
        let c = resolve(r#"{"api_key":"k","run_id":"r"}"#, &[]).unwrap();
        assert!(!c.is_evaluation);
    }

    #[test]
    fn framing_hop_by_hop_and_owned_headers_are_refused_by_name() {
        for name in [
            "content-length",
            "Content-Length",
            "transfer-encoding",
            "host",
            "connection",
            "keep-alive",
            "proxy-connection",
            "TE",
            "trailer",
            "upgrade",
            "expect",
            "content-type",
            "content-encoding",
            "proxy-authorization",
        ] {
            let json = format!(r#"{{"api_key":"k","headers":{{"{name}":"5"}}}}"#);
            let e = resolve(&json, &[]).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidConfig);
            assert!(
                e.message.contains(&format!("{name:?}")),
                "{name}: {}",
                e.message
            );
            let e = resolve(
                r#"{"exporter":"otlp","otlp_endpoint":"http://c:4318/v1/traces"}"#,
                &[("OTEL_EXPORTER_OTLP_HEADERS", &format!("x-a=1,{name}=5"))],
            )
            .unwrap_err();
            assert!(
                e.message.contains(&format!("{name:?}")),
                "{name}: {}",
                e.message
            );
        }
        // Ordinary headers, including an authorization for a collector, are fine.
        let c = resolve(
            r#"{"api_key":"k","headers":{"authorization":"Basic abc","x-tenant":"t","content-language":"en"}}"#,
            &[],
        )
        .unwrap();
        assert_eq!(c.headers.len(), 3);
    }

    #[test]
    fn every_secret_reaches_the_redactor() {
        let c = resolve(
            r#"{"api_key":"hh_live_abcdefgh12345678","headers":{"x-api-key":"xk-0987654321zyxw","x-env":"production"},
                "proxy":"http://bob:s3cr3t-pr0xy@proxy.corp:3128","server_url":"https://u:url-t0ken-5555@h"}"#,
            &[],
        )
        .unwrap();
        let r = c.redactor();
        let out = r.clean(
            "key hh_live_abcdefgh and xk-0987654321 in production, proxy s3cr3t-pr0xy, productions, url-t0ken-5",
        );
        assert_eq!(
            out,
            "key <redacted> and <redacted> in <redacted>, proxy <redacted>, productions, <redacted>"
        );
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn proxy_keys_resolve() {
        let c = resolve(
            r#"{"api_key":"k","proxy":"proxy.corp:3128","no_proxy":"internal"}"#,
            &[("HTTPS_PROXY", "http://env:1")],
        )
        .unwrap();
        let via = |u: &str| {
            c.proxy
                .proxy_for(&url::Url::parse(u).unwrap())
                .map(|p| p.display())
        };
        assert_eq!(
            via(DEFAULT_SERVER_URL).as_deref(),
            Some("http://proxy.corp:3128")
        );
        assert_eq!(via("https://a.internal"), None);
        let e = resolve(r#"{"api_key":"k","proxy":"socks5://h:1"}"#, &[]).unwrap_err();
        assert!(e.message.contains("`proxy`"), "{}", e.message);
        let e = resolve(r#"{"api_key":"k"}"#, &[("HH_HTTPS_PROXY", "ftp://x")]).unwrap_err();
        assert!(e.message.contains("HH_HTTPS_PROXY"), "{}", e.message);
    }

    #[test]
    fn json_limits() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(
            parse_json(&deep, "x").unwrap_err().kind,
            crate::error::ErrorKind::LimitExceeded
        );
        let deep = "[".repeat(70) + &"]".repeat(70);
        assert_eq!(
            parse_json(&deep, "x").unwrap_err().kind,
            crate::error::ErrorKind::LimitExceeded
        );
        assert_eq!(
            parse_json("{", "x").unwrap_err().kind,
            crate::error::ErrorKind::InvalidJson
        );
    }
}
