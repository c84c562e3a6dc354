/* kv.c - key = value parameter lines of a spec section (kv.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/kv.h"

void clnet__trim(char *s)
{
    size_t n = strlen(s), b = 0;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (s[b] && isspace((unsigned char)s[b]))
        ++b;
    memmove(s, s + b, n - b + 1);
}

clnet_status clnet__kv_error(clnet_context *ctx, const clnet__kv *kv, const clnet__kv_item *item,
                             const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (item)
        return clnet__fail(ctx, CLNET_ERR_PARSE, "%s line %d: key '%s': %s", kv->where, item->line,
                           key, msg);
    return clnet__fail(ctx, CLNET_ERR_PARSE, "%s: key '%s': %s", kv->where, key, msg);
}

clnet_status clnet__kv_parse(clnet_context *ctx, const char *text, const char *where,
                             int first_line, clnet__kv *kv)
{
    memset(kv, 0, sizeof *kv);
    snprintf(kv->where, sizeof kv->where, "%s", where ? where : "parameters");
    int line = first_line;
    for (const char *p = text ? text : ""; *p; ++line) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char buf[512];
        if (len >= sizeof buf)
            return clnet__fail(ctx, CLNET_ERR_PARSE, "%s line %d: line too long", kv->where, line);
        memcpy(buf, p, len);
        buf[len] = '\0';
        p = end ? end + 1 : p + len;
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        clnet__trim(buf);
        if (!buf[0])
            continue;
        char *eq = strchr(buf, '=');
        if (!eq)
            return clnet__fail(ctx, CLNET_ERR_PARSE, "%s line %d: expected key = value, got '%s'",
                               kv->where, line, buf);
        *eq = '\0';
        char *key = buf, *value = eq + 1;
        clnet__trim(key);
        clnet__trim(value);
        if (!key[0] || strlen(key) >= sizeof kv->items[0].key ||
            strlen(value) >= sizeof kv->items[0].value)
            return clnet__fail(ctx, CLNET_ERR_PARSE, "%s line %d: bad key or value too long",
                               kv->where, line);
        for (int i = 0; i < kv->n; ++i)
            if (strcmp(kv->items[i].key, key) == 0)
                return clnet__fail(ctx, CLNET_ERR_PARSE, "%s line %d: key '%s' given twice",
                                   kv->where, line, key);
        if (kv->n == CLNET_KV_MAX)
            return clnet__fail(ctx, CLNET_ERR_PARSE, "%s line %d: too many keys", kv->where, line);
        clnet__kv_item *it = &kv->items[kv->n++];
        memcpy(it->key, key, strlen(key) + 1); /* lengths checked above */
        memcpy(it->value, value, strlen(value) + 1);
        it->line = line;
    }
    return CLNET_OK;
}

const clnet__kv_item *clnet__kv_find(clnet__kv *kv, const char *key)
{
    int asked = 0;
    for (int i = 0; i < kv->n_asked && !asked; ++i)
        asked = strcmp(kv->asked[i], key) == 0;
    if (!asked && kv->n_asked < CLNET_KV_MAX)
        snprintf(kv->asked[kv->n_asked++], sizeof kv->asked[0], "%s", key);
    for (int i = 0; i < kv->n; ++i) {
        if (strcmp(kv->items[i].key, key) == 0) {
            kv->items[i].used = 1;
            return &kv->items[i];
        }
    }
    return NULL;
}

static int parse_int(const char *s, int *out)
{
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    while (end && isspace((unsigned char)*end))
        ++end;
    if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
        return 0;
    *out = (int)v;
    return 1;
}

clnet_status clnet__kv_ints(clnet_context *ctx, clnet__kv *kv, const char *key, int *out, int max,
                            int *count)
{
    *count = 0;
    const clnet__kv_item *it = clnet__kv_find(kv, key);
    if (!it)
        return CLNET_OK;
    char buf[sizeof it->value];
    snprintf(buf, sizeof buf, "%s", it->value);
    char *s = buf;
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '(' && s[n - 1] == ')') {
        s[n - 1] = '\0';
        ++s;
    }
    int c = 0;
    for (char *tok = s;; ++c) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (c == max)
            return clnet__kv_error(ctx, kv, it, key, "at most %d integers, got '%s'", max,
                                   it->value);
        if (!parse_int(tok, &out[c]))
            return clnet__kv_error(ctx, kv, it, key, "expected integers, got '%s'", it->value);
        if (!comma) {
            ++c;
            break;
        }
        tok = comma + 1;
    }
    *count = c;
    return CLNET_OK;
}

/* "must be in lo..hi", or "positive" / "at most hi" when a bound is the obvious one. */
static clnet_status range_error(clnet_context *ctx, clnet__kv *kv, const clnet__kv_item *it,
                                const char *key, int lo, int hi)
{
    if (lo == 1 && hi == CLNET_MAX_DIM)
        return clnet__kv_error(ctx, kv, it, key, "must be positive and at most %d, got '%s'", hi,
                               it->value);
    if (lo == 0 && hi == CLNET_MAX_DIM)
        return clnet__kv_error(ctx, kv, it, key, "must not be negative nor above %d, got '%s'", hi,
                               it->value);
    return clnet__kv_error(ctx, kv, it, key, "must be in %d..%d, got '%s'", lo, hi, it->value);
}

