//! HoneyHive session REST calls (`POST /session/start`, `PUT /events`), made on the shared
//! runtime. Calls of one session run in order (its start before its enrichments); calls of
//! different sessions run side by side, a bounded number at once. A span export waits only
//! for the start of its own sessions, and at most `api_timeout` after that start was made
//! (`pending_starts`): a slow enrich call or another session's start never holds spans back.
//!
//! Pending calls are bounded in number and in bytes; past either bound a call is dropped and
//! counted (`rest_failures`). At close, calls still pending after the close's flush are
//! cancelled (`cancel_pending`) and counted, so that their bodies are freed.

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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, Semaphore};

/// Calls waiting or running per tracer before new ones are dropped (and counted as failures).
const MAX_PENDING: usize = 10_000;
/// Bytes of pending calls (bodies plus `CALL_OVERHEAD` each) per tracer before new ones are
/// dropped (and counted as failures). README documents it.
pub(crate) const MAX_PENDING_BYTES: usize = 16 << 20;
/// What a pending call holds besides its body (headers, task, bookkeeping), roughly.
const CALL_OVERHEAD: usize = 512;
/// At most one warning about dropped calls per this many milliseconds.
const DROP_WARNING_EVERY_MS: u64 = 10_000;
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
    inflight: ShortLock<Inflight>,
    last_per_session: ShortLock<HashMap<String, Arc<Completion>>>,
    /// Sessions whose start is pending: what span exports may wait for.
    starts: ShortLock<HashMap<String, PendingStart>>,
    /// Notified whenever a start finishes.
    start_finished: Notify,
    /// Event creations not known to be finished (see `note_event_create`).
    event_creates: ShortLock<EventCreates>,
    limit: Arc<Semaphore>,
    pending: Arc<AtomicUsize>,
    pending_bytes: AtomicUsize,
    /// Completed by `cancel_pending`: every pending call gives up.
    cancelled: Completion,
    /// Milliseconds since `born` of the last warning about a dropped call (0: none yet).
    last_drop_warning: AtomicU64,
    born: Instant,
    proxy: ProxySettings,
    pub(crate) faults: Faults,
}

/// The calls not known to be finished, pruned when they doubled since the last pruning (so
/// that a submit costs O(1) amortized however many calls are pending).
#[derive(Debug, Default)]
struct Inflight {
    calls: Vec<Arc<Completion>>,
    prune_at: usize,
}

impl Inflight {
    fn push(&mut self, call: Arc<Completion>) {
        if self.calls.len() >= self.prune_at.max(64) {
            self.prune();
        }
        self.calls.push(call);
    }

    fn prune(&mut self) {
        self.calls.retain(|c| !c.is_done());
        self.prune_at = self.calls.len() * 2;
    }
}

