"""The scenarios of the reference comparison: each one done once through HoneyHive's Python
SDK (the reference) and once through libhoneyhive's C ABI, with the same inputs.

A scenario's drivers run in their own process against the loopback receiver and return
{"ids": {placeholder: real id}, "facts": {name: value}, "flush": ...}: the ids are replaced
by their placeholders before comparing (ids are random), the facts are compared between the
two sides (things a driver observes that are not on the wire, e.g. a stats counter).
`expected` names the deliberate differences (deviations.py) the scenario may show; any
other difference fails the run.
"""

from __future__ import annotations

import contextvars
import traceback
from dataclasses import dataclass, field
from typing import Callable

import cabi

# Fixed values both sides use, so they compare literally after normalization.
T0 = 1_700_000_000_000_000_000
FIXED_TIMES = {T0, T0 + 100, T0 + 500, T0 + 1000, T0 + 5000}
REMOTE_TRACE = "0af7651916cd43dd8448eb211c80319c"
REMOTE_SPAN = "b7ad6b7169203331"
LINK_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
LINK_SPAN = "00f067aa0ba902b7"
EXTRACT_TRACE = "1af7651916cd43dd8448eb211c80319c"
EXTRACT_SPAN = "a7ad6b7169203331"
FIXED_IDS = {REMOTE_TRACE: "<REMOTE_TRACE>", REMOTE_SPAN: "<REMOTE_SPAN>",
             LINK_TRACE: "<LINK_TRACE>", LINK_SPAN: "<LINK_SPAN>",
             EXTRACT_TRACE: "<EXTRACT_TRACE>", EXTRACT_SPAN: "<EXTRACT_SPAN>"}
SID_A = "11111111-2222-4333-8444-555555555555"
SID_C = "11111111-2222-4333-8444-cccccccccccc"
SID_LINK = "22222222-3333-4444-8555-666666666666"
SID_EXTRACT = "33333333-3333-4444-8555-666666666666"
UPDATE_EVENT_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
FIXED_SESSIONS = {SID_A: "<SESSION_A>", SID_C: "<SESSION_C>", SID_LINK: "<LINK_SESSION>",
                  SID_EXTRACT: "<EXTRACT_SESSION>", UPDATE_EVENT_ID: "<UPDATE_EVENT_ID>"}


@dataclass
class Scenario:
    name: str
    what: str
    python: Callable[[str], dict]
    ours: Callable[[str], dict]
    expected: list = field(default_factory=list)
    # api_key -> label, when the scenario has several tracers (OTLP is compared per tracer).
    tracers: dict = field(default_factory=dict)
    # Extra environment of the Python driver / extra config keys of ours (e.g. the protocol).
    python_env: dict = field(default_factory=dict)
    ours_config: dict = field(default_factory=dict)


def _isolated(fn, *args):
    """Runs fn in a copy of the current context, as a web framework runs each request (its
    own thread or task): what the SDK attaches to the context stays in that request."""
    return contextvars.copy_context().run(fn, *args)


def _py_tracer(url: str, **kw):
    from honeyhive import HoneyHiveTracer  # pylint: disable=import-outside-toplevel
    return HoneyHiveTracer.init(server_url=url, **kw)


def _no_session_counter(tracer):
    """A span processor added to the SDK's provider: counts spans that ended without a
    session (the SDK's own processor skips their export)."""
    # pylint: disable=import-outside-toplevel
    from opentelemetry.sdk.trace import SpanProcessor

    class NoSessionCounter(SpanProcessor):
        count = 0

        def on_end(self, span):
            attrs = dict(span.attributes or {})
            if not (attrs.get("honeyhive.session_id")
                    or attrs.get("traceloop.association.properties.session_id")):
                NoSessionCounter.count += 1

    counter = NoSessionCounter()
    tracer.provider.add_span_processor(counter)
    return counter


def _py_done(tracers: list, ids: dict, facts: dict | None = None, **extra) -> dict:
    import honeyhive  # pylint: disable=import-outside-toplevel
    flushed = all(t.force_flush() for t in tracers)
    return {"ids": ids, "facts": facts or {}, "flush": flushed,
            "version": f"honeyhive {getattr(honeyhive, '__version__', '?')}", **extra}


def _ours_done(lib: cabi.Lib, tracers: list, ids: dict, facts: dict | None = None,
               **extra) -> dict:
    flushes = [lib.flush(t) for t in tracers]
    closes = [lib.close(t) for t in tracers]
    bad = [s for s in flushes if s != "HH_OK"]
    return {"ids": ids, "facts": facts or {}, "flush": bad[0] if bad else "HH_OK",
            "close": closes, "version": f"libhoneyhive {lib.version()}", **extra}


