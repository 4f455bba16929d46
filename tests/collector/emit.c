/* emit.c -- traces one known session for tests/collector/run.sh.
 *
 *   emit CONFIG_JSON RUN_TAG
 *
 * Creates a tracer from CONFIG_JSON (e.g. {"exporter":"otlp","otlp_endpoint":"http://...",
 * "otlp_protocol":"http/protobuf"}), a session, and a tree of four spans:
 *
 *   collector.agent (chain)            inputs, metadata.run = RUN_TAG
 *   ├─ collector.llm (model)           config, outputs, typed metrics (int, double, bool)
 *   │  └─ collector.tool (tool)        an error (honeyhive_error, exception event, ERROR status)
 *   └─ collector.unicode (chain)       a non-ASCII string attribute
 *
 * closes the tracer (flushing) and prints "SESSION_ID\tTRACE_ID" (the trace id from the
 * root's traceparent). Exit 0 when everything was delivered, 2 when not, 1 on other errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "honeyhive.h"

static int failed;
static void ok(hh_status st, const char *what, const hh_error *err) {
    if (st != HH_OK) {
        failed = 1;
        fprintf(stderr, "emit: %s: %s %s\n", what, hh_status_name((int32_t)st), err ? err->message : "");
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: emit CONFIG_JSON RUN_TAG\n");
        return 1;
    }
    const char *tag = argv[2];
    hh_error err;
    hh_tracer tracer;
    if (hh_tracer_new(argv[1], &tracer, &err) != HH_OK) {
        fprintf(stderr, "emit: hh_tracer_new: %s\n", err.message);
        return 1;
    }

    char opts[512], session[HH_SESSION_ID_BUF_LEN];
    snprintf(opts, sizeof opts,
             "{\"session_name\":\"collector-%s\",\"inputs\":{\"question\":\"what is OTLP?\"}}", tag);
    ok(hh_session_create(tracer, opts, session, sizeof session, &err), "hh_session_create", &err);

    hh_span agent = 0, llm = 0, tool = 0, uni = 0;
    char attrs[256];
    snprintf(attrs, sizeof attrs, "{\"run\":\"%s\"}", tag);
    ok(hh_span_start(tracer, "collector.agent", HH_EVENT_CHAIN, 0, session, attrs, &agent, &err),
       "start agent", &err);
    ok(hh_span_set_str(agent, HH_NS_INPUTS, "question", "what is OTLP?"), "set inputs", NULL);
    ok(hh_span_set_str(agent, HH_NS_METADATA, "run", tag), "set metadata", NULL);

    ok(hh_span_start(tracer, "collector.llm", HH_EVENT_MODEL, agent, NULL, NULL, &llm, &err), "start llm", &err);
    ok(hh_span_enrich(llm,
                      "{\"config\":{\"model\":\"gpt-4o\",\"temperature\":0.5},"
                      "\"outputs\":{\"text\":\"OTLP is the OpenTelemetry protocol.\"},"
                      "\"metrics\":{\"tokens\":42,\"cost\":0.25,\"cached\":true}}",
                      &err),
       "enrich llm", &err);

    ok(hh_span_start(tracer, "collector.tool", HH_EVENT_TOOL, llm, NULL, NULL, &tool, &err), "start tool", &err);
    ok(hh_span_record_error(tool, "TimeoutError", "the tool timed out"), "record error", NULL);
    ok(hh_span_end(tool), "end tool", NULL);
    ok(hh_span_end(llm), "end llm", NULL);

    ok(hh_span_start(tracer, "collector.unicode", HH_EVENT_CHAIN, agent, NULL, NULL, &uni, &err), "start unicode", &err);
    ok(hh_span_set_str(uni, HH_NS_OUTPUTS, "text", "caf\xc3\xa9 \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac"), "set unicode", NULL);
    ok(hh_span_end(uni), "end unicode", NULL);

    char traceparent[HH_TRACEPARENT_BUF_LEN] = "", baggage[512];
    size_t baggage_len = 0;
    ok(hh_span_inject(agent, traceparent, sizeof traceparent, baggage, sizeof baggage, &baggage_len), "inject", NULL);
    ok(hh_span_end(agent), "end agent", NULL);

    hh_status closed = hh_tracer_close(tracer, 10000);
    if (closed != HH_OK) fprintf(stderr, "emit: hh_tracer_close: %s\n", hh_status_name((int32_t)closed));
    /* traceparent: 00-<32 hex trace id>-<16 hex span id>-<flags> */
    char trace_id[33] = "";
    if (strlen(traceparent) >= 35) memcpy(trace_id, traceparent + 3, 32);
    printf("%s\t%s\n", session, trace_id);
    if (closed != HH_OK) return 2;
    return failed ? 1 : 0;
}