#[derive(Debug)]
struct PendingStart {
    done: Arc<Completion>,
    /// Spans of the session wait for the start until then at most.
    until: Instant,
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
            inflight: ShortLock::new(Inflight::default()),
            last_per_session: ShortLock::new(HashMap::new()),
            starts: ShortLock::new(HashMap::new()),
            start_finished: Notify::new(),
            event_creates: ShortLock::new(EventCreates::default()),
            limit: Arc::new(Semaphore::new(MAX_CONCURRENT)),
            pending: Arc::new(AtomicUsize::new(0)),
            pending_bytes: AtomicUsize::new(0),
            cancelled: Completion::default(),
            last_drop_warning: AtomicU64::new(0),
            born: Instant::now(),
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
        if self.cancelled.is_done() {
            Stats::add(&self.stats.rest_failures, 1);
            return;
        }
        if self.pending.fetch_add(1, Ordering::AcqRel) >= MAX_PENDING {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            self.drop_call(&method, path, "session calls already pending");
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
        let body = match serde_json::to_vec(&body) {
            Ok(b) => bytes::Bytes::from(b),
            Err(e) => {
                self.pending.fetch_sub(1, Ordering::AcqRel);
                Stats::add(&self.stats.rest_failures, 1);
                self.log.warn(format!("{method} {path} dropped: {e}"));
                return;
            }
        };
        let weight = body.len() + CALL_OVERHEAD;
        if self.pending_bytes.fetch_add(weight, Ordering::AcqRel) + weight > MAX_PENDING_BYTES {
            self.pending_bytes.fetch_sub(weight, Ordering::AcqRel);
            self.pending.fetch_sub(1, Ordering::AcqRel);
            self.drop_call(&method, path, "session calls already hold the byte bound");
            return;
        }
        let mut headers = self.headers.clone();
        // Stamped once per public call: its retries carry the same value.
        if let Ok(v) = HeaderValue::from_str(&timestamp_nanos().to_string()) {
            headers.insert("hh-client-timestamp", v);
        }
        let done = Arc::new(Completion::default());
        let is_start = path == "/session/start";
        if is_start {
            self.starts.lock().insert(
                session_id.to_string(),
                PendingStart {
                    done: done.clone(),
                    until: Instant::now() + self.timeout,
                },
            );
        }
        let previous = self
            .last_per_session
            .lock()
            .insert(session_id.to_string(), done.clone());
        self.inflight.lock().push(done.clone());
        let this = self.clone();
        let session = session_id.to_string();
        shared.handle.spawn(async move {
            let run = async {
                if let Some(prev) = previous {
                    prev.wait().await;
                }
                // A panic fails this call only: counted, reported, and the call completed, so
                // that nothing waits for it forever.
                let call = this.call(&http, method.clone(), path, &headers, body, &session);
                if let Err(panic) = guarded(|| Box::pin(call)).await {
                    Stats::add(&this.stats.rest_failures, 1);
                    this.log.warn(format!(
                        "{method} {path} failed for session {session}: {panic}"
                    ));
                }
            };
            tokio::select! {
                biased;
                _ = run => {}
                // The tracer closed: the call (and its body) is dropped, and counted.
                _ = this.cancelled.wait() => {
                    Stats::add(&this.stats.rest_failures, 1);
                }
            }
            this.finish(&session, &done, weight, is_start);
        });
    }

    /// The end of a call, however it ended: waiters are released, its bytes are free.
    fn finish(&self, session: &str, done: &Arc<Completion>, weight: usize, is_start: bool) {
        done.complete();
        let mut last = self.last_per_session.lock();
        if last.get(session).is_some_and(|c| Arc::ptr_eq(c, done)) {
            last.remove(session);
        }
        drop(last);
        if is_start {
            let mut starts = self.starts.lock();
            if starts
                .get(session)
                .is_some_and(|s| Arc::ptr_eq(&s.done, done))
            {
                starts.remove(session);
            }
            drop(starts);
            self.start_finished.notify_waiters();
        }
        self.pending_bytes.fetch_sub(weight, Ordering::AcqRel);
        self.pending.fetch_sub(1, Ordering::AcqRel);
    }

