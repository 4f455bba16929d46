/* Shared state and helpers of the C test program. */
#ifndef HH_TEST_COMMON_H
#define HH_TEST_COMMON_H

#include "harness.h"
#include "receiver.h"

/* The receiver every test talks to (started by main). */
extern receiver R;
/* 1 when HH_CTEST_REDUCED is set (valgrind runs): smaller thread and span counts. */
extern int reduced;

/* Writes the standard config, `{"api_key":"test-key","project":"p","server_url":<R>,
 * "schedule_delay_ms":50` + `extra` (",\"key\":value" pairs or "") + `}`, into a static
 * buffer per call site: copy it if you need two at once. */
const char *config_json(const char *extra);
/* hh_tracer_new(config_json(extra)); a failed CHECK and 0 on error. */
hh_tracer new_tracer(const char *extra);
/* hh_span_start with err reporting; 0 on error (and a failed CHECK). */
hh_span start_span(hh_tracer t, const char *name, hh_event_type type, hh_span parent, const char *session_id);
/* Closes with a generous timeout and CHECKs HH_OK. */
void close_tracer(hh_tracer t);
/* The 16-hex span id and 32-hex trace id of a span, from its traceparent. */
void span_ids(hh_span s, char trace_id[33], char span_id[17]);

void test_wire(void);
void test_abuse(void);
void test_panic(void);
void test_threads(void);
void test_fork(void);
/* test_fork_sessions.c (run by test_fork) */
void test_fork_sessions(void);
void test_span_model(void);
void test_events(void);
void test_log(void);

#endif
