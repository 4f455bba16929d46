//! When a tracer's spans are sent: the one place that decides it. To change the batching
//! policy, change this file.
//!
//! Ended spans wait in the tracer's queue (`queue.rs`) until one of these triggers sends them:
//!
//! | Trigger | Who acts | Where |
//! |---|---|---|
//! | a full batch (`max_export_batch_size` spans) is queued | the application thread whose span completes it wakes the worker | `after_push` |
//! | `schedule_delay` passed since the worker last woke | the worker's timer | `wait` |
//! | `flush` (also the exit flush) | a command to the worker, answered once sent | `wait` |
//! | `shutdown` (tracer close) | a flush, then a stop command | `wait` |
//! | immediate mode (`disable_batch`) | the ending thread flushes after each span | `after_push` |
//!
//! Whatever woke it, the worker sends everything queued at that moment (spans queued while it
//! sends wait for the next trigger), cut into requests of at most `max_export_batch_size`
//! spans (`requests`). The queue counts the spans (it reports each multiple of the batch
//! size, `queue::Push`); this file decides what happens then.

use crate::config::BatchConfig;
use opentelemetry_sdk::trace::SpanData;
use std::any::Any;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Notify;

/// The shortest schedule delay: a shorter one (0 included) would wake an idle worker
/// hundreds of times a second for nothing.
pub(crate) const MIN_SCHEDULE_DELAY: Duration = Duration::from_millis(10);

/// What the application thread that queued a span still has to do (outside any lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterEnqueue {
    Nothing,
    /// A full batch is queued: wake the worker.
    Wake,
    /// Immediate mode: wait until the span is exported.
    Flush,
}

/// A request to the worker.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send everything queued, then answer (once the session calls made before are done too).
    Flush(SyncSender<()>),
    /// Send everything queued, answer, and end. Carries what keeps the pipeline alive until
    /// then (see `Pipeline::shutdown`).
    Stop(KeepAlive),
}

/// A strong reference to the worker's owner, held by the worker until it has sent what was
/// queued before a stop (the owner's other references may all be gone by then).
pub(crate) type KeepAlive = Option<Arc<dyn Any + Send + Sync>>;

/// Why the worker woke: the flushes to answer once it has sent, and whether to end.
#[derive(Debug, Default)]
pub(crate) struct Woken {
    pub(crate) replies: Vec<SyncSender<()>>,
    pub(crate) stop: bool,
    /// From the stop command: dropped only when the worker is done.
    pub(crate) keep_alive: KeepAlive,
}

