package honeyhive_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
	"go.opentelemetry.io/otel/trace"
)

// Sessions without spans, events by id, the resource and link_carrier, on the wire.

func TestInjectSessionWithoutSpan(t *testing.T) {
	rcv := startReceiver(t)
	cfg := rcv.config()
	cfg.Source = "staging"
	caller := newTracer(t, cfg)
	callee := newTracer(t, rcv.config())

	ctx, sid, err := caller.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "handoff"})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if err := caller.Inject(ctx, h); err != nil {
		t.Fatalf("Inject: %v", err)
	}
	bag := h.Get("baggage")
	if h.Get("traceparent") != "" {
		t.Errorf("traceparent %q without a span", h.Get("traceparent"))
	}
	for _, want := range []string{"session_id=" + sid, "project=p", "source=staging"} {
		if !strings.Contains(bag, want) {
			t.Errorf("baggage %q lacks %s", bag, want)
		}
	}
	// The other service continues the session.
	rctx, err := callee.Extract(context.Background(), h)
	if err != nil || honeyhive.SessionIDFromContext(rctx) != sid {
		t.Fatalf("Extract: %q %v", honeyhive.SessionIDFromContext(rctx), err)
	}
	_, s := callee.Start(rctx, "continued")
	s.End()

	// A ctx with no session carries the tracer's default session.
	d := http.Header{}
	if err := caller.Inject(context.Background(), d); err != nil {
		t.Fatalf("Inject(default): %v", err)
	}
	if !strings.Contains(d.Get("baggage"), "session_id="+caller.SessionID()) || d.Get("traceparent") != "" {
		t.Errorf("default session carrier: %v (default session %s)", d, caller.SessionID())
	}

	flush(t, callee)
	flush(t, caller)
	if got := byName(t, rcv.waitSpans(t, 1), "continued").str("honeyhive.session_id"); got != sid {
		t.Errorf("continued span in session %q, want %q", got, sid)
	}
	// Carrying the default session to another service uses it: it is started.
	var started bool
	for _, r := range requestsTo(rcv.requests(t), "POST", "/session/start") {
		started = started || sessionBody(r)["session_id"] == caller.SessionID()
	}
	if !started {
		t.Errorf("no POST /session/start for the injected default session %s", caller.SessionID())
	}
}

