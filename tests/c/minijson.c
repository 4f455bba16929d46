#define _GNU_SOURCE
#include "minijson.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

typedef struct {
    const char *p;
    int depth;
} parser;

static jval *parse_value(parser *ps);

static void skip_ws(parser *ps) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static jval *new_val(jtype t) {
    jval *v = calloc(1, sizeof *v);
    if (v)
        v->type = t;
    return v;
}

static int push_item(jval *v, jval *item, char *key) {
    jval **items = realloc(v->items, (v->len + 1) * sizeof *items);
    if (!items)
        return 0;
    v->items = items;
    if (v->type == J_OBJ) {
        char **keys = realloc(v->keys, (v->len + 1) * sizeof *keys);
        if (!keys)
            return 0;
        v->keys = keys;
        v->keys[v->len] = key;
    }
    v->items[v->len++] = item;
    return 1;
}

static void put_utf8(char **out, unsigned long cp) {
    char *o = *out;
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    *out = o;
}

static int hex4(const char *p, unsigned long *out) {
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned long)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* Parses a string starting at the opening quote; returns a malloc'd decoded copy. */
static char *parse_string(parser *ps) {
    if (*ps->p != '"')
        return NULL;
    ps->p++;
    const char *start = ps->p;
    size_t raw = 0;
    while (start[raw] && start[raw] != '"') {
        if (start[raw] == '\\' && start[raw + 1])
            raw++;
        raw++;
    }
    if (start[raw] != '"')
        return NULL;
    /* Decoded text is never longer than the raw text (\uXXXX: 6 bytes -> at most 4). */
    char *out = malloc(raw + 1);
    if (!out)
        return NULL;
    char *o = out;
    const char *p = start;
    while (*p != '"') {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p++;
        switch (*p) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned long cp;
            if (!hex4(p + 1, &cp)) {
                free(out);
                return NULL;
            }
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
                unsigned long lo;
                if (hex4(p + 3, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            put_utf8(&o, cp);
            break;
        }
        default:
            free(out);
            return NULL;
        }
        p++;
    }
    *o = 0;
    ps->p = p + 1;
    return out;
}

static jval *parse_number(parser *ps) {
    const char *start = ps->p;
    const char *p = start;
    int is_int = 1;
    if (*p == '-')
        p++;
    if (!(*p >= '0' && *p <= '9'))
        return NULL;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        is_int = 0;
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        is_int = 0;
        p++;
        if (*p == '+' || *p == '-')
            p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    jval *v = new_val(J_NUM);
    if (!v)
        return NULL;
    v->num = strtod(start, NULL);
    if (is_int) {
        errno = 0;
        long long i = strtoll(start, NULL, 10);
        if (errno == 0) {
            v->is_int = 1;
            v->integer = i;
        }
    }
    ps->p = p;
    return v;
}

static jval *parse_container(parser *ps, int object) {
    if (++ps->depth > MAX_DEPTH)
        return NULL;
    jval *v = new_val(object ? J_OBJ : J_ARR);
    if (!v)
        return NULL;
    ps->p++; /* [ or { */
    skip_ws(ps);
    char close = object ? '}' : ']';
    if (*ps->p == close) {
        ps->p++;
        ps->depth--;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            key = parse_string(ps);
            if (!key)
                goto fail;
            skip_ws(ps);
            if (*ps->p != ':') {
                free(key);
                goto fail;
            }
            ps->p++;
        }
        jval *item = parse_value(ps);
        if (!item || !push_item(v, item, key)) {
            free(key);
            jfree(item);
            goto fail;
        }
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            ps->depth--;
            return v;
        }
        goto fail;
    }
fail:
    jfree(v);
    return NULL;
}

static jval *parse_value(parser *ps) {
    skip_ws(ps);
    switch (*ps->p) {
    case '{': return parse_container(ps, 1);
    case '[': return parse_container(ps, 0);
    case '"': {
        char *s = parse_string(ps);
        if (!s)
            return NULL;
        jval *v = new_val(J_STR);
        if (!v) {
            free(s);
            return NULL;
        }
        v->str = s;
        return v;
    }
    case 't':
        if (strncmp(ps->p, "true", 4) == 0) {
            ps->p += 4;
            jval *v = new_val(J_BOOL);
            if (v)
                v->boolean = 1;
            return v;
        }
        return NULL;
    case 'f':
        if (strncmp(ps->p, "false", 5) == 0) {
            ps->p += 5;
            return new_val(J_BOOL);
        }
        return NULL;
    case 'n':
        if (strncmp(ps->p, "null", 4) == 0) {
            ps->p += 4;
            return new_val(J_NULL);
        }
        return NULL;
    default:
        return parse_number(ps);
    }
}

jval *jparse(const char *text) {
    if (!text)
        return NULL;
    parser ps = {text, 0};
    jval *v = parse_value(&ps);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (*ps.p != 0) {
        jfree(v);
        return NULL;
    }
    return v;
}

void jfree(jval *v) {
    if (!v)
        return;
    for (size_t i = 0; i < v->len; i++) {
        jfree(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

const jval *jget(const jval *obj, const char *key) {
    if (!obj || obj->type != J_OBJ || !key)
        return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

const jval *jat(const jval *arr, size_t i) {
    if (!arr || arr->type != J_ARR || i >= arr->len)
        return NULL;
    return arr->items[i];
}

size_t jlen(const jval *v) {
    return (v && (v->type == J_ARR || v->type == J_OBJ)) ? v->len : 0;
}

const char *jstr(const jval *v) {
    return (v && v->type == J_STR) ? v->str : NULL;
}

int jint_is(const jval *v, long long want) {
    return v && v->type == J_NUM && v->is_int && v->integer == want;
}

int jdouble_is(const jval *v, double want) {
    return v && v->type == J_NUM && !v->is_int && fabs(v->num - want) < 1e-9;
}

int jbool_is(const jval *v, int want) {
    return v && v->type == J_BOOL && (v->boolean != 0) == (want != 0);
}

int jis_null(const jval *v) {
    return !v || v->type == J_NULL;
}

const char *jgets(const jval *obj, const char *key) {
    return jstr(jget(obj, key));
}
