/* Hostile servers: answers no well-behaved collector gives, which must not crash, stall or
 * bloat the library, nor make it report a delivery that did not happen. One row per class:
 *
 *   retry-after-odd           503 with Retry-After values of every odd kind (huge, negative,
 *                             NaN, garbage, HTTP-dates), one tracer each: flush returns, the
 *                             batch is retried or counted lost, later spans still go out
 *   retry-after-session-start the same (1e300) on the session start: spans still go out
 *   huge-body-200 / -400      a 256 MiB answer (Content-Length / chunked) to an export: peak
 *                             RSS stays bounded (VmHWM)
 *   huge-body-endless         a 200 whose chunked body never ends: flush returns, RSS bounded
 *   huge-body-session-start   a 256 MiB answer to the session start
 *   redirect-302              302 to another listener: not followed (no GET anywhere), counted
 *                             as a failed export, the warning names the status and not the
 *                             Location's query
 *   redirect-307-cross-origin 307 (and 308) to another origin, on every path: the other origin
 *                             receives nothing (no spans, no x-api-key)
 *   partial-success-json / -protobuf
 *                             200 with partial_success rejecting 5 spans: counted in
 *                             spans_rejected, not exported, warned (escaped, on one line)
 *
 * The redirect target is a second hh-receiver answering 200 to anything, recording what comes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rel.h"

/* The other origin of the redirect rows. */
static receiver R2;

static hh_stats stats_of(hh_tracer t) {
    hh_stats s;
    memset(&s, 0, sizeof s);
    CHECK_OK(hh_tracer_stats(t, &s));
    return s;
}

static int emit(hh_tracer t, const char *prefix, int n) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        hh_span s = 0;
        if (hh_span_start(t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK && hh_span_end(s) == HH_OK)
            ok++;
    }
    return ok;
}

/* exported + dropped + rejected == ended once nothing is queued. */
static void check_books(const char *row, hh_tracer t) {
    hh_stats s = stats_of(t);
    CHECK_MSG(s.queue_len == 0, "%s: %llu spans still queued", row, (unsigned long long)s.queue_len);
    CHECK_MSG(s.spans_exported + s.spans_dropped + s.spans_rejected == s.spans_ended,
              "%s: exported %llu + dropped %llu + rejected %llu != ended %llu", row,
              (unsigned long long)s.spans_exported, (unsigned long long)s.spans_dropped,
              (unsigned long long)s.spans_rejected, (unsigned long long)s.spans_ended);
}

/* ---- stderr capture (the library's warnings) ---- */

typedef struct {
    int saved;
    int fd;
    char path[64];
} capture;

static void capture_begin(capture *c) {
    snprintf(c->path, sizeof c->path, "/tmp/hh-rel-hostile-XXXXXX");
    c->fd = mkstemp(c->path);
    fflush(stderr);
    c->saved = dup(2);
    dup2(c->fd, 2);
}

