#!/usr/bin/env python3
"""Wire-compatibility check: libhoneyhive (C ABI) against HoneyHive's Python SDK.

One scenario is run twice against the loopback receiver (tests/receiver): once through the
official Python SDK (the reference, pinned in requirements.txt) and once through
libhoneyhive's C ABI (driven with ctypes). What the receiver recorded is normalized and
compared request by request, field by field and attribute by attribute.

Usage (normally through run.sh, which makes the venv and starts the receiver):

    compare.py [--receiver URL] [--dump DIR] [--verbose]

Without --receiver (or HH_RECEIVER_URL) the receiver binary in target/release is started.
Exit status: 0 = only matches and documented (expected) differences, 1 = at least one
unexpected difference, 2 = the harness itself failed (driver crashed, receiver missing...).

Internal: `compare.py --drive python|ours URL` runs one side of the scenario and prints one
`HHREF_RESULT {json}` line with the session ids it got.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LIB_PATH = ROOT / "target" / "release" / "libhoneyhive.so"
RECEIVER_BIN = ROOT / "target" / "release" / "hh-receiver"

# --------------------------------------------------------------------------------------------
# The scenario (the same inputs for both sides)
# --------------------------------------------------------------------------------------------

API_KEY = "hh_reference_compare_key"
PROJECT = "ref-project"
SOURCE = "ref-source"
SESSION_NAME = "ref-session"
SESSION_INPUTS = {"q": "hello", "n": 1, "nested": {"k": [1, 2]}, "none": None}

ROOT_SPAN = "parent_step"
ROOT_ENRICH = {
    # The brief's example plus edge cases (null skipped, empty dict, list of dicts, unicode).
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
# Python: start_span under the child with no type (detected from the name: "openai" -> model);
# ours: HH_EVENT_DEFAULT.
GRANDCHILD_SPAN = "openai.chat"
GRANDCHILD_ENRICH = {"config": {"model": "gpt-4o"}, "metrics": {"tokens": 12}}
# Python: start_span(attributes={"honeyhive_event_type": "model"}); ours: HH_EVENT_MODEL.
TYPED_SPAN = "typed_step"
# Initial attributes at span start: raw key plus normalized key (`.`, `-`, space -> `_`).
ATTRS_SPAN = "attrs_step"
ATTRS_PRIMITIVE = {"custom.attr": "v", "my-key": "k", "n": 3, "f": 2.5, "flag": True}
# Non-primitive initial values (Python gives lists to OTel as arrays under the raw key and
# str() of them under the normalized key; OTel drops a dict under the raw key).
ATTRS_NONPRIMITIVE = {"tags.list": ["a", "b"], "ints": [1, 2], "d": {"a": 1}}
SESSION_ENRICH = {
    "metadata": {"m": 1, "nested": {"a": [1, 2]}},
    "inputs": {"i": 2},
    "outputs": {"o": 3},
    "feedback": {"f": 4},
    "metrics": {"mm": 5.5},
    "config": {"c": 6},
    "user_properties": {"u": 7},
    "extra_kw": "e",  # an unknown keyword: joins the PUT /events metadata
}
CREATED_SESSION = {"session_name": "second-session", "inputs": {"a": 1},
                   "metadata": {"k": "v"}, "user_properties": {"u": "x"}}
CREATED_SPAN = "in_second_session"
CREATED_SPAN_ENRICH = {"metadata": {"where": "second"}}
CREATED_SESSION_ENRICH = {"outputs": {"done": True}}


def _clean_env() -> dict:
    """The drivers must see none of the caller's HoneyHive/OTel settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HH_", "HONEYHIVE_", "OTEL_"))}
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    return env


def drive_python(url: str) -> dict:
    from honeyhive import HoneyHiveTracer  # pylint: disable=import-outside-toplevel

    tracer = HoneyHiveTracer.init(api_key=API_KEY, project=PROJECT, source=SOURCE,
                                  session_name=SESSION_NAME, server_url=url,
                                  inputs=SESSION_INPUTS)
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
    flushed = tracer.force_flush()
    import honeyhive  # pylint: disable=import-outside-toplevel
    return {"default_session": tracer.session_id, "created_session": created,
            "flush": flushed, "sdk_version": getattr(honeyhive, "__version__", None)}


