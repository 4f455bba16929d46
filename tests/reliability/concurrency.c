/* Concurrency: many threads x many spans across several tracers and sessions at once; every
 * span must arrive exactly once with the right tracer (project), session, parent and trace.
 * Also: flush while other threads keep ending spans returns promptly (no starvation).
 * This group is also built with -fsanitize=thread (run.sh, "tsan").
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rel.h"

enum { NTRACERS = 3, NSESS = 2 };

typedef struct {
    int id, nspans;
    hh_tracer *tracers;
    char sid[NTRACERS][NSESS][HH_SESSION_ID_BUF_LEN];
    long errors;
    char first_error[160];
} cc_worker;

static void cc_fail(cc_worker *w, const char *what, hh_status st) {
    if (w->errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "%s -> %s", what, status_str(st));
}

static void *cc_run(void *p) {
    cc_worker *w = p;
    int n = w->nspans;
    hh_span *spans = calloc((size_t)(NTRACERS * NSESS * n), sizeof *spans);
#define SP(k, m, j) spans[((k) * NSESS + (m)) * n + (j)]
    for (int k = 0; k < NTRACERS; k++)
        for (int m = 0; m < NSESS; m++) {
            char opts[96];
            snprintf(opts, sizeof opts, "{\"session_name\":\"cc%d-t%d-s%d\"}", k, w->id, m);
            hh_status st = hh_session_create(w->tracers[k], opts, w->sid[k][m], HH_SESSION_ID_BUF_LEN, NULL);
            if (st != HH_OK)
                cc_fail(w, "session_create", st);
        }
    /* Interleaved: span j of every (tracer, session) before span j+1 of any. */
    for (int j = 0; j < n; j++)
        for (int k = 0; k < NTRACERS; k++)
            for (int m = 0; m < NSESS; m++) {
                char name[64];
                snprintf(name, sizeof name, "cc%d-t%d-s%d-%d", k, w->id, m, j);
                hh_span parent = j == 0 ? 0 : SP(k, m, (j - 1) / 2);
                hh_status st = hh_span_start(w->tracers[k], name, j == 0 ? HH_EVENT_CHAIN : HH_EVENT_TOOL, parent,
                                             j == 0 ? w->sid[k][m] : NULL, NULL, &SP(k, m, j), NULL);
                if (st != HH_OK) {
                    cc_fail(w, "span_start", st);
                    continue;
                }
                st = hh_span_set_i64(SP(k, m, j), HH_NS_METADATA, "j", j);
                if (st != HH_OK)
                    cc_fail(w, "set_i64", st);
                if (j % 7 == 0 && (st = hh_span_enrich(SP(k, m, j), "{\"metrics\":{\"x\":1.5}}", NULL)) != HH_OK)
                    cc_fail(w, "enrich", st);
                /* Leaves end at once; inner nodes (parents of later spans) at the end. */
                if (2 * j + 1 >= n && (st = hh_span_end(SP(k, m, j))) != HH_OK)
                    cc_fail(w, "end(leaf)", st);
            }
    for (int k = 0; k < NTRACERS; k++)
        for (int m = 0; m < NSESS; m++) {
            for (int j = n - 1; j >= 0; j--)
                if (2 * j + 1 < n) {
                    hh_status st = hh_span_end(SP(k, m, j));
                    if (st != HH_OK)
                        cc_fail(w, "end", st);
                }
            hh_status st = hh_session_enrich(w->tracers[k], w->sid[k][m], "{\"outputs\":{\"ok\":true}}", NULL);
            if (st != HH_OK)
                cc_fail(w, "session_enrich", st);
        }
#undef SP
    free(spans);
    return NULL;
}

typedef struct {
    const char *name;
    const jval *span;
} by_name;

static int cmp_by_name(const void *a, const void *b) {
    return strcmp(((const by_name *)a)->name, ((const by_name *)b)->name);
}

