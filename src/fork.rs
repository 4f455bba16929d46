//! What `fork()` needs from the core.
//!
//! A child process has one thread, a copy of the one that forked. A lock another thread of the
//! parent held at that moment would stay held in the child forever. So the fork hooks
//! (`ffi::lifecycle`) take every lock of the library before `fork()` and release them after it,
//! in the parent and in the child: at the moment of the fork, no thread is inside a critical
//! section. This module names those locks (`visit_locks`) and prepares the child's pipelines.
//!
//! The walk takes locks outer first, in the order the library nests them, so that it never
//! waits for a lock whose holder waits for one the walk already has:
//! handle tables (ffi) → pipeline registry → each pipeline's `worker` → runtime slot → each
//! pipeline's wake-up, queue stripes (in index order), spare buffers and session-call maps →
//! interned strings, spare attribute vectors and the abandoned list (leaves).
//!
//! All of them are `ShortLock`s: a spin lock that never parks a thread, so that releasing one
//! in the child is a single store and never touches a wait queue a parent thread may have been
//! changing (a parking mutex's unlock may).

use crate::export::Pipeline;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

/// The lock of every short critical section in the library (a handle-table shard, a queue
/// stripe, a registry). Uncontended, taking it is one atomic exchange and releasing it one
/// store; a waiter yields its CPU between attempts.
pub type ShortLock<T> = spin::mutex::SpinMutex<T, spin::relax::Yield>;

/// Something done to each lock of the library in turn (take it, release it). Returns false to
/// stop the walk.
pub trait LockVisitor {
    fn visit<T>(&mut self, lock: &ShortLock<T>) -> bool;
}

/// Set while a fork hook walks the locks: calls into the library wait at their entry, before
/// taking any lock. Without it, a thread tracing in a tight loop retakes its shard's lock
/// within nanoseconds of releasing it, and the walk could wait for it a long time.
/// (A count: two threads may fork at once.)
static FORKING: AtomicUsize = AtomicUsize::new(0);

/// Called at each entry into the library, holding no lock of it: waits while a fork is
/// under way (one load of a flag that is written only around forks).
#[inline]
pub fn wait_while_forking() {
    if FORKING.load(Ordering::Acquire) != 0 {
        wait_for_fork();
    }
}

#[cold]
fn wait_for_fork() {
    while FORKING.load(Ordering::Acquire) != 0 {
        std::thread::yield_now();
    }
}

/// For the fork hooks (see `ffi::lifecycle`): a fork begins.
pub fn fork_begins() {
    FORKING.fetch_add(1, Ordering::AcqRel);
}

/// For the fork hooks: this thread's fork is over (in the parent, or the walk gave up).
pub fn fork_ends() {
    FORKING.fetch_sub(1, Ordering::AcqRel);
}

/// For the fork hooks, in the child: other threads' forks are not under way here.
pub fn fork_ends_in_child() {
    FORKING.store(0, Ordering::Release);
}

/// Every pipeline created in this process (pruned of dead ones when a new one registers).
static PIPELINES: ShortLock<Vec<Weak<Pipeline>>> = ShortLock::new(Vec::new());
/// Bumped under `PIPELINES` by each registration: a fork hook that took every lock checks
/// that no pipeline was registered since it listed them.
static REGISTRATIONS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn register(pipeline: &Arc<Pipeline>) {
    let mut all = PIPELINES.lock();
    all.retain(|p| p.strong_count() > 0);
    all.push(Arc::downgrade(pipeline));
    REGISTRATIONS.fetch_add(1, Ordering::AcqRel);
}

/// The live pipelines, and the registration count they correspond to.
pub fn live_pipelines() -> (Vec<Arc<Pipeline>>, u64) {
    let all = PIPELINES.lock();
    let live = all.iter().filter_map(Weak::upgrade).collect();
    (live, REGISTRATIONS.load(Ordering::Acquire))
}

/// Whether a pipeline was registered since `live_pipelines` returned `registrations`.
pub fn registered_since(registrations: u64) -> bool {
    REGISTRATIONS.load(Ordering::Acquire) != registrations
}

/// Visits the core's locks in the nesting order above. The order is the same on every call
/// with the same `pipelines`.
pub fn visit_locks(pipelines: &[Arc<Pipeline>], v: &mut impl LockVisitor) -> bool {
    v.visit(&PIPELINES)
        && pipelines.iter().all(|p| p.visit_worker_lock(v))
        && crate::runtime::visit_locks(v)
        && pipelines.iter().all(|p| p.visit_inner_locks(v))
        && crate::local::visit_locks(v)
        && v.visit(&ABANDONED)
}

/// What a forked child keeps from the parent but must not drop (it belongs to threads that do
/// not exist here: dropping a runtime joins its threads, dropping a worker's channel wakes its
/// task on that runtime). Kept referenced for the life of the process rather than forgotten,
/// so that leak checkers see it as still reachable. Bounded: one runtime and one channel per
/// pipeline, per fork.
static ABANDONED: ShortLock<Vec<Box<dyn std::any::Any + Send>>> = ShortLock::new(Vec::new());

/// Keeps `x` for the life of the process without dropping it (see `ABANDONED`).
pub(crate) fn abandon<T: Send + 'static>(x: T) {
    ABANDONED.lock().push(Box::new(x));
}

/// In a forked child, with every lock free and no other thread: the parent's runtime is gone,
/// and its queued spans and session calls stay the parent's to send.
pub fn reset_in_child(pipelines: &[Arc<Pipeline>]) {
    crate::runtime::note_fork_in_child();
    for p in pipelines {
        p.reset_in_forked_child();
    }
}