# ============================================================================================
# basic: the session REST calls and span enrichment (the original scenario)
# ============================================================================================

API_KEY = "hh_reference_compare_key"
PROJECT = "ref-project"
SOURCE = "ref-source"
SESSION_NAME = "ref-session"
SESSION_INPUTS = {"q": "hello", "n": 1, "nested": {"k": [1, 2]}, "none": None}
ROOT_SPAN = "parent_step"
ROOT_ENRICH = {
    # Edge cases: null skipped, empty dict, list of dicts, unicode.
    "metadata": {"nested": {"x": 1, "y": [1, 2]}, "f": 1.5, "b": True, "s": "t",
                 "skip": None, "empty": {}, "lst": [{"a": 1}, "z"]},
    "metrics": {"m": 2, "g": 2.0, "neg": -3, "big": 9007199254740993},
    "inputs": {"i": "x", "u": "h\u00e9llo \u2713"},
    "outputs": {"o": [1, "a", True]},
    "feedback": {"fb": True, "rating": 5},
    "config": {"c": {"k": "v"}, "temperature": 0.7},
    "user_properties": {"u": "p", "id": 42},
}
# Python: tracer.trace(CHILD_SPAN, event_type="chain"), i.e. start_span(attributes=
# {"honeyhive.event_type": "chain"}); ours: the same initial attribute.
CHILD_SPAN = "child_step"
CHILD_EVENT_TYPE = "chain"
CHILD_ENRICH = {"metadata": {"child": 1}, "outputs": {"answer": "42"}}
# Python: no type (detected from the name: "openai" -> model); ours: HH_EVENT_DEFAULT.
GRANDCHILD_SPAN = "openai.chat"
GRANDCHILD_ENRICH = {"config": {"model": "gpt-4o"}, "metrics": {"tokens": 12}}
# Python: start_span(attributes={"honeyhive_event_type": "model"}); ours: HH_EVENT_MODEL.
TYPED_SPAN = "typed_step"
# Initial attributes: raw key plus normalized key (`.`, `-`, space -> `_`).
ATTRS_SPAN = "attrs_step"
ATTRS_PRIMITIVE = {"custom.attr": "v", "my-key": "k", "n": 3, "f": 2.5, "flag": True}
ATTRS_NONPRIMITIVE = {"tags.list": ["a", "b"], "ints": [1, 2], "d": {"a": 1}}
SESSION_ENRICH = {
    "metadata": {"m": 1, "nested": {"a": [1, 2]}},
    "inputs": {"i": 2}, "outputs": {"o": 3}, "feedback": {"f": 4}, "metrics": {"mm": 5.5},
    "config": {"c": 6}, "user_properties": {"u": 7},
    "extra_kw": "e",  # an unknown keyword: joins the PUT /events metadata
}
CREATED_SESSION = {"session_name": "second-session", "inputs": {"a": 1},
                   "metadata": {"k": "v"}, "user_properties": {"u": "x"}}
CREATED_SPAN = "in_second_session"
CREATED_SPAN_ENRICH = {"metadata": {"where": "second"}}
CREATED_SESSION_ENRICH = {"outputs": {"done": True}}
BASIC_INIT = {"api_key": API_KEY, "project": PROJECT, "source": SOURCE,
              "session_name": SESSION_NAME, "inputs": SESSION_INPUTS}


def basic_python(url: str) -> dict:
    tracer = _py_tracer(url, **BASIC_INIT)
    with tracer.start_span(ROOT_SPAN):
        tracer.enrich_span(**ROOT_ENRICH)
        with tracer.trace(CHILD_SPAN, event_type=CHILD_EVENT_TYPE):
            tracer.enrich_span(**CHILD_ENRICH)
            with tracer.start_span(GRANDCHILD_SPAN):
                tracer.enrich_span(**GRANDCHILD_ENRICH)
        with tracer.start_span(TYPED_SPAN, attributes={"honeyhive_event_type": "model"}):
            pass
        with tracer.start_span(ATTRS_SPAN, attributes={**ATTRS_PRIMITIVE, **ATTRS_NONPRIMITIVE}):
            pass
    tracer.enrich_session(**SESSION_ENRICH)
    created = tracer.create_session(**CREATED_SESSION)
    # create_session attached the new session to the context (baggage): the next span and
    # the next enrich_session go to it.
    with tracer.start_span(CREATED_SPAN):
        tracer.enrich_span(**CREATED_SPAN_ENRICH)
    tracer.enrich_session(**CREATED_SESSION_ENRICH)
    return _py_done([tracer], {"<DEFAULT_SESSION>": tracer.session_id,
                               "<CREATED_SESSION>": created},
                    {"create_session returned an id": bool(created)})


