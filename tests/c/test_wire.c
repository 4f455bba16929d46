/* Normal use, asserted on what reaches the receiver. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define TRACES_PATH "/opentelemetry/v1/traces"

extern const char *program_basename;

static const jval *traces_request_with_span(const jval *reqs, const char *span_name) {
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *req = jat(reqs, i);
        const char *p = jgets(req, "path");
        if (p && strcmp(p, TRACES_PATH) == 0 && span_by_name(jget(req, "spans"), span_name))
            return req;
    }
    return NULL;
}

static long long seq_of(const jval *req) {
    const jval *s = jget(req, "seq");
    return s && s->is_int ? s->integer : -1;
}

static void check_parent(const jval *spans, const char *child, const char *parent) {
    const jval *c = span_by_name(spans, child);
    const jval *p = span_by_name(spans, parent);
    CHECK_MSG(c && p, "spans %s / %s not received", child, parent);
    if (!c || !p)
        return;
    CHECK_STR_EQ(jgets(c, "parent_span_id"), jgets(p, "span_id"));
    CHECK_STR_EQ(jgets(c, "trace_id"), jgets(p, "trace_id"));
}


/* OTLP requires unique attribute keys per span. The receiver's decoded view (an object) hides
 * duplicates, so this walks the raw OTLP/JSON bodies: the number of repeated keys of the span
 * named `span_name` across all JSON trace requests; `dup` receives the first one. */
static size_t duplicate_attribute_keys(const jval *reqs, const char *span_name, char *dup, size_t dup_len) {
    size_t dups = 0;
    dup[0] = 0;
    for (size_t r = 0; r < jlen(reqs); r++) {
        const jval *body = jget(jat(reqs, r), "body_json");
        const jval *rss = jget(body, "resourceSpans");
        for (size_t i = 0; i < jlen(rss); i++) {
            const jval *sss = jget(jat(rss, i), "scopeSpans");
            for (size_t j = 0; j < jlen(sss); j++) {
                const jval *spans = jget(jat(sss, j), "spans");
                for (size_t k = 0; k < jlen(spans); k++) {
                    const jval *sp = jat(spans, k);
                    const char *name = jgets(sp, "name");
                    if (!name || strcmp(name, span_name) != 0)
                        continue;
                    const jval *attrs = jget(sp, "attributes");
                    for (size_t a = 0; a < jlen(attrs); a++)
                        for (size_t b = a + 1; b < jlen(attrs); b++) {
                            const char *ka = jgets(jat(attrs, a), "key"), *kb = jgets(jat(attrs, b), "key");
                            if (ka && kb && strcmp(ka, kb) == 0) {
                                if (!dups++)
                                    snprintf(dup, dup_len, "%s", ka);
                            }
                        }
                }
            }
        }
    }
    return dups;
}

static void check_unique_keys(const char *span_name) {
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    char dup[256];
    size_t n = duplicate_attribute_keys(reqs, span_name, dup, sizeof dup);
    CHECK_MSG(n == 0, "span %s carries %zu repeated attribute key(s) on the wire, e.g. \"%s\"", span_name, n, dup);
    jfree(reqs);
}

/* ---------------------------------------------------------------------------------------- */

static void default_session(void) {
    TEST_BEGIN("tracer new + default session");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"session_name\":\"c-default\"");
    char sid[HH_SESSION_ID_BUF_LEN];
    size_t len = 0;
    CHECK_OK(hh_tracer_session_id(t, sid, sizeof sid, &len));
    CHECK_EQ(len, 36);
    CHECK_EQ(strlen(sid), 36);

    hh_span s = start_span(t, "default-root", HH_EVENT_CHAIN, 0, NULL);
    char sid2[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_span_session_id(s, sid2, sizeof sid2, NULL));
    CHECK_STR_EQ(sid2, sid);
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));

    /* A second tracer without session_name: the default name is the program's basename. */
    hh_tracer t2 = new_tracer("");
    char sid_t2[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_tracer_session_id(t2, sid_t2, sizeof sid_t2, NULL));
    CHECK(strcmp(sid_t2, sid) != 0);
    CHECK_OK(hh_tracer_flush(t2, (uint32_t)scaled_ms(10000)));
    /* Not started at init, nor by reading its id: at its first use. */
    jval *before = rcv_get_json(&R, "/__hh/requests");
    CHECK_MSG(request_find(before, "POST", "/session/start", "session.session_id", sid_t2) == NULL,
              "the default session was started before its first use");
    jfree(before);
    /* hh_session_inject with no id is a use of the default session: it starts now. */
    char bag[256] = "";
    size_t bag_len = 0;
    CHECK_STATUS(hh_session_inject(t2, NULL, bag, 8, &bag_len), HH_ERR_BUFFER_TOO_SMALL);
    CHECK(bag_len > 8);
    CHECK_OK(hh_session_inject(t2, NULL, bag, sizeof bag, &bag_len));
    CHECK_EQ(strlen(bag), bag_len);
    char want[64];
    snprintf(want, sizeof want, "session_id=%s", sid_t2);
    CHECK_MSG(strstr(bag, want) && strstr(bag, "project=p") && strstr(bag, "source=dev"), "baggage %s", bag);
    CHECK_OK(hh_tracer_flush(t2, (uint32_t)scaled_ms(10000)));

    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    const jval *start = request_find(reqs, "POST", "/session/start", "session.session_id", sid);
    CHECK_MSG(start != NULL, "no POST /session/start with session_id %s", sid);
    const jval *session = jget(jget(start, "body_json"), "session");
    CHECK_STR_EQ(jgets(session, "session_name"), "c-default");
    CHECK_STR_EQ(jgets(session, "source"), "dev");
    CHECK_STR_EQ(jgets(session, "project"), "p");
    const jval *headers = jget(start, "headers");
    CHECK_STR_EQ(jgets(headers, "authorization"), "Bearer test-key");
    CHECK_STR_EQ(jgets(headers, "content-type"), "application/json");
    CHECK_STR_EQ(jgets(headers, "hh-client-language"), "c");
    CHECK(jint_is(jget(start, "response_status"), 200));
    CHECK(jgets(headers, "hh-client-timestamp") != NULL);
    CHECK_STR_EQ(jgets(headers, "hh-client-package"), "libhoneyhive");
    CHECK_STR_EQ(jgets(headers, "hh-client-version"), hh_version());

    const jval *start2 = request_find(reqs, "POST", "/session/start", "session.session_id", sid_t2);
    CHECK_MSG(start2 != NULL, "no POST /session/start for the second tracer");
    CHECK_STR_EQ(jgets(jget(jget(start2, "body_json"), "session"), "session_name"), program_basename);

    const jval *traces = traces_request_with_span(reqs, "default-root");
    CHECK_MSG(traces != NULL, "span default-root not exported");
    CHECK_STR_EQ(jgets(traces, "otlp_format"), "json");
    CHECK_STR_EQ(jgets(jget(traces, "headers"), "authorization"), "Bearer test-key");
    CHECK_STR_EQ(jgets(jget(traces, "headers"), "content-type"), "application/json");
    CHECK_STR_EQ(jgets(jget(traces, "headers"), "x-source"), "dev");
    CHECK(jget(jget(traces, "headers"), "hh-client-timestamp") == NULL); /* REST calls only */
    /* The session reaches the server before its spans (header doc of hh_session_create). */
    CHECK_MSG(start && traces && seq_of(start) < seq_of(traces), "session/start seq %lld, traces seq %lld",
              seq_of(start), seq_of(traces));

    const jval *span = span_by_name(jget(traces, "spans"), "default-root");
    CHECK_STR_EQ(span_attr_str(span, "honeyhive.session_id"), sid);
    CHECK_STR_EQ(span_attr_str(span, "traceloop.association.properties.session_id"), sid);
    CHECK_STR_EQ(span_attr_str(span, "honeyhive.project"), "p");
    CHECK_STR_EQ(span_attr_str(span, "traceloop.association.properties.project"), "p");
    CHECK_STR_EQ(span_attr_str(span, "honeyhive.source"), "dev");
    CHECK_STR_EQ(span_attr_str(span, "honeyhive_event_type"), "chain");
    CHECK(jis_null(jget(span, "parent_span_id")) && jget(span, "parent_span_id") != NULL);
    CHECK_STR_EQ(jgets(span, "kind"), "SPAN_KIND_INTERNAL");
    CHECK_STR_EQ(jgets(span, "status_code"), "STATUS_CODE_UNSET");
    jfree(reqs);
    close_tracer(t);
    close_tracer(t2);
}

