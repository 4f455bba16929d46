/* Security: header injection rejected at init; plain http:// to a non-loopback host warns; a
 * server echoing the secrets in any form (escaped, encoded, truncated) and control characters
 * never gets them into the log; proxies (HTTP_PROXY, NO_PROXY, the proxy key, CONNECT);
 * the verbose key-leak run ("leak", graded by run.sh); TLS verification ("tls", against the
 * self-signed server run.sh starts). No test here sends anything off this machine: the
 * warning checks make tracers that never export (no spans, no session call) and close them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rel.h"

/* ---------------------------------------------------------------------------------------- */
/* Header injection */

typedef struct {
    const char *what;
    const char *json; /* with %s for the receiver URL */
} inj_case;

static void header_injection(void) {
    if (!selected("header-injection"))
        return;
    TEST_BEGIN("header injection: CR/LF and other invalid characters rejected at init");
    static const inj_case cases[] = {
        {"api_key CRLF", "{\"api_key\":\"k\\r\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"api_key LF", "{\"api_key\":\"k\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"api_key CR", "{\"api_key\":\"k\\rX\",\"server_url\":\"%s\"}"},
        {"api_key NUL", "{\"api_key\":\"k\\u0000X\",\"server_url\":\"%s\"}"},
        {"api_key DEL", "{\"api_key\":\"k\\u007fX\",\"server_url\":\"%s\"}"},
        {"api_key VT", "{\"api_key\":\"k\\u000bX\",\"server_url\":\"%s\"}"},
        {"ingestion_api_key CRLF", "{\"ingestion_api_key\":\"hh_ingst_\\r\\nX: y\",\"server_url\":\"%s\"}"},
        {"source CRLF", "{\"api_key\":\"k\",\"source\":\"prod\\r\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"project CRLF", "{\"api_key\":\"k\",\"project\":\"p\\r\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"client_language CRLF", "{\"api_key\":\"k\",\"client_language\":\"c\\r\\nX-Injected: 1\",\"server_url\":\"%s\"}"},
        {"headers value CRLF", "{\"api_key\":\"k\",\"headers\":{\"x-a\":\"1\\r\\nX-Injected: 1\"},\"server_url\":\"%s\"}"},
        {"headers value LF", "{\"api_key\":\"k\",\"headers\":{\"x-a\":\"1\\nX-Injected: 1\"},\"server_url\":\"%s\"}"},
        {"headers name CRLF", "{\"api_key\":\"k\",\"headers\":{\"x-a\\r\\nX-Injected\":\"1\"},\"server_url\":\"%s\"}"},
        {"headers name colon", "{\"api_key\":\"k\",\"headers\":{\"x-a: 1\\r\\nx\":\"1\"},\"server_url\":\"%s\"}"},
        {"headers name space", "{\"api_key\":\"k\",\"headers\":{\"x a\":\"1\"},\"server_url\":\"%s\"}"},
        {"headers name empty", "{\"api_key\":\"k\",\"headers\":{\"\":\"1\"},\"server_url\":\"%s\"}"},
        {"headers name non-ASCII", "{\"api_key\":\"k\",\"headers\":{\"x-\\u00e9\":\"1\"},\"server_url\":\"%s\"}"},
        {"otlp headers CRLF",
         "{\"exporter\":\"otlp\",\"otlp_endpoint\":\"%s/v1/traces\",\"headers\":{\"authorization\":\"Bearer x\\r\\nX: 1\"}}"},
        {"server_url CRLF", "{\"api_key\":\"k\",\"server_url\":\"%s\\r\\nX-Injected: 1\"}"},
        {"server_url space", "{\"api_key\":\"k\",\"server_url\":\"%s/a b\"}"},
    };
    int rejected = 0, n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        char cfg[512];
        snprintf(cfg, sizeof cfg, cases[i].json, R.url);
        hh_tracer t = 0;
        hh_error err;
        memset(&err, 0, sizeof err);
        hh_status st = hh_tracer_new(cfg, &t, &err);
        if (st == HH_ERR_INVALID_CONFIG)
            rejected++;
        CHECK_MSG(st == HH_ERR_INVALID_CONFIG, "%s: %s (%s)", cases[i].what, status_str(st), err.message);
        CHECK_MSG(strchr(err.message, '\r') == NULL && strchr(err.message, '\n') == NULL,
                  "%s: the error message carries CR/LF: %s", cases[i].what, err.message);
        if (st == HH_OK)
            IGNORE_STATUS(hh_tracer_close(t, 100));
    }
    /* The same through the environment (NULL config). */
    static const struct {
        const char *name, *value;
    } envs[] = {
        {"HH_API_KEY", "k\r\nX-Injected: 1"},
        {"HH_SOURCE", "prod\r\nX-Injected: 1"},
        {"HH_PROJECT", "p\nX-Injected: 1"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "x-a=1\r\nX-Injected: 1"},
    };
    int env_rejected = 0, nenv = (int)(sizeof envs / sizeof envs[0]);
    for (int i = 0; i < nenv; i++) {
        setenv("HH_API_KEY", "k", 1);
        setenv("HH_API_URL", R.url, 1);
        setenv(envs[i].name, envs[i].value, 1);
        hh_tracer t = 0;
        hh_error err;
        memset(&err, 0, sizeof err);
        hh_status st = hh_tracer_new(NULL, &t, &err);
        if (st == HH_ERR_INVALID_CONFIG)
            env_rejected++;
        CHECK_MSG(st == HH_ERR_INVALID_CONFIG, "env %s: %s (%s)", envs[i].name, status_str(st), err.message);
        if (st == HH_OK)
            IGNORE_STATUS(hh_tracer_close(t, 100));
        unsetenv(envs[i].name);
        unsetenv("HH_API_KEY");
        unsetenv("HH_API_URL");
        unsetenv("HH_SOURCE");
        unsetenv("HH_PROJECT");
    }
    /* Values that are fine: a tab, non-ASCII text in a label. */
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"api_key\":\"k\",\"source\":\"a\\tb\",\"project\":\"caf\\u00e9\",\"server_url\":\"%s\","
                              "\"skip_backend_session_creation\":true}", R.url);
    hh_tracer ok = 0;
    hh_status okst = hh_tracer_new(cfg, &ok, NULL);
    CHECK_OK(okst);
    if (okst == HH_OK)
        IGNORE_STATUS(hh_tracer_close(ok, 100));

    /* A session option `source` with CR/LF goes only into a JSON body, never a header. */
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50");
    char sid[HH_SESSION_ID_BUF_LEN];
    hh_status sst = hh_session_create(t, "{\"source\":\"s\\r\\nX-Injected: 1\"}", sid, sizeof sid, NULL);
    hh_span s = 0;
    if (sst == HH_OK && hh_span_start(t, "inj-span", HH_EVENT_TOOL, 0, sid, NULL, &s, NULL) == HH_OK)
        IGNORE_STATUS(hh_span_end(s));
    IGNORE_STATUS(hh_tracer_flush(t, 5000));
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    int injected = 0;
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *h = jget(jat(reqs, i), "headers");
        if (jget(h, "x-injected"))
            injected++;
        for (size_t k = 0; k < jlen(h); k++) {
            const char *v = jstr(h->items[k]);
            if (v && (strchr(v, '\r') || strchr(v, '\n')))
                injected++;
        }
    }
    jfree(reqs);
    IGNORE_STATUS(hh_tracer_close(t, 2000));
    figure("header-injection",
           "config_cases=%d rejected_INVALID_CONFIG=%d env_cases=%d env_rejected=%d session_source_crlf=%s "
           "injected_headers_on_wire=%d",
           n, rejected, nenv, env_rejected, status_str(sst), injected);
    CHECK_EQ(injected, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Plain http:// to a non-loopback host */

/* Makes a tracer that never sends anything, closes it, and returns what it wrote to stderr. */
static char *stderr_of_tracer(const char *cfg, hh_status *st) {
    char path[] = "/tmp/hh-rel-stderr-XXXXXX";
    int fd = mkstemp(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    hh_tracer t = 0;
    *st = hh_tracer_new(cfg, &t, NULL);
    if (*st == HH_OK)
        IGNORE_STATUS(hh_tracer_close(t, 100));
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    char *buf = calloc(1, 65536);
    ssize_t n = read(fd, buf, 65535);
    (void)n;
    close(fd);
    unlink(path);
    return buf;
}

static void plain_http_warning(void) {
    if (!selected("plain-http-warning"))
        return;
    TEST_BEGIN("plain http:// to a non-loopback host warns (nothing is sent)");
    static const struct {
        const char *url;
        int otlp;
        int want_warning;
    } cases[] = {
        {"http://example.invalid", 0, 1},
        {"http://example.invalid:8080/api", 0, 1},
        {"http://10.255.255.1:4318", 0, 1},
        {"http://localhost.example.invalid", 0, 1},
        {"http://example.invalid/v1/traces", 1, 1},
        {"http://127.0.0.1:1", 0, 0},
        {"http://localhost:1", 0, 0},
        {"http://[::1]:1", 0, 0},
        {"https://example.invalid", 0, 0},
        /* Not loopback, though the text starts like it: */
        {"http://127.example.invalid", 0, 1},
        {"http://127.0.0.1.example.invalid", 0, 1},
        {"http://127.0.0.1@example.invalid", 0, 1},
    };
    int n = (int)(sizeof cases / sizeof cases[0]), right = 0;
    for (int i = 0; i < n; i++) {
        char cfg[512];
        if (cases[i].otlp)
            snprintf(cfg, sizeof cfg,
                     "{\"exporter\":\"otlp\",\"otlp_endpoint\":\"%s\",\"schedule_delay_ms\":600000}", cases[i].url);
        else
            snprintf(cfg, sizeof cfg,
                     "{\"api_key\":\"k\",\"server_url\":\"%s\",\"skip_backend_session_creation\":true,"
                     "\"schedule_delay_ms\":600000}",
                     cases[i].url);
        hh_status st;
        char *err = stderr_of_tracer(cfg, &st);
        int warned = strstr(err, "plain http://") != NULL;
        if (st == HH_OK && warned == cases[i].want_warning)
            right++;
        CHECK_MSG(st == HH_OK, "%s: init %s", cases[i].url, status_str(st));
        CHECK_MSG(warned == cases[i].want_warning, "%s (%s exporter): warning %s; stderr: %.300s", cases[i].url,
                  cases[i].otlp ? "otlp" : "honeyhive", warned ? "printed" : "missing", err);
        if (i == 0)
            figure("plain-http-warning-line", "%.*s", (int)strcspn(err, "\n"), err);
        free(err);
    }
    figure("plain-http-warning", "cases=%d right=%d", n, right);
}

/* ---------------------------------------------------------------------------------------- */
/* A tiny loopback server for the rows below: one connection at a time, each request (head and
 * Content-Length body) appended to a log the test reads, answered by the row's handler, then
 * the connection is closed. */

typedef struct mini_srv mini_srv;
/* Answers one request on fd; `head` is the request line and headers. */
typedef void (*mini_handler)(mini_srv *s, int fd, const char *head, const char *body, size_t body_len);

struct mini_srv {
    int listen_fd;
    int port;
    pthread_t thread;
    atomic_int stop;
    mini_handler handler;
    pthread_mutex_t mu;
    char *log; /* everything received, NUL-terminated */
    size_t log_len, log_cap;
    int requests;
};

static void srv_log(mini_srv *s, const char *data, size_t n) {
    pthread_mutex_lock(&s->mu);
    if (s->log_len + n + 1 > s->log_cap) {
        s->log_cap = (s->log_len + n + 1) * 2;
        s->log = realloc(s->log, s->log_cap);
    }
    memcpy(s->log + s->log_len, data, n);
    s->log_len += n;
    s->log[s->log_len] = 0;
    pthread_mutex_unlock(&s->mu);
}

/* A copy of the log (free it). */
static char *srv_log_copy(mini_srv *s) {
    pthread_mutex_lock(&s->mu);
    char *out = strdup(s->log ? s->log : "");
    pthread_mutex_unlock(&s->mu);
    return out;
}

/* Reads up to cap-1 bytes with a bound on the wait; returns the count (0: closed or timed out). */
static ssize_t read_some(int fd, char *buf, size_t cap, int timeout_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0)
        return 0;
    ssize_t n = read(fd, buf, cap);
    return n < 0 ? 0 : n;
}

static void write_all(int fd, const char *data, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w <= 0)
            return;
        data += w;
        n -= (size_t)w;
    }
}

static void *mini_loop(void *arg) {
    mini_srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        static char buf[1 << 20];
        size_t len = 0;
        char *end = NULL;
        while (!end && len < sizeof buf - 1) {
            ssize_t n = read_some(fd, buf + len, sizeof buf - 1 - len, 3000);
            if (n <= 0)
                break;
            len += (size_t)n;
            buf[len] = 0;
            end = strstr(buf, "\r\n\r\n");
        }
        if (!end) {
            close(fd);
            continue;
        }
        size_t head_len = (size_t)(end - buf) + 4, want = 0;
        for (char *line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n"))
            if (strncasecmp(line + 2, "content-length:", 15) == 0)
                want = strtoul(line + 17, NULL, 10);
        while (len < head_len + want && len < sizeof buf - 1) {
            ssize_t n = read_some(fd, buf + len, sizeof buf - 1 - len, 3000);
            if (n <= 0)
                break;
            len += (size_t)n;
        }
        buf[len] = 0;
        srv_log(s, buf, len);
        srv_log(s, "\n", 1);
        pthread_mutex_lock(&s->mu);
        s->requests++;
        pthread_mutex_unlock(&s->mu);
        char saved = buf[head_len];
        buf[head_len] = 0;
        char *head = strdup(buf);
        buf[head_len] = saved;
        s->handler(s, fd, head, buf + head_len, len - head_len);
        free(head);
        close(fd);
    }
    return NULL;
}

static int mini_start(mini_srv *s, mini_handler handler) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->handler = handler;
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->listen_fd, 16) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->thread, NULL, mini_loop, s);
}

