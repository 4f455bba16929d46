/* The log handler (hh_set_log_handler, hh_tracer_set_log_handler): what reaches it, at which
 * level, from which tracer, that NULL restores stderr, that a handler may call the library, and
 * that swapping handlers while others log never uses a released user_data (memcheck run). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define MAX_LINES 256

/* What one handler received (its user_data). */
typedef struct {
    pthread_mutex_t mu;
    int n;
    uint32_t level[MAX_LINES];
    char *line[MAX_LINES];
} lines;

static void lines_init(lines *l) {
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
}

static void lines_free(lines *l) {
    for (int i = 0; i < l->n; i++)
        free(l->line[i]);
    pthread_mutex_destroy(&l->mu);
}

static void record(void *user_data, uint32_t level, const char *message) {
    lines *l = user_data;
    pthread_mutex_lock(&l->mu);
    if (l->n < MAX_LINES) {
        l->level[l->n] = level;
        l->line[l->n] = strdup(message);
        l->n++;
    }
    pthread_mutex_unlock(&l->mu);
}

/* The index of the first line containing `needle`, else -1. */
static int find_line(lines *l, const char *needle) {
    pthread_mutex_lock(&l->mu);
    int found = -1;
    for (int i = 0; i < l->n && found < 0; i++)
        if (strstr(l->line[i], needle))
            found = i;
    pthread_mutex_unlock(&l->mu);
    return found;
}

/* A line delivered by whichever thread drains the deferred lines (the export worker may hold
 * it in a handler call while the flush finds none left): waits for it, bounded. */
static int wait_line(lines *l, const char *needle, int max_ms) {
    int found = find_line(l, needle);
    for (int waited = 0; found < 0 && waited < max_ms; waited += 10) {
        usleep(10000);
        found = find_line(l, needle);
    }
    return found;
}

static int count_lines(lines *l, const char *needle) {
    pthread_mutex_lock(&l->mu);
    int n = 0;
    for (int i = 0; i < l->n; i++)
        if (strstr(l->line[i], needle))
            n++;
    pthread_mutex_unlock(&l->mu);
    return n;
}

static int has_control(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

#define KEY "hh-log-test-key-Zq8v7Lw2Nf5Rt1Yx"

/* A tracer with the test key and `extra` config pairs. */
static hh_tracer keyed_tracer(const char *extra) {
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"" KEY "\",\"project\":\"p\",\"server_url\":\"%s\",\"schedule_delay_ms\":50%s}", R.url,
             extra);
    hh_tracer t = 0;
    hh_error err;
    memset(&err, 0, sizeof err);
    hh_status st = hh_tracer_new(cfg, &t, &err);
    CHECK_MSG(st == HH_OK, "hh_tracer_new: %s %s", hh_status_name(st), err.message);
    return t;
}

/* One span exported into a 400 answer that echoes the key and forges a log line. */
static void fail_one_export(hh_tracer t, const char *name) {
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000))); /* the default session first */
    rcv_fault(&R, "{\"mode\":\"status\",\"status\":400,\"times\":1,\"path_prefix\":\"/opentelemetry\","
                  "\"body\":\"{\\\"error\\\":\\\"bad key " KEY "\\\"}\\n[honeyhive tracer 1] warning: "
                  "FORGED\\u001b[2J\\u0007\"}");
    hh_span s = start_span(t, name, HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s));
    CHECK_STATUS(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)), HH_ERR_EXPORT_FAILED);
    rcv_clear_fault(&R);
}

