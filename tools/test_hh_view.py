"""Unit tests of tools/hh-view (run from tools/: python3 -m unittest)."""

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hhview import cli, html, model, text  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "hh-view")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

SID_A = "aaaaaaaa-1111-4222-8333-444444444444"
SID_B = "bbbbbbbb-1111-4222-8333-444444444444"
T0 = 1_700_000_000_000_000_000  # ns


def s(v):
    return {"stringValue": v}


def i(v):
    return {"intValue": str(v)}


def attr(k, v):
    return {"key": k, "value": v}


def span(name, span_id, parent, start_ms, end_ms, sid=SID_A, etype="tool", attrs=(), status=None, trace="t" * 32,
         events=()):
    a = []
    if sid:
        a += [attr("honeyhive.session_id", s(sid)), attr("traceloop.association.properties.session_id", s(sid))]
    if etype:
        a.append(attr("honeyhive_event_type", s(etype)))
    a += list(attrs)
    return {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": "SPAN_KIND_INTERNAL",
        "startTimeUnixNano": str(T0 + int(start_ms * 1e6)),
        "endTimeUnixNano": str(T0 + int(end_ms * 1e6)),
        "attributes": a,
        "events": list(events),
        "status": status or {"code": "STATUS_CODE_UNSET"},
    }


def line(*spans):
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", s("unit-test"))]},
        "scopeSpans": [{"scope": {"name": "honeyhive.1"}, "spans": list(spans)}],
    }]})


SAMPLE_LINES = [
    line(
        span("retrieve", "0000000000000002", "0000000000000001", 1, 9, attrs=[
            attr("honeyhive_inputs.query", s("capital of France?")),
            attr("honeyhive_outputs.documents.0", s("doc-paris")),
            attr("honeyhive_outputs.documents.1", s("doc-rome")),
            attr("honeyhive_metrics.num_results", i(2)),
        ]),
        span("llm_call", "0000000000000003", "0000000000000001", 10, 35, etype="model", attrs=[
            attr("honeyhive_config.model", s("sim-gpt")),
            attr("honeyhive_config.temperature", {"doubleValue": 0.2}),
            attr("honeyhive_inputs.messages.0.role", s("user")),
            attr("honeyhive_inputs.messages.0.content", s("x" * 200)),
            attr("honeyhive_outputs.completion", s("Paris")),
            attr("honeyhive_metrics.total_tokens", i(42)),
            attr("honeyhive_feedback.ok", {"boolValue": True}),
        ]),
    ),
    "",  # blank lines are fine
    line(
        span("rerank", "0000000000000004", "0000000000000001", 36, 41, attrs=[
            attr("honeyhive_error", s("timed out")),
            attr("honeyhive_error_type", s("TimeoutError")),
        ], status={"code": "STATUS_CODE_ERROR", "message": "TimeoutError: timed out"},
            events=[{"timeUnixNano": str(T0), "name": "exception", "attributes": [attr("exception.type", s("TimeoutError"))]}]),
        span("status-only-error", "0000000000000005", "0000000000000004", 37, 38,
             status={"code": "STATUS_CODE_ERROR", "message": "boom"}),
        span("rag_pipeline", "0000000000000001", None, 0, 50, etype="chain", attrs=[
            attr("honeyhive_inputs.question", s("What is the capital of France?")),
        ]),
        # Its parent is not in the file: shown as a root, marked orphan.
        span("orphan-child", "0000000000000006", "00000000000000ff", 20, 22),
    ),
    "this is not json",
    line(
        span("b-root", "0000000000000010", None, 100, 130, sid=SID_B, etype="chain", trace="b" * 32),
        span("no-session", "0000000000000020", None, 5, 6, sid=None, etype=None, trace="c" * 32),
    ),
]


def load_sample():
    spans, warnings = model.load_lines(SAMPLE_LINES, "sample")
    return spans, warnings, model.build_sessions(spans)


