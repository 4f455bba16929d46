//! A pipeline as a part of the fork protocol (see `crate::fork`): its worker slot (held while
//! the runtime is fetched), then its wake-up, queue stripes, spare buffers and session calls;
//! the reset of a forked child; the flush at exit.

use super::Pipeline;
use crate::fork::{ForkAware, Layer, LockWalk};
use std::sync::atomic::Ordering;
use std::time::Instant;

impl ForkAware for Pipeline {
    fn visit_layer(&self, layer: Layer, walk: &mut LockWalk) -> bool {
        match layer {
            Layer::Workers => self.visit_worker_lock(walk),
            Layer::Queues => self.visit_inner_locks(walk),
            Layer::Handles | Layer::Runtime | Layer::Leaves => true,
        }
    }

    fn reset_in_child(&self) {
        self.reset_in_forked_child();
    }

    /// A closed pipeline delivered its spans when it closed. One whose worker did not start in
    /// this process has nothing of this process to deliver (a forked child that never traced:
    /// the parent's queued spans are the parent's), and starting a runtime at exit is not
    /// possible anyway.
    fn flush_at_exit(&self, deadline: Instant) {
        let started_here =
            self.worker_generation.load(Ordering::Acquire) == crate::runtime::generation();
        if self.closed.load(Ordering::Acquire) || !started_here {
            return;
        }
        let _ = self.flush(deadline.saturating_duration_since(Instant::now()));
    }
}
