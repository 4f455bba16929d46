//! The export pipeline of one tracer: a bounded queue filled by ended spans on application
//! threads, drained by a worker task on the shared runtime that batches, encodes and delivers.

pub mod json;
pub mod protobuf;
pub mod rest;
pub mod transport;

use crate::config::{BatchConfig, Protocol};
use crate::log::Logger;
use crate::runtime::{self, Shared};
use crate::stats::Stats;
use json::JsonStyle;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use parking_lot::Mutex;
use reqwest::header::HeaderMap;
use reqwest::Method;
use rest::Rest;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// Where a tracer's spans go.
#[derive(Debug)]
pub enum Sink {
    Http {
        url: String,
        headers: HeaderMap,
        protocol: Protocol,
        style: JsonStyle,
    },
    File(PathBuf),
    Console,
    /// Test mode: spans are recorded but go nowhere.
    Discard,
}

/// Why a flush did not report full delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushError {
    Timeout,
    Lost,
    Runtime,
}

#[derive(Debug)]
enum Command {
    Flush(std::sync::mpsc::SyncSender<bool>),
    Stop,
}

#[derive(Debug, Default)]
struct Queue {
    spans: Vec<SpanData>,
    bytes: usize,
}

/// The worker of the current process generation.
#[derive(Debug)]
struct WorkerLink {
    commands: mpsc::UnboundedSender<Command>,
    wake: Arc<Notify>,
}

#[derive(Debug)]
pub struct Pipeline {
    cfg: BatchConfig,
    immediate: bool,
    sink: Sink,
    resource: Vec<KeyValue>,
    stats: Arc<Stats>,
    log: Arc<Logger>,
    queue: Mutex<Queue>,
    worker: Mutex<Option<WorkerLink>>,
    worker_generation: AtomicU64,
    closed: AtomicBool,
    losses_at_last_flush: AtomicU64,
    pub rest: Option<Arc<Rest>>,
    me: Weak<Pipeline>,
}

const NO_WORKER: u64 = u64::MAX;

