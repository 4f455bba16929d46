//! Tracer ids: create, look up (open or closed), flush, close, stats, sessions.
//!
//! A closed tracer keeps its slot until the slot is reused, but only what a late call needs:
//! its counters (for stats and for the spans still ending on it, counted as dropped) and the
//! outcome of its close. Everything else (queue, buffers, clients, configuration) is freed at
//! close. Every call on it but stats and close fails with `TracerClosed`.

use super::handles::{HandleTable, Kind};
use crate::error::{Error, ErrorKind, Result};
use crate::stats::{Stats, StatsSnapshot};
use crate::tracer::Tracer;
use once_cell::sync::Lazy;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

/// A tracer's slot.
pub(crate) enum TracerSlot {
    Open(Tracer),
    Closed(ClosedTracer),
}

/// What a closed tracer keeps.
pub(crate) struct ClosedTracer {
    stats: Arc<Stats>,
    outcome: Result<()>,
}

/// Retired (closed) tracer slots kept recognizable per shard before any is reused.
const CLOSED_TRACERS_KEPT: usize = 256;

pub(crate) static TRACERS: Lazy<HandleTable<TracerSlot>> =
    Lazy::new(|| HandleTable::new(Kind::Tracer, CLOSED_TRACERS_KEPT));

type Recent = RefCell<[Option<(u64, Tracer)>; 2]>;

thread_local! {
    // The tracers this thread used last (most recent first), so that the span hot path finds
    // its tracer without the table's lock or a reference count. An entry is only trusted for
    // its exact (generation-checked) id; a closed tracer is looked up again.
    static RECENT: Recent = const { RefCell::new([None, None]) };
}

/// Stores a new tracer; returns its id (`super::create_tracer` is the way in).
pub(super) fn insert(tracer: Tracer) -> Result<u64> {
    TRACERS
        .insert(TracerSlot::Open(tracer))
        .ok_or_else(|| Error::new(ErrorKind::LimitExceeded, "too many tracers"))
}

/// The tracer behind an id (`TracerClosed` after its close: a closed tracer keeps only its
/// counters, see `stats`).
pub fn get(id: u64) -> Result<Tracer> {
    open(id)
}

/// The open tracer behind an id (`TracerClosed` after its close).
pub fn open(id: u64) -> Result<Tracer> {
    match TRACERS.with(id, |slot, _| match slot {
        TracerSlot::Open(t) => Ok(t.clone()),
        TracerSlot::Closed(_) => Err(closed()),
    }) {
        Some(r) => r,
        None => Err(invalid_tracer()),
    }
}

/// The tracer's default session id (`InvalidArgument` when it has none:
/// skip_backend_session_creation without session_id, HoneyHive exporter).
pub fn session_id(id: u64) -> Result<String> {
    open(id)?
        .session_id()
        .map(str::to_owned)
        .ok_or_else(|| Error::arg("the tracer has no default session"))
}

/// Waits up to `timeout` until everything that ended before the call is delivered.
pub fn flush(id: u64, timeout: Duration) -> Result<()> {
    open(id)?.flush(timeout)
}

/// Flushes, stops the tracer's export and retires its id; the slot then keeps only the
/// counters and the outcome. The tracer's memory is freed when the last reference goes: a
/// span call running now, or another thread's lookup cache (two tracers per thread, replaced
/// as that thread uses others). Idempotent: a later close reports the first close's outcome.
pub fn close(id: u64, timeout: Duration) -> Result<()> {
    let t = TRACERS
        .with(id, |slot, _| match slot {
            TracerSlot::Open(t) => Ok(t.clone()),
            TracerSlot::Closed(c) => Err(c.outcome.clone()),
        })
        .ok_or_else(invalid_tracer)?;
    let t = match t {
        Ok(t) => t,
        Err(outcome) => return outcome,
    };
    let result = t.close(timeout);
    let first = TRACERS
        .with(id, |slot, _| {
            if !matches!(slot, TracerSlot::Open(_)) {
                return false;
            }
            *slot = TracerSlot::Closed(ClosedTracer {
                stats: t.inner.stats.clone(),
                outcome: result.clone(),
            });
            true
        })
        .unwrap_or(false);
    if first {
        TRACERS.retire(id);
    }
    // This thread's lookup cache must not keep the closed tracer alive.
    forget_recent(id);
    result
}