/* Restores stderr, echoes what was captured to it, and returns it (free it). */
static char *capture_end(capture *c) {
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    off_t len = lseek(c->fd, 0, SEEK_END);
    lseek(c->fd, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
    ssize_t n = len > 0 ? read(c->fd, buf, (size_t)len) : 0;
    (void)n;
    close(c->fd);
    unlink(c->path);
    fputs(buf, stderr);
    return buf;
}

/* The line of `text` containing `needle`, copied into out (empty when absent). */
static void line_with(const char *text, const char *needle, char *out, size_t cap) {
    out[0] = 0;
    const char *hit = strstr(text, needle);
    if (!hit)
        return;
    const char *start = hit;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(hit, '\n');
    size_t len = end ? (size_t)(end - start) : strlen(start);
    if (len >= cap)
        len = cap - 1;
    memcpy(out, start, len);
    out[len] = 0;
}

/* ---- peak RSS ---- */

/* ---------------------------------------------------------------------------------------- */
/* Retry-After of every odd kind, on the export path. */

static void retry_after_odd(void) {
    if (!selected("retry-after-odd"))
        return;
    TEST_BEGIN("hostile row retry-after-odd: 503 with odd Retry-After values");
    static const struct {
        const char *value;
        int retried; /* 1: a retry comes (soon), the batch is delivered; 0: given up at once */
    } cases[] = {
        {"1e300", 0},
        {"99999999999999999999999", 0},
        {"1e20", 0},
        {"inf", 0},
        {"3600", 0},
        {"Fri, 31 Dec 9999 23:59:59 GMT", 0},
        {"0", 1},
        {"0.2", 1},
        {"1e-300", 1},
        {"-1", 1},
        {"-1e300", 1},
        {"NaN", 1},
        {"", 1},
        {"soon", 1},
        {"1, 2", 1},
        {"Thu, 01 Jan 1970 00:00:00 GMT", 1},
        {"Sun, 06 Nov 1994 08:49:37", 1}, /* not a valid date: own backoff */
    };
    int n = (int)(sizeof cases / sizeof cases[0]), right = 0, bad_flush = 0;
    for (int i = 0; i < n; i++) {
        const char *v = cases[i].value;
        char prefix[48], fault[512];
        snprintf(prefix, sizeof prefix, "ra%d-", i);
        rcv_reset(&R);
        rcv_clear_fault(&R);
        hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":600000,\"export_timeout_ms\":3000");
        if (!t)
            continue;
        CHECK_OK(hh_tracer_flush(t, 5000)); /* the session start, before the fault */
        snprintf(fault, sizeof fault,
                 "{\"mode\":\"status\",\"status\":503,\"retry_after\":\"%s\",\"times\":1,"
                 "\"path_prefix\":\"/opentelemetry\"}",
                 v);
        rcv_fault(&R, fault);
        CHECK_EQ(emit(t, prefix, 5), 5);
        double t0 = now_ms();
        hh_status fst = hh_tracer_flush(t, 10000);
        double flush_ms = now_ms() - t0;
        hh_stats s = stats_of(t);
        delivery d = count_delivery(&R, prefix);
        int ok;
        if (cases[i].retried)
            ok = fst == HH_OK && d.unique_accepted == 5 && d.trace_requests == 2 && s.export_retries == 1 &&
                 s.spans_dropped == 0;
        else
            ok = fst == HH_ERR_EXPORT_FAILED && d.trace_requests == 1 && s.export_retries == 0 &&
                 s.export_failures == 1 && s.spans_dropped == 5;
        if (fst != HH_OK && fst != HH_ERR_EXPORT_FAILED)
            bad_flush++;
        CHECK_MSG(ok,
                  "Retry-After \"%s\": flush %s after %.0f ms, %zu requests, %zu accepted, retries %llu, failures %llu, "
                  "dropped %llu (expected %s)",
                  v, status_str(fst), flush_ms, d.trace_requests, d.unique_accepted,
                  (unsigned long long)s.export_retries, (unsigned long long)s.export_failures,
                  (unsigned long long)s.spans_dropped, cases[i].retried ? "a retry, delivered" : "given up at once");
        /* The worker lives on: later spans are delivered. */
        rcv_clear_fault(&R);
        char after[48];
        snprintf(after, sizeof after, "ra%d-after-", i);
        CHECK_EQ(emit(t, after, 3), 3);
        hh_status fst2 = hh_tracer_flush(t, 5000);
        delivery d2 = count_delivery(&R, after);
        CHECK_MSG(fst2 == HH_OK && d2.unique_accepted == 3, "Retry-After \"%s\": afterwards flush %s, %zu/3 delivered",
                  v, status_str(fst2), d2.unique_accepted);
        check_books("retry-after-odd", t);
        IGNORE_STATUS(hh_tracer_close(t, 2000));
        if (ok && fst2 == HH_OK && d2.unique_accepted == 3)
            right++;
    }
    figure("retry-after-odd", "values=%d behaved=%d flushes_neither_ok_nor_export_failed=%d", n, right, bad_flush);
}

/* The same on the session start: the export must not wait for it forever. */
static void retry_after_session_start(void) {
    if (!selected("retry-after-session-start"))
        return;
    TEST_BEGIN("hostile row retry-after-session-start: 503 Retry-After 1e300 on /session/start");
    rcv_reset(&R);
    rcv_fault(&R, "{\"mode\":\"status\",\"status\":503,\"retry_after\":\"1e300\",\"times\":1,\"path_prefix\":\"/session\"}");
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":600000,\"api_timeout_ms\":3000");
    if (!t)
        return;
    CHECK_EQ(emit(t, "ras-", 5), 5);
    double t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, 8000);
    double flush_ms = now_ms() - t0;
    hh_stats s = stats_of(t);
    delivery d = count_delivery(&R, "ras-");
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    size_t starts = count_requests_path(reqs, "POST", "/session/start", -1);
    jfree(reqs);
    figure("retry-after-session-start", "session_starts=%zu rest_failures=%llu spans_delivered=%zu flush=%s flush_ms=%.0f",
           starts, (unsigned long long)s.rest_failures, d.unique_accepted, status_str(fst), flush_ms);
    /* The start is given up (the wait asked is past its deadline) and reported; spans go. */
    CHECK_EQ(starts, 1);
    CHECK_EQ(s.rest_failures, 1);
    CHECK_EQ(d.unique_accepted, 5);
    CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
    rcv_clear_fault(&R);
    CHECK_EQ(emit(t, "ras-after-", 2), 2);
    CHECK_OK(hh_tracer_flush(t, 5000));
    CHECK_EQ(count_delivery(&R, "ras-after-").unique_accepted, 2);
    check_books("retry-after-session-start", t);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
}

