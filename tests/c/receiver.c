#define _GNU_SOURCE
#include "receiver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef HH_REPO_ROOT
#define HH_REPO_ROOT "."
#endif

int scaled_ms(int ms) {
    const char *s = getenv("HH_CTEST_TIMEOUT_SCALE");
    int scale = s ? atoi(s) : 1;
    if (scale < 1)
        scale = 1;
    return ms * scale;
}

int rcv_start(receiver *r) {
    memset(r, 0, sizeof *r);
    char path[4096];
    const char *bin = getenv("HH_RECEIVER_BIN");
    if (bin && *bin) {
        snprintf(path, sizeof path, "%s", bin);
    } else {
        snprintf(path, sizeof path, "%s/target/release/hh-receiver", HH_REPO_ROOT);
    }
    int in_pipe[2], out_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) {
        perror("pipe2");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        execl(path, path, "--exit-on-stdin-eof", (char *)NULL);
        fprintf(stderr, "cannot exec %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    r->pid = pid;
    r->stdin_fd = in_pipe[1];
    r->stdout_fd = out_pipe[0];

    /* Read the first line: HH_RECEIVER_URL=http://127.0.0.1:PORT */
    char line[256];
    size_t n = 0;
    while (n < sizeof line - 1) {
        struct pollfd pfd = {r->stdout_fd, POLLIN, 0};
        if (poll(&pfd, 1, scaled_ms(10000)) <= 0)
            break;
        ssize_t got = read(r->stdout_fd, line + n, 1);
        if (got <= 0)
            break;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    const char *prefix = "HH_RECEIVER_URL=";
    if (strncmp(line, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "hh-receiver (%s) did not announce its URL (got \"%s\")\n", path, line);
        rcv_stop(r);
        return -1;
    }
    snprintf(r->url, sizeof r->url, "%s", line + strlen(prefix));
    const char *colon = strrchr(r->url, ':');
    r->port = colon ? atoi(colon + 1) : 0;
    return r->port > 0 ? 0 : -1;
}

void rcv_stop(receiver *r) {
    if (r->pid <= 0)
        return;
    close(r->stdin_fd);
    int status;
    for (int i = 0; i < 500; i++) {
        if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
            r->pid = 0;
            break;
        }
        usleep(10000);
    }
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, &status, 0);
        r->pid = 0;
    }
    close(r->stdout_fd);
}

static int send_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

char *http_request(int port, const char *method, const char *path, const char *body, int *status) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return NULL;
    }
    size_t body_len = body ? strlen(body) : 0;
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                      method, path, port, body_len);
    if (send_all(fd, head, (size_t)hn) != 0 || (body_len && send_all(fd, body, body_len) != 0)) {
        close(fd);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return NULL;
    }
    long content_length = -1;
    char *body_start = NULL;
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                close(fd);
                return NULL;
            }
            buf = nb;
            if (body_start) /* re-derive after realloc */
                body_start = NULL;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
        if (content_length < 0) {
            char *end = strstr(buf, "\r\n\r\n");
            if (end) {
                const char *cl = strcasestr(buf, "\r\ncontent-length:");
                if (cl && cl < end)
                    content_length = strtol(cl + 17, NULL, 10);
            }
        }
        if (content_length >= 0) {
            char *end = strstr(buf, "\r\n\r\n");
            if (end && (long)(len - (size_t)(end + 4 - buf)) >= content_length)
                break;
        }
    }
    close(fd);
    buf[len] = 0;
    char *end = strstr(buf, "\r\n\r\n");
    if (!end || strncmp(buf, "HTTP/1.", 7) != 0) {
        free(buf);
        return NULL;
    }
    if (status)
        *status = atoi(buf + 9);
    body_start = end + 4;
    size_t blen = len - (size_t)(body_start - buf);
    if (content_length >= 0 && (size_t)content_length < blen)
        blen = (size_t)content_length;
    memmove(buf, body_start, blen);
    buf[blen] = 0;
    return buf;
}

