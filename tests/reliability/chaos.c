/* The chaos soak: several tracers (HoneyHive mode with session REST calls, generic OTLP mode;
 * JSON and protobuf; each its own project and key) traced by several threads at once (sessions,
 * nested spans, enrichments, errors, bursts, large values) while two receivers cycle at random
 * through every misbehaviour the hostile rows test one at a time: slow and trickled answers, hung
 * requests, connection resets, 3xx redirects to another origin, 4xx/5xx with odd Retry-After
 * values and bodies echoing the key, huge and endless bodies, OTLP partial success, and the
 * listener closed; a healthy phase follows every bad one.
 *
 * After each epoch (HH_CHAOS_EPOCH_SECONDS; receivers healthy, each tracer flushed with a
 * bound, and closed with a bound after the last):
 *   - no crash, no hang: every wait is bounded, and a watchdog fails the part instead of hanging;
 *   - peak RSS (VmHWM) grew by less than CHAOS_RSS_BOUND_KB over the start-up RSS;
 *   - per tracer: queue empty, exported + dropped + rejected == ended, ended == the ends that
 *     returned HH_OK ("nothing lost silently");
 *   - per tracer: the spans the receiver accepted (2xx, unique span ids) == exported + rejected
 *     (a partial success is a 2xx whose rejected spans the library counts in spans_rejected, not
 *     exported), and no span was accepted twice;
 *   - the redirect target received nothing;
 *   - no key appears in anything the process wrote to stdout or stderr during the soak: whole,
 *     JSON-escaped, its 8-character prefix, or any 12-character piece of it.
 *
 * Env: HH_CHAOS_SECONDS (default 150; HH_REL_QUICK: 20) length of the chaos phase;
 *      HH_CHAOS_SEED (default: time and pid) replays a run's phase schedule and traffic mix (the
 *      seed is printed first). Thread timing is not replayable; the schedule is.
 *      HH_CHAOS_EPOCH_SECONDS (default 50): the books are checked, and the receivers' records
 *      dropped, after each epoch; HH_CHAOS_WATCHDOG_SECONDS: when the part declares a hang
 *      (default: chaos + 90 s + 80 s per tracer).
 *
 * Why some phases are shaped as they are (each keeps "2xx on the receiver" meaning "2xx the
 * client read", which the exact span comparison needs; see O4 in RELIABILITY.md):
 *   - a slow 2xx answers within 250 ms and a trickled one within about 0.4 s, far inside the
 *     10 s export deadline, and a healthy phase (1.5-4 s) follows every bad one (1-4 s), so a
 *     batch still retrying within 0.4 s of its deadline when a slow 2xx comes is very unlikely
 *     (it would show as the receiver holding one batch more than exported + rejected);
 *   - before the listener closes, new requests hang for a while so no 2xx is mid-write when the
 *     receiver drops its connections.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rel.h"

/* Peak RSS growth allowed over the RSS measured once the tracers exist: the configured queue
 * bounds (5 tracers x at most 2 MiB, plus the batch in flight and its encoded copy, ~4x), the
 * pending session calls, the test's own threads and allocator slack. Generous on purpose: the
 * unbounded cases this guards against (whole huge bodies, unaccounted queue bytes) grow by
 * hundreds of MiB. */
#define CHAOS_RSS_BOUND_KB (160L * 1024)

#define N_TRACERS 5
#define THREADS_PER_TRACER 2

/* ---- seeded randomness (splitmix64) ---- */

typedef struct {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int rnd_in(rng *r, int lo, int hi) {
    return lo + (int)(rnd(r) % (uint64_t)(hi - lo + 1));
}

static int chance(rng *r, int percent) {
    return (int)(rnd(r) % 100) < percent;
}

/* ---- the tracers ---- */

typedef struct {
    const char *label;
    int otlp_mode; /* exporter otlp (no session REST calls) */
    int protobuf;
    int verbose;
    receiver *rcv;
    char path[8];    /* the tracer's own path prefix on its receiver, e.g. "/t0" */
    char prefix[8];  /* span names start with it, e.g. "c0." */
    char key[96];    /* the secret: api_key (HoneyHive mode) or a custom header (OTLP mode) */
    char config[1536];
    int max_queue_bytes;
    hh_tracer t;
    atomic_ullong ends_ok, starts_ok, sessions, enrich_calls, session_enrich_calls;
    atomic_ullong unexpected; /* statuses no traced call should return */
    char first_unexpected[256];
    atomic_int have_unexpected;
} chaos_tracer;

static chaos_tracer TR[N_TRACERS];
static receiver RB;     /* the OTLP-mode tracers' collector */
static receiver RT;     /* redirect target: must receive nothing */
static atomic_int stop; /* workers stop */
static uint64_t seed;

static void note_unexpected(chaos_tracer *ct, const char *what, hh_status st) {
    atomic_fetch_add(&ct->unexpected, 1);
    if (atomic_exchange(&ct->have_unexpected, 1) == 0)
        snprintf(ct->first_unexpected, sizeof ct->first_unexpected, "%s -> %s", what, status_str(st));
}

/* JSON string escaping of `in` (quotes, backslashes, control characters) into out. */
static void json_escape(const char *in, char *out, size_t cap) {
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = 0;
}

static void random_hex(char *out, size_t nhex) {
    unsigned char b[64];
    int fd = open("/dev/urandom", O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, b, (nhex + 1) / 2) : -1;
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < nhex; i++) {
        unsigned v = got > 0 ? b[i / 2] : (unsigned)rand();
        v = i % 2 ? v & 15 : v >> 4;
        out[i] = "0123456789abcdef"[v & 15];
    }
    out[nhex] = 0;
}

/* n random letters and digits, upper case first (no id the library prints, all lower-case hex,
 * can contain them). */
static void random_word(char *out, size_t n) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char b[64];
    int fd = open("/dev/urandom", O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, b, n) : -1;
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < n; i++) {
        unsigned v = got > 0 ? b[i] : (unsigned)rand();
        out[i] = i == 0 ? A[v % 26] : A[v % (sizeof A - 1)];
    }
    out[n] = 0;
}