/* ---------------------------------------------------------------------------------------- */
/* Huge and endless answers. */

#define HUGE_BYTES (256LL * 1024 * 1024)
/* Peak RSS growth allowed while a huge answer is read (the library reads a few KiB of it). */
#define HWM_BOUND_KB (48L * 1024)

static void huge_body_row(const char *row, int status, int chunked, long long bytes, const char *path_prefix) {
    if (!selected(row))
        return;
    char title[128], fault[512], prefix[48];
    snprintf(title, sizeof title, "hostile row %s", row);
    TEST_BEGIN(title);
    snprintf(prefix, sizeof prefix, "%s-", row);
    int on_session = strcmp(path_prefix, "/session") == 0;
    rcv_reset(&R);
    rcv_clear_fault(&R);
    char sizebuf[32];
    if (bytes > 0)
        snprintf(sizebuf, sizeof sizebuf, "%lld", bytes);
    else
        snprintf(sizebuf, sizeof sizebuf, "null");
    snprintf(fault, sizeof fault,
             "{\"mode\":\"status\",\"status\":%d,\"body\":\"{\\\"pad\\\":0}\",\"body_bytes\":%s,\"chunked\":%s,"
             "\"times\":1,\"path_prefix\":\"%s\"}",
             status, sizebuf, chunked ? "true" : "false", path_prefix);
    int hwm_reset = reset_peak_rss();
    long hwm0 = status_kb("VmHWM");
    if (on_session)
        rcv_fault(&R, fault);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":600000,\"export_timeout_ms\":3000,\"api_timeout_ms\":3000");
    if (!t)
        return;
    if (!on_session) {
        CHECK_OK(hh_tracer_flush(t, 5000));
        rcv_fault(&R, fault);
    }
    CHECK_EQ(emit(t, prefix, 5), 5);
    double t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, 10000);
    double flush_ms = now_ms() - t0;
    long hwm1 = status_kb("VmHWM");
    hh_stats s = stats_of(t);
    delivery d = count_delivery(&R, prefix);
    figure(row, "answer=%d %s body=%s flush=%s flush_ms=%.0f vm_hwm_growth_kb=%ld (hwm reset %s) exported=%llu "
                "dropped=%llu export_failures=%llu rest_failures=%llu",
           status, chunked ? "chunked" : "content-length", bytes > 0 ? sizebuf : "endless", status_str(fst), flush_ms,
           hwm1 - hwm0, hwm_reset ? "yes" : "no", (unsigned long long)s.spans_exported,
           (unsigned long long)s.spans_dropped, (unsigned long long)s.export_failures,
           (unsigned long long)s.rest_failures);
    CHECK_MSG(hwm0 > 0 && hwm1 - hwm0 < HWM_BOUND_KB, "%s: peak RSS grew by %ld KiB reading the answer", row,
              hwm1 - hwm0);
    CHECK_MSG(fst != HH_ERR_TIMEOUT && fst != HH_ERR_INTERNAL, "%s: flush %s", row, status_str(fst));
    /* What the receiver recorded: the spans arrived, and were answered as the row says. */
    CHECK_EQ(d.attempted_spans, 5);
    CHECK_EQ(d.unique_accepted, (on_session || status == 200) ? 5 : 0);
    if (on_session || status == 200) {
        /* A 2xx is a delivery whatever its body. */
        CHECK_EQ(s.spans_exported, 5);
        CHECK_EQ(s.spans_dropped, 0);
        CHECK_EQ(s.rest_failures, 0);
        CHECK_STATUS(fst, HH_OK);
    } else {
        CHECK_EQ(s.spans_exported, 0);
        CHECK_EQ(s.export_failures, 1);
        CHECK_EQ(s.spans_dropped, 5);
        CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
    }
    check_books(row, t);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
    rcv_clear_fault(&R);
}

/* ---------------------------------------------------------------------------------------- */
/* Redirects. */

/* R answers every request under `path_prefix` (NULL: every path) with `status` and a
 * Location on R2; a tracer with a custom x-api-key header sends 5 spans. Nothing may reach R2. */
