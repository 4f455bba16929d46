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
 *          fork-child-exits  10 spans ended (still queued), then 4 children forked that never
 *                        use the library and call exit(0): each must exit 0 printing nothing
 *                        (their stderr is read through a pipe). Prints "CHILDREN_OK <n>" and
 *                        "CHILD_STDERR_BYTES <n>" (then the text); the parent's spans are
 *                        delivered by its own exit.
 *          sigterm-in-flush  a SIGTERM handler calls exit(0); a helper thread sends SIGTERM
 *                        to the main thread after HH_REL_SIGNAL_DELAY_US microseconds while
 *                        the main thread ends spans, reads stats and flushes in a loop
 *                        (returns 9 if no signal came within 10 s).
 *
 * Prints "ENDED <n>" (spans whose hh_span_end returned HH_OK before main returned) and
 * "RETURNING <CLOCK_MONOTONIC ms>" just before it returns/exits.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
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

static pthread_t main_thread;

static void on_term(int sig) {
    (void)sig;
    exit(0); /* not async-signal-safe, and what real programs do */
}

static void *signaller(void *p) {
    usleep(*(useconds_t *)p);
    pthread_kill(main_thread, SIGTERM);
    return NULL;
}

/* Runs one child that calls exit(0) without using the library; returns the bytes it wrote to
 * stderr (copied to `text`), or -1 when it did not exit 0. */
static long quiet_child(char *text, size_t cap) {
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10); /* a child stuck at exit dies (and fails the row) instead of hanging it */
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        exit(0); /* runs the exit hooks the parent's library installed */
    }
    close(p[1]);
    long total = 0;
    char buf[512];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        size_t len = strlen(text), room = cap - 1 - len;
        size_t copy = (size_t)n < room ? (size_t)n : room;
        memcpy(text + len, buf, copy);
        text[len + copy] = 0;
        total += n;
    }
    close(p[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return total;
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
    if (strcmp(mode, "fork-child-exits") == 0) {
        hh_tracer t = tracer("exit-forkexit");
        spans(t, "exit-forkexit-", 10); /* queued: schedule_delay_ms is 10 minutes */
        enum { CHILDREN = 4 };
        int children_ok = 0;
        long stderr_bytes = 0;
        char text[2048] = "";
        for (int k = 0; k < CHILDREN; k++) {
            long n = quiet_child(text + strlen(text), sizeof text - strlen(text));
            if (n >= 0) {
                children_ok++;
                stderr_bytes += n;
            }
        }
        printf("CHILDREN_OK %d\nCHILD_STDERR_BYTES %ld\n%s\n", children_ok, stderr_bytes, text);
        returning();
        return children_ok == CHILDREN && stderr_bytes == 0 ? 0 : 7;
    }
    if (strcmp(mode, "sigterm-in-flush") == 0) {
        hh_tracer t = tracer("exit-sigterm");
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, NULL);
        main_thread = pthread_self();
        const char *d = getenv("HH_REL_SIGNAL_DELAY_US");
        useconds_t delay = d ? (useconds_t)atol(d) : 50000;
        pthread_t th;
        pthread_create(&th, NULL, signaller, &delay);
        double give_up = now_ms() + 10000;
        for (long i = 0; now_ms() < give_up; i++) {
            char name[64];
            snprintf(name, sizeof name, "exit-sigterm-%ld", i);
            hh_span s = 0;
            if (hh_span_start(t, name, HH_EVENT_TOOL, 0, NULL, NULL, &s, NULL) == HH_OK && hh_span_end(s) == HH_OK)
                atomic_fetch_add(&ended, 1);
            /* Calls that hold a lock of the library for a while (the stats read the queue). */
            hh_stats st;
            for (int k = 0; k < 64; k++)
                if (hh_tracer_stats(t, &st) != HH_OK)
                    return 10;
            if (i % 256 == 0 && hh_tracer_flush(t, 1000) != HH_OK)
                continue; /* counted nowhere: only how the program ends matters */
        }
        return 9;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
