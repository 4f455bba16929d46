/* The check counters and the closing line, shared by the C ABI tests (tests/c) and the
 * reliability suite (tests/reliability). See harness.h. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

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


static int quiet_saved_fd = -1;
static FILE *quiet_file;
static long quiet_failed_before;

void hh_quiet_stderr_begin(void) {
    fflush(stderr);
    quiet_file = tmpfile();
    if (!quiet_file)
        return; /* no temp file: nothing is hidden */
    quiet_saved_fd = dup(2);
    if (quiet_saved_fd < 0 || dup2(fileno(quiet_file), 2) < 0) {
        fclose(quiet_file);
        quiet_file = NULL;
        return;
    }
    quiet_failed_before = atomic_load(&hh_failed);
}

void hh_quiet_stderr_end(void) {
    if (!quiet_file)
        return;
    fflush(stderr);
    dup2(quiet_saved_fd, 2);
    close(quiet_saved_fd);
    quiet_saved_fd = -1;
    if (atomic_load(&hh_failed) != quiet_failed_before) {
        char buf[4096];
        size_t n;
        rewind(quiet_file);
        fprintf(stderr, "  (stderr of the failing section follows)\n");
        while ((n = fread(buf, 1, sizeof buf, quiet_file)) > 0)
            fwrite(buf, 1, n, stderr);
    }
    fclose(quiet_file);
    quiet_file = NULL;
}
