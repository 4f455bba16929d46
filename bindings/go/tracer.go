package honeyhive

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"runtime"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds Flush and Close when their context has no deadline.
const DefaultTimeout = 5 * time.Second

// finalizerCloseTimeout bounds the close done by the finalizer of a Tracer that was never
// closed (the finalizer goroutine is shared by the whole program: keep it short).
const finalizerCloseTimeout = 1000 // ms

// Tracer is one configured libhoneyhive tracer: API key, project, source, server and export
// mode, plus a default session. Many tracers may live side by side; they share no state.
// A Tracer is safe for concurrent use by many goroutines. Close it when done: spans still
// queued are delivered (within the Close deadline). A Tracer that becomes unreachable
// without Close is closed by a finalizer, as a safety net only.
type Tracer struct {
	handle uint64
	closed atomic.Bool
	logger *slog.Logger // never nil
}

// NewTracer creates a tracer. It never waits for the network: the default session's
// POST /session/start runs in the background. Errors are *Error values (errors.Is with
// ErrInvalidConfig etc.); the message names the offending field.
func NewTracer(cfg Config) (*Tracer, error) {
	js, err := cfg.configJSON()
	if err != nil {
		return nil, err
	}
	h, err := cTracerNew(js)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	t := &Tracer{handle: h, logger: logger}
	runtime.SetFinalizer(t, (*Tracer).finalize)
	return t, nil
}

func (t *Tracer) finalize() {
	if !t.closed.Load() {
		_ = cTracerClose(t.handle, finalizerCloseTimeout)
	}
}

func (t *Tracer) valid(op string) error {
	if t == nil || t.handle == 0 {
		return newError(op, StatusInvalidHandle, "nil or zero Tracer (use NewTracer)")
	}
	return nil
}

// SessionID returns the tracer's default session id, or "" when it has none
// (SkipBackendSessionCreation without SessionID) or the tracer is invalid.
func (t *Tracer) SessionID() string {
	if t.valid("") != nil {
		return ""
	}
	id, err := cTracerSessionID(t.handle)
	runtime.KeepAlive(t)
	if err != nil {
		return ""
	}
	return id
}

// Flush waits until every span that ended before the call, and every session call made
// before it, has been delivered. The wait is bounded by ctx's deadline (DefaultTimeout when
// ctx has none); a ctx that is already done returns its error at once. It returns nil when
// everything was delivered and nothing was lost since the previous flush, an error wrapping
// ErrExportFailed when something was dropped or failed, and one wrapping ErrTimeout when
// delivery did not finish in time (it goes on in the background). Safe for concurrent use.
func (t *Tracer) Flush(ctx context.Context) error {
	if err := t.valid("flush"); err != nil {
		return err
	}
	ms, err := timeoutMS(ctx)
	if err != nil {
		return err
	}
	err = cTracerFlush(t.handle, ms)
	runtime.KeepAlive(t)
	return err
}

// Close flushes (as Flush, bounded by ctx's deadline or DefaultTimeout), stops the tracer's
// export and invalidates it: later calls on it or its spans return errors wrapping
// ErrTracerClosed (or ErrInvalidHandle). Closing again (or from two goroutines at once) waits
// for the first Close and returns its result: nil only if the first delivered everything.
func (t *Tracer) Close(ctx context.Context) error {
	if err := t.valid("close"); err != nil {
		return err
	}
	ms, err := timeoutMS(ctx)
	if err != nil {
		// Close anyway, without waiting: a done ctx must not leave the tracer open.
		ms = 0
	}
	cerr := cTracerClose(t.handle, ms)
	t.closed.Store(true)
	runtime.SetFinalizer(t, nil)
	runtime.KeepAlive(t)
	if cerr != nil {
		return cerr
	}
	return err
}

