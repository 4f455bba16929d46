//! HoneyHive session REST calls (`POST /session/start`, `PUT /events`), made on the shared
//! runtime. Calls for one session run in order; span exports wait for the calls issued before
//! them, so a session exists on the server before its spans arrive.

use super::fault::{Faults, Place};
use super::panic_guard::guarded;
use super::transport;
use crate::fork::{LockVisitor, ShortLock};
use crate::log::Logger;
use crate::proxy::ProxySettings;
use crate::runtime::Shared;
use crate::stats::Stats;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, Semaphore};

/// Calls waiting or running per tracer before new ones are dropped (and counted as failures).
const MAX_PENDING: usize = 10_000;
/// Calls in flight at once per tracer.
const MAX_CONCURRENT: usize = 16;

/// A one-shot "done" signal that any number of tasks can await.
#[derive(Debug, Default)]
pub struct Completion {
    done: AtomicBool,
    notify: Notify,
}

impl Completion {
    pub fn complete(&self) {
        self.done.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
    pub async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_done() {
                return;
            }
            notified.await;
        }
    }
}

#[derive(Debug)]
pub struct Rest {
    base_url: String,
    headers: HeaderMap,
    timeout: Duration,
    stats: Arc<Stats>,
    log: Arc<Logger>,
    // Short sections, never held across an await.
    inflight: ShortLock<Vec<Arc<Completion>>>,
    last_per_session: ShortLock<HashMap<String, Arc<Completion>>>,
    limit: Arc<Semaphore>,
    pending: Arc<AtomicUsize>,
    proxy: ProxySettings,
    pub(crate) faults: Faults,
}

impl Rest {
    pub fn new(
        base_url: String,
        headers: HeaderMap,
        timeout: Duration,
        stats: Arc<Stats>,
        log: Arc<Logger>,
    ) -> Self {
        Rest {
            base_url,
            headers,
            timeout,
            stats,
            log,
            inflight: ShortLock::new(Vec::new()),
            last_per_session: ShortLock::new(HashMap::new()),
            limit: Arc::new(Semaphore::new(MAX_CONCURRENT)),
            pending: Arc::new(AtomicUsize::new(0)),
            proxy: ProxySettings::default(),
            faults: Faults::default(),
        }
    }

    /// Sends through these proxy settings (default: direct).
    pub fn with_proxy(mut self, proxy: ProxySettings) -> Self {
        self.proxy = proxy;
        self
    }

    /// Queues a call; returns at once. `session_id` orders calls for one session.
    pub fn submit(
        self: &Arc<Self>,
        shared: &Shared,
        method: Method,
        path: &'static str,
        body: Value,
        session_id: &str,
    ) {
        Stats::add(&self.stats.rest_calls, 1);
        if self.pending.fetch_add(1, Ordering::AcqRel) >= MAX_PENDING {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            Stats::add(&self.stats.rest_failures, 1);
            self.log.warn(format!(
                "{method} {path} dropped: {MAX_PENDING} session calls already pending"
            ));
            return;
        }
        let http = match shared.client(&self.proxy) {
            Ok(c) => c,
            Err(e) => {
                self.pending.fetch_sub(1, Ordering::AcqRel);
                Stats::add(&self.stats.rest_failures, 1);
                self.log.warn(format!("{method} {path} failed: {e}"));
                return;
            }
        };
        let mut headers = self.headers.clone();
        // Stamped once per public call: its retries carry the same value.
        if let Ok(v) = HeaderValue::from_str(&timestamp_nanos().to_string()) {
            headers.insert("hh-client-timestamp", v);
        }
        let body = match serde_json::to_vec(&body) {
            Ok(b) => bytes::Bytes::from(b),
            Err(e) => {
                self.pending.fetch_sub(1, Ordering::AcqRel);
                Stats::add(&self.stats.rest_failures, 1);
                self.log.warn(format!("{method} {path} dropped: {e}"));
                return;
            }
        };
        let done = Arc::new(Completion::default());
        let previous = self
            .last_per_session
            .lock()
            .insert(session_id.to_string(), done.clone());
        {
            let mut inflight = self.inflight.lock();
            if inflight.len() >= 64 {
                inflight.retain(|c| !c.is_done());
            }
            inflight.push(done.clone());
        }
        let this = self.clone();
        let session = session_id.to_string();
        shared.handle.spawn(async move {
            if let Some(prev) = previous {
                prev.wait().await;
            }
            // A panic fails this call only: counted, reported, and the call completed, so that
            // nothing waits for it forever.
            let call = this.call(&http, method.clone(), path, &headers, body, &session);
            if let Err(panic) = guarded(|| Box::pin(call)).await {
                Stats::add(&this.stats.rest_failures, 1);
                this.log.warn(format!(
                    "{method} {path} failed for session {session}: {panic}"
                ));
            }
            done.complete();
            let mut last = this.last_per_session.lock();
            if last.get(&session).is_some_and(|c| Arc::ptr_eq(c, &done)) {
                last.remove(&session);
            }
            drop(last);
            this.pending.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// Makes one call (with its retries) and reports the outcome.
    async fn call(
        &self,
        http: &reqwest::Client,
        method: Method,
        path: &'static str,
        headers: &HeaderMap,
        body: bytes::Bytes,
        session: &str,
    ) {
        self.faults.panic_if_armed(Place::RestCall);
        let permit = self.limit.clone().acquire_owned().await.ok();
        let url = format!("{}{}", self.base_url, path);
        let deadline = tokio::time::Instant::now() + self.timeout;
        let result = transport::send(http, method.clone(), &url, headers, body, deadline).await;
        drop(permit);
        if result.delivered {
            self.log
                .debug(|| format!("{method} {path} ok (session {session})"));
            if path == "/session/start" {
                self.check_session_echo(session, result.body.as_deref());
            }
        } else {
            Stats::add(&self.stats.rest_failures, 1);
            self.log.warn(format!(
                "{method} {path} failed for session {session}: {}",
                result.error.unwrap_or_default()
            ));
        }
    }

    /// Waits for every call submitted before this one was made.
    pub async fn wait_submitted(&self) {
        let calls = std::mem::take(&mut *self.inflight.lock());
        for c in calls {
            c.wait().await;
        }
    }

    /// In a forked child: calls the parent had in flight belong to the parent's runtime and
    /// will never complete here; forget them.
    pub(crate) fn forget_inherited_calls(&self) {
        self.inflight.lock().clear();
        self.last_per_session.lock().clear();
        self.pending.store(0, Ordering::Release);
    }

    /// This client's locks, for the fork hooks (see `crate::fork`).
    pub(crate) fn visit_locks(&self, v: &mut impl LockVisitor) -> bool {
        v.visit(&self.inflight) && v.visit(&self.last_per_session)
    }

    /// Calls not finished yet.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// The id is generated here and sent; a server that answers with another id is reported.
    fn check_session_echo(&self, sent: &str, body: Option<&[u8]>) {
        let echoed = body
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .and_then(|v| {
                v.get("session_id")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
            });
        if let Some(got) = echoed {
            if got != sent {
                self.log.warn(format!(
                    "server answered session id {got} for session {sent}; spans keep {sent}"
                ));
            }
        }
    }
}

fn timestamp_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
