// The Go side of the cross-language test: starts a session and a span, injects its context
// into HTTP headers, and prints them as "traceparent<TAB>baggage<TAB>session<TAB>span id".
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

func main() {
	t, err := honeyhive.NewTracer(honeyhive.Config{SessionName: "cross-language"}) // HH_* env vars
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, sid, err := t.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "cross-request"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, span := t.Start(ctx, "go.client_call", honeyhive.WithEventType(honeyhive.EventChain))
	h := http.Header{}
	if err := t.Inject(ctx, h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s\t%s\t%s\t%s\n", h.Get("traceparent"), h.Get("baggage"), sid, span.SpanID())
	span.End()
	if err := t.Close(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
