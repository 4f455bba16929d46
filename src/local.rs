//! Per-thread helpers for the span hot path. None of this is state visible through the ABI
//! (the ABI keeps no thread-local state, since a goroutine may change OS threads between two
//! calls): it only saves work and keeps threads off each other's cache lines.
//!
//! - `index()`: a small, stable number per thread, used to pick a stripe of a striped counter
//!   or queue and a shard of the handle tables, so that two threads tracing at once do not
//!   write the same cache lines.
//! - `intern()`: span names and attribute keys repeat on every span. Each distinct one (up to
//!   `MAX_INTERNED_LEN` bytes) is copied once into a process-wide, bounded set and shared as a
//!   `&'static str`: no allocation and no reference count per span. Once `INTERN_BUDGET` bytes
//!   are used, new strings are no longer interned (callers allocate, as without interning).
//! - `session()`: the canonical `Arc<str>` of a session id, parsed once per thread and reused
//!   while the same ids keep coming (each thread has its own `Arc`, so spans of one session on
//!   two threads do not share a reference count).

use crate::fork::{ForkAware, Layer, LockWalk};
use crate::sync::{LockVisitor, ShortLock};
use opentelemetry::KeyValue;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Strings longer than this are never interned.
const MAX_INTERNED_LEN: usize = 256;
/// Total bytes the interned set may hold (it is never freed: the strings are `'static`).
const INTERN_BUDGET: usize = 1 << 20;
/// Entries of the per-thread direct-mapped intern cache.
const CACHE_SLOTS: usize = 256;
/// Session ids each thread remembers.
const SESSION_SLOTS: usize = 4;

// Moved to `crate::sync`; re-exported for the modules that import it from here.
pub use crate::sync::Padded;

static NEXT_INDEX: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's small index (0, 1, 2, ... in order of first use).
#[inline]
pub fn index() -> usize {
    INDEX
        .try_with(|i| {
            let v = i.get();
            if v != usize::MAX {
                return v;
            }
            let v = NEXT_INDEX.fetch_add(1, Ordering::Relaxed);
            i.set(v);
            v
        })
        .unwrap_or(0)
}

// ---- interning ---------------------------------------------------------------------------

struct Interned {
    set: HashSet<&'static str>,
    used: usize,
}

static INTERNED: ShortLock<Option<Interned>> = ShortLock::new(None);

/// One cached entry: the hash of (kind, text), the kind, and the interned joined string.
type CacheSlot = Option<(u64, u8, &'static str)>;
type Cache = RefCell<Box<[CacheSlot; CACHE_SLOTS]>>;

thread_local! {
    static CACHE: Cache = RefCell::new(Box::new([None; CACHE_SLOTS]));
}

#[inline]
fn hash(kind: u8, text: &[u8]) -> u64 {
    // FxHash-style: fast for the short strings it sees; quality is enough for a cache index
    // (a hit is always confirmed by comparing the strings).
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = (kind as u64 ^ ((text.len() as u64) << 8)).wrapping_mul(K);
    let mut chunks = text.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap());
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Assembled in a register (a byte copy to a stack word and a word load back would
        // stall on store forwarding).
        let w = rest
            .iter()
            .enumerate()
            .fold(0u64, |w, (i, &b)| w | (b as u64) << (8 * i));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    h
}

/// The interned `prefix.text` (`text` alone when `prefix` is empty), or `None` when it is too
/// long or the budget is spent. `kind` names `prefix` (one kind per prefix, 0 for none): the
/// per-thread cache is looked up by (kind, text) without building the joined string.
#[inline]
pub fn intern_joined(kind: u8, prefix: &'static str, text: &str) -> Option<&'static str> {
    let skip = if prefix.is_empty() {
        0
    } else {
        prefix.len() + 1
    };
    let len = skip + text.len();
    if len > MAX_INTERNED_LEN {
        return None;
    }
    let h = hash(kind, text.as_bytes());
    let slot = (h as usize) % CACHE_SLOTS;
    let hit = CACHE
        .try_with(|c| match c.try_borrow().ok()?[slot] {
            Some((ch, k, s))
                if ch == h
                    && k == kind
                    && s.len() == len
                    && s.as_bytes()[skip..] == *text.as_bytes() =>
            {
                Some(s)
            }
            _ => None,
        })
        .ok()
        .flatten();
    if hit.is_some() {
        return hit;
    }
    let s = intern_slow(prefix, text, len)?;
    let _ = CACHE.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c[slot] = Some((h, kind, s));
        }
    });
    Some(s)
}

/// `intern_joined(0, "", text)`.
#[inline]
pub fn intern(text: &str) -> Option<&'static str> {
    intern_joined(0, "", text)
}

