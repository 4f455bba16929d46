package honeyhive_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The OpenTelemetry span model, with OpenTelemetry's Go types (README, "The span model").

func ExampleWithSpanKind() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	defer tracer.Close(context.Background())

	// Work measured elsewhere: explicit start and end times, a kind, links to other spans.
	began := time.Now().Add(-2 * time.Second)
	_, upstream := tracer.Start(context.Background(), "enqueue", honeyhive.WithSpanKind(trace.SpanKindProducer))
	upstream.End()
	_, job := tracer.Start(context.Background(), "batch-job",
		honeyhive.WithSpanKind(trace.SpanKindConsumer),
		honeyhive.WithStartTime(began),
		honeyhive.WithLinks(trace.Link{
			SpanContext: upstream.SpanContext(),
			Attributes:  []attribute.KeyValue{attribute.String("messaging.operation", "receive")},
		}),
		honeyhive.WithTypedAttributes(honeyhive.StringSliceAttr(honeyhive.NSNone, "queues", []string{"a", "b"})))
	job.End(trace.WithTimestamp(began.Add(1500 * time.Millisecond)))

	fmt.Println("job has its own trace:", job.TraceID() != upstream.TraceID())
	// Output: job has its own trace: true
}

func ExampleSpan_AddEvent() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	defer tracer.Close(context.Background())

	_, span := tracer.Start(context.Background(), "retrieve", honeyhive.WithEventType(honeyhive.EventTool))
	defer span.End()
	span.AddEvent("cache.miss", trace.WithAttributes(attribute.Int("attempt", 2),
		attribute.StringSlice("keys", []string{"doc-1", "doc-7"})))
	span.SetName("retrieve-documents")
	// Any key, any OpenTelemetry type (slices included), in one call into the library.
	_ = span.SetAttributes(honeyhive.OTelAttributes(
		attribute.String("db.system", "qdrant"),
		attribute.Int64Slice("db.ids", []int64{1, 7}),
	)...)
	span.SetStatus(codes.Error, "index unavailable") // status apart from RecordError
	// The ids, without injecting a header:
	sc := span.SpanContext()
	fmt.Println(len(sc.TraceID().String()), len(sc.SpanID().String()), sc.IsValid())
	// Output: 32 16 true
}

func ExampleTracer_CreateEvent() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true})
	defer tracer.Close(context.Background())

	ctx, _, _ := tracer.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "chat"})
	// A standalone event in the session of ctx; its id comes back at once.
	eventID, err := tracer.CreateEvent(ctx, honeyhive.Event{
		Name:      "rerank",
		EventType: honeyhive.EventTool,
		Inputs:    map[string]any{"query": "refund policy"},
		Outputs:   map[string]any{"top": "doc-7"},
		Duration:  120 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Minutes later, when the user's feedback arrives: enrich the event by id.
	err = tracer.EnrichEvent(eventID, honeyhive.Enrichment{Feedback: map[string]any{"helpful": true}})
	fmt.Println(len(eventID), err)
	// Output: 36 <nil>
}

func ExampleTracer_Inject_session() {
	tracer, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true, Project: "my-app"})
	defer tracer.Close(context.Background())

	// Hand a session to another service, with no span of this one as a parent.
	ctx, sessionID, _ := tracer.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "pipeline"})
	h := http.Header{}
	_ = tracer.Inject(ctx, h)

	other, _ := honeyhive.NewTracer(honeyhive.Config{TestMode: true, Project: "my-app"})
	defer other.Close(context.Background())
	remote, _ := other.Extract(context.Background(), h)
	fmt.Println("traceparent:", h.Get("traceparent") == "")
	fmt.Println("same session:", honeyhive.SessionIDFromContext(remote) == sessionID)
	// Output:
	// traceparent: true
	// same session: true
}

func ExampleConfig_linkCarrier() {
	// A worker started by a request handler continues its trace and session.
	incoming := http.Header{}
	incoming.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	incoming.Set("baggage", "session_id=6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab")
	tracer, err := honeyhive.NewTracer(honeyhive.Config{
		TestMode:           true,
		ServiceName:        "indexer",
		ResourceAttributes: map[string]any{"deployment.environment": "staging"},
		LinkCarrier:        honeyhive.CarrierFromHeader(incoming),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tracer.Close(context.Background())
	_, span := tracer.Start(context.Background(), "index")
	defer span.End()
	fmt.Println(span.TraceID(), tracer.SessionID())
	// Output: 4bf92f3577b34da6a3ce929d0e0e4736 6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab
}
