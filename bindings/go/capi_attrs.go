package honeyhive

// C memory for the structured arguments of a call: hh_attr lists (with their arrays),
// hh_link lists and span contexts. cgo does not let Go pass C an array holding Go pointers;
// built in C memory, these are plain C data.

/*
#include <stdlib.h>
#include "honeyhive.h"
*/
import "C"

import (
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"go.opentelemetry.io/otel/trace"
)

// Attribute value types (hh_attr.type).
const (
	attrStr       = uint32(C.HH_ATTR_STR)
	attrI64       = uint32(C.HH_ATTR_I64)
	attrF64       = uint32(C.HH_ATTR_F64)
	attrBool      = uint32(C.HH_ATTR_BOOL)
	attrStrArray  = uint32(C.HH_ATTR_STR_ARRAY)
	attrI64Array  = uint32(C.HH_ATTR_I64_ARRAY)
	attrF64Array  = uint32(C.HH_ATTR_F64_ARRAY)
	attrBoolArray = uint32(C.HH_ATTR_BOOL_ARRAY)
)

const (
	attrSize = unsafe.Sizeof(C.hh_attr{})
	linkSize = unsafe.Sizeof(C.hh_link{})
	ptrSize  = unsafe.Sizeof(uintptr(0))
)

// Everything in the aligned region keeps the next item 8-aligned: the structs are multiples
// of 8 bytes (the build fails here otherwise).
var (
	_ [0]struct{} = [attrSize % 8]struct{}{}
	_ [0]struct{} = [linkSize % 8]struct{}{}
)

// attrArena is a reusable block of C memory. Arenas are reused through a sync.Pool (one per
// P, no lock); when the pool drops one at a garbage collection, its cleanup frees the C
// memory.
type attrArena struct{ base unsafe.Pointer }

const arenaBytes = 4096

var arenas = sync.Pool{New: func() any {
	a := &attrArena{base: C.malloc(arenaBytes)}
	runtime.AddCleanup(a, func(p unsafe.Pointer) { C.free(p) }, a.base)
	return a
}}

// cSize is what a call's arguments need in C memory, counted (and checked) before it is
// taken: the aligned region (structs, pointer and number arrays) and the text region
// (strings and bools) after it.
type cSize struct{ fixed, text uintptr }

func (z *cSize) addAttrs(attrs []Attribute) error {
	fixed, text := z.fixed+uintptr(len(attrs))*attrSize, z.text
	for i := range attrs {
		a := &attrs[i]
		if strings.IndexByte(a.key, 0) >= 0 {
			return newError("", StatusInvalidArgument, "attribute key contains a NUL byte")
		}
		text += uintptr(len(a.key)) + 1
		switch a.kind {
		case attrStr:
			if strings.IndexByte(a.str, 0) >= 0 {
				return newError("", StatusInvalidArgument, "attribute value contains a NUL byte")
			}
			text += uintptr(len(a.str)) + 1
		case attrI64, attrF64, attrBool:
		default:
			f, t, err := arraySize(a)
			if err != nil {
				return err
			}
			fixed, text = fixed+f, text+t
		}
	}
	z.fixed, z.text = fixed, text
	return nil
}

// arraySize is what an array attribute's elements need in each region.
func arraySize(a *Attribute) (fixed, text uintptr, err error) {
	switch a.kind {
	case attrStrArray:
		ss, _ := a.arr.([]string)
		fixed = uintptr(len(ss)) * ptrSize
		for _, s := range ss {
			if strings.IndexByte(s, 0) >= 0 {
				return 0, 0, newError("", StatusInvalidArgument, "attribute value contains a NUL byte")
			}
			text += uintptr(len(s)) + 1
		}
	case attrI64Array:
		v, _ := a.arr.([]int64)
		fixed = uintptr(len(v)) * 8
	case attrF64Array:
		v, _ := a.arr.([]float64)
		fixed = uintptr(len(v)) * 8
	case attrBoolArray:
		v, _ := a.arr.([]bool)
		text = uintptr(len(v))
	}
	return fixed, text, nil
}

// cLink is a link with its attributes converted for C.
type cLink struct {
	sc    trace.SpanContext
	attrs []Attribute
}

func (z *cSize) addLinks(links []cLink) error {
	z.fixed += uintptr(len(links)) * linkSize
	for i := range links {
		if err := z.addAttrs(links[i].attrs); err != nil {
			return err
		}
	}
	return nil
}

// cMem is the C memory of one call, valid until done: an arena from the pool when the
// arguments fit, else one malloc'ed block.
type cMem struct {
	arena       *attrArena
	heap        unsafe.Pointer
	base        unsafe.Pointer
	fixed, text uintptr // next free byte of each region
}