#[cold]
fn intern_slow(prefix: &str, text: &str, len: usize) -> Option<&'static str> {
    let mut joined = String::with_capacity(len);
    if !prefix.is_empty() {
        joined.push_str(prefix);
        joined.push('.');
    }
    joined.push_str(text);
    let mut guard = INTERNED.lock();
    let interned = guard.get_or_insert_with(|| Interned {
        set: HashSet::new(),
        used: 0,
    });
    if let Some(s) = interned.set.get(joined.as_str()) {
        return Some(*s);
    }
    if interned.used + len > INTERN_BUDGET {
        return None;
    }
    interned.used += len;
    let s: &'static str = Box::leak(joined.into_boxed_str());
    interned.set.insert(s);
    Some(s)
}

// ---- short values -------------------------------------------------------------------------

/// Values up to this long are kept in the per-thread value cache.
const MAX_CACHED_VALUE_LEN: usize = 64;
/// Entries of the per-thread value cache.
const VALUE_SLOTS: usize = 64;

type ValueCache = RefCell<Box<[Option<(u64, Arc<str>)>; VALUE_SLOTS]>>;

thread_local! {
    static VALUES: ValueCache = RefCell::new(Box::new([const { None }; VALUE_SLOTS]));
}

/// A string attribute value. Short values repeat across spans (model, tool and provider
/// names): each thread keeps the last ones as shared strings, so a repeated value costs a
/// reference count instead of an allocation (unlike interning, nothing is kept forever).
#[inline]
pub fn string_value(s: &str) -> opentelemetry::StringValue {
    if s.len() > MAX_CACHED_VALUE_LEN {
        return s.to_string().into();
    }
    let h = hash(0xff, s.as_bytes());
    let slot = (h as usize) % VALUE_SLOTS;
    let shared = VALUES
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            if let Some((ch, v)) = &mut c[slot] {
                if *ch == h && **v == *s {
                    return Some(v.clone());
                }
            }
            let v: Arc<str> = Arc::from(s);
            c[slot] = Some((h, v.clone()));
            Some(v)
        })
        .ok()
        .flatten();
    match shared {
        Some(v) => v.into(),
        None => s.to_string().into(),
    }
}

// ---- sessions ----------------------------------------------------------------------------

/// (id as given, canonical id) pairs, most recent first.
type SessionCache = [Option<(Box<str>, Arc<str>)>; SESSION_SLOTS];

thread_local! {
    static SESSIONS: RefCell<SessionCache> = const { RefCell::new([None, None, None, None]) };
}

/// The canonical form of a session id given by a caller (`None` when it is not a UUID), as a
/// per-thread shared string.
pub fn session(given: &str) -> Option<Arc<str>> {
    let hit = SESSIONS
        .try_with(|c| {
            c.try_borrow_mut()
                .ok()?
                .iter_mut()
                .flatten()
                .find(|(g, _)| &**g == given)
                .map(|(_, a)| a.clone())
        })
        .ok()
        .flatten();
    if hit.is_some() {
        return hit;
    }
    let canonical: Arc<str> = crate::config::canonical_session_id(given)?.into();
    remember(given, &canonical);
    Some(canonical)
}

/// The per-thread copy of an already canonical session id (the tracer's default session).
// Its lookup repeats `session`'s on purpose: one shared helper (tried in `54813f4`) changed
// inlining on the span start path, +65 instructions per span in callgrind.
pub fn session_canonical(id: &Arc<str>) -> Arc<str> {
    let hit = SESSIONS
        .try_with(|c| {
            c.try_borrow_mut()
                .ok()?
                .iter_mut()
                .flatten()
                .find(|(g, _)| **g == **id)
                .map(|(_, a)| a.clone())
        })
        .ok()
        .flatten();
    if let Some(hit) = hit {
        return hit;
    }
    let mine: Arc<str> = Arc::from(&**id);
    remember(id, &mine);
    mine
}

