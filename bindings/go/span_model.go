package honeyhive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The span model of OpenTelemetry, with its Go API's types and method shapes: kind, links,
// events, status, name, explicit times and the span's context. As in OpenTelemetry these
// methods return nothing: a call on an ended (or not started) span does nothing, and a
// refused input (say an event name with a NUL byte) is reported to slog.Default().

// AddEvent adds an event to the span: a name, attributes (trace.WithAttributes, any key and
// type) and a time (trace.WithTimestamp; default now).
//
//	span.AddEvent("retry", trace.WithAttributes(attribute.Int("attempt", 2)))
func (s *Span) AddEvent(name string, options ...trace.EventOption) {
	report(nil, s.addEvent(name, options))
}

func (s *Span) addEvent(name string, options []trace.EventOption) error {
	if err := s.live("add event"); err != nil {
		return err
	}
	cfg := trace.NewEventConfig(options...)
	var buf [8]Attribute
	attrs := appendOTel(buf[:0], cfg.Attributes())
	err := cSpanAddEvent(s.handle, name, attrs, unixNanos(cfg.Timestamp()))
	runtime.KeepAlive(s)
	return err
}

// AddLink links the span to another one (of any trace, e.g. the messages a batch job
// consumes), with the link's attributes. A link to an invalid SpanContext is left out.
func (s *Span) AddLink(link trace.Link) {
	report(nil, s.addLink(link))
}

func (s *Span) addLink(link trace.Link) error {
	if err := s.live("add link"); err != nil || !link.SpanContext.IsValid() {
		return err
	}
	err := cSpanAddLink(s.handle, toCLink(link))
	runtime.KeepAlive(s)
	return err
}

// SetStatus sets the span's status as OpenTelemetry does: codes.Ok is final, codes.Error
// (with its description) overrides Unset, and the description is kept only for Error.
// Independent of RecordError, which records an exception and sets Error itself.
func (s *Span) SetStatus(code codes.Code, description string) {
	report(nil, s.setStatus(code, description))
}

func (s *Span) setStatus(code codes.Code, description string) error {
	if err := s.live("set status"); err != nil {
		return err
	}
	c := statusUnset
	switch code {
	case codes.Ok:
		c, description = statusOK, ""
	case codes.Error:
		c = statusError
	default:
		description = ""
	}
	err := cSpanSetStatus(s.handle, c, description)
	runtime.KeepAlive(s)
	return err
}

// SetName renames the span (and so the event it becomes).
func (s *Span) SetName(name string) {
	report(nil, s.setName(name))
}

func (s *Span) setName(name string) error {
	if err := s.live("set name"); err != nil {
		return err
	}
	err := cSpanSetName(s.handle, name)
	runtime.KeepAlive(s)
	return err
}

// SpanContext returns the span's identity: trace id, span id and flags, read without
// injecting a header. It is valid however long ago the span ended, and empty (IsValid false)
// for a span that was not started.
func (s *Span) SpanContext() trace.SpanContext {
	if s == nil || s.handle == 0 {
		return trace.SpanContext{}
	}
	sc, err := cSpanGetContext(s.handle)
	runtime.KeepAlive(s)
	if err != nil {
		return trace.SpanContext{}
	}
	return sc
}

// TraceID returns the span's trace id (32 lower-case hex characters), or "".
func (s *Span) TraceID() string {
	if sc := s.SpanContext(); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}

// SpanID returns the span's id (16 lower-case hex characters), or "".
func (s *Span) SpanID() string {
	if sc := s.SpanContext(); sc.IsValid() {
		return sc.SpanID().String()
	}
	return ""
}

// TraceParent returns the span's W3C traceparent header value
// ("00-<trace id>-<span id>-<flags>"), or "" for a span that was not started.
func (s *Span) TraceParent() string {
	sc := s.SpanContext()
	if !sc.IsValid() {
		return ""
	}
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}

