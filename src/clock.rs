//! Span timestamps. Every span reads the wall clock twice (start and end): through the vDSO
//! (`SystemTime::now`) that costs about 17 ns here, reading the CPU's time-stamp counter about
//! 8 ns (BENCHMARKS.md). Once `quanta` has calibrated the counter against the monotonic clock
//! (a busy loop of about 0.6 ms, up to 200 ms on a noisy machine, so it runs on the background
//! runtime, never on a caller's thread), the time is the calibrated counter plus an offset to
//! the wall clock, re-read from the wall clock every second so that clock adjustments (NTP)
//! show up as they do in `SystemTime`. Until then, and where the counter is not usable (quanta
//! then falls back to the monotonic clock itself), the result is the same wall clock.

use once_cell::race::OnceBox;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// How often the offset to the wall clock is read again.
const ANCHOR_PERIOD_NS: u64 = 1_000_000_000;

struct Counter {
    clock: quanta::Clock,
    /// The counter's raw value at calibration: `mono` counts nanoseconds from there.
    base: u64,
    /// Wall-clock nanoseconds since the Unix epoch minus `mono`, at the last anchor.
    offset: AtomicU64,
    /// `mono` at which the offset is read again.
    next_anchor: AtomicU64,
}

static COUNTER: OnceBox<Counter> = OnceBox::new();
/// Set while (and after) a calibration runs. A child forked during the parent's calibration
/// inherits it set and never calibrates: `quanta` keeps its calibration in a `OnceCell` that
/// the child would find "being initialized" by a thread it does not have, and wait on forever
/// (on its runtime thread: its exports never ran). Such a child reads `SystemTime`.
static CALIBRATING: AtomicBool = AtomicBool::new(false);

/// The current wall-clock time, for span start and end times.
#[inline]
pub fn now() -> SystemTime {
    match COUNTER.get() {
        Some(c) => c.now(),
        None => SystemTime::now(),
    }
}

/// Calibrates the counter, once per process (later calls, and calls in a child forked during
/// the calibration, return at once). Blocks for the calibration: call it from a background
/// thread.
pub fn calibrate() {
    if COUNTER.get().is_some() || CALIBRATING.swap(true, Ordering::AcqRel) {
        return;
    }
    let clock = quanta::Clock::new();
    let base = clock.raw();
    let c = Counter {
        clock,
        base,
        offset: AtomicU64::new(0),
        next_anchor: AtomicU64::new(0),
    };
    c.anchor(c.mono());
    let _ = COUNTER.set(Box::new(c));
}

/// Nanoseconds since the Unix epoch (0 for times before it): the encoders' timestamps.
pub fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Counter {
    #[inline]
    fn mono(&self) -> u64 {
        self.clock.delta_as_nanos(self.base, self.clock.raw())
    }

    #[inline]
    fn now(&self) -> SystemTime {
        let mono = self.mono();
        if mono >= self.next_anchor.load(Ordering::Relaxed) {
            self.anchor(mono);
        }
        let nanos = mono.wrapping_add(self.offset.load(Ordering::Relaxed));
        SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos)
    }

    /// Reads the wall clock's offset again. One thread does it per period (the others keep
    /// the previous offset meanwhile, at most a period old).
    #[cold]
    fn anchor(&self, due: u64) {
        let next = self.next_anchor.load(Ordering::Relaxed);
        if due < next
            || self
                .next_anchor
                .compare_exchange(
                    next,
                    due + ANCHOR_PERIOD_NS,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        // The wall clock read between two counter reads: their midpoint is its counter time.
        let before = self.mono();
        let wall = unix_nanos(SystemTime::now());
        let mono = before + (self.mono() - before) / 2;
        self.offset
            .store(wall.wrapping_sub(mono), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap_ns(a: SystemTime, b: SystemTime) -> u64 {
        let (a, b) = (unix_nanos(a), unix_nanos(b));
        a.abs_diff(b)
    }

    // One test: a forced re-anchor from a parallel test could step the time back by the
    // correction it applies (nanoseconds) in the middle of the monotonicity check.
    #[test]
    fn the_counter_follows_the_wall_clock_and_re_anchors() {
        calibrate();
        let c = COUNTER.get().expect("calibrated");
        // A fresh anchor: the next one is a period away, after the loop below.
        c.next_anchor.store(0, Ordering::Relaxed);
        let mono = c.mono();
        let mut last = now();
        // Re-anchored on that read: due a period after it.
        assert!(c.next_anchor.load(Ordering::Relaxed) > mono);
        for _ in 0..100_000 {
            let t = now();
            assert!(t >= last, "went back: {t:?} < {last:?}");
            last = t;
        }
        // Within a millisecond of the wall clock, before and after a sleep.
        assert!(gap_ns(now(), SystemTime::now()) < 1_000_000);
        std::thread::sleep(Duration::from_millis(20));
        let (ours, wall) = (now(), SystemTime::now());
        assert!(gap_ns(ours, wall) < 1_000_000, "{ours:?} vs {wall:?}");
    }
}
