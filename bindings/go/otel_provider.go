package honeyhive

import (
	"context"
	"runtime"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerProvider returns an OpenTelemetry TracerProvider whose spans are this tracer's
// spans: exported by the library's pipeline, stamped with the HoneyHive attributes, and in
// the session of their context (CreateSession, session_id in OpenTelemetry baggage, a
// parent span's session, else the tracer's default session). Give it to any OpenTelemetry
// instrumentation (otelhttp.WithTracerProvider, otel.SetTracerProvider, ...).
//
// Spans of the provider and of Tracer.Start share one context: each is the parent of the
// other's next span, and trace.SpanFromContext sees both. Span methods return no errors:
// refused operations go to Config.Logger. The instrumentation scope (the name given to
// Tracer) is not recorded.
func (t *Tracer) TracerProvider() trace.TracerProvider {
	return &provider{t: t}
}

// provider embeds embedded.TracerProvider (and otelTracer, otelSpan their embedded
// interfaces) as OpenTelemetry's SDK does: a method added to the API in a minor version
// then fails at compile time here rather than at run time in an application.
type provider struct {
	embedded.TracerProvider
	t *Tracer
}

func (p *provider) Tracer(string, ...trace.TracerOption) trace.Tracer {
	return &otelTracer{t: p.t}
}

type otelTracer struct {
	embedded.Tracer
	t *Tracer
}

// Start starts a span: its parent is the span in ctx (of either API) or a remote
// SpanContext there (trace.ContextWithRemoteSpanContext, a propagator's Extract), unless
// trace.WithNewRoot. Kind, attributes (any type), links and start time are taken from
// opts. On failure (closed tracer, invalid name) it returns ctx and a non-recording span.
func (o *otelTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	c := trace.NewSpanStartConfig(opts...)
	cfg := startConfig{newRoot: c.NewRoot()}
	// The plain start (hh_span_start) unless an option needs hh_span_start_ex, and the lists
	// allocated only when there are some: the common span costs what Tracer.Start costs.
	if k := c.SpanKind(); k != trace.SpanKindInternal && k != trace.SpanKindUnspecified {
		cfg.kind, cfg.extended = hhKind(k), true
	}
	if ts := c.Timestamp(); !ts.IsZero() {
		cfg.startNanos, cfg.extended = unixNanos(ts), true
	}
	if a := c.Attributes(); len(a) > 0 {
		cfg.list().attrs = appendOTel(make([]Attribute, 0, len(a)), a)
		cfg.extended = true
	}
	for _, l := range c.Links() {
		if l.SpanContext.IsValid() {
			cfg.list().links = append(cfg.list().links, toCLink(l))
			cfg.extended = true
		}
	}
	sctx, s := o.t.start(ctx, name, &cfg)
	if s.handle == 0 {
		if o.t != nil {
			report(o.t.logger, s.err)
		} else {
			report(nil, s.err)
		}
		return orBackground(ctx), noop.Span{}
	}
	return sctx, &sctx.(*spanCtx).otel
}

// otelParent finds the parent and session of a span whose ctx has no span of this package:
// a span of another OpenTelemetry implementation or a remote SpanContext becomes the parent
// by its ids (hh_span_options.parent_context), and baggage's session_id the session.
func otelParent(ctx context.Context, cfg *startConfig, session string) (any, string) {
	if session == "" {
		session = baggageSession(ctx)
	}
	sp := trace.SpanFromContext(ctx)
	if os, ok := sp.(*otelSpan); ok { // put in ctx by trace.ContextWithSpan
		return os.s, session
	}
	if cfg.newRoot {
		return nil, session
	}
	if sc := sp.SpanContext(); sc.IsValid() {
		cfg.list().parent = &sc
		cfg.extended = true
	}
	return nil, session
}

// baggageSession is the session named by OpenTelemetry baggage in ctx, or "".
func baggageSession(ctx context.Context) string {
	b := baggage.FromContext(ctx)
	if b.Len() == 0 {
		return ""
	}
	for _, k := range sessionBaggageKeys {
		if v := b.Member(k).Value(); v != "" {
			return v
		}
	}
	return ""
}

// sessionOf is the session of a parent (*Span or *remoteParent).
func sessionOf(parent any) string {
	switch p := parent.(type) {
	case *Span:
		return p.SessionID()
	case *remoteParent:
		return p.sessionID
	}
	return ""
}

// otelSpan is a *Span seen through OpenTelemetry's trace.Span interface. One lives beside
// every span (in its context, see spanCtx), so the provider allocates nothing more per span.
type otelSpan struct {
	embedded.Span
	s *Span
	t *Tracer
}

func (o *otelSpan) End(options ...trace.SpanEndOption) { o.s.End(options...) }

func (o *otelSpan) AddEvent(name string, options ...trace.EventOption) {
	report(o.t.logger, o.s.addEvent(name, options))
}

func (o *otelSpan) AddLink(link trace.Link) { report(o.t.logger, o.s.addLink(link)) }

func (o *otelSpan) IsRecording() bool { return o.s.IsRecording() }

// RecordError records err as an "exception" event (with a stack trace only for
// trace.WithStackTrace(true)); the library also sets the status to ERROR and the
// honeyhive_error attributes, so the error shows in HoneyHive.
func (o *otelSpan) RecordError(err error, options ...trace.EventOption) {
	report(o.t.logger, o.s.recordError(err, options, false))
}

func (o *otelSpan) SpanContext() trace.SpanContext { return o.s.SpanContext() }

func (o *otelSpan) SetStatus(code codes.Code, description string) {
	report(o.t.logger, o.s.setStatus(code, description))
}

func (o *otelSpan) SetName(name string) { report(o.t.logger, o.s.setName(name)) }

// SetAttributes sets attributes of any OpenTelemetry type under their keys as given; an
// invalid one, or those past the span's attribute limit, are dropped (and logged).
func (o *otelSpan) SetAttributes(kv ...attribute.KeyValue) {
	if len(kv) == 0 || !o.s.IsRecording() {
		return
	}
	var buf [8]Attribute
	attrs := appendOTel(buf[:0], kv)
	err := o.s.SetAttributes(attrs...)
	if err != nil && len(attrs) > 1 {
		// The library sets a list all or none; OpenTelemetry keeps each valid attribute and
		// drops the others (say those past the span's limit): one by one, first refusal logged.
		err = nil
		for i := range attrs {
			if e := o.s.SetAttributes(attrs[i]); e != nil && err == nil {
				err = e
			}
		}
	}
	report(o.t.logger, err)
	runtime.KeepAlive(o)
}

func (o *otelSpan) TracerProvider() trace.TracerProvider { return o.t.TracerProvider() }

// otelSpanKey is the context key under which OpenTelemetry's API keeps the current span
// (unexported there), found once by asking trace.SpanFromContext: a span's context answers
// it without another context.WithValue, so Tracer.Start costs no more for being visible
// to OpenTelemetry.
var otelSpanKey = func() any {
	var p keyProbe
	p.Context = context.Background()
	trace.SpanFromContext(&p)
	return p.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return nil
}
