/* Sessions across fork(): a pre-fork server's default session is started once, by the parent;
 * a fork while other threads name sessions leaves the child working. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

/* Waits for `pid` up to `ms` (scaled), killing it past that (counted in `hung`); its exit
 * code, or -1 when it did not exit by itself. */
static int child_exit_code(pid_t pid, int ms, int *hung) {
    int status = -1;
    for (int i = 0; i < scaled_ms(ms) / 5; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(5000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    *hung += 1;
    return -1;
}

static void prefork_one_start(void) {
    TEST_BEGIN("fork: a pre-fork server's workers share the default session, started once by the parent");
    rcv_reset(&R);
    hh_tracer t = new_tracer(NULL);
    char sid[HH_SESSION_ID_BUF_LEN];
    CHECK_OK(hh_tracer_session_id(t, sid, sizeof sid, NULL));
    enum { WORKERS = 3 };
    pid_t pids[WORKERS];
    fflush(NULL);
    for (int i = 0; i < WORKERS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            hh_span s = 0;
            int code = 0;
            if (hh_span_start(t, "worker-span", HH_EVENT_CHAIN, 0, NULL, NULL, &s, NULL) != HH_OK)
                code |= 1;
            if (hh_span_end(s) != HH_OK)
                code |= 2;
            if (hh_tracer_flush(t, (uint32_t)scaled_ms(10000)) != HH_OK)
                code |= 4;
            _exit(code);
        }
        CHECK(pids[i] > 0);
    }
    int hung = 0;
    for (int i = 0; i < WORKERS; i++)
        CHECK_MSG(child_exit_code(pids[i], 20000, &hung) == 0, "worker %d failed or hung", i);
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, WORKERS, 10000);
    CHECK_EQ(spans_named(spans, "worker-span"), WORKERS);
    CHECK_EQ(spans_with_attr(spans, "honeyhive.session_id", sid), WORKERS);
    jfree(spans);
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    CHECK_EQ(requests_count(reqs, "POST", "/session/start"), 1);
    CHECK(request_find(reqs, "POST", "/session/start", "session.session_id", sid) != NULL);
    jfree(reqs);
    close_tracer(t);
}

static hh_tracer named_tracer;
static atomic_int stop_naming;

static void *name_sessions(void *arg) {
    (void)arg;
    char opts[256], out[HH_SESSION_ID_BUF_LEN];
    for (unsigned i = 0; !atomic_load(&stop_naming); i++) {
        snprintf(opts, sizeof opts,
                 "{\"session_id\":\"abcdef01-0000-4000-8000-%012u\",\"session_name\":\"n%u\","
                 "\"skip_api_call\":true}",
                 i % 5000 + 2, i);
        IGNORE_STATUS(hh_session_create(named_tracer, opts, out, sizeof out, NULL));
    }
    return NULL;
}

static void fork_while_naming(void) {
    TEST_BEGIN("fork: while other threads name sessions, the child's spans in a named session work");
    const char *sid = "abcdef01-0000-4000-8000-000000000001";
    /* Nothing is exported: the server is a closed port (the child must only not hang). */
    hh_tracer t = 0;
    CHECK_OK(hh_tracer_new("{\"api_key\":\"k\",\"project\":\"p\",\"server_url\":\"http://127.0.0.1:9\"}", &t,
                           NULL));
    named_tracer = t;
    char opts[256], out[HH_SESSION_ID_BUF_LEN];
    snprintf(opts, sizeof opts, "{\"session_id\":\"%s\",\"session_name\":\"named\",\"skip_api_call\":true}", sid);
    CHECK_OK(hh_session_create(t, opts, out, sizeof out, NULL));
    atomic_store(&stop_naming, 0);
    enum { THREADS = 3 };
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, name_sessions, NULL) == 0);
    int forks = reduced ? 10 : 60, hung = 0, failed = 0;
    for (int i = 0; i < forks; i++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            hh_span s = 0;
            /* 3: a failed call (under valgrind, a child's leak report may exit with 99). */
            if (hh_span_start(t, "in-child", HH_EVENT_CHAIN, 0, sid, NULL, &s, NULL) != HH_OK ||
                hh_span_end(s) != HH_OK)
                _exit(3);
            _exit(0);
        }
        if (pid < 0) {
            failed++;
            continue;
        }
        if (child_exit_code(pid, 5000, &hung) == 3)
            failed++;
        usleep(1000);
    }
    atomic_store(&stop_naming, 1);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    CHECK_MSG(hung == 0, "%d of %d children hung in hh_span_start", hung, forks);
    CHECK_MSG(failed == 0, "%d of %d children failed", failed, forks);
    /* Nothing can be delivered to the closed port: the close's status says so. */
    IGNORE_STATUS(hh_tracer_close(t, 100));
}

void test_fork_sessions(void) {
    prefork_one_start();
    fork_while_naming();
}
