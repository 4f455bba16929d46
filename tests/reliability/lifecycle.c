/* Process lifecycle: a C program that ends without closing still delivers its ended spans
 * within a bound (exit_prog, several ways of ending); closing a tracer while other threads
 * use it. (fork is in fork.c.)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rel.h"

typedef struct {
    int exited;     /* 1: exited by itself */
    int status;     /* waitpid status */
    long ended;     /* ENDED line */
    double ret_at;  /* RETURNING line (CLOCK_MONOTONIC ms) */
    double exit_ms; /* from RETURNING to the process being reaped */
    /* When it did not exit in time, sampled before it was killed: CPU its main thread used
     * over 500 ms, and the system call that thread was in (-1: running, none). */
    long hung_cpu_ms;
    long hung_syscall;
    char out[4096];
} run_result;

/* utime + stime of a task, in ms (-1 when unreadable). */
static long task_cpu_ms(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the name may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* The system call a task is blocked in (first field of /proc/.../syscall), or -1. */
static long task_syscall(pid_t pid) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long nr = -1;
    if (!fgets(buf, sizeof buf, f) || sscanf(buf, "%ld", &nr) != 1)
        nr = -1;
    fclose(f);
    return nr;
}

/* Runs exit_prog <R.url> <mode> with `env_extra` and `env_extra2` ("NAME=VALUE" or NULL) and
 * waits at most deadline_ms for it; its stderr is captured too when `with_stderr`. */
