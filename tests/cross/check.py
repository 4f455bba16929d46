"""Asserts the receiver saw one trace across the Go and Ruby processes: correct parent links
and one session id. Usage: check.py RECEIVER_URL SESSION_ID GO_SPAN_ID"""
import json
import sys
import urllib.request

url, session, go_span = sys.argv[1:4]
spans = json.load(urllib.request.urlopen(f"{url}/__hh/wait?spans=3&timeout_ms=10000"))
by_name = {s["name"]: s for s in spans}
failures, passes = [], []

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    (passes if cond else failures).append(what)

check(set(by_name) == {"go.client_call", "ruby.handle_request", "ruby.llm_call"}, f"three spans: {sorted(by_name)}")
if len(by_name) == 3:
    go, handler, llm = by_name["go.client_call"], by_name["ruby.handle_request"], by_name["ruby.llm_call"]
    check(len({s["trace_id"] for s in spans}) == 1, "one trace id across Go and Ruby")
    check(go["span_id"] == go_span, "the Go span is the injected one")
    check(handler["parent_span_id"] == go["span_id"], "Ruby handler's parent is the Go span")
    check(llm["parent_span_id"] == handler["span_id"], "Ruby child nests under the handler")
    check({s["attributes"].get("honeyhive.session_id") for s in spans} == {session}, "one session id on every span")
    langs = {r["headers"].get("hh-client-language") for r in json.load(urllib.request.urlopen(f"{url}/__hh/requests")) if r["otlp_format"]}
    check(langs == {"go", "ruby"}, f"exports from both languages: {sorted(l or '' for l in langs)}")
print(f"{len(passes)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
