/* Panic containment, concurrency (many threads, one tracer, a session per thread, plus a
 * second tracer used at the same time) and fork. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

/* ---------------------------------------------------------------------------------------- */

static void *panic_thread(void *arg) {
    long *bad = arg;
    for (int i = 0; i < 10; i++) {
        hh_error err;
        memset(&err, 0, sizeof err);
        if (hh_test_panic(&err) != HH_ERR_PANIC || err.status != HH_ERR_PANIC)
            (*bad)++;
    }
    return NULL;
}

void test_panic(void) {
    TEST_BEGIN("panic containment (release artifact)");
    hh_quiet_stderr_begin();
    for (int i = 0; i < 3; i++) {
        hh_error err;
        memset(&err, 0x7f, sizeof err);
        CHECK_STATUS(hh_test_panic(&err), HH_ERR_PANIC);
        CHECK_EQ(err.status, HH_ERR_PANIC);
        CHECK(memchr(err.message, 0, sizeof err.message) != NULL);
        CHECK_MSG(strstr(err.message, "panic") != NULL, "message: %.200s", err.message);
    }
    CHECK_STATUS(hh_test_panic(NULL), HH_ERR_PANIC);
    pthread_t th[4];
    long bad[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, panic_thread, &bad[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(bad[i], 0);
    }

    /* The library keeps working. */
    rcv_reset(&R);
    hh_tracer t = new_tracer("");
    hh_span root = start_span(t, "after-panic", HH_EVENT_CHAIN, 0, NULL);
    hh_span child = start_span(t, "after-panic-child", HH_EVENT_TOOL, root, NULL);
    CHECK_OK(hh_span_enrich(child, "{\"metadata\":{\"survived\":true}}", NULL));
    CHECK_OK(hh_span_end(child));
    CHECK_OK(hh_span_end(root));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 2, 10000);
    const jval *c = span_by_name(spans, "after-panic-child");
    const jval *r = span_by_name(spans, "after-panic");
    CHECK(c && r);
    CHECK_STR_EQ(jgets(c, "parent_span_id"), jgets(r, "span_id"));
    CHECK(jbool_is(span_attr(c, "honeyhive_metadata.survived"), 1));
    jfree(spans);
    CHECK_STATUS(hh_test_panic(NULL), HH_ERR_PANIC);
    close_tracer(t);
    hh_quiet_stderr_end();
}

/* ---------------------------------------------------------------------------------------- */

typedef struct {
    int idx;
    int n_spans, n_b;
    hh_tracer a, b;
    char sid[HH_SESSION_ID_BUF_LEN];
    long errors;
} worker_arg;

#define W_CHECK(w, expr)                                                                           \
    do {                                                                                           \
        hh_status st_ = (expr);                                                                    \
        if (st_ != HH_OK) {                                                                        \
            if ((w)->errors++ < 3)                                                                 \
                fprintf(stderr, "  thread %d: %s -> %s\n", (w)->idx, #expr, hh_status_name(st_));   \
        }                                                                                          \
    } while (0)

static void *worker(void *p) {
    worker_arg *w = p;
    hh_error err;
    char opts[128];
    snprintf(opts, sizeof opts, "{\"session_name\":\"thread-%d\",\"metadata\":{\"thread\":%d}}", w->idx, w->idx);
    W_CHECK(w, hh_session_create(w->a, opts, w->sid, sizeof w->sid, &err));
    hh_span *spans = calloc((size_t)w->n_spans, sizeof *spans);
    for (int j = 0; j < w->n_spans; j++) {
        char name[64];
        snprintf(name, sizeof name, "t%d-s%d", w->idx, j);
        hh_span parent = j == 0 ? 0 : spans[(j - 1) / 2];
        W_CHECK(w, hh_span_start(w->a, name, j == 0 ? HH_EVENT_CHAIN : HH_EVENT_TOOL, parent, j == 0 ? w->sid : NULL,
                                 NULL, &spans[j], &err));
        W_CHECK(w, hh_span_set_i64(spans[j], HH_NS_METADATA, "thread", w->idx));
        W_CHECK(w, hh_span_set_i64(spans[j], HH_NS_METADATA, "idx", j));
        if (j % 10 == 0)
            W_CHECK(w, hh_span_enrich(spans[j], "{\"metrics\":{\"score\":0.5},\"inputs\":{\"q\":\"x\"}}", &err));
    }
    /* Tracer B at the same time, in its default session. */
    hh_span broot = 0;
    char bname[64];
    snprintf(bname, sizeof bname, "b%d-root", w->idx);
    W_CHECK(w, hh_span_start(w->b, bname, HH_EVENT_CHAIN, 0, NULL, NULL, &broot, &err));
    for (int j = 1; j < w->n_b; j++) {
        hh_span c = 0;
        snprintf(bname, sizeof bname, "b%d-c%d", w->idx, j);
        W_CHECK(w, hh_span_start(w->b, bname, HH_EVENT_TOOL, broot, NULL, NULL, &c, &err));
        W_CHECK(w, hh_span_end(c));
    }
    W_CHECK(w, hh_span_end(broot));
    W_CHECK(w, hh_session_enrich(w->a, w->sid, "{\"outputs\":{\"done\":true}}", &err));
    for (int j = w->n_spans - 1; j >= 0; j--)
        W_CHECK(w, hh_span_end(spans[j]));
    free(spans);
    return NULL;
}

typedef struct {
    const char *id;
    const jval *span;
} id_entry;

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const id_entry *)a)->id, ((const id_entry *)b)->id);
}