static run_result run_exit_prog_ex(const char *mode, const char *env_extra, const char *env_extra2, int with_stderr,
                                   int deadline_ms) {
    run_result r;
    memset(&r, 0, sizeof r);
    const char *prog = getenv("HH_REL_EXIT_PROG");
    int pipefd[2];
    if (!prog || pipe(pipefd) != 0) {
        CHECK_MSG(0, "HH_REL_EXIT_PROG not set");
        return r;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        if (with_stderr)
            dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        if (env_extra)
            putenv((char *)env_extra);
        if (env_extra2)
            putenv((char *)env_extra2);
        execl(prog, prog, R.url, mode, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    size_t len = 0;
    double deadline = now_ms() + deadline_ms;
    int status = 0;
    for (;;) {
        ssize_t n = read(pipefd[0], r.out + len, sizeof r.out - 1 - len);
        if (n > 0)
            len += (size_t)n;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            double reaped = now_ms();
            while ((n = read(pipefd[0], r.out + len, sizeof r.out - 1 - len)) > 0)
                len += (size_t)n;
            r.exited = 1;
            r.status = status;
            r.out[len] = 0;
            const char *e = strstr(r.out, "ENDED ");
            const char *t = strstr(r.out, "RETURNING ");
            if (e)
                r.ended = atol(e + 6);
            if (t) {
                r.ret_at = atof(t + 10);
                r.exit_ms = reaped - r.ret_at;
            }
            break;
        }
        if (now_ms() > deadline) {
            long cpu0 = task_cpu_ms(pid);
            usleep(500000);
            long cpu1 = task_cpu_ms(pid);
            r.hung_cpu_ms = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
            r.hung_syscall = task_syscall(pid);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            r.out[len] = 0;
            break;
        }
        usleep(1000);
    }
    close(pipefd[0]);
    return r;
}

static run_result run_exit_prog(const char *mode, const char *env_extra, int deadline_ms) {
    return run_exit_prog_ex(mode, env_extra, NULL, 0, deadline_ms);
}

static int exited_zero(const run_result *r) {
    return r->exited && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

static void exit_return(void) {
    if (!selected("exit-c-return"))
        return;
    TEST_BEGIN("exit: C program returns from main without close");
    rcv_reset(&R);
    run_result r = run_exit_prog("return", NULL, 15000);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery a = count_delivery_in(reqs, "exit-a-"), b = count_delivery_in(reqs, "exit-b-");
    delivery open = count_delivery_in(reqs, "exit-open");
    jfree(reqs);
    figure("exit-c-return",
           "ended=%ld delivered_a=%zu/100 delivered_b=%zu/10 duplicates=%zu open_span_delivered=%zu exit_ms=%.0f "
           "exit_status=%d",
           r.ended, a.unique_accepted, b.unique_accepted, a.duplicates + b.duplicates, open.unique_accepted,
           r.exit_ms, r.exited ? WEXITSTATUS(r.status) : -1);
    CHECK_MSG(exited_zero(&r), "exit_prog did not exit 0 in time: %s", r.out);
    CHECK_EQ(r.ended, 110);
    CHECK_EQ(a.unique_accepted, 100);
    CHECK_EQ(b.unique_accepted, 10);
    CHECK_EQ(a.duplicates + b.duplicates, 0);
    CHECK_EQ(open.unique_accepted, 0); /* never ended: not exported */
    CHECK_MSG(r.exit_ms < 2000 + 1000, "exit took %.0f ms (budget HH_EXIT_FLUSH_TIMEOUT_MS=2000)", r.exit_ms);
}

/* A child forked while the parent's first tracer is still starting up in the background
 * (the clock calibration runs then) works: a child once inherited a calibration "under way"
 * and waited on it forever on its runtime thread, so it never exported. */
static void fork_at_start(void) {
    if (!selected("fork-at-start"))
        return;
    TEST_BEGIN("fork: children forked during the first tracer's start-up export and close");
    rcv_reset(&R);
    run_result r = run_exit_prog("fork-at-start", NULL, 30000);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery d = count_delivery_in(reqs, "exit-forkinit-");
    jfree(reqs);
    const char *c = strstr(r.out, "CHILDREN_OK ");
    long children_ok = c ? atol(c + 12) : -1;
    figure("fork-at-start", "children_ok=%ld/12 delivered=%zu/12 duplicates=%zu exit_status=%d", children_ok,
           d.unique_accepted, d.duplicates, r.exited ? WEXITSTATUS(r.status) : -1);
    CHECK_MSG(exited_zero(&r), "exit_prog fork-at-start did not exit 0 in time: %s", r.out);
    CHECK_EQ(children_ok, 12);
    CHECK_EQ(d.unique_accepted, 12);
    CHECK_EQ(d.duplicates, 0);
}

static void exit_return_hang(void) {
    if (!selected("exit-c-server-hangs"))
        return;
    TEST_BEGIN("exit: the exit flush is bounded when the server hangs");
    rcv_reset(&R);
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/opentelemetry\"}");
    run_result r = run_exit_prog("return-hang", "HH_EXIT_FLUSH_TIMEOUT_MS=1000", 15000);
    rcv_clear_fault(&R);
    figure("exit-c-server-hangs", "budget_ms=1000 exit_ms=%.0f exit_status=%d", r.exit_ms,
           r.exited ? WEXITSTATUS(r.status) : -1);
    CHECK_MSG(exited_zero(&r), "exit_prog did not exit 0 in time: %s", r.out);
    CHECK_MSG(r.exit_ms < 1000 + 1000, "exit took %.0f ms with a 1000 ms budget", r.exit_ms);
}

static void exit_threads(void) {
    if (!selected("exit-c-threads-running"))
        return;
    TEST_BEGIN("exit: main returns while 4 threads keep ending spans");
    rcv_reset(&R);
    run_result r = run_exit_prog("threads", NULL, 15000);
    delivery d = count_delivery(&R, "exit-busy-");
    figure("exit-c-threads-running",
           "ended_before_return=%ld delivered=%zu duplicates=%zu exit_ms=%.0f exit_status=%d signal=%d", r.ended,
           d.unique_accepted, d.duplicates, r.exit_ms, r.exited && WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1,
           r.exited && WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0);
    CHECK_MSG(exited_zero(&r), "exit_prog did not exit 0 in time (crash or hang): %s", r.out);
    CHECK_MSG((long)d.unique_accepted >= r.ended, "%zu delivered, %ld ended before main returned", d.unique_accepted,
              r.ended);
    CHECK_EQ(d.duplicates, 0);
    CHECK_MSG(r.exit_ms < 2000 + 1000, "exit took %.0f ms", r.exit_ms);
}

static void exit_from_thread(void) {
    if (!selected("exit-c-from-thread"))
        return;
    TEST_BEGIN("exit: exit(0) from a non-main thread");
    rcv_reset(&R);
    run_result r = run_exit_prog("exit-thread", NULL, 15000);
    delivery d = count_delivery(&R, "exit-fromthread-");
    figure("exit-c-from-thread", "ended=%ld delivered=%zu exit_ms=%.0f", r.ended, d.unique_accepted, r.exit_ms);
    CHECK_MSG(exited_zero(&r), "exit_prog did not exit 0 in time: %s", r.out);
    CHECK_EQ(d.unique_accepted, 50);
}

static void exit_closed_one(void) {
    if (!selected("exit-c-one-closed"))
        return;
    TEST_BEGIN("exit: one tracer closed, one not");
    rcv_reset(&R);
    run_result r = run_exit_prog("closed-one", NULL, 15000);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery c = count_delivery_in(reqs, "exit-closed-"), u = count_delivery_in(reqs, "exit-unclosed-");
    jfree(reqs);
    figure("exit-c-one-closed", "closed_delivered=%zu/20 unclosed_delivered=%zu/20 duplicates=%zu exit_ms=%.0f",
           c.unique_accepted, u.unique_accepted, c.duplicates + u.duplicates, r.exit_ms);
    CHECK_MSG(exited_zero(&r), "exit_prog did not exit 0: %s", r.out);
    CHECK_EQ(c.unique_accepted, 20);
    CHECK_EQ(u.unique_accepted, 20);
    CHECK_EQ(c.duplicates + u.duplicates, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Closing a tracer while other threads use it. */

typedef struct {
    hh_tracer t;
    int id, round;
    atomic_int *go;
    long calls, ok, closed, invalid, unexpected;
    long ends_ok;
    char first_unexpected[128];
} user_arg;

static void tally(user_arg *u, const char *what, hh_status st, int allow_timeout) {
    u->calls++;
    if (st == HH_OK)
        u->ok++;
    else if (st == HH_ERR_TRACER_CLOSED)
        u->closed++;
    else if (st == HH_ERR_INVALID_HANDLE)
        u->invalid++;
    else if (allow_timeout && (st == HH_ERR_TIMEOUT || st == HH_ERR_EXPORT_FAILED))
        u->ok++;
    else {
        if (u->unexpected++ == 0)
            snprintf(u->first_unexpected, sizeof u->first_unexpected, "%s -> %s", what, status_str(st));
    }
}

/* Every kind of call, in a loop, until the tracer is gone. */
static void *user(void *p) {
    user_arg *u = p;
    while (!atomic_load(u->go)) {
    }
    char sid[HH_SESSION_ID_BUF_LEN] = "";
    for (int i = 0; i < 100000; i++) {
        hh_status st = hh_session_create(u->t, NULL, sid, sizeof sid, NULL);
        tally(u, "session_create", st, 0);
        hh_span root = 0, child = 0;
        char name[64];
        snprintf(name, sizeof name, "cr%d-%d-%d", u->round, u->id, i);
        st = hh_span_start(u->t, name, HH_EVENT_CHAIN, 0, st == HH_OK ? sid : NULL, NULL, &root, NULL);
        tally(u, "span_start", st, 0);
        if (st != HH_OK)
            break;
        st = hh_span_start(u->t, name, HH_EVENT_TOOL, root, NULL, "{\"k\":1}", &child, NULL);
        tally(u, "span_start(child)", st, 0);
        tally(u, "set_str", hh_span_set_str(root, HH_NS_METADATA, "k", "v"), 0);
        tally(u, "enrich", hh_span_enrich(root, "{\"metrics\":{\"m\":1}}", NULL), 0);
        char tp[HH_TRACEPARENT_BUF_LEN], bag[512];
        tally(u, "inject", hh_span_inject(root, tp, sizeof tp, bag, sizeof bag, NULL), 0);
        tally(u, "record_error", hh_span_record_error(root, "E", "m"), 0);
        if (child) {
            st = hh_span_end(child);
            tally(u, "end(child)", st, 0);
            if (st == HH_OK)
                u->ends_ok++;
        }
        st = hh_span_end(root);
        tally(u, "end", st, 0);
        if (st == HH_OK)
            u->ends_ok++;
        if (sid[0])
            tally(u, "session_enrich", hh_session_enrich(u->t, sid, "{\"metadata\":{\"a\":1}}", NULL), 0);
        hh_stats s;
        tally(u, "stats", hh_tracer_stats(u->t, &s), 0);
        if (i % 50 == 0)
            tally(u, "flush", hh_tracer_flush(u->t, 5), 1);
    }
    return NULL;
}

typedef struct {
    hh_tracer t;
    int delay_ms;
    uint32_t timeout;
    hh_status st;
    double ms;
} closer_arg;

static void *closer(void *p) {
    closer_arg *c = p;
    sleep_ms(c->delay_ms);
    double t0 = now_ms();
    c->st = hh_tracer_close(c->t, c->timeout);
    c->ms = now_ms() - t0;
    return NULL;
}

static void close_race_round(int round, int hang) {
    rcv_reset(&R);
    if (hang)
        rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/opentelemetry\"}");
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":20,\"max_queue_size\":1000000,\"export_timeout_ms\":2000");
    atomic_int go = 0;
    enum { NU = 4 };
    user_arg u[NU];
    pthread_t th[NU], cl[2];
    for (int i = 0; i < NU; i++) {
        memset(&u[i], 0, sizeof u[i]);
        u[i].t = t;
        u[i].id = i;
        u[i].round = round;
        u[i].go = &go;
        CHECK_EQ(pthread_create(&th[i], NULL, user, &u[i]), 0);
    }
    closer_arg c[2] = {{t, 30 + 10 * round, hang ? 300 : 10000, HH_OK, 0}, {t, 31 + 10 * round, hang ? 300 : 10000, HH_OK, 0}};
    atomic_store(&go, 1);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&cl[i], NULL, closer, &c[i]), 0);
    long calls = 0, unexpected = 0, closed = 0, invalid = 0, ends_ok = 0;
    for (int i = 0; i < NU; i++) {
        pthread_join(th[i], NULL);
        calls += u[i].calls;
        unexpected += u[i].unexpected;
        closed += u[i].closed;
        invalid += u[i].invalid;
        ends_ok += u[i].ends_ok;
        CHECK_MSG(u[i].unexpected == 0, "round %d thread %d: %ld unexpected statuses, first: %s", round, i,
                  u[i].unexpected, u[i].first_unexpected);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(cl[i], NULL);
    hh_stats s;
    memset(&s, 0, sizeof s);
    CHECK_OK(hh_tracer_stats(t, &s));
    char prefix[16];
    snprintf(prefix, sizeof prefix, "cr%d-", round);
    if (hang)
        rcv_clear_fault(&R);
    delivery d = count_delivery(&R, prefix);
    char row[48];
    snprintf(row, sizeof row, "close-race-%s-%d", hang ? "hang" : "ok", round);
    figure(row,
           "calls=%ld closed_status=%ld invalid_handle=%ld unexpected=%ld close=%s/%s close_ms=%.0f/%.0f started=%llu "
           "ends_ok=%ld exported=%llu dropped=%llu rest_calls=%llu rest_failures=%llu on_wire=%zu duplicates=%zu",
           calls, closed, invalid, unexpected, status_str(c[0].st), status_str(c[1].st), c[0].ms, c[1].ms,
           (unsigned long long)s.spans_started, ends_ok, (unsigned long long)s.spans_exported,
           (unsigned long long)s.spans_dropped, (unsigned long long)s.rest_calls,
           (unsigned long long)s.rest_failures, d.unique_accepted, d.duplicates);
    CHECK_EQ(unexpected, 0);
    CHECK_MSG(closed > 0, "the users never saw the tracer closed");
    if (hang) {
        /* Nothing can be delivered: the first close times out, and the second (concurrent)
         * close waits for it and reports the same, instead of HH_OK at once (RELIABILITY.md O1). */
        for (int i = 0; i < 2; i++) {
            CHECK_MSG(c[i].st == HH_ERR_TIMEOUT, "close -> %s", status_str(c[i].st));
            CHECK_MSG(c[i].ms > 200, "close(300) returned after %.0f ms while the other close was delivering", c[i].ms);
            CHECK_MSG(c[i].ms < 300 + 1000, "close(300) took %.0f ms while the server hangs", c[i].ms);
        }
        CHECK_STATUS(hh_tracer_close(t, 0), HH_ERR_TIMEOUT); /* later: the first close's status */
    } else {
        CHECK_STATUS(c[0].st, HH_OK);
        CHECK_STATUS(c[1].st, HH_OK);
        CHECK_EQ(s.spans_exported + s.spans_dropped, s.spans_started);
        CHECK_EQ(s.queue_len, 0);
        CHECK_EQ(d.unique_accepted, s.spans_exported);
        CHECK_EQ((long)d.unique_accepted, ends_ok); /* every HH_OK end delivered, nothing else */
        CHECK_EQ(d.duplicates, 0);
    }
}