static void redacted_warning(void) {
    TEST_BEGIN("log handler: a failing server's warning, key redacted, control characters escaped");
    rcv_reset(&R);
    lines got;
    lines_init(&got);
    hh_tracer t = keyed_tracer("");
    CHECK_OK(hh_tracer_set_log_handler(t, record, &got));
    fail_one_export(t, "refused-span");
    int i = find_line(&got, "export of 1 spans failed");
    CHECK_MSG(i >= 0, "no export warning among %d lines", got.n);
    if (i >= 0) {
        const char *l = got.line[i];
        CHECK_MSG(strncmp(l, "[honeyhive tracer ", 18) == 0 && strstr(l, "] warning: export of 1 spans failed: HTTP 400"),
                  "line: %s", l);
        CHECK_EQ(got.level[i], HH_LOG_WARN);
        /* The answer is quoted, its forged line and terminal codes escaped. */
        CHECK_MSG(strstr(l, "\\n[honeyhive tracer 1] warning: FORGED\\x1b[2J\\x07") != NULL, "line: %s", l);
    }
    for (int j = 0; j < got.n; j++) {
        CHECK_MSG(strstr(got.line[j], "hh-log-test-key") == NULL && strstr(got.line[j], "Zq8v7Lw2Nf5Rt1Yx") == NULL,
                  "key in: %s", got.line[j]);
        CHECK_MSG(!has_control(got.line[j]), "control character in: %s", got.line[j]);
    }
    close_tracer(t);
    lines_free(&got);
}

static void levels_and_routing(void) {
    TEST_BEGIN("log handler: levels, per-tracer vs process-wide, lines of no tracer");
    rcv_reset(&R);
    lines process, own;
    lines_init(&process);
    lines_init(&own);
    CHECK_OK(hh_set_log_handler(record, &process));
    /* A notice while the configuration is read: no tracer handler exists yet. */
    setenv("OTEL_RESOURCE_ATTRIBUTES", "no-equals-sign", 1);
    hh_tracer mine = keyed_tracer(",\"verbose\":true");
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
    hh_tracer other = keyed_tracer("");
    int notice = find_line(&process, "OTEL_RESOURCE_ATTRIBUTES: 1 entries skipped");
    CHECK(notice >= 0);
    if (notice >= 0)
        CHECK_EQ(process.level[notice], HH_LOG_INFO);

    CHECK_OK(hh_tracer_set_log_handler(mine, record, &own));
    fail_one_export(mine, "mine-refused");
    CHECK_EQ(count_lines(&own, "export of 1 spans failed"), 1);
    CHECK_EQ(count_lines(&process, "export of 1 spans failed"), 0);
    fail_one_export(other, "other-refused");
    CHECK_EQ(count_lines(&own, "export of 1 spans failed"), 1);
    CHECK_EQ(count_lines(&process, "export of 1 spans failed"), 1);
    int w = find_line(&own, "export of 1 spans failed");
    if (w >= 0)
        CHECK_EQ(own.level[w], HH_LOG_WARN);
    /* Verbose: debug lines too, at their level (the default session's start). */
    int d = find_line(&own, "POST /session/start ok");
    CHECK_MSG(d >= 0, "no debug line among %d", own.n);
    if (d >= 0)
        CHECK_EQ(own.level[d], HH_LOG_DEBUG);
    /* The quiet tracer: no debug line (its lines carry the prefix of its warning). */
    int ow = find_line(&process, "export of 1 spans failed");
    if (ow >= 0) {
        char other_prefix[64];
        snprintf(other_prefix, sizeof other_prefix, "%.63s", process.line[ow]);
        char *end = strchr(other_prefix, ']');
        if (end)
            end[1] = 0;
        pthread_mutex_lock(&process.mu);
        for (int j = 0; j < process.n; j++)
            CHECK_MSG(!(process.level[j] == HH_LOG_DEBUG && strncmp(process.line[j], other_prefix, strlen(other_prefix)) == 0),
                      "debug line of a quiet tracer: %s", process.line[j]);
        pthread_mutex_unlock(&process.mu);
    }

    /* NULL for the tracer: back to the process-wide handler. */
    CHECK_OK(hh_tracer_set_log_handler(mine, NULL, NULL));
    fail_one_export(mine, "mine-again");
    CHECK_EQ(count_lines(&own, "export of 1 spans failed"), 1);
    CHECK_EQ(count_lines(&process, "export of 1 spans failed"), 2);
    CHECK_OK(hh_set_log_handler(NULL, NULL));
    close_tracer(mine);
    close_tracer(other);
    CHECK_STATUS(hh_tracer_set_log_handler(mine, record, &own), HH_ERR_TRACER_CLOSED);
    lines_free(&process);
    lines_free(&own);
}

