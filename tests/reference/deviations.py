"""The deliberate differences from the Python SDK, and what the comparison normalizes away.

DEVIATIONS is the one list: the README's table "Deliberate differences from the Python SDK"
names exactly these ids (compare.py --check-readme, run by run.sh, fails otherwise). Each
entry: id, what differs, why it is intended, and `match`, a predicate over a Difference
(None: not visible on this loopback wire, listed for the table). A difference only counts
as expected in a scenario that lists the id (scenarios.py); anywhere else it fails the run.
"""

from __future__ import annotations

import re

# The OTLP body fact naming every attribute value encoding seen, over all requests.
ENCODINGS = "attribute value encodings (variant:JSON type)"


class _Missing:  # pylint: disable=too-few-public-methods
    def __repr__(self) -> str:
        return "<absent>"


MISSING = _Missing()

# What is normalized away before comparing (never reported as a difference).
NORMALIZED = [
    "trace/span ids (parents and links name the span they point to), session and event ids "
    "(replaced by placeholders such as <DEFAULT_SESSION>, <EVENT_1>, or <SESSION of NAME> for "
    "a session made by the library itself), timestamps read from the clock (explicit ones "
    "given by the scenario are compared)",
    "order of the REST requests (ours sends them from a background worker; requests are "
    "matched by kind: which session they start or which event they enrich)",
    "hh-client-version / hh-client-language / hh-client-package values (presence is checked; "
    "hh-client-language is the binding's language)",
    "hh-client-timestamp value (presence and decimal form are checked)",
    "user-agent, host, content-length, accept-encoding, connection (HTTP client stack)",
    "resource attribute values (the keys the SDK sends must be present in ours)",
    "scope name suffix after 'honeyhive.' (Python's is its tracer object's id)",
    "order of attributes within a span, of spans within a request, batching into requests",
    "exception.stacktrace text (each language's own; presence and non-emptiness are checked)",
]


def _initial_non_scalar(d) -> bool:
    """Python-repr text vs our arrayValue / JSON text for a list or dict initial attribute."""
    if d.path == ENCODINGS:
        extra = set(d.ours or []) - set(d.python or [])
        return (all(e.startswith("arrayValue") for e in extra)
                and not set(d.python or []) - set(d.ours or []))
    if not d.area.endswith("(initial attributes)]") or not isinstance(d.python, dict):
        return False
    text = d.python.get("stringValue", "")
    return text[:1] in ("[", "{") and isinstance(d.ours, dict) and (
        "arrayValue" in d.ours or d.ours.get("stringValue", "")[:1] in ("[", "{"))


def _error_on_span(d) -> bool:
    """Our record_error also writes honeyhive_error / honeyhive_error_type on the span, and
    makes its status ERROR ("<type>: <message>") unless the caller set one."""
    if not d.area.startswith("span "):
        return False
    if d.path == "status":
        return (isinstance(d.python, dict) and d.python.get("code") == "STATUS_CODE_UNSET"
                and isinstance(d.ours, dict) and d.ours.get("code") == "STATUS_CODE_ERROR")
    return d.python is MISSING and d.path in ("honeyhive_error", "honeyhive_error_type")


def _one_exception_event(d) -> bool:
    """The SDK's start_span records an exception leaving it twice (its handler and OTel's
    use_span); ours once."""
    if d.area != "span raised_in_span":
        return False
    if d.path == "events (names)":
        return d.python == ["exception", "exception"] and d.ours == ["exception"]
    return d.path == "events[1]" and d.ours is MISSING


def _links_exported(d) -> bool:
    if not d.area.startswith("span "):
        return False
    if d.path == "links":
        return d.python is MISSING and isinstance(d.ours, list)
    if d.path == "span keys" and isinstance(d.python, list) and isinstance(d.ours, list):
        extra = set(d.ours) - set(d.python)
        return bool(extra) and extra <= {"links", "droppedLinksCount"} \
            and not set(d.python) - set(d.ours)
    return False


def _server_session_scoped(d) -> bool:
    """The SDK attaches the SERVER span's session to the context and never detaches it: a
    later root span of the context joins it, and a later SERVER span reuses it."""
    if d.area == "OTLP spans" and d.path == "span names":
        return set(d.python) - set(d.ours) == {"unrelated_after", "client_root"} \
            and set(d.ours) <= set(d.python)
    if d.area == "driver" and d.path.startswith("spans ended without a session"):
        return (d.python, d.ours) == (0, 2)
    if d.area == "OTLP spans" and d.path == "spans grouped by traceId":
        return [g for g in d.python if g not in (["unrelated_after"], ["client_root"])] == d.ours
    if d.area.startswith("span server_req_2 attrs ["):
        return _session_attr_differs(d, "<SESSION of server_req_1>", "<SESSION of server_req_2>")
    return False


