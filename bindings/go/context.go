package honeyhive

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// The current span and session travel in context.Context, never in OS-thread state: a
// goroutine may run on another thread between two cgo calls. The value under ctxKey is one
// of:
//   - *Span: a local parent; its children inherit its session;
//   - *remoteParent: a parent from Tracer.Extract (another service);
//   - *sessionScope: a session from Tracer.CreateSession, with the parent it was made under.
type ctxKey struct{}

type sessionScope struct {
	parent    any // nil, *Span or *remoteParent
	sessionID string
}

// remoteParent owns a remote parent handle from hh_tracer_extract. The handle is released
// (hh_span_end) by a finalizer once no context refers to it any more: a remote parent may
// parent any number of spans, started at any time, so there is no earlier safe moment.
type remoteParent struct {
	handle      uint64
	traceparent string
	baggage     string
	sessionID   string // from baggage; "" means the tracer's default session
}

func (r *remoteParent) release() { _ = cSpanEnd(r.handle) }

func parentFrom(ctx context.Context) any {
	switch v := ctx.Value(ctxKey{}).(type) {
	case *Span, *remoteParent:
		return v
	case *sessionScope:
		return v.parent
	}
	return nil
}

// SessionIDFromContext returns the session that spans started from ctx would join: the
// session of CreateSession (or of a span or remote parent) carried by ctx, else session_id
// of the OpenTelemetry baggage in ctx. It returns ""
// when ctx carries none, in which case root spans join the tracer's default session.
func SessionIDFromContext(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	switch v := ctx.Value(ctxKey{}).(type) {
	case *sessionScope:
		return v.sessionID
	case *Span:
		return v.SessionID()
	case *remoteParent:
		return v.sessionID
	}
	return baggageSession(ctx)
}

// StartOption configures Tracer.Start: WithEventType, WithSession, WithAttributes,
// WithInputs, WithSpanKind, WithLinks, WithStartTime or WithTypedAttributes. (A value, not a
// function: Start applies options without allocating, except for the lists of WithLinks and
// WithTypedAttributes.)
type StartOption struct {
	what      startOptionKind
	eventType EventType
	num       int64 // span kind, start time
	sessionID string
	v         any // map[string]any, []trace.Link, []Attribute
}

type startOptionKind uint8

const (
	optNone startOptionKind = iota // the zero StartOption: no effect
	optEventType
	optSession
	optAttributes
	optInputs
	optKind
	optLinks
	optStartTime
	optTypedAttributes
)

type startConfig struct {
	eventType EventType
	attrs     map[string]any
	inputs    map[string]any
	sessionID string
	// For hh_span_start_ex; lists only when WithLinks or WithTypedAttributes gave some (kept
	// apart: a larger startConfig costs every Start).
	kind       uint32
	startNanos uint64
	lists      *startLists
	extended   bool // start with hh_span_start_ex
	newRoot    bool // trace.WithNewRoot: no parent, whatever ctx carries
}

func (c *startConfig) apply(o *StartOption) {
	switch o.what {
	case optEventType:
		c.eventType = o.eventType
	case optSession:
		c.sessionID = o.sessionID
	case optAttributes:
		c.attrs, _ = o.v.(map[string]any)
	case optInputs:
		c.inputs, _ = o.v.(map[string]any)
	case optKind:
		c.kind, c.extended = hhKind(trace.SpanKind(o.num)), true
	case optStartTime:
		c.startNanos, c.extended = uint64(o.num), true
	case optLinks:
		links, _ := o.v.([]trace.Link)
		for _, l := range links {
			if l.SpanContext.IsValid() { // an invalid one links nothing: left out
				c.list().links = append(c.list().links, toCLink(l))
			}
		}
		c.extended = true
	case optTypedAttributes:
		attrs, _ := o.v.([]Attribute)
		c.list().attrs = append(c.list().attrs, attrs...)
		c.extended = true
	}
}

func (c *startConfig) list() *startLists {
	if c.lists == nil {
		c.lists = new(startLists)
	}
	return c.lists
}

// WithEventType sets the span's event type (default: detected from the name).
func WithEventType(t EventType) StartOption {
	return StartOption{what: optEventType, eventType: t}
}

// WithAttributes sets initial attributes, under their keys as given (a key with '.', '-'
// or ' ' is also written in its normalized form, e.g. "custom.attr" and "custom_attr", as
// the reference SDK does). Strings, numbers, booleans and arrays of them keep their type;
// the library stores other values as JSON text. For namespaced, flattened data use
// WithInputs or Span.Enrich.
func WithAttributes(attrs map[string]any) StartOption {
	return StartOption{what: optAttributes, v: attrs}
}

