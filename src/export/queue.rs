//! The bounded queue between application threads (which push ended spans) and the export
//! worker (which takes them all at once).
//!
//! It is striped: each application thread appends to the stripe of its `local::index()`, so
//! threads ending spans at once take different locks and write different cache lines. The
//! bounds (`max_spans`, `max_bytes`) stay exact across stripes: a stripe reserves room from
//! the queue-wide totals a few spans (and bytes) at a time, and a stripe that finds the totals
//! spent first takes back what the other stripes reserved but did not use, so a span is
//! refused only when the queue really holds the bound.
//!
//! Invariants (tested below, also under many threads):
//! - the spans held never exceed `max_spans`, their sizes never exceed `max_bytes`;
//! - every push is either held until `take_all` returns it, or answered `Full` / `Closed`;
//! - after `close`, every push is answered `Closed` (a span is never stranded after the
//!   final `take_all`).

use crate::fork::{LockVisitor, ShortLock};
use crate::local::Padded;
use opentelemetry_sdk::trace::SpanData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Stripes of the queue (threads beyond this many share stripes).
const STRIPES: usize = 8;
/// Emptied span buffers kept for reuse.
const SPARE_BUFFERS: usize = STRIPES + 1;
/// Smaller emptied buffers are not worth keeping.
const MIN_SPARE_CAPACITY: usize = 64;

/// What became of a pushed span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Push {
    /// Held. `full_batch`: the queue just reached another multiple of `batch` spans (exact
    /// with one thread, whose stripe is the whole queue; with several, noticed when a stripe
    /// reserves room from the totals).
    Queued { full_batch: bool },
    /// Refused: the queue holds its bound of spans or bytes.
    Full,
    /// Refused: the queue is closed.
    Closed,
}

/// One stripe of the queue.
#[derive(Debug, Default)]
struct Stripe {
    spans: Vec<SpanData>,
    bytes: usize,
    /// Room reserved from the queue-wide totals and not used yet.
    credit_spans: usize,
    credit_bytes: usize,
}

#[derive(Debug)]
pub(crate) struct StripedQueue {
    stripes: [Padded<ShortLock<Stripe>>; STRIPES],
    /// Spans held plus span room reserved by stripes (never above `max_spans`).
    reserved_spans: AtomicUsize,
    /// Bytes held plus byte room reserved by stripes (never above `max_bytes`).
    reserved_bytes: AtomicUsize,
    max_spans: usize,
    max_bytes: usize,
    /// Room a stripe reserves at a time.
    chunk_spans: usize,
    chunk_bytes: usize,
    /// `Push::Queued::full_batch` is reported at multiples of it.
    batch: usize,
    /// Emptied span buffers, swapped into stripes by `take_all`.
    spare: ShortLock<Vec<Vec<SpanData>>>,
    closed: AtomicBool,
}

impl StripedQueue {
    /// A queue holding at most `max_spans` spans and `max_bytes` bytes, reporting each
    /// `batch` spans queued.
    pub(crate) fn new(max_spans: usize, max_bytes: usize, batch: usize) -> StripedQueue {
        StripedQueue {
            stripes: Default::default(),
            reserved_spans: AtomicUsize::new(0),
            reserved_bytes: AtomicUsize::new(0),
            max_spans,
            max_bytes,
            // Reserving 1/64 of a bound at a time keeps small bounds exact and large ones cheap.
            chunk_spans: (max_spans / 64).clamp(1, 32),
            chunk_bytes: (max_bytes / 64).clamp(1, 64 * 1024),
            batch: batch.max(1),
            spare: Default::default(),
            closed: AtomicBool::new(false),
        }
    }

    /// Adds a span of `size` bytes to this thread's stripe; `span` builds it in place, only
    /// when it is held. Never waits for anything but the stripe's lock.
    #[inline]
    pub(crate) fn push(&self, size: usize, span: impl FnOnce() -> SpanData) -> Push {
        let stripe = crate::local::index() % STRIPES;
        let mut q = self.stripes[stripe].lock();
        // Checked under the stripe lock: `close` sets it holding every stripe, so a span is
        // either taken by the last `take_all` or refused here, never stranded.
        if self.closed.load(Ordering::Acquire) {
            return Push::Closed;
        }
        let mut full_batch = false;
        if (q.credit_spans == 0 || q.credit_bytes < size)
            && !self.reserve(stripe, &mut q, size, &mut full_batch)
        {
            return Push::Full;
        }
        q.credit_spans -= 1;
        q.credit_bytes -= size;
        q.spans.push(span());
        q.bytes += size;
        Push::Queued {
            full_batch: full_batch || q.spans.len() % self.batch == 0,
        }
    }