static void created_sessions(void) {
    TEST_BEGIN("hh_session_create + spans inheriting the session");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    char def[HH_SESSION_ID_BUF_LEN] = "", sid[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_tracer_session_id(t, def, sizeof def, NULL));
    hh_error err;
    memset(&err, 0, sizeof err);
    CHECK_OK(hh_session_create(t,
                               "{\"session_name\":\"c-created\",\"inputs\":{\"question\":\"why?\"},"
                               "\"metadata\":{\"m\":1},\"user_properties\":{\"u\":\"x\"}}",
                               sid, sizeof sid, &err));
    CHECK_EQ(strlen(sid), 36);
    CHECK(strcmp(sid, def) != 0);

    /* A caller-given id comes back lower-cased; skip_api_call makes no REST call. */
    char given[HH_SESSION_ID_BUF_LEN] = "", skipped[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_session_create(t, "{\"session_id\":\"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\"}", given, sizeof given, &err));
    CHECK_STR_EQ(given, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    CHECK_OK(hh_session_create(t, "{\"session_id\":\"11111111-2222-4333-8444-555555555555\",\"skip_api_call\":true}",
                               skipped, sizeof skipped, &err));
    CHECK_STR_EQ(skipped, "11111111-2222-4333-8444-555555555555");

    hh_span root = start_span(t, "in-session-root", HH_EVENT_CHAIN, 0, sid);
    hh_span child = start_span(t, "in-session-child", HH_EVENT_TOOL, root, NULL);
    hh_span grandchild = start_span(t, "in-session-grandchild", HH_EVENT_TOOL, child, NULL);
    hh_span in_default = start_span(t, "in-default", HH_EVENT_TOOL, 0, NULL);
    hh_span in_skipped = start_span(t, "in-skipped", HH_EVENT_TOOL, 0, skipped);
    /* An explicit session on a child beats the parent's. */
    hh_span override = start_span(t, "child-other-session", HH_EVENT_TOOL, root, given);
    char buf[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_span_session_id(grandchild, buf, sizeof buf, NULL));
    CHECK_STR_EQ(buf, sid);
    hh_span all[] = {override, in_skipped, in_default, grandchild, child, root};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        CHECK_OK(hh_span_end(all[i]));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));

    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    const jval *start = request_find(reqs, "POST", "/session/start", "session.session_id", sid);
    CHECK_MSG(start != NULL, "no POST /session/start for the created session");
    const jval *s = jget(jget(start, "body_json"), "session");
    CHECK_STR_EQ(jgets(s, "session_name"), "c-created");
    CHECK_STR_EQ(jgets(jget(s, "inputs"), "question"), "why?");
    CHECK(jint_is(jget(jget(s, "metadata"), "m"), 1));
    CHECK_STR_EQ(jgets(jget(s, "user_properties"), "u"), "x");
    CHECK_STR_EQ(jgets(s, "project"), "p");
    CHECK_STR_EQ(jgets(s, "source"), "dev");
    CHECK(request_find(reqs, "POST", "/session/start", "session.session_id", given) != NULL);
    CHECK(request_find(reqs, "POST", "/session/start", "session.session_id", skipped) == NULL);
    const jval *traces = traces_request_with_span(reqs, "in-session-root");
    CHECK_MSG(start && traces && seq_of(start) < seq_of(traces), "session/start must precede its spans");

    jval *spans = rcv_get_json(&R, "/__hh/spans");
    const char *names[] = {"in-session-root", "in-session-child", "in-session-grandchild"};
    for (size_t i = 0; i < 3; i++) {
        const jval *sp = span_by_name(spans, names[i]);
        CHECK_MSG(sp != NULL, "span %s missing", names[i]);
        CHECK_STR_EQ(span_attr_str(sp, "honeyhive.session_id"), sid);
        CHECK_STR_EQ(span_attr_str(sp, "traceloop.association.properties.session_id"), sid);
    }
    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "in-default"), "honeyhive.session_id"), def);
    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "in-skipped"), "honeyhive.session_id"), skipped);
    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "child-other-session"), "honeyhive.session_id"), given);
    check_parent(spans, "child-other-session", "in-session-root");
    jfree(spans);
    jfree(reqs);
    close_tracer(t);
}

static void nesting(void) {
    TEST_BEGIN("nesting: parent ids, one trace");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_span root = start_span(t, "nest-root", HH_EVENT_CHAIN, 0, NULL);
    hh_span child = start_span(t, "nest-child", HH_EVENT_TOOL, root, NULL);
    hh_span grandchild = start_span(t, "nest-grandchild", HH_EVENT_TOOL, child, NULL);
    hh_span sibling = start_span(t, "nest-sibling", HH_EVENT_TOOL, root, NULL);
    hh_span other_root = start_span(t, "nest-other-root", HH_EVENT_CHAIN, 0, NULL);
    char root_trace[33], root_span[17], gc_trace[33], gc_span[17];
    span_ids(root, root_trace, root_span);
    span_ids(grandchild, gc_trace, gc_span);
    CHECK_STR_EQ(root_trace, gc_trace);
    CHECK_OK(hh_span_end(grandchild));
    CHECK_OK(hh_span_end(child));
    CHECK_OK(hh_span_end(sibling));
    CHECK_OK(hh_span_end(root));
    /* A recently ended span is still a valid parent. */
    hh_span late = start_span(t, "nest-late-child", HH_EVENT_TOOL, root, NULL);
    CHECK_OK(hh_span_end(late));
    CHECK_OK(hh_span_end(other_root));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));

    jval *spans = rcv_wait_spans(&R, 6, 10000);
    CHECK_EQ(jlen(spans), 6);
    check_parent(spans, "nest-child", "nest-root");
    check_parent(spans, "nest-grandchild", "nest-child");
    check_parent(spans, "nest-sibling", "nest-root");
    check_parent(spans, "nest-late-child", "nest-root");
    const jval *r = span_by_name(spans, "nest-root");
    const jval *o = span_by_name(spans, "nest-other-root");
    CHECK(r && jis_null(jget(r, "parent_span_id")));
    CHECK(o && jis_null(jget(o, "parent_span_id")));
    CHECK(r && o && strcmp(jgets(r, "trace_id"), jgets(o, "trace_id")) != 0);
    /* The ids hh_span_inject reports are the ids on the wire. */
    CHECK_STR_EQ(jgets(r, "span_id"), root_span);
    CHECK_STR_EQ(jgets(r, "trace_id"), root_trace);
    CHECK_STR_EQ(jgets(span_by_name(spans, "nest-grandchild"), "span_id"), gc_span);
    /* Timestamps: children inside their parents. */
    const jval *c = span_by_name(spans, "nest-child");
    const jval *gc = span_by_name(spans, "nest-grandchild");
    if (c && gc && r) {
        CHECK(jget(r, "start_time_unix_nano")->integer <= jget(c, "start_time_unix_nano")->integer);
        CHECK(jget(gc, "end_time_unix_nano")->integer <= jget(c, "end_time_unix_nano")->integer);
        CHECK(jget(c, "start_time_unix_nano")->integer <= jget(c, "end_time_unix_nano")->integer);
    }
    jfree(spans);
    close_tracer(t);
}

