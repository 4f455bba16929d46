"""Reading OTLP/JSON lines into spans, sessions and span trees."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

SESSION_KEYS = ("honeyhive.session_id", "traceloop.association.properties.session_id")
NO_SESSION = "(no session)"
# Enrichment namespaces shown by default, in display order, with their short labels.
KEY_NAMESPACES = (
    ("honeyhive_inputs", "in"),
    ("honeyhive_outputs", "out"),
    ("honeyhive_config", "config"),
    ("honeyhive_metrics", "metrics"),
)
# Shown with --all: the other namespaces.
EXTRA_NAMESPACES = (
    ("honeyhive_feedback", "feedback"),
    ("honeyhive_metadata", "metadata"),
    ("honeyhive_user_properties", "user"),
)


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: Optional[str]
    name: str
    kind: str
    start_ns: int
    end_ns: int
    attributes: Dict[str, Any]
    events: List[Dict[str, Any]]
    status_code: str
    status_message: Optional[str]
    service: Optional[str] = None
    children: List["Span"] = field(default_factory=list)
    orphan: bool = False  # has a parent id that is not in this session

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6

    @property
    def session_id(self) -> str:
        for k in SESSION_KEYS:
            v = self.attributes.get(k)
            if isinstance(v, str) and v:
                return v
        return NO_SESSION

    @property
    def event_type(self) -> Optional[str]:
        v = self.attributes.get("honeyhive_event_type")
        return v if isinstance(v, str) else None

    @property
    def error(self) -> Optional[str]:
        """A one-line error text, or None: honeyhive_error(_type), else the ERROR status."""
        msg = self.attributes.get("honeyhive_error")
        etype = self.attributes.get("honeyhive_error_type")
        if msg is not None:
            msg = str(msg)
            return f"{etype}: {msg}" if etype and not msg.startswith(f"{etype}:") else msg
        if self.status_code == "STATUS_CODE_ERROR":
            return self.status_message or "error"
        return None


@dataclass
class Session:
    session_id: str
    spans: List[Span]
    roots: List[Span]

    @property
    def start_ns(self) -> int:
        return min((s.start_ns for s in self.spans), default=0)

    @property
    def end_ns(self) -> int:
        return max((s.end_ns for s in self.spans), default=0)

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6

    @property
    def error_count(self) -> int:
        return sum(1 for s in self.spans if s.error)

    @property
    def services(self) -> List[str]:
        """The resource service.name values of the session's spans (several in a distributed
        trace: one per exporting process)."""
        return sorted({s.service for s in self.spans if s.service})


# ---- attribute values ---------------------------------------------------------------------


def decode_value(v: Any) -> Any:
    """An OTLP/JSON AnyValue as a Python value (intValue strings become ints)."""
    if not isinstance(v, dict):
        return v
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        try:
            return int(v["intValue"])
        except (TypeError, ValueError):
            return v["intValue"]
    if "doubleValue" in v:
        d = v["doubleValue"]
        try:
            return float(d)
        except (TypeError, ValueError):
            return d
    if "arrayValue" in v:
        return [decode_value(x) for x in (v["arrayValue"] or {}).get("values", []) or []]
    if "kvlistValue" in v:
        return {kv.get("key"): decode_value(kv.get("value")) for kv in (v["kvlistValue"] or {}).get("values", []) or []}
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def decode_attributes(attrs: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for kv in attrs or []:
        if isinstance(kv, dict) and "key" in kv:
            out[kv["key"]] = decode_value(kv.get("value"))
    return out


def _nanos(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def span_from_otlp(s: Dict[str, Any], service: Optional[str] = None) -> Span:
    status = s.get("status") or {}
    parent = s.get("parentSpanId") or None
    return Span(
        trace_id=str(s.get("traceId") or ""),
        span_id=str(s.get("spanId") or ""),
        parent_id=str(parent) if parent else None,
        name=str(s.get("name") or "(unnamed)"),
        kind=str(s.get("kind") or ""),
        start_ns=_nanos(s.get("startTimeUnixNano")),
        end_ns=_nanos(s.get("endTimeUnixNano")),
        attributes=decode_attributes(s.get("attributes")),
        events=[
            {
                "name": e.get("name"),
                "time_ns": _nanos(e.get("timeUnixNano")),
                "attributes": decode_attributes(e.get("attributes")),
            }
            for e in s.get("events") or []
            if isinstance(e, dict)
        ],
        status_code=str(status.get("code") or "STATUS_CODE_UNSET"),
        status_message=status.get("message"),
        service=service,
    )


def spans_from_document(doc: Dict[str, Any]) -> List[Span]:
    out = []
    for rs in doc.get("resourceSpans") or []:
        resource = decode_attributes((rs.get("resource") or {}).get("attributes"))
        service = resource.get("service.name")
        for ss in rs.get("scopeSpans") or []:
            for s in ss.get("spans") or []:
                if isinstance(s, dict):
                    out.append(span_from_otlp(s, service))
    return out


def load_lines(lines: Iterable[str], source: str = "<input>") -> Tuple[List[Span], List[str]]:
    """Spans from OTLP/JSON lines; returns (spans, warnings). Bad lines are skipped."""
    spans: List[Span] = []
    warnings: List[str] = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as e:
            warnings.append(f"{source}:{n}: not JSON ({e.msg}); line skipped")
            continue
        if not isinstance(doc, dict) or "resourceSpans" not in doc:
            warnings.append(f"{source}:{n}: no resourceSpans; line skipped")
            continue
        spans.extend(spans_from_document(doc))
    return spans, warnings


def load_files(paths: Iterable[str]) -> Tuple[List[Span], List[str]]:
    import sys

    spans: List[Span] = []
    warnings: List[str] = []
    for p in paths:
        if p == "-":
            s, w = load_lines(sys.stdin, "<stdin>")
        else:
            with open(p, encoding="utf-8", errors="replace") as f:
                s, w = load_lines(f, p)
        spans.extend(s)
        warnings.extend(w)
    return spans, warnings


# ---- sessions and trees -------------------------------------------------------------------


def build_sessions(spans: Iterable[Span]) -> List[Session]:
    """Groups spans by session id and links each session's spans into trees. A span whose
    parent is not in the same session (missing from the file, or in another session) is a
    root there, marked `orphan`. Sessions are ordered by start time, spans by start time."""
    unique: Dict[Tuple[str, str], Span] = {}
    for s in spans:  # the same span twice (a file appended to twice): keep the last
        unique[(s.trace_id, s.span_id)] = s
    by_session: Dict[str, List[Span]] = {}
    for s in unique.values():
        s.children = []
        s.orphan = False
        by_session.setdefault(s.session_id, []).append(s)
    sessions = []
    for sid, members in by_session.items():
        members.sort(key=lambda s: (s.start_ns, s.end_ns))
        index = {(s.trace_id, s.span_id): s for s in members}
        roots = []
        for s in members:
            parent = index.get((s.trace_id, s.parent_id)) if s.parent_id else None
            if parent is not None and parent is not s:
                parent.children.append(s)
            else:
                s.orphan = s.parent_id is not None
                roots.append(s)
        sessions.append(Session(sid, members, roots))
    sessions.sort(key=lambda x: (x.session_id == NO_SESSION, x.start_ns))
    return sessions


def walk(roots: List[Span], depth: int = 0):
    """(span, depth, is_last_sibling, ancestors_last) in display order."""

    def rec(nodes, depth, lasts):
        for i, s in enumerate(nodes):
            last = i == len(nodes) - 1
            yield s, depth, last, lasts
            yield from rec(s.children, depth + 1, lasts + (last,))

    yield from rec(roots, depth, ())


# ---- enrichment summaries -----------------------------------------------------------------


def unflatten(flat: Dict[str, Any]) -> Any:
    """{"a.0": 1, "a.1": 2, "b.c": 3} -> {"a": [1, 2], "b": {"c": 3}}."""
    root: Dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        node = root
        for p in parts[:-1]:
            nxt = node.get(p)
            if not isinstance(nxt, dict):
                nxt = {} if nxt is None else {"": nxt}
                node[p] = nxt
            node = nxt
        last = parts[-1]
        if isinstance(node.get(last), dict):
            node[last][""] = value
        else:
            node[last] = value
    return _listify(root)


def _listify(v: Any) -> Any:
    if isinstance(v, dict):
        v = {k: _listify(x) for k, x in v.items()}
        keys = list(v.keys())
        if keys and all(re.fullmatch(r"\d+", k) for k in keys):
            idx = sorted(int(k) for k in keys)
            if idx == list(range(len(idx))):
                return [v[str(i)] for i in idx]
    return v


def namespace(span: Span, prefix: str) -> Dict[str, Any]:
    """The span's attributes under `prefix.`, keys without the prefix."""
    p = prefix + "."
    return {k[len(p):]: v for k, v in span.attributes.items() if k.startswith(p)}


def shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())  # one line
    if limit > 1 and len(text) > limit:
        return text[: limit - 1] + "\u2026"
    return text


def compact(v: Any, limit: int = 40) -> str:
    """A short one-line rendering of a (nested) value; strings cut at `limit` chars."""
    if isinstance(v, str):
        return json.dumps(shorten(v, limit), ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "[" + ", ".join(compact(x, limit) for x in v) + "]"
    if isinstance(v, dict):
        if set(v) == {"role", "content"}:  # a chat message: role first, as people read them
            return f"{v['role']}: {compact(v['content'], limit)}"
        return "{" + ", ".join(f"{k}: {compact(x, limit)}" for k, x in v.items()) + "}"
    return str(v)


def enrichment_lines(span: Span, value_limit: int = 40, line_limit: int = 160, all_namespaces: bool = False) -> List[Tuple[str, str]]:
    """(label, text) per non-empty namespace, e.g. ("in", 'question="What…"')."""
    out = []
    spaces = KEY_NAMESPACES + (EXTRA_NAMESPACES if all_namespaces else ())
    for prefix, label in spaces:
        flat = namespace(span, prefix)
        if not flat:
            continue
        tree = unflatten(flat)
        parts = [f"{k}={compact(v, value_limit)}" for k, v in tree.items()] if isinstance(tree, dict) else [compact(tree, value_limit)]
        out.append((label, shorten("  ".join(parts), line_limit)))
    return out


def format_ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"
