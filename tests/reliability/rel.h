/* Shared helpers of the reliability suite (tests/reliability): the C harness of tests/c
 * (harness.h, receiver.c, minijson.c are compiled in from ../c), latency recorders, delivery
 * counting on the receiver's records, and figure lines.
 *
 * Every measured figure is printed as one line on stdout:
 *     FIGURE <row> | key=value key=value ...
 * run.sh collects them into build/reliability/figures.txt (RELIABILITY.md quotes them).
 */
#ifndef HH_REL_H
#define HH_REL_H

#include <stddef.h>
#include <stdint.h>

#include "../c/harness.h"
#include "../c/receiver.h"

#define TRACES_PATH "/opentelemetry/v1/traces"

/* The receiver every group talks to (started by main). */
extern receiver R;
/* HH_REL_QUICK=1: smaller counts (under sanitizers / valgrind). */
extern int quick;

double now_ms(void);
void sleep_ms(int ms);

/* ---- latency recorders (one per thread; merge after join) ---- */
typedef struct {
    double *v;
    size_t n, cap;
} lat_rec;
void lat_add(lat_rec *r, double ms);
void lat_merge(lat_rec *into, const lat_rec *from);
double lat_max(const lat_rec *r);
/* 0.99 quantile (nearest rank); 0 when empty. */
double lat_p99(lat_rec *r);
void lat_free(lat_rec *r);
/* Runs `expr` (an hh_status expression), records its duration in `rec` (may be NULL), and
 * evaluates to the status. */
#define TIMED(rec, expr)                                                                           \
    ({                                                                                             \
        double t0_ = now_ms();                                                                     \
        hh_status st_ = (expr);                                                                    \
        if (rec)                                                                                   \
            lat_add((rec), now_ms() - t0_);                                                        \
        st_;                                                                                       \
    })

/* ---- configuration ---- */
/* `{"api_key":"rel-key","project":"rel","server_url":<url or R.url>` + extra + `}` in a
 * static ring of buffers (copy if you need more than 8 at once). */
const char *rel_config(const char *url, const char *extra);
/* hh_tracer_new(rel_config(url, extra)); CHECK-fails and returns 0 on error. */
hh_tracer rel_tracer(const char *url, const char *extra);

/* ---- what arrived ---- */
typedef struct {
    size_t trace_requests;     /* requests to TRACES_PATH, any answer */
    size_t trace_requests_2xx; /* ... answered 2xx */
    size_t attempted_spans;    /* matching spans in any trace request (incl. refused ones) */
    size_t accepted_spans;     /* matching spans in 2xx-answered requests */
    size_t unique_accepted;    /* distinct span ids among them */
    size_t duplicates;         /* accepted_spans - unique_accepted */
} delivery;
/* Counts spans whose name starts with `prefix` (NULL: all) in the receiver's records. */
delivery count_delivery(const receiver *r, const char *prefix);
/* Same, over an already fetched /__hh/requests array. */
delivery count_delivery_in(const jval *requests, const char *prefix);
/* 1 if a span named exactly `name` was accepted (2xx) at least once. */
int name_accepted(const jval *requests, const char *name);
/* Times (ms, receiver clock) of the trace requests carrying a span named with `prefix`, in
 * order; returns how many (at most max). */
size_t trace_request_times(const jval *requests, const char *prefix, double *out_ms, int *out_status, size_t max);
size_t count_requests_path(const jval *requests, const char *method, const char *suffix, int status /* -1 any */);

/* Waits until the receiver is reachable (or, with want_up=0, refuses connections). */
int wait_receiver(const receiver *r, int want_up, int timeout_ms);
/* POST /__hh/pause?ms=N and wait until connections are refused. */
void rcv_pause(const receiver *r, int ms);

/* HH_REL_ONLY=<substring>: run only the rows whose name contains it (e.g. "export-503");
 * HH_REL_SKIP=<substring>: skip the rows whose name contains it. */
int selected(const char *row);

/* Memory of this process, for the rows that bound it: a "Vm...:" field of /proc/self/status in
 * kB (-1 when unreadable), and a reset of the peak (VmHWM) to the current RSS (writing "5" to
 * /proc/self/clear_refs; 1 when it worked). */
long status_kb(const char *field);
int reset_peak_rss(void);

/* ---- figures ---- */
void figure(const char *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *status_str(hh_status s);

/* ---- groups ---- */
void group_faults(void);
void group_lifecycle(void);
void group_fork(void);
void group_concurrency(void);
void group_limits(void);
void group_security(void);
void group_leak(void);   /* the verbose key-leak run (run.sh greps its output) */
void group_tls(void);    /* needs HH_REL_TLS_URL */
void group_hostile(void);
void group_chaos(void);   /* the chaos soak (HH_CHAOS_SECONDS, HH_CHAOS_SEED) */

#endif