static void mini_stop(mini_srv *s) {
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    free(s->log);
    pthread_mutex_destroy(&s->mu);
}

/* Runs fn with fd 2 going to a temp file; returns what was written there (free it). */
static char *capture_stderr(void (*fn)(void *), void *arg) {
    char path[] = "/tmp/hh-rel-stderr-XXXXXX";
    int fd = mkstemp(path);
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
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t n = read(fd, buf + got, (size_t)size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    unlink(path);
    return buf;
}

/* ---------------------------------------------------------------------------------------- */
/* A server echoing the secrets in every form: no form reaches the log, nor a raw control
 * character. */

#define ECHO_KEY_LEN 34
static char echo_key[ECHO_KEY_LEN + 1];  /* the API key: has '/' and '+' to escape */
static char echo_hdr[ECHO_KEY_LEN + 1];  /* a custom header value (x-api-key) */
static char echo_forms[32][600];         /* body of the n-th answer */
static char echo_encoded[32][400];       /* the secret as that body writes it ("" for none) */
static int echo_nforms;

static void json_escape_all(const char *s, char *out) {
    for (; *s; s++)
        out += sprintf(out, "\\u%04x", (unsigned char)*s);
    *out = 0;
}

static void replace_chars(const char *s, char *out, const char *slash, const char *plus) {
    for (; *s; s++) {
        if (*s == '/')
            out += sprintf(out, "%s", slash);
        else if (*s == '+')
            out += sprintf(out, "%s", plus);
        else
            *out++ = *s;
    }
    *out = 0;
}

static void add_form(const char *encoded, const char *fmt) {
    snprintf(echo_encoded[echo_nforms], sizeof echo_encoded[0], "%s", encoded);
    snprintf(echo_forms[echo_nforms], sizeof echo_forms[0], fmt, encoded);
    echo_nforms++;
}

static void make_echo_forms(void) {
    const char *secrets[2] = {echo_key, echo_hdr};
    char enc[400];
    echo_nforms = 0;
    for (int i = 0; i < 2; i++) {
        const char *k = secrets[i];
        add_form(k, "{\"error\":\"invalid api key\",\"key\":\"%s\"}");
        replace_chars(k, enc, "\\/", "\\u002b");
        add_form(enc, "{\"error\":\"invalid api key\",\"key\":\"%s\"}");
        json_escape_all(k, enc);
        add_form(enc, "{\"error\":\"invalid api key\",\"key\":\"%s\"}");
        replace_chars(k, enc, "%2F", "%2B");
        add_form(enc, "{\"error\":\"bad request\",\"url\":\"/v1/traces?api_key=%s\"}");
        replace_chars(k, enc, "%252F", "%252B");
        add_form(enc, "double-encoded: %s");
        snprintf(enc, 13, "%s", k);
        add_form(enc, "{\"error\":\"invalid key %s...\"}");
        snprintf(enc, sizeof enc, "%s", k + ECHO_KEY_LEN - 10);
        add_form(enc, "{\"error\":\"the key ending in %s was revoked\"}");
    }
    /* The key at the 200-byte cut: only its first 4 characters fit in the printed snippet. */
    char pad[200];
    memset(pad, 'p', 183); /* `{"p":"` + 183 + `","k":"`: the key starts at byte 196 */
    pad[183] = 0;
    snprintf(enc, sizeof enc, "%.4s", echo_key);
    snprintf(echo_encoded[echo_nforms], sizeof echo_encoded[0], "%s", enc);
    snprintf(echo_forms[echo_nforms], sizeof echo_forms[0], "{\"p\":\"%s\",\"k\":\"%s\"}", pad, echo_key);
    echo_nforms++;
    /* Control characters: a forged log line, a terminal clear, a bell, DEL, C1 CSI. */
    add_form("", "line one\n[honeyhive tracer 1] warning: FORGED line\r\n\x1b[2J\x07\x7f\xc2\x9b" "31mred%s");
}

static atomic_int echo_next;

static void echo_handler(mini_srv *s, int fd, const char *head, const char *body, size_t body_len) {
    (void)s, (void)head, (void)body, (void)body_len;
    int i = atomic_fetch_add(&echo_next, 1) % echo_nforms;
    char resp[2048];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-Echo-Key: %s\r\n"
                     "X-Echo-Header: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     echo_key, echo_hdr, strlen(echo_forms[i]), echo_forms[i]);
    write_all(fd, resp, (size_t)n);
}

static void random_secret(char *out, const char *prefix) {
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijmnopqrstuvwxyz23456789";
    unsigned char rnd[ECHO_KEY_LEN];
    int fd = open("/dev/urandom", O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, rnd, sizeof rnd) : -1;
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < ECHO_KEY_LEN; i++)
        out[i] = alphabet[(got == (ssize_t)sizeof rnd ? rnd[i] : (unsigned char)(i * 7 + 3)) % (sizeof alphabet - 1)];
    memcpy(out, prefix, strlen(prefix));
    out[9] = '/';
    out[20] = '+';
    out[ECHO_KEY_LEN] = 0;
}

