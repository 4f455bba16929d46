/* Entry point of the reliability suite's C program: harness, helpers, group selection.
 *
 * Usage: hh_reliability <group...>
 *   groups: faults hostile chaos lifecycle fork concurrency limits security leak tls
 * Env:   HH_RECEIVER_BIN   hh-receiver (default <repo>/target/release/hh-receiver)
 *        HH_REL_QUICK=1    smaller counts (sanitizer / valgrind runs)
 *        HH_REL_EXIT_PROG  the exit_prog binary (lifecycle group)
 *        HH_CTEST_VERBOSE=1 print passing checks too
 * Prints FIGURE lines and, last, "N passed, M failed".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rel.h"

receiver R;
int quick;

/* ---------------------------------------------------------------------------------------- */

double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void lat_add(lat_rec *r, double ms) {
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
    }
    r->v[r->n++] = ms;
}

void lat_merge(lat_rec *into, const lat_rec *from) {
    for (size_t i = 0; i < from->n; i++)
        lat_add(into, from->v[i]);
}

double lat_max(const lat_rec *r) {
    double m = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i] > m)
            m = r->v[i];
    return m;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double lat_p99(lat_rec *r) {
    if (r->n == 0)
        return 0;
    qsort(r->v, r->n, sizeof *r->v, cmp_double);
    size_t rank = (size_t)ceil(0.99 * (double)r->n);
    if (rank < 1)
        rank = 1;
    return r->v[rank - 1];
}

void lat_free(lat_rec *r) {
    free(r->v);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------------------------------- */

const char *rel_config(const char *url, const char *extra) {
    static char bufs[8][2048];
    static atomic_int next;
    char *b = bufs[atomic_fetch_add(&next, 1) % 8];
    snprintf(b, sizeof bufs[0], "{\"api_key\":\"rel-key\",\"project\":\"rel\",\"server_url\":\"%s\"%s}",
             url ? url : R.url, extra ? extra : "");
    return b;
}

hh_tracer rel_tracer(const char *url, const char *extra) {
    hh_tracer t = 0;
    hh_error err;
    memset(&err, 0, sizeof err);
    const char *cfg = rel_config(url, extra);
    hh_status st = hh_tracer_new(cfg, &t, &err);
    CHECK_MSG(st == HH_OK, "hh_tracer_new(%s): %s %s", cfg, hh_status_name(st), err.message);
    return st == HH_OK ? t : 0;
}

const char *status_str(hh_status s) {
    return hh_status_name((int32_t)s);
}

/* ---------------------------------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix) {
    size_t a = s ? strlen(s) : 0, b = strlen(suffix);
    return s && a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

delivery count_delivery_in(const jval *reqs, const char *prefix) {
    delivery d;
    memset(&d, 0, sizeof d);
    size_t cap = 1024, n = 0;
    const char **ids = malloc(cap * sizeof *ids);
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *req = jat(reqs, i);
        if (!ends_with(jgets(req, "path"), "/v1/traces"))
            continue;
        d.trace_requests++;
        const jval *st = jget(req, "response_status");
        int ok = st && st->is_int && st->integer >= 200 && st->integer < 300;
        if (ok)
            d.trace_requests_2xx++;
        const jval *spans = jget(req, "spans");
        for (size_t j = 0; j < jlen(spans); j++) {
            const jval *sp = jat(spans, j);
            const char *name = jgets(sp, "name");
            if (prefix && (!name || strncmp(name, prefix, strlen(prefix)) != 0))
                continue;
            d.attempted_spans++;
            if (!ok)
                continue;
            d.accepted_spans++;
            if (n == cap) {
                cap *= 2;
                ids = realloc(ids, cap * sizeof *ids);
            }
            const char *id = jgets(sp, "span_id");
            ids[n++] = id ? id : "";
        }
    }
    qsort(ids, n, sizeof *ids, cmp_str);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(ids[i], ids[i - 1]) != 0)
            d.unique_accepted++;
    d.duplicates = d.accepted_spans - d.unique_accepted;
    free(ids);
    return d;
}

delivery count_delivery(const receiver *r, const char *prefix) {
    jval *reqs = rcv_get_json(r, "/__hh/requests");
    delivery d = count_delivery_in(reqs, prefix);
    jfree(reqs);
    return d;
}

int name_accepted(const jval *reqs, const char *name) {
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *req = jat(reqs, i);
        const jval *st = jget(req, "response_status");
        if (!(st && st->is_int && st->integer >= 200 && st->integer < 300))
            continue;
        if (span_by_name(jget(req, "spans"), name))
            return 1;
    }
    return 0;
}

size_t trace_request_times(const jval *reqs, const char *prefix, double *out_ms, int *out_status, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < jlen(reqs) && n < max; i++) {
        const jval *req = jat(reqs, i);
        if (!ends_with(jgets(req, "path"), "/v1/traces"))
            continue;
        const jval *spans = jget(req, "spans");
        int match = prefix == NULL;
        for (size_t j = 0; j < jlen(spans) && !match; j++) {
            const char *name = jgets(jat(spans, j), "name");
            match = name && strncmp(name, prefix, strlen(prefix)) == 0;
        }
        if (!match)
            continue;
        const jval *t = jget(req, "time_unix_nano");
        out_ms[n] = t ? t->num / 1e6 : 0;
        const jval *st = jget(req, "response_status");
        if (out_status)
            out_status[n] = st && st->is_int ? (int)st->integer : -1;
        n++;
    }
    return n;
}

size_t count_requests_path(const jval *reqs, const char *method, const char *suffix, int status) {
    size_t n = 0;
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *req = jat(reqs, i);
        const char *m = jgets(req, "method");
        if (method && (!m || strcmp(m, method) != 0))
            continue;
        if (!ends_with(jgets(req, "path"), suffix))
            continue;
        if (status >= 0 && !jint_is(jget(req, "response_status"), status))
            continue;
        n++;
    }
    return n;
}

static int can_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

int wait_receiver(const receiver *r, int want_up, int timeout_ms) {
    double deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        if (can_connect(r->port) == want_up) {
            if (!want_up)
                return 1;
            int status = 0;
            char *body = http_request(r->port, "GET", "/__hh/health", NULL, &status);
            free(body);
            if (status == 200)
                return 1;
        }
        sleep_ms(5);
    }
    return 0;
}

void rcv_pause(const receiver *r, int ms) {
    char path[64];
    snprintf(path, sizeof path, "/__hh/pause?ms=%d", ms);
    int status = 0;
    char *body = http_request(r->port, "POST", path, NULL, &status);
    free(body);
    CHECK_MSG(status == 200, "pause -> %d", status);
    CHECK_MSG(wait_receiver(r, 0, 2000), "receiver did not go down");
}

int selected(const char *row) {
    const char *only = getenv("HH_REL_ONLY"), *skip = getenv("HH_REL_SKIP");
    if (skip && *skip && strstr(row, skip) != NULL)
        return 0;
    return !only || !*only || strstr(row, only) != NULL;
}

/* FIGURE lines from several threads must not interleave. */
static pthread_mutex_t figure_lock = PTHREAD_MUTEX_INITIALIZER;

void figure(const char *row, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&figure_lock);
    printf("FIGURE %s | %s\n", row, buf);
    fflush(stdout);
    pthread_mutex_unlock(&figure_lock);
}

