/* The check counters and the closing line, shared by the C ABI tests (tests/c) and the
 * reliability suite (tests/reliability). See harness.h. */
#include "harness.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

atomic_long hh_passed;
atomic_long hh_failed;
int hh_verbose;

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

void hh_check_result(int ok, const char *file, int line, const char *what, const char *detail) {
    if (ok) {
        atomic_fetch_add(&hh_passed, 1);
        if (hh_verbose) {
            pthread_mutex_lock(&print_lock);
            fprintf(stderr, "  ok   %s:%d: %s\n", file, line, what);
            pthread_mutex_unlock(&print_lock);
        }
        return;
    }
    atomic_fetch_add(&hh_failed, 1);
    pthread_mutex_lock(&print_lock);
    fprintf(stderr, "  FAIL %s:%d: %s%s%s\n", file, line, what, detail ? " -- " : "", detail ? detail : "");
    pthread_mutex_unlock(&print_lock);
}

void hh_check_fmt(int ok, const char *file, int line, const char *what, const char *fmt, ...) {
    char detail[1024] = "";
    if (!ok) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    hh_check_result(ok, file, line, what, ok ? NULL : detail);
}

int hh_report(void) {
    long p = atomic_load(&hh_passed), f = atomic_load(&hh_failed);
    printf("%ld passed, %ld failed\n", p, f);
    fflush(stdout);
    return f == 0 ? 0 : 1;
}