// RecordError records err on the span: an "exception" event (exception.type, .message,
// .stacktrace and .escaped), status ERROR "<type>: <message>", and the attributes
// honeyhive_error and honeyhive_error_type. The type is the Go type of err (fmt's %T, e.g.
// "*fs.PathError"). The stack trace is the one err carries (a panic recovered by Trace, an
// error with a Stack() []byte method, or one that prints its stack with %+v as
// github.com/pkg/errors does, anywhere in its chain), else the stack of the caller of
// RecordError. Options: trace.WithTimestamp (default now) and
// trace.WithAttributes(attribute.Bool("exception.escaped", true)) for an error that leaves
// the span's scope; other attributes are not recorded. A nil err does nothing.
func (s *Span) RecordError(err error, options ...trace.EventOption) error {
	return s.recordError(err, options, true)
}

// recordError records err; withStack false records no stack trace unless options ask for
// one (trace.WithStackTrace(true)), as OpenTelemetry's RecordError does.
func (s *Span) recordError(err error, options []trace.EventOption, withStack bool) error {
	if err == nil {
		return nil
	}
	if e := s.live("record error"); e != nil {
		return e
	}
	var flags uint32
	var nanos uint64
	if len(options) > 0 {
		cfg := trace.NewEventConfig(options...)
		nanos = unixNanos(cfg.Timestamp())
		withStack = withStack || cfg.StackTrace()
		for _, kv := range cfg.Attributes() {
			if kv.Key == escapedKey && kv.Value.Type() == attribute.BOOL && kv.Value.AsBool() {
				flags |= errorEscaped
			}
		}
	}
	var stack string
	if withStack {
		if stack = errorStack(err); stack == "" {
			stack = callerStack(2)
		}
	}
	e := cSpanRecordErrorEx(s.handle, fmt.Sprintf("%T", err), err.Error(), stack, flags, nanos)
	runtime.KeepAlive(s)
	return e
}

// escapedKey is OpenTelemetry's attribute for an exception that left the span's scope.
const escapedKey attribute.Key = "exception.escaped"

// WithSpanKind sets the span's kind (trace.SpanKindServer, ...; default internal).
func WithSpanKind(kind trace.SpanKind) StartOption {
	return StartOption{what: optKind, num: int64(kind)}
}

// WithLinks links the span to other spans at start (more may follow with AddLink). Links
// to an invalid SpanContext are left out.
func WithLinks(links ...trace.Link) StartOption {
	return StartOption{what: optLinks, v: links}
}

// WithStartTime sets the span's start time (for work measured elsewhere; default now).
// End it with span.End(trace.WithTimestamp(end)).
func WithStartTime(t time.Time) StartOption {
	return StartOption{what: optStartTime, num: int64(unixNanos(t))}
}

// WithTypedAttributes sets initial attributes of any type under any key (see Attribute),
// in the call that starts the span.
func WithTypedAttributes(attrs ...Attribute) StartOption {
	return StartOption{what: optTypedAttributes, v: attrs}
}

// hhKind maps OpenTelemetry's span kinds (unspecified and unknown ones are internal, as
// trace.ValidateSpanKind makes them) to the library's.
func hhKind(k trace.SpanKind) uint32 {
	switch k {
	case trace.SpanKindServer:
		return kindServer
	case trace.SpanKindClient:
		return kindClient
	case trace.SpanKindProducer:
		return kindProducer
	case trace.SpanKindConsumer:
		return kindConsumer
	}
	return kindInternal
}

func toCLink(l trace.Link) cLink {
	return cLink{sc: l.SpanContext, attrs: appendOTel(nil, l.Attributes)}
}

// unixNanos is t as Unix-epoch nanoseconds; 0 (the library's "now") for the zero time, and
// 1 for times before 1970, which OTLP cannot carry.
func unixNanos(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	if n := t.UnixNano(); n > 0 {
		return uint64(n)
	}
	return 1
}

// report sends a refused span operation to logger (nil: slog.Default()). Operations on an
// ended span or a closed tracer are not reported: OpenTelemetry ignores them silently.
func report(logger *slog.Logger, err error) {
	if err == nil || errors.Is(err, ErrSpanEnded) || errors.Is(err, ErrTracerClosed) || errors.Is(err, ErrInvalidHandle) {
		return
	}
	if logger == nil {
		logger = slog.Default()
	}
	logger.Log(context.Background(), slog.LevelWarn, "honeyhive: span operation refused", "error", err.Error())
}
