package honeyhive_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

// The examples run in test mode (nothing is sent), so they need no account or server. In a
// real program leave TestMode out and set HH_API_KEY (and HH_PROJECT) in the environment.

func ExampleNewTracer() {
	tracer, err := honeyhive.NewTracer(honeyhive.Config{
		Project:  "my-app",
		Source:   "staging",
		TestMode: true,
	})
	if err != nil {
		fmt.Println("config error:", err)
		return
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracer.Close(ctx); err != nil {
			fmt.Println("close:", err)
		}
	}()
	fmt.Println("default session id length:", len(tracer.SessionID()))
	// Output: default session id length: 36
}

func ExampleTracer_Start() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	defer tracer.Close(context.Background())

	ctx, agent := tracer.Start(context.Background(), "agent", honeyhive.WithEventType(honeyhive.EventChain))
	defer agent.End()

	// A span started from ctx is a child of agent, in the same trace and session.
	_, call := tracer.Start(ctx, "openai.chat", honeyhive.WithEventType(honeyhive.EventModel))
	_ = call.Enrich(honeyhive.Enrichment{
		Inputs:   map[string]any{"messages": []any{map[string]any{"role": "user", "content": "hi"}}},
		Outputs:  map[string]any{"content": "hello!"},
		Metadata: map[string]any{"model": "gpt-4o"},
		Metrics:  map[string]any{"prompt_tokens": 3, "completion_tokens": 2},
	})
	_ = call.SetFloat(honeyhive.NSMetrics, "cost_usd", 0.0001)
	call.End()

	fmt.Println("same trace:", call.TraceID() == agent.TraceID())
	fmt.Println("same session:", call.SessionID() == agent.SessionID())
	// Output:
	// same trace: true
	// same session: true
}

func ExampleTracer_CreateSession() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	defer tracer.Close(context.Background())

	// One session per request / conversation; spans started from ctx belong to it.
	ctx, sessionID, err := tracer.CreateSession(context.Background(), honeyhive.SessionOptions{
		Name:   "support-chat",
		Inputs: map[string]any{"question": "Where is my order?"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, span := tracer.Start(ctx, "lookup-order", honeyhive.WithEventType(honeyhive.EventTool))
	span.End()

	_ = tracer.EnrichSession(ctx, "", honeyhive.Enrichment{
		Outputs:  map[string]any{"answer": "It ships tomorrow."},
		Feedback: map[string]any{"helpful": true},
	})
	fmt.Println("span joined the session:", span.SessionID() == sessionID)
	fmt.Println("not the default session:", sessionID != tracer.SessionID())
	// Output:
	// span joined the session: true
	// not the default session: true
}

func ExampleTrace() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	defer tracer.Close(context.Background())

	// The result is recorded as outputs.result, an error with RecordError.
	answer, err := honeyhive.Trace(context.Background(), tracer, "generate",
		func(ctx context.Context) (string, error) {
			return "42", nil
		},
		honeyhive.WithEventType(honeyhive.EventModel),
		honeyhive.WithInputs(map[string]any{"prompt": "the answer?"}))
	fmt.Println(answer, err)

	_, err = honeyhive.Trace(context.Background(), tracer, "flaky-tool",
		func(ctx context.Context) (int, error) { return 0, errors.New("rate limited") })
	fmt.Println(err)
	// Output:
	// 42 <nil>
	// rate limited
}

func ExampleTracer_Inject() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	defer tracer.Close(context.Background())

	// Client side: put the span's context (and its session) on the outgoing request.
	ctx, span := tracer.Start(context.Background(), "call-service-b")
	defer span.End()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://service-b.internal/", nil)
	_ = tracer.Inject(ctx, req.Header)

	// Server side (usually another process, in any language): continue trace and session.
	remote, err := tracer.Extract(context.Background(), req.Header)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, handler := tracer.Start(remote, "handle-request")
	defer handler.End()

	fmt.Println("traceparent set:", strings.HasPrefix(req.Header.Get("traceparent"), "00-"))
	fmt.Println("same trace:", handler.TraceID() == span.TraceID())
	fmt.Println("same session:", handler.SessionID() == span.SessionID())
	// Output:
	// traceparent set: true
	// same trace: true
	// same session: true
}

func ExampleTracer_Flush() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	defer tracer.Close(context.Background())

	_, span := tracer.Start(context.Background(), "work")
	span.End()

	// Bounded by the ctx deadline (DefaultTimeout without one).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	switch err := tracer.Flush(ctx); {
	case errors.Is(err, honeyhive.ErrTimeout):
		fmt.Println("still sending in the background")
	case errors.Is(err, honeyhive.ErrExportFailed):
		fmt.Println("some telemetry was lost")
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println("flushed")
	}
	// Output: flushed
}

func ExampleSpan_RecordError() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	defer tracer.Close(context.Background())

	_, span := tracer.Start(context.Background(), "fetch-document", honeyhive.WithEventType(honeyhive.EventTool))
	defer span.End()
	if _, err := http.Get("http://127.0.0.1:1/"); err != nil {
		_ = span.RecordError(err) // type "*url.Error", status ERROR, an "exception" event with a stack trace
	}
}
