//! The log handler: where the library's diagnostics go instead of stderr.

use super::{guard, hh_status, hh_tracer};
use crate::error::{Error, ErrorKind};
use crate::log::{Handler, Level};
use crate::registry::tracers;
use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

/// A debug line (only with `verbose` / `HH_VERBOSE=true`).
pub const HH_LOG_DEBUG: u32 = 0;
/// A fact the user must know whatever the verbosity (a configuration notice, where data goes).
pub const HH_LOG_INFO: u32 = 1;
/// A warning (rate-limited per tracer, as on stderr).
pub const HH_LOG_WARN: u32 = 2;
/// An error (reserved: the library reports no line at this level yet).
pub const HH_LOG_ERROR: u32 = 3;

/// Receives one diagnostic line: `level` is an `HH_LOG_*` value; `message` is the line stderr
/// would get without the newline (prefix such as `[honeyhive tracer 3] warning: ` included),
/// with secrets redacted and control characters escaped, NUL-terminated, valid only during the
/// call (copy it to keep it). `user_data` is the pointer given with the handler.
///
/// Called on any thread, the library's background threads included, possibly on several at
/// once: the only user code the library ever runs on its own threads. A handler must not call
/// back into the library (hand the line to your own logger and return). It is never called
/// with a lock of the library held, so a handler that does call `hh_*` functions anyway does not
/// deadlock (flushing or closing the tracer the line comes from waits for this very call and
/// returns `HH_ERR_TIMEOUT`). It must not unwind (a C++ exception, a longjmp) out of the call.
/// A runtime that cannot safely take calls from foreign threads should queue the line to one of
/// its own threads.
pub type hh_log_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, message: *const c_char)>;

/// The C handler and its pointer, as a core handler.
struct CHandler {
    f: unsafe extern "C" fn(*mut c_void, u32, *const c_char),
    user_data: *mut c_void,
}

// SAFETY: the handler and its `user_data` are documented to be called from any thread, also
// concurrently; the library only passes the pointer back, never dereferences it.
unsafe impl Send for CHandler {}
// SAFETY: as above: shared use is calling `f` with the pointer, which the contract allows.
unsafe impl Sync for CHandler {}

impl CHandler {
    fn call(&self, level: Level, line: &str) {
        // Escaped lines hold no NUL; should one appear, it is cut there rather than dropped.
        let text = CString::new(line).unwrap_or_else(|e| {
            let end = e.nul_position();
            let mut bytes = e.into_vec();
            bytes.truncate(end);
            CString::new(bytes).unwrap_or_default()
        });
        // SAFETY: `f` is the caller's handler, documented to take any of these arguments on
        // any thread; `text` outlives the call.
        unsafe { (self.f)(self.user_data, level as u32, text.as_ptr()) }
    }
}

fn handler(f: hh_log_fn, user_data: *mut c_void) -> Option<Arc<Handler>> {
    f.map(|f| {
        let c = CHandler { f, user_data };
        Handler::new(Box::new(move |level, line| c.call(level, line)))
    })
}

fn swapped(done: bool) -> Result<(), Error> {
    if done {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Timeout,
            "calls to the previous log handler were still running",
        ))
    }
}

/// Sets the process-wide log handler: it receives the lines of every tracer without a handler
/// of its own (`hh_tracer_set_log_handler`) and the lines of no tracer (notices while
/// `hh_tracer_new` reads the configuration, the exit flush). `log_fn` NULL: stderr again (the
/// default). The process keeps it across `fork()` (the child too).
///
/// Replacing a handler waits up to 2 seconds for calls still running in the one replaced on
/// other threads (not for those on the calling thread: a handler may replace itself). `HH_OK`:
/// none is running and none will start, so the old `user_data` may be freed. `HH_ERR_TIMEOUT`:
/// some still ran (a handler blocked that long); the new handler is installed all the same,
/// but the old `user_data` must stay valid, as the library cannot tell when that call ends
/// (keep it for the life of the process). Thread-safe; may be called from within a handler.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_set_log_handler(log_fn: hh_log_fn, user_data: *mut c_void) -> hh_status {
    let h = handler(log_fn, user_data);
    guard(std::ptr::null_mut(), || {
        swapped(crate::log::set_process_handler(h))
    })
}

/// Sets `tracer`'s own log handler (NULL: back to the process-wide one): its lines go there
/// instead. Lines logged while the tracer was being created went to the process-wide handler.
/// Replacing it follows the rule of `hh_set_log_handler` (`HH_OK`: the old `user_data` may be
/// freed; `HH_ERR_TIMEOUT`: not yet). `hh_tracer_close` removes it (with the same
/// bounded wait): once close returns, the tracer's late lines go to the process-wide handler.
/// `HH_ERR_INVALID_HANDLE` / `HH_ERR_TRACER_CLOSED` for a bad or closed tracer. Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn hh_tracer_set_log_handler(
    tracer: hh_tracer,
    log_fn: hh_log_fn,
    user_data: *mut c_void,
) -> hh_status {
    let h = handler(log_fn, user_data);
    guard(std::ptr::null_mut(), || {
        let t = tracers::open(tracer)?;
        let done = t.inner.log.set_handler(h);
        // Closed meanwhile: close may have removed handlers before this one came.
        if t.inner.is_closed() {
            t.inner.log.set_handler(None);
            return Err(Error::new(ErrorKind::TracerClosed, "tracer is closed"));
        }
        swapped(done)
    })
}
