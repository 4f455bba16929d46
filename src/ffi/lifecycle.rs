//! Process hooks, installed with the first tracer: flush at exit (a program that returns from
//! `main` without closing still delivers its ended spans, within a bound) and fork awareness
//! (a child rebuilds the runtime and drops the parent's queued spans).

use crate::export::Pipeline;
use crate::fork::{LockVisitor, ShortLock};
use std::cell::RefCell;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

/// Total time the exit hook may spend flushing all tracers.
const DEFAULT_EXIT_FLUSH_MS: u64 = 2000;

static INSTALL: Once = Once::new();

pub(crate) fn install_process_hooks() {
    INSTALL.call_once(|| {
        // SAFETY: both callbacks are `extern "C"` functions that never unwind (they contain
        // panics) and live for the whole process.
        unsafe {
            libc::atexit(flush_at_exit);
            libc::pthread_atfork(
                Some(before_fork),
                Some(after_fork_in_parent),
                Some(after_fork_in_child),
            );
        }
    });
}

extern "C" fn flush_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let budget = std::env::var("HH_EXIT_FLUSH_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_EXIT_FLUSH_MS);
        let deadline = Instant::now() + Duration::from_millis(budget);
        for t in crate::registry::tracers::open_tracers() {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = t.flush(left);
        }
    });
}

// ---- fork --------------------------------------------------------------------------------
//
// `before_fork` takes every lock of the library (the handle tables' and the core's), outer
// first in the library's nesting order (see `crate::fork`), so that at the moment of `fork()`
// no thread is inside a critical section; the parent and the child then release them. Threads
// that reach a taken lock wait for the fork, which makes the walk converge even while many
// threads trace. Should a lock stay busy beyond `LOCK_WAIT` (the nesting order broken by a
// bug), everything is released and the walk starts again rather than deadlocking.

/// What `before_fork` took, kept on the forking thread for the after-fork hooks.
struct Held {
    pipelines: Vec<Arc<Pipeline>>,
    locks: usize,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Longest wait for one lock before the walk starts again.
const LOCK_WAIT: Duration = Duration::from_millis(50);
/// Longest time `before_fork` tries before letting the fork go ahead unprotected (only a lock
/// held for good, or fork() from a signal handler that interrupted the library on this very
/// thread, could make it give up; hanging the parent would be worse).
const FORK_WAIT: Duration = Duration::from_secs(2);

fn visit_all(pipelines: &[Arc<Pipeline>], v: &mut impl LockVisitor) -> bool {
    crate::registry::visit_locks(v) && crate::fork::visit_locks(pipelines, v)
}

/// Takes each lock it visits, waiting up to `LOCK_WAIT` for each; stops at one it cannot get.
#[derive(Default)]
struct TakeInOrder {
    taken: usize,
}

impl LockVisitor for TakeInOrder {
    fn visit<T>(&mut self, lock: &ShortLock<T>) -> bool {
        let mut until = None;
        loop {
            if let Some(guard) = lock.try_lock() {
                // Released by `ReleaseFirst` (a guard cannot cross `fork()` on the stack).
                std::mem::forget(guard);
                self.taken += 1;
                return true;
            }
            let now = Instant::now();
            if now > *until.get_or_insert(now + LOCK_WAIT) {
                return false;
            }
            std::thread::yield_now();
        }
    }
}

/// Releases the first `left` locks it visits: those `TakeAll` took, in the same walk order.
struct ReleaseFirst {
    left: usize,
}

impl LockVisitor for ReleaseFirst {
    fn visit<T>(&mut self, lock: &ShortLock<T>) -> bool {
        if self.left == 0 {
            return false;
        }
        // SAFETY: `TakeAll` took this lock on this thread and forgot its guard, so no guard
        // refers to it; in a child, the forking thread is the only one.
        unsafe { lock.force_unlock() };
        self.left -= 1;
        true
    }
}

extern "C" fn before_fork() {
    // Ended by `after_fork_in_parent` / `after_fork_in_child`, whatever happens here.
    crate::fork::fork_begins();
    let _ = std::panic::catch_unwind(|| {
        let give_up = Instant::now() + FORK_WAIT;
        loop {
            let (pipelines, registrations) = crate::fork::live_pipelines();
            let mut take = TakeInOrder::default();
            let all = visit_all(&pipelines, &mut take);
            // Holding the registry lock: no pipeline can have been added unseen after this.
            if all && !crate::fork::registered_since(registrations) {
                let held = Held {
                    pipelines,
                    locks: take.taken,
                };
                HELD.with(|h| *h.borrow_mut() = Some(held));
                return;
            }
            visit_all(&pipelines, &mut ReleaseFirst { left: take.taken });
            drop(pipelines);
            if Instant::now() > give_up {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Releases what `before_fork` took; returns the pipelines it listed.
fn release_held() -> Vec<Arc<Pipeline>> {
    match HELD.with(|h| h.borrow_mut().take()) {
        Some(held) => {
            visit_all(&held.pipelines, &mut ReleaseFirst { left: held.locks });
            held.pipelines
        }
        None => Vec::new(),
    }
}

extern "C" fn after_fork_in_parent() {
    let _ = std::panic::catch_unwind(|| drop(release_held()));
    crate::fork::fork_ends();
}

extern "C" fn after_fork_in_child() {
    let _ = std::panic::catch_unwind(|| {
        let pipelines = release_held();
        crate::fork::reset_in_child(&pipelines);
    });
    crate::fork::fork_ends_in_child();
}