def basic_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**BASIC_INIT, "server_url": url})
    default_session = lib.tracer_session_id(t)
    root = lib.start(t, ROOT_SPAN)
    lib.enrich(root, ROOT_ENRICH)
    child = lib.start(t, CHILD_SPAN, parent=root,
                      attrs={"honeyhive.event_type": CHILD_EVENT_TYPE})
    lib.enrich(child, CHILD_ENRICH)
    grandchild = lib.start(t, GRANDCHILD_SPAN, parent=child)
    lib.enrich(grandchild, GRANDCHILD_ENRICH)
    lib.end(grandchild)
    lib.end(child)
    lib.end(lib.start(t, TYPED_SPAN, cabi.EVENT_MODEL, root))
    lib.end(lib.start(t, ATTRS_SPAN, parent=root,
                      attrs={**ATTRS_PRIMITIVE, **ATTRS_NONPRIMITIVE}))
    lib.end(root)
    lib.session_enrich(t, None, SESSION_ENRICH)
    created = lib.session_create(t, CREATED_SESSION)
    span = lib.start(t, CREATED_SPAN, session=created)
    lib.enrich(span, CREATED_SPAN_ENRICH)
    lib.end(span)
    lib.session_enrich(t, created, CREATED_SESSION_ENRICH)
    return _ours_done(lib, [t], {"<DEFAULT_SESSION>": default_session,
                                 "<CREATED_SESSION>": created},
                      {"create_session returned an id": bool(created)})


# ============================================================================================
# A span under a parent of another tracer takes its own tracer's session
# ============================================================================================

T1 = {"api_key": "key-one", "project": "p1", "source": "s1", "session_name": "sess-one"}
T2 = {"api_key": "key-two", "project": "p2", "source": "s2", "session_name": "sess-two"}


def cross_tracer_python(url: str) -> dict:
    t1, t2 = _py_tracer(url, **T1), _py_tracer(url, **T2)
    with t1.start_span("outer_t1"):
        with t2.start_span("inner_t2"):
            with t2.start_span("inner_t2_child"):
                pass
        with t1.start_span("inner_t1"):
            pass
    with t2.start_span("root_t2"):
        pass
    return _py_done([t1, t2], {"<T1_SESSION>": t1.session_id, "<T2_SESSION>": t2.session_id})


def cross_tracer_ours(url: str) -> dict:
    lib = cabi.Lib()
    t1 = lib.tracer_new({**T1, "server_url": url})
    t2 = lib.tracer_new({**T2, "server_url": url})
    ids = {"<T1_SESSION>": lib.tracer_session_id(t1), "<T2_SESSION>": lib.tracer_session_id(t2)}
    outer = lib.start(t1, "outer_t1")
    inner = lib.start(t2, "inner_t2", parent=outer)
    lib.end(lib.start(t2, "inner_t2_child", parent=inner))
    lib.end(inner)
    lib.end(lib.start(t1, "inner_t1", parent=outer))
    lib.end(outer)
    lib.end(lib.start(t2, "root_t2"))
    return _ours_done(lib, [t1, t2], ids)


# ============================================================================================
# Session auto-creation mode (skip_backend_session_creation, no session id)
# ============================================================================================

AUTO = {"api_key": "key-ac", "project": "pac", "source": "sac", "session_name": "sess-ac",
        "skip_backend_session_creation": True}


def _baggage_session(carrier: dict) -> dict:
    """session_id and session_name of a carrier's baggage (the keys the auto-create mode
    continues a session with)."""
    out = {}
    for item in (carrier.get("baggage") or "").split(","):
        key, _, value = item.partition("=")
        if key.strip() in ("session_id", "session_name"):
            out[key.strip()] = value.strip()
    return out