static void enrichment(void) {
    TEST_BEGIN("hh_span_enrich: flattening into dotted paths, every namespace");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_error err;
    memset(&err, 0, sizeof err);

    hh_span a = start_span(t, "enrich-flatten", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_enrich(a, "{\"metadata\":{\"nested\":{\"x\":1,\"y\":[1,2]}}}", &err));

    hh_span b = start_span(t, "enrich-all", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_enrich(b,
                            "{\"inputs\":{\"q\":\"hi\",\"n\":null,\"empty\":{},\"list\":[]},"
                            "\"outputs\":{\"a\":\"yo\"},"
                            "\"metrics\":{\"score\":0.5,\"tokens\":12,\"one\":1.0},"
                            "\"feedback\":{\"ok\":true,\"bad\":false},"
                            "\"config\":{\"model\":\"gpt-x\",\"temperature\":0.2},"
                            "\"user_properties\":{\"user\":\"u1\"},"
                            "\"error\":\"bad thing\",\"event_type\":\"model\",\"custom\":7,"
                            "\"attributes\":{\"k\":\"v\"},\"event_name\":\"renamed\","
                            "\"unicode\":\"h\\u00e9llo \\u2713\"}",
                            &err));

    /* Repeated calls overwrite key by key. */
    hh_span c = start_span(t, "enrich-overwrite", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_enrich(c, "{\"metadata\":{\"a\":1,\"b\":2}}", &err));
    CHECK_OK(hh_span_enrich(c, "{\"metadata\":{\"a\":3}}", &err));

    /* Initial attributes: raw key plus normalized key (`.`, `-`, space -> `_`; leading digit -> `attr_`). */
    hh_span d = 0;
    CHECK_OK(hh_span_start(t, "enrich-initial", HH_EVENT_TOOL, 0, NULL,
                           "{\"custom.attr\":1,\"plain\":\"x\",\"9lives\":true,\"obj\":{\"in\":2}}", &d, &err));
    /* An explicit honeyhive_event_type in the initial attributes wins over detection. */
    hh_span e = 0;
    CHECK_OK(hh_span_start(t, "plain-step", HH_EVENT_DEFAULT, 0, NULL, "{\"honeyhive_event_type\":\"chain\"}", &e, &err));
    /* Detection by a model-ish word in the name, and the default (tool); explicit types win. */
    hh_span f = start_span(t, "openai.chat", HH_EVENT_DEFAULT, 0, NULL);
    hh_span g = start_span(t, "fetch_docs", HH_EVENT_DEFAULT, 0, NULL);
    hh_span h = start_span(t, "gpt-but-tool", HH_EVENT_TOOL, 0, NULL);
    /* Caller attributes may not override the stamped session id. */
    hh_span i = 0;
    CHECK_OK(hh_span_start(t, "enrich-no-session-override", HH_EVENT_TOOL, 0, NULL,
                           "{\"honeyhive.session_id\":\"evil\"}", &i, &err));
    char def[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_tracer_session_id(t, def, sizeof def, NULL));

    hh_span all[] = {a, b, c, d, e, f, g, h, i};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        CHECK_OK(hh_span_end(all[k]));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 9, 10000);

    const jval *sa = span_by_name(spans, "enrich-flatten");
    CHECK(jint_is(span_attr(sa, "honeyhive_metadata.nested.x"), 1));
    CHECK(jint_is(span_attr(sa, "honeyhive_metadata.nested.y.0"), 1));
    CHECK(jint_is(span_attr(sa, "honeyhive_metadata.nested.y.1"), 2));
    CHECK(span_attr(sa, "honeyhive_metadata.nested") == NULL);
    CHECK(span_attr(sa, "honeyhive_metadata.nested.y") == NULL);

    const jval *sb = span_by_name(spans, "enrich-all");
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_inputs.q"), "hi");
    CHECK(span_attr(sb, "honeyhive_inputs.n") == NULL);
    CHECK(span_attr(sb, "honeyhive_inputs.empty") == NULL);
    CHECK(span_attr(sb, "honeyhive_inputs.list") == NULL);
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_outputs.a"), "yo");
    CHECK(jdouble_is(span_attr(sb, "honeyhive_metrics.score"), 0.5));
    CHECK(jint_is(span_attr(sb, "honeyhive_metrics.tokens"), 12));
    CHECK(jdouble_is(span_attr(sb, "honeyhive_metrics.one"), 1.0));
    CHECK(jbool_is(span_attr(sb, "honeyhive_feedback.ok"), 1));
    CHECK(jbool_is(span_attr(sb, "honeyhive_feedback.bad"), 0));
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_config.model"), "gpt-x");
    CHECK(jdouble_is(span_attr(sb, "honeyhive_config.temperature"), 0.2));
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_user_properties.user"), "u1");
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_error"), "bad thing");
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_event_type"), "model");
    CHECK(jint_is(span_attr(sb, "honeyhive_metadata.custom"), 7));
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_metadata.k"), "v");
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_event_name"), "renamed");
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_metadata.unicode"), "h\xc3\xa9llo \xe2\x9c\x93");

    const jval *sc = span_by_name(spans, "enrich-overwrite");
    CHECK(jint_is(span_attr(sc, "honeyhive_metadata.a"), 3));
    CHECK(jint_is(span_attr(sc, "honeyhive_metadata.b"), 2));

    const jval *sd = span_by_name(spans, "enrich-initial");
    CHECK(jint_is(span_attr(sd, "custom.attr"), 1));
    CHECK(jint_is(span_attr(sd, "custom_attr"), 1));
    CHECK_STR_EQ(span_attr_str(sd, "plain"), "x");
    CHECK(jbool_is(span_attr(sd, "9lives"), 1));
    CHECK(jbool_is(span_attr(sd, "attr_9lives"), 1));
    /* Non-primitive initial values are written as text, not flattened. */
    CHECK(span_attr(sd, "obj.in") == NULL);
    CHECK_MSG(span_attr_str(sd, "obj") && strstr(span_attr_str(sd, "obj"), "\"in\"") != NULL, "obj = %s",
              span_attr_str(sd, "obj") ? span_attr_str(sd, "obj") : "(not a string)");

    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "plain-step"), "honeyhive_event_type"), "chain");
    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "openai.chat"), "honeyhive_event_type"), "model");
    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "fetch_docs"), "honeyhive_event_type"), "tool");
    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "gpt-but-tool"), "honeyhive_event_type"), "tool");
    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "enrich-no-session-override"), "honeyhive.session_id"), def);
    jfree(spans);
    /* Overwritten keys (repeated enrich, event_type override, stamped keys given again at
     * start) must appear once in the OTLP body, as with the reference SDK's attribute dict. */
    check_unique_keys("enrich-overwrite");
    check_unique_keys("enrich-all");
    check_unique_keys("enrich-no-session-override");
    check_unique_keys("plain-step");
    close_tracer(t);
}

static void typed_setters(void) {
    TEST_BEGIN("typed setters in every namespace");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_span s = start_span(t, "typed-setters", HH_EVENT_TOOL, 0, NULL);
    static const char *prefixes[] = {"", "honeyhive_inputs.", "honeyhive_outputs.", "honeyhive_metadata.",
                                     "honeyhive_metrics.", "honeyhive_feedback.", "honeyhive_config.",
                                     "honeyhive_user_properties."};
    for (hh_namespace ns = HH_NS_NONE; ns <= HH_NS_USER_PROPERTIES; ns++) {
        char key[64];
        snprintf(key, sizeof key, "ns%u_s", (unsigned)ns);
        CHECK_OK(hh_span_set_str(s, ns, key, "text"));
        snprintf(key, sizeof key, "ns%u_i", (unsigned)ns);
        CHECK_OK(hh_span_set_i64(s, ns, key, -42));
        snprintf(key, sizeof key, "ns%u_f", (unsigned)ns);
        CHECK_OK(hh_span_set_f64(s, ns, key, 2.5));
        snprintf(key, sizeof key, "ns%u_b", (unsigned)ns);
        CHECK_OK(hh_span_set_bool(s, ns, key, true));
    }
    CHECK_OK(hh_span_set_i64(s, HH_NS_METRICS, "max", INT64_MAX));
    CHECK_OK(hh_span_set_i64(s, HH_NS_METRICS, "min", INT64_MIN));
    CHECK_OK(hh_span_set_f64(s, HH_NS_METRICS, "whole", 3.0));
    CHECK_OK(hh_span_set_f64(s, HH_NS_METRICS, "nan", NAN));
    CHECK_OK(hh_span_set_f64(s, HH_NS_METRICS, "inf", INFINITY));
    CHECK_OK(hh_span_set_str(s, HH_NS_METADATA, "dotted.key.path", "deep"));
    CHECK_OK(hh_span_set_str(s, HH_NS_INPUTS, "utf8", "h\xc3\xa9llo \xe2\x9c\x93"));
    CHECK_OK(hh_span_set_str(s, HH_NS_OUTPUTS, "later", "first"));
    CHECK_OK(hh_span_set_str(s, HH_NS_OUTPUTS, "later", "second"));
    CHECK_STATUS(hh_span_set_str(s, 8, "k", "v"), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_set_i64(s, 0xFFFFFFFFu, "k", 1), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_set_str(s, HH_NS_METADATA, "", "v"), HH_ERR_INVALID_ARGUMENT);
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));

    jval *spans = rcv_wait_spans(&R, 1, 10000);
    const jval *sp = span_by_name(spans, "typed-setters");
    CHECK(sp != NULL);
    for (hh_namespace ns = HH_NS_NONE; ns <= HH_NS_USER_PROPERTIES; ns++) {
        char key[128];
        snprintf(key, sizeof key, "%sns%u_s", prefixes[ns], (unsigned)ns);
        CHECK_MSG(span_attr_str(sp, key) && strcmp(span_attr_str(sp, key), "text") == 0, "%s", key);
        snprintf(key, sizeof key, "%sns%u_i", prefixes[ns], (unsigned)ns);
        CHECK_MSG(jint_is(span_attr(sp, key), -42), "%s", key);
        snprintf(key, sizeof key, "%sns%u_f", prefixes[ns], (unsigned)ns);
        CHECK_MSG(jdouble_is(span_attr(sp, key), 2.5), "%s", key);
        snprintf(key, sizeof key, "%sns%u_b", prefixes[ns], (unsigned)ns);
        CHECK_MSG(jbool_is(span_attr(sp, key), 1), "%s", key);
    }
    CHECK(jint_is(span_attr(sp, "honeyhive_metrics.max"), INT64_MAX));
    CHECK(jint_is(span_attr(sp, "honeyhive_metrics.min"), INT64_MIN));
    CHECK(jdouble_is(span_attr(sp, "honeyhive_metrics.whole"), 3.0));
    /* NaN and infinities, which JSON cannot hold, go out as strings. */
    CHECK(span_attr_str(sp, "honeyhive_metrics.nan") != NULL);
    CHECK(span_attr_str(sp, "honeyhive_metrics.inf") != NULL);
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_metadata.dotted.key.path"), "deep");
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_inputs.utf8"), "h\xc3\xa9llo \xe2\x9c\x93");
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_outputs.later"), "second");
    jfree(spans);
    check_unique_keys("typed-setters");
    close_tracer(t);
}

