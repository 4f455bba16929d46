/* Events by id through the C ABI (hh_event_create, hh_event_enrich), update_event_id in span
 * enrichment, and the OTLP resource (including a forked child's own process.pid), asserted on
 * what the receiver got. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static const jval *resource_of(const jval *span) { return jget(span, "resource"); }

static void create_and_enrich(void) {
    TEST_BEGIN("events: hh_event_create sends the SDK's body with the id it returns; hh_event_enrich follows it");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"source\":\"ev-source\"");
    char sid[HH_SESSION_ID_BUF_LEN];
    CHECK_OK(hh_tracer_session_id(t, sid, sizeof sid, NULL));
    char id[HH_EVENT_ID_BUF_LEN];
    hh_error err;
    memset(&err, 0, sizeof err);
    CHECK_OK(hh_event_create(t,
                             "{\"event_name\":\"retrieval\",\"event_type\":\"tool\",\"inputs\":{\"q\":\"x\"},"
                             "\"outputs\":{\"docs\":2},\"metadata\":{\"m\":1},\"duration\":7.5}",
                             id, sizeof id, &err));
    CHECK_EQ(strlen(id), 36);
    CHECK_OK(hh_event_enrich(t, id, "{\"feedback\":{\"rating\":5},\"inputs\":{\"late\":true}}", NULL));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));

    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    CHECK_EQ(requests_count(reqs, "POST", "/events"), 1);
    const jval *post = request_find(reqs, "POST", "/events", NULL, NULL);
    const jval *ev = jget(jget(post, "body_json"), "event");
    CHECK_STR_EQ(jgets(ev, "event_id"), id);
    CHECK_STR_EQ(jgets(ev, "session_id"), sid);
    CHECK_STR_EQ(jgets(ev, "project"), "p");
    CHECK_STR_EQ(jgets(ev, "source"), "ev-source");
    CHECK_STR_EQ(jgets(ev, "event_name"), "retrieval");
    CHECK_STR_EQ(jgets(ev, "event_type"), "tool");
    CHECK_STR_EQ(jgets(jget(ev, "inputs"), "q"), "x");
    CHECK(jint_is(jget(jget(ev, "outputs"), "docs"), 2));
    CHECK(jint_is(jget(jget(ev, "metadata"), "m"), 1));
    CHECK(jdouble_is(jget(ev, "duration"), 7.5));
    CHECK_EQ(jlen(jget(ev, "config")), 0);
    CHECK(jint_is(jget(post, "response_status"), 200));

    const jval *put = request_find(reqs, "PUT", "/events", "event_id", id);
    CHECK(put != NULL);
    const jval *body = jget(put, "body_json");
    CHECK(jint_is(jget(jget(body, "feedback"), "rating"), 5));
    CHECK(jbool_is(jget(jget(jget(body, "metadata"), "inputs"), "late"), 1));
    CHECK(jget(post, "seq")->integer < jget(put, "seq")->integer);
    jfree(reqs);
    close_tracer(t);
}

static void abuse(void) {
    TEST_BEGIN("events: NULLs, small buffers, bad JSON, bad ids, stale handles: a clear status, nothing sent");
    rcv_reset(&R);
    hh_tracer t = new_tracer(NULL);
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    char id[HH_EVENT_ID_BUF_LEN];
    char small[8];
    CHECK_STATUS(hh_event_create(t, NULL, id, sizeof id, NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_event_create(t, "{}", NULL, sizeof id, NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_event_create(t, "{}", small, sizeof small, NULL), HH_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(hh_event_create(t, "{", id, sizeof id, NULL), HH_ERR_INVALID_JSON);
    CHECK_STATUS(hh_event_create(t, "{\"event_type\":\"bogus\"}", id, sizeof id, NULL), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_event_create(t, "{\"session_id\":\"nope\"}", id, sizeof id, NULL), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_event_create(t, "{\"inputs\":[1]}", id, sizeof id, NULL), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_event_create(t, "\xff\xfe", id, sizeof id, NULL), HH_ERR_INVALID_UTF8);
    CHECK_STATUS(hh_event_create(0, "{}", id, sizeof id, NULL), HH_ERR_INVALID_HANDLE);
    CHECK_STATUS(hh_event_create(t + 12345, "{}", id, sizeof id, NULL), HH_ERR_INVALID_HANDLE);
    CHECK_STATUS(hh_event_enrich(t, NULL, "{}", NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_event_enrich(t, "11111111-2222-4333-8444-555555555555", NULL, NULL), HH_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hh_event_enrich(t, "not-a-uuid", "{\"metadata\":{\"a\":1}}", NULL), HH_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hh_event_enrich(t, "11111111-2222-4333-8444-555555555555", "[", NULL), HH_ERR_INVALID_JSON);
    hh_error err;
    memset(&err, 0, sizeof err);
    CHECK_STATUS(hh_event_create(t, "{\"project\":\"other\"}", id, sizeof id, &err), HH_ERR_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "project") != NULL);
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *reqs = rcv_get_json(&R, "/__hh/requests");
    CHECK_EQ(requests_count(reqs, "POST", "/events"), 0);
    CHECK_EQ(requests_count(reqs, "PUT", "/events"), 0);
    jfree(reqs);
    close_tracer(t);
    CHECK_STATUS(hh_event_create(t, "{}", id, sizeof id, NULL), HH_ERR_TRACER_CLOSED);
    CHECK_STATUS(hh_event_enrich(t, "11111111-2222-4333-8444-555555555555", "{\"metadata\":{\"a\":1}}", NULL),
                 HH_ERR_TRACER_CLOSED);
}

static void hostile_answer(void) {
    TEST_BEGIN("events: a POST /events that never answers blocks neither the caller nor spans");
    rcv_reset(&R);
    hh_tracer t = new_tracer(",\"api_timeout_ms\":1000");
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    rcv_fault(&R, "{\"mode\":\"hang\",\"path_prefix\":\"/events\"}");
    char id[HH_EVENT_ID_BUF_LEN];
    CHECK_OK(hh_event_create(t, "{\"event_name\":\"stuck\"}", id, sizeof id, NULL));
    hh_span s = start_span(t, "goes-anyway", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s));
    jval *spans = rcv_wait_spans(&R, 1, scaled_ms(10000));
    CHECK_EQ(spans_named(spans, "goes-anyway"), 1);
    jfree(spans);
    /* The hung call ends at its timeout: counted, and the flush says something was lost. */
    CHECK_STATUS(hh_tracer_flush(t, (uint32_t)scaled_ms(20000)), HH_ERR_EXPORT_FAILED);
    hh_stats st;
    CHECK_OK(hh_tracer_stats(t, &st));
    CHECK_EQ(st.rest_failures, 1);
    CHECK_EQ(st.spans_exported, 1);
    rcv_clear_fault(&R);
    IGNORE_STATUS(hh_tracer_close(t, (uint32_t)scaled_ms(10000)));
}

