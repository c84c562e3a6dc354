/* text.c - what the graph's text outputs share: Keras type names, a growing text
 * buffer and grouped numbers. Used by summary.c and dot.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

const char *clnet__keras_type(const clnet__layer *l)
{
    return !l->op ? "InputLayer" : l->op->keras ? l->op->keras : l->op->name;
}

void clnet__text_put(clnet__text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0 || t->len + (size_t)need + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)(need > 0 ? need : 0);
        char *grown = realloc(t->buf, cap);
        if (!grown || need < 0) {
            t->failed = 1;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)need;
}

const char *clnet__grouped(double v, char *buf, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; ++i) {
        buf[o++] = digits[i];
        if ((n - i - 1) % 3 == 0 && i + 1 < n && o + 2 < len)
            buf[o++] = ',';
    }
    buf[o] = '\0';
    return buf;
}
