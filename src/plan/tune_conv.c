/* tune_conv.c - clnet_model_tune's first part (tune.c): the algorithm of every distinct
 * convolution, forward and in training dX, each applicable algorithm checked against a
 * double-precision reference and timed on tensors of its own.
 * Tests: tests/models/test_tune.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv2d_algo.h"
#include "plan/plan.h"
#include "plan/tune.h"
#include "tensor/rng.h"

/* One convolution step's problem on tensors of its own, with the reference result in
 * double. Forward: x, kernel, bias, residual (as the step has them) -> y. dX: dpre (in
 * in[0], shaped like y), kernel -> dx (in out, shaped like x). */
typedef struct conv_problem {
    clnet__conv_geom g;
    int dx;
    const clnet__step *step;
    clnet_tensor *in[2], *w[2], *out;
    int n_in, n_w;
    double *want;
    float *got;
    double rms;
} conv_problem;

static void conv_problem_free(conv_problem *p)
{
    for (int i = 0; i < 2; ++i) {
        clnet_tensor_destroy(p->in[i]);
        clnet_tensor_destroy(p->w[i]);
    }
    clnet_tensor_destroy(p->out);
    free(p->want);
    free(p->got);
}

/* A device tensor of shape s from seeded uniform(-1, 1) data, its host copy in d. */
static clnet_status random_tensor(clnet_context *ctx, clnet_shape s, uint64_t seed,
                                  clnet_tensor **t, double **d)
{
    const size_t n = clnet__shape_count(s);
    float *f = malloc(n * sizeof *f);
    *d = malloc(n * sizeof **d);
    clnet_status st = f && *d ? clnet_tensor_create(ctx, s, t) : CLNET_ERR_OUT_OF_MEMORY;
    clnet__rng rng;
    clnet__rng_seed(&rng, seed);
    for (size_t i = 0; f && *d && i < n; ++i) {
        f[i] = (float)(2.0 * clnet__rng_uniform(&rng) - 1.0);
        (*d)[i] = f[i];
    }
    if (st == CLNET_OK)
        st = clnet_tensor_write(*t, f, n);
    free(f);
    return st == CLNET_ERR_OUT_OF_MEMORY && !*t
               ? clnet__fail(ctx, st, "out of host memory tuning a convolution")
               : st;
}

/* The data gradient of convolution g in double: dx[n][ih][iw][ci] = the sum over the
 * kernel taps and cout of dpre[n][oh][ow][co] w[kh][kw][ci][co], ih = oh*sh - pad_t + kh. */
static void reference_dx(const clnet__conv_geom *g, const double *dpre, const double *w, double *dx)
{
    for (int n = 0; n < g->batch; ++n)
        for (int oh = 0; oh < g->out_h; ++oh)
            for (int ow = 0; ow < g->out_w; ++ow)
                for (int kh = 0; kh < g->kh; ++kh)
                    for (int kw = 0; kw < g->kw; ++kw) {
                        const int ih = oh * g->sh - g->pad_t + kh, iw = ow * g->sw - g->pad_l + kw;
                        if (ih < 0 || ih >= g->in_h || iw < 0 || iw >= g->in_w)
                            continue;
                        const double *d =
                            dpre + (((size_t)n * g->out_h + oh) * g->out_w + ow) * (size_t)g->cout;
                        const double *wk = w + ((size_t)kh * g->kw + kw) * g->cin * (size_t)g->cout;
                        double *o = dx + (((size_t)n * g->in_h + ih) * g->in_w + iw) * g->cin;
                        for (int ci = 0; ci < g->cin; ++ci)
                            for (int co = 0; co < g->cout; ++co)
                                o[ci] += d[co] * wk[(size_t)ci * g->cout + co];
                    }
}