    /// Counts a call refused at a bound; warns at most once per `DROP_WARNING_EVERY_MS`.
    #[cold]
    fn drop_call(&self, method: &Method, path: &str, why: &str) {
        Stats::add(&self.stats.rest_failures, 1);
        let now = (self.born.elapsed().as_millis() as u64).max(1);
        let last = self.last_drop_warning.load(Ordering::Acquire);
        if (last == 0 || now.saturating_sub(last) >= DROP_WARNING_EVERY_MS)
            && self
                .last_drop_warning
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.log.warn(format!(
                "{method} {path} dropped: {why} (at most {MAX_PENDING} calls, {} MiB); \
                 further drops are counted in stats rest_failures",
                MAX_PENDING_BYTES >> 20
            ));
        }
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
        // An event's creation: its id is checked against the answer's (cheap: shared bytes).
        let sent_event = (method == Method::POST && path == "/events").then(|| body.clone());
        let result = transport::send(http, method.clone(), &url, headers, body, deadline).await;
        drop(permit);
        if result.delivered {
            self.log
                .debug(|| format!("{method} {path} ok (session {session})"));
            if path == "/session/start" {
                self.check_session_echo(session, result.body.as_deref());
            }
            if let Some(sent) = sent_event {
                if let Some(warning) = other_event_id(&sent, result.body.as_deref()) {
                    self.log.warn(warning);
                }
            }
        } else {
            Stats::add(&self.stats.rest_failures, 1);
            self.log.warn(format!(
                "{method} {path} failed for session {session}: {}",
                result.error.unwrap_or_default()
            ));
        }
    }

    /// The calls submitted so far and not finished: a flush waits for them.
    pub fn unfinished(&self) -> Vec<Arc<Completion>> {
        let mut inflight = self.inflight.lock();
        inflight.prune();
        inflight.calls.clone()
    }

    /// Sessions whose start is still pending, each with the instant its spans stop waiting
    /// for it. Empty (and cheap) when no start is pending.
    pub fn pending_starts(&self) -> HashMap<String, Instant> {
        let starts = self.starts.lock();
        if starts.is_empty() {
            return HashMap::new();
        }
        let now = Instant::now();
        starts
            .iter()
            .filter(|(_, s)| s.until > now && !s.done.is_done())
            .map(|(k, s)| (k.clone(), s.until))
            .collect()
    }

    /// Resolves when a start finishes (or at once, if one finished since `notified` was made).
    pub fn start_finished(&self) -> tokio::sync::futures::Notified<'_> {
        self.start_finished.notified()
    }

    /// After a close's flush: every call still pending gives up, is counted as failed, and
    /// frees what it held. Calls submitted afterwards fail at once.
    pub fn cancel_pending(&self) {
        self.cancelled.complete();
    }

    /// In a forked child: calls the parent had in flight belong to the parent's runtime and
    /// will never complete here; forget them.
    pub(crate) fn forget_inherited_calls(&self) {
        *self.inflight.lock() = Inflight::default();
        self.last_per_session.lock().clear();
        self.starts.lock().clear();
        *self.event_creates.lock() = EventCreates::default();
        self.pending.store(0, Ordering::Release);
        self.pending_bytes.store(0, Ordering::Release);
    }

    /// This client's locks, for the fork hooks (see `crate::fork`).
    pub(crate) fn visit_locks(&self, v: &mut impl LockVisitor) -> bool {
        v.visit(&self.inflight)
            && v.visit(&self.last_per_session)
            && v.visit(&self.starts)
            && v.visit(&self.event_creates)
    }

    /// Calls not finished yet.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Bytes the calls not finished yet hold (as counted against `MAX_PENDING_BYTES`).
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes.load(Ordering::Acquire)
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
                // The server's text, bounded (the log escapes and redacts it as any line).
                let got = transport::body::printable(got.as_bytes(), 64);
                self.log.warn(format!(
                    "server answered session id {got} for session {sent}; spans keep {sent}"
                ));
            }
        }
    }
}

/// Event creations whose call may still be pending: event id → (its session, the call its
/// updates wait for). Pruned of finished calls when it doubled since the last pruning, so it
/// holds about as many entries as calls are pending (bounded by `MAX_PENDING`).
#[derive(Debug, Default)]
struct EventCreates {
    by_event: HashMap<String, (String, Arc<Completion>)>,
    prune_at: usize,
}

impl Rest {
    /// After `POST /events` for `event_id` was submitted in `session_id`'s order: remembers
    /// the call, so that an update of the event is ordered after it (`event_order_key`).
    pub fn note_event_create(&self, event_id: &str, session_id: &str) {
        // The session's last call: this creation, or a later call of the session (which runs
        // after it). None: it finished already (or was dropped), nothing to wait for.
        let Some(call) = self.last_per_session.lock().get(session_id).cloned() else {
            return;
        };
        let mut creates = self.event_creates.lock();
        if creates.by_event.len() >= creates.prune_at.max(64) {
            creates.by_event.retain(|_, (_, c)| !c.is_done());
            creates.prune_at = creates.by_event.len() * 2;
        }
        creates
            .by_event
            .insert(event_id.to_string(), (session_id.to_string(), call));
    }