static void setup_tracers(rng *r) {
    static const struct {
        const char *label;
        int otlp, protobuf, verbose;
    } kinds[N_TRACERS] = {
        {"hh-json", 0, 0, 0},         {"hh-protobuf", 0, 1, 0}, {"hh-json-verbose", 0, 0, 1},
        {"otlp-json", 1, 0, 0},       {"otlp-protobuf", 1, 1, 0},
    };
    for (int i = 0; i < N_TRACERS; i++) {
        chaos_tracer *ct = &TR[i];
        memset(ct, 0, sizeof *ct);
        ct->label = kinds[i].label;
        ct->otlp_mode = kinds[i].otlp;
        ct->protobuf = kinds[i].protobuf;
        ct->verbose = kinds[i].verbose;
        ct->rcv = ct->otlp_mode ? &RB : &R;
        snprintf(ct->path, sizeof ct->path, "/t%d", i);
        snprintf(ct->prefix, sizeof ct->prefix, "c%d.", i);
        /* A distinctive key (random, so its 8-character prefix is too) with a quote and a
         * backslash, so that its JSON-escaped form differs from it. */
        char a[24], b[24];
        random_word(a, 12);
        random_hex(b, 20);
        snprintf(ct->key, sizeof ct->key, "%s-chaos\\\"%s", a, b);
        char ekey[192];
        json_escape(ct->key, ekey, sizeof ekey);
        ct->max_queue_bytes = rnd_in(r, 1, 2) * 1024 * 1024;
        char common[512];
        snprintf(common, sizeof common,
                 "\"project\":\"chaos-%s\",\"source\":\"chaos\",\"otlp_protocol\":\"%s\",\"verbose\":%s,"
                 "\"schedule_delay_ms\":%d,\"max_export_batch_size\":%d,\"max_queue_size\":%d,"
                 "\"max_queue_bytes\":%d,\"export_timeout_ms\":10000",
                 ct->label, ct->protobuf ? "http/protobuf" : "http/json", ct->verbose ? "true" : "false",
                 rnd_in(r, 100, 800), rnd_in(r, 32, 256), rnd_in(r, 512, 2048), ct->max_queue_bytes);
        if (ct->otlp_mode)
            snprintf(ct->config, sizeof ct->config,
                     "{\"exporter\":\"otlp\",\"otlp_endpoint\":\"%s%s/v1/traces\",\"headers\":{\"%s\":\"%s%s\"},%s}",
                     ct->rcv->url, ct->path, i % 2 ? "authorization" : "x-api-key", i % 2 ? "Bearer " : "", ekey,
                     common);
        else
            snprintf(ct->config, sizeof ct->config,
                     "{\"api_key\":\"%s\",\"server_url\":\"%s%s\",\"api_timeout_ms\":4000,%s}", ekey, ct->rcv->url,
                     ct->path, common);
    }
}

/* ---- the workers ---- */

typedef struct {
    chaos_tracer *ct;
    int index;
} worker_arg;

static void traced(chaos_tracer *ct, const char *what, hh_status st) {
    if (st != HH_OK)
        note_unexpected(ct, what, st);
}

/* A string of n bytes of 'v' (n < cap). */
static const char *filler(char *buf, size_t cap, size_t n) {
    if (n >= cap)
        n = cap - 1;
    memset(buf, 'v', n);
    buf[n] = 0;
    return buf;
}

static void end_span(chaos_tracer *ct, hh_span s) {
    hh_status st = hh_span_end(s);
    if (st == HH_OK)
        atomic_fetch_add(&ct->ends_ok, 1);
    else
        note_unexpected(ct, "hh_span_end", st);
}

static hh_span start_span(chaos_tracer *ct, const char *kind, hh_event_type et, hh_span parent, const char *session,
                          const char *attrs) {
    char name[64];
    snprintf(name, sizeof name, "%s%s", ct->prefix, kind);
    hh_span s = 0;
    hh_status st = hh_span_start(ct->t, name, et, parent, session, attrs, &s, NULL);
    if (st != HH_OK) {
        note_unexpected(ct, "hh_span_start", st);
        return 0;
    }
    atomic_fetch_add(&ct->starts_ok, 1);
    return s;
}

/* One span and, below it, children to depth `depth`. */
static void span_tree(chaos_tracer *ct, rng *r, hh_span parent, const char *session, int depth, char *big,
                      size_t bigcap) {
    static const char *kinds[] = {"llm", "tool", "retrieve", "step"};
    hh_span s = start_span(ct, kinds[rnd_in(r, 0, 3)], (hh_event_type)rnd_in(r, 0, 3), parent, session,
                           chance(r, 30) ? "{\"attempt\":1,\"tags\":[\"a\",\"b\"]}" : NULL);
    if (!s)
        return;
    traced(ct, "hh_span_set_str", hh_span_set_str(s, HH_NS_CONFIG, "model", "chaos-model"));
    traced(ct, "hh_span_set_i64", hh_span_set_i64(s, HH_NS_METRICS, "tokens", rnd_in(r, 1, 5000)));
    if (chance(r, 50)) {
        char enr[512];
        snprintf(enr, sizeof enr,
                 "{\"inputs\":{\"q\":\"question %d\"},\"outputs\":{\"a\":\"answer\"},\"metadata\":{\"n\":%d,"
                 "\"list\":[1,2,3]},\"metrics\":{\"score\":0.%d},\"feedback\":{\"ok\":true}}",
                 rnd_in(r, 0, 999), rnd_in(r, 0, 99), rnd_in(r, 0, 9));
        atomic_fetch_add(&ct->enrich_calls, 1);
        traced(ct, "hh_span_enrich", hh_span_enrich(s, enr, NULL));
    }
    if (chance(r, 3)) {
        /* A large value and a large array: what the queue's byte bound must count. */
        size_t n = (size_t)rnd_in(r, 4096, 60000);
        traced(ct, "hh_span_set_str(big)", hh_span_set_str(s, HH_NS_OUTPUTS, "big", filler(big, bigcap, n)));
        char *arr = malloc(40000);
        size_t o = (size_t)snprintf(arr, 40000, "{\"metadata\":{\"chunks\":[");
        for (int k = 0; k < 32; k++)
            o += (size_t)snprintf(arr + o, 40000 - o, "%s\"%.*s\"", k ? "," : "", 1000, big);
        snprintf(arr + o, 40000 - o, "]}}");
        atomic_fetch_add(&ct->enrich_calls, 1);
        traced(ct, "hh_span_enrich(array)", hh_span_enrich(s, arr, NULL));
        free(arr);
    }
    if (chance(r, 5))
        traced(ct, "hh_span_record_error", hh_span_record_error(s, "ChaosError", "a \"quoted\"\nmessage"));
    if (depth > 0) {
        int kids = rnd_in(r, 1, 3);
        for (int k = 0; k < kids; k++)
            span_tree(ct, r, s, NULL, depth - 1, big, bigcap);
    }
    end_span(ct, s);
}