def auto_create_python(url: str) -> dict:
    t = _py_tracer(url, **AUTO)
    facts = {}

    def request_a():
        t.create_session(session_id=SID_A, skip_api_call=True, session_name="req-a")
        with t.start_span("req_a"):
            with t.start_span("req_a_child"):
                facts["baggage of a span in session A"] = _baggage_session(t.inject({}))

    def request_b():
        sid = t.create_session(session_name="req-b")
        with t.start_span("req_b"):
            pass
        return sid

    def request_c():
        t.create_session(session_id=SID_C, skip_api_call=True)
        with t.start_span("req_c"):
            pass

    _isolated(request_a)
    sid_b = _isolated(request_b)
    _isolated(request_c)
    return _py_done([t], {"<SESSION_B>": sid_b}, facts)


def auto_create_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**AUTO, "server_url": url})
    facts = {}
    a = lib.session_create(t, {"session_id": SID_A, "skip_api_call": True,
                               "session_name": "req-a"})
    ra = lib.start(t, "req_a", session=a)
    rc = lib.start(t, "req_a_child", parent=ra)
    facts["baggage of a span in session A"] = _baggage_session(lib.span_inject(rc))
    lib.end(rc)
    lib.end(ra)
    b = lib.session_create(t, {"session_name": "req-b"})
    lib.end(lib.start(t, "req_b", session=b))
    c = lib.session_create(t, {"session_id": SID_C, "skip_api_call": True})
    lib.end(lib.start(t, "req_c", session=c))
    return _ours_done(lib, [t], {"<SESSION_B>": b}, facts)


# ============================================================================================
# Spans with no session at all are not exported (and are counted)
# ============================================================================================

NO_SESSION = {"api_key": "key-ns", "project": "pns", "source": "sns", "session_name": "sess-ns",
              "skip_backend_session_creation": True}
NO_SESSION_FACT = "spans ended without a session (not exported)"


def no_session_python(url: str) -> dict:
    t = _py_tracer(url, **NO_SESSION)
    counter = _no_session_counter(t)
    with t.start_span("orphan"):
        with t.start_span("orphan_child"):
            pass

    def in_session():
        t.create_session(session_id=SID_A, skip_api_call=True)
        with t.start_span("in_session"):
            pass

    _isolated(in_session)
    return _py_done([t], {}, {NO_SESSION_FACT: counter.count})


def _ours_done_counting(lib: cabi.Lib, t: int, ids: dict) -> dict:
    """_ours_done with the tracer's no-session counter as a fact (a span is counted when it
    ends, so every span of the scenario is in it)."""
    count = lib.stats(t)["spans_no_session"]
    return _ours_done(lib, [t], ids, {NO_SESSION_FACT: count})


def no_session_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**NO_SESSION, "server_url": url})
    orphan = lib.start(t, "orphan")
    lib.end(lib.start(t, "orphan_child", parent=orphan))
    lib.end(orphan)
    a = lib.session_create(t, {"session_id": SID_A, "skip_api_call": True})
    lib.end(lib.start(t, "in_session", session=a))
    return _ours_done_counting(lib, t, {})


# ============================================================================================
# A root SERVER span with no session gets a fresh session of its own
# ============================================================================================

SERVER = {"api_key": "key-srv", "project": "psrv", "source": "ssrv", "session_name": "sess-srv",
          "skip_backend_session_creation": True}


def _server_python(url: str, isolate: bool) -> dict:
    from opentelemetry.trace import SpanKind  # pylint: disable=import-outside-toplevel
    t = _py_tracer(url, **SERVER)
    counter = _no_session_counter(t)

    def request_1():
        with t.start_span("server_req_1", kind=SpanKind.SERVER):
            with t.start_span("server_req_1_child"):
                pass

    def request_2():
        with t.start_span("server_req_2", kind=SpanKind.SERVER):
            pass

    run = _isolated if isolate else (lambda fn: fn())
    run(request_1)
    run(request_2)
    with t.start_span("unrelated_after"):
        pass
    with t.start_span("client_root", kind=SpanKind.CLIENT):
        pass
    return _py_done([t], {}, {NO_SESSION_FACT: counter.count})


def _server_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**SERVER, "server_url": url})
    r1 = lib.start_ex(t, "server_req_1", kind="SERVER")
    lib.end(lib.start(t, "server_req_1_child", parent=r1))
    lib.end(r1)
    lib.end(lib.start_ex(t, "server_req_2", kind="SERVER"))
    lib.end(lib.start(t, "unrelated_after"))
    lib.end(lib.start_ex(t, "client_root", kind="CLIENT"))
    return _ours_done_counting(lib, t, {})


# ============================================================================================
# Exception events (type, message, stacktrace, escaped) and status
# ============================================================================================