def drive_ours(url: str) -> dict:
    import ctypes  # pylint: disable=import-outside-toplevel

    lib = ctypes.CDLL(str(LIB_PATH))

    class HhError(ctypes.Structure):  # pylint: disable=too-few-public-methods
        _fields_ = [("status", ctypes.c_int), ("message", ctypes.c_char * 256)]

    u64, cstr, perr = ctypes.c_uint64, ctypes.c_char_p, ctypes.POINTER(HhError)
    sigs = {
        "hh_tracer_new": [cstr, ctypes.POINTER(u64), perr],
        "hh_tracer_session_id": [u64, ctypes.c_char_p, ctypes.c_size_t,
                                 ctypes.POINTER(ctypes.c_size_t)],
        "hh_span_start": [u64, cstr, ctypes.c_uint32, u64, cstr, cstr,
                          ctypes.POINTER(u64), perr],
        "hh_span_enrich": [u64, cstr, perr],
        "hh_span_end": [u64],
        "hh_session_enrich": [u64, cstr, cstr, perr],
        "hh_session_create": [u64, cstr, ctypes.c_char_p, ctypes.c_size_t, perr],
        "hh_tracer_flush": [u64, ctypes.c_uint32],
        "hh_tracer_close": [u64, ctypes.c_uint32],
        "hh_status_name": [ctypes.c_int32],
    }
    for name, argtypes in sigs.items():
        getattr(lib, name).argtypes = argtypes
        getattr(lib, name).restype = ctypes.c_int
    lib.hh_status_name.restype = ctypes.c_char_p
    lib.hh_version.restype = ctypes.c_char_p
    err = HhError()

    def ck(what: str, rc: int) -> None:
        if rc != 0:
            raise RuntimeError(f"{what}: {lib.hh_status_name(rc).decode()} "
                               f"{err.message.decode(errors='replace')}")

    def js(obj) -> bytes:
        return json.dumps(obj).encode()

    def start(name, event_type=0, parent=0, session=None, attrs=None) -> int:
        h = u64()
        ck(f"hh_span_start({name})",
           lib.hh_span_start(tracer, name.encode(), event_type, parent,
                             session.encode() if session else None,
                             js(attrs) if attrs is not None else None,
                             ctypes.byref(h), ctypes.byref(err)))
        return h.value

    def enrich(span, obj) -> None:
        ck("hh_span_enrich", lib.hh_span_enrich(span, js(obj), ctypes.byref(err)))

    def end(span) -> None:
        ck("hh_span_end", lib.hh_span_end(span))

    HH_EVENT_DEFAULT, HH_EVENT_MODEL = 0, 1  # pylint: disable=invalid-name
    tracer_h = u64()
    ck("hh_tracer_new", lib.hh_tracer_new(
        js({"api_key": API_KEY, "project": PROJECT, "source": SOURCE,
            "session_name": SESSION_NAME, "server_url": url, "inputs": SESSION_INPUTS}),
        ctypes.byref(tracer_h), ctypes.byref(err)))
    tracer = tracer_h.value
    buf = ctypes.create_string_buffer(64)
    ck("hh_tracer_session_id", lib.hh_tracer_session_id(tracer, buf, 64, None))
    default_session = buf.value.decode()

    root = start(ROOT_SPAN)
    enrich(root, ROOT_ENRICH)
    child = start(CHILD_SPAN, HH_EVENT_DEFAULT, root,
                  attrs={"honeyhive.event_type": CHILD_EVENT_TYPE})
    enrich(child, CHILD_ENRICH)
    grandchild = start(GRANDCHILD_SPAN, HH_EVENT_DEFAULT, child)
    enrich(grandchild, GRANDCHILD_ENRICH)
    end(grandchild)
    end(child)
    end(start(TYPED_SPAN, HH_EVENT_MODEL, root))
    end(start(ATTRS_SPAN, HH_EVENT_DEFAULT, root, attrs={**ATTRS_PRIMITIVE, **ATTRS_NONPRIMITIVE}))
    end(root)
    ck("hh_session_enrich",
       lib.hh_session_enrich(tracer, None, js(SESSION_ENRICH), ctypes.byref(err)))
    sbuf = ctypes.create_string_buffer(37)
    ck("hh_session_create", lib.hh_session_create(tracer, js(CREATED_SESSION), sbuf, 37,
                                                  ctypes.byref(err)))
    created = sbuf.value.decode()
    span = start(CREATED_SPAN, HH_EVENT_DEFAULT, 0, created)
    enrich(span, CREATED_SPAN_ENRICH)
    end(span)
    ck("hh_session_enrich(created)", lib.hh_session_enrich(
        tracer, created.encode(), js(CREATED_SESSION_ENRICH), ctypes.byref(err)))
    flush = lib.hh_tracer_flush(tracer, 10000)
    close = lib.hh_tracer_close(tracer, 10000)
    return {"default_session": default_session, "created_session": created,
            "flush": lib.hh_status_name(flush).decode(),
            "close": lib.hh_status_name(close).decode(),
            "lib_version": lib.hh_version().decode()}