typedef struct {
    int port;
    hh_status flush;
    hh_stats stats;
} echo_run;

static void echo_exports(void *arg) {
    echo_run *r = arg;
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"%s\",\"server_url\":\"http://127.0.0.1:%d\",\"verbose\":true,"
             "\"skip_backend_session_creation\":true,\"session_id\":\"0a0a0a0a-0000-4000-8000-000000000001\","
             "\"schedule_delay_ms\":600000,\"export_timeout_ms\":3000,"
             "\"headers\":{\"x-api-key\":\"%s\"}}",
             echo_key, r->port, echo_hdr);
    hh_tracer t = 0;
    hh_error err;
    r->flush = hh_tracer_new(cfg, &t, &err);
    if (r->flush != HH_OK)
        return;
    for (int i = 0; i < echo_nforms; i++) {
        hh_span s = 0;
        if (hh_span_start(t, "echo-span", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK)
            IGNORE_STATUS(hh_span_end(s));
        r->flush = hh_tracer_flush(t, 5000);
    }
    memset(&r->stats, 0, sizeof r->stats);
    IGNORE_STATUS(hh_tracer_stats(t, &r->stats));
    IGNORE_STATUS(hh_tracer_close(t, 2000));
}

/* Whether `text` holds any run of `min` characters of `secret` (every run when min = 0 means
 * the whole of it). */
static int has_piece(const char *text, const char *secret, size_t min) {
    size_t n = strlen(secret);
    if (n == 0)
        return 0;
    if (min == 0 || min > n)
        min = n;
    char piece[512];
    for (size_t i = 0; i + min <= n; i++) {
        memcpy(piece, secret + i, min);
        piece[min] = 0;
        if (strstr(text, piece))
            return 1;
    }
    return 0;
}

