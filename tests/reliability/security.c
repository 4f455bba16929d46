/* Security: header injection rejected at init; plain http:// to a non-loopback host warns;
 * the verbose key-leak run ("leak", graded by run.sh); TLS verification ("tls", against the
 * self-signed server run.sh starts). No test here sends anything off this machine: the
 * warning checks make tracers that never export (no spans, no session call) and close them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rel.h"

/* ---------------------------------------------------------------------------------------- */
/* Header injection */

typedef struct {
    const char *what;
    const char *json; /* with %s for the receiver URL */
} inj_case;

static void header_injection(void) {
    if (!selected("header-injection"))
        return;
    TEST_BEGIN("header injection: CR/LF and other invalid characters rejected at init");
    static const inj_case cases[] = {
        {"api_key CRLF", "{\"api_key\":\"k\\r\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"api_key LF", "{\"api_key\":\"k\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"api_key CR", "{\"api_key\":\"k\\rX\",\"server_url\":\"%s\"}"},
        {"api_key NUL", "{\"api_key\":\"k\\u0000X\",\"server_url\":\"%s\"}"},
        {"api_key DEL", "{\"api_key\":\"k\\u007fX\",\"server_url\":\"%s\"}"},
        {"api_key VT", "{\"api_key\":\"k\\u000bX\",\"server_url\":\"%s\"}"},
        {"ingestion_api_key CRLF", "{\"ingestion_api_key\":\"hh_ingst_\\r\\nX: y\",\"server_url\":\"%s\"}"},
        {"source CRLF", "{\"api_key\":\"k\",\"source\":\"prod\\r\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"project CRLF", "{\"api_key\":\"k\",\"project\":\"p\\r\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"client_language CRLF", "{\"api_key\":\"k\",\"client_language\":\"c\\r\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"headers value CRLF", "{\"api_key\":\"k\",\"headers\":{\"x-a\":\"1\\r\\nX-Injected: 1\"},\"server_url\":\"%s\"}"},
        {"headers value LF", "{\"api_key\":\"k\",\"headers\":{\"x-a\":\"1\\nX-Injected: 1\"},\"server_url\":\"%s\"}"},
        {"headers name CRLF", "{\"api_key\":\"k\",\"headers\":{\"x-a\\r\\nX-Injected\":\"1\"},\"server_url\":\"%s\"}"},
        {"headers name colon", "{\"api_key\":\"k\",\"headers\":{\"x-a: 1\\r\\nx\":\"1\"},\"server_url\":\"%s\"}"},
        {"headers name space", "{\"api_key\":\"k\",\"headers\":{\"x a\":\"1\"},\"server_url\":\"%s\"}"},
        {"headers name empty", "{\"api_key\":\"k\",\"headers\":{\"\":\"1\"},\"server_url\":\"%s\"}"},
        {"headers name non-ASCII", "{\"api_key\":\"k\",\"headers\":{\"x-\\u00e9\":\"1\"},\"server_url\":\"%s\"}"},
        {"otlp headers CRLF",
         "{\"exporter\":\"otlp\",\"otlp_endpoint\":\"%s/v1/traces\",\"headers\":{\"authorization\":\"Bearer x\\r\\nX: 1\"}}"},
        {"server_url CRLF", "{\"api_key\":\"k\",\"server_url\":\"%s\\r\\nX-Injected: 1\"}"},
        {"server_url space", "{\"api_key\":\"k\",\"server_url\":\"%s/a b\"}"},
    };
    int rejected = 0, n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        char cfg[512];
        snprintf(cfg, sizeof cfg, cases[i].json, R.url);
        hh_tracer t = 0;
        hh_error err;
        memset(&err, 0, sizeof err);
        hh_status st = hh_tracer_new(cfg, &t, &err);
        if (st == HH_ERR_INVALID_CONFIG)
            rejected++;
        CHECK_MSG(st == HH_ERR_INVALID_CONFIG, "%s: %s (%s)", cases[i].what, status_str(st), err.message);
        CHECK_MSG(strchr(err.message, '\r') == NULL && strchr(err.message, '\n') == NULL,
                  "%s: the error message carries CR/LF: %s", cases[i].what, err.message);
        if (st == HH_OK)
            IGNORE_STATUS(hh_tracer_close(t, 100));
    }
    /* The same through the environment (NULL config). */
    static const struct {
        const char *name, *value;
    } envs[] = {
        {"HH_API_KEY", "k\r\nX-Injected: 1"},
        {"HH_SOURCE", "prod\r\nX-Injected: 1"},
        {"HH_PROJECT", "p\nX-Injected: 1"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "x-a=1\r\nX-Injected: 1"},
    };
    int env_rejected = 0, nenv = (int)(sizeof envs / sizeof envs[0]);
    for (int i = 0; i < nenv; i++) {
        setenv("HH_API_KEY", "k", 1);
        setenv("HH_API_URL", R.url, 1);
        setenv(envs[i].name, envs[i].value, 1);
        hh_tracer t = 0;
        hh_error err;
        memset(&err, 0, sizeof err);
        hh_status st = hh_tracer_new(NULL, &t, &err);
        if (st == HH_ERR_INVALID_CONFIG)
            env_rejected++;
        CHECK_MSG(st == HH_ERR_INVALID_CONFIG, "env %s: %s (%s)", envs[i].name, status_str(st), err.message);
        if (st == HH_OK)
            IGNORE_STATUS(hh_tracer_close(t, 100));
        unsetenv(envs[i].name);
        unsetenv("HH_API_KEY");
        unsetenv("HH_API_URL");
        unsetenv("HH_SOURCE");
        unsetenv("HH_PROJECT");
    }
    /* Values that are fine: a tab, non-ASCII text in a label. */
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"api_key\":\"k\",\"source\":\"a\\tb\",\"project\":\"caf\\u00e9\",\"server_url\":\"%s\","
                              "\"skip_backend_session_creation\":true}", R.url);
    hh_tracer ok = 0;
    hh_status okst = hh_tracer_new(cfg, &ok, NULL);
    CHECK_OK(okst);
    if (okst == HH_OK)
        IGNORE_STATUS(hh_tracer_close(ok, 100));

    /* A session option `source` with CR/LF goes only into a JSON body, never a header. */
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50");
    char sid[HH_SESSION_ID_BUF_LEN];
    hh_status sst = hh_session_create(t, "{\"source\":\"s\\r\\nX-Injected: 1\"}", sid, sizeof sid, NULL);
    hh_span s = 0;
    if (sst == HH_OK && hh_span_start(t, "inj-span", HH_EVENT_TOOL, 0, sid, NULL, &s, NULL) == HH_OK)
        IGNORE_STATUS(hh_span_end(s));
    IGNORE_STATUS(hh_tracer_flush(t, 5000));
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    int injected = 0;
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *h = jget(jat(reqs, i), "headers");
        if (jget(h, "x-injected"))
            injected++;
        for (size_t k = 0; k < jlen(h); k++) {
            const char *v = jstr(h->items[k]);
            if (v && (strchr(v, '\r') || strchr(v, '\n')))
                injected++;
        }
    }
    jfree(reqs);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
    figure("header-injection",
           "config_cases=%d rejected_INVALID_CONFIG=%d env_cases=%d env_rejected=%d session_source_crlf=%s "
           "injected_headers_on_wire=%d",
           n, rejected, nenv, env_rejected, status_str(sst), injected);
    CHECK_EQ(injected, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Plain http:// to a non-loopback host */

/* Makes a tracer that never sends anything, closes it, and returns what it wrote to stderr. */
static char *stderr_of_tracer(const char *cfg, hh_status *st) {
    char path[] = "/tmp/hh-rel-stderr-XXXXXX";
    int fd = mkstemp(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    hh_tracer t = 0;
    *st = hh_tracer_new(cfg, &t, NULL);
    if (*st == HH_OK)
        IGNORE_STATUS(hh_tracer_close(t, 100));
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    char *buf = calloc(1, 65536);
    ssize_t n = read(fd, buf, 65535);
    (void)n;
    close(fd);
    unlink(path);
    return buf;
}

static void plain_http_warning(void) {
    if (!selected("plain-http-warning"))
        return;
    TEST_BEGIN("plain http:// to a non-loopback host warns (nothing is sent)");
    static const struct {
        const char *url;
        int otlp;
        int want_warning;
    } cases[] = {
        {"http://example.invalid", 0, 1},
        {"http://example.invalid:8080/api", 0, 1},
        {"http://10.255.255.1:4318", 0, 1},
        {"http://localhost.example.invalid", 0, 1},
        {"http://example.invalid/v1/traces", 1, 1},
        {"http://127.0.0.1:1", 0, 0},
        {"http://localhost:1", 0, 0},
        {"http://[::1]:1", 0, 0},
        {"https://example.invalid", 0, 0},
        /* Not loopback, though the text starts like it: */
        {"http://127.example.invalid", 0, 1},
        {"http://127.0.0.1.example.invalid", 0, 1},
        {"http://127.0.0.1@example.invalid", 0, 1},
    };
    int n = (int)(sizeof cases / sizeof cases[0]), right = 0;
    for (int i = 0; i < n; i++) {
        char cfg[512];
        if (cases[i].otlp)
            snprintf(cfg, sizeof cfg,
                     "{\"exporter\":\"otlp\",\"otlp_endpoint\":\"%s\",\"schedule_delay_ms\":600000}", cases[i].url);
        else
            snprintf(cfg, sizeof cfg,
                     "{\"api_key\":\"k\",\"server_url\":\"%s\",\"skip_backend_session_creation\":true,"
                     "\"schedule_delay_ms\":600000}",
                     cases[i].url);
        hh_status st;
        char *err = stderr_of_tracer(cfg, &st);
        int warned = strstr(err, "plain http://") != NULL;
        if (st == HH_OK && warned == cases[i].want_warning)
            right++;
        CHECK_MSG(st == HH_OK, "%s: init %s", cases[i].url, status_str(st));
        CHECK_MSG(warned == cases[i].want_warning, "%s (%s exporter): warning %s; stderr: %.300s", cases[i].url,
                  cases[i].otlp ? "otlp" : "honeyhive", warned ? "printed" : "missing", err);
        if (i == 0)
            figure("plain-http-warning-line", "%.*s", (int)strcspn(err, "\n"), err);
        free(err);
    }
    figure("plain-http-warning", "cases=%d right=%d", n, right);
}

void group_security(void) {
    header_injection();
    plain_http_warning();
}

/* ---------------------------------------------------------------------------------------- */
/* The verbose key-leak run: run.sh sets HH_VERBOSE=true, HH_REL_CANARY, HH_REL_INGEST_CANARY
 * and HH_REL_OUT, captures stdout+stderr, and greps them and the receiver's records. */

static void print_err(const char *what, hh_status st, const hh_error *err) {
    printf("CALL %s -> %s: %s\n", what, status_str(st), st == HH_OK ? "" : err->message);
}

static void print_stats(const char *what, hh_tracer t) {
    hh_stats s;
    memset(&s, 0, sizeof s);
    IGNORE_STATUS(hh_tracer_stats(t, &s));
    printf("STATS %s started=%llu ended=%llu exported=%llu dropped=%llu requests=%llu failures=%llu retries=%llu "
           "rest=%llu rest_failures=%llu queue=%llu\n",
           what, (unsigned long long)s.spans_started, (unsigned long long)s.spans_ended,
           (unsigned long long)s.spans_exported, (unsigned long long)s.spans_dropped,
           (unsigned long long)s.export_requests, (unsigned long long)s.export_failures,
           (unsigned long long)s.export_retries, (unsigned long long)s.rest_calls, (unsigned long long)s.rest_failures,
           (unsigned long long)s.queue_len);
}

static void leak_spans(hh_tracer t, const char *prefix, int n) {
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        hh_span s = 0;
        if (hh_span_start(t, name, HH_EVENT_MODEL, 0, NULL, "{\"model\":\"m\"}", &s, NULL) != HH_OK)
            continue;
        IGNORE_STATUS(hh_span_enrich(s, "{\"inputs\":{\"q\":\"hello\"},\"metrics\":{\"t\":1}}", NULL));
        char tp[HH_TRACEPARENT_BUF_LEN], bag[1024];
        if (hh_span_inject(s, tp, sizeof tp, bag, sizeof bag, NULL) == HH_OK)
            printf("INJECT traceparent=%s baggage=%s\n", tp, bag);
        IGNORE_STATUS(hh_span_end(s));
    }
}

void group_leak(void) {
    const char *key = getenv("HH_REL_CANARY");
    const char *ingest = getenv("HH_REL_INGEST_CANARY");
    const char *out = getenv("HH_REL_OUT");
    if (!key || !ingest || !out) {
        CHECK_MSG(0, "leak: HH_REL_CANARY, HH_REL_INGEST_CANARY and HH_REL_OUT must be set (run.sh does)");
        return;
    }
    TEST_BEGIN("leak: a verbose run with a distinctive key through faults, errors, stats");
    hh_error err;
    char cfg[2048];
    rcv_reset(&R);
    /* A: api_key, verbose, through export and session faults */
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"%s\",\"project\":\"leak\",\"server_url\":\"%s\",\"verbose\":true,\"schedule_delay_ms\":"
             "600000,\"export_timeout_ms\":800,\"api_timeout_ms\":800}",
             key, R.url);
    hh_tracer a = 0;
    hh_status st = hh_tracer_new(cfg, &a, &err);
    print_err("tracer_new(A)", st, &err);
    CHECK_OK(st);
    static const char *faults[] = {
        "{\"mode\":\"status\",\"status\":401,\"times\":1}",
        "{\"mode\":\"status\",\"status\":403,\"times\":1,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"status\",\"status\":500,\"times\":1,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"status\",\"status\":503,\"retry_after\":\"0\",\"times\":2,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"reset\",\"times\":1,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"hang\",\"times\":1,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"status\",\"status\":400,\"times\":1,\"path_prefix\":\"/events\"}",
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        rcv_fault(&R, faults[i]);
        char sid[HH_SESSION_ID_BUF_LEN];
        st = hh_session_create(a, "{\"session_name\":\"leak\"}", sid, sizeof sid, &err);
        print_err("session_create", st, &err);
        st = hh_session_enrich(a, st == HH_OK ? sid : NULL, "{\"metadata\":{\"x\":1}}", &err);
        print_err("session_enrich", st, &err);
        leak_spans(a, "leak-a-", 3);
        st = hh_tracer_flush(a, 3000);
        print_err("flush(A)", st, &err);
        print_stats("A", a);
        rcv_clear_fault(&R);
    }
    /* B: an ingestion key (it replaces api_key on the wire) */
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"%s\",\"ingestion_api_key\":\"%s\",\"server_url\":\"%s\",\"verbose\":true,"
             "\"schedule_delay_ms\":600000}",
             key, ingest, R.url);
    hh_tracer b = 0;
    st = hh_tracer_new(cfg, &b, &err);
    print_err("tracer_new(B)", st, &err);
    rcv_fault(&R, "{\"mode\":\"status\",\"status\":401,\"times\":1,\"path_prefix\":\"/opentelemetry\"}");
    leak_spans(b, "leak-b-", 3);
    st = hh_tracer_flush(b, 3000);
    print_err("flush(B)", st, &err);
    print_stats("B", b);
    rcv_clear_fault(&R);
    /* C: nothing listens */
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"%s\",\"server_url\":\"http://127.0.0.1:1\",\"verbose\":true,\"export_timeout_ms\":500,"
             "\"api_timeout_ms\":500,\"schedule_delay_ms\":600000}",
             key);
    hh_tracer c = 0;
    st = hh_tracer_new(cfg, &c, &err);
    print_err("tracer_new(C)", st, &err);
    leak_spans(c, "leak-c-", 2);
    st = hh_tracer_flush(c, 3000);
    print_err("flush(C)", st, &err);
    print_stats("C", c);
    /* D: the console exporter, with the key configured */
    snprintf(cfg, sizeof cfg, "{\"api_key\":\"%s\",\"exporter\":\"console\",\"verbose\":true}", key);
    hh_tracer d = 0;
    st = hh_tracer_new(cfg, &d, &err);
    print_err("tracer_new(D console)", st, &err);
    leak_spans(d, "leak-d-", 2);
    st = hh_tracer_flush(d, 3000);
    print_err("flush(D)", st, &err);
    /* Invalid configurations that carry the key: their messages */
    const char *bad[] = {
        "{\"api_key\":\"%s\\r\\nX-Injected: 1\"}",
        "{\"api_key\":\"%s\",\"ingestion_api_key\":\"%s\"}",
        "{\"api_key\":\"%s\",\"ingestion_api_key\":\"%s\\n\"}",
        "{\"api_key\":\"%s\",\"project\":5}",
        "{\"api_key\":\"%s\",\"server_url\":\"ftp://x\"}",
        "{\"api_key\":\"%s\",\"otlp_protocol\":\"grpc\"}",
        "{\"api_key\":\"%s\" \"project\":\"p\"}",
        "{\"api_key\":\"%s\",\"headers\":{\"authorization\":\"Bearer %s\\r\\n\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cfg, sizeof cfg, bad[i], key, key);
        hh_tracer x = 0;
        st = hh_tracer_new(cfg, &x, &err);
        print_err("tracer_new(invalid)", st, &err);
        CHECK_MSG(st != HH_OK, "invalid config %zu accepted", i);
        if (st == HH_OK)
            IGNORE_STATUS(hh_tracer_close(x, 100));
    }
    setenv("HH_API_KEY", key, 1);
    setenv("HH_INGESTION_API_KEY", key, 1); /* malformed */
    hh_tracer e = 0;
    st = hh_tracer_new(NULL, &e, &err);
    print_err("tracer_new(env, malformed ingestion key)", st, &err);
    unsetenv("HH_INGESTION_API_KEY");
    unsetenv("HH_API_KEY");
    st = hh_test_panic(&err);
    print_err("test_panic", st, &err);
    /* Close everything (verbose close paths too). */
    print_err("close(A)", hh_tracer_close(a, 3000), &err);
    print_err("close(B)", hh_tracer_close(b, 3000), &err);
    print_err("close(C)", hh_tracer_close(c, 1000), &err);
    print_err("close(D)", hh_tracer_close(d, 1000), &err);
    print_stats("A-closed", a);
    /* The receiver's records, for run.sh to grep (minus Authorization). */
    int status = 0;
    char *body = http_request(R.port, "GET", "/__hh/requests", NULL, &status);
    char path[1024];
    snprintf(path, sizeof path, "%s/leak-requests.json", out);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && body != NULL);
    if (f && body) {
        fputs(body, f);
        fclose(f);
    }
    free(body);
    fflush(stdout);
}

