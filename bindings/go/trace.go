package honeyhive

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Trace runs fn inside a span named name and records its result: the value as
// outputs.result (honeyhive_outputs.result, flattened when it is a struct or map) on
// success, the error (RecordError) on failure. A panic in fn is recorded as an error
// ("panic: ...", with the stack where it happened, escaped) and re-raised. The span is the
// parent of spans fn starts from its ctx.
//
//	answer, err := honeyhive.Trace(ctx, tracer, "answer", func(ctx context.Context) (string, error) {
//		return llm.Complete(ctx, prompt)
//	}, honeyhive.WithEventType(honeyhive.EventModel))
func Trace[T any](ctx context.Context, t *Tracer, name string, fn func(context.Context) (T, error), opts ...StartOption) (result T, err error) {
	ctx, span := t.Start(ctx, name, opts...)
	defer span.End()
	defer func() {
		if r := recover(); r != nil {
			// Still on the panicking goroutine's stack: the stack shows where it happened.
			_ = span.RecordError(&PanicError{Value: r, Stack: callerStack(0)},
				trace.WithAttributes(attribute.Bool(string(escapedKey), true)))
			panic(r)
		}
	}()
	result, err = fn(ctx)
	if err != nil {
		_ = span.RecordError(err)
		return result, err
	}
	if e := span.Enrich(Enrichment{Outputs: map[string]any{"result": result}}); e != nil && span.IsRecording() {
		// Not JSON-encodable (a func, a channel, a cycle...): record its text instead.
		_ = span.SetString(NSOutputs, "result", fmt.Sprintf("%+v", result))
	}
	return result, nil
}
