package honeyhive_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

var w3c = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// OpenTelemetry's standard propagators and the binding's Inject/Extract read and write the
// same context, both ways, over any carrier.
func TestPropagationRoundTripWithOTelPropagators(t *testing.T) {
	rcv := startReceiver(t)
	caller := newTracer(t, rcv.config())
	callee := newTracer(t, rcv.config())

	ctx, sid, err := caller.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "rt"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := caller.Start(ctx, "caller")
	defer span.End()

	// Binding context -> OpenTelemetry propagators -> binding Extract.
	viaOTel := propagation.MapCarrier{}
	w3c.Inject(ctx, viaOTel)
	if viaOTel["traceparent"] != span.TraceParent() {
		t.Errorf("OTel Inject traceparent %q, want %q", viaOTel["traceparent"], span.TraceParent())
	}
	if !strings.Contains(viaOTel["baggage"], "session_id="+sid) {
		t.Errorf("OTel Inject baggage %q lacks session_id=%s", viaOTel["baggage"], sid)
	}
	rctx, err := callee.Extract(context.Background(), viaOTel)
	if err != nil {
		t.Fatal(err)
	}
	if got := trace.SpanContextFromContext(rctx); !got.Equal(span.SpanContext().WithRemote(true)) {
		t.Errorf("Extract: OTel sees %v, want %v", got, span.SpanContext())
	}
	_, a := callee.Start(rctx, "from-otel-carrier")
	a.End()

	// Binding Inject -> OpenTelemetry propagators -> the provider.
	viaBinding := propagation.MapCarrier{}
	if err := caller.Inject(ctx, viaBinding); err != nil {
		t.Fatal(err)
	}
	octx := w3c.Extract(context.Background(), viaBinding)
	if got := trace.SpanContextFromContext(octx); got.SpanID() != span.SpanContext().SpanID() || got.TraceID() != span.SpanContext().TraceID() {
		t.Errorf("OTel Extract of the binding's Inject: %v", got)
	}
	if got := baggage.FromContext(octx).Member("session_id").Value(); got != sid {
		t.Errorf("OTel baggage session_id %q, want %q", got, sid)
	}
	_, b := callee.TracerProvider().Tracer("").Start(octx, "from-binding-carrier")
	b.End()

	// A provider span's context injected by the binding (no span of Tracer.Start in ctx).
	pctx, p := callee.TracerProvider().Tracer("").Start(octx, "provider-parent")
	h := http.Header{}
	if err := callee.Inject(pctx, h); err != nil {
		t.Fatal(err)
	}
	p.End()
	if !strings.Contains(h.Get("traceparent"), p.SpanContext().SpanID().String()) {
		t.Errorf("Inject of a provider span: %v", h)
	}

	flush(t, callee)
	spans := rcv.waitSpans(t, 3)
	for _, name := range []string{"from-otel-carrier", "from-binding-carrier", "provider-parent"} {
		s := byName(t, spans, name)
		if s.TraceID != span.TraceID() || s.parent() != span.SpanID() {
			t.Errorf("%s: %s <- %s, want %s <- %s", name, s.TraceID, s.parent(), span.TraceID(), span.SpanID())
		}
		if got := s.str("honeyhive.session_id"); got != sid {
			t.Errorf("%s in session %q, want %q", name, got, sid)
		}
	}
}

// Middleware continues an incoming traceparent and baggage session, names the span after
// the route, records the status code, and starts a session per request without baggage.
func TestMiddlewareContinuesCaller(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	mux := http.NewServeMux()
	seen := map[string]string{}
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		seen[r.PathValue("id")] = honeyhive.SessionIDFromContext(r.Context())
		if !trace.SpanFromContext(r.Context()).IsRecording() {
			t.Errorf("no recording span in the handler's context")
		}
		if r.PathValue("id") == "3" {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	srv := httptest.NewServer(honeyhive.Middleware(tr)(mux))
	defer srv.Close()

	const sid = "0b5e9b2e-6a9f-4c59-9d7e-2f1f8d4c3b2a"
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("GET", srv.URL+"/items/1", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	req.Header.Set("baggage", "session_id="+sid)
	for _, r := range []*http.Request{req, mustGet(srv.URL + "/items/2"), mustGet(srv.URL + "/items/3")} {
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	flush(t, tr)
	spans := rcv.waitSpans(t, 3)
	var continued, fresh, failed *wireSpan
	for i := range spans {
		switch spans[i].str("url.path") {
		case "/items/1":
			continued = &spans[i]
		case "/items/2":
			fresh = &spans[i]
		case "/items/3":
			failed = &spans[i]
		}
	}
	if continued == nil || fresh == nil || failed == nil {
		t.Fatalf("spans: %+v", spans)
	}
	for _, s := range []*wireSpan{continued, fresh, failed} {
		if s.Name != "GET /items/{id}" || s.Kind != "SPAN_KIND_SERVER" || s.str("http.route") != "GET /items/{id}" {
			t.Errorf("span %s %s route %q", s.Name, s.Kind, s.str("http.route"))
		}
	}
	if continued.TraceID != traceID || continued.parent() != parentID || continued.str("honeyhive.session_id") != sid || seen["1"] != sid {
		t.Errorf("continued: %s <- %s in %q (handler saw %q)", continued.TraceID, continued.parent(), continued.str("honeyhive.session_id"), seen["1"])
	}
	if got := fresh.str("honeyhive.session_id"); got == "" || got == sid || got == tr.SessionID() || got == failed.str("honeyhive.session_id") || seen["2"] != got {
		t.Errorf("fresh request session %q (default %q, failed %q)", got, tr.SessionID(), failed.str("honeyhive.session_id"))
	}
	if !isInt(fresh.attr("http.response.status_code"), 200) || fresh.StatusCode == "STATUS_CODE_ERROR" {
		t.Errorf("200 request: code %v status %s", fresh.attr("http.response.status_code"), fresh.StatusCode)
	}
	if !isInt(failed.attr("http.response.status_code"), 502) || failed.StatusCode != "STATUS_CODE_ERROR" {
		t.Errorf("502 request: code %v status %s", failed.attr("http.response.status_code"), failed.StatusCode)
	}
}

func mustGet(url string) *http.Request {
	r, err := http.NewRequest("GET", url, nil)
	if err != nil {
		panic(err)
	}
	return r
}

// A streamed answer behind the middleware: a handler's flush reaches the server's writer (a
// wrapper that tests for http.Flusher, as otelhttp's does, must see one).
func TestMiddlewarePassesFlushesOn(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	h := honeyhive.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			t.Fatalf("the middleware's writer is not an http.Flusher")
		}
		_, _ = w.Write([]byte("data: token\n\n"))
		f.Flush()
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/stream", nil))
	if !rec.Flushed {
		t.Fatalf("the handler's flush did not reach the server's writer")
	}
}
