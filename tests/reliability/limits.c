/* Input limits (README "Limits"): what each limit does at the C ABI and on the wire.
 * Over a limit: a clear status (HH_ERR_LIMIT_EXCEEDED / HH_ERR_INVALID_ARGUMENT) with nothing
 * applied, or the documented truncation; never a crash (100k-deep JSON included).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include "rel.h"

static char *nested(size_t depth, int arrays) {
    /* {"metadata":{"a":{"a":...1...}}} or {"metadata":[[[...1...]]]} */
    size_t cap = depth * 8 + 64;
    char *s = malloc(cap), *p = s;
    p += sprintf(p, "{\"metadata\":");
    for (size_t i = 1; i < depth; i++)
        p += sprintf(p, arrays ? "[" : "{\"a\":");
    p += sprintf(p, "1");
    for (size_t i = 1; i < depth; i++)
        *p++ = arrays ? ']' : '}';
    p += sprintf(p, "}");
    return s;
}

static char *object_with_keys(size_t n) {
    char *s = malloc(n * 24 + 64), *p = s;
    p += sprintf(p, "{\"metadata\":{");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s\"k%zu\":%zu", i ? "," : "", i, i);
    p += sprintf(p, "}}");
    return s;
}

static hh_error E;

static void deep_json(hh_tracer t) {
    TEST_BEGIN("limits: JSON nesting (64 accepted, 65 and 100000 rejected everywhere, both shapes)");
    hh_span s = 0, out = 0;
    hh_tracer t2 = 0;
    char sid[HH_SESSION_ID_BUF_LEN];
    CHECK_OK(hh_span_start(t, "limits-deep", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL));
    /* nested(d) is d levels deep (the outer object is level 1): 64 accepted, 65 rejected */
    char *ok = nested(HH_MAX_JSON_DEPTH, 0);
    CHECK_OK(hh_span_enrich(s, ok, &E));
    free(ok);
    ok = nested(HH_MAX_JSON_DEPTH, 1);
    CHECK_OK(hh_span_enrich(s, ok, &E));
    free(ok);
    size_t depths[] = {HH_MAX_JSON_DEPTH + 1, 100000};
    int rejected = 0, calls = 0;
    for (size_t i = 0; i < 2; i++)
        for (int arrays = 0; arrays < 2; arrays++) {
            char *deep = nested(depths[i], arrays);
            char *inner = strchr(deep, ':') + 1; /* the nested value itself, for APIs taking any object */
            char *opts = NULL;
            if (asprintf(&opts, "{\"metadata\":%.*s}", (int)(strlen(inner) - 1), inner) < 0)
                opts = NULL;
            hh_status sts[6] = {
                hh_span_enrich(s, deep, &E),
                hh_span_start(t, "deep-attrs", HH_EVENT_TOOL, 0, NULL, deep, &out, &E),
                hh_session_create(t, opts, sid, sizeof sid, &E),
                hh_session_enrich(t, NULL, deep, &E),
                hh_tracer_new(deep, &t2, &E),
                HH_ERR_LIMIT_EXCEEDED,
            };
            for (int c = 0; c < 5; c++) {
                calls++;
                if (sts[c] == HH_ERR_LIMIT_EXCEEDED)
                    rejected++;
                else
                    CHECK_MSG(0, "depth %zu (%s), call %d: %s", depths[i], arrays ? "arrays" : "objects", c,
                              status_str(sts[c]));
            }
            free(opts);
            free(deep);
        }
    CHECK_OK(hh_span_end(s));
    figure("limit-json-depth", "limit=%d depth64=HH_OK calls_over_limit=%d rejected_LIMIT_EXCEEDED=%d deepest_tried=100000",
           HH_MAX_JSON_DEPTH, calls, rejected);
}

static void json_size(hh_tracer t) {
    TEST_BEGIN("limits: JSON size (8 MiB)");
    hh_span s = 0;
    CHECK_OK(hh_span_start(t, "limits-size", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL));
    size_t sizes[2] = {HH_MAX_JSON_BYTES, HH_MAX_JSON_BYTES + 1};
    hh_status got[2];
    for (int i = 0; i < 2; i++) {
        size_t n = sizes[i];
        char *j = malloc(n + 1);
        size_t h = (size_t)sprintf(j, "{\"metadata\":{\"blob\":\"");
        memset(j + h, 'x', n - h - 3);
        memcpy(j + n - 3, "\"}}", 4);
        CHECK_EQ(strlen(j), n);
        got[i] = hh_span_enrich(s, j, &E);
        free(j);
    }
    CHECK_OK(got[0]);
    CHECK_STATUS(got[1], HH_ERR_LIMIT_EXCEEDED);
    CHECK_OK(hh_span_end(s));
    figure("limit-json-size", "limit_bytes=%d at_limit=%s over_by_1=%s", HH_MAX_JSON_BYTES, status_str(got[0]),
           status_str(got[1]));
}