EXC = {"api_key": "key-exc", "project": "pexc", "source": "sexc", "session_name": "sess-exc"}


def exceptions_python(url: str) -> dict:
    from opentelemetry.trace import Status, StatusCode  # pylint: disable=import-outside-toplevel
    t = _py_tracer(url, **EXC)
    with t.start_span("recorded_escaped") as sp:
        try:
            raise KeyError("k")
        except KeyError as e:
            sp.record_exception(e, escaped=True, timestamp=T0 + 500)
            sp.set_status(Status(StatusCode.ERROR, "bad key"))
    with t.start_span("recorded_default") as sp:
        try:
            raise ValueError("v")
        except ValueError as e:
            sp.record_exception(e)
    with t.start_span("status_only") as sp:
        sp.set_status(Status(StatusCode.ERROR, "failed quietly"))
    try:
        with t.start_span("raised_in_span"):
            raise ValueError("boom")
    except ValueError:
        pass
    return _py_done([t], {"<DEFAULT_SESSION>": t.session_id})


def _stack(exc_type, message: str) -> str:
    try:
        raise exc_type(message)
    except exc_type:
        return traceback.format_exc()


def exceptions_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**EXC, "server_url": url})
    ids = {"<DEFAULT_SESSION>": lib.tracer_session_id(t)}
    s = lib.start(t, "recorded_escaped")
    lib.record_error_ex(s, "KeyError", "'k'", _stack(KeyError, "k"), True, T0 + 500)
    lib.set_status(s, cabi.STATUS_ERROR, "bad key")
    lib.end(s)
    s = lib.start(t, "recorded_default")
    lib.record_error_ex(s, "ValueError", "v", _stack(ValueError, "v"), False)
    lib.end(s)
    s = lib.start(t, "status_only")
    lib.set_status(s, cabi.STATUS_ERROR, "failed quietly")
    lib.end(s)
    # What a binding does for an exception leaving a span's block: record it once, with the
    # status the SDK gives it.
    s = lib.start(t, "raised_in_span")
    lib.record_error_ex(s, "ValueError", "boom", _stack(ValueError, "boom"), False)
    lib.set_status(s, cabi.STATUS_ERROR, "ValueError: boom")
    lib.end(s)
    return _ours_done(lib, [t], ids)


# ============================================================================================
# Events by id: create_event, enrich an event by id, update_event_id in span enrichment
# ============================================================================================

EV = {"api_key": "key-ev", "project": "pev", "source": "sev", "session_name": "sess-ev"}
EVENT = {"event_name": "my_tool_call", "event_type": "tool", "inputs": {"q": 1},
         "outputs": {"a": 2}, "metadata": {"m": 3}, "metrics": {"lat": 4.5},
         "feedback": {"ok": True}, "config": {"c": "d"}, "duration": 12.5}
EVENT_ENRICH = {"metadata": {"later": 1}, "feedback": {"rating": 5}, "outputs": {"o": 1},
                "metrics": {"x": 1}, "config": {"k": 1}, "user_properties": {"u": 1}}
# A second enrichment of another event: inputs, error and an unknown keyword.
EVENT_2 = {"event_name": "my_model_call", "event_type": "model", "inputs": {"p": "hi"},
           "duration": 3.0}
EVENT_ENRICH_2 = {"metadata": {"m": 1}, "inputs": {"i": 1}, "error": "bad", "extra_kw": "x"}


def events_python(url: str) -> dict:
    t = _py_tracer(url, **EV)
    fields = {k: v for k, v in EVENT.items() if k != "event_name"}
    eid = t.create_event(EVENT["event_name"], **fields)
    t.enrich_span(event_id=eid, **EVENT_ENRICH)
    eid2 = t.create_event(EVENT_2["event_name"],
                          **{k: v for k, v in EVENT_2.items() if k != "event_name"})
    t.enrich_span(event_id=eid2, **EVENT_ENRICH_2)
    with t.start_span("with_update_id"):
        t.enrich_span(update_event_id=UPDATE_EVENT_ID, metadata={"z": 1})
    return _py_done([t], {"<DEFAULT_SESSION>": t.session_id, "<EVENT_1>": eid,
                          "<EVENT_2>": eid2},
                    {"create_event returned an id": bool(eid)})


