package honeyhive

// Wrappers of the C calls of the full span model (kinds, links, events, status, explicit
// times, span contexts), session inject and events by id. Same rules as capi.go.

/*
#include "honeyhive.h"

#cgo noescape hh_span_start_ex
#cgo noescape hh_span_add_event
#cgo noescape hh_span_add_link
#cgo noescape hh_span_set_status
#cgo noescape hh_span_set_name
#cgo noescape hh_span_record_error_ex
#cgo noescape hh_span_get_context
#cgo noescape hh_session_inject
#cgo noescape hh_event_create
#cgo noescape hh_event_enrich
#cgo nocallback hh_span_start_ex
#cgo nocallback hh_span_add_event
#cgo nocallback hh_span_add_link
#cgo nocallback hh_span_set_status
#cgo nocallback hh_span_set_name
#cgo nocallback hh_span_record_error_ex
#cgo nocallback hh_span_end_at
#cgo nocallback hh_span_get_context
#cgo nocallback hh_session_inject
#cgo nocallback hh_event_create
#cgo nocallback hh_event_enrich
*/
import "C"

import (
	"strings"
	"unsafe"

	"go.opentelemetry.io/otel/trace"
)

// Span kinds (hh_span_options.kind) and status codes (hh_span_set_status).
const (
	kindInternal = uint32(C.HH_SPAN_KIND_INTERNAL)
	kindServer   = uint32(C.HH_SPAN_KIND_SERVER)
	kindClient   = uint32(C.HH_SPAN_KIND_CLIENT)
	kindProducer = uint32(C.HH_SPAN_KIND_PRODUCER)
	kindConsumer = uint32(C.HH_SPAN_KIND_CONSUMER)

	statusUnset = uint32(C.HH_SPAN_STATUS_UNSET)
	statusOK    = uint32(C.HH_SPAN_STATUS_OK)
	statusError = uint32(C.HH_SPAN_STATUS_ERROR)

	errorEscaped = uint32(C.HH_ERROR_ESCAPED)

	eventIDBufLen = C.HH_EVENT_ID_BUF_LEN
)

// startLists are the lists of hh_span_options (nil: none).
type startLists struct {
	links  []cLink
	attrs  []Attribute
	parent *trace.SpanContext // a remote parent given by ids (parent handle 0)
}

func cSpanStartEx(t uint64, name string, et EventType, parent uint64, sessionID string, attrsJSON []byte, kind uint32, startNanos uint64, x *startLists) (uint64, error) {
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
	if x == nil {
		x = &startLists{}
	}
	var z cSize
	if err := z.addLinks(x.links); err != nil {
		return 0, opError("start span: links", err)
	}
	if err := z.addAttrs(x.attrs); err != nil {
		return 0, opError("start span: attributes", err)
	}
	if x.parent != nil {
		z.fixed += unsafe.Sizeof(C.hh_span_context{})
	}
	m := newCMem(z)
	defer m.done()
	// The options struct is Go memory holding only C pointers, which cgo allows.
	var o C.hh_span_options
	o.kind = C.uint32_t(kind)
	o.start_time_unix_nano = C.uint64_t(startNanos)
	o.links, o.links_len = m.links(x.links)
	o.attrs, o.attrs_len = m.attrs(x.attrs)
	if x.parent != nil {
		// In C memory (the arena): Go memory passed to C may not point to Go memory.
		pc := (*C.hh_span_context)(m.take(unsafe.Sizeof(C.hh_span_context{})))
		*pc = toCSpanContext(*x.parent)
		o.parent_context = pc
	}
	var h C.hh_span
	var e C.hh_error
	st := C.hh_span_start_ex(C.hh_tracer(t), ptr(cname), C.hh_event_type(et), C.hh_span(parent), ptr(sid), ptr(attrsJSON), &o, &h, &e)
	if err := fromC("start span", st, &e); err != nil {
		return 0, err
	}
	return uint64(h), nil
}

func cSpanAddEvent(s uint64, name string, attrs []Attribute, nanos uint64) error {
	var nameBuf [smallBuf]byte
	cname, err := cstr(nameBuf[:], name, "event name")
	if err != nil {
		return err
	}
	var z cSize
	if err := z.addAttrs(attrs); err != nil {
		return opError("add event", err)
	}
	m := newCMem(z)
	list, n := m.attrs(attrs)
	var e C.hh_error
	st := C.hh_span_add_event(C.hh_span(s), ptr(cname), list, n, C.uint64_t(nanos), &e)
	m.done()
	return fromC("add event", st, &e)
}