class ValueDecoding(unittest.TestCase):
    def test_any_values(self):
        self.assertEqual(model.decode_value({"stringValue": "x"}), "x")
        self.assertEqual(model.decode_value({"intValue": "-9007199254740993"}), -9007199254740993)
        self.assertEqual(model.decode_value({"doubleValue": 0.5}), 0.5)
        self.assertIs(model.decode_value({"boolValue": False}), False)
        self.assertEqual(model.decode_value({"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "a"}]}}), [1, "a"])
        self.assertEqual(model.decode_value({"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": True}}]}}),
                         {"k": True})
        self.assertEqual(model.decode_value({"stringValue": "NaN"}), "NaN")
        self.assertIsNone(model.decode_value({}))

    def test_unflatten_and_compact(self):
        tree = model.unflatten({"documents.0": "a", "documents.1": "b", "nested.x": 1, "nested.y.0": 1, "nested.y.1": 2})
        self.assertEqual(tree, {"documents": ["a", "b"], "nested": {"x": 1, "y": [1, 2]}})
        self.assertEqual(model.compact({"role": "user", "content": "hi"}), 'user: "hi"')
        self.assertEqual(model.compact("a" * 50, 10), '"' + "a" * 9 + '\u2026"')
        self.assertEqual(model.compact([True, 0.25, 3]), "[true, 0.25, 3]")

    def test_format_ms(self):
        self.assertEqual(model.format_ms(1.234), "1.23 ms")
        self.assertEqual(model.format_ms(25.25), "25.2 ms")
        self.assertEqual(model.format_ms(2500), "2.50 s")


class Loading(unittest.TestCase):
    def test_spans_and_warnings(self):
        spans, warnings, _ = load_sample()
        self.assertEqual(len(spans), 8)
        self.assertEqual(len(warnings), 1)
        self.assertIn("sample:4", warnings[0])
        rag = next(x for x in spans if x.name == "rag_pipeline")
        self.assertIsNone(rag.parent_id)
        self.assertEqual(rag.duration_ms, 50.0)
        self.assertEqual(rag.service, "unit-test")
        llm = next(x for x in spans if x.name == "llm_call")
        self.assertEqual(llm.attributes["honeyhive_metrics.total_tokens"], 42)
        self.assertEqual(llm.event_type, "model")

    def test_sessions_and_tree(self):
        _, _, sessions = load_sample()
        self.assertEqual([x.session_id for x in sessions], [SID_A, SID_B, model.NO_SESSION])
        a = sessions[0]
        self.assertEqual(len(a.spans), 6)
        self.assertEqual([r.name for r in a.roots], ["rag_pipeline", "orphan-child"])
        root = a.roots[0]
        self.assertEqual([c.name for c in root.children], ["retrieve", "llm_call", "rerank"])  # by start time
        self.assertEqual([c.name for c in root.children[2].children], ["status-only-error"])
        self.assertFalse(root.orphan)
        self.assertTrue(a.roots[1].orphan)
        self.assertEqual(a.error_count, 2)
        self.assertEqual(a.duration_ms, 50.0)
        order = [sp.name for sp, _, _, _ in model.walk(a.roots)]
        self.assertEqual(order, ["rag_pipeline", "retrieve", "llm_call", "rerank", "status-only-error", "orphan-child"])

    def test_errors(self):
        spans, _, _ = load_sample()
        by = {x.name: x for x in spans}
        self.assertEqual(by["rerank"].error, "TimeoutError: timed out")
        self.assertEqual(by["status-only-error"].error, "boom")
        self.assertIsNone(by["retrieve"].error)

    def test_duplicate_spans_are_shown_once(self):
        spans, _ = model.load_lines(SAMPLE_LINES + SAMPLE_LINES[:1])
        sessions = model.build_sessions(spans)
        self.assertEqual(len(sessions[0].spans), 6)

    def test_enrichment_lines(self):
        spans, _, _ = load_sample()
        llm = next(x for x in spans if x.name == "llm_call")
        lines = dict(model.enrichment_lines(llm, value_limit=20))
        self.assertEqual(set(lines), {"in", "out", "config", "metrics"})
        self.assertIn('messages=[user: "' + "x" * 19 + '\u2026"]', lines["in"])
        self.assertIn("temperature=0.2", lines["config"])
        self.assertIn("total_tokens=42", lines["metrics"])
        self.assertIn("feedback", dict(model.enrichment_lines(llm, all_namespaces=True)))
        retrieve = next(x for x in spans if x.name == "retrieve")
        self.assertIn('documents=["doc-paris", "doc-rome"]', dict(model.enrichment_lines(retrieve))["out"])


