package honeyhive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quietStderr sends the process's stderr (fd 2, where the library's panic hook writes) to a
// temporary file until the returned func runs; the text is shown only if the test failed.
func quietStderr(t *testing.T) func() {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		return func() {}
	}
	saved, err := syscall.Dup(2)
	if err != nil || syscall.Dup3(int(tmp.Fd()), 2, 0) != nil {
		tmp.Close()
		return func() {}
	}
	return func() {
		_ = syscall.Dup3(saved, 2, 0)
		syscall.Close(saved)
		if t.Failed() {
			if text, err := os.ReadFile(tmp.Name()); err == nil {
				t.Logf("stderr of the failing section:\n%s", text)
			}
		}
		tmp.Close()
	}
}

func TestPanicInsideTheLibraryIsContained(t *testing.T) {
	// The library's panic hook prints the (deliberate) panic to stderr; keep it to one line.
	t.Setenv("RUST_BACKTRACE", "0")
	restore := quietStderr(t)
	err := cTestPanic()
	restore()
	var e *Error
	if !errors.Is(err, ErrPanic) || !errors.As(err, &e) || !strings.Contains(e.Message, "panic") {
		t.Fatalf("cTestPanic() = %#v", err)
	}
	// The library stays usable.
	tr, err := NewTracer(Config{TestMode: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(context.Background())
	if _, s := tr.Start(context.Background(), "after-panic"); s.Err() != nil {
		t.Fatal(s.Err())
	}
}

func TestTimeoutFromContext(t *testing.T) {
	if ms, err := timeoutMS(context.Background()); err != nil || ms != uint32(DefaultTimeout/time.Millisecond) {
		t.Errorf("no deadline: %d %v", ms, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if ms, err := timeoutMS(ctx); err != nil || ms < 3_500_000 || ms > 3_600_000 {
		t.Errorf("1h deadline: %d %v", ms, err)
	}
	past, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	if _, err := timeoutMS(past); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past deadline: %v", err)
	}
	if ms, err := timeoutMS(nil); err != nil || ms == 0 { //nolint:staticcheck
		t.Errorf("nil ctx: %d %v", ms, err)
	}
}

func TestBaggageHelpers(t *testing.T) {
	bag := "project=p, session_id=abc;prop=1,source=dev"
	if got := baggageValue(bag, sessionBaggageKeys...); got != "abc" {
		t.Errorf("baggageValue = %q", got)
	}
	if got := baggageValue("honeyhive.session_id=x", sessionBaggageKeys...); got != "x" {
		t.Errorf("alias: %q", got)
	}
	got := setBaggageValue(bag+",honeyhive_session_id=old", "session_id", "new", sessionBaggageKeys...)
	if got != "session_id=new,project=p,source=dev" {
		t.Errorf("setBaggageValue = %q", got)
	}
	if got := setBaggageValue("", "session_id", "s"); got != "session_id=s" {
		t.Errorf("empty: %q", got)
	}
}

func TestConfigJSONAlwaysSetsClientLanguage(t *testing.T) {
	c := Config{APIKey: "k", Extra: map[string]any{"client_language": "python", "test_mode": false}, MaxQueueSize: 10}
	b, err := c.configJSON()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b[:len(b)-1])
	for _, want := range []string{`"client_language":"go"`, `"test_mode":false`, `"max_queue_size":10`, `"api_key":"k"`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
	if strings.Contains(s, "project") || b[len(b)-1] != 0 {
		t.Errorf("unexpected config JSON %q", b)
	}
}

func TestConfigJSONSetsTheGoRuntimeBelowUserResourceAttributes(t *testing.T) {
	resource := func(c Config) map[string]any {
		t.Helper()
		b, err := c.configJSON()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b[:len(b)-1], &m); err != nil {
			t.Fatal(err)
		}
		r, _ := m["resource_attributes"].(map[string]any)
		return r
	}
	r := resource(Config{})
	if r["process.runtime.name"] != "go" || r["process.runtime.version"] != runtime.Version() {
		t.Errorf("default: %v", r)
	}
	r = resource(Config{ResourceAttributes: map[string]any{"process.runtime.name": "tinygo", "team": "ml"}})
	if r["process.runtime.name"] != "tinygo" || r["team"] != "ml" || r["process.runtime.version"] != runtime.Version() {
		t.Errorf("user values: %v", r)
	}
	r = resource(Config{Extra: map[string]any{"resource_attributes": map[string]string{"a": "b"}}})
	if r["a"] != "b" || r["process.runtime.name"] != "go" {
		t.Errorf("from Extra: %v", r)
	}
}

type stackCarrier struct{}

func (stackCarrier) Error() string { return "s" }
func (stackCarrier) Stack() []byte { return []byte("frames") }

func TestErrorStackWalksTheChain(t *testing.T) {
	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"none":        {errors.New("x"), ""},
		"direct":      {stackCarrier{}, "frames"},
		"wrapped":     {fmt.Errorf("a: %w", fmt.Errorf("b: %w", stackCarrier{})), "frames"},
		"joined":      {errors.Join(errors.New("x"), stackCarrier{}), "frames"},
		"panic":       {&PanicError{Value: "v", Stack: "here"}, "here"},
		"panic error": {&PanicError{Value: stackCarrier{}}, "frames"},
	} {
		if got := errorStack(c.err); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
	if st := callerStack(0); !strings.HasPrefix(st, "testing.tRunner()") {
		t.Errorf("this package's frames are not left out: %q", st)
	}
}

func TestUnixNanos(t *testing.T) {
	if unixNanos(time.Time{}) != 0 || unixNanos(time.Unix(-5, 0)) != 1 || unixNanos(time.Unix(2, 3)) != 2_000_000_003 {
		t.Error("unixNanos")
	}
}

// The README's snippets after "## The span model" are parts of the Example functions of
// example_model_test.go, as written there (without the function's indentation): a snippet
// that no longer compiles fails the build of those examples, and one edited in only one of
// the two places fails here.
func TestReadmeSnippetsAreExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_model_test.go")
	if err != nil {
		t.Fatal(err)
	}
	examples := strings.ReplaceAll(string(src), "\n\t", "\n")
	_, section, ok := strings.Cut(string(readme), "## The span model")
	if !ok {
		t.Fatal("README has no span model section")
	}
	section, _, _ = strings.Cut(section, "\n## Configuration")
	n := 0
	for {
		_, rest, ok := strings.Cut(section, "```go\n")
		if !ok {
			break
		}
		snippet, after, _ := strings.Cut(rest, "```\n")
		section = after
		n++
		if !strings.Contains(examples, "\n"+snippet) {
			t.Errorf("README snippet %d is not in example_model_test.go as written:\n%s", n, snippet)
		}
	}
	if n < 5 {
		t.Errorf("found %d snippets, want the 5 of the span model and sessions sections", n)
	}
}