func cSpanAddLink(s uint64, l cLink) error {
	links := [1]cLink{l}
	var z cSize
	if err := z.addLinks(links[:]); err != nil {
		return opError("add link", err)
	}
	m := newCMem(z)
	list, _ := m.links(links[:])
	var e C.hh_error
	st := C.hh_span_add_link(C.hh_span(s), list, &e)
	m.done()
	return fromC("add link", st, &e)
}

func cSpanSetStatus(s uint64, code uint32, description string) error {
	var descBuf [smallBuf]byte
	var d []byte
	if description != "" {
		var err error
		if d, err = cstr(descBuf[:], strings.ReplaceAll(description, "\x00", `\0`), "status description"); err != nil {
			return err
		}
	}
	return statusOnly("set status", C.hh_span_set_status(C.hh_span(s), C.uint32_t(code), ptr(d)))
}

func cSpanSetName(s uint64, name string) error {
	var nameBuf [smallBuf]byte
	cname, err := cstr(nameBuf[:], name, "span name")
	if err != nil {
		return err
	}
	return statusOnly("set name", C.hh_span_set_name(C.hh_span(s), ptr(cname)))
}

func cSpanRecordErrorEx(s uint64, errType, message, stack string, flags uint32, nanos uint64) error {
	var typeBuf [smallBuf / 2]byte
	var msgBuf [smallBuf]byte
	// A NUL cannot cross the C ABI; an error's text may well contain one, so replace it
	// rather than lose the error.
	t, err := cstr(typeBuf[:], strings.ReplaceAll(errType, "\x00", `\0`), "error type")
	if err != nil {
		return err
	}
	msg, err := cstr(msgBuf[:], strings.ReplaceAll(message, "\x00", `\0`), "error message")
	if err != nil {
		return err
	}
	var st []byte
	if stack != "" {
		if st, err = cstr(nil, strings.ReplaceAll(stack, "\x00", `\0`), "stack trace"); err != nil {
			return err
		}
	}
	return statusOnly("record error", C.hh_span_record_error_ex(C.hh_span(s), ptr(t), ptr(msg), ptr(st), C.uint32_t(flags), C.uint64_t(nanos)))
}

// cSpanEndAtKeep ends a span at an explicit time, keeping its handle (see cSpanEndKeep).
func cSpanEndAtKeep(s uint64, nanos uint64) error {
	return statusOnly("end span", C.hh_span_end_at(C.hh_span(s), C.uint64_t(nanos), C.HH_END_KEEP_HANDLE))
}

func cSpanGetContext(s uint64) (trace.SpanContext, error) {
	var c C.hh_span_context
	if err := statusOnly("span context", C.hh_span_get_context(C.hh_span(s), &c)); err != nil {
		return trace.SpanContext{}, err
	}
	return fromCSpanContext(&c), nil
}

// cSessionInject returns the baggage that continues a session in another service
// (sessionID "": the tracer's default session).
func cSessionInject(t uint64, sessionID string) (string, error) {
	var sidBuf [sessionIDBufLen + 8]byte
	var sid []byte
	if sessionID != "" {
		var err error
		if sid, err = cstr(sidBuf[:], sessionID, "session id"); err != nil {
			return "", err
		}
	}
	var buf [256]byte
	bag := buf[:]
	var n C.size_t
	for attempt := 0; ; attempt++ {
		st := C.hh_session_inject(C.hh_tracer(t), ptr(sid), (*C.char)(unsafe.Pointer(&bag[0])), C.size_t(len(bag)), &n)
		if st == C.HH_ERR_BUFFER_TOO_SMALL && attempt < 3 && int(n)+1 > len(bag) {
			bag = make([]byte, int(n)+1)
			continue
		}
		if err := statusOnly("inject session", st); err != nil {
			return "", err
		}
		return string(bag[:n]), nil
	}
}

func cEventCreate(t uint64, eventJSON []byte) (string, error) {
	var buf [eventIDBufLen]byte
	var e C.hh_error
	st := C.hh_event_create(C.hh_tracer(t), ptr(eventJSON), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &e)
	if err := fromC("create event", st, &e); err != nil {
		return "", err
	}
	n := 0
	for n < len(buf) && buf[n] != 0 {
		n++
	}
	return string(buf[:n]), nil
}

func cEventEnrich(t uint64, eventID string, enrichment []byte) error {
	var idBuf [eventIDBufLen + 8]byte
	id, err := cstr(idBuf[:], eventID, "event id")
	if err != nil {
		return err
	}
	var e C.hh_error
	st := C.hh_event_enrich(C.hh_tracer(t), ptr(id), ptr(enrichment), &e)
	return fromC("enrich event", st, &e)
}
