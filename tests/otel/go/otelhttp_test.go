package otelgo_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

// One request through two services instrumented with the real otelhttp (handler and client
// transport) on the tracer's provider, behind honeyhive.Middleware: one trace, SERVER and
// CLIENT kinds, parent links, every span in the request's session, HoneyHive attributes on
// all, binding spans and otelhttp spans interleaved.
func TestOtelhttpTwoServicesOneTraceOneSession(t *testing.T) {
	rcv := startReceiver(t)
	tr, err := honeyhive.NewTracer(rcv.config())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(context.Background())
	tp := tr.TracerProvider()
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	otelOpts := []otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop)}

	// Service B: otelhttp outside (it continues the caller's traceparent and baggage), the
	// middleware inside, a binding span in the handler.
	muxB := http.NewServeMux()
	muxB.HandleFunc("GET /lookup/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, s := tr.Start(r.Context(), "db-query")
		s.End()
		_, _ = io.WriteString(w, "found")
	})
	svcB := httptest.NewServer(otelhttp.NewHandler(honeyhive.Middleware(tr)(muxB), "service-b", otelOpts...))
	defer svcB.Close()

	// Service A: the middleware outermost (one session per request), otelhttp inside, a
	// binding span calling B through the otelhttp transport.
	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, otelOpts...)}
	var sessionA string
	muxA := http.NewServeMux()
	muxA.HandleFunc("GET /chat", func(w http.ResponseWriter, r *http.Request) {
		sessionA = honeyhive.SessionIDFromContext(r.Context())
		ctx, s := tr.Start(r.Context(), "call-b")
		defer s.End()
		req, _ := http.NewRequestWithContext(ctx, "GET", svcB.URL+"/lookup/7", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		_, _ = w.Write(b)
	})
	muxA.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 503) })
	svcA := httptest.NewServer(honeyhive.Middleware(tr)(otelhttp.NewHandler(muxA, "service-a", otelOpts...)))
	defer svcA.Close()

	resp, err := http.Get(svcA.URL + "/chat")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "found" {
		t.Fatalf("answer %q", body)
	}
	resp, err = http.Get(svcA.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// chat: middleware A, otelhttp A, call-b, otelhttp client, otelhttp B, middleware B,
	// db-query; boom: middleware A, otelhttp A.
	spans := rcv.waitSpans(t, 9)
	byID := map[string]wireSpan{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	// Each span of the chat request, root first, by walking parents up from db-query.
	var db wireSpan
	for _, s := range spans {
		if s.Name == "db-query" {
			db = s
		}
	}
	var chain []wireSpan
	for s, ok := db, db.SpanID != ""; ok; s, ok = byID[s.parent()] {
		chain = append([]wireSpan{s}, chain...)
	}
	type want struct{ name, kind string }
	wants := []want{
		{"GET /chat", "SPAN_KIND_SERVER"},        // Middleware A, named after the route
		{"", "SPAN_KIND_SERVER"},                 // otelhttp handler A (names its span itself)
		{"call-b", "SPAN_KIND_INTERNAL"},         // binding span
		{"", "SPAN_KIND_CLIENT"},                 // otelhttp transport
		{"", "SPAN_KIND_SERVER"},                 // otelhttp handler B (remote parent)
		{"GET /lookup/{id}", "SPAN_KIND_SERVER"}, // Middleware B
		{"db-query", "SPAN_KIND_INTERNAL"},       // binding span
	}
	if len(chain) != len(wants) {
		for _, s := range spans {
			t.Logf("span %s %s %s <- %s", s.Name, s.Kind, s.SpanID, s.parent())
		}
		t.Fatalf("chain from db-query to the root has %d spans, want %d", len(chain), len(wants))
	}
	for i, w := range wants {
		s := chain[i]
		if s.Kind != w.kind || (w.name != "" && s.Name != w.name) {
			t.Errorf("span %d: %s %s, want %s %s", i, s.Name, s.Kind, w.name, w.kind)
		}
		if s.TraceID != chain[0].TraceID {
			t.Errorf("%s in trace %s, want %s", s.Name, s.TraceID, chain[0].TraceID)
		}
		if got := s.str("honeyhive.session_id"); got != sessionA || got == "" {
			t.Errorf("%s in session %q, want the request's %q", s.Name, got, sessionA)
		}
		if s.str("honeyhive_event_type") == "" || s.str("honeyhive.project") == "" && s.str("honeyhive_project") == "" {
			t.Logf("attributes of %s: %v", s.Name, s.Attributes)
			t.Errorf("%s lacks HoneyHive attributes", s.Name)
		}
	}
	if chain[0].parent() != "" {
		t.Errorf("root has parent %s", chain[0].parent())
	}
	if sessionA == tr.SessionID() {
		t.Errorf("the request ran in the default session, not its own")
	}
	if code := chain[0].Attributes["http.response.status_code"]; code == nil || code.(interface{ String() string }).String() != "200" {
		t.Errorf("status code attribute %v", code)
	}
	var boom *wireSpan
	for i, s := range spans {
		if s.Name == "GET /boom" {
			boom = &spans[i]
		}
	}
	if boom == nil || boom.StatusCode != "STATUS_CODE_ERROR" || boom.str("honeyhive.session_id") == sessionA {
		t.Errorf("5xx request span: %+v", boom)
	}
}