def _session_attr_differs(d, python_value: str, ours_value: str) -> bool:
    return d.path.endswith("session_id") and (
        (d.python, d.ours) == (python_value, ours_value)
        or (d.python, d.ours) == ({"stringValue": python_value}, {"stringValue": ours_value}))


def _link_carrier(d) -> bool:
    """The SDK 1.7.0 accepts link_carrier and ignores it: its own session, a new trace."""
    if d.area == "REST session/start (sess-lc)" and d.path == "request count":
        return (d.python, d.ours) == (1, 0)
    if d.area.startswith("span carrier_root"):
        if d.path == "parentSpanId":
            return d.python in (None, "<absent>") and d.ours == "<REMOTE_SPAN>"
        if d.path == "traceId":
            return d.python == "<generated>" and d.ours == "<REMOTE_TRACE>"
    if d.area.startswith("span carrier_"):
        if d.path == "traceId":
            return d.python == "<generated>" and d.ours == "<REMOTE_TRACE>"
        return _session_attr_differs(d, "<DEFAULT_SESSION>", "<LINK_SESSION>")
    return False


def _baggage_keys(d) -> bool:
    """The SDK's baggage carries its tracer object's id (honeyhive_tracer_id) and, for the
    default session, no session id; ours carries session_id, project and source."""
    if d.area != "driver" or not d.path.endswith(": baggage keys"):
        return False
    ours_only = {"session_id", "project", "source"}
    return (set(d.python) - {"honeyhive_tracer_id"}) - ours_only \
        == set(d.ours) - ours_only and ours_only <= set(d.ours)


def _traceparent_flags(d) -> bool:
    return (d.area == "driver" and d.path.endswith(": traceparent")
            and (d.python, d.ours) == ("00-<trace>-<span>-03", "00-<trace>-<span>-01"))


def _event_id_made_locally(d) -> bool:
    return (d.area.startswith("REST POST /events") and d.path == "body event.event_id"
            and d.python is MISSING and d.ours in ("<EVENT_1>", "<EVENT_2>"))


def _event_enrich_keeps_inputs(d) -> bool:
    if not d.area.startswith("REST PUT /events (<EVENT_") or d.python is not MISSING:
        return False
    return d.path in ("body metadata.inputs", "body metadata.error") \
        or d.path.startswith("body metadata.inputs.")


def _lazy_default_session(d) -> bool:
    return d.area == "REST session/start (sess-lazy)" and d.path == "request count" \
        and (d.python, d.ours) == (1, 0)