    /// Reserves room for one span of `size` bytes (and a chunk more) for a stripe whose own
    /// reservation is spent. Sets `full_batch` when the queue-wide total crossed another
    /// multiple of `batch` while other stripes hold spans (a stripe's own multiples are seen
    /// by `push`).
    #[cold]
    fn reserve(&self, stripe: usize, q: &mut Stripe, size: usize, full_batch: &mut bool) -> bool {
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
            if let Some((got, before)) =
                take(&self.reserved_spans, need_spans, want_spans, self.max_spans)
            {
                match take(&self.reserved_bytes, need_bytes, want_bytes, self.max_bytes) {
                    Some((got_bytes, _)) => {
                        q.credit_spans += got;
                        q.credit_bytes += got_bytes;
                        let others = before.saturating_sub(q.spans.len() + q.credit_spans);
                        if got > 0
                            && others > 0
                            && before / self.batch != (before + got) / self.batch
                        {
                            *full_batch = true;
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
        for (i, stripe) in self.stripes.iter().enumerate() {
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

    /// Refuses every later push (`Push::Closed`). Returns once no push is under way.
    pub(crate) fn close(&self) {
        let _stripes: Vec<_> = self.stripes.iter().map(|q| q.lock()).collect();
        self.closed.store(true, Ordering::Release);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Spans held now.
    pub(crate) fn len(&self) -> usize {
        self.stripes.iter().map(|q| q.lock().spans.len()).sum()
    }

    /// Takes every span held now (stripe by stripe, each stripe's in push order), freeing
    /// their room. Give the emptied vector back with `recycle`.
    pub(crate) fn take_all(&self) -> Vec<SpanData> {
        let mut spans: Vec<SpanData> = Vec::new();
        for stripe in &self.stripes {
            // Swapped for an empty buffer that already has room (and touched pages), so
            // application threads do not fault in fresh memory after every export.
            let mut taken = self.spare.lock().pop().unwrap_or_default();
            let bytes = {
                let mut q = stripe.lock();
                if q.spans.is_empty() {
                    drop(q);
                    self.recycle(taken);
                    continue;
                }
                std::mem::swap(&mut q.spans, &mut taken);
                std::mem::take(&mut q.bytes)
            };
            self.reserved_spans.fetch_sub(taken.len(), Ordering::AcqRel);
            self.reserved_bytes.fetch_sub(bytes, Ordering::AcqRel);
            if spans.is_empty() {
                spans = taken;
            } else {
                spans.append(&mut taken);
                self.recycle(taken);
            }
        }
        spans
    }

    /// Keeps an emptied span buffer for the next `take_all` (a few, of bounded size).
    pub(crate) fn recycle(&self, mut buffer: Vec<SpanData>) {
        buffer.clear();
        if buffer.capacity() < MIN_SPARE_CAPACITY {
            return;
        }
        let mut spare = self.spare.lock();
        if spare.len() < SPARE_BUFFERS {
            buffer.shrink_to(self.batch.max(MIN_SPARE_CAPACITY));
            spare.push(buffer);
        }
    }

    /// The stripes' locks (in index order), then the spare buffers' (see `crate::fork`).
    pub(crate) fn visit_locks(&self, v: &mut impl LockVisitor) -> bool {
        self.stripes.iter().all(|q| v.visit(q)) && v.visit(&self.spare)
    }

    /// Empties the queue without delivering (in a forked child: the spans are the parent's).
    /// Keeps `closed`.
    pub(crate) fn forget_all(&self) {
        for q in &self.stripes {
            *q.lock() = Stripe::default();
        }
        self.spare.lock().clear();
        self.reserved_spans.store(0, Ordering::Release);
        self.reserved_bytes.store(0, Ordering::Release);
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

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
