/* A tiny test harness for the C tests of libhoneyhive.
 *
 * CHECK(cond), CHECK_EQ(a, b) (integers), CHECK_STR_EQ(a, b), CHECK_STATUS(expr, expected)
 * count passes and failures (thread-safe: C11 atomics) and print every failure with its
 * location. HH_CTEST_VERBOSE=1 also prints passes. hh_report() prints the final line
 * "N passed, M failed" and returns the process exit code.
 */
#ifndef HH_TEST_HARNESS_H
#define HH_TEST_HARNESS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "honeyhive.h"

extern atomic_long hh_passed;
extern atomic_long hh_failed;
extern int hh_verbose;

void hh_check_result(int ok, const char *file, int line, const char *what, const char *detail);
int hh_report(void);
/* Like hh_check_result, with a printf-style detail used only on failure. */
void hh_check_fmt(int ok, const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Deliberate panics make Rust's panic hook print to stderr. Between these two calls stderr goes
 * to a temporary file, shown only if a check failed meanwhile (so a passing run stays quiet and a
 * failing one keeps everything). Not nestable; call from one thread. */
void hh_quiet_stderr_begin(void);
void hh_quiet_stderr_end(void);

/* Evaluates a must-use expression whose status is deliberately ignored. */
#define IGNORE_STATUS(expr)                                                                        \
    do {                                                                                           \
        hh_status ignored_status_ = (expr);                                                        \
        (void)ignored_status_;                                                                     \
    } while (0)

#define CHECK(cond)                                                                                \
    hh_check_result((cond) ? 1 : 0, __FILE__, __LINE__, #cond, NULL)

#define CHECK_MSG(cond, ...) hh_check_fmt((cond) ? 1 : 0, __FILE__, __LINE__, #cond, __VA_ARGS__)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        char detail_[128];                                                                         \
        snprintf(detail_, sizeof detail_, "%lld != %lld", a_, b_);                                 \
        hh_check_result(a_ == b_, __FILE__, __LINE__, #a " == " #b, a_ == b_ ? NULL : detail_);   \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        int ok_ = a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0;                                 \
        char detail_[512];                                                                         \
        snprintf(detail_, sizeof detail_, "\"%.200s\" != \"%.200s\"", a_ ? a_ : "(null)",          \
                 b_ ? b_ : "(null)");                                                              \
        hh_check_result(ok_, __FILE__, __LINE__, #a " == " #b, ok_ ? NULL : detail_);             \
    } while (0)

/* Runs `expr` once and compares its hh_status with `expected`, printing both names. */
#define CHECK_STATUS(expr, expected)                                                               \
    do {                                                                                           \
        hh_status got_ = (expr);                                                                   \
        hh_status want_ = (expected);                                                              \
        char detail_[160];                                                                         \
        snprintf(detail_, sizeof detail_, "got %s, expected %s", hh_status_name((int32_t)got_),   \
                 hh_status_name((int32_t)want_));                                                  \
        hh_check_result(got_ == want_, __FILE__, __LINE__, #expr, got_ == want_ ? NULL : detail_); \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, HH_OK)

/* Test groups: one function per group, registered in main. */
typedef void (*hh_test_fn)(void);

#define TEST_BEGIN(name) fprintf(stderr, "== %s\n", name)

#endif
