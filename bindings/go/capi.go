package honeyhive

// Thin wrappers over the C ABI of libhoneyhive (include/honeyhive.h). Every cgo call of the
// package lives in this file and the other capi_*.go files. Wrappers take and return Go types, keep per-call error detail in
// an hh_error on the caller's stack (no global or thread-local state) and never panic.
//
// Strings cross as NUL-terminated bytes. Short strings are built in stack buffers (the
// `#cgo noescape` annotations below let the compiler keep them on the stack: the library
// copies its inputs and never keeps a pointer), longer ones in a Go byte slice; nothing is
// malloc'ed per call, and nothing the library returns needs freeing.

/*
#include <stdlib.h>
#include "honeyhive.h"

#cgo noescape hh_tracer_new
#cgo noescape hh_tracer_session_id
#cgo noescape hh_tracer_stats
#cgo noescape hh_tracer_extract
#cgo noescape hh_session_create
#cgo noescape hh_session_enrich
#cgo noescape hh_span_start
#cgo noescape hh_span_enrich
#cgo noescape hh_span_set_str
#cgo noescape hh_span_set_i64
#cgo noescape hh_span_set_f64
#cgo noescape hh_span_set_bool
#cgo noescape hh_span_set_attrs
#cgo noescape hh_span_end_attrs
#cgo noescape hh_span_inject
#cgo noescape hh_span_session_id
#cgo noescape hh_test_panic
#cgo nocallback hh_tracer_new
#cgo nocallback hh_tracer_session_id
#cgo nocallback hh_tracer_stats
#cgo nocallback hh_tracer_extract
#cgo nocallback hh_tracer_flush
#cgo nocallback hh_tracer_close
#cgo nocallback hh_session_create
#cgo nocallback hh_session_enrich
#cgo nocallback hh_span_start
#cgo nocallback hh_span_enrich
#cgo nocallback hh_span_set_str
#cgo nocallback hh_span_set_i64
#cgo nocallback hh_span_set_f64
#cgo nocallback hh_span_set_bool
#cgo nocallback hh_span_set_attrs
#cgo nocallback hh_span_end_attrs
#cgo nocallback hh_span_end
#cgo nocallback hh_span_end_ex
#cgo nocallback hh_span_release_many
#cgo noescape hh_span_release_many
#cgo nocallback hh_span_inject
#cgo nocallback hh_span_session_id
*/
import "C"

import (
	"bytes"
	"strings"
	"unsafe"
)

const (
	sessionIDBufLen   = C.HH_SESSION_ID_BUF_LEN
	traceparentBufLen = C.HH_TRACEPARENT_BUF_LEN
	// Stack buffer sizes for strings passed to C; longer strings use a heap slice.
	smallBuf = 128
)

// cstr returns s as NUL-terminated bytes, in buf when it fits. Strings with an embedded NUL
// are rejected: C would silently cut them short.
func cstr(buf []byte, s string, what string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, newError("", StatusInvalidArgument, what+" contains a NUL byte")
	}
	if len(s) < len(buf) {
		n := copy(buf, s)
		buf[n] = 0
		return buf[:n+1], nil
	}
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b, nil
}

// cjson appends the NUL that C needs to JSON text made by encoding/json (which never
// contains a raw NUL: it escapes control characters).
func cjson(b []byte) []byte { return append(b, 0) }

func ptr(b []byte) *C.char {
	if b == nil {
		return nil
	}
	return (*C.char)(unsafe.Pointer(&b[0]))
}

func fromC(op string, st C.hh_status, e *C.hh_error) error {
	if st == C.HH_OK {
		return nil
	}
	msg := ""
	if e != nil && Status(e.status) == Status(st) {
		// Copied in Go (not C.GoString) so that e does not escape: it stays on the stack.
		b := unsafe.Slice((*byte)(unsafe.Pointer(&e.message[0])), len(e.message))
		if n := bytes.IndexByte(b, 0); n >= 0 {
			b = b[:n]
		}
		msg = string(b)
	}
	return newError(op, Status(st), msg)
}

func statusOnly(op string, st C.hh_status) error { return fromC(op, st, nil) }

func cTracerNew(config []byte) (uint64, error) {
	var h C.hh_tracer
	var e C.hh_error
	st := C.hh_tracer_new(ptr(config), &h, &e)
	if err := fromC("tracer new", st, &e); err != nil {
		return 0, err
	}
	return uint64(h), nil
}

