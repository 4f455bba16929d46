//! A pipeline as a part of the fork protocol (see `crate::fork`): its worker slot (held while
//! the runtime is fetched), then its wake-up, queue stripes, spare buffers and session calls;
//! the reset of a forked child; the flush at exit.

use super::Pipeline;
use crate::fork::{ForkAware, Layer, LockWalk};
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

    /// Starting a runtime at exit is not possible anyway, so a pipeline whose worker never
    /// started in this process is left alone.
    fn flush_at_exit(&self, deadline: Instant) {
        if self.nothing_to_flush_at_exit() {
            return;
        }
        let _ = self.flush(deadline.saturating_duration_since(Instant::now()));
    }
}