/* ---------------------------------------------------------------------------------------- */
/* TLS: certificate verification is on by default. */

void group_tls(void) {
    const char *url = getenv("HH_REL_TLS_URL");
    if (!url) {
        CHECK_MSG(0, "tls: HH_REL_TLS_URL must be set (run.sh starts the server)");
        return;
    }
    int expect_ok = getenv("HH_REL_TLS_EXPECT_OK") != NULL;
    TEST_BEGIN(expect_ok ? "tls: the server's CA trusted through SSL_CERT_FILE (control)" : "tls: a certificate from an unknown CA is refused");
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"tls-key\",\"server_url\":\"%s\",\"schedule_delay_ms\":600000,\"export_timeout_ms\":3000,"
             "\"api_timeout_ms\":2000}",
             url);
    hh_tracer t = 0;
    hh_error err;
    CHECK_OK(hh_tracer_new(cfg, &t, &err));
    for (int i = 0; i < 10; i++) {
        hh_span s = 0;
        CHECK_OK(hh_span_start(t, "tls-span", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL));
        CHECK_OK(hh_span_end(s));
    }
    double t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, 15000);
    double ms = now_ms() - t0;
    hh_stats s;
    CHECK_OK(hh_tracer_stats(t, &s));
    figure(expect_ok ? "tls-trusted-ca-control" : "tls-untrusted-ca",
           "flush=%s flush_ms=%.0f exported=%llu dropped=%llu export_failures=%llu retries=%llu rest_failures=%llu",
           status_str(fst), ms, (unsigned long long)s.spans_exported, (unsigned long long)s.spans_dropped,
           (unsigned long long)s.export_failures, (unsigned long long)s.export_retries,
           (unsigned long long)s.rest_failures);
    if (expect_ok) {
        CHECK_STATUS(fst, HH_OK);
        CHECK_EQ(s.spans_exported, 10);
    } else {
        CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
        CHECK_EQ(s.spans_exported, 0);
        CHECK_EQ(s.spans_dropped, 10);
        CHECK(s.export_failures >= 1);
        CHECK_EQ(s.rest_failures, 1);
    }
    IGNORE_STATUS(hh_tracer_close(t, 1000));
}