// WithInputs sets the span's inputs at start, flattened as by Span.Enrich
// (honeyhive_inputs.<path>).
func WithInputs(inputs map[string]any) StartOption {
	return StartOption{what: optInputs, v: inputs}
}

// WithSession puts the span (and so its children) into the given session instead of the
// one carried by ctx.
func WithSession(sessionID string) StartOption {
	return StartOption{what: optSession, sessionID: sessionID}
}

// Start starts a span named name. Its parent is the span carried by ctx (from an enclosing
// Start, or a remote parent from Extract); without one it is a root span. Its session is,
// in order: WithSession, the session of ctx (CreateSession), the parent's session, the
// tracer's default session. The returned ctx carries the new span: pass it to the work the
// span covers, and end the span with `defer span.End()`.
//
// Start never fails loudly and never waits for the network: on error (closed tracer,
// invalid name, ...) it returns ctx unchanged and a no-op span whose Err reports the
// problem and whose methods return it.
func (t *Tracer) Start(ctx context.Context, name string, opts ...StartOption) (context.Context, *Span) {
	var cfg startConfig
	for i := range opts {
		cfg.apply(&opts[i])
	}
	return t.start(ctx, name, &cfg)
}

func (t *Tracer) start(ctx context.Context, name string, cfg *startConfig) (context.Context, *Span) {
	ctx = orBackground(ctx)
	if err := t.valid("start span"); err != nil {
		return ctx, noopSpan(err)
	}
	var attrs, inputs []byte
	if len(cfg.attrs) > 0 {
		b, err := json.Marshal(cfg.attrs)
		if err != nil {
			return ctx, noopSpan(newError("start span", StatusInvalidJSON, err.Error()))
		}
		attrs = cjson(b)
	}
	if len(cfg.inputs) > 0 {
		b, err := json.Marshal(Enrichment{Inputs: cfg.inputs})
		if err != nil {
			return ctx, noopSpan(newError("start span", StatusInvalidJSON, err.Error()))
		}
		inputs = cjson(b)
	}

	var parent any
	session := cfg.sessionID
	switch v := ctx.Value(ctxKey{}).(type) {
	case *Span, *remoteParent:
		parent = v
	case *sessionScope:
		parent = v.parent
		if session == "" {
			session = v.sessionID
		}
	}
	if parent == nil {
		// No span of this package: an OpenTelemetry span or remote SpanContext in ctx, and
		// the session in OpenTelemetry baggage (only root spans pay for these lookups).
		parent, session = otelParent(ctx, cfg, session)
	}
	if cfg.newRoot && parent != nil {
		// A new trace, in the session the parent would have given.
		if session == "" {
			session = sessionOf(parent)
		}
		parent = nil
	}

	// A *Span parent is valid however long ago it ended: End keeps its handle while the
	// parent is reachable (and it is, until the KeepAlive below).
	var ph uint64
	switch p := parent.(type) {
	case *Span:
		ph = p.handle
	case *remoteParent:
		ph = p.handle
	}
	var h uint64
	var err error
	if cfg.extended {
		h, err = cSpanStartEx(t.handle, name, cfg.eventType, ph, session, attrs, cfg.kind, cfg.startNanos, cfg.lists)
	} else {
		h, err = cSpanStart(t.handle, name, cfg.eventType, ph, session, attrs)
	}
	runtime.KeepAlive(parent)
	runtime.KeepAlive(t)
	if err != nil {
		return ctx, noopSpan(err)
	}
	s, sctx := newSpan(h, ctx, t)
	if inputs != nil {
		// Inputs go through enrichment (flattened to honeyhive_inputs.<path>). The span is
		// started either way; a failure here is reported by s.Err().
		if err := cSpanEnrich(h, inputs); err != nil {
			s.err = opError("start span: inputs", err)
		}
	}
	return sctx, s
}