thread_local! {
    // Whether the last span this thread ended was accepted by a pipeline. Set and read within
    // one `ActiveSpan::end` call on the same thread (the SDK calls `push` synchronously):
    // internal bookkeeping, not state visible through the ABI.
    static LAST_PUSH_ACCEPTED: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Whether the span just ended on this thread was accepted (false: refused after close).
pub(crate) fn take_push_outcome() -> bool {
    LAST_PUSH_ACCEPTED.with(|c| c.replace(true))
}

impl Pipeline {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: BatchConfig,
        immediate: bool,
        sink: Sink,
        resource: Vec<KeyValue>,
        stats: Arc<Stats>,
        log: Arc<Logger>,
        rest: Option<Arc<Rest>>,
    ) -> Arc<Pipeline> {
        Arc::new_cyclic(|me| Pipeline {
            cfg,
            immediate,
            sink,
            resource,
            stats,
            log,
            queue: Mutex::new(Queue::default()),
            worker: Mutex::new(None),
            worker_generation: AtomicU64::new(NO_WORKER),
            closed: AtomicBool::new(false),
            losses_at_last_flush: AtomicU64::new(0),
            rest,
            me: me.clone(),
        })
    }

    pub fn queue_len(&self) -> usize {
        self.queue.lock().spans.len()
    }

    /// Takes an ended span from an application thread: never waits on the network
    /// (except in immediate mode, which the user chose for exactly that). Records on this
    /// thread whether the span was accepted (see `take_push_outcome`).
    pub fn push(&self, span: SpanData) {
        Stats::add(&self.stats.spans_ended, 1);
        if matches!(self.sink, Sink::Discard) {
            if self.closed.load(Ordering::Acquire) {
                self.refuse_after_close();
            }
            return;
        }
        let link_ok = self.ensure_worker().is_ok();
        let size = estimate_size(&span);
        let len = {
            let mut q = self.queue.lock();
            // Checked under the queue lock: shutdown sets it under the same lock, so a span is
            // either drained by shutdown's flush or refused here, never stranded.
            if self.closed.load(Ordering::Acquire) {
                drop(q);
                self.refuse_after_close();
                return;
            }
            if q.spans.len() >= self.cfg.max_queue_size || q.bytes + size > self.cfg.max_queue_bytes
            {
                drop(q);
                Stats::add(&self.stats.spans_dropped, 1);
                self.log
                    .warn("export queue full: span dropped (see stats spans_dropped)");
                return;
            }
            q.spans.push(span);
            q.bytes += size;
            q.spans.len()
        };
        if !link_ok {
            return;
        }
        if self.immediate {
            let _ = self.flush(self.cfg.export_timeout + Duration::from_secs(1));
        } else if len % self.cfg.max_export_batch_size == 0 {
            if let Some(link) = self.worker.lock().as_ref() {
                link.wake.notify_one();
            }
        }
    }

    fn refuse_after_close(&self) {
        Stats::add(&self.stats.spans_dropped, 1);
        Stats::add(&self.stats.spans_refused_after_close, 1);
        LAST_PUSH_ACCEPTED.with(|c| c.set(false));
    }

    /// Runs a REST call on the shared runtime (no-op without a REST client).
    pub fn rest_call(
        &self,
        method: Method,
        path: &'static str,
        body: serde_json::Value,
        session_id: &str,
    ) {
        let Some(rest) = &self.rest else { return };
        // In a forked child this first discards what the parent had in flight.
        let _ = self.ensure_worker();
        match runtime::shared() {
            Ok(shared) => rest.submit(&shared, method, path, body, session_id),
            Err(e) => {
                Stats::add(&self.stats.rest_calls, 1);
                Stats::add(&self.stats.rest_failures, 1);
                self.log
                    .warn(format!("background runtime unavailable: {e}"));
            }
        }
    }

    /// Waits up to `timeout` for everything queued before the call to be delivered.
    pub fn flush(&self, timeout: Duration) -> Result<(), FlushError> {
        let nothing_to_do = matches!(self.sink, Sink::Discard) && self.rest.is_none();
        if nothing_to_do {
            return Ok(());
        }
        self.ensure_worker().map_err(|_| FlushError::Runtime)?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        {
            let worker = self.worker.lock();
            let Some(link) = worker.as_ref() else {
                return Err(FlushError::Runtime);
            };
            if link.commands.send(Command::Flush(tx)).is_err() {
                return Err(FlushError::Runtime);
            }
        }
        match rx.recv_timeout(timeout) {
            Ok(true) => Ok(()),
            Ok(false) => Err(FlushError::Lost),
            Err(_) => Err(FlushError::Timeout),
        }
    }

    /// Refuses new spans (they are dropped and counted), delivers what was accepted, then
    /// stops the worker.
    pub fn shutdown(&self, timeout: Duration) -> Result<(), FlushError> {
        {
            let _q = self.queue.lock();
            self.closed.store(true, Ordering::Release);
        }
        let result = self.flush(timeout);
        if let Some(link) = self.worker.lock().as_ref() {
            let _ = link.commands.send(Command::Stop);
        }
        result
    }

    /// Starts the worker for this process generation: at first use, and again in a forked
    /// child, where the parent's queued spans are discarded (the parent sends them).
    pub(crate) fn ensure_worker(&self) -> std::io::Result<()> {
        let generation = runtime::generation();
        if self.worker_generation.load(Ordering::Acquire) == generation {
            return Ok(());
        }
        let mut worker = self.worker.lock();
        if self.worker_generation.load(Ordering::Acquire) == generation {
            return Ok(());
        }
        if let Some(stale) = worker.take() {
            // Inherited from the parent across fork(): its task does not exist here.
            std::mem::forget(stale);
            let mut q = self.queue.lock();
            q.spans.clear();
            q.bytes = 0;
            if let Some(rest) = &self.rest {
                rest.forget_inherited_calls();
            }
            // The child is a new process: its counters and flush result start from zero.
            self.stats.reset();
            self.losses_at_last_flush.store(0, Ordering::Release);
        }
        let shared = runtime::shared()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let wake = Arc::new(Notify::new());
        shared.handle.spawn(worker_loop(
            self.me.clone(),
            rx,
            wake.clone(),
            shared.clone(),
        ));
        *worker = Some(WorkerLink { commands: tx, wake });
        self.worker_generation.store(generation, Ordering::Release);
        Ok(())
    }

    /// Exports everything queued, in batches.
    async fn export_all(&self, shared: &Shared) {
        loop {
            let spans = {
                let mut q = self.queue.lock();
                q.bytes = 0;
                std::mem::take(&mut q.spans)
            };
            if spans.is_empty() {
                return;
            }
            // Sessions these spans belong to were submitted before they ended (spec 2.2).
            if let Some(rest) = &self.rest {
                rest.wait_submitted().await;
            }
            for batch in spans.chunks(self.cfg.max_export_batch_size) {
                self.deliver(shared, batch).await;
            }
        }
    }

    async fn deliver(&self, shared: &Shared, batch: &[SpanData]) {
        let n = batch.len() as u64;
        Stats::add(&self.stats.export_requests, 1);
        let outcome: Result<(), String> = match &self.sink {
            Sink::Http {
                url,
                headers,
                protocol,
                style,
            } => {
                let body = match protocol {
                    Protocol::Json => json::encode(batch, &self.resource, *style),
                    Protocol::Protobuf => protobuf::encode(batch, &self.resource),
                };
                let deadline = tokio::time::Instant::now() + self.cfg.export_timeout;
                let d = transport::send(
                    &shared.http,
                    Method::POST,
                    url,
                    headers,
                    body.into(),
                    deadline,
                )
                .await;
                Stats::add(&self.stats.export_retries, d.retries);
                if d.delivered {
                    Ok(())
                } else {
                    Err(d.error.unwrap_or_else(|| "not delivered".into()))
                }
            }
            Sink::File(path) => {
                let mut line = json::encode(batch, &self.resource, JsonStyle::HoneyHive);
                line.push(b'\n');
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut f| f.write_all(&line))
                    .map_err(|e| format!("writing {}: {e}", path.display()))
            }
            Sink::Console => {
                let mut err = std::io::stderr().lock();
                for s in batch {
                    let _ = writeln!(err, "{}", console_line(s));
                }
                Ok(())
            }
            Sink::Discard => Ok(()),
        };
        match outcome {
            Ok(()) => {
                Stats::add(&self.stats.spans_exported, n);
                self.log.debug(|| format!("exported {n} spans"));
            }
            Err(e) => {
                Stats::add(&self.stats.export_failures, 1);
                Stats::add(&self.stats.spans_dropped, n);
                self.log.warn(format!("export of {n} spans failed: {e}"));
            }
        }
    }

    /// True when nothing was lost since the previous flush.
    fn take_flush_result(&self) -> bool {
        let now = self.stats.losses();
        let before = self.losses_at_last_flush.swap(now, Ordering::AcqRel);
        now == before
    }
}