# --------------------------------------------------------------------------------------------
# Normalization rules and documented, expected differences
# --------------------------------------------------------------------------------------------

# The OTLP body fact naming every attribute value encoding seen, over all requests.
ENCODINGS = "attribute value encodings (variant:JSON type)"

# What is normalized away before comparing (never reported as a difference).
NORMALIZED = [
    "trace/span ids, session ids (replaced by <DEFAULT_SESSION>/<CREATED_SESSION>), timestamps",
    "order of the REST requests (ours sends them from a background worker; requests are "
    "matched by kind: which session they start or enrich)",
    "hh-client-version / hh-client-language / hh-client-package values (presence is checked; "
    "hh-client-language is the binding's language)",
    "hh-client-timestamp value (presence and decimal form are checked)",
    "user-agent, host, content-length, accept-encoding, connection (HTTP client stack)",
    "resource attributes (Python's are OTel's defaults of the first provider)",
    "scope name suffix after 'honeyhive.' (Python's is its tracer object's id)",
    "order of attributes within a span, of spans within a request, batching into requests",
]

# Documented differences that do not fail the run. Each: id, what differs, why it is
# intended, and a predicate over a Difference.
EXPECTED = [
    {
        "id": "E1-session-id-in-start-body",
        "what": "POST /session/start body carries session.session_id in ours, not in Python",
        "why": "session_id is an optional field of the start body; a valid caller-given id is "
               "sent and echoed back; ours makes the UUID on the client so init never waits on "
               "the network",
        "match": lambda d: (d.area.startswith("REST session/start")
                            and d.path == "body session.session_id"
                            and d.python is MISSING and isinstance(d.ours, str)
                            and d.ours.startswith("<") and d.ours.endswith("_SESSION>")),
    },
    {
        "id": "E2-flush-reports-delivery",
        "what": "flush result: Python force_flush() returns True whatever happened; ours returns "
                "a status that reports delivery",
        "why": "flush reports whether the export succeeded",
        "match": lambda d: d.area == "driver" and d.path == "flush",
    },
    {
        "id": "E3-any-2xx-retries-no-bearer-none-test-mode-url-slash",
        "what": "retries on 429/5xx, any 2xx accepted, no 'Bearer None', offline test mode, "
                "trailing '/' normalized (not exercised by this happy-path scenario; listed so "
                "that a scenario extension showing them is not reported as unexpected)",
        "why": "intended deviations (README: Differences from the Python SDK)",
        "match": lambda d: d.area == "retries",
    },
    {
        "id": "E4-errors-on-same-span",
        "what": "errors stored on the span itself (honeyhive_error/_error_type) instead of a "
                "separate '<name>_error' span (not exercised here)",
        "why": "the error stays on the span that failed",
        "match": lambda d: d.area.startswith("span ") and d.area.endswith("_error"),
    },
    {
        "id": "E5-span-limits-default-session-name",
        "what": "span limits on every tracer; default session name = program name "
                "(not exercised: this scenario sets session_name)",
        "why": "the same span limits on every tracer; program name as the default session name",
        "match": lambda d: d.area == "limits",
    },
    {
        "id": "E6-non-scalar-initial-attributes",
        "what": "initial span attributes that are lists or objects: Python writes its repr text "
                "(\"['a', 'b']\", \"{'a': 1}\") under the normalized key (and over the raw key when "
                "they coincide); ours writes one typed arrayValue for a list of same-typed scalars "
                "and JSON text otherwise, under both keys (README: Differences from the Python SDK)",
        "why": "Python str()s non-primitive initial values; OTLP has arrayValue for lists",
        "match": lambda d: _non_scalar_initial_attribute(d),
    },
]