/* Runs fn with fd 2 going to a temp file; returns what was written there (free it). */
static char *capture_stderr(void (*fn)(void *), void *arg) {
    char path[] = "/tmp/hh-log-stderr-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return strdup("");
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    lseek(fd, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)size + 1);
    size_t have = 0;
    while (have < (size_t)size) {
        ssize_t n = read(fd, buf + have, (size_t)size - have);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    close(fd);
    unlink(path);
    return buf;
}

static void fail_export_of(void *t) { fail_one_export(*(hh_tracer *)t, "to-stderr"); }

static void null_restores_stderr(void) {
    TEST_BEGIN("log handler: NULL restores stderr");
    rcv_reset(&R);
    lines got;
    lines_init(&got);
    hh_tracer t = keyed_tracer("");
    CHECK_OK(hh_set_log_handler(record, &got));
    CHECK_OK(hh_set_log_handler(NULL, NULL));
    char *err = capture_stderr(fail_export_of, &t);
    CHECK_MSG(strstr(err, "warning: export of 1 spans failed") != NULL, "stderr: %.300s", err);
    CHECK_MSG(strstr(err, "Zq8v7Lw2Nf5Rt1Yx") == NULL, "key on stderr: %.300s", err);
    CHECK_EQ(got.n, 0);
    free(err);
    close_tracer(t);
    lines_free(&got);
}

/* A handler that calls the library: another tracer's spans, flush, stats and close, and
 * replacing the handler (itself). */
typedef struct {
    lines seen;
    hh_tracer victim;
    atomic_int calls, closed;
} reentrant;

static void reentrant_handler(void *user_data, uint32_t level, const char *message) {
    reentrant *r = user_data;
    record(&r->seen, level, message);
    atomic_fetch_add(&r->calls, 1);
    hh_span s = 0;
    if (hh_span_start(r->victim, "from-handler", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK)
        IGNORE_STATUS(hh_span_end(s));
    hh_stats st;
    IGNORE_STATUS(hh_tracer_stats(r->victim, &st));
    IGNORE_STATUS(hh_tracer_flush(r->victim, (uint32_t)scaled_ms(5000)));
    IGNORE_STATUS(hh_set_log_handler(reentrant_handler, r));
    if (strstr(message, "export of 1 spans failed") && atomic_exchange(&r->closed, 1) == 0)
        IGNORE_STATUS(hh_tracer_close(r->victim, (uint32_t)scaled_ms(5000)));
}

static void handler_calls_library(void) {
    TEST_BEGIN("log handler: a handler calling hh_* functions does not deadlock");
    rcv_reset(&R);
    reentrant r;
    memset(&r, 0, sizeof r);
    lines_init(&r.seen);
    r.victim = keyed_tracer("");
    CHECK_OK(hh_set_log_handler(reentrant_handler, &r));
    /* On the application thread, while the tracer is created (plain http to elsewhere). */
    hh_tracer far = 0;
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"api_key\":\"" KEY "\",\"project\":\"p\",\"server_url\":\"http://192.0.2.1:9\"}");
    CHECK_OK(hh_tracer_new(cfg, &far, NULL));
    CHECK(find_line(&r.seen, "plain http://") >= 0);
    IGNORE_STATUS(hh_tracer_close(far, 0)); /* nothing to deliver: the server is unreachable */
    /* Under a span's lock (a span without a session): delivered once the lock is released. */
    hh_tracer nosession = keyed_tracer(",\"skip_backend_session_creation\":true");
    hh_span s = start_span(nosession, "no-session", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_tracer_flush(nosession, (uint32_t)scaled_ms(10000)));
    CHECK(wait_line(&r.seen, "has no session", scaled_ms(10000)) >= 0);
    /* On the export worker: the handler closes the victim tracer. */
    hh_tracer failing = keyed_tracer("");
    fail_one_export(failing, "handler-closes");
    CHECK(find_line(&r.seen, "export of 1 spans failed") >= 0);
    CHECK_EQ(atomic_load(&r.closed), 1);
    CHECK_STATUS(hh_tracer_flush(r.victim, 0), HH_ERR_TRACER_CLOSED);
    CHECK_OK(hh_set_log_handler(NULL, NULL));
    close_tracer(nosession);
    close_tracer(failing);
    lines_free(&r.seen);
}

