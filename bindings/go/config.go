package honeyhive

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
)

// Config configures a Tracer. Every field is optional: a zero value (empty string, 0, false,
// nil) is left out of the configuration, so the library falls back to its HH_* / OTEL_*
// environment variable (e.g. HH_API_KEY, HH_PROJECT, HH_SOURCE, HH_API_URL, HH_EXPORTER,
// HH_OTLP_PROTOCOL, HH_TEST_MODE) and then to its default. Explicit fields win over the
// environment. To force a value that is the Go zero value (for example test_mode=false while
// HH_TEST_MODE=true is set), put it in Extra.
//
// The wire header hh-client-language is always "go" for tracers made by this package.
type Config struct {
	APIKey          string `json:"api_key,omitempty"`
	IngestionAPIKey string `json:"ingestion_api_key,omitempty"`
	Project         string `json:"project,omitempty"`
	Source          string `json:"source,omitempty"` // default "dev"
	SessionName     string `json:"session_name,omitempty"`
	SessionID       string `json:"session_id,omitempty"` // a UUID for the default session
	ServerURL       string `json:"server_url,omitempty"` // default https://api.dp1.us.honeyhive.ai

	TestMode     bool   `json:"test_mode,omitempty"`     // send nothing
	DisableBatch bool   `json:"disable_batch,omitempty"` // export each span as it ends
	Verbose      bool   `json:"verbose,omitempty"`
	OTLPProtocol string `json:"otlp_protocol,omitempty"` // "http/json" (default) or "http/protobuf"
	// Exporter is "honeyhive" (default), "otlp" (to OTLPEndpoint), "file" (to FilePath) or
	// "console" (stdout).
	Exporter     string            `json:"exporter,omitempty"`
	OTLPEndpoint string            `json:"otlp_endpoint,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"` // extra export headers
	FilePath     string            `json:"file_path,omitempty"`

	Inputs   map[string]any `json:"inputs,omitempty"`   // of the default session
	Metadata map[string]any `json:"metadata,omitempty"` // of the default session

	RunID        string `json:"run_id,omitempty"`
	DatasetID    string `json:"dataset_id,omitempty"`
	DatapointID  string `json:"datapoint_id,omitempty"`
	IsEvaluation bool   `json:"is_evaluation,omitempty"`

	// SkipBackendSessionCreation: no POST /session/start for the default session (with
	// SessionID: the session is trusted to exist; without: there is no default session).
	SkipBackendSessionCreation bool `json:"skip_backend_session_creation,omitempty"`

	SpanNameFilters *SpanNameFilters `json:"span_name_filters,omitempty"`

	ScheduleDelayMS    int `json:"schedule_delay_ms,omitempty"`     // batch delay, default 5000
	MaxQueueSize       int `json:"max_queue_size,omitempty"`        // default 2048
	MaxQueueBytes      int `json:"max_queue_bytes,omitempty"`       // memory bound of the queue
	MaxExportBatchSize int `json:"max_export_batch_size,omitempty"` // default 512
	ExportTimeoutMS    int `json:"export_timeout_ms,omitempty"`     // default 30000
	APITimeoutMS       int `json:"api_timeout_ms,omitempty"`        // session REST calls, default 5000

	ServiceName string `json:"service_name,omitempty"` // resource service.name
	// ResourceAttributes are merged into the OpenTelemetry resource of exported spans
	// (string, number or bool values; they win over OTEL_RESOURCE_ATTRIBUTES). The package
	// sets process.runtime.name "go" and process.runtime.version (runtime.Version()) unless
	// given here.
	ResourceAttributes map[string]any `json:"resource_attributes,omitempty"`
	// LinkCarrier continues a remote trace and session, as the reference SDK's link_carrier:
	// W3C headers ("traceparent", "baggage"; any case) of the caller, e.g. from
	// CarrierFromHeader(r.Header). The tracer's root spans become children of its
	// traceparent, and the session in its baggage is the tracer's default session.
	LinkCarrier map[string]string `json:"link_carrier,omitempty"`

	// Extra holds further config keys, sent as given; they win over the fields above.
	Extra map[string]any `json:"-"`

	// Logger receives what the OpenTelemetry API cannot return: span operations of the
	// tracer's TracerProvider refused by the library (an invalid name, a start that
	// failed). Operations on ended spans or a closed tracer are ignored silently. Default
	// slog.Default().
	Logger *slog.Logger `json:"-"`
}

// SpanNameFilters excludes spans by name prefix: with Include a span's name must start with
// one of its prefixes; with Exclude it must start with none. Excluded spans are not exported.
type SpanNameFilters struct {
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

// clientLanguage is sent as hh-client-language on every request.
const clientLanguage = "go"

// configJSON renders the config as the JSON object hh_tracer_new takes (NUL-terminated).
func (c *Config) configJSON() ([]byte, error) {
	type plain Config // no methods: avoids recursion
	b, err := json.Marshal((*plain)(c))
	if err != nil {
		return nil, newError("config", StatusInvalidConfig, err.Error())
	}
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep large integers exact
	if err := dec.Decode(&m); err != nil {
		return nil, newError("config", StatusInvalidConfig, err.Error())
	}
	for k, v := range c.Extra {
		m[k] = v
	}
	m["client_language"] = clientLanguage
	m["resource_attributes"] = withRuntime(m["resource_attributes"])
	b, err = json.Marshal(m)
	if err != nil {
		return nil, newError("config", StatusInvalidConfig, err.Error())
	}
	return cjson(b), nil
}

// withRuntime adds the Go runtime's resource attributes to the user's (which win); a value
// that is not an object is left for the library to refuse.
func withRuntime(user any) any {
	out := map[string]any{
		"process.runtime.name":    "go",
		"process.runtime.version": runtime.Version(),
	}
	switch u := user.(type) {
	case nil:
	case map[string]any:
		for k, v := range u {
			out[k] = v
		}
	case map[string]string:
		for k, v := range u {
			out[k] = v
		}
	default:
		return user
	}
	return out
}

// CarrierFromHeader returns the W3C trace headers of h (traceparent, tracestate, baggage)
// as a Config.LinkCarrier.
func CarrierFromHeader(h http.Header) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"traceparent", "tracestate", "baggage"} {
		if v := h.Values(k); len(v) > 0 {
			out[k] = strings.Join(v, ",")
		}
	}
	return out
}