static void key_echo_forms(void) {
    if (!selected("key-echo-forms"))
        return;
    TEST_BEGIN("key echo: a 400 body echoing the key and a custom header value in every form never reaches the log");
    random_secret(echo_key, "hk");
    random_secret(echo_hdr, "xk");
    make_echo_forms();
    atomic_store(&echo_next, 0);
    mini_srv srv;
    CHECK(mini_start(&srv, echo_handler) == 0);
    echo_run run = {.port = srv.port};
    char *err = capture_stderr(echo_exports, &run);
    char *seen = srv_log_copy(&srv);
    if (getenv("HH_REL_DUMP")) /* to read the log the row graded */
        fputs(err, stdout);
    mini_stop(&srv);

    int requests_seen = (int)(strstr(seen, echo_key) != NULL) + (int)(strstr(seen, echo_hdr) != NULL);
    int failures_logged = 0;
    for (const char *p = err; (p = strstr(p, "HTTP 400")); p++)
        failures_logged++;
    int leaked_forms = 0;
    for (int i = 0; i < echo_nforms; i++) {
        /* Pieces of 8 of the encoded form (4 for the form cut at the snippet's end). */
        size_t min = strlen(echo_encoded[i]) <= 4 ? 0 : 8;
        if (has_piece(err, echo_encoded[i], min)) {
            leaked_forms++;
            CHECK_MSG(0, "form %d (%s) printed: %.300s", i, echo_encoded[i], err);
        }
    }
    int raw_controls = 0;
    for (const unsigned char *p = (const unsigned char *)err; *p; p++) {
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            raw_controls++;
    }
    int forged = strstr(err, "\n[honeyhive tracer 1] warning: FORGED") != NULL ||
                 strncmp(err, "[honeyhive tracer 1] warning: FORGED", 36) == 0;
    /* Shown, escaped (whatever the escape's spelling for ESC). */
    int escaped_shown = strstr(err, "line one\\n[honeyhive tracer 1] warning: FORGED line\\r\\n") != NULL &&
                        strstr(err, "[2J") != NULL;
    figure("key-echo-forms",
           "forms=%d exports=%llu failures_logged=%d leaked_forms=%d raw_control_bytes=%d forged_lines=%d "
           "escaped_body_shown=%d",
           echo_nforms, (unsigned long long)run.stats.export_requests, failures_logged, leaked_forms, raw_controls,
           forged, escaped_shown);
    CHECK_EQ(requests_seen, 2);                  /* both secrets did go to the server */
    CHECK(failures_logged >= echo_nforms);       /* every answer was logged ... */
    CHECK_EQ(leaked_forms, 0);                   /* ... and no form of a secret with it */
    CHECK(!has_piece(err, echo_key, 8) && !has_piece(err, echo_hdr, 8));
    CHECK_EQ(raw_controls, 0);
    CHECK_EQ(forged, 0);
    CHECK_MSG(escaped_shown, "the control characters are not shown escaped: %.2000s", err);
    free(seen);
    free(err);
}

/* ---------------------------------------------------------------------------------------- */
/* Proxies: a loopback proxy that records what it sees. An absolute-form request is answered
 * 200 `{}` by the proxy itself; a CONNECT is accepted, then the first bytes of the tunnel (the
 * TLS ClientHello) are recorded and the connection closed. */

static void proxy_handler(mini_srv *s, int fd, const char *head, const char *body, size_t body_len) {
    (void)body, (void)body_len;
    if (strncmp(head, "CONNECT ", 8) == 0) {
        const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        write_all(fd, ok, sizeof ok - 1);
        char tunnel[4096];
        ssize_t n = read_some(fd, tunnel, sizeof tunnel - 1, 3000);
        if (n > 0) {
            srv_log(s, "TUNNEL:", 7);
            srv_log(s, tunnel, (size_t)n);
            srv_log(s, "\n", 1);
        }
        return;
    }
    const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    write_all(fd, ok, sizeof ok - 1);
}

typedef struct {
    const char *cfg;
    int spans;
    hh_status init, flush;
    hh_stats stats;
} proxy_run;

static void proxy_tracer_run(void *arg) {
    proxy_run *r = arg;
    hh_tracer t = 0;
    hh_error err;
    r->init = hh_tracer_new(r->cfg, &t, &err);
    if (r->init != HH_OK) {
        fprintf(stderr, "init: %s\n", err.message);
        return;
    }
    for (int i = 0; i < r->spans; i++) {
        hh_span s = 0;
        if (hh_span_start(t, "proxy-span", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK)
            IGNORE_STATUS(hh_span_end(s));
    }
    r->flush = hh_tracer_flush(t, 8000);
    memset(&r->stats, 0, sizeof r->stats);
    IGNORE_STATUS(hh_tracer_stats(t, &r->stats));
    IGNORE_STATUS(hh_tracer_close(t, 2000));
}

static void proxies(void) {
    if (!selected("proxy"))
        return;
    TEST_BEGIN("proxies: HTTP_PROXY, NO_PROXY, the proxy key, CONNECT for https");
    mini_srv px;
    CHECK(mini_start(&px, proxy_handler) == 0);
    char env_proxy[128], cfg[768];
    /* 1. HTTP_PROXY (with credentials) and a plain http:// endpoint the test cannot resolve:
     * only a proxy can deliver it, and the library warns about plain http. */
    snprintf(env_proxy, sizeof env_proxy, "http://reluser:rel-pr0xy-pw-77@127.0.0.1:%d", px.port);
    setenv("HTTP_PROXY", env_proxy, 1);
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"px-key-0123456789abcdef\",\"server_url\":\"http://hh-proxy-test.invalid:4318\","
             "\"skip_backend_session_creation\":true,\"session_id\":\"0a0a0a0a-0000-4000-8000-000000000001\","
             "\"schedule_delay_ms\":600000,\"export_timeout_ms\":4000}");
    proxy_run r1 = {.cfg = cfg, .spans = 3};
    char *err1 = capture_stderr(proxy_tracer_run, &r1);
    unsetenv("HTTP_PROXY");
    char *seen1 = srv_log_copy(&px);
    int via_proxy = strstr(seen1, "POST http://hh-proxy-test.invalid:4318/opentelemetry/v1/traces HTTP/1.1") != NULL;
    int auth_to_proxy = strcasestr(seen1, "proxy-authorization: Basic cmVsdXNlcjpyZWwtcHIweHktcHctNzc=") != NULL;
    int warned_plain = strstr(err1, "plain http://") != NULL;
    int route_line = strstr(err1, "go through proxy http://<redacted>@127.0.0.1:") != NULL &&
                     strstr(err1, "(from HTTP_PROXY)") != NULL;
    int pw_printed = strstr(err1, "rel-pr0xy-pw") != NULL;
    figure("proxy-http-env", "init=%s flush=%s exported=%llu via_proxy=%d proxy_auth_sent=%d plain_http_warning=%d "
                             "route_line=%d proxy_password_printed=%d",
           status_str(r1.init), status_str(r1.flush), (unsigned long long)r1.stats.spans_exported, via_proxy,
           auth_to_proxy, warned_plain, route_line, pw_printed);
    CHECK_STATUS(r1.flush, HH_OK);
    CHECK_EQ(r1.stats.spans_exported, 3);
    CHECK(via_proxy);
    CHECK(auth_to_proxy);
    CHECK_MSG(warned_plain, "no plain-http warning: %s", err1);
    CHECK_MSG(route_line, "no route line: %s", err1);
    CHECK_EQ(pw_printed, 0);
    free(seen1);
    free(err1);

    /* 2. NO_PROXY matching 127.0.0.1: the receiver is reached directly, though the proxy key
     * (which, unlike a proxy from the environment, applies to loopback) names a proxy. */
    pthread_mutex_lock(&px.mu);
    int before = px.requests;
    pthread_mutex_unlock(&px.mu);
    rcv_reset(&R);
    setenv("NO_PROXY", "localhost,127.0.0.1", 1);
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"px-key\",\"server_url\":\"%s\",\"proxy\":\"http://127.0.0.1:%d\","
             "\"skip_backend_session_creation\":true,\"session_id\":\"0a0a0a0a-0000-4000-8000-000000000001\",\"schedule_delay_ms\":600000}",
             R.url, px.port);
    proxy_run r2 = {.cfg = cfg, .spans = 2};
    char *err2 = capture_stderr(proxy_tracer_run, &r2);
    unsetenv("NO_PROXY");
    delivery d2 = count_delivery(&R, "proxy-span");
    pthread_mutex_lock(&px.mu);
    int proxy_got = px.requests - before;
    pthread_mutex_unlock(&px.mu);
    figure("proxy-no-proxy", "flush=%s receiver_spans=%zu proxy_requests=%d", status_str(r2.flush),
           d2.unique_accepted, proxy_got);
    CHECK_STATUS(r2.flush, HH_OK);
    CHECK_EQ(d2.unique_accepted, 2);
    CHECK_EQ(proxy_got, 0);
    CHECK_MSG(strstr(err2, "go direct (NO_PROXY excludes it)") != NULL, "no direct route line: %s", err2);
    free(err2);

    /* 2b. A proxy from the environment never carries loopback (a local collector). */
    rcv_reset(&R);
    snprintf(env_proxy, sizeof env_proxy, "http://127.0.0.1:%d", px.port);
    setenv("HTTP_PROXY", env_proxy, 1);
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"px-key\",\"server_url\":\"%s\",\"skip_backend_session_creation\":true,"
             "\"session_id\":\"0a0a0a0a-0000-4000-8000-000000000001\",\"schedule_delay_ms\":600000}",
             R.url);
    proxy_run r2b = {.cfg = cfg, .spans = 2};
    char *err2b = capture_stderr(proxy_tracer_run, &r2b);
    unsetenv("HTTP_PROXY");
    delivery d2b = count_delivery(&R, "proxy-span");
    pthread_mutex_lock(&px.mu);
    int proxy_got_b = px.requests - before;
    pthread_mutex_unlock(&px.mu);
    figure("proxy-loopback-direct", "flush=%s receiver_spans=%zu proxy_requests=%d", status_str(r2b.flush),
           d2b.unique_accepted, proxy_got_b);
    CHECK_STATUS(r2b.flush, HH_OK);
    CHECK_EQ(d2b.unique_accepted, 2);
    CHECK_EQ(proxy_got_b, 0);
    CHECK_MSG(strstr(err2b, "go direct (loopback") != NULL, "no loopback route line: %s", err2b);
    free(err2b);

    /* 3. The proxy config key, over an environment that says otherwise. */
    setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
    snprintf(cfg, sizeof cfg,
             "{\"exporter\":\"otlp\",\"otlp_endpoint\":\"http://hh-proxy-key.invalid/v1/traces\",\"proxy\":\"127.0.0.1:%d\","
             "\"schedule_delay_ms\":600000,\"export_timeout_ms\":4000}",
             px.port);
    proxy_run r3 = {.cfg = cfg, .spans = 1};
    char *err3 = capture_stderr(proxy_tracer_run, &r3);
    unsetenv("HTTP_PROXY");
    char *seen3 = srv_log_copy(&px);
    int via_key = strstr(seen3, "POST http://hh-proxy-key.invalid/v1/traces HTTP/1.1") != NULL;
    figure("proxy-config-key", "flush=%s exported=%llu via_proxy=%d", status_str(r3.flush),
           (unsigned long long)r3.stats.spans_exported, via_key);
    CHECK_STATUS(r3.flush, HH_OK);
    CHECK(via_key);
    free(seen3);
    free(err3);

    /* 4. https through HTTPS_PROXY: a CONNECT tunnel; the key never crosses the proxy in clear
     * (the TLS handshake then fails against this proxy, which is not a TLS server). */
    snprintf(env_proxy, sizeof env_proxy, "http://127.0.0.1:%d", px.port);
    setenv("HTTPS_PROXY", env_proxy, 1);
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"px-tls-key-0123456789\",\"server_url\":\"https://hh-proxy-tls.invalid\","
             "\"skip_backend_session_creation\":true,\"session_id\":\"0a0a0a0a-0000-4000-8000-000000000001\","
             "\"schedule_delay_ms\":600000,\"export_timeout_ms\":1500}");
    proxy_run r4 = {.cfg = cfg, .spans = 1};
    char *err4 = capture_stderr(proxy_tracer_run, &r4);
    unsetenv("HTTPS_PROXY");
    char *seen4 = srv_log_copy(&px);
    int connect = strstr(seen4, "CONNECT hh-proxy-tls.invalid:443 HTTP/1.1") != NULL;
    int tunnel = strstr(seen4, "TUNNEL:") != NULL;
    int key_seen = strstr(seen4, "px-tls-key") != NULL;
    int plain_post = strstr(seen4, "POST https://") != NULL;
    figure("proxy-https-connect", "flush=%s connect=%d tunnel_bytes_seen=%d key_seen_by_proxy=%d plain_post=%d",
           status_str(r4.flush), connect, tunnel, key_seen, plain_post);
    CHECK(connect);
    CHECK(tunnel);
    CHECK_EQ(key_seen, 0);
    CHECK_EQ(plain_post, 0);
    CHECK(r4.flush != HH_OK);
    CHECK_MSG(strstr(err4, "in a CONNECT tunnel") != NULL, "no route line: %s", err4);
    free(seen4);
    free(err4);
    mini_stop(&px);
}