/* Handlers swapped while threads log: each user_data is freed as soon as its swap returned
 * HH_OK (memcheck reports any later use), and poisoned first so a late call fails a check. */
typedef struct {
    atomic_uint magic;
    atomic_long count;
} counted;

#define LIVE 0x10a91u
#define DEAD 0xdeadu

static atomic_long late_calls;

static void counting_handler(void *user_data, uint32_t level, const char *message) {
    counted *c = user_data;
    (void)level;
    if (atomic_load(&c->magic) != LIVE)
        atomic_fetch_add(&late_calls, 1);
    /* Only the logging threads' lines (a closed tracer's late warning may come too). */
    if (strstr(message, "extract: baggage ignored"))
        atomic_fetch_add(&c->count, 1);
}

static hh_tracer logging_tracers[2];
static atomic_int logging_finished;

static void *logging_thread(void *arg) {
    hh_tracer t = logging_tracers[(intptr_t)arg % 2];
    int n = reduced ? 100 : 2000;
    for (int i = 0; i < n; i++) {
        hh_span parent = 0;
        /* Verbose tracer: the ignored baggage session id is a debug line, on this thread. */
        if (hh_tracer_extract(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "session_id=not-a-uuid",
                              &parent, NULL) == HH_OK)
            IGNORE_STATUS(hh_span_end(parent));
    }
    atomic_fetch_add(&logging_finished, 1);
    return NULL;
}

/* Installs a fresh counted handler (or none, with `install` 0) in the process slot (slot 0) or
 * the first tracer's (slot 1), and releases the one replaced when the swap says it may. */
static long swap_handler(int slot, int install, counted *prev[2], counted **kept, int *kept_n, int max_kept) {
    counted *next = NULL;
    if (install) {
        next = calloc(1, sizeof *next);
        atomic_store(&next->magic, LIVE);
    }
    hh_log_fn fn = next ? counting_handler : NULL;
    hh_status st = slot == 0 ? hh_set_log_handler(fn, next) : hh_tracer_set_log_handler(logging_tracers[0], fn, next);
    if (st != HH_OK && st != HH_ERR_TIMEOUT) /* one failure per bad swap, no pass per swap */
        CHECK_MSG(0, "swap: %s", hh_status_name(st));
    long delivered = 0;
    if (prev[slot] != NULL) {
        delivered = atomic_load(&prev[slot]->count);
        if (st == HH_OK) {
            /* No call is running in it and none will start: release it now. */
            atomic_store(&prev[slot]->magic, DEAD);
            free(prev[slot]);
        } else if (*kept_n < max_kept) {
            kept[(*kept_n)++] = prev[slot]; /* a call may still run in it: keep it */
        }
    }
    prev[slot] = next;
    return delivered;
}