static void many_threads(void) {
    int n_threads = reduced ? 4 : 8, n_spans = reduced ? 25 : 200, n_b = reduced ? 5 : 50;
    char title[128];
    snprintf(title, sizeof title, "threads: %d x %d spans on one tracer + %d x %d on a second", n_threads, n_spans,
             n_threads, n_b);
    TEST_BEGIN(title);
    rcv_reset(&R);
    hh_tracer a = new_tracer("");
    hh_tracer b = new_tracer(",\"project\":\"p2\"");
    char b_sid[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_tracer_session_id(b, b_sid, sizeof b_sid, NULL));
    worker_arg *args = calloc((size_t)n_threads, sizeof *args);
    pthread_t *th = calloc((size_t)n_threads, sizeof *th);
    for (int i = 0; i < n_threads; i++) {
        args[i].idx = i;
        args[i].n_spans = n_spans;
        args[i].n_b = n_b;
        args[i].a = a;
        args[i].b = b;
        CHECK_EQ(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < n_threads; i++) {
        pthread_join(th[i], NULL);
        CHECK_MSG(args[i].errors == 0, "thread %d had %ld failed calls", i, args[i].errors);
    }
    CHECK_OK(hh_tracer_flush(a, (uint32_t)scaled_ms(20000)));
    CHECK_OK(hh_tracer_flush(b, (uint32_t)scaled_ms(20000)));
    hh_stats sa, sb;
    CHECK_OK(hh_tracer_stats(a, &sa));
    CHECK_OK(hh_tracer_stats(b, &sb));
    CHECK_EQ(sa.spans_started, n_threads * n_spans);
    CHECK_EQ(sa.spans_exported, n_threads * n_spans);
    CHECK_EQ(sa.spans_dropped, 0);
    CHECK_EQ(sa.rest_calls, 2 * n_threads); /* a start and an enrich per thread; the default session is unused */
    CHECK_EQ(sa.rest_failures, 0);
    CHECK_EQ(sb.spans_exported, n_threads * n_b);
    CHECK_EQ(sb.spans_dropped, 0);

    int total = n_threads * (n_spans + n_b);
    jval *spans = rcv_wait_spans(&R, total, 30000);
    CHECK_EQ(jlen(spans), total); /* all arrived, none twice */

    size_t n = jlen(spans);
    id_entry *index = calloc(n ? n : 1, sizeof *index);
    for (size_t i = 0; i < n; i++) {
        index[i].id = jgets(jat(spans, i), "span_id");
        index[i].span = jat(spans, i);
        if (!index[i].id)
            index[i].id = "";
    }
    qsort(index, n, sizeof *index, cmp_entry);

    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    for (int i = 0; i < n_threads; i++) {
        CHECK_MSG(spans_with_attr(spans, "honeyhive.session_id", args[i].sid) == (size_t)n_spans,
                  "thread %d: %zu spans in its session, expected %d", i,
                  spans_with_attr(spans, "honeyhive.session_id", args[i].sid), n_spans);
        char want_name[32];
        snprintf(want_name, sizeof want_name, "thread-%d", i);
        const jval *start = request_find(reqs, "POST", "/session/start", "session.session_id", args[i].sid);
        CHECK_MSG(start != NULL, "thread %d: no session start", i);
        CHECK_STR_EQ(jgets(jget(jget(start, "body_json"), "session"), "session_name"), want_name);
        CHECK(request_find(reqs, "PUT", "/events", "event_id", args[i].sid) != NULL);
    }
    jfree(reqs);

    long wrong_parent = 0, wrong_session = 0, wrong_trace = 0, b_wrong = 0;
    size_t b_count = 0;
    for (size_t i = 0; i < n; i++) {
        const jval *sp = jat(spans, i);
        const char *name = jgets(sp, "name");
        int ti, j;
        if (name && sscanf(name, "t%d-s%d", &ti, &j) == 2 && ti >= 0 && ti < n_threads) {
            if (!jint_is(span_attr(sp, "honeyhive_metadata.thread"), ti) ||
                !jint_is(span_attr(sp, "honeyhive_metadata.idx"), j))
                wrong_parent++;
            const char *sid = span_attr_str(sp, "honeyhive.session_id");
            if (!sid || strcmp(sid, args[ti].sid) != 0)
                wrong_session++;
            if (j == 0) {
                if (!jis_null(jget(sp, "parent_span_id")))
                    wrong_parent++;
                continue;
            }
            id_entry key = {jgets(sp, "parent_span_id"), NULL};
            id_entry *found = key.id ? bsearch(&key, index, n, sizeof *index, cmp_entry) : NULL;
            char want[64];
            snprintf(want, sizeof want, "t%d-s%d", ti, (j - 1) / 2);
            if (!found || strcmp(jgets(found->span, "name"), want) != 0)
                wrong_parent++;
            else if (strcmp(jgets(found->span, "trace_id"), jgets(sp, "trace_id")) != 0)
                wrong_trace++;
        } else if (name && name[0] == 'b') {
            b_count++;
            const char *proj = span_attr_str(sp, "honeyhive.project");
            const char *sid = span_attr_str(sp, "honeyhive.session_id");
            if (!proj || strcmp(proj, "p2") != 0 || !sid || strcmp(sid, b_sid) != 0)
                b_wrong++;
            int bi, bj;
            if (sscanf(name, "b%d-c%d", &bi, &bj) == 2) {
                id_entry key = {jgets(sp, "parent_span_id"), NULL};
                id_entry *found = key.id ? bsearch(&key, index, n, sizeof *index, cmp_entry) : NULL;
                char want[32];
                snprintf(want, sizeof want, "b%d-root", bi);
                if (!found || strcmp(jgets(found->span, "name"), want) != 0)
                    b_wrong++;
            }
        }
    }
    CHECK_EQ(wrong_parent, 0);
    CHECK_EQ(wrong_session, 0);
    CHECK_EQ(wrong_trace, 0);
    CHECK_EQ(b_count, n_threads * n_b);
    CHECK_EQ(b_wrong, 0);
    free(index);
    jfree(spans);
    free(args);
    free(th);
    close_tracer(a);
    close_tracer(b);
}


/* ---------------------------------------------------------------------------------------- */

typedef struct {
    hh_tracer t;
    int max_spans;
    long unexpected, ok_ends, closed_ends;
} racer_arg;

static void *racer(void *p) {
    racer_arg *a = p;
    for (int i = 0; i < a->max_spans; i++) {
        hh_span s = 0;
        hh_status st = hh_span_start(a->t, "racer", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL);
        if (st == HH_ERR_TRACER_CLOSED)
            break;
        if (st != HH_OK) {
            a->unexpected++;
            break;
        }
        st = hh_span_set_i64(s, HH_NS_METADATA, "i", i);
        if (st != HH_OK && st != HH_ERR_TRACER_CLOSED)
            a->unexpected++;
        st = hh_span_end(s);
        if (st == HH_OK)
            a->ok_ends++;
        else if (st == HH_ERR_TRACER_CLOSED)
            a->closed_ends++;
        else
            a->unexpected++;
    }
    return NULL;
}

static void *closer(void *p) {
    hh_tracer *t = p;
    hh_status st = hh_tracer_close(*t, (uint32_t)scaled_ms(10000));
    return (void *)(intptr_t)st;
}

static void close_race(void) {
    TEST_BEGIN("close racing with span activity on other threads");
    rcv_reset(&R);
    /* A queue large enough for everything the racers can make: no "queue full" drops, so
     * every loss would be a lifecycle race. */
    hh_tracer t = new_tracer(",\"max_queue_size\":1000000");
    racer_arg args[4];
    pthread_t th[4], cl[2];
    for (int i = 0; i < 4; i++) {
        args[i].t = t;
        args[i].unexpected = args[i].ok_ends = args[i].closed_ends = 0;
        args[i].max_spans = reduced ? 300 : 5000;
        CHECK_EQ(pthread_create(&th[i], NULL, racer, &args[i]), 0);
    }
    usleep(20000);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&cl[i], NULL, closer, &t), 0);
    long ok_ends = 0, closed_ends = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(args[i].unexpected, 0);
        ok_ends += args[i].ok_ends;
        closed_ends += args[i].closed_ends;
    }
    for (int i = 0; i < 2; i++) {
        void *ret = NULL;
        pthread_join(cl[i], &ret);
        CHECK_MSG((hh_status)(intptr_t)ret == HH_OK, "concurrent close returned %s",
                  hh_status_name((int32_t)(intptr_t)ret));
    }
    hh_stats st;
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK(ok_ends > 0);
    if (hh_verbose)
        fprintf(stderr, "  close race: %ld ends OK, %ld ends TRACER_CLOSED, %llu started, %llu dropped\n", ok_ends,
                closed_ends, (unsigned long long)st.spans_started, (unsigned long long)st.spans_dropped);
    /* Every started span is accounted for: delivered or counted as dropped, none left queued. */
    CHECK_MSG(st.spans_exported + st.spans_dropped == st.spans_started,
              "started %llu, exported %llu, dropped %llu, queued %llu", (unsigned long long)st.spans_started,
              (unsigned long long)st.spans_exported, (unsigned long long)st.spans_dropped,
              (unsigned long long)st.queue_len);
    CHECK_EQ(st.queue_len, 0);
    /* Every span whose hh_span_end returned HH_OK was delivered. */
    CHECK_MSG((long)st.spans_exported >= ok_ends, "%ld ends returned HH_OK, %llu exported", ok_ends,
              (unsigned long long)st.spans_exported);
    jval *wire = rcv_get_json(&R, "/__hh/spans");
    CHECK_EQ(spans_named(wire, "racer"), st.spans_exported);
    /* hh_span_end's doc: HH_ERR_TRACER_CLOSED means "the span is then dropped and counted";
     * HH_OK means it went to the pipeline. So the wire holds exactly the HH_OK ends. */
    CHECK_MSG((long)spans_named(wire, "racer") == ok_ends,
              "%zu racer spans on the wire, but %ld ends returned HH_OK and %ld HH_ERR_TRACER_CLOSED (dropped: %llu)",
              spans_named(wire, "racer"), ok_ends, closed_ends, (unsigned long long)st.spans_dropped);
    jfree(wire);
}

