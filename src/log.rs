//! Diagnostics: warnings always (rate-limited), debug lines only when verbose. Every line passes
//! through `Redactor::clean`: no configured secret is printed in any form, and control
//! characters from server answers cannot forge lines or drive the terminal.
//!
//! A line goes to the tracer's handler, else the process-wide handler, else stderr. Handlers
//! are called with no lock of the library held (a line produced under one is deferred: see
//! `Logger::warn_deferred`), so that a handler may call back into the library. Replacing a
//! handler waits (bounded) for the calls still running in the old one, so that its owner
//! knows when it may release what the handler uses.

use crate::fork::{ForkAware, Layer, LockWalk};
use crate::redact::Redactor;
use crate::sync::{LockVisitor, ShortLock};
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

/// Warnings a tracer prints before it goes quiet (they are still counted in the stats).
const MAX_WARNINGS: u32 = 20;

/// How long replacing a handler waits for the calls still running in the old one.
pub const HANDLER_SWAP_WAIT: Duration = Duration::from_secs(2);

/// Lines produced under a lock and not yet delivered, at most (further ones go to stderr).
const MAX_DEFERRED: usize = 64;

/// The level of a line (the C ABI's `HH_LOG_*` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// What a handler is given: the level and the line as stderr would get it, without the newline.
pub type HandlerFn = dyn Fn(Level, &str) + Send + Sync;

/// An installed handler and the calls running in it.
pub struct Handler {
    f: Box<HandlerFn>,
    in_flight: AtomicUsize,
    /// Set once it was replaced: a deferred line meant for it goes elsewhere.
    retired: AtomicBool,
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .finish()
    }
}

/// Handler calls nested on one thread that `own_calls` sees (deeper ones count as other
/// threads' calls: a swap from there waits its bound).
const MAX_NESTED_CALLS: usize = 8;

/// The handlers one thread is calling, innermost last. Fixed-size, not on the heap: a forked
/// child would otherwise hold the unreachable lists of the parent's vanished threads.
struct Calling {
    depth: usize,
    handlers: [usize; MAX_NESTED_CALLS],
}

thread_local! {
    /// The handlers this thread is calling: a handler that replaces itself is not waited for
    /// by its own thread.
    static CALLING: RefCell<Calling> = const {
        RefCell::new(Calling { depth: 0, handlers: [0; MAX_NESTED_CALLS] })
    };
}

fn own_calls(h: &Arc<Handler>) -> usize {
    let me = Arc::as_ptr(h) as usize;
    CALLING
        .try_with(|c| {
            let c = c.borrow();
            let seen = c.depth.min(MAX_NESTED_CALLS);
            c.handlers[..seen].iter().filter(|p| **p == me).count()
        })
        .unwrap_or(0)
}

impl Handler {
    pub fn new(f: Box<HandlerFn>) -> Arc<Handler> {
        Arc::new(Handler {
            f,
            in_flight: AtomicUsize::new(0),
            retired: AtomicBool::new(false),
        })
    }

    /// Counts a call in; false (and nothing counted) when the handler was replaced meanwhile.
    fn enter(&self) -> bool {
        // SeqCst with the setter's `retired` store then `in_flight` load: either the setter
        // sees this call, or this call sees it retired.
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if self.retired.load(Ordering::SeqCst) {
            self.in_flight.fetch_sub(1, Ordering::Release);
            return false;
        }
        true
    }

    /// Calls it (counted in by `enter`), containing any panic, then counts the call out.
    fn call_entered(self: &Arc<Self>, level: Level, line: &str) {
        let me = Arc::as_ptr(self) as usize;
        let _ = CALLING.try_with(|c| {
            let mut c = c.borrow_mut();
            if c.depth < MAX_NESTED_CALLS {
                let d = c.depth;
                c.handlers[d] = me;
            }
            c.depth += 1;
        });
        let _ = catch_unwind(AssertUnwindSafe(|| {
            off_the_runtime(|| (self.f)(level, line))
        }));
        let _ = CALLING.try_with(|c| {
            let mut c = c.borrow_mut();
            c.depth = c.depth.saturating_sub(1);
        });
        // Release: what the handler did happens before the setter sees the call finished.
        self.in_flight.fetch_sub(1, Ordering::Release);
    }

