/* Network faults, one row of the matrix each (RELIABILITY.md): status codes with and without
 * retries, Retry-After, a hanging server, connection resets, a trickling server, a server down
 * at init, a server that dies mid-run and comes back, and queue overflow during an outage.
 *
 * For every row: what the receiver recorded (requests, accepted spans by unique span id,
 * duplicates), what the tracer's stats say, what flush/close returned and how long they took,
 * and the worst latency of application calls while the fault was active.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rel.h"

/* Every application call made while a fault was active, over all rows. */
static lat_rec all_faulty;
/* Per kind of call, over all rows. */
static lat_rec faulty_start, faulty_end, faulty_session, faulty_enrich, faulty_new;

static hh_stats stats_of(hh_tracer t) {
    hh_stats s;
    memset(&s, 0, sizeof s);
    CHECK_OK(hh_tracer_stats(t, &s));
    return s;
}

static void note(lat_rec *kind, double ms) {
    lat_add(kind, ms);
    lat_add(&all_faulty, ms);
}

/* One application "unit of work": start a span, enrich it, end it; each call timed into the
 * row's recorder and the global ones. Returns 1 when all calls returned HH_OK. */
static int traced_op(hh_tracer t, const char *name, const char *session, lat_rec *row) {
    hh_span s = 0;
    double t0 = now_ms();
    hh_status st = hh_span_start(t, name, HH_EVENT_TOOL, 0, session, NULL, &s, NULL);
    double d = now_ms() - t0;
    note(&faulty_start, d);
    if (row)
        lat_add(row, d);
    if (st != HH_OK)
        return 0;
    t0 = now_ms();
    hh_status st2 = hh_span_set_i64(s, HH_NS_METRICS, "n", 1);
    d = now_ms() - t0;
    note(&faulty_enrich, d);
    if (row)
        lat_add(row, d);
    t0 = now_ms();
    hh_status st3 = hh_span_end(s);
    d = now_ms() - t0;
    note(&faulty_end, d);
    if (row)
        lat_add(row, d);
    return st2 == HH_OK && st3 == HH_OK;
}

static hh_status timed_session(hh_tracer t, char sid[HH_SESSION_ID_BUF_LEN], lat_rec *row) {
    double t0 = now_ms();
    hh_status st = hh_session_create(t, "{\"session_name\":\"faulty\"}", sid, HH_SESSION_ID_BUF_LEN, NULL);
    double d = now_ms() - t0;
    note(&faulty_session, d);
    if (row)
        lat_add(row, d);
    t0 = now_ms();
    hh_status st2 = hh_session_enrich(t, sid, "{\"metadata\":{\"k\":1}}", NULL);
    d = now_ms() - t0;
    note(&faulty_session, d);
    if (row)
        lat_add(row, d);
    return st != HH_OK ? st : st2;
}

static void fmt_gaps(const double *times, size_t n, char *out, size_t cap) {
    out[0] = 0;
    size_t used = 0;
    for (size_t i = 1; i < n && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%.0f", i > 1 ? "," : "", times[i] - times[i - 1]);
    if (n < 2)
        snprintf(out, cap, "-");
}

/* ---------------------------------------------------------------------------------------- */
/* Status codes on the export path. */

static void status_row(int status, const char *retry_after, int times, int export_timeout_ms) {
    int retryable = status == 429 || status == 502 || status == 503 || status == 504;
    int n = 20;
    char row[64], prefix[32], fault[256], extra[256];
    snprintf(row, sizeof row, "export-%d%s%s%s", status, retry_after ? "-retry-after-" : "", retry_after ? retry_after : "",
             times == 0 ? "-forever" : "");
    snprintf(prefix, sizeof prefix, "st%d-%s-%d-", status, retry_after ? retry_after : "x", times);
    if (!selected(row))
        return;
    char title[128];
    snprintf(title, sizeof title, "fault row %s (times=%d, export_timeout_ms=%d)", row, times, export_timeout_ms);
    TEST_BEGIN(title);
    rcv_reset(&R);
    rcv_clear_fault(&R);
    snprintf(extra, sizeof extra, ",\"schedule_delay_ms\":600000,\"export_timeout_ms\":%d", export_timeout_ms);
    hh_tracer t = rel_tracer(NULL, extra);
    CHECK_OK(hh_tracer_flush(t, 5000)); /* the default session start, before the fault */
    snprintf(fault, sizeof fault,
             "{\"mode\":\"status\",\"status\":%d,\"retry_after\":%s%s%s,\"times\":%d,\"path_prefix\":\"/opentelemetry\"}",
             status, retry_after ? "\"" : "", retry_after ? retry_after : "null", retry_after ? "\"" : "", times);
    rcv_fault(&R, fault);
    hh_stats s0 = stats_of(t);
    lat_rec lat = {0};
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        CHECK(traced_op(t, name, NULL, &lat));
    }
    double t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, (uint32_t)(export_timeout_ms + 5000));
    double flush_ms = now_ms() - t0;
    hh_stats s1 = stats_of(t);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery d = count_delivery_in(reqs, prefix);
    double times_ms[16];
    int statuses[16];
    size_t nreq = trace_request_times(reqs, prefix, times_ms, statuses, 16);
    char gaps[256];
    fmt_gaps(times_ms, nreq, gaps, sizeof gaps);
    unsigned long long retries = s1.export_retries - s0.export_retries;
    unsigned long long dropped = s1.spans_dropped - s0.spans_dropped;
    unsigned long long failures = s1.export_failures - s0.export_failures;
    figure(row,
           "spans=%d requests=%zu retries=%llu failures=%llu accepted_unique=%zu duplicates=%zu dropped=%llu "
           "flush=%s flush_ms=%.0f retry_gaps_ms=%s app_call_max_ms=%.3f",
           n, nreq, retries, failures, d.unique_accepted, d.duplicates, dropped, status_str(fst), flush_ms, gaps,
           lat_max(&lat));
    CHECK_EQ(d.duplicates, 0);
    int waits_past_deadline = retry_after && atof(retry_after) * 1000.0 >= export_timeout_ms;
    if (retryable && times == 0) {
        /* Never clears: retried with backoff until the export deadline, then counted lost. */
        double span_ms = nreq >= 2 ? times_ms[nreq - 1] - times_ms[0] : 0;
        figure(row, "attempts_spread_ms=%.0f export_timeout_ms=%d", span_ms, export_timeout_ms);
        CHECK_MSG(retries >= 2, "only %llu retries before the deadline", retries);
        CHECK_EQ(nreq, (size_t)retries + 1);
        CHECK_MSG(span_ms < export_timeout_ms, "attempts spread over %.0f ms, past the %d ms export timeout", span_ms,
                  export_timeout_ms);
        CHECK_MSG(flush_ms < export_timeout_ms + 1000.0, "flush took %.0f ms", flush_ms);
        CHECK_EQ(failures, 1);
        CHECK_EQ(dropped, n);
        CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
    } else if (retryable && !waits_past_deadline) {
        /* Retried until the fault cleared itself; delivered exactly once. */
        CHECK_EQ(nreq, (size_t)times + 1);
        CHECK_EQ(retries, times);
        CHECK_EQ(failures, 0);
        CHECK_EQ(d.unique_accepted, n);
        CHECK_EQ(dropped, 0);
        CHECK_STATUS(fst, HH_OK);
        for (size_t i = 0; i + 1 < nreq; i++)
            CHECK_MSG(statuses[i] == status, "attempt %zu answered %d", i, statuses[i]);
        /* Backoff: without Retry-After 100 ms doubling (jitter 0.8-1.2); with it, at least the
         * time the server asked for. */
        for (size_t i = 1; i < nreq; i++) {
            double gap = times_ms[i] - times_ms[i - 1];
            if (retry_after) {
                double want = atof(retry_after) * 1000.0;
                CHECK_MSG(gap >= want - 5.0, "retry %zu came %.0f ms after a %d with Retry-After: %s (asked %.0f ms)", i,
                          gap, status, retry_after, want);
            } else {
                double base = 100.0 * (double)(1 << (i - 1));
                CHECK_MSG(gap >= 0.8 * base - 5.0, "retry %zu after %.0f ms, backoff floor %.0f ms", i, gap, 0.8 * base);
                CHECK_MSG(gap < 1.2 * base + 500.0, "retry %zu after %.0f ms, backoff ceiling %.0f ms", i, gap,
                          1.2 * base);
            }
        }
    } else if (retryable) {
        /* Retry-After beyond the export deadline: give up at once rather than wait past it. */
        CHECK_EQ(nreq, 1);
        CHECK_EQ(retries, 0);
        CHECK_EQ(failures, 1);
        CHECK_EQ(d.unique_accepted, 0);
        CHECK_EQ(dropped, n);
        CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
        CHECK_MSG(flush_ms < export_timeout_ms + 2000.0, "flush took %.0f ms", flush_ms);
    } else {
        /* Not retryable: exactly one request, the batch counted as dropped, flush says so. */
        CHECK_EQ(nreq, 1);
        CHECK_EQ(retries, 0);
        CHECK_EQ(failures, 1);
        CHECK_EQ(d.unique_accepted, 0);
        CHECK_EQ(dropped, n);
        CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
    }
    /* The stats agree with the wire: dropped == ended - accepted. */
    CHECK_EQ((long long)dropped, (long long)n - (long long)d.unique_accepted);
    jfree(reqs);
    rcv_clear_fault(&R);
    /* After the fault, the next flush is clean again. */
    char name[64];
    snprintf(name, sizeof name, "%safter", prefix);
    CHECK(traced_op(t, name, NULL, NULL));
    CHECK_OK(hh_tracer_flush(t, 5000));
    CHECK_OK(hh_tracer_close(t, 5000));
    lat_free(&lat);
}

