package honeyhive

// #include "honeyhive.h"
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// EventType is the HoneyHive event type of a span.
type EventType uint32

// Event types: the C constants HH_EVENT_* of honeyhive.h.
const (
	EventDefault EventType = C.HH_EVENT_DEFAULT // detected from the span name and attributes
	EventModel   EventType = C.HH_EVENT_MODEL   // an LLM call
	EventTool    EventType = C.HH_EVENT_TOOL    // a tool, retrieval or any other step
	EventChain   EventType = C.HH_EVENT_CHAIN   // a chain or agent grouping other steps
)

// String returns "model", "tool", "chain" or "" (default).
func (e EventType) String() string {
	switch e {
	case EventModel:
		return "model"
	case EventTool:
		return "tool"
	case EventChain:
		return "chain"
	case EventDefault:
		return ""
	}
	return fmt.Sprintf("EventType(%d)", uint32(e))
}

// MarshalText renders the event type as in enrichment JSON ("model", "tool", "chain").
func (e EventType) MarshalText() ([]byte, error) {
	if e > EventChain {
		return nil, fmt.Errorf("honeyhive: unknown event type %d", uint32(e))
	}
	return []byte(e.String()), nil
}

// Namespace selects where a typed attribute goes (HH_NS_*).
type Namespace uint32

// Namespaces of the typed setters: the C constants HH_NS_* of honeyhive.h.
const (
	NSNone           Namespace = C.HH_NS_NONE            // the key is used as given
	NSInputs         Namespace = C.HH_NS_INPUTS          // honeyhive_inputs.<key>
	NSOutputs        Namespace = C.HH_NS_OUTPUTS         // honeyhive_outputs.<key>
	NSMetadata       Namespace = C.HH_NS_METADATA        // honeyhive_metadata.<key>
	NSMetrics        Namespace = C.HH_NS_METRICS         // honeyhive_metrics.<key>
	NSFeedback       Namespace = C.HH_NS_FEEDBACK        // honeyhive_feedback.<key>
	NSConfig         Namespace = C.HH_NS_CONFIG          // honeyhive_config.<key>
	NSUserProperties Namespace = C.HH_NS_USER_PROPERTIES // honeyhive_user_properties.<key>
)

