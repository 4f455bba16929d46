//! A tracer's session bookkeeping that span starts read (the lazy default session's flags,
//! the names of named sessions): a leaf the tracer holds, used by `session`.

use crate::sync::ShortLock;
use opentelemetry::Key;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

/// `SessionState::flags`: the default session is still to be started.
pub(crate) const NEEDS_START: u8 = 1;
/// Its start is being submitted by another thread right now.
pub(crate) const STARTING: u8 = 2;
/// Some session has a name of its own (`create_session` with `skip_api_call` and
/// `session_name`), stamped on its spans.
pub(crate) const NAMED: u8 = 4;
/// Session auto-create mode: every span with a session gets its session's name.
pub(crate) const AUTO_CREATE: u8 = 8;

/// How long a use of the default session waits for another thread submitting its start. Paid
/// once per tracer at most: a use that runs out of it clears `STARTING`, so that no later one
/// waits again.
pub(crate) const MAX_START_WAIT_YIELDS: u32 = 100_000;

/// Named sessions remembered per tracer (the oldest is forgotten past it: a server making one
/// per request must not grow without bound).
pub(crate) const MAX_NAMED_SESSIONS: usize = 4096;
/// A remembered session name is cut there (at a UTF-8 boundary): the names remembered stay
/// bounded in bytes too.
pub(crate) const MAX_SESSION_NAME_BYTES: usize = 1024;

pub(crate) const SESSION_NAME_KEY: Key = Key::from_static_str("honeyhive.session_name");
pub(crate) const BAGGAGE_SESSION_NAME_KEY: Key = Key::from_static_str("baggage.session_name");

/// A tracer's session bookkeeping that span starts read: all of it behind one flags word, so
/// that a span of a tracer with nothing to do (its default session started, no named
/// sessions, not auto-create) pays one load.
#[derive(Debug)]
pub(crate) struct SessionState {
    pub(crate) flags: AtomicU8,
    pub(crate) named: ShortLock<NamedSessions>,
    warned_no_session: AtomicBool,
}

#[derive(Debug, Default)]
pub(crate) struct NamedSessions {
    names: HashMap<Arc<str>, Arc<str>>,
    order: VecDeque<Arc<str>>,
}

impl SessionState {
    pub(crate) fn new(needs_start: bool, auto_create: bool) -> Self {
        let mut flags = 0;
        if needs_start {
            flags |= NEEDS_START;
        }
        if auto_create {
            flags |= AUTO_CREATE;
        }
        SessionState {
            flags: AtomicU8::new(flags),
            named: ShortLock::new(NamedSessions::default()),
            warned_no_session: AtomicBool::new(false),
        }
    }

    pub(crate) fn auto_create(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & AUTO_CREATE != 0
    }

    /// Claims the default session's start when it is still to be done: `NEEDS_START` becomes
    /// `STARTING` until `start_registered`, so that a concurrent use waits until the start is
    /// registered (its span is then held back behind it). False: nothing to claim.
    pub(crate) fn claim_start(&self) -> bool {
        self.flags
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |f| {
                (f & NEEDS_START != 0).then_some((f & !NEEDS_START) | STARTING)
            })
            .is_ok()
    }

    /// The start claimed by `claim_start` is registered; returns the flags left.
    pub(crate) fn start_registered(&self) -> u8 {
        self.flags.fetch_and(!STARTING, Ordering::AcqRel) & !STARTING
    }

    /// In a forked child: the default session counts as started (the parent starts it, if it
    /// was not, right after the fork: see `after_fork_in_parent`), and a start another parent
    /// thread was submitting is no business of the child's.
    pub(crate) fn forget_start_in_child(&self) {
        self.flags
            .fetch_and(!(NEEDS_START | STARTING), Ordering::AcqRel);
    }

    /// True the first time only: the one warning about spans without a session.
    pub(crate) fn first_no_session(&self) -> bool {
        !self.warned_no_session.swap(true, Ordering::Relaxed)
    }

    pub(crate) fn remember_name(&self, session: &str, name: &str) {
        let name = crate::limits::truncate_utf8(name, MAX_SESSION_NAME_BYTES);
        let mut named = self.named.lock();
        let session: Arc<str> = session.into();
        if named.names.insert(session.clone(), name.into()).is_none() {
            named.order.push_back(session);
            if named.order.len() > MAX_NAMED_SESSIONS {
                if let Some(old) = named.order.pop_front() {
                    named.names.remove(&old);
                }
            }
        }
        drop(named);
        self.flags.fetch_or(NAMED, Ordering::Release);
    }

    /// The name given to a session by `create_session` (`skip_api_call` + `session_name`).
    pub(crate) fn name_of(&self, session: &str) -> Option<Arc<str>> {
        if self.flags.load(Ordering::Acquire) & NAMED == 0 {
            return None;
        }
        // Held for a lookup or an insert only.
        self.named.lock().names.get(session).cloned()
    }
}
