//! Generation-checked handles: a `u64` names a slot in a sharded table plus the slot's
//! generation and the handle's kind, so stale, reused, forged or wrong-kind handles are
//! detected instead of dereferenced. Retired slots are reused first-in first-out and only
//! once enough are free, so a just-ended span or closed tracer is still recognized as such.
//!
//! A table made `per_thread` puts each thread's new values in the shard of its
//! `local::index()`: threads making spans at once take different locks and write different
//! cache lines (a handle may still be used from any thread).

use crate::fork::{ForkAware, Layer, LockWalk};
use crate::sync::{LockVisitor, Padded, ShortLock as Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

const SHARDS: usize = 16;
const INDEX_BITS: u32 = 28;
const SHARD_BITS: u32 = 4;
const GEN_BITS: u32 = 24;

/// Which table a handle belongs to (its top byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Tracer = 1,
    Span = 2,
}

struct Slot<T> {
    generation: u32,
    retired: bool,
    value: Option<T>,
}

struct Shard<T> {
    slots: Vec<Slot<T>>,
    free: VecDeque<u32>,
}

pub struct HandleTable<T> {
    kind: Kind,
    shards: Vec<Padded<Mutex<Shard<T>>>>,
    next_shard: AtomicUsize,
    per_thread: bool,
    /// Retired slots kept recognizable per shard before any is reused.
    min_free_before_reuse: usize,
}

impl<T> HandleTable<T> {
    /// A table spreading new values over its shards in turn.
    pub fn new(kind: Kind, min_free_before_reuse: usize) -> Self {
        HandleTable {
            kind,
            shards: (0..SHARDS)
                .map(|_| {
                    Padded(Mutex::new(Shard {
                        slots: Vec::new(),
                        free: VecDeque::new(),
                    }))
                })
                .collect(),
            next_shard: AtomicUsize::new(0),
            per_thread: false,
            min_free_before_reuse,
        }
    }

    /// A table keeping each thread's new values in that thread's shard.
    pub fn per_thread(kind: Kind, min_free_before_reuse: usize) -> Self {
        HandleTable {
            per_thread: true,
            ..HandleTable::new(kind, min_free_before_reuse)
        }
    }

    /// Stores `value`; returns its handle, or `None` when the table is full.
    pub fn insert(&self, value: T) -> Option<u64> {
        self.insert_with(|| value)
    }

    /// Stores the value `make` builds (in place, where the table keeps it).
    #[inline]
    pub fn insert_with(&self, make: impl FnOnce() -> T) -> Option<u64> {
        let shard_no = self.insert_shard();
        let mut shard = self.shards[shard_no].lock();
        self.insert_locked(&mut shard, shard_no, make)
    }

    /// Reads the value of `parent`, builds a new value from it with `make` and stores it;
    /// `invalid()` when `parent` is not a valid handle, `full()` when the table is full.
    /// When the parent lives in the shard the new value goes to (a child started on its
    /// parent's thread), it all happens under one lock.
    #[inline]
    pub fn insert_with_parent<P, E>(
        &self,
        parent: u64,
        read: impl FnOnce(&T) -> P,
        make: impl FnOnce(P) -> T,
        invalid: impl FnOnce() -> E,
        full: impl FnOnce() -> E,
    ) -> Result<u64, E> {
        let shard_no = self.insert_shard();
        if let Some((parent_shard, index, generation)) = self.decode(parent) {
            if parent_shard == shard_no {
                let mut shard = self.shards[shard_no].lock();
                let p = shard
                    .slots
                    .get(index as usize)
                    .filter(|s| s.generation == generation)
                    .and_then(|s| s.value.as_ref())
                    .map(read)
                    .ok_or_else(invalid)?;
                return self
                    .insert_locked(&mut shard, shard_no, || make(p))
                    .ok_or_else(full);
            }
        }
        let p = self.with(parent, |v, _| read(v)).ok_or_else(invalid)?;
        self.insert_with(|| make(p)).ok_or_else(full)
    }

    #[inline]
    fn insert_shard(&self) -> usize {
        if self.per_thread {
            crate::local::index() % SHARDS
        } else {
            self.next_shard.fetch_add(1, Ordering::Relaxed) % SHARDS
        }
    }