/* Status codes on the session REST path. */
static void rest_status_row(int status, int times) {
    int retryable = status == 429 || status == 502 || status == 503 || status == 504;
    char row[64], fault[256], title[96];
    snprintf(row, sizeof row, "session-start-%d", status);
    if (!selected(row))
        return;
    snprintf(title, sizeof title, "fault row %s (times=%d)", row, times);
    TEST_BEGIN(title);
    rcv_reset(&R);
    snprintf(fault, sizeof fault, "{\"mode\":\"status\",\"status\":%d,\"times\":%d,\"path_prefix\":\"/session\"}", status,
             times);
    rcv_fault(&R, fault);
    lat_rec lat = {0};
    double t0 = now_ms();
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":600000,\"api_timeout_ms\":5000");
    double new_ms = now_ms() - t0;
    note(&faulty_new, new_ms);
    char sid[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_tracer_session_id(t, sid, sizeof sid, NULL));
    char name[64];
    snprintf(name, sizeof name, "rest%d-span", status);
    CHECK(traced_op(t, name, NULL, &lat));
    t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, 10000);
    double flush_ms = now_ms() - t0;
    hh_stats s = stats_of(t);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    size_t starts = count_requests_path(reqs, "POST", "/session/start", -1);
    size_t starts_ok = count_requests_path(reqs, "POST", "/session/start", 200);
    delivery d = count_delivery_in(reqs, "rest");
    figure(row,
           "session_start_requests=%zu accepted=%zu rest_failures=%llu span_accepted=%zu flush=%s flush_ms=%.0f "
           "tracer_new_ms=%.3f",
           starts, starts_ok, (unsigned long long)s.rest_failures, d.unique_accepted, status_str(fst), flush_ms, new_ms);
    if (retryable) {
        CHECK_EQ(starts, (size_t)times + 1);
        CHECK_EQ(starts_ok, 1);
        CHECK_EQ(s.rest_failures, 0);
        CHECK_STATUS(fst, HH_OK);
    } else {
        CHECK_EQ(starts, 1);
        CHECK_EQ(starts_ok, 0);
        CHECK_EQ(s.rest_failures, 1);
        CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
    }
    /* The session's span is exported either way (after its session call finished). */
    CHECK_EQ(d.unique_accepted, 1);
    jfree(reqs);
    rcv_clear_fault(&R);
    IGNORE_STATUS(hh_tracer_close(t, 5000));
    lat_free(&lat);
}

/* ---------------------------------------------------------------------------------------- */
/* A server that accepts and never answers. */

static void hang_row(void) {
    if (!selected("hang"))
        return;
    TEST_BEGIN("fault row hang (export path): app calls, flush and close bounded");
    rcv_reset(&R);
    rcv_clear_fault(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":600000,\"export_timeout_ms\":1500");
    CHECK_OK(hh_tracer_flush(t, 5000));
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/opentelemetry\"}");
    lat_rec lat = {0};
    CHECK(traced_op(t, "hang-first", NULL, &lat));
    /* Starts the export that hangs; returns at its timeout. */
    double t0 = now_ms();
    hh_status f1 = hh_tracer_flush(t, 300);
    double f1_ms = now_ms() - t0;
    CHECK_STATUS(f1, HH_ERR_TIMEOUT);
    CHECK_MSG(f1_ms < 300 + 2000, "flush(300) took %.0f ms", f1_ms);
    /* Application work while the export hangs. */
    int n = 1;
    double until = now_ms() + 1000;
    while (now_ms() < until) {
        char name[64];
        snprintf(name, sizeof name, "hang-%d", n++);
        CHECK(traced_op(t, name, NULL, &lat));
        if (n % 50 == 0) {
            char sid[HH_SESSION_ID_BUF_LEN];
            CHECK_OK(timed_session(t, sid, &lat));
        }
        usleep(1000);
    }
    /* The hung export gives up at export_timeout_ms; the next batch hangs again and fails too. */
    t0 = now_ms();
    hh_status f2 = hh_tracer_flush(t, 8000);
    double f2_ms = now_ms() - t0;
    hh_stats s = stats_of(t);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery d = count_delivery_in(reqs, "hang-");
    jfree(reqs);
    /* close while the server still hangs */
    CHECK(traced_op(t, "hang-at-close", NULL, &lat));
    t0 = now_ms();
    hh_status cst = hh_tracer_close(t, 500);
    double close_ms = now_ms() - t0;
    hh_stats s2 = stats_of(t);
    figure("hang",
           "spans=%d app_calls=%zu app_call_max_ms=%.3f app_call_p99_ms=%.3f flush300=%s flush300_ms=%.0f "
           "flush8000=%s flush8000_ms=%.0f export_failures=%llu dropped=%llu accepted=%zu close500=%s close_ms=%.0f "
           "dropped_after_close=%llu exported=%llu",
           n, lat.n, lat_max(&lat), lat_p99(&lat), status_str(f1), f1_ms, status_str(f2), f2_ms,
           (unsigned long long)s.export_failures, (unsigned long long)s.spans_dropped, d.unique_accepted,
           status_str(cst), close_ms, (unsigned long long)s2.spans_dropped, (unsigned long long)s2.spans_exported);
    CHECK_MSG(lat_max(&lat) < 50.0, "worst app call %.3f ms while the server hangs", lat_max(&lat));
    CHECK_STATUS(f2, HH_ERR_EXPORT_FAILED);
    CHECK_MSG(f2_ms < 8000, "flush(8000) took %.0f ms", f2_ms);
    CHECK_EQ(d.unique_accepted, 0);
    CHECK_EQ(s.spans_dropped, (unsigned long long)n); /* every span of the row, none delivered */
    CHECK_STATUS(cst, HH_ERR_TIMEOUT);
    CHECK_MSG(close_ms < 500 + 1000, "close(500) took %.0f ms", close_ms);
    rcv_clear_fault(&R);
    lat_free(&lat);
}

