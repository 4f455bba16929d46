// Command honeyhive-go-example is a small net/http service traced with libhoneyhive: its
// OpenTelemetry instrumentation (otelhttp) runs on the tracer's TracerProvider, and
// honeyhive.Middleware gives each request a session.
//
// Every request gets its own HoneyHive session (or continues the caller's trace and session
// when it sends W3C traceparent/baggage headers), and the handler's LLM-style steps are
// traced as spans: retrieve (tool) → prompt (chain) → model call (model) → tool call (tool).
//
// Configuration comes from HH_* environment variables, read by the library:
//
//	HH_API_KEY=...  HH_PROJECT=...  go run .                  # send to HoneyHive
//	HH_EXPORTER=console go run .                              # print spans, no account needed
//	HH_EXPORTER=file HH_EXPORT_FILE=/tmp/spans.jsonl go run .  # write spans to a file
//
// Then: curl 'http://127.0.0.1:8080/ask?q=how+do+sessions+work'
//
// With -selftest it listens on 127.0.0.1:0, sends itself 3 requests, flushes, closes and
// exits 0 (1 on any failure).
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
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("honeyhive-go-example", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	selftest := fs.Bool("selftest", false, "serve on 127.0.0.1:0, send 3 requests to itself, flush, close and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := log.New(stderr, "example: ", log.LstdFlags)

	// Everything else (HH_API_KEY, HH_PROJECT, HH_SOURCE, HH_API_URL, HH_EXPORTER, ...) comes
	// from the environment.
	tracer, err := honeyhive.NewTracer(honeyhive.Config{ServiceName: "honeyhive-go-example"})
	if err != nil {
		logger.Printf("tracer: %v", err)
		return 1
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tracer.Close(ctx); err != nil {
			logger.Printf("close: %v", err)
		}
	}()

	app := &app{tracer: tracer, log: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("/ask", app.ask)
	// Your OpenTelemetry instrumentation (here otelhttp) on the tracer's provider: its spans
	// are HoneyHive spans. honeyhive.Middleware, outermost, gives each request a session (or
	// continues the caller's traceparent/baggage) and a SERVER span named after the route.
	handler := honeyhive.Middleware(tracer)(otelhttp.NewHandler(
		withSessionHeader(tracer, logger, mux), "ask", otelhttp.WithTracerProvider(tracer.TracerProvider())))

	if *selftest {
		if err := runSelftest(tracer, handler, stdout); err != nil {
			logger.Printf("selftest: %v", err)
			return 1
		}
		return 0
	}

	srv := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	logger.Printf("listening on http://%s (try /ask?q=...)", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Printf("serve: %v", err)
		return 1
	}
	return 0
}

// withSessionHeader tells the caller its session (the one honeyhive.Middleware put in the
// request's context) and records the question as the session's input.
func withSessionHeader(tracer *honeyhive.Tracer, logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessionID := honeyhive.SessionIDFromContext(r.Context())
		w.Header().Set("X-HoneyHive-Session-ID", sessionID)
		if err := tracer.EnrichSession(r.Context(), sessionID, honeyhive.Enrichment{
			Inputs: map[string]any{"query": r.URL.Query().Get("q")},
		}); err != nil {
			logger.Printf("enrich session: %v", err) // tracing never breaks the service
		}
		next.ServeHTTP(w, r)
	})
}

type app struct {
	tracer *honeyhive.Tracer
	log    *log.Logger
}

type answer struct {
	SessionID string   `json:"session_id"`
	Answer    string   `json:"answer"`
	Sources   []string `json:"sources"`
	Words     int      `json:"words"`
}

// ask answers a question with a (fake, deterministic) retrieval-augmented LLM pipeline.
func (a *app) ask(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		http.Error(w, "missing ?q=", http.StatusBadRequest)
		return
	}
	t := a.tracer

	// 1. Retrieve: a tool step, its result recorded as outputs.result by Trace.
	docs, err := honeyhive.Trace(ctx, t, "retrieve", func(ctx context.Context) ([]string, error) {
		return retrieve(q, 2), nil
	}, honeyhive.WithEventType(honeyhive.EventTool), honeyhive.WithInputs(map[string]any{"query": q, "k": 2}))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}

	// 2. Prompt: build the prompt from a template.
	prompt := buildPrompt(ctx, t, q, docs)

	// 3. Model call: an LLM span with config, inputs, outputs and token metrics.
	text, err := callModel(ctx, t, prompt)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}

	// 4. Tool call: the model "asked" for a word count tool.
	words, err := honeyhive.Trace(ctx, t, "tool.word_count", func(ctx context.Context) (int, error) {
		return len(strings.Fields(text)), nil
	}, honeyhive.WithEventType(honeyhive.EventTool), honeyhive.WithInputs(map[string]any{"text": text}))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}

	// The session's outcome.
	if err := t.EnrichSession(ctx, "", honeyhive.Enrichment{
		Outputs: map[string]any{"answer": text},
		Metrics: map[string]any{"answer_words": words, "sources": len(docs)},
	}); err != nil {
		a.log.Printf("enrich session: %v", err)
	}

	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer{
		SessionID: honeyhive.SessionIDFromContext(ctx),
		Answer:    text,
		Sources:   docs,
		Words:     words,
	})
}

