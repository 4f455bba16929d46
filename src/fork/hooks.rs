//! The unsafe parts of fork and exit handling, and nothing else: installing the process hooks
//! (`pthread_atfork`, `atexit`) and releasing the locks a prepare hook took. What the hooks do
//! is decided in safe code (`super::protocol`), which hands its functions to `install`.

use crate::sync::{LockVisitor, ShortLock};
use std::any::Any;
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

/// What the process hooks run (each inside `catch_unwind`: nothing unwinds into libc).
pub struct Callbacks {
    /// Before `fork()`, on the forking thread.
    pub prepare: fn(),
    /// After `fork()`, in the parent, on the forking thread.
    pub parent: fn(),
    /// After `fork()`, in the child (its only thread).
    pub child: fn(),
    /// At `exit()` (or a return from `main`).
    pub exit: fn(),
}

static CALLBACKS: OnceLock<Callbacks> = OnceLock::new();
static INSTALL: Once = Once::new();

/// Installs the process hooks once per process; later calls do nothing.
pub fn install(callbacks: Callbacks) {
    INSTALL.call_once(|| {
        if CALLBACKS.set(callbacks).is_err() {
            return;
        }
        // SAFETY: the four callbacks are `extern "C"` functions that never unwind (they
        // contain panics) and live for the whole process.
        unsafe {
            libc::atexit(at_exit);
            libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
        }
    });
}

fn run(pick: fn(&Callbacks) -> fn()) {
    if let Some(callbacks) = CALLBACKS.get() {
        let f = pick(callbacks);
        let _ = std::panic::catch_unwind(f);
    }
}

extern "C" fn prepare() {
    run(|c| c.prepare)
}

extern "C" fn parent() {
    run(|c| c.parent)
}

extern "C" fn child() {
    run(|c| c.child)
}

extern "C" fn at_exit() {
    run(|c| c.exit)
}

/// A lock a `LockWalk` took and has not released: where it is, and how to release a lock of
/// its type.
struct Taken {
    lock: *const (),
    release: unsafe fn(*const ()),
}

/// # Safety
/// `lock` points to a live `ShortLock<T>` that this thread took and whose guard it forgot.
unsafe fn release<T>(lock: *const ()) {
    // SAFETY: per this function's contract, no guard refers to the lock and it is alive.
    unsafe { (*lock.cast::<ShortLock<T>>()).force_unlock() }
}

enum Mode {
    /// Take each lock and keep it until the walk is released or dropped.
    Take,
    /// Check that each lock is free at some moment (take it and release it at once).
    Probe,
}

/// A walk over locks: visiting a lock takes it (waiting up to a bound for it), and the walk
/// records exactly which locks it took, so that it releases those and no others, whatever
/// else changed in between (a table created meanwhile, a component registered). A visit that
/// cannot get its lock within the bound returns false, which stops the walk.
pub struct LockWalk {
    mode: Mode,
    wait: Duration,
    taken: Vec<Taken>,
    /// Keeps alive every object owning a lock this walk may take, until it is released.
    _owners: Box<dyn Any>,
}

impl LockWalk {
    /// A walk that keeps the locks it takes until `release` (or drop). `owners` must own every
    /// lock the walk visits that is not in a static: they are kept alive until the release.
    pub fn taking(wait: Duration, owners: Box<dyn Any>) -> Self {
        LockWalk {
            mode: Mode::Take,
            wait,
            taken: Vec::new(),
            _owners: owners,
        }
    }

    /// A walk that only checks each lock can be taken within `wait`, and takes none for good.
    pub fn probing(wait: Duration) -> Self {
        LockWalk {
            mode: Mode::Probe,
            wait,
            taken: Vec::new(),
            _owners: Box::new(()),
        }
    }

    /// How many locks the walk holds.
    pub fn held(&self) -> usize {
        self.taken.len()
    }

    /// Releases every lock the walk took, the last taken first.
    pub fn release(&mut self) {
        while let Some(t) = self.taken.pop() {
            // SAFETY: `visit` took this lock on this thread (the walk is not `Send`) and forgot
            // its guard; its owner is in `_owners` or it is a static, so it is alive. In a
            // forked child the forking thread is the only thread.
            unsafe { (t.release)(t.lock) };
        }
    }
}

impl Drop for LockWalk {
    fn drop(&mut self) {
        self.release();
    }
}

impl LockVisitor for LockWalk {
    fn visit<T>(&mut self, lock: &ShortLock<T>) -> bool {
        let mut give_up = None;
        loop {
            if let Some(guard) = lock.try_lock() {
                match self.mode {
                    Mode::Probe => drop(guard),
                    Mode::Take => {
                        // A guard cannot cross `fork()` on the stack: `release` unlocks it.
                        std::mem::forget(guard);
                        self.taken.push(Taken {
                            lock: (lock as *const ShortLock<T>).cast(),
                            release: release::<T>,
                        });
                    }
                }
                return true;
            }
            let now = Instant::now();
            if now > *give_up.get_or_insert(now + self.wait) {
                return false;
            }
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_releases_exactly_the_locks_it_took() {
        let a = ShortLock::new(1);
        let b = ShortLock::new("b");
        let busy = ShortLock::new(());
        let held_elsewhere = busy.lock();
        let mut walk = LockWalk::taking(Duration::from_millis(1), Box::new(()));
        assert!(walk.visit(&a) && walk.visit(&b));
        assert!(
            !walk.visit(&busy),
            "a lock held by someone else is not taken"
        );
        assert_eq!(walk.held(), 2);
        assert!(a.try_lock().is_none() && b.try_lock().is_none());
        walk.release();
        assert!(a.try_lock().is_some() && b.try_lock().is_some());
        // Not released by the walk: it never took it.
        assert!(busy.try_lock().is_none());
        drop(held_elsewhere);
        // Dropping a walk releases what it holds.
        let mut walk = LockWalk::taking(Duration::ZERO, Box::new(()));
        assert!(walk.visit(&a));
        drop(walk);
        assert!(a.try_lock().is_some());
    }

    #[test]
    fn a_probe_takes_nothing_and_reports_a_busy_lock() {
        let a = ShortLock::new(());
        let busy = ShortLock::new(());
        let _held = busy.lock();
        let mut probe = LockWalk::probing(Duration::from_millis(1));
        assert!(probe.visit(&a));
        assert!(!probe.visit(&busy));
        assert_eq!(probe.held(), 0);
        assert!(a.try_lock().is_some());
    }
}
