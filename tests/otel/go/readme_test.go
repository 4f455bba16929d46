package otelgo_test

import (
	"os"
	"strings"
	"testing"
)

// The README's first program (under "## Use your OpenTelemetry instrumentation") is
// readme/main.go as written (its first comment line apart), so it compiles as shown.
func TestReadmeProgramIsReadmeMain(t *testing.T) {
	readme, err := os.ReadFile("../../../bindings/go/README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("readme/main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Use your OpenTelemetry instrumentation")
	if !ok {
		t.Fatal("README has no \"Use your OpenTelemetry instrumentation\" section")
	}
	_, rest, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal("no Go program in the section")
	}
	snippet, _, _ := strings.Cut(rest, "```\n")
	_, program, _ := strings.Cut(string(src), "\n") // without "// Command readme ..."
	if snippet != program {
		t.Errorf("README program differs from readme/main.go:\n%s", snippet)
	}
}
