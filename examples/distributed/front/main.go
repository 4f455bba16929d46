// Command front is the Go half of the distributed demo (examples/distributed): an HTTP service
// that answers GET /ask?q=... by planning, then calling the Ruby "back" service over HTTP.
//
// Every request gets a HoneyHive session and a trace. The call to the back service carries
// the trace and the session in W3C traceparent/baggage headers (Tracer.Inject), so the back
// service's spans join the same trace and session although another process, in another
// language, exports them.
//
//	front -back http://127.0.0.1:PORT [-addr 127.0.0.1:0]
//
// Prints "FRONT_URL=http://HOST:PORT" once listening. POST /quit closes the tracer (flushing
// its spans) and exits. Configuration: HH_* environment variables (HH_API_KEY, HH_API_URL,
// HH_EXPORTER, HH_EXPORT_FILE, ...), read by the library.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

type server struct {
	tracer *honeyhive.Tracer
	back   string
	client *http.Client
	quit   chan struct{}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	back := flag.String("back", "", "base URL of the back service (required)")
	flag.Parse()
	if *back == "" {
		log.Fatal("front: -back is required")
	}
	tracer, err := honeyhive.NewTracer(honeyhive.Config{
		ServiceName:                "distributed-front",
		SkipBackendSessionCreation: true, // no default session: each request creates its own
		ScheduleDelayMS:            200,
	})
	if err != nil {
		log.Fatalf("front: tracer: %v", err)
	}
	s := &server{tracer: tracer, back: strings.TrimRight(*back, "/"), client: &http.Client{Timeout: 10 * time.Second}, quit: make(chan struct{})}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("front: listen: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ask", s.ask)
	mux.HandleFunc("POST /quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		close(s.quit)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatalf("front: serve: %v", err)
		}
	}()
	fmt.Printf("FRONT_URL=http://%s\n", ln.Addr())
	os.Stdout.Sync()

	<-s.quit
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	if err := tracer.Close(ctx); err != nil { // flushes: every span delivered, or says why not
		log.Printf("front: close: %v", err)
		os.Exit(2)
	}
}

type answer struct {
	Question  string `json:"question"`
	Answer    string `json:"answer"`
	SessionID string `json:"session_id"`
	TraceID   string `json:"trace_id"`
	Back      string `json:"back_language"`
}

func (s *server) ask(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if q == "" {
		q = "What is distributed tracing?"
	}
	ctx, sid, err := s.tracer.CreateSession(r.Context(), honeyhive.SessionOptions{
		Name:   "distributed-ask",
		Inputs: map[string]any{"question": q},
	})
	if err != nil {
		log.Printf("front: session: %v", err) // telemetry never fails the request
	}
	ctx, span := s.tracer.Start(ctx, "front.handle_ask", honeyhive.WithEventType(honeyhive.EventChain),
		honeyhive.WithInputs(map[string]any{"question": q}))
	defer span.End()

	plan, _ := honeyhive.Trace(ctx, s.tracer, "front.plan", func(ctx context.Context) (string, error) {
		time.Sleep(3 * time.Millisecond)
		return "ask the back service for context and an answer", nil
	}, honeyhive.WithEventType(honeyhive.EventTool))

	res, err := s.callBack(ctx, q)
	if err != nil {
		_ = span.RecordError(err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	_ = span.Enrich(honeyhive.Enrichment{
		Outputs:  map[string]any{"answer": res.Answer},
		Metadata: map[string]any{"plan": plan, "back_language": res.Language},
	})
	_ = s.tracer.EnrichSession(ctx, "", honeyhive.Enrichment{Outputs: map[string]any{"answer": res.Answer}})

	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer{Question: q, Answer: res.Answer, SessionID: sid,
		TraceID: span.TraceID(), Back: res.Language})
}

type backResult struct {
	Answer   string `json:"answer"`
	Language string `json:"language"`
}

// callBack calls the back service inside a "front.call_back" span whose context travels in
// the request's traceparent and baggage headers.
func (s *server) callBack(ctx context.Context, q string) (backResult, error) {
	ctx, span := s.tracer.Start(ctx, "front.call_back", honeyhive.WithEventType(honeyhive.EventTool))
	defer span.End()
	var res backResult
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.back+"/answer?q="+url.QueryEscape(q), nil)
	if err != nil {
		_ = span.RecordError(err)
		return res, err
	}
	if err := s.tracer.Inject(ctx, req.Header); err != nil {
		log.Printf("front: inject: %v", err)
	}
	_ = span.Enrich(honeyhive.Enrichment{Inputs: map[string]any{
		"url": req.URL.String(), "traceparent": req.Header.Get("traceparent")}})
	resp, err := s.client.Do(req)
	if err != nil {
		_ = span.RecordError(err)
		return res, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = span.SetInt(honeyhive.NSMetadata, "http.status_code", int64(resp.StatusCode))
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("back service: %s: %s", resp.Status, strings.TrimSpace(string(body)))
		_ = span.RecordError(err)
		return res, err
	}
	if err := json.Unmarshal(body, &res); err != nil {
		_ = span.RecordError(err)
		return res, err
	}
	_ = span.Enrich(honeyhive.Enrichment{Outputs: map[string]any{"answer": res.Answer}})
	return res, nil
}