static void *worker(void *p) {
    worker_arg *wa = p;
    chaos_tracer *ct = wa->ct;
    rng r = {seed ^ (0x1000003ULL * (uint64_t)(wa->index + 1))};
    size_t bigcap = 65536;
    char *big = malloc(bigcap);
    filler(big, bigcap, 1000);
    while (!atomic_load(&stop)) {
        char sid[HH_SESSION_ID_BUF_LEN] = {0};
        const char *session = NULL;
        if (chance(&r, 40)) {
            char opts[256];
            snprintf(opts, sizeof opts,
                     "{\"session_name\":\"chaos-%s\",\"inputs\":{\"i\":%d},\"metadata\":{\"worker\":%d}}",
                     ct->label, rnd_in(&r, 0, 999), wa->index);
            hh_status st = hh_session_create(ct->t, opts, sid, sizeof sid, NULL);
            if (st == HH_OK) {
                session = sid;
                atomic_fetch_add(&ct->sessions, 1);
            } else {
                note_unexpected(ct, "hh_session_create", st);
            }
        }
        hh_span root = start_span(ct, "root", HH_EVENT_CHAIN, 0, session, NULL);
        if (root) {
            int depth = rnd_in(&r, 0, 2);
            int subtrees = rnd_in(&r, 1, 2);
            for (int k = 0; k < subtrees; k++)
                span_tree(ct, &r, root, NULL, depth, big, bigcap);
            end_span(ct, root);
        }
        if (session && chance(&r, 50)) {
            char enr[256];
            snprintf(enr, sizeof enr, "{\"outputs\":{\"done\":true},\"metrics\":{\"m\":%d},\"feedback\":{\"r\":%d}}",
                     rnd_in(&r, 0, 99), rnd_in(&r, 1, 5));
            atomic_fetch_add(&ct->session_enrich_calls, 1);
            traced(ct, "hh_session_enrich", hh_session_enrich(ct->t, session, enr, NULL));
        }
        if (rnd(&r) % 400 == 0) {
            /* A burst: fills the queue while the server misbehaves. */
            int n = rnd_in(&r, 100, 500);
            for (int k = 0; k < n && !atomic_load(&stop); k++) {
                hh_span s = start_span(ct, "burst", HH_EVENT_TOOL, 0, session, NULL);
                if (s)
                    end_span(ct, s);
            }
        }
        sleep_ms(rnd_in(&r, 20, 150));
    }
    free(big);
    return NULL;
}

/* ---- the misbehaving servers ---- */

enum phase_kind {
    PH_HEALTHY,
    PH_SLOW,
    PH_TRICKLE,
    PH_HANG,
    PH_RESET,
    PH_REDIRECT,
    PH_ERROR, /* 4xx/5xx, odd Retry-After, bodies echoing the key */
    PH_HUGE,
    PH_ENDLESS,
    PH_PARTIAL,
    PH_DOWN,
    PH_KINDS
};

static const char *PHASE_NAMES[PH_KINDS] = {"healthy",  "slow",    "trickle", "hang",    "reset",  "redirect",
                                            "error",    "huge",    "endless", "partial", "down"};

typedef struct {
    receiver *rcv;
    int first_tracer, n_tracers; /* the tracers behind it */
    int is_otlp;
    atomic_int *done;
    /* phases entered, per kind */
    int count[PH_KINDS];
    int partial_rejecting; /* partial-success phases whose body asks to reject spans */
    /* carried from one epoch to the next */
    rng r;
    enum phase_kind order[PH_KINDS - 1];
    int pos;
} driver;

static const char *odd_retry_after(rng *r) {
    static const char *v[] = {"1",
                              "0",
                              "2",
                              "-1",
                              "-1e300",
                              "1e300",
                              "99999999999999999999999",
                              "3600",
                              "inf",
                              "NaN",
                              "",
                              "soon",
                              "1, 2",
                              "0.5",
                              "Thu, 01 Jan 1970 00:00:00 GMT",
                              "Fri, 31 Dec 9999 23:59:59 GMT",
                              "Sun, 06 Nov 1994 08:49:37",
                              "\\u00ff\\u0001"};
    return v[rnd_in(r, 0, (int)(sizeof v / sizeof v[0]) - 1)];
}

/* The path prefix a phase applies to: every path, one tracer, or one kind of call of one tracer. */
static void pick_scope(driver *d, rng *r, int exports_only, char *out, size_t cap, chaos_tracer **target) {
    *target = NULL;
    int pick = rnd_in(r, 0, 3);
    if (pick == 0 && !exports_only) {
        snprintf(out, cap, "null");
        return;
    }
    chaos_tracer *ct = &TR[d->first_tracer + rnd_in(r, 0, d->n_tracers - 1)];
    *target = ct;
    if (ct->otlp_mode || exports_only || pick == 1) {
        snprintf(out, cap, "\"%s%s\"", ct->path, ct->otlp_mode ? "" : "/opentelemetry");
        if (ct->otlp_mode || exports_only)
            return;
    }
    if (pick == 1)
        return;
    snprintf(out, cap, pick == 2 ? "\"%s/session\"" : "\"%s/events\"", ct->path);
}

/* POST /__hh/fault, checked: a fault the receiver refuses is a bug of this test. */
static void set_fault(const receiver *rcv, const char *fault) {
    int status = 0;
    char *answer = http_request(rcv->port, "POST", "/__hh/fault", fault, &status);
    if (status != 200)
        CHECK_MSG(0, "the receiver refused the fault %s: %d %s", fault, status, answer ? answer : "");
    free(answer);
}

