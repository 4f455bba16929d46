"""Normalizes what the receiver recorded for one side of a scenario and compares the two
sides request by request, field by field and attribute by attribute."""

from __future__ import annotations

import json
import re

from deviations import ALWAYS, BY_ID, ENCODINGS, MISSING
from scenarios import FIXED_IDS, FIXED_SESSIONS, FIXED_TIMES

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
DIGITS = re.compile(r"^[0-9]+$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TRANSPORT_HEADERS = {"user-agent", "host", "content-length", "accept-encoding", "connection"}
# The resource keys both must send (values differ by language and process).
RESOURCE_CONVENTIONS = {"service.name", "service.instance.id", "process.pid",
                        "process.runtime.name", "host.arch", "os.type", "telemetry.sdk.name",
                        "telemetry.sdk.language", "telemetry.sdk.version"}
VALUE_NORMALIZED_HEADERS = {"hh-client-version", "hh-client-language", "hh-client-package",
                            "hh-client-timestamp"}


class Difference:  # pylint: disable=too-few-public-methods
    def __init__(self, area: str, path: str, python, ours, note: str = ""):
        self.area, self.path, self.python, self.ours, self.note = area, path, python, ours, note
        self.expected = None


def _safe(pred, d) -> bool:
    try:
        return bool(pred(d))
    except Exception:  # pylint: disable=broad-except
        return False


class Report:
    """Rows of one scenario's comparison; a difference is expected when one of the
    scenario's listed deviations matches it."""

    def __init__(self, expected_ids: list):
        self.expected = [BY_ID[i] for i in ALWAYS + list(expected_ids)]
        self.rows: list[tuple[str, str, str, str, str]] = []  # area, item, python, ours, verdict
        self.diffs: list[Difference] = []

    def same(self, area, item, py):
        self.rows.append((area, item, _fmt(py), _fmt(py), "MATCH"))

    def info(self, area, item, py, ours):
        self.rows.append((area, item, _fmt(py), _fmt(ours), "normalized"))

    def diff(self, d: Difference):
        d.expected = next((e for e in self.expected
                           if e["match"] is not None and _safe(e["match"], d)), None)
        self.diffs.append(d)
        verdict = f"EXPECTED {d.expected['id']}" if d.expected else "DIFF (unexpected)"
        self.rows.append((d.area, d.path, _fmt(d.python), _fmt(d.ours), verdict))

    def check(self, area, item, py, ours, note=""):
        if type(py) is type(ours) and py == ours:
            self.same(area, item, py)
        else:
            self.diff(Difference(area, item, py, ours, note))

    def unexpected(self) -> list:
        return [d for d in self.diffs if not d.expected]


def _fmt(v, limit: int = 44) -> str:
    if v is MISSING:
        return "<absent>"
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def fmt_full(v) -> str:
    return _fmt(v, 10**6)


# --------------------------------------------------------------------------------------------
# Normalization of one side
# --------------------------------------------------------------------------------------------

def substitute(obj, ids: dict):
    """Every occurrence of a real id (in any string) replaced by its placeholder."""
    if isinstance(obj, str):
        for real, placeholder in ids.items():
            if real and real in obj:
                obj = obj.replace(real, placeholder)
        return obj
    if isinstance(obj, list):
        return [substitute(x, ids) for x in obj]
    if isinstance(obj, dict):
        return {k: substitute(v, ids) for k, v in obj.items()}
    return obj


def recorded_spans(req: dict) -> list:
    """The OTLP spans of one request in OTLP/JSON form: the body itself for JSON; for
    protobuf, the receiver's decoded spans put back into that form (values as decoded)."""
    body = req.get("body_json")
    if isinstance(body, dict):
        return [sp for rs in body.get("resourceSpans", []) for ss in rs.get("scopeSpans", [])
                for sp in ss.get("spans", [])]
    return [_from_decoded(sp) for sp in req.get("spans") or []]


DECODED_KEYS = {"trace_id", "span_id", "parent_span_id", "name", "kind", "start_time_unix_nano",
                "end_time_unix_nano", "attributes", "events", "links", "status_code",
                "status_message", "resource", "scope_name"}


def _decoded_attrs(attrs: dict) -> list:
    return [{"key": k, "value": {"decoded": v}} for k, v in (attrs or {}).items()]


def _from_decoded(sp: dict) -> dict:
    """One span as the receiver decoded it from protobuf, in OTLP/JSON's shape (values as
    decoded; any field the receiver adds is kept under its own name)."""
    out = {
        "traceId": sp["trace_id"], "spanId": sp["span_id"],
        "parentSpanId": sp.get("parent_span_id"), "name": sp["name"], "kind": sp["kind"],
        "startTimeUnixNano": str(sp["start_time_unix_nano"]),
        "endTimeUnixNano": str(sp["end_time_unix_nano"]),
        "attributes": _decoded_attrs(sp.get("attributes")),
        "events": [{"name": e.get("name"), "timeUnixNano": str(e.get("time_unix_nano")),
                    "attributes": _decoded_attrs(e.get("attributes")),
                    **{k: v for k, v in e.items()
                       if k not in ("name", "time_unix_nano", "attributes")}}
                   for e in sp.get("events", [])],
        "status": {"code": sp.get("status_code"), "message": sp.get("status_message")},
        **{k: v for k, v in sp.items() if k not in DECODED_KEYS},
    }
    if "links" in sp:
        out["links"] = [{"traceId": lk.get("trace_id"), "spanId": lk.get("span_id"),
                         "attributes": _decoded_attrs(lk.get("attributes")),
                         **{k: v for k, v in lk.items()
                            if k not in ("trace_id", "span_id", "attributes")}}
                        for lk in sp["links"]]
    return out


def auto_session_ids(reqs: list) -> dict:
    """Session ids the library or the SDK made by itself (a SERVER span's session): each
    named after the first span (by start time, then name) that carries it."""
    found: dict[str, str] = {}
    spans = sorted((sp for r in reqs if r["path"].endswith("/v1/traces")
                    for sp in recorded_spans(r)),
                   key=lambda sp: (_as_int(sp.get("startTimeUnixNano")), sp.get("name", "")))
    for sp in spans:
        for kv in sp.get("attributes", []):
            if kv.get("key") != "honeyhive.session_id":
                continue
            value = next(iter(kv.get("value", {}).values()), None)
            if isinstance(value, str) and UUID.match(value) and value not in found:
                found[value] = f"<SESSION of {sp['name']}>"
    return found


def normalize_side(result: dict, reqs: list) -> list:
    ids = {real: placeholder for placeholder, real in result.get("ids", {}).items() if real}
    ids.update(FIXED_SESSIONS)
    reqs = [substitute(r, ids) for r in reqs]
    return [substitute(r, auto_session_ids(reqs)) for r in reqs]


def classify(req: dict, tracers: dict) -> str:
    path, method = req["path"], req["method"]
    body = req.get("body_json") if isinstance(req.get("body_json"), dict) else {}
    if method == "POST" and path.endswith("/session/start"):
        return f"REST session/start ({(body.get('session') or {}).get('session_name')})"
    if method == "PUT" and path.endswith("/events"):
        return f"REST PUT /events ({body.get('event_id')})"
    if method == "POST" and path.endswith("/events"):
        return f"REST POST /events ({(body.get('event') or {}).get('event_name')})"
    if path.endswith("/v1/traces"):
        if not tracers:
            return "OTLP"
        key = (req["headers"].get("authorization") or "").removeprefix("Bearer ")
        return f"OTLP {tracers.get(key, '?')}"
    return f"other {method} {path}"


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------

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
        rep.check(area, "header hh-client-timestamp absent on OTLP (REST calls only)",
                  "hh-client-timestamp" in py, "hh-client-timestamp" in ours)


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


def body_facts(req: dict) -> dict:
    """The shape facts of one OTLP/JSON body (none for protobuf: the receiver decoded it)."""
    body = req.get("body_json")
    if not isinstance(body, dict):
        return {"format": req.get("otlp_format")}
    facts, encodings = {"top-level keys": sorted(body)}, set()
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
                for kv in sp.get("attributes", []):
                    encodings.update(value_encodings(kv.get("value")))
    facts[ENCODINGS] = sorted(encodings)
    return facts


def merged_facts(requests: list) -> dict:
    """The facts of all OTLP requests together. Batching is normalized, so no fact may depend
    on which request a span went in: the encodings are the union over all requests, and a
    fact whose value differs between requests shows every value it took."""
    values: dict[str, list] = {}
    for req in requests:
        for key, value in body_facts(req).items():
            seen = values.setdefault(key, [])
            if value not in seen:
                seen.append(value)
    facts = {key: seen[0] if len(seen) == 1 else {"differs between requests": seen}
             for key, seen in values.items()}
    if ENCODINGS in values:
        facts[ENCODINGS] = sorted(set().union(*values[ENCODINGS]))
    return facts


def resource_keys(requests: list) -> list:
    keys = set()
    for req in requests:
        body = req.get("body_json")
        if isinstance(body, dict):
            for rs in body.get("resourceSpans", []):
                keys.update(a["key"] for a in rs.get("resource", {}).get("attributes", []))
        for sp in req.get("spans") or []:
            keys.update(sp.get("resource", {}))
    return sorted(keys)


def _time(v) -> str:
    try:
        n = int(v)
    except (TypeError, ValueError):
        return f"malformed {v!r}"
    return str(n) if n in FIXED_TIMES else "<clock>"


def _id_label(v, by_id: dict, kind: str):
    if v is None or v is MISSING:
        return None if v is None else "<absent>"
    if v in FIXED_IDS:
        return FIXED_IDS[v]
    if kind == "span":
        return f"<span {by_id[v]}>" if v in by_id else (
            "<unknown span>" if HEX16.match(str(v)) else f"malformed {v!r}")
    return "<generated>" if HEX32.match(str(v)) else f"malformed {v!r}"


def _attrs(kvs) -> dict:
    out = {}
    for kv in kvs or []:
        value = kv.get("value")
        if kv.get("key") == "exception.stacktrace":
            text = next(iter(value.values()), None) if isinstance(value, dict) else None
            value = "<non-empty stacktrace>" if isinstance(text, str) and text.strip() \
                else value
        out[kv.get("key")] = value
    return out


def _events(sp: dict) -> list:
    return [{"name": e.get("name"), "time": _time(e.get("timeUnixNano")),
             "attributes": _attrs(e.get("attributes")),
             **{k: v for k, v in e.items() if k not in ("name", "timeUnixNano", "attributes")}}
            for e in sp.get("events", [])]


def _links(sp: dict, by_id: dict):
    if "links" not in sp:
        return MISSING
    return [{"traceId": _id_label(lk.get("traceId"), by_id, "trace"),
             "spanId": _id_label(lk.get("spanId"), by_id, "span"),
             "attributes": _attrs(lk.get("attributes")),
             **{k: v for k, v in lk.items() if k not in ("traceId", "spanId", "attributes")}}
            for lk in sp.get("links") or []]


def span_facts(sp: dict, by_id: dict) -> dict:
    events = _events(sp)
    facts = {
        "span keys": sorted(sp),
        "traceId": _id_label(sp.get("traceId"), by_id, "trace"),
        "spanId 16 lower-hex": bool(HEX16.match(str(sp.get("spanId", "")))),
        "parentSpanId": _id_label(sp.get("parentSpanId", MISSING), by_id, "span"),
        "kind": sp.get("kind"),
        "status": sp.get("status"),
        "startTimeUnixNano": _time(sp.get("startTimeUnixNano")),
        "endTimeUnixNano": _time(sp.get("endTimeUnixNano")),
        "start/end are decimal strings": all(
            isinstance(sp.get(k), str) and bool(DIGITS.match(sp[k]))
            for k in ("startTimeUnixNano", "endTimeUnixNano")),
        "end >= start": _as_int(sp.get("endTimeUnixNano")) >= _as_int(sp.get("startTimeUnixNano")),
        "events (names)": [e["name"] for e in events],
        "links": _links(sp, by_id),
    }
    for i, e in enumerate(events):
        facts[f"events[{i}]"] = e
    return facts


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
    if key.startswith("baggage."):
        return "baggage.*"
    if key.startswith("honeyhive_"):
        return "honeyhive_*"
    return "other (initial attributes)"


def compare_rest(rep: Report, kind: str, a: list, b: list):
    rep.check(kind, "request count", len(a), len(b))
    key = lambda r: json.dumps(r.get("body_json"), sort_keys=True)  # noqa: E731
    for pa, pb in zip(sorted(a, key=key), sorted(b, key=key)):
        rep.check(kind, "method + path", f"{pa['method']} {pa['path']}",
                  f"{pb['method']} {pb['path']}")
        rep.check(kind, "response status", pa["response_status"], pb["response_status"])
        compare_headers(rep, kind, pa["headers"], pb["headers"], otlp=False)
        diffs = json_diff(kind, pa["body_json"], pb["body_json"], "", [])
        for d in diffs:
            d.path = f"body {d.path}"
        diff_paths = {d.path[len("body "):] for d in diffs}
        for path, value in leaves(pa["body_json"]):
            if path not in diff_paths:
                rep.same(kind, f"body {path}", value)
        for d in diffs:
            rep.diff(d)


def compare_otlp(rep: Report, kind: str, a: list, b: list) -> None:
    rep.info(kind, "request count (batching)", len(a), len(b))
    pa, pb = a[0], b[0]
    rep.check(kind, "method + path", f"{pa['method']} {pa['path']}",
              f"{pb['method']} {pb['path']}")
    for r in b[1:]:
        if r["path"] != pb["path"]:
            rep.diff(Difference(kind, "path of a later request", pa["path"], r["path"]))
    rep.check(kind, "otlp_format (receiver)", pa["otlp_format"], pb["otlp_format"])
    rep.check(kind, "response status", pa["response_status"], pb["response_status"])
    compare_headers(rep, kind, pa["headers"], pb["headers"], otlp=True)
    py_facts, our_facts = merged_facts(a), merged_facts(b)
    for key in sorted(set(py_facts) | set(our_facts)):
        rep.check(f"{kind} body", key, py_facts.get(key, MISSING), our_facts.get(key, MISSING))
    py_res, our_res = resource_keys(a), resource_keys(b)
    wanted = [k for k in py_res if k in RESOURCE_CONVENTIONS]
    rep.check(f"{kind} body", "resource attribute keys (OpenTelemetry's conventions) the SDK "
              "sends, present in ours", wanted, [k for k in wanted if k in our_res])
    rep.info(f"{kind} body", "resource attribute keys", py_res, our_res)


def compare_spans(rep: Report, py_reqs: list, our_reqs: list, results: tuple) -> None:
    py_spans = [sp for r in py_reqs for sp in recorded_spans(r)]
    our_spans = [sp for r in our_reqs for sp in recorded_spans(r)]

    def index(spans):
        by_id = {sp["spanId"]: sp["name"] for sp in spans}
        by_name: dict[str, list] = {}
        for sp in spans:
            by_name.setdefault(sp["name"], []).append(sp)
        return by_id, by_name

    py_by_id, py_by_name = index(py_spans)
    our_by_id, our_by_name = index(our_spans)
    rep.check("OTLP spans", "span names", sorted(py_by_name), sorted(our_by_name))

    def trace_groups(spans):
        groups: dict[str, list] = {}
        for sp in spans:
            groups.setdefault(sp["traceId"], []).append(sp["name"])
        return sorted(sorted(g) for g in groups.values())

    rep.check("OTLP spans", "spans grouped by traceId", trace_groups(py_spans),
              trace_groups(our_spans))

    for side, res, by_name in (("python", results[0], py_by_name),
                               ("ours", results[1], our_by_name)):
        for name, (trace_hex, span_hex) in (res.get("read_ids") or {}).items():
            sp = (by_name.get(name) or [{}])[0]
            ok = sp.get("traceId") == trace_hex and sp.get("spanId") == span_hex
            if not ok:
                rep.diff(Difference("OTLP spans", f"ids read from {name} ({side}) are the "
                                    "exported ones", True, ok))
            else:
                rep.same("OTLP spans", f"ids read from {name} ({side}) are the exported ones",
                         True)

    for name in sorted(set(py_by_name) & set(our_by_name)):
        sa, sb = py_by_name[name], our_by_name[name]
        area = f"span {name}"
        rep.check(area, "count", len(sa), len(sb))
        fa, fb = span_facts(sa[0], py_by_id), span_facts(sb[0], our_by_id)
        for key in sorted(set(fa) | set(fb), key=lambda k: (k.startswith("events["), k)):
            rep.check(area, key, fa.get(key, MISSING), fb.get(key, MISSING))
        attrs_a = _attrs(sa[0].get("attributes"))
        attrs_b = _attrs(sb[0].get("attributes"))
        for fam in sorted({attr_family(k) for k in set(attrs_a) | set(attrs_b)}):
            for k in sorted(k for k in set(attrs_a) | set(attrs_b) if attr_family(k) == fam):
                rep.check(f"{area} attrs [{fam}]", k, attrs_a.get(k, MISSING),
                          attrs_b.get(k, MISSING))


def compare(scenario, py_res: dict, py_reqs: list, our_res: dict, our_reqs: list) -> Report:
    rep = Report(scenario.expected)
    py_reqs, our_reqs = normalize_side(py_res, py_reqs), normalize_side(our_res, our_reqs)

    rep.diff(Difference("driver", "flush", py_res.get("flush"), our_res.get("flush")))
    if our_res.get("flush") != "HH_OK":
        rep.diff(Difference("driver(ours)", "hh_tracer_flush status", "HH_OK",
                            our_res.get("flush")))
    py_facts, our_facts = py_res.get("facts", {}), our_res.get("facts", {})
    for key in sorted(set(py_facts) | set(our_facts)):
        rep.check("driver", key, substitute_fact(py_facts.get(key, MISSING), py_res),
                  substitute_fact(our_facts.get(key, MISSING), our_res))

    def by_kind(reqs):
        out: dict[str, list] = {}
        for r in reqs:
            out.setdefault(classify(r, scenario.tracers), []).append(r)
        return out

    py_k, our_k = by_kind(py_reqs), by_kind(our_reqs)
    for kind in sorted(k for k in set(py_k) | set(our_k) if not k.startswith("OTLP")):
        compare_rest(rep, kind, py_k.get(kind, []), our_k.get(kind, []))
    for kind in sorted(k for k in set(py_k) | set(our_k) if k.startswith("OTLP")):
        a, b = py_k.get(kind, []), our_k.get(kind, [])
        if not a or not b:
            rep.diff(Difference(kind, "request count", len(a), len(b)))
        else:
            compare_otlp(rep, kind, a, b)
    compare_spans(rep, [r for k, v in py_k.items() if k.startswith("OTLP") for r in v],
                  [r for k, v in our_k.items() if k.startswith("OTLP") for r in v],
                  (py_res, our_res))
    return rep


def substitute_fact(value, result: dict):
    if value is MISSING:
        return value
    ids = {real: placeholder for placeholder, real in result.get("ids", {}).items() if real}
    ids.update(FIXED_SESSIONS)
    return substitute(value, ids)
