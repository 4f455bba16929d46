//! The export worker of one pipeline: a task on the shared runtime that waits for what the
//! batching policy calls a trigger (`batch_policy.rs`), takes everything queued, hands it to
//! the sink one request at a time, counts each outcome, and answers flushes.
//!
//! It survives its own panics: a panic while sending a request fails that request (its spans
//! are counted dropped, the failure logged); one anywhere else in a sweep counts the spans the
//! sweep had not accounted for yet. Either way the worker answers the flushes waiting on it
//! and goes on with the next trigger. So `exported + dropped == ended` holds once the queue is
//! empty, whatever happened.

use super::batch_policy::{BatchPolicy, Command};
use super::encode::Encoding;
use super::fault::{Faults, Place};
use super::panic_guard::guarded;
use super::queue::StripedQueue;
use super::rest::Rest;
use super::sink::{self, Sink, SpanSink};
use crate::log::Logger;
use crate::runtime::Shared;
use crate::stats::Stats;
use opentelemetry_sdk::trace::SpanData;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// What the worker works on. Its pipeline holds it (the application threads' side uses the
/// queue and the stats too) and lends it to the worker (`AsRef<Work>`).
#[derive(Debug)]
pub(crate) struct Work {
    pub(crate) queue: StripedQueue,
    pub(crate) policy: BatchPolicy,
    pub(crate) sink: Sink,
    pub(crate) encoding: Encoding,
    pub(crate) export_timeout: Duration,
    pub(crate) stats: Arc<Stats>,
    pub(crate) log: Arc<Logger>,
    /// Session calls, which spans wait for (their session must exist first).
    pub(crate) rest: Option<Arc<Rest>>,
    pub(crate) faults: Faults,
}

/// Runs until its owner stops it (`Command::Stop`) or is dropped.
pub(super) async fn run<P: AsRef<Work> + Send + Sync + 'static>(
    owner: Weak<P>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    wake: Arc<Notify>,
    shared: Arc<Shared>,
) {
    let (policy, mut sink) = match owner.upgrade() {
        Some(owner) => {
            let w = (*owner).as_ref();
            (
                w.policy.clone(),
                sink::open(&w.sink, &shared, w.export_timeout),
            )
        }
        None => return,
    };
    loop {
        let woken = policy.wait(&wake, &mut commands).await;
        let Some(owner) = owner.upgrade() else { return };
        let p = (*owner).as_ref();
        if let Err(panic) = guarded(|| Box::pin(send_queued(p, &policy, sink.as_mut()))).await {
            p.log.warn(format!("export worker: {panic}; it goes on"));
        }
        if !woken.replies.is_empty() || woken.stop {
            // A flush covers the session calls made before it too.
            if let Some(rest) = &p.rest {
                if let Err(panic) = guarded(|| Box::pin(rest.wait_submitted())).await {
                    p.log.warn(format!("waiting for session calls: {panic}"));
                }
            }
            for reply in woken.replies {
                let _ = reply.try_send(());
            }
        }
        if woken.stop {
            return;
        }
    }
}

/// One sweep: sends everything queued now, in the policy's requests. A flush under sustained
/// load thus waits only for the spans queued before it (RELIABILITY.md B3); spans queued
/// meanwhile go with the next trigger (a full batch wakes the worker again).
async fn send_queued(p: &Work, policy: &BatchPolicy, sink: &mut dyn SpanSink) {
    let mut spans = p.queue.take_all();
    if spans.is_empty() {
        p.queue.recycle(spans);
        return;
    }
    let mut unsent = Unsent::new(&p.stats.spans_dropped, spans.len());
    p.faults.panic_if_armed(Place::Sweep);
    // The sessions of these spans were submitted before the spans ended: the server must
    // know a session before its spans arrive.
    if let Some(rest) = &p.rest {
        rest.wait_submitted().await;
    }
    for request in policy.requests(&spans) {
        deliver(p, sink, request).await;
        unsent.sent(request.len());
    }
    crate::local::recycle_attribute_vecs(
        spans.iter_mut().map(|s| std::mem::take(&mut s.attributes)),
    );
    p.queue.recycle(spans);
}

/// Sends one request and counts its outcome (a panic inside is that request's failure).
async fn deliver(p: &Work, sink: &mut dyn SpanSink, request: &[SpanData]) {
    let n = request.len() as u64;
    Stats::add(&p.stats.export_requests, 1);
    let outcome = guarded(|| {
        p.faults.panic_if_armed(Place::Delivery);
        sink.export(request, &p.encoding)
    })
    .await;
    let result = match outcome {
        Ok(outcome) => {
            Stats::add(&p.stats.export_retries, outcome.retries);
            if let Some(w) = &outcome.warning {
                p.log.warn(format!("export of {n} spans: {w}"));
            }
            outcome.result
        }
        Err(panic) => Err(panic),
    };
    match result {
        Ok(rejected) => {
            Stats::add(&p.stats.spans_rejected, rejected);
            Stats::add(&p.stats.spans_exported, n - rejected);
            p.log.debug(|| format!("exported {n} spans"));
        }
        Err(e) => {
            Stats::add(&p.stats.export_failures, 1);
            Stats::add(&p.stats.spans_dropped, n);
            p.log.warn(format!("export of {n} spans failed: {e}"));
        }
    }
}

/// Spans a sweep took from the queue and has not counted yet: counted dropped if the sweep
/// ends early (a panic unwinding through it), so that no span goes uncounted.
struct Unsent<'a> {
    dropped: &'a AtomicU64,
    left: usize,
}

impl<'a> Unsent<'a> {
    fn new(dropped: &'a AtomicU64, left: usize) -> Self {
        Unsent { dropped, left }
    }

    fn sent(&mut self, n: usize) {
        self.left -= n.min(self.left);
    }
}

impl Drop for Unsent<'_> {
    fn drop(&mut self) {
        if self.left > 0 {
            Stats::add(self.dropped, self.left as u64);
        }
    }
}
