package honeyhive

import (
	"context"
	"net/http"
	"runtime"
	"strings"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
)

// Carrier is what Inject writes to and Extract reads from: an http.Header, or any
// propagation.TextMapCarrier (it has these two methods and Keys).
type Carrier interface {
	Get(key string) string
	Set(key, value string)
}

var _ Carrier = http.Header(nil)
var _ Carrier = propagation.TextMapCarrier(nil)

func isNilCarrier(h Carrier) bool {
	if h == nil {
		return true
	}
	switch c := h.(type) {
	case http.Header:
		return c == nil
	case propagation.MapCarrier:
		return c == nil
	case propagation.HeaderCarrier:
		return c == nil
	}
	return false
}

// carrierBaggage is the carrier's baggage, all header lines of it for an http.Header.
func carrierBaggage(h Carrier) string {
	switch c := h.(type) {
	case http.Header:
		return strings.Join(c.Values("baggage"), ",")
	case propagation.HeaderCarrier:
		return strings.Join(http.Header(c).Values("baggage"), ",")
	}
	return h.Get("baggage")
}

// otelExtract puts the remote SpanContext of tp and the members of bag into ctx as
// OpenTelemetry's TraceContext and Baggage propagators do (invalid input is left out).
func otelExtract(ctx context.Context, tp, bag string) context.Context {
	m := propagation.MapCarrier{}
	if tp != "" {
		m["traceparent"] = tp
	}
	if bag != "" {
		m["baggage"] = bag
	}
	if len(m) == 0 {
		return ctx
	}
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}).Extract(ctx, m)
}

// withSessionBaggage adds the session (session_id, and the tracer's project and source) to
// the OpenTelemetry baggage of ctx, so OpenTelemetry's Baggage propagator carries it.
func (t *Tracer) withSessionBaggage(ctx context.Context, sessionID string) context.Context {
	s, err := cSessionInject(t.handle, sessionID)
	runtime.KeepAlive(t)
	if err != nil || s == "" {
		s = "session_id=" + sessionID
	}
	add, err := baggage.Parse(s)
	if err != nil {
		return ctx
	}
	b := baggage.FromContext(ctx)
	for _, m := range add.Members() {
		if nb, err := b.SetMember(m); err == nil {
			b = nb
		}
	}
	return baggage.ContextWithBaggage(ctx, b)
}
