/* Entry point of the C tests: harness, shared helpers, receiver lifecycle, group selection.
 *
 * Usage: hh_c_tests [group...]   groups: wire abuse panic threads fork events (default: all)
 * Env:   HH_RECEIVER_BIN          path of hh-receiver (default <repo>/target/release/hh-receiver)
 *        HH_CTEST_REDUCED=1       fewer threads/spans (for valgrind)
 *        HH_CTEST_TIMEOUT_SCALE=N multiply receiver wait timeouts (for valgrind)
 *        HH_CTEST_VERBOSE=1       print passing checks too
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

receiver R;
int reduced;
const char *program_basename = "";

const char *config_json(const char *extra) {
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0],
             "{\"api_key\":\"test-key\",\"project\":\"p\",\"server_url\":\"%s\",\"schedule_delay_ms\":50%s}",
             R.url, extra ? extra : "");
    return b;
}

hh_tracer new_tracer(const char *extra) {
    hh_tracer t = 0;
    hh_error err;
    memset(&err, 0, sizeof err);
    hh_status st = hh_tracer_new(config_json(extra), &t, &err);
    CHECK_MSG(st == HH_OK, "hh_tracer_new: %s %s", hh_status_name(st), err.message);
    return st == HH_OK ? t : 0;
}

hh_span start_span(hh_tracer t, const char *name, hh_event_type type, hh_span parent, const char *session_id) {
    hh_span s = 0;
    hh_error err;
    memset(&err, 0, sizeof err);
    hh_status st = hh_span_start(t, name, type, parent, session_id, NULL, &s, &err);
    CHECK_MSG(st == HH_OK, "hh_span_start(%s): %s %s", name, hh_status_name(st), err.message);
    return st == HH_OK ? s : 0;
}

void close_tracer(hh_tracer t) {
    CHECK_OK(hh_tracer_close(t, (uint32_t)scaled_ms(10000)));
}

void span_ids(hh_span s, char trace_id[33], char span_id[17]) {
    char tp[HH_TRACEPARENT_BUF_LEN];
    char bag[1024];
    trace_id[0] = span_id[0] = 0;
    if (hh_span_inject(s, tp, sizeof tp, bag, sizeof bag, NULL) != HH_OK)
        return;
    /* 00-<32 hex trace>-<16 hex span>-<2 hex flags> */
    memcpy(trace_id, tp + 3, 32);
    trace_id[32] = 0;
    memcpy(span_id, tp + 36, 16);
    span_id[16] = 0;
}

/* Environment that would change the tracers' behaviour (HH_API_KEY, HH_TEST_MODE, OTEL_*...)
 * is removed so the results do not depend on the caller's shell. */
static void scrub_environment(void) {
    extern char **environ;
    char *names[256];
    int n = 0;
    for (char **e = environ; *e && n < 256; e++) {
        const char *kv = *e;
        int ours = strncmp(kv, "HH_RECEIVER_BIN=", 16) == 0 || strncmp(kv, "HH_CTEST_", 9) == 0;
        if (!ours && (strncmp(kv, "HH_", 3) == 0 || strncmp(kv, "HONEYHIVE_", 10) == 0 ||
                      strncmp(kv, "OTEL_", 5) == 0)) {
            const char *eq = strchr(kv, '=');
            if (eq)
                names[n++] = strndup(kv, (size_t)(eq - kv));
        }
    }
    for (int i = 0; i < n; i++) {
        unsetenv(names[i]);
        free(names[i]);
    }
}

static const struct {
    const char *name;
    hh_test_fn fn;
} GROUPS[] = {
    {"wire", test_wire}, {"abuse", test_abuse}, {"panic", test_panic},
    {"threads", test_threads}, {"fork", test_fork}, {"span_model", test_span_model},
    {"events", test_events},
};

int main(int argc, char **argv) {
    setvbuf(stderr, NULL, _IOLBF, 0);
    program_basename = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    hh_verbose = getenv("HH_CTEST_VERBOSE") != NULL;
    reduced = getenv("HH_CTEST_REDUCED") != NULL && strcmp(getenv("HH_CTEST_REDUCED"), "0") != 0;
    scrub_environment();
    if (rcv_start(&R) != 0) {
        fprintf(stderr, "cannot start hh-receiver (set HH_RECEIVER_BIN or build it)\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    fprintf(stderr, "libhoneyhive %s, receiver at %s%s\n", hh_version(), R.url, reduced ? " (reduced mode)" : "");
    size_t ngroups = sizeof GROUPS / sizeof GROUPS[0];
    for (size_t g = 0; g < ngroups; g++) {
        int selected = argc <= 1;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], GROUPS[g].name) == 0)
                selected = 1;
        if (selected)
            GROUPS[g].fn();
    }
    rcv_stop(&R);
    return hh_report();
}
