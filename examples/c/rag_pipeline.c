/* rag_pipeline.c -- a small retrieval-augmented generation pipeline traced with libhoneyhive.
 *
 * Everything is simulated and deterministic (a tiny in-memory corpus, a fake LLM, a real
 * calculator), with a few milliseconds of sleep per step so durations are visible.
 *
 * Configuration comes ONLY from HH_* environment variables (hh_tracer_new(NULL, ...)):
 *   HH_API_KEY=... [HH_PROJECT=...]            send to HoneyHive
 *   HH_EXPORTER=file HH_EXPORT_FILE=out.jsonl  write OTLP/JSON lines locally (view with tools/hh-view)
 *   HH_EXPORTER=console                        print spans to stderr
 *
 * Build: gcc -std=c11 -Wall -Wextra -pedantic -Iinclude examples/c/rag_pipeline.c \
 *            -Ltarget/release -Wl,-rpath,$PWD/target/release -lhoneyhive -o build/rag_pipeline
 * Run:   HH_EXPORTER=file HH_EXPORT_FILE=/tmp/rag.jsonl build/rag_pipeline ["question"]
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "honeyhive.h"

/* Telemetry must never take the application down: report and carry on. */
static int telemetry_warnings;
static void check(hh_status st, const char *what) {
    if (st != HH_OK) {
        telemetry_warnings++;
        fprintf(stderr, "rag_pipeline: warning: %s: %s\n", what, hh_status_name((int32_t)st));
    }
}
#define CHECK_HH(expr) check((expr), #expr)

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Escapes `in` as the inside of a JSON string. */
static void json_escape(const char *in, char *out, size_t cap) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 7 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n] = 0;
}

/* ---- the simulated world --------------------------------------------------------------- */

typedef struct {
    const char *id;
    const char *text;
} document;

static const document CORPUS[] = {
    {"doc-paris", "Paris is the capital and largest city of France."},
    {"doc-berlin", "Berlin is the capital of Germany."},
    {"doc-eiffel", "The Eiffel Tower in Paris was completed in 1889."},
    {"doc-arith", "Multiplication: 17 times 23 is computed with a calculator tool."},
    {"doc-rome", "Rome is the capital of Italy."},
};
#define CORPUS_LEN (sizeof CORPUS / sizeof CORPUS[0])

typedef struct {
    size_t index;
    int score;
} hit;

static int word_in(const char *word, const char *text) {
    size_t wl = strlen(word);
    for (const char *p = text; *p; p++) {
        size_t i = 0;
        while (i < wl && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)word[i]))
            i++;
        if (i == wl)
            return 1;
    }
    return 0;
}

/* Scores each document by the number of question words (4+ letters) it contains. */
static size_t retrieve(const char *question, hit *hits, size_t top_k) {
    hit all[CORPUS_LEN];
    for (size_t d = 0; d < CORPUS_LEN; d++) {
        all[d].index = d;
        all[d].score = 0;
        char word[64];
        size_t wl = 0;
        for (const char *p = question;; p++) {
            if (isalnum((unsigned char)*p) && wl < sizeof word - 1) {
                word[wl++] = *p;
                continue;
            }
            word[wl] = 0;
            if (wl >= 4 && word_in(word, CORPUS[d].text))
                all[d].score++;
            wl = 0;
            if (!*p)
                break;
        }
    }
    /* Stable selection sort by score, best first. */
    for (size_t i = 0; i < CORPUS_LEN; i++)
        for (size_t j = i + 1; j < CORPUS_LEN; j++)
            if (all[j].score > all[i].score) {
                hit tmp = all[i];
                all[i] = all[j];
                all[j] = tmp;
            }
    size_t n = 0;
    for (size_t i = 0; i < CORPUS_LEN && n < top_k; i++)
        if (all[i].score > 0)
            hits[n++] = all[i];
    return n;
}