static void update_event_id(void) {
    TEST_BEGIN("events: update_event_id in span enrichment sets honeyhive_event_id");
    rcv_reset(&R);
    hh_tracer t = new_tracer(NULL);
    hh_span s = start_span(t, "with-event-id", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_enrich(s, "{\"update_event_id\":\"11111111-2222-4333-8444-555555555555\"}", NULL));
    CHECK_OK(hh_span_end(s));
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    jval *spans = rcv_wait_spans(&R, 1, scaled_ms(10000));
    const jval *sp = span_by_name(spans, "with-event-id");
    CHECK_STR_EQ(span_attr_str(sp, "honeyhive_event_id"), "11111111-2222-4333-8444-555555555555");
    CHECK(span_attr(sp, "honeyhive_metadata.update_event_id") == NULL);
    jfree(spans);
    close_tracer(t);
}

static void resource_and_fork(void) {
    TEST_BEGIN("resource: OpenTelemetry's attributes; a forked child exports with its own process.pid");
    rcv_reset(&R);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci,team=a%2Cb", 1);
    hh_tracer t = new_tracer(",\"service_name\":\"c-tests\",\"resource_attributes\":{\"team\":\"core\"}");
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
    hh_span s = start_span(t, "in-parent", HH_EVENT_TOOL, 0, NULL);
    CHECK_OK(hh_span_end(s));
    /* The parent's worker runs before the fork. */
    CHECK_OK(hh_tracer_flush(t, (uint32_t)scaled_ms(10000)));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int code = 0;
        hh_span c = 0;
        if (hh_span_start(t, "in-child", HH_EVENT_TOOL, 0, NULL, NULL, &c, NULL) != HH_OK)
            code |= 1;
        if (hh_span_end(c) != HH_OK)
            code |= 2;
        if (hh_tracer_flush(t, (uint32_t)scaled_ms(10000)) != HH_OK)
            code |= 4;
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
    CHECK_MSG(waited && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit status %d",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    jval *spans = rcv_wait_spans(&R, 2, scaled_ms(10000));
    const jval *parent = resource_of(span_by_name(spans, "in-parent"));
    const jval *child = resource_of(span_by_name(spans, "in-child"));
    CHECK(parent != NULL && child != NULL);
    CHECK(jint_is(jget(parent, "process.pid"), (long long)getpid()));
    CHECK(jint_is(jget(child, "process.pid"), (long long)pid));
    CHECK_STR_EQ(jgets(parent, "service.name"), "c-tests");
    CHECK_STR_EQ(jgets(parent, "process.runtime.name"), "c");
    CHECK_STR_EQ(jgets(parent, "telemetry.sdk.name"), "libhoneyhive");
    CHECK_STR_EQ(jgets(parent, "telemetry.sdk.version"), hh_version());
    CHECK_STR_EQ(jgets(parent, "deployment.environment"), "ci");
    CHECK_STR_EQ(jgets(parent, "team"), "core");
    CHECK(jgets(parent, "os.type") != NULL && jgets(parent, "host.arch") != NULL);
    CHECK_EQ(strlen(jgets(parent, "service.instance.id") ? jgets(parent, "service.instance.id") : ""), 36);
    jfree(spans);
    close_tracer(t);
}

/* Occurrences of `needle` in `hay`. */
static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void sdk_config_keys(void) {
    TEST_BEGIN("config: the Python SDK's keys without meaning here are accepted with a one-time notice; unknown keys still fail");
    /* What the tracers print on stderr, read back (a temporary file behind fd 2). */
    fflush(stderr);
    FILE *captured = tmpfile();
    int saved = dup(2);
    CHECK(captured != NULL && saved >= 0);
    if (!captured || saved < 0)
        return;
    CHECK(dup2(fileno(captured), 2) >= 0);
    hh_tracer t = new_tracer(",\"disable_http_tracing\":true,\"cache_enabled\":false");
    hh_tracer again = new_tracer(",\"disable_http_tracing\":false");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char text[8192];
    rewind(captured);
    size_t n = fread(text, 1, sizeof text - 1, captured);
    text[n] = '\0';
    fclose(captured);
    CHECK(t != 0 && again != 0);
    CHECK_MSG(count_of(text, "config key `disable_http_tracing` (of the Python SDK) has no effect") == 1,
              "stderr: %s", text);
    CHECK_MSG(count_of(text, "config key `cache_enabled` (of the Python SDK) has no effect") == 1, "stderr: %s",
              text);
    if (t)
        close_tracer(t);
    if (again)
        close_tracer(again);
    hh_tracer bad = 0;
    CHECK_STATUS(hh_tracer_new(config_json(",\"disable_http_tracin\":true"), &bad, NULL), HH_ERR_INVALID_CONFIG);
}

void test_events(void) {
    create_and_enrich();
    abuse();
    hostile_answer();
    update_event_id();
    resource_and_fork();
    sdk_config_keys();
}
