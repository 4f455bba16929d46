package honeyhive_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

func newTracer(t *testing.T, cfg honeyhive.Config) *honeyhive.Tracer {
	t.Helper()
	tr, err := honeyhive.NewTracer(cfg)
	if err != nil {
		t.Fatalf("NewTracer: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close(context.Background()) })
	return tr
}

func flush(t *testing.T, tr *honeyhive.Tracer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestNestedSpansEnrichmentAndErrors(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	ctx := context.Background()

	ctx, parent := tr.Start(ctx, "agent-run", honeyhive.WithEventType(honeyhive.EventChain))
	if err := parent.Err(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	cctx, child := tr.Start(ctx, "generate", honeyhive.WithEventType(honeyhive.EventModel),
		honeyhive.WithAttributes(map[string]any{"custom.attr": "x"}))
	err := child.Enrich(honeyhive.Enrichment{
		Inputs:   map[string]any{"prompt": "hi"},
		Outputs:  map[string]any{"text": "hello"},
		Metadata: map[string]any{"a": map[string]any{"b": 1}},
		Metrics:  map[string]any{"latency": 1.5},
		Config:   map[string]any{"model": "gpt-x"},
	})
	if err != nil {
		t.Fatalf("Enrich: %v", err)
	}
	for _, e := range []error{
		child.SetString(honeyhive.NSMetadata, "s", "v"),
		child.SetInt(honeyhive.NSMetrics, "tokens", 42),
		child.SetFloat(honeyhive.NSMetrics, "cost", 0.25),
		child.SetBool(honeyhive.NSFeedback, "ok", true),
	} {
		if e != nil {
			t.Fatalf("setter: %v", e)
		}
	}
	if honeyhive.SpanFromContext(cctx) != child {
		t.Fatal("SpanFromContext does not return the child")
	}
	child.End()
	child.End() // idempotent

	_, tool := tr.Start(ctx, "search-tool", honeyhive.WithEventType(honeyhive.EventTool))
	_, statErr := os.Stat("/definitely/not/here")
	if err := tool.RecordError(statErr); err != nil {
		t.Fatalf("RecordError: %v", err)
	}
	tool.End()
	if err := tool.Enrich(honeyhive.Enrichment{Metadata: map[string]any{"late": 1}}); !errors.Is(err, honeyhive.ErrSpanEnded) {
		t.Fatalf("Enrich after End = %v, want ErrSpanEnded", err)
	}
	parent.End()
	flush(t, tr)

	spans := rcv.waitSpans(t, 3)
	p, c, tl := byName(t, spans, "agent-run"), byName(t, spans, "generate"), byName(t, spans, "search-tool")
	sid := tr.SessionID()
	if len(sid) != 36 {
		t.Fatalf("SessionID() = %q", sid)
	}
	if p.parent() != "" {
		t.Errorf("root has parent %q", p.parent())
	}
	for _, s := range []wireSpan{c, tl} {
		if s.parent() != p.SpanID || s.TraceID != p.TraceID {
			t.Errorf("%s: parent %s trace %s, want parent %s trace %s", s.Name, s.parent(), s.TraceID, p.SpanID, p.TraceID)
		}
	}
	for _, s := range []wireSpan{p, c, tl} {
		if got := s.str("honeyhive.session_id"); got != sid {
			t.Errorf("%s: honeyhive.session_id = %q, want %q", s.Name, got, sid)
		}
	}
	for s, want := range map[*wireSpan]string{&p: "chain", &c: "model", &tl: "tool"} {
		if got := s.str("honeyhive_event_type"); got != want {
			t.Errorf("%s: honeyhive_event_type = %q, want %q", s.Name, got, want)
		}
	}
	if v := c.attr("honeyhive_metadata.a.b"); !isInt(v, 1) {
		t.Errorf("honeyhive_metadata.a.b = %#v, want int 1", v)
	}
	if v := c.attr("honeyhive_metrics.tokens"); !isInt(v, 42) {
		t.Errorf("honeyhive_metrics.tokens = %#v, want int 42", v)
	}
	if v := fmt.Sprint(c.attr("honeyhive_metrics.cost")); v != "0.25" {
		t.Errorf("honeyhive_metrics.cost = %v", v)
	}
	if v := c.attr("honeyhive_feedback.ok"); v != true {
		t.Errorf("honeyhive_feedback.ok = %#v", v)
	}
	for k, want := range map[string]string{
		"honeyhive_inputs.prompt": "hi",
		"honeyhive_outputs.text":  "hello",
		"honeyhive_config.model":  "gpt-x",
		"honeyhive_metadata.s":    "v",
		"custom.attr":             "x",
	} {
		if got := c.str(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if c.StatusCode == "STATUS_CODE_ERROR" {
		t.Error("child has error status")
	}

	if tl.StatusCode != "STATUS_CODE_ERROR" {
		t.Errorf("tool status = %s, want STATUS_CODE_ERROR", tl.StatusCode)
	}
	if got := tl.str("honeyhive_error"); got != statErr.Error() {
		t.Errorf("honeyhive_error = %q, want %q", got, statErr.Error())
	}
	if got := tl.str("honeyhive_error_type"); got != "*fs.PathError" {
		t.Errorf("honeyhive_error_type = %q, want *fs.PathError", got)
	}
	if !strings.HasPrefix(tl.StatusMessage, "*fs.PathError: ") {
		t.Errorf("status message = %q", tl.StatusMessage)
	}
	var exc int
	for _, e := range tl.Events {
		if e.Name == "exception" {
			exc++
		}
	}
	if exc == 0 {
		t.Errorf("no exception event on the tool span: %+v", tl.Events)
	}
	var pe *fs.PathError
	if !errors.As(statErr, &pe) {
		t.Fatal("test setup: not a PathError")
	}
}

func TestClientLanguageHeaderAndDefaultSession(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	_, s := tr.Start(context.Background(), "one")
	s.End()
	flush(t, tr)
	rcv.waitSpans(t, 1)

	reqs := rcv.requests(t)
	starts := requestsTo(reqs, "POST", "/session/start")
	if len(starts) != 1 {
		t.Fatalf("want 1 POST /session/start, got %d", len(starts))
	}
	if got := starts[0].Headers["hh-client-language"]; got != "go" {
		t.Errorf("session start hh-client-language = %q, want go", got)
	}
	if got := sessionBody(starts[0])["session_id"]; got != tr.SessionID() {
		t.Errorf("session start body session_id = %v, want %s", got, tr.SessionID())
	}
	otlp := requestsTo(reqs, "POST", "/opentelemetry/v1/traces")
	if len(otlp) == 0 {
		t.Fatal("no OTLP request")
	}
	for _, r := range otlp {
		if got := r.Headers["hh-client-language"]; got != "go" {
			t.Errorf("OTLP hh-client-language = %q, want go", got)
		}
		if r.OTLPFormat == nil || *r.OTLPFormat != "json" {
			t.Errorf("otlp_format = %v, want json", r.OTLPFormat)
		}
		if got := r.Headers["authorization"]; got != "Bearer test-key" {
			t.Errorf("authorization = %q", got)
		}
	}
}

func TestCreateSessionAndEnrichSession(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())

	ctx, sid, err := tr.CreateSession(context.Background(), honeyhive.SessionOptions{
		Name:           "chat-42",
		Inputs:         map[string]any{"question": "why?"},
		Metadata:       map[string]any{"tenant": "acme"},
		UserProperties: map[string]any{"user": "u1"},
	})
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if sid == tr.SessionID() || len(sid) != 36 {
		t.Fatalf("session id %q (default %q)", sid, tr.SessionID())
	}
	if got := honeyhive.SessionIDFromContext(ctx); got != sid {
		t.Fatalf("SessionIDFromContext = %q, want %q", got, sid)
	}
	rctx, root := tr.Start(ctx, "handle")
	_, child := tr.Start(rctx, "step")
	if got := child.SessionID(); got != sid {
		t.Errorf("child.SessionID() = %q, want %q", got, sid)
	}
	child.End()
	root.End()
	// A second root span from the same session ctx joins it too.
	_, root2 := tr.Start(ctx, "handle-2")
	root2.End()
	// A span outside the session ctx stays in the default session.
	_, other := tr.Start(context.Background(), "outside")
	other.End()

	if err := tr.EnrichSession(rctx, "", honeyhive.Enrichment{
		Metadata: map[string]any{"k": "v"},
		Outputs:  map[string]any{"answer": "because"},
		Feedback: map[string]any{"rating": 5},
	}); err != nil {
		t.Fatalf("EnrichSession from ctx: %v", err)
	}
	if err := tr.EnrichSession(context.Background(), "", honeyhive.Enrichment{Metrics: map[string]any{"m": 1}}); err != nil {
		t.Fatalf("EnrichSession default: %v", err)
	}
	flush(t, tr)
	spans := rcv.waitSpans(t, 4)

	for _, name := range []string{"handle", "step", "handle-2"} {
		if got := byName(t, spans, name).str("honeyhive.session_id"); got != sid {
			t.Errorf("%s: session %q, want %q", name, got, sid)
		}
	}
	if got := byName(t, spans, "outside").str("honeyhive.session_id"); got != tr.SessionID() {
		t.Errorf("outside: session %q, want default %q", got, tr.SessionID())
	}
	if h, s := byName(t, spans, "handle"), byName(t, spans, "step"); s.parent() != h.SpanID {
		t.Errorf("step parent %s, want %s", s.parent(), h.SpanID)
	}

	reqs := rcv.requests(t)
	var found bool
	for _, r := range requestsTo(reqs, "POST", "/session/start") {
		b := sessionBody(r)
		if b["session_id"] != sid {
			continue
		}
		found = true
		if b["session_name"] != "chat-42" {
			t.Errorf("session_name = %v", b["session_name"])
		}
		if in, _ := b["inputs"].(map[string]any); in["question"] != "why?" {
			t.Errorf("inputs = %v", b["inputs"])
		}
		if md, _ := b["metadata"].(map[string]any); md["tenant"] != "acme" {
			t.Errorf("metadata = %v", b["metadata"])
		}
		if r.Headers["hh-client-language"] != "go" {
			t.Errorf("hh-client-language = %q", r.Headers["hh-client-language"])
		}
	}
	if !found {
		t.Fatalf("no POST /session/start for %s", sid)
	}
	puts := requestsTo(reqs, "PUT", "/events")
	var sawSession, sawDefault bool
	for _, r := range puts {
		switch r.BodyJSON["event_id"] {
		case sid:
			sawSession = true
			if md, _ := r.BodyJSON["metadata"].(map[string]any); md["k"] != "v" {
				t.Errorf("PUT /events metadata = %v", r.BodyJSON["metadata"])
			}
			if out, _ := r.BodyJSON["outputs"].(map[string]any); out["answer"] != "because" {
				t.Errorf("PUT /events outputs = %v", r.BodyJSON["outputs"])
			}
		case tr.SessionID():
			sawDefault = true
		}
	}
	if !sawSession || !sawDefault {
		t.Errorf("PUT /events for session %v, default %v (requests: %d)", sawSession, sawDefault, len(puts))
	}
}

func TestManyGoroutinesEachWithItsOwnSession(t *testing.T) {
	const goroutines, perG = 16, 50
	rcv := startReceiver(t)
	cfg := rcv.config()
	cfg.MaxQueueSize = 4096
	tr := newTracer(t, cfg)

	sessions := make([]string, goroutines)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ctx, sid, err := tr.CreateSession(context.Background(), honeyhive.SessionOptions{Name: fmt.Sprintf("g%d", g)})
			if err != nil {
				errs <- err
				return
			}
			sessions[g] = sid
			ctx, root := tr.Start(ctx, fmt.Sprintf("g%d-root", g), honeyhive.WithEventType(honeyhive.EventChain))
			for i := 1; i < perG; i++ {
				_, c := tr.Start(ctx, fmt.Sprintf("g%d-child", g), honeyhive.WithEventType(honeyhive.EventTool))
				if err := c.SetInt(honeyhive.NSMetadata, "i", int64(i)); err != nil {
					errs <- err
				}
				c.End()
			}
			root.End()
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	flush(t, tr)
	spans := rcv.waitSpans(t, goroutines*perG)
	if len(spans) != goroutines*perG {
		t.Fatalf("got %d spans, want %d", len(spans), goroutines*perG)
	}

	roots := map[int]wireSpan{}
	for g := 0; g < goroutines; g++ {
		roots[g] = byName(t, spans, fmt.Sprintf("g%d-root", g))
	}
	children := make([]int, goroutines)
	for _, s := range spans {
		var g int
		var kind string
		if _, err := fmt.Sscanf(strings.Replace(s.Name, "-", " ", 1), "g%d %s", &g, &kind); err != nil {
			t.Fatalf("unexpected span %q", s.Name)
		}
		if got := s.str("honeyhive.session_id"); got != sessions[g] {
			t.Errorf("%s: session %s, want %s", s.Name, got, sessions[g])
		}
		if kind == "child" {
			children[g]++
			if s.parent() != roots[g].SpanID || s.TraceID != roots[g].TraceID {
				t.Errorf("%s: wrong parent/trace", s.Name)
			}
		}
	}
	for g, n := range children {
		if n != perG-1 {
			t.Errorf("goroutine %d: %d children arrived, want %d", g, n, perG-1)
		}
	}
	st, err := tr.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.SpansStarted != goroutines*perG || st.SpansExported != goroutines*perG || st.SpansDropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestInjectExtractRoundTrip(t *testing.T) {
	rcv := startReceiver(t)
	// Two tracers: the caller and "another service" with its own default session.
	caller := newTracer(t, rcv.config())
	callee := newTracer(t, rcv.config())

	ctx, sid, err := caller.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "distributed"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, out := caller.Start(ctx, "call-downstream")
	h := http.Header{}
	if err := caller.Inject(ctx, h); err != nil {
		t.Fatalf("Inject: %v", err)
	}
	tp := h.Get("traceparent")
	if len(tp) != 55 || !strings.HasPrefix(tp, "00-"+out.TraceID()+"-"+out.SpanID()) {
		t.Fatalf("traceparent %q, span %s/%s", tp, out.TraceID(), out.SpanID())
	}
	if !strings.Contains(h.Get("baggage"), "session_id="+sid) {
		t.Fatalf("baggage %q lacks session_id=%s", h.Get("baggage"), sid)
	}

	// The callee side, as an HTTP handler would do it.
	in := http.Header{}
	for k, v := range h {
		in[k] = v
	}
	rctx, err := callee.Extract(context.Background(), in)
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if got := honeyhive.SessionIDFromContext(rctx); got != sid {
		t.Errorf("SessionIDFromContext(extracted) = %q, want %q", got, sid)
	}
	sctx, srv := callee.Start(rctx, "serve")
	_, inner := callee.Start(sctx, "serve-inner")
	inner.End()
	srv.End()
	// A second child of the same remote parent.
	_, again := callee.Start(rctx, "serve-again")
	again.End()
	out.End()
	flush(t, caller)
	flush(t, callee)

	spans := rcv.waitSpans(t, 4)
	o, s, i, a := byName(t, spans, "call-downstream"), byName(t, spans, "serve"), byName(t, spans, "serve-inner"), byName(t, spans, "serve-again")
	for _, x := range []wireSpan{s, a} {
		if x.TraceID != o.TraceID || x.parent() != o.SpanID {
			t.Errorf("%s: trace %s parent %s, want trace %s parent %s", x.Name, x.TraceID, x.parent(), o.TraceID, o.SpanID)
		}
	}
	if i.parent() != s.SpanID || i.TraceID != o.TraceID {
		t.Errorf("serve-inner: parent %s", i.parent())
	}
	for _, x := range []wireSpan{o, s, i, a} {
		if got := x.str("honeyhive.session_id"); got != sid {
			t.Errorf("%s: session %q, want %q", x.Name, got, sid)
		}
	}

	// No traceparent: ctx unchanged. Malformed: an error, not a panic.
	if c, err := callee.Extract(context.Background(), http.Header{}); err != nil || honeyhive.SpanFromContext(c) != nil {
		t.Errorf("Extract(empty) = %v, %v", c, err)
	}
	bad := http.Header{}
	bad.Set("traceparent", "00-zz-bad")
	if _, err := callee.Extract(context.Background(), bad); !errors.Is(err, honeyhive.ErrInvalidArgument) {
		t.Errorf("Extract(bad) = %v, want ErrInvalidArgument", err)
	}
	// Baggage only: the session continues without a remote parent.
	bonly := http.Header{}
	bonly.Set("baggage", "session_id="+sid)
	c, err := callee.Extract(context.Background(), bonly)
	if err != nil || honeyhive.SessionIDFromContext(c) != sid {
		t.Errorf("Extract(baggage only) = %q, %v", honeyhive.SessionIDFromContext(c), err)
	}
}

func TestInjectCarriesCreatedSession(t *testing.T) {
	tr := newTracer(t, honeyhive.Config{TestMode: true})
	// Extract a remote parent without a session, then create one: Inject must send the new one.
	in := http.Header{}
	in.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	ctx, err := tr.Extract(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got := honeyhive.SessionIDFromContext(ctx); got != "" {
		t.Fatalf("session from baggage-less extract = %q, want \"\"", got)
	}
	ctx, sid, err := tr.CreateSession(ctx, honeyhive.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := http.Header{}
	if err := tr.Inject(ctx, out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.Get("traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-") {
		t.Errorf("traceparent = %q", out.Get("traceparent"))
	}
	if !strings.Contains(out.Get("baggage"), "session_id="+sid) {
		t.Errorf("baggage = %q, want session_id=%s", out.Get("baggage"), sid)
	}
	_, span := tr.Start(ctx, "x")
	defer span.End()
	if span.TraceID() != "0af7651916cd43dd8448eb211c80319c" || span.SessionID() != sid {
		t.Errorf("span trace %s session %s", span.TraceID(), span.SessionID())
	}
}

func TestFlushCloseAndErrors(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())

	_, s := tr.Start(context.Background(), "delivered")
	s.End()
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatalf("Flush after delivery: %v", err)
	}
	rcv.waitSpans(t, 1)

	rcv.fault(t, `{"mode":"status","status":400,"path_prefix":"/opentelemetry"}`)
	_, s = tr.Start(context.Background(), "rejected")
	s.End()
	err := tr.Flush(context.Background())
	if !errors.Is(err, honeyhive.ErrExportFailed) {
		t.Fatalf("Flush with 400 = %v, want ErrExportFailed", err)
	}
	var hhErr *honeyhive.Error
	if !errors.As(err, &hhErr) || hhErr.Status != honeyhive.StatusExportFailed {
		t.Fatalf("errors.As: %#v", err)
	}
	st, err := tr.Stats()
	if err != nil || st.ExportFailures == 0 || st.SpansDropped == 0 {
		t.Errorf("Stats after failure = %+v, %v", st, err)
	}
	rcv.post(t, "/__hh/clear_fault", "")

	// A done ctx is reported as such, without calling the library.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.Flush(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush(canceled) = %v", err)
	}

	if err := tr.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := tr.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// Everything after Close returns an error (ErrTracerClosed), nothing panics.
	ctx, span := tr.Start(context.Background(), "after-close")
	if !errors.Is(span.Err(), honeyhive.ErrTracerClosed) || span.IsRecording() {
		t.Errorf("Start after Close: %v", span.Err())
	}
	if honeyhive.SpanFromContext(ctx) != nil {
		t.Error("failed Start put a span into ctx")
	}
	span.End()
	if err := span.Enrich(honeyhive.Enrichment{Metadata: map[string]any{"a": 1}}); !errors.Is(err, honeyhive.ErrTracerClosed) {
		t.Errorf("Enrich on no-op span = %v", err)
	}
	if err := span.SetString(honeyhive.NSMetadata, "a", "b"); err == nil {
		t.Error("SetString on no-op span: nil error")
	}
	if _, _, err := tr.CreateSession(context.Background(), honeyhive.SessionOptions{}); !errors.Is(err, honeyhive.ErrTracerClosed) {
		t.Errorf("CreateSession after Close = %v", err)
	}
	if err := tr.EnrichSession(context.Background(), "", honeyhive.Enrichment{Metadata: map[string]any{"a": 1}}); !errors.Is(err, honeyhive.ErrTracerClosed) {
		t.Errorf("EnrichSession after Close = %v", err)
	}
	if err := tr.Flush(context.Background()); !errors.Is(err, honeyhive.ErrTracerClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
	if _, err := tr.Stats(); err != nil {
		t.Errorf("Stats after Close = %v", err)
	}
	_ = tr.Inject(ctx, http.Header{})
	_, _ = tr.Extract(ctx, http.Header{"Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}})
}

func TestSpanEndedAfterCloseIsDropped(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	_, s := tr.Start(context.Background(), "late")
	if err := tr.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.End() // must not panic
	st, err := tr.Stats()
	if err != nil || st.SpansDropped != 1 {
		t.Errorf("stats %+v %v", st, err)
	}
}

func TestFlushTimeoutFromContextDeadline(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	rcv.fault(t, `{"mode":"hang","path_prefix":"/opentelemetry"}`)
	_, s := tr.Start(context.Background(), "stuck")
	s.End()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := tr.Flush(ctx); !errors.Is(err, honeyhive.ErrTimeout) {
		t.Fatalf("Flush against a hanging server = %v, want ErrTimeout", err)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer ccancel()
	if err := tr.Close(cctx); err == nil {
		t.Fatalf("Close against a hanging server = nil, want an error")
	}
}

func TestProtobufDelivery(t *testing.T) {
	rcv := startReceiver(t)
	cfg := rcv.config()
	cfg.OTLPProtocol = "http/protobuf"
	tr := newTracer(t, cfg)
	ctx, p := tr.Start(context.Background(), "pb-parent")
	_, c := tr.Start(ctx, "pb-child")
	_ = c.Enrich(honeyhive.Enrichment{Metadata: map[string]any{"n": 7}})
	c.End()
	p.End()
	flush(t, tr)
	spans := rcv.waitSpans(t, 2)
	if byName(t, spans, "pb-child").parent() != byName(t, spans, "pb-parent").SpanID {
		t.Error("protobuf: wrong parent")
	}
	if v := byName(t, spans, "pb-child").attr("honeyhive_metadata.n"); !isInt(v, 7) {
		t.Errorf("honeyhive_metadata.n = %#v", v)
	}
	otlp := requestsTo(rcv.requests(t), "POST", "/opentelemetry/v1/traces")
	if len(otlp) == 0 {
		t.Fatal("no OTLP request")
	}
	for _, r := range otlp {
		if r.OTLPFormat == nil || *r.OTLPFormat != "protobuf" {
			t.Errorf("otlp_format = %v, want protobuf", r.OTLPFormat)
		}
		if r.Headers["hh-client-language"] != "go" {
			t.Errorf("hh-client-language = %q", r.Headers["hh-client-language"])
		}
	}
}

type answer struct {
	Text   string `json:"text"`
	Tokens int    `json:"tokens"`
}

var errRefused = errors.New("model refused")

func TestTraceHelper(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	ctx := context.Background()

	got, err := honeyhive.Trace(ctx, tr, "pipeline", func(ctx context.Context) (string, error) {
		a, err := honeyhive.Trace(ctx, tr, "llm", func(ctx context.Context) (answer, error) {
			return answer{Text: "hi", Tokens: 3}, nil
		}, honeyhive.WithEventType(honeyhive.EventModel), honeyhive.WithInputs(map[string]any{"prompt": "say hi"}))
		return a.Text + "!", err
	}, honeyhive.WithEventType(honeyhive.EventChain))
	if err != nil || got != "hi!" {
		t.Fatalf("Trace = %q, %v", got, err)
	}
	_, err = honeyhive.Trace(ctx, tr, "failing", func(ctx context.Context) (int, error) {
		return 0, fmt.Errorf("wrapped: %w", errRefused)
	})
	if !errors.Is(err, errRefused) {
		t.Fatalf("Trace error = %v", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Errorf("recovered %v, want kaboom", r)
			}
		}()
		_, _ = honeyhive.Trace(ctx, tr, "panicking", func(ctx context.Context) (int, error) { panic("kaboom") })
	}()
	flush(t, tr)
	spans := rcv.waitSpans(t, 4)

	p, l, f, pn := byName(t, spans, "pipeline"), byName(t, spans, "llm"), byName(t, spans, "failing"), byName(t, spans, "panicking")
	if p.str("honeyhive_outputs.result") != "hi!" {
		t.Errorf("pipeline outputs.result = %v", p.attr("honeyhive_outputs.result"))
	}
	if l.parent() != p.SpanID {
		t.Errorf("llm parent = %s, want %s", l.parent(), p.SpanID)
	}
	if l.str("honeyhive_outputs.result.text") != "hi" || !isInt(l.attr("honeyhive_outputs.result.tokens"), 3) {
		t.Errorf("llm outputs = %v / %v", l.attr("honeyhive_outputs.result.text"), l.attr("honeyhive_outputs.result.tokens"))
	}
	if l.str("honeyhive_inputs.prompt") != "say hi" || l.str("honeyhive_event_type") != "model" {
		t.Errorf("llm inputs/type: %v", l.Attributes)
	}
	if f.StatusCode != "STATUS_CODE_ERROR" || f.str("honeyhive_error") != "wrapped: model refused" || f.str("honeyhive_error_type") != "*fmt.wrapError" {
		t.Errorf("failing: status %s error %q type %q", f.StatusCode, f.str("honeyhive_error"), f.str("honeyhive_error_type"))
	}
	if _, ok := f.Attributes["honeyhive_outputs.result"]; ok {
		t.Error("failing span recorded an output")
	}
	if pn.StatusCode != "STATUS_CODE_ERROR" || pn.str("honeyhive_error") != "panic: kaboom" {
		t.Errorf("panicking: status %s error %q", pn.StatusCode, pn.str("honeyhive_error"))
	}
}

// A child started long after its parent ended, once the parent's handle slot has been
// reused, still gets the right parent (from the context the parent saved at End).
func TestChildOfLongEndedParent(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	churn := newTracer(t, honeyhive.Config{TestMode: true})

	ctx, sid, err := tr.CreateSession(context.Background(), honeyhive.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pctx, parent := tr.Start(ctx, "short-lived-parent")
	parent.End()
	// Enough ended spans (in a tracer that exports nothing) for every handle slot to be reused.
	for i := 0; i < 20000; i++ {
		_, s := churn.Start(context.Background(), "churn")
		s.End()
	}
	_, late := tr.Start(pctx, "late-child")
	if err := late.Err(); err != nil {
		t.Fatalf("late child: %v", err)
	}
	late.End()
	h := http.Header{}
	if err := tr.Inject(pctx, h); err != nil || h.Get("traceparent") == "" {
		t.Errorf("Inject of long-ended span: %v %v", h, err)
	}
	if parent.SessionID() != sid {
		t.Errorf("parent.SessionID() = %q, want %q", parent.SessionID(), sid)
	}
	flush(t, tr)
	spans := rcv.waitSpans(t, 2)
	p, c := byName(t, spans, "short-lived-parent"), byName(t, spans, "late-child")
	if c.parent() != p.SpanID || c.TraceID != p.TraceID || c.str("honeyhive.session_id") != sid {
		t.Errorf("late child: parent %s trace %s session %s; want %s %s %s", c.parent(), c.TraceID, c.str("honeyhive.session_id"), p.SpanID, p.TraceID, sid)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := honeyhive.NewTracer(honeyhive.Config{APIKey: "k", OTLPProtocol: "carrier-pigeon"})
	var e *honeyhive.Error
	if !errors.Is(err, honeyhive.ErrInvalidConfig) || !errors.As(err, &e) || !strings.Contains(e.Message, "otlp_protocol") {
		t.Fatalf("bad protocol: %v", err)
	}
	_, err = honeyhive.NewTracer(honeyhive.Config{TestMode: true, SessionID: "not-a-uuid"})
	if !errors.Is(err, honeyhive.ErrInvalidConfig) {
		t.Fatalf("bad session id: %v", err)
	}
	_, err = honeyhive.NewTracer(honeyhive.Config{TestMode: true, Extra: map[string]any{"no_such_key": 1}})
	if !errors.Is(err, honeyhive.ErrInvalidConfig) {
		t.Fatalf("unknown key: %v", err)
	}
	if !strings.Contains(err.Error(), "no_such_key") {
		t.Errorf("message %q does not name the key", err)
	}
	tr, err := honeyhive.NewTracer(honeyhive.Config{
		TestMode:        true,
		SessionID:       "6F1C2D3E-4A5B-4C6D-8E7F-0123456789AB",
		SpanNameFilters: &honeyhive.SpanNameFilters{Exclude: []string{"internal."}},
		Headers:         map[string]string{"x-team": "ml"},
		Inputs:          map[string]any{"big": int64(1) << 60},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(context.Background())
	if got := tr.SessionID(); got != "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab" {
		t.Errorf("SessionID = %q", got)
	}
}

func TestMisuseNeverPanics(t *testing.T) {
	var nilTracer *honeyhive.Tracer
	ctx, s := nilTracer.Start(context.Background(), "x")
	if !errors.Is(s.Err(), honeyhive.ErrInvalidHandle) || ctx == nil {
		t.Errorf("nil tracer Start: %v", s.Err())
	}
	if err := nilTracer.Flush(context.Background()); err == nil {
		t.Error("nil tracer Flush: nil")
	}
	if err := nilTracer.Close(context.Background()); err == nil {
		t.Error("nil tracer Close: nil")
	}
	if nilTracer.SessionID() != "" {
		t.Error("nil tracer SessionID")
	}
	var nilSpan *honeyhive.Span
	nilSpan.End()
	if err := nilSpan.Enrich(honeyhive.Enrichment{}); err == nil {
		t.Error("nil span Enrich: nil")
	}
	if nilSpan.SessionID() != "" || nilSpan.TraceID() != "" || nilSpan.IsRecording() {
		t.Error("nil span accessors")
	}
	if honeyhive.SpanFromContext(nil) != nil || honeyhive.SessionIDFromContext(nil) != "" { //nolint:staticcheck
		t.Error("nil ctx")
	}

	tr := newTracer(t, honeyhive.Config{TestMode: true})
	// A nil ctx is treated as context.Background().
	_, s = tr.Start(nil, "nil-ctx") //nolint:staticcheck
	if s.Err() != nil {
		t.Errorf("nil ctx Start: %v", s.Err())
	}
	s.End()
	for name, err := range map[string]error{
		"empty name":     startErr(tr, ""),
		"NUL in name":    startErr(tr, "a\x00b"),
		"bad event type": startErr(tr, "x", honeyhive.WithEventType(99)),
		"bad session":    startErr(tr, "x", honeyhive.WithSession("nope")),
		"bad attr value": startErr(tr, "x", honeyhive.WithAttributes(map[string]any{"f": func() {}})),
		"invalid utf8":   startErr(tr, "\xff\xfe"),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, s = tr.Start(context.Background(), "ok")
	defer s.End()
	if err := s.Enrich(honeyhive.Enrichment{Metadata: map[string]any{"c": make(chan int)}}); !errors.Is(err, honeyhive.ErrInvalidJSON) {
		t.Errorf("unencodable enrichment: %v", err)
	}
	if err := s.SetString(honeyhive.NSMetadata, "k\x00", "v"); !errors.Is(err, honeyhive.ErrInvalidArgument) {
		t.Errorf("NUL key: %v", err)
	}
	if err := s.SetString(honeyhive.Namespace(42), "k", "v"); err == nil {
		t.Error("bad namespace: nil")
	}
	if err := s.RecordError(errors.New("with \x00 NUL")); err != nil {
		t.Errorf("RecordError with NUL: %v", err)
	}
	if err := s.RecordError(nil); err != nil {
		t.Errorf("RecordError(nil): %v", err)
	}
	if err := tr.Inject(context.Background(), nil); err == nil {
		t.Error("Inject(nil header): nil")
	}
	if honeyhive.Version() == "" {
		t.Error("empty Version")
	}
	if honeyhive.StatusTimeout.String() != "HH_ERR_TIMEOUT" || honeyhive.Status(999).String() == "" {
		t.Error("Status.String")
	}
}

func startErr(tr *honeyhive.Tracer, name string, opts ...honeyhive.StartOption) error {
	_, s := tr.Start(context.Background(), name, opts...)
	s.End()
	return s.Err()
}

func TestSetAttributes(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	_, s := tr.Start(context.Background(), "batch", honeyhive.WithEventType(honeyhive.EventModel))
	long := strings.Repeat("x", 10000) // past the reused C buffer: a one-off one
	if err := s.SetAttributes(
		honeyhive.StringAttr(honeyhive.NSMetadata, "model", "gpt-4o"),
		honeyhive.IntAttr(honeyhive.NSMetadata, "tokens", 42),
		honeyhive.FloatAttr(honeyhive.NSMetrics, "temperature", 0.5),
		honeyhive.BoolAttr(honeyhive.NSFeedback, "liked", true),
		honeyhive.StringAttr(honeyhive.NSOutputs, "long", long),
	); err != nil {
		t.Fatalf("SetAttributes: %v", err)
	}
	if err := s.SetAttributes(); err != nil {
		t.Fatalf("SetAttributes(): %v", err)
	}
	// All or none: the valid first attribute of a failing call is not set.
	err := s.SetAttributes(
		honeyhive.IntAttr(honeyhive.NSMetadata, "not-set", 1),
		honeyhive.IntAttr(honeyhive.Namespace(42), "k", 1),
	)
	if !errors.Is(err, honeyhive.ErrInvalidArgument) || !strings.Contains(err.Error(), "attribute 1 of 2") {
		t.Fatalf("bad namespace: %v", err)
	}
	if err := s.SetAttributes(honeyhive.StringAttr(honeyhive.NSMetadata, "k", "v\x00")); !errors.Is(err, honeyhive.ErrInvalidArgument) {
		t.Fatalf("NUL in value: %v", err)
	}
	s.End()
	if err := s.SetAttributes(honeyhive.IntAttr(honeyhive.NSMetadata, "late", 1)); !errors.Is(err, honeyhive.ErrSpanEnded) {
		t.Fatalf("after End: %v", err)
	}
	flush(t, tr)
	b := byName(t, rcv.waitSpans(t, 1), "batch")
	if got := b.str("honeyhive_metadata.model"); got != "gpt-4o" {
		t.Errorf("model = %q", got)
	}
	if v := b.attr("honeyhive_metadata.tokens"); !isInt(v, 42) {
		t.Errorf("tokens = %v", v)
	}
	if v, _ := b.attr("honeyhive_metrics.temperature").(json.Number); v.String() != "0.5" {
		t.Errorf("temperature = %v", b.attr("honeyhive_metrics.temperature"))
	}
	if v, _ := b.attr("honeyhive_feedback.liked").(bool); !v {
		t.Errorf("liked = %v", b.attr("honeyhive_feedback.liked"))
	}
	if got := b.str("honeyhive_outputs.long"); got != long {
		t.Errorf("long value: %d bytes", len(got))
	}
	if v := b.attr("honeyhive_metadata.not-set"); v != nil {
		t.Errorf("not-set was set: %+v", v)
	}
}

func TestEndWith(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	ctx, parent := tr.Start(context.Background(), "parent")
	_, a := tr.Start(ctx, "end-with")
	if err := a.EndWith(honeyhive.IntAttr(honeyhive.NSMetrics, "tokens", 7), honeyhive.StringAttr(honeyhive.NSOutputs, "text", "done")); err != nil {
		t.Fatalf("EndWith: %v", err)
	}
	if err := a.EndWith(honeyhive.IntAttr(honeyhive.NSMetrics, "late", 1)); !errors.Is(err, honeyhive.ErrSpanEnded) {
		t.Fatalf("EndWith twice: %v", err)
	}
	a.End() // no-op
	// Refused attributes: reported, none set, and the span ends all the same.
	_, b := tr.Start(ctx, "end-with-refused")
	err := b.EndWith(honeyhive.IntAttr(honeyhive.NSMetrics, "ok", 1), honeyhive.IntAttr(honeyhive.Namespace(99), "bad", 1))
	if !errors.Is(err, honeyhive.ErrInvalidArgument) {
		t.Fatalf("EndWith with a bad namespace: %v", err)
	}
	if b.IsRecording() {
		t.Fatal("span still recording after EndWith")
	}
	// A child of an ended parent still links to it (the handle is kept).
	_, c := tr.Start(ctx, "child-after-end")
	c.End()
	parent.End()
	flush(t, tr)
	spans := rcv.waitSpans(t, 4)
	p, ea, eb := byName(t, spans, "parent"), byName(t, spans, "end-with"), byName(t, spans, "end-with-refused")
	if !isInt(ea.attr("honeyhive_metrics.tokens"), 7) || ea.str("honeyhive_outputs.text") != "done" {
		t.Errorf("end-with attributes: %v", ea.Attributes)
	}
	if ea.attr("honeyhive_metrics.late") != nil || eb.attr("honeyhive_metrics.ok") != nil {
		t.Errorf("refused attributes were set: %v / %v", ea.Attributes, eb.Attributes)
	}
	if ea.parent() != p.SpanID || eb.parent() != p.SpanID {
		t.Errorf("parents: %s %s, want %s", ea.parent(), eb.parent(), p.SpanID)
	}
}