static void record_error(void) {
    TEST_BEGIN("hh_span_record_error");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_span s = start_span(t, "failing-step", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_record_error(s, "ValueError", "boom"));
    hh_span s2 = start_span(t, "failing-untyped", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_record_error(s2, NULL, "oops"));
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_span_end(s2));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 2, 10000);
    const jval *sp = span_by_name(spans, "failing-step");
    CHECK_STR_EQ(jgets(sp, "status_code"), "STATUS_CODE_ERROR");
    CHECK_STR_EQ(jgets(sp, "status_message"), "ValueError: boom");
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_error"), "boom");
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_error_type"), "ValueError");
    const jval *events = jget(sp, "events");
    CHECK_EQ(jlen(events), 1);
    const jval *ev = jat(events, 0);
    CHECK_STR_EQ(jgets(ev, "name"), "exception");
    CHECK_STR_EQ(jgets(jget(ev, "attributes"), "exception.type"), "ValueError");
    CHECK_STR_EQ(jgets(jget(ev, "attributes"), "exception.message"), "boom");

    const jval *sp2 = span_by_name(spans, "failing-untyped");
    CHECK_STR_EQ(jgets(sp2, "status_code"), "STATUS_CODE_ERROR");
    CHECK_STR_EQ(jgets(sp2, "status_message"), "Error: oops");
    CHECK_STR_EQ(span_attr_str(sp2, "honeyhive_error_type"), "Error");
    CHECK_STR_EQ(span_attr_str(sp2, "honeyhive_error"), "oops");
    jfree(spans);
    close_tracer(t);
}

static void enrich_session(void) {
    TEST_BEGIN("hh_session_enrich: PUT /events");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    char def[HH_SESSION_ID_BUF_LEN] = "", sid[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_tracer_session_id(t, def, sizeof def, NULL));
    hh_error err;
    memset(&err, 0, sizeof err);
    CHECK_OK(hh_session_create(t, "{\"session_name\":\"to-enrich\"}", sid, sizeof sid, &err));
    CHECK_OK(hh_session_enrich(t, sid,
                               "{\"inputs\":{\"q\":\"x\"},\"outputs\":{\"answer\":\"y\"},\"metrics\":{\"m\":1},"
                               "\"feedback\":{\"rating\":5},\"metadata\":{\"md\":\"v\"},\"config\":{\"c\":1},"
                               "\"user_properties\":{\"u\":\"1\"},\"duration\":12.5,\"extra\":\"e\"}",
                               &err));
    CHECK_OK(hh_session_enrich(t, NULL, "{\"metadata\":{\"k\":1}}", &err));
    /* Nothing is sent when every field is empty. */
    CHECK_OK(hh_session_enrich(t, NULL, "{}", &err));
    CHECK_OK(hh_session_enrich(t, sid, "{\"metadata\":{},\"outputs\":{}}", &err));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));

    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    CHECK_EQ(requests_count(reqs, "PUT", "/events"), 2);
    const jval *put = request_find(reqs, "PUT", "/events", "event_id", sid);
    CHECK_MSG(put != NULL, "no PUT /events for the created session");
    const jval *body = jget(put, "body_json");
    CHECK_STR_EQ(jgets(jget(jget(body, "metadata"), "inputs"), "q"), "x");
    CHECK_STR_EQ(jgets(jget(body, "metadata"), "md"), "v");
    CHECK_STR_EQ(jgets(jget(body, "metadata"), "extra"), "e");
    CHECK(jget(body, "inputs") == NULL);
    CHECK_STR_EQ(jgets(jget(body, "outputs"), "answer"), "y");
    CHECK(jint_is(jget(jget(body, "metrics"), "m"), 1));
    CHECK(jint_is(jget(jget(body, "feedback"), "rating"), 5));
    CHECK(jint_is(jget(jget(body, "config"), "c"), 1));
    CHECK_STR_EQ(jgets(jget(body, "user_properties"), "u"), "1");
    CHECK(jdouble_is(jget(body, "duration"), 12.5));
    CHECK_STR_EQ(jgets(jget(put, "headers"), "authorization"), "Bearer test-key");

    const jval *put_def = request_find(reqs, "PUT", "/events", "event_id", def);
    CHECK_MSG(put_def != NULL, "no PUT /events for the default session");
    CHECK(jint_is(jget(jget(jget(put_def, "body_json"), "metadata"), "k"), 1));
    jfree(reqs);
    close_tracer(t);
}

static void inject_extract(void) {
    TEST_BEGIN("inject / extract round trip across tracers");
    rcv_reset(&R);
    hh_tracer up = new_tracer("");
    hh_tracer down = new_tracer(",\"project\":\"p2\"");
    char sid[HH_SESSION_ID_BUF_LEN] = "", down_def[HH_SESSION_ID_BUF_LEN] = "";
    hh_error err;
    memset(&err, 0, sizeof err);
    CHECK_OK(hh_session_create(up, "{\"session_name\":\"distributed\"}", sid, sizeof sid, &err));
    CHECK_OK(hh_tracer_session_id(down, down_def, sizeof down_def, NULL));
    hh_span upstream = start_span(up, "upstream", HH_EVENT_CHAIN, 0, sid);

    char tp[HH_TRACEPARENT_BUF_LEN] = "", bag[512] = "";
    size_t bag_len = 0;
    CHECK_OK(hh_span_inject(upstream, tp, sizeof tp, bag, sizeof bag, &bag_len));
    CHECK_EQ(strlen(tp), 55);
    CHECK_EQ(bag_len, strlen(bag));
    CHECK(strncmp(tp, "00-", 3) == 0 && tp[35] == '-' && tp[52] == '-');
    CHECK_STR_EQ(tp + 53, "01");
    char expect[128];
    snprintf(expect, sizeof expect, "session_id=%s", sid);
    CHECK_MSG(strstr(bag, expect) != NULL, "baggage \"%s\" lacks %s", bag, expect);
    CHECK_MSG(strstr(bag, "project=p") != NULL, "baggage \"%s\" lacks project", bag);
    CHECK_MSG(strstr(bag, "source=dev") != NULL, "baggage \"%s\" lacks source", bag);

    hh_span remote = 0;
    CHECK_OK(hh_tracer_extract(down, tp, bag, &remote, &err));
    char rsid[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_span_session_id(remote, rsid, sizeof rsid, NULL));
    CHECK_STR_EQ(rsid, sid);
    /* A remote parent injects the same context again; it cannot be enriched. */
    char tp2[HH_TRACEPARENT_BUF_LEN] = "", bag2[512] = "";
    CHECK_OK(hh_span_inject(remote, tp2, sizeof tp2, bag2, sizeof bag2, NULL));
    CHECK_STR_EQ(tp2, tp);
    CHECK_STATUS(hh_span_enrich(remote, "{\"metadata\":{\"a\":1}}", NULL), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_set_str(remote, HH_NS_METADATA, "a", "b"), HH_ERR_INVALID_ARGUMENT);

    hh_span downstream = start_span(down, "downstream", HH_EVENT_TOOL, remote, NULL);
    hh_span downstream_child = start_span(down, "downstream-child", HH_EVENT_TOOL, downstream, NULL);

    /* Without baggage: same trace, the extracting tracer's default session. */
    hh_span remote_nobag = 0;
    CHECK_OK(hh_tracer_extract(down, tp, NULL, &remote_nobag, &err));
    hh_span nobag = start_span(down, "downstream-nobaggage", HH_EVENT_TOOL, remote_nobag, NULL);
    /* The alternative baggage key and an upper-case id. */
    char upper_bag[128], upper_sid[HH_SESSION_ID_BUF_LEN];
    for (size_t i = 0; i <= strlen(sid); i++)
        upper_sid[i] = (char)((sid[i] >= 'a' && sid[i] <= 'f') ? sid[i] - 32 : sid[i]);
    snprintf(upper_bag, sizeof upper_bag, "honeyhive_session_id=%s", upper_sid);
    hh_span remote_alt = 0;
    CHECK_OK(hh_tracer_extract(down, tp, upper_bag, &remote_alt, &err));
    hh_span alt = start_span(down, "downstream-altkey", HH_EVENT_TOOL, remote_alt, NULL);

    hh_span ends[] = {downstream_child, downstream, nobag, alt, upstream};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        CHECK_OK(hh_span_end(ends[i]));
    CHECK_OK(hh_span_end(remote));
    CHECK_OK(hh_span_end(remote));
    CHECK_OK(hh_span_end(remote_nobag));
    CHECK_OK(hh_span_end(remote_alt));

    CHECK_STATUS(hh_tracer_extract(down, "garbage", NULL, &remote, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_tracer_extract(down, "00-00000000000000000000000000000000-0000000000000000-01", NULL, &remote, &err),
                 HH_ERR_INVALID_ARGUMENT);
    char longtp[600];
    memset(longtp, 'a', sizeof longtp - 1);
    longtp[sizeof longtp - 1] = 0;
    CHECK_STATUS(hh_tracer_extract(down, longtp, NULL, &remote, &err), HH_ERR_LIMIT_EXCEEDED);

    CHECK_OK(hh_tracer_flush(up, (uint32_t)scaled_ms(10000)));
    CHECK_OK(hh_tracer_flush(down, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 5, 10000);
    const jval *u = span_by_name(spans, "upstream");
    const jval *d = span_by_name(spans, "downstream");
    CHECK(u && d);
    CHECK_STR_EQ(jgets(d, "trace_id"), jgets(u, "trace_id"));
    CHECK_STR_EQ(jgets(d, "parent_span_id"), jgets(u, "span_id"));
    CHECK_STR_EQ(span_attr_str(d, "honeyhive.session_id"), sid);
    CHECK_STR_EQ(span_attr_str(d, "traceloop.association.properties.session_id"), sid);
    check_parent(spans, "downstream-child", "downstream");
    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "downstream-child"), "honeyhive.session_id"), sid);
    const jval *nb = span_by_name(spans, "downstream-nobaggage");
    CHECK_STR_EQ(jgets(nb, "parent_span_id"), jgets(u, "span_id"));
    CHECK_STR_EQ(span_attr_str(nb, "honeyhive.session_id"), down_def);
    CHECK_STR_EQ(span_attr_str(span_by_name(spans, "downstream-altkey"), "honeyhive.session_id"), sid);
    /* honeyhive.project is the baggage `project`, otherwise the tracer's project. */
    CHECK_STR_EQ(span_attr_str(d, "honeyhive.project"), "p");
    jfree(spans);
    close_tracer(up);
    close_tracer(down);
}

