"""A self-contained HTML waterfall page: inline CSS, no scripts, no external assets."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape
from typing import List

from .model import NO_SESSION, Session, Span, enrichment_lines, format_ms, walk

CSS = """
:root { --bg:#fff; --fg:#1d2330; --muted:#6b7280; --line:#e5e7eb; --row:#f9fafb;
        --model:#8b5cf6; --tool:#0891b2; --chain:#2563eb; --other:#6b7280; --err:#dc2626; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--fg); background: var(--bg); }
h1 { font-size: 18px; margin: 0 0 4px; }
.sub { color: var(--muted); margin-bottom: 20px; }
section { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 24px; overflow: hidden; }
section > header { padding: 10px 14px; background: var(--row); border-bottom: 1px solid var(--line); }
section > header h2 { font-size: 14px; margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
section > header .meta { color: var(--muted); font-size: 12px; }
.errcount { color: var(--err); font-weight: 600; }
.axis, .row { display: grid; grid-template-columns: minmax(260px, 38%) 1fr; }
.axis > div { border-bottom: 1px solid var(--line); padding: 4px 10px; color: var(--muted); font-size: 11px; }
.ticks { position: relative; height: 22px; }
.ticks span { position: absolute; top: 4px; transform: translateX(-50%); white-space: nowrap; }
.ticks span:first-child { transform: none; }
.ticks span:last-child { transform: translateX(-100%); }
.label, .lane { border-bottom: 1px solid var(--line); padding: 5px 10px; min-height: 30px; }
.row:hover { background: #f3f4f6; }
.label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.name { font-weight: 600; }
.row.error .name { color: var(--err); }
.badge { display: inline-block; font-size: 10px; padding: 0 6px; border-radius: 9px; color: #fff;
         background: var(--other); margin-left: 6px; vertical-align: 1px; }
.badge.model { background: var(--model); } .badge.tool { background: var(--tool); }
.badge.chain { background: var(--chain); }
.dur { color: var(--muted); margin-left: 6px; font-variant-numeric: tabular-nums; }
.orphan { color: #b45309; font-size: 11px; margin-left: 6px; }
.svc { color: var(--muted); font-size: 11px; margin-left: 6px; }
.lane { position: relative; }
.bar { position: absolute; top: 8px; height: 14px; min-width: 2px; border-radius: 3px; background: var(--other); }
.bar.model { background: var(--model); } .bar.tool { background: var(--tool); } .bar.chain { background: var(--chain); }
.row.error .bar { background: var(--err); outline: 2px solid #fecaca; }
.errmsg { color: var(--err); font-size: 12px; white-space: normal; }
.enrich { color: var(--muted); font-size: 11px; white-space: normal; font-family: ui-monospace, Menlo, monospace; }
.enrich b { color: var(--fg); font-weight: 600; }
details { margin-top: 2px; white-space: normal; }
details summary { cursor: pointer; color: var(--muted); font-size: 11px; }
table.attrs { border-collapse: collapse; font: 11px ui-monospace, Menlo, monospace; margin: 4px 0; }
table.attrs td { border-top: 1px solid var(--line); padding: 2px 8px 2px 0; vertical-align: top; word-break: break-all; }
table.attrs td:first-child { color: var(--muted); white-space: nowrap; }
"""


def _value(v) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False)


def _title(span: Span) -> str:
    lines = [f"{span.name}  ({format_ms(span.duration_ms)})"]
    if span.error:
        lines.append(f"ERROR: {span.error}")
    lines.append(f"span {span.span_id}  parent {span.parent_id or '-'}  trace {span.trace_id}")
    for k in sorted(span.attributes):
        v = _value(span.attributes[k])
        if len(v) > 300:
            v = v[:299] + "\u2026"
        lines.append(f"{k} = {v}")
    return "\n".join(lines)


def _ticks(total_ms: float) -> str:
    out = []
    for i in range(5):
        frac = i / 4
        out.append(f'<span style="left:{frac * 100:.1f}%">{escape(format_ms(total_ms * frac))}</span>')
    return "".join(out)


def _row(span: Span, depth: int, session: Session, show_service: bool = False) -> str:
    total = max(session.end_ns - session.start_ns, 1)
    left = (span.start_ns - session.start_ns) / total * 100
    width = max(0.0, (span.end_ns - span.start_ns) / total * 100)
    et = span.event_type or "other"
    err = span.error
    classes = "row error" if err else "row"
    label = [f'<span class="name">{escape(span.name)}</span>',
             f'<span class="badge {escape(et)}">{escape(span.event_type or "?")}</span>',
             f'<span class="dur">{escape(format_ms(span.duration_ms))}</span>']
    if show_service and span.service:
        label.append(f'<span class="svc">\u00b7 {escape(span.service)}</span>')
    if span.orphan:
        label.append(f'<span class="orphan" title="parent {escape(span.parent_id or "")} is not in this session">orphan</span>')
    if err:
        label.insert(0, '<span class="errmsg">\u2717 </span>')
    extra = []
    if err:
        extra.append(f'<div class="errmsg">{escape(err)}</div>')
    enrich = enrichment_lines(span, value_limit=60, line_limit=240)
    if enrich:
        extra.append('<div class="enrich">' + "<br>".join(
            f"<b>{escape(lbl)}:</b> {escape(txt)}" for lbl, txt in enrich) + "</div>")
    attrs = "".join(f"<tr><td>{escape(k)}</td><td>{escape(_value(span.attributes[k]))}</td></tr>"
                    for k in sorted(span.attributes))
    extra.append(f"<details><summary>{len(span.attributes)} attributes</summary>"
                 f'<table class="attrs">{attrs}</table></details>')
    pad = 10 + depth * 18
    title = escape(_title(span), quote=True)
    return (f'<div class="{classes}" title="{title}">'
            f'<div class="label" style="padding-left:{pad}px">{"".join(label)}{"".join(extra)}</div>'
            f'<div class="lane"><div class="bar {escape(et)}" style="left:{left:.3f}%;width:{width:.3f}%"></div></div>'
            f"</div>")


def _when(ns: int) -> str:
    if ns <= 0:
        return "?"
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_session(session: Session) -> str:
    sid = session.session_id
    errs = session.error_count
    meta = f"{len(session.spans)} spans \u00b7 {format_ms(session.duration_ms)} \u00b7 {_when(session.start_ns)}"
    services = session.services
    if len(services) > 1:
        meta += f" \u00b7 {len(services)} services: {', '.join(services)}"
    err_html = f' \u00b7 <span class="errcount">{errs} error{"s" if errs != 1 else ""}</span>' if errs else ""
    title = "Spans without a session" if sid == NO_SESSION else f"Session {sid}"
    rows = "".join(_row(span, depth, session, len(services) > 1) for span, depth, _, _ in walk(session.roots))
    return (f'<section class="session" id="session-{escape(sid)}">'
            f"<header><h2>{escape(title)}</h2><div class=\"meta\">{escape(meta)}{err_html}</div></header>"
            f'<div class="grid"><div class="axis"><div>span</div><div class="ticks">{_ticks(session.duration_ms)}</div></div>'
            f"{rows}</div></section>")


def render_html(sessions: List[Session], source: str = "") -> str:
    n_spans = sum(len(s.spans) for s in sessions)
    sub = f"{len(sessions)} session{'s' if len(sessions) != 1 else ''}, {n_spans} spans"
    if source:
        sub += f" \u00b7 {source}"
    body = "".join(render_session(s) for s in sessions) or "<p>No spans found.</p>"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>HoneyHive trace view</title><style>{CSS}</style></head><body>"
            f"<h1>HoneyHive trace view</h1><div class=\"sub\">{escape(sub)}</div>"
            f"{body}</body></html>\n")