func newCMem(z cSize) cMem {
	var m cMem
	if need := z.fixed + z.text; need <= arenaBytes {
		m.arena = arenas.Get().(*attrArena)
		m.base = m.arena.base
	} else {
		m.heap = C.malloc(C.size_t(need))
		m.base = m.heap
	}
	m.text = z.fixed
	return m
}

func (m *cMem) done() {
	if m.arena != nil {
		arenas.Put(m.arena)
	}
	if m.heap != nil {
		C.free(m.heap)
	}
}

// take returns n bytes of the aligned region.
func (m *cMem) take(n uintptr) unsafe.Pointer {
	p := unsafe.Add(m.base, m.fixed)
	m.fixed += n
	return p
}

// bytes returns n bytes of the text region.
func (m *cMem) bytes(n uintptr) []byte {
	b := unsafe.Slice((*byte)(unsafe.Add(m.base, m.text)), n)
	m.text += n
	return b
}

func (m *cMem) cstr(s string) *C.char {
	b := m.bytes(uintptr(len(s)) + 1)
	b[copy(b, s)] = 0
	return (*C.char)(unsafe.Pointer(&b[0]))
}

// attrs writes attrs (counted by addAttrs) as an hh_attr array.
func (m *cMem) attrs(attrs []Attribute) (*C.hh_attr, C.size_t) {
	if len(attrs) == 0 {
		return nil, 0
	}
	first := (*C.hh_attr)(m.take(uintptr(len(attrs)) * attrSize))
	list := unsafe.Slice(first, len(attrs))
	base, pos := m.base, m.text // the text cursor
	for i := range attrs {
		a := &attrs[i]
		e := C.hh_attr{ns: C.hh_namespace(a.ns), _type: C.hh_attr_type(a.kind)}
		k := unsafe.Slice((*byte)(unsafe.Add(base, pos)), len(a.key)+1)
		k[copy(k, a.key)] = 0
		e.key = (*C.char)(unsafe.Pointer(&k[0]))
		pos += uintptr(len(k))
		switch a.kind {
		case attrStr:
			v := unsafe.Slice((*byte)(unsafe.Add(base, pos)), len(a.str)+1)
			v[copy(v, a.str)] = 0
			e.str = (*C.char)(unsafe.Pointer(&v[0]))
			pos += uintptr(len(v))
		case attrI64, attrBool:
			e.i64 = C.int64_t(a.i64)
		case attrF64:
			e.f64 = C.double(a.f64)
		default:
			m.text = pos
			m.array(&e, a)
			pos = m.text
		}
		list[i] = e
	}
	m.text = pos
	return first, C.size_t(len(attrs))
}

// array writes the elements of an array attribute (counted by arraySize) and points e at them.
func (m *cMem) array(e *C.hh_attr, a *Attribute) {
	n := 0
	var items unsafe.Pointer
	switch a.kind {
	case attrStrArray:
		ss, _ := a.arr.([]string)
		if n = len(ss); n > 0 {
			ps := unsafe.Slice((**C.char)(m.take(uintptr(n)*ptrSize)), n)
			for j, s := range ss {
				ps[j] = m.cstr(s)
			}
			items = unsafe.Pointer(&ps[0])
		}
	case attrI64Array:
		v, _ := a.arr.([]int64)
		if n = len(v); n > 0 {
			dst := unsafe.Slice((*int64)(m.take(uintptr(n)*8)), n)
			copy(dst, v)
			items = unsafe.Pointer(&dst[0])
		}
	case attrF64Array:
		v, _ := a.arr.([]float64)
		if n = len(v); n > 0 {
			dst := unsafe.Slice((*float64)(m.take(uintptr(n)*8)), n)
			copy(dst, v)
			items = unsafe.Pointer(&dst[0])
		}
	case attrBoolArray:
		v, _ := a.arr.([]bool)
		if n = len(v); n > 0 {
			// Go's bool and C's bool are both one byte holding 0 or 1.
			dst := m.bytes(uintptr(n))
			copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), n))
			items = unsafe.Pointer(&dst[0])
		}
	}
	e.items, e.len = items, C.size_t(n)
}

// links writes links (counted by addLinks) as an hh_link array.
func (m *cMem) links(links []cLink) (*C.hh_link, C.size_t) {
	if len(links) == 0 {
		return nil, 0
	}
	first := (*C.hh_link)(m.take(uintptr(len(links)) * linkSize))
	list := unsafe.Slice(first, len(links))
	for i := range links {
		var l C.hh_link
		l.context = toCSpanContext(links[i].sc)
		l.attrs, l.attrs_len = m.attrs(links[i].attrs)
		list[i] = l
	}
	return first, C.size_t(len(links))
}