/* Sets the phase's fault on the receiver; returns its duration (ms). */
static int start_phase(driver *d, rng *r, enum phase_kind k, char *desc, size_t desccap) {
    char fault[2048], scope[64], body[640], ebody[1280];
    chaos_tracer *target = NULL;
    int ms = rnd_in(r, 1000, 4000);
    fault[0] = 0;
    switch (k) {
    case PH_HEALTHY:
        rcv_clear_fault(d->rcv);
        ms = rnd_in(r, 1500, 4000);
        snprintf(desc, desccap, "healthy");
        return ms;
    case PH_SLOW: {
        int delay = rnd_in(r, 20, 250);
        pick_scope(d, r, 0, scope, sizeof scope, &target);
        snprintf(fault, sizeof fault, "{\"mode\":\"status\",\"status\":200,\"delay_ms\":%d,\"path_prefix\":%s}", delay,
                 scope);
        /* status 200 with the receiver's default answer: a healthy but slow server. Only the
         * default body is right for every route, so this is the trace route's "{}" answer; the
         * session routes take it as a success with nothing in it. */
        snprintf(desc, desccap, "slow 200 after %d ms on %s", delay, scope);
        break;
    }
    case PH_TRICKLE: {
        int delay = rnd_in(r, 1, 3);
        pick_scope(d, r, 0, scope, sizeof scope, &target);
        snprintf(fault, sizeof fault, "{\"mode\":\"trickle\",\"delay_ms\":%d,\"path_prefix\":%s}", delay, scope);
        snprintf(desc, desccap, "trickle 1 byte/%d ms on %s", delay, scope);
        break;
    }
    case PH_HANG:
        pick_scope(d, r, 0, scope, sizeof scope, &target);
        snprintf(fault, sizeof fault, "{\"mode\":\"hang\",\"path_prefix\":%s}", scope);
        snprintf(desc, desccap, "hang on %s", scope);
        break;
    case PH_RESET: {
        int delay = rnd_in(r, 0, 200);
        pick_scope(d, r, 0, scope, sizeof scope, &target);
        snprintf(fault, sizeof fault, "{\"mode\":\"reset\",\"delay_ms\":%d,\"path_prefix\":%s}", delay, scope);
        snprintf(desc, desccap, "reset after %d ms on %s", delay, scope);
        break;
    }
    case PH_REDIRECT: {
        static const int codes[] = {301, 302, 303, 307, 308};
        int code = codes[rnd_in(r, 0, 4)];
        pick_scope(d, r, 0, scope, sizeof scope, &target);
        snprintf(fault, sizeof fault,
                 "{\"mode\":\"status\",\"status\":%d,\"headers\":[[\"Location\",\"%s/landing/v1/traces?t=chaos\"]],"
                 "\"path_prefix\":%s}",
                 code, RT.url, scope);
        snprintf(desc, desccap, "redirect %d to the other origin on %s", code, scope);
        break;
    }
    case PH_ERROR: {
        static const int codes[] = {429, 502, 503, 504, 500, 400, 401, 403, 404, 413};
        int code = codes[rnd_in(r, 0, 9)];
        const char *ra = odd_retry_after(r);
        pick_scope(d, r, 0, scope, sizeof scope, &target);
        char ekey[192], rafield[96];
        if (target) {
            /* The server echoes the caller's key: whole, JSON-escaped, truncated. */
            json_escape(target->key, ekey, sizeof ekey);
            snprintf(body, sizeof body, "{\"error\":\"invalid key %s\",\"raw\":\"%s\",\"head\":\"%.20s\"}\n%s", ekey,
                     target->key, target->key, target->key);
        } else {
            snprintf(body, sizeof body, "{\"error\":\"overloaded\\nFORGED line\\u001b[2J\"}");
        }
        json_escape(body, ebody, sizeof ebody);
        if (chance(r, 80))
            snprintf(rafield, sizeof rafield, "\"%s\"", ra);
        else
            snprintf(rafield, sizeof rafield, "null");
        snprintf(fault, sizeof fault, "{\"mode\":\"status\",\"status\":%d,\"retry_after\":%s,\"body\":\"%s\",\"path_prefix\":%s}",
                 code, rafield, ebody, scope);
        snprintf(desc, desccap, "%d Retry-After %s body %s on %s", code, rafield, target ? "echoing the key" : "hostile",
                 scope);
        break;
    }
    case PH_HUGE: {
        static const int codes[] = {200, 400, 503, 500};
        int code = codes[rnd_in(r, 0, 3)];
        int chunked = chance(r, 50);
        long long bytes = (long long)rnd_in(r, 8, 128) * 1024 * 1024;
        pick_scope(d, r, 0, scope, sizeof scope, &target);
        snprintf(fault, sizeof fault,
                 "{\"mode\":\"status\",\"status\":%d,\"body\":\"{\\\"pad\\\":0}\",\"body_bytes\":%lld,\"chunked\":%s,"
                 "\"path_prefix\":%s}",
                 code, bytes, chunked ? "true" : "false", scope);
        snprintf(desc, desccap, "%d with a %lld MiB %s body on %s", code, bytes >> 20,
                 chunked ? "chunked" : "content-length", scope);
        break;
    }
    case PH_ENDLESS: {
        int code = chance(r, 50) ? 200 : 503;
        pick_scope(d, r, 0, scope, sizeof scope, &target);
        snprintf(fault, sizeof fault, "{\"mode\":\"status\",\"status\":%d,\"chunked\":true,\"path_prefix\":%s}", code,
                 scope);
        snprintf(desc, desccap, "%d with an endless body on %s", code, scope);
        break;
    }
    case PH_PARTIAL: {
        int rejected = chance(r, 20) ? 1000000 : rnd_in(r, 0, 40);
        int proto = chance(r, 50);
        pick_scope(d, r, 1, scope, sizeof scope, &target);
        if (proto) {
            /* ExportTraceServiceResponse{partial_success{rejected_spans, error_message "q\nx"}}
             * (a one-byte varint: rejected < 128). */
            int rj = rejected > 127 ? 127 : rejected;
            snprintf(fault, sizeof fault,
                     "{\"mode\":\"status\",\"status\":200,\"content_type\":\"application/x-protobuf\","
                     "\"body\":\"\\n\\u0007\\b\\u%04x\\u0012\\u0003q\\nx\",\"path_prefix\":%s}",
                     rj, scope);
            rejected = rj;
        } else {
            snprintf(fault, sizeof fault,
                     "{\"mode\":\"status\",\"status\":200,\"content_type\":\"application/json\","
                     "\"body\":\"{\\\"partialSuccess\\\":{\\\"rejectedSpans\\\":\\\"%d\\\","
                     "\\\"errorMessage\\\":\\\"quota\\\\nFORGED\\\\u001b[2J\\\"}}\",\"path_prefix\":%s}",
                     rejected, scope);
        }
        if (rejected > 0)
            d->partial_rejecting++;
        snprintf(desc, desccap, "partial success (%s) rejecting %d on %s", proto ? "protobuf" : "json", rejected, scope);
        break;
    }
    case PH_DOWN: {
        /* New requests hang first, so that no 2xx is mid-write when the connections drop. */
        set_fault(d->rcv, "{\"mode\":\"hang\"}");
        sleep_ms(500);
        int down = rnd_in(r, 500, 3000);
        rcv_pause(d->rcv, down);
        snprintf(desc, desccap, "down (listener closed) for %d ms", down);
        return down;
    }
    default:
        break;
    }
    set_fault(d->rcv, fault);
    return ms;
}

