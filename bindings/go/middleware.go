package honeyhive

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Option configures Middleware.
type Option func(*middlewareConfig)

type middlewareConfig struct {
	sessionName func(*http.Request) string
}

// WithSessionName names the session Middleware starts for a request (default: the span's
// name at the start, "<method> <path>").
func WithSessionName(name func(*http.Request) string) Option {
	return func(c *middlewareConfig) { c.sessionName = name }
}

// Middleware instruments an http.Handler: one HoneyHive session per request and a SERVER
// span around the handler, whose children (of this package or of OpenTelemetry
// instrumentation on Tracer.TracerProvider) join both.
//
//   - The request continues an incoming trace and session: traceparent and baggage
//     (session_id) of its headers, or the span and session already in its context (say
//     from an otelhttp handler around this one). Without an incoming session a new one is
//     created (CreateSession).
//   - The span is named after the route: the ServeMux pattern that matched (r.Pattern,
//     prefixed with the method when the pattern has none), else "<method> <path>". It
//     records http.request.method, url.path, http.route and http.response.status_code, and
//     has status ERROR for a 5xx answer or a panic (which goes on up the stack).
//   - The handler's r.Context() carries the span and the session.
//
// Put it outermost (around otelhttp.NewHandler) so every span of the request is in its
// session. Tracing failures never fail the request; they go to Config.Logger.
func Middleware(t *Tracer, opts ...Option) func(http.Handler) http.Handler {
	var cfg middlewareConfig
	for _, o := range opts {
		o(&cfg)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := t.requestContext(r, &cfg)
			name := r.Method + " " + r.URL.Path
			ctx, span := t.Start(ctx, name, WithSpanKind(trace.SpanKindServer), WithTypedAttributes(
				StringAttr(NSNone, "http.request.method", r.Method),
				StringAttr(NSNone, "url.path", r.URL.Path),
			))
			if span.Err() != nil {
				report(t.logger, span.Err())
			}
			rec := &statusRecorder{ResponseWriter: w}
			r2 := r.WithContext(ctx)
			defer func() {
				p := recover()
				if pattern := r2.Pattern; pattern != "" {
					if !strings.Contains(strings.Fields(pattern)[0], "/") {
						span.SetName(pattern) // "GET /items/{id}": the method is in it
					} else {
						span.SetName(r.Method + " " + pattern)
					}
					report(t.logger, span.SetAttributes(StringAttr(NSNone, "http.route", pattern)))
				}
				code := rec.code
				if p != nil {
					code = http.StatusInternalServerError
					report(t.logger, span.recordError(fmt.Errorf("panic: %v", p), nil, true))
				} else if code == 0 {
					code = http.StatusOK // the handler wrote nothing: net/http answers 200
				}
				report(t.logger, span.SetAttributes(IntAttr(NSNone, "http.response.status_code", int64(code))))
				if code >= 500 {
					report(t.logger, span.setStatus(codes.Error, http.StatusText(code)))
				}
				span.End()
				if p != nil {
					panic(p)
				}
			}()
			next.ServeHTTP(rec, r2)
		})
	}
}

// requestContext is r's context continuing the caller's trace and session, with a new
// session when the request brings none.
func (t *Tracer) requestContext(r *http.Request, cfg *middlewareConfig) context.Context {
	ctx := r.Context()
	if !trace.SpanContextFromContext(ctx).IsValid() && SessionIDFromContext(ctx) == "" {
		c, err := t.Extract(ctx, r.Header)
		if err != nil {
			report(t.logger, err) // a malformed traceparent: a new trace
		} else {
			ctx = c
		}
	}
	// A session the caller sent (baggage) or one in ctx other than the tracer's default
	// (the default is what spans get without one) is continued; else the request gets its own.
	if sid := SessionIDFromContext(ctx); sid != "" &&
		(sid != t.SessionID() || baggageValue(carrierBaggage(r.Header), sessionBaggageKeys...) != "") {
		return ctx
	}
	name := r.Method + " " + r.URL.Path
	if cfg.sessionName != nil {
		name = cfg.sessionName(r)
	}
	c, _, err := t.CreateSession(ctx, SessionOptions{Name: name})
	if err != nil {
		report(t.logger, err)
		return ctx
	}
	return c
}

// statusRecorder remembers the status code of the answer.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush passes a flush on (streamed answers: server-sent events, LLM tokens). Wrappers such as
// otelhttp's test for http.Flusher directly, so Unwrap alone would make their flushes no-ops.
func (s *statusRecorder) Flush() {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, Hijack, ...).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
