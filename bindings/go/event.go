package honeyhive

import (
	"context"
	"encoding/json"
	"runtime"
	"time"
)

// Event is a standalone event for Tracer.CreateEvent: a model call, tool step or chain
// recorded by id rather than as a span (the reference SDK's create_event). Only EventType
// and Name are needed; empty fields are left out.
type Event struct {
	Name      string    `json:"event_name"`
	EventType EventType `json:"event_type,omitempty"` // default tool
	// ID: a UUID chosen in advance; default a new one (CreateEvent returns it).
	ID string `json:"event_id,omitempty"`
	// SessionID: the session the event belongs to; default the session of the ctx given to
	// CreateEvent, else the tracer's default session.
	SessionID      string         `json:"session_id,omitempty"`
	ParentID       string         `json:"parent_id,omitempty"` // the parent event (or session) id
	Inputs         map[string]any `json:"inputs,omitempty"`
	Outputs        map[string]any `json:"outputs,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	Metrics        map[string]any `json:"metrics,omitempty"`
	Feedback       map[string]any `json:"feedback,omitempty"`
	Config         map[string]any `json:"config,omitempty"`
	UserProperties map[string]any `json:"user_properties,omitempty"`
	Error          string         `json:"error,omitempty"`
	// Duration of the work the event stands for (sent in milliseconds, HoneyHive's unit).
	Duration time.Duration `json:"-"`
}

// MarshalJSON renders the event as the JSON hh_event_create takes.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event // no methods: avoids recursion
	var w struct {
		plain
		Duration *float64 `json:"duration,omitempty"`
	}
	w.plain = plain(e)
	if e.Duration != 0 {
		ms := float64(e.Duration) / float64(time.Millisecond)
		w.Duration = &ms
	}
	return json.Marshal(w)
}

// CreateEvent records a standalone event (POST /events, in the background) and returns its
// id, made locally, so that the event can be enriched later (EnrichEvent, e.g. with user
// feedback that arrives after the request ended). It never waits for the network; delivery
// is counted in Stats (RESTCalls, RESTFailures) and awaited by Flush.
func (t *Tracer) CreateEvent(ctx context.Context, e Event) (string, error) {
	if err := t.valid("create event"); err != nil {
		return "", err
	}
	if e.SessionID == "" {
		e.SessionID = SessionIDFromContext(orBackground(ctx))
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", newError("create event", StatusInvalidJSON, err.Error())
	}
	id, err := cEventCreate(t.handle, cjson(b))
	runtime.KeepAlive(t)
	return id, err
}

// EnrichEvent adds data to any event by id (PUT /events, in the background): one made by
// CreateEvent, a span whose event id was set with Enrichment.UpdateEventID, or a session.
// Fields as for EnrichSession (EventType and UpdateEventID do not apply). It never waits for
// the network.
func (t *Tracer) EnrichEvent(eventID string, e Enrichment) error {
	if err := t.valid("enrich event"); err != nil {
		return err
	}
	e.EventType, e.UpdateEventID = EventDefault, ""
	b, err := json.Marshal(&e)
	if err != nil {
		return newError("enrich event", StatusInvalidJSON, err.Error())
	}
	err = cEventEnrich(t.handle, eventID, cjson(b))
	runtime.KeepAlive(t)
	return err
}
