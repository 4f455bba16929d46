package honeyhive_test

import (
	"context"
	"testing"

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
