package honeyhive

// The status codes are the C header's (include/honeyhive.h), read through cgo: the numbers
// and names have one source, the Rust core that generates the header.

// #include "honeyhive.h"
import "C"

import "strconv"

// Status is a libhoneyhive status code (hh_status). Numeric values are stable across
// releases. A Status is itself an error, so the Err* sentinels below work with errors.Is:
//
//	if errors.Is(err, honeyhive.ErrTimeout) { ... }
type Status int32

// Status codes: the C constants of honeyhive.h.
const (
	StatusOK              Status = C.HH_OK
	StatusNullArgument    Status = C.HH_ERR_NULL_ARGUMENT
	StatusInvalidUTF8     Status = C.HH_ERR_INVALID_UTF8
	StatusInvalidJSON     Status = C.HH_ERR_INVALID_JSON
	StatusInvalidConfig   Status = C.HH_ERR_INVALID_CONFIG
	StatusInvalidArgument Status = C.HH_ERR_INVALID_ARGUMENT
	StatusInvalidHandle   Status = C.HH_ERR_INVALID_HANDLE
	StatusSpanEnded       Status = C.HH_ERR_SPAN_ENDED
	StatusTracerClosed    Status = C.HH_ERR_TRACER_CLOSED
	StatusLimitExceeded   Status = C.HH_ERR_LIMIT_EXCEEDED
	StatusBufferTooSmall  Status = C.HH_ERR_BUFFER_TOO_SMALL
	StatusTimeout         Status = C.HH_ERR_TIMEOUT
	StatusExportFailed    Status = C.HH_ERR_EXPORT_FAILED
	StatusPanic           Status = C.HH_ERR_PANIC
	StatusInternal        Status = C.HH_ERR_INTERNAL
)

// Sentinel errors for errors.Is. Every *Error unwraps to its Status.
var (
	ErrNullArgument    error = StatusNullArgument
	ErrInvalidUTF8     error = StatusInvalidUTF8
	ErrInvalidJSON     error = StatusInvalidJSON
	ErrInvalidConfig   error = StatusInvalidConfig
	ErrInvalidArgument error = StatusInvalidArgument
	ErrInvalidHandle   error = StatusInvalidHandle
	// ErrSpanEnded: the span already ended.
	ErrSpanEnded error = StatusSpanEnded
	// ErrTracerClosed: the tracer (or the span's tracer) is closed.
	ErrTracerClosed  error = StatusTracerClosed
	ErrLimitExceeded error = StatusLimitExceeded
	// ErrTimeout: Flush or Close did not finish in time; delivery goes on in the background.
	ErrTimeout error = StatusTimeout
	// ErrExportFailed: Flush or Close finished, but spans or session calls were lost.
	ErrExportFailed error = StatusExportFailed
	ErrPanic        error = StatusPanic
	ErrInternal     error = StatusInternal
)

// String returns the C name of the status, e.g. "HH_ERR_TIMEOUT".
func (s Status) String() string {
	if name := cStatusName(s); name != "HH_UNKNOWN_STATUS" {
		return name
	}
	return "HH_UNKNOWN_STATUS(" + strconv.Itoa(int(s)) + ")"
}

// Error implements error.
func (s Status) Error() string { return "honeyhive: " + s.String() }

// Error is what every failing call of this package returns: the operation, the status code
// and the library's message (when the C function provides one).
type Error struct {
	Op      string // what was attempted, e.g. "start span"
	Status  Status
	Message string // the hh_error message; never contains an API key
}

func newError(op string, s Status, msg string) *Error {
	return &Error{Op: op, Status: s, Message: msg}
}

// Error implements error.
func (e *Error) Error() string {
	s := "honeyhive: "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += e.Status.String()
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the Status, so errors.Is(err, ErrTimeout) and friends work.
func (e *Error) Unwrap() error { return e.Status }

func opError(op string, err error) error {
	if e, ok := err.(*Error); ok && e.Op == "" {
		e.Op = op
	}
	return err
}
