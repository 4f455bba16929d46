package honeyhive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

// The OpenTelemetry API on the tracer's provider: kinds, every attribute type, links,
// events, status, errors, names, times, and one context shared with Tracer.Start.
func TestProviderSpanModel(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	otr := tr.TracerProvider().Tracer("test/scope")

	ctx, sid, err := tr.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "otel"})
	if err != nil {
		t.Fatal(err)
	}
	_, target := otr.Start(ctx, "link-target")
	target.End()

	t0 := time.Unix(1_700_000_000, 5_000)
	t1 := t0.Add(2 * time.Second)
	sctx, server := otr.Start(ctx, "server",
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(t0),
		trace.WithLinks(trace.Link{SpanContext: target.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("why", "retry")}}),
		trace.WithAttributes(
			attribute.String("s", "v"), attribute.Int("i", 7), attribute.Float64("f", 1.5), attribute.Bool("b", true),
			attribute.StringSlice("ss", []string{"a", "b"}), attribute.IntSlice("is", []int{1, 2}),
			attribute.Float64Slice("fs", []float64{0.5}), attribute.BoolSlice("bs", []bool{true, false}),
		))
	if !server.IsRecording() || !server.SpanContext().IsValid() {
		t.Fatalf("server span: recording %v, context %v", server.IsRecording(), server.SpanContext())
	}
	if !trace.SpanFromContext(sctx).SpanContext().Equal(server.SpanContext()) {
		t.Errorf("SpanFromContext does not see the provider span")
	}
	if server.TracerProvider() == nil {
		t.Errorf("TracerProvider() is nil")
	}
	server.SetAttributes(attribute.Int64("late", 9), attribute.StringSlice("late.list", []string{"x"}))
	server.AddEvent("cache.miss", trace.WithAttributes(attribute.Int("attempt", 2)))
	server.SetName("server-renamed")

	// The binding's Start under the provider span, and the provider under the binding's.
	bctx, mid := tr.Start(sctx, "binding-mid")
	if got := trace.SpanFromContext(bctx).SpanContext(); !got.Equal(mid.SpanContext()) {
		t.Errorf("SpanFromContext(binding ctx) = %v, want the binding span %v", got, mid.SpanContext())
	}
	_, client := otr.Start(bctx, "client", trace.WithSpanKind(trace.SpanKindClient))
	client.RecordError(errors.New("plain"))
	client.RecordError(errors.New("stacked"), trace.WithStackTrace(true))
	client.SetStatus(codes.Error, "upstream failed")
	client.End()
	if client.IsRecording() {
		t.Errorf("ended span still recording")
	}
	client.SetName("after-end") // inert
	mid.End()

	_, root := otr.Start(sctx, "new-root", trace.WithNewRoot())
	root.End()
	server.SetStatus(codes.Ok, "")
	server.End(trace.WithTimestamp(t1))

	flush(t, tr)
	spans := rcv.waitSpans(t, 5)
	sw, mw, cw, rw, tw := byName(t, spans, "server-renamed"), byName(t, spans, "binding-mid"),
		byName(t, spans, "client"), byName(t, spans, "new-root"), byName(t, spans, "link-target")

	if sw.Kind != "SPAN_KIND_SERVER" || cw.Kind != "SPAN_KIND_CLIENT" || mw.Kind != "SPAN_KIND_INTERNAL" {
		t.Errorf("kinds: %s %s %s", sw.Kind, cw.Kind, mw.Kind)
	}
	if sw.StartNanos != uint64(t0.UnixNano()) || sw.EndNanos != uint64(t1.UnixNano()) {
		t.Errorf("times %d..%d", sw.StartNanos, sw.EndNanos)
	}
	if mw.parent() != sw.SpanID || cw.parent() != mw.SpanID || mw.TraceID != sw.TraceID || cw.TraceID != sw.TraceID {
		t.Errorf("nesting: server %s, mid %s<-%s, client %s<-%s", sw.SpanID, mw.SpanID, mw.parent(), cw.SpanID, cw.parent())
	}
	if rw.parent() != "" || rw.TraceID == sw.TraceID {
		t.Errorf("WithNewRoot: parent %q, trace %s (server's %s)", rw.parent(), rw.TraceID, sw.TraceID)
	}
	for _, s := range []wireSpan{sw, mw, cw, rw, tw} {
		if got := s.str("honeyhive.session_id"); got != sid {
			t.Errorf("%s in session %q, want %q", s.Name, got, sid)
		}
		if s.str("honeyhive_event_type") == "" {
			t.Errorf("%s has no honeyhive_event_type: %v", s.Name, s.Attributes)
		}
	}
	if sw.str("s") != "v" || !isInt(sw.attr("i"), 7) || fmt.Sprint(sw.attr("f")) != "1.5" || sw.attr("b") != true ||
		jsonText(sw.attr("ss")) != `["a","b"]` || !jsonInts(sw.attr("is"), 1, 2) || jsonText(sw.attr("fs")) != `[0.5]` ||
		jsonText(sw.attr("bs")) != `[true,false]` || !isInt(sw.attr("late"), 9) || jsonText(sw.attr("late.list")) != `["x"]` {
		t.Errorf("attributes: %v", sw.Attributes)
	}
	if len(sw.Links) != 1 || sw.Links[0].SpanID != tw.SpanID || sw.Links[0].Attributes["why"] != "retry" {
		t.Errorf("links: %+v (target %s)", sw.Links, tw.SpanID)
	}
	if len(sw.Events) != 1 || sw.Events[0].Name != "cache.miss" || !isInt(sw.Events[0].Attributes["attempt"], 2) {
		t.Errorf("events: %+v", sw.Events)
	}
	if sw.StatusCode != "STATUS_CODE_OK" {
		t.Errorf("server status %s", sw.StatusCode)
	}
	if cw.StatusCode != "STATUS_CODE_ERROR" || cw.StatusMessage != "upstream failed" || len(cw.Events) != 2 {
		t.Fatalf("client: status %s %q, events %+v", cw.StatusCode, cw.StatusMessage, cw.Events)
	}
	plain, stacked := cw.Events[0].Attributes, cw.Events[1].Attributes
	if plain["exception.message"] != "plain" || plain["exception.stacktrace"] != nil && plain["exception.stacktrace"] != "" {
		t.Errorf("RecordError without WithStackTrace: %v", plain)
	}
	if st, _ := stacked["exception.stacktrace"].(string); !strings.Contains(st, "TestProviderSpanModel") {
		t.Errorf("RecordError WithStackTrace(true): stack %q", st)
	}
}