/// Drops this thread's cached reference to a tracer.
fn forget_recent(id: u64) {
    let _ = RECENT.try_with(|recent| {
        if let Ok(mut recent) = recent.try_borrow_mut() {
            for entry in recent.iter_mut() {
                if entry.as_ref().is_some_and(|(h, _)| *h == id) {
                    *entry = None;
                }
            }
        }
    });
}

/// The tracer's counters; a closed tracer's final ones until its slot is reused.
pub fn stats(id: u64) -> Result<StatsSnapshot> {
    TRACERS
        .with(id, |slot, _| match slot {
            TracerSlot::Open(t) => t.stats(),
            TracerSlot::Closed(c) => c.stats.snapshot(0),
        })
        .ok_or_else(invalid_tracer)
}

/// A span of a closed tracer ended: counted as dropped, as the open pipeline counts a span
/// refused after its close.
pub(crate) fn count_refused_after_close(id: u64) {
    TRACERS.with(id, |slot, _| {
        if let TracerSlot::Closed(c) = slot {
            c.stats.spans_ended.add(1);
            c.stats.refuse_after_close();
        }
    });
}

/// Starts a session on the tracer (see `Tracer::create_session`) and returns its id.
pub fn create_session(id: u64, options_json: Option<&str>) -> Result<String> {
    open(id)?.create_session(options_json)
}

/// Enriches a session (the tracer's default one when `session_id` is `None`).
pub fn enrich_session(id: u64, session_id: Option<&str>, json: &str) -> Result<()> {
    open(id)?.enrich_session(session_id, json)
}

/// The `baggage` header that continues a session (the default one when `session_id` is
/// `None`) in another service (see `Tracer::session_baggage`).
pub fn session_baggage(id: u64, session_id: Option<&str>) -> Result<String> {
    open(id)?.session_baggage(session_id)
}

/// Runs `f` on the open tracer behind an id (`TracerClosed` / `InvalidHandle` otherwise).
#[inline]
pub(crate) fn with_open<R>(id: u64, f: impl FnOnce(&Tracer) -> Result<R>) -> Result<R> {
    with_tracer(id, true, f)
}

/// Runs `f` on the tracer behind an id, open or closed while a reference to it is still
/// cached by this thread; a closed tracer whose memory is gone gives `TracerClosed`.
#[inline]
pub(crate) fn with_any<R>(id: u64, f: impl FnOnce(&Tracer) -> Result<R>) -> Result<R> {
    with_tracer(id, false, f)
}

#[inline]
fn with_tracer<R>(id: u64, open_only: bool, f: impl FnOnce(&Tracer) -> Result<R>) -> Result<R> {
    let mut f = Some(f);
    // `f` runs while the entry is borrowed (shared): a nested lookup cannot evict it.
    let hit = RECENT
        .try_with(|recent| {
            let cached = recent.try_borrow().ok()?;
            let (_, t) = cached.iter().flatten().find(|(h, _)| *h == id)?;
            if open_only && t.is_closed() {
                return None;
            }
            f.take().map(|f| f(t))
        })
        .ok()
        .flatten();
    if let Some(result) = hit {
        return result;
    }
    let Some(f) = f else {
        return Err(Error::new(ErrorKind::Internal, "tracer lookup ran twice"));
    };
    let t = match TRACERS.with(id, |slot, _| match slot {
        TracerSlot::Open(t) => Ok(t.clone()),
        TracerSlot::Closed(_) => Err(closed()),
    }) {
        Some(r) => r?,
        None => return Err(invalid_tracer()),
    };
    let _ = RECENT.try_with(|recent| {
        if let Ok(mut recent) = recent.try_borrow_mut() {
            recent.rotate_right(1);
            recent[0] = Some((id, t.clone()));
        }
    });
    f(&t)
}

fn closed() -> Error {
    Error::new(ErrorKind::TracerClosed, "tracer is closed")
}

pub(crate) fn invalid_tracer() -> Error {
    Error::new(
        ErrorKind::InvalidHandle,
        "not a valid tracer handle (stale, closed and reused, or another kind)",
    )
}
