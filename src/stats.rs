//! Per-tracer counters, updated with relaxed atomics (they are reports, not synchronization).
//!
//! The list of counters is written once, as `StatsSnapshot` below: cbindgen reads it as
//! written for the C header's `hh_stats`, and `stats_table!` derives the live counters
//! (`Stats`), their reset and the snapshot from it.
//!
//! To add a counter (say `spans_rejected`):
//! 1. here, a field at the end (after `queue_len`: the C struct only grows at its end): `#[counter(AtomicU64)]` (or `Striped` for a counter
//!    bumped on every span from many threads), its doc, `pub spans_rejected: u64,`;
//! 2. bump it where it happens: `Stats::add(&stats.spans_rejected, 1)`;
//! 3. `make header` (regenerates include/honeyhive.h and Ruby's tables);
//! 4. Go: a `SpansRejected` field in `Stats` (bindings/go/tracer.go) and its line in
//!    `cTracerStats` (bindings/go/capi.go); the Go build and `make header-check` fail until
//!    both are there. C++ (`Stats` is `hh_stats`) and Ruby need nothing.

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
}

/// What `stats_table!` needs of a counter: read it, zero it.
pub trait Counter {
    fn get(&self) -> u64;
    fn zero(&self);
}

impl Counter for Striped {
    fn get(&self) -> u64 {
        self.load()
    }
    fn zero(&self) {
        for c in &self.0 {
            c.store(0, Relaxed);
        }
    }
}

impl Counter for AtomicU64 {
    fn get(&self) -> u64 {
        self.load(Relaxed)
    }
    fn zero(&self) {
        self.store(0, Relaxed);
    }
}