async fn worker_loop(
    pipeline: Weak<Pipeline>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    wake: Arc<Notify>,
    shared: Arc<Shared>,
) {
    let delay = match pipeline.upgrade() {
        Some(p) => p.cfg.schedule_delay,
        None => return,
    };
    loop {
        let mut replies = Vec::new();
        let mut stop = false;
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(delay) => {}
            cmd = commands.recv() => match cmd {
                Some(Command::Flush(reply)) => replies.push(reply),
                Some(Command::Stop) | None => stop = true,
            },
        }
        while let Ok(cmd) = commands.try_recv() {
            match cmd {
                Command::Flush(reply) => replies.push(reply),
                Command::Stop => stop = true,
            }
        }
        let Some(p) = pipeline.upgrade() else { return };
        p.export_all(&shared).await;
        if !replies.is_empty() || stop {
            if let Some(rest) = &p.rest {
                rest.wait_submitted().await;
            }
            let ok = p.take_flush_result();
            for r in replies {
                let _ = r.try_send(ok);
            }
        }
        if stop {
            return;
        }
    }
}

/// OTLP requires unique attribute keys; a span set twice keeps the last value, as the
/// reference's `set_attribute` does. Runs on the export worker, never on the hot path.
pub(crate) fn unique_attributes(attrs: &[KeyValue]) -> Vec<&KeyValue> {
    let mut out: Vec<&KeyValue> = Vec::with_capacity(attrs.len());
    if attrs.len() <= 32 {
        for (i, kv) in attrs.iter().enumerate() {
            if !attrs[i + 1..].iter().any(|later| later.key == kv.key) {
                out.push(kv);
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(attrs.len());
        for kv in attrs.iter().rev() {
            if seen.insert(kv.key.as_str()) {
                out.push(kv);
            }
        }
        out.reverse();
    }
    out
}

/// Rough in-memory size of a queued span, for the byte bound.
fn estimate_size(s: &SpanData) -> usize {
    let attrs: usize = s
        .attributes
        .iter()
        .map(|kv| {
            kv.key.as_str().len()
                + match &kv.value {
                    Value::String(v) => v.as_str().len(),
                    _ => 8,
                }
                + 48
        })
        .sum();
    let events: usize = s
        .events
        .iter()
        .map(|e| e.name.len() + 64 + e.attributes.len() * 64)
        .sum();
    256 + s.name.len() + attrs + events
}

/// One readable line per span for the console exporter.
fn console_line(s: &SpanData) -> String {
    let ms = s
        .end_time
        .duration_since(s.start_time)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    let mut line = format!(
        "[honeyhive] span {:?} trace={} span={} parent={} {:.3}ms",
        s.name,
        s.span_context.trace_id(),
        s.span_context.span_id(),
        s.parent_span_id,
        ms
    );
    for kv in &s.attributes {
        line.push_str(&format!(" {}={}", kv.key, kv.value));
    }
    if let opentelemetry::trace::Status::Error { description } = &s.status {
        line.push_str(&format!(" ERROR={description:?}"));
    }
    line
}