/* A child forked from a process using the library, which never uses it and calls exit(0),
 * exits 0 and prints nothing: it once ran the exit flush, which started a runtime after the
 * exiting thread's thread-local values were gone and printed a panic. The parent's queued
 * spans are delivered once, by the parent. */
static void fork_child_exits(void) {
    if (!selected("exit-fork-child-silent"))
        return;
    TEST_BEGIN("exit: a forked child that never traced exits silently");
    rcv_reset(&R);
    run_result r = run_exit_prog("fork-child-exits", NULL, 20000);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    delivery d = count_delivery_in(reqs, "exit-forkexit-");
    jfree(reqs);
    const char *c = strstr(r.out, "CHILDREN_OK "), *b = strstr(r.out, "CHILD_STDERR_BYTES ");
    long children_ok = c ? atol(c + 12) : -1, stderr_bytes = b ? atol(b + 19) : -1;
    figure("exit-fork-child-silent", "children_ok=%ld/4 child_stderr_bytes=%ld parent_delivered=%zu/10 duplicates=%zu",
           children_ok, stderr_bytes, d.unique_accepted, d.duplicates);
    CHECK_MSG(exited_zero(&r), "exit_prog fork-child-exits did not exit 0 in time: %s", r.out);
    CHECK_EQ(children_ok, 4);
    CHECK_MSG(stderr_bytes == 0, "the children printed %ld bytes: %s", stderr_bytes, r.out);
    CHECK_EQ(d.unique_accepted, 10);
    CHECK_EQ(d.duplicates, 0);
}

