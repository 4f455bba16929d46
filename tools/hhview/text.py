"""The terminal view: one tree per session."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import List, Mapping, Optional

from .model import NO_SESSION, Session, enrichment_lines, format_ms, shorten, walk

RESET = "\x1b[0m"
STYLES = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "red": "\x1b[31m",
    "bold_red": "\x1b[1;31m",
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "blue": "\x1b[34m",
    "magenta": "\x1b[35m",
    "cyan": "\x1b[36m",
}
TYPE_STYLE = {"model": "magenta", "tool": "cyan", "chain": "blue", "session": "green"}
LABEL_STYLE = {"in": "green", "out": "yellow", "config": "blue", "metrics": "magenta"}


def use_color(mode: str, stream, env: Optional[Mapping[str, str]] = None) -> bool:
    """--color auto|always|never. Auto: only on a TTY, and never when NO_COLOR is set
    (https://no-color.org: present and not empty)."""
    env = os.environ if env is None else env
    if mode == "always":
        return True
    if mode == "never":
        return False
    if env.get("NO_COLOR"):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Painter:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        if not self.color or not style:
            return text
        return f"{STYLES[style]}{text}{RESET}"


def _branches(ascii_only: bool):
    if ascii_only:
        return {"tee": "|- ", "last": "`- ", "pipe": "|  ", "space": "   ", "err": "x", "orphan": "^", "dot": "-"}
    return {"tee": "\u251c\u2500 ", "last": "\u2514\u2500 ", "pipe": "\u2502  ", "space": "   ", "err": "\u2717", "orphan": "\u21b8", "dot": "\u00b7"}


def _when(ns: int) -> str:
    if ns <= 0:
        return "?"
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_session(session: Session, paint: Painter, ascii_only: bool = False, value_limit: int = 40,
                   line_limit: int = 160, all_namespaces: bool = False) -> List[str]:
    b = _branches(ascii_only)
    title = "Session" if session.session_id != NO_SESSION else "Spans without a session"
    head = f"{paint('bold', title)} {paint('bold', session.session_id) if session.session_id != NO_SESSION else ''}".rstrip()
    errs = session.error_count
    summary = f"{len(session.spans)} span{'s' if len(session.spans) != 1 else ''}, {format_ms(session.duration_ms)}, {_when(session.start_ns)}"
    services = session.services
    multi = len(services) > 1  # a distributed trace: say which process exported each span
    if multi:
        summary += f", {len(services)} services: {', '.join(services)}"
    if errs:
        summary += ", " + paint("bold_red", f"{errs} error{'s' if errs != 1 else ''}")
    lines = [f"{head}  {paint('dim', '(')}{summary}{paint('dim', ')')}"]
    for span, depth, last, lasts in walk(session.roots):
        prefix = "".join(b["space"] if l else b["pipe"] for l in lasts)
        branch = b["last"] if last else b["tee"]
        err = span.error
        name = paint("bold_red" if err else "bold", span.name)
        et = span.event_type
        etype = paint(TYPE_STYLE.get(et or "", ""), f"[{et}]") if et else paint("dim", "[?]")
        offset = (span.start_ns - session.start_ns) / 1e6 if session.start_ns else 0.0
        line = f"{prefix}{branch}{name} {etype} {format_ms(span.duration_ms)} {paint('dim', '@+' + format_ms(offset))}"
        if multi and span.service:
            line += " " + paint("dim", f"{b['dot']} {span.service}")
        if span.orphan:
            line += " " + paint("yellow", f"{b['orphan']} parent {span.parent_id} not in this session")
        if err:
            line += "  " + paint("bold_red", f"{b['err']} {shorten(err, line_limit)}")
        lines.append(line)
        # Detail lines sit under the span; a pipe continues down to its children, if any.
        detail_prefix = prefix + (b["space"] if last else b["pipe"]) + (b["pipe"] if span.children else b["space"])
        for label, text in enrichment_lines(span, value_limit, line_limit, all_namespaces):
            lines.append(f"{detail_prefix}{paint(LABEL_STYLE.get(label, 'dim'), label + ':')} {text}")
    return lines


def render_text(sessions: List[Session], color: bool = False, ascii_only: bool = False, value_limit: int = 40,
                line_limit: int = 160, all_namespaces: bool = False) -> str:
    paint = Painter(color)
    if not sessions:
        return "no spans found\n"
    blocks = []
    for s in sessions:
        blocks.append("\n".join(render_session(s, paint, ascii_only, value_limit, line_limit, all_namespaces)))
    return "\n\n".join(blocks) + "\n"
