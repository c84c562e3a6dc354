/* registry.c - the op registry built from op_list.h, and op parameter parsing. */
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