static void redirect_row(const char *row, int status, const char *path_prefix) {
    if (!selected(row))
        return;
    char title[128], fault[768], prefix[48], location[384], pp[96];
    snprintf(title, sizeof title, "hostile row %s", row);
    TEST_BEGIN(title);
    snprintf(prefix, sizeof prefix, "%s-", row);
    /* A query the warning must not repeat. */
    snprintf(location, sizeof location, "%s/landing/v1/traces?token=hostile-location-secret", R2.url);
    if (path_prefix)
        snprintf(pp, sizeof pp, "\"%s\"", path_prefix);
    else
        snprintf(pp, sizeof pp, "null");
    snprintf(fault, sizeof fault,
             "{\"mode\":\"status\",\"status\":%d,\"headers\":[[\"Location\",\"%s\"]],\"path_prefix\":%s}", status,
             location, pp);
    rcv_reset(&R);
    rcv_reset(&R2);
    rcv_clear_fault(&R);
    if (!path_prefix)
        rcv_fault(&R, fault);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":600000,\"export_timeout_ms\":3000,\"api_timeout_ms\":3000,"
                                   "\"headers\":{\"x-api-key\":\"hostile-custom-key\"}");
    if (!t)
        return;
    if (path_prefix) {
        CHECK_OK(hh_tracer_flush(t, 5000)); /* the session start, before the fault */
        rcv_fault(&R, fault);
    }
    CHECK_EQ(emit(t, prefix, 5), 5);
    capture cap;
    capture_begin(&cap);
    double t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, 10000);
    double flush_ms = now_ms() - t0;
    char *err = capture_end(&cap);
    hh_stats s = stats_of(t);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    size_t posts = count_requests_path(reqs, "POST", "/v1/traces", status);
    size_t gets = count_requests_path(reqs, "GET", "", -1);
    jfree(reqs);
    jval *reqs2 = rcv_get_json(&R2, "/__hh/requests");
    size_t at_target = jlen(reqs2);
    size_t key_at_target = 0;
    for (size_t i = 0; i < at_target; i++) {
        const char *k = jgets(jget(jat(reqs2, i), "headers"), "x-api-key");
        if (k && strstr(k, "hostile-custom-key"))
            key_at_target++;
    }
    jfree(reqs2);
    delivery d2 = count_delivery(&R2, prefix);
    char code[16], warning[1024];
    snprintf(code, sizeof code, "HTTP %d", status);
    line_with(err, code, warning, sizeof warning);
    figure(row,
           "redirect=%d scope=%s posts_answered_%d=%zu gets=%zu requests_at_target=%zu x_api_key_at_target=%zu "
           "spans_at_target=%zu exported=%llu dropped=%llu export_failures=%llu retries=%llu rest_failures=%llu "
           "flush=%s flush_ms=%.0f",
           status, path_prefix ? path_prefix : "every-path", status, posts, gets, at_target, key_at_target,
           d2.attempted_spans, (unsigned long long)s.spans_exported, (unsigned long long)s.spans_dropped,
           (unsigned long long)s.export_failures, (unsigned long long)s.export_retries,
           (unsigned long long)s.rest_failures, status_str(fst), flush_ms);
    figure(row, "%s", warning[0] ? warning : "no warning");
    CHECK_EQ(at_target, 0);
    CHECK_EQ(key_at_target, 0);
    CHECK_EQ(gets, 0);
    CHECK_EQ(posts, 1); /* not retried */
    CHECK_EQ(s.spans_exported, 0);
    CHECK_EQ(s.spans_dropped, 5);
    CHECK_EQ(s.export_failures, 1);
    CHECK_EQ(s.export_retries, 0);
    if (!path_prefix)
        CHECK_EQ(s.rest_failures, 1); /* the session start, redirected too */
    CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
    CHECK_MSG(warning[0] != 0, "%s: no warning naming %s", row, code);
    CHECK_MSG(strstr(err, "hostile-location-secret") == NULL, "%s: the Location's query was printed", row);
    free(err);
    check_books(row, t);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
    rcv_clear_fault(&R);
}

/* ---------------------------------------------------------------------------------------- */
/* OTLP partial success. */