class TextView(unittest.TestCase):
    def test_plain_tree(self):
        _, _, sessions = load_sample()
        out = text.render_text(sessions, color=False)
        self.assertIsNone(ANSI.search(out))
        self.assertIn(f"Session {SID_A}", out)
        self.assertIn(f"Session {SID_B}", out)
        self.assertIn("Spans without a session", out)
        self.assertIn("\u251c\u2500 rag_pipeline [chain] 50.0 ms", out)
        self.assertIn("\u2514\u2500 orphan-child [tool] 2.00 ms", out)
        self.assertIn("llm_call [model] 25.0 ms", out)
        self.assertIn("\u2717 TimeoutError: timed out", out)
        self.assertIn("parent 00000000000000ff not in this session", out)
        self.assertIn("2 errors", out)
        # Children are indented under their parent.
        lines = out.splitlines()
        root_line = next(x for x in lines if "rag_pipeline [chain]" in x)
        child_line = next(x for x in lines if "retrieve [tool]" in x)
        self.assertGreater(child_line.index("retrieve"), root_line.index("rag_pipeline"))

    def test_ascii_and_color(self):
        _, _, sessions = load_sample()
        plain = text.render_text(sessions, color=False, ascii_only=True)
        self.assertTrue(all(ord(c) < 128 or c == "\u2026" for c in plain))
        colored = text.render_text(sessions, color=True)
        self.assertIsNotNone(ANSI.search(colored))
        self.assertIn("\x1b[1;31mrerank", colored)  # error spans highlighted
        self.assertEqual(ANSI.sub("", colored), text.render_text(sessions, color=False))

    def test_use_color(self):
        class Tty(io.StringIO):
            def isatty(self):
                return True

        self.assertTrue(text.use_color("auto", Tty(), {}))
        self.assertFalse(text.use_color("auto", Tty(), {"NO_COLOR": "1"}))
        self.assertTrue(text.use_color("auto", Tty(), {"NO_COLOR": ""}))
        self.assertFalse(text.use_color("auto", io.StringIO(), {}))
        self.assertTrue(text.use_color("always", io.StringIO(), {"NO_COLOR": "1"}))
        self.assertFalse(text.use_color("never", Tty(), {}))

    def test_empty(self):
        self.assertEqual(text.render_text([]), "no spans found\n")


class _Checker(HTMLParser):
    VOID = {"meta", "br", "link", "img", "input", "hr"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.sections, self.bars, self.titles, self.error_rows = [], [], 0, [], [], 0
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe"):
            self.external.append(tag)
        for k in ("src", "href"):
            if k in a:
                self.external.append(a[k])
        if tag == "section":
            self.sections += 1
        cls = (a.get("class") or "").split()
        if "bar" in cls:
            self.bars.append(a.get("style", ""))
        if "row" in cls:
            self.titles.append(a.get("title", ""))
            if "error" in cls:
                self.error_rows += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


class HtmlView(unittest.TestCase):
    def test_waterfall(self):
        _, _, sessions = load_sample()
        page = html.render_html(sessions, "sample.jsonl")
        c = _Checker()
        c.feed(page)
        c.close()
        self.assertEqual(c.errors, [])
        self.assertEqual(c.stack, [])
        self.assertEqual(c.external, [])  # self-contained
        self.assertIn("<style>", page)
        self.assertEqual(c.sections, 3)  # one per session
        self.assertEqual(len(c.bars), 8)
        self.assertEqual(c.error_rows, 2)
        # Bars positioned by start/duration relative to the session: rag_pipeline spans 0-100%.
        self.assertIn("left:0.000%;width:100.000%", c.bars[0])
        self.assertIn("left:20.000%;width:50.000%", c.bars[2])  # llm_call: 10-35 ms of 50
        # Hover titles carry the attributes.
        llm_title = next(t for t in c.titles if t.startswith("llm_call"))
        self.assertIn("honeyhive_config.model = sim-gpt", llm_title)
        rerank_title = next(t for t in c.titles if t.startswith("rerank"))
        self.assertIn("ERROR: TimeoutError: timed out", rerank_title)

    def test_escaping(self):
        spans, _ = model.load_lines([line(span("<script>alert(1)</script>", "0000000000000001", None, 0, 1, attrs=[
            attr("honeyhive_inputs.q", s('"><img src=x>')),
        ]))])
        page = html.render_html(model.build_sessions(spans))
        self.assertNotIn("<script>alert", page)
        self.assertNotIn("<img src=x>", page)
        c = _Checker()
        c.feed(page)
        self.assertEqual(c.external, [])


def service_line(service, *spans):
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", s(service))]},
        "scopeSpans": [{"scope": {"name": "honeyhive.1"}, "spans": list(spans)}],
    }]})