// Enrichment is structured data for a span (Span.Enrich) or a session
// (Tracer.EnrichSession). Maps are flattened into typed attributes:
// Metadata {"a": {"b": 1}} becomes honeyhive_metadata.a.b = 1 (an int). Values must be
// encodable by encoding/json. Empty fields are left out.
type Enrichment struct {
	Inputs         map[string]any `json:"inputs,omitempty"`
	Outputs        map[string]any `json:"outputs,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	Metrics        map[string]any `json:"metrics,omitempty"`
	Feedback       map[string]any `json:"feedback,omitempty"`
	Config         map[string]any `json:"config,omitempty"`
	UserProperties map[string]any `json:"user_properties,omitempty"`
	Error          string         `json:"error,omitempty"`      // honeyhive_error
	EventType      EventType      `json:"event_type,omitempty"` // spans only
	// UpdateEventID (spans only) sets the id of the event the span becomes
	// (honeyhive_event_id), e.g. one chosen in advance to enrich it later by id.
	UpdateEventID string `json:"update_event_id,omitempty"`
}

// Span is one operation inside a session. Start it with Tracer.Start and end it with End
// (typically `defer span.End()`). All methods are safe for concurrent use and never panic;
// they may be called on a nil *Span or on the no-op span Start returns on failure, and then
// return an error (or do nothing).
type Span struct {
	handle uint64
	err    error // why Start failed (handle == 0), or why WithInputs failed (set once, before publication)

	state atomic.Uint32 // spanLive → spanEnded
}

const (
	spanLive uint32 = iota
	spanEnded
)

func noopSpan(err error) *Span { return &Span{err: err} }

// Err returns why Start failed (the span is then a no-op), or why a start option could not
// be applied to a started span (WithInputs over a library limit); nil otherwise.
func (s *Span) Err() error {
	if s == nil {
		return newError("", StatusInvalidHandle, "nil Span")
	}
	return s.err
}

// IsRecording reports whether the span was started and has not ended.
func (s *Span) IsRecording() bool {
	return s != nil && s.handle != 0 && s.state.Load() == spanLive
}

func (s *Span) live(op string) error {
	if s == nil {
		return newError(op, StatusInvalidHandle, "nil Span")
	}
	if s.handle == 0 {
		if s.err != nil {
			return s.err
		}
		return newError(op, StatusInvalidHandle, "span was not started")
	}
	if s.state.Load() != spanLive {
		return newError(op, StatusSpanEnded, "the span has already ended")
	}
	return nil
}

// End ends the span and hands it to the export pipeline; it never waits for the network
// (except with Config.DisableBatch). Ending twice is a no-op. A span ended after its
// tracer's Close is dropped and counted in Stats().SpansDropped.
//
// trace.WithTimestamp(t) among options sets the end time (for work measured elsewhere); the
// other OpenTelemetry end options have no effect.
//
// The library keeps the ended span's handle (hh_span_end_ex with HH_END_KEEP_HANDLE) for as
// long as the *Span is reachable, so it can still parent children and be injected however
// long ago it ended; the handle is released (hh_span_release_many) when the *Span is collected.
func (s *Span) End(options ...trace.SpanEndOption) {
	// Marked ended first (one atomic operation): a setter racing with End gets "ended"
	// slightly early, which is what it would get an instant later anyway.
	if s == nil || s.handle == 0 || !s.state.CompareAndSwap(spanLive, spanEnded) {
		return
	}
	if len(options) > 0 {
		cfg := trace.NewSpanEndConfig(options...)
		if ts := cfg.Timestamp(); !ts.IsZero() {
			_ = cSpanEndAtKeep(s.handle, unixNanos(ts))
			runtime.KeepAlive(s)
			return
		}
	}
	_ = cSpanEndKeep(s.handle)
	runtime.KeepAlive(s)
}

// EndWith sets attrs (all or none, as SetAttributes) and ends the span, in one call into the
// library: for what is known when the work is done (outputs, token counts, scores). The span
// ends even when the attributes are refused; the error says why. On an ended span it does
// nothing and returns ErrSpanEnded.
func (s *Span) EndWith(attrs ...Attribute) error {
	if err := s.live("end span"); err != nil {
		return err
	}
	if !s.state.CompareAndSwap(spanLive, spanEnded) {
		return newError("end span", StatusSpanEnded, "the span has already ended")
	}
	err := cSpanEndAttrsKeep(s.handle, attrs)
	if err != nil {
		_ = cSpanEndKeep(s.handle) // refused attributes: the span ends all the same
	}
	runtime.KeepAlive(s)
	return err
}

// Every started *Span has a cleanup that releases the handle End kept, and ends a span
// dropped without End (a safety net; its end time is then the collection time). A cleanup per
// span would cost more than the span itself (runtime.AddCleanup keeps a sorted list per
// memory span: ~0.5 µs each), so spans are allocated in chunks of spansPerChunk with one
// cleanup per chunk: it runs once no span of the chunk is reachable, and releases them all.
// (A long-lived span thus keeps up to spansPerChunk-1 ended handles of its neighbours, each a
// few hundred bytes in the library, until it is collected.)
const spansPerChunk = 64

type spanChunk struct {
	spans [spansPerChunk]Span
	ctxs  [spansPerChunk]spanCtx
}

// spanCtx is what context.WithValue(parent, ctxKey{}, span) would return, kept in the span's
// chunk instead of allocated apart (Start returns one with every span).
type spanCtx struct {
	context.Context
	span *Span
	otel otelSpan // the span as OpenTelemetry's current span of this context
}

func (c *spanCtx) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c.span
	}
	if key == otelSpanKey {
		return &c.otel
	}
	return c.Context.Value(key)
}

func (c *spanCtx) String() string {
	return fmt.Sprintf("%v.WithValue(honeyhive.Span)", c.Context)
}

// chunkHandles are the handles of one chunk's spans, apart from the chunk (a cleanup must
// not reach the object it watches).
type chunkHandles [spansPerChunk]atomic.Uint64

// chunkCursor is where the next span of a chunk goes. Cursors live in a sync.Pool: each P
// takes its own (no lock), and the pool forgets them at garbage collection, so a chunk the
// program no longer uses is not kept alive by its cursor.
type chunkCursor struct {
	chunk   *spanChunk
	handles *chunkHandles
	next    int
}

var cursors = sync.Pool{New: func() any { return new(chunkCursor) }}

// newSpan returns a *Span for a started span's handle, and parent carrying it.
func newSpan(h uint64, parent context.Context, t *Tracer) (*Span, context.Context) {
	cur := cursors.Get().(*chunkCursor)
	if cur.chunk == nil || cur.next == spansPerChunk {
		cur.chunk, cur.handles, cur.next = new(spanChunk), new(chunkHandles), 0
		runtime.AddCleanup(cur.chunk, releaseChunk, cur.handles)
	}
	c, i := cur.chunk, cur.next
	cur.next++
	cur.handles[i].Store(h)
	cursors.Put(cur)
	s := &c.spans[i]
	s.handle = h
	c.ctxs[i] = spanCtx{Context: parent, span: s, otel: otelSpan{s: s, t: t}}
	return s, &c.ctxs[i]
}

func releaseChunk(hs *chunkHandles) {
	var list [spansPerChunk]uint64
	for i := range hs {
		list[i] = hs[i].Load()
	}
	_ = cSpanReleaseMany(list[:]) // one call into C for the chunk, not one per span
}

// Enrich adds structured data to the span (all or nothing; see Enrichment).
func (s *Span) Enrich(e Enrichment) error {
	if err := s.live("enrich span"); err != nil {
		return err
	}
	b, err := json.Marshal(&e)
	if err != nil {
		return newError("enrich span", StatusInvalidJSON, err.Error())
	}
	err = cSpanEnrich(s.handle, cjson(b))
	runtime.KeepAlive(s)
	return err
}

// SetAttributes sets several attributes at once, all or none: when one is invalid (or the
// span would exceed its attribute limit) nothing is set and the error names it. The same
// attributes as the Set* methods one by one, in one call into the library instead of one per
// attribute (each call from Go into C costs about 60 ns).
func (s *Span) SetAttributes(attrs ...Attribute) error {
	if err := s.live("set attributes"); err != nil {
		return err
	}
	if len(attrs) == 0 {
		return nil
	}
	err := cSpanSetAttrs(s.handle, attrs)
	runtime.KeepAlive(s)
	return err
}

// SetString sets one string attribute, key under namespace ns.
func (s *Span) SetString(ns Namespace, key, value string) error {
	if err := s.live("set attribute"); err != nil {
		return err
	}
	err := cSpanSetStr(s.handle, ns, key, value)
	runtime.KeepAlive(s)
	return err
}

// SetInt sets one integer attribute, key under namespace ns.
func (s *Span) SetInt(ns Namespace, key string, value int64) error {
	if err := s.live("set attribute"); err != nil {
		return err
	}
	err := cSpanSetI64(s.handle, ns, key, value)
	runtime.KeepAlive(s)
	return err
}

// SetFloat sets one floating-point attribute, key under namespace ns.
func (s *Span) SetFloat(ns Namespace, key string, value float64) error {
	if err := s.live("set attribute"); err != nil {
		return err
	}
	err := cSpanSetF64(s.handle, ns, key, value)
	runtime.KeepAlive(s)
	return err
}

// SetBool sets one boolean attribute, key under namespace ns.
func (s *Span) SetBool(ns Namespace, key string, value bool) error {
	if err := s.live("set attribute"); err != nil {
		return err
	}
	err := cSpanSetBool(s.handle, ns, key, value)
	runtime.KeepAlive(s)
	return err
}

// SessionID returns the id of the session the span belongs to ("" if none or unknown).
func (s *Span) SessionID() string {
	if s == nil || s.handle == 0 {
		return ""
	}
	id, err := cSpanSessionID(s.handle)
	runtime.KeepAlive(s)
	if err != nil {
		return ""
	}
	return id
}

// context returns the span's traceparent and baggage (the handle stays valid while s is
// reachable, live or ended).
func (s *Span) context() (string, string, error) {
	if s == nil || s.handle == 0 {
		return "", "", s.Err()
	}
	var tp [traceparentBufLen]byte
	var bagBuf [256]byte
	bag, err := cSpanInject(s.handle, &tp, bagBuf[:])
	runtime.KeepAlive(s)
	if err != nil {
		return "", "", err
	}
	return string(tp[:traceparentBufLen-1]), string(bag), nil
}

// SpanFromContext returns the span carried by ctx (set by Tracer.Start or ContextWithSpan),
// or nil.
func SpanFromContext(ctx context.Context) *Span {
	if ctx == nil {
		return nil
	}
	switch v := ctx.Value(ctxKey{}).(type) {
	case *Span:
		return v
	case *sessionScope:
		if s, ok := v.parent.(*Span); ok {
			return s
		}
	}
	return nil
}

// ContextWithSpan returns a copy of ctx carrying span as the parent of spans started from
// it (span's session comes with it).
func ContextWithSpan(ctx context.Context, span *Span) context.Context {
	ctx = orBackground(ctx)
	if span == nil || span.handle == 0 {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, span)
}

var sessionBaggageKeys = []string{"session_id", "honeyhive_session_id", "honeyhive.session_id"}

// baggageValue returns the (first) value of one of keys in a W3C baggage header.
func baggageValue(baggage string, keys ...string) string {
	for _, member := range strings.Split(baggage, ",") {
		kv, _, _ := strings.Cut(member, ";")
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		for _, want := range keys {
			if k == want {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}

// setBaggageValue replaces (or adds) key in a W3C baggage header, dropping keys in drop.
func setBaggageValue(baggage, key, value string, drop ...string) string {
	out := make([]string, 0, 4)
	out = append(out, key+"="+value)
	for _, member := range strings.Split(baggage, ",") {
		if strings.TrimSpace(member) == "" {
			continue
		}
		kv, _, _ := strings.Cut(member, ";")
		k, _, _ := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		skip := k == key
		for _, d := range drop {
			skip = skip || k == d
		}
		if !skip {
			out = append(out, strings.TrimSpace(member))
		}
	}
	return strings.Join(out, ",")
}