func buildPrompt(ctx context.Context, t *honeyhive.Tracer, q string, docs []string) string {
	_, span := t.Start(ctx, "prompt.render", honeyhive.WithEventType(honeyhive.EventChain))
	defer span.End()
	const template = "Answer using only the context.\nContext:\n{context}\nQuestion: {question}"
	prompt := strings.NewReplacer("{context}", "- "+strings.Join(docs, "\n- "), "{question}", q).Replace(template)
	_ = span.Enrich(honeyhive.Enrichment{
		Inputs:  map[string]any{"template": template, "question": q, "documents": docs},
		Outputs: map[string]any{"prompt": prompt},
	})
	return prompt
}

// callModel stands in for an LLM API call.
func callModel(ctx context.Context, t *honeyhive.Tracer, prompt string) (string, error) {
	_, span := t.Start(ctx, "llm.chat_completion", honeyhive.WithEventType(honeyhive.EventModel))
	defer span.End()
	_ = span.Enrich(honeyhive.Enrichment{
		Config: map[string]any{"provider": "fake", "model": "fake-gpt-mini", "temperature": 0.2},
		Inputs: map[string]any{"chat_history": []any{
			map[string]any{"role": "user", "content": prompt},
		}},
	})
	if err := ctx.Err(); err != nil {
		_ = span.RecordError(err)
		return "", err
	}
	lines := strings.Split(prompt, "\n")
	var ctxLines []string
	for _, l := range lines {
		if strings.HasPrefix(l, "- ") {
			ctxLines = append(ctxLines, strings.TrimPrefix(l, "- "))
		}
	}
	text := "Based on the docs: " + strings.Join(ctxLines, " ")
	promptTokens, completionTokens := len(strings.Fields(prompt)), len(strings.Fields(text))
	_ = span.Enrich(honeyhive.Enrichment{
		Outputs: map[string]any{"role": "assistant", "content": text},
		Metrics: map[string]any{
			"prompt_tokens":     promptTokens,
			"completion_tokens": completionTokens,
			"total_tokens":      promptTokens + completionTokens,
		},
	})
	return text, nil
}

var corpus = []string{
	"A session groups the spans of one request or conversation.",
	"Spans nest by explicit parent; the parent travels in context.Context.",
	"traceparent and baggage carry a trace and its session across services.",
	"Flush waits for delivery; Close flushes and stops the tracer.",
	"Enrichment adds inputs, outputs, metadata, metrics and feedback.",
}

// retrieve returns the k documents sharing the most words with q.
func retrieve(q string, k int) []string {
	words := map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(q)) {
		words[strings.Trim(w, "?.,!")] = true
	}
	type scored struct {
		doc   string
		score int
	}
	var all []scored
	for _, d := range corpus {
		s := 0
		for _, w := range strings.Fields(strings.ToLower(d)) {
			if words[strings.Trim(w, "?.,!;")] {
				s++
			}
		}
		all = append(all, scored{d, s})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].score > all[j].score })
	out := make([]string, 0, k)
	for _, s := range all[:k] {
		out = append(out, s.doc)
	}
	return out
}

// runSelftest serves on 127.0.0.1:0 and sends 3 requests: two plain ones (each gets a new
// session) and one continuing a client-side trace and session through traceparent/baggage.
func runSelftest(tracer *honeyhive.Tracer, handler http.Handler, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}

	get := func(ctx context.Context, q string, propagate bool) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/ask?q="+strings.ReplaceAll(q, " ", "+"), nil)
		if err != nil {
			return err
		}
		if propagate {
			if err := tracer.Inject(ctx, req.Header); err != nil {
				return err
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var a answer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d, decode: %v", q, resp.StatusCode, err)
		}
		fmt.Fprintf(stdout, "session %s: %s\n", a.SessionID, a.Answer)
		return nil
	}

	var errs []error
	for _, q := range []string{"how do sessions work", "what does flush do"} {
		errs = append(errs, get(context.Background(), q, false))
	}
	// A "client" with its own session calls the service: the service continues that trace and
	// session instead of creating one.
	cctx, _, err := tracer.CreateSession(context.Background(), honeyhive.SessionOptions{Name: "selftest-client"})
	if err == nil {
		var span *honeyhive.Span
		cctx, span = tracer.Start(cctx, "client.call", honeyhive.WithEventType(honeyhive.EventChain),
			honeyhive.WithSpanKind(trace.SpanKindClient))
		errs = append(errs, get(cctx, "how does baggage carry the session", true))
		span.End()
	}
	errs = append(errs, err)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs = append(errs, srv.Shutdown(ctx), tracer.Flush(ctx))
	return errors.Join(errs...)
}
