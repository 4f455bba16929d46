// Command honeyhive-install-check is a separate module that uses the Go binding the way an
// application would, linked against an installed libhoneyhive through pkg-config
// (go build -tags honeyhive_pkgconfig). It traces one session with two spans and exits 0 when
// the tracer closed with everything delivered. Configuration: HH_* environment variables.
package main

import (
	"context"
	"fmt"
	"os"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

func main() {
	tracer, err := honeyhive.NewTracer(honeyhive.Config{SessionName: "install-check"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracer:", err)
		os.Exit(1)
	}
	ctx, sid, err := tracer.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "install-check"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "session:", err)
		os.Exit(1)
	}
	ctx, root := tracer.Start(ctx, "go.installed", honeyhive.WithEventType(honeyhive.EventChain))
	_, child := tracer.Start(ctx, "go.installed.child", honeyhive.WithEventType(honeyhive.EventTool))
	child.End()
	root.End()
	if err := tracer.Close(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		os.Exit(2)
	}
	fmt.Printf("go: libhoneyhive %s, session %s\n", honeyhive.Version(), sid)
}