void test_threads(void) {
    many_threads();
    close_race();
}

/* ---------------------------------------------------------------------------------------- */

static void exit_flush(void) {
    TEST_BEGIN("exit without close still delivers (atexit flush)");
    rcv_reset(&R);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        hh_tracer t = 0;
        hh_span s = 0;
        if (hh_tracer_new(config_json(",\"schedule_delay_ms\":600000"), &t, NULL) != HH_OK ||
            hh_span_start(t, "flushed-at-exit", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) != HH_OK ||
            hh_span_end(s) != HH_OK)
            _exit(3);
        exit(0); /* no flush, no close */
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    jval *spans = rcv_wait_spans(&R, 1, 5000);
    CHECK_EQ(spans_named(spans, "flushed-at-exit"), 1);
    jfree(spans);
}

static void fork_child(void) {
    TEST_BEGIN("fork: the child works, and does not re-send the parent's spans");
    rcv_reset(&R);
    /* A long schedule delay keeps "pre-fork" queued in the parent across the fork. */
    hh_tracer t = new_tracer(",\"schedule_delay_ms\":600000");
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    hh_span pre = start_span(t, "pre-fork", HH_EVENT_TOOL, 0, NULL);
    hh_span open_parent = start_span(t, "open-across-fork", HH_EVENT_CHAIN, 0, NULL);
    CHECK_OK(hh_span_end(pre));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int code = 0;
        hh_span c = 0;
        if (hh_span_start(t, "in-child", HH_EVENT_TOOL, open_parent, NULL, NULL, &c, NULL) != HH_OK)
            code |= 1;
        if (hh_span_end(c) != HH_OK)
            code |= 2;
        if (hh_tracer_flush(t, (uint32_t)scaled_ms(10000)) != HH_OK)
            code |= 4;
        _exit(code);
    }
    CHECK(pid > 0);
    int status = -1;
    int waited = 0;
    for (int i = 0; i < scaled_ms(20000) / 10; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            waited = 1;
            break;
        }
        usleep(10000);
    }
    if (!waited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECK_MSG(waited, "forked child hung");
    CHECK_MSG(waited && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit status %d (bits: 1 start, 2 end, 4 flush)",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    hh_span post = start_span(t, "in-parent-after-fork", HH_EVENT_TOOL, open_parent, NULL);
    CHECK_OK(hh_span_end(post));
    CHECK_OK(hh_span_end(open_parent));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 4, 10000);
    CHECK_EQ(spans_named(spans, "pre-fork"), 1);
    CHECK_EQ(spans_named(spans, "in-child"), 1);
    CHECK_EQ(spans_named(spans, "in-parent-after-fork"), 1);
    CHECK_EQ(spans_named(spans, "open-across-fork"), 1);
    const jval *c = span_by_name(spans, "in-child");
    const jval *p = span_by_name(spans, "open-across-fork");
    CHECK(c && p);
    CHECK_STR_EQ(jgets(c, "parent_span_id"), jgets(p, "span_id"));
    jfree(spans);
    close_tracer(t);
}

void test_fork(void) {
    fork_child();
    exit_flush();
    test_fork_sessions();
}