static clnet_status conv_problem_init(clnet_model *m, const clnet__step *s,
                                      const clnet__conv_geom *g, int dx, uint64_t seed,
                                      conv_problem *p)
{
    clnet_context *ctx = m->ctx;
    memset(p, 0, sizeof *p);
    p->g = *g;
    p->dx = dx;
    p->step = s;
    p->n_in = dx ? 1 : s->n_in;
    const clnet__conv2d_params *cp = s->params;
    p->n_w = cp->use_bias && !dx ? 2 : 1;
    clnet_shape in_shape[2], w_shape[2];
    double *in[2] = {NULL, NULL}, *w[2] = {NULL, NULL};
    const clnet_shape x_shape = {g->batch, g->in_h, g->in_w, g->cin};
    const clnet_shape y_shape = {g->batch, g->out_h, g->out_w, g->cout};
    const clnet_shape out = dx ? x_shape : y_shape;
    in_shape[0] = dx ? y_shape : x_shape;
    in_shape[1] = y_shape;
    w_shape[0] = (clnet_shape){g->kh, g->kw, g->cin, g->cout};
    w_shape[1] = (clnet_shape){1, 1, 1, g->cout};
    clnet_status st = CLNET_OK;
    for (int i = 0; st == CLNET_OK && i < p->n_in; ++i)
        st = random_tensor(ctx, in_shape[i], seed + (uint64_t)i, &p->in[i], &in[i]);
    for (int i = 0; st == CLNET_OK && i < p->n_w; ++i)
        st = random_tensor(ctx, w_shape[i], seed + 2 + (uint64_t)i, &p->w[i], &w[i]);
    const size_t count = clnet__shape_count(out);
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, out, &p->out);
    p->want = st == CLNET_OK ? calloc(count, sizeof *p->want) : NULL;
    p->got = st == CLNET_OK ? malloc(count * sizeof *p->got) : NULL;
    if (st == CLNET_OK && (!p->want || !p->got))
        st = clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory tuning a convolution");
    if (st == CLNET_OK && dx)
        reference_dx(g, in[0], w[0], p->want);
    if (st == CLNET_OK && !dx) {
        const clnet__ref_args a = {.params = s->params,
                                   .n_in = p->n_in,
                                   .in_shape = in_shape,
                                   .in = (const double *const *)in,
                                   .out_shape = out,
                                   .out = p->want,
                                   .n_w = p->n_w,
                                   .w_shape = w_shape,
                                   .w = w};
        s->op->ref_forward(&a);
    }
    if (st == CLNET_OK) {
        double ss = 0.0;
        for (size_t i = 0; i < count; ++i)
            ss += p->want[i] * p->want[i];
        p->rms = sqrt(ss / (double)count);
    }
    for (int i = 0; i < 2; ++i) {
        free(in[i]);
        free(w[i]);
    }
    return st;
}

/* A convolution step prepared with algo forced (forward, or dX) and the built-in GEMM
 * choices, so candidates compare like with like; scratch of its own. */
static clnet_status conv_prepare(clnet_context *ctx, const conv_problem *p, clnet__conv_algo algo,
                                 clnet__op_alone *a)
{
    memset(a, 0, sizeof *a);
    const clnet_shape in[2] = {{p->g.batch, p->g.in_h, p->g.in_w, p->g.cin},
                               {p->g.batch, p->g.out_h, p->g.out_w, p->g.cout}};
    CLNET_TRY(clnet__conv2d_prepare_with(ctx, p->step->params, in, p->dx ? 1 : p->n_in, p->dx,
                                         p->dx ? CLNET_CONV_AUTO : algo,
                                         p->dx ? algo : CLNET_CONV_AUTO, 0, &a->exec));
    size_t bytes[CLNET_SCRATCH_COUNT];
    for (int k = 0; k < CLNET_SCRATCH_COUNT; ++k)
        bytes[k] = a->exec.scratch[p->dx][k];
    return clnet__scratch_create(ctx, bytes, &a->scratch);
}