func toCSpanContext(sc trace.SpanContext) C.hh_span_context {
	var c C.hh_span_context
	tid, sid := sc.TraceID(), sc.SpanID()
	for i := range tid {
		c.trace_id[i] = C.uint8_t(tid[i])
	}
	for i := range sid {
		c.span_id[i] = C.uint8_t(sid[i])
	}
	c.trace_flags = C.uint8_t(sc.TraceFlags())
	c.is_remote = C.bool(sc.IsRemote())
	return c
}

func fromCSpanContext(c *C.hh_span_context) trace.SpanContext {
	var cfg trace.SpanContextConfig
	for i := range cfg.TraceID {
		cfg.TraceID[i] = byte(c.trace_id[i])
	}
	for i := range cfg.SpanID {
		cfg.SpanID[i] = byte(c.span_id[i])
	}
	cfg.TraceFlags = trace.TraceFlags(c.trace_flags)
	cfg.Remote = bool(c.is_remote)
	return trace.NewSpanContext(cfg)
}

// cAttrs puts attrs alone in C memory (in m, valid until m.done): addAttrs, newCMem and
// attrs in one function, as the span hot path (SetAttributes, EndWith) had it before arrays
// existed (in separate steps, building three attributes took about a third longer).
func cAttrs(m *cMem, attrs []Attribute) (list *C.hh_attr, n C.size_t, err error) {
	fixed, text := uintptr(len(attrs))*attrSize, uintptr(0)
	arrays := false
	for i := range attrs {
		a := &attrs[i]
		if strings.IndexByte(a.key, 0) >= 0 {
			return nil, 0, newError("", StatusInvalidArgument, "attribute key contains a NUL byte")
		}
		text += uintptr(len(a.key)) + 1
		switch a.kind {
		case attrStr:
			if strings.IndexByte(a.str, 0) >= 0 {
				return nil, 0, newError("", StatusInvalidArgument, "attribute value contains a NUL byte")
			}
			text += uintptr(len(a.str)) + 1
		case attrI64, attrF64, attrBool:
		default:
			f, t, err := arraySize(a)
			if err != nil {
				return nil, 0, err
			}
			fixed, text, arrays = fixed+f, text+t, true
		}
	}
	if need := fixed + text; need <= arenaBytes {
		m.arena = arenas.Get().(*attrArena)
		m.base = m.arena.base
	} else {
		m.heap = C.malloc(C.size_t(need))
		m.base = m.heap
	}
	m.text = fixed
	if arrays || len(attrs) == 0 {
		list, n = m.attrs(attrs)
		return list, n, nil
	}
	// Scalars only: the elements, then their text.
	out := unsafe.Slice((*C.hh_attr)(m.base), len(attrs))
	buf := unsafe.Slice((*byte)(m.base), fixed+text)[fixed:]
	for i := range attrs {
		a := &attrs[i]
		e := C.hh_attr{ns: C.hh_namespace(a.ns), _type: C.hh_attr_type(a.kind)}
		k := copy(buf, a.key)
		buf[k] = 0
		e.key = (*C.char)(unsafe.Pointer(&buf[0]))
		buf = buf[k+1:]
		switch a.kind {
		case attrStr:
			k = copy(buf, a.str)
			buf[k] = 0
			e.str = (*C.char)(unsafe.Pointer(&buf[0]))
			buf = buf[k+1:]
		case attrF64:
			e.f64 = C.double(a.f64)
		default:
			e.i64 = C.int64_t(a.i64)
		}
		out[i] = e
	}
	return &out[0], C.size_t(len(attrs)), nil
}

func cSpanSetAttrs(s uint64, attrs []Attribute) error {
	var m cMem
	list, n, err := cAttrs(&m, attrs)
	if err != nil {
		return opError("set attributes", err)
	}
	var e C.hh_error
	st := C.hh_span_set_attrs(C.hh_span(s), list, n, &e)
	m.done()
	return fromC("set attributes", st, &e)
}

// cSpanEndAttrsKeep sets attrs and ends the span, keeping its handle (see cSpanEndKeep); when
// the attributes are refused the span is not ended.
func cSpanEndAttrsKeep(s uint64, attrs []Attribute) error {
	var m cMem
	list, n, err := cAttrs(&m, attrs)
	if err != nil {
		return opError("end span", err)
	}
	var e C.hh_error
	st := C.hh_span_end_attrs(C.hh_span(s), list, n, C.HH_END_KEEP_HANDLE, &e)
	m.done()
	return fromC("end span", st, &e)
}
