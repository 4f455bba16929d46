#!/usr/bin/env python3
"""Checks the DOM that headless Chromium rendered from an hh-view HTML page (tools/test-view.sh).

    view_dom_check.py DOM.html TRACE.jsonl [TRACE.jsonl ...]

The expectations come from the trace files themselves (read with hhview.model): every span's
name, event type, error and session must be in the rendered DOM, one row per span. Prints one
"ok   ..." / "FAIL ..." line per check.
"""
import os
import sys
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hhview.model import NO_SESSION, build_sessions, load_files  # noqa: E402


class Dom(HTMLParser):
    """Collects the text of elements by class, and the ids of session sections."""

    WATCH = ("name", "badge", "dur", "errmsg", "svc")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = {k: [] for k in self.WATCH}
        self.rows = 0
        self.error_rows = 0
        self.sections = []
        self.stack = []  # (tag, watched class or None)
        self.has_body_text = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "div" and "row" in classes:
            self.rows += 1
            self.error_rows += "error" in classes
        if tag == "section" and "session" in classes:
            self.sections.append(a.get("id", ""))
        watched = next((c for c in classes if c in self.WATCH), None)
        if tag not in ("br", "img", "meta", "link", "input"):
            self.stack.append((tag, watched))
            if watched:
                self.text[watched].append("")

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        for _, watched in reversed(self.stack):
            if watched:
                self.text[watched][-1] += data
                break
        if data.strip():
            self.has_body_text = True


def main():
    dom_file, traces = sys.argv[1], sys.argv[2:]
    spans, _ = load_files(traces)
    sessions = build_sessions(spans)
    with open(dom_file, encoding="utf-8", errors="replace") as f:
        dom = Dom()
        dom.feed(f.read())
    results = []

    def check(cond, what):
        results.append(bool(cond))
        print(("ok   " if cond else "FAIL ") + what)

    names = sorted(s.name for x in sessions for s in x.spans)
    shown = sorted(t.strip() for t in dom.text["name"])
    check(names and shown == names, f"every span name is in the rendered DOM ({len(shown)} of {len(names)}: "
          f"{', '.join(sorted(set(names)))})")
    check(dom.rows == len(names), f"one waterfall row per span ({dom.rows})")
    types = sorted(s.event_type or "?" for x in sessions for s in x.spans)
    check(sorted(t.strip() for t in dom.text["badge"]) == types, f"event type badges ({', '.join(sorted(set(types)))})")
    check(len(dom.text["dur"]) == len(names) and all(t.strip().endswith(("ms", " s")) for t in dom.text["dur"]),
          "a duration on every span")
    errors = [s for x in sessions for s in x.spans if s.error]
    check(dom.error_rows == len(errors) and all(any(e.error in t for t in dom.text["errmsg"]) for e in errors),
          f"errors shown: {len(errors)} ({'; '.join(sorted({e.error for e in errors}))})")
    want = sorted(f"session-{x.session_id}" for x in sessions)
    check(sorted(dom.sections) == want, f"one section per session ({len(want)})" +
          ("" if all(x.session_id != NO_SESSION for x in sessions) else " (with spans without a session)"))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
