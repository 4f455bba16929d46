package honeyhive

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// Stack traces for RecordError's exception.stacktrace. Go errors rarely carry a stack; where
// one does (a recovered panic, or an error type that records where it was made) that is the
// stack worth sending, else the stack where the error is recorded.

// maxStackFrames bounds a stack trace (a deep recursion would make a huge attribute).
const maxStackFrames = 64

// thisPackage prefixes the functions of this package, left out of a recorded stack.
const thisPackage = "github.com/honeyhiveai/libhoneyhive/bindings/go."

// errorStack returns the stack trace err (or an error in its chain) carries, or "".
func errorStack(err error) string {
	for depth := 0; err != nil && depth < 32; depth++ {
		switch e := err.(type) {
		case *PanicError:
			if e.Stack != "" {
				return e.Stack
			}
		case interface{ Stack() []byte }: // github.com/go-errors/errors and alike
			if b := e.Stack(); len(b) > 0 {
				return string(b)
			}
		case fmt.Formatter: // github.com/pkg/errors, cockroachdb/errors: %+v adds frames
			if s := fmt.Sprintf("%+v", e); strings.Contains(s, "\n\t") {
				return s
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if s := errorStack(inner); s != "" {
					return s
				}
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}

// callerStack returns the stack of the caller skip levels above its caller, without the
// frames of this package and of the runtime's panic machinery on top: for a panic, its first
// frame is the function that panicked.
func callerStack(skip int) string {
	var pcs [maxStackFrames]uintptr
	n := runtime.Callers(skip+2, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	var b strings.Builder
	top := true
	for {
		f, more := frames.Next()
		if top && (strings.HasPrefix(f.Function, thisPackage) || strings.HasPrefix(f.Function, "runtime.")) {
			if !more {
				break
			}
			continue
		}
		top = false
		b.WriteString(f.Function)
		b.WriteString("()\n\t")
		b.WriteString(f.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(f.Line))
		b.WriteByte('\n')
		if !more {
			break
		}
	}
	return b.String()
}

// PanicError is what Trace records when fn panics (and re-panics with the original value).
type PanicError struct {
	Value any
	Stack string // where the panic happened, most recent call first
}

func (p *PanicError) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Unwrap returns the panic value when it is an error.
func (p *PanicError) Unwrap() error {
	if err, ok := p.Value.(error); ok {
		return err
	}
	return nil
}