func TestEventsByID(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	ctx, sid, err := tr.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "with-events"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := tr.CreateEvent(ctx, honeyhive.Event{
		Name:      "rerank",
		EventType: honeyhive.EventTool,
		Inputs:    map[string]any{"query": "q"},
		Outputs:   map[string]any{"docs": []any{"d1", "d2"}},
		Metadata:  map[string]any{"k": "v"},
		Metrics:   map[string]any{"score": 0.5},
		Duration:  1500 * time.Millisecond,
	})
	if err != nil || len(id) != 36 {
		t.Fatalf("CreateEvent = %q, %v", id, err)
	}
	// Feedback arriving later, by id.
	if err := tr.EnrichEvent(id, honeyhive.Enrichment{Feedback: map[string]any{"rating": 5}, Metadata: map[string]any{"late": true}}); err != nil {
		t.Fatalf("EnrichEvent: %v", err)
	}
	// An event in the default session (no session in ctx), with its id chosen in advance.
	const chosen = "11111111-2222-4333-8444-555555555555"
	if got, err := tr.CreateEvent(context.Background(), honeyhive.Event{ID: chosen, Name: "standalone", EventType: honeyhive.EventModel}); err != nil || got != chosen {
		t.Fatalf("CreateEvent(chosen id) = %q, %v", got, err)
	}
	// A span whose event id is chosen, so it can be enriched by id later.
	const spanEvent = "22222222-3333-4444-8555-666666666666"
	_, s := tr.Start(ctx, "llm")
	if err := s.Enrich(honeyhive.Enrichment{UpdateEventID: spanEvent, Metadata: map[string]any{"m": 1}}); err != nil {
		t.Fatalf("Enrich(UpdateEventID): %v", err)
	}
	s.End()
	if err := tr.EnrichEvent(spanEvent, honeyhive.Enrichment{Feedback: map[string]any{"liked": true}}); err != nil {
		t.Fatalf("EnrichEvent(span): %v", err)
	}

	if _, err := tr.CreateEvent(ctx, honeyhive.Event{Name: "x", ID: "not-a-uuid"}); !errors.Is(err, honeyhive.ErrInvalidArgument) {
		t.Errorf("bad event id: %v", err)
	}
	if err := tr.EnrichEvent("not-a-uuid", honeyhive.Enrichment{Metadata: map[string]any{"a": 1}}); !errors.Is(err, honeyhive.ErrInvalidArgument) {
		t.Errorf("bad id to enrich: %v", err)
	}
	flush(t, tr)

	if got := byName(t, rcv.waitSpans(t, 1), "llm").str("honeyhive_event_id"); got != spanEvent {
		t.Errorf("honeyhive_event_id = %q, want %q", got, spanEvent)
	}
	reqs := rcv.requests(t)
	posts := map[string]map[string]any{}
	for _, r := range requestsTo(reqs, "POST", "/events") {
		ev, _ := r.BodyJSON["event"].(map[string]any)
		id, _ := ev["event_id"].(string)
		posts[id] = ev
		if r.Headers["hh-client-language"] != "go" {
			t.Errorf("POST /events hh-client-language %q", r.Headers["hh-client-language"])
		}
	}
	ev := posts[id]
	if ev == nil {
		t.Fatalf("no POST /events for %s (got %d)", id, len(posts))
	}
	if ev["event_name"] != "rerank" || ev["event_type"] != "tool" || ev["session_id"] != sid || ev["project"] != "p" ||
		!isNumber(ev["duration"], 1500) || jsonText(ev["inputs"]) != `{"query":"q"}` || jsonText(ev["outputs"]) != `{"docs":["d1","d2"]}` ||
		jsonText(ev["metadata"]) != `{"k":"v"}` || jsonText(ev["metrics"]) != `{"score":0.5}` {
		t.Errorf("POST /events body: %s", jsonText(ev))
	}
	if e := posts[chosen]; e == nil || e["event_type"] != "model" || e["session_id"] != tr.SessionID() {
		t.Errorf("event in the default session: %s (default %s)", jsonText(e), tr.SessionID())
	}
	puts := map[string]map[string]any{}
	for _, r := range requestsTo(reqs, "PUT", "/events") {
		id, _ := r.BodyJSON["event_id"].(string)
		puts[id] = r.BodyJSON
	}
	if p := puts[id]; jsonText(p["feedback"]) != `{"rating":5}` || jsonText(p["metadata"]) != `{"late":true}` {
		t.Errorf("PUT /events for the event: %s", jsonText(p))
	}
	if p := puts[spanEvent]; jsonText(p["feedback"]) != `{"liked":true}` {
		t.Errorf("PUT /events for the span's event: %s", jsonText(p))
	}
}

// isNumber reports whether v (decoded with UseNumber) is the number want.
func isNumber(v any, want float64) bool {
	n, ok := v.(interface{ Float64() (float64, error) })
	if !ok {
		return false
	}
	f, err := n.Float64()
	return err == nil && f == want
}