clnet_status clnet__kv_ints_in(clnet_context *ctx, clnet__kv *kv, const char *key, int *out,
                               int max, int *count, int lo, int hi)
{
    CLNET_TRY(clnet__kv_ints(ctx, kv, key, out, max, count));
    for (int i = 0; i < *count; ++i)
        if (out[i] < lo || out[i] > hi)
            return range_error(ctx, kv, clnet__kv_find(kv, key), key, lo, hi);
    return CLNET_OK;
}

clnet_status clnet__kv_int_in(clnet_context *ctx, clnet__kv *kv, const char *key, int def, int lo,
                              int hi, int *out)
{
    CLNET_TRY(clnet__kv_int(ctx, kv, key, def, out));
    const clnet__kv_item *it = clnet__kv_find(kv, key);
    if (it && (*out < lo || *out > hi))
        return range_error(ctx, kv, it, key, lo, hi);
    return CLNET_OK;
}

clnet_status clnet__kv_int(clnet_context *ctx, clnet__kv *kv, const char *key, int def, int *out)
{
    const clnet__kv_item *it = clnet__kv_find(kv, key);
    if (!it) {
        if (def == CLNET_KV_REQUIRED)
            return clnet__kv_error(ctx, kv, NULL, key, "required but missing");
        *out = def;
        return CLNET_OK;
    }
    if (!parse_int(it->value, out))
        return clnet__kv_error(ctx, kv, it, key, "expected an integer, got '%s'", it->value);
    return CLNET_OK;
}

clnet_status clnet__kv_int2(clnet_context *ctx, clnet__kv *kv, const char *key, int def, int out[2])
{
    int vals[2], n = 0;
    CLNET_TRY(clnet__kv_ints(ctx, kv, key, vals, 2, &n));
    if (n == 0) {
        if (def == CLNET_KV_REQUIRED)
            return clnet__kv_error(ctx, kv, NULL, key, "required but missing");
        out[0] = out[1] = def;
    } else {
        out[0] = vals[0];
        out[1] = n == 2 ? vals[1] : vals[0];
    }
    return CLNET_OK;
}

clnet_status clnet__kv_float(clnet_context *ctx, clnet__kv *kv, const char *key, double def,
                             double *out)
{
    const clnet__kv_item *it = clnet__kv_find(kv, key);
    if (!it) {
        *out = def;
        return CLNET_OK;
    }
    errno = 0;
    char *end = NULL;
    double v = strtod(it->value, &end);
    if (errno || end == it->value || *end || !isfinite(v))
        return clnet__kv_error(ctx, kv, it, key, "expected a number, got '%s'", it->value);
    *out = v;
    return CLNET_OK;
}

clnet_status clnet__kv_bool(clnet_context *ctx, clnet__kv *kv, const char *key, int def, int *out)
{
    static const char *const names[] = {"false", "true", "0", "1", "no", "yes", "False", "True"};
    int idx = 0;
    const clnet__kv_item *it = clnet__kv_find(kv, key);
    if (!it) {
        *out = def;
        return CLNET_OK;
    }
    for (idx = 0; idx < (int)CLNET_COUNTOF(names); ++idx)
        if (strcmp(it->value, names[idx]) == 0) {
            *out = idx % 2;
            return CLNET_OK;
        }
    return clnet__kv_error(ctx, kv, it, key, "expected true or false, got '%s'", it->value);
}

clnet_status clnet__kv_enum(clnet_context *ctx, clnet__kv *kv, const char *key,
                            const char *const *names, int n, int def, int *out)
{
    const clnet__kv_item *it = clnet__kv_find(kv, key);
    if (!it) {
        if (def == CLNET_KV_REQUIRED)
            return clnet__kv_error(ctx, kv, NULL, key, "required but missing");
        *out = def;
        return CLNET_OK;
    }
    for (int i = 0; i < n; ++i)
        if (strcmp(it->value, names[i]) == 0) {
            *out = i;
            return CLNET_OK;
        }
    char choices[256] = "";
    for (int i = 0; i < n; ++i) {
        size_t used = strlen(choices);
        snprintf(choices + used, sizeof choices - used, "%s%s", i ? ", " : "", names[i]);
    }
    return clnet__kv_error(ctx, kv, it, key, "'%s' is not one of: %s", it->value, choices);
}

clnet_status clnet__kv_check_unused(clnet_context *ctx, const clnet__kv *kv, const char *op)
{
    for (int i = 0; i < kv->n; ++i)
        if (!kv->items[i].used)
            return clnet__kv_error(ctx, kv, &kv->items[i], kv->items[i].key,
                                   "unknown key for op %s", op);
    return CLNET_OK;
}
