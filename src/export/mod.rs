//! The export pipeline of one tracer: a bounded queue filled by ended spans on application
//! threads, drained by a worker task on the shared runtime that batches, encodes and delivers.
//!
//! The queue is striped: each application thread appends to the stripe of its
//! `local::index()`, so threads ending spans at once take different locks and write different
//! cache lines. The bounds (`max_queue_size`, `max_queue_bytes`) stay exact across stripes: a
//! stripe reserves room from the tracer-wide totals a few spans (and bytes) at a time, and a
//! stripe that finds the totals spent first takes back what the other stripes reserved but
//! did not use, so a span is dropped only when the queue really holds the bound.

mod fork_component;
pub mod json;
pub mod protobuf;
pub mod rest;
pub mod transport;

use crate::config::{BatchConfig, Protocol};
use crate::fork::{LockVisitor, ShortLock};
use crate::local::Padded;
use crate::log::Logger;
use crate::runtime::{self, Shared};
use crate::stats::Stats;
use json::JsonStyle;
use opentelemetry::{InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use reqwest::header::HeaderMap;
use reqwest::Method;
use rest::Rest;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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
    /// Answered once everything queued before it has been handed to the sink.
    Flush(std::sync::mpsc::SyncSender<()>),
    Stop,
}

/// Stripes of the queue (threads beyond this many share stripes).
const STRIPES: usize = 8;

/// One stripe of the queue.
#[derive(Debug, Default)]
struct Queue {
    spans: Vec<SpanData>,
    bytes: usize,
    /// Room reserved from the tracer-wide totals and not used yet.
    credit_spans: usize,
    credit_bytes: usize,
}

/// What every export request of a tracer carries besides its spans.
#[derive(Debug, Clone, Default)]
pub struct Encoding {
    pub resource: Vec<KeyValue>,
    /// The scope every span of the tracer is reported under.
    pub scope: InstrumentationScope,
    /// Attributes of every span, written before the span's own (which win on equal keys).
    pub stamped: Vec<KeyValue>,
}

/// The worker of the current process generation.
#[derive(Debug)]
struct WorkerLink {
    commands: mpsc::UnboundedSender<Command>,
}

#[derive(Debug)]
pub struct Pipeline {
    cfg: BatchConfig,
    immediate: bool,
    sink: Sink,
    encoding: Encoding,
    stats: Arc<Stats>,
    log: Arc<Logger>,
    queue: [Padded<ShortLock<Queue>>; STRIPES],
    /// Spans queued plus span room reserved by stripes (never above max_queue_size).
    reserved_spans: AtomicUsize,
    /// Bytes queued plus byte room reserved by stripes (never above max_queue_bytes).
    reserved_bytes: AtomicUsize,
    chunk_spans: usize,
    chunk_bytes: usize,
    /// Emptied span buffers, swapped into stripes at export (see `export_all`).
    spare: ShortLock<Vec<Vec<SpanData>>>,
    worker: ShortLock<Option<WorkerLink>>,
    /// The worker's wake-up, apart from `worker`: application threads take it often.
    wake: ShortLock<Option<Arc<Notify>>>,
    worker_generation: AtomicU64,
    closed: AtomicBool,
    losses_at_last_flush: AtomicU64,
    pub rest: Option<Arc<Rest>>,
    me: Weak<Pipeline>,
}

const NO_WORKER: u64 = u64::MAX;

/// What `push` still has to do after `enqueue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterEnqueue {
    Nothing,
    /// A full batch is queued: wake the worker.
    Wake,
    /// Immediate mode: wait until the span is exported.
    Flush,
}

