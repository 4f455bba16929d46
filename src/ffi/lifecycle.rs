//! Process hooks, installed with the first tracer: flush at exit (a program that returns from
//! `main` without closing still delivers its ended spans, within a bound) and fork awareness
//! (a child rebuilds the runtime and drops the parent's queued spans).

use super::tracer::{TracerSlot, TRACERS};
use std::sync::Once;
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
        let mut open = Vec::new();
        TRACERS.for_each_live(|slot| {
            if let TracerSlot::Open(t) = slot {
                open.push(t.clone());
            }
        });
        for t in open {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = t.flush(left);
        }
    });
}

/// Takes the runtime lock so that no other thread holds it at the moment of `fork()`.
extern "C" fn before_fork() {
    std::mem::forget(crate::runtime::shared_lock().lock());
}

extern "C" fn after_fork_in_parent() {
    // SAFETY: `before_fork` locked it on this thread and forgot the guard.
    unsafe { crate::runtime::shared_lock().force_unlock() };
}

extern "C" fn after_fork_in_child() {
    let lock = crate::runtime::shared_lock();
    // SAFETY: `before_fork` locked it in the parent and the child is a copy of that state;
    // the only thread of the child is the one that forked.
    unsafe { lock.force_unlock() };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::runtime::note_fork_in_child(&mut lock.lock())
    }));
}
