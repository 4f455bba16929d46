#!/usr/bin/env python3
"""Asserts on hh-receiver what one run of the distributed demo must have sent: one trace and one
session across the Go front and the Ruby back service.

    check.py RECEIVER_URL ANSWERS_JSONL

ANSWERS_JSONL holds the front's reply per question ({"session_id", "trace_id", ...}); one
question is expected. Prints one "ok   ..." / "FAIL ..." line per check.
"""
import json
import sys
import urllib.request

url, answers_file = sys.argv[1:3]
answers = [json.loads(line) for line in open(answers_file, encoding="utf-8") if line.strip()]
EXPECTED = ["back.answer", "back.llm", "back.search", "back.search", "front.call_back", "front.handle_ask", "front.plan"]
spans = json.load(urllib.request.urlopen(f"{url}/__hh/wait?spans={len(EXPECTED)}&timeout_ms=15000", timeout=60))
requests = json.load(urllib.request.urlopen(f"{url}/__hh/requests", timeout=60))
results = []


def check(cond, what):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + what)


check(len(answers) == 1, f"one answer from the front service ({len(answers)})")
answer = answers[0] if answers else {}
names = sorted(s["name"] for s in spans)
check(names == EXPECTED, f"the receiver got the 7 spans of both services: {names}")
by_name = {}
for s in spans:
    by_name.setdefault(s["name"], []).append(s)
traces = {s["trace_id"] for s in spans}
check(traces == {answer.get("trace_id")}, f"one trace, the one the front reported: {sorted(traces)}")
sessions = {s["attributes"].get("honeyhive.session_id") for s in spans}
check(sessions == {answer.get("session_id")}, f"one session on every span, the front's: {sorted(map(str, sessions))}")
if all(n in by_name for n in ("front.handle_ask", "front.call_back", "back.answer", "back.llm")):
    root, call, back = by_name["front.handle_ask"][0], by_name["front.call_back"][0], by_name["back.answer"][0]
    check(root["parent_span_id"] is None, "front.handle_ask is the root")
    check(call["parent_span_id"] == root["span_id"], "front.call_back is a child of front.handle_ask")
    check(back["parent_span_id"] == call["span_id"],
          "back.answer (Ruby) continues front.call_back (Go): parent id from traceparent")
    check(all(s["parent_span_id"] == back["span_id"] for n in ("back.search", "back.llm") for s in by_name[n]),
          "the back service's spans nest under back.answer")
    errs = [s for s in by_name["back.search"] if s["status_code"] == "STATUS_CODE_ERROR"]
    check(len(errs) == 1 and "warming up" in str(errs[0]["attributes"].get("honeyhive_error")),
          "the failed retrieval attempt carries its error")
services = {s["name"].split(".")[0]: set() for s in spans}
for s in spans:
    services[s["name"].split(".")[0]].add((s.get("resource") or {}).get("service.name"))
check(services.get("front") == {"distributed-front"} and services.get("back") == {"distributed-back"},
      f"each service exported its own spans: {dict((k, sorted(map(str, v))) for k, v in services.items())}")
otlp = [r for r in requests if r.get("otlp_format")]
langs = sorted({r["headers"].get("hh-client-language") or "" for r in otlp})
check(langs == ["go", "ruby"], f"OTLP exports from both processes (hh-client-language {langs})")
check(all(r["response_status"] == 200 and not r.get("decode_error") for r in otlp), "every export accepted")
starts = [r for r in requests if r["method"] == "POST" and r["path"].endswith("/session/start")]
started = [((r.get("body_json") or {}).get("session") or {}).get("session_id") for r in starts]
check(started == [answer.get("session_id")], f"one session/start, by the front, for that session: {started}")
sys.exit(0 if all(results) else 1)