static size_t attr_count_with_prefix(const jval *span, const char *prefix) {
    const jval *attrs = jget(span, "attributes");
    size_t n = 0;
    for (size_t i = 0; i < jlen(attrs); i++)
        if (strncmp(attrs->keys[i], prefix, strlen(prefix)) == 0)
            n++;
    return n;
}

static void wire_limits(void) {
    TEST_BEGIN("limits on the wire: attributes per call/span, events, names, values, keys");
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":600000");
    hh_span s = 0;

    /* per call: 1024 accepted, 1025 rejected as a whole */
    CHECK_OK(hh_span_start(t, "limits-per-call", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL));
    char *j1024 = object_with_keys(HH_MAX_ATTRIBUTES_PER_CALL), *j1025 = object_with_keys(HH_MAX_ATTRIBUTES_PER_CALL + 1);
    hh_status c1024 = hh_span_enrich(s, j1024, &E);
    /* a fresh span for the over-limit call, so the wire shows whether anything was applied */
    hh_span s2 = 0;
    CHECK_OK(hh_span_start(t, "limits-per-call-over", HH_EVENT_TOOL, 0, NULL, NULL, &s2, NULL));
    hh_status c1025 = hh_span_enrich(s2, j1025, &E);
    free(j1024);
    free(j1025);
    CHECK_OK(c1024);
    CHECK_STATUS(c1025, HH_ERR_LIMIT_EXCEEDED);
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_span_end(s2));

    /* per span: 1500 typed setters with distinct keys */
    hh_span s3 = 0;
    CHECK_OK(hh_span_start(t, "limits-per-span", HH_EVENT_TOOL, 0, NULL, NULL, &s3, NULL));
    int set_ok = 0, set_other = 0;
    for (int i = 0; i < 1500; i++) {
        char key[32];
        snprintf(key, sizeof key, "m%d", i);
        hh_status st = hh_span_set_i64(s3, HH_NS_METADATA, key, i);
        if (st == HH_OK)
            set_ok++;
        else
            set_other++;
    }
    /* the span is full now: an error recorded on it must not vanish behind HH_OK */
    hh_status err_on_full = hh_span_record_error(s3, "Full", "recorded on a full span");
    hh_status enrich_on_full = hh_span_enrich(s3, "{\"outputs\":{\"late\":1}}", &E);
    /* events: 1100 errors recorded */
    int ev_ok = 0;
    for (int i = 0; i < 1100; i++)
        if (hh_span_record_error(s3, "E", "m") == HH_OK)
            ev_ok++;
    CHECK_OK(hh_span_end(s3));

    /* span name: 1 MiB, with a 2-byte character straddling byte 1024 */
    size_t nlen = 1 << 20;
    char *name = malloc(nlen + 1);
    memset(name, 'n', nlen);
    name[nlen] = 0;
    name[HH_MAX_SPAN_NAME_BYTES - 1] = (char)0xc3;
    name[HH_MAX_SPAN_NAME_BYTES] = (char)0xa9;
    hh_span s4 = 0;
    hh_status name_st = hh_span_start(t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s4, NULL);
    CHECK_OK(name_st);
    /* values: 2 MiB through the typed setter and through enrichment JSON */
    size_t vlen = 2u << 20;
    char *val = malloc(vlen + 64);
    memset(val, 'v', vlen);
    val[vlen] = 0;
    CHECK_OK(hh_span_set_str(s4, HH_NS_OUTPUTS, "big", val));
    char *ej = malloc(vlen + 64);
    sprintf(ej, "{\"inputs\":{\"big\":\"%s\"}}", val);
    hh_status big_enrich = hh_span_enrich(s4, ej, &E);
    CHECK_OK(big_enrich);
    free(ej);
    /* keys: 1024 bytes accepted, 1025 rejected */
    char key[HH_MAX_KEY_BYTES + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    hh_status long_key = hh_span_set_str(s4, HH_NS_NONE, key, "v");
    key[HH_MAX_KEY_BYTES] = 0;
    hh_status max_key = hh_span_set_str(s4, HH_NS_NONE, key, "v");
    CHECK_STATUS(long_key, HH_ERR_INVALID_ARGUMENT);
    CHECK_OK(max_key);
    /* invalid UTF-8 */
    hh_span bad = 0;
    hh_status bad_name = hh_span_start(t, "bad\xff", HH_EVENT_TOOL, 0, NULL, NULL, &bad, NULL);
    hh_status bad_val = hh_span_set_str(s4, HH_NS_NONE, "k", "\xc3");
    CHECK_STATUS(bad_name, HH_ERR_INVALID_UTF8);
    CHECK_STATUS(bad_val, HH_ERR_INVALID_UTF8);
    CHECK_OK(hh_span_end(s4));
    free(val);

    CHECK_OK(hh_tracer_flush(t, 20000));
    jval *spans = rcv_get_json(&R, "/__hh/spans");
    const jval *pc = span_by_name(spans, "limits-per-call");
    const jval *pco = span_by_name(spans, "limits-per-call-over");
    const jval *ps = span_by_name(spans, "limits-per-span");
    const jval *big = NULL;
    for (size_t i = 0; i < jlen(spans); i++) {
        const char *n = jgets(jat(spans, i), "name");
        if (n && n[0] == 'n')
            big = jat(spans, i);
    }
    size_t per_call = attr_count_with_prefix(pc, "honeyhive_metadata.k");
    size_t per_call_over = attr_count_with_prefix(pco, "honeyhive_metadata.k");
    size_t per_span = attr_count_with_prefix(ps, "honeyhive_metadata.m");
    size_t total_attrs = jlen(jget(ps, "attributes"));
    size_t events = jlen(jget(ps, "events"));
    const char *bn = jgets(big, "name");
    const char *bv = span_attr_str(big, "honeyhive_outputs.big");
    const char *bi = span_attr_str(big, "honeyhive_inputs.big");
    figure("limit-attributes",
           "per_call_limit=%d call_1024=%s(on_wire=%zu) call_1025=%s(on_wire=%zu) per_span_setters=1500 ok=%d "
           "on_wire=%zu total_attrs_on_span=%zu",
           HH_MAX_ATTRIBUTES_PER_CALL, status_str(c1024), per_call, status_str(c1025), per_call_over, set_ok, per_span,
           total_attrs);
    figure("limit-events", "recorded=1100 ok=%d on_wire=%zu limit=%d", ev_ok, events, HH_MAX_EVENTS_PER_SPAN);
    figure("limit-span-name", "given_bytes=%zu status=%s on_wire_bytes=%zu limit=%d", nlen, status_str(name_st),
           bn ? strlen(bn) : 0, HH_MAX_SPAN_NAME_BYTES);
    figure("limit-attribute-value",
           "given_bytes=%zu set_str_on_wire=%zu enrich_on_wire=%zu limit=%d key_1025=%s key_1024=%s bad_utf8_name=%s "
           "bad_utf8_value=%s",
           vlen, bv ? strlen(bv) : 0, bi ? strlen(bi) : 0, HH_MAX_ATTRIBUTE_VALUE_BYTES, status_str(long_key),
           status_str(max_key), status_str(bad_name), status_str(bad_val));
    int err_attr_kept = span_attr(ps, "honeyhive_error") != NULL;
    int late_kept = span_attr(ps, "honeyhive_outputs.late") != NULL;
    figure("limit-full-span", "record_error=%s honeyhive_error_on_wire=%d enrich=%s enriched_attr_on_wire=%d status_code=%s",
           status_str(err_on_full), err_attr_kept, status_str(enrich_on_full), late_kept,
           jgets(ps, "status_code") ? jgets(ps, "status_code") : "?");
    CHECK(pc && pco && ps && big);
    /* An enrichment that returned HH_OK is applied whole (a call that fails changes
     * nothing, and one that succeeds is applied in full); a 1024-key call fits on a fresh span (the library's attributes come on top). */
    CHECK_MSG(per_call == HH_MAX_ATTRIBUTES_PER_CALL,
              "hh_span_enrich with %d keys returned HH_OK but only %zu arrived (silently truncated at the per-span limit)",
              HH_MAX_ATTRIBUTES_PER_CALL, per_call);
    /* Past the per-span limit a call must say so, or keep what it reported as recorded. */
    CHECK_MSG(err_on_full != HH_OK || err_attr_kept,
              "hh_span_record_error on a full span returned HH_OK but honeyhive_error is not on the wire");
    CHECK_MSG(enrich_on_full != HH_OK || late_kept,
              "hh_span_enrich on a full span returned HH_OK but its attribute is not on the wire");
    CHECK_EQ(per_call_over, 0); /* nothing applied */
    /* A span holds HH_MAX_ATTRIBUTES_PER_SPAN attributes set by the caller; setters past it
     * fail with HH_ERR_LIMIT_EXCEEDED (nothing applied). The library's own attributes (session,
     * project, source, event type, error) come on top: at most 16 of them here. */
    CHECK_EQ(set_ok, HH_MAX_ATTRIBUTES_PER_SPAN);
    CHECK_EQ(set_other, 1500 - HH_MAX_ATTRIBUTES_PER_SPAN);
    CHECK_MSG(total_attrs <= HH_MAX_ATTRIBUTES_PER_SPAN + 16, "%zu attributes on one span (limit %d + library's)",
              total_attrs, HH_MAX_ATTRIBUTES_PER_SPAN);
    CHECK_MSG(events <= HH_MAX_EVENTS_PER_SPAN, "%zu events on one span (limit %d)", events, HH_MAX_EVENTS_PER_SPAN);
    CHECK_EQ(bn ? strlen(bn) : 0, HH_MAX_SPAN_NAME_BYTES - 1); /* cut before the straddling character */
    CHECK_EQ(bv ? strlen(bv) : 0, HH_MAX_ATTRIBUTE_VALUE_BYTES);
    CHECK_EQ(bi ? strlen(bi) : 0, HH_MAX_ATTRIBUTE_VALUE_BYTES);
    jfree(spans);
    free(name);
    CHECK_OK(hh_tracer_close(t, 10000));
}

