//! The export pipeline of one tracer, tying its parts together: ended spans go into the
//! bounded queue (`queue.rs`) on application threads; the batching policy
//! (`batch_policy.rs`) says when they are sent; the worker (`worker.rs`), a task on the shared
//! runtime, sends them through the tracer's sink (`sink/`). This file also holds what the
//! fork hooks need of a pipeline (its locks, and its reset in a child).

use super::batch_policy::{AfterEnqueue, BatchPolicy, Command};
use super::encode::Encoding;
use super::fault::Faults;
use super::queue::{Push, StripedQueue};
use super::rest::Rest;
use super::sink::Sink;
use super::worker::{self, Work};
use crate::config::BatchConfig;
use crate::fork::{LockVisitor, ShortLock};
use crate::log::Logger;
use crate::runtime;
use crate::stats::Stats;
use opentelemetry_sdk::trace::SpanData;
use reqwest::Method;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// Why a flush did not report full delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushError {
    Timeout,
    Lost,
    Runtime,
}

/// The worker of the current process generation.
#[derive(Debug)]
struct WorkerLink {
    commands: mpsc::UnboundedSender<Command>,
}

const NO_WORKER: u64 = u64::MAX;

#[derive(Debug)]
pub struct Pipeline {
    /// The queue, policy, sink and counters, shared with the worker.
    pub(super) work: Work,
    /// The sink is `Sink::Discard`: spans are counted and go nowhere, not even into the queue.
    discard: bool,
    worker: ShortLock<Option<WorkerLink>>,
    /// The worker's wake-up, apart from `worker`: application threads take it often.
    wake: ShortLock<Option<Arc<Notify>>>,
    worker_generation: AtomicU64,
    losses_at_last_flush: AtomicU64,
    pub rest: Option<Arc<Rest>>,
    me: Weak<Pipeline>,
}