/* Minimal form of the hang row's flush check: a flush that timed out must not make the next
 * flush report HH_OK for spans that were lost. */
static void flush_after_timeout_row(void) {
    if (!selected("flush-after-timeout"))
        return;
    TEST_BEGIN("fault row flush-after-timeout: a timed-out flush must not hide a loss from the next");
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":600000,\"export_timeout_ms\":1000");
    CHECK_OK(hh_tracer_flush(t, 5000));
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/opentelemetry\"}");
    hh_span s = 0;
    CHECK_OK(hh_span_start(t, "lost-span", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL));
    CHECK_OK(hh_span_end(s));
    hh_status f1 = hh_tracer_flush(t, 100); /* times out: the export hangs for 1000 ms */
    hh_status f2 = hh_tracer_flush(t, 5000); /* the export has failed by now */
    hh_stats st = stats_of(t);
    figure("flush-after-timeout", "flush100=%s then flush5000=%s exported=%llu dropped=%llu export_failures=%llu",
           status_str(f1), status_str(f2), (unsigned long long)st.spans_exported,
           (unsigned long long)st.spans_dropped, (unsigned long long)st.export_failures);
    CHECK_STATUS(f1, HH_ERR_TIMEOUT);
    CHECK_EQ(st.spans_dropped, 1);
    /* "HH_OK: everything that ended before the call was delivered": lost-span was not. */
    CHECK_STATUS(f2, HH_ERR_EXPORT_FAILED);
    rcv_clear_fault(&R);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
}

/* The session REST endpoint hangs: session calls give up at api_timeout_ms, spans wait for
 * them and are then exported. */
static void rest_hang_row(void) {
    if (!selected("hang-session-rest"))
        return;
    TEST_BEGIN("fault row hang (session REST path)");
    rcv_reset(&R);
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/session\"}");
    lat_rec lat = {0};
    double t0 = now_ms();
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50,\"api_timeout_ms\":1000");
    double new_ms = now_ms() - t0;
    note(&faulty_new, new_ms);
    lat_add(&lat, new_ms);
    int n = 0;
    for (int i = 0; i < 10; i++) {
        char sid[HH_SESSION_ID_BUF_LEN];
        CHECK_OK(timed_session(t, sid, &lat));
        for (int j = 0; j < 10; j++) {
            char name[64];
            snprintf(name, sizeof name, "resthang-%d", n++);
            CHECK(traced_op(t, name, sid, &lat));
        }
    }
    t0 = now_ms();
    hh_status f1 = hh_tracer_flush(t, 200);
    double f1_ms = now_ms() - t0;
    t0 = now_ms();
    hh_status f2 = hh_tracer_flush(t, 10000);
    double f2_ms = now_ms() - t0;
    hh_stats s = stats_of(t);
    delivery d = count_delivery(&R, "resthang-");
    figure("hang-session-rest",
           "spans=%d sessions=10 app_call_max_ms=%.3f app_call_p99_ms=%.3f flush200=%s flush200_ms=%.0f flush=%s "
           "flush_ms=%.0f rest_failures=%llu accepted_unique=%zu duplicates=%zu",
           n, lat_max(&lat), lat_p99(&lat), status_str(f1), f1_ms, status_str(f2), f2_ms,
           (unsigned long long)s.rest_failures, d.unique_accepted, d.duplicates);
    CHECK_MSG(lat_max(&lat) < 50.0, "worst app call %.3f ms while session calls hang", lat_max(&lat));
    CHECK_STATUS(f1, HH_ERR_TIMEOUT);
    /* 10 session starts failed after the 200 ms flush timed out: this flush must say so. */
    CHECK_STATUS(f2, HH_ERR_EXPORT_FAILED);
    CHECK_EQ(s.rest_failures, 10); /* 10 session starts (the unused default session is never started) */
    CHECK_EQ(d.unique_accepted, n);
    CHECK_EQ(d.duplicates, 0);
    rcv_clear_fault(&R);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
    lat_free(&lat);
}

/* ---------------------------------------------------------------------------------------- */
/* Session calls never hold spans back: a span waits only for the start of its own session, at
 * most api_timeout_ms; never for an enrich call (PUT /events), never for another session. */

/* Spans of the receiver's span list (as fetched) whose session is `sid`. */
static size_t spans_of_session(const char *sid) {
    jval *spans = rcv_get_json(&R, "/__hh/spans");
    size_t n = spans ? spans_with_attr(spans, "honeyhive.session_id", sid) : 0;
    jfree(spans);
    return n;
}

/* PUT /events hangs while the OTLP endpoint is healthy: every span goes, within a flush that
 * itself times out on the hung enrich calls. */