static void header_limits(hh_tracer t) {
    TEST_BEGIN("limits: propagation headers");
    char *tp = malloc(600), *bag = malloc(9000);
    snprintf(tp, 600, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    memset(tp + 55, ' ', 500);
    tp[555] = 0;
    hh_span p = 0;
    hh_status long_tp = hh_tracer_extract(t, tp, NULL, &p, &E);
    memset(bag, 'a', 8999);
    bag[8999] = 0;
    memcpy(bag, "session_id=", 11);
    hh_status long_bag = hh_tracer_extract(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", bag, &p, &E);
    hh_status bad_tp = hh_tracer_extract(t, "00-zzzz", NULL, &p, &E);
    hh_status zero_tp =
        hh_tracer_extract(t, "00-00000000000000000000000000000000-b7ad6b7169203331-01", NULL, &p, &E);
    figure("limit-propagation", "traceparent_555_bytes=%s baggage_8999_bytes=%s malformed=%s all_zero_trace=%s",
           status_str(long_tp), status_str(long_bag), status_str(bad_tp), status_str(zero_tp));
    CHECK_STATUS(long_tp, HH_ERR_LIMIT_EXCEEDED);
    CHECK_STATUS(long_bag, HH_ERR_LIMIT_EXCEEDED);
    CHECK_STATUS(bad_tp, HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(zero_tp, HH_ERR_INVALID_ARGUMENT);
    free(tp);
    free(bag);
}

/* ---- memory a span holds: the queue's byte bound and overwritten keys ---- */


static hh_stats stats_now(hh_tracer t) {
    hh_stats s;
    memset(&s, 0, sizeof s);
    CHECK_OK(hh_tracer_stats(t, &s));
    return s;
}

/* With max_queue_bytes 1 MiB and a server that never answers, spans with large array
 * attributes (each stored under its raw and its normalized key) must not grow memory past a
 * small multiple of the bound: every byte of an array counts, and what does not fit is dropped
 * and counted. */
static void array_bytes_row(void) {
    if (!selected("limit-array-bytes"))
        return;
    TEST_BEGIN("limits row limit-array-bytes: max_queue_bytes counts array attributes (server hangs)");
    rcv_reset(&R);
    rcv_clear_fault(&R);
    hh_tracer t = rel_tracer(NULL, ",\"max_queue_bytes\":1048576,\"schedule_delay_ms\":20,\"export_timeout_ms\":60000");
    if (!t)
        return;
    CHECK_OK(hh_tracer_flush(t, 5000)); /* the session start, before the fault */
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/opentelemetry\"}");
    /* {"big.list":["xx...", ... 64 strings of 2 KiB]}: 128 KiB of array, stored twice. */
    enum { ELEMS = 64, ELEM_BYTES = 2048 };
    size_t cap = 64 + (size_t)ELEMS * (ELEM_BYTES + 4);
    char *json = malloc(cap), *p = json;
    p += sprintf(p, "{\"big.list\":[");
    for (int i = 0; i < ELEMS; i++) {
        *p++ = '"';
        memset(p, 'a' + i % 26, ELEM_BYTES);
        p += ELEM_BYTES;
        *p++ = '"';
        if (i + 1 < ELEMS)
            *p++ = ',';
    }
    p += sprintf(p, "]}");
    int spans = quick ? 300 : 1000;
    int reset = reset_peak_rss();
    long before = status_kb("VmHWM");
    int ended = 0;
    for (int i = 0; i < spans; i++) {
        char name[48];
        snprintf(name, sizeof name, "arr-%d", i);
        hh_span s = 0;
        if (hh_span_start(t, name, HH_EVENT_TOOL, 0, NULL, json, &s, &E) != HH_OK)
            continue;
        IGNORE_STATUS(hh_span_end(s));
        ended++;
    }
    long growth_kb = status_kb("VmHWM") - before;
    hh_stats st = stats_now(t);
    figure("limit-array-bytes",
           "spans=%d span_array_bytes=%d max_queue_bytes=1048576 vmhwm_growth_mib=%.1f dropped=%llu queue_len=%llu "
           "hwm_reset=%d",
           ended, ELEMS * ELEM_BYTES * 2, growth_kb / 1024.0, (unsigned long long)st.spans_dropped,
           (unsigned long long)st.queue_len, reset);
    CHECK_EQ(ended, spans);
    /* At most a few spans fit in 1 MiB (plus one batch in flight): the rest are dropped. */
    CHECK_MSG(st.spans_dropped >= (unsigned long long)(spans - 32), "only %llu of %d spans dropped",
              (unsigned long long)st.spans_dropped, spans);
    CHECK_MSG(growth_kb < 8 * 1024, "peak RSS grew %.1f MiB with max_queue_bytes 1 MiB", growth_kb / 1024.0);
    rcv_clear_fault(&R);
    IGNORE_STATUS(hh_tracer_close(t, 500));
    free(json);
}

/* 1024 sets of one key with a 1 MiB value on one span: the span keeps one value (the last),
 * memory stays near one value's size, and the span is exported with it. */
static void overwrite_row(void) {
    if (!selected("limit-overwrite"))
        return;
    TEST_BEGIN("limits row limit-overwrite: setting a key again replaces its value");
    rcv_reset(&R);
    rcv_clear_fault(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":600000");
    if (!t)
        return;
    CHECK_OK(hh_tracer_flush(t, 5000));
    size_t len = 1024 * 1024;
    char *value = malloc(len + 1);
    memset(value, 'v', len);
    value[len] = 0;
    hh_span s = 0;
    CHECK_OK(hh_span_start(t, "overwrite", HH_EVENT_TOOL, 0, NULL, NULL, &s, &E));
    int reset = reset_peak_rss();
    long before = status_kb("VmHWM");
    int sets = 1024, ok = 0;
    for (int i = 0; i < sets; i++) {
        char mark[16];
        int n = snprintf(mark, sizeof mark, "%04d:", i);
        memcpy(value, mark, (size_t)n);
        ok += hh_span_set_str(s, HH_NS_METADATA, "big", value) == HH_OK;
    }
    long growth_kb = status_kb("VmHWM") - before;
    CHECK_OK(hh_span_end(s));
    hh_status fst = hh_tracer_flush(t, 20000);
    hh_stats st = stats_now(t);
    jval *spans = rcv_wait_spans(&R, 1, 10000);
    const jval *sp = span_by_name(spans, "overwrite");
    const char *got = sp ? span_attr_str(sp, "honeyhive_metadata.big") : NULL;
    figure("limit-overwrite", "sets=%d value_bytes=%zu vmhwm_growth_mib=%.1f flush=%s dropped=%llu exported=%llu "
           "hwm_reset=%d",
           ok, len, growth_kb / 1024.0, status_str(fst), (unsigned long long)st.spans_dropped,
           (unsigned long long)st.spans_exported, reset);
    CHECK_EQ(ok, sets);
    CHECK_MSG(growth_kb < 16 * 1024, "peak RSS grew %.1f MiB for one 1 MiB key set %d times", growth_kb / 1024.0,
              sets);
    CHECK_STATUS(fst, HH_OK);
    CHECK_EQ(st.spans_dropped, 0);
    CHECK_MSG(got != NULL && strlen(got) == len && strncmp(got, "1023:", 5) == 0,
              "exported value: %s (length %zu)", got ? "wrong" : "missing", got ? strlen(got) : 0);
    jfree(spans);
    IGNORE_STATUS(hh_tracer_close(t, 5000));
    free(value);
}

/* ---- pending session calls: bounded in bytes, freed at close ---- */

/* README "Limits": the bytes pending session calls of one tracer may hold. */
#define REST_BUDGET_MB 16

/* The server hangs on PUT /events: 10,000 enrich calls of 100 KB (1 GB in all) are made. The
 * calls pending at once hold at most the byte budget; the rest are dropped and counted; close
 * cancels what is still pending, and the memory comes back. */
static void rest_bytes_row(void) {
    if (!selected("limit-rest-bytes"))
        return;
    TEST_BEGIN("limits: pending session calls bounded in bytes, freed at close");
    int calls = quick ? 2000 : 10000;
    size_t blob = 100 * 1024;
    char *body = malloc(blob + 64);
    int k = snprintf(body, 64, "{\"metadata\":{\"blob\":\"");
    memset(body + k, 'b', blob);
    snprintf(body + k + blob, 64, "\"}}");
    rcv_reset(&R);
    rcv_clear_fault(&R);
    hh_tracer t = rel_tracer(NULL, ",\"api_timeout_ms\":60000");
    CHECK_OK(hh_tracer_flush(t, 5000)); /* the default session start */
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/events\"}");
    malloc_trim(0);
    long rss0 = status_kb("VmRSS");
    int peak_reset = reset_peak_rss();
    long hwm0 = status_kb("VmHWM");
    int ok = 0;
    for (int i = 0; i < calls; i++)
        ok += hh_session_enrich(t, NULL, body, NULL) == HH_OK;
    long hwm1 = status_kb("VmHWM");
    hh_stats during;
    memset(&during, 0, sizeof during);
    CHECK_OK(hh_tracer_stats(t, &during));
    hh_status closed = hh_tracer_close(t, 1000); /* times out: the calls hang */
    /* Cancelled calls are counted as they unwind, on the background thread. */
    hh_stats s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < 1000; i++) {
        CHECK_OK(hh_tracer_stats(t, &s));
        if (s.rest_calls == s.rest_failures + 1)
            break;
        sleep_ms(10);
    }
    malloc_trim(0);
    long rss1 = status_kb("VmRSS");
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    size_t delivered = count_requests_path(reqs, "POST", "/session/start", 200) +
                       count_requests_path(reqs, "PUT", "/events", 200);
    jfree(reqs);
    long growth_mb = (hwm1 - hwm0) / 1024, after_mb = (rss1 - rss0) / 1024;
    figure("limit-rest-bytes",
           "calls=%d body_kb=100 budget_mb=%d accepted=%d peak_growth_mb=%ld rss_after_close_mb=%ld close=%s "
           "rest_calls=%llu delivered=%zu rest_failures=%llu failures_before_close=%llu peak_reset=%d",
           calls, REST_BUDGET_MB, ok, growth_mb, after_mb, status_str(closed), (unsigned long long)s.rest_calls,
           delivered, (unsigned long long)s.rest_failures, (unsigned long long)during.rest_failures, peak_reset);
    CHECK_EQ(ok, calls);
    CHECK_STATUS(closed, HH_ERR_TIMEOUT);
    /* Past the budget, calls were dropped (and counted) while the server hung. */
    CHECK(during.rest_failures > 0);
    CHECK_MSG(growth_mb < 4 * REST_BUDGET_MB, "peak RSS grew by %ld MiB (budget %d MiB)", growth_mb, REST_BUDGET_MB);
    CHECK_MSG(after_mb < REST_BUDGET_MB, "RSS %ld MiB above the start after close", after_mb);
    CHECK_EQ(s.rest_calls, (unsigned long long)calls + 1);
    CHECK_EQ(s.rest_calls, delivered + s.rest_failures);
    rcv_clear_fault(&R);
    free(body);
}

void group_limits(void) {
    rest_bytes_row(); /* its own row name: selectable alone */
    if (!selected("limit"))
        return;
    hh_tracer t = 0;
    CHECK_OK(hh_tracer_new("{\"test_mode\":true}", &t, &E));
    deep_json(t);
    json_size(t);
    header_limits(t);
    CHECK_OK(hh_tracer_close(t, 1000));
    wire_limits();
    array_bytes_row();
    overwrite_row();
}
