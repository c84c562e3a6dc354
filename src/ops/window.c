/* window.c - window keys and geometry shared by the sliding-window ops (window.h). */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ops/window.h"

clnet_status clnet__kv_positive2(clnet_context *ctx, clnet__kv *kv, const char *key, int def,
                                 int out[2])
{
    CLNET_TRY(clnet__kv_int2(ctx, kv, key, def, out));
    if (out[0] < 1 || out[1] < 1 || out[0] > CLNET_MAX_DIM || out[1] > CLNET_MAX_DIM)
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, key), key,
                               "must be positive and at most %d, got %d, %d", CLNET_MAX_DIM, out[0],
                               out[1]);
    return CLNET_OK;
}

clnet_status clnet__kv_padding(clnet_context *ctx, clnet__kv *kv, int *mode, int pad[4])
{
    const clnet__kv_item *it = clnet__kv_find(kv, "padding");
    *mode = CLNET_PADDING_VALID;
    pad[0] = pad[1] = pad[2] = pad[3] = 0;
    if (!it || strcmp(it->value, "valid") == 0)
        return CLNET_OK;
    if (strcmp(it->value, "same") == 0) {
        *mode = CLNET_PADDING_SAME;
        return CLNET_OK;
    }
    int v[4], n = 0;
    if (!isalpha((unsigned char)it->value[0]))
        CLNET_TRY(clnet__kv_ints(ctx, kv, "padding", v, 4, &n));
    if (n != 1 && n != 2 && n != 4)
        return clnet__kv_error(ctx, kv, it, "padding",
                               "expected valid, same, or 1, 2 (h, w) or 4 (top, bottom, left, "
                               "right) integers, got '%s'",
                               it->value);
    for (int i = 0; i < n; ++i)
        if (v[i] < 0 || v[i] > CLNET_MAX_DIM)
            return clnet__kv_error(ctx, kv, it, "padding",
                                   "must not be negative nor above %d, got '%s'", CLNET_MAX_DIM,
                                   it->value);
    *mode = CLNET_PADDING_EXPLICIT;
    pad[0] = pad[1] = v[0];
    pad[2] = pad[3] = n == 1 ? v[0] : v[1];
    if (n == 4) {
        pad[1] = v[1];
        pad[2] = v[2];
        pad[3] = v[3];
    }
    return CLNET_OK;
}

int clnet__window_axis(int mode, int in, int k, int s, int before, int after, int *pad)
{
    /* In 64 bits: the parsers bound every term by CLNET_MAX_DIM, but this must not
     * overflow for any ints (ops' test cases, importers). */
    *pad = 0;
    if (s < 1 || k < 1)
        return 0;
    int64_t size = in, out;
    if (mode == CLNET_PADDING_SAME) {
        out = (size + s - 1) / s;
        const int64_t total = (out - 1) * s + k - size;
        *pad = total > 0 ? (int)(total / 2 < INT_MAX ? total / 2 : INT_MAX) : 0;
    } else {
        if (mode == CLNET_PADDING_EXPLICIT) {
            *pad = before;
            size += (int64_t)before + after;
        }
        out = size >= k ? (size - k) / s + 1 : 0;
    }
    return out > 0 ? (int)(out < INT_MAX ? out : INT_MAX) : 0;
}

const char *clnet__window_str(int kh, int kw, int sh, int sw, char *buf, size_t len)
{
    if (sh == 1 && sw == 1)
        snprintf(buf, len, "%dx%d", kh, kw);
    else if (sh == sw)
        snprintf(buf, len, "%dx%d/%d", kh, kw, sh);
    else
        snprintf(buf, len, "%dx%d/%d,%d", kh, kw, sh, sw);
    return buf;
}
