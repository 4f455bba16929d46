/* BENCHMARKS.md, item 1, through the shipped artifact: the span hot path of a C program linked
 * against target/release/libhoneyhive.so, exporting (JSON, batch mode) to the loopback
 * receiver whose URL is in HH_BENCH_URL (benches/run.py starts it).
 *
 * One span = hh_span_start (explicit parent and session, HH_EVENT_MODEL) + three metadata
 * fields (hh_span_set_str/i64/f64 under HH_NS_METADATA) + hh_span_end; a second figure sets
 * the three fields in one hh_span_set_attrs call, a third sets them and ends the span in one
 * hh_span_end_attrs call, a fourth uses hh_span_enrich with the same three fields as JSON, a
 * fifth is the third keeping each handle and releasing them 64 at a time (as the Go binding
 * does). Bursts of N spans are timed, each
 * followed by an untimed flush; the figure is the median over bursts of ns per span.
 *
 * Prints result lines "@@ {json}" for benches/run.py. Measures; asserts nothing on time.
 *
 *   HH_BENCH_URL=http://127.0.0.1:PORT ./hot_path_c [rounds] [spans-per-round]
 */
#define _POSIX_C_SOURCE 200809L
#include <honeyhive.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int failures;

#define CHECK(call)                                                                       \
    do {                                                                                  \
        if ((call) != HH_OK) failures++;                                                  \
    } while (0)

enum { TYPED, ATTRS, END_ATTRS, JSON, KEPT, VARIANTS };

/* KEPT: what the Go binding asks of the library per span: hh_span_end_attrs keeping the
 * handle (HH_END_KEEP_HANDLE), released later 64 at a time with hh_span_release_many. */
#define KEPT_BATCH 64
static hh_span kept[KEPT_BATCH];
static int kept_n;

__attribute__((noinline)) static void one_span(hh_tracer t, hh_span parent, const char *session, int how) {
    hh_span s = 0;
    CHECK(hh_span_start(t, "llm.call", HH_EVENT_MODEL, parent, session, NULL, &s, NULL));
    if (how == JSON) {
        CHECK(hh_span_enrich(s, "{\"metadata\":{\"model\":\"gpt-4o\",\"tokens\":42,\"temperature\":0.7}}", NULL));
    } else if (how == ATTRS) {
        const hh_attr attrs[3] = {
            {.ns = HH_NS_METADATA, .type = HH_ATTR_STR, .key = "model", .str = "gpt-4o"},
            {.ns = HH_NS_METADATA, .type = HH_ATTR_I64, .key = "tokens", .i64 = 42},
            {.ns = HH_NS_METADATA, .type = HH_ATTR_F64, .key = "temperature", .f64 = 0.7},
        };
        CHECK(hh_span_set_attrs(s, attrs, 3, NULL));
    } else if (how == END_ATTRS || how == KEPT) {
        const hh_attr attrs[3] = {
            {.ns = HH_NS_METADATA, .type = HH_ATTR_STR, .key = "model", .str = "gpt-4o"},
            {.ns = HH_NS_METADATA, .type = HH_ATTR_I64, .key = "tokens", .i64 = 42},
            {.ns = HH_NS_METADATA, .type = HH_ATTR_F64, .key = "temperature", .f64 = 0.7},
        };
        CHECK(hh_span_end_attrs(s, attrs, 3, how == KEPT ? HH_END_KEEP_HANDLE : 0, NULL));
        if (how == KEPT) {
            kept[kept_n++] = s;
            if (kept_n == KEPT_BATCH) {
                CHECK(hh_span_release_many(kept, KEPT_BATCH));
                kept_n = 0;
            }
        }
        return;
    } else {
        CHECK(hh_span_set_str(s, HH_NS_METADATA, "model", "gpt-4o"));
        CHECK(hh_span_set_i64(s, HH_NS_METADATA, "tokens", 42));
        CHECK(hh_span_set_f64(s, HH_NS_METADATA, "temperature", 0.7));
    }
    CHECK(hh_span_end(s));
}

static double burst(hh_tracer t, hh_span parent, const char *session, int n, int how) {
    double start = now_ns();
    for (int i = 0; i < n; i++) one_span(t, parent, session, how);
    double ns = (now_ns() - start) / n;
    if (hh_tracer_flush(t, 60000) != HH_OK) failures++;
    return ns;
}