impl Woken {
    fn add(&mut self, command: Option<Command>) {
        match command {
            Some(Command::Flush(reply)) => self.replies.push(reply),
            Some(Command::Stop(keep_alive)) => {
                self.stop = true;
                self.keep_alive = self.keep_alive.take().or(keep_alive);
            }
            // No sender left: the pipeline is gone.
            None => self.stop = true,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BatchPolicy {
    max_batch: usize,
    /// How long the worker waits for another trigger before sending what is queued.
    schedule_delay: Duration,
    immediate: bool,
}

impl BatchPolicy {
    pub(crate) fn new(cfg: &BatchConfig, immediate: bool) -> BatchPolicy {
        BatchPolicy {
            // A batch larger than the queue would never fill: spans would be dropped first.
            max_batch: cfg
                .max_export_batch_size
                .clamp(1, cfg.max_queue_size.max(1)),
            schedule_delay: cfg.schedule_delay.max(MIN_SCHEDULE_DELAY),
            immediate,
        }
    }

    /// Spans per request, and the size of a full batch.
    pub(crate) fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// After a span was queued; `full_batch`: the queue just reached another full batch.
    #[inline]
    pub(crate) fn after_push(&self, full_batch: bool) -> AfterEnqueue {
        if self.immediate {
            AfterEnqueue::Flush
        } else if full_batch {
            AfterEnqueue::Wake
        } else {
            AfterEnqueue::Nothing
        }
    }

    /// The worker's wait for the next trigger: a wake-up (full batch), the schedule delay,
    /// or commands (all those pending are collected).
    pub(crate) async fn wait(
        &self,
        wake: &Notify,
        commands: &mut UnboundedReceiver<Command>,
    ) -> Woken {
        let mut woken = Woken::default();
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(self.schedule_delay) => {}
            command = commands.recv() => woken.add(command),
        }
        while let Ok(command) = commands.try_recv() {
            woken.add(Some(command));
        }
        woken
    }

    /// The requests one sweep of `spans` is sent in.
    pub(crate) fn requests<'a>(&self, spans: &'a [SpanData]) -> std::slice::Chunks<'a, SpanData> {
        spans.chunks(self.max_batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::test_support::span;
    use std::sync::Arc;

    fn policy(schedule_delay_ms: u64, batch: usize, queue: usize, immediate: bool) -> BatchPolicy {
        BatchPolicy::new(
            &BatchConfig {
                max_queue_size: queue,
                max_export_batch_size: batch,
                schedule_delay: Duration::from_millis(schedule_delay_ms),
                ..BatchConfig::default()
            },
            immediate,
        )
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn a_zero_or_tiny_schedule_delay_is_raised_to_the_minimum() {
        assert_eq!(
            policy(0, 512, 2048, false).schedule_delay,
            MIN_SCHEDULE_DELAY
        );
        assert_eq!(
            policy(1, 512, 2048, false).schedule_delay,
            MIN_SCHEDULE_DELAY
        );
        assert_eq!(
            policy(5000, 512, 2048, false).schedule_delay,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn a_full_batch_wakes_the_worker_and_immediate_mode_flushes_every_span() {
        let batch = policy(5000, 512, 2048, false);
        assert_eq!(batch.after_push(false), AfterEnqueue::Nothing);
        assert_eq!(batch.after_push(true), AfterEnqueue::Wake);
        let immediate = policy(5000, 512, 2048, true);
        assert_eq!(immediate.after_push(false), AfterEnqueue::Flush);
        assert_eq!(immediate.after_push(true), AfterEnqueue::Flush);
    }

    #[test]
    fn requests_hold_at_most_a_batch_and_a_batch_fits_the_queue() {
        let spans: Vec<SpanData> = (0..7).map(|i| span(i, 0)).collect();
        let sizes: Vec<usize> = policy(5000, 3, 2048, false)
            .requests(&spans)
            .map(<[SpanData]>::len)
            .collect();
        assert_eq!(sizes, [3, 3, 1]);
        assert_eq!(policy(5000, 512, 100, false).max_batch(), 100);
        assert_eq!(policy(5000, 0, 100, false).max_batch(), 1);
    }

    #[test]
    fn the_worker_wakes_for_a_full_batch_the_timer_and_commands() {
        let rt = runtime();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let wake = Arc::new(Notify::new());
        // Only a wake-up can end this wait (the timer is an hour).
        let p = policy(3_600_000, 512, 2048, false);
        wake.notify_one();
        let woken = rt.block_on(p.wait(&wake, &mut rx));
        assert!(woken.replies.is_empty() && !woken.stop);

        // Commands: every pending one is collected.
        let (r1, a1) = std::sync::mpsc::sync_channel(1);
        let (r2, a2) = std::sync::mpsc::sync_channel(1);
        tx.send(Command::Flush(r1)).unwrap();
        tx.send(Command::Flush(r2)).unwrap();
        tx.send(Command::Stop(None)).unwrap();
        let woken = rt.block_on(p.wait(&wake, &mut rx));
        assert_eq!(woken.replies.len(), 2);
        assert!(woken.stop);
        for r in woken.replies {
            r.send(()).unwrap();
        }
        assert!(a1.recv().is_ok() && a2.recv().is_ok());

        // The pipeline gone (no sender left): stop.
        drop(tx);
        assert!(rt.block_on(p.wait(&wake, &mut rx)).stop);

        // The timer: nothing else can end this wait.
        let (_tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let woken = rt.block_on(policy(0, 512, 2048, false).wait(&Notify::new(), &mut rx));
        assert!(woken.replies.is_empty() && !woken.stop);
    }
}
