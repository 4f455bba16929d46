package honeyhive_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The OpenTelemetry span model through the binding, asserted on what the receiver decoded.

// jsonInts reports whether v is a JSON array of exactly the integers want.
func jsonInts(v any, want ...int64) bool {
	a, ok := v.([]any)
	if !ok || len(a) != len(want) {
		return false
	}
	for i := range a {
		if !isInt(a[i], want[i]) {
			return false
		}
	}
	return true
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSpanModelOnTheWire(t *testing.T) {
	for _, proto := range []string{"http/json", "http/protobuf"} {
		t.Run(proto, func(t *testing.T) { testSpanModel(t, proto) })
	}
}

func testSpanModel(t *testing.T, proto string) {
	rcv := startReceiver(t)
	cfg := rcv.config()
	cfg.OTLPProtocol = proto
	tr := newTracer(t, cfg)

	_, target := tr.Start(context.Background(), "link-target")
	target.End()
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c},
		SpanID:     trace.SpanID{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})

	t0 := time.Unix(1_700_000_000, 123_456_789)
	t1 := t0.Add(1500 * time.Millisecond)
	ctx, s := tr.Start(context.Background(), "handle-request",
		honeyhive.WithSpanKind(trace.SpanKindServer),
		honeyhive.WithStartTime(t0),
		honeyhive.WithLinks(
			trace.Link{SpanContext: target.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("link.reason", "retry")}},
			trace.Link{}, // invalid: left out
		),
		honeyhive.WithTypedAttributes(honeyhive.StringSliceAttr(honeyhive.NSNone, "tags", []string{"a", "b"})),
	)
	if err := s.Err(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	s.AddEvent("cache.miss", trace.WithTimestamp(t0.Add(100*time.Millisecond)),
		trace.WithAttributes(attribute.Int("attempt", 2), attribute.StringSlice("keys", []string{"k1", "k2"})))
	s.AddEvent("plain")
	s.AddLink(trace.Link{SpanContext: remote, Attributes: []attribute.KeyValue{attribute.Bool("remote", true)}})
	s.AddLink(trace.Link{}) // invalid: left out
	s.SetStatus(codes.Error, "bad upstream")
	s.SetName("handle-request-renamed")
	// Past the reused C buffer (4 KiB): a one-off one.
	big := make([]string, 600)
	for i := range big {
		big[i] = fmt.Sprintf("item-%d", i)
	}
	bigAttr := honeyhive.StringSliceAttr(honeyhive.NSOutputs, "big", big)
	if err := s.SetAttributes(append(honeyhive.OTelAttributes(
		attribute.String("http.route", "/chat"),
		attribute.Int64Slice("ids", []int64{1, 2, 3}),
		attribute.Float64Slice("ratios", []float64{0.5, 1.5}),
		attribute.BoolSlice("flags", []bool{true, false}),
		attribute.Int64Slice("empty", nil),
	), honeyhive.IntSliceAttr(honeyhive.NSMetadata, "counts", []int64{4, 5}), bigAttr)...); err != nil {
		t.Fatalf("SetAttributes: %v", err)
	}

	_, c := tr.Start(ctx, "call-upstream", honeyhive.WithSpanKind(trace.SpanKindClient))
	c.SetStatus(codes.Ok, "dropped: only errors keep a description")
	c.SetStatus(codes.Error, "too late: Ok is final")
	c.End()

	sc := s.SpanContext()
	s.End(trace.WithTimestamp(t1))
	// Ended spans are inert, as in OpenTelemetry: nothing happens, nothing panics.
	s.AddEvent("after-end")
	s.SetName("after-end")
	s.SetStatus(codes.Ok, "")

	flush(t, tr)
	spans := rcv.waitSpans(t, 3)
	w, cw, tw := byName(t, spans, "handle-request-renamed"), byName(t, spans, "call-upstream"), byName(t, spans, "link-target")

	if w.Kind != "SPAN_KIND_SERVER" || cw.Kind != "SPAN_KIND_CLIENT" || tw.Kind != "SPAN_KIND_INTERNAL" {
		t.Errorf("kinds: %s %s %s", w.Kind, cw.Kind, tw.Kind)
	}
	if w.StartNanos != uint64(t0.UnixNano()) || w.EndNanos != uint64(t1.UnixNano()) {
		t.Errorf("times: %d..%d, want %d..%d", w.StartNanos, w.EndNanos, t0.UnixNano(), t1.UnixNano())
	}
	if w.StatusCode != "STATUS_CODE_ERROR" || w.StatusMessage != "bad upstream" {
		t.Errorf("status %s %q", w.StatusCode, w.StatusMessage)
	}
	if cw.StatusCode != "STATUS_CODE_OK" || cw.StatusMessage != "" {
		t.Errorf("client status %s %q", cw.StatusCode, cw.StatusMessage)
	}
	if cw.parent() != w.SpanID || cw.TraceID != w.TraceID {
		t.Errorf("client parent %s, want %s", cw.parent(), w.SpanID)
	}

	if len(w.Events) != 2 {
		t.Fatalf("events: %+v", w.Events)
	}
	ev := w.Events[0]
	if ev.Name != "cache.miss" || ev.TimeUnixNano != uint64(t0.Add(100*time.Millisecond).UnixNano()) ||
		!isInt(ev.Attributes["attempt"], 2) || jsonText(ev.Attributes["keys"]) != `["k1","k2"]` {
		t.Errorf("event %+v", ev)
	}
	if w.Events[1].Name != "plain" || w.Events[1].TimeUnixNano < uint64(t1.UnixNano()) {
		t.Errorf("event without options: %+v (a time of now expected)", w.Events[1])
	}

	if len(w.Links) != 2 {
		t.Fatalf("links: %+v", w.Links)
	}
	if l := w.Links[0]; l.TraceID != tw.TraceID || l.SpanID != tw.SpanID || l.Attributes["link.reason"] != "retry" {
		t.Errorf("start link %+v, want %s/%s", l, tw.TraceID, tw.SpanID)
	}
	if l := w.Links[1]; l.TraceID != remote.TraceID().String() || l.SpanID != remote.SpanID().String() || l.Attributes["remote"] != true {
		t.Errorf("added link %+v", l)
	}

	if w.str("http.route") != "/chat" || jsonText(w.attr("tags")) != `["a","b"]` ||
		!jsonInts(w.attr("ids"), 1, 2, 3) || !jsonInts(w.attr("honeyhive_metadata.counts"), 4, 5) ||
		jsonText(w.attr("ratios")) != `[0.5,1.5]` || jsonText(w.attr("flags")) != `[true,false]` ||
		jsonText(w.attr("empty")) != `[]` {
		t.Errorf("attributes: %s", jsonText(w.Attributes))
	}
	if got, _ := w.attr("honeyhive_outputs.big").([]any); len(got) != len(big) || got[599] != "item-599" {
		t.Errorf("big array: %d elements", len(got))
	}

	// The ids read without injecting are the exported ones, after End too.
	if !sc.IsValid() || sc.IsRemote() || sc.TraceID().String() != w.TraceID || sc.SpanID().String() != w.SpanID {
		t.Errorf("SpanContext %v, wire %s/%s", sc, w.TraceID, w.SpanID)
	}
	if !s.SpanContext().Equal(sc) || s.TraceID() != w.TraceID || s.SpanID() != w.SpanID ||
		s.TraceParent() != "00-"+w.TraceID+"-"+w.SpanID+"-"+sc.TraceFlags().String() {
		t.Errorf("after End: %v %s %s %s", s.SpanContext(), s.TraceID(), s.SpanID(), s.TraceParent())
	}
}

