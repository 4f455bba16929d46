/* A program that ends without hh_tracer_close, in several ways; the lifecycle group runs it
 * and counts what reached the receiver.
 *
 *   exit_prog <server_url> <mode>
 *   modes: return        100 spans ended + 1 left open on tracer A, 10 on tracer B; return from main
 *          return-hang   as return; the receiver hangs (the exit flush is bounded by
 *                        HH_EXIT_FLUSH_TIMEOUT_MS)
 *          threads       4 threads keep ending spans while main returns
 *          exit-thread   exit(0) from a non-main thread while main waits in pthread_join
 *          closed-one    tracer A closed, tracer B not; return from main
 *          fork-at-start the process's first tracer, then 12 children forked 150 us apart
 *                        while its background start-up (clock calibration) runs; each child
 *                        ends a span "exit-forkinit-<k>" and must flush and close within
 *                        5 s. Prints "CHILDREN_OK <n>"; exit 0 when all 12 did.
 *
 * Prints "ENDED <n>" (spans whose hh_span_end returned HH_OK before main returned) and
 * "RETURNING <CLOCK_MONOTONIC ms>" just before it returns/exits.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "honeyhive.h"

static const char *url;
static atomic_long ended;
static atomic_int stop;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static hh_tracer tracer(const char *project) {
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"api_key\":\"exit-key\",\"project\":\"%s\",\"server_url\":\"%s\",\"schedule_delay_ms\":600000}",
             project, url);
    hh_tracer t = 0;
    hh_error err;
    if (hh_tracer_new(cfg, &t, &err) != HH_OK) {
        fprintf(stderr, "hh_tracer_new: %s\n", err.message);
        exit(3);
    }
    return t;
}

static void spans(hh_tracer t, const char *prefix, int n) {
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        hh_span s = 0;
        if (hh_span_start(t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) != HH_OK)
            exit(4);
        if (hh_span_end(s) == HH_OK)
            atomic_fetch_add(&ended, 1);
    }
}

static void returning(void) {
    printf("ENDED %ld\nRETURNING %.3f\n", atomic_load(&ended), now_ms());
    fflush(stdout);
}

static void *busy(void *p) {
    hh_tracer t = *(hh_tracer *)p;
    char name[64];
    for (long i = 0; !atomic_load(&stop); i++) {
        snprintf(name, sizeof name, "exit-busy-%lu-%ld", (unsigned long)pthread_self() % 100000, i);
        hh_span s = 0;
        if (hh_span_start(t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) != HH_OK)
            continue;
        if (hh_span_end(s) == HH_OK)
            atomic_fetch_add(&ended, 1);
        usleep(200);
    }
    return NULL;
}

static void *exiter(void *p) {
    hh_tracer t = *(hh_tracer *)p;
    spans(t, "exit-fromthread-", 50);
    returning();
    exit(0);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: exit_prog <url> <mode>\n");
        return 2;
    }
    url = argv[1];
    const char *mode = argv[2];
    if (strcmp(mode, "return") == 0 || strcmp(mode, "return-hang") == 0) {
        hh_tracer a = tracer("exit-a"), b = tracer("exit-b");
        spans(a, "exit-a-", 100);
        spans(b, "exit-b-", 10);
        hh_span open = 0;
        if (hh_span_start(a, "exit-open-never-ended", HH_EVENT_CHAIN, 0, NULL, NULL, &open, NULL) != HH_OK)
            return 4;
        returning();
        return 0; /* no close, no flush */
    }
    if (strcmp(mode, "threads") == 0) {
        hh_tracer t = tracer("exit-threads");
        pthread_t th[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, busy, &t);
        usleep(300000);
        returning(); /* the threads are still running */
        return 0;
    }
    if (strcmp(mode, "exit-thread") == 0) {
        hh_tracer t = tracer("exit-thread");
        pthread_t th;
        pthread_create(&th, NULL, exiter, &t);
        pthread_join(th, NULL);
        return 5; /* not reached */
    }
    if (strcmp(mode, "closed-one") == 0) {
        hh_tracer a = tracer("exit-closed"), b = tracer("exit-open");
        spans(a, "exit-closed-", 20);
        spans(b, "exit-unclosed-", 20);
        if (hh_tracer_close(a, 5000) != HH_OK)
            return 6;
        returning();
        return 0;
    }
    if (strcmp(mode, "fork-at-start") == 0) {
        hh_tracer t = tracer("exit-forkinit");
        enum { CHILDREN = 12 };
        pid_t pids[CHILDREN];
        for (int k = 0; k < CHILDREN; k++) {
            fflush(NULL);
            pids[k] = fork();
            if (pids[k] == 0) {
                alarm(10); /* a child stuck in the library dies instead of hanging the row */
                char name[64];
                snprintf(name, sizeof name, "exit-forkinit-%d", k);
                hh_span s = 0;
                int ok = hh_span_start(t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK &&
                         hh_span_end(s) == HH_OK && hh_tracer_flush(t, 5000) == HH_OK &&
                         hh_tracer_close(t, 5000) == HH_OK;
                _exit(ok ? 0 : 1);
            }
            usleep(150);
        }
        int children_ok = 0;
        for (int k = 0; k < CHILDREN; k++) {
            int status = 0;
            if (pids[k] > 0 && waitpid(pids[k], &status, 0) == pids[k] && WIFEXITED(status) &&
                WEXITSTATUS(status) == 0)
                children_ok++;
        }
        printf("CHILDREN_OK %d\n", children_ok);
        returning();
        return children_ok == CHILDREN ? 0 : 7;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