def events_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**EV, "server_url": url})
    ids = {"<DEFAULT_SESSION>": lib.tracer_session_id(t)}
    eid = lib.event_create(t, EVENT)
    lib.event_enrich(t, eid, EVENT_ENRICH)
    eid2 = lib.event_create(t, EVENT_2)
    lib.event_enrich(t, eid2, EVENT_ENRICH_2)
    s = lib.start(t, "with_update_id")
    lib.enrich(s, {"update_event_id": UPDATE_EVENT_ID, "metadata": {"z": 1}})
    lib.end(s)
    ids["<EVENT_1>"], ids["<EVENT_2>"] = eid, eid2
    return _ours_done(lib, [t], ids, {"create_event returned an id": bool(eid)})


# ============================================================================================
# The span model: kind, links, events, status, explicit times, names, array attributes, ids
# ============================================================================================

SM = {"api_key": "key-sm", "project": "psm", "source": "ssm", "session_name": "sess-sm"}
ARRAYS = {"arr.str": ["a", "b"], "arr.int": [1, 2], "arr.f": [1.5, 2.5],
          "arr.b": [True, False], "x.plain": "p"}
EVENT_ATTRS = {"a": 1, "arr": [1, 2], "s": "x"}
LINK_ATTRS = {"link.attr": "v", "n": 2}
# Typed initial attributes at start (Python: the OTel tracer's start_span(attributes=...)).
TYPED_INITIAL = {"x.s": "v", "x.n": 3, "x.f": 0.5, "x.b": False, "x.arr": ["a", "b"],
                 "x.ints": [4, 5]}


def span_model_python(url: str) -> dict:
    # pylint: disable=import-outside-toplevel
    from opentelemetry.trace import (Link, SpanContext, SpanKind, Status, StatusCode,
                                     TraceFlags)
    t = _py_tracer(url, **SM)
    link_ctx = SpanContext(trace_id=int(LINK_TRACE, 16), span_id=int(LINK_SPAN, 16),
                           is_remote=True, trace_flags=TraceFlags(1))
    read = {}
    with t.start_span("model_client", kind=SpanKind.CLIENT, start_time=T0,
                      links=[Link(link_ctx, LINK_ATTRS)]) as sp:
        sp.add_event("ev1", EVENT_ATTRS, timestamp=T0 + 100)
        sp.add_event("ev_now")
        for k, v in ARRAYS.items():
            sp.set_attribute(k, v)
        sp.set_status(Status(StatusCode.OK))
        sp.update_name("model_client_renamed")
        ctx = sp.get_span_context()
        read["model_client_renamed"] = [format(ctx.trace_id, "032x"),
                                        format(ctx.span_id, "016x")]
    with t.start_span("added_link") as sp:
        sp.add_link(link_ctx, LINK_ATTRS)
    # Typed initial attributes are OpenTelemetry's (raw keys only): the OTel tracer's start.
    # (JSON initial attributes are the SDK start_span's, raw and normalized: "basic".)
    t.tracer.start_span("typed_initial", attributes=dict(TYPED_INITIAL)).end()
    with t.start_span("ok_is_final") as sp:
        sp.set_status(Status(StatusCode.OK))
        sp.set_status(Status(StatusCode.ERROR, "too late"))
    with t.start_span("error_then_ok") as sp:
        sp.set_status(Status(StatusCode.ERROR, "first"))
        sp.set_status(Status(StatusCode.OK))
    # Explicit start and end: the OpenTelemetry tracer the SDK exposes.
    s = t.tracer.start_span("explicit_times", start_time=T0 + 1000, kind=SpanKind.PRODUCER)
    s.end(end_time=T0 + 5000)
    with t.start_span("k_server", kind=SpanKind.SERVER):
        pass
    with t.start_span("k_consumer", kind=SpanKind.CONSUMER):
        pass
    with t.start_span("k_internal", kind=SpanKind.INTERNAL):
        pass
    return _py_done([t], {"<DEFAULT_SESSION>": t.session_id}, read_ids=read)