/* ---------------------------------------------------------------------------------------- */
/* Framing headers: a custom header that frames the request or concerns one connection (a
 * `content-length: 5` cut every export to 5 bytes) is refused at init, naming it; ordinary
 * custom headers go out with complete, decodable exports. */

static const char *const framing_names[] = {
    "content-length", "transfer-encoding", "host", "connection", "keep-alive",
    "te",             "trailer",           "upgrade", "expect",
};
#define N_FRAMING ((int)(sizeof framing_names / sizeof framing_names[0]))

/* hh_tracer_new(cfg): 1 when refused with HH_ERR_INVALID_CONFIG and a message naming `name`. */
static int refused_naming(const char *how, const char *cfg, const char *name) {
    hh_tracer t = 0;
    hh_error err;
    memset(&err, 0, sizeof err);
    hh_status st = hh_tracer_new(cfg, &t, &err);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", name);
    int named = st == HH_ERR_INVALID_CONFIG && strcasestr(err.message, quoted) != NULL;
    CHECK_MSG(st == HH_ERR_INVALID_CONFIG, "%s %s: %s", how, name, status_str(st));
    CHECK_MSG(st != HH_ERR_INVALID_CONFIG || named, "%s %s: the message does not name it: %s", how, name,
              err.message);
    if (st == HH_OK) {
        /* The old behaviour: the tracer exported with the header. Show what that did. */
        hh_span s = 0;
        if (hh_span_start(t, "framing-accepted", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK)
            IGNORE_STATUS(hh_span_end(s));
        IGNORE_STATUS(hh_tracer_close(t, 2000));
    }
    return named;
}

static void framing_headers(void) {
    if (!selected("framing-headers"))
        return;
    TEST_BEGIN("framing-headers: framing and hop-by-hop custom headers refused at init, naming the header");
    rcv_reset(&R);
    int cfg_refused = 0, env_refused = 0;
    char otlp_cfg[512];
    snprintf(otlp_cfg, sizeof otlp_cfg,
             "{\"exporter\":\"otlp\",\"otlp_endpoint\":\"%s/v1/traces\",\"schedule_delay_ms\":50}", R.url);
    for (int i = 0; i < N_FRAMING; i++) {
        char extra[256];
        snprintf(extra, sizeof extra, ",\"schedule_delay_ms\":50,\"headers\":{\"x-ok\":\"1\",\"%s\":\"5\"}",
                 framing_names[i]);
        cfg_refused += refused_naming("headers", rel_config(NULL, extra), framing_names[i]);
        char env[128];
        snprintf(env, sizeof env, "x-ok=1,%s=5", framing_names[i]);
        setenv("OTEL_EXPORTER_OTLP_HEADERS", env, 1);
        env_refused += refused_naming("OTEL_EXPORTER_OTLP_HEADERS", otlp_cfg, framing_names[i]);
        unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
    }
    /* What the accepted ones (before) put on the wire. */
    delivery bad = count_delivery(&R, "framing-accepted");

    /* Positive control: an ordinary custom header, in the config and in the environment. */
    rcv_reset(&R);
    const int n = 50;
    hh_tracer t = rel_tracer(NULL, ",\"schedule_delay_ms\":50,\"headers\":{\"x-rel-custom\":\"custom-value\"}");
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-rel-env=env-value", 1);
    hh_tracer te = 0;
    hh_error err;
    memset(&err, 0, sizeof err);
    hh_status est = hh_tracer_new(otlp_cfg, &te, &err);
    unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
    CHECK_MSG(est == HH_OK, "otlp tracer with OTEL_EXPORTER_OTLP_HEADERS=x-rel-env=env-value: %s %s",
              status_str(est), err.message);
    for (int i = 0; i < n; i++) {
        char name[64];
        hh_span s = 0;
        snprintf(name, sizeof name, "framing-ok-%d", i);
        if (t && hh_span_start(t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK)
            CHECK_OK(hh_span_end(s));
        snprintf(name, sizeof name, "framing-env-%d", i);
        if (te && hh_span_start(te, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK)
            CHECK_OK(hh_span_end(s));
    }
    hh_status f = t ? hh_tracer_flush(t, 10000) : HH_ERR_INVALID_ARGUMENT;
    hh_status fe = te ? hh_tracer_flush(te, 10000) : HH_ERR_INVALID_ARGUMENT;
    delivery d = count_delivery(&R, "framing-ok-");
    delivery de = count_delivery(&R, "framing-env-");
    /* Every export request of each tracer: answered 2xx (decoded whole) and with its header. */
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    size_t trace_reqs = 0, trace_ok = 0, with_custom = 0, env_reqs = 0, env_ok = 0, with_env = 0;
    for (size_t i = 0; i < jlen(reqs); i++) {
        const jval *rq = jat(reqs, i);
        const char *path = jstr(jget(rq, "path"));
        if (!path || !strstr(path, "/v1/traces"))
            continue;
        const jval *h = jget(rq, "headers");
        const jval *rs = jget(rq, "response_status");
        int ok = rs && rs->is_int && rs->integer / 100 == 2;
        const char *c = jstr(jget(h, "x-rel-custom")), *e = jstr(jget(h, "x-rel-env"));
        if (strstr(path, "/opentelemetry/")) {
            trace_reqs++;
            trace_ok += ok;
            with_custom += c && strcmp(c, "custom-value") == 0;
        } else {
            env_reqs++;
            env_ok += ok;
            with_env += e && strcmp(e, "env-value") == 0;
        }
    }
    jfree(reqs);
    size_t env_spans = de.unique_accepted;
    if (t)
        IGNORE_STATUS(hh_tracer_close(t, 2000));
    if (te)
        IGNORE_STATUS(hh_tracer_close(te, 2000));
    figure("framing-headers",
           "names=%d config_refused_naming=%d env_refused_naming=%d accepted_spans_sent=%zu "
           "custom_header: flush=%s spans=%zu/%d trace_requests=%zu answered_2xx=%zu with_header=%zu "
           "env_header: flush=%s spans=%zu/%d requests=%zu answered_2xx=%zu with_header=%zu",
           N_FRAMING, cfg_refused, env_refused, bad.attempted_spans, status_str(f), d.unique_accepted, n,
           trace_reqs, trace_ok, with_custom, status_str(fe), env_spans, n, env_reqs, env_ok, with_env);
    CHECK_EQ(cfg_refused, N_FRAMING);
    CHECK_EQ(env_refused, N_FRAMING);
    CHECK_OK(f);
    CHECK_OK(fe);
    CHECK_EQ(d.unique_accepted, n);
    CHECK(trace_reqs > 0);
    CHECK_EQ(trace_ok, trace_reqs);
    CHECK_EQ(with_custom, trace_reqs);
    CHECK_EQ(env_spans, n);
    CHECK(env_reqs > 0);
    CHECK_EQ(env_ok, env_reqs);
    CHECK_EQ(with_env, env_reqs);
}

/* ---------------------------------------------------------------------------------------- */
/* Hostile baggage: what an upstream service puts in `baggage` is not trusted. A session_id that
 * is not a UUID (a path, 10 KB, control characters) falls back to the tracer's default session;
 * a project or source with CR/LF or of 1 KB falls back to the tracer's own. A valid id in capitals
 * is taken, lower-cased. A baggage header over 8 KiB (a 10 KB value) is refused whole. */

static int is_uuid_lower(const char *s) {
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}

static void hostile_baggage(void) {
    if (!selected("hostile-baggage"))
        return;
    TEST_BEGIN("hostile-baggage: bad session_id/project/source in extracted baggage fall back to the tracer's own");
    rcv_reset(&R);
    hh_tracer t = rel_tracer(NULL, ",\"source\":\"rel-source\",\"schedule_delay_ms\":50");
    if (!t)
        return;
    char def[HH_SESSION_ID_BUF_LEN] = "";
    CHECK_OK(hh_tracer_session_id(t, def, sizeof def, NULL));
    CHECK_MSG(is_uuid_lower(def), "the default session is not a UUID: %s", def);
    const char *trace_id = "0af7651916cd43dd8448eb211c80319c";
    const char *tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    static char huge_sid[10300], big_sid[8200], big_project[1100], big_source[1100];
    snprintf(huge_sid, sizeof huge_sid, "session_id=%0*d", 10240, 0);
    snprintf(big_sid, sizeof big_sid, "session_id=%0*d", 8000, 0);
    memcpy(big_project, "project=", 8);
    memset(big_project + 8, 'p', 1024);
    big_project[8 + 1024] = 0;
    memcpy(big_source, "source=", 7);
    memset(big_source + 7, 's', 1024);
    big_source[7 + 1024] = 0;
    static const char *const upper = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
    const struct {
        const char *name, *baggage;
    } cases[] = {
        {"hb-not-uuid", "session_id=not-a-uuid"},
        {"hb-dotdot", "session_id=../../x"},
        {"hb-dotdot-encoded", "honeyhive_session_id=..%2F..%2Fx"},
        {"hb-8kb", big_sid},
        {"hb-control-lf", "session_id=3f2504e0-4f89-41d3-9a0c-0305e82c3301%0Aforged"},
        {"hb-control-esc", "session_id=%1B%5B2J3f2504e0-4f89-41d3-9a0c-0305e82c3301"},
        {"hb-control-nul", "session_id=3f2504e0-4f89-41d3-9a0c-0305e82c%003301"},
        {"hb-project-crlf", "project=evil%0D%0AX-Injected: 1"},
        {"hb-source-crlf", "source=evil%0D%0AX-Injected: 1"},
        {"hb-project-1kb", big_project},
        {"hb-source-1kb", big_source},
    };
    const int n = (int)(sizeof cases / sizeof cases[0]);
    int extracted = 0;
    for (int i = 0; i < n; i++) {
        hh_span remote = 0;
        hh_error err;
        memset(&err, 0, sizeof err);
        hh_status st = hh_tracer_extract(t, tp, cases[i].baggage, &remote, &err);
        CHECK_MSG(st == HH_OK, "%s: extract %s %s", cases[i].name, status_str(st), err.message);
        if (st != HH_OK)
            continue;
        extracted++;
        hh_span s = 0;
        CHECK_OK(hh_span_start(t, cases[i].name, HH_EVENT_TOOL, remote, NULL, NULL, &s, NULL));
        if (s)
            CHECK_OK(hh_span_end(s));
        CHECK_OK(hh_span_end(remote));
    }
    /* A 10 KB value makes the header longer than the 8 KiB extract takes at all: refused whole. */
    hh_span huge = 0;
    hh_status huge_st = hh_tracer_extract(t, tp, huge_sid, &huge, NULL);
    CHECK_STATUS(huge_st, HH_ERR_LIMIT_EXCEEDED);
    if (huge_st == HH_OK) {
        hh_span s = 0;
        CHECK_OK(hh_span_start(t, "hb-10kb", HH_EVENT_TOOL, huge, NULL, NULL, &s, NULL));
        if (s)
            CHECK_OK(hh_span_end(s));
        CHECK_OK(hh_span_end(huge));
    }
    /* A valid id in capitals. */
    char bag[128];
    snprintf(bag, sizeof bag, "session_id=%s", upper);
    hh_span remote = 0, s = 0;
    CHECK_OK(hh_tracer_extract(t, tp, bag, &remote, NULL));
    if (remote) {
        CHECK_OK(hh_span_start(t, "hb-valid-upper", HH_EVENT_TOOL, remote, NULL, NULL, &s, NULL));
        if (s)
            CHECK_OK(hh_span_end(s));
        CHECK_OK(hh_span_end(remote));
    }
    hh_status f = hh_tracer_flush(t, 10000);
    CHECK_OK(f);
    jval *spans = rcv_wait_spans(&R, n + 1, 10000);
    int arrived = 0, default_session = 0, own_project = 0, own_source = 0, under_parent = 0;
    for (int i = 0; i < n; i++) {
        const jval *sp = span_by_name(spans, cases[i].name);
        CHECK_MSG(sp != NULL, "%s not received", cases[i].name);
        if (!sp)
            continue;
        arrived++;
        const char *sid = span_attr_str(sp, "honeyhive.session_id");
        const char *project = span_attr_str(sp, "honeyhive.project");
        const char *source = span_attr_str(sp, "honeyhive.source");
        const char *tid = jgets(sp, "trace_id");
        int d = sid && strcmp(sid, def) == 0, p = project && strcmp(project, "rel") == 0,
            o = source && strcmp(source, "rel-source") == 0, u = tid && strcmp(tid, trace_id) == 0;
        default_session += d;
        own_project += p;
        own_source += o;
        under_parent += u;
        CHECK_MSG(d, "%s: session %.60s on the wire, expected the default %s", cases[i].name, sid ? sid : "(none)",
                  def);
        CHECK_MSG(p, "%s: project %.60s", cases[i].name, project ? project : "(none)");
        CHECK_MSG(o, "%s: source %.60s", cases[i].name, source ? source : "(none)");
        CHECK_MSG(u, "%s: trace %s, not the extracted parent's", cases[i].name, tid ? tid : "(none)");
    }
    const jval *v = span_by_name(spans, "hb-valid-upper");
    const char *vsid = v ? span_attr_str(v, "honeyhive.session_id") : NULL;
    CHECK_MSG(v != NULL, "hb-valid-upper not received");
    CHECK_STR_EQ(vsid ? vsid : "(none)", "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
    char valid_sid[64];
    snprintf(valid_sid, sizeof valid_sid, "%.40s", vsid ? vsid : "(none)");
    jfree(spans);
    hh_stats st;
    memset(&st, 0, sizeof st);
    CHECK_OK(hh_tracer_stats(t, &st));
    figure("hostile-baggage",
           "cases=%d extracted=%d arrived=%d default_session=%d own_project=%d own_source=%d under_parent=%d "
           "baggage_10kb=%s valid_upper_case_session=%s flush=%s",
           n, extracted, arrived, default_session, own_project, own_source, under_parent,
           status_str(huge_st), valid_sid, status_str(f));
    IGNORE_STATUS(hh_tracer_close(t, 2000));
}

void group_security(void) {
    header_injection();
    plain_http_warning();
    key_echo_forms();
    proxies();
    framing_headers();
    hostile_baggage();
}

/* ---------------------------------------------------------------------------------------- */
/* The verbose key-leak run: run.sh sets HH_VERBOSE=true, HH_REL_CANARY, HH_REL_INGEST_CANARY
 * and HH_REL_OUT, captures stdout+stderr, and greps them and the receiver's records. */

static void print_err(const char *what, hh_status st, const hh_error *err) {
    printf("CALL %s -> %s: %s\n", what, status_str(st), st == HH_OK ? "" : err->message);
}

static void print_stats(const char *what, hh_tracer t) {
    hh_stats s;
    memset(&s, 0, sizeof s);
    IGNORE_STATUS(hh_tracer_stats(t, &s));
    printf("STATS %s started=%llu ended=%llu exported=%llu dropped=%llu requests=%llu failures=%llu retries=%llu "
           "rest=%llu rest_failures=%llu queue=%llu\n",
           what, (unsigned long long)s.spans_started, (unsigned long long)s.spans_ended,
           (unsigned long long)s.spans_exported, (unsigned long long)s.spans_dropped,
           (unsigned long long)s.export_requests, (unsigned long long)s.export_failures,
           (unsigned long long)s.export_retries, (unsigned long long)s.rest_calls, (unsigned long long)s.rest_failures,
           (unsigned long long)s.queue_len);
}

static void leak_spans(hh_tracer t, const char *prefix, int n) {
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        hh_span s = 0;
        if (hh_span_start(t, name, HH_EVENT_MODEL, 0, NULL, "{\"model\":\"m\"}", &s, NULL) != HH_OK)
            continue;
        IGNORE_STATUS(hh_span_enrich(s, "{\"inputs\":{\"q\":\"hello\"},\"metrics\":{\"t\":1}}", NULL));
        char tp[HH_TRACEPARENT_BUF_LEN], bag[1024];
        if (hh_span_inject(s, tp, sizeof tp, bag, sizeof bag, NULL) == HH_OK)
            printf("INJECT traceparent=%s baggage=%s\n", tp, bag);
        IGNORE_STATUS(hh_span_end(s));
    }
}

void group_leak(void) {
    const char *key = getenv("HH_REL_CANARY");
    const char *ingest = getenv("HH_REL_INGEST_CANARY");
    const char *out = getenv("HH_REL_OUT");
    if (!key || !ingest || !out) {
        CHECK_MSG(0, "leak: HH_REL_CANARY, HH_REL_INGEST_CANARY and HH_REL_OUT must be set (run.sh does)");
        return;
    }
    TEST_BEGIN("leak: a verbose run with a distinctive key through faults, errors, stats");
    hh_error err;
    char cfg[2048];
    rcv_reset(&R);
    /* A: api_key, verbose, through export and session faults */
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"%s\",\"project\":\"leak\",\"server_url\":\"%s\",\"verbose\":true,\"schedule_delay_ms\":"
             "600000,\"export_timeout_ms\":800,\"api_timeout_ms\":800}",
             key, R.url);
    hh_tracer a = 0;
    hh_status st = hh_tracer_new(cfg, &a, &err);
    print_err("tracer_new(A)", st, &err);
    CHECK_OK(st);
    static const char *faults[] = {
        "{\"mode\":\"status\",\"status\":401,\"times\":1}",
        "{\"mode\":\"status\",\"status\":403,\"times\":1,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"status\",\"status\":500,\"times\":1,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"status\",\"status\":503,\"retry_after\":\"0\",\"times\":2,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"reset\",\"times\":1,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"hang\",\"times\":1,\"path_prefix\":\"/opentelemetry\"}",
        "{\"mode\":\"status\",\"status\":400,\"times\":1,\"path_prefix\":\"/events\"}",
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        rcv_fault(&R, faults[i]);
        char sid[HH_SESSION_ID_BUF_LEN];
        st = hh_session_create(a, "{\"session_name\":\"leak\"}", sid, sizeof sid, &err);
        print_err("session_create", st, &err);
        st = hh_session_enrich(a, st == HH_OK ? sid : NULL, "{\"metadata\":{\"x\":1}}", &err);
        print_err("session_enrich", st, &err);
        leak_spans(a, "leak-a-", 3);
        st = hh_tracer_flush(a, 3000);
        print_err("flush(A)", st, &err);
        print_stats("A", a);
        rcv_clear_fault(&R);
    }
    /* B: an ingestion key (it replaces api_key on the wire) */
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"%s\",\"ingestion_api_key\":\"%s\",\"server_url\":\"%s\",\"verbose\":true,"
             "\"schedule_delay_ms\":600000}",
             key, ingest, R.url);
    hh_tracer b = 0;
    st = hh_tracer_new(cfg, &b, &err);
    print_err("tracer_new(B)", st, &err);
    rcv_fault(&R, "{\"mode\":\"status\",\"status\":401,\"times\":1,\"path_prefix\":\"/opentelemetry\"}");
    leak_spans(b, "leak-b-", 3);
    st = hh_tracer_flush(b, 3000);
    print_err("flush(B)", st, &err);
    print_stats("B", b);
    rcv_clear_fault(&R);
    /* C: nothing listens */
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"%s\",\"server_url\":\"http://127.0.0.1:1\",\"verbose\":true,\"export_timeout_ms\":500,"
             "\"api_timeout_ms\":500,\"schedule_delay_ms\":600000}",
             key);
    hh_tracer c = 0;
    st = hh_tracer_new(cfg, &c, &err);
    print_err("tracer_new(C)", st, &err);
    leak_spans(c, "leak-c-", 2);
    st = hh_tracer_flush(c, 3000);
    print_err("flush(C)", st, &err);
    print_stats("C", c);
    /* D: the console exporter, with the key configured */
    snprintf(cfg, sizeof cfg, "{\"api_key\":\"%s\",\"exporter\":\"console\",\"verbose\":true}", key);
    hh_tracer d = 0;
    st = hh_tracer_new(cfg, &d, &err);
    print_err("tracer_new(D console)", st, &err);
    leak_spans(d, "leak-d-", 2);
    st = hh_tracer_flush(d, 3000);
    print_err("flush(D)", st, &err);
    /* Invalid configurations that carry the key: their messages */
    const char *bad[] = {
        "{\"api_key\":\"%s\\r\\nX-Injected: 1\"}",
        "{\"api_key\":\"%s\",\"ingestion_api_key\":\"%s\"}",
        "{\"api_key\":\"%s\",\"ingestion_api_key\":\"%s\\n\"}",
        "{\"api_key\":\"%s\",\"project\":5}",
        "{\"api_key\":\"%s\",\"server_url\":\"ftp://x\"}",
        "{\"api_key\":\"%s\",\"otlp_protocol\":\"grpc\"}",
        "{\"api_key\":\"%s\" \"project\":\"p\"}",
        "{\"api_key\":\"%s\",\"headers\":{\"authorization\":\"Bearer %s\\r\\n\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cfg, sizeof cfg, bad[i], key, key);
        hh_tracer x = 0;
        st = hh_tracer_new(cfg, &x, &err);
        print_err("tracer_new(invalid)", st, &err);
        CHECK_MSG(st != HH_OK, "invalid config %zu accepted", i);
        if (st == HH_OK)
            IGNORE_STATUS(hh_tracer_close(x, 100));
    }
    setenv("HH_API_KEY", key, 1);
    setenv("HH_INGESTION_API_KEY", key, 1); /* malformed */
    hh_tracer e = 0;
    st = hh_tracer_new(NULL, &e, &err);
    print_err("tracer_new(env, malformed ingestion key)", st, &err);
    unsetenv("HH_INGESTION_API_KEY");
    unsetenv("HH_API_KEY");
    st = hh_test_panic(&err);
    print_err("test_panic", st, &err);
    /* Close everything (verbose close paths too). */
    print_err("close(A)", hh_tracer_close(a, 3000), &err);
    print_err("close(B)", hh_tracer_close(b, 3000), &err);
    print_err("close(C)", hh_tracer_close(c, 1000), &err);
    print_err("close(D)", hh_tracer_close(d, 1000), &err);
    print_stats("A-closed", a);
    /* The receiver's records, for run.sh to grep (minus Authorization). */
    int status = 0;
    char *body = http_request(R.port, "GET", "/__hh/requests", NULL, &status);
    char path[1024];
    snprintf(path, sizeof path, "%s/leak-requests.json", out);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && body != NULL);
    if (f && body) {
        fputs(body, f);
        fclose(f);
    }
    free(body);
    fflush(stdout);
}

