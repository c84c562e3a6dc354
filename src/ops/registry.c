/* registry.c - the op registry built from op_list.h, op parameter parsing, the public
 * list of ops (clnet_op_info_at) and the suggestions for unknown op and key names.
 * Tests: tests/unit/test_op_keys.c, tests/unit/test_kv.c. */
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"

static const clnet__op_desc *const all_ops[] = {
#define CLNET_OP(name) &clnet__op_##name,
#include "ops/op_list.h"
#undef CLNET_OP
};

const clnet__op_desc *const *clnet__op_all(int *count)
{
    *count = (int)CLNET_COUNTOF(all_ops);
    return all_ops;
}

const clnet__op_desc *clnet__op_find(const char *name)
{
    for (size_t i = 0; i < CLNET_COUNTOF(all_ops); ++i)
        if (strcmp(all_ops[i]->name, name) == 0)
            return all_ops[i];
    return NULL;
}

/* The Levenshtein distance of a and b (each cut at 63 characters): edits that change
 * one into the other. Names are folded (lower case) before they get here. */
static int distance(const char *a, const char *b)
{
    int row[64];
    const int na = (int)strnlen(a, 63), nb = (int)strnlen(b, 63);
    for (int j = 0; j <= nb; ++j)
        row[j] = j;
    for (int i = 1; i <= na; ++i) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= nb; ++j) {
            const int up = row[j], change = diag + (a[i - 1] != b[j - 1]);
            row[j] = change < up + 1 ? change : up + 1;
            row[j] = row[j] < row[j - 1] + 1 ? row[j] : row[j - 1] + 1;
            diag = up;
        }
    }
    return row[nb];
}

/* The name folded for comparison: lower case, without '_', '-', spaces and a trailing
 * "2d" ("MaxPool2D" and "max_pool" both give "maxpool"). */
static void fold(const char *name, char *out, size_t len)
{
    size_t n = 0;
    for (; *name && n + 1 < len; ++name)
        if (isalnum((unsigned char)*name))
            out[n++] = (char)tolower((unsigned char)*name);
    if (n > 2 && strncmp(out + n - 2, "2d", 2) == 0)
        n -= 2;
    out[n] = '\0';
}

/* Close enough to suggest: at most a third of the longer name differs. */
static int close_enough(const char *a, const char *b, int d)
{
    const size_t n = strlen(a) > strlen(b) ? strlen(a) : strlen(b);
    return d <= 1 || (size_t)d * 3 <= n;
}

int clnet__name_near(const char *a, const char *b)
{
    const int d = distance(a, b);
    return close_enough(a, b, d) ? d : -1;
}

const clnet__op_desc *clnet__op_suggest(const char *name)
{
    char want[64], have[64];
    fold(name, want, sizeof want);
    const clnet__op_desc *best = NULL;
    int best_d = 1 << 30;
    for (size_t i = 0; i < CLNET_COUNTOF(all_ops); ++i) {
        const clnet__op_desc *op = all_ops[i];
        fold(op->name, have, sizeof have);
        if (strcmp(want, have) == 0)
            return op;
        fold(op->keras ? op->keras : "", have, sizeof have);
        if (strcmp(want, have) == 0 && !best)
            best = op, best_d = 0; /* relu before relu6, both Keras ReLU */
    }
    for (size_t i = 0; i < CLNET_COUNTOF(all_ops) && best_d > 0; ++i) {
        fold(all_ops[i]->name, have, sizeof have);
        const int d = distance(want, have);
        if (d < best_d && close_enough(want, have, d))
            best = all_ops[i], best_d = d;
    }
    return best;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *clnet__op_unknown_hint(const char *name, int with_input, char *buf, size_t len)
{
    const char *names[CLNET_COUNTOF(all_ops) + 1];
    size_t n = 0, used = 0;
    for (size_t i = 0; i < CLNET_COUNTOF(all_ops); ++i)
        names[n++] = all_ops[i]->name;
    if (with_input)
        names[n++] = "input";
    qsort(names, n, sizeof *names, by_name);
    const clnet__op_desc *near = clnet__op_suggest(name);
    char folded[64];
    fold(name, folded, sizeof folded);
    buf[0] = '\0';
    if (with_input && strncmp(folded, "input", 5) == 0)
        used = (size_t)snprintf(buf, len, "did you mean input? ");
    else if (near)
        used = (size_t)snprintf(buf, len, "did you mean %s? ", near->name);
    used += (size_t)snprintf(buf + (used < len ? used : len), used < len ? len - used : 0,
                             "`clnet ops` lists them: ");
    for (size_t i = 0; i < n && used < len; ++i)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
    return buf;
}

/* An error naming the first key no getter asked for, with the nearest key of op and
 * the keys it takes. */
static clnet_status check_unused(clnet_context *ctx, const clnet__kv *kv, const clnet__op_desc *op)
{
    for (int i = 0; i < kv->n; ++i) {
        const clnet__kv_item *it = &kv->items[i];
        if (it->used)
            continue;
        char keys[256] = "", near[96] = "";
        int best_d = 1 << 30;
        for (int k = 0; k < op->n_keys; ++k) {
            const size_t used = strlen(keys);
            snprintf(keys + used, sizeof keys - used, "%s%s", k ? ", " : "", op->keys[k].name);
            const int d = distance(it->key, op->keys[k].name);
            if (d < best_d && close_enough(it->key, op->keys[k].name, d)) {
                best_d = d;
                snprintf(near, sizeof near, "did you mean %s? ", op->keys[k].name);
            }
        }
        if (op->n_keys == 0)
            return clnet__kv_error(ctx, kv, it, it->key, "unknown key: op %s takes no keys",
                                   op->name);
        return clnet__kv_error(ctx, kv, it, it->key, "unknown key for op %s (%sit takes %s)",
                               op->name, near, keys);
    }
    return CLNET_OK;
}

clnet_status clnet__op_parse_at(clnet_context *ctx, const clnet__op_desc *op, const char *text,
                                const char *where, int first_line, void **params)
{
    *params = NULL;
    clnet__kv *kv = malloc(sizeof *kv);
    void *p = calloc(1, op->params_size ? op->params_size : 1);
    clnet_status st = CLNET_OK;
    if (!kv || !p) {
        st = clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        goto done;
    }
    st = clnet__kv_parse(ctx, text, where ? where : op->name, first_line, kv);
    if (st == CLNET_OK)
        st = op->parse(ctx, kv, p);
    if (st == CLNET_OK)
        st = check_unused(ctx, kv, op);
done:
    free(kv);
    if (st != CLNET_OK) {
        free(p);
        return st;
    }
    *params = p;
    return CLNET_OK;
}

const char *clnet__shape_str(clnet_shape s, char *buf, size_t len)
{
    snprintf(buf, len, "%dx%dx%dx%d", s.n, s.h, s.w, s.c);
    return buf;
}

/* dims[0..n) within 1..CLNET_MAX_DIM and their product within CLNET_MAX_ELEMENTS. */
static clnet_status check_dims(clnet_context *ctx, const char *what, const char *kind,
                               const int64_t *dims, int n)
{
    double count = 1.0; /* exact up to 2^53; only compared with 2^31 */
    for (int i = 0; i < n; ++i) {
        if (dims[i] < 1)
            return clnet__fail(ctx, CLNET_ERR_SHAPE, "%s: %s dimension %d is %lld", what, kind, i,
                               (long long)dims[i]);
        if (dims[i] > CLNET_MAX_DIM)
            return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                               "%s: %s dimension %d is %lld, past the limit of %d", what, kind, i,
                               (long long)dims[i], CLNET_MAX_DIM);
        count *= (double)dims[i];
    }
    if (count > CLNET_MAX_ELEMENTS)
        return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                           "%s: %s of %.0f elements, past the limit of %d (2^31 - 1)", what, kind,
                           count, CLNET_MAX_ELEMENTS);
    return CLNET_OK;
}

