/* selftest.c - clnet_selftest: every registered op, each requested class, against
 * the reference (check.c). */
#include <stdio.h>
#include <string.h>

#include "gemm/gemm.h"
#include "ops/op.h"

typedef struct row_ctx {
    clnet_selftest_fn report;
    void *user;
    const char *variant;
} row_ctx;

static void forward_row(void *user, const clnet__op_desc *op, const clnet__op_case *c,
                        const clnet__check_row *row)
{
    const row_ctx *r = user;
    char shape[200], s0[48];
    snprintf(shape, sizeof shape, "%s%s%s", clnet__shape_str(c->in[0], s0, sizeof s0),
             c->params[0] ? " " : "", c->params);
    for (char *p = shape; *p; ++p)
        if (*p == '\n')
            *p = ' ';
    clnet_selftest_row out = {op->name,     r->variant,   row->check, shape,
                              row->max_abs, row->max_rel, row->passed};
    if (r->report)
        r->report(r->user, &out);
}

typedef struct gemm_row_ctx {
    const row_ctx *r;
    const char *impl;
} gemm_row_ctx;

static void gemm_row(void *user, const char *shape, double max_abs, double max_rel, int passed)
{
    const gemm_row_ctx *g = user;
    clnet_selftest_row out = {"gemm", g->r->variant, g->impl, shape, max_abs, max_rel, passed};
    if (g->r->report)
        g->r->report(g->r->user, &out);
}

/* Every GEMM implementation with this class's parameters: the class's own choice
 * is what its ops use, the others are candidates a tuner may pick. */
static clnet_status check_gemms(clnet_context *ctx, const row_ctx *r, int *failed)
{
    static const clnet__gemm_impl impls[] = {CLNET_GEMM_CLBLAST, CLNET_GEMM_PACKED,
                                             CLNET_GEMM_TILED, CLNET_GEMM_GEMV};
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; ++i) {
        gemm_row_ctx g = {r, clnet__gemm_impl_name(impls[i])};
        CLNET_TRY(clnet__gemm_check(ctx, impls[i], gemm_row, &g, failed));
    }
    return CLNET_OK;
}

clnet_status clnet_selftest(const clnet_context_options *opt, const clnet_device_class *classes,
                            int n_classes, clnet_selftest_fn report, void *user, int *failed,
                            clnet_context_stats *stats)
{
    if (!classes || n_classes <= 0 || !failed)
        return CLNET_ERR_INVALID_ARG;
    *failed = 0;
    if (stats)
        memset(stats, 0, sizeof *stats);
    int n_ops = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n_ops);
    for (int k = 0; k < n_classes; ++k) {
        clnet_context_options o = {0};
        if (opt)
            o = *opt;
        o.device_class = classes[k];
        clnet_context *ctx = NULL;
        CLNET_TRY(clnet_context_create(&o, &ctx));
        row_ctx r = {report, user, clnet_device_class_name(classes[k])};
        clnet_status st = check_gemms(ctx, &r, failed);
        for (int i = 0; i < n_ops && st == CLNET_OK; ++i)
            for (int j = 0; j < ops[i]->n_cases && st == CLNET_OK; ++j)
                st = clnet__op_check(ctx, ops[i], &ops[i]->cases[j], 4242u + (uint64_t)j, 1e-4,
                                     forward_row, &r, failed);
        if (stats) {
            clnet_context_stats s;
            clnet_context_get_stats(ctx, &s);
            stats->programs_built += s.programs_built;
            stats->programs_cached += s.programs_cached;
            stats->cache_writes += s.cache_writes;
            stats->cache_rejected += s.cache_rejected;
            stats->build_seconds += s.build_seconds;
            stats->cache_enabled = s.cache_enabled;
            stats->driver_cache = s.driver_cache;
            memcpy(stats->cache_dir, s.cache_dir, sizeof s.cache_dir);
        }
        if (st != CLNET_OK && opt && opt->error && opt->error_len)
            snprintf(opt->error, opt->error_len, "%s", clnet_context_error(ctx));
        clnet_context_destroy(ctx);
        if (st != CLNET_OK)
            return st;
    }
    return CLNET_OK;
}