    /// Marks it replaced and waits until no other thread is in it, up to `wait`.
    fn retire(self: &Arc<Self>, wait: Duration) -> bool {
        self.retired.store(true, Ordering::SeqCst);
        let give_up = Instant::now() + wait;
        loop {
            if self.in_flight.load(Ordering::SeqCst) <= own_calls(self) {
                std::sync::atomic::fence(Ordering::Acquire);
                return true;
            }
            if Instant::now() > give_up {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Runs `f`, on a thread of the background runtime as a blocking section: the runtime's other
/// work moves to another thread meanwhile, so a handler that waits for it (a flush of another
/// tracer) cannot starve it.
fn off_the_runtime(f: impl FnOnce()) {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let on_worker = Handle::try_current()
        .map(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
        .unwrap_or(false);
    if !on_worker {
        return f();
    }
    // `block_in_place` refuses (panics before running `f`) where the thread may not block
    // that way: then `f` runs as it is.
    let mut f = Some(f);
    let refused = catch_unwind(AssertUnwindSafe(|| {
        tokio::task::block_in_place(|| {
            if let Some(f) = f.take() {
                f()
            }
        })
    }))
    .is_err();
    if refused {
        if let Some(f) = f.take() {
            f()
        }
    }
}

/// Where a handler is installed (the process's, or one tracer's). Its lock is held only to
/// read or replace the handler, never during a call.
#[derive(Debug, Default)]
pub struct HandlerSlot {
    slot: ShortLock<Option<Arc<Handler>>>,
}

impl HandlerSlot {
    pub const fn new() -> Self {
        HandlerSlot {
            slot: ShortLock::new(None),
        }
    }

    /// Installs `handler` (None: none) and waits up to `wait` for the calls still running in
    /// the one it replaces. False when some were still running then.
    pub fn set(&self, handler: Option<Arc<Handler>>, wait: Duration) -> bool {
        let old = std::mem::replace(&mut *self.slot.lock(), handler);
        old.is_none_or(|old| old.retire(wait))
    }

    fn current(&self) -> Option<Arc<Handler>> {
        self.slot.lock().clone()
    }

    /// Like `current`, without waiting for a busy lock (at exit the lock may be held for good).
    fn try_current(&self) -> Result<Option<Arc<Handler>>, ()> {
        let give_up = Instant::now() + Duration::from_millis(100);
        loop {
            if let Some(s) = self.slot.try_lock() {
                return Ok(s.clone());
            }
            if Instant::now() > give_up {
                return Err(());
            }
            std::thread::yield_now();
        }
    }

    fn visit(&self, walk: &mut LockWalk) -> bool {
        walk.visit(&self.slot)
    }

    /// In a forked child: the parent's other threads vanished in their calls.
    fn reset_in_child(&self) {
        if let Some(h) = self.slot.lock().as_ref() {
            h.in_flight.store(own_calls(h), Ordering::SeqCst);
        }
    }
}

/// The process-wide handler: for tracers without their own, and lines of no tracer.
static PROCESS: HandlerSlot = HandlerSlot::new();

/// Lines produced under a lock of the library, for delivery once none is held.
static DEFERRED: ShortLock<Vec<(Arc<Handler>, Level, String)>> = ShortLock::new(Vec::new());
static HAS_DEFERRED: AtomicBool = AtomicBool::new(false);

/// This module's static locks in the fork protocol (nothing is taken under them).
struct ProcessLocks;

impl ForkAware for ProcessLocks {
    fn visit_layer(&self, layer: Layer, walk: &mut LockWalk) -> bool {
        layer != Layer::Leaves || (PROCESS.visit(walk) && walk.visit(&DEFERRED))
    }

    fn reset_in_child(&self) {
        PROCESS.reset_in_child();
        // The parent's deferred lines are the parent's to deliver, not the child's again.
        DEFERRED.lock().clear();
        HAS_DEFERRED.store(false, Ordering::Release);
    }
}

fn register_with_fork() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| crate::fork::register_static(&ProcessLocks));
}

/// Installs the process-wide handler (None: stderr again); see `HandlerSlot::set`.
pub fn set_process_handler(handler: Option<Arc<Handler>>) -> bool {
    register_with_fork();
    let done = PROCESS.set(handler, HANDLER_SWAP_WAIT);
    deliver_deferred();
    done
}

/// Writes a line to stderr; a closed or failing stderr loses it (never panics, unlike
/// `eprintln!`).
fn to_stderr(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Delivers `line` to `handler` if it is still installed, else to the process's, else stderr.
fn deliver(handler: Option<Arc<Handler>>, level: Level, line: &str) {
    if let Some(h) = handler {
        if h.enter() {
            h.call_entered(level, line);
            return;
        }
    }
    match PROCESS.current() {
        Some(p) if p.enter() => p.call_entered(level, line),
        _ => to_stderr(line),
    }
}

/// Delivers the lines deferred by `Logger::warn_deferred`. Call with no lock of the library
/// held; cheap when there are none.
pub fn deliver_deferred() {
    if !HAS_DEFERRED.load(Ordering::Acquire) {
        return;
    }
    let lines = {
        let mut d = DEFERRED.lock();
        HAS_DEFERRED.store(false, Ordering::Release);
        std::mem::take(&mut *d)
    };
    for (h, level, line) in lines {
        deliver(Some(h), level, &line);
    }
}

/// A warning of no tracer (`[honeyhive] warning: ...`): to the process-wide handler, else
/// stderr. Safe at exit, when a lock of the library may stay held: then stderr.
pub fn process_warn(msg: &str) {
    let line = format!("[honeyhive] warning: {}", Redactor::default().clean(msg));
    match PROCESS.try_current() {
        Ok(h) => deliver(h, Level::Warn, &line),
        Err(()) => to_stderr(&line),
    }
}

#[derive(Debug)]
pub struct Logger {
    verbose: bool,
    prefix: String,
    redactor: Redactor,
    warnings: AtomicU32,
    handler: HandlerSlot,
}

impl ForkAware for Logger {
    fn visit_layer(&self, layer: Layer, walk: &mut LockWalk) -> bool {
        layer != Layer::Leaves || self.handler.visit(walk)
    }

    fn reset_in_child(&self) {
        self.handler.reset_in_child();
    }
}

impl Logger {
    /// A tracer's logger, registered with the fork protocol (its handler slot has a lock).
    pub fn new(verbose: bool, tracer_id: u64, redactor: Redactor) -> Arc<Self> {
        register_with_fork();
        let log = Arc::new(Logger {
            verbose,
            prefix: format!("[honeyhive tracer {tracer_id}]"),
            redactor,
            warnings: AtomicU32::new(0),
            handler: HandlerSlot::new(),
        });
        crate::fork::register(&log);
        log
    }

    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// Installs this tracer's handler (None: the process-wide one); see `HandlerSlot::set`.
    pub fn set_handler(&self, handler: Option<Arc<Handler>>) -> bool {
        let done = self.handler.set(handler, HANDLER_SWAP_WAIT);
        deliver_deferred();
        done
    }

    pub fn warn(&self, msg: impl AsRef<str>) {
        for (level, line) in self.warning_lines(msg.as_ref()) {
            self.emit(level, &line);
        }
    }

    /// `warn` for a caller that holds a lock of the library: with a handler installed, the
    /// lines wait (see `deliver_deferred`) so that the handler never runs under the lock;
    /// stderr gets them at once.
    pub fn warn_deferred(&self, msg: impl AsRef<str>) {
        let lines = self.warning_lines(msg.as_ref());
        if lines.is_empty() {
            return;
        }
        let Some(h) = self.handler.current().or_else(|| PROCESS.current()) else {
            for (_, line) in lines {
                to_stderr(&line);
            }
            return;
        };
        let mut overflow = Vec::new();
        {
            let mut d = DEFERRED.lock();
            for (level, line) in lines {
                if d.len() < MAX_DEFERRED {
                    d.push((h.clone(), level, line));
                } else {
                    overflow.push(line);
                }
            }
            HAS_DEFERRED.store(true, Ordering::Release);
        }
        for line in overflow {
            to_stderr(&line);
        }
    }

    /// The lines a warning gives under the rate limit (none once it went quiet).
    fn warning_lines(&self, msg: &str) -> Vec<(Level, String)> {
        let n = self.warnings.fetch_add(1, Ordering::Relaxed);
        let mut lines = Vec::new();
        if n < MAX_WARNINGS || self.verbose {
            lines.push((
                Level::Warn,
                format!("{} warning: {}", self.prefix, self.redact(msg)),
            ));
            if n + 1 == MAX_WARNINGS && !self.verbose {
                lines.push((
                    Level::Warn,
                    format!(
                        "{} further warnings suppressed (set HH_VERBOSE=true to see all)",
                        self.prefix
                    ),
                ));
            }
        }
        lines
    }

    /// A line printed whatever the verbosity and not counted as a warning (rare facts the user
    /// must know, such as where the data goes).
    pub fn info(&self, msg: impl AsRef<str>) {
        let line = format!("{} {}", self.prefix, self.redact(msg.as_ref()));
        self.emit(Level::Info, &line);
    }

    pub fn debug(&self, msg: impl FnOnce() -> String) {
        if self.verbose {
            let line = format!("{} {}", self.prefix, self.redact(&msg()));
            self.emit(Level::Debug, &line);
        }
    }

    /// `msg` as it may be printed: secrets replaced, control characters escaped.
    pub fn redact(&self, msg: &str) -> String {
        self.redactor.clean(msg)
    }

    fn emit(&self, level: Level, line: &str) {
        deliver_deferred();
        deliver(self.handler.current(), level, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::Mutex;

    const KEY: &str = "hh-secret-api-key-0123456789abcdef";

    /// Tests that install the process-wide handler run one at a time.
    static PROCESS_TESTS: Mutex<()> = Mutex::new(());

    type Lines = Arc<Mutex<Vec<(Level, String)>>>;

    /// A handler recording the lines that start with `prefix` (tests run in parallel and
    /// other tests' tracers log too).
    fn recorder(prefix: &'static str) -> (Arc<Handler>, Lines) {
        let lines: Lines = Arc::default();
        let l = lines.clone();
        let h = Handler::new(Box::new(move |level, line| {
            if line.starts_with(prefix) {
                l.lock().unwrap().push((level, line.to_string()));
            }
        }));
        (h, lines)
    }

    fn logger(verbose: bool, id: u64) -> Arc<Logger> {
        Logger::new(verbose, id, Redactor::new([KEY], [""; 0]))
    }

    #[test]
    fn a_warning_reaches_the_handler_redacted_and_escaped() {
        let log = logger(false, 910_001);
        let (h, lines) = recorder("[honeyhive tracer 910001]");
        assert!(log.set_handler(Some(h)));
        log.warn(format!(
            "server said 401 for key {KEY}\n[honeyhive] forged\x1b[31m"
        ));
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let (level, line) = &lines[0];
        assert_eq!(*level, Level::Warn);
        assert!(line.starts_with("[honeyhive tracer 910001] warning: server said 401"));
        assert!(!line.contains(KEY) && !line.contains(&KEY[..12]), "{line}");
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(line.contains("forged"), "{line}");
    }

    #[test]
    fn levels_and_verbosity_are_those_of_stderr() {
        let quiet = logger(false, 910_002);
        let (h, lines) = recorder("[honeyhive tracer 910002]");
        assert!(quiet.set_handler(Some(h)));
        quiet.info("notice");
        quiet.debug(|| "hidden".into());
        quiet.warn("w");
        let got: Vec<_> = lines.lock().unwrap().clone();
        assert_eq!(
            got,
            vec![
                (Level::Info, "[honeyhive tracer 910002] notice".to_string()),
                (
                    Level::Warn,
                    "[honeyhive tracer 910002] warning: w".to_string()
                ),
            ]
        );

        let verbose = logger(true, 910_003);
        let (h, lines) = recorder("[honeyhive tracer 910003]");
        assert!(verbose.set_handler(Some(h)));
        verbose.debug(|| "shown".into());
        assert_eq!(
            lines.lock().unwrap().clone(),
            vec![(Level::Debug, "[honeyhive tracer 910003] shown".to_string())]
        );
    }

    #[test]
    fn warnings_are_rate_limited_as_on_stderr() {
        let log = logger(false, 910_004);
        let (h, lines) = recorder("[honeyhive tracer 910004]");
        assert!(log.set_handler(Some(h)));
        for i in 0..MAX_WARNINGS + 5 {
            log.warn(format!("n{i}"));
        }
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), MAX_WARNINGS as usize + 1);
        assert!(lines[MAX_WARNINGS as usize]
            .1
            .contains("further warnings suppressed"));
    }

    #[test]
    fn the_tracer_handler_wins_and_none_falls_back_to_the_process_one() {
        let _serial = PROCESS_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let log = logger(false, 910_005);
        let (process, from_process) = recorder("[honeyhive tracer 910005]");
        let (own, from_own) = recorder("[honeyhive tracer 910005]");
        assert!(set_process_handler(Some(process)));
        log.warn("to the process");
        assert!(log.set_handler(Some(own)));
        log.warn("to the tracer");
        assert!(log.set_handler(None));
        log.warn("to the process again");
        assert!(set_process_handler(None));
        log.warn("to stderr");
        let p: Vec<_> = from_process
            .lock()
            .unwrap()
            .iter()
            .map(|l| l.1.clone())
            .collect();
        let o: Vec<_> = from_own
            .lock()
            .unwrap()
            .iter()
            .map(|l| l.1.clone())
            .collect();
        assert_eq!(
            p,
            vec![
                "[honeyhive tracer 910005] warning: to the process",
                "[honeyhive tracer 910005] warning: to the process again"
            ]
        );
        assert_eq!(o, vec!["[honeyhive tracer 910005] warning: to the tracer"]);
    }

    #[test]
    fn a_lost_warning_of_no_tracer_goes_to_the_process_handler() {
        let _serial = PROCESS_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let (process, lines) = recorder("[honeyhive] warning: exit flush test");
        assert!(set_process_handler(Some(process)));
        process_warn("exit flush test\x07");
        assert!(set_process_handler(None));
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1);
        assert!(!lines[0].1.chars().any(|c| c.is_control()), "{lines:?}");
    }

    #[test]
    fn replacing_waits_for_calls_in_flight_on_other_threads() {
        let slot = Arc::new(HandlerSlot::new());
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let blocking = Handler::new(Box::new(move |_, _| {
            let _ = entered_tx.send(());
            let _ = release_rx.lock().unwrap().recv();
        }));
        assert!(slot.set(Some(blocking.clone()), Duration::ZERO));
        let h = slot.current();
        let caller = std::thread::spawn(move || deliver(h, Level::Warn, "x"));
        entered_rx.recv().unwrap();
        // A call is running in the old handler: a swap that may not wait says so.
        assert!(!slot.set(None, Duration::ZERO));
        // The replaced handler is never entered again.
        assert!(!blocking.enter());
        release_tx.send(()).unwrap();
        caller.join().unwrap();
        assert!(blocking.retire(Duration::from_secs(60)));
        assert_eq!(blocking.in_flight.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_handler_may_replace_itself() {
        let slot: &'static HandlerSlot = Box::leak(Box::new(HandlerSlot::new()));
        let result = Arc::new(Mutex::new(None));
        let r = result.clone();
        let h = Handler::new(Box::new(move |_, _| {
            // Its own call is not waited for: with an unbounded wait this would hang.
            *r.lock().unwrap() = Some(slot.set(None, Duration::from_secs(3600)));
        }));
        assert!(slot.set(Some(h), Duration::ZERO));
        deliver(slot.current(), Level::Warn, "x");
        assert_eq!(*result.lock().unwrap(), Some(true));
        assert!(slot.current().is_none());
    }

    #[test]
    fn a_panicking_handler_is_contained() {
        let log = logger(false, 910_006);
        let h = Handler::new(Box::new(|_, _| panic!("handler panics")));
        assert!(log.set_handler(Some(h.clone())));
        log.warn("one");
        log.warn("two");
        assert_eq!(h.in_flight.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_deferred_warning_reaches_the_handler_outside_the_lock() {
        static HELD: ShortLock<()> = ShortLock::new(());
        let log = logger(false, 910_007);
        let under_lock = Arc::new(AtomicBool::new(false));
        let lines: Lines = Arc::default();
        let (u, l) = (under_lock.clone(), lines.clone());
        let me = std::thread::current().id();
        let h = Handler::new(Box::new(move |level, line| {
            if line.starts_with("[honeyhive tracer 910007]") {
                // Only this thread takes HELD, around the warning: a call here while it is
                // held would be a call under the lock.
                if std::thread::current().id() == me && HELD.try_lock().is_none() {
                    u.store(true, Ordering::SeqCst);
                }
                l.lock().unwrap().push((level, line.to_string()));
            }
        }));
        assert!(log.set_handler(Some(h)));
        {
            let _held = HELD.lock();
            log.warn_deferred("queue full");
        }
        deliver_deferred();
        assert!(!under_lock.load(Ordering::SeqCst));
        assert_eq!(
            lines.lock().unwrap().clone(),
            vec![(
                Level::Warn,
                "[honeyhive tracer 910007] warning: queue full".into()
            )]
        );
    }
}
