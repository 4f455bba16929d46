/* fork after init, while exports are in flight and other threads are inside the library:
 * parent and children keep tracing, no child re-sends the parent's spans, nothing deadlocks.
 *
 * Setup: tracer T (batched) and tracer I (immediate mode: hh_span_end waits for the export)
 * against a receiver that trickles its answers (every export takes ~0.5 s, so one is nearly
 * always in flight); 3 threads end spans on T as fast as they can, 1 thread ends spans on I
 * (so it is usually blocked mid-export inside hh_span_end); the main thread forks N times.
 * Each child: a session, 10 spans on T (started first, then ended), 1 on I, flush, close,
 * and reports its stats through a pipe. The parent waits for each child with a deadline: a
 * child still running after it counts as a deadlock (SIGKILL).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rel.h"

typedef struct {
    hh_tracer t;
    int id;
    const char *prefix;
    atomic_int *stop;
    long ended, errors;
    lat_rec lat;
} hammer_arg;

static void *hammer(void *p) {
    hammer_arg *h = p;
    char name[64];
    for (long i = 0; !atomic_load(h->stop); i++) {
        snprintf(name, sizeof name, "%s%d-%ld", h->prefix, h->id, i);
        hh_span s = 0;
        double t0 = now_ms();
        hh_status st = hh_span_start(h->t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL);
        if (st != HH_OK) {
            h->errors++;
            continue;
        }
        st = hh_span_end(s);
        lat_add(&h->lat, now_ms() - t0);
        if (st == HH_OK)
            h->ended++;
        else
            h->errors++;
        if (h->id < 100)
            usleep(1000);
    }
    return NULL;
}

typedef struct {
    int code;
    hh_stats t_stats, i_stats;
    double child_ms;
} child_report;

/* The child's work; never returns. */
static void child_main(int k, hh_tracer t, hh_tracer imm, int fd) {
    child_report rep;
    memset(&rep, 0, sizeof rep);
    double t0 = now_ms();
    char sid[HH_SESSION_ID_BUF_LEN];
    if (hh_session_create(t, "{\"session_name\":\"child\"}", sid, sizeof sid, NULL) != HH_OK)
        rep.code |= 1;
    hh_span s[10];
    char name[64];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "child%d-%d", k, i);
        if (hh_span_start(t, name, HH_EVENT_TOOL, 0, sid, NULL, &s[i], NULL) != HH_OK)
            rep.code |= 2;
    }
    for (int i = 0; i < 10; i++)
        if (hh_span_end(s[i]) != HH_OK)
            rep.code |= 4;
    hh_span si = 0;
    snprintf(name, sizeof name, "childimm-%d-", k);
    if (hh_span_start(imm, name, HH_EVENT_TOOL, 0, NULL, NULL, &si, NULL) != HH_OK || hh_span_end(si) != HH_OK)
        rep.code |= 8;
    if (hh_tracer_flush(t, 20000) != HH_OK)
        rep.code |= 16;
    IGNORE_STATUS(hh_tracer_stats(t, &rep.t_stats));
    IGNORE_STATUS(hh_tracer_stats(imm, &rep.i_stats));
    if (hh_tracer_close(t, 20000) != HH_OK)
        rep.code |= 32;
    if (hh_tracer_close(imm, 20000) != HH_OK)
        rep.code |= 64;
    rep.child_ms = now_ms() - t0;
    if (write(fd, &rep, sizeof rep) != (ssize_t)sizeof rep)
        _exit(100);
    _exit(rep.code);
}

/* Many quick forks while 3 threads end spans on one tracer with no pause at all (so a lock
 * of the library is held by some thread most of the time): each child must finish a span,
 * a flush and a close. */