impl AsRef<Work> for Pipeline {
    fn as_ref(&self) -> &Work {
        &self.work
    }
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
        let policy = BatchPolicy::new(&cfg, immediate);
        let queue = StripedQueue::new(cfg.max_queue_size, cfg.max_queue_bytes, policy.max_batch());
        let pipeline = Arc::new_cyclic(|me| Pipeline {
            discard: matches!(sink, Sink::Discard),
            work: Work {
                queue,
                policy,
                sink,
                encoding,
                export_timeout: cfg.export_timeout,
                stats,
                log,
                rest: rest.clone(),
                max_held: cfg.max_queue_size,
                faults: Faults::default(),
            },
            worker: ShortLock::new(None),
            wake: Default::default(),
            worker_generation: AtomicU64::new(NO_WORKER),
            losses_at_last_flush: AtomicU64::new(0),
            rest,
            me: me.clone(),
        });
        crate::fork::register(&pipeline);
        pipeline
    }

    pub fn queue_len(&self) -> usize {
        self.work.queue.len()
    }

    /// Takes an ended span from an application thread: never waits on the network
    /// (except in immediate mode, which the user chose for exactly that). Returns false when
    /// the span was refused because the pipeline is shut down (true also when the queue was
    /// full: that drop is counted and reported by the next flush).
    pub fn push(&self, span: SpanData) -> bool {
        let size =
            crate::span_size::span_bytes(&span.name, &span.attributes, &span.events, &span.links);
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
        self.work.stats.spans_ended.add(1);
        if self.discard {
            if self.work.queue.is_closed() {
                self.refuse_after_close();
                return (false, AfterEnqueue::Nothing);
            }
            return (true, AfterEnqueue::Nothing);
        }
        let link_ok = self.ensure_worker().is_ok();
        match self.work.queue.push(size, span) {
            Push::Queued { full_batch } => {
                if link_ok {
                    (true, self.work.policy.after_push(full_batch))
                } else {
                    (true, AfterEnqueue::Nothing)
                }
            }
            Push::Full => {
                self.drop_queue_full();
                (true, AfterEnqueue::Nothing)
            }
            Push::Closed => {
                self.refuse_after_close();
                (false, AfterEnqueue::Nothing)
            }
        }
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
                let _ = self.flush(self.work.export_timeout + Duration::from_secs(1));
            }
        }
    }

    #[cold]
    fn drop_queue_full(&self) {
        self.work.stats.drop_lost(1);
        self.work
            .log
            .warn_deferred("export queue full: span dropped (see stats spans_dropped)");
    }

    #[cold]
    fn refuse_after_close(&self) {
        self.work.stats.refuse_after_close();
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
                Stats::add(&self.work.stats.rest_calls, 1);
                Stats::add(&self.work.stats.rest_failures, 1);
                self.work
                    .log
                    .warn_deferred(format!("background runtime unavailable: {e}"));
            }
        }
    }

    /// Waits up to `timeout` for everything queued before the call to be delivered.
    pub fn flush(&self, timeout: Duration) -> Result<(), FlushError> {
        let nothing_to_do = self.discard && self.rest.is_none();
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
        self.work.queue.close();
        let result = self.flush(timeout);
        // Session calls still pending past the close's deadline are given up (and counted):
        // a closed tracer keeps nothing.
        if let Some(rest) = &self.rest {
            rest.cancel_pending();
        }
        // The worker goes on delivering what was accepted after a close that timed out; the
        // closed tracer's slot lets go of the pipeline at once, so the stop command carries a
        // reference that keeps it alive until the worker has sent it all.
        let keep_alive = self
            .me
            .upgrade()
            .map(|p| p as Arc<dyn std::any::Any + Send + Sync>);
        if let Some(link) = self.worker.lock().as_ref() {
            let _ = link.commands.send(Command::Stop(keep_alive));
        }
        result
    }

    /// True when nothing was lost since the previous flush.
    fn take_flush_result(&self) -> bool {
        let now = self.work.stats.losses();
        let before = self.losses_at_last_flush.swap(now, Ordering::AcqRel);
        now == before
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
        shared.handle.spawn(worker::run(
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

    // ---- fork --------------------------------------------------------------------------

    /// Whether this pipeline has nothing of this process left to deliver at exit: it was
    /// closed (and delivered what it had then), or its worker never started in this process (a
    /// forked child that never traced: what the parent queued is the parent's to send).
    pub(crate) fn nothing_to_flush_at_exit(&self) -> bool {
        self.work.queue.is_closed()
            || self.worker_generation.load(Ordering::Acquire) != crate::runtime::generation()
    }

    /// The `worker` lock, for the fork hooks (see `crate::fork`): held while the runtime is
    /// fetched, so it comes before the runtime's lock.
    pub(crate) fn visit_worker_lock(&self, v: &mut impl LockVisitor) -> bool {
        v.visit(&self.worker)
    }

    /// The other locks, for the fork hooks (see `crate::fork`).
    pub(crate) fn visit_inner_locks(&self, v: &mut impl LockVisitor) -> bool {
        v.visit(&self.wake)
            && self.work.queue.visit_locks(v)
            && self.rest.as_ref().is_none_or(|r| r.visit_locks(v))
    }

    /// In a forked child (one thread, every lock free): the parent's worker (and its sink's
    /// threads) do not exist here, and the spans it had queued are the parent's to send. The
    /// child's worker starts with its first span (`ensure_worker`).
    pub(crate) fn reset_in_forked_child(&self) {
        if let Some(stale) = self.worker.lock().take() {
            // Its task lived on the parent's runtime: dropping the link would wake it there.
            crate::fork::abandon(stale);
        }
        *self.wake.lock() = None;
        self.work.queue.forget_all();
        if let Some(rest) = &self.rest {
            rest.forget_inherited_calls();
        }
        // The child is a new process: its counters and flush result start from zero.
        self.work.stats.reset();
        self.losses_at_last_flush.store(0, Ordering::Release);
    }
}