// Inject writes the W3C context of ctx into h: `traceparent` of the span in ctx and
// `baggage` with its session id (the session of CreateSession when ctx carries one),
// project and source, so that another service (in any language) can continue the trace and
// the session with Extract. A ctx without a span writes only `baggage`, for the session of
// ctx (CreateSession, Extract) or else the tracer's default session (nothing when it has
// none): the other service's spans then join that session.
//
// h is an http.Header or any other carrier with Get and Set: a
// propagation.TextMapCarrier (propagation.MapCarrier, gRPC metadata, message headers).
// OpenTelemetry's propagation.TraceContext{} and propagation.Baggage{} write the same
// headers from the same ctx.
func (t *Tracer) Inject(ctx context.Context, h Carrier) error {
	if isNilCarrier(h) {
		return newError("inject", StatusNullArgument, "nil carrier")
	}
	if err := t.valid("inject"); err != nil {
		return err
	}
	ctx = orBackground(ctx)
	var parent any
	session := ""
	switch v := ctx.Value(ctxKey{}).(type) {
	case *Span, *remoteParent:
		parent = v
	case *sessionScope:
		parent, session = v.parent, v.sessionID
	}
	var tp, bag string
	switch p := parent.(type) {
	case *Span:
		var err error
		if tp, bag, err = p.context(); err != nil {
			return opError("inject", err)
		}
	case *remoteParent:
		var tpBuf [traceparentBufLen]byte
		var bagBuf [256]byte
		b, err := cSpanInject(p.handle, &tpBuf, bagBuf[:])
		runtime.KeepAlive(p)
		if err != nil {
			tp, bag = p.traceparent, p.baggage
		} else {
			tp, bag = string(tpBuf[:traceparentBufLen-1]), string(b)
		}
	default:
		// No span of this package: an OpenTelemetry one (or a remote SpanContext) gives the
		// traceparent; the session is that of ctx (CreateSession, OpenTelemetry baggage).
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			tp = "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
		}
		if session == "" {
			session = baggageSession(ctx)
		}
		// The session alone, with the project and source as a span's baggage has them (""
		// is the tracer's default session).
		b, err := cSessionInject(t.handle, session)
		runtime.KeepAlive(t)
		if session == "" && errors.Is(err, ErrInvalidArgument) {
			if tp != "" {
				h.Set("traceparent", tp)
			}
			return nil // the tracer has no default session: no baggage to carry
		}
		if err != nil {
			return opError("inject", err)
		}
		bag, session = b, ""
	}
	if session != "" {
		bag = setBaggageValue(bag, "session_id", session, sessionBaggageKeys...)
	}
	if tp != "" {
		h.Set("traceparent", tp)
	}
	if bag != "" {
		h.Set("baggage", bag)
	}
	return nil
}

// Extract reads W3C `traceparent` and `baggage` from h and returns a ctx whose spans
// continue the remote trace: same trace id, the remote span as parent, and the session
// from baggage `session_id` (else the tracer's default session; see
// SessionIDFromContext to tell the two apart). Without a traceparent it returns ctx
// unchanged, or, when baggage names a session, a ctx carrying that session. A malformed
// traceparent is an error (ctx is then returned unchanged).
//
// h is an http.Header or any other carrier with Get and Set (see Inject). The returned ctx
// also carries the remote SpanContext and the baggage for OpenTelemetry
// (trace.SpanContextFromContext, baggage.FromContext), as OpenTelemetry's propagators would.
func (t *Tracer) Extract(ctx context.Context, h Carrier) (context.Context, error) {
	ctx = orBackground(ctx)
	if err := t.valid("extract"); err != nil {
		return ctx, err
	}
	if isNilCarrier(h) {
		return ctx, nil
	}
	tp := strings.TrimSpace(h.Get("traceparent"))
	bag := carrierBaggage(h)
	ctx = otelExtract(ctx, tp, bag)
	sid := baggageValue(bag, sessionBaggageKeys...)
	if tp == "" {
		if sid == "" {
			return ctx, nil
		}
		c, _, err := t.CreateSession(ctx, SessionOptions{ID: sid, SkipAPICall: true})
		if err != nil {
			return ctx, opError("extract", err)
		}
		return c, nil
	}
	handle, err := cTracerExtract(t.handle, tp, bag)
	runtime.KeepAlive(t)
	if err != nil {
		return ctx, err
	}
	r := &remoteParent{handle: handle, traceparent: tp, baggage: bag}
	if sid != "" {
		// The library's canonical form of the id (it lower-cases and checks UUIDs).
		if id, err := cSpanSessionID(handle); err == nil {
			sid = id
		}
	}
	r.sessionID = sid
	runtime.SetFinalizer(r, (*remoteParent).release)
	return context.WithValue(ctx, ctxKey{}, r), nil
}