impl Pipeline {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: BatchConfig,
        immediate: bool,
        sink: Sink,
        encoding: Encoding,
        stats: Arc<Stats>,
        log: Arc<Logger>,
        rest: Option<Arc<Rest>>,
    ) -> Arc<Pipeline> {
        // Reserving 1/64 of a bound at a time keeps small bounds exact and large ones cheap.
        let chunk_spans = (cfg.max_queue_size / 64).clamp(1, 32);
        let chunk_bytes = (cfg.max_queue_bytes / 64).clamp(1, 64 * 1024);
        let pipeline = Arc::new_cyclic(|me| Pipeline {
            cfg,
            immediate,
            sink,
            encoding,
            stats,
            log,
            queue: Default::default(),
            reserved_spans: AtomicUsize::new(0),
            reserved_bytes: AtomicUsize::new(0),
            chunk_spans,
            chunk_bytes,
            spare: Default::default(),
            worker: ShortLock::new(None),
            wake: Default::default(),
            worker_generation: AtomicU64::new(NO_WORKER),
            closed: AtomicBool::new(false),
            losses_at_last_flush: AtomicU64::new(0),
            rest,
            me: me.clone(),
        });
        crate::fork::register(&pipeline);
        pipeline
    }

    pub fn queue_len(&self) -> usize {
        self.queue.iter().map(|q| q.lock().spans.len()).sum()
    }

    /// Takes an ended span from an application thread: never waits on the network
    /// (except in immediate mode, which the user chose for exactly that). Returns false when
    /// the span was refused because the pipeline is shut down (true also when the queue was
    /// full: that drop is counted and reported by the next flush).
    pub fn push(&self, span: SpanData) -> bool {
        let size = estimate_size(&span.name, &span.attributes, &span.events);
        let (accepted, then) = self.enqueue(size, || span);
        self.after_enqueue(then);
        accepted
    }

    /// The part of `push` that never blocks (safe under other locks); `after_enqueue` does the
    /// rest.
    /// `span` builds the span where the queue keeps it; `size` is its estimated size.
    #[inline]
    pub(crate) fn enqueue(
        &self,
        size: usize,
        span: impl FnOnce() -> SpanData,
    ) -> (bool, AfterEnqueue) {
        self.stats.spans_ended.add(1);
        if matches!(self.sink, Sink::Discard) {
            if self.closed.load(Ordering::Acquire) {
                self.refuse_after_close();
                return (false, AfterEnqueue::Nothing);
            }
            return (true, AfterEnqueue::Nothing);
        }
        let link_ok = self.ensure_worker().is_ok();
        let wake = {
            let stripe = crate::local::index() % STRIPES;
            let mut q = self.queue[stripe].lock();
            // Checked under the stripe lock: shutdown sets it holding every stripe, so a span
            // is either drained by shutdown's flush or refused here, never stranded.
            if self.closed.load(Ordering::Acquire) {
                drop(q);
                self.refuse_after_close();
                return (false, AfterEnqueue::Nothing);
            }
            let mut wake = false;
            if (q.credit_spans == 0 || q.credit_bytes < size)
                && !self.reserve(stripe, &mut q, size, &mut wake)
            {
                drop(q);
                Stats::add(&self.stats.spans_dropped, 1);
                self.log
                    .warn("export queue full: span dropped (see stats spans_dropped)");
                return (true, AfterEnqueue::Nothing);
            }
            q.credit_spans -= 1;
            q.credit_bytes -= size;
            q.spans.push(span());
            q.bytes += size;
            // A full batch goes at once: exact for one thread (its stripe is the queue); with
            // several, `reserve` also wakes the worker when the total crosses a batch.
            wake || q.spans.len() % self.cfg.max_export_batch_size == 0
        };
        let then = if !link_ok {
            AfterEnqueue::Nothing
        } else if self.immediate {
            AfterEnqueue::Flush
        } else if wake {
            AfterEnqueue::Wake
        } else {
            AfterEnqueue::Nothing
        };
        (true, then)
    }

    /// Wakes the worker, or in immediate mode waits for the export.
    pub(crate) fn after_enqueue(&self, then: AfterEnqueue) {
        match then {
            AfterEnqueue::Nothing => {}
            AfterEnqueue::Wake => {
                // try_lock: a thread that finds it taken leaves the wake-up to the holder,
                // which is waking the same worker (or installing one).
                if let Some(wake) = self.wake.try_lock() {
                    if let Some(wake) = wake.as_ref() {
                        wake.notify_one();
                    }
                }
            }
            AfterEnqueue::Flush => {
                let _ = self.flush(self.cfg.export_timeout + Duration::from_secs(1));
            }
        }
    }

    /// Reserves room for one span of `size` bytes (and a chunk more) for a stripe whose own
    /// reservation is spent. Sets `wake` when the queue reached another full batch.
    #[cold]
    fn reserve(&self, stripe: usize, q: &mut Queue, size: usize, wake: &mut bool) -> bool {
        for attempt in 0..2 {
            let need_spans = usize::from(q.credit_spans == 0);
            let need_bytes = size.saturating_sub(q.credit_bytes);
            let (want_spans, want_bytes) = if attempt == 0 {
                (
                    need_spans * self.chunk_spans,
                    if need_bytes == 0 {
                        0
                    } else {
                        need_bytes.max(self.chunk_bytes)
                    },
                )
            } else {
                (need_spans, need_bytes)
            };
            if let Some((got, before)) = take(
                &self.reserved_spans,
                need_spans,
                want_spans,
                self.cfg.max_queue_size,
            ) {
                match take(
                    &self.reserved_bytes,
                    need_bytes,
                    want_bytes,
                    self.cfg.max_queue_bytes,
                ) {
                    Some((got_bytes, _)) => {
                        q.credit_spans += got;
                        q.credit_bytes += got_bytes;
                        let batch = self.cfg.max_export_batch_size;
                        let others = before.saturating_sub(q.spans.len() + q.credit_spans);
                        if got > 0 && others > 0 && before / batch != (before + got) / batch {
                            *wake = true;
                        }
                        return true;
                    }
                    None => {
                        self.reserved_spans.fetch_sub(got, Ordering::AcqRel);
                    }
                }
            }
            if attempt == 0 {
                self.reclaim(stripe);
            }
        }
        false
    }

    /// Gives back what the other stripes reserved and did not use (those currently locked
    /// are skipped: never two stripe locks waited for at once).
    fn reclaim(&self, except: usize) {
        for (i, stripe) in self.queue.iter().enumerate() {
            if i == except {
                continue;
            }
            if let Some(mut q) = stripe.try_lock() {
                self.reserved_spans
                    .fetch_sub(std::mem::take(&mut q.credit_spans), Ordering::AcqRel);
                self.reserved_bytes
                    .fetch_sub(std::mem::take(&mut q.credit_bytes), Ordering::AcqRel);
            }
        }
    }

    fn refuse_after_close(&self) {
        Stats::add(&self.stats.spans_dropped, 1);
        Stats::add(&self.stats.spans_refused_after_close, 1);
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
        // The worker waits for session calls before exporting spans: it must exist.
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
            // The loss baseline moves only when a caller is told the result: a flush that timed
            // out leaves its losses for the next flush to report (RELIABILITY.md B2).
            Ok(()) if self.take_flush_result() => Ok(()),
            Ok(()) => Err(FlushError::Lost),
            Err(_) => Err(FlushError::Timeout),
        }
    }

    /// Refuses new spans (they are dropped and counted), delivers what was accepted, then
    /// stops the worker.
    pub fn shutdown(&self, timeout: Duration) -> Result<(), FlushError> {
        {
            let _stripes: Vec<_> = self.queue.iter().map(|q| q.lock()).collect();
            self.closed.store(true, Ordering::Release);
        }
        let result = self.flush(timeout);
        if let Some(link) = self.worker.lock().as_ref() {
            let _ = link.commands.send(Command::Stop);
        }
        result
    }

    /// Starts the worker for this process generation: at first use, and again in a forked
    /// child (see `reset_in_forked_child`).
    pub(crate) fn ensure_worker(&self) -> std::io::Result<()> {
        let generation = runtime::generation();
        if self.worker_generation.load(Ordering::Acquire) == generation {
            return Ok(());
        }
        let mut worker = self.worker.lock();
        if self.worker_generation.load(Ordering::Acquire) == generation {
            return Ok(());
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
        *self.wake.lock() = Some(wake);
        *worker = Some(WorkerLink { commands: tx });
        self.worker_generation.store(generation, Ordering::Release);
        Ok(())
    }

    /// The `worker` lock, for the fork hooks (see `crate::fork`): held while the runtime is
    /// fetched, so it comes before the runtime's lock.
    pub(crate) fn visit_worker_lock(&self, v: &mut impl LockVisitor) -> bool {
        v.visit(&self.worker)
    }

    /// The other locks, for the fork hooks (see `crate::fork`).
    pub(crate) fn visit_inner_locks(&self, v: &mut impl LockVisitor) -> bool {
        v.visit(&self.wake)
            && self.queue.iter().all(|q| v.visit(q))
            && v.visit(&self.spare)
            && self.rest.as_ref().is_none_or(|r| r.visit_locks(v))
    }

    /// In a forked child (one thread, every lock free): the parent's worker does not exist
    /// here, and the spans it had queued are the parent's to send. The child's worker starts
    /// with its first span (`ensure_worker`).
    pub(crate) fn reset_in_forked_child(&self) {
        if let Some(stale) = self.worker.lock().take() {
            // Its task lived on the parent's runtime: dropping the link would wake it there.
            crate::fork::abandon(stale);
        }
        *self.wake.lock() = None;
        for q in &self.queue {
            *q.lock() = Queue::default();
        }
        self.spare.lock().clear();
        self.reserved_spans.store(0, Ordering::Release);
        self.reserved_bytes.store(0, Ordering::Release);
        if let Some(rest) = &self.rest {
            rest.forget_inherited_calls();
        }
        // The child is a new process: its counters and flush result start from zero.
        self.stats.reset();
        self.losses_at_last_flush.store(0, Ordering::Release);
    }

    /// Exports what is queued now, in batches: one sweep, so a flush under sustained load
    /// waits only for the spans queued before it (RELIABILITY.md B3). Spans queued meanwhile
    /// are picked up by the next wake (a full batch notifies again).
    async fn export_all(&self, shared: &Shared) {
        {
            let mut spans: Vec<SpanData> = Vec::new();
            for stripe in &self.queue {
                // Swapped for an empty buffer that already has room (and touched pages), so
                // application threads do not fault in fresh memory after every export.
                let mut empty = self.spare.lock().pop().unwrap_or_default();
                let bytes = {
                    let mut q = stripe.lock();
                    if q.spans.is_empty() {
                        drop(q);
                        self.recycle(empty);
                        continue;
                    }
                    std::mem::swap(&mut q.spans, &mut empty);
                    std::mem::take(&mut q.bytes)
                };
                let taken = empty;
                self.reserved_spans.fetch_sub(taken.len(), Ordering::AcqRel);
                self.reserved_bytes.fetch_sub(bytes, Ordering::AcqRel);
                if spans.is_empty() {
                    spans = taken;
                } else {
                    let mut taken = taken;
                    spans.append(&mut taken);
                    self.recycle(taken);
                }
            }
            if spans.is_empty() {
                self.recycle(spans);
                return;
            }
            // Sessions these spans belong to were submitted before they ended (spec 2.2).
            if let Some(rest) = &self.rest {
                rest.wait_submitted().await;
            }
            for batch in spans.chunks(self.cfg.max_export_batch_size) {
                self.deliver(shared, batch).await;
            }
            crate::local::recycle_attribute_vecs(
                spans.iter_mut().map(|s| std::mem::take(&mut s.attributes)),
            );
            spans.clear();
            self.recycle(spans);
        }
    }

    /// Keeps an emptied span buffer for the next swap (a few, of bounded size; small ones are
    /// not worth keeping on a tracer that exports little).
    fn recycle(&self, mut buffer: Vec<SpanData>) {
        debug_assert!(buffer.is_empty());
        if buffer.capacity() < 64 {
            return;
        }
        let mut spare = self.spare.lock();
        if spare.len() < STRIPES + 1 {
            buffer.shrink_to(self.cfg.max_export_batch_size.max(64));
            spare.push(buffer);
        }
    }

    async fn deliver(&self, shared: &Shared, batch: &[SpanData]) {
        let n = batch.len() as u64;
        Stats::add(&self.stats.export_requests, 1);
        // Ok: how many of the batch the server rejected (OTLP partial success).
        let outcome: Result<u64, String> = match &self.sink {
            Sink::Http {
                url,
                headers,
                protocol,
                style,
            } => {
                let body = match protocol {
                    Protocol::Json => json::encode(batch, &self.encoding, *style),
                    Protocol::Protobuf => protobuf::encode(batch, &self.encoding),
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
                if let Some(w) = &d.partial_warning {
                    self.log.warn(format!("export of {n} spans: {w}"));
                }
                if d.delivered {
                    Ok(d.rejected.min(n))
                } else {
                    Err(d.error.unwrap_or_else(|| "not delivered".into()))
                }
            }
            Sink::File(path) => {
                let mut line = json::encode(batch, &self.encoding, JsonStyle::HoneyHive);
                line.push(b'\n');
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut f| f.write_all(&line))
                    .map(|()| 0)
                    .map_err(|e| format!("writing {}: {e}", path.display()))
            }
            Sink::Console => {
                let mut err = std::io::stderr().lock();
                for s in batch {
                    let _ = writeln!(err, "{}", console_line(s, &self.encoding.stamped));
                }
                Ok(0)
            }
            Sink::Discard => Ok(0),
        };
        match outcome {
            Ok(rejected) => {
                Stats::add(&self.stats.spans_rejected, rejected);
                Stats::add(&self.stats.spans_exported, n - rejected);
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
            for r in replies {
                let _ = r.try_send(());
            }
        }
        if stop {
            return;
        }
    }
}

/// The key the session id is mirrored under on the wire (spec 4.1).
static SESSION_MIRROR_KEY: opentelemetry::Key = crate::span::SESSION_MIRROR_KEY;

/// The attributes of a span as exported: the tracer's stamped ones, then the span's own, with
/// `traceloop.association.properties.session_id` written beside `honeyhive.session_id` (a
/// span stores its session id once). OTLP requires unique keys; a key set twice keeps the
/// last value, as the reference's `set_attribute` does (so a span's own attribute wins over a
/// stamped one). Runs on the export worker, never on the hot path.
pub(crate) fn unique_attributes<'a>(
    stamped: &'a [KeyValue],
    attrs: &'a [KeyValue],
) -> Vec<(&'a opentelemetry::Key, &'a Value)> {
    let n = stamped.len() + attrs.len();
    let mut out = Vec::with_capacity(n + 1);
    let mut push = |kv: &'a KeyValue| {
        out.push((&kv.key, &kv.value));
        if kv.key == crate::span::SESSION_KEY {
            out.push((&SESSION_MIRROR_KEY, &kv.value));
        }
    };
    if n <= 32 {
        for kv in stamped {
            if !attrs.iter().any(|later| later.key == kv.key) {
                push(kv);
            }
        }
        for (i, kv) in attrs.iter().enumerate() {
            if !attrs[i + 1..].iter().any(|later| later.key == kv.key) {
                push(kv);
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut keep: Vec<&KeyValue> = Vec::with_capacity(n);
        for kv in stamped.iter().chain(attrs).rev() {
            if seen.insert(kv.key.as_str()) {
                keep.push(kv);
            }
        }
        for kv in keep.into_iter().rev() {
            push(kv);
        }
    }
    out
}

/// The scope a span is reported under: its own, or the tracer's for spans made here.
pub(crate) fn scope_of<'a>(span: &'a SpanData, enc: &'a Encoding) -> &'a InstrumentationScope {
    if span.instrumentation_scope.name().is_empty() {
        &enc.scope
    } else {
        &span.instrumentation_scope
    }
}

/// Takes `want` (at least `need`) from a reservation counter bounded by `max`; returns what was
/// taken and the counter before, or `None` when not even `need` fits.
fn take(counter: &AtomicUsize, need: usize, want: usize, max: usize) -> Option<(usize, usize)> {
    if want == 0 {
        return Some((0, counter.load(Ordering::Acquire)));
    }
    let mut cur = counter.load(Ordering::Acquire);
    loop {
        let room = max.saturating_sub(cur);
        if room < need.max(1) {
            return None;
        }
        let got = want.min(room);
        match counter.compare_exchange_weak(cur, cur + got, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some((got, cur)),
            Err(now) => cur = now,
        }
    }
}

/// Rough in-memory size of a queued span, for the byte bound.
pub(crate) fn estimate_size(
    name: &str,
    attributes: &[KeyValue],
    events: &[opentelemetry::trace::Event],
) -> usize {
    crate::span_size::span_bytes(name, attributes, events, &[])
}

/// One readable line per span for the console exporter.
fn console_line(s: &SpanData, stamped: &[KeyValue]) -> String {
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
    for (k, v) in unique_attributes(stamped, &s.attributes) {
        line.push_str(&format!(" {k}={v}"));
    }
    if let opentelemetry::trace::Status::Error { description } = &s.status {
        line.push_str(&format!(" ERROR={description:?}"));
    }
    line
}
