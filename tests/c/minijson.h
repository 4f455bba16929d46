/* A minimal JSON reader for the C tests: parses the receiver's answers into a tree so that
 * checks can look at exact fields (a span's parent_span_id, an attribute's JSON type) instead
 * of searching text. Not a general-purpose parser: no streaming, depth-limited, test use only.
 */
#ifndef HH_MINIJSON_H
#define HH_MINIJSON_H

#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype type;
    int boolean;
    double num;
    long long integer; /* valid when is_int */
    int is_int;        /* a number written without fraction or exponent, fitting in int64 */
    char *str;         /* J_STR: decoded UTF-8, NUL-terminated */
    size_t len;        /* J_ARR/J_OBJ: number of items */
    struct jval **items;
    char **keys; /* J_OBJ only */
} jval;

/* Parses `text`; returns NULL on a syntax error. Free with jfree. */
jval *jparse(const char *text);
void jfree(jval *v);

/* Object member by key (NULL if absent or `obj` is not an object). */
const jval *jget(const jval *obj, const char *key);
/* Array item (NULL if out of range or not an array). */
const jval *jat(const jval *arr, size_t i);
size_t jlen(const jval *v);
/* String value, or NULL when `v` is not a string. */
const char *jstr(const jval *v);
/* 1 if `v` is an integer number equal to `want`. */
int jint_is(const jval *v, long long want);
/* 1 if `v` is a non-integer number (written with a fraction/exponent) within 1e-9 of `want`. */
int jdouble_is(const jval *v, double want);
/* 1 if `v` is a boolean with that value. */
int jbool_is(const jval *v, int want);
/* 1 if `v` is JSON null (or NULL). */
int jis_null(const jval *v);
/* Shorthand: string member of an object, or NULL. */
const char *jgets(const jval *obj, const char *key);

#endif
