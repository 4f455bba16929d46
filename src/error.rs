//! The core's error type: a stable kind (mapped 1:1 to the C status codes) plus a message.

use std::fmt;

/// What went wrong, independent of any language binding.
// 32 bits wide: every entry point returns a `Result<_, Error>` whose tag lives in this field;
// written and read back at the same width, it forwards from the store buffer instead of
// stalling the C ABI's hot path (see BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ErrorKind {
    NullArgument,
    InvalidUtf8,
    InvalidJson,
    InvalidConfig,
    InvalidArgument,
    InvalidHandle,
    SpanEnded,
    TracerClosed,
    LimitExceeded,
    BufferTooSmall,
    Timeout,
    ExportFailed,
    Panic,
    Internal,
}

/// An error with a human-readable message. Messages never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn config(field: &str, why: impl fmt::Display) -> Self {
        Error::new(ErrorKind::InvalidConfig, format!("config `{field}`: {why}"))
    }
    pub fn json(what: &str, why: impl fmt::Display) -> Self {
        Error::new(ErrorKind::InvalidJson, format!("{what}: {why}"))
    }
    pub fn arg(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }
    pub fn limit(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::LimitExceeded, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
