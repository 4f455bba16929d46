//! The export worker of one pipeline: a task on the shared runtime that waits for what the
//! batching policy calls a trigger (`batch_policy.rs`), takes everything queued, hands it to
//! the sink one request at a time, counts each outcome, and answers flushes.
//!
//! It survives its own panics: a panic while sending a request fails that request (its spans
//! are counted dropped, the failure logged); one anywhere else in a sweep counts the spans the
//! sweep had not accounted for yet. Either way the worker answers the flushes waiting on it
//! and goes on with the next trigger. So `exported + dropped == ended` holds once the queue is
//! empty, whatever happened.
//!
//! Session calls never hold the worker: spans whose session start is still pending are held
//! back (`Held`), at most until that start finishes or its bound passes, while every other span
//! goes at once. A flush's answer waits for the session calls made before it, on a task of its
//! own, after the worker has sent the spans.

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
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use std::collections::HashMap;
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
    /// Session calls: spans wait for the start of their session (it must exist first).
    pub(crate) rest: Option<Arc<Rest>>,
    /// Spans held back for their session's start, at most (past it they go anyway).
    pub(crate) max_held: usize,
    pub(crate) faults: Faults,
}

/// Runs until its owner stops it (`Command::Stop`, whose reference keeps the owner alive until
/// the last sweep is done) or is dropped.
pub(super) async fn run<P: AsRef<Work> + Send + Sync + 'static>(
    owner: Weak<P>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    wake: Arc<Notify>,
    shared: Arc<Shared>,
) {
    let (policy, mut sink, rest, dropped, encoding) = match owner.upgrade() {
        Some(owner) => {
            let w = (*owner).as_ref();
            // A worker runs in one process (a forked child starts its own): the resource
            // names that process.
            let encoding = Encoding {
                resource: crate::resource::in_this_process(&w.encoding.resource),
                ..w.encoding.clone()
            };
            (
                w.policy.clone(),
                sink::open(&w.sink, &shared, w.export_timeout),
                w.rest.clone(),
                w.stats.clone(),
                encoding,
            )
        }
        None => return,
    };
    let mut held = Held::new(dropped);
    loop {
        let woken = match &rest {
            Some(rest) if !held.spans.is_empty() => {
                tokio::select! {
                    woken = policy.wait(&wake, &mut commands) => woken,
                    _ = held.some_start_settles(rest) => Default::default(),
                }
            }
            _ => policy.wait(&wake, &mut commands).await,
        };
        let Some(owner) = owner.upgrade() else { return };
        let p = (*owner).as_ref();
        let flushing = !woken.replies.is_empty() || woken.stop;
        let sweep = send_queued(p, &encoding, &policy, sink.as_mut(), &mut held, flushing);
        if let Err(panic) = guarded(|| Box::pin(sweep)).await {
            p.log.warn(format!("export worker: {panic}; it goes on"));
        }
        if flushing {
            // A flush covers the session calls made before it too; waiting for them here would
            // hold back the spans of the next sweep.
            let calls = rest.as_ref().map(|r| r.unfinished()).unwrap_or_default();
            let answer = async move {
                for c in calls {
                    c.wait().await;
                }
                for reply in woken.replies {
                    let _ = reply.try_send(());
                }
            };
            if woken.stop {
                answer.await;
                return;
            }
            shared.handle.spawn(answer);
        }
    }
}

/// One sweep: sends everything queued now, in the policy's requests. A flush under sustained
/// load thus waits only for the spans queued before it (RELIABILITY.md B3); spans queued
/// meanwhile go with the next trigger (a full batch wakes the worker again). Spans whose
/// session start is pending are held back, except by a flush, which waits for those starts
/// (within their bound) and then sends them too.
async fn send_queued(
    p: &Work,
    enc: &Encoding,
    policy: &BatchPolicy,
    sink: &mut dyn SpanSink,
    held: &mut Held,
    flushing: bool,
) {
    let mut spans = p.queue.take_all();
    if spans.is_empty() && held.spans.is_empty() {
        p.queue.recycle(spans);
        return;
    }
    let mut unsent = Unsent::new(&p.stats, spans.len());
    p.faults.panic_if_armed(Place::Sweep);
    // The server must know a session before its spans arrive: spans of a session whose start
    // is pending wait for it, all others go now.
    if let Some(rest) = &p.rest {
        held.sort(rest, &mut spans, p.max_held);
        unsent.left = spans.len();
    }
    send(p, enc, policy, sink, &mut spans, &mut unsent).await;
    // A flush covers the held spans too: each goes as soon as its session's start settles.
    while flushing && !held.spans.is_empty() {
        let Some(rest) = &p.rest else {
            spans.append(&mut held.spans);
            unsent.left = spans.len();
            send(p, enc, policy, sink, &mut spans, &mut unsent).await;
            break;
        };
        held.some_start_settles(rest).await;
        held.sort(rest, &mut spans, p.max_held);
        unsent.left = spans.len();
        send(p, enc, policy, sink, &mut spans, &mut unsent).await;
    }
    p.queue.recycle(spans);
}

