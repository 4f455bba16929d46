//! Process hooks, installed with the first tracer: flush at exit (a program that returns from
//! `main` without closing still delivers its ended spans, within a bound) and fork awareness
//! (a child rebuilds the runtime and drops the parent's queued spans).

use super::span::SPANS;
use super::tracer::{TracerSlot, TRACERS};
use crate::export::Pipeline;
use crate::fork::{LockVisitor, ShortLock};
use once_cell::sync::Lazy;
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
    Lazy::get(&TRACERS).is_none_or(|t| t.visit_locks(v))
        && Lazy::get(&SPANS).is_none_or(|t| t.visit_locks(v))
        && crate::fork::visit_locks(pipelines, v)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{hh_span, hh_status, hh_tracer};
    use std::sync::mpsc;

    const CHILD_ENV: &str = "HH_TEST_FORK_WINDOW_CHILD";
    const CHILD_DONE: &str = "fork-window scenario completed";

    /// `fork()` racing the process's first span start: the span table is created after the
    /// prepare hook took the locks and before the parent hook released them. Afterwards a
    /// tracer and a span made on another thread must complete (it waited forever when the release walk, visiting
    /// the new table, released the wrong locks). Runs in a fresh process of this test binary,
    /// where the span table does not exist yet.
    #[test]
    fn a_table_created_during_a_fork_leaves_no_lock_held() {
        if std::env::var_os(CHILD_ENV).is_none() {
            let name = format!(
                "{}::a_table_created_during_a_fork_leaves_no_lock_held",
                module_path!().split_once("::").map_or("", |(_, rest)| rest)
            );
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, "1")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && stdout.contains(CHILD_DONE),
                "the scenario failed ({}):\n{stdout}\n{stderr}",
                out.status
            );
            return;
        }
        assert!(Lazy::get(&SPANS).is_none(), "the span table already exists");
        before_fork();
        Lazy::force(&SPANS); // what a thread starting the process's first span does meanwhile
        after_fork_in_parent();

        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tracer: hh_tracer = 0;
            // SAFETY: a NUL-terminated config and a valid out-pointer.
            let created = unsafe {
                crate::ffi::tracer::hh_tracer_new(
                    c"{\"test_mode\":true,\"project\":\"fork-window\"}".as_ptr(),
                    &mut tracer,
                    std::ptr::null_mut(),
                )
            };
            let mut span: hh_span = 0;
            // SAFETY: a NUL-terminated name, NULL optional strings, a valid out-pointer.
            let started = unsafe {
                crate::ffi::span::hh_span_start(
                    tracer,
                    c"first-span-after-fork".as_ptr(),
                    0,
                    0,
                    std::ptr::null(),
                    std::ptr::null(),
                    &mut span,
                    std::ptr::null_mut(),
                )
            };
            let ended = crate::ffi::span::hh_span_end(span);
            let _ = tx.send((created, started, ended));
        });
        // A bound, so that a lock left held fails the test instead of hanging it.
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok((created, started, ended)) => {
                assert_eq!(created, hh_status::HH_OK);
                assert_eq!(started, hh_status::HH_OK);
                assert_eq!(ended, hh_status::HH_OK);
            }
            Err(_) => panic!("a span call after the fork never returned: a lock stayed held"),
        }
        println!("{CHILD_DONE}");
    }
}
