/* The shared loopback test receiver (hh-receiver), started as a child process, and a minimal
 * raw-socket HTTP/1.1 client for its control endpoints (no libcurl).
 */
#ifndef HH_TEST_RECEIVER_H
#define HH_TEST_RECEIVER_H

#include <stddef.h>
#include <sys/types.h>

#include "minijson.h"

typedef struct {
    pid_t pid;
    int stdin_fd;  /* closing it stops the receiver (--exit-on-stdin-eof) */
    int stdout_fd; /* kept open: the receiver must never see a closed stdout */
    int port;
    char url[256]; /* http://127.0.0.1:PORT */
} receiver;

/* Starts hh-receiver (env HH_RECEIVER_BIN, else <repo>/target/release/hh-receiver) and reads
 * its HH_RECEIVER_URL line. Returns 0 on success. */
int rcv_start(receiver *r);
/* Closes its stdin and reaps it (SIGTERM after 5 s if it has not exited). */
void rcv_stop(receiver *r);

/* One HTTP request to the receiver; returns the malloc'd response body (NUL-terminated) or
 * NULL on a transport error. `*status` receives the HTTP status when not NULL. */
char *http_request(int port, const char *method, const char *path, const char *body, int *status);

/* GET `path` and parse the JSON answer (NULL on error). */
jval *rcv_get_json(const receiver *r, const char *path);
/* POST /__hh/reset. */
void rcv_reset(const receiver *r);
/* POST /__hh/fault with a JSON body; POST /__hh/clear_fault. */
void rcv_fault(const receiver *r, const char *fault_json);
void rcv_clear_fault(const receiver *r);
/* GET /__hh/wait?spans=N (or requests=N) with a timeout; returns the parsed array. */
jval *rcv_wait_spans(const receiver *r, int n, int timeout_ms);
jval *rcv_wait_requests(const receiver *r, int n, int timeout_ms);

/* Span helpers over the /__hh/spans array. */
const jval *span_by_name(const jval *spans, const char *name);
size_t spans_named(const jval *spans, const char *name);
const jval *span_by_id(const jval *spans, const char *span_id);
const jval *span_attr(const jval *span, const char *key);
const char *span_attr_str(const jval *span, const char *key);
/* Spans whose attribute `key` is the string `value`. */
size_t spans_with_attr(const jval *spans, const char *key, const char *value);

/* Request helpers over the /__hh/requests array: the first request with this method and path
 * whose body_json has string `field` (a top-level key, or "session.<key>") equal to `value`
 * (field NULL: any). */
const jval *request_find(const jval *requests, const char *method, const char *path, const char *field,
                         const char *value);
size_t requests_count(const jval *requests, const char *method, const char *path);

/* Wall-clock timeouts are multiplied by HH_CTEST_TIMEOUT_SCALE (valgrind runs set it). */
int scaled_ms(int ms);

#endif