async fn send(
    p: &Work,
    enc: &Encoding,
    policy: &BatchPolicy,
    sink: &mut dyn SpanSink,
    spans: &mut Vec<SpanData>,
    unsent: &mut Unsent<'_>,
) {
    for request in policy.requests(spans) {
        deliver(p, enc, sink, request).await;
        unsent.sent(request.len());
    }
    crate::local::recycle_attribute_vecs(
        spans.iter_mut().map(|s| std::mem::take(&mut s.attributes)),
    );
    spans.clear();
}

/// Spans held back until their session's start finishes (or its bound passes). They are the
/// worker's own: counted dropped if the worker ends with them.
struct Held {
    spans: Vec<SpanData>,
    stats: Arc<Stats>,
}

impl Held {
    fn new(stats: Arc<Stats>) -> Self {
        Held {
            spans: Vec::new(),
            stats,
        }
    }

    /// Moves into `ready` the held spans that may go now, and into the held ones the spans of
    /// `ready` that must wait. Past `max` held spans, the oldest go anyway (memory stays
    /// bounded by the queue's bound).
    fn sort(&mut self, rest: &Rest, ready: &mut Vec<SpanData>, max: usize) {
        let waiting = rest.pending_starts();
        if waiting.is_empty() {
            ready.append(&mut self.spans);
            return;
        }
        if self.spans.is_empty() && !ready.iter().any(|s| waits(s, &waiting)) {
            return;
        }
        let all: Vec<SpanData> = std::mem::take(&mut self.spans)
            .into_iter()
            .chain(ready.drain(..))
            .collect();
        for span in all {
            if waits(&span, &waiting) {
                self.spans.push(span);
            } else {
                ready.push(span);
            }
        }
        if self.spans.len() > max {
            let excess = self.spans.len() - max;
            ready.extend(self.spans.drain(..excess));
        }
    }

    /// Resolves when a start the held spans wait for finishes or reaches its bound.
    async fn some_start_settles(&self, rest: &Rest) {
        let finished = rest.start_finished();
        tokio::pin!(finished);
        finished.as_mut().enable();
        let waiting = rest.pending_starts();
        let until = self
            .spans
            .iter()
            .filter_map(|s| session_of(s).and_then(|sid| waiting.get(sid)))
            .min()
            .copied();
        match until {
            // The held spans' starts all finished since they were held: go now.
            None => {}
            Some(until) => {
                tokio::select! {
                    _ = finished => {}
                    _ = tokio::time::sleep_until(until.into()) => {}
                }
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.stats.drop_lost(self.spans.len() as u64);
    }
}

/// Whether this span's session start is pending.
fn waits(span: &SpanData, waiting: &HashMap<String, std::time::Instant>) -> bool {
    session_of(span).is_some_and(|sid| waiting.contains_key(sid))
}

/// The session a span belongs to (its `honeyhive.session_id` attribute).
fn session_of(span: &SpanData) -> Option<&str> {
    span.attributes
        .iter()
        .find(|kv| kv.key == crate::keys::SESSION_KEY)
        .and_then(|kv| match &kv.value {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        })
}

/// Sends one request and counts its outcome (a panic inside is that request's failure).
async fn deliver(p: &Work, enc: &Encoding, sink: &mut dyn SpanSink, request: &[SpanData]) {
    let n = request.len() as u64;
    Stats::add(&p.stats.export_requests, 1);
    let outcome = guarded(|| {
        p.faults.panic_if_armed(Place::Delivery);
        sink.export(request, enc)
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
            p.stats.drop_lost(n);
            p.log.warn(format!("export of {n} spans failed: {e}"));
        }
    }
}

/// Spans a sweep took from the queue and has not counted yet: counted dropped if the sweep
/// ends early (a panic unwinding through it), so that no span goes uncounted.
struct Unsent<'a> {
    stats: &'a Stats,
    left: usize,
}

impl<'a> Unsent<'a> {
    fn new(stats: &'a Stats, left: usize) -> Self {
        Unsent { stats, left }
    }

    fn sent(&mut self, n: usize) {
        self.left -= n.min(self.left);
    }
}

impl Drop for Unsent<'_> {
    fn drop(&mut self) {
        if self.left > 0 {
            self.stats.drop_lost(self.left as u64);
        }
    }
}
