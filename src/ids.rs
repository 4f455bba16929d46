//! Trace and span ids that stay unique across `fork()`. OTel's default generator keeps a
//! per-thread RNG seeded once, so a forked child's forking thread would repeat its parent's
//! ids; this one reseeds from the OS whenever the process's fork generation changes.

use opentelemetry::trace::{SpanId, TraceId};
use rand::{rngs::SmallRng, Rng, SeedableRng};
use std::cell::RefCell;

#[derive(Debug, Default)]
pub struct ForkSafeIdGenerator;

thread_local! {
    // (fork generation the RNG was seeded in, RNG). Internal only: no ABI state.
    static RNG: RefCell<(u64, SmallRng)> = RefCell::new((crate::runtime::generation(), SmallRng::from_os_rng()));
}

fn with_rng<T>(f: impl FnOnce(&mut SmallRng) -> T) -> T {
    RNG.with(|cell| {
        let mut state = cell.borrow_mut();
        let generation = crate::runtime::generation();
        if state.0 != generation {
            *state = (generation, SmallRng::from_os_rng());
        }
        f(&mut state.1)
    })
}

impl opentelemetry_sdk::trace::IdGenerator for ForkSafeIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        with_rng(|r| TraceId::from(r.random::<u128>()))
    }
    fn new_span_id(&self) -> SpanId {
        with_rng(|r| SpanId::from(r.random::<u64>()))
    }
}