static void stats_and_flush(void) {
    TEST_BEGIN("flush + stats counters match the wire");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    char sid[HH_SESSION_ID_BUF_LEN] = "";
    hh_error err;
    memset(&err, 0, sizeof err);
    CHECK_OK(hh_session_create(t, NULL, sid, sizeof sid, &err));
    hh_span root = start_span(t, "stats-root", HH_EVENT_CHAIN, 0, sid);
    hh_span spans[4];
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "stats-%d", i);
        spans[i] = start_span(t, name, HH_EVENT_TOOL, root, NULL);
    }
    hh_stats st;
    memset(&st, 0, sizeof st);
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.spans_started, 5);
    CHECK_EQ(st.spans_ended, 0);
    for (int i = 0; i < 4; i++)
        CHECK_OK(hh_span_end(spans[i]));
    CHECK_OK(hh_span_end(root));
    CHECK_OK(hh_session_enrich(t, sid, "{\"outputs\":{\"o\":1}}", &err));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    /* A flush with nothing new is still HH_OK. */
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.spans_started, 5);
    CHECK_EQ(st.spans_ended, 5);
    CHECK_EQ(st.spans_exported, 5);
    CHECK_EQ(st.spans_dropped, 0);
    CHECK_EQ(st.export_failures, 0);
    CHECK_EQ(st.export_retries, 0);
    CHECK_EQ(st.rest_calls, 2); /* created session start, enrich (the default session is unused) */
    CHECK_EQ(st.rest_failures, 0);
    CHECK_EQ(st.queue_len, 0);

    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    CHECK_EQ(requests_count(reqs, "POST", TRACES_PATH), st.export_requests);
    CHECK_EQ(requests_count(reqs, "POST", "/session/start") + requests_count(reqs, "PUT", "/events"), st.rest_calls);
    jfree(reqs);
    jval *wire = rcv_get_json(&R, "/__hh/spans");
    CHECK_EQ(jlen(wire), st.spans_exported);
    jfree(wire);

    close_tracer(t);
    /* Stats stay readable after close (final counts); close is idempotent. */
    hh_stats after;
    memset(&after, 0, sizeof after);
    CHECK_OK(hh_tracer_stats(t, &after));
    CHECK_EQ(after.spans_exported, 5);
    CHECK_OK(hh_tracer_close(t, 1000));
}

static void protobuf_mode(void) {
    TEST_BEGIN("protobuf export");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"otlp_protocol\":\"http/protobuf\"");
    hh_span root = start_span(t, "proto-root", HH_EVENT_CHAIN, 0, NULL);
    hh_span child = start_span(t, "proto-child", HH_EVENT_MODEL, root, NULL);
    hh_error err;
    memset(&err, 0, sizeof err);
    CHECK_OK(hh_span_enrich(child, "{\"metrics\":{\"i\":3,\"d\":0.75},\"feedback\":{\"b\":true},\"outputs\":{\"s\":\"str\"}}", &err));
    CHECK_OK(hh_span_record_error(child, "Timeout", "slow"));
    CHECK_OK(hh_span_end(child));
    CHECK_OK(hh_span_end(root));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    const jval *tr = traces_request_with_span(reqs, "proto-child");
    CHECK_MSG(tr != NULL, "no protobuf export received");
    CHECK_STR_EQ(jgets(tr, "otlp_format"), "protobuf");
    CHECK_STR_EQ(jgets(jget(tr, "headers"), "content-type"), "application/x-protobuf");
    CHECK(jint_is(jget(tr, "response_status"), 200));
    const jval *spans = jget(tr, "spans");
    const jval *c = span_by_name(spans, "proto-child");
    check_parent(spans, "proto-child", "proto-root");
    CHECK(jint_is(span_attr(c, "honeyhive_metrics.i"), 3));
    CHECK(jdouble_is(span_attr(c, "honeyhive_metrics.d"), 0.75));
    CHECK(jbool_is(span_attr(c, "honeyhive_feedback.b"), 1));
    CHECK_STR_EQ(span_attr_str(c, "honeyhive_outputs.s"), "str");
    CHECK_STR_EQ(span_attr_str(c, "honeyhive_event_type"), "model");
    CHECK_STR_EQ(jgets(c, "status_code"), "STATUS_CODE_ERROR");
    CHECK_STR_EQ(jgets(c, "status_message"), "Timeout: slow");
    CHECK(jis_null(jget(span_by_name(spans, "proto-root"), "parent_span_id")));
    jfree(reqs);
    close_tracer(t);
}

static void test_mode(void) {
    TEST_BEGIN("test mode sends nothing");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"test_mode\":true");
    char sid[HH_SESSION_ID_BUF_LEN] = "", def[HH_SESSION_ID_BUF_LEN] = "";
    hh_error err;
    memset(&err, 0, sizeof err);
    CHECK_OK(hh_tracer_session_id(t, def, sizeof def, NULL));
    CHECK_EQ(strlen(def), 36);
    CHECK_OK(hh_session_create(t, "{\"session_name\":\"offline\"}", sid, sizeof sid, &err));
    hh_span s = start_span(t, "offline-span", HH_EVENT_TOOL, 0, sid);
    CHECK_OK(hh_span_enrich(s, "{\"metadata\":{\"a\":1}}", &err));
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_session_enrich(t, sid, "{\"outputs\":{\"o\":1}}", &err));
    CHECK_OK(hh_tracer_flush(t, 1000));
    close_tracer(t);
    jval *reqs = rcv_wait_requests(&R, 1, 500);
    CHECK_EQ(jlen(reqs), 0);
    jfree(reqs);
}