def _non_scalar_initial_attribute(d) -> bool:
    """Python-repr text vs our arrayValue / JSON text for a list or dict initial attribute."""
    if d.path == ENCODINGS:
        extra = set(d.ours or []) - set(d.python or [])
        return all(e.startswith("arrayValue") for e in extra) and not (set(d.python or []) - set(d.ours or []))
    if not d.area.endswith("(initial attributes)]") or not isinstance(d.python, dict):
        return False
    text = d.python.get("stringValue", "")
    return text[:1] in ("[", "{") and isinstance(d.ours, dict) and (
        "arrayValue" in d.ours or d.ours.get("stringValue", "")[:1] in ("[", "{"))


class _Missing:  # pylint: disable=too-few-public-methods
    def __repr__(self) -> str:
        return "<absent>"


MISSING = _Missing()


class Difference:  # pylint: disable=too-few-public-methods
    def __init__(self, area: str, path: str, python, ours, note: str = ""):
        self.area, self.path, self.python, self.ours, self.note = area, path, python, ours, note
        self.expected = next((e for e in EXPECTED if _safe(e["match"], self)), None)


def _safe(pred, d) -> bool:
    try:
        return bool(pred(d))
    except Exception:  # pylint: disable=broad-except
        return False


# --------------------------------------------------------------------------------------------
# Receiver helpers
# --------------------------------------------------------------------------------------------

def http(url: str, method: str = "GET", body: bytes | None = None):
    req = urllib.request.Request(url, data=body, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def settled_requests(base: str) -> list:
    """The recorded requests, once their number stopped changing for 300 ms."""
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 10
    while True:
        reqs = http(base + "/__hh/requests")
        if len(reqs) != last:
            last, stable_since = len(reqs), time.monotonic()
        elif time.monotonic() - stable_since > 0.3 or time.monotonic() > deadline:
            return reqs
        time.sleep(0.05)


def run_side(side: str, base: str, verbose: bool) -> tuple[dict, list]:
    http(base + "/__hh/reset", "POST", b"")
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--drive", side, base],
                          env=_clean_env(), capture_output=True, text=True, timeout=120,
                          check=False)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("HHREF_RESULT "):
            result = json.loads(line[len("HHREF_RESULT "):])
    if proc.returncode != 0 or result is None:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"harness error: the {side} driver failed (exit {proc.returncode})")
    if verbose and proc.stderr.strip():
        print(f"--- {side} driver stderr ---\n{proc.stderr.rstrip()}\n")
    return result, settled_requests(base)