static void events_hang_row(void) {
    if (!selected("events-hang-spans-flow"))
        return;
    TEST_BEGIN("fault row events-hang-spans-flow: PUT /events hangs, spans still go");
    rcv_reset(&R);
    rcv_clear_fault(&R);
    /* The enrich calls hang for 30 s: long past every wait of this row. */
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50,\"api_timeout_ms\":30000");
    CHECK_OK(hh_tracer_flush(t, 5000)); /* the default session start, before the fault */
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/events\"}");
    int n = 0;
    for (int i = 0; i < 20; i++) {
        CHECK_OK(hh_session_enrich(t, NULL, "{\"metadata\":{\"round\":1}}", NULL));
        for (int j = 0; j < 50; j++) {
            char name[64];
            snprintf(name, sizeof name, "evhang-%d", n++);
            CHECK(traced_op(t, name, NULL, NULL));
        }
    }
    double t0 = now_ms();
    hh_status f = hh_tracer_flush(t, 3000); /* times out: the enrich calls it covers hang */
    double flush_ms = now_ms() - t0;
    delivery d = count_delivery(&R, "evhang-");
    hh_stats s = stats_of(t);
    figure("events-hang-spans-flow",
           "spans=%d enrich_calls=20 flush3000=%s flush_ms=%.0f accepted_unique=%zu duplicates=%zu dropped=%llu",
           n, status_str(f), flush_ms, d.unique_accepted, d.duplicates, (unsigned long long)s.spans_dropped);
    CHECK_STATUS(f, HH_ERR_TIMEOUT);
    CHECK_EQ(d.unique_accepted, n);
    CHECK_EQ(d.duplicates, 0);
    CHECK_EQ(s.spans_dropped, 0);
    rcv_clear_fault(&R);
    IGNORE_STATUS(hh_tracer_close(t, 1000)); /* the hung calls are cancelled after it */
}

/* PUT /events answers 503 (retried up to api_timeout_ms) while 5000 spans end, faster than a
 * queue of 4096 drains if the worker waited for the enrich calls: none may be dropped. */
static void events_503_row(void) {
    if (!selected("events-503-no-drops"))
        return;
    TEST_BEGIN("fault row events-503-no-drops: PUT /events answers 503, no span dropped");
    rcv_reset(&R);
    rcv_clear_fault(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50,\"api_timeout_ms\":10000,\"max_queue_size\":4096");
    CHECK_OK(hh_tracer_flush(t, 5000));
    rcv_fault(&R, "{\"mode\":\"status\",\"status\":503,\"path_prefix\":\"/events\"}");
    for (int i = 0; i < 3; i++)
        CHECK_OK(hh_session_enrich(t, NULL, "{\"metadata\":{\"pending\":1}}", NULL));
    int n = 0;
    for (int round = 0; round < 20; round++) {
        for (int j = 0; j < 250; j++) {
            char name[64];
            snprintf(name, sizeof name, "ev503-%d", n++);
            CHECK(traced_op(t, name, NULL, NULL));
        }
        sleep_ms(50);
    }
    rcv_clear_fault(&R);
    hh_status f = hh_tracer_flush(t, 20000);
    hh_stats s = stats_of(t);
    delivery d = count_delivery(&R, "ev503-");
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    size_t events_ok = count_requests_path(reqs, "PUT", "/events", 200);
    size_t events_503 = count_requests_path(reqs, "PUT", "/events", 503);
    jfree(reqs);
    figure("events-503-no-drops",
           "spans=%d queue=4096 enrich_calls=3 events_503=%zu events_ok=%zu flush=%s accepted_unique=%zu "
           "dropped=%llu rest_failures=%llu",
           n, events_503, events_ok, status_str(f), d.unique_accepted, (unsigned long long)s.spans_dropped,
           (unsigned long long)s.rest_failures);
    CHECK_EQ(s.spans_dropped, 0);
    CHECK_EQ(d.unique_accepted, n);
    CHECK_EQ(d.duplicates, 0);
    CHECK(events_503 >= 3);
    IGNORE_STATUS(hh_tracer_close(t, 5000));
}

/* One session's POST /session/start hangs: the spans of another session go at once; its own
 * spans go once its start gives up (api_timeout_ms), and none is lost. */
static void start_hang_row(void) {
    if (!selected("session-start-hang-isolated"))
        return;
    TEST_BEGIN("fault row session-start-hang-isolated: a hung session start delays only its own spans");
    rcv_reset(&R);
    rcv_clear_fault(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50,\"api_timeout_ms\":6000");
    CHECK_OK(hh_tracer_flush(t, 5000)); /* nothing: the default session starts at its first use */
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/session/start\",\"times\":1}");
    char hung[HH_SESSION_ID_BUF_LEN], other[HH_SESSION_ID_BUF_LEN];
    CHECK_OK(hh_session_create(t, "{\"session_name\":\"hung\"}", hung, sizeof hung, NULL));
    /* The hung start reached the receiver (the fault is spent): the next start is answered. */
    jfree(rcv_wait_requests(&R, 1, 5000));
    CHECK_OK(hh_session_create(t, "{\"session_name\":\"other\"}", other, sizeof other, NULL));
    for (int i = 0; i < 100; i++) {
        char name[64];
        snprintf(name, sizeof name, "hungs-%d", i);
        CHECK(traced_op(t, name, hung, NULL));
        snprintf(name, sizeof name, "others-%d", i);
        CHECK(traced_op(t, name, other, NULL));
    }
    double t0 = now_ms();
    hh_status f1 = hh_tracer_flush(t, 2000); /* times out: it covers the hung start */
    double f1_ms = now_ms() - t0;
    size_t other_early = spans_of_session(other);
    t0 = now_ms();
    hh_status f2 = hh_tracer_flush(t, 20000);
    double f2_ms = now_ms() - t0;
    size_t other_all = spans_of_session(other), hung_all = spans_of_session(hung);
    hh_stats s = stats_of(t);
    delivery d = count_delivery(&R, NULL);
    figure("session-start-hang-isolated",
           "spans_per_session=100 flush2000=%s flush2000_ms=%.0f other_after_flush2000=%zu flush=%s flush_ms=%.0f "
           "other=%zu hung=%zu rest_failures=%llu duplicates=%zu",
           status_str(f1), f1_ms, other_early, status_str(f2), f2_ms, other_all, hung_all,
           (unsigned long long)s.rest_failures, d.duplicates);
    CHECK_STATUS(f1, HH_ERR_TIMEOUT);
    CHECK_EQ(other_early, 100);
    /* The hung start gave up: that failure is the flush's to report; its spans went anyway. */
    CHECK_STATUS(f2, HH_ERR_EXPORT_FAILED);
    CHECK_EQ(hung_all, 100);
    CHECK_EQ(other_all, 100);
    CHECK_EQ(s.rest_failures, 1);
    CHECK_EQ(d.duplicates, 0);
    rcv_clear_fault(&R);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
}

/* ---------------------------------------------------------------------------------------- */
/* Connection resets. */

