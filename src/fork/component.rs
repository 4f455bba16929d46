//! What a part of the library implements to take part in the fork protocol, and the registry
//! of the parts that did.

use super::hooks::LockWalk;
use crate::sync::{LockVisitor, ShortLock};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// The lock layers, outer first: a thread holding a lock of one layer takes locks of later
/// layers only. The fork protocol takes every lock layer by layer, in this order, so that it
/// never waits for a lock whose holder waits for one the protocol already has. (The registry's
/// own lock comes right after `Handles`; the abandoned list's after `Leaves`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    /// Handle-table shards: a span call holds one while it works on the span.
    Handles,
    /// A pipeline's worker slot: held while the runtime is fetched.
    Workers,
    /// The shared runtime's slot.
    Runtime,
    /// A pipeline's wake-up, queue stripes (in index order), spare buffers, session calls.
    Queues,
    /// Locks under which nothing else is taken (interned strings, spare attribute vectors, a
    /// tracer's named sessions).
    Leaves,
}

impl Layer {
    /// Every layer, outer first.
    pub(crate) const ALL: [Layer; 5] = [
        Layer::Handles,
        Layer::Workers,
        Layer::Runtime,
        Layer::Queues,
        Layer::Leaves,
    ];
}

/// A part of the library that must act around `fork()` (and may act at exit).
pub trait ForkAware: Send + Sync {
    /// Visits this part's locks of `layer`, in the order it nests them (none for a layer it
    /// has no lock in); returns false as soon as a visit does. Visits only locks that live in
    /// `self` or in statics.
    fn visit_layer(&self, layer: Layer, walk: &mut LockWalk) -> bool;

    /// In a forked child, with every lock of the library free and no other thread: forget
    /// what belongs to the parent's threads.
    fn reset_in_child(&self) {}

    /// In the parent, once the fork is over (every lock released, calls let in again): work
    /// the child left to the parent, done as an ordinary call would.
    fn after_fork_in_parent(&self) {}

    /// At process exit, once every lock of the library was found free: deliver what is
    /// pending, by `deadline`. Must not start threads or a runtime.
    fn flush_at_exit(&self, _deadline: Instant) {}
}

enum Entry {
    Static(&'static dyn ForkAware),
    Shared(Weak<dyn ForkAware>),
}

/// Every registered part (pruned of dropped ones when a new one registers).
static REGISTRY: ShortLock<Vec<Entry>> = ShortLock::new(Vec::new());
/// Bumped under `REGISTRY` by each registration: a fork hook that took every lock checks that
/// nothing was registered since it listed the parts.
static REGISTRATIONS: AtomicU64 = AtomicU64::new(0);

/// A registered part, as listed by `snapshot`.
#[derive(Clone)]
pub enum Component {
    Static(&'static dyn ForkAware),
    Shared(Arc<dyn ForkAware>),
}

impl std::ops::Deref for Component {
    type Target = dyn ForkAware;
    fn deref(&self) -> &(dyn ForkAware + 'static) {
        match self {
            Component::Static(c) => *c,
            Component::Shared(c) => &**c,
        }
    }
}

/// Registers a part for as long as it lives (a pipeline, at its creation).
pub fn register<C: ForkAware + 'static>(component: &Arc<C>) {
    let weak: Weak<dyn ForkAware> = Arc::downgrade(component) as Weak<dyn ForkAware>;
    push(Entry::Shared(weak));
}

/// Registers a part that lives for the whole process (a static table, a module's statics).
pub fn register_static(component: &'static dyn ForkAware) {
    push(Entry::Static(component));
}

fn push(entry: Entry) {
    let mut all = REGISTRY.lock();
    all.retain(|e| match e {
        Entry::Static(_) => true,
        Entry::Shared(w) => w.strong_count() > 0,
    });
    all.push(entry);
    REGISTRATIONS.fetch_add(1, Ordering::AcqRel);
}

/// The registered parts, in registration order, and the registration count they correspond
/// to; `None` when the registry stayed busy for `wait`.
pub(super) fn snapshot(wait: Duration) -> Option<(Vec<Component>, u64)> {
    let give_up = Instant::now() + wait;
    let all = loop {
        if let Some(all) = REGISTRY.try_lock() {
            break all;
        }
        if Instant::now() > give_up {
            return None;
        }
        std::thread::yield_now();
    };
    let live = all
        .iter()
        .filter_map(|e| match e {
            Entry::Static(c) => Some(Component::Static(*c)),
            Entry::Shared(w) => w.upgrade().map(Component::Shared),
        })
        .collect();
    Some((live, REGISTRATIONS.load(Ordering::Acquire)))
}

/// Whether a part was registered since `snapshot` returned `registrations`.
pub(super) fn registered_since(registrations: u64) -> bool {
    REGISTRATIONS.load(Ordering::Acquire) != registrations
}

/// The registry's lock (taken right after the `Handles` layer).
pub(super) fn visit_registry_lock(v: &mut impl LockVisitor) -> bool {
    v.visit(&REGISTRY)
}