/* Finds "<a> <op> <b>" (e.g. "17 * 23") in the text. Returns 1 and fills the parts if found. */
static int find_arithmetic(const char *text, long *a, char *op, long *b) {
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > text && isdigit((unsigned char)p[-1])))
            continue;
        char *end;
        long x = strtol(p, &end, 10);
        while (*end == ' ')
            end++;
        if (!strchr("+-*/x", *end) || !*end)
            continue;
        char o = *end == 'x' ? '*' : *end;
        const char *q = end + 1;
        while (*q == ' ')
            q++;
        if (!isdigit((unsigned char)*q))
            continue;
        *a = x;
        *op = o;
        *b = strtol(q, NULL, 10);
        return 1;
    }
    return 0;
}

static int calculate(long a, char op, long b, long *out) {
    switch (op) {
    case '+': *out = a + b; return 1;
    case '-': *out = a - b; return 1;
    case '*': *out = a * b; return 1;
    case '/':
        if (b == 0)
            return 0;
        *out = a / b;
        return 1;
    default: return 0;
    }
}

static int count_tokens(const char *s) {
    int n = 0, in_word = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            n++;
        }
    }
    return n;
}

/* ---- the pipeline -------------------------------------------------------------------- */

int main(int argc, char **argv) {
    const char *question = argc > 1 ? argv[1] : "What is the capital of France, and what is 17 * 23?";
    char q_esc[1024];
    json_escape(question, q_esc, sizeof q_esc);

    hh_tracer tracer = 0;
    hh_error err;
    memset(&err, 0, sizeof err);
    hh_status st = hh_tracer_new(NULL, &tracer, &err); /* HH_* environment only */
    if (st != HH_OK) {
        fprintf(stderr, "rag_pipeline: cannot initialise tracing (%s): %s\n", hh_status_name((int32_t)st), err.message);
        return 1;
    }

    /* One session per request/conversation. */
    char session_id[HH_SESSION_ID_BUF_LEN] = "";
    char json[8192];
    snprintf(json, sizeof json, "{\"session_name\":\"rag-pipeline-demo\",\"inputs\":{\"question\":\"%s\"}}", q_esc);
    CHECK_HH(hh_session_create(tracer, json, session_id, sizeof session_id, &err));

    hh_span root = 0;
    CHECK_HH(hh_span_start(tracer, "rag_pipeline", HH_EVENT_CHAIN, 0, session_id, NULL, &root, &err));
    snprintf(json, sizeof json, "{\"inputs\":{\"question\":\"%s\"},\"metadata\":{\"pipeline_version\":\"1.2\"}}", q_esc);
    CHECK_HH(hh_span_enrich(root, json, &err));

    /* 1. Retrieval. */
    hh_span retrieve_span = 0;
    CHECK_HH(hh_span_start(tracer, "retrieve_documents", HH_EVENT_TOOL, root, NULL, NULL, &retrieve_span, &err));
    hit hits[3];
    size_t n_hits = retrieve(question, hits, 3);
    sleep_ms(8);
    {
        char docs[1024] = "", scores[256] = "";
        size_t dn = 0, sn = 0;
        for (size_t i = 0; i < n_hits; i++) {
            dn += (size_t)snprintf(docs + dn, sizeof docs - dn, "%s\"%s\"", i ? "," : "", CORPUS[hits[i].index].id);
            sn += (size_t)snprintf(scores + sn, sizeof scores - sn, "%s%d", i ? "," : "", hits[i].score);
        }
        snprintf(json, sizeof json,
                 "{\"inputs\":{\"query\":\"%s\",\"top_k\":3},\"outputs\":{\"documents\":[%s],\"scores\":[%s]},"
                 "\"metrics\":{\"num_results\":%zu},\"config\":{\"index\":\"in-memory\",\"corpus_size\":%zu}}",
                 q_esc, docs, scores, n_hits, (size_t)CORPUS_LEN);
        CHECK_HH(hh_span_enrich(retrieve_span, json, &err));
    }
    CHECK_HH(hh_span_end(retrieve_span));

    /* 2. Re-ranking: the (simulated) reranker times out; the pipeline keeps retrieval order. */
    hh_span rerank = 0;
    CHECK_HH(hh_span_start(tracer, "rerank_documents", HH_EVENT_TOOL, root, NULL, NULL, &rerank, &err));
    sleep_ms(5);
    CHECK_HH(hh_span_set_i64(rerank, HH_NS_INPUTS, "num_documents", (int64_t)n_hits));
    CHECK_HH(hh_span_set_str(rerank, HH_NS_METADATA, "fallback", "retrieval order"));
    CHECK_HH(hh_span_set_bool(rerank, HH_NS_METADATA, "simulated_failure", true));
    CHECK_HH(hh_span_record_error(rerank, "TimeoutError",
                                  "simulated failure (demo): reranker did not answer within 5 ms"));
    CHECK_HH(hh_span_end(rerank));

    /* 3. Prompt construction. */
    hh_span prompt_span = 0;
    CHECK_HH(hh_span_start(tracer, "build_prompt", HH_EVENT_TOOL, root, NULL, NULL, &prompt_span, &err));
    char context[2048] = "";
    size_t cn = 0;
    for (size_t i = 0; i < n_hits; i++)
        cn += (size_t)snprintf(context + cn, sizeof context - cn, "[%s] %s\n", CORPUS[hits[i].index].id,
                               CORPUS[hits[i].index].text);
    char system_prompt[2300];
    snprintf(system_prompt, sizeof system_prompt,
             "Answer using only the context. Use the calculator tool for arithmetic.\nContext:\n%s", context);
    sleep_ms(2);
    char sys_esc[4096];
    json_escape(system_prompt, sys_esc, sizeof sys_esc);
    snprintf(json, sizeof json,
             "{\"inputs\":{\"template\":\"rag-v2\",\"num_documents\":%zu},\"outputs\":{\"prompt_chars\":%zu}}", n_hits,
             strlen(system_prompt));
    CHECK_HH(hh_span_enrich(prompt_span, json, &err));
    CHECK_HH(hh_span_end(prompt_span));

    /* 4. First model call: the model asks for the calculator. */
    long a = 0, b = 0, result = 0;
    char op = 0;
    int wants_tool = find_arithmetic(question, &a, &op, &b);
    char completion[512];
    if (wants_tool)
        snprintf(completion, sizeof completion, "CALL calculator(\"%ld %c %ld\")", a, op, b);
    else
        snprintf(completion, sizeof completion, "No arithmetic needed.");
    int prompt_tokens = count_tokens(system_prompt) + count_tokens(question);
    int completion_tokens = count_tokens(completion);
    hh_span llm1 = 0;
    CHECK_HH(hh_span_start(tracer, "llm_call", HH_EVENT_MODEL, root, NULL, NULL, &llm1, &err));
    sleep_ms(25);
    {
        char comp_esc[1024];
        json_escape(completion, comp_esc, sizeof comp_esc);
        snprintf(json, sizeof json,
                 "{\"config\":{\"model\":\"sim-gpt-mini\",\"provider\":\"simulated\",\"temperature\":0.2,"
                 "\"max_tokens\":256},"
                 "\"inputs\":{\"messages\":[{\"role\":\"system\",\"content\":\"%s\"},"
                 "{\"role\":\"user\",\"content\":\"%s\"}]},"
                 "\"outputs\":{\"completion\":\"%s\",\"finish_reason\":\"%s\"},"
                 "\"metrics\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}}",
                 sys_esc, q_esc, comp_esc, wants_tool ? "tool_calls" : "stop", prompt_tokens, completion_tokens,
                 prompt_tokens + completion_tokens);
        CHECK_HH(hh_span_enrich(llm1, json, &err));
    }
    CHECK_HH(hh_span_end(llm1));
    int total_tokens = prompt_tokens + completion_tokens;

    /* 5. Tool call. */
    int have_result = 0;
    if (wants_tool) {
        hh_span tool = 0;
        CHECK_HH(hh_span_start(tracer, "calculator", HH_EVENT_TOOL, root, NULL, NULL, &tool, &err));
        sleep_ms(1);
        char expr[96];
        snprintf(expr, sizeof expr, "%ld %c %ld", a, op, b);
        CHECK_HH(hh_span_set_str(tool, HH_NS_INPUTS, "expression", expr));
        have_result = calculate(a, op, b, &result);
        if (have_result)
            CHECK_HH(hh_span_set_i64(tool, HH_NS_OUTPUTS, "result", result));
        else
            CHECK_HH(hh_span_record_error(tool, "ArithmeticError", "division by zero"));
        CHECK_HH(hh_span_end(tool));
    }

    /* 6. Second model call: the final answer. */
    const char *city = NULL;
    for (size_t i = 0; i < n_hits && !city; i++)
        if (strstr(CORPUS[hits[i].index].text, "capital"))
            city = CORPUS[hits[i].index].text;
    char answer[512];
    if (have_result && city)
        snprintf(answer, sizeof answer, "%s And %ld %c %ld = %ld.", city, a, op, b, result);
    else if (city)
        snprintf(answer, sizeof answer, "%s", city);
    else if (have_result)
        snprintf(answer, sizeof answer, "%ld %c %ld = %ld.", a, op, b, result);
    else
        snprintf(answer, sizeof answer, "I could not find that in the documents.");
    hh_span llm2 = 0;
    CHECK_HH(hh_span_start(tracer, "llm_call", HH_EVENT_MODEL, root, NULL, NULL, &llm2, &err));
    sleep_ms(18);
    int p2 = prompt_tokens + completion_tokens + 12, c2 = count_tokens(answer);
    {
        char ans_esc[1024];
        json_escape(answer, ans_esc, sizeof ans_esc);
        snprintf(json, sizeof json,
                 "{\"config\":{\"model\":\"sim-gpt-mini\",\"provider\":\"simulated\",\"temperature\":0.2},"
                 "\"inputs\":{\"messages\":[{\"role\":\"user\",\"content\":\"%s\"},"
                 "{\"role\":\"tool\",\"content\":\"%ld\"}]},"
                 "\"outputs\":{\"completion\":\"%s\",\"finish_reason\":\"stop\"},"
                 "\"metrics\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}}",
                 q_esc, result, ans_esc, p2, c2, p2 + c2);
        CHECK_HH(hh_span_enrich(llm2, json, &err));
    }
    CHECK_HH(hh_span_end(llm2));
    total_tokens += p2 + c2;

    /* Close the pipeline span, then enrich the session as a whole. */
    {
        char ans_esc[1024];
        json_escape(answer, ans_esc, sizeof ans_esc);
        snprintf(json, sizeof json, "{\"outputs\":{\"answer\":\"%s\"},\"metrics\":{\"total_tokens\":%d}}", ans_esc,
                 total_tokens);
        CHECK_HH(hh_span_enrich(root, json, &err));
        CHECK_HH(hh_span_end(root));
        snprintf(json, sizeof json,
                 "{\"outputs\":{\"answer\":\"%s\"},\"metrics\":{\"total_tokens\":%d,\"num_documents\":%zu},"
                 "\"feedback\":{\"helpful\":true,\"rating\":5}}",
                 ans_esc, total_tokens, n_hits);
        CHECK_HH(hh_session_enrich(tracer, session_id, json, &err));
    }

    st = hh_tracer_flush(tracer, 5000);
    if (st != HH_OK)
        fprintf(stderr, "rag_pipeline: warning: flush: %s (delivery continues until close)\n",
                hh_status_name((int32_t)st));
    hh_stats stats;
    memset(&stats, 0, sizeof stats);
    CHECK_HH(hh_tracer_stats(tracer, &stats));
    st = hh_tracer_close(tracer, 5000);
    if (st != HH_OK)
        fprintf(stderr, "rag_pipeline: warning: close: %s\n", hh_status_name((int32_t)st));

    const char *exporter = getenv("HH_EXPORTER");
    const char *file = getenv("HH_EXPORT_FILE");
    printf("question : %s\n", question);
    printf("answer   : %s\n", answer);
    printf("session  : %s\n", session_id);
    printf("spans    : %llu started, %llu exported, %llu dropped; %d tokens\n",
           (unsigned long long)stats.spans_started, (unsigned long long)stats.spans_exported,
           (unsigned long long)stats.spans_dropped, total_tokens);
    if (exporter && strcmp(exporter, "file") == 0 && file)
        printf("exported : OTLP/JSON lines in %s\n", file);
    else if (exporter && *exporter)
        printf("exported : via the %s exporter\n", exporter);
    else
        printf("exported : to HoneyHive (%s)\n", getenv("HH_PROJECT") ? getenv("HH_PROJECT") : "default project");
    return telemetry_warnings ? 2 : 0;
}