clnet_status clnet__check_shape(clnet_context *ctx, const char *what, clnet_shape s, int weight)
{
    const int64_t all[4] = {s.n, s.h, s.w, s.c};
    if (weight)
        return check_dims(ctx, what, "a weight", all, 4);
    if (s.n < 1)
        return clnet__fail(ctx, CLNET_ERR_SHAPE, "%s: batch %d", what, s.n);
    return check_dims(ctx, what, "an image", all + 1, 3);
}

clnet_status clnet__op_out_shape(clnet_context *ctx, const char *what, int64_t n, int64_t h,
                                 int64_t w, int64_t c, clnet_shape *out)
{
    const int64_t dims[3] = {h, w, c};
    if (n < 1 || n > INT_MAX)
        return clnet__fail(ctx, CLNET_ERR_TOO_LARGE, "%s: batch %lld", what, (long long)n);
    CLNET_TRY(check_dims(ctx, what, "an output image", dims, 3));
    *out = (clnet_shape){(int)n, (int)h, (int)w, (int)c};
    return CLNET_OK;
}

clnet_status clnet__op_same_shape(clnet_context *ctx, const void *params, const clnet_shape *in,
                                  int n_in, clnet_shape *out)
{
    (void)ctx;
    (void)params;
    (void)n_in;
    *out = in[0];
    return CLNET_OK;
}

double clnet__op_flops_per_element(const void *params, const clnet_shape *in, int n_in,
                                   clnet_shape out)
{
    (void)params;
    (void)in;
    (void)n_in;
    return (double)clnet__shape_count(out);
}

clnet_status clnet__op_parse_none(clnet_context *ctx, clnet__kv *kv, void *params)
{
    (void)ctx;
    (void)kv;
    (void)params;
    return CLNET_OK;
}

double clnet__op_flops_none(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)in;
    (void)n_in;
    (void)out;
    return 0.0;
}

clnet_status clnet__op_parse(clnet_context *ctx, const clnet__op_desc *op, const char *text,
                             const char *where, void **params)
{
    return clnet__op_parse_at(ctx, op, text, where, 1, params);
}

/* The input pseudo-op of the spec (src/graph/spec.c reads its shape key itself). */
static const clnet_op_key input_keys[] = {
    {"shape", "h, w, c", NULL, "image height, width and channels", "28, 28, 1"},
};

static clnet_op_info infos[CLNET_COUNTOF(all_ops) + 1];
static pthread_once_t infos_once = PTHREAD_ONCE_INIT;

static void fill_infos(void)
{
    infos[0] = (clnet_op_info){"input",
                               "InputLayer",
                               "the image a model takes (one per model)",
                               0,
                               0,
                               input_keys,
                               (int)CLNET_COUNTOF(input_keys)};
    for (size_t i = 0; i < CLNET_COUNTOF(all_ops); ++i) {
        const clnet__op_desc *op = all_ops[i];
        infos[i + 1] = (clnet_op_info){op->name,       op->keras, op->description, op->min_inputs,
                                       op->max_inputs, op->keys,  op->n_keys};
    }
}

int clnet_op_count(void)
{
    return (int)CLNET_COUNTOF(infos);
}

const clnet_op_info *clnet_op_info_at(int i)
{
    if (i < 0 || i >= clnet_op_count())
        return NULL;
    pthread_once(&infos_once, fill_infos);
    return &infos[i];
}