static void many_tracers_threads_sessions(void) {
    if (!selected("concurrency-stress"))
        return;
    int nthreads = quick ? 4 : 8, nspans = quick ? 10 : 100;
    int total = nthreads * NTRACERS * NSESS * nspans;
    char title[160];
    snprintf(title, sizeof title, "concurrency: %d threads x %d tracers x %d sessions x %d spans = %d spans", nthreads,
             NTRACERS, NSESS, nspans, total);
    TEST_BEGIN(title);
    rcv_reset(&R);
    hh_tracer tracers[NTRACERS];
    for (int k = 0; k < NTRACERS; k++) {
        char extra[128];
        snprintf(extra, sizeof extra, ",\"project\":\"cc-%d\",\"schedule_delay_ms\":20,\"max_queue_size\":100000", k);
        tracers[k] = rel_tracer(NULL, extra);
    }
    cc_worker *w = calloc((size_t)nthreads, sizeof *w);
    pthread_t *th = calloc((size_t)nthreads, sizeof *th);
    double t0 = now_ms();
    for (int i = 0; i < nthreads; i++) {
        w[i].id = i;
        w[i].nspans = nspans;
        w[i].tracers = tracers;
        CHECK_EQ(pthread_create(&th[i], NULL, cc_run, &w[i]), 0);
    }
    long errors = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        errors += w[i].errors;
        CHECK_MSG(w[i].errors == 0, "thread %d: %ld failed calls, first: %s", i, w[i].errors, w[i].first_error);
    }
    double run_ms = now_ms() - t0;
    unsigned long long exported = 0, dropped = 0;
    for (int k = 0; k < NTRACERS; k++) {
        CHECK_OK(hh_tracer_flush(tracers[k], (uint32_t)scaled_ms(30000)));
        hh_stats s;
        CHECK_OK(hh_tracer_stats(tracers[k], &s));
        exported += s.spans_exported;
        dropped += s.spans_dropped;
        CHECK_EQ(s.spans_exported, nthreads * NSESS * nspans);
        CHECK_EQ(s.rest_failures, 0);
    }
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery d = count_delivery_in(reqs, "cc");
    /* Index the accepted spans by name. */
    size_t cap = (size_t)total + 16, n = 0;
    by_name *idx = calloc(cap, sizeof *idx);
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *req = jat(reqs, i);
        if (!jint_is(jget(req, "response_status"), 200))
            continue;
        const jval *spans = jget(req, "spans");
        for (size_t j = 0; j < jlen(spans); j++) {
            const char *name = jgets(jat(spans, j), "name");
            if (name && strncmp(name, "cc", 2) == 0 && n < cap) {
                idx[n].name = name;
                idx[n].span = jat(spans, j);
                n++;
            }
        }
    }
    qsort(idx, n, sizeof *idx, cmp_by_name);
    long wrong_session = 0, wrong_parent = 0, wrong_trace = 0, wrong_project = 0, wrong_attr = 0;
    for (size_t i = 0; i < n; i++) {
        int k, t, m, j;
        if (sscanf(idx[i].name, "cc%d-t%d-s%d-%d", &k, &t, &m, &j) != 4 || k < 0 || k >= NTRACERS || t < 0 ||
            t >= nthreads || m < 0 || m >= NSESS) {
            wrong_attr++;
            continue;
        }
        const jval *sp = idx[i].span;
        const char *sid = span_attr_str(sp, "honeyhive.session_id");
        if (!sid || strcmp(sid, w[t].sid[k][m]) != 0)
            wrong_session++;
        char proj[16];
        snprintf(proj, sizeof proj, "cc-%d", k);
        const char *p = span_attr_str(sp, "honeyhive.project");
        if (!p || strcmp(p, proj) != 0)
            wrong_project++;
        if (!jint_is(span_attr(sp, "honeyhive_metadata.j"), j))
            wrong_attr++;
        if (j == 0) {
            if (!jis_null(jget(sp, "parent_span_id")))
                wrong_parent++;
            continue;
        }
        char pname[64];
        snprintf(pname, sizeof pname, "cc%d-t%d-s%d-%d", k, t, m, (j - 1) / 2);
        by_name key = {pname, NULL};
        by_name *par = bsearch(&key, idx, n, sizeof *idx, cmp_by_name);
        if (!par || !jgets(sp, "parent_span_id") || strcmp(jgets(par->span, "span_id"), jgets(sp, "parent_span_id")) != 0)
            wrong_parent++;
        else if (strcmp(jgets(par->span, "trace_id"), jgets(sp, "trace_id")) != 0)
            wrong_trace++;
    }
    size_t sess_starts = count_requests_path(reqs, "POST", "/session/start", 200);
    jfree(reqs);
    free(idx);
    figure("concurrency-stress",
           "threads=%d tracers=%d sessions=%d spans=%d run_ms=%.0f exported=%llu dropped=%llu accepted_unique=%zu "
           "duplicates=%zu wrong_session=%ld wrong_parent=%ld wrong_trace=%ld wrong_project=%ld wrong_attr=%ld "
           "session_starts=%zu",
           nthreads, NTRACERS, nthreads * NTRACERS * NSESS, total, run_ms, exported, dropped, d.unique_accepted,
           d.duplicates, wrong_session, wrong_parent, wrong_trace, wrong_project, wrong_attr, sess_starts);
    CHECK_EQ(errors, 0);
    CHECK_EQ(d.unique_accepted, total);
    CHECK_EQ(d.duplicates, 0);
    CHECK_EQ(dropped, 0);
    CHECK_EQ(wrong_session, 0);
    CHECK_EQ(wrong_parent, 0);
    CHECK_EQ(wrong_trace, 0);
    CHECK_EQ(wrong_project, 0);
    CHECK_EQ(wrong_attr, 0);
    CHECK_EQ(sess_starts, (size_t)(nthreads * NTRACERS * NSESS)); /* every span names its session: the defaults are never started */
    for (int k = 0; k < NTRACERS; k++)
        CHECK_OK(hh_tracer_close(tracers[k], 10000));
    free(w);
    free(th);
}