/* ---------------------------------------------------------------------------------------- */

static void scrub_environment(void) {
    extern char **environ;
    char *names[256];
    int n = 0;
    for (char **e = environ; *e && n < 256; e++) {
        const char *kv = *e;
        int ours = strncmp(kv, "HH_RECEIVER_BIN=", 16) == 0 || strncmp(kv, "HH_CTEST_", 9) == 0 ||
                   strncmp(kv, "HH_REL_", 7) == 0 || strncmp(kv, "HH_CHAOS_", 9) == 0 ||
                   strncmp(kv, "HH_VERBOSE=", 11) == 0;
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
    void (*fn)(void);
} GROUPS[] = {
    {"faults", group_faults},           {"lifecycle", group_lifecycle}, {"fork", group_fork},
    {"concurrency", group_concurrency}, {"limits", group_limits},       {"security", group_security},
    {"leak", group_leak},               {"tls", group_tls},           {"hostile", group_hostile},
    {"chaos", group_chaos},
};

int main(int argc, char **argv) {
    setvbuf(stderr, NULL, _IOLBF, 0);
    hh_verbose = getenv("HH_CTEST_VERBOSE") != NULL;
    quick = getenv("HH_REL_QUICK") != NULL && strcmp(getenv("HH_REL_QUICK"), "0") != 0;
    scrub_environment();
    if (argc < 2) {
        fprintf(stderr, "usage: %s <group...>\n", argv[0]);
        return 2;
    }
    if (rcv_start(&R) != 0) {
        fprintf(stderr, "cannot start hh-receiver (set HH_RECEIVER_BIN or build it)\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    fprintf(stderr, "libhoneyhive %s, receiver at %s%s\n", hh_version(), R.url, quick ? " (quick)" : "");
    size_t ngroups = sizeof GROUPS / sizeof GROUPS[0];
    for (int a = 1; a < argc; a++) {
        int found = 0;
        for (size_t g = 0; g < ngroups; g++)
            if (strcmp(argv[a], GROUPS[g].name) == 0) {
                GROUPS[g].fn();
                found = 1;
            }
        if (!found) {
            fprintf(stderr, "unknown group %s\n", argv[a]);
            CHECK(found);
        }
    }
    rcv_stop(&R);
    return hh_report();
}

long status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            kb = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

int reset_peak_rss(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0)
        return 0;
    int ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}