static void reset_row(int times, int export_timeout_ms) {
    char row[64], title[96];
    snprintf(row, sizeof row, times ? "reset-x%d" : "reset-always", times);
    if (!selected(row))
        return;
    snprintf(title, sizeof title, "fault row %s", row);
    TEST_BEGIN(title);
    rcv_reset(&R);
    char extra[128];
    snprintf(extra, sizeof extra, ",\"schedule_delay_ms\":600000,\"export_timeout_ms\":%d", export_timeout_ms);
    hh_tracer t = rel_tracer(NULL, extra);
    CHECK_OK(hh_tracer_flush(t, 5000));
    char fault[160];
    snprintf(fault, sizeof fault, "{\"mode\":\"reset\",\"times\":%d,\"path_prefix\":\"/opentelemetry\"}", times);
    rcv_fault(&R, fault);
    int n = 20;
    lat_rec lat = {0};
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "reset%d-%d", times, i);
        CHECK(traced_op(t, name, NULL, &lat));
    }
    double t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, (uint32_t)export_timeout_ms + 5000);
    double flush_ms = now_ms() - t0;
    hh_stats s = stats_of(t);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "reset%d-", times);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery d = count_delivery_in(reqs, prefix);
    double times_ms[64];
    size_t nreq = trace_request_times(reqs, prefix, times_ms, NULL, 64);
    jfree(reqs);
    figure(row,
           "spans=%d requests=%zu retries=%llu failures=%llu attempted_spans=%zu accepted_unique=%zu duplicates=%zu "
           "dropped=%llu flush=%s flush_ms=%.0f",
           n, nreq, (unsigned long long)s.export_retries, (unsigned long long)s.export_failures, d.attempted_spans,
           d.unique_accepted, d.duplicates, (unsigned long long)s.spans_dropped, status_str(fst), flush_ms);
    CHECK_EQ(d.duplicates, 0);
    if (times) {
        CHECK_EQ(nreq, (size_t)times + 1);
        CHECK_EQ(s.export_retries, times);
        CHECK_EQ(d.unique_accepted, n);
        CHECK_EQ(s.spans_dropped, 0);
        CHECK_STATUS(fst, HH_OK);
    } else {
        CHECK(s.export_retries >= 1);
        /* the stats count the retries the receiver saw */
        CHECK_MSG(nreq == (size_t)s.export_retries + 1, "stats: %llu retries; the receiver saw %zu requests",
                  (unsigned long long)s.export_retries, nreq);
        CHECK_EQ(s.export_failures, 1);
        CHECK_EQ(d.unique_accepted, 0);
        CHECK_EQ(s.spans_dropped, n);
        CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
        CHECK_MSG(flush_ms < export_timeout_ms + 2000, "flush took %.0f ms", flush_ms);
    }
    rcv_clear_fault(&R);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
    lat_free(&lat);
}

/* ---------------------------------------------------------------------------------------- */
/* A slow server: the response trickles one byte every delay_ms. */

typedef struct {
    hh_tracer t;
    uint32_t timeout;
    hh_status st;
    double ms;
} flusher_arg;

static void *flusher(void *p) {
    flusher_arg *a = p;
    double t0 = now_ms();
    a->st = hh_tracer_flush(a->t, a->timeout);
    a->ms = now_ms() - t0;
    return NULL;
}

static void trickle_row(int delay_ms, int export_timeout_ms) {
    char row[64], title[96];
    snprintf(row, sizeof row, "trickle-%dms-timeout-%d", delay_ms, export_timeout_ms);
    if (!selected(row))
        return;
    snprintf(title, sizeof title, "fault row %s", row);
    TEST_BEGIN(title);
    rcv_reset(&R);
    char extra[128];
    snprintf(extra, sizeof extra, ",\"schedule_delay_ms\":600000,\"export_timeout_ms\":%d", export_timeout_ms);
    hh_tracer t = rel_tracer(NULL, extra);
    CHECK_OK(hh_tracer_flush(t, 5000));
    char fault[160];
    snprintf(fault, sizeof fault, "{\"mode\":\"trickle\",\"delay_ms\":%d,\"path_prefix\":\"/opentelemetry\"}", delay_ms);
    rcv_fault(&R, fault);
    int n = 20;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "trickle%d-", export_timeout_ms);
    lat_rec lat = {0};
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        CHECK(traced_op(t, name, NULL, &lat));
    }
    /* The flush runs on another thread; this one keeps working while the response trickles. */
    flusher_arg fa = {t, (uint32_t)export_timeout_ms + 10000, HH_OK, 0};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, flusher, &fa), 0);
    lat_rec during = {0};
    for (int i = 0; i < 200; i++) {
        char name[64];
        snprintf(name, sizeof name, "during-trickle-%d", i);
        CHECK(traced_op(t, name, NULL, &during));
        usleep(2000);
    }
    pthread_join(th, NULL);
    /* The spans made during the flush go out (or fail) too, still under the fault. */
    hh_status f2 = hh_tracer_flush(t, (uint32_t)export_timeout_ms + 10000);
    rcv_clear_fault(&R);
    hh_stats s = stats_of(t);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery d = count_delivery_in(reqs, prefix);
    jfree(reqs);
    figure(row,
           "spans=%d accepted_by_receiver=%zu exported=%llu dropped=%llu retries=%llu flush=%s flush_ms=%.0f "
           "app_call_max_ms=%.3f app_call_p99_ms=%.3f",
           n, d.unique_accepted, (unsigned long long)s.spans_exported, (unsigned long long)s.spans_dropped,
           (unsigned long long)s.export_retries, status_str(fa.st), fa.ms, lat_max(&during), lat_p99(&during));
    CHECK_MSG(lat_max(&during) < 50.0, "worst app call %.3f ms during a trickled export", lat_max(&during));
    /* n spans before the flush, 200 during it */
    if (export_timeout_ms >= 10000) {
        CHECK_STATUS(fa.st, HH_OK);
        CHECK_STATUS(f2, HH_OK);
        CHECK_EQ(d.unique_accepted, n);
        CHECK_EQ(s.spans_dropped, 0);
    } else {
        /* The client gave up before the answer ended: counted as lost, flush says so (the
         * receiver had the request: HTTP cannot tell the client). */
        CHECK_STATUS(fa.st, HH_ERR_EXPORT_FAILED);
        /* (f2 may be HH_OK: the first flush's answer already covered the later losses.) */
        (void)f2;
        CHECK_EQ(s.spans_dropped, n + 200);
        CHECK_MSG(fa.ms < export_timeout_ms + 2000.0, "flush took %.0f ms", fa.ms);
    }
    IGNORE_STATUS(hh_tracer_close(t, 5000));
    lat_free(&lat);
    lat_free(&during);
}

/* ---------------------------------------------------------------------------------------- */
/* Connection refused. */

