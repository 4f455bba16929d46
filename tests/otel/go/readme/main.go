// Command readme is the first program of bindings/go/README.md, as written there.
package main

import (
	"context"
	"io"
	"log"
	"net/http"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

func main() {
	tracer, err := honeyhive.NewTracer(honeyhive.Config{Project: "my-app"}) // HH_API_KEY from the environment
	if err != nil {
		log.Fatal(err)
	}
	defer tracer.Close(context.Background()) // delivers what is queued

	// Every OpenTelemetry instrumentation of the program now makes HoneyHive spans, and
	// W3C traceparent + baggage (the session) travel between services.
	otel.SetTracerProvider(tracer.TracerProvider())
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))

	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /weather/{city}", func(w http.ResponseWriter, r *http.Request) {
		// The binding's own spans and OpenTelemetry's nest in one trace, either way round.
		ctx, span := tracer.Start(r.Context(), "forecast", honeyhive.WithEventType(honeyhive.EventTool))
		defer span.End()
		req, err := http.NewRequestWithContext(ctx, "GET", "https://wttr.in/"+r.PathValue("city")+"?format=3", nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := client.Do(req) // a CLIENT span; the callee continues trace and session
		if err != nil {
			span.RecordError(err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(w, resp.Body)
	})

	// Outermost, honeyhive.Middleware gives each request a session (or continues the
	// caller's) and a SERVER span named after the route; otelhttp's spans join them.
	handler := honeyhive.Middleware(tracer)(otelhttp.NewHandler(mux, "weather"))
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: handler}
	if err := srv.ListenAndServe(); err != nil {
		log.Print(err)
	}
}