// A remote SpanContext (as a propagator's Extract leaves it) parents the next span of
// either API; the session comes from OpenTelemetry baggage.
func TestProviderRemoteParentAndBaggageSession(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	otr := tr.TracerProvider().Tracer("")
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	const sid = "6f1c2a0e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	m, err := baggage.NewMember("session_id", sid)
	if err != nil {
		t.Fatal(err)
	}
	bag, _ := baggage.New(m)
	ctx := baggage.ContextWithBaggage(trace.ContextWithRemoteSpanContext(context.Background(), remote), bag)

	_, a := otr.Start(ctx, "via-provider")
	a.End()
	_, b := tr.Start(ctx, "via-binding")
	b.End()
	_, c := otr.Start(ctx, "new-root", trace.WithNewRoot())
	c.End()
	flush(t, tr)
	spans := rcv.waitSpans(t, 3)
	for _, name := range []string{"via-provider", "via-binding"} {
		s := byName(t, spans, name)
		if s.TraceID != remote.TraceID().String() || s.parent() != remote.SpanID().String() {
			t.Errorf("%s: trace %s parent %s, want %s %s", name, s.TraceID, s.parent(), remote.TraceID(), remote.SpanID())
		}
	}
	nr := byName(t, spans, "new-root")
	if nr.TraceID == remote.TraceID().String() || nr.parent() != "" {
		t.Errorf("new-root continued the remote trace: %s <- %s", nr.TraceID, nr.parent())
	}
	for _, s := range spans {
		if got := s.str("honeyhive.session_id"); got != sid {
			t.Errorf("%s in session %q, want %q (from baggage)", s.Name, got, sid)
		}
	}
}