/* ---------------------------------------------------------------------------------------- */
/* TLS: certificate verification is on by default. */

void group_tls(void) {
    const char *url = getenv("HH_REL_TLS_URL");
    if (!url) {
        CHECK_MSG(0, "tls: HH_REL_TLS_URL must be set (run.sh starts the server)");
        return;
    }
    int expect_ok = getenv("HH_REL_TLS_EXPECT_OK") != NULL;
    TEST_BEGIN(expect_ok ? "tls: the server's CA trusted through SSL_CERT_FILE (control)" : "tls: a certificate from an unknown CA is refused");
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"tls-key\",\"server_url\":\"%s\",\"schedule_delay_ms\":600000,\"export_timeout_ms\":3000,"
             "\"api_timeout_ms\":2000}",
             url);
    hh_tracer t = 0;
    hh_error err;
    CHECK_OK(hh_tracer_new(cfg, &t, &err));
    for (int i = 0; i < 10; i++) {
        hh_span s = 0;
        CHECK_OK(hh_span_start(t, "tls-span", HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL));
        CHECK_OK(hh_span_end(s));
    }
    double t0 = now_ms();
    hh_status fst = hh_tracer_flush(t, 15000);
    double ms = now_ms() - t0;
    hh_stats s;
    CHECK_OK(hh_tracer_stats(t, &s));
    figure(expect_ok ? "tls-trusted-ca-control" : "tls-untrusted-ca",
           "flush=%s flush_ms=%.0f exported=%llu dropped=%llu export_failures=%llu retries=%llu rest_failures=%llu",
           status_str(fst), ms, (unsigned long long)s.spans_exported, (unsigned long long)s.spans_dropped,
           (unsigned long long)s.export_failures, (unsigned long long)s.export_retries,
           (unsigned long long)s.rest_failures);
    if (expect_ok) {
        CHECK_STATUS(fst, HH_OK);
        CHECK_EQ(s.spans_exported, 10);
    } else {
        CHECK_STATUS(fst, HH_ERR_EXPORT_FAILED);
        CHECK_EQ(s.spans_exported, 0);
        CHECK_EQ(s.spans_dropped, 10);
        CHECK(s.export_failures >= 1);
        CHECK_EQ(s.rest_failures, 1);
    }
    IGNORE_STATUS(hh_tracer_close(t, 1000));
}