static int unused_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return 1; /* port 1: nothing listens there either */
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* Nothing ever listens: everything fails within the configured deadlines. */
static void refused_forever_row(void) {
    if (!selected("refused-forever"))
        return;
    TEST_BEGIN("fault row refused (nothing listens, ever)");
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", unused_port());
    lat_rec lat = {0};
    double t0 = now_ms();
    hh_tracer t = rel_tracer(url, ",\"schedule_delay_ms\":100,\"export_timeout_ms\":1500,\"api_timeout_ms\":1000");
    double new_ms = now_ms() - t0;
    note(&faulty_new, new_ms);
    lat_add(&lat, new_ms);
    int n = 50;
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "refused-%d", i);
        CHECK(traced_op(t, name, NULL, &lat));
        if (i % 10 == 0) {
            char sid[HH_SESSION_ID_BUF_LEN];
            CHECK_OK(timed_session(t, sid, &lat));
        }
        usleep(2000);
    }
    t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, 10000);
    double flush_ms = now_ms() - t0;
    hh_stats s = stats_of(t);
    t0 = now_ms();
    hh_status cst = hh_tracer_close(t, 1000);
    double close_ms = now_ms() - t0;
    figure("refused-forever",
           "spans=%d app_call_max_ms=%.3f app_call_p99_ms=%.3f tracer_new_ms=%.3f flush=%s flush_ms=%.0f "
           "export_requests=%llu export_failures=%llu retries=%llu dropped=%llu rest_calls=%llu rest_failures=%llu "
           "close=%s close_ms=%.0f",
           n, lat_max(&lat), lat_p99(&lat), new_ms, status_str(fst), flush_ms,
           (unsigned long long)s.export_requests, (unsigned long long)s.export_failures,
           (unsigned long long)s.export_retries, (unsigned long long)s.spans_dropped,
           (unsigned long long)s.rest_calls, (unsigned long long)s.rest_failures, status_str(cst), close_ms);
    CHECK_MSG(lat_max(&lat) < 50.0, "worst app call %.3f ms while the server refuses", lat_max(&lat));
    CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
    CHECK_EQ(s.spans_dropped, n);
    CHECK_EQ(s.spans_exported, 0);
    CHECK(s.export_retries >= 1);
    CHECK_EQ(s.rest_failures, s.rest_calls);
    CHECK_EQ(s.rest_calls, 1 + 2 * 5);
    CHECK_MSG(close_ms < 1000 + 1000, "close(1000) took %.0f ms", close_ms);
    lat_free(&lat);
}

/* The server is down when the tracer starts and comes back 1.5 s later. */
static void refused_at_init_row(void) {
    if (!selected("refused-at-init"))
        return;
    TEST_BEGIN("fault row refused at init, server back after 1.5 s");
    rcv_reset(&R);
    rcv_pause(&R, 1500);
    double down_at = now_ms();
    lat_rec lat = {0};
    double t0 = now_ms();
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":100,\"export_timeout_ms\":10000,\"api_timeout_ms\":8000");
    double new_ms = now_ms() - t0;
    note(&faulty_new, new_ms);
    lat_add(&lat, new_ms);
    char sids[3][HH_SESSION_ID_BUF_LEN];
    int n = 0;
    for (int k = 0; k < 3; k++) {
        CHECK_OK(timed_session(t, sids[k], &lat));
        for (int i = 0; i < 100; i++) {
            char name[64];
            snprintf(name, sizeof name, "atinit-%d", n++);
            CHECK(traced_op(t, name, sids[k], &lat));
        }
    }
    double work_ms = now_ms() - down_at;
    CHECK_MSG(wait_receiver(&R, 1, 5000), "receiver did not come back");
    t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, 20000);
    double flush_ms = now_ms() - t0;
    hh_stats s = stats_of(t);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery d = count_delivery_in(reqs, "atinit-");
    size_t starts_ok = count_requests_path(reqs, "POST", "/session/start", 200);
    jfree(reqs);
    figure("refused-at-init",
           "outage_ms=1500 spans=%d sessions=3 app_work_ms=%.0f app_call_max_ms=%.3f app_call_p99_ms=%.3f "
           "tracer_new_ms=%.3f flush=%s flush_ms=%.0f accepted_unique=%zu duplicates=%zu dropped=%llu retries=%llu "
           "session_starts_accepted=%zu rest_failures=%llu",
           n, work_ms, lat_max(&lat), lat_p99(&lat), new_ms, status_str(fst), flush_ms, d.unique_accepted,
           d.duplicates, (unsigned long long)s.spans_dropped, (unsigned long long)s.export_retries, starts_ok,
           (unsigned long long)s.rest_failures);
    CHECK_MSG(lat_max(&lat) < 50.0, "worst app call %.3f ms while the server is down", lat_max(&lat));
    CHECK_STATUS(fst, HH_OK);
    CHECK_EQ(d.unique_accepted, n);
    CHECK_EQ(d.duplicates, 0);
    CHECK_EQ(s.spans_dropped, 0);
    CHECK_EQ(starts_ok, 3); /* the 3 sessions (the unused default session is never started) */
    CHECK_EQ(s.rest_failures, 0);
    IGNORE_STATUS(hh_tracer_close(t, 5000));
    lat_free(&lat);
}

/* ---------------------------------------------------------------------------------------- */
/* The server dies mid-run and comes back: producers never stop. */

typedef struct {
    hh_tracer t;
    int id, n, interval_us;
    const char *prefix;
    atomic_int *outage;
    lat_rec lat_outage, lat_normal;
    long errors;
    int ended;
} producer;

static void *produce(void *p) {
    producer *w = p;
    char sid[HH_SESSION_ID_BUF_LEN] = "";
    for (int i = 0; i < w->n; i++) {
        lat_rec *rec = atomic_load(w->outage) ? &w->lat_outage : &w->lat_normal;
        if (i % 100 == 0) {
            double t0 = now_ms();
            if (hh_session_create(w->t, NULL, sid, sizeof sid, NULL) != HH_OK)
                w->errors++;
            lat_add(rec, now_ms() - t0);
        }
        char name[64];
        snprintf(name, sizeof name, "%s%d-%d", w->prefix, w->id, i);
        hh_span s = 0;
        double t0 = now_ms();
        hh_status st = hh_span_start(w->t, name, HH_EVENT_TOOL, 0, sid, NULL, &s, NULL);
        lat_add(rec, now_ms() - t0);
        if (st != HH_OK) {
            w->errors++;
            continue;
        }
        t0 = now_ms();
        st = hh_span_end(s);
        lat_add(rec, now_ms() - t0);
        if (st != HH_OK)
            w->errors++;
        else
            w->ended++;
        if (w->interval_us)
            usleep((useconds_t)w->interval_us);
    }
    return NULL;
}