fn remember(given: &str, canonical: &Arc<str>) {
    let _ = SESSIONS.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c.rotate_right(1);
            c[0] = Some((given.into(), canonical.clone()));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_returns_the_same_static_string() {
        let a = intern_joined(3, "honeyhive_metadata", "model").unwrap();
        let b = intern_joined(3, "honeyhive_metadata", "model").unwrap();
        assert_eq!(a, "honeyhive_metadata.model");
        assert!(std::ptr::eq(a, b));
        assert_eq!(intern("llm.call"), Some("llm.call"));
        assert_ne!(intern_joined(3, "honeyhive_metadata", "mode"), Some(a));
        assert_eq!(
            intern_joined(4, "honeyhive_metrics", "model"),
            Some("honeyhive_metrics.model")
        );
        assert_eq!(intern(&"x".repeat(MAX_INTERNED_LEN + 1)), None);
    }

    #[test]
    fn short_values_are_shared() {
        let a = string_value("gpt-4o");
        let b = string_value("gpt-4o");
        assert_eq!(a.as_str(), "gpt-4o");
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        let long = "x".repeat(MAX_CACHED_VALUE_LEN + 1);
        assert_eq!(string_value(&long).as_str(), long);
    }

    #[test]
    fn sessions_are_canonical_and_reused() {
        let a = session("6F1C2D3E-4A5B-4C6D-8E9F-0A1B2C3D4E5F").unwrap();
        assert_eq!(&*a, "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f");
        let b = session("6F1C2D3E-4A5B-4C6D-8E9F-0A1B2C3D4E5F").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(session("not-a-uuid").is_none());
        let d = session_canonical(&a);
        assert_eq!(d, a);
        // Handed-out references are real ones: they outlive the cache's.
        let many: Vec<Arc<str>> = (0..200)
            .map(|_| session("6F1C2D3E-4A5B-4C6D-8E9F-0A1B2C3D4E5F").unwrap())
            .collect();
        for i in 0..SESSION_SLOTS + 1 {
            session(&format!("00000000-0000-4000-8000-00000000000{i}")).unwrap();
        }
        assert!(many
            .iter()
            .all(|m| &**m == "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"));
        drop(many);
        assert_eq!(Arc::strong_count(&a), 2);
    }
}

// ---- attribute vectors --------------------------------------------------------------------

/// Attribute vectors of exported spans, emptied by the export worker and handed back to
/// application threads: a span then starts without an allocation, and the application
/// thread's allocator does not take its slow path for memory the worker freed.
static SPARE_ATTRIBUTES: ShortLock<Vec<Vec<KeyValue>>> = ShortLock::new(Vec::new());
/// Vectors kept in `SPARE_ATTRIBUTES` at most (a default queue's worth: at most 2048 × 16
/// attributes × 56 bytes = 1.8 MB, typically 1.1 MB, once that many spans were exported; a
/// larger pool measured slower, its vectors no longer fitting in the cache).
const SPARE_ATTRIBUTES_MAX: usize = 2048;
/// Capacity (in attributes) of the vectors worth keeping.
const SPARE_ATTRIBUTES_CAPACITY: std::ops::RangeInclusive<usize> = 8..=16;
/// Vectors a thread takes from the shared spares at once.
const STASH_REFILL: usize = 32;

thread_local! {
    static STASH: RefCell<Vec<Vec<KeyValue>>> = const { RefCell::new(Vec::new()) };
}

/// An empty attribute vector with room for `capacity` attributes.
#[inline]
pub fn attribute_vec(capacity: usize) -> Vec<KeyValue> {
    let reused = STASH
        .try_with(|stash| {
            let mut stash = stash.try_borrow_mut().ok()?;
            if stash.is_empty() {
                // try_lock: never wait here.
                let mut spare = SPARE_ATTRIBUTES.try_lock()?;
                let at = spare.len().saturating_sub(STASH_REFILL);
                stash.extend(spare.drain(at..));
            }
            stash.pop()
        })
        .ok()
        .flatten();
    match reused {
        Some(mut v) => {
            v.reserve(capacity);
            v
        }
        None => Vec::with_capacity(capacity),
    }
}

/// Empties the attribute vectors of exported spans and keeps some for `attribute_vec`.
pub fn recycle_attribute_vecs(vecs: impl Iterator<Item = Vec<KeyValue>>) {
    let mut keep: Vec<Vec<KeyValue>> = Vec::new();
    for mut v in vecs {
        if SPARE_ATTRIBUTES_CAPACITY.contains(&v.capacity()) && keep.len() < SPARE_ATTRIBUTES_MAX {
            v.clear();
            keep.push(v);
        }
    }
    if keep.is_empty() {
        return;
    }
    if let Some(mut spare) = SPARE_ATTRIBUTES.try_lock() {
        let room = SPARE_ATTRIBUTES_MAX.saturating_sub(spare.len());
        keep.truncate(room);
        spare.append(&mut keep);
    }
}

/// This module's process-wide locks, as a part of the fork protocol: leaves (nothing is taken
/// under them), and nothing to reset in a child (the interned strings and spare vectors stay
/// valid there).
struct ForkLocks;

impl ForkAware for ForkLocks {
    fn visit_layer(&self, layer: Layer, walk: &mut LockWalk) -> bool {
        layer != Layer::Leaves || (walk.visit(&INTERNED) && walk.visit(&SPARE_ATTRIBUTES))
    }
}

/// Makes this module's locks take part in the fork protocol (once, with the first tracer).
pub fn register_with_fork() {
    crate::fork::register_static(&ForkLocks);
}
