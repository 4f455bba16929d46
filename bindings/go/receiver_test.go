package honeyhive_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	honeyhive "github.com/honeyhiveai/libhoneyhive/bindings/go"
)

// receiverBin is the shared loopback test receiver (tests/receiver), found by TestMain.
var receiverBin string

func TestMain(m *testing.M) {
	bin := os.Getenv("HH_RECEIVER_BIN")
	if bin == "" {
		bin = filepath.Join("..", "..", "target", "release", "hh-receiver")
	}
	abs, err := filepath.Abs(bin)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FATAL: hh-receiver not found at %s (%v).\n"+
			"Build it with `make lib` at the repository root,\n"+
			"or set HH_RECEIVER_BIN.\n", bin, err)
		os.Exit(1)
	}
	receiverBin = abs
	os.Exit(m.Run())
}

// receiver is one hh-receiver process, private to a test (so faults and recorded data never
// leak between tests). It exits when its stdin closes (test cleanup, or this process dying).
type receiver struct {
	URL   string
	stdin io.WriteCloser
	cmd   *exec.Cmd
}

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
		t.Fatalf("start hh-receiver: %v", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("hh-receiver printed no URL: %v", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "HH_RECEIVER_URL=")
	if !ok {
		_ = cmd.Process.Kill()
		t.Fatalf("unexpected hh-receiver output %q", line)
	}
	r := &receiver{URL: url, stdin: stdin, cmd: cmd}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return r
}

// config points a tracer at the receiver with a short batch delay.
func (r *receiver) config() honeyhive.Config {
	return honeyhive.Config{
		APIKey:          "test-key",
		Project:         "p",
		ServerURL:       r.URL,
		ScheduleDelayMS: 50,
	}
}

type wireEvent struct {
	Name         string         `json:"name"`
	TimeUnixNano uint64         `json:"time_unix_nano"`
	Attributes   map[string]any `json:"attributes"`
}

type wireLink struct {
	TraceID    string         `json:"trace_id"`
	SpanID     string         `json:"span_id"`
	Attributes map[string]any `json:"attributes"`
}

type wireSpan struct {
	TraceID       string         `json:"trace_id"`
	SpanID        string         `json:"span_id"`
	ParentSpanID  *string        `json:"parent_span_id"`
	Name          string         `json:"name"`
	Kind          string         `json:"kind"`
	StartNanos    uint64         `json:"start_time_unix_nano"`
	EndNanos      uint64         `json:"end_time_unix_nano"`
	Attributes    map[string]any `json:"attributes"`
	Events        []wireEvent    `json:"events"`
	Links         []wireLink     `json:"links"`
	StatusCode    string         `json:"status_code"`
	StatusMessage string         `json:"status_message"`
	Resource      map[string]any `json:"resource"`
	ScopeName     string         `json:"scope_name"`
}

func (s wireSpan) parent() string {
	if s.ParentSpanID == nil {
		return ""
	}
	return *s.ParentSpanID
}

func (s wireSpan) attr(k string) any { return s.Attributes[k] }

func (s wireSpan) str(k string) string {
	v, _ := s.Attributes[k].(string)
	return v
}

type wireRequest struct {
	Seq            int               `json:"seq"`
	Method         string            `json:"method"`
	Path           string            `json:"path"`
	Headers        map[string]string `json:"headers"`
	BodyJSON       map[string]any    `json:"body_json"`
	OTLPFormat     *string           `json:"otlp_format"`
	Spans          []wireSpan        `json:"spans"`
	ResponseStatus int               `json:"response_status"`
}

func decode(t testing.TB, body io.Reader, into any) {
	t.Helper()
	dec := json.NewDecoder(body)
	dec.UseNumber() // ints stay distinguishable from floats ("1" vs "1.0")
	if err := dec.Decode(into); err != nil {
		t.Fatalf("decode receiver answer: %v", err)
	}
}

func (r *receiver) get(t testing.TB, path string, into any) {
	t.Helper()
	resp, err := http.Get(r.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	decode(t, resp.Body, into)
}

func (r *receiver) post(t testing.TB, path, body string) {
	t.Helper()
	resp, err := http.Post(r.URL+path, "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
}

// waitSpans waits (server-side, up to 20 s) until at least n spans arrived, and returns all.
func (r *receiver) waitSpans(t testing.TB, n int) []wireSpan {
	t.Helper()
	var spans []wireSpan
	r.get(t, fmt.Sprintf("/__hh/wait?spans=%d&timeout_ms=20000", n), &spans)
	if len(spans) < n {
		t.Fatalf("receiver got %d spans, want >= %d", len(spans), n)
	}
	return spans
}

func (r *receiver) spans(t testing.TB) []wireSpan {
	t.Helper()
	var spans []wireSpan
	r.get(t, "/__hh/spans", &spans)
	return spans
}

func (r *receiver) requests(t testing.TB) []wireRequest {
	t.Helper()
	var reqs []wireRequest
	r.get(t, "/__hh/requests", &reqs)
	return reqs
}

func (r *receiver) fault(t testing.TB, fault string) { r.post(t, "/__hh/fault", fault) }

func byName(t testing.TB, spans []wireSpan, name string) wireSpan {
	t.Helper()
	var found []wireSpan
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one span %q, got %d (of %d spans)", name, len(found), len(spans))
	}
	return found[0]
}

func requestsTo(reqs []wireRequest, method, pathSuffix string) []wireRequest {
	var out []wireRequest
	for _, r := range reqs {
		if r.Method == method && strings.HasSuffix(r.Path, pathSuffix) {
			out = append(out, r)
		}
	}
	return out
}

// sessionBody returns body_json.session of a POST /session/start request.
func sessionBody(r wireRequest) map[string]any {
	m, _ := r.BodyJSON["session"].(map[string]any)
	return m
}

// isInt reports whether v (decoded with UseNumber) is the JSON integer want.
func isInt(v any, want int64) bool {
	n, ok := v.(json.Number)
	if !ok || strings.ContainsAny(n.String(), ".eE") {
		return false
	}
	i, err := n.Int64()
	return err == nil && i == want
}
