//! The server: accept loop (with pause/resume/shutdown), per-connection
//! handling, HoneyHive/OTLP routes, faults and the `/__hh/` control endpoints.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::count::count_otlp_json_fast;
use crate::decode::{count_otlp_json, count_otlp_protobuf, decode_otlp, gunzip, OtlpFormat};
use crate::fault::{Fault, FaultMode, FaultSlot};
use crate::http::{Conn, Framing, ReadError, Request, Response};
use crate::record::{now_unix_nano, Deferred, Pending, RecordedRequest, RecordedSpan, Store};

/// Called with the outcome of a command once the server loop has carried it out.
pub(crate) type Ack = Box<dyn FnOnce(io::Result<()>) + Send>;

pub(crate) enum Command {
    /// Close the listener and every connection.
    Pause(Option<Ack>),
    /// Listen again on the same port.
    Resume(Option<Ack>),
    /// Close everything and end the server loop.
    Shutdown(Option<Ack>),
}

pub(crate) struct Shared {
    pub store: Store,
    pub fault: FaultSlot,
    pub record_file: Option<Mutex<File>>,
    pub cmd_tx: mpsc::UnboundedSender<Command>,
    pub port: u16,
}

impl Shared {
    /// Records a request. `pending`: see `Store::record` (decoded now anyway when a record
    /// file is written, which needs everything).
    fn record(&self, mut req: RecordedRequest, pending: Option<Pending>) {
        let pending = match pending {
            Some(p) if self.record_file.is_some() => {
                p.complete(&mut req);
                None
            }
            p => p,
        };
        let mut line = None;
        self.store.record(req, pending, |stored| {
            if self.record_file.is_some() {
                line = serde_json::to_vec(stored).ok();
            }
        });
        if let (Some(file), Some(mut line)) = (&self.record_file, line) {
            line.push(b'\n');
            let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
            let _ = f.write_all(&line);
            let _ = f.flush();
        }
    }
}

fn ack(a: Option<Ack>, r: io::Result<()>) {
    if let Some(a) = a {
        a(r);
    }
}

