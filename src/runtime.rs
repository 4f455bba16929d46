//! The one background runtime of the process: a fixed number of threads, whatever the number of
//! tracers, doing all network and file I/O. It is rebuilt in a forked child (the parent's
//! threads do not exist there) on first use after the fork.

use crate::fork::{LockVisitor, ShortLock};
use crate::proxy::ProxySettings;
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

/// The runtime slot's lock, for the fork hooks (see `crate::fork`).
pub(crate) fn visit_locks(v: &mut impl LockVisitor) -> bool {
    v.visit(&SHARED)
}

/// Called in the child right after `fork()`: the parent's runtime threads are gone.
pub(crate) fn note_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::AcqRel);
    if let Some(old) = SHARED.lock().take() {
        // Its threads do not exist in this process: dropping it would try to join them.
        crate::fork::abandon(old);
    }
}

/// The runtime for the current process, created on first use (or first use after a fork).
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .max_blocking_threads(BLOCKING_THREADS)
        .thread_name("honeyhive-io")
        .enable_all()
        .build()?;
    let http = {
        let _enter = runtime.enter();
        build_http_client(&ProxySettings::default()).map_err(std::io::Error::other)?
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
            build_http_client(proxy)?
        };
        if clients.len() >= MAX_PROXIED_CLIENTS {
            clients.remove(0);
        }
        clients.push((proxy.clone(), client.clone()));
        Ok(client)
    }
}

fn build_http_client(proxy: &ProxySettings) -> Result<reqwest::Client, String> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_platform_verifier()
        .map_err(|e| format!("TLS certificate verifier: {e}"))?
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(4)
        // reqwest's own reading of the environment is off: `crate::proxy` decides.
        .no_proxy();
    for p in proxy.reqwest_proxies() {
        builder = builder.proxy(p);
    }
    builder.build().map_err(|e| format!("HTTP client: {e}"))
}