def span_model_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**SM, "server_url": url})
    ids = {"<DEFAULT_SESSION>": lib.tracer_session_id(t)}
    read = {}
    s = lib.start_ex(t, "model_client", kind="CLIENT", start_time=T0,
                     links=[(LINK_TRACE, LINK_SPAN, LINK_ATTRS)])
    lib.add_event(s, "ev1", EVENT_ATTRS, T0 + 100)
    lib.add_event(s, "ev_now")
    lib.set_attrs(s, ARRAYS)
    lib.set_status(s, cabi.STATUS_OK)
    lib.set_name(s, "model_client_renamed")
    read["model_client_renamed"] = list(lib.get_context(s))
    lib.end(s)
    s = lib.start(t, "added_link")
    lib.add_link(s, LINK_TRACE, LINK_SPAN, LINK_ATTRS)
    lib.end(s)
    lib.end(lib.start_ex(t, "typed_initial", typed_attrs=TYPED_INITIAL))
    s = lib.start(t, "ok_is_final")
    lib.set_status(s, cabi.STATUS_OK)
    lib.set_status(s, cabi.STATUS_ERROR, "too late")
    lib.end(s)
    s = lib.start(t, "error_then_ok")
    lib.set_status(s, cabi.STATUS_ERROR, "first")
    lib.set_status(s, cabi.STATUS_OK)
    lib.end(s)
    s = lib.start_ex(t, "explicit_times", kind="PRODUCER", start_time=T0 + 1000)
    lib.end_at(s, T0 + 5000)
    lib.end(lib.start_ex(t, "k_server", kind="SERVER"))
    lib.end(lib.start_ex(t, "k_consumer", kind="CONSUMER"))
    lib.end(lib.start_ex(t, "k_internal", kind="INTERNAL"))
    return _ours_done(lib, [t], ids, read_ids=read)


# ============================================================================================
# Propagation: inject with and without a span, extract, link_carrier
# ============================================================================================

PROP = {"api_key": "key-pr", "project": "ppr", "source": "spr", "session_name": "sess-pr"}
EXTRACT_CARRIER = {"traceparent": f"00-{EXTRACT_TRACE}-{EXTRACT_SPAN}-01",
                   "baggage": f"session_id={SID_EXTRACT}"}
LINK_CARRIER = {"traceparent": f"00-{REMOTE_TRACE}-{REMOTE_SPAN}-01",
                "baggage": f"session_id={SID_LINK}"}


def _carrier_facts(label: str, carrier: dict) -> dict:
    """The form of an injected carrier: its traceparent with the ids masked, and its
    baggage keys."""
    import re  # pylint: disable=import-outside-toplevel
    tp = carrier.get("traceparent")
    keys = sorted(i.partition("=")[0].strip() for i in (carrier.get("baggage") or "").split(",")
                  if i.strip())
    return {f"{label}: traceparent": (
                None if tp is None else
                re.sub(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-", "00-<trace>-<span>-", tp)),
            f"{label}: baggage keys": keys}


def propagation_python(url: str) -> dict:
    from opentelemetry import context  # pylint: disable=import-outside-toplevel
    t = _py_tracer(url, **PROP)
    facts = _carrier_facts("carrier without a span", t.inject({}))
    with t.start_span("injecting"):
        facts.update(_carrier_facts("carrier of a span", t.inject({})))
    token = context.attach(t.extract_context(dict(EXTRACT_CARRIER)))
    with t.start_span("extracted_child"):
        pass
    context.detach(token)
    # A remote parent given by its ids (an OpenTelemetry SpanContext), no baggage.
    # pylint: disable=import-outside-toplevel
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
    remote = SpanContext(trace_id=int(REMOTE_TRACE, 16), span_id=int(REMOTE_SPAN, 16),
                         is_remote=True, trace_flags=TraceFlags(1))
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(remote)))
    with t.start_span("child_of_ids"):
        pass
    context.detach(token)
    return _py_done([t], {"<DEFAULT_SESSION>": t.session_id}, facts)


def propagation_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**PROP, "server_url": url})
    ids = {"<DEFAULT_SESSION>": lib.tracer_session_id(t)}
    facts = _carrier_facts("carrier without a span", {"baggage": lib.session_inject(t)})
    s = lib.start(t, "injecting")
    facts.update(_carrier_facts("carrier of a span", lib.span_inject(s)))
    lib.end(s)
    parent = lib.extract(t, EXTRACT_CARRIER["traceparent"], EXTRACT_CARRIER["baggage"])
    lib.end(lib.start(t, "extracted_child", parent=parent))
    lib.end(parent)
    lib.end(lib.start_ex(t, "child_of_ids",
                         parent_context=cabi.span_context(REMOTE_TRACE, REMOTE_SPAN)))
    return _ours_done(lib, [t], ids, facts)


LC = {"api_key": "key-lc", "project": "plc", "source": "slc", "session_name": "sess-lc"}


def link_carrier_python(url: str) -> dict:
    t = _py_tracer(url, **LC, link_carrier=dict(LINK_CARRIER))
    with t.start_span("carrier_root"):
        with t.start_span("carrier_child"):
            pass
    return _py_done([t], {"<DEFAULT_SESSION>": t.session_id})