/* One forward (or dX) as prepared, waited for. */
static clnet_status conv_run(clnet_context *ctx, conv_problem *p, const clnet__op_alone *a)
{
    const clnet__op_call call = {.ctx = ctx,
                                 .params = p->step->params,
                                 .n_in = p->n_in,
                                 .in = p->in,
                                 .out = p->out,
                                 .n_w = p->n_w,
                                 .w = p->w,
                                 .exec = &a->exec,
                                 .scratch = &a->scratch};
    const clnet_status st = p->dx ? clnet__conv2d_dx(ctx, &a->exec, &a->scratch, &p->g,
                                                     p->in[0]->buf, p->w[0]->buf, p->out->buf)
                                  : clnet__op_conv2d.forward(&call);
    return st == CLNET_OK ? clnet_context_finish(ctx) : st;
}

static clnet_status conv_check(clnet_context *ctx, conv_problem *p, const clnet__op_alone *a,
                               double *max_rel)
{
    CLNET_TRY(clnet_tensor_fill(p->out, NAN));
    CLNET_TRY(conv_run(ctx, p, a));
    const size_t count = p->out->count;
    CLNET_TRY(clnet_tensor_read(p->out, p->got, count));
    *max_rel = 0.0;
    for (size_t i = 0; i < count; ++i) {
        double rel = fabs(p->got[i] - p->want[i]) / (fabs(p->want[i]) + p->rms + 1e-7);
        if (rel != rel)
            rel = INFINITY;
        if (rel > *max_rel)
            *max_rel = rel;
    }
    return CLNET_OK;
}

static clnet_status conv_timed(const timed_run *r)
{
    return conv_run(r->ctx, r->problem, r->prepared);
}

/* The layers (first of each step) of the plan's convolutions with geometry key. */
/* Whether algo is a candidate for the forward (dx 0) or the data gradient of g: the direct
 * algorithm has no dX of its own (it runs im2col's). */
static int direction_ok(int dx, clnet__conv_algo algo, const clnet__conv_geom *g)
{
    return clnet__conv2d_algo_ok(algo, g) &&
           !(dx && (algo == CLNET_CONV_DIRECT || algo == CLNET_CONV_IMPLICIT));
}

static void conv_layers(clnet_model *m, const clnet__plan *plan, const char *key, int dx, char *buf,
                        size_t len)
{
    buf[0] = '\0';
    for (int s = 0; s < plan->n_steps; ++s) {
        const clnet__step *st = &plan->steps[s];
        clnet__conv_geom g;
        char k[96];
        if (strcmp(st->op->name, "conv2d") != 0 ||
            clnet__conv2d_geom(m->ctx, st->params, plan->values[st->in[0]].view.shape, &g) !=
                CLNET_OK)
            continue;
        clnet__conv2d_key(&g, dx, k, sizeof k);
        const size_t used = strlen(buf);
        if (strcmp(k, key) == 0 && used + 4 < len)
            snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                     m->graph->layers[st->members[0]].name);
    }
}

/* Times the algorithms of every distinct convolution of the inference plan; the
 * winners (one per problem) are appended to *winners. */