class Services(unittest.TestCase):
    """A distributed trace: spans of one session exported by several processes."""

    LINES = [
        service_line("front-go", span("front.call", "0000000000000001", None, 0, 10, etype="chain")),
        service_line("back-ruby", span("back.answer", "0000000000000002", "0000000000000001", 2, 8, etype="chain")),
    ]

    def test_each_span_names_its_service(self):
        spans, _ = model.load_lines(self.LINES)
        sessions = model.build_sessions(spans)
        self.assertEqual(len(sessions), 1)
        self.assertEqual(sessions[0].services, ["back-ruby", "front-go"])
        out = text.render_text(sessions, ascii_only=True)
        self.assertIn("2 services: back-ruby, front-go", out)
        self.assertRegex(out, r"front\.call \[chain\] .* - front-go")
        self.assertRegex(out, r"`- back\.answer \[chain\] .* - back-ruby")
        page = html.render_html(sessions)
        self.assertIn('<span class="svc">\u00b7 back-ruby</span>', page)
        self.assertIn("2 services: back-ruby, front-go", page)

    def test_one_service_is_not_repeated_on_every_span(self):
        spans, _ = model.load_lines(SAMPLE_LINES)
        sessions = model.build_sessions(spans)
        out = text.render_text(sessions, ascii_only=True)
        self.assertNotIn("unit-test", out)
        self.assertNotIn('class="svc"', html.render_html(sessions))


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "sample.jsonl")
        with open(self.path, "w", encoding="utf-8") as f:
            f.write("\n".join(SAMPLE_LINES) + "\n")

    def tearDown(self):
        self.dir.cleanup()

    def run_cli(self, *args, env=None):
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        e.update(env or {})
        return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, env=e, timeout=60)

    def test_tree_and_html(self):
        out_html = os.path.join(self.dir.name, "view.html")
        r = self.run_cli(self.path, "--html", out_html)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNone(ANSI.search(r.stdout))  # not a TTY: no colours
        self.assertIn(f"Session {SID_A}", r.stdout)
        self.assertIn("warning: ", r.stderr)  # the bad line
        with open(out_html, encoding="utf-8") as f:
            self.assertIn("<section", f.read())

    def test_session_filter_and_forced_color(self):
        r = self.run_cli(self.path, "--session", SID_B[:8], "--color", "always")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("b-root", r.stdout)
        self.assertNotIn("rag_pipeline", r.stdout)
        self.assertIsNotNone(ANSI.search(r.stdout))

    def test_missing_file(self):
        r = self.run_cli(os.path.join(self.dir.name, "nope.jsonl"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("hh-view:", r.stderr)

    def test_main_in_process(self):
        buf, err = io.StringIO(), io.StringIO()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = buf, err
        try:
            rc = cli.main([self.path, "--quiet"])
        finally:
            sys.stdout, sys.stderr = old
        self.assertEqual(rc, 0)
        self.assertEqual(buf.getvalue(), "")
        self.assertIn("line skipped", err.getvalue())


if __name__ == "__main__":
    unittest.main()
