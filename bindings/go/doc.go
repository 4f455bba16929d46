// Package honeyhive traces LLM applications into HoneyHive (or any OpenTelemetry
// collector) through libhoneyhive, a Rust library with a C ABI, linked with cgo.
//
// Tracer.TracerProvider makes the tracer an OpenTelemetry tracing implementation: give it to
// your OpenTelemetry instrumentation (otelhttp, otelgrpc, ...) and its spans are HoneyHive
// spans, in the traces and sessions of the context; Middleware gives each HTTP request a
// session and a SERVER span. Both APIs share one context (trace.SpanFromContext sees this
// package's spans), and the session travels as OpenTelemetry baggage (session_id).
//
// One Tracer per configuration (usually one per process, created at startup), a session
// per unit of work (a request, a conversation, a datapoint), and spans nested through
// context.Context:
//
//	tracer, err := honeyhive.NewTracer(honeyhive.Config{Project: "my-app"}) // HH_API_KEY from env
//	if err != nil { ... }
//	defer tracer.Close(context.Background())
//
//	ctx, sessionID, err := tracer.CreateSession(ctx, honeyhive.SessionOptions{Name: "chat"})
//	ctx, span := tracer.Start(ctx, "generate", honeyhive.WithEventType(honeyhive.EventModel))
//	defer span.End()
//	span.Enrich(honeyhive.Enrichment{Outputs: map[string]any{"text": answer}})
//
// The parent span and the session travel in the context.Context, never in thread-local
// state; a span started from a ctx that carries a span is its child and joins its session.
// Tracer.Inject and Tracer.Extract carry both across services as W3C traceparent and
// baggage headers.
//
// Spans have OpenTelemetry's span model with OpenTelemetry's Go types: WithSpanKind,
// WithLinks, WithStartTime at start; AddEvent, AddLink, SetStatus, SetName, SpanContext and
// End(trace.WithTimestamp(t)) on the span; attributes of any type under any key
// (OTelAttributes). Tracer.CreateEvent and Tracer.EnrichEvent record and enrich events by id.
//
// Every method is safe for concurrent use. Failures are *Error values carrying the C
// status (errors.Is with ErrTimeout, ErrExportFailed, ErrTracerClosed, ...); nothing
// panics. Finalizers end forgotten spans and close forgotten tracers as a safety net, but
// call Span.End and Tracer.Close yourself: a Go program never runs the library's exit-time
// flush (neither when main returns nor on os.Exit).
package honeyhive
