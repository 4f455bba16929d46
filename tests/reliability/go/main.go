// Command exitcheck ends a Go program in the ways the reliability suite measures:
//
//	exitcheck <server_url> defer-close   spans ended, `defer tracer.Close(ctx)` in main, return
//	exitcheck <server_url> no-close      spans ended, no Close, return from main
//	exitcheck <server_url> os-exit       spans ended, `defer tracer.Close`, then os.Exit(0)
//
// Go's runtime does not run C atexit hooks (neither on return from main nor on os.Exit), so
// only Close delivers; this program shows it. It prints "ENDED <n>".
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: exitcheck <server_url> <mode>")
		os.Exit(2)
	}
	url, mode := os.Args[1], os.Args[2]
	tracer, err := honeyhive.NewTracer(honeyhive.Config{
		APIKey: "go-exit-key", Project: "go-exit", ServerURL: url, ScheduleDelayMS: 600000,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	if mode != "no-close" {
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tracer.Close(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "close:", err)
			}
		}()
	}
	ctx, _, err := tracer.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "go-exit"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	for i := 0; i < 20; i++ {
		_, span := tracer.Start(ctx, fmt.Sprintf("go-%s-%d", mode, i))
		span.End()
	}
	fmt.Println("ENDED 20")
	if mode == "os-exit" {
		os.Exit(0)
	}
}
