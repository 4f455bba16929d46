//! What the process hooks do, around `fork()` and at exit.
//!
//! Fork: a child process has one thread, a copy of the one that forked. A lock another thread
//! of the parent held at that moment would stay held in the child forever. So the prepare hook
//! takes every lock of the library, layer by layer in the order the library nests them (see
//! `Layer`), and the parent and child hooks release exactly the locks it took: at the moment of
//! `fork()`, no thread is inside a critical section. Threads that reach a call into the library
//! meanwhile wait at its entry (`wait_while_forking`), which makes the walk converge even while
//! many threads trace. Should a lock stay busy beyond `LOCK_WAIT` (the nesting order broken by a
//! bug), everything is released and the walk starts again rather than deadlocking. In the
//! child, each part then forgets what belongs to the parent's threads.
//!
//! Exit: pending spans are delivered within a budget, but only once every lock of the library
//! was found free: `exit()` called from a signal handler may have interrupted this very thread
//! inside the library, and a lock it holds would never be released.

use super::abandoned;
use super::component::{self, Component, Layer};
use super::gate;
use super::hooks::{self, Callbacks, LockWalk};
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// Longest wait for one lock before the fork walk starts again.
const LOCK_WAIT: Duration = Duration::from_millis(50);
/// Longest time the prepare hook tries before letting the fork go ahead unprotected (only a
/// lock held for good, or fork() from a signal handler that interrupted the library on this
/// very thread, could make it give up; hanging the parent would be worse).
const FORK_WAIT: Duration = Duration::from_secs(2);
/// Total time the exit hook may spend flushing, unless `HH_EXIT_FLUSH_TIMEOUT_MS` says.
const DEFAULT_EXIT_FLUSH_MS: u64 = 2000;
/// Longest wait for one lock at exit before the exit flush is given up.
const EXIT_LOCK_WAIT: Duration = Duration::from_millis(100);

/// Installs the process hooks (once; later calls do nothing).
pub fn install_process_hooks() {
    hooks::install(Callbacks {
        prepare: before_fork,
        parent: after_fork_in_parent,
        child: after_fork_in_child,
        exit: at_exit,
    });
}

/// What the prepare hook took, kept on the forking thread for the after-fork hooks.
struct Held {
    /// Declared first: released before the parts are let go.
    locks: LockWalk,
    components: Vec<Component>,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Visits every lock of the library, outer first: each part's locks layer by layer, the
/// registry's after the handle tables, the abandoned list's last.
fn visit_all(components: &[Component], walk: &mut LockWalk) -> bool {
    let layer = |layer: Layer, walk: &mut LockWalk| {
        components.iter().all(|c| c.visit_layer(layer, &mut *walk))
    };
    layer(Layer::Handles, walk)
        && component::visit_registry_lock(walk)
        && Layer::ALL[1..].iter().all(|&l| layer(l, walk))
        && abandoned::visit_lock(walk)
}

pub(crate) fn before_fork() {
    // Ended by `after_fork_in_parent` / `after_fork_in_child`, whatever happens here.
    gate::close_gate();
    let give_up = Instant::now() + FORK_WAIT;
    loop {
        let Some((components, registrations)) = component::snapshot(LOCK_WAIT) else {
            if Instant::now() > give_up {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        let mut locks = LockWalk::taking(LOCK_WAIT, Box::new(components.clone()));
        let all = visit_all(&components, &mut locks);
        // Holding the registry lock: nothing can have been registered unseen after this.
        let done = all && !component::registered_since(registrations);
        if done || Instant::now() > give_up {
            if !done {
                // Unprotected: release what was taken; the child still resets the parts.
                locks.release();
            }
            HELD.with(|h| *h.borrow_mut() = Some(Held { locks, components }));
            return;
        }
        drop(locks); // releases what it took
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Releases what `before_fork` took (exactly that); returns the parts it listed (`None` when
/// it gave up before it could list them).
fn release_held() -> Option<Vec<Component>> {
    HELD.with(|h| h.borrow_mut().take()).map(
        |Held {
             mut locks,
             components,
         }| {
            locks.release();
            components
        },
    )
}

pub(crate) fn after_fork_in_parent() {
    let components = std::panic::catch_unwind(release_held).ok().flatten();
    gate::open_gate();
    // Outside every lock: the parts may make ordinary calls (queue a session start).
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        for c in components.iter().flatten() {
            c.after_fork_in_parent();
        }
    }));
}

pub(crate) fn after_fork_in_child() {
    let _ = std::panic::catch_unwind(|| {
        let components = release_held()
            .or_else(|| component::snapshot(LOCK_WAIT).map(|(all, _)| all))
            .unwrap_or_default();
        for c in components {
            c.reset_in_child();
        }
    });
    gate::open_gate_in_child();
}

fn at_exit() {
    gate::set_exiting();
    let budget = std::env::var("HH_EXIT_FLUSH_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_EXIT_FLUSH_MS);
    let deadline = Instant::now() + Duration::from_millis(budget);
    let wait = EXIT_LOCK_WAIT.min(Duration::from_millis(budget));
    // Calls into the library wait at their entry meanwhile, so that a lock found busy is one
    // held for good (by this thread, interrupted), not one retaken in a tight loop.
    gate::close_gate();
    let free = component::snapshot(wait).filter(|(components, _)| {
        let mut probe = LockWalk::probing(wait);
        visit_all(components, &mut probe)
    });
    gate::open_gate();
    let Some((components, _)) = free else {
        crate::log::process_warn(
            "exit flush skipped: a lock of the library stayed busy (exit() \
             called while this thread was inside the library, e.g. from a signal handler); \
             spans not yet delivered are lost",
        );
        return;
    };
    for c in components {
        c.flush_at_exit(deadline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{LockVisitor, ShortLock};
    use component::{register_static, ForkAware};
    use std::sync::OnceLock;

    /// A part whose second lock appears only once it is first used.
    struct Growing {
        early: ShortLock<u32>,
        late: OnceLock<ShortLock<u32>>,
    }

    impl ForkAware for Growing {
        fn visit_layer(&self, layer: Layer, walk: &mut LockWalk) -> bool {
            layer != Layer::Queues
                || (walk.visit(&self.early) && self.late.get().is_none_or(|l| walk.visit(l)))
        }
    }

    static GROWING: Growing = Growing {
        early: ShortLock::new(0),
        late: OnceLock::new(),
    };

    /// The locks released after a fork are exactly those taken before it, even when a part
    /// gained a lock in between (which once shifted the release walk by one lock per new lock
    /// and left the last ones held for good).
    #[test]
    fn the_after_fork_hook_releases_exactly_what_the_prepare_hook_took() {
        register_static(&GROWING);
        before_fork();
        assert!(
            GROWING.early.try_lock().is_none(),
            "taken by the prepare hook"
        );
        assert!(GROWING.late.set(ShortLock::new(0)).is_ok());
        after_fork_in_parent();
        let late = GROWING.late.get().unwrap();
        assert!(GROWING.early.try_lock().is_some() && late.try_lock().is_some());
        // Every other lock of the library is free again too (other tests may hold one for a
        // moment: a generous bound, not a timing assertion).
        let (components, _) = component::snapshot(Duration::from_secs(10)).unwrap();
        let mut probe = LockWalk::probing(Duration::from_secs(10));
        assert!(visit_all(&components, &mut probe));
        // And the gate is open: a call into the library does not wait.
        assert!(!gate::gate_closed_for_tests());
    }
}