// Stats are the counters of one tracer.
type Stats struct {
	SpansStarted   uint64 // spans started on this tracer
	SpansEnded     uint64 // spans ended and recorded (filtered spans are not recorded)
	SpansExported  uint64 // spans delivered (2xx, or written by the file/console exporter)
	SpansDropped   uint64 // queue full, export failed after retries, or ended after close
	ExportRequests uint64 // export requests attempted (one per batch)
	ExportFailures uint64 // export requests that failed after all retries
	ExportRetries  uint64 // retries made by export requests
	RESTCalls      uint64 // session REST calls made
	RESTFailures   uint64 // session REST calls that failed after all retries (or were dropped)
	QueueLen       uint64 // spans waiting in the export queue now
	SpansRejected  uint64 // spans the server answered for but rejected (OTLP partial success)
	SpansNoSession uint64 // spans not exported because they had no session to belong to
}

// Stats returns the tracer's counters. It works on a closed tracer too (its final counts).
func (t *Tracer) Stats() (Stats, error) {
	if err := t.valid("stats"); err != nil {
		return Stats{}, err
	}
	s, err := cTracerStats(t.handle)
	runtime.KeepAlive(t)
	return s, err
}

// SessionOptions describes a new session (see Tracer.CreateSession). All fields are optional.
type SessionOptions struct {
	Name           string         `json:"session_name,omitempty"` // default "session-<8 hex>"
	ID             string         `json:"session_id,omitempty"`   // a UUID; default: a new one
	Inputs         map[string]any `json:"inputs,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	UserProperties map[string]any `json:"user_properties,omitempty"`
	Source         string         `json:"source,omitempty"` // default: the tracer's source
	// SkipAPICall: with ID, join that existing session without calling the API.
	SkipAPICall bool `json:"skip_api_call,omitempty"`
}

// CreateSession starts a new session (one per request, conversation or datapoint) and
// returns a ctx carrying it together with its id: spans started from that ctx, and their
// children, belong to the session. The span in ctx, if any, stays their parent. It never
// waits for the network: POST /session/start runs in the background and reaches the server
// before the session's spans. Safe for concurrent use.
func (t *Tracer) CreateSession(ctx context.Context, opts SessionOptions) (context.Context, string, error) {
	ctx = orBackground(ctx)
	if err := t.valid("create session"); err != nil {
		return ctx, "", err
	}
	b, err := json.Marshal(opts)
	if err != nil {
		return ctx, "", newError("create session", StatusInvalidJSON, err.Error())
	}
	id, err := cSessionCreate(t.handle, cjson(b))
	runtime.KeepAlive(t)
	if err != nil {
		return ctx, "", err
	}
	ctx = t.withSessionBaggage(ctx, id)
	return context.WithValue(ctx, ctxKey{}, &sessionScope{parent: parentFrom(ctx), sessionID: id}), id, nil
}

// EnrichSession enriches a session (PUT /events, in the background). sessionID "" means the
// session of ctx (see SessionIDFromContext), else the tracer's default session. Inputs are
// sent as metadata.inputs; Error joins metadata; EventType does not apply to sessions.
func (t *Tracer) EnrichSession(ctx context.Context, sessionID string, e Enrichment) error {
	if err := t.valid("enrich session"); err != nil {
		return err
	}
	if sessionID == "" {
		sessionID = SessionIDFromContext(orBackground(ctx))
	}
	e.EventType, e.UpdateEventID = EventDefault, ""
	b, err := json.Marshal(&e)
	if err != nil {
		return newError("enrich session", StatusInvalidJSON, err.Error())
	}
	err = cSessionEnrich(t.handle, sessionID, cjson(b))
	runtime.KeepAlive(t)
	return err
}

// Version returns the version of the loaded libhoneyhive, e.g. "0.1.0".
func Version() string { return cVersion() }

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// timeoutMS turns ctx's deadline into the millisecond timeout of flush/close.
func timeoutMS(ctx context.Context) (uint32, error) {
	ctx = orBackground(ctx)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d := DefaultTimeout
	if dl, ok := ctx.Deadline(); ok {
		d = time.Until(dl)
		if d <= 0 {
			return 0, context.DeadlineExceeded
		}
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxUint32 {
		ms = math.MaxUint32
	}
	return uint32(ms), nil
}