static void immediate_mode(void) {
    TEST_BEGIN("immediate mode (disable_batch): visible without flush");
    rcv_reset(&R);
    /* A 10-minute schedule delay: only immediate export can deliver before the checks. */
    hh_tracer t = new_tracer(",\"disable_batch\":true,\"schedule_delay_ms\":600000");
    hh_span s = start_span(t, "immediate-span", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s));
    /* No wait, no flush: hh_span_end returned after delivery. */
    jval *spans = rcv_get_json(&R, "/__hh/spans");
    CHECK_EQ(spans_named(spans, "immediate-span"), 1);
    jfree(spans);
    hh_span s2 = start_span(t, "immediate-span-2", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s2));
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    CHECK_EQ(requests_count(reqs, "POST", TRACES_PATH), 2); /* one request per span */
    jfree(reqs);
    close_tracer(t);
}

static void close_delivers(void) {
    TEST_BEGIN("close delivers queued spans");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"schedule_delay_ms\":600000");
    hh_span s = start_span(t, "delivered-by-close", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s));
    close_tracer(t);
    jval *spans = rcv_get_json(&R, "/__hh/spans");
    CHECK_EQ(spans_named(spans, "delivered-by-close"), 1);
    jfree(spans);
}

static void export_faults(void) {
    TEST_BEGIN("export retries and honest flush status");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"schedule_delay_ms\":600000");
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000))); /* default session delivered */
    rcv_fault(&R, "{\"mode\":\"status\",\"status\":503,\"times\":1,\"path_prefix\":\"/opentelemetry\"}");
    hh_span s = start_span(t, "retried-span", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    hh_stats st;
    memset(&st, 0, sizeof st);
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.export_retries, 1);
    CHECK_EQ(st.spans_exported, 1);
    CHECK_EQ(st.spans_dropped, 0);
    /* Delivered exactly once: one 503 (recorded by the receiver too), then one 200. */
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    size_t ok = 0, refused = 0;
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *req = jat(reqs, i);
        if (!span_by_name(jget(req, "spans"), "retried-span"))
            continue;
        if (jint_is(jget(req, "response_status"), 200))
            ok++;
        else if (jint_is(jget(req, "response_status"), 503))
            refused++;
    }
    CHECK_EQ(ok, 1);
    CHECK_EQ(refused, 1);
    jfree(reqs);

    rcv_fault(&R, "{\"mode\":\"status\",\"status\":400,\"times\":1,\"path_prefix\":\"/opentelemetry\"}");
    hh_span s2 = start_span(t, "rejected-span", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s2));
    CHECK_STATUS(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)), HH_ERR_EXPORT_FAILED);
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.export_failures, 1);
    CHECK_EQ(st.spans_dropped, 1);
    /* Nothing lost since that flush: the next one is HH_OK again. */
    hh_span s3 = start_span(t, "after-failure", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s3));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    rcv_clear_fault(&R);
    close_tracer(t);
}

static void long_names(void) {
    TEST_BEGIN("span names truncated at 1024 bytes on a UTF-8 boundary");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    char name[1600];
    memset(name, 'a', 1500);
    name[1500] = 0;
    hh_span s = start_span(t, name, HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s));
    memset(name, 'b', 1023);
    memcpy(name + 1023, "\xc3\xa9tail", 7); /* 'é' straddles byte 1024 */
    hh_span s2 = start_span(t, name, HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s2));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 2, 10000);
    size_t len_a = 0, len_b = 0;
    for (size_t i = 0; i < jlen(spans); i++) {
        const char *n = jgets(jat(spans, i), "name");
        if (n && n[0] == 'a')
            len_a = strlen(n);
        if (n && n[0] == 'b')
            len_b = strlen(n);
    }
    CHECK_EQ(len_a, 1024);
    CHECK_EQ(len_b, 1023);
    jfree(spans);
    close_tracer(t);
}

static void file_exporter(void) {
    TEST_BEGIN("file exporter writes OTLP/JSON lines");
    char path[] = "/tmp/hh-ctest-export-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"exporter\":\"file\",\"file_path\":\"%s\",\"schedule_delay_ms\":50}", path);
    hh_tracer t = 0;
    hh_error err;
    memset(&err, 0, sizeof err);
    CHECK_OK(hh_tracer_new(cfg, &t, &err));
    hh_span root = start_span(t, "file-root", HH_EVENT_CHAIN, 0, NULL);
    hh_span child = start_span(t, "file-child", HH_EVENT_TOOL, root, NULL);
    CHECK_OK(hh_span_end(child));
    CHECK_OK(hh_span_end(root));
    close_tracer(t);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    size_t lines = 0, spans_seen = 0;
    if (f) {
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
            jval *doc = jparse(line);
            CHECK_MSG(doc != NULL, "line %zu is not JSON", lines + 1);
            lines++;
            const jval *rs = jat(jget(doc, "resourceSpans"), 0);
            const jval *ss = jat(jget(rs, "scopeSpans"), 0);
            const jval *sp = jget(ss, "spans");
            for (size_t i = 0; i < jlen(sp); i++) {
                const jval *s = jat(sp, i);
                spans_seen++;
                CHECK(jgets(s, "traceId") && strlen(jgets(s, "traceId")) == 32);
                CHECK(jgets(s, "startTimeUnixNano") != NULL);
                if (strcmp(jgets(s, "name"), "file-root") == 0)
                    CHECK(jis_null(jget(s, "parentSpanId")) && jget(s, "parentSpanId") != NULL);
            }
            jfree(doc);
        }
        free(line);
        fclose(f);
    }
    CHECK(lines >= 1);
    CHECK_EQ(spans_seen, 2);
    unlink(path);
}

static void config_session_and_evaluation(void) {
    TEST_BEGIN("config session_id, evaluation mode (run_id, dataset_id, datapoint_id)");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"session_id\":\"CCCCCCCC-DDDD-4EEE-8FFF-000000000000\",\"run_id\":\"run-1\","
                             "\"dataset_id\":\"ds-1\",\"datapoint_id\":\"dp-1\",\"inputs\":{\"q\":\"hello\"}");
    char sid[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_tracer_session_id(t, sid, sizeof sid, NULL));
    CHECK_STR_EQ(sid, "cccccccc-dddd-4eee-8fff-000000000000");
    hh_span s = start_span(t, "eval-span", HH_EVENT_TOOL, 0, NULL);
    char tp[HH_TRACEPARENT_BUF_LEN], bag[512] = "";
    CHECK_OK(hh_span_inject(s, tp, sizeof tp, bag, sizeof bag, NULL));
    CHECK_MSG(strstr(bag, "run_id=run-1") && strstr(bag, "dataset_id=ds-1") && strstr(bag, "datapoint_id=dp-1"),
              "baggage: %s", bag);
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    const jval *start = request_find(reqs, "POST", "/session/start", "session.session_id", sid);
    CHECK_MSG(start != NULL, "no session start with the configured id");
    const jval *session = jget(jget(start, "body_json"), "session");
    CHECK_STR_EQ(jgets(jget(session, "metadata"), "run_id"), "run-1");
    CHECK_STR_EQ(jgets(jget(session, "metadata"), "dataset_id"), "ds-1");
    CHECK_STR_EQ(jgets(jget(session, "metadata"), "datapoint_id"), "dp-1");
    CHECK_STR_EQ(jgets(jget(session, "inputs"), "q"), "hello");
    jfree(reqs);
    jval *spans = rcv_wait_spans(&R, 1, 10000);
    const jval *sp = span_by_name(spans, "eval-span");
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive.session_id"), sid);
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_metadata.run_id"), "run-1");
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_metadata.dataset_id"), "ds-1");
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_metadata.datapoint_id"), "dp-1");
    jfree(spans);
    close_tracer(t);
}

static void name_filters(void) {
    TEST_BEGIN("span_name_filters (prefix include/exclude)");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"span_name_filters\":{\"exclude\":[{\"type\":\"prefix\",\"value\":\"noisy\"},\"debug.\"]}");
    hh_span root = start_span(t, "kept-root", HH_EVENT_CHAIN, 0, NULL);
    hh_span noisy = start_span(t, "noisy-step", HH_EVENT_TOOL, root, NULL);
    /* A filtered span still has a handle: enrich/end work, children can name it. */
    CHECK_OK(hh_span_enrich(noisy, "{\"metadata\":{\"a\":1}}", NULL));
    hh_span under = start_span(t, "kept-under-noisy", HH_EVENT_TOOL, noisy, NULL);
    hh_span dbg = start_span(t, "debug.thing", HH_EVENT_TOOL, root, NULL);
    CHECK_OK(hh_span_end(under));
    CHECK_OK(hh_span_end(noisy));
    CHECK_OK(hh_span_end(dbg));
    CHECK_OK(hh_span_end(root));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    hh_stats st;
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.spans_exported, 2);
    jval *spans = rcv_wait_spans(&R, 2, 10000);
    CHECK_EQ(jlen(spans), 2);
    CHECK_EQ(spans_named(spans, "noisy-step"), 0);
    CHECK_EQ(spans_named(spans, "debug.thing"), 0);
    const jval *u = span_by_name(spans, "kept-under-noisy");
    const jval *r = span_by_name(spans, "kept-root");
    CHECK(u && r);
    CHECK_STR_EQ(jgets(u, "trace_id"), jgets(r, "trace_id"));
    jfree(spans);
    close_tracer(t);
}

