package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runMainEnv makes the test binary act as the example program (so the test runs the real
// main, exit code included, without a separate go build).
const runMainEnv = "HH_EXAMPLE_RUN_MAIN"

var receiverBin string

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	bin := os.Getenv("HH_RECEIVER_BIN")
	if bin == "" {
		bin = filepath.Join("..", "..", "target", "release", "hh-receiver")
	}
	abs, err := filepath.Abs(bin)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FATAL: hh-receiver not found at %s (%v); build it with "+
			"`cargo build --release --lib -p honeyhive -p hh-test-receiver --bins` or set HH_RECEIVER_BIN\n", bin, err)
		os.Exit(1)
	}
	receiverBin = abs
	os.Exit(m.Run())
}

func startReceiver(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(receiverBin, "--exit-on-stdin-eof")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "HH_RECEIVER_URL=")
	if err != nil || !ok {
		t.Fatalf("hh-receiver: %q %v", line, err)
	}
	return url
}

type wireSpan struct {
	TraceID      string         `json:"trace_id"`
	SpanID       string         `json:"span_id"`
	ParentSpanID *string        `json:"parent_span_id"`
	Kind         string         `json:"kind"`
	Name         string         `json:"name"`
	Attributes   map[string]any `json:"attributes"`
}

type wireRequest struct {
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Headers  map[string]string `json:"headers"`
	BodyJSON map[string]any    `json:"body_json"`
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatal(err)
	}
}

// TestSelftestAgainstReceiver runs `example -selftest` configured only through HH_* env vars
// and checks on the wire that 3 request sessions arrived with their traced steps.
func TestSelftestAgainstReceiver(t *testing.T) {
	url := startReceiver(t)
	cmd := exec.Command(os.Args[0], "-selftest")
	env := []string{runMainEnv + "=1", "HH_API_KEY=test-key", "HH_PROJECT=example", "HH_API_URL=" + url,
		"OTEL_BSP_SCHEDULE_DELAY=50"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HH_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("selftest failed: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	if n := strings.Count("\n"+out.String(), "\nsession "); n != 3 {
		t.Fatalf("selftest printed %d answers, want 3:\n%s", n, out.String())
	}

	var spans []wireSpan
	getJSON(t, url+"/__hh/spans", &spans) // the selftest flushed before exiting
	var reqs []wireRequest
	getJSON(t, url+"/__hh/requests", &reqs)

	started := map[string]map[string]any{} // session id → POST /session/start body.session
	for _, r := range reqs {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/session/start") {
			s, _ := r.BodyJSON["session"].(map[string]any)
			if id, _ := s["session_id"].(string); id != "" {
				started[id] = s
			}
			if r.Headers["hh-client-language"] != "go" {
				t.Errorf("hh-client-language = %q", r.Headers["hh-client-language"])
			}
		}
	}

	byID := map[string]wireSpan{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	sessions := map[string]map[string]int{} // session → span name → count
	// Each request has two SERVER spans named after its route: honeyhive.Middleware's and,
	// under it, otelhttp's (on the tracer's provider).
	var continued, nested int
	for _, s := range spans {
		if s.Name != "GET /ask" {
			continue
		}
		if s.Kind != "SPAN_KIND_SERVER" {
			t.Errorf("request span kind %s, want SPAN_KIND_SERVER", s.Kind)
		}
		sid, _ := s.Attributes["honeyhive.session_id"].(string)
		if _, ok := started[sid]; !ok {
			t.Errorf("request span in session %q, which was never started", sid)
		}
		sessions[sid] = map[string]int{}
		if s.ParentSpanID != nil {
			p, ok := byID[*s.ParentSpanID]
			if ok && p.Name == "client.call" && p.TraceID == s.TraceID && p.Kind == "SPAN_KIND_CLIENT" {
				continued++
			}
			if ok && p.Name == "GET /ask" && p.TraceID == s.TraceID && p.Attributes["honeyhive.session_id"] == sid {
				nested++
			}
		}
	}
	if len(sessions) != 3 {
		t.Fatalf("request spans in %d sessions, want 3 (spans: %d)", len(sessions), len(spans))
	}
	if continued != 1 {
		t.Errorf("%d requests continued the client's trace, want 1", continued)
	}
	if nested != 3 {
		t.Errorf("%d otelhttp spans under the middleware's span, want 3", nested)
	}
	for _, s := range spans {
		sid, _ := s.Attributes["honeyhive.session_id"].(string)
		if steps, ok := sessions[sid]; ok {
			steps[s.Name]++
			if s.Name == "llm.chat_completion" && s.Attributes["honeyhive_event_type"] != "model" {
				t.Errorf("model span event type %v", s.Attributes["honeyhive_event_type"])
			}
		}
	}
	for sid, steps := range sessions {
		for _, name := range []string{"GET /ask", "retrieve", "prompt.render", "llm.chat_completion", "tool.word_count"} {
			want := 1
			if name == "GET /ask" {
				want = 2
			}
			if steps[name] != want {
				t.Errorf("session %s: %d %q spans, want %d (%v)", sid, steps[name], name, want, steps)
			}
		}
	}
}

// The example also runs with no account and no server: console exporter.
func TestSelftestWithConsoleExporter(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-selftest")
	env := []string{runMainEnv + "=1", "HH_EXPORTER=console"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HH_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("console selftest: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "llm.chat_completion") {
		t.Errorf("console output lacks the model span:\n%.2000s", out.String())
	}
}
