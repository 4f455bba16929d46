//! Diagnostics on stderr: warnings always (rate-limited), debug lines only when verbose.
//! Every line passes through `Redactor::clean`: no configured secret is printed in any form,
//! and control characters from server answers cannot forge lines or drive the terminal.

use crate::redact::Redactor;
use std::sync::atomic::{AtomicU32, Ordering};

/// Warnings a tracer prints before it goes quiet (they are still counted in the stats).
const MAX_WARNINGS: u32 = 20;

#[derive(Debug)]
pub struct Logger {
    verbose: bool,
    prefix: String,
    redactor: Redactor,
    warnings: AtomicU32,
}

impl Logger {
    pub fn new(verbose: bool, tracer_id: u64, redactor: Redactor) -> Self {
        Logger {
            verbose,
            prefix: format!("[honeyhive tracer {tracer_id}]"),
            redactor,
            warnings: AtomicU32::new(0),
        }
    }

    pub fn verbose(&self) -> bool {
        self.verbose
    }

    pub fn warn(&self, msg: impl AsRef<str>) {
        let n = self.warnings.fetch_add(1, Ordering::Relaxed);
        if n < MAX_WARNINGS || self.verbose {
            eprintln!("{} warning: {}", self.prefix, self.redact(msg.as_ref()));
            if n + 1 == MAX_WARNINGS && !self.verbose {
                eprintln!(
                    "{} further warnings suppressed (set HH_VERBOSE=true to see all)",
                    self.prefix
                );
            }
        }
    }

    /// A line printed whatever the verbosity and not counted as a warning (rare facts the user
    /// must know, such as where the data goes).
    pub fn info(&self, msg: impl AsRef<str>) {
        eprintln!("{} {}", self.prefix, self.redact(msg.as_ref()));
    }

    pub fn debug(&self, msg: impl FnOnce() -> String) {
        if self.verbose {
            eprintln!("{} {}", self.prefix, self.redact(&msg()));
        }
    }

    /// `msg` as it may be printed: secrets replaced, control characters escaped.
    pub fn redact(&self, msg: &str) -> String {
        self.redactor.clean(msg)
    }
}