def link_carrier_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**LC, "server_url": url, "link_carrier": LINK_CARRIER})
    ids = {"<DEFAULT_SESSION>": lib.tracer_session_id(t)}
    root = lib.start(t, "carrier_root")
    lib.end(lib.start(t, "carrier_child", parent=root))
    lib.end(root)
    return _ours_done(lib, [t], ids)


# ============================================================================================
# The default session starts when first used (deliberate deviation)
# ============================================================================================

LAZY = {"api_key": "key-lz", "project": "plz", "source": "slz", "session_name": "sess-lazy"}


def lazy_python(url: str) -> dict:
    t = _py_tracer(url, **LAZY)
    sid = t.create_session(session_name="per-request", inputs={"r": 1})
    with t.start_span("handled"):
        pass
    t.enrich_session(outputs={"ok": True})
    return _py_done([t], {"<DEFAULT_SESSION>": t.session_id, "<REQUEST_SESSION>": sid})


def lazy_ours(url: str) -> dict:
    lib = cabi.Lib()
    t = lib.tracer_new({**LAZY, "server_url": url})
    ids = {"<DEFAULT_SESSION>": lib.tracer_session_id(t)}
    sid = lib.session_create(t, {"session_name": "per-request", "inputs": {"r": 1}})
    lib.end(lib.start(t, "handled", session=sid))
    lib.session_enrich(t, sid, {"outputs": {"ok": True}})
    ids["<REQUEST_SESSION>"] = sid
    return _ours_done(lib, [t], ids)


# ============================================================================================

PROTOBUF = {"python_env": {"HH_OTLP_PROTOCOL": "http/protobuf"},
            "ours_config": {"otlp_protocol": "http/protobuf"}}

SCENARIOS = [
    Scenario("basic", "init, span enrichment in every namespace, initial attributes, "
             "enrich_session, create_session and a span in it",
             basic_python, basic_ours,
             ["non-scalar-initial-attributes"]),
    Scenario("cross-tracer-parent", "a t2 span under a t1 span takes t2's session",
             cross_tracer_python, cross_tracer_ours, [],
             tracers={"key-one": "t1", "key-two": "t2"}),
    Scenario("session-auto-create", "skip_backend_session_creation stamps "
             "session_auto_create and session_name; create_session(skip_api_call, "
             "session_name) puts the name in baggage",
             auto_create_python, auto_create_ours, []),
    Scenario("no-session-dropped", "spans with no session are not exported, and "
             "are counted", no_session_python, no_session_ours, []),
    Scenario("server-root-session", "each root SERVER span with no session gets a "
             "fresh session its children share (each request in its own context)",
             lambda url: _server_python(url, True), _server_ours, []),
    Scenario("server-session-scoped", "the SERVER span's session stays in its "
             "trace; the SDK leaks it into later spans of the same context",
             lambda url: _server_python(url, False), _server_ours,
             ["server-session-scoped"]),
    Scenario("exception-events", "exception events with type, message, stacktrace "
             "and escaped; status separately", exceptions_python, exceptions_ours,
             ["error-on-span", "one-exception-event"]),
    Scenario("events-by-id", "create_event, enrich an event by id, update_event_id in "
             "span enrichment", events_python, events_ours,
             ["event-id-made-locally", "event-enrich-keeps-inputs"]),
    Scenario("span-model", "span kinds, links, events, status (OK is final), explicit times, "
             "renaming, typed initial and array attributes under any key, readable ids "
             "(OTLP/JSON)",
             span_model_python, span_model_ours, ["links-exported"]),
    Scenario("span-model-protobuf", "the span model again over OTLP/protobuf (the SDK "
             "then uses OpenTelemetry's own encoder)", span_model_python, span_model_ours,
             [], **PROTOBUF),
    Scenario("propagation", "inject with and without a span, a child of an extracted "
             "context, a child of a remote parent given by its ids", propagation_python, propagation_ours,
             ["baggage-keys", "traceparent-flags"]),
    Scenario("link-carrier", "link_carrier at init: the tracer's spans continue a remote "
             "trace and session", link_carrier_python, link_carrier_ours,
             ["link-carrier-honoured"]),
    Scenario("lazy-default-session", "a program that only uses its own sessions "
             "starts no default session", lazy_python, lazy_ours, ["lazy-default-session"]),
]

BY_NAME = {s.name: s for s in SCENARIOS}