def start_receiver():
    if not RECEIVER_BIN.exists():
        raise SystemExit(f"harness error: {RECEIVER_BIN} missing (cargo build --release "
                         "--workspace)")
    proc = subprocess.Popen([str(RECEIVER_BIN), "--exit-on-stdin-eof"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("HH_RECEIVER_URL="):
        proc.kill()
        raise SystemExit(f"harness error: unexpected receiver output {line!r}")
    return proc, line.split("=", 1)[1]


# --------------------------------------------------------------------------------------------
# Normalization and comparison
# --------------------------------------------------------------------------------------------

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
DIGITS = re.compile(r"^[0-9]+$")
TRANSPORT_HEADERS = {"user-agent", "host", "content-length", "accept-encoding", "connection"}
VALUE_NORMALIZED_HEADERS = {"hh-client-version", "hh-client-language", "hh-client-package",
                            "hh-client-timestamp"}


def substitute_ids(obj, ids: dict):
    if isinstance(obj, str):
        for real, placeholder in ids.items():
            if real and real in obj:
                obj = obj.replace(real, placeholder)
        return obj
    if isinstance(obj, list):
        return [substitute_ids(x, ids) for x in obj]
    if isinstance(obj, dict):
        return {k: substitute_ids(v, ids) for k, v in obj.items()}
    return obj


def classify(req: dict) -> str:
    path, method = req["path"], req["method"]
    body = req.get("body_json") or {}
    if method == "POST" and path.endswith("/session/start"):
        sess = body.get("session", {}) if isinstance(body, dict) else {}
        if sess.get("session_name") == SESSION_NAME:
            return "REST session/start (init)"
        if sess.get("session_name") == CREATED_SESSION["session_name"]:
            return "REST session/start (create_session)"
        return "REST session/start (?)"
    if method == "PUT" and path.endswith("/events"):
        eid = body.get("event_id") if isinstance(body, dict) else None
        return {"<DEFAULT_SESSION>": "REST PUT /events (enrich_session default)",
                "<CREATED_SESSION>": "REST PUT /events (enrich_session created)"}.get(
                    eid, "REST PUT /events (?)")
    if path.endswith("/v1/traces"):
        return "OTLP"
    return f"other {method} {path}"


def json_diff(area: str, py, ours, path: str, out: list) -> list:
    """Leaf-level differences between two JSON values (types matter: 2 != 2.0 != "2")."""
    if isinstance(py, dict) and isinstance(ours, dict):
        for k in sorted(set(py) | set(ours)):
            json_diff(area, py.get(k, MISSING), ours.get(k, MISSING),
                      f"{path}.{k}" if path else k, out)
    elif isinstance(py, list) and isinstance(ours, list) and len(py) == len(ours):
        for i, (a, b) in enumerate(zip(py, ours)):
            json_diff(area, a, b, f"{path}[{i}]", out)
    elif type(py) is not type(ours) or py != ours:
        out.append(Difference(area, path, py, ours))
    return out


def leaves(obj, path: str = "") -> list:
    if isinstance(obj, dict) and obj:
        return [x for k in sorted(obj) for x in leaves(obj[k], f"{path}.{k}" if path else k)]
    return [(path, obj)]


class Report:
    def __init__(self):
        self.rows: list[tuple[str, str, str, str, str]] = []  # area, item, python, ours, verdict
        self.diffs: list[Difference] = []

    def same(self, area, item, py, ours=None):
        self.rows.append((area, item, _fmt(py), _fmt(py if ours is None else ours), "MATCH"))

    def info(self, area, item, py, ours):
        self.rows.append((area, item, _fmt(py), _fmt(ours), "normalized"))

    def diff(self, d: Difference):
        self.diffs.append(d)
        verdict = f"EXPECTED {d.expected['id']}" if d.expected else "DIFF (unexpected)"
        self.rows.append((d.area, d.path, _fmt(d.python), _fmt(d.ours), verdict))

    def check(self, area, item, py, ours, note=""):
        if type(py) is type(ours) and py == ours:
            self.same(area, item, py)
        else:
            self.diff(Difference(area, item, py, ours, note))


def _fmt(v, limit: int = 44) -> str:
    if v is MISSING:
        return "<absent>"
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def compare_headers(rep: Report, area: str, py: dict, ours: dict, otlp: bool):
    for name in sorted(set(py) | set(ours)):
        if name in TRANSPORT_HEADERS:
            continue
        a, b = py.get(name, MISSING), ours.get(name, MISSING)
        if name in VALUE_NORMALIZED_HEADERS:
            if a is MISSING or b is MISSING:
                rep.diff(Difference(area, f"header {name}", a, b))
            elif name == "hh-client-timestamp" and not (DIGITS.match(a) and DIGITS.match(b)):
                rep.diff(Difference(area, f"header {name} (decimal ns)", a, b))
            else:
                rep.info(area, f"header {name} (present)", a, b)
        else:
            rep.check(area, f"header {name}", a, b)
    if otlp:
        for name in ("hh-client-timestamp",):
            rep.check(area, f"header {name} absent on OTLP (REST calls only)",
                      name in py, name in ours)


def otlp_shape(req: dict) -> tuple[dict, list]:
    """The shape facts of one OTLP/JSON body and its spans (as (scope_name, span) pairs)."""
    body = req.get("body_json")
    facts, spans, encodings = {}, [], set()
    if not isinstance(body, dict):
        return {"body": "not JSON"}, spans
    facts["top-level keys"] = sorted(body)
    rss = body.get("resourceSpans", [])
    facts["resourceSpans count per request"] = len(rss)
    for rs in rss:
        facts["resourceSpans[] keys"] = sorted(rs)
        facts["resource keys"] = sorted(rs.get("resource", {}))
        for ss in rs.get("scopeSpans", []):
            facts["scopeSpans[] keys"] = sorted(ss)
            scope = ss.get("scope", {})
            facts["scope keys"] = sorted(scope)
            facts["scope.name form"] = ("honeyhive.<id>" if re.match(r"^honeyhive\.\S+$",
                                                                     scope.get("name", ""))
                                        else scope.get("name"))
            for sp in ss.get("spans", []):
                spans.append((scope.get("name"), sp))
                for kv in sp.get("attributes", []):
                    encodings.update(value_encodings(kv.get("value")))
    facts[ENCODINGS] = sorted(encodings)
    return facts, spans


def merged_facts(requests: list) -> tuple[dict, list]:
    """The facts and spans of all OTLP requests together. Batching is normalized, so no fact
    may depend on which request a span went in: the encodings are the union over all
    requests, and a fact whose value differs between requests shows every value it took."""
    values, spans = {}, []
    for req in requests:
        facts, more = otlp_shape(req)
        spans += more
        for key, value in facts.items():
            seen = values.setdefault(key, [])
            if value not in seen:
                seen.append(value)
    facts = {key: seen[0] if len(seen) == 1 else {"differs between requests": seen}
             for key, seen in values.items()}
    if ENCODINGS in values:
        facts[ENCODINGS] = sorted(set().union(*values[ENCODINGS]))
    return facts, spans


def value_encodings(value) -> set:
    """{"intValue": "3"} -> {"intValue:string"}; arrays also name their elements."""
    names = {bool: "bool", int: "number", float: "number", str: "string", list: "array",
             dict: "object", type(None): "null"}
    out = set()
    if not isinstance(value, dict):
        return {f"<not an AnyValue: {type(value).__name__}>"}
    for variant, payload in value.items():
        out.add(f"{variant}:{names.get(type(payload), type(payload).__name__)}")
        if variant == "arrayValue" and isinstance(payload, dict):
            for item in payload.get("values", []):
                out.update(f"arrayValue.values[].{e}" for e in value_encodings(item))
    return out


def span_facts(sp: dict, by_id: dict) -> dict:
    parent = sp.get("parentSpanId", MISSING)
    return {
        "span keys": sorted(sp),
        "traceId 32 lower-hex": bool(HEX32.match(str(sp.get("traceId", "")))),
        "spanId 16 lower-hex": bool(HEX16.match(str(sp.get("spanId", "")))),
        "parentSpanId": (None if parent is None else
                         "<absent>" if parent is MISSING else
                         f"<span {by_id.get(parent, '?')}>" if HEX16.match(str(parent))
                         else f"malformed {parent!r}"),
        "kind": sp.get("kind"),
        "status": sp.get("status"),
        "startTimeUnixNano is decimal string": isinstance(sp.get("startTimeUnixNano"), str)
        and bool(DIGITS.match(sp["startTimeUnixNano"])),
        "endTimeUnixNano is decimal string": isinstance(sp.get("endTimeUnixNano"), str)
        and bool(DIGITS.match(sp["endTimeUnixNano"])),
        "end >= start": _as_int(sp.get("endTimeUnixNano")) >= _as_int(sp.get("startTimeUnixNano")),
        "events": sp.get("events", MISSING),
    }


def _as_int(v) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return -1


def attr_family(key: str) -> str:
    if key.startswith("traceloop.association.properties."):
        return "traceloop.association.properties.*"
    if key == "honeyhive_event_type":
        return "honeyhive_event_type"
    if key.startswith("honeyhive."):
        return "honeyhive.*"
    m = re.match(r"^honeyhive_(inputs|outputs|metadata|metrics|feedback|config|user_properties)\.",
                 key)
    if m:
        return f"honeyhive_{m.group(1)}.*"
    return "other (initial attributes)"


def compare(py_res: dict, py_reqs: list, our_res: dict, our_reqs: list) -> Report:
    rep = Report()
    py_ids = {py_res["default_session"]: "<DEFAULT_SESSION>",
              py_res["created_session"]: "<CREATED_SESSION>"}
    our_ids = {our_res["default_session"]: "<DEFAULT_SESSION>",
               our_res["created_session"]: "<CREATED_SESSION>"}
    py_reqs = [substitute_ids(r, py_ids) for r in py_reqs]
    our_reqs = [substitute_ids(r, our_ids) for r in our_reqs]

    rep.info("driver", "session ids", "from the server response", "made on the client")
    rep.diff(Difference("driver", "flush", py_res["flush"], our_res["flush"]))
    if our_res.get("flush") != "HH_OK":
        rep.diff(Difference("driver(ours)", "hh_tracer_flush status", "HH_OK", our_res["flush"]))
    rep.check("driver", "create_session returned an id",
              bool(py_res["created_session"]), bool(our_res["created_session"]))

    # ---- REST requests, matched by kind ------------------------------------------------------
    def by_kind(reqs):
        out: dict[str, list] = {}
        for r in reqs:
            out.setdefault(classify(r), []).append(r)
        return out

    py_k, our_k = by_kind(py_reqs), by_kind(our_reqs)
    rest_kinds = sorted(k for k in set(py_k) | set(our_k) if k != "OTLP")
    for kind in rest_kinds:
        a, b = py_k.get(kind, []), our_k.get(kind, [])
        rep.check(kind, "request count", len(a), len(b))
        if not a or not b:
            continue
        pa, pb = a[0], b[0]
        rep.check(kind, "method + path", f"{pa['method']} {pa['path']}",
                  f"{pb['method']} {pb['path']}")
        rep.check(kind, "response status", pa["response_status"], pb["response_status"])
        compare_headers(rep, kind, pa["headers"], pb["headers"], otlp=False)
        diffs = json_diff(kind, pa["body_json"], pb["body_json"], "", [])
        for d in diffs:
            d.path = f"body {d.path}"
            d.expected = next((e for e in EXPECTED if _safe(e["match"], d)), None)
        diff_paths = {d.path[len("body "):] for d in diffs}
        for path, value in leaves(pa["body_json"]):
            if path not in diff_paths:
                rep.same(kind, f"body {path}", value)
        for d in diffs:
            rep.diff(d)
        # every leaf only in ours was reported by json_diff (python side <absent>)

    # ---- OTLP --------------------------------------------------------------------------------
    a, b = py_k.get("OTLP", []), our_k.get("OTLP", [])
    if not a or not b:
        rep.diff(Difference("OTLP", "request count", len(a), len(b)))
        return rep
    rep.info("OTLP", "request count (batching)", len(a), len(b))
    pa, pb = a[0], b[0]
    rep.check("OTLP", "method + path", f"{pa['method']} {pa['path']}",
              f"{pb['method']} {pb['path']}")
    for r in b[1:]:
        if r["path"] != pb["path"]:
            rep.diff(Difference("OTLP", "path of a later request", pa["path"], r["path"]))
    rep.check("OTLP", "otlp_format (receiver)", pa["otlp_format"], pb["otlp_format"])
    rep.check("OTLP", "response status", pa["response_status"], pb["response_status"])
    compare_headers(rep, "OTLP", pa["headers"], pb["headers"], otlp=True)

    py_facts, py_spans = merged_facts(a)
    our_facts, our_spans = merged_facts(b)
    for key in sorted(set(py_facts) | set(our_facts)):
        rep.check("OTLP body", key, py_facts.get(key, MISSING), our_facts.get(key, MISSING))
    rep.info("OTLP body", "resource attributes",
             sorted(a["key"] for a in pa["body_json"]["resourceSpans"][0]["resource"].get(
                 "attributes", [])),
             sorted(a["key"] for a in pb["body_json"]["resourceSpans"][0]["resource"].get(
                 "attributes", [])))
    rep.info("OTLP body", "scope.name", py_spans[0][0] if py_spans else None,
             our_spans[0][0] if our_spans else None)

    def index(spans):
        by_id = {sp["spanId"]: sp["name"] for _, sp in spans}
        by_name = {}
        for _, sp in spans:
            by_name.setdefault(sp["name"], []).append(sp)
        return by_id, by_name

    py_by_id, py_by_name = index(py_spans)
    our_by_id, our_by_name = index(our_spans)
    rep.check("OTLP spans", "span names", sorted(py_by_name), sorted(our_by_name))

    def trace_groups(spans):
        groups: dict[str, list] = {}
        for _, sp in spans:
            groups.setdefault(sp["traceId"], []).append(sp["name"])
        return sorted(sorted(g) for g in groups.values())

    rep.check("OTLP spans", "spans grouped by traceId", trace_groups(py_spans),
              trace_groups(our_spans))

    for name in sorted(set(py_by_name) & set(our_by_name)):
        sa, sb = py_by_name[name], our_by_name[name]
        area = f"span {name}"
        rep.check(area, "count", len(sa), len(sb))
        fa, fb = span_facts(sa[0], py_by_id), span_facts(sb[0], our_by_id)
        for key in fa:
            rep.check(area, key, fa[key], fb[key])
        attrs_a = {kv["key"]: kv["value"] for kv in sa[0].get("attributes", [])}
        attrs_b = {kv["key"]: kv["value"] for kv in sb[0].get("attributes", [])}
        families = sorted({attr_family(k) for k in set(attrs_a) | set(attrs_b)})
        for fam in families:
            keys = sorted(k for k in set(attrs_a) | set(attrs_b) if attr_family(k) == fam)
            for k in keys:
                rep.check(f"{area} attrs [{fam}]", k, attrs_a.get(k, MISSING),
                          attrs_b.get(k, MISSING))
    return rep


def print_report(rep: Report, py_res: dict, our_res: dict) -> int:
    print("=" * 100)
    print("libhoneyhive vs HoneyHive Python SDK: wire comparison")
    print(f"  reference: honeyhive {py_res.get('sdk_version')} (Python {sys.version.split()[0]})")
    print(f"  ours:      libhoneyhive {our_res.get('lib_version')} ({LIB_PATH})")
    print("=" * 100)
    w_item = min(60, max(len(r[1]) for r in rep.rows))
    current = None
    for area, item, py, ours, verdict in rep.rows:
        if area != current:
            print(f"\n## {area}")
            print(f"   {'item':<{w_item}}  {'python':<44}  {'ours':<44}  verdict")
            current = area
        item = item if len(item) <= w_item else item[: w_item - 3] + "..."
        if py == ours:
            print(f"   {item:<{w_item}}  {py:<44}  {'(same)':<44}  {verdict}")
        else:
            print(f"   {item:<{w_item}}  {py:<44}  {ours:<44}  {verdict}")

    print("\n" + "=" * 100)
    print("Normalized away (not compared):")
    for n in NORMALIZED:
        print(f"  - {n}")
    print("\nDocumented expected differences (compare.py EXPECTED):")
    for e in EXPECTED:
        hits = sum(1 for d in rep.diffs if d.expected is e)
        print(f"  - {e['id']}: {e['what']} ({e['why']}) -- seen {hits}x")
    unexpected = [d for d in rep.diffs if not d.expected]
    matches = sum(1 for r in rep.rows if r[4] == "MATCH")
    print(f"\nSummary: {matches} matches, {len(rep.diffs) - len(unexpected)} expected "
          f"differences, {len(unexpected)} UNEXPECTED differences")
    for d in unexpected:
        print(f"  UNEXPECTED  [{d.area}] {d.path}: python={_fmt(d.python, 10**6)} "
              f"ours={_fmt(d.ours, 10**6)}"
              + (f" ({d.note})" if d.note else ""))
    print("=" * 100)
    # The closing line CI reads: compared items that agree (or differ as documented) vs not.
    print(f"{matches + len(rep.diffs) - len(unexpected)} passed, {len(unexpected)} failed")
    return 1 if unexpected else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--receiver", default=os.environ.get("HH_RECEIVER_URL"))
    ap.add_argument("--dump", help="write the raw recorded requests of both sides here")
    ap.add_argument("--verbose", action="store_true", help="show the drivers' stderr")
    ap.add_argument("--drive", choices=["python", "ours"], help=argparse.SUPPRESS)
    ap.add_argument("url", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.drive:
        fn = drive_python if args.drive == "python" else drive_ours
        print("HHREF_RESULT " + json.dumps(fn(args.url)), flush=True)
        return 0

    if not LIB_PATH.exists():
        print(f"harness error: {LIB_PATH} missing (cargo build --release)", file=sys.stderr)
        return 2
    receiver = None
    base = args.receiver
    if not base:
        receiver, base = start_receiver()
    base = base.rstrip("/")
    try:
        py_res, py_reqs = run_side("python", base, args.verbose)
        our_res, our_reqs = run_side("ours", base, args.verbose)
    finally:
        if receiver is not None:
            receiver.stdin.close()
            receiver.wait(timeout=10)
    if args.dump:
        out = Path(args.dump)
        out.mkdir(parents=True, exist_ok=True)
        (out / "python.json").write_text(json.dumps({"result": py_res, "requests": py_reqs},
                                                    indent=2))
        (out / "ours.json").write_text(json.dumps({"result": our_res, "requests": our_reqs},
                                                  indent=2))
    return print_report(compare(py_res, py_reqs, our_res, our_reqs), py_res, our_res)


if __name__ == "__main__":
    sys.exit(main())