static void report(const char *id, double value, const char *unit, const char *note) {
    printf("  %-44s %14.3f %-10s %s\n", id, value, unit, note);
    printf("@@ {\"id\":\"%s\",\"value\":%.6f,\"unit\":\"%s\",\"note\":\"%s\"}\n", id, value, unit, note);
}

int main(int argc, char **argv) {
    const char *url = getenv("HH_BENCH_URL");
    if (!url) {
        fprintf(stderr, "HH_BENCH_URL is not set (run through benches/run.py)\n");
        return 2;
    }
    int rounds = argc > 1 ? atoi(argv[1]) : 25;
    int n = argc > 2 ? atoi(argv[2]) : 4000;
    /* "typed", "attrs", "end_attrs", "json" or "kept": only that variant (for profiling); default
     * all. */
    const char *only = argc > 3 ? argv[3] : "";
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"bench-key\",\"project\":\"bench\",\"source\":\"bench\",\"server_url\":\"%s\","
             "\"max_queue_size\":16384,\"max_export_batch_size\":8192,\"schedule_delay_ms\":600000}",
             url);
    hh_tracer t;
    hh_error err;
    if (hh_tracer_new(cfg, &t, &err) != HH_OK) {
        fprintf(stderr, "hh_tracer_new: %s\n", err.message);
        return 1;
    }
    char session[HH_SESSION_ID_BUF_LEN];
    hh_span root = 0;
    if (hh_session_create(t, "{\"session_name\":\"bench\"}", session, sizeof session, &err) != HH_OK ||
        hh_span_start(t, "request", HH_EVENT_CHAIN, 0, session, NULL, &root, &err) != HH_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return 1;
    }
    static const char *names[VARIANTS] = {"typed", "attrs", "end_attrs", "json", "kept"};
    for (int v = 0; v < VARIANTS; v++) {
        if (strcmp(only, names[v]) == 0) {
            for (int r = 0; r < rounds; r++) burst(t, root, session, n, v);
            return failures ? 1 : 0;
        }
    }
    for (int v = 0; v < VARIANTS; v++) burst(t, root, session, n, v); /* warm-up */
    double *per[VARIANTS];
    for (int v = 0; v < VARIANTS; v++) per[v] = calloc((size_t)rounds, sizeof(double));
    for (int r = 0; r < rounds; r++) {
        /* Interleaved, in a rotating order: each variant sees the same machine. */
        for (int k = 0; k < VARIANTS; k++) {
            int v = (r + k) % VARIANTS;
            per[v][r] = burst(t, root, session, n, v);
        }
    }
    hh_stats st;
    CHECK(hh_tracer_stats(t, &st));
    CHECK(hh_span_end(root));
    CHECK(hh_tracer_close(t, 10000));
    report("c.hot_typed_ns", median(per[TYPED], rounds), "ns/span",
           "C program via libhoneyhive.so: start + 3 typed setters + end");
    report("c.hot_attrs_ns", median(per[ATTRS], rounds), "ns/span",
           "C program via libhoneyhive.so: start + hh_span_set_attrs(3 fields) + end");
    report("c.hot_end_attrs_ns", median(per[END_ATTRS], rounds), "ns/span",
           "C program via libhoneyhive.so: start + hh_span_end_attrs(3 fields)");
    report("c.hot_json_ns", median(per[JSON], rounds), "ns/span",
           "C program via libhoneyhive.so: start + hh_span_enrich(3 fields) + end");
    report("c.hot_kept_ns", median(per[KEPT], rounds), "ns/span",
           "C program via libhoneyhive.so: start + hh_span_end_attrs(3 fields, keeping the handle) + "
           "hh_span_release_many per 64 spans, as the Go binding");
    char note[128];
    snprintf(note, sizeof note, "exported %llu, dropped %llu", (unsigned long long)st.spans_exported,
             (unsigned long long)st.spans_dropped);
    report("c.hot_dropped", (double)st.spans_dropped, "spans", note);
    for (int v = 0; v < VARIANTS; v++) free(per[v]);
    if (failures) {
        fprintf(stderr, "%d calls failed\n", failures);
        return 1;
    }
    return 0;
}