static void fork_storm(void) {
    if (!selected("fork-storm"))
        return;
    int nforks = quick ? 10 : 40;
    char title[96];
    snprintf(title, sizeof title, "fork storm: %d forks while 3 threads end spans without pause", nforks);
    TEST_BEGIN(title);
    rcv_reset(&R);
    /* A small queue: the threads' spans mostly take the queue lock and are dropped (counted),
     * which keeps the volume bounded while a lock is held nearly all the time. */
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":5,\"max_queue_size\":2000");
    atomic_int stop = 0;
    hammer_arg h[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        memset(&h[i], 0, sizeof h[i]);
        h[i].t = t;
        h[i].id = 200 + i; /* no sleep */
        h[i].prefix = "storm-";
        h[i].stop = &stop;
        CHECK_EQ(pthread_create(&th[i], NULL, hammer, &h[i]), 0);
    }
    sleep_ms(100);
    int hung = 0, failed = 0;
    double worst_child = 0, worst_fork = 0;
    for (int k = 0; k < nforks; k++) {
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid > 0 && now_ms() - t0 > worst_fork)
            worst_fork = now_ms() - t0;
        if (pid == 0) {
            hh_span s = 0;
            int code = 0;
            if (hh_span_start(t, "storm-child", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) != HH_OK)
                code |= 1;
            if (hh_span_end(s) != HH_OK)
                code |= 2;
            if (hh_tracer_flush(t, 10000) != HH_OK)
                code |= 4;
            if (hh_tracer_close(t, 10000) != HH_OK)
                code |= 8;
            _exit(code);
        }
        int status = 0, done = 0;
        for (int w = 0; w < 500; w++) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                done = 1;
                break;
            }
            usleep(10000);
        }
        double ms = now_ms() - t0;
        if (ms > worst_child)
            worst_child = ms;
        if (!done) {
            hung++;
            fprintf(stderr, "  storm child %d (pid %d) still running after 5 s: deadlocked\n", k, pid);
            if (getenv("HH_REL_GDB_ON_HANG")) {
                char cmd[256];
                snprintf(cmd, sizeof cmd, "gdb -p %d -batch -ex 'thread apply all bt' >&2 2>/dev/null", pid);
                if (system(cmd) != 0)
                    fprintf(stderr, "  (gdb failed)\n");
            }
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            if (hung >= 1) {
                fprintf(stderr, "  stopping the storm after %d hung children\n", hung);
                nforks = k + 1;
                break;
            }
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed++;
            fprintf(stderr, "  storm child %d: exit %d signal %d\n", k, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
    }
    atomic_store(&stop, 1);
    long ended = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        ended += h[i].ended;
        lat_free(&h[i].lat);
    }
    IGNORE_STATUS(hh_tracer_flush(t, 30000)); /* EXPORT_FAILED: the queue-full drops */
    hh_stats st;
    CHECK_OK(hh_tracer_stats(t, &st));
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery par = count_delivery_in(reqs, "storm-"), kids = count_delivery_in(reqs, "storm-child");
    jfree(reqs);
    figure("fork-storm",
           "forks=%d hung_children=%d failed_children=%d fork_call_max_ms=%.1f child_max_ms=%.0f parent_ended=%ld "
           "parent_exported=%llu parent_dropped_queue_full=%llu parent_delivered=%zu children_delivered=%zu "
           "duplicates=%zu",
           nforks, hung, failed, worst_fork, worst_child, ended, (unsigned long long)st.spans_exported,
           (unsigned long long)st.spans_dropped, par.unique_accepted - kids.unique_accepted, kids.unique_accepted,
           par.duplicates);
    CHECK_EQ(hung, 0);
    CHECK_EQ(failed, 0);
    /* The fork hook took every lock of the library each time: it gives up (letting the fork go
     * ahead unprotected) only after 2 s. */
    CHECK(worst_fork < 1900);
    CHECK_EQ(par.duplicates, 0);
    /* The parent's accounting is exact: every ended span delivered once or counted dropped. */
    CHECK_EQ((long long)(st.spans_exported + st.spans_dropped), (long long)ended);
    CHECK_EQ(par.unique_accepted - kids.unique_accepted, st.spans_exported);
    CHECK_EQ(kids.unique_accepted, (size_t)(nforks - hung - failed));
    CHECK_OK(hh_tracer_close(t, 10000));
}

