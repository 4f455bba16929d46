package otelgo_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

// The loopback receiver (tests/receiver, hh-receiver), one process per test.

var receiverBin string

func TestMain(m *testing.M) {
	bin := os.Getenv("HH_RECEIVER_BIN")
	if bin == "" {
		bin = filepath.Join("..", "..", "..", "target", "release", "hh-receiver")
	}
	abs, err := filepath.Abs(bin)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FATAL: hh-receiver not found at %s (%v); build it with `make lib` or set HH_RECEIVER_BIN\n", bin, err)
		os.Exit(1)
	}
	receiverBin = abs
	os.Exit(m.Run())
}

type receiver struct{ URL string }

func startReceiver(t testing.TB) *receiver {
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
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "HH_RECEIVER_URL=")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		t.Fatalf("hh-receiver: %q %v", line, err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	return &receiver{URL: url}
}

func (r *receiver) config() honeyhive.Config {
	return honeyhive.Config{APIKey: "test-key", Project: "p", ServerURL: r.URL, ScheduleDelayMS: 50}
}

type wireSpan struct {
	TraceID      string         `json:"trace_id"`
	SpanID       string         `json:"span_id"`
	ParentSpanID *string        `json:"parent_span_id"`
	Name         string         `json:"name"`
	Kind         string         `json:"kind"`
	Attributes   map[string]any `json:"attributes"`
	StatusCode   string         `json:"status_code"`
	ScopeName    string         `json:"scope_name"`
}

func (s wireSpan) parent() string {
	if s.ParentSpanID == nil {
		return ""
	}
	return *s.ParentSpanID
}

func (s wireSpan) str(k string) string { v, _ := s.Attributes[k].(string); return v }

func (r *receiver) waitSpans(t testing.TB, n int) []wireSpan {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/__hh/wait?spans=%d&timeout_ms=20000", r.URL, n))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var spans []wireSpan
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&spans); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	if len(spans) < n {
		t.Fatalf("receiver got %d spans, want >= %d", len(spans), n)
	}
	return spans
}