    #[inline]
    fn insert_locked(
        &self,
        shard: &mut Shard<T>,
        shard_no: usize,
        make: impl FnOnce() -> T,
    ) -> Option<u64> {
        let index = if shard.free.len() > self.min_free_before_reuse {
            let index = shard.free.pop_front()?;
            let slot = &mut shard.slots[index as usize];
            slot.generation = (slot.generation + 1) & ((1 << GEN_BITS) - 1);
            slot.retired = false;
            slot.value = None;
            slot.value = Some(make());
            index
        } else {
            let index = u32::try_from(shard.slots.len())
                .ok()
                .filter(|i| *i < (1 << INDEX_BITS))?;
            shard.slots.push(Slot {
                generation: 0,
                retired: false,
                value: Some(make()),
            });
            index
        };
        let generation = shard.slots[index as usize].generation;
        Some(self.encode(shard_no, index, generation))
    }

    /// Runs `f` on the value of a valid handle (live or retired-but-not-reused), under the
    /// slot's shard lock: keep `f` short.
    pub fn with<R>(&self, handle: u64, f: impl FnOnce(&mut T, bool) -> R) -> Option<R> {
        let (shard_no, index, generation) = self.decode(handle)?;
        let mut shard = self.shards[shard_no].lock();
        let slot = shard.slots.get_mut(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        let retired = slot.retired;
        slot.value.as_mut().map(|v| f(v, retired))
    }

    /// `with`, then `retire` when `f` says so (its second result), under one lock.
    pub fn with_then_retire<R>(
        &self,
        handle: u64,
        f: impl FnOnce(&mut T, bool) -> (R, bool),
    ) -> Option<R> {
        let (shard_no, index, generation) = self.decode(handle)?;
        let mut shard = self.shards[shard_no].lock();
        let shard = &mut *shard;
        let slot = shard.slots.get_mut(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        let retired = slot.retired;
        let (out, retire) = f(slot.value.as_mut()?, retired);
        if retire && !retired {
            slot.retired = true;
            shard.free.push_back(index);
        }
        Some(out)
    }

    /// Marks a handle retired: its value stays readable until the slot is reused.
    /// Returns false for an invalid or already retired handle.
    pub fn retire(&self, handle: u64) -> bool {
        let Some((shard_no, index, generation)) = self.decode(handle) else {
            return false;
        };
        let mut shard = self.shards[shard_no].lock();
        let Some(slot) = shard.slots.get_mut(index as usize) else {
            return false;
        };
        if slot.generation != generation || slot.retired {
            return false;
        }
        slot.retired = true;
        shard.free.push_back(index);
        true
    }

    /// Retires each handle whose value `ready` accepts, taking one lock per run of handles in
    /// the same shard (a binding releasing the spans of one thread in a batch takes one lock
    /// for the batch). `done(handle, outcome)` for every handle, in order: `None` for an
    /// invalid one, `Some(false)` when `ready` refused it (left as it was), `Some(true)` when
    /// it is retired (now or before).
    pub fn retire_many(
        &self,
        handles: &[u64],
        ready: impl Fn(&T) -> bool,
        mut done: impl FnMut(u64, Option<bool>),
    ) {
        let mut rest = handles;
        while let Some(&first) = rest.first() {
            let shard_no = self.decode(first).map(|(s, _, _)| s);
            let run = rest
                .iter()
                .take_while(|&&h| self.decode(h).map(|(s, _, _)| s) == shard_no)
                .count();
            let (now, later) = rest.split_at(run.max(1));
            rest = later;
            let Some(shard_no) = shard_no else {
                now.iter().for_each(|&h| done(h, None));
                continue;
            };
            let mut shard = self.shards[shard_no].lock();
            let shard = &mut *shard;
            for &h in now {
                let Some((_, index, generation)) = self.decode(h) else {
                    done(h, None);
                    continue;
                };
                let outcome = match shard.slots.get_mut(index as usize) {
                    Some(slot) if slot.generation == generation => {
                        if slot.retired {
                            Some(true)
                        } else if slot.value.as_ref().is_some_and(&ready) {
                            slot.retired = true;
                            shard.free.push_back(index);
                            Some(true)
                        } else {
                            Some(false)
                        }
                    }
                    _ => None,
                };
                done(h, outcome);
            }
        }
    }

    /// Visits every live (not retired) value.
    pub fn for_each_live(&self, mut f: impl FnMut(&T)) {
        for shard in &self.shards {
            let shard = shard.lock();
            for slot in shard.slots.iter().filter(|s| !s.retired) {
                if let Some(v) = &slot.value {
                    f(v);
                }
            }
        }
    }

    /// The shards' locks, for the fork protocol (see `crate::fork`).
    pub fn visit_locks(&self, v: &mut impl LockVisitor) -> bool {
        self.shards.iter().all(|s| v.visit(s))
    }

    fn encode(&self, shard: usize, index: u32, generation: u32) -> u64 {
        ((self.kind as u64) << 56)
            | ((generation as u64) << (INDEX_BITS + SHARD_BITS))
            | ((shard as u64) << INDEX_BITS)
            | index as u64
    }

    fn decode(&self, handle: u64) -> Option<(usize, u32, u32)> {
        if (handle >> 56) as u8 != self.kind as u8 {
            return None;
        }
        let index = (handle & ((1 << INDEX_BITS) - 1)) as u32;
        let shard = ((handle >> INDEX_BITS) & ((1 << SHARD_BITS) - 1)) as usize;
        let generation = ((handle >> (INDEX_BITS + SHARD_BITS)) & ((1 << GEN_BITS) - 1)) as u32;
        Some((shard, index, generation))
    }
}

/// A table takes part in the fork protocol with its shards' locks, the outermost layer (a call
/// holds a shard while it works on a span or tracer); a child keeps every handle.
impl<T: Send> ForkAware for HandleTable<T> {
    fn visit_layer(&self, layer: Layer, walk: &mut LockWalk) -> bool {
        layer != Layer::Handles || self.visit_locks(walk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN_FREE: usize = 256;

    #[test]
    fn stale_and_wrong_kind_handles_are_rejected() {
        let t: HandleTable<u32> = HandleTable::new(Kind::Span, MIN_FREE);
        let h = t.insert(7).unwrap();
        assert_eq!(t.with(h, |v, retired| (*v, retired)), Some((7, false)));
        assert!(t.retire(h));
        assert!(!t.retire(h));
        assert_eq!(t.with(h, |v, retired| (*v, retired)), Some((7, true)));
        let other: HandleTable<u32> = HandleTable::new(Kind::Tracer, MIN_FREE);
        assert_eq!(other.with(h, |v, _| *v), None);
        assert_eq!(t.with(0, |v, _| *v), None);
        assert_eq!(t.with(h ^ (1 << 40), |v, _| *v), None);
        assert_eq!(t.with(h + 12345, |v, _| *v), None);
    }

    #[test]
    fn retire_many_retires_the_ready_handles_and_reports_each() {
        let t: HandleTable<u32> = HandleTable::new(Kind::Span, MIN_FREE);
        // Spread over shards in turn: runs of one handle, and a run of several in one shard.
        let spread: Vec<u64> = (0..4).map(|i| t.insert(i).unwrap()).collect();
        let same_shard: Vec<u64> = (0..SHARDS * 3)
            .map(|i| t.insert(100 + i as u32).unwrap())
            .filter(|h| t.decode(*h).map(|d| d.0) == t.decode(spread[0]).map(|d| d.0))
            .collect();
        assert_eq!(same_shard.len(), 3);
        let forged = spread[1] ^ (1 << 40);
        let mut batch = vec![spread[0], 0, forged, spread[1], spread[2], spread[3]];
        batch.extend(&same_shard);
        let mut seen = Vec::new();
        // Odd values are not ready (left live), even ones are retired.
        t.retire_many(&batch, |v| v % 2 == 0, |h, outcome| seen.push((h, outcome)));
        let expect: Vec<(u64, Option<bool>)> = batch
            .iter()
            .map(|&h| match t.with(h, |v, _| *v) {
                None => (h, None),
                Some(v) => (h, Some(v % 2 == 0)),
            })
            .collect();
        assert_eq!(seen, expect);
        for &h in batch.iter().filter(|&&h| h != 0 && h != forged) {
            let v = t.with(h, |v, _| *v).unwrap();
            assert_eq!(t.with(h, |_, retired| retired), Some(v % 2 == 0));
        }
        // Retired ones again: already retired, still `Some(true)`; not-ready ones unchanged.
        let mut again = Vec::new();
        t.retire_many(&same_shard, |_| true, |_, o| again.push(o));
        assert_eq!(again, vec![Some(true); 3]);
    }

    #[test]
    fn reused_slots_invalidate_old_handles() {
        for t in [
            HandleTable::<u32>::new(Kind::Span, MIN_FREE),
            HandleTable::<u32>::per_thread(Kind::Span, MIN_FREE),
        ] {
            let first = t.insert(0).unwrap();
            t.retire(first);
            for i in 0..(SHARDS * (MIN_FREE + 2)) as u32 {
                let h = t.insert(i).unwrap();
                assert_eq!(
                    t.with_then_retire(h, |v, retired| ((*v, retired), true)),
                    Some((i, false))
                );
                assert_eq!(t.with(h, |_, retired| retired), Some(true));
            }
            // The first slot has been reused by now, so its old handle is stale.
            assert_eq!(t.with(first, |v, _| *v), None);
        }
    }
}
