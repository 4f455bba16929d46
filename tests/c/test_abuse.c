/* Abuse of the C ABI: NULLs, invalid UTF-8 and JSON, oversized and deeply nested input,
 * stale/forged/wrong-kind handles, ended spans, closed tracers, small buffers, status names
 * and the hh_error detail. Every call must return a status; none may crash. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define TRACES_PATH "/opentelemetry/v1/traces"

static const char *BAD_UTF8[] = {
    "\xff\xfe",         /* never valid */
    "ab\xc3(",          /* truncated two-byte sequence */
    "\xc0\xaf",         /* overlong '/' */
    "\xed\xa0\x80",     /* UTF-16 surrogate */
    "{\"a\":\"\xff\"}", /* valid JSON shape, invalid bytes inside */
};
#define N_BAD (sizeof BAD_UTF8 / sizeof BAD_UTF8[0])

static int valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : -1;
        if (n < 0)
            return 0;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}

/* An hh_error is filled: same status, non-empty NUL-terminated message, valid UTF-8. */
static void check_err_filled(const hh_error *err, hh_status expected, const char *context) {
    CHECK_MSG(err->status == expected, "%s: err.status %s", context, hh_status_name((int32_t)err->status));
    const char *nul = memchr(err->message, 0, HH_ERROR_MESSAGE_LEN);
    CHECK_MSG(nul != NULL, "%s: message not NUL-terminated", context);
    CHECK_MSG(nul != NULL && nul != err->message, "%s: empty message", context);
    CHECK_MSG(nul != NULL && valid_utf8(err->message), "%s: message not UTF-8", context);
}

static void prefill(hh_error *err) {
    memset(err, 0x7f, sizeof *err);
    err->status = (hh_status)99;
}

/* {"metadata": {"a": {"a": ... 1 ... }}} with `depth` objects in total. */
static char *nested_object(size_t depth) {
    size_t cap = 16 + depth * 6 + depth;
    char *s = malloc(cap);
    size_t n = 0;
    n += (size_t)sprintf(s + n, "{\"metadata\":");
    for (size_t i = 1; i < depth; i++)
        n += (size_t)sprintf(s + n, "{\"a\":");
    s[n++] = '1';
    for (size_t i = 0; i < depth; i++)
        s[n++] = '}';
    s[n] = 0;
    return s;
}

static char *nested_arrays(size_t depth) {
    char *s = malloc(depth * 2 + 1);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[depth * 2] = 0;
    return s;
}

/* {"metadata":{"k0":0,...}} with n keys. */
static char *many_keys(int n) {
    char *s = malloc((size_t)n * 24 + 32);
    size_t len = (size_t)sprintf(s, "{\"metadata\":{");
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, "%s\"k%d\":%d", i ? "," : "", i, i);
    strcpy(s + len, "}}");
    return s;
}

/* ---------------------------------------------------------------------------------------- */

