//! Per-tracer counters, updated with relaxed atomics (they are reports, not synchronization).

use crate::local::Padded;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Stripes of a per-span counter.
const STRIPES: usize = 8;

/// A counter bumped on every span: one stripe per thread (by `local::index()`), summed when
/// read, so that threads tracing at once do not write the same cache line.
#[derive(Debug, Default)]
pub struct Striped([Padded<AtomicU64>; STRIPES]);

impl Striped {
    #[inline]
    pub fn add(&self, n: u64) {
        self.0[crate::local::index() % STRIPES].fetch_add(n, Relaxed);
    }
    pub fn load(&self) -> u64 {
        self.0.iter().map(|c| c.load(Relaxed)).sum()
    }
    fn reset(&self) {
        for c in &self.0 {
            c.store(0, Relaxed);
        }
    }
}

#[derive(Debug, Default)]
pub struct Stats {
    pub spans_started: Striped,
    pub spans_ended: Striped,
    pub spans_exported: AtomicU64,
    pub spans_dropped: AtomicU64,
    pub export_requests: AtomicU64,
    pub export_failures: AtomicU64,
    pub export_retries: AtomicU64,
    pub rest_calls: AtomicU64,
    pub rest_failures: AtomicU64,
    /// Part of `spans_dropped`: spans ended after close. Their own `end` call reported it, so
    /// they do not make a flush or close report a loss.
    pub spans_refused_after_close: AtomicU64,
    /// Spans a server answered 2xx for but said it rejected (OTLP partial success): lost, and
    /// not part of `spans_exported` or `spans_dropped`.
    pub spans_rejected: AtomicU64,
}

/// A point-in-time copy of the counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub spans_started: u64,
    pub spans_ended: u64,
    pub spans_exported: u64,
    pub spans_dropped: u64,
    pub export_requests: u64,
    pub export_failures: u64,
    pub export_retries: u64,
    pub rest_calls: u64,
    pub rest_failures: u64,
    pub queue_len: u64,
    pub spans_rejected: u64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// Zeroes every counter (in a forked child).
    pub fn reset(&self) {
        self.spans_started.reset();
        self.spans_ended.reset();
        for c in [
            &self.spans_exported,
            &self.spans_dropped,
            &self.export_requests,
            &self.export_failures,
            &self.export_retries,
            &self.rest_calls,
            &self.rest_failures,
            &self.spans_refused_after_close,
            &self.spans_rejected,
        ] {
            c.store(0, Relaxed);
        }
    }

    /// Everything that was lost without the caller being told at once: dropped spans (except
    /// those refused after close), spans the server rejected, and failed REST calls.
    pub fn losses(&self) -> u64 {
        self.spans_dropped.load(Relaxed)
            - self
                .spans_refused_after_close
                .load(Relaxed)
                .min(self.spans_dropped.load(Relaxed))
            + self.spans_rejected.load(Relaxed)
            + self.rest_failures.load(Relaxed)
    }

    pub fn snapshot(&self, queue_len: usize) -> StatsSnapshot {
        StatsSnapshot {
            spans_started: self.spans_started.load(),
            spans_ended: self.spans_ended.load(),
            spans_exported: self.spans_exported.load(Relaxed),
            spans_dropped: self.spans_dropped.load(Relaxed),
            export_requests: self.export_requests.load(Relaxed),
            export_failures: self.export_failures.load(Relaxed),
            export_retries: self.export_retries.load(Relaxed),
            rest_calls: self.rest_calls.load(Relaxed),
            rest_failures: self.rest_failures.load(Relaxed),
            queue_len: queue_len as u64,
            spans_rejected: self.spans_rejected.load(Relaxed),
        }
    }
}
