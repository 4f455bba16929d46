package honeyhive_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

// gcUntil runs the garbage collector (which queues finalizers) until cond holds, at most
// ~10 s. It waits for an outcome; it asserts nothing about how long that takes.
func gcUntil(cond func() bool) bool {
	for i := 0; i < 500; i++ {
		runtime.GC()
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

//go:noinline
func startAndForget(tr *honeyhive.Tracer, n int) {
	for i := 0; i < n; i++ {
		_, _ = tr.Start(context.Background(), "forgotten")
	}
}

func TestSpanFinalizerEndsForgottenSpans(t *testing.T) {
	tr := newTracer(t, honeyhive.Config{TestMode: true})
	startAndForget(tr, 10)
	ok := gcUntil(func() bool {
		st, err := tr.Stats()
		return err == nil && st.SpansEnded == 10
	})
	if !ok {
		st, _ := tr.Stats()
		t.Fatalf("forgotten spans were not ended by the finalizer: %+v", st)
	}
}

//go:noinline
func traceWithForgottenTracer(t *testing.T, cfg honeyhive.Config) {
	tr, err := honeyhive.NewTracer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, s := tr.Start(context.Background(), "from-a-forgotten-tracer")
	s.End()
}

func TestTracerFinalizerClosesAndFlushes(t *testing.T) {
	rcv := startReceiver(t)
	cfg := rcv.config()
	cfg.ScheduleDelayMS = 600000 // nothing is exported on schedule: only close flushes
	traceWithForgottenTracer(t, cfg)
	ok := gcUntil(func() bool { return len(rcv.spans(t)) == 1 })
	if !ok {
		t.Fatal("the span of a forgotten tracer never arrived: its finalizer did not close it")
	}
}