clnet_status clnet__tune_convs(clnet_model *m, const clnet_tune_options *o, clnet__tuned **winners,
                               int *n_winners)
{
    clnet_context *ctx = m->ctx;
    clnet__plan *plan = NULL;
    int slice = 0;
    CLNET_TRY(clnet__model_plan(m, 0, o->batch, &plan, &slice));
    /* dX problems in training only; the plan's first convolution needs no dX, but its
     * geometry may repeat deeper, so every geometry gets one. */
    for (int i = 0; i < plan->n_steps * (1 + (o->training != 0)); ++i) {
        const int s = i % plan->n_steps, dx = i >= plan->n_steps;
        const clnet__step *st = &plan->steps[s];
        clnet__conv_geom g;
        char key[96], layers[128];
        if (strcmp(st->op->name, "conv2d") != 0)
            continue;
        CLNET_TRY(clnet__conv2d_geom(ctx, st->params, plan->values[st->in[0]].view.shape, &g));
        clnet__conv2d_key(&g, dx, key, sizeof key);
        int seen = 0;
        for (int j = 0; j < *n_winners && !seen; ++j)
            seen = strcmp((*winners)[j].key, key) == 0;
        /* Only convolutions with a choice: one algorithm is nothing to tune. */
        int choices = 0;
        for (int a = CLNET_CONV_IM2COL; a < CLNET_CONV_ALGO_COUNT; ++a)
            choices += direction_ok(dx, (clnet__conv_algo)a, &g);
        if (seen || choices < 2)
            continue;
        conv_layers(m, plan, key, dx, layers, sizeof layers);
        clnet__tuned *grown = realloc(*winners, (size_t)(*n_winners + 1) * sizeof *grown);
        if (!grown)
            return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        *winners = grown;
        conv_problem p;
        clnet_status status = conv_problem_init(m, st, &g, dx, 500u + (uint64_t)i, &p);
        const int first_row = m->tune->n;
        double best = INFINITY;
        int best_row = -1;
        /* The applicable algorithms, the untuned choice first (the default row). */
        clnet__conv_algo algos[CLNET_CONV_ALGO_COUNT];
        int n_algos = 0;
        algos[n_algos++] = clnet__conv2d_pick(ctx, &g, dx, 0, NULL);
        for (int a = CLNET_CONV_IM2COL; a < CLNET_CONV_ALGO_COUNT; ++a)
            if (a != (int)algos[0] && direction_ok(dx, (clnet__conv_algo)a, &g))
                algos[n_algos++] = (clnet__conv_algo)a;
        for (int c = 0; status == CLNET_OK && c < n_algos; ++c) {
            const clnet__conv_algo algo = algos[c];
            char name[64];
            snprintf(name, sizeof name, "%s%s", clnet__conv_algo_name(algo), c ? "" : " (default)");
            clnet_tune_row *row = clnet__tune_add_row(ctx, m->tune, key, name, layers);
            if (!row) {
                status = CLNET_ERR_OUT_OF_MEMORY;
                break;
            }
            row->is_default = c == 0;
            clnet__op_alone a;
            row->status = conv_prepare(ctx, &p, algo, &a);
            if (row->status == CLNET_OK)
                row->status = conv_check(ctx, &p, &a, &row->max_rel_err);
            if (row->status == CLNET_OK && !(row->max_rel_err <= CLNET_GEMM_RTOL))
                row->status = CLNET_ERR_MISMATCH;
            if (row->status == CLNET_OK)
                row->status = clnet__tune_median_ms(&(timed_run){ctx, &p, &a, conv_timed},
                                                    o->repeats, &row->ms);
            clnet__op_alone_release(&a);
            if (row->status != CLNET_OK) {
                row->ms = 0.0;
                continue;
            }
            if (row->ms < best) {
                best = row->ms;
                best_row = (int)(row - m->tune->rows);
            }
        }
        conv_problem_free(&p);
        CLNET_TRY(status);
        if (best_row < 0)
            return clnet__fail(ctx, CLNET_ERR_MISMATCH, "%s: no algorithm matched the reference",
                               key);
        /* Within the noise of the default, the default stays (as for GEMMs). */
        const double default_ms = m->tune->rows[first_row].ms;
        if (default_ms > 0.0 && best > default_ms * (1.0 - TUNE_MARGIN)) {
            best = default_ms;
            best_row = first_row;
        }
        m->tune->rows[best_row].is_winner = 1;
        clnet__tuned *w = &(*winners)[(*n_winners)++];
        memset(w, 0, sizeof *w);
        snprintf(w->key, sizeof w->key, "%s", key);
        snprintf(w->choice, sizeof w->choice, "%s",
                 clnet__conv_algo_name(algos[best_row - first_row]));
        w->ms = best;
        w->default_ms = default_ms;
    }
    return CLNET_OK;
}