/* A SIGTERM handler calls exit() while the main thread ends spans and flushes in a loop: the
 * exit hook must not wait for a lock the interrupted thread holds (it once spun on one at 100%
 * CPU forever; with this loop, in most runs). Each run must end by itself; a run whose flush was
 * given up says so in one warning line. */
static void sigterm_in_flush(void) {
    if (!selected("exit-sigterm-in-flush"))
        return;
    int runs = quick ? 8 : 20;
    char title[96];
    snprintf(title, sizeof title, "exit: exit() from a SIGTERM handler during flushes (%d runs)", runs);
    TEST_BEGIN(title);
    rcv_reset(&R);
    int hung = 0, blocked_in_libc = 0, bad_exit = 0, warned = 0, bad_warning = 0;
    for (int i = 0; i < runs; i++) {
        static char delay[64];
        /* Spread over 20-120 ms after start-up: the signal lands at many points of the loop. */
        snprintf(delay, sizeof delay, "HH_REL_SIGNAL_DELAY_US=%d", 20000 + (i * 7919) % 100000);
        run_result r = run_exit_prog_ex("sigterm-in-flush", "HH_EXIT_FLUSH_TIMEOUT_MS=1000", delay, 1, 8000);
        if (!r.exited && r.hung_syscall == 202 /* futex */ && r.hung_cpu_ms >= 0 && r.hung_cpu_ms < 50) {
            /* Asleep on a futex: not a lock of the library (they spin, never sleep). This is
             * glibc: exit() from the handler interrupted malloc, and exit's own pass over the
             * thread's TLS destructors frees memory, taking the arena lock the interrupted
             * malloc holds, before any exit hook runs. Counted, not failed: see RELIABILITY.md. */
            blocked_in_libc++;
            fprintf(stderr, "  run %d (%s): asleep in a futex (glibc's malloc lock), killed\n", i, delay);
        } else if (!r.exited) {
            hung++;
            fprintf(stderr, "  run %d (%s): still running after 8 s (main thread: %ld ms CPU in 500 ms, syscall %ld), killed\n",
                    i, delay, r.hung_cpu_ms, r.hung_syscall);
        } else if (!exited_zero(&r)) {
            bad_exit++;
            fprintf(stderr, "  run %d (%s): exit %d signal %d: %s\n", i, delay,
                    WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1, WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0,
                    r.out);
        }
        const char *w = strstr(r.out, "exit flush skipped");
        if (w) {
            warned++;
            if (strstr(w + 1, "exit flush skipped"))
                bad_warning++; /* one line, not one per tracer or per lock */
        }
    }
    figure("exit-sigterm-in-flush",
           "runs=%d hung=%d blocked_in_glibc_malloc=%d bad_exits=%d flush_given_up_with_warning=%d", runs, hung,
           blocked_in_libc, bad_exit, warned);
    CHECK_EQ(hung, 0);
    CHECK_EQ(bad_exit, 0);
    CHECK_EQ(bad_warning, 0);
}