static void outage_row(const char *row, int n_per_thread, int interval_us, int outage_ms, const char *extra,
                       int expect_all) {
    if (!selected(row))
        return;
    char title[128];
    snprintf(title, sizeof title, "fault row %s: %d x %d spans, outage %d ms", row, 2, n_per_thread, outage_ms);
    TEST_BEGIN(title);
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, extra);
    CHECK_OK(hh_tracer_flush(t, 5000));
    atomic_int outage = 0;
    producer w[2];
    pthread_t th[2];
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s-", row);
    /* Past the bound: the outage starts first and the producers fill the queue during it.
     * Within the bound: the outage hits producers already running. */
    double down = 0;
    if (!expect_all) {
        rcv_pause(&R, outage_ms);
        atomic_store(&outage, 1);
        down = now_ms();
    }
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].t = t;
        w[i].id = i;
        w[i].n = n_per_thread;
        w[i].interval_us = interval_us;
        w[i].prefix = prefix;
        w[i].outage = &outage;
        CHECK_EQ(pthread_create(&th[i], NULL, produce, &w[i]), 0);
    }
    if (expect_all) {
        sleep_ms(700);
        rcv_pause(&R, outage_ms);
        atomic_store(&outage, 1);
        down = now_ms();
    } else {
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
    }
    CHECK_MSG(wait_receiver(&R, 1, outage_ms + 5000), "receiver did not come back");
    atomic_store(&outage, 0);
    double down_ms = now_ms() - down;
    if (expect_all)
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
    double t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, 30000);
    double flush_ms = now_ms() - t0;
    hh_stats s = stats_of(t);
    delivery d = count_delivery(&R, prefix);
    lat_rec lo = {0}, ln = {0};
    long errors = 0;
    int ended = 0;
    for (int i = 0; i < 2; i++) {
        lat_merge(&lo, &w[i].lat_outage);
        lat_merge(&ln, &w[i].lat_normal);
        lat_merge(&all_faulty, &w[i].lat_outage);
        errors += w[i].errors;
        ended += w[i].ended;
        lat_free(&w[i].lat_outage);
        lat_free(&w[i].lat_normal);
    }
    long long lost = (long long)ended - (long long)d.unique_accepted;
    figure(row,
           "spans_ended=%d outage_ms=%.0f calls_during_outage=%zu app_call_max_ms_outage=%.3f "
           "app_call_p99_ms_outage=%.3f app_call_max_ms_normal=%.3f accepted_unique=%zu duplicates=%zu "
           "not_arrived=%lld stats_dropped=%llu stats_exported=%llu retries=%llu flush=%s flush_ms=%.0f",
           ended, down_ms, lo.n, lat_max(&lo), lat_p99(&lo), lat_max(&ln), d.unique_accepted, d.duplicates, lost,
           (unsigned long long)s.spans_dropped, (unsigned long long)s.spans_exported,
           (unsigned long long)s.export_retries, status_str(fst), flush_ms);
    CHECK_EQ(errors, 0);
    CHECK_EQ(ended, 2 * n_per_thread);
    CHECK_MSG(lo.n > 0, "no calls happened during the outage");
    CHECK_MSG(lat_max(&lo) < 50.0, "worst app call %.3f ms during the outage", lat_max(&lo));
    CHECK_EQ(d.duplicates, 0);
    /* What the stats call dropped is exactly what did not arrive. */
    CHECK_EQ((long long)s.spans_dropped, lost);
    CHECK_EQ(s.spans_exported, d.unique_accepted);
    if (expect_all) {
        CHECK_EQ(lost, 0);
        CHECK_STATUS(fst, HH_OK);
    } else {
        CHECK_MSG(lost > 0, "expected drops past the queue bound");
        CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
        /* ...and a later flush, with nothing lost since, is clean again. */
        CHECK_OK(hh_tracer_flush(t, 5000));
    }
    IGNORE_STATUS(hh_tracer_close(t, 5000));
    lat_free(&lo);
    lat_free(&ln);
}

/* ---------------------------------------------------------------------------------------- */
/* A flush while another thread keeps ending spans faster than a slow server takes them: the
 * flush owes only the spans that ended before it was called. */

typedef struct {
    hh_tracer t;
    atomic_int *stop;
    atomic_long ended;
} overload_arg;

static void *overload_producer(void *p) {
    overload_arg *a = p;
    char name[64];
    for (long i = 0; !atomic_load(a->stop); i++) {
        snprintf(name, sizeof name, "ovl-%ld", i);
        hh_span s = 0;
        if (hh_span_start(a->t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK && hh_span_end(s) == HH_OK)
            atomic_fetch_add(&a->ended, 1);
        usleep(2500);
    }
    return NULL;
}

static void flush_under_overload_row(void) {
    if (!selected("flush-under-overload"))
        return;
    TEST_BEGIN("fault row flush-under-overload: flush owes the spans ended before it, not the ones after");
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50,\"max_export_batch_size\":100,\"max_queue_size\":100000,"
                                   "\"export_timeout_ms\":10000");
    CHECK_OK(hh_tracer_flush(t, 5000));
    /* ~0.75 s per export request: ~130 spans/s get through, the producer makes ~400/s. */
    rcv_fault(&R, "{\"mode\":\"trickle\",\"delay_ms\":5,\"path_prefix\":\"/opentelemetry\"}");
    atomic_int stop = 0;
    overload_arg a = {t, &stop, 0};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, overload_producer, &a), 0);
    sleep_ms(500);
    long before = atomic_load(&a.ended); /* spans ovl-0 .. ovl-(before-1) ended before the call */
    double t0 = now_ms();
    hh_status st = hh_tracer_flush(t, 5000);
    double flush_ms = now_ms() - t0;
    /* What had arrived when the flush returned (the receiver records a trickled request when
     * it starts answering; these requests had been answered in full long before). */
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    long owed_arrived = 0;
    for (long i = 0; i < before; i++) {
        char name[32];
        snprintf(name, sizeof name, "ovl-%ld", i);
        if (name_accepted(reqs, name))
            owed_arrived++;
    }
    double times_ms[256];
    size_t nreq = trace_request_times(reqs, "ovl-", times_ms, NULL, 256);
    jfree(reqs);
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    rcv_clear_fault(&R);
    figure("flush-under-overload",
           "ended_before_flush=%ld of_those_delivered_when_flush_returned=%ld flush=%s flush_ms=%.0f export_requests=%zu "
           "ended_total=%ld",
           before, owed_arrived, status_str(st), flush_ms, nreq, atomic_load(&a.ended));
    CHECK_MSG(owed_arrived == before, "only %ld of the %ld spans owed were delivered", owed_arrived, before);
    /* Everything the flush owed was delivered: it must say HH_OK (in time). */
    CHECK_MSG(st == HH_OK, "flush returned %s after %.0f ms although all %ld spans that ended before it were delivered",
              status_str(st), flush_ms, before);
    IGNORE_STATUS(hh_tracer_close(t, 30000));
}

/* ---------------------------------------------------------------------------------------- */

/* ---------------------------------------------------------------------------------------- */
/* A file exporter writing to a FIFO nobody reads blocks in write(): only its own tracer may
 * stall. Another tracer, made after the stall began, exports over HTTP as usual; the stuck one
 * counts what it cannot write as dropped once its export timeout passes. */

/* Bytes waiting in the pipe behind `fd`. */
static int pipe_fill(int fd) {
    int n = 0;
    return ioctl(fd, FIONREAD, &n) == 0 ? n : -1;
}