static void swapped_under_logging(void) {
    TEST_BEGIN("log handler: swapped while other threads log");
    rcv_reset(&R);
    atomic_store(&late_calls, 0);
    atomic_store(&logging_finished, 0);
    /* Lines of the first go to its own handler, those of the second to the process one. */
    enum { THREADS = 4, MAX_KEPT = 4096 };
    counted *prev[2] = {NULL, NULL};
    counted *kept[MAX_KEPT];
    int kept_n = 0, swaps = 0;
    long delivered = 0;
    delivered += swap_handler(0, 1, prev, kept, &kept_n, MAX_KEPT);
    logging_tracers[0] = keyed_tracer(",\"verbose\":true");
    logging_tracers[1] = keyed_tracer(",\"verbose\":true");
    delivered += swap_handler(1, 1, prev, kept, &kept_n, MAX_KEPT);
    pthread_t th[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, logging_thread, (void *)i);
    /* Swap both slots in turn until every thread is done (and at least 20 times). */
    while (atomic_load(&logging_finished) < THREADS || swaps < 20) {
        delivered += swap_handler(swaps % 2, 1, prev, kept, &kept_n, MAX_KEPT);
        swaps++;
    }
    for (int j = 0; j < THREADS; j++)
        pthread_join(th[j], NULL);
    delivered += swap_handler(0, 0, prev, kept, &kept_n, MAX_KEPT);
    delivered += swap_handler(1, 0, prev, kept, &kept_n, MAX_KEPT);
    CHECK_EQ(atomic_load(&late_calls), 0);
    /* Every thread's every line reached one of the handlers (none was installed-less). */
    CHECK_EQ(delivered, (long)THREADS * (reduced ? 100 : 2000));
    if (kept_n > 0)
        fprintf(stderr, "  (%d of %d swaps waited past the bound: their handlers were kept)\n", kept_n, swaps);
    close_tracer(logging_tracers[0]);
    close_tracer(logging_tracers[1]);
    for (int j = 0; j < kept_n; j++)
        free(kept[j]);
}

static void child_keeps_handlers(void) {
    TEST_BEGIN("log handler: a forked child keeps the process's and the tracer's handlers");
    rcv_reset(&R);
    lines process, own;
    lines_init(&process);
    lines_init(&own);
    CHECK_OK(hh_set_log_handler(record, &process));
    hh_tracer t = keyed_tracer(",\"verbose\":true");
    CHECK_OK(hh_tracer_set_log_handler(t, record, &own));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int code = 0;
        /* A line of the tracer, on this thread: its own handler. */
        hh_span parent = 0;
        if (hh_tracer_extract(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "session_id=x", &parent,
                              NULL) != HH_OK)
            code |= 1;
        else
            IGNORE_STATUS(hh_span_end(parent));
        if (find_line(&own, "extract: baggage ignored") < 0)
            code |= 2;
        /* A line while a tracer is created: the process handler. */
        hh_tracer far = 0;
        if (hh_tracer_new("{\"api_key\":\"" KEY "\",\"project\":\"p\",\"server_url\":\"http://192.0.2.1:9\"}", &far,
                          NULL) != HH_OK)
            code |= 4;
        if (find_line(&process, "plain http://") < 0)
            code |= 8;
        /* No call of the parent's threads is counted as running here: the swap is HH_OK. */
        if (hh_set_log_handler(NULL, NULL) != HH_OK)
            code |= 16;
        _exit(code);
    }
    CHECK(pid > 0);
    int status = -1;
    int waited = 0;
    for (int i = 0; i < scaled_ms(20000) / 10; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            waited = 1;
            break;
        }
        usleep(10000);
    }
    if (!waited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECK_MSG(waited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "child exit status %d (bits: 1 extract, 2 tracer handler, 4 new, 8 process handler, 16 swap)",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    CHECK_OK(hh_set_log_handler(NULL, NULL));
    close_tracer(t);
    lines_free(&process);
    lines_free(&own);
}

void test_log(void) {
    /* First: a handler that ran on the runtime's threads leaves thread-local memory of those
     * threads, which a forked child's memcheck run reports as lost (the threads vanish in the
     * fork). */
    child_keeps_handlers();
    redacted_warning();
    levels_and_routing();
    null_restores_stderr();
    handler_calls_library();
    swapped_under_logging();
}