static void value_truncation(void) {
    TEST_BEGIN("attribute values over 1 MiB truncated on a UTF-8 boundary");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_span s = start_span(t, "big-values", HH_EVENT_TOOL, 0, NULL);
    size_t n = HH_MAX_ATTRIBUTE_VALUE_BYTES + 100;
    char *big = malloc(n + 1);
    memset(big, 'v', n);
    big[n] = 0;
    /* A 2-byte character straddling the limit. */
    big[HH_MAX_ATTRIBUTE_VALUE_BYTES - 1] = (char)0xc3;
    big[HH_MAX_ATTRIBUTE_VALUE_BYTES] = (char)0xa9;
    CHECK_OK(hh_span_set_str(s, HH_NS_OUTPUTS, "big", big));
    CHECK_OK(hh_span_record_error(s, "Big", big));
    CHECK_OK(hh_span_end(s));
    free(big);
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(20000)));
    jval *spans = rcv_wait_spans(&R, 1, 10000);
    const jval *sp = span_by_name(spans, "big-values");
    const char *v = span_attr_str(sp, "honeyhive_outputs.big");
    CHECK(v != NULL);
    CHECK_EQ(v ? strlen(v) : 0, HH_MAX_ATTRIBUTE_VALUE_BYTES - 1);
    const char *e = span_attr_str(sp, "honeyhive_error");
    CHECK_EQ(e ? strlen(e) : 0, HH_MAX_ATTRIBUTE_VALUE_BYTES - 1);
    jfree(spans);
    close_tracer(t);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void hanging_server(void) {
    TEST_BEGIN("flush/close return within their timeout when the server hangs");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"schedule_delay_ms\":600000");
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/opentelemetry\"}");
    hh_span s = start_span(t, "hung-span", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s));
    /* Generous bounds: these only catch "waits for the 30 s export timeout" or "hangs". */
    double t0 = now_ms();
    CHECK_STATUS(hh_tracer_flush(t, 300), HH_ERR_TIMEOUT);
    double flush_ms = now_ms() - t0;
    CHECK_MSG(flush_ms < 300 + scaled_ms(4000), "flush(300 ms) took %.0f ms", flush_ms);
    t0 = now_ms();
    CHECK_STATUS(hh_tracer_close(t, 300), HH_ERR_TIMEOUT);
    double close_ms = now_ms() - t0;
    CHECK_MSG(close_ms < 300 + scaled_ms(4000), "close(300 ms) took %.0f ms", close_ms);
    hh_stats st;
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.spans_exported, 0);
    rcv_clear_fault(&R);
}

static void batch_setter(void) {
    TEST_BEGIN("hh_span_set_attrs: several typed attributes at once, all or none");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_span s = start_span(t, "batch-setter", HH_EVENT_MODEL, 0, NULL);
    hh_attr ok[] = {
        {.ns = HH_NS_METADATA, .type = HH_ATTR_STR, .key = "model", .str = "gpt-4o"},
        {.ns = HH_NS_METADATA, .type = HH_ATTR_I64, .key = "tokens", .i64 = 42},
        {.ns = HH_NS_METRICS, .type = HH_ATTR_F64, .key = "temperature", .f64 = 0.7},
        {.ns = HH_NS_FEEDBACK, .type = HH_ATTR_BOOL, .key = "liked", .i64 = 1},
        {.ns = HH_NS_NONE, .type = HH_ATTR_BOOL, .key = "plain", .i64 = 0},
    };
    CHECK_OK(hh_span_set_attrs(s, ok, sizeof ok / sizeof ok[0], NULL));
    CHECK_OK(hh_span_set_attrs(s, NULL, 0, NULL));
    /* One bad attribute (third): none of the call's attributes is set, and err says which. */
    hh_attr bad[] = {
        {.ns = HH_NS_METADATA, .type = HH_ATTR_STR, .key = "not-set-1", .str = "x"},
        {.ns = HH_NS_METADATA, .type = HH_ATTR_I64, .key = "not-set-2", .i64 = 1},
        {.ns = HH_NS_METADATA, .type = HH_ATTR_STR, .key = "bad-utf8", .str = "\xff\xfe"},
    };
    hh_error e;
    memset(&e, 0, sizeof e);
    CHECK_STATUS(hh_span_set_attrs(s, bad, 3, &e), HH_ERR_INVALID_UTF8);
    CHECK_EQ(e.status, HH_ERR_INVALID_UTF8);
    CHECK_MSG(strstr(e.message, "attribute 2 of 3") != NULL, "message: %s", e.message);
    bad[2] = (hh_attr){.ns = HH_NS_METADATA, .type = 99, .key = "k", .i64 = 1};
    CHECK_STATUS(hh_span_set_attrs(s, bad, 3, NULL), HH_ERR_INVALID_ARGUMENT);
    bad[2] = (hh_attr){.ns = 8, .type = HH_ATTR_I64, .key = "k", .i64 = 1};
    CHECK_STATUS(hh_span_set_attrs(s, bad, 3, NULL), HH_ERR_INVALID_ARGUMENT);
    bad[2] = (hh_attr){.ns = HH_NS_METADATA, .type = HH_ATTR_STR, .key = "k", .str = NULL};
    CHECK_STATUS(hh_span_set_attrs(s, bad, 3, NULL), HH_ERR_NULL_ARGUMENT);
    bad[2] = (hh_attr){.ns = HH_NS_NONE, .type = HH_ATTR_STR, .key = "honeyhive.session_id", .str = "x"};
    CHECK_STATUS(hh_span_set_attrs(s, bad, 3, NULL), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_set_attrs(s, NULL, 1, NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_set_attrs(0, ok, 1, NULL), HH_ERR_INVALID_HANDLE);
    /* Past the per-span limit (1024 caller attributes): refused whole. */
    enum { MANY = 1100 };
    static hh_attr many[MANY];
    static char keys[MANY][16];
    for (int i = 0; i < MANY; i++) {
        snprintf(keys[i], sizeof keys[i], "m%d", i);
        many[i] = (hh_attr){.ns = HH_NS_METRICS, .type = HH_ATTR_I64, .key = keys[i], .i64 = i};
    }
    CHECK_STATUS(hh_span_set_attrs(s, many, MANY, NULL), HH_ERR_LIMIT_EXCEEDED);
    CHECK_STATUS(hh_span_set_attrs(s, many, 1020, NULL), HH_ERR_LIMIT_EXCEEDED); /* 5 set + 1020 */
    CHECK_OK(hh_span_set_attrs(s, many, 1019, NULL));
    CHECK_OK(hh_span_end(s));
    CHECK_STATUS(hh_span_set_attrs(s, ok, 1, NULL), HH_ERR_SPAN_ENDED);
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));

    jval *spans = rcv_wait_spans(&R, 1, 10000);
    const jval *sp = span_by_name(spans, "batch-setter");
    CHECK(sp != NULL);
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_metadata.model"), "gpt-4o");
    CHECK(jint_is(span_attr(sp, "honeyhive_metadata.tokens"), 42));
    CHECK(jdouble_is(span_attr(sp, "honeyhive_metrics.temperature"), 0.7));
    CHECK(jbool_is(span_attr(sp, "honeyhive_feedback.liked"), 1));
    CHECK(jbool_is(span_attr(sp, "plain"), 0));
    CHECK(span_attr(sp, "honeyhive_metadata.not-set-1") == NULL);
    CHECK(span_attr(sp, "honeyhive_metadata.not-set-2") == NULL);
    CHECK(jint_is(span_attr(sp, "honeyhive_metrics.m1018"), 1018));
    CHECK(span_attr(sp, "honeyhive_metrics.m1019") == NULL);
    jfree(spans);
    check_unique_keys("batch-setter");
    close_tracer(t);
}