/// Derives `Stats` (one live counter per `#[counter(Type)]` field of `StatsSnapshot`, of that
/// type, plus the internal counters written here), `Stats::reset` and `Stats::snapshot`.
macro_rules! stats_table {
    (
        $(#[$attr:meta])*
        pub struct StatsSnapshot {
            $(
                #[counter($counter:ident)]
                $(#[doc = $doc:literal])*
                pub $field:ident: u64,
            )*
            #[gauge]
            $(#[doc = $queue_doc:literal])*
            pub queue_len: u64,
            $(
                #[counter($counter_after:ident)]
                $(#[doc = $doc_after:literal])*
                pub $field_after:ident: u64,
            )*
        }
    ) => {
        /// The live counters of one tracer.
        #[derive(Debug, Default)]
        pub struct Stats {
            $( $(#[doc = $doc])* pub $field: $counter, )*
            $( $(#[doc = $doc_after])* pub $field_after: $counter_after, )*
            /// Part of `spans_dropped`: spans ended after close. Their own `end` call reported
            /// it, so they do not make a flush or close report a loss.
            pub spans_refused_after_close: AtomicU64,
            /// The rest of `spans_dropped`: spans lost without their caller being told. Its own
            /// counter, bumped with `spans_dropped` in one call (`drop_lost`), so that a flush
            /// reading it while other threads have spans refused after close never sees half of
            /// a refusal (`spans_dropped` bumped, `spans_refused_after_close` not yet).
            spans_lost: AtomicU64,
        }

        impl Stats {
            /// Zeroes every counter (in a forked child).
            pub fn reset(&self) {
                $( Counter::zero(&self.$field); )*
                $( Counter::zero(&self.$field_after); )*
                self.spans_refused_after_close.zero();
                self.spans_lost.zero();
            }

            pub fn snapshot(&self, queue_len: usize) -> StatsSnapshot {
                StatsSnapshot {
                    $( $field: Counter::get(&self.$field), )*
                    queue_len: queue_len as u64,
                    $( $field_after: Counter::get(&self.$field_after), )*
                }
            }
        }
    };
}

// A point-in-time copy of the counters; the C ABI's `hh_stats` (cbindgen renames it).
/// Counters of one tracer, for `hh_tracer_stats`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, honeyhive_macros::Table)]
#[table(stats_table)]
pub struct StatsSnapshot {
    #[counter(Striped)]
    /// Spans started on this tracer.
    pub spans_started: u64,
    #[counter(Striped)]
    /// Spans ended and recorded (spans excluded by span_name_filters are not recorded).
    pub spans_ended: u64,
    #[counter(AtomicU64)]
    /// Spans delivered: a 2xx answer (less the spans it rejected), or written by the
    /// file/console exporter.
    pub spans_exported: u64,
    #[counter(AtomicU64)]
    /// Spans lost: queue full, export failed after retries, or ended after close.
    pub spans_dropped: u64,
    #[counter(AtomicU64)]
    /// Export requests attempted (one per batch).
    pub export_requests: u64,
    #[counter(AtomicU64)]
    /// Export requests that failed after all retries.
    pub export_failures: u64,
    #[counter(AtomicU64)]
    /// Retries made by export requests.
    pub export_retries: u64,
    #[counter(AtomicU64)]
    /// Session REST calls (session start, enrich session) made.
    pub rest_calls: u64,
    #[counter(AtomicU64)]
    /// Session REST calls that failed after all retries (or were dropped).
    pub rest_failures: u64,
    #[counter(AtomicU64)]
    /// Spans a server answered 2xx for but said it rejected (OTLP partial success): lost, and
    /// not part of `spans_exported` or `spans_dropped`.
    pub spans_rejected: u64,
    #[gauge]
    /// Spans waiting in the export queue now.
    pub queue_len: u64,
    #[counter(AtomicU64)]
    /// Spans not exported because they had no session (HoneyHive cannot attribute them):
    /// recorded spans ended on a tracer with neither a default session nor one given or
    /// inherited. Counted in `spans_ended`, not in `spans_dropped`.
    pub spans_no_session: u64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// `n` spans lost without their caller being told (queue full, export failed, sweep
    /// panicked): counted in `spans_dropped`, and reported by the next flush.
    pub fn drop_lost(&self, n: u64) {
        self.spans_dropped.fetch_add(n, Relaxed);
        self.spans_lost.fetch_add(n, Relaxed);
    }

    /// A span refused because its tracer was closed: counted in `spans_dropped`; its own `end`
    /// call reported it, so no flush does.
    pub fn refuse_after_close(&self) {
        self.spans_dropped.fetch_add(1, Relaxed);
        self.spans_refused_after_close.fetch_add(1, Relaxed);
    }

    /// Everything that was lost without the caller being told at once: dropped spans (except
    /// those refused after close), spans the server rejected, and failed REST calls.
    pub fn losses(&self) -> u64 {
        self.spans_lost.load(Relaxed)
            + self.spans_rejected.load(Relaxed)
            + self.rest_failures.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_reads_each_counter_into_its_field_and_reset_zeroes_them_all() {
        let stats = Stats::default();
        stats.spans_started.add(1);
        stats.spans_ended.add(2);
        for (counter, n) in [
            (&stats.spans_exported, 3),
            (&stats.export_requests, 5),
            (&stats.export_failures, 6),
            (&stats.export_retries, 7),
            (&stats.rest_calls, 8),
            (&stats.rest_failures, 9),
            (&stats.spans_rejected, 11),
            (&stats.spans_no_session, 12),
        ] {
            Stats::add(counter, n);
        }
        stats.drop_lost(3);
        stats.refuse_after_close();
        let expected = StatsSnapshot {
            spans_started: 1,
            spans_ended: 2,
            spans_exported: 3,
            spans_dropped: 4,
            export_requests: 5,
            export_failures: 6,
            export_retries: 7,
            rest_calls: 8,
            rest_failures: 9,
            spans_rejected: 11,
            queue_len: 10,
            spans_no_session: 12,
        };
        assert_eq!(stats.snapshot(10), expected);
        // 4 dropped, 1 of them refused after close (already reported), 11 rejected, 9 REST
        // failures.
        assert_eq!(stats.losses(), 3 + 11 + 9);

        stats.reset();
        assert_eq!(
            stats.snapshot(0),
            StatsSnapshot::default(),
            "reset zeroes every counter"
        );
        assert_eq!(stats.losses(), 0);
        assert_eq!(stats.spans_refused_after_close.load(Relaxed), 0);
    }
}

#[cfg(test)]
mod loss_tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// A flush reads the losses while other threads have spans refused after close: refusals
    /// are never losses, whenever the read lands (it used to subtract one counter from another
    /// that were bumped one after the other, and could see a refusal half done).
    #[test]
    fn refusals_never_show_as_losses_while_they_happen() {
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let refusers: Vec<_> = (0..2)
            .map(|_| {
                let (stats, stop) = (stats.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Relaxed) {
                        stats.refuse_after_close();
                    }
                })
            })
            .collect();
        // Read while the refusers run: until they made 200,000 refusals (a 30 s cap only keeps
        // a starved run from hanging; the assertions below do not depend on time).
        let mut nonzero = 0;
        let cap = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while stats.spans_refused_after_close.load(Relaxed) < 200_000
            && std::time::Instant::now() < cap
        {
            if stats.losses() != 0 {
                nonzero += 1;
            }
        }
        stop.store(true, Relaxed);
        for r in refusers {
            r.join().unwrap();
        }
        assert_eq!(nonzero, 0);
        let s = stats.snapshot(0);
        assert_eq!(
            s.spans_dropped,
            stats.spans_refused_after_close.load(Relaxed)
        );
        assert!(s.spans_dropped > 0);
    }
}