jval *rcv_get_json(const receiver *r, const char *path) {
    int status = 0;
    char *body = http_request(r->port, "GET", path, NULL, &status);
    if (!body)
        return NULL;
    jval *v = status == 200 ? jparse(body) : NULL;
    if (!v)
        fprintf(stderr, "receiver: GET %s -> %d, unparseable answer\n", path, status);
    free(body);
    return v;
}

static void post(const receiver *r, const char *path, const char *body) {
    int status = 0;
    char *answer = http_request(r->port, "POST", path, body, &status);
    if (!answer || status != 200)
        fprintf(stderr, "receiver: POST %s -> %d\n", path, status);
    free(answer);
}

void rcv_reset(const receiver *r) {
    post(r, "/__hh/reset", NULL);
}

void rcv_fault(const receiver *r, const char *fault_json) {
    post(r, "/__hh/fault", fault_json);
}

void rcv_clear_fault(const receiver *r) {
    post(r, "/__hh/clear_fault", NULL);
}

jval *rcv_wait_spans(const receiver *r, int n, int timeout_ms) {
    char path[128];
    snprintf(path, sizeof path, "/__hh/wait?spans=%d&timeout_ms=%d", n, scaled_ms(timeout_ms));
    return rcv_get_json(r, path);
}

jval *rcv_wait_requests(const receiver *r, int n, int timeout_ms) {
    char path[128];
    snprintf(path, sizeof path, "/__hh/wait?requests=%d&timeout_ms=%d", n, scaled_ms(timeout_ms));
    return rcv_get_json(r, path);
}

const jval *span_by_name(const jval *spans, const char *name) {
    for (size_t i = 0; i < jlen(spans); i++) {
        const char *n = jgets(jat(spans, i), "name");
        if (n && strcmp(n, name) == 0)
            return jat(spans, i);
    }
    return NULL;
}

size_t spans_named(const jval *spans, const char *name) {
    size_t count = 0;
    for (size_t i = 0; i < jlen(spans); i++) {
        const char *n = jgets(jat(spans, i), "name");
        if (n && strcmp(n, name) == 0)
            count++;
    }
    return count;
}

const jval *span_by_id(const jval *spans, const char *span_id) {
    for (size_t i = 0; i < jlen(spans); i++) {
        const char *id = jgets(jat(spans, i), "span_id");
        if (id && span_id && strcmp(id, span_id) == 0)
            return jat(spans, i);
    }
    return NULL;
}

const jval *span_attr(const jval *span, const char *key) {
    return jget(jget(span, "attributes"), key);
}

const char *span_attr_str(const jval *span, const char *key) {
    return jstr(span_attr(span, key));
}

size_t spans_with_attr(const jval *spans, const char *key, const char *value) {
    size_t count = 0;
    for (size_t i = 0; i < jlen(spans); i++) {
        const char *v = span_attr_str(jat(spans, i), key);
        if (v && strcmp(v, value) == 0)
            count++;
    }
    return count;
}

static int path_matches(const jval *req, const char *method, const char *path) {
    const char *m = jgets(req, "method");
    const char *p = jgets(req, "path");
    return m && p && strcmp(m, method) == 0 && strcmp(p, path) == 0;
}

const jval *request_find(const jval *requests, const char *method, const char *path, const char *field,
                         const char *value) {
    for (size_t i = 0; i < jlen(requests); i++) {
        const jval *req = jat(requests, i);
        if (!path_matches(req, method, path))
            continue;
        if (!field)
            return req;
        const jval *body = jget(req, "body_json");
        const char *v;
        if (strncmp(field, "session.", 8) == 0)
            v = jgets(jget(body, "session"), field + 8);
        else
            v = jgets(body, field);
        if (v && value && strcmp(v, value) == 0)
            return req;
    }
    return NULL;
}

size_t requests_count(const jval *requests, const char *method, const char *path) {
    size_t count = 0;
    for (size_t i = 0; i < jlen(requests); i++)
        if (path_matches(jat(requests, i), method, path))
            count++;
    return count;
}
