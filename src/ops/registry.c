/* registry.c - the op registry built from op_list.h, and op parameter parsing. */
#include <limits.h>
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
        st = clnet__kv_check_unused(ctx, kv, op->name);
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

clnet_status clnet__op_parse(clnet_context *ctx, const clnet__op_desc *op, const char *text,
                             const char *where, void **params)
{
    return clnet__op_parse_at(ctx, op, text, where, 1, params);
}