static void null_arguments(void) {
    TEST_BEGIN("NULL for every pointer argument");
    hh_tracer t = new_tracer(",\"test_mode\":true");
    hh_span s = start_span(t, "null-args", HH_EVENT_TOOL, 0, NULL);
    hh_error err;
    char buf[HH_SESSION_ID_BUF_LEN];
    char tp[HH_TRACEPARENT_BUF_LEN], bag[512];
    size_t len = 0;

    prefill(&err);
    CHECK_STATUS(hh_tracer_new(config_json(""), NULL, &err), HH_ERR_NULL_ARGUMENT);
    check_err_filled(&err, HH_ERR_NULL_ARGUMENT, "hh_tracer_new(out_tracer=NULL)");
    /* config NULL is allowed (environment only): with a scrubbed environment there is no key. */
    hh_tracer t2 = 777;
    prefill(&err);
    CHECK_STATUS(hh_tracer_new(NULL, &t2, &err), HH_ERR_INVALID_CONFIG);
    check_err_filled(&err, HH_ERR_INVALID_CONFIG, "hh_tracer_new(NULL)");
    CHECK_MSG(strstr(err.message, "api_key") != NULL, "message \"%s\" should name api_key", err.message);
    CHECK_EQ(t2, 777); /* out-param untouched on failure */
    CHECK_STATUS(hh_tracer_new("", &t2, NULL), HH_ERR_INVALID_CONFIG);

    CHECK_STATUS(hh_tracer_session_id(t, NULL, sizeof buf, &len), HH_ERR_NULL_ARGUMENT);
    CHECK_OK(hh_tracer_session_id(t, buf, sizeof buf, NULL));
    CHECK_STATUS(hh_tracer_stats(t, NULL), HH_ERR_NULL_ARGUMENT);
    hh_span p = 555;
    prefill(&err);
    CHECK_STATUS(hh_tracer_extract(t, NULL, NULL, &p, &err), HH_ERR_NULL_ARGUMENT);
    check_err_filled(&err, HH_ERR_NULL_ARGUMENT, "hh_tracer_extract(traceparent=NULL)");
    CHECK_STATUS(hh_tracer_extract(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", NULL, NULL, &err),
                 HH_ERR_NULL_ARGUMENT);
    CHECK_EQ(p, 555);

    prefill(&err);
    CHECK_STATUS(hh_session_create(t, NULL, NULL, HH_SESSION_ID_BUF_LEN, &err), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_session_enrich(t, NULL, NULL, &err), HH_ERR_NULL_ARGUMENT);
    check_err_filled(&err, HH_ERR_NULL_ARGUMENT, "hh_session_enrich(json=NULL)");

    hh_span out = 999;
    CHECK_STATUS(hh_span_start(t, NULL, HH_EVENT_TOOL, 0, NULL, NULL, &out, &err), HH_ERR_NULL_ARGUMENT);
    CHECK_EQ(out, 999);
    CHECK_STATUS(hh_span_start(t, "x", HH_EVENT_TOOL, 0, NULL, NULL, NULL, &err), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_enrich(s, NULL, &err), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_set_str(s, HH_NS_METADATA, NULL, "v"), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_set_str(s, HH_NS_METADATA, "k", NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_set_i64(s, HH_NS_METADATA, NULL, 1), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_set_f64(s, HH_NS_METADATA, NULL, 1.0), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_set_bool(s, HH_NS_METADATA, NULL, true), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_record_error(s, "T", NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_record_error(s, NULL, NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_inject(s, NULL, sizeof tp, bag, sizeof bag, &len), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_inject(s, tp, sizeof tp, NULL, sizeof bag, &len), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_inject(s, NULL, 0, NULL, 0, NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_span_session_id(s, NULL, sizeof buf, NULL), HH_ERR_NULL_ARGUMENT);
    hh_quiet_stderr_begin();
    CHECK_STATUS(hh_test_panic(NULL), HH_ERR_PANIC);
    hh_quiet_stderr_end();
    /* err NULL on failing calls. */
    CHECK_STATUS(hh_tracer_new("{", &t2, NULL), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_span_enrich(s, "{", NULL), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_session_create(t, "{", buf, sizeof buf, NULL), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_span_start(t, "", HH_EVENT_TOOL, 0, NULL, NULL, &out, NULL), HH_ERR_INVALID_ARGUMENT);
    /* Everything still works after all that. */
    CHECK_OK(hh_span_set_str(s, HH_NS_METADATA, "k", "v"));
    CHECK_OK(hh_span_end(s));
    close_tracer(t);
}

static void invalid_utf8(void) {
    TEST_BEGIN("invalid UTF-8 in every string argument");
    hh_tracer t = new_tracer(",\"test_mode\":true");
    hh_span s = start_span(t, "utf8-target", HH_EVENT_TOOL, 0, NULL);
    hh_error err;
    char buf[HH_SESSION_ID_BUF_LEN];
    for (size_t i = 0; i < N_BAD; i++) {
        const char *bad = BAD_UTF8[i];
        hh_tracer t2 = 0;
        hh_span out = 0;
        prefill(&err);
        CHECK_STATUS(hh_tracer_new(bad, &t2, &err), HH_ERR_INVALID_UTF8);
        check_err_filled(&err, HH_ERR_INVALID_UTF8, "hh_tracer_new");
        CHECK_STATUS(hh_span_start(t, bad, HH_EVENT_TOOL, 0, NULL, NULL, &out, &err), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_start(t, "n", HH_EVENT_TOOL, 0, bad, NULL, &out, &err), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_start(t, "n", HH_EVENT_TOOL, 0, NULL, bad, &out, &err), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_enrich(s, bad, &err), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_set_str(s, HH_NS_METADATA, bad, "v"), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_set_str(s, HH_NS_METADATA, "k", bad), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_set_i64(s, HH_NS_METRICS, bad, 1), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_set_f64(s, HH_NS_METRICS, bad, 1.5), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_set_bool(s, HH_NS_METRICS, bad, false), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_record_error(s, bad, "m"), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_span_record_error(s, "T", bad), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_session_create(t, bad, buf, sizeof buf, &err), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_session_enrich(t, bad, "{\"metadata\":{\"a\":1}}", &err), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_session_enrich(t, NULL, bad, &err), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_tracer_extract(t, bad, NULL, &out, &err), HH_ERR_INVALID_UTF8);
        CHECK_STATUS(hh_tracer_extract(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", bad, &out, &err),
                     HH_ERR_INVALID_UTF8);
    }
    /* Nothing was applied: the span has no error status. */
    CHECK_OK(hh_span_end(s));
    hh_stats st;
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.spans_started, 1);
    close_tracer(t);
}

static void invalid_json(void) {
    TEST_BEGIN("invalid JSON: clear status, nothing partially applied");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_error err;
    hh_tracer t2 = 0;
    static const char *bad_json[] = {"{", "nope", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":tru}", "{\"a\":\"unterminated}"};
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        prefill(&err);
        CHECK_STATUS(hh_tracer_new(bad_json[i], &t2, &err), HH_ERR_INVALID_JSON);
        check_err_filled(&err, HH_ERR_INVALID_JSON, bad_json[i]);
    }
    CHECK_STATUS(hh_tracer_new("[1]", &t2, &err), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_tracer_new("{\"api_key\":1}", &t2, &err), HH_ERR_INVALID_CONFIG);
    prefill(&err);
    CHECK_STATUS(hh_tracer_new("{\"api_key\":\"k\",\"bogus_key\":1}", &t2, &err), HH_ERR_INVALID_CONFIG);
    CHECK_MSG(strstr(err.message, "bogus_key") != NULL, "message \"%s\" should name the field", err.message);
    prefill(&err);
    CHECK_STATUS(hh_tracer_new("{\"api_key\":\"k\",\"otlp_protocol\":\"grpc\"}", &t2, &err), HH_ERR_INVALID_CONFIG);
    CHECK_MSG(strstr(err.message, "otlp_protocol") != NULL, "message \"%s\" should name the field", err.message);

    hh_stats before, after;
    CHECK_OK(hh_tracer_stats(t, &before));
    hh_span out = 0;
    CHECK_STATUS(hh_span_start(t, "never", HH_EVENT_TOOL, 0, NULL, "{", &out, &err), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_span_start(t, "never", HH_EVENT_TOOL, 0, NULL, "[1,2]", &out, &err), HH_ERR_INVALID_JSON);
    CHECK_OK(hh_tracer_stats(t, &after));
    CHECK_EQ(after.spans_started, before.spans_started);

    char sid[HH_SESSION_ID_BUF_LEN];
    CHECK_STATUS(hh_session_create(t, "{", sid, sizeof sid, &err), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_session_create(t, "{\"bogus\":1}", sid, sizeof sid, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_session_create(t, "{\"session_id\":\"not-a-uuid\"}", sid, sizeof sid, &err),
                 HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_session_enrich(t, NULL, "{", &err), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_session_enrich(t, NULL, "[]", &err), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_session_enrich(t, "not-a-uuid", "{\"metadata\":{\"a\":1}}", &err), HH_ERR_INVALID_ARGUMENT);

    hh_span s = start_span(t, "partial", HH_EVENT_TOOL, 0, NULL);
    prefill(&err);
    CHECK_STATUS(hh_span_enrich(s, "{\"metadata\":{\"bad1\":1},\"event_type\":\"bogus\"}", &err),
                 HH_ERR_INVALID_ARGUMENT);
    check_err_filled(&err, HH_ERR_INVALID_ARGUMENT, "enrich event_type bogus");
    CHECK_STATUS(hh_span_enrich(s, "{\"metadata\":{\"bad2\":1}", &err), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_span_enrich(s, "[{\"metadata\":{\"bad3\":1}}]", &err), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_span_enrich(s, "{\"inputs\":{\"bad4\":1},\"event_name\":5}", &err), HH_ERR_INVALID_ARGUMENT);
    char *many = many_keys(HH_MAX_ATTRIBUTES_PER_CALL + 1);
    CHECK_STATUS(hh_span_enrich(s, many, &err), HH_ERR_LIMIT_EXCEEDED);
    free(many);
    char *deep = nested_object(HH_MAX_JSON_DEPTH + 1);
    CHECK_STATUS(hh_span_enrich(s, deep, &err), HH_ERR_LIMIT_EXCEEDED);
    free(deep);
    CHECK_OK(hh_span_enrich(s, "{\"metadata\":{\"good\":1}}", &err));
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));

    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    CHECK_EQ(requests_count(reqs, "PUT", "/events"), 0);
    jfree(reqs);
    jval *spans = rcv_wait_spans(&R, 1, 10000);
    const jval *sp = span_by_name(spans, "partial");
    CHECK(sp != NULL);
    CHECK(jint_is(span_attr(sp, "honeyhive_metadata.good"), 1));
    size_t enrichment_attrs = 0;
    const jval *attrs = jget(sp, "attributes");
    for (size_t i = 0; i < jlen(attrs); i++) {
        const char *k = attrs->keys[i];
        if (strncmp(k, "honeyhive_metadata.", 19) == 0 || strncmp(k, "honeyhive_inputs.", 17) == 0)
            enrichment_attrs++;
    }
    CHECK_EQ(enrichment_attrs, 1);
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_event_type"), "tool");
    CHECK(span_attr(sp, "honeyhive_event_name") == NULL);
    CHECK(span_by_name(spans, "never") == NULL);
    jfree(spans);
    close_tracer(t);
}

static void limits(void) {
    TEST_BEGIN("limits: nesting depth, size, attribute count");
    hh_tracer t = new_tracer(",\"test_mode\":true");
    hh_span s = start_span(t, "limits", HH_EVENT_TOOL, 0, NULL);
    hh_error err;
    char sid[HH_SESSION_ID_BUF_LEN];
    hh_span out = 0;
    hh_tracer t2 = 0;

    char *ok64 = nested_object(HH_MAX_JSON_DEPTH);
    CHECK_OK(hh_span_enrich(s, ok64, &err));
    free(ok64);
    size_t depths[] = {HH_MAX_JSON_DEPTH + 1, 200, 100000};
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        char *deep = nested_object(depths[i]);
        char *arrays = nested_arrays(depths[i]);
        prefill(&err);
        CHECK_STATUS(hh_span_enrich(s, deep, &err), HH_ERR_LIMIT_EXCEEDED);
        check_err_filled(&err, HH_ERR_LIMIT_EXCEEDED, "deep enrich");
        CHECK_STATUS(hh_span_enrich(s, arrays, &err), HH_ERR_LIMIT_EXCEEDED);
        CHECK_STATUS(hh_tracer_new(deep, &t2, &err), HH_ERR_LIMIT_EXCEEDED);
        CHECK_STATUS(hh_span_start(t, "deep", HH_EVENT_TOOL, 0, NULL, deep, &out, &err), HH_ERR_LIMIT_EXCEEDED);
        CHECK_STATUS(hh_session_create(t, deep, sid, sizeof sid, &err), HH_ERR_LIMIT_EXCEEDED);
        CHECK_STATUS(hh_session_enrich(t, NULL, deep, &err), HH_ERR_LIMIT_EXCEEDED);
        free(deep);
        free(arrays);
    }
    /* Over HH_MAX_JSON_BYTES. */
    size_t big = HH_MAX_JSON_BYTES + 16;
    char *huge = malloc(big + 1);
    size_t n = (size_t)sprintf(huge, "{\"metadata\":{\"blob\":\"");
    memset(huge + n, 'x', big - n - 4);
    strcpy(huge + big - 4, "\"}}");
    CHECK_STATUS(hh_span_enrich(s, huge, &err), HH_ERR_LIMIT_EXCEEDED);
    CHECK_STATUS(hh_session_enrich(t, NULL, huge, &err), HH_ERR_LIMIT_EXCEEDED);
    free(huge);
    /* Exactly HH_MAX_ATTRIBUTES_PER_CALL attributes are fine on a fresh span, one more is not;
     * on a span that already holds some, the per-span limit refuses the call whole. */
    char *many = many_keys(HH_MAX_ATTRIBUTES_PER_CALL);
    hh_span fresh = start_span(t, "fresh", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_enrich(fresh, many, &err));
    CHECK_STATUS(hh_span_set_str(fresh, HH_NS_METADATA, "one_more", "x"), HH_ERR_LIMIT_EXCEEDED);
    CHECK_OK(hh_span_record_error(fresh, "Full", "errors always fit"));
    CHECK_OK(hh_span_end(fresh));
    free(many);
    many = many_keys(HH_MAX_ATTRIBUTES_PER_CALL + 1);
    char *inner = strdup(many + strlen("{\"metadata\":")); /* the inner object */
    inner[strlen(inner) - 1] = 0;
    CHECK_STATUS(hh_span_start(t, "many", HH_EVENT_TOOL, 0, NULL, inner, &out, &err), HH_ERR_LIMIT_EXCEEDED);
    free(inner);
    free(many);
    /* Keys over HH_MAX_KEY_BYTES are rejected. */
    char key[HH_MAX_KEY_BYTES + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    CHECK_STATUS(hh_span_set_str(s, HH_NS_NONE, key, "v"), HH_ERR_INVALID_ARGUMENT);
    CHECK_OK(hh_span_end(s));
    close_tracer(t);
}

static void misc_invalid_arguments(void) {
    TEST_BEGIN("invalid arguments: names, event types, session ids");
    hh_tracer t = new_tracer(",\"test_mode\":true");
    hh_error err;
    hh_span out = 0;
    CHECK_STATUS(hh_span_start(t, "", HH_EVENT_TOOL, 0, NULL, NULL, &out, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_start(t, "x", 4, 0, NULL, NULL, &out, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_start(t, "x", 0xFFFFFFFFu, 0, NULL, NULL, &out, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_start(t, "x", HH_EVENT_TOOL, 0, "not-a-uuid", NULL, &out, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_span_start(t, "x", HH_EVENT_TOOL, 0, NULL, "{\"\":1}", &out, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_tracer_new("{\"api_key\":\"k\",\"session_id\":\"nope\"}", &out, &err), HH_ERR_INVALID_CONFIG);
    CHECK_STATUS(hh_tracer_new("{\"exporter\":\"file\"}", &out, &err), HH_ERR_INVALID_CONFIG);
    CHECK_STATUS(hh_tracer_new("{\"api_key\":\"k\",\"server_url\":\"ftp://x\"}", &out, &err), HH_ERR_INVALID_CONFIG);
    close_tracer(t);
}

static void stale_handles(void) {
    TEST_BEGIN("stale, forged and wrong-kind handles");
    hh_tracer t = new_tracer(",\"test_mode\":true");
    hh_span live = start_span(t, "live", HH_EVENT_TOOL, 0, NULL);
    hh_error err;
    char buf[HH_SESSION_ID_BUF_LEN], tp[HH_TRACEPARENT_BUF_LEN], bag[512];
    hh_stats st;
    hh_span out = 0;

    uint64_t forged[] = {
        0, 1, 42, 0xdeadbeefULL, UINT64_MAX,
        (1ULL << 56) | 12345,       /* tracer kind, unknown slot */
        (2ULL << 56) | 0x0FFFFFFF,  /* span kind, unknown slot */
        (3ULL << 56) | 1,           /* unknown kind */
        live ^ (1ULL << 40),        /* right slot, wrong generation */
        t ^ (1ULL << 40),
        t,                          /* a tracer passed as a span */
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        hh_span h = forged[i];
        CHECK_STATUS(hh_span_enrich(h, "{\"metadata\":{\"a\":1}}", &err), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_span_set_str(h, HH_NS_METADATA, "k", "v"), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_span_set_i64(h, HH_NS_METADATA, "k", 1), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_span_set_f64(h, HH_NS_METADATA, "k", 1.0), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_span_set_bool(h, HH_NS_METADATA, "k", true), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_span_record_error(h, "T", "m"), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_span_inject(h, tp, sizeof tp, bag, sizeof bag, NULL), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_span_session_id(h, buf, sizeof buf, NULL), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_span_end(h), HH_ERR_INVALID_HANDLE);
        if (h != 0) /* parent 0 means "a root span" */
            CHECK_STATUS(hh_span_start(t, "child-of-forged", HH_EVENT_TOOL, h, NULL, NULL, &out, &err),
                         HH_ERR_INVALID_HANDLE);
    }
    uint64_t forged_tracers[] = {
        0, 1, 42, 0xdeadbeefULL, UINT64_MAX, (1ULL << 56) | 12345, t ^ (1ULL << 40),
        live, /* a span passed as a tracer */
    };
    for (size_t i = 0; i < sizeof forged_tracers / sizeof forged_tracers[0]; i++) {
        hh_tracer h = forged_tracers[i];
        CHECK_STATUS(hh_tracer_session_id(h, buf, sizeof buf, NULL), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_tracer_flush(h, 100), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_tracer_close(h, 100), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_tracer_stats(h, &st), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_tracer_extract(h, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", NULL, &out, &err),
                     HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_session_create(h, NULL, buf, sizeof buf, &err), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_session_enrich(h, NULL, "{\"metadata\":{\"a\":1}}", &err), HH_ERR_INVALID_HANDLE);
        CHECK_STATUS(hh_span_start(h, "x", HH_EVENT_TOOL, 0, NULL, NULL, &out, &err), HH_ERR_INVALID_HANDLE);
    }
    /* The live span is unharmed. */
    CHECK_OK(hh_span_set_str(live, HH_NS_METADATA, "still", "alive"));
    CHECK_OK(hh_span_end(live));

    /* A span handle whose slot has been reused is stale. */
    hh_span first = start_span(t, "first", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(first));
    int churn = 16 * 300;
    int failures = 0;
    for (int i = 0; i < churn; i++) {
        hh_span x = 0;
        if (hh_span_start(t, "churn", HH_EVENT_TOOL, 0, NULL, NULL, &x, NULL) != HH_OK || hh_span_end(x) != HH_OK)
            failures++;
    }
    CHECK_EQ(failures, 0);
    CHECK_STATUS(hh_span_end(first), HH_ERR_INVALID_HANDLE);
    CHECK_STATUS(hh_span_inject(first, tp, sizeof tp, bag, sizeof bag, NULL), HH_ERR_INVALID_HANDLE);
    CHECK_STATUS(hh_span_start(t, "child-of-stale", HH_EVENT_TOOL, first, NULL, NULL, &out, &err),
                 HH_ERR_INVALID_HANDLE);
    close_tracer(t);
}

static void kept_handles(void) {
    TEST_BEGIN("hh_span_end_ex(HH_END_KEEP_HANDLE) pins a handle until hh_span_release");
    hh_tracer t = new_tracer(",\"test_mode\":true");
    hh_error err;
    char tp[HH_TRACEPARENT_BUF_LEN], bag[512], sid[HH_SESSION_ID_BUF_LEN];
    hh_span kept = start_span(t, "kept", HH_EVENT_TOOL, 0, NULL), out = 0;
    CHECK_STATUS(hh_span_end_ex(kept, 0x80), HH_ERR_INVALID_ARGUMENT);
    CHECK_OK(hh_span_end_ex(kept, HH_END_KEEP_HANDLE));
    CHECK_OK(hh_span_end_ex(kept, HH_END_KEEP_HANDLE)); /* idempotent */
    CHECK_STATUS(hh_span_enrich(kept, "{\"metadata\":{\"a\":1}}", &err), HH_ERR_SPAN_ENDED);
    int failures = 0;
    for (int i = 0; i < 16 * 300; i++) { /* enough churn to reuse every unpinned slot */
        hh_span x = 0;
        if (hh_span_start(t, "churn", HH_EVENT_TOOL, 0, NULL, NULL, &x, NULL) != HH_OK || hh_span_end(x) != HH_OK)
            failures++;
    }
    CHECK_EQ(failures, 0);
    CHECK_OK(hh_span_inject(kept, tp, sizeof tp, bag, sizeof bag, NULL));
    CHECK_OK(hh_span_session_id(kept, sid, sizeof sid, NULL));
    CHECK_OK(hh_span_start(t, "child-of-kept", HH_EVENT_TOOL, kept, NULL, NULL, &out, &err));
    CHECK_OK(hh_span_end(out));
    CHECK_OK(hh_span_release(kept));
    CHECK_OK(hh_span_release(kept)); /* idempotent while the slot is not reused */
    /* An open span is ended by release. */
    hh_span open_span = start_span(t, "released-open", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_release(open_span));
    CHECK_STATUS(hh_span_enrich(open_span, "{}", &err), HH_ERR_SPAN_ENDED);
    CHECK_STATUS(hh_span_release(0), HH_ERR_INVALID_HANDLE);
    /* hh_span_release_many: every valid handle released (open ones ended), zeros skipped, the
     * first failure reported. */
    hh_span batch[5] = {start_span(t, "batch-a", HH_EVENT_TOOL, 0, NULL), 0, start_span(t, "batch-b", HH_EVENT_TOOL, 0, NULL),
                        kept ^ 0x00ffffffffffull /* forged */, 0};
    CHECK_OK(hh_span_end_ex(batch[2], HH_END_KEEP_HANDLE));
    CHECK_STATUS(hh_span_release_many(batch, 5), HH_ERR_INVALID_HANDLE);
    CHECK_STATUS(hh_span_enrich(batch[0], "{}", &err), HH_ERR_SPAN_ENDED);
    CHECK_STATUS(hh_span_enrich(batch[2], "{}", &err), HH_ERR_SPAN_ENDED);
    CHECK_OK(hh_span_release_many(batch, 3)); /* idempotent while the slots are not reused */
    /* Released means retired: after enough churn their slots are reused, open ones included. */
    failures = 0;
    for (int i = 0; i < 16 * 300; i++) {
        hh_span x = 0;
        if (hh_span_start(t, "churn", HH_EVENT_TOOL, 0, NULL, NULL, &x, NULL) != HH_OK || hh_span_end(x) != HH_OK)
            failures++;
    }
    CHECK_EQ(failures, 0);
    CHECK_STATUS(hh_span_inject(kept, tp, sizeof tp, bag, sizeof bag, NULL), HH_ERR_INVALID_HANDLE);
    CHECK_STATUS(hh_span_inject(open_span, tp, sizeof tp, bag, sizeof bag, NULL), HH_ERR_INVALID_HANDLE);
    CHECK_STATUS(hh_span_inject(batch[0], tp, sizeof tp, bag, sizeof bag, NULL), HH_ERR_INVALID_HANDLE);
    CHECK_STATUS(hh_span_inject(batch[2], tp, sizeof tp, bag, sizeof bag, NULL), HH_ERR_INVALID_HANDLE);
    CHECK_OK(hh_span_release_many(NULL, 0));
    CHECK_STATUS(hh_span_release_many(NULL, 1), HH_ERR_NULL_ARGUMENT);
    hh_stats st;
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.spans_ended, st.spans_started);
    close_tracer(t);
}

static void ended_spans_and_closed_tracers(void) {
    TEST_BEGIN("ended spans, closed tracers");
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_error err;
    char buf[HH_SESSION_ID_BUF_LEN], tp[HH_TRACEPARENT_BUF_LEN], bag[512];
    hh_span out = 0;

    hh_span s = start_span(t, "ended-once", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_set_str(s, HH_NS_METADATA, "before", "end"));
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_span_end(s)); /* idempotent */
    CHECK_OK(hh_span_end(s));
    prefill(&err);
    CHECK_STATUS(hh_span_enrich(s, "{\"metadata\":{\"after\":1}}", &err), HH_ERR_SPAN_ENDED);
    check_err_filled(&err, HH_ERR_SPAN_ENDED, "enrich after end");
    CHECK_STATUS(hh_span_set_str(s, HH_NS_METADATA, "after", "x"), HH_ERR_SPAN_ENDED);
    CHECK_STATUS(hh_span_set_i64(s, HH_NS_METADATA, "after", 1), HH_ERR_SPAN_ENDED);
    CHECK_STATUS(hh_span_set_f64(s, HH_NS_METADATA, "after", 1.0), HH_ERR_SPAN_ENDED);
    CHECK_STATUS(hh_span_set_bool(s, HH_NS_METADATA, "after", true), HH_ERR_SPAN_ENDED);
    CHECK_STATUS(hh_span_record_error(s, "T", "after"), HH_ERR_SPAN_ENDED);
    CHECK_OK(hh_span_inject(s, tp, sizeof tp, bag, sizeof bag, NULL));
    CHECK_OK(hh_span_session_id(s, buf, sizeof buf, NULL));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 1, 10000);
    CHECK_EQ(spans_named(spans, "ended-once"), 1);
    const jval *sp = span_by_name(spans, "ended-once");
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_metadata.before"), "end");
    CHECK(span_attr(sp, "honeyhive_metadata.after") == NULL);
    CHECK_STR_EQ(jgets(sp, "status_code"), "STATUS_CODE_UNSET");
    jfree(spans);

    /* Close with a span still open. */
    hh_span open_span = start_span(t, "open-at-close", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_tracer_close(t, (uint32_t)scaled_ms(10000)));
    CHECK_OK(hh_tracer_close(t, (uint32_t)scaled_ms(10000))); /* idempotent */
    CHECK_STATUS(hh_tracer_flush(t, 100), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_start(t, "after-close", HH_EVENT_TOOL, 0, NULL, NULL, &out, &err), HH_ERR_TRACER_CLOSED);
    check_err_filled(&err, HH_ERR_TRACER_CLOSED, "span_start after close");
    CHECK_STATUS(hh_session_create(t, NULL, buf, sizeof buf, &err), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_session_enrich(t, NULL, "{\"metadata\":{\"a\":1}}", &err), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_tracer_session_id(t, buf, sizeof buf, NULL), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_tracer_extract(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", NULL, &out, &err),
                 HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_enrich(open_span, "{\"metadata\":{\"a\":1}}", &err), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_set_str(open_span, HH_NS_METADATA, "k", "v"), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_set_i64(open_span, HH_NS_METADATA, "k", 1), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_record_error(open_span, "T", "m"), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_end(open_span), HH_ERR_TRACER_CLOSED);
    CHECK_OK(hh_span_end(open_span)); /* already ended now */
    hh_stats st;
    memset(&st, 0, sizeof st);
    CHECK_OK(hh_tracer_stats(t, &st)); /* final counts */
    CHECK_EQ(st.spans_started, 2);
    CHECK_EQ(st.spans_exported, 1);
    CHECK_EQ(st.spans_dropped, 1);
    /* A span of a closed tracer can still parent a span of an open one (ids only). */
    hh_tracer t2 = new_tracer(",\"test_mode\":true");
    hh_span child = 0;
    CHECK_OK(hh_span_start(t2, "child-of-closed", HH_EVENT_TOOL, s, NULL, NULL, &child, &err));
    CHECK_OK(hh_span_end(child));
    close_tracer(t2);
    /* Nothing more was exported after close. */
    jval *after = rcv_get_json(&R, "/__hh/spans");
    CHECK_EQ(spans_named(after, "open-at-close"), 0);
    CHECK_EQ(spans_named(after, "after-close"), 0);
    jfree(after);
}

static void small_buffers(void) {
    TEST_BEGIN("buffers too small");
    hh_tracer t = new_tracer(",\"test_mode\":true");
    hh_span s = start_span(t, "buffers", HH_EVENT_TOOL, 0, NULL);
    char buf[64];
    size_t len;
    size_t sizes[] = {0, 1, 10, 36};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(buf, 'Z', sizeof buf);
        len = 0;
        CHECK_STATUS(hh_tracer_session_id(t, buf, sizes[i], &len), HH_ERR_BUFFER_TOO_SMALL);
        CHECK_EQ(len, 36);
        CHECK_MSG(buf[0] == 'Z' && buf[sizes[i] ? sizes[i] - 1 : 0] == 'Z', "buffer written on failure (size %zu)",
                  sizes[i]);
        len = 0;
        memset(buf, 'Z', sizeof buf);
        CHECK_STATUS(hh_span_session_id(s, buf, sizes[i], &len), HH_ERR_BUFFER_TOO_SMALL);
        CHECK_EQ(len, 36);
        CHECK(buf[0] == 'Z');
    }
    CHECK_STATUS(hh_tracer_session_id(t, buf, 36, NULL), HH_ERR_BUFFER_TOO_SMALL);
    CHECK_OK(hh_tracer_session_id(t, buf, 37, &len));
    CHECK_EQ(len, 36);
    CHECK_EQ(strlen(buf), 36);

    /* inject: the baggage length is reported so the caller can retry. */
    char tp[HH_TRACEPARENT_BUF_LEN], small_bag[8], big_bag[512];
    size_t bag_len = 0;
    memset(tp, 'Z', sizeof tp);
    memset(small_bag, 'Z', sizeof small_bag);
    CHECK_STATUS(hh_span_inject(s, tp, sizeof tp, small_bag, sizeof small_bag, &bag_len), HH_ERR_BUFFER_TOO_SMALL);
    CHECK(bag_len > sizeof small_bag);
    CHECK(small_bag[0] == 'Z' && tp[0] == 'Z');
    char *exact = malloc(bag_len + 1);
    size_t bag_len2 = 0;
    CHECK_OK(hh_span_inject(s, tp, sizeof tp, exact, bag_len + 1, &bag_len2));
    CHECK_EQ(bag_len2, bag_len);
    CHECK_EQ(strlen(exact), bag_len);
    CHECK_STATUS(hh_span_inject(s, tp, sizeof tp, exact, bag_len, &bag_len2), HH_ERR_BUFFER_TOO_SMALL);
    free(exact);
    /* Traceparent buffer one byte short; outputs are written only on success (design 3.3). */
    memset(big_bag, 'Z', sizeof big_bag);
    memset(tp, 'Z', sizeof tp);
    CHECK_STATUS(hh_span_inject(s, tp, HH_TRACEPARENT_BUF_LEN - 1, big_bag, sizeof big_bag, NULL),
                 HH_ERR_BUFFER_TOO_SMALL);
    CHECK_MSG(tp[0] == 'Z', "traceparent written on failure");
    CHECK_MSG(big_bag[0] == 'Z', "baggage buffer written although hh_span_inject failed");

    /* hh_session_create: too small a buffer fails before any session is made. */
    hh_stats before, after;
    CHECK_OK(hh_tracer_stats(t, &before));
    hh_error err;
    prefill(&err);
    memset(buf, 'Z', sizeof buf);
    CHECK_STATUS(hh_session_create(t, NULL, buf, HH_SESSION_ID_BUF_LEN - 1, &err), HH_ERR_BUFFER_TOO_SMALL);
    check_err_filled(&err, HH_ERR_BUFFER_TOO_SMALL, "session_create small buffer");
    CHECK(buf[0] == 'Z');
    CHECK_OK(hh_tracer_stats(t, &after));
    CHECK_EQ(after.rest_calls, before.rest_calls);
    CHECK_OK(hh_span_end(s));
    close_tracer(t);
}

static void status_names(void) {
    TEST_BEGIN("hh_status_name, hh_version");
    static const char *names[] = {
        "HH_OK", "HH_ERR_NULL_ARGUMENT", "HH_ERR_INVALID_UTF8", "HH_ERR_INVALID_JSON", "HH_ERR_INVALID_CONFIG",
        "HH_ERR_INVALID_ARGUMENT", "HH_ERR_INVALID_HANDLE", "HH_ERR_SPAN_ENDED", "HH_ERR_TRACER_CLOSED",
        "HH_ERR_LIMIT_EXCEEDED", "HH_ERR_BUFFER_TOO_SMALL", "HH_ERR_TIMEOUT", "HH_ERR_EXPORT_FAILED",
        "HH_ERR_PANIC", "HH_ERR_INTERNAL",
    };
    for (int32_t i = 0; i <= HH_ERR_INTERNAL; i++)
        CHECK_STR_EQ(hh_status_name(i), names[i]);
    int32_t unknown[] = {-1, 15, 16, 100, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_STR_EQ(hh_status_name(unknown[i]), "HH_UNKNOWN_STATUS");
    /* Static storage: the same pointer every time. */
    CHECK(hh_status_name(3) == hh_status_name(3));
    CHECK_STR_EQ(hh_version(), HH_VERSION_STRING);
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", HH_VERSION_MAJOR, HH_VERSION_MINOR, HH_VERSION_PATCH);
    CHECK_STR_EQ(hh_version(), v);
}

static void error_detail(void) {
    TEST_BEGIN("hh_error: filled on failure, untouched on success, bounded, no secrets");
    hh_tracer t = new_tracer(",\"test_mode\":true");
    hh_error err, copy;
    char sid[HH_SESSION_ID_BUF_LEN];
    prefill(&err);
    memcpy(&copy, &err, sizeof err);
    CHECK_OK(hh_session_create(t, NULL, sid, sizeof sid, &err));
    CHECK(memcmp(&copy, &err, sizeof err) == 0);
    hh_tracer t2 = 0;
    CHECK_OK(hh_tracer_new("{\"test_mode\":true}", &t2, &err));
    CHECK(memcmp(&copy, &err, sizeof err) == 0);
    close_tracer(t2);

    /* A message longer than the buffer is cut (on a UTF-8 boundary) and NUL-terminated. */
    char cfg[4096];
    size_t n = (size_t)sprintf(cfg, "{\"api_key\":\"k\",\"");
    for (int i = 0; i < 1200; i++) {
        memcpy(cfg + n, "\xc3\xa9", 2); /* 'é' */
        n += 2;
    }
    strcpy(cfg + n, "\":1}");
    prefill(&err);
    CHECK_STATUS(hh_tracer_new(cfg, &t2, &err), HH_ERR_INVALID_CONFIG);
    check_err_filled(&err, HH_ERR_INVALID_CONFIG, "long unknown key");
    CHECK(strlen(err.message) <= HH_ERROR_MESSAGE_LEN - 1);

    /* The API key never appears in a message. */
    static const char *secret_cfgs[] = {
        "{\"api_key\":\"sk-SECRET-4242\",\"source\":\"a\\r\\nX-Evil: 1\"}",
        "{\"api_key\":\"sk-SECRET-4242\\u0001x\"}",
        "{\"api_key\":\"sk-SECRET-4242\",\"exporter\":\"otlp\"}",
    };
    for (size_t i = 0; i < sizeof secret_cfgs / sizeof secret_cfgs[0]; i++) {
        prefill(&err);
        hh_status st = hh_tracer_new(secret_cfgs[i], &t2, &err);
        CHECK_MSG(st != HH_OK, "config %zu accepted", i);
        if (st == HH_OK) {
            close_tracer(t2);
            continue;
        }
        check_err_filled(&err, st, secret_cfgs[i]);
        CHECK_MSG(strstr(err.message, "sk-SECRET-4242") == NULL, "message leaks the key: %s", err.message);
    }
    close_tracer(t);
}

/* Headers that frame the request or concern one connection (a `content-length: 5` would cut
 * every export to 5 bytes), or that the library sets itself, are refused at init by name. */
static void framing_headers(void) {
    TEST_BEGIN("custom headers: framing, hop-by-hop and protocol headers refused, naming the header");
    static const char *names[] = {
        "content-length", "Content-Length", "transfer-encoding", "host", "connection", "keep-alive",
        "proxy-connection", "te", "trailer", "upgrade", "expect", "content-type", "content-encoding",
        "proxy-authorization",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char cfg[256], quoted[64];
        snprintf(cfg, sizeof cfg, "{\"api_key\":\"k\",\"test_mode\":true,\"headers\":{\"x-ok\":\"1\",\"%s\":\"5\"}}",
                 names[i]);
        snprintf(quoted, sizeof quoted, "\"%s\"", names[i]);
        hh_tracer t = 0;
        hh_error err;
        prefill(&err);
        hh_status st = hh_tracer_new(cfg, &t, &err);
        CHECK_MSG(st == HH_ERR_INVALID_CONFIG, "%s: %s", names[i], hh_status_name((int32_t)st));
        if (st == HH_OK) {
            close_tracer(t);
            continue;
        }
        CHECK_MSG(strstr(err.message, quoted) != NULL, "%s: message does not name it: %s", names[i], err.message);
    }
    /* The same through OTEL_EXPORTER_OTLP_HEADERS. */
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-a=1,Transfer-Encoding=chunked", 1);
    hh_tracer t = 0;
    hh_error err;
    prefill(&err);
    hh_status st = hh_tracer_new("{\"exporter\":\"otlp\",\"otlp_endpoint\":\"http://127.0.0.1:1/v1/traces\"}", &t, &err);
    unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
    CHECK_STATUS(st, HH_ERR_INVALID_CONFIG);
    if (st == HH_OK)
        close_tracer(t);
    else
        CHECK_MSG(strstr(err.message, "\"Transfer-Encoding\"") != NULL, "message: %s", err.message);
    /* Ordinary headers stay accepted. */
    CHECK_OK(hh_tracer_new("{\"test_mode\":true,\"headers\":{\"authorization\":\"Basic x\",\"x-tenant\":\"t\"}}", &t,
                           &err));
    close_tracer(t);
}

/* After a tracer's close, every call with one of its spans either has no effect and returns
 * HH_ERR_TRACER_CLOSED, or has the effect the header promises: an end ends (and drops, counted)
 * the span and returns HH_ERR_TRACER_CLOSED; a release releases (HH_OK). */
static void span_calls_after_close(void) {
    TEST_BEGIN("span calls after close: status and effect agree");
    hh_tracer t = new_tracer(",\"test_mode\":true");
    hh_span setters = start_span(t, "after-close-setters", HH_EVENT_TOOL, 0, NULL);
    hh_span with_attrs = start_span(t, "after-close-end-attrs", HH_EVENT_TOOL, 0, NULL);
    hh_span plain = start_span(t, "after-close-end", HH_EVENT_TOOL, 0, NULL);
    hh_span kept = start_span(t, "after-close-end-keep", HH_EVENT_TOOL, 0, NULL);
    hh_span released = start_span(t, "after-close-release", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_tracer_close(t, 1000));
    hh_error err;
    char buf[HH_SESSION_ID_BUF_LEN], tp[HH_TRACEPARENT_BUF_LEN], bag[512];
    hh_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.ns = HH_NS_METADATA;
    attr.type = HH_ATTR_I64;
    attr.key = "k";
    attr.i64 = 1;

    /* No effect, and said so. */
    CHECK_STATUS(hh_span_set_str(setters, HH_NS_METADATA, "k", "v"), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_set_i64(setters, HH_NS_METADATA, "k", 1), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_set_f64(setters, HH_NS_METADATA, "k", 1.0), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_set_bool(setters, HH_NS_METADATA, "k", true), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_enrich(setters, "{\"metadata\":{\"a\":1}}", &err), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_record_error(setters, "T", "m"), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_set_attrs(setters, &attr, 1, &err), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_inject(setters, tp, sizeof tp, bag, sizeof bag, NULL), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_session_id(setters, buf, sizeof buf, NULL), HH_ERR_TRACER_CLOSED);
    /* None of those ended the span: ending it now is the first end. */
    CHECK_STATUS(hh_span_end(setters), HH_ERR_TRACER_CLOSED);
    CHECK_OK(hh_span_end(setters));

    /* An end with attributes ends (and drops) the span, as hh_span_end does. */
    CHECK_STATUS(hh_span_end_attrs(with_attrs, &attr, 1, 0, &err), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_span_end_attrs(with_attrs, &attr, 1, 0, &err), HH_ERR_SPAN_ENDED);
    CHECK_OK(hh_span_end(with_attrs));

    CHECK_STATUS(hh_span_end(plain), HH_ERR_TRACER_CLOSED);
    CHECK_OK(hh_span_end(plain));

    CHECK_STATUS(hh_span_end_ex(kept, HH_END_KEEP_HANDLE), HH_ERR_TRACER_CLOSED);
    CHECK_OK(hh_span_end_ex(kept, HH_END_KEEP_HANDLE));
    CHECK_OK(hh_span_release(kept));

    /* A release ends the open span (dropped) and releases the handle. */
    CHECK_OK(hh_span_release(released));
    CHECK_OK(hh_span_release(released));

    hh_stats st;
    memset(&st, 0, sizeof st);
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.spans_started, 5);
    CHECK_EQ(st.spans_ended, 5);
    CHECK_EQ(st.spans_dropped, 5);
    CHECK_EQ(st.spans_exported, 0);
}

void test_abuse(void) {
    null_arguments();
    invalid_utf8();
    invalid_json();
    limits();
    misc_invalid_arguments();
    stale_handles();
    kept_handles();
    ended_spans_and_closed_tracers();
    span_calls_after_close();
    small_buffers();
    status_names();
    error_detail();
    framing_headers();
}
