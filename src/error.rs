//! The status codes every binding shares, and the core's error type: a stable kind (one per
//! error status) plus a message.

use std::fmt;

/// Derives the rest of the status list from `Status`, as written below: `ErrorKind` (one kind
/// per error status, with the same number), the `ErrorKind` to `Status` mapping, and the
/// names. Only this macro reads the list, so a status is added in one place: a new variant
/// of `Status` with its doc, its `#[kind(..)]` and the next number.
macro_rules! status_table {
    (
        $(#[$attr:meta])*
        pub enum Status {
            $(#[doc = $ok_doc:literal])*
            HH_OK = 0,
            $(
                $(#[doc = $doc:literal])*
                #[kind($kind:ident)]
                $code:ident = $value:literal,
            )*
        }
    ) => {
        /// What went wrong, independent of any language binding: one kind per error `Status`,
        /// with the same number.
        // 32 bits wide: every entry point returns a `Result<_, Error>` whose tag lives in this
        // field; written and read back at the same width, it forwards from the store buffer
        // instead of stalling the C ABI's hot path (see BENCHMARKS.md).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u32)]
        pub enum ErrorKind {
            $( $(#[doc = $doc])* $kind = $value, )*
        }

        impl From<ErrorKind> for Status {
            #[inline]
            fn from(kind: ErrorKind) -> Self {
                match kind {
                    $( ErrorKind::$kind => Status::$code, )*
                }
            }
        }

        impl Status {
            /// Every status, in numeric order.
            pub const ALL: &'static [Status] = &[Status::HH_OK, $( Status::$code, )*];

            /// The status with this number, if any.
            pub fn from_code(code: i32) -> Option<Status> {
                match code {
                    0 => Some(Status::HH_OK),
                    $( $value => Some(Status::$code), )*
                    _ => None,
                }
            }

            /// The status's name as in the C header, e.g. "HH_ERR_TIMEOUT".
            pub fn name(self) -> &'static str {
                let name = self.name_nul();
                &name[..name.len() - 1]
            }

            /// `name()` with a terminating NUL, for the C ABI.
            pub fn name_nul(self) -> &'static str {
                match self {
                    Status::HH_OK => "HH_OK\0",
                    $( Status::$code => concat!(stringify!($code), "\0"), )*
                }
            }
        }
    };
}

// The list of status codes, written once: cbindgen reads this enum as written for the C
// header's `hh_status`, and `status_table!` derives `ErrorKind` and the names from it.
/// Result of every fallible function. Numeric values are stable across releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, honeyhive_macros::Table)]
#[table(status_table)]
#[repr(C)]
#[allow(non_camel_case_types)]
pub enum Status {
    /// Success.
    HH_OK = 0,
    /// A required pointer argument was NULL.
    #[kind(NullArgument)]
    HH_ERR_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    #[kind(InvalidUtf8)]
    HH_ERR_INVALID_UTF8 = 2,
    /// JSON text did not parse or did not have the expected shape.
    #[kind(InvalidJson)]
    HH_ERR_INVALID_JSON = 3,
    /// A configuration value is invalid; the error message names the field.
    #[kind(InvalidConfig)]
    HH_ERR_INVALID_CONFIG = 4,
    /// Any other invalid argument (event type, session id, header value, empty name).
    #[kind(InvalidArgument)]
    HH_ERR_INVALID_ARGUMENT = 5,
    /// Unknown, stale (closed and reused) or wrong-kind handle.
    #[kind(InvalidHandle)]
    HH_ERR_INVALID_HANDLE = 6,
    /// The span already ended.
    #[kind(SpanEnded)]
    HH_ERR_SPAN_ENDED = 7,
    /// The tracer (or the span's tracer) is closed.
    #[kind(TracerClosed)]
    HH_ERR_TRACER_CLOSED = 8,
    /// Input over a documented limit (size, nesting depth, attribute count).
    #[kind(LimitExceeded)]
    HH_ERR_LIMIT_EXCEEDED = 9,
    /// An output buffer is too small; the `out_len` argument tells the size needed.
    #[kind(BufferTooSmall)]
    HH_ERR_BUFFER_TOO_SMALL = 10,
    /// flush/close did not finish within the timeout.
    #[kind(Timeout)]
    HH_ERR_TIMEOUT = 11,
    /// flush/close finished, but some spans or session calls were not delivered.
    #[kind(ExportFailed)]
    HH_ERR_EXPORT_FAILED = 12,
    /// An internal panic was contained; the library remains usable.
    #[kind(Panic)]
    HH_ERR_PANIC = 13,
    /// An internal error (for example the background runtime could not start).
    #[kind(Internal)]
    HH_ERR_INTERNAL = 14,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_number_and_its_c_name() {
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(
                *s as i32, i as i32,
                "status numbers are 0, 1, 2, ... in order"
            );
            assert_eq!(Status::from_code(i as i32), Some(*s));
            assert_eq!(s.name(), format!("{s:?}"));
            assert_eq!(s.name_nul(), format!("{s:?}\0"));
        }
        assert_eq!(Status::from_code(Status::ALL.len() as i32), None);
        assert_eq!(Status::from_code(-1), None);
        assert_eq!(
            Status::from_code(11).map(Status::name),
            Some("HH_ERR_TIMEOUT")
        );
    }

    #[test]
    fn every_error_kind_maps_to_the_status_of_the_same_number() {
        let kinds = [
            (ErrorKind::NullArgument, Status::HH_ERR_NULL_ARGUMENT),
            (ErrorKind::InvalidUtf8, Status::HH_ERR_INVALID_UTF8),
            (ErrorKind::InvalidJson, Status::HH_ERR_INVALID_JSON),
            (ErrorKind::InvalidConfig, Status::HH_ERR_INVALID_CONFIG),
            (ErrorKind::InvalidArgument, Status::HH_ERR_INVALID_ARGUMENT),
            (ErrorKind::InvalidHandle, Status::HH_ERR_INVALID_HANDLE),
            (ErrorKind::SpanEnded, Status::HH_ERR_SPAN_ENDED),
            (ErrorKind::TracerClosed, Status::HH_ERR_TRACER_CLOSED),
            (ErrorKind::LimitExceeded, Status::HH_ERR_LIMIT_EXCEEDED),
            (ErrorKind::BufferTooSmall, Status::HH_ERR_BUFFER_TOO_SMALL),
            (ErrorKind::Timeout, Status::HH_ERR_TIMEOUT),
            (ErrorKind::ExportFailed, Status::HH_ERR_EXPORT_FAILED),
            (ErrorKind::Panic, Status::HH_ERR_PANIC),
            (ErrorKind::Internal, Status::HH_ERR_INTERNAL),
        ];
        // Every error status has a kind, and no kind maps to HH_OK.
        assert_eq!(kinds.len(), Status::ALL.len() - 1);
        for (kind, status) in kinds {
            assert_eq!(Status::from(kind), status);
            assert_eq!(kind as u32, status as u32);
        }
    }
}