async fn accept(l: Option<&TcpListener>) -> io::Result<TcpStream> {
    match l {
        Some(l) => l.accept().await.map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

async fn bind_again(port: u16) -> io::Result<TcpListener> {
    let mut attempts = 0;
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && attempts < 40 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The server loop; returns after `Command::Shutdown`.
pub(crate) async fn run(
    shared: Arc<Shared>,
    listener: TcpListener,
    mut cmd_rx: mpsc::UnboundedReceiver<Command>,
) {
    let mut listener = Some(listener);
    let mut conns: JoinSet<()> = JoinSet::new();
    loop {
        tokio::select! {
            res = accept(listener.as_ref()) => match res {
                Ok(stream) => {
                    conns.spawn(handle_conn(shared.clone(), stream));
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            cmd = cmd_rx.recv() => match cmd {
                None => break,
                Some(Command::Pause(a)) => {
                    listener = None;
                    conns.shutdown().await;
                    ack(a, Ok(()));
                }
                Some(Command::Resume(a)) => {
                    let r = if listener.is_some() {
                        Ok(())
                    } else {
                        bind_again(shared.port).await.map(|l| listener = Some(l))
                    };
                    ack(a, r);
                }
                Some(Command::Shutdown(a)) => {
                    listener = None;
                    conns.shutdown().await;
                    ack(a, Ok(()));
                    break;
                }
            },
        }
    }
    drop(listener);
}

/// Writes a whole response; false if the peer is gone.
async fn write(conn: &mut Conn, resp: &Response, close: bool) -> bool {
    let bytes = resp.to_bytes(close);
    conn.stream.write_all(&bytes).await.is_ok() && conn.stream.flush().await.is_ok()
}

enum After {
    Nothing,
    Pause(u64),
    Shutdown,
}

async fn handle_conn(shared: Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut conn = Conn::new(stream);
    loop {
        let req = match conn.read_request().await {
            Ok(r) => r,
            Err(ReadError::Closed) => return,
            Err(ReadError::Bad(msg)) => {
                write(&mut conn, &Response::error(400, &msg), true).await;
                return;
            }
            Err(ReadError::TooLarge) => {
                write(&mut conn, &Response::error(413, "body too large"), true).await;
                return;
            }
        };
        let close = !req.keep_alive();
        let (path, query) = req.path_and_query();

        if path == "/__hh" || path.starts_with("/__hh/") {
            let (resp, after) = control(&shared, &req, &path, query.as_deref()).await;
            let close = close || !matches!(after, After::Nothing);
            if !write(&mut conn, &resp, close).await {
                return;
            }
            match after {
                After::Nothing => {}
                After::Pause(ms) => {
                    let tx = shared.cmd_tx.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(Command::Pause(None));
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        let _ = tx.send(Command::Resume(None));
                    });
                }
                After::Shutdown => {
                    let _ = shared.cmd_tx.send(Command::Shutdown(None));
                }
            }
            if close {
                let _ = conn.stream.shutdown().await;
                return;
            }
            continue;
        }

        let (mut rec, resp, pending) = handle_api(req, path, query);
        match shared.fault.take_for(&rec.path) {
            None => {
                rec.response_status = resp.status;
                shared.record(rec, pending);
                if !write(&mut conn, &resp, close).await {
                    return;
                }
            }
            Some(fault) => match fault.mode {
                FaultMode::Status => {
                    let resp = fault_response(&fault);
                    rec.response_status = resp.status;
                    shared.record(rec, pending);
                    sleep_ms(fault.delay_ms).await;
                    if fault.streams_body() {
                        // The client may stop reading at any point: never reuse the connection.
                        stream_body(&mut conn, &resp, fault.body_bytes, fault.chunked).await;
                        let _ = conn.stream.shutdown().await;
                        return;
                    }
                    if !write(&mut conn, &resp, close).await {
                        return;
                    }
                }
                FaultMode::Hang => {
                    rec.response_status = 0;
                    shared.record(rec, pending);
                    conn.drain_until_closed().await;
                    return;
                }
                FaultMode::Reset => {
                    rec.response_status = 0;
                    shared.record(rec, pending);
                    sleep_ms(fault.delay_ms).await;
                    let _ = conn.stream.set_zero_linger();
                    drop(conn);
                    return;
                }
                FaultMode::Trickle => {
                    rec.response_status = resp.status;
                    shared.record(rec, pending);
                    for b in resp.to_bytes(close) {
                        sleep_ms(fault.delay_ms).await;
                        if conn.stream.write_all(&[b]).await.is_err()
                            || conn.stream.flush().await.is_err()
                        {
                            return;
                        }
                    }
                }
            },
        }
        if close {
            let _ = conn.stream.shutdown().await;
            return;
        }
    }
}

async fn sleep_ms(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

fn fault_response(f: &Fault) -> Response {
    let status = if (200..=999).contains(&f.status) {
        f.status
    } else {
        500
    };
    let mut resp = Response::json(
        status,
        &json!({"error": "injected fault", "status": status}),
    );
    if let Some(body) = &f.body {
        resp.body = body.clone().into_bytes();
        resp.content_type = None;
        let ct = f.content_type.as_deref().unwrap_or("application/json");
        resp.headers.push(("Content-Type".into(), ct.into()));
    }
    if let Some(ra) = &f.retry_after {
        resp.headers.push(("Retry-After".into(), ra.clone()));
    }
    for (name, value) in &f.headers {
        resp.headers.push((name.clone(), value.clone()));
    }
    resp
}

/// Writes `resp` with a body of `size` bytes (its body repeated, or `x`), in pieces of at most
/// 64 KiB, chunked or with a `Content-Length`; chunked without a size, forever. Stops when the
/// client stops reading (the write fails).
async fn stream_body(conn: &mut Conn, resp: &Response, size: Option<u64>, chunked: bool) {
    const PIECE: usize = 64 * 1024;
    let unit: &[u8] = if resp.body.is_empty() {
        b"x"
    } else {
        &resp.body
    };
    let piece: Vec<u8> = unit.iter().copied().cycle().take(PIECE).collect();
    let framing = if chunked {
        Framing::Chunked
    } else {
        Framing::Length(size.unwrap_or(0))
    };
    let head = resp.head(true, framing);
    if conn.stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut left = size;
    loop {
        let n = match left {
            Some(0) => break,
            Some(l) => usize::try_from(l).map_or(PIECE, |l| l.min(PIECE)),
            None => PIECE,
        };
        let ok = if chunked {
            let mut framed = format!("{n:x}\r\n").into_bytes();
            framed.extend_from_slice(&piece[..n]);
            framed.extend_from_slice(b"\r\n");
            conn.stream.write_all(&framed).await.is_ok()
        } else {
            conn.stream.write_all(&piece[..n]).await.is_ok()
        };
        if !ok {
            return;
        }
        left = left.map(|l| l - n as u64);
    }
    if chunked {
        let _ = conn.stream.write_all(b"0\r\n\r\n").await;
    }
    let _ = conn.stream.flush().await;
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Repeated headers joined with `", "`.
fn joined_headers(headers: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::<String, String>::new();
    for (n, v) in headers {
        out.entry(n.clone())
            .and_modify(|cur| {
                cur.push_str(", ");
                cur.push_str(v);
            })
            .or_insert_with(|| v.clone());
    }
    out
}

/// The answer to an accepted trace export.
fn export_ok(format: OtlpFormat) -> Response {
    match format {
        OtlpFormat::Json => Response::json(200, &json!({})),
        OtlpFormat::Protobuf => Response {
            status: 200,
            content_type: Some("application/x-protobuf"),
            headers: Vec::new(),
            body: Vec::new(),
        },
    }
}

/// Checks a trace export and counts its spans (with the errors decoding them gives), leaving
/// them to decode when first read; the body goes into the `Pending` unless `body_json` holds
/// it. A JSON body not taken for JSON (no JSON content type) is decoded at once, as it is rare.
fn trace_export(
    format: OtlpFormat,
    fast_count: Option<usize>,
    body_json: Option<&Value>,
    body: &mut Vec<u8>,
) -> Result<(Vec<RecordedSpan>, Option<Pending>), String> {
    let later = |spans, body| Ok((Vec::new(), Some(Pending { spans, body })));
    match (fast_count, body_json, format) {
        (Some(n), _, _) => later(n, Deferred::Json(std::mem::take(body))),
        (None, Some(v), OtlpFormat::Json) => later(count_otlp_json(v)?, Deferred::Parsed),
        (None, None, OtlpFormat::Json) => decode_otlp(format, body).map(|s| (s, None)),
        (_, _, OtlpFormat::Protobuf) => later(
            count_otlp_protobuf(body)?,
            Deferred::Protobuf(std::mem::take(body)),
        ),
    }
}

/// Decodes a (non-control) request and computes the normal answer. The third value is a
/// trace export whose spans are decoded when first read (see `Store::record`).
fn handle_api(
    req: Request,
    path: String,
    query: Option<String>,
) -> (RecordedRequest, Response, Option<Pending>) {
    let time_unix_nano = now_unix_nano();
    let headers = joined_headers(&req.headers);
    let content_type = req.header("content-type").map(str::to_string);
    let ct_lower = content_type
        .as_deref()
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mut body = req.body;
    let mut decode_error = None;
    let mut bad_body = false;
    let gzipped = req
        .headers
        .iter()
        .any(|(n, v)| n == "content-encoding" && v.to_ascii_lowercase().contains("gzip"));
    if gzipped {
        match gunzip(&body) {
            Ok(b) => body = b,
            Err(e) => {
                decode_error = Some(e);
                bad_body = true;
            }
        }
    }
    let body_len = body.len() as u64;
    let looks_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[');
    let is_json =
        !bad_body && (ct_lower.contains("json") || (content_type.is_none() && looks_json));
    let method = req.method.to_ascii_uppercase();
    let is_export = method == "POST" && path.ends_with("/v1/traces");
    let format = is_export.then(|| OtlpFormat::detect(content_type.as_deref(), &body));
    // A JSON export of the usual shape is only checked and counted now, without a `Value`
    // (its main cost): `body_json` and the spans are filled in when first read.
    let fast_count = match format {
        Some(OtlpFormat::Json) if is_json => count_otlp_json_fast(&body),
        _ => None,
    };
    let body_json: Option<Value> = if is_json && fast_count.is_none() {
        match serde_json::from_slice(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                if !body.is_empty() {
                    decode_error = Some(format!("invalid JSON body: {e}"));
                }
                None
            }
        }
    } else {
        None
    };

    let mut otlp_format = None;
    let mut pending = None;
    let mut spans = Vec::new();
    let resp = if bad_body {
        Response::error(400, decode_error.as_deref().unwrap_or("bad body"))
    } else if let Some(format) = format {
        otlp_format = Some(format.as_str().to_string());
        let decoded = trace_export(format, fast_count, body_json.as_ref(), &mut body);
        match decoded {
            Ok((s, p)) => {
                spans = s;
                pending = p;
                export_ok(format)
            }
            Err(e) => {
                let r = Response::error(400, &e);
                decode_error = Some(e);
                r
            }
        }
    } else if method == "POST" && path.ends_with("/session/start") {
        match &body_json {
            Some(v) => {
                let session_id = v
                    .get("session")
                    .and_then(|s| s.get("session_id"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(new_id);
                Response::json(
                    200,
                    &json!({
                        "session_id": session_id,
                        "event_id": new_id(),
                        "org_id": "org-test",
                        "workspace_id": "ws-test",
                        "project_id": "proj-test",
                    }),
                )
            }
            None => Response::error(400, "body is not JSON"),
        }
    } else if (method == "PUT" || method == "POST") && path.ends_with("/events") {
        match (&body_json, method.as_str()) {
            (None, _) => Response::error(400, "body is not JSON"),
            (Some(_), "PUT") => Response::json(200, &json!({"success": true})),
            // The event id echoes `event.event_id` when the client sent one (the request
            // model allows it), else a new one, as the server makes.
            (Some(v), _) => {
                let event_id = v
                    .get("event")
                    .and_then(|e| e.get("event_id"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(new_id);
                Response::json(200, &json!({"success": true, "event_id": event_id}))
            }
        }
    } else {
        Response::error(404, "not found")
    };

    let rec = RecordedRequest {
        seq: 0,
        time_unix_nano,
        method: req.method,
        path,
        query,
        headers,
        content_type,
        body_len,
        body_json,
        otlp_format,
        spans,
        decode_error,
        response_status: 0,
    };
    (rec, resp, pending)
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn query_num(query: Option<&str>, name: &str) -> Option<u64> {
    query_param(query, name).and_then(|v| v.trim().parse().ok())
}

async fn control(
    shared: &Shared,
    req: &Request,
    path: &str,
    query: Option<&str>,
) -> (Response, After) {
    let ok = || Response::json(200, &json!({"ok": true}));
    let resp = match path.trim_end_matches('/') {
        "/__hh/health" => Response::json(200, &json!({"ok": true, "port": shared.port})),
        "/__hh/requests" => {
            let requests = shared.store.lock().requests.clone();
            Response::serialized(200, &requests)
        }
        "/__hh/spans" => {
            let spans = shared.store.lock().spans();
            Response::serialized(200, &spans)
        }
        "/__hh/wait" => {
            let timeout = Duration::from_millis(query_num(query, "timeout_ms").unwrap_or(10_000));
            let spans = query_num(query, "spans");
            match (spans, query_num(query, "requests")) {
                (None, Some(n)) => {
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    let reqs = shared
                        .store
                        .wait_async(timeout, |i| i.requests.len() >= n, |i| i.requests.clone())
                        .await;
                    Response::serialized(200, &reqs)
                }
                (spans, _) => {
                    let n = usize::try_from(spans.unwrap_or(1)).unwrap_or(usize::MAX);
                    let spans = shared
                        .store
                        .wait_async(timeout, |i| i.span_count >= n, |i| i.spans())
                        .await;
                    Response::serialized(200, &spans)
                }
            }
        }
        "/__hh/reset" => {
            shared.store.reset();
            ok()
        }
        "/__hh/fault" if req.method.eq_ignore_ascii_case("GET") => {
            Response::serialized(200, &shared.fault.current())
        }
        "/__hh/fault" => {
            let parsed: Result<Fault, _> = if req.body.iter().all(u8::is_ascii_whitespace) {
                Ok(Fault::default())
            } else {
                serde_json::from_slice(&req.body)
            };
            match parsed {
                Ok(f) => {
                    shared.fault.set(f.clone());
                    Response::json(200, &json!({"ok": true, "fault": f}))
                }
                Err(e) => Response::error(400, &format!("bad fault JSON: {e}")),
            }
        }
        "/__hh/clear_fault" => {
            shared.fault.clear();
            ok()
        }
        "/__hh/pause" => {
            let ms = query_num(query, "ms").unwrap_or(1000);
            return (
                Response::json(200, &json!({"ok": true, "paused_ms": ms})),
                After::Pause(ms),
            );
        }
        "/__hh/shutdown" => return (ok(), After::Shutdown),
        _ => Response::error(404, "unknown control endpoint"),
    };
    (resp, After::Nothing)
}
