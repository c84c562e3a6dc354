/* activation.c - the activation table (activation.h) with the one parser of every
 * activation key. The formulas: cl/common.cl, src/ref/activation.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "ref/ref.h"

const clnet__act_info clnet__act_table[CLNET_ACT_COUNT] = {
#define CLNET__ACT_ROW(NAME, name, aliases, keras, onnx, title, alpha, flags)                      \
    {#name,                                                                                        \
     aliases,                                                                                      \
     keras,                                                                                        \
     onnx,                                                                                         \
     title,                                                                                        \
     #NAME,                                                                                        \
     alpha,                                                                                        \
     flags,                                                                                        \
     clnet__ref_act_##name,                                                                        \
     clnet__ref_act_##name##_grad},
    CLNET_ACTIVATIONS(CLNET__ACT_ROW)
#undef CLNET__ACT_ROW
};

/* Whether name is one of the '|'-separated names in list ("|silu"). */
static int in_list(const char *list, const char *name, size_t len)
{
    for (const char *p = list; (p = strchr(p, '|')) != NULL;) {
        ++p;
        const size_t n = strcspn(p, "|");
        if (n == len && strncmp(p, name, len) == 0)
            return 1;
    }
    return 0;
}

static int lookup(const char *name, size_t len)
{
    for (int i = 0; i < CLNET_ACT_COUNT; ++i) {
        const clnet__act_info *a = &clnet__act_table[i];
        if ((strlen(a->name) == len && strncmp(a->name, name, len) == 0) ||
            in_list(a->aliases, name, len))
            return i;
    }
    return -1;
}

int clnet__act_lookup(const char *name)
{
    return lookup(name, strlen(name));
}

int clnet__act_from_input(clnet__act a)
{
    return a.id < CLNET_ACT_COUNT && (clnet__act_table[a.id].flags & CLNET_ACT_FROM_INPUT);
}

clnet_status clnet__act_parse(clnet_context *ctx, clnet__kv *kv, const char *key, int required,
                              int allow_softmax, clnet__act *out)
{
    *out = (clnet__act){CLNET_ACT_NONE, 0.0f};
    const clnet__kv_item *it = clnet__kv_find(kv, key);
    if (!it)
        return required ? clnet__kv_error(ctx, kv, NULL, key, "required but missing") : CLNET_OK;
    const char *v = it->value, *open = strchr(v, '(');
    size_t len = open ? (size_t)(open - v) : strlen(v);
    while (len > 0 && isspace((unsigned char)v[len - 1]))
        --len;
    if (allow_softmax && !open && strcmp(v, "softmax") == 0) {
        out->id = CLNET_ACT_SOFTMAX;
        return CLNET_OK;
    }
    const int id = lookup(v, len);
    if (id < 0)
        return clnet__kv_error(ctx, kv, it, key, "'%s' is not one of: %s%s", v, &CLNET_ACT_NAMES[1],
                               allow_softmax ? "|softmax" : "");
    const clnet__act_info *info = &clnet__act_table[id];
    out->id = (clnet__act_id)id;
    out->alpha = info->alpha;
    if (!open)
        return CLNET_OK;
    if (!(info->flags & CLNET_ACT_ALPHA))
        return clnet__kv_error(ctx, kv, it, key, "%s takes no parameter (got '%s')", info->name, v);
    char *end = NULL;
    const double alpha = strtod(open + 1, &end);
    while (end && isspace((unsigned char)*end))
        ++end;
    /* alpha >= 0 keeps the output's sign the input's, which backward reads. */
    if (end == open + 1 || !end || strcmp(end, ")") != 0 || !(alpha >= 0.0) || alpha > 1e30)
        return clnet__kv_error(ctx, kv, it, key,
                               "'%s': %s's alpha must be a number >= 0 in parentheses, as in "
                               "%s(%g)",
                               v, info->name, info->name, (double)info->alpha);
    out->alpha = (float)alpha;
    return CLNET_OK;
}

const char *clnet__act_str(clnet__act a, char *buf, size_t len)
{
    if (a.id == CLNET_ACT_SOFTMAX)
        snprintf(buf, len, "softmax");
    else if (clnet__act_table[a.id].flags & CLNET_ACT_ALPHA)
        snprintf(buf, len, "%s(%g)", clnet__act_table[a.id].name, (double)a.alpha);
    else
        snprintf(buf, len, "%s", clnet__act_table[a.id].name);
    return buf;
}

const char *clnet__act_suffix(clnet__act a, char *buf, size_t len)
{
    if (a.id == CLNET_ACT_NONE)
        snprintf(buf, len, "%s", "");
    else if (a.id == CLNET_ACT_SOFTMAX)
        snprintf(buf, len, " + Softmax");
    else if (clnet__act_table[a.id].flags & CLNET_ACT_ALPHA)
        snprintf(buf, len, " + %s(%g)", clnet__act_table[a.id].title, (double)a.alpha);
    else
        snprintf(buf, len, " + %s", clnet__act_table[a.id].title);
    return buf;
}
