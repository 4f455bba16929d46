//! The lock of the library's short critical sections, and cache-line padding. A leaf: it
//! imports nothing of the crate, so every module can use it.

/// The lock of every short critical section in the library (a handle-table shard, a queue
/// stripe, a registry). Uncontended, taking it is one atomic exchange and releasing it one
/// store; a waiter yields its CPU between attempts. It never parks a thread, so that releasing
/// one in a forked child is a single store and never touches a wait queue a parent thread may
/// have been changing (a parking mutex's unlock may): see `crate::fork`.
pub type ShortLock<T> = spin::mutex::SpinMutex<T, spin::relax::Yield>;

/// Something done to each lock of a component in turn (by the fork protocol: take it, or check
/// it is free). Returns false to stop the walk.
pub trait LockVisitor {
    fn visit<T>(&mut self, lock: &ShortLock<T>) -> bool;
}

/// A value padded to its own cache lines (128 bytes: adjacent-line prefetch on x86).
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded<T>(pub T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