    /// The order an update of `event_id` is submitted in: its session's while the event's
    /// creation is pending (so it reaches the server after it), else the event's own.
    pub fn event_order_key(&self, event_id: &str) -> String {
        let mut creates = self.event_creates.lock();
        match creates.by_event.get(event_id) {
            Some((session, call)) if !call.is_done() => session.clone(),
            Some(_) => {
                creates.by_event.remove(event_id);
                event_id.to_string()
            }
            None => event_id.to_string(),
        }
    }
}

/// The warning when the server answered an event's creation with another id than the one
/// sent (the caller holds the sent one): None when it echoed it or said nothing.
fn other_event_id(sent: &[u8], answer: Option<&[u8]>) -> Option<String> {
    let id_of = |v: &Value| v.as_str().map(str::to_ascii_lowercase);
    let sent: Value = serde_json::from_slice(sent).ok()?;
    let sent = id_of(sent.get("event")?.get("event_id")?)?;
    let answer: Value = serde_json::from_slice(answer?).ok()?;
    let got = id_of(answer.get("event_id")?)?;
    (got != sent).then(|| {
        // The server's text, bounded (the log escapes and redacts it as any line).
        let got = transport::body::printable(got.as_bytes(), 64);
        format!("server answered event id {got} for event {sent}; the caller holds {sent}")
    })
}

fn timestamp_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{other_event_id, MAX_PENDING_BYTES};
    use crate::config::Config;
    use crate::tracer::Tracer;
    use hh_test_receiver::{Fault, Receiver};
    use std::time::{Duration, Instant};

    #[test]
    fn pending_calls_are_bounded_in_bytes_and_cancelled_after_close() {
        let rx = Receiver::start();
        let json = format!(
            r#"{{"api_key":"k","project":"p","server_url":"{}","api_timeout_ms":60000}}"#,
            rx.url()
        );
        let config = Config::resolve(Some(&json), &|_| None).expect("valid config");
        let t = Tracer::new(config).expect("tracer");
        t.flush(Duration::from_secs(10))
            .expect("the default session start");
        rx.set_fault(Fault::hang().with_path_prefix("/events"));
        let body = format!(r#"{{"metadata":{{"blob":"{}"}}}}"#, "x".repeat(1 << 20));
        for _ in 0..40 {
            t.enrich_session(None, &body).expect("accepted");
        }
        let rest = t.inner.pipeline.rest.clone().expect("session calls");
        assert!(
            rest.pending_bytes() <= MAX_PENDING_BYTES,
            "{}",
            rest.pending_bytes()
        );
        let held = rest.pending();
        assert!(held > 0 && held < 16, "{held} calls of 1 MiB pending");
        assert_eq!(t.stats().rest_failures, 40 - held as u64);

        // The calls hang: the close times out, then cancels them.
        assert!(t.close(Duration::from_millis(200)).is_err());
        let until = Instant::now() + Duration::from_secs(10);
        while rest.pending() > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!((rest.pending(), rest.pending_bytes()), (0, 0));
        let s = t.stats();
        assert_eq!((s.rest_calls, s.rest_failures), (41, 40), "{s:?}");
        assert_eq!(rx.requests_to("POST", "/session/start").len(), 1);
    }

    #[test]
    fn an_event_answered_with_another_id_is_reported() {
        let sent = br#"{"event":{"event_id":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}}"#;
        let same = br#"{"success":true,"event_id":"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"}"#;
        assert_eq!(other_event_id(sent, Some(same)), None);
        assert_eq!(other_event_id(sent, Some(b"{}")), None);
        assert_eq!(other_event_id(sent, Some(b"not json")), None);
        assert_eq!(other_event_id(sent, None), None);
        let other = br#"{"success":true,"event_id":"x\u001b[31m"}"#;
        let w = other_event_id(sent, Some(other)).expect("a warning");
        assert!(w.contains("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"), "{w}");
        assert!(!w.contains('\u{1b}'), "{w}");
    }
}