func cTracerSessionID(t uint64) (string, error) {
	var buf [sessionIDBufLen]byte
	var n C.size_t
	st := C.hh_tracer_session_id(C.hh_tracer(t), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
	if st == C.HH_ERR_BUFFER_TOO_SMALL {
		big := make([]byte, int(n)+1)
		st = C.hh_tracer_session_id(C.hh_tracer(t), ptr(big), C.size_t(len(big)), &n)
		if st == C.HH_OK {
			return string(big[:n]), nil
		}
	}
	if err := statusOnly("tracer session id", st); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func cTracerFlush(t uint64, ms uint32) error {
	return statusOnly("flush", C.hh_tracer_flush(C.hh_tracer(t), C.uint32_t(ms)))
}

func cTracerClose(t uint64, ms uint32) error {
	return statusOnly("close", C.hh_tracer_close(C.hh_tracer(t), C.uint32_t(ms)))
}

// Stats has one uint64 per hh_stats field: a field added to the header and not to Stats fails
// the build here (and `make header-check` names it).
var _ [unsafe.Sizeof(C.hh_stats{}) - unsafe.Sizeof(Stats{})]struct{}
var _ [unsafe.Sizeof(Stats{}) - unsafe.Sizeof(C.hh_stats{})]struct{}

func cTracerStats(t uint64) (Stats, error) {
	var s C.hh_stats
	if err := statusOnly("stats", C.hh_tracer_stats(C.hh_tracer(t), &s)); err != nil {
		return Stats{}, err
	}
	return Stats{
		SpansStarted:   uint64(s.spans_started),
		SpansEnded:     uint64(s.spans_ended),
		SpansExported:  uint64(s.spans_exported),
		SpansDropped:   uint64(s.spans_dropped),
		ExportRequests: uint64(s.export_requests),
		ExportFailures: uint64(s.export_failures),
		ExportRetries:  uint64(s.export_retries),
		RESTCalls:      uint64(s.rest_calls),
		RESTFailures:   uint64(s.rest_failures),
		QueueLen:       uint64(s.queue_len),
		SpansRejected:  uint64(s.spans_rejected),
		SpansNoSession: uint64(s.spans_no_session),
	}, nil
}

// cTracerExtract makes a remote parent handle (release it with cSpanEnd).
func cTracerExtract(t uint64, traceparent, baggage string) (uint64, error) {
	var tpBuf [smallBuf]byte
	var bagBuf [2 * smallBuf]byte
	tp, err := cstr(tpBuf[:], traceparent, "traceparent")
	if err != nil {
		return 0, err
	}
	var bag []byte
	if baggage != "" {
		if bag, err = cstr(bagBuf[:], baggage, "baggage"); err != nil {
			return 0, err
		}
	}
	var h C.hh_span
	var e C.hh_error
	st := C.hh_tracer_extract(C.hh_tracer(t), ptr(tp), ptr(bag), &h, &e)
	if err := fromC("extract", st, &e); err != nil {
		return 0, err
	}
	return uint64(h), nil
}

func cSessionCreate(t uint64, options []byte) (string, error) {
	var buf [sessionIDBufLen]byte
	var e C.hh_error
	st := C.hh_session_create(C.hh_tracer(t), ptr(options), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &e)
	if err := fromC("create session", st, &e); err != nil {
		return "", err
	}
	n := 0
	for n < len(buf) && buf[n] != 0 {
		n++
	}
	return string(buf[:n]), nil
}

func cSessionEnrich(t uint64, sessionID string, enrichment []byte) error {
	var sidBuf [sessionIDBufLen + 8]byte
	var sid []byte
	if sessionID != "" {
		var err error
		if sid, err = cstr(sidBuf[:], sessionID, "session id"); err != nil {
			return err
		}
	}
	var e C.hh_error
	st := C.hh_session_enrich(C.hh_tracer(t), ptr(sid), ptr(enrichment), &e)
	return fromC("enrich session", st, &e)
}

func cSpanStart(t uint64, name string, et EventType, parent uint64, sessionID string, attrs []byte) (uint64, error) {
	var nameBuf [smallBuf]byte
	var sidBuf [sessionIDBufLen + 8]byte
	cname, err := cstr(nameBuf[:], name, "span name")
	if err != nil {
		return 0, err
	}
	var sid []byte
	if sessionID != "" {
		if sid, err = cstr(sidBuf[:], sessionID, "session id"); err != nil {
			return 0, err
		}
	}
	var h C.hh_span
	// No hh_error on the hot path (zeroing its 260 bytes costs more than the call's checks):
	// a failed start changes nothing, so it is made again with one to get the message.
	st := C.hh_span_start(C.hh_tracer(t), ptr(cname), C.hh_event_type(et), C.hh_span(parent), ptr(sid), ptr(attrs), &h, nil)
	if st != C.HH_OK {
		var e C.hh_error
		st = C.hh_span_start(C.hh_tracer(t), ptr(cname), C.hh_event_type(et), C.hh_span(parent), ptr(sid), ptr(attrs), &h, &e)
		if err := fromC("start span", st, &e); err != nil {
			return 0, err
		}
	}
	return uint64(h), nil
}

func cSpanEnrich(s uint64, enrichment []byte) error {
	var e C.hh_error
	st := C.hh_span_enrich(C.hh_span(s), ptr(enrichment), &e)
	return fromC("enrich span", st, &e)
}

func cSpanSetStr(s uint64, ns Namespace, key, value string) error {
	var keyBuf [smallBuf / 2]byte
	var valBuf [smallBuf]byte
	k, err := cstr(keyBuf[:], key, "attribute key")
	if err != nil {
		return err
	}
	v, err := cstr(valBuf[:], value, "attribute value")
	if err != nil {
		return err
	}
	return statusOnly("set attribute", C.hh_span_set_str(C.hh_span(s), C.hh_namespace(ns), ptr(k), ptr(v)))
}

func cSpanSetI64(s uint64, ns Namespace, key string, value int64) error {
	var keyBuf [smallBuf / 2]byte
	k, err := cstr(keyBuf[:], key, "attribute key")
	if err != nil {
		return err
	}
	return statusOnly("set attribute", C.hh_span_set_i64(C.hh_span(s), C.hh_namespace(ns), ptr(k), C.int64_t(value)))
}

func cSpanSetF64(s uint64, ns Namespace, key string, value float64) error {
	var keyBuf [smallBuf / 2]byte
	k, err := cstr(keyBuf[:], key, "attribute key")
	if err != nil {
		return err
	}
	return statusOnly("set attribute", C.hh_span_set_f64(C.hh_span(s), C.hh_namespace(ns), ptr(k), C.double(value)))
}

func cSpanSetBool(s uint64, ns Namespace, key string, value bool) error {
	var keyBuf [smallBuf / 2]byte
	k, err := cstr(keyBuf[:], key, "attribute key")
	if err != nil {
		return err
	}
	return statusOnly("set attribute", C.hh_span_set_bool(C.hh_span(s), C.hh_namespace(ns), ptr(k), C.bool(value)))
}

func cSpanEnd(s uint64) error {
	return statusOnly("end span", C.hh_span_end(C.hh_span(s)))
}

// cSpanEndKeep ends a span and keeps its handle valid until cSpanReleaseMany.
func cSpanEndKeep(s uint64) error {
	return statusOnly("end span", C.hh_span_end_ex(C.hh_span(s), C.HH_END_KEEP_HANDLE))
}

// cSpanReleaseMany releases handles kept by cSpanEndKeep (ending any span still open) in one
// call; zeros are skipped. hs is Go memory without pointers, read by C during the call only.
func cSpanReleaseMany(hs []uint64) error {
	if len(hs) == 0 {
		return nil
	}
	return statusOnly("release spans", C.hh_span_release_many((*C.hh_span)(unsafe.Pointer(&hs[0])), C.size_t(len(hs))))
}

// cSpanInject writes the span's traceparent into tp and its baggage into bag, growing bag
// when it is too small. It returns the baggage bytes (without the NUL).
func cSpanInject(s uint64, tp *[traceparentBufLen]byte, bag []byte) ([]byte, error) {
	var n C.size_t
	for attempt := 0; ; attempt++ {
		var bp *C.char
		if len(bag) > 0 {
			bp = (*C.char)(unsafe.Pointer(&bag[0]))
		}
		st := C.hh_span_inject(C.hh_span(s), (*C.char)(unsafe.Pointer(&tp[0])), C.size_t(len(tp)), bp, C.size_t(len(bag)), &n)
		if st == C.HH_ERR_BUFFER_TOO_SMALL && attempt < 3 && int(n)+1 > len(bag) {
			bag = make([]byte, int(n)+1)
			continue
		}
		if err := statusOnly("inject", st); err != nil {
			return nil, err
		}
		return bag[:n], nil
	}
}

func cSpanSessionID(s uint64) (string, error) {
	var buf [sessionIDBufLen]byte
	var n C.size_t
	st := C.hh_span_session_id(C.hh_span(s), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
	if st == C.HH_ERR_BUFFER_TOO_SMALL {
		big := make([]byte, int(n)+1)
		st = C.hh_span_session_id(C.hh_span(s), ptr(big), C.size_t(len(big)), &n)
		if st == C.HH_OK {
			return string(big[:n]), nil
		}
	}
	if err := statusOnly("span session id", st); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func cVersion() string { return C.GoString(C.hh_version()) }

func cStatusName(s Status) string { return C.GoString(C.hh_status_name(C.int32_t(s))) }

// cTestPanic makes the library panic internally and returns what its panic boundary made
// of it (for tests: a contained panic is an ordinary *Error with StatusPanic).
func cTestPanic() error {
	var e C.hh_error
	return fromC("test panic", C.hh_test_panic(&e), &e)
}