func TestResourceAttributes(t *testing.T) {
	rcv := startReceiver(t)
	cfg := rcv.config()
	cfg.ServiceName = "svc-go"
	cfg.ResourceAttributes = map[string]any{"deployment.environment": "test", "replica": 3, "process.runtime.version": "pinned"}
	tr := newTracer(t, cfg)
	plain := newTracer(t, rcv.config())
	_, s := tr.Start(context.Background(), "configured")
	s.End()
	_, s = plain.Start(context.Background(), "plain")
	s.End()
	flush(t, tr)
	flush(t, plain)
	spans := rcv.waitSpans(t, 2)
	c, p := byName(t, spans, "configured").Resource, byName(t, spans, "plain").Resource
	if c["service.name"] != "svc-go" || c["deployment.environment"] != "test" || !isInt(c["replica"], 3) ||
		c["process.runtime.name"] != "go" || c["process.runtime.version"] != "pinned" {
		t.Errorf("configured resource: %s", jsonText(c))
	}
	if p["process.runtime.name"] != "go" || p["process.runtime.version"] != runtime.Version() {
		t.Errorf("default resource: %s", jsonText(p))
	}
}

func TestLinkCarrier(t *testing.T) {
	rcv := startReceiver(t)
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
		session = "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"
	)
	in := http.Header{}
	in.Set("Traceparent", "00-"+traceID+"-"+spanID+"-01")
	in.Set("Baggage", "session_id="+session+",project=p")
	cfg := rcv.config()
	cfg.LinkCarrier = honeyhive.CarrierFromHeader(in)
	tr := newTracer(t, cfg)
	if tr.SessionID() != session {
		t.Errorf("SessionID() = %q, want the carrier's %q", tr.SessionID(), session)
	}
	ctx, root := tr.Start(context.Background(), "continued-root")
	_, child := tr.Start(ctx, "child")
	child.End()
	root.End()
	flush(t, tr)
	spans := rcv.waitSpans(t, 2)
	r, c := byName(t, spans, "continued-root"), byName(t, spans, "child")
	if r.TraceID != traceID || r.parent() != spanID || c.TraceID != traceID || c.parent() != r.SpanID {
		t.Errorf("root %s/%s child %s/%s", r.TraceID, r.parent(), c.TraceID, c.parent())
	}
	for _, s := range []wireSpan{r, c} {
		if s.str("honeyhive.session_id") != session {
			t.Errorf("%s: session %q", s.Name, s.str("honeyhive.session_id"))
		}
	}
}

func TestDefaultSessionIsNamedAfterTheBinary(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	_, s := tr.Start(context.Background(), "uses-the-default-session")
	s.End()
	flush(t, tr)
	rcv.waitSpans(t, 1)
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	starts := requestsTo(rcv.requests(t), "POST", "/session/start")
	if len(starts) != 1 || sessionBody(starts[0])["session_name"] != filepath.Base(exe) {
		t.Fatalf("session starts %d, name %v; want %q", len(starts), sessionBody(starts[0])["session_name"], filepath.Base(exe))
	}
}

// Without a session to belong to (no backend session creation, no session id) a span is not
// exported but counted; a SERVER root span gets a session of its own, which its children
// share.
func TestSpansWithoutSession(t *testing.T) {
	rcv := startReceiver(t)
	cfg := rcv.config()
	cfg.SkipBackendSessionCreation = true
	tr := newTracer(t, cfg)
	_, orphan := tr.Start(context.Background(), "orphan")
	orphan.End()
	ctx, srv := tr.Start(context.Background(), "request", honeyhive.WithSpanKind(trace.SpanKindServer))
	_, inner := tr.Start(ctx, "inner")
	inner.End()
	srv.End()
	flush(t, tr)
	spans := rcv.waitSpans(t, 2)
	r, i := byName(t, spans, "request"), byName(t, spans, "inner")
	if sid := r.str("honeyhive.session_id"); len(sid) != 36 || i.str("honeyhive.session_id") != sid {
		t.Errorf("server span session %q, child %q", sid, i.str("honeyhive.session_id"))
	}
	for _, s := range spans {
		if s.Name == "orphan" {
			t.Error("a span without a session was exported")
		}
	}
	st, err := tr.Stats()
	if err != nil || st.SpansNoSession != 1 || st.SpansStarted != 3 || st.SpansExported != 2 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
}