static void end_with_attributes(void) {
    TEST_BEGIN("hh_span_end_attrs: attributes and end in one call; refused attributes do not end");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_error e;
    hh_attr done[] = {
        {.ns = HH_NS_OUTPUTS, .type = HH_ATTR_STR, .key = "text", .str = "answer"},
        {.ns = HH_NS_METRICS, .type = HH_ATTR_I64, .key = "tokens", .i64 = 17},
    };
    hh_span a = start_span(t, "end-attrs", HH_EVENT_MODEL, 0, NULL);
    CHECK_OK(hh_span_end_attrs(a, done, 2, 0, &e));
    CHECK_STATUS(hh_span_end_attrs(a, done, 2, 0, NULL), HH_ERR_SPAN_ENDED); /* would be lost */
    CHECK_OK(hh_span_end_attrs(a, NULL, 0, 0, NULL));                        /* = hh_span_end */
    hh_attr refused[] = {
        {.ns = HH_NS_METRICS, .type = HH_ATTR_I64, .key = "not-set", .i64 = 1},
        {.ns = HH_NS_METRICS, .type = HH_ATTR_STR, .key = "null", .str = NULL},
    };
    hh_span b = start_span(t, "end-attrs-refused", HH_EVENT_TOOL, 0, NULL);
    memset(&e, 0, sizeof e);
    CHECK_STATUS(hh_span_end_attrs(b, refused, 2, 0, &e), HH_ERR_NULL_ARGUMENT);
    CHECK_MSG(strstr(e.message, "attribute 1 of 2") != NULL, "message: %s", e.message);
    CHECK_OK(hh_span_set_str(b, HH_NS_METADATA, "still", "open")); /* not ended */
    CHECK_STATUS(hh_span_end_attrs(b, done, 1, 0x40, NULL), HH_ERR_INVALID_ARGUMENT);
    CHECK_OK(hh_span_end_attrs(b, done + 1, 1, HH_END_KEEP_HANDLE, NULL));
    CHECK_OK(hh_span_release(b));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));

    jval *spans = rcv_wait_spans(&R, 2, 10000);
    const jval *sa = span_by_name(spans, "end-attrs"), *sb = span_by_name(spans, "end-attrs-refused");
    CHECK(sa != NULL && sb != NULL);
    CHECK_STR_EQ(span_attr_str(sa, "honeyhive_outputs.text"), "answer");
    CHECK(jint_is(span_attr(sa, "honeyhive_metrics.tokens"), 17));
    CHECK(span_attr(sb, "honeyhive_metrics.not-set") == NULL);
    CHECK_STR_EQ(span_attr_str(sb, "honeyhive_metadata.still"), "open");
    CHECK(jint_is(span_attr(sb, "honeyhive_metrics.tokens"), 17));
    CHECK_EQ(spans_named(spans, "end-attrs"), 1);
    jfree(spans);
    close_tracer(t);
}

/* Baggage from another service is input like any other: a session id that is not a UUID is
 * ignored (the tracer's default session is used, as without baggage), a project or source with
 * control characters or over 256 bytes is ignored (the tracer's own is used). */
static void hostile_baggage(void) {
    TEST_BEGIN("extract: hostile baggage values are validated");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"source\":\"own-source\"");
    char def[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_tracer_session_id(t, def, sizeof def, NULL));
    const char *tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    static char long_source[400];
    memcpy(long_source, "source=", 7);
    memset(long_source + 7, 'a', 300);
    long_source[307] = 0;
    struct {
        const char *name, *baggage;
    } cases[] = {
        {"hostile-not-uuid", "session_id=not-a-uuid"},
        {"hostile-dotdot", "session_id=../../x"},
        {"hostile-dotdot-encoded", "honeyhive_session_id=..%2F..%2Fx"},
        {"hostile-control", "project=evil%0Aforged,source=x%1B%5B2J"},
        {"hostile-long", long_source},
    };
    size_t n = sizeof cases / sizeof cases[0];
    hh_error err;
    memset(&err, 0, sizeof err);
    for (size_t i = 0; i < n; i++) {
        hh_span remote = 0;
        CHECK_OK(hh_tracer_extract(t, tp, cases[i].baggage, &remote, &err));
        char sid[HH_SESSION_ID_BUF_LEN] = "";
        CHECK_OK(hh_span_session_id(remote, sid, sizeof sid, NULL));
        CHECK_MSG(strcmp(sid, def) == 0, "%s: session %s, expected the default %s", cases[i].name, sid, def);
        hh_span s = start_span(t, cases[i].name, HH_EVENT_TOOL, remote, NULL);
        CHECK_OK(hh_span_end(s));
        CHECK_OK(hh_span_end(remote));
    }
    /* A valid id in capitals is taken, lower-cased, with a valid project. */
    hh_span remote = 0;
    CHECK_OK(hh_tracer_extract(t, tp, "session_id=3F2504E0-4F89-41D3-9A0C-0305E82C3301,project=their-project",
                               &remote, &err));
    hh_span ok = start_span(t, "hostile-valid", HH_EVENT_TOOL, remote, NULL);
    CHECK_OK(hh_span_end(ok));
    CHECK_OK(hh_span_end(remote));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, (int)n + 1, 10000);
    for (size_t i = 0; i < n; i++) {
        const jval *sp = span_by_name(spans, cases[i].name);
        CHECK_MSG(sp != NULL, "%s not received", cases[i].name);
        if (!sp)
            continue;
        const char *sid = span_attr_str(sp, "honeyhive.session_id");
        CHECK_MSG(sid && strcmp(sid, def) == 0, "%s: session %s on the wire", cases[i].name, sid ? sid : "(none)");
        const char *project = span_attr_str(sp, "honeyhive.project");
        CHECK_MSG(project && strcmp(project, "p") == 0, "%s: project %s", cases[i].name, project ? project : "(none)");
        const char *source = span_attr_str(sp, "honeyhive.source");
        CHECK_MSG(source && strcmp(source, "own-source") == 0, "%s: source %.40s", cases[i].name,
                  source ? source : "(none)");
    }
    const jval *v = span_by_name(spans, "hostile-valid");
    CHECK(v != NULL);
    if (v) {
        CHECK_STR_EQ(span_attr_str(v, "honeyhive.session_id"), "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
        CHECK_STR_EQ(span_attr_str(v, "honeyhive.project"), "their-project");
    }
    jfree(spans);
    close_tracer(t);
}

/* Spans with no session at all (auto-create mode, none given or inherited) are not exported:
 * counted in spans_no_session, and still in spans_ended. hh_session_inject names a session. */
static void no_session_spans(void) {
    TEST_BEGIN("spans without a session: not exported, counted; hh_session_inject");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"skip_backend_session_creation\":true");
    hh_span orphan = start_span(t, "orphan", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(orphan));
    const char *sid = "dddddddd-0000-4000-8000-00000000000d";
    hh_span kept = start_span(t, "kept", HH_EVENT_TOOL, 0, sid);
    CHECK_OK(hh_span_end(kept));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    hh_stats st;
    memset(&st, 0, sizeof st);
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.spans_ended, 2);
    CHECK_EQ(st.spans_exported, 1);
    CHECK_EQ(st.spans_no_session, 1);
    CHECK_EQ(st.spans_dropped, 0);
    jval *wire = rcv_get_json(&R, "/__hh/spans");
    CHECK_EQ(jlen(wire), 1);
    CHECK(span_by_name(wire, "kept") != NULL && span_by_name(wire, "orphan") == NULL);
    CHECK(jbool_is(span_attr(span_by_name(wire, "kept"), "honeyhive.session_auto_create"), 1));
    jfree(wire);

    /* hh_session_inject: a given session (no default here), lower-cased; bad input refused. */
    char bag[256] = "";
    size_t bag_len = 0;
    CHECK_STATUS(hh_session_inject(t, NULL, bag, sizeof bag, &bag_len), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_session_inject(t, "not-a-uuid", bag, sizeof bag, NULL), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_session_inject(t, sid, NULL, 0, NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_session_inject(0, sid, bag, sizeof bag, NULL), HH_ERR_INVALID_HANDLE);
    CHECK_OK(hh_session_inject(t, "DDDDDDDD-0000-4000-8000-00000000000D", bag, sizeof bag, &bag_len));
    CHECK_MSG(strstr(bag, "session_id=dddddddd-0000-4000-8000-00000000000d") != NULL, "baggage %s", bag);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    CHECK_EQ(requests_count(reqs, "POST", "/session/start"), 0);
    jfree(reqs);
    close_tracer(t);
    CHECK_STATUS(hh_session_inject(t, sid, bag, sizeof bag, NULL), HH_ERR_TRACER_CLOSED);
}

void test_wire(void) {
    default_session();
    created_sessions();
    nesting();
    enrichment();
    typed_setters();
    batch_setter();
    end_with_attributes();
    record_error();
    enrich_session();
    inject_extract();
    hostile_baggage();
    stats_and_flush();
    no_session_spans();
    protobuf_mode();
    test_mode();
    immediate_mode();
    close_delivers();
    export_faults();
    long_names();
    file_exporter();
    config_session_and_evaluation();
    name_filters();
    value_truncation();
    hanging_server();
}
