//! The one background runtime of the process: a fixed number of threads, whatever the number of
//! tracers, doing all network and file I/O. It is rebuilt in a forked child (the parent's
//! threads do not exist there) on first use after the fork.

use crate::fork::{ForkAware, Layer, LockWalk};
use crate::proxy::ProxySettings;
use crate::sync::{LockVisitor, ShortLock};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Worker threads of the shared runtime: export and REST I/O are not CPU-bound.
const WORKER_THREADS: usize = 1;
/// Blocking-pool threads (DNS resolution, file exports).
const BLOCKING_THREADS: usize = 1;

/// Bumped in a forked child by the fork hook; everything bound to a runtime compares against it.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Distinct proxy settings whose clients are kept (beyond it the oldest is let go).
const MAX_PROXIED_CLIENTS: usize = 8;

/// A runtime and the HTTP clients bound to it (connection pools do not survive a fork either).
pub struct Shared {
    pub handle: tokio::runtime::Handle,
    /// The client of every tracer without a proxy.
    pub http: reqwest::Client,
    /// One client per distinct proxy settings, shared by the tracers that have them.
    proxied: std::sync::Mutex<Vec<(ProxySettings, reqwest::Client)>>,
    pub generation: u64,
    // Kept alive for the process; never dropped in a child where its threads are gone.
    _runtime: Arc<tokio::runtime::Runtime>,
}

static SHARED: ShortLock<Option<Arc<Shared>>> = ShortLock::new(None);

/// The current fork generation (cheap: one atomic load).
pub fn generation() -> u64 {
    FORK_GENERATION.load(Ordering::Acquire)
}

/// The runtime slot, as a part of the fork protocol.
struct RuntimeSlot;

impl ForkAware for RuntimeSlot {
    fn visit_layer(&self, layer: Layer, walk: &mut LockWalk) -> bool {
        layer != Layer::Runtime || walk.visit(&SHARED)
    }

    fn reset_in_child(&self) {
        note_fork_in_child();
    }
}

/// Makes the runtime slot take part in the fork protocol (once, before any pipeline exists).
pub fn register_with_fork() {
    crate::fork::register_static(&RuntimeSlot);
}

/// Called in the child right after `fork()`: the parent's runtime threads are gone.
fn note_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::AcqRel);
    if let Some(old) = SHARED.lock().take() {
        // Its threads do not exist in this process: dropping it would try to join them.
        crate::fork::abandon(old);
    }
}

/// The runtime for the current process, created on first use (or first use after a fork).
/// Never created once the process is exiting (the exit hook runs after the exiting thread's
/// thread-local values are gone, which a runtime needs).
pub fn shared() -> std::io::Result<Arc<Shared>> {
    let generation = generation();
    let mut guard = SHARED.lock();
    if let Some(s) = guard.as_ref() {
        if s.generation == generation {
            return Ok(s.clone());
        }
        if let Some(stale) = guard.take() {
            crate::fork::abandon(stale);
        }
    }
    if crate::fork::exiting() {
        return Err(std::io::Error::other(
            "the process is exiting: no background runtime is started",
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .max_blocking_threads(BLOCKING_THREADS)
        .thread_name("honeyhive-io")
        .enable_all()
        .build()?;
    let http = {
        let _enter = runtime.enter();
        crate::export::transport::client::build_http_client(&ProxySettings::default())
            .map_err(std::io::Error::other)?
    };
    // Span timestamps read the CPU's counter once it is calibrated (see `crate::clock`): a
    // busy loop of about a millisecond, done here rather than on an application thread.
    runtime.spawn(async { crate::clock::calibrate() });
    let shared = Arc::new(Shared {
        handle: runtime.handle().clone(),
        http,
        proxied: std::sync::Mutex::new(Vec::new()),
        generation,
        _runtime: Arc::new(runtime),
    });
    *guard = Some(shared.clone());
    Ok(shared)
}

impl Shared {
    /// The HTTP client for a tracer with these proxy settings.
    pub fn client(&self, proxy: &ProxySettings) -> Result<reqwest::Client, String> {
        if proxy.is_direct() {
            return Ok(self.http.clone());
        }
        // A panic while it was held left a list that is still valid.
        let mut clients = self
            .proxied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, c)) = clients.iter().find(|(p, _)| p == proxy) {
            return Ok(c.clone());
        }
        let client = {
            let _enter = self.handle.enter();
            crate::export::transport::client::build_http_client(proxy)?
        };
        if clients.len() >= MAX_PROXIED_CLIENTS {
            clients.remove(0);
        }
        clients.push((proxy.clone(), client.clone()));
        Ok(client)
    }
}