static void close_races(void) {
    if (!selected("close-race"))
        return;
    TEST_BEGIN("close while 4 threads make every kind of call (5 rounds, then 2 with a hanging server)");
    for (int r = 0; r < 5; r++)
        close_race_round(r, 0);
    for (int r = 5; r < 7; r++)
        close_race_round(r, 1);
}

/* ---- closed tracers free their memory ---- */

/* 15,000 tracers created, used (a few hundred spans each, written by the file exporter) and closed: a closed tracer
 * keeps only its counters, so the process does not grow with the tracers it has closed. */
static void closed_tracers_free_memory(void) {
    if (!selected("closed-tracers-memory"))
        return;
    TEST_BEGIN("lifecycle row closed-tracers-memory: closed tracers free their memory");
    rcv_reset(&R);
    rcv_clear_fault(&R);
    /* The file exporter (to /dev/null: the row measures the library, not a receiver): each
     * tracer queues, encodes and writes its spans. */
    const char *cfg = "{\"exporter\":\"file\",\"file_path\":\"/dev/null\",\"schedule_delay_ms\":600000}";
    int n = quick ? 2000 : 15000, made = 0, closed_ok = 0;
    /* A few spans with some text each: the export's buffers grow to hold them. */
    enum { SPANS_PER_TRACER = 200, PAYLOAD = 256 };
    static char payload[PAYLOAD + 1];
    memset(payload, 'p', PAYLOAD);
    /* Warm-up: the runtime, the client's first allocations, the handle tables. */
    for (int i = 0; i < 200; i++) {
        hh_tracer t = 0;
        if (hh_tracer_new(cfg, &t, NULL) == HH_OK)
            IGNORE_STATUS(hh_tracer_close(t, 5000));
    }
    long before = status_kb("VmRSS");
    hh_tracer last = 0;
    for (int i = 0; i < n; i++) {
        hh_tracer t = 0;
        if (hh_tracer_new(cfg, &t, NULL) != HH_OK)
            continue;
        made++;
        for (int k = 0; k < SPANS_PER_TRACER; k++) {
            hh_span s = 0;
            if (hh_span_start(t, "closed-tracer", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK) {
                IGNORE_STATUS(hh_span_set_str(s, HH_NS_OUTPUTS, "text", payload));
                IGNORE_STATUS(hh_span_end(s));
            }
        }
        closed_ok += hh_tracer_close(t, 5000) == HH_OK;
        last = t;
    }
    long growth_kb = status_kb("VmRSS") - before;
    hh_stats st;
    memset(&st, 0, sizeof st);
    hh_status stats_st = hh_tracer_stats(last, &st);
    figure("closed-tracers-memory", "tracers=%d closed_ok=%d vmrss_growth_mib=%.1f per_tracer_bytes=%.0f", made,
           closed_ok, growth_kb / 1024.0, made ? growth_kb * 1024.0 / made : 0.0);
    CHECK_EQ(made, n);
    CHECK_EQ(closed_ok, n);
    /* A late stats call still has the last tracer's counts. */
    CHECK_STATUS(stats_st, HH_OK);
    CHECK_EQ(st.spans_exported, SPANS_PER_TRACER);
    CHECK_MSG(growth_kb < 64 * 1024, "RSS grew %.1f MiB over %d closed tracers", growth_kb / 1024.0, n);
}

/* ---------------------------------------------------------------------------------------- */
/* schedule_delay_ms 0 means "export promptly", not "wake up all the time": an idle tracer with
 * it must mostly sleep. Before, its worker woke about 1000 times a second. */

static double cpu_ms(const struct rusage *u) {
    return (double)(u->ru_utime.tv_sec + u->ru_stime.tv_sec) * 1000.0 +
           (double)(u->ru_utime.tv_usec + u->ru_stime.tv_usec) / 1000.0;
}

static void schedule_delay_zero(void) {
    if (!selected("schedule-delay-zero"))
        return;
    TEST_BEGIN("schedule-delay-zero: an idle tracer with schedule_delay_ms 0 sleeps, and still exports promptly");
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":0");
    if (!t)
        return;
    /* The default session start goes first, so the idle window really has nothing to do. */
    CHECK_OK(hh_tracer_flush(t, 5000));
    /* The whole process (every thread) over 2 s in which this thread sleeps and no tracer has
     * anything to send. CPU: at most 200 ms, 10 % of one core, generous for a shared 2-core
     * machine (about 10 ms is usual). The CPU of a spinning worker is small per wake-up (50-80 ms
     * in 2 s measured), so the check that tells a spin apart is the wake-ups themselves, counted
     * as voluntary context switches of the process: a worker waking every millisecond makes
     * about 1800 in 2 s; the library's floor on the delay (10 ms) about 200; bound 500. */
    struct rusage a, b;
    getrusage(RUSAGE_SELF, &a);
    double t0 = now_ms();
    sleep_ms(2000);
    double wall = now_ms() - t0;
    getrusage(RUSAGE_SELF, &b);
    double cpu = cpu_ms(&b) - cpu_ms(&a);
    long wakeups = b.ru_nvcsw - a.ru_nvcsw;
    /* Spans still go at once: each flush returns OK and all arrive. */
    const int n = 200;
    int ended = 0;
    for (int i = 0; i < n; i++) {
        char name[64];
        hh_span s = 0;
        snprintf(name, sizeof name, "delay0-%d", i);
        if (hh_span_start(t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK && hh_span_end(s) == HH_OK)
            ended++;
    }
    hh_status f = hh_tracer_flush(t, 10000);
    delivery d = count_delivery(&R, "delay0-");
    figure("schedule-delay-zero",
           "idle_wall_ms=%.0f process_cpu_ms=%.1f voluntary_context_switches=%ld bound_cpu_ms=200 "
           "bound_switches=500 spans=%d flush=%s accepted_unique=%zu",
           wall, cpu, wakeups, ended, status_str(f), d.unique_accepted);
    CHECK_MSG(cpu < 200.0, "the idle process used %.1f ms of CPU in %.0f ms", cpu, wall);
    CHECK_MSG(wakeups < 500, "the idle process switched context %ld times in %.0f ms", wakeups, wall);
    CHECK_EQ(ended, n);
    CHECK_OK(f);
    CHECK_EQ(d.unique_accepted, n);
    CHECK_EQ(d.duplicates, 0);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
}

void group_lifecycle(void) {
    schedule_delay_zero();
    exit_return();
    fork_at_start();
    exit_return_hang();
    exit_threads();
    exit_from_thread();
    exit_closed_one();
    fork_child_exits();
    sigterm_in_flush();
    close_races();
    closed_tracers_free_memory();
}