static void fifo_stall_row(void) {
    if (!selected("file-exporter-fifo-stall"))
        return;
    TEST_BEGIN("fault row file-exporter-fifo-stall: a file exporter blocked on a full FIFO stalls no other tracer");
    rcv_reset(&R);
    rcv_clear_fault(&R);
    char dir[] = "/tmp/hh-rel-fifo-XXXXXX", fifo[128];
    if (!mkdtemp(dir)) {
        CHECK_MSG(0, "mkdtemp: %s", strerror(errno));
        return;
    }
    snprintf(fifo, sizeof fifo, "%s/spans.fifo", dir);
    CHECK_MSG(mkfifo(fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
    /* Held open read-write by the test, so the library's open does not block, and never read
     * until the end: once the pipe buffer is full, every write blocks. */
    int fd = open(fifo, O_RDWR | O_NONBLOCK);
    CHECK_MSG(fd >= 0, "open fifo: %s", strerror(errno));
    if (fd < 0)
        return;
    int cap = fcntl(fd, F_GETPIPE_SZ);
    char extra[256];
    snprintf(extra, sizeof extra,
             "{\"exporter\":\"file\",\"file_path\":\"%s\",\"schedule_delay_ms\":50,\"export_timeout_ms\":500}", fifo);
    hh_tracer stuck = 0;
    hh_error err;
    memset(&err, 0, sizeof err);
    hh_status st = hh_tracer_new(extra, &stuck, &err);
    CHECK_MSG(st == HH_OK, "file tracer: %s %s", status_str(st), err.message);
    if (st != HH_OK) {
        close(fd);
        unlink(fifo);
        rmdir(dir);
        return;
    }
    /* Far more than the pipe holds (each span is a few hundred bytes of JSON). */
    const int n_stuck = quick ? 1000 : 3000;
    int ended = 0;
    for (int i = 0; i < n_stuck; i++) {
        char name[64];
        snprintf(name, sizeof name, "fifo-stuck-%d", i);
        ended += traced_op(stuck, name, NULL, NULL);
    }
    /* The stall has begun: the pipe is full (bounded wait). */
    int fill = 0;
    for (double t0 = now_ms(); now_ms() - t0 < 10000; sleep_ms(20)) {
        fill = pipe_fill(fd);
        if (fill >= cap)
            break;
    }
    CHECK_MSG(fill >= cap, "the pipe never filled: %d of %d bytes", fill, cap);
    double t0 = now_ms();
    hh_status fstuck = hh_tracer_flush(stuck, 5000);
    double fstuck_ms = now_ms() - t0;
    hh_stats s_after_flush = stats_of(stuck);

    /* The other tracer, made after the stall began. */
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50");
    const int n = 100;
    for (int i = 0; i < n && t; i++) {
        char name[64];
        snprintf(name, sizeof name, "fifo-other-%d", i);
        CHECK(traced_op(t, name, NULL, NULL));
    }
    t0 = now_ms();
    hh_status f = t ? hh_tracer_flush(t, 10000) : HH_ERR_INVALID_ARGUMENT;
    double f_ms = now_ms() - t0;
    delivery d = count_delivery(&R, "fifo-other-");

    /* A bounded close of the stuck tracer, still with nobody reading. */
    t0 = now_ms();
    hh_status cstuck = hh_tracer_close(stuck, 3000);
    double cstuck_ms = now_ms() - t0;
    hh_stats s = stats_of(stuck);
    figure("file-exporter-fifo-stall",
           "pipe_bytes=%d/%d stuck_spans=%d stuck_flush5000=%s stuck_flush_ms=%.0f dropped_after_flush=%llu "
           "other: spans=%d flush10000=%s flush_ms=%.0f accepted_unique=%zu duplicates=%zu "
           "stuck_close3000=%s close_ms=%.0f stuck: ended=%llu exported=%llu dropped=%llu",
           fill, cap, ended, status_str(fstuck), fstuck_ms, (unsigned long long)s_after_flush.spans_dropped, n,
           status_str(f), f_ms, d.unique_accepted, d.duplicates, status_str(cstuck), cstuck_ms,
           (unsigned long long)s.spans_ended, (unsigned long long)s.spans_exported,
           (unsigned long long)s.spans_dropped);
    CHECK_OK(f);
    CHECK_EQ(d.unique_accepted, n);
    CHECK_EQ(d.duplicates, 0);
    CHECK(fstuck != HH_OK);
    CHECK(s_after_flush.spans_dropped > 0);
    CHECK_EQ(s.spans_ended, ended);
    CHECK_EQ(s.spans_exported + s.spans_dropped, s.spans_ended);
    if (t)
        IGNORE_STATUS(hh_tracer_close(t, 2000));
    /* Drain the FIFO so the blocked write returns, until it stays empty for 300 ms (at most 5 s). */
    char buf[65536];
    double quiet = now_ms();
    for (double d0 = now_ms(); now_ms() - d0 < 5000 && now_ms() - quiet < 300; sleep_ms(10))
        while (read(fd, buf, sizeof buf) > 0)
            quiet = now_ms();
    close(fd);
    unlink(fifo);
    rmdir(dir);
}

void group_faults(void) {
    rcv_clear_fault(&R);
    /* Retryable: two faulted answers, then success. */
    status_row(502, NULL, 2, 10000);
    status_row(503, NULL, 2, 10000);
    status_row(504, NULL, 2, 10000);
    status_row(429, NULL, 2, 10000);
    /* Five retries: the retry jitter is clock-based, so each gap has its own chance to come early. */
    status_row(429, "1", 5, 10000);
    /* Never clears: retries stop at the export deadline. */
    status_row(503, NULL, 0, 1500);
    /* Retry-After past the export deadline: not waited for. */
    status_row(429, "30", 1, 2000);
    /* Not retryable (500 included, per the OTLP/HTTP spec). */
    status_row(500, NULL, 1, 10000);
    status_row(400, NULL, 1, 10000);
    status_row(401, NULL, 1, 10000);
    status_row(403, NULL, 1, 10000);
    rest_status_row(503, 2);
    rest_status_row(401, 1);
    hang_row();
    flush_after_timeout_row();
    rest_hang_row();
    events_hang_row();
    events_503_row();
    start_hang_row();
    reset_row(2, 10000);
    reset_row(0, 1500);
    trickle_row(10, 10000);
    trickle_row(10, 400);
    flush_under_overload_row();
    refused_forever_row();
    refused_at_init_row();
    fifo_stall_row();
    outage_row("outage-within-queue", quick ? 500 : 1000, 2500, 1500,
               ",\"schedule_delay_ms\":100,\"export_timeout_ms\":10000", 1);
    outage_row("outage-past-queue", quick ? 300 : 600, 0, 2000,
               ",\"schedule_delay_ms\":100,\"export_timeout_ms\":10000,\"max_queue_size\":100,"
               "\"max_export_batch_size\":50",
               0);
    outage_row("outage-past-byte-bound", quick ? 300 : 600, 0, 2000,
               ",\"schedule_delay_ms\":100,\"export_timeout_ms\":10000,\"max_queue_bytes\":32768", 0);
    figure("app-calls-under-faults",
           "calls=%zu max_ms=%.3f p99_ms=%.3f span_start_max_ms=%.3f span_end_max_ms=%.3f set_attr_max_ms=%.3f "
           "session_calls_max_ms=%.3f tracer_new_max_ms=%.3f",
           all_faulty.n, lat_max(&all_faulty), lat_p99(&all_faulty), lat_max(&faulty_start), lat_max(&faulty_end),
           lat_max(&faulty_enrich), lat_max(&faulty_session), lat_max(&faulty_new));
    lat_free(&all_faulty);
    lat_free(&faulty_start);
    lat_free(&faulty_end);
    lat_free(&faulty_session);
    lat_free(&faulty_enrich);
    lat_free(&faulty_new);
}
