//! The flags the process hooks raise: a fork under way (calls into the library wait at their
//! entry) and the process exiting (nothing new is started).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Set while a fork hook walks the locks: calls into the library wait at their entry, before
/// taking any lock. Without it, a thread tracing in a tight loop retakes its shard's lock
/// within nanoseconds of releasing it, and the walk could wait for it a long time.
/// (A count: two threads may fork at once.)
static FORKING: AtomicUsize = AtomicUsize::new(0);

/// Set by the exit hook, never cleared.
static EXITING: AtomicBool = AtomicBool::new(false);

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

/// A fork (or the exit hook's check of the locks) begins.
pub(super) fn close_gate() {
    FORKING.fetch_add(1, Ordering::AcqRel);
}

/// This thread's fork (or check) is over.
pub(super) fn open_gate() {
    FORKING.fetch_sub(1, Ordering::AcqRel);
}

/// In a forked child: other threads' forks are not under way here.
pub(super) fn open_gate_in_child() {
    FORKING.store(0, Ordering::Release);
}

/// Whether the process is exiting: the exit hook runs after the thread-local values of the
/// exiting thread are gone, so nothing may start a runtime then.
pub fn exiting() -> bool {
    EXITING.load(Ordering::Acquire)
}

pub(super) fn set_exiting() {
    EXITING.store(true, Ordering::Release);
}

#[cfg(test)]
pub(crate) fn gate_closed_for_tests() -> bool {
    FORKING.load(Ordering::Acquire) != 0
}