static void partial_success_row(const char *row, int protobuf) {
    if (!selected(row))
        return;
    char title[128], prefix[48], fault[768];
    snprintf(title, sizeof title, "hostile row %s", row);
    TEST_BEGIN(title);
    snprintf(prefix, sizeof prefix, "%s-", row);
    rcv_reset(&R);
    rcv_clear_fault(&R);
    hh_tracer t = rel_tracer(NULL, protobuf ? ",\"schedule_delay_ms\":600000,\"otlp_protocol\":\"http/protobuf\""
                                            : ",\"schedule_delay_ms\":600000");
    if (!t)
        return;
    CHECK_OK(hh_tracer_flush(t, 5000));
    if (protobuf)
        /* ExportTraceServiceResponse{partial_success{rejected_spans: 5, error_message: "q\nx"}}:
         * 0a 07 | 08 05 | 12 03 'q' '\n' 'x' (all bytes below 0x80: fine in a JSON string). */
        snprintf(fault, sizeof fault,
                 "{\"mode\":\"status\",\"status\":200,\"content_type\":\"application/x-protobuf\","
                 "\"body\":\"\\n\\u0007\\b\\u0005\\u0012\\u0003q\\nx\",\"times\":1,"
                 "\"path_prefix\":\"/opentelemetry\"}");
    else
        snprintf(fault, sizeof fault,
                 "{\"mode\":\"status\",\"status\":200,\"content_type\":\"application/json\","
                 "\"body\":\"{\\\"partialSuccess\\\":{\\\"rejectedSpans\\\":\\\"5\\\","
                 "\\\"errorMessage\\\":\\\"quota\\\\nFORGED line\\\\u001b[2J\\\"}}\",\"times\":1,"
                 "\"path_prefix\":\"/opentelemetry\"}");
    rcv_fault(&R, fault);
    CHECK_EQ(emit(t, prefix, 8), 8);
    capture cap;
    capture_begin(&cap);
    hh_status fst = hh_tracer_flush(t, 8000);
    char *err = capture_end(&cap);
    hh_stats s = stats_of(t);
    delivery d = count_delivery(&R, prefix);
    char warning[1024];
    line_with(err, "rejecting", warning, sizeof warning);
    int forged_line = strstr(err, "\nFORGED") != NULL;
    int raw_escape = strchr(err, 0x1b) != NULL;
    figure(row, "sent=8 server_rejected=5 spans_rejected=%llu exported=%llu dropped=%llu flush=%s forged_line=%d raw_esc=%d",
           (unsigned long long)s.spans_rejected, (unsigned long long)s.spans_exported,
           (unsigned long long)s.spans_dropped, status_str(fst), forged_line, raw_escape);
    figure(row, "%s", warning[0] ? warning : "no warning");
    CHECK_EQ(d.unique_accepted, 8); /* the receiver had them all; it said it kept 3 */
    CHECK_EQ(s.spans_rejected, 5);
    CHECK_EQ(s.spans_exported, 3);
    CHECK_EQ(s.spans_dropped, 0);
    CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED); /* a loss, reported */
    CHECK_MSG(warning[0] && strstr(warning, "5"), "%s: no warning about the 5 rejected spans", row);
    if (!protobuf) {
        CHECK_MSG(strstr(warning, "quota") && strstr(warning, "FORGED line"),
                  "%s: the server's message is not on the warning's line", row);
        CHECK(!forged_line);
        CHECK(!raw_escape);
    } else {
        CHECK_MSG(strstr(warning, "q\\nx") != NULL, "%s: the message is not shown escaped", row);
    }
    free(err);
    /* The next export is whole again. */
    rcv_clear_fault(&R);
    CHECK_EQ(emit(t, "ps-after-", 2), 2);
    CHECK_OK(hh_tracer_flush(t, 5000));
    check_books(row, t);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
}

void group_hostile(void) {
    if (rcv_start(&R2) != 0) {
        CHECK_MSG(0, "cannot start the second receiver");
        return;
    }
    /* The redirect target answers 200 to anything (a GET after a 302 included). */
    rcv_fault(&R2, "{\"mode\":\"status\",\"status\":200}");
    retry_after_odd();
    retry_after_session_start();
    huge_body_row("huge-body-200", 200, 0, HUGE_BYTES, "/opentelemetry");
    huge_body_row("huge-body-400", 400, 1, HUGE_BYTES, "/opentelemetry");
    huge_body_row("huge-body-endless", 200, 1, 0, "/opentelemetry");
    huge_body_row("huge-body-session-start", 200, 0, HUGE_BYTES, "/session");
    redirect_row("redirect-302", 302, "/opentelemetry");
    redirect_row("redirect-307-cross-origin", 307, NULL);
    redirect_row("redirect-308-cross-origin", 308, NULL);
    partial_success_row("partial-success-json", 0);
    partial_success_row("partial-success-protobuf", 1);
    rcv_clear_fault(&R);
    rcv_stop(&R2);
}
