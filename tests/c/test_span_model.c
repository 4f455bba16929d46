/* The OpenTelemetry span model through the C ABI, checked on what the receiver decoded:
 * hh_span_start_ex (kind, start time, links, typed array attributes, a remote parent by ids),
 * events, links, status, rename, hh_span_record_error_ex, hh_span_end_at, hh_span_get_context.
 */
#include <string.h>

#include "common.h"

static const uint64_t START_NS = 1700000000000000123ull;
static const uint64_t EVENT_NS = 1700000000500000000ull;
static const uint64_t END_NS = 1700000001000000000ull;

static void fill(uint8_t *out, size_t n, uint8_t first) {
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(first + i);
}

static void hex(const uint8_t *b, size_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = 0;
}

static void span_model_on_the_wire(const char *protocol_extra, const char *label) {
    TEST_BEGIN(label);
    rcv_reset(&R);
    hh_tracer t = new_tracer(protocol_extra);

    hh_span_context remote = {0};
    fill(remote.trace_id, 16, 0x10);
    fill(remote.span_id, 8, 0x40);
    remote.trace_flags = 1;
    remote.is_remote = true;

    hh_attr link_attr = {HH_NS_NONE, HH_ATTR_STR, "link.why", "retry", 0, 0, NULL, 0};
    hh_link link = {{{0}, {0}, 1, false}, &link_attr, 1};
    fill(link.context.trace_id, 16, 0x80);
    fill(link.context.span_id, 8, 0xa0);

    const char *tags[] = {"a", "b\xc3\xa9"};
    int64_t ints[] = {1, -2, 3};
    double dbls[] = {0.5, 2.25};
    bool flags[] = {true, false};
    hh_attr initial[] = {
        {HH_NS_NONE, HH_ATTR_STR_ARRAY, "any.tags", NULL, 0, 0, tags, 2},
        {HH_NS_NONE, HH_ATTR_I64_ARRAY, "any.ints", NULL, 0, 0, ints, 3},
        {HH_NS_METADATA, HH_ATTR_F64_ARRAY, "dbls", NULL, 0, 0, dbls, 2},
        {HH_NS_NONE, HH_ATTR_BOOL_ARRAY, "any.flags", NULL, 0, 0, flags, 2},
        {HH_NS_NONE, HH_ATTR_I64_ARRAY, "any.empty", NULL, 0, 0, NULL, 0},
    };
    hh_span_options opts = {0};
    opts.kind = HH_SPAN_KIND_SERVER;
    opts.start_time_unix_nano = START_NS;
    opts.links = &link;
    opts.links_len = 1;
    opts.attrs = initial;
    opts.attrs_len = sizeof initial / sizeof initial[0];
    opts.parent_context = &remote;

    hh_span s = 0;
    hh_error err = {0};
    CHECK_OK(hh_span_start_ex(t, "request", HH_EVENT_CHAIN, 0, NULL, NULL, &opts, &s, &err));

    hh_span_context got = {0};
    CHECK_OK(hh_span_get_context(s, &got));
    CHECK(memcmp(got.trace_id, remote.trace_id, 16) == 0);
    CHECK_EQ(got.trace_flags & 1, 1);
    CHECK(!got.is_remote);

    hh_attr ev_attrs[] = {{HH_NS_NONE, HH_ATTR_I64, "attempt", NULL, 2, 0, NULL, 0}};
    CHECK_OK(hh_span_add_event(s, "cache.miss", ev_attrs, 1, EVENT_NS, &err));
    hh_link back = {remote, NULL, 0};
    CHECK_OK(hh_span_add_link(s, &back, &err));
    CHECK_OK(hh_span_record_error_ex(s, "ValueError", "boom", "Traceback: line 1", HH_ERROR_ESCAPED, 0));
    CHECK_OK(hh_span_set_status(s, HH_SPAN_STATUS_ERROR, "explicit failure"));
    CHECK_OK(hh_span_set_name(s, "GET /items"));

    /* A second span: record_error_ex without a stack trace, not escaped; status OK is final. */
    hh_span s2 = start_span(t, "ok-step", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_record_error_ex(s2, NULL, "handled", NULL, 0, 0));
    CHECK_OK(hh_span_set_status(s2, HH_SPAN_STATUS_OK, NULL));
    CHECK_OK(hh_span_set_status(s2, HH_SPAN_STATUS_ERROR, "too late"));
    CHECK_OK(hh_span_end(s2));

    CHECK_OK(hh_span_end_at(s, END_NS, 0));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 2, 10000);
    const jval *sp = span_by_name(spans, "GET /items");
    CHECK_MSG(sp != NULL, "no span GET /items");
    if (sp) {
        char tid[33], pid[17], lt[33], ls[17];
        hex(remote.trace_id, 16, tid);
        hex(remote.span_id, 8, pid);
        hex(link.context.trace_id, 16, lt);
        hex(link.context.span_id, 8, ls);
        CHECK_STR_EQ(jgets(sp, "kind"), "SPAN_KIND_SERVER");
        CHECK_STR_EQ(jgets(sp, "trace_id"), tid);
        CHECK_STR_EQ(jgets(sp, "parent_span_id"), pid);
        CHECK_EQ(jget(sp, "start_time_unix_nano")->integer, (long long)START_NS);
        CHECK_EQ(jget(sp, "end_time_unix_nano")->integer, (long long)END_NS);
        CHECK_STR_EQ(jgets(sp, "status_code"), "STATUS_CODE_ERROR");
        CHECK_STR_EQ(jgets(sp, "status_message"), "explicit failure");
        const jval *a = span_attr(sp, "any.tags");
        CHECK_EQ(jlen(a), 2);
        CHECK_STR_EQ(jstr(jat(a, 1)), "b\xc3\xa9");
        a = span_attr(sp, "any.ints");
        CHECK_EQ(jlen(a), 3);
        CHECK_EQ(jat(a, 1)->integer, -2);
        a = span_attr(sp, "honeyhive_metadata.dbls");
        CHECK_EQ(jlen(a), 2);
        CHECK(jat(a, 1)->num == 2.25);
        a = span_attr(sp, "any.flags");
        CHECK_EQ(jlen(a), 2);
        CHECK(jbool_is(jat(a, 0), 1) && jbool_is(jat(a, 1), 0));
        CHECK_EQ(jlen(span_attr(sp, "any.empty")), 0);

        const jval *links = jget(sp, "links");
        CHECK_EQ(jlen(links), 2);
        CHECK_STR_EQ(jgets(jat(links, 0), "trace_id"), lt);
        CHECK_STR_EQ(jgets(jat(links, 0), "span_id"), ls);
        CHECK_STR_EQ(jgets(jget(jat(links, 0), "attributes"), "link.why"), "retry");
        CHECK_STR_EQ(jgets(jat(links, 1), "span_id"), pid);

        const jval *events = jget(sp, "events");
        CHECK_EQ(jlen(events), 2);
        CHECK_STR_EQ(jgets(jat(events, 0), "name"), "cache.miss");
        CHECK_EQ(jget(jat(events, 0), "time_unix_nano")->integer, (long long)EVENT_NS);
        CHECK_EQ(jget(jget(jat(events, 0), "attributes"), "attempt")->integer, 2);
        const jval *ex = jget(jat(events, 1), "attributes");
        CHECK_STR_EQ(jgets(jat(events, 1), "name"), "exception");
        CHECK_STR_EQ(jgets(ex, "exception.type"), "ValueError");
        CHECK_STR_EQ(jgets(ex, "exception.message"), "boom");
        CHECK_STR_EQ(jgets(ex, "exception.stacktrace"), "Traceback: line 1");
        /* As OpenTelemetry Python's record_exception: str(escaped). */
        CHECK_STR_EQ(jgets(ex, "exception.escaped"), "True");
    }
    const jval *sp2 = span_by_name(spans, "ok-step");
    CHECK_MSG(sp2 != NULL, "no span ok-step");
    if (sp2) {
        CHECK_STR_EQ(jgets(sp2, "kind"), "SPAN_KIND_INTERNAL");
        CHECK_STR_EQ(jgets(sp2, "status_code"), "STATUS_CODE_OK");
        const jval *ex = jget(jat(jget(sp2, "events"), 0), "attributes");
        CHECK_STR_EQ(jgets(ex, "exception.type"), "Error");
        CHECK_STR_EQ(jgets(ex, "exception.escaped"), "False");
        CHECK(jget(ex, "exception.stacktrace") == NULL);
    }
    jfree(spans);
    close_tracer(t);
}