// Span methods return nothing: what the library refuses goes to Config.Logger; a failed
// Start gives a non-recording span.
func TestProviderReportsToLogger(t *testing.T) {
	rcv := startReceiver(t)
	var buf bytes.Buffer
	cfg := rcv.config()
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	tr := newTracer(t, cfg)
	otr := tr.TracerProvider().Tracer("")

	_, s := otr.Start(context.Background(), "ok")
	s.SetName("bad\x00name")
	s.End()
	if !strings.Contains(buf.String(), "span operation refused") {
		t.Errorf("refused SetName not logged: %q", buf.String())
	}
	buf.Reset()
	ctx, bad := otr.Start(context.Background(), "")
	if bad.IsRecording() || bad.SpanContext().IsValid() || trace.SpanFromContext(ctx).IsRecording() {
		t.Errorf("failed Start gave a recording span")
	}
	if buf.Len() == 0 {
		t.Errorf("failed Start not logged")
	}
	bad.End() // inert
}

// Many goroutines on one provider (run under -race): every span arrives, each under its
// goroutine's root.
func TestProviderConcurrent(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	otr := tr.TracerProvider().Tracer("")
	const G, N = 8, 20
	var wg sync.WaitGroup
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, root := otr.Start(context.Background(), fmt.Sprintf("root-%d", g))
			for i := 0; i < N; i++ {
				_, s := otr.Start(ctx, "child", trace.WithAttributes(attribute.Int("g", g)))
				s.SetAttributes(attribute.Int("i", i))
				s.End()
			}
			root.End()
		}()
	}
	wg.Wait()
	flush(t, tr)
	spans := rcv.waitSpans(t, G*(N+1))
	roots := map[string]string{}
	for _, s := range spans {
		if strings.HasPrefix(s.Name, "root-") {
			roots[s.SpanID] = s.Name
		}
	}
	for _, s := range spans {
		if s.Name == "child" {
			g, ok := s.attr("g").(interface{ String() string })
			if !ok || roots[s.parent()] != "root-"+g.String() {
				t.Fatalf("child of g=%v under %q", s.attr("g"), roots[s.parent()])
			}
		}
	}
}

// As in OpenTelemetry, attributes past the span's limit are dropped, the others kept: one
// refused attribute does not lose the batch.
func TestProviderAttributeLimit(t *testing.T) {
	rcv := startReceiver(t)
	var buf bytes.Buffer
	cfg := rcv.config()
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	tr := newTracer(t, cfg)
	_, s := tr.TracerProvider().Tracer("").Start(context.Background(), "many")
	kv := make([]attribute.KeyValue, 0, 1100)
	for i := range 1100 {
		kv = append(kv, attribute.Int(fmt.Sprintf("k%04d", i), i))
	}
	s.SetAttributes(kv...)
	s.End()
	_, m := tr.TracerProvider().Tracer("").Start(context.Background(), "mixed")
	m.SetAttributes(attribute.String("bad\x00key", "x"), attribute.String("good", "kept"))
	m.End()
	flush(t, tr)
	spans := rcv.waitSpans(t, 2)
	w := byName(t, spans, "many")
	if w.attr("k0000") == nil || w.attr("k1099") != nil {
		t.Errorf("k0000 %v (want kept), k1099 %v (want dropped)", w.attr("k0000"), w.attr("k1099"))
	}
	n := 0
	for k := range w.Attributes {
		if len(k) == 5 && k[0] == 'k' {
			n++
		}
	}
	if n < 1000 || n > 1024 {
		t.Errorf("%d of the 1100 attributes kept, want the span's limit (1024) or just under", n)
	}
	if !strings.Contains(buf.String(), "span operation refused") {
		t.Errorf("dropped attributes not logged: %q", buf.String())
	}
	if got := byName(t, spans, "mixed").str("good"); got != "kept" {
		t.Errorf("a valid attribute beside a refused one: %q, want kept", got)
	}
}