void group_fork(void) {
    fork_storm();
    if (!selected("fork-in-flight"))
        return;
    int nforks = quick ? 4 : 12;
    char title[128];
    snprintf(title, sizeof title, "fork x%d while exports are in flight and 4 threads are inside the library", nforks);
    TEST_BEGIN(title);
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":20,\"export_timeout_ms\":20000,\"max_queue_size\":1000000");
    hh_tracer imm = rel_tracer(NULL, ",\"disable_batch\":true,\"export_timeout_ms\":20000");
    CHECK_OK(hh_tracer_flush(t, 5000));
    CHECK_OK(hh_tracer_flush(imm, 5000));
    /* Every export answer trickles: ~0.5 s per request. */
    rcv_fault(&R, "{\"mode\":\"trickle\",\"delay_ms\":3,\"path_prefix\":\"/opentelemetry\"}");
    atomic_int stop = 0;
    enum { NH = 4 };
    hammer_arg h[NH];
    pthread_t th[NH];
    for (int i = 0; i < NH; i++) {
        memset(&h[i], 0, sizeof h[i]);
        h[i].t = i == NH - 1 ? imm : t;
        h[i].id = i == NH - 1 ? 100 : i; /* id >= 100: the immediate-mode thread, no sleep */
        h[i].prefix = i == NH - 1 ? "parimm-" : "par-";
        h[i].stop = &stop;
        CHECK_EQ(pthread_create(&th[i], NULL, hammer, &h[i]), 0);
    }
    sleep_ms(300);
    int hung = 0, bad_exit = 0;
    child_report reps[64];
    pid_t pids[64];
    int fds[64];
    double fork_ms_max = 0;
    for (int k = 0; k < nforks; k++) {
        int p[2];
        CHECK_EQ(pipe(p), 0);
        hh_stats before;
        IGNORE_STATUS(hh_tracer_stats(t, &before));
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            child_main(k, t, imm, p[1]);
        }
        double fork_ms = now_ms() - t0;
        if (fork_ms > fork_ms_max)
            fork_ms_max = fork_ms;
        close(p[1]);
        pids[k] = pid;
        fds[k] = p[0];
        if (hh_verbose)
            fprintf(stderr, "  fork %d: pid %d, parent queue %llu\n", k, pid, (unsigned long long)before.queue_len);
        sleep_ms(150);
    }
    /* Reap: each child gets up to 15 s (exports trickle) before it counts as hung; after a
     * hang the others get 1 s (they would hang the same way). */
    double child_ms_max = 0;
    int spans_started_mismatch = 0;
    for (int k = 0; k < nforks; k++) {
        int status = 0, done = 0;
        for (int w = 0; w < (hung ? 100 : 1500); w++) {
            if (waitpid(pids[k], &status, WNOHANG) == pids[k]) {
                done = 1;
                break;
            }
            usleep(10000);
        }
        if (!done) {
            hung++;
            fprintf(stderr, "  child %d (pid %d) hung: killing it\n", k, pids[k]);
            if (getenv("HH_REL_GDB_ON_HANG")) {
                char cmd[256];
                snprintf(cmd, sizeof cmd, "gdb -p %d -batch -ex 'thread apply all bt' >&2 2>/dev/null", pids[k]);
                if (system(cmd) != 0)
                    fprintf(stderr, "  (gdb failed)\n");
            }
            kill(pids[k], SIGKILL);
            waitpid(pids[k], &status, 0);
        }
        memset(&reps[k], 0, sizeof reps[k]);
        ssize_t got = read(fds[k], &reps[k], sizeof reps[k]);
        close(fds[k]);
        if (done && (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof reps[k])) {
            bad_exit++;
            fprintf(stderr, "  child %d: exit %d signal %d code bits %d (1 session 2 start 4 end 8 immediate 16 flush 32/64 close)\n",
                    k, WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                    got == (ssize_t)sizeof reps[k] ? reps[k].code : -1);
        }
        if (reps[k].child_ms > child_ms_max)
            child_ms_max = reps[k].child_ms;
        /* The child's counters start from zero: exactly its own 10 spans. */
        if (got == (ssize_t)sizeof reps[k] &&
            (reps[k].t_stats.spans_started != 10 || reps[k].t_stats.spans_exported != 10))
            spans_started_mismatch++;
        if (got == (ssize_t)sizeof reps[k] && k == 0)
            figure("fork-in-flight-child-stats", "child0 T: started=%llu ended=%llu exported=%llu dropped=%llu; I: started=%llu exported=%llu",
                   (unsigned long long)reps[k].t_stats.spans_started, (unsigned long long)reps[k].t_stats.spans_ended,
                   (unsigned long long)reps[k].t_stats.spans_exported, (unsigned long long)reps[k].t_stats.spans_dropped,
                   (unsigned long long)reps[k].i_stats.spans_started, (unsigned long long)reps[k].i_stats.spans_exported);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NH; i++)
        pthread_join(th[i], NULL);
    rcv_clear_fault(&R);
    hh_status ft = hh_tracer_flush(t, 30000), fi = hh_tracer_flush(imm, 30000);
    long par_ended = 0, imm_ended = 0, errors = 0;
    lat_rec lat = {0};
    for (int i = 0; i < NH; i++) {
        if (h[i].id >= 100)
            imm_ended += h[i].ended;
        else
            par_ended += h[i].ended;
        errors += h[i].errors;
        if (h[i].id < 100)
            lat_merge(&lat, &h[i].lat);
        lat_free(&h[i].lat);
    }
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery par = count_delivery_in(reqs, "par-"), pimm = count_delivery_in(reqs, "parimm-");
    delivery all = count_delivery_in(reqs, NULL);
    int child_missing = 0, child_dups = 0;
    for (int k = 0; k < nforks; k++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "child%d-", k);
        delivery c = count_delivery_in(reqs, prefix);
        snprintf(prefix, sizeof prefix, "childimm-%d-", k);
        delivery ci = count_delivery_in(reqs, prefix);
        if (c.unique_accepted != 10 || ci.unique_accepted != 1) {
            child_missing++;
            fprintf(stderr, "  child %d: %zu/10 batched spans, %zu/1 immediate span on the wire (attempted %zu/%zu)\n", k,
                    c.unique_accepted, ci.unique_accepted, c.attempted_spans, ci.attempted_spans);
        }
        child_dups += (int)(c.duplicates + ci.duplicates);
    }
    jfree(reqs);
    hh_stats st;
    CHECK_OK(hh_tracer_stats(t, &st));
    figure("fork-in-flight",
           "forks=%d hung_children=%d bad_exits=%d children_missing_spans=%d child_stats_mismatch=%d "
           "parent_ended=%ld parent_delivered=%zu parent_imm_ended=%ld parent_imm_delivered=%zu duplicates_all=%zu "
           "parent_flush=%s/%s parent_span_call_max_ms=%.3f fork_call_max_ms=%.1f child_run_max_ms=%.0f",
           nforks, hung, bad_exit, child_missing, spans_started_mismatch, par_ended, par.unique_accepted, imm_ended,
           pimm.unique_accepted, all.duplicates, status_str(ft), status_str(fi), lat_max(&lat), fork_ms_max,
           child_ms_max);
    CHECK_EQ(hung, 0);
    CHECK_EQ(bad_exit, 0);
    CHECK_EQ(child_missing, 0);
    CHECK_EQ(child_dups, 0);
    CHECK_EQ(errors, 0);
    /* No child re-sent a parent span: each parent span arrived exactly once. */
    CHECK_EQ(all.duplicates, 0);
    CHECK_EQ((long)par.unique_accepted, par_ended);
    CHECK_EQ((long)pimm.unique_accepted, imm_ended);
    CHECK_STATUS(ft, HH_OK);
    CHECK_STATUS(fi, HH_OK);
    CHECK_MSG(spans_started_mismatch == 0, "%d children's stats were not exactly their own 10 spans",
              spans_started_mismatch);
    lat_free(&lat);
    CHECK_OK(hh_tracer_close(t, 10000));
    CHECK_OK(hh_tracer_close(imm, 10000));
}