static void bad_input_is_refused(void) {
    TEST_BEGIN("span model: bad input refused, NULL options is hh_span_start");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_span s = 0;
    hh_error err = {0};
    CHECK_OK(hh_span_start_ex(t, "plain", HH_EVENT_TOOL, 0, NULL, NULL, NULL, &s, &err));
    hh_span_options opts = {0};
    opts.kind = 9;
    hh_span s2 = 0;
    CHECK_STATUS(hh_span_start_ex(t, "bad-kind", HH_EVENT_TOOL, 0, NULL, NULL, &opts, &s2, &err),
                 HH_ERR_INVALID_ARGUMENT);
    CHECK_EQ(s2, 0);
    hh_span_context zero = {0};
    opts.kind = HH_SPAN_KIND_CLIENT;
    opts.parent_context = &zero;
    CHECK_STATUS(hh_span_start_ex(t, "bad-parent", HH_EVENT_TOOL, 0, NULL, NULL, &opts, &s2, &err),
                 HH_ERR_INVALID_ARGUMENT);
    opts.parent_context = NULL;
    opts.links_len = 1;
    CHECK_STATUS(hh_span_start_ex(t, "null-links", HH_EVENT_TOOL, 0, NULL, NULL, &opts, &s2, &err),
                 HH_ERR_NULL_ARGUMENT);
    hh_attr bad_arr = {HH_NS_NONE, HH_ATTR_STR_ARRAY, "k", NULL, 0, 0, NULL, 2};
    CHECK_STATUS(hh_span_add_event(s, "e", &bad_arr, 1, 0, &err), HH_ERR_NULL_ARGUMENT);
    const char *with_null[] = {"x", NULL};
    hh_attr null_elem = {HH_NS_NONE, HH_ATTR_STR_ARRAY, "k", NULL, 0, 0, with_null, 2};
    CHECK_STATUS(hh_span_set_attrs(s, &null_elem, 1, &err), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_add_event(s, "", NULL, 0, 0, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_add_link(s, NULL, &err), HH_ERR_NULL_ARGUMENT);
    hh_link zero_link = {zero, NULL, 0};
    CHECK_STATUS(hh_span_add_link(s, &zero_link, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_set_status(s, 7, NULL), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_set_name(s, ""), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_record_error_ex(s, NULL, "m", NULL, 4, 0), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_get_context(s, NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_OK(hh_span_end(s));
    CHECK_STATUS(hh_span_add_event(s, "late", NULL, 0, 0, &err), HH_ERR_SPAN_ENDED);
    CHECK_STATUS(hh_span_set_status(s, HH_SPAN_STATUS_OK, NULL), HH_ERR_SPAN_ENDED);
    /* The context stays readable after the end. */
    hh_span_context cx = {0};
    CHECK_OK(hh_span_get_context(s, &cx));
    CHECK(cx.span_id[0] | cx.span_id[1] | cx.span_id[2] | cx.span_id[3] | cx.span_id[4] | cx.span_id[5] |
          cx.span_id[6] | cx.span_id[7]);
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 1, 10000);
    CHECK_EQ(spans_named(spans, "plain"), 1);
    CHECK_EQ(spans_named(spans, "bad-kind") + spans_named(spans, "bad-parent"), 0);
    jfree(spans);
    close_tracer(t);
}

static void links_past_the_limit(void) {
    TEST_BEGIN("span model: links past HH_MAX_LINKS_PER_SPAN dropped and counted, too many refused");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"otlp_protocol\":\"http/protobuf\"");
    enum { N = HH_MAX_LINKS_PER_SPAN + 2 };
    static hh_link links[1025];
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        memset(&links[i], 0, sizeof links[i]);
        fill(links[i].context.trace_id, 16, (uint8_t)(1 + i % 200));
        fill(links[i].context.span_id, 8, (uint8_t)(1 + i % 200));
    }
    hh_span_options opts = {0};
    opts.links = links;
    opts.links_len = N;
    hh_span s = 0;
    hh_error err = {0};
    CHECK_OK(hh_span_start_ex(t, "many-links", HH_EVENT_TOOL, 0, NULL, NULL, &opts, &s, &err));
    CHECK_OK(hh_span_add_link(s, &links[0], &err));
    CHECK_OK(hh_span_end(s));
    opts.links_len = 1025;
    hh_span s2 = 0;
    CHECK_STATUS(hh_span_start_ex(t, "too-many-links", HH_EVENT_TOOL, 0, NULL, NULL, &opts, &s2, &err),
                 HH_ERR_LIMIT_EXCEEDED);
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 1, 10000);
    const jval *sp = span_by_name(spans, "many-links");
    CHECK_MSG(sp != NULL, "no span many-links");
    if (sp) {
        CHECK_EQ(jlen(jget(sp, "links")), HH_MAX_LINKS_PER_SPAN);
        CHECK_EQ(jget(sp, "dropped_links_count")->integer, 3);
    }
    CHECK_EQ(spans_named(spans, "too-many-links"), 0);
    jfree(spans);
    close_tracer(t);
}

void test_span_model(void) {
    span_model_on_the_wire("", "span model on the wire (OTLP/JSON)");
    span_model_on_the_wire(",\"otlp_protocol\":\"http/protobuf\"", "span model on the wire (OTLP/protobuf)");
    bad_input_is_refused();
    links_past_the_limit();
}