func TestSpanModelOnNoopSpan(t *testing.T) {
	var nilSpan *honeyhive.Span
	nilSpan.AddEvent("x")
	nilSpan.AddLink(trace.Link{})
	nilSpan.SetStatus(codes.Error, "x")
	nilSpan.SetName("x")
	nilSpan.End(trace.WithTimestamp(time.Now()))
	if nilSpan.SpanContext().IsValid() || nilSpan.TraceParent() != "" {
		t.Error("nil span has a context")
	}
	tr := newTracer(t, honeyhive.Config{TestMode: true})
	_, s := tr.Start(context.Background(), "") // refused: a no-op span
	if s.Err() == nil || s.SpanContext().IsValid() {
		t.Fatalf("no-op span: %v %v", s.Err(), s.SpanContext())
	}
	s.AddEvent("x")
	s.End()
	// Bad input at start (a NUL in a typed attribute) fails the start, as for JSON attributes.
	_, s = tr.Start(context.Background(), "x", honeyhive.WithSpanKind(trace.SpanKindServer),
		honeyhive.WithTypedAttributes(honeyhive.StringAttr(honeyhive.NSNone, "k", "a\x00b")))
	if !errors.Is(s.Err(), honeyhive.ErrInvalidArgument) {
		t.Errorf("NUL in a start attribute: %v", s.Err())
	}
}

// stackErr carries its stack as github.com/go-errors/errors does.
type stackErr struct{}

func (stackErr) Error() string { return "with stack" }
func (stackErr) Stack() []byte { return []byte("example.com/origin.make()\n\t/src/origin.go:7\n") }

// formatErr prints its stack with %+v as github.com/pkg/errors does.
type formatErr struct{}

