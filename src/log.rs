//! Diagnostics on stderr: warnings always (rate-limited), debug lines only when verbose.
//! Every line passes through redaction so that no configured secret can be printed.

use std::sync::atomic::{AtomicU32, Ordering};

/// Warnings a tracer prints before it goes quiet (they are still counted in the stats).
const MAX_WARNINGS: u32 = 20;

#[derive(Debug)]
pub struct Logger {
    verbose: bool,
    prefix: String,
    secrets: Vec<String>,
    warnings: AtomicU32,
}

impl Logger {
    pub fn new(verbose: bool, tracer_id: u64, secrets: Vec<String>) -> Self {
        Logger {
            verbose,
            prefix: format!("[honeyhive tracer {tracer_id}]"),
            secrets,
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

    pub fn debug(&self, msg: impl FnOnce() -> String) {
        if self.verbose {
            eprintln!("{} {}", self.prefix, self.redact(&msg()));
        }
    }

    /// Replaces every configured secret in `msg`.
    pub fn redact(&self, msg: &str) -> String {
        let mut out = msg.to_string();
        for s in &self.secrets {
            if !s.is_empty() && out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "<redacted>");
            }
        }
        out
    }
}