/* ---------------------------------------------------------------------------------------- */

typedef struct {
    hh_tracer t;
    atomic_int *stop;
    long ended;
    int id;
} steady_arg;

static void *steady(void *p) {
    steady_arg *a = p;
    char name[64];
    for (long i = 0; !atomic_load(a->stop); i++) {
        snprintf(name, sizeof name, "steady-%d-%ld", a->id, i);
        hh_span s = 0;
        if (hh_span_start(a->t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK && hh_span_end(s) == HH_OK)
            a->ended++;
        usleep(100);
    }
    return NULL;
}

static void flush_under_load(void) {
    if (!selected("flush-under-load"))
        return;
    TEST_BEGIN("flush while 3 threads keep ending spans: returns promptly");
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50,\"max_queue_size\":1000000");
    atomic_int stop = 0;
    steady_arg a[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        a[i] = (steady_arg){t, &stop, 0, i};
        CHECK_EQ(pthread_create(&th[i], NULL, steady, &a[i]), 0);
    }
    sleep_ms(200);
    lat_rec fl = {0};
    int not_ok = 0;
    for (int i = 0; i < 10; i++) {
        double t0 = now_ms();
        hh_status st = hh_tracer_flush(t, 10000);
        lat_add(&fl, now_ms() - t0);
        if (st != HH_OK)
            not_ok++;
        sleep_ms(50);
    }
    atomic_store(&stop, 1);
    long ended = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        ended += a[i].ended;
    }
    CHECK_OK(hh_tracer_flush(t, 10000));
    delivery d = count_delivery(&R, "steady-");
    figure("flush-under-load", "flushes=10 not_ok=%d flush_max_ms=%.0f flush_p99_ms=%.0f ended=%ld delivered=%zu duplicates=%zu",
           not_ok, lat_max(&fl), lat_p99(&fl), ended, d.unique_accepted, d.duplicates);
    CHECK_EQ(not_ok, 0);
    CHECK_MSG(lat_max(&fl) < 5000, "a flush under load took %.0f ms", lat_max(&fl));
    CHECK_EQ((long)d.unique_accepted, ended);
    CHECK_EQ(d.duplicates, 0);
    lat_free(&fl);
    CHECK_OK(hh_tracer_close(t, 10000));
}

void group_concurrency(void) {
    many_tracers_threads_sessions();
    flush_under_load();
}