func (formatErr) Error() string { return "formatted" }
func (e formatErr) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		_, _ = io.WriteString(f, "formatted\nexample.com/pkg.origin\n\t/src/pkg.go:9")
		return
	}
	_, _ = io.WriteString(f, e.Error())
}

//go:noinline
func explode() (int, error) { panic("kaboom") }

func TestRecordErrorStackTrace(t *testing.T) {
	rcv := startReceiver(t)
	tr := newTracer(t, rcv.config())
	ctx := context.Background()
	at := time.Unix(1_700_000_100, 0)

	record := func(name string, err error, opts ...trace.EventOption) {
		_, s := tr.Start(ctx, name)
		if e := s.RecordError(err, opts...); e != nil {
			t.Errorf("%s: RecordError: %v", name, e)
		}
		s.End()
	}
	record("plain", errors.New("plain failure"))
	record("wrapped-stack", fmt.Errorf("context: %w", stackErr{}), trace.WithTimestamp(at))
	record("formatter", formatErr{},
		trace.WithAttributes(attribute.Bool("exception.escaped", true)))
	func() {
		defer func() { _ = recover() }()
		_, _ = honeyhive.Trace(ctx, tr, "panicking", func(context.Context) (int, error) { return explode() })
	}()
	flush(t, tr)
	spans := rcv.waitSpans(t, 4)

	exception := func(name string) wireEvent {
		t.Helper()
		s := byName(t, spans, name)
		for _, e := range s.Events {
			if e.Name == "exception" {
				return e
			}
		}
		t.Fatalf("%s: no exception event: %+v", name, s.Events)
		return wireEvent{}
	}
	const testPkg = "github.com/honeyhiveai/libhoneyhive/bindings/go_test."

	plain := exception("plain")
	if plain.Attributes["exception.type"] != "*errors.errorString" || plain.Attributes["exception.message"] != "plain failure" ||
		plain.Attributes["exception.escaped"] != "False" {
		t.Errorf("plain: %s", jsonText(plain.Attributes))
	}
	// No stack in the error: the stack where it was recorded, from the recording function on.
	if st, _ := plain.Attributes["exception.stacktrace"].(string); !strings.HasPrefix(st, testPkg+"TestRecordErrorStackTrace") ||
		!strings.Contains(st, "span_model_test.go:") {
		t.Errorf("plain stack trace: %q", st)
	}

	wrapped := exception("wrapped-stack")
	if wrapped.Attributes["exception.stacktrace"] != string(stackErr{}.Stack()) || wrapped.TimeUnixNano != uint64(at.UnixNano()) ||
		wrapped.Attributes["exception.type"] != "*fmt.wrapError" {
		t.Errorf("wrapped: %d %s", wrapped.TimeUnixNano, jsonText(wrapped.Attributes))
	}

	formatted := exception("formatter")
	if formatted.Attributes["exception.stacktrace"] != "formatted\nexample.com/pkg.origin\n\t/src/pkg.go:9" ||
		formatted.Attributes["exception.escaped"] != "True" {
		t.Errorf("formatter: %s", jsonText(formatted.Attributes))
	}

	// A panic: the stack of the panicking goroutine, from the function that panicked.
	p := exception("panicking")
	if st, _ := p.Attributes["exception.stacktrace"].(string); !strings.HasPrefix(st, testPkg+"explode()") {
		t.Errorf("panic stack trace: %q", st)
	}
	if p.Attributes["exception.escaped"] != "True" || p.Attributes["exception.message"] != "panic: kaboom" ||
		p.Attributes["exception.type"] != "*honeyhive.PanicError" {
		t.Errorf("panic: %s", jsonText(p.Attributes))
	}
}

// Span model methods return nothing, as OpenTelemetry's: a refused input is reported to
// slog.Default(); an operation on an ended span is silent.
func TestSpanModelReportsRefusedInputToSlog(t *testing.T) {
	var buf strings.Builder
	saved := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(saved)

	tr := newTracer(t, honeyhive.Config{TestMode: true})
	_, s := tr.Start(context.Background(), "x")
	s.AddEvent("bad\x00name")
	s.SetName("")
	if got := strings.Count(buf.String(), "span operation refused"); got != 2 {
		t.Fatalf("%d reports, want 2:\n%s", got, buf.String())
	}
	if !strings.Contains(buf.String(), "NUL") {
		t.Errorf("the report does not say why: %s", buf.String())
	}
	s.End()
	buf.Reset()
	s.AddEvent("late")
	s.SetStatus(codes.Error, "late")
	if buf.Len() != 0 {
		t.Errorf("operations on an ended span were reported: %s", buf.String())
	}
}