static void *drive(void *p) {
    driver *d = p;
    /* The bad phases in rounds (across epochs), each round every kind once in a random order;
     * healthy after every bad phase. */
    rng r = d->r;
    enum phase_kind *order = d->order;
    int n = 0;
    while (!atomic_load(d->done)) {
        int pos = d->pos;
        if (n % 2 == 0 && pos == PH_KINDS - 1) {
            for (int i = 0; i < PH_KINDS - 1; i++)
                order[i] = (enum phase_kind)(i + 1);
            for (int i = PH_KINDS - 2; i > 0; i--) {
                int j = rnd_in(&r, 0, i);
                enum phase_kind tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
            pos = 0;
        }
        enum phase_kind k = n % 2 ? PH_HEALTHY : order[pos++];
        d->pos = pos;
        char desc[256];
        int ms = start_phase(d, &r, k, desc, sizeof desc);
        d->count[k]++;
        fprintf(stderr, "chaos %s phase %d: %s (%d ms)\n", d->is_otlp ? "collector" : "server", n, desc, ms);
        double end = now_ms() + ms;
        while (!atomic_load(d->done) && now_ms() < end)
            sleep_ms(50);
        if (k == PH_DOWN) {
            /* Listening again, and the fault cleared (the clear may have been refused). */
            wait_receiver(d->rcv, 1, 10000);
            rcv_clear_fault(d->rcv);
        }
        n++;
    }
    d->r = r;
    return NULL;
}

/* ---- RSS ---- */

static atomic_long rss_max_kb;
static atomic_int rss_stop;

static void *rss_monitor(void *p) {
    (void)p;
    while (!atomic_load(&rss_stop)) {
        long kb = status_kb("VmRSS");
        if (kb > atomic_load(&rss_max_kb))
            atomic_store(&rss_max_kb, kb);
        sleep_ms(200);
    }
    return NULL;
}

/* ---- watchdog ---- */

static atomic_int watchdog_armed;
/* What the soak is doing (for the watchdog's report), and the stdout the capture replaced. */
static _Atomic(const char *) stage = "start";
static atomic_int real_stdout = -1;
static char capture_path[64];
static int watchdog_seconds;

static void *watchdog(void *p) {
    (void)p;
    for (int i = 0; i < watchdog_seconds * 10; i++) {
        if (!atomic_load(&watchdog_armed))
            return NULL;
        sleep_ms(100);
    }
    if (!atomic_load(&watchdog_armed))
        return NULL;
    /* The soak hung: report it (to the real stdout, whatever is captured) and end the part. */
    int fd = atomic_load(&real_stdout);
    if (fd < 0)
        fd = STDOUT_FILENO;
    /* What the soak wrote meanwhile (the phases and the library's warnings), its last 16 KiB. */
    int cfd = capture_path[0] ? open(capture_path, O_RDONLY) : -1;
    if (cfd >= 0) {
        off_t len = lseek(cfd, 0, SEEK_END);
        off_t from = len > 16384 ? len - 16384 : 0;
        char buf[4096];
        ssize_t n;
        lseek(cfd, from, SEEK_SET);
        while ((n = read(cfd, buf, sizeof buf)) > 0)
            if (write(fd, buf, (size_t)n) != n)
                break;
        close(cfd);
        unlink(capture_path);
    }
    dprintf(fd, "  FAIL chaos: still running after %d s, at: %s: a hang (seed %llu)\n", watchdog_seconds,
            atomic_load(&stage), (unsigned long long)seed);
    dprintf(fd, "%ld passed, %ld failed\n", (long)atomic_load(&hh_passed), (long)atomic_load(&hh_failed) + 1);
    _exit(1);
}

/* ---- output capture (fd 1 and 2 into one file) ---- */

typedef struct {
    int saved1, saved2, fd;
    char path[64];
} capture;

static void capture_begin(capture *c) {
    snprintf(c->path, sizeof c->path, "/tmp/hh-rel-chaos-XXXXXX");
    c->fd = mkstemp(c->path);
    fflush(stdout);
    fflush(stderr);
    c->saved1 = dup(1);
    c->saved2 = dup(2);
    snprintf(capture_path, sizeof capture_path, "%s", c->path);
    atomic_store(&real_stdout, c->saved1);
    dup2(c->fd, 1);
    dup2(c->fd, 2);
}

/* Restores fd 1 and 2; returns what was written meanwhile (free it). */
static char *capture_end(capture *c, size_t *len_out) {
    fflush(stdout);
    fflush(stderr);
    atomic_store(&real_stdout, -1);
    capture_path[0] = 0;
    dup2(c->saved1, 1);
    dup2(c->saved2, 2);
    close(c->saved1);
    close(c->saved2);
    struct stat st;
    size_t len = fstat(c->fd, &st) == 0 ? (size_t)st.st_size : 0;
    char *buf = calloc(1, len + 1);
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(c->fd, buf + got, len - got, (off_t)got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(c->fd);
    unlink(c->path);
    *len_out = got;
    return buf;
}

static int contains(const char *hay, size_t len, const char *needle) {
    return memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* Where `key` shows in `text` (whole, JSON-escaped, its 8-character prefix, any 12-character
 * piece); NULL when nowhere. */
static const char *key_leak(const char *text, size_t len, const char *key, char *what, size_t cap) {
    char esc[192];
    json_escape(key, esc, sizeof esc);
    if (contains(text, len, key)) {
        snprintf(what, cap, "whole");
        return what;
    }
    if (contains(text, len, esc)) {
        snprintf(what, cap, "JSON-escaped");
        return what;
    }
    size_t kl = strlen(key);
    char piece[16];
    snprintf(piece, sizeof piece, "%.8s", key);
    if (contains(text, len, piece)) {
        snprintf(what, cap, "its 8-character prefix %s", piece);
        return what;
    }
    for (size_t i = 0; i + 12 <= kl; i++) {
        memcpy(piece, key + i, 12);
        piece[12] = 0;
        if (contains(text, len, piece)) {
            snprintf(what, cap, "the piece %s at %zu", piece, i);
            return what;
        }
    }
    return NULL;
}

/* Trace export requests on a tracer's own path: all, and those answered 2xx. */
static void trace_requests_of(const jval *reqs, const char *path, size_t *all, size_t *ok) {
    *all = *ok = 0;
    size_t pl = strlen(path);
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *req = jat(reqs, i);
        const char *p = jgets(req, "path");
        if (!p || strncmp(p, path, pl) != 0 || p[pl] != '/' || !strstr(p, "/v1/traces"))
            continue;
        (*all)++;
        const jval *st = jget(req, "response_status");
        if (st && st->is_int && st->integer >= 200 && st->integer < 300)
            (*ok)++;
    }
}

/* ---------------------------------------------------------------------------------------- */

void group_chaos(void) {
    if (!selected("chaos"))
        return;
    TEST_BEGIN("chaos soak");
    const char *sec = getenv("HH_CHAOS_SECONDS");
    int seconds = sec && *sec ? atoi(sec) : (quick ? 20 : 150);
    if (seconds < 1)
        seconds = 1;
    const char *seed_env = getenv("HH_CHAOS_SEED");
    seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 10)
                                 : ((uint64_t)time(NULL) * 1000003ULL) ^ ((uint64_t)getpid() << 20);
    printf("chaos: seed %llu (replay: HH_CHAOS_SEED=%llu), %d s of chaos\n", (unsigned long long)seed,
           (unsigned long long)seed, seconds);
    fflush(stdout);
    /* Bounded: chaos, then the drain (flush 60 s + close 15 s per tracer at worst, in turn), then
     * the counting. Past it the soak is hung. */
    watchdog_seconds = seconds + 90 + N_TRACERS * 80;
    const char *wds = getenv("HH_CHAOS_WATCHDOG_SECONDS"); /* to see the watchdog work */
    if (wds && atoi(wds) > 0)
        watchdog_seconds = atoi(wds);
    atomic_store(&watchdog_armed, 1);
    pthread_t wd;
    pthread_create(&wd, NULL, watchdog, NULL);

    if (rcv_start(&RB) != 0 || rcv_start(&RT) != 0) {
        CHECK_MSG(0, "cannot start the other receivers");
        return;
    }
    rcv_reset(&R);
    rcv_clear_fault(&R);
    /* The redirect target answers 200 to anything: a followed redirect would be a delivery. */
    rcv_fault(&RT, "{\"mode\":\"status\",\"status\":200}");
    rng r = {seed};
    setup_tracers(&r);

    /* Everything the process writes from here to the end of close goes to one file. */
    capture cap;
    capture_begin(&cap);
    int created = 0;
    for (int i = 0; i < N_TRACERS; i++) {
        hh_error err;
        memset(&err, 0, sizeof err);
        hh_status st = hh_tracer_new(TR[i].config, &TR[i].t, &err);
        CHECK_MSG(st == HH_OK, "tracer %s: %s %s", TR[i].label, status_str(st), err.message);
        if (st == HH_OK)
            created++;
    }
    if (created != N_TRACERS) {
        size_t len;
        free(capture_end(&cap, &len));
        return;
    }
    long rss0 = status_kb("VmRSS");
    atomic_store(&rss_max_kb, rss0);
    int hwm_reset = 0;
    hwm_reset = reset_peak_rss();
    atomic_int drivers_done = 0;
    driver drv[2];
    memset(drv, 0, sizeof drv);
    drv[0] = (driver){.rcv = &R, .first_tracer = 0, .n_tracers = 3, .is_otlp = 0, .r = {seed ^ 0xa11ce}, .pos = PH_KINDS - 1, .done = &drivers_done};
    drv[1] = (driver){.rcv = &RB, .first_tracer = 3, .n_tracers = 2, .is_otlp = 1, .r = {seed ^ 0xb0b}, .pos = PH_KINDS - 1, .done = &drivers_done};
    receiver *rcvs[2] = {&R, &RB};
    /* Epochs of at most epoch_s seconds, each ending with healthy servers, a flush of every
     * tracer and the books checked; then the receivers forget what they recorded (so a long run
     * does not pile up records). The last epoch closes the tracers. */
    const char *ep = getenv("HH_CHAOS_EPOCH_SECONDS");
    int epoch_s = ep && *ep ? atoi(ep) : 50;
    if (epoch_s < 5)
        epoch_s = 5;
    int n_epochs = (seconds + epoch_s - 1) / epoch_s;
    hh_stats prev[N_TRACERS], s_end[N_TRACERS];
    memset(prev, 0, sizeof prev);
    memset(s_end, 0, sizeof s_end);
    size_t rcv_unique[N_TRACERS] = {0}, rcv_dups[N_TRACERS] = {0}, rcv_attempted[N_TRACERS] = {0},
           rcv_treq[N_TRACERS] = {0}, rcv_treq_ok[N_TRACERS] = {0};
    hh_status flush_st[N_TRACERS], close_st[N_TRACERS];
    double flush_max_ms[N_TRACERS] = {0}, close_ms[N_TRACERS] = {0};
    int flush_bad[N_TRACERS] = {0};
    long growth_max = 0, hwm = -1, rss_end = -1;
    double drain_ms = 0, read_ms = 0;
    for (int e = 0; e < n_epochs; e++) {
        int this_s = seconds - e * epoch_s < epoch_s ? seconds - e * epoch_s : epoch_s;
        int last = e == n_epochs - 1;
        atomic_store(&stop, 0);
        atomic_store(&drivers_done, 0);
        atomic_store(&rss_stop, 0);
        pthread_t mon;
        pthread_create(&mon, NULL, rss_monitor, NULL);
        pthread_t dth[2], wth[N_TRACERS * THREADS_PER_TRACER];
        worker_arg wargs[N_TRACERS * THREADS_PER_TRACER];
        for (int i = 0; i < 2; i++)
            pthread_create(&dth[i], NULL, drive, &drv[i]);
        for (int i = 0; i < N_TRACERS * THREADS_PER_TRACER; i++) {
            wargs[i] = (worker_arg){&TR[i / THREADS_PER_TRACER], i + e * N_TRACERS * THREADS_PER_TRACER};
            pthread_create(&wth[i], NULL, worker, &wargs[i]);
        }
        atomic_store(&stage, "chaos");
        double t0 = now_ms();
        while (now_ms() - t0 < this_s * 1000.0)
            sleep_ms(100);
        atomic_store(&stage, "stopping the tracing threads");
        atomic_store(&stop, 1);
        for (int i = 0; i < N_TRACERS * THREADS_PER_TRACER; i++)
            pthread_join(wth[i], NULL);
        atomic_store(&stage, "stopping the misbehaving servers");
        atomic_store(&drivers_done, 1);
        for (int i = 0; i < 2; i++)
            pthread_join(dth[i], NULL);

        /* The servers are healthy again. */
        for (int i = 0; i < 2; i++) {
            CHECK_MSG(wait_receiver(rcvs[i], 1, 10000), "a receiver did not come back");
            rcv_clear_fault(rcvs[i]);
        }
        double drain0 = now_ms();
        for (int i = 0; i < N_TRACERS; i++) {
            static char what[N_TRACERS][64];
            snprintf(what[i], sizeof what[i], "flush%s of %s", last ? " and close" : "", TR[i].label);
            atomic_store(&stage, what[i]);
            double a = now_ms();
            /* Every export in flight ends by its 10 s deadline (the REST calls by 4 s), and the
             * queue is then at most a few batches: 60 s is far more than enough. */
            flush_st[i] = hh_tracer_flush(TR[i].t, 60000);
            double fms = now_ms() - a;
            if (fms > flush_max_ms[i])
                flush_max_ms[i] = fms;
            if (flush_st[i] != HH_OK && flush_st[i] != HH_ERR_EXPORT_FAILED) {
                flush_bad[i]++;
                CHECK_MSG(0, "%s: the flush after epoch %d returned %s after %.0f ms (seed %llu)", TR[i].label, e,
                          status_str(flush_st[i]), fms, (unsigned long long)seed);
            }
            if (last) {
                a = now_ms();
                close_st[i] = hh_tracer_close(TR[i].t, 15000);
                close_ms[i] = now_ms() - a;
                CHECK_MSG(close_st[i] == HH_OK || close_st[i] == HH_ERR_EXPORT_FAILED,
                          "%s: close returned %s after %.0f ms (seed %llu)", TR[i].label, status_str(close_st[i]),
                          close_ms[i], (unsigned long long)seed);
            }
        }
        drain_ms += now_ms() - drain0;
        atomic_store(&rss_stop, 1);
        pthread_join(mon, NULL);
        hwm = status_kb("VmHWM");
        rss_end = status_kb("VmRSS");
        /* The peak since the last reset; without a reset (no clear_refs) VmHWM would include
         * reading the records, so the sampled RSS stands in. */
        long peak = hwm_reset ? hwm : atomic_load(&rss_max_kb);
        if (peak - rss0 > growth_max)
            growth_max = peak - rss0;

        /* ---- the books of this epoch ---- */
        atomic_store(&stage, "reading the receivers' records");
        double count0 = now_ms();
        jval *reqs[2] = {rcv_get_json(&R, "/__hh/requests"), rcv_get_json(&RB, "/__hh/requests")};
        read_ms += now_ms() - count0;
        CHECK_MSG(reqs[0] && reqs[1], "could not read the receivers' records");
        for (int i = 0; i < N_TRACERS; i++) {
            chaos_tracer *ct = &TR[i];
            hh_stats s;
            memset(&s, 0, sizeof s);
            CHECK_OK(hh_tracer_stats(ct->t, &s));
            delivery dl = count_delivery_in(reqs[ct->otlp_mode], ct->prefix);
            size_t treq = 0, treq_ok = 0;
            trace_requests_of(reqs[ct->otlp_mode], ct->path, &treq, &treq_ok);
            rcv_unique[i] += dl.unique_accepted;
            rcv_dups[i] += dl.duplicates;
            rcv_attempted[i] += dl.attempted_spans;
            rcv_treq[i] += treq;
            rcv_treq_ok[i] += treq_ok;
            unsigned long long ends_ok = atomic_load(&ct->ends_ok);
            unsigned long long d_exp = s.spans_exported - prev[i].spans_exported,
                               d_rej = s.spans_rejected - prev[i].spans_rejected;
            CHECK_MSG(s.queue_len == 0, "%s: %llu spans still queued after the flush of epoch %d (seed %llu)",
                      ct->label, (unsigned long long)s.queue_len, e, (unsigned long long)seed);
            CHECK_MSG(s.spans_ended == ends_ok,
                      "%s: spans_ended %llu != %llu ends that returned HH_OK (epoch %d, seed %llu)", ct->label,
                      (unsigned long long)s.spans_ended, ends_ok, e, (unsigned long long)seed);
            CHECK_MSG(s.spans_exported + s.spans_dropped + s.spans_rejected == s.spans_ended,
                      "%s: exported %llu + dropped %llu + rejected %llu = %llu != ended %llu: %lld spans "
                      "unaccounted (epoch %d, seed %llu)",
                      ct->label, (unsigned long long)s.spans_exported, (unsigned long long)s.spans_dropped,
                      (unsigned long long)s.spans_rejected,
                      (unsigned long long)(s.spans_exported + s.spans_dropped + s.spans_rejected),
                      (unsigned long long)s.spans_ended,
                      (long long)s.spans_ended - (long long)(s.spans_exported + s.spans_dropped + s.spans_rejected),
                      e, (unsigned long long)seed);
            CHECK_MSG(dl.unique_accepted == d_exp + d_rej,
                      "%s: in epoch %d the receiver accepted %zu unique spans, the tracer counts %llu exported + "
                      "%llu rejected (seed %llu)%s",
                      ct->label, e, dl.unique_accepted, d_exp, d_rej, (unsigned long long)seed,
                      dl.unique_accepted > d_exp + d_rej
                          ? ": more on the wire than counted; if one batch, right after a slow or trickle phase, "
                            "the client may have timed out reading a 2xx (O4)"
                          : ": spans counted delivered that never arrived");
            CHECK_MSG(dl.duplicates == 0, "%s: %zu spans accepted more than once in epoch %d (seed %llu)", ct->label,
                      dl.duplicates, e, (unsigned long long)seed);
            prev[i] = s;
            s_end[i] = s;
        }
        jfree(reqs[0]);
        jfree(reqs[1]);
        if (!last) {
            /* Forget this epoch: the receivers' records, and the memory of reading them. */
            for (int i = 0; i < 2; i++)
                rcv_reset(rcvs[i]);
            malloc_trim(0);
            if (!reset_peak_rss())
                hwm_reset = 0;
        }
    }
    size_t outlen = 0;
    char *out = capture_end(&cap, &outlen);
    fwrite(out, 1, outlen, stderr);
    fflush(stderr);

    for (int d = 0; d < 2; d++) {
        char counts[512];
        size_t o = 0;
        for (int k = 0; k < PH_KINDS; k++)
            o += (size_t)snprintf(counts + o, sizeof counts - o, "%s%s=%d", k ? " " : "", PHASE_NAMES[k], drv[d].count[k]);
        figure(d ? "chaos-phases-collector" : "chaos-phases-server", "%s partial_phases_rejecting=%d", counts,
               drv[d].partial_rejecting);
        /* A round of every bad kind takes at most ~90 s (10 x (4 s bad + 4 s healthy + margin)). */
        if (seconds >= 100)
            for (int k = 1; k < PH_KINDS; k++)
                CHECK_MSG(drv[d].count[k] > 0, "the %s never went %s (seed %llu)", d ? "collector" : "server",
                          PHASE_NAMES[k], (unsigned long long)seed);
    }
    unsigned long long sum_ended = 0, sum_exported = 0, sum_dropped = 0, sum_rejected = 0, sum_failures = 0,
                       sum_retries = 0;
    for (int i = 0; i < N_TRACERS; i++) {
        chaos_tracer *ct = &TR[i];
        hh_stats s = s_end[i];
        char row[64];
        snprintf(row, sizeof row, "chaos-%s", ct->label);
        figure(row,
               "ended=%llu exported=%llu dropped=%llu rejected=%llu queue=%llu receiver_unique_2xx=%zu "
               "duplicates=%zu attempted=%zu trace_requests=%zu (2xx %zu) export_requests=%llu failures=%llu "
               "retries=%llu rest_calls=%llu rest_failures=%llu sessions=%llu flush_max=%.0f ms flush_not_done=%d "
               "last_flush=%s close=%s %.0f ms unexpected_statuses=%llu",
               (unsigned long long)s.spans_ended, (unsigned long long)s.spans_exported,
               (unsigned long long)s.spans_dropped, (unsigned long long)s.spans_rejected,
               (unsigned long long)s.queue_len, rcv_unique[i], rcv_dups[i], rcv_attempted[i], rcv_treq[i],
               rcv_treq_ok[i], (unsigned long long)s.export_requests, (unsigned long long)s.export_failures,
               (unsigned long long)s.export_retries, (unsigned long long)s.rest_calls,
               (unsigned long long)s.rest_failures, (unsigned long long)atomic_load(&ct->sessions), flush_max_ms[i],
               flush_bad[i], status_str(flush_st[i]), status_str(close_st[i]), close_ms[i],
               (unsigned long long)atomic_load(&ct->unexpected));
        CHECK_MSG(atomic_load(&ct->unexpected) == 0, "%s: %llu traced calls failed, first: %s", ct->label,
                  (unsigned long long)atomic_load(&ct->unexpected), ct->first_unexpected);
        CHECK_MSG(s.spans_ended > 0 && s.spans_exported > 0, "%s: nothing traced or nothing delivered (control)",
                  ct->label);
        sum_ended += s.spans_ended;
        sum_exported += s.spans_exported;
        sum_dropped += s.spans_dropped;
        sum_rejected += s.spans_rejected;
        sum_failures += s.export_failures;
        sum_retries += s.export_retries;
    }
    /* Controls: the chaos really bit. */
    CHECK_MSG(sum_failures + sum_retries > 0, "no export ever failed or retried: the faults did not take");

    /* The redirect target saw nothing (a redirect followed would land there). */
    jval *rt = rcv_get_json(&RT, "/__hh/requests");
    size_t at_target = rt ? jlen(rt) : 0;
    jfree(rt);
    CHECK_MSG(at_target == 0, "%zu requests followed a redirect to the other origin (seed %llu)", at_target,
              (unsigned long long)seed);

    /* Peak RSS. */
    long growth = growth_max;
    figure("chaos-rss", "start_rss_kb=%ld last_peak_kb=%ld (VmHWM, %s) sampled_max_rss_kb=%ld end_rss_kb=%ld max_growth_kb=%ld "
                        "bound_kb=%ld max_queue_bytes_total=%d",
           rss0, hwm, hwm_reset ? "reset at start and after each epoch" : "since process start", (long)atomic_load(&rss_max_kb), rss_end,
           growth, CHAOS_RSS_BOUND_KB,
           TR[0].max_queue_bytes + TR[1].max_queue_bytes + TR[2].max_queue_bytes + TR[3].max_queue_bytes +
               TR[4].max_queue_bytes);
    CHECK_MSG(rss0 > 0 && hwm > 0 && growth < CHAOS_RSS_BOUND_KB,
              "peak RSS grew by %ld KiB (bound %ld KiB) (seed %llu)", growth, CHAOS_RSS_BOUND_KB,
              (unsigned long long)seed);

    /* The keys, in every byte written meanwhile. */
    int leaks = 0;
    for (int i = 0; i < N_TRACERS; i++) {
        char what[96];
        if (key_leak(out, outlen, TR[i].key, what, sizeof what)) {
            leaks++;
            const char *hit = NULL;
            char p8[16];
            snprintf(p8, sizeof p8, "%.8s", TR[i].key);
            hit = memmem(out, outlen, p8, strlen(p8));
            const char *ls = hit;
            while (ls && ls > out && ls[-1] != '\n' && hit - ls < 300)
                ls--;
            CHECK_MSG(0, "%s: its key appears in the output (%s)%s%.200s (seed %llu)", TR[i].label, what,
                      ls ? ", e.g. on the line: " : "", ls ? ls : "", (unsigned long long)seed);
        } else {
            CHECK(1);
        }
    }
    size_t warnings = 0;
    for (const char *p = out; (p = memmem(p, outlen - (size_t)(p - out), "warning", 7)) != NULL; p += 7)
        warnings++;
    figure("chaos-summary",
           "seed=%llu chaos_s=%d tracers=%d threads=%d ended=%llu exported=%llu dropped=%llu rejected=%llu "
           "export_failures=%llu retries=%llu epochs=%d drain_ms=%.0f read_records_ms=%.0f output_bytes=%zu warnings=%zu keys_leaked=%d "
           "redirect_target_requests=%zu",
           (unsigned long long)seed, seconds, N_TRACERS, N_TRACERS * THREADS_PER_TRACER, sum_ended, sum_exported,
           sum_dropped, sum_rejected, sum_failures, sum_retries, n_epochs, drain_ms, read_ms, outlen, warnings, leaks, at_target);
    CHECK_MSG(warnings > 0, "no warning at all: the faults were not reported (control)");
    free(out);
    rcv_stop(&RB);
    rcv_stop(&RT);
    atomic_store(&watchdog_armed, 0);
    pthread_join(wd, NULL);
}
