package honeyhive_test

import (
	"context"
	"net/http"
	"os"
	"sort"
	"testing"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

// Benchmarks measure; they assert nothing about time.

func benchTracer(b *testing.B) *honeyhive.Tracer {
	tr, err := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close(context.Background()) })
	return tr
}

func BenchmarkStartEnd(b *testing.B) {
	tr := benchTracer(b)
	ctx, root := tr.Start(context.Background(), "root")
	defer root.End()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, s := tr.Start(ctx, "child")
		s.End()
	}
}

func BenchmarkStartSetEnd(b *testing.B) {
	tr := benchTracer(b)
	ctx, root := tr.Start(context.Background(), "root")
	defer root.End()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, s := tr.Start(ctx, "child", honeyhive.WithEventType(honeyhive.EventTool))
		_ = s.SetInt(honeyhive.NSMetrics, "tokens", int64(i))
		_ = s.SetString(honeyhive.NSMetadata, "model", "gpt-4o")
		s.End()
	}
}

func BenchmarkEnrich(b *testing.B) {
	tr := benchTracer(b)
	_, s := tr.Start(context.Background(), "root")
	defer s.End()
	e := honeyhive.Enrichment{Metadata: map[string]any{"a": map[string]any{"b": 1}}, Outputs: map[string]any{"text": "hello"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = s.Enrich(e)
	}
}

// BenchmarkHotPath is the span hot path from Go (BENCHMARKS.md, item 4), compared by benches/run.py with the C
// program benches/c/hot_path.c in the same run: a span with an explicit parent (the span in
// ctx) and session (CreateSession), event type model, three metadata fields, End; batch mode,
// exporting (OTLP/JSON) to the loopback receiver (HH_BENCH_URL, else a private one). Spans
// are made in bursts of 2000, each followed by a flush outside the timer, as in the C and
// Rust benchmarks (queue 16384, batch 8192, so the export runs during the flush).
// "typed" sets the fields with three setters (five calls into C per span, as the C program's
// typed variant makes five ABI calls), "attrs" with one SetAttributes (three, as its attrs
// variant), "end_attrs" with EndWith (two, as its end_attrs variant).
func BenchmarkHotPath(b *testing.B) {
	b.Run("typed", func(b *testing.B) { benchHotPath(b, hotTyped) })
	b.Run("attrs", func(b *testing.B) { benchHotPath(b, hotAttrs) })
	b.Run("end_attrs", func(b *testing.B) { benchHotPath(b, hotEndAttrs) })
}

const (
	hotTyped = iota
	hotAttrs
	hotEndAttrs
)

// hotFields are the three metadata fields of a hot-path span, made per span (as the C
// program fills its hh_attr array per span).
func hotFields() [3]honeyhive.Attribute {
	return [3]honeyhive.Attribute{
		honeyhive.StringAttr(honeyhive.NSMetadata, "model", "gpt-4o"),
		honeyhive.IntAttr(honeyhive.NSMetadata, "tokens", 42),
		honeyhive.FloatAttr(honeyhive.NSMetadata, "temperature", 0.7),
	}
}

func benchHotPath(b *testing.B, how int) {
	url := os.Getenv("HH_BENCH_URL")
	if url == "" {
		url = startReceiver(b).URL
	}
	tr, err := honeyhive.NewTracer(honeyhive.Config{
		APIKey: "bench-key", Project: "bench", Source: "bench", ServerURL: url,
		MaxQueueSize: 16384, MaxExportBatchSize: 8192, ScheduleDelayMS: 600000,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tr.Close(context.Background()) }()
	ctx, sid, err := tr.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, root := tr.Start(ctx, "request", honeyhive.WithEventType(honeyhive.EventChain))
	defer root.End()
	// The parent comes from ctx; the session is named explicitly, as the C program does.
	model, session := honeyhive.WithEventType(honeyhive.EventModel), honeyhive.WithSession(sid)
	flushNow := func() {
		if err := tr.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		// The receiver records every span: forget them, so that its memory stays flat.
		if resp, err := http.Post(url+"/__hh/reset", "application/json", nil); err == nil {
			_ = resp.Body.Close()
		}
	}
	// Besides ns/op (a mean), the median over bursts of ns per span, as the C program
	// reports it (robust to a burst disturbed by another process on a shared machine).
	const burst = 2000
	var perSpan []float64
	burstStart := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%burst == 0 {
			perSpan = append(perSpan, float64(time.Since(burstStart).Nanoseconds())/burst)
			b.StopTimer()
			flushNow()
			b.StartTimer()
			burstStart = time.Now()
		}
		_, s := tr.Start(ctx, "llm.call", model, session)
		switch how {
		case hotTyped:
			_ = s.SetString(honeyhive.NSMetadata, "model", "gpt-4o")
			_ = s.SetInt(honeyhive.NSMetadata, "tokens", 42)
			_ = s.SetFloat(honeyhive.NSMetadata, "temperature", 0.7)
			s.End()
		case hotAttrs:
			fields := hotFields()
			_ = s.SetAttributes(fields[:]...)
			s.End()
		case hotEndAttrs:
			fields := hotFields()
			_ = s.EndWith(fields[:]...)
		}
	}
	b.StopTimer()
	flushNow()
	if len(perSpan) > 0 {
		sort.Float64s(perSpan)
		b.ReportMetric(perSpan[len(perSpan)/2], "median-ns/span")
	}
	if st, err := tr.Stats(); err != nil || st.SpansDropped != 0 {
		b.Fatalf("stats %+v, %v: spans were dropped", st, err)
	}
}
