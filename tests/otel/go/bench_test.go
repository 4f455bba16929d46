package otelgo_test

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

// BenchmarkProviderVsSDK measures (asserts nothing about time) the same span (a child of a
// parent, three attributes, End) through the OpenTelemetry API on the tracer's provider and
// on the official OpenTelemetry Go SDK (BatchSpanProcessor + otlptracehttp), both exporting
// to the loopback receiver (HH_BENCH_URL, else a private one), and the binding's own
// Start/SetAttributes/End for comparison. The sides alternate in bursts of 2000 spans, each
// burst followed (outside the timing) by a flush; the figures are medians over bursts, the
// heap allocations per span those of runtime.MemStats.Mallocs.
func BenchmarkProviderVsSDK(b *testing.B) {
	url := os.Getenv("HH_BENCH_URL")
	if url == "" {
		url = startReceiver(b).URL
	}
	ctx := context.Background()
	tr, err := honeyhive.NewTracer(honeyhive.Config{
		APIKey: "bench-key", Project: "bench", Source: "bench", ServerURL: url,
		MaxQueueSize: 16384, MaxExportBatchSize: 8192, ScheduleDelayMS: 600000,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tr.Close(ctx) }()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url+"/v1/traces"))
	if err != nil {
		b.Fatal(err)
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp,
		sdktrace.WithMaxQueueSize(16384), sdktrace.WithMaxExportBatchSize(8192), sdktrace.WithBatchTimeout(10*time.Minute)))
	defer func() { _ = sdk.Shutdown(ctx) }()

	hhOTel := tr.TracerProvider().Tracer("bench")
	sdkOTel := sdk.Tracer("bench")
	hhCtx, hhRoot := hhOTel.Start(ctx, "request")
	defer hhRoot.End()
	sdkCtx, sdkRoot := sdkOTel.Start(ctx, "request")
	defer sdkRoot.End()
	bindCtx, bindRoot := tr.Start(ctx, "request")
	defer bindRoot.End()

	reset := func() {
		if resp, err := http.Post(url+"/__hh/reset", "application/json", nil); err == nil {
			_ = resp.Body.Close()
		}
	}
	sides := []struct {
		name  string
		burst func(n int)
		flush func()
	}{
		{"provider", func(n int) { otelSpans(hhOTel, hhCtx, n) }, func() { _ = tr.Flush(ctx) }},
		{"sdk", func(n int) { otelSpans(sdkOTel, sdkCtx, n) }, func() { _ = sdk.ForceFlush(ctx) }},
		{"binding", func(n int) { bindingSpans(tr, bindCtx, n) }, func() { _ = tr.Flush(ctx) }},
	}
	const burst = 2000
	nsPerSpan := make([][]float64, len(sides))
	allocs := make([]float64, len(sides))
	spans := make([]int, len(sides))
	var ms runtime.MemStats
	b.ResetTimer()
	for done := 0; done < b.N; done += burst {
		n := min(burst, b.N-done)
		for i, side := range sides {
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			before := ms.Mallocs
			b.StartTimer()
			t0 := time.Now()
			side.burst(n)
			elapsed := time.Since(t0)
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			allocs[i] += float64(ms.Mallocs - before)
			spans[i] += n
			nsPerSpan[i] = append(nsPerSpan[i], float64(elapsed.Nanoseconds())/float64(n))
			side.flush()
			reset()
			b.StartTimer()
		}
	}
	b.StopTimer()
	med := make([]float64, len(sides))
	for i, side := range sides {
		sort.Float64s(nsPerSpan[i])
		med[i] = nsPerSpan[i][len(nsPerSpan[i])/2]
		b.ReportMetric(med[i], side.name+"-ns/span")
		b.ReportMetric(allocs[i]/float64(spans[i]), side.name+"-allocs/span")
	}
	b.ReportMetric(med[0]/med[1], "provider/sdk")
	b.ReportMetric(med[2]/med[1], "binding/sdk")
	if st, err := tr.Stats(); err != nil || st.SpansDropped != 0 {
		b.Fatalf("stats %+v, %v: spans were dropped", st, err)
	}
}

func otelSpans(t trace.Tracer, ctx context.Context, n int) {
	for i := 0; i < n; i++ {
		_, s := t.Start(ctx, "llm.call")
		s.SetAttributes(attribute.String("model", "gpt-4o"), attribute.Int("tokens", 42), attribute.Float64("temperature", 0.7))
		s.End()
	}
}

func bindingSpans(tr *honeyhive.Tracer, ctx context.Context, n int) {
	for i := 0; i < n; i++ {
		_, s := tr.Start(ctx, "llm.call")
		_ = s.SetAttributes(honeyhive.StringAttr(honeyhive.NSNone, "model", "gpt-4o"),
			honeyhive.IntAttr(honeyhive.NSNone, "tokens", 42), honeyhive.FloatAttr(honeyhive.NSNone, "temperature", 0.7))
		s.End()
	}
}
