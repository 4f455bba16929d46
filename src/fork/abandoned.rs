//! What a forked child keeps from the parent but must not drop (it belongs to threads that do
//! not exist there: dropping a runtime joins its threads, dropping a worker's channel wakes its
//! task on that runtime). Kept referenced for the life of the process rather than forgotten, so
//! that leak checkers see it as still reachable. Bounded: one runtime and one channel per
//! pipeline, per fork.

use crate::sync::{LockVisitor, ShortLock};

static ABANDONED: ShortLock<Vec<Box<dyn std::any::Any + Send>>> = ShortLock::new(Vec::new());

/// Keeps `x` for the life of the process without dropping it.
pub fn abandon<T: Send + 'static>(x: T) {
    ABANDONED.lock().push(Box::new(x));
}

/// The list's lock: a leaf (nothing is taken while holding it), visited last.
pub(super) fn visit_lock(v: &mut impl LockVisitor) -> bool {
    v.visit(&ABANDONED)
}