DEVIATIONS = [
    {
        "id": "session-id-in-start-body",
        "what": "`POST /session/start` carries `session.session_id` (the SDK lets the server "
                "choose it)",
        "why": "the id is a UUID made on the client, so creating a session never waits on "
               "the network; the field is optional in the API and the server keeps it",
        "match": lambda d: (d.area.startswith("REST session/start")
                            and d.path == "body session.session_id"
                            and d.python is MISSING and isinstance(d.ours, str)
                            and d.ours.startswith("<") and d.ours.endswith(">")),
    },
    {
        "id": "event-id-made-locally",
        "what": "`POST /events` (create_event) carries `event.event_id`",
        "why": "the id is made on the client, so create_event returns it without waiting "
               "for the server's answer (the SDK blocks on it)",
        "match": _event_id_made_locally,
    },
    {
        "id": "event-enrich-keeps-inputs",
        "what": "enriching an event by id sends `inputs` (as `metadata.inputs`) and `error` "
                "(as `metadata.error`), as session enrichment does; the SDK's "
                "`enrich_span(event_id=...)` drops both",
        "why": "what the caller gives reaches the server, in the same place for an event as "
               "for a session",
        "match": _event_enrich_keeps_inputs,
    },
    {
        "id": "flush-reports-delivery",
        "what": "flush returns a status that reports delivery; the SDK's `force_flush()` "
                "returns True whatever happened",
        "why": "a caller can tell lost telemetry from delivered telemetry",
        "match": lambda d: d.area == "driver" and d.path == "flush",
    },
    {
        "id": "lazy-default-session",
        "what": "the tracer's default session is started (`POST /session/start`) when a span, "
                "enrichment, event or inject first uses it, not at init",
        "why": "a program that makes its own session per request would otherwise leave an "
               "empty default session per process in HoneyHive; no span waits for it",
        "match": _lazy_default_session,
    },
    {
        "id": "default-session-name",
        "what": "the default session name is the program's name (Ruby: `$PROGRAM_NAME`), "
                "where the SDK uses the script's file name",
        "why": "the same rule in every language; the Ruby interpreter's name says nothing",
        "match": None,
    },
    {
        "id": "auto-create-session-name",
        "what": "in session auto-create mode without a configured `session_name`, spans carry "
                "`honeyhive.session_name` = the default session name (the program's); the "
                "SDK stamps none",
        "why": "the session that ingestion creates from the spans gets a name",
        "match": None,
    },
    {
        "id": "server-session-scoped",
        "what": "a root SERVER span's auto-created session belongs to its trace only; the "
                "SDK attaches it to the context for good, so later spans of the same thread "
                "or task join it and a later SERVER span reuses it",
        "why": "each request is its own session, whatever the framework does with contexts",
        "match": _server_session_scoped,
    },
    {
        "id": "one-exception-event",
        "what": "an exception leaving a span is recorded once; the SDK's `start_span` "
                "records it twice (its own handler and OpenTelemetry's `use_span`)",
        "why": "one failure, one `exception` event",
        "match": _one_exception_event,
    },
    {
        "id": "error-on-span",
        "what": "`record_error` also writes `honeyhive_error` / `honeyhive_error_type` on the "
                "span that failed and sets its status to ERROR; the SDK's `record_exception` "
                "adds only the event (its decorator makes a separate `<name>_error` span)",
        "why": "the error stays on the span that failed and shows in HoneyHive's error field",
        "match": _error_on_span,
    },
    {
        "id": "links-exported",
        "what": "span links are exported over OTLP/JSON; the SDK's JSON exporter drops them "
                "(its protobuf exporter keeps them)",
        "why": "links are part of the span; dropping them by encoding would be a bug",
        "match": _links_exported,
    },
    {
        "id": "link-carrier-honoured",
        "what": "`link_carrier` makes the tracer's spans continue the carrier's trace and "
                "session (no `POST /session/start` for it); the SDK 1.7.0 accepts the "
                "parameter and ignores it",
        "why": "what the parameter is documented to do",
        "match": _link_carrier,
    },
    {
        "id": "baggage-keys",
        "what": "injected baggage carries `session_id`, `project` and `source` (also for the "
                "default session and with no span); the SDK's carries its tracer object's id "
                "and a session id only for a session made by `create_session`",
        "why": "the receiving service continues the same session in the same project, in "
               "any language",
        "match": _baggage_keys,
    },
    {
        "id": "traceparent-flags",
        "what": "an injected `traceparent` has the flags `01` (sampled); the SDK's (OpenTelemetry "
                "1.45) also sets `02`, the random-trace-id flag of W3C Trace Context level 2",
        "why": "the level 1 form, which every W3C propagator reads; the ids are random either way",
        "match": _traceparent_flags,
    },
    {
        "id": "no-session-counted",
        "what": "a span with no session is counted in `hh_tracer_stats` (`spans_no_session`) "
                "with one warning per tracer; the SDK warns once per span",
        "why": "every span's outcome is counted; no log flood",
        "match": None,
    },
    {
        "id": "non-scalar-initial-attributes",
        "what": "initial span attributes that are lists or objects are one typed `arrayValue` "
                "(a list of same-typed scalars) or JSON text, under the raw and the "
                "normalized key; the SDK writes Python's `repr` text (`\"['a', 'b']\"`)",
        "why": "OTLP has array values; `repr` is Python-specific",
        "match": _initial_non_scalar,
    },
    {
        "id": "retries-and-status",
        "what": "any 2xx is success; 429/502/503/504 and connection errors are retried "
                "honouring `Retry-After`; no `Bearer None`; test mode is fully offline; a "
                "trailing `/` in the server URL is normalized",
        "why": "delivery that survives a busy server and never sends a bogus header",
        "match": None,
    },
    {
        "id": "span-limits",
        "what": "the same attribute, event and link limits on every tracer, and the counters "
                "in `hh_tracer_stats`",
        "why": "memory stays bounded whatever a caller sends",
        "match": None,
    },
    {
        "id": "sampling-not-followed",
        "what": "an upstream `traceparent`'s sampled flag is not followed",
        "why": "a session is recorded whole",
        "match": None,
    },
]

BY_ID = {d["id"]: d for d in DEVIATIONS}
# Expected in every scenario (every scenario flushes; most start a session).
ALWAYS = ["flush-reports-delivery", "session-id-in-start-body"]


def readme_ids(text: str) -> list:
    """The ids in the README's table "Deliberate differences from the Python SDK": the
    backticked first cell of each row of the table that follows that heading."""
    m = re.search(r"^#+ Deliberate differences from the Python SDK\s*$", text, re.M)
    if not m:
        return []
    ids = []
    for line in text[m.end():].splitlines():
        if line.startswith("#"):
            break
        cell = re.match(r"^\|\s*`([a-z0-9-]+)`\s*\|", line)
        if cell:
            ids.append(cell.group(1))
    return ids
