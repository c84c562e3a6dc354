/* tune.c - clnet_model_tune: the problems a model runs, each candidate checked against
 * the plain C reference and timed on the device, the winners stored in the tuning
 * database (src/device/tune_db.c) that the prepare steps of later plans consult. First
 * the algorithm of every distinct convolution (tune_conv.c), then every GEMM: those
 * are read from the execution records of the plan built after the convolutions' winners
 * were stored, so the tuner sees exactly the shapes, transposes and leading dimensions
 * the layers' records planned.
 * Tests: tests/models/test_tune.c. CLI: src/cli/tune.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm/gemm.h"
#include "ops/conv2d_algo.h"
#include "plan/plan.h"
#include "plan/tune.h"
#include "tensor/rng.h"

#define MAX_CANDIDATES 32
/* The host reference of the sampled rows stays within about this many multiply-adds. */
#define CHECK_MADDS 2e8

typedef struct recorded {
    clnet__gemm_args *g;
    unsigned char *prepacked; /* per problem: some step runs it prepacked */
    char (*layers)[128];      /* per problem: the layers (first of each step) that run it */
    int n, cap;
    int failed; /* out of host memory while recording */
    clnet_model *m;
    const clnet__plan *plan; /* the plan whose records are read, and the step */
    int step;
} recorded;

void clnet__tune_free(clnet_model *m)
{
    if (!m->tune)
        return;
    free(m->tune->rows);
    free(m->tune->text);
    free(m->tune);
    m->tune = NULL;
}

/* Appends the running step's first layer to a problem's list (once). */
static void note_layer(recorded *r, int i)
{
    if (!r->plan)
        return;
    const char *name = r->m->graph->layers[r->plan->steps[r->step].members[0]].name;
    char *list = r->layers[i];
    const size_t used = strlen(list), len = strlen(name), cap = sizeof r->layers[0];
    for (const char *at = strstr(list, name); at; at = strstr(at + 1, name))
        if ((at == list || at[-1] == ' ') && (at[len] == ',' || at[len] == '\0'))
            return;
    if (used >= 3 && strcmp(list + used - 3, "...") == 0)
        return;
    if (used + len + 3 < cap)
        snprintf(list + used, cap - used, "%s%s", used ? ", " : "", name);
    else if (used + 4 < cap)
        snprintf(list + used, cap - used, "...");
}

static void record(recorded *r, const clnet__gemm_plan *gp)
{
    const clnet__gemm_args *g = &gp->args;
    if (g->k == 0 || g->m == 0 || g->n == 0)
        return;
    for (int i = 0; i < r->n; ++i) {
        const clnet__gemm_args *h = &r->g[i];
        if (h->trans_a == g->trans_a && h->trans_b == g->trans_b && h->m == g->m && h->n == g->n &&
            h->k == g->k) {
            r->prepacked[i] |= gp->prepacked != 0;
            note_layer(r, i);
            return;
        }
    }
    if (r->n == r->cap) {
        const int cap = r->cap ? r->cap * 2 : 32;
        clnet__gemm_args *grown = realloc(r->g, (size_t)cap * sizeof *grown);
        if (grown)
            r->g = grown;
        unsigned char *packed = grown ? realloc(r->prepacked, (size_t)cap) : NULL;
        if (packed)
            r->prepacked = packed;
        char(*layers)[128] = packed ? realloc(r->layers, (size_t)cap * sizeof *layers) : NULL;
        if (!layers) {
            r->failed = 1;
            return;
        }
        r->layers = layers;
        r->cap = cap;
    }
    r->layers[r->n][0] = '\0';
    r->prepacked[r->n] = gp->prepacked != 0;
    r->g[r->n++] = *g;
    note_layer(r, r->n - 1);
}

/* The GEMMs of the plan of o's mode and batch, from its steps' execution records
 * (training: the forward and backward ones of the steps whose backward runs). */
static clnet_status collect(clnet_model *m, const clnet_tune_options *o, recorded *r)
{
    clnet__plan *p = NULL;
    int slice = 0;
    CLNET_TRY(clnet__model_plan(m, o->training != 0, o->batch, &p, &slice));
    r->m = m;
    r->plan = p;
    for (int s = 0; s < p->n_steps && !r->failed; ++s) {
        const clnet__step *st = &p->steps[s];
        r->step = s;
        for (int i = 0; i < st->exec.n_gemms; ++i)
            if (!st->exec.gemm_backward[i] || (p->training && st->backward))
                record(r, &st->exec.gemm[i]);
    }
    if (r->failed)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory recording GEMMs");
    return CLNET_OK;
}

void clnet__gemm_problem_free(clnet__gemm_problem *p)
{
    if (p->g.a)
        clReleaseMemObject(p->g.a);
    if (p->g.b)
        clReleaseMemObject(p->g.b);
    if (p->g.c)
        clReleaseMemObject(p->g.c);
    free(p->a);
    free(p->b);
    free(p->c0);
    free(p->c);
    free(p->want);
}

static float op_at(const float *x, int trans, int ld, int row, int col)
{
    return trans ? x[(size_t)col * ld + row] : x[(size_t)row * ld + col];
}

/* The reference of the sampled rows of C, in double. */
static void reference_rows(clnet__gemm_problem *p)
{
    const clnet__gemm_args *g = &p->g;
    double ss = 0.0;
    for (int r = 0; r < p->n_rows; ++r) {
        const int i = p->rows[r];
        for (int j = 0; j < g->n; ++j) {
            double s = 0.0;
            for (int q = 0; q < g->k; ++q)
                s += (double)op_at(p->a, g->trans_a, g->lda, i, q) *
                     op_at(p->b, g->trans_b, g->ldb, q, j);
            const double v = g->alpha * s + g->beta * p->c0[(size_t)i * g->ldc + j];
            p->want[(size_t)r * g->n + j] = v;
            ss += v * v;
        }
    }
    p->rms = sqrt(ss / ((double)p->n_rows * g->n));
}

static clnet_status upload(clnet_context *ctx, const float *host, size_t count, const char *what,
                           cl_mem *out)
{
    CLNET_TRY(clnet__buffer(ctx, count * sizeof(float), what, out));
    CLNET_CL_TRY(ctx, clEnqueueWriteBuffer(ctx->queue, *out, CL_TRUE, 0, count * sizeof(float),
                                           host, 0, NULL, NULL));
    return CLNET_OK;
}

clnet_status clnet__gemm_problem_init(clnet_context *ctx, const clnet__gemm_args *rec,
                                      uint64_t seed, clnet__gemm_problem *p)
{
    memset(p, 0, sizeof *p);
    p->g = *rec;
    clnet__gemm_args *g = &p->g;
    /* Packed operands at offset 0 with the recorded leading dimensions. */
    g->a_off = g->b_off = g->c_off = 0;
    p->a_count = (size_t)(g->trans_a ? g->k : g->m) * (size_t)g->lda;
    p->b_count = (size_t)(g->trans_b ? g->n : g->k) * (size_t)g->ldb;
    p->c_count = (size_t)g->m * (size_t)g->ldc;
    const int max_rows =
        (int)fmin(CLNET_TUNE_CHECK_ROWS, fmax(4.0, CHECK_MADDS / ((double)g->n * g->k)));
    p->a = malloc(p->a_count * sizeof(float));
    p->b = malloc(p->b_count * sizeof(float));
    p->c0 = malloc(p->c_count * sizeof(float));
    p->c = malloc(p->c_count * sizeof(float));
    p->want = malloc((size_t)max_rows * (size_t)g->n * sizeof(double));
    if (!p->a || !p->b || !p->c0 || !p->c || !p->want)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory tuning GEMM %dx%dx%d",
                           g->m, g->n, g->k);
    clnet__rng rng;
    clnet__rng_seed(&rng, seed);
    for (size_t i = 0; i < p->a_count; ++i)
        p->a[i] = (float)(2.0 * clnet__rng_uniform(&rng) - 1.0);
    for (size_t i = 0; i < p->b_count; ++i)
        p->b[i] = (float)(2.0 * clnet__rng_uniform(&rng) - 1.0);
    for (size_t i = 0; i < p->c_count; ++i)
        p->c0[i] = (float)(2.0 * clnet__rng_uniform(&rng) - 1.0);
    /* The first and last rows, the rows around the 8- and 32-row tile edges, random. */
    const int fixed[] = {0, g->m - 1, 7, 8, 31, 32, g->m / 2};
    for (size_t i = 0; i < CLNET_COUNTOF(fixed) && p->n_rows < max_rows; ++i)
        if (fixed[i] >= 0 && fixed[i] < g->m)
            p->rows[p->n_rows++] = fixed[i];
    while (p->n_rows < max_rows && p->n_rows < g->m)
        p->rows[p->n_rows++] = (int)(clnet__rng_next(&rng) % (uint64_t)g->m);
    reference_rows(p);
    CLNET_TRY(upload(ctx, p->a, p->a_count, "tuning A", &g->a));
    CLNET_TRY(upload(ctx, p->b, p->b_count, "tuning B", &g->b));
    return upload(ctx, p->c0, p->c_count, "tuning C", &g->c);
}

/* A candidate (NULL: the untuned default, the built-in rule) prepared for a problem, with
 * its scratch and, for a problem whose plan prepacks B, B's panels when the candidate can
 * take them, so timing runs allocate nothing and run as the plan would. */
typedef struct prepared_gemm {
    clnet__gemm_plan gp;
    clnet__scratch s;
    cl_mem b_packed;
} prepared_gemm;

/* The plan of a candidate; a prepacked problem's as the op would make it (conv2d.c):
 * the default prefers the prepacked panels to gemv, any packed plan takes them. */
static void candidate_plan(const clnet_context *ctx, const clnet__gemm_problem *p,
                           const clnet__tuned *cand, clnet__gemm_plan *gp, size_t *packed_bytes)
{
    clnet__gemm_prepare_with(ctx, &p->g, CLNET_GEMM_AUTO, cand, gp);
    *packed_bytes = 0;
    if (!p->prepacked)
        return;
    if (!cand)
        clnet__gemm_prefer_prepacked(ctx, gp);
    *packed_bytes = clnet__gemm_plan_prepack(gp);
}

static void gemm_release(prepared_gemm *pg)
{
    clnet__scratch_release(&pg->s);
    if (pg->b_packed)
        clReleaseMemObject(pg->b_packed);
    pg->b_packed = NULL;
}

static clnet_status gemm_prepare(clnet_context *ctx, const clnet__gemm_problem *p,
                                 const clnet__tuned *cand, prepared_gemm *pg)
{
    size_t packed = 0;
    memset(pg, 0, sizeof *pg);
    candidate_plan(ctx, p, cand, &pg->gp, &packed);
    if (packed) {
        float *host = malloc(packed);
        if (!host)
            return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory packing B");
        clnet_status st = clnet__gemm_prepack(ctx, &pg->gp, p->b, p->g.ldb, host);
        if (st == CLNET_OK)
            st = upload(ctx, host, packed / sizeof(float), "tuning B panels", &pg->b_packed);
        free(host);
        CLNET_TRY(st);
    }
    size_t bytes[CLNET_SCRATCH_COUNT] = {0};
    bytes[CLNET_SCRATCH_PACK_B] = pg->gp.scratch;
    const clnet_status st = clnet__scratch_create(ctx, bytes, &pg->s);
    if (st != CLNET_OK && pg->b_packed) {
        clReleaseMemObject(pg->b_packed);
        pg->b_packed = NULL;
    }
    return st;
}

/* One run of a prepared candidate on the problem's buffers, waited for. */
static clnet_status gemm_run(clnet_context *ctx, clnet__gemm_problem *p, const prepared_gemm *pg)
{
    CLNET_TRY(clnet__gemm_run_with(ctx, &pg->gp, &pg->s, &p->g, NULL, pg->b_packed));
    CLNET_CL_TRY(ctx, clFinish(ctx->queue));
    return CLNET_OK;
}

static clnet_status gemm_check(clnet_context *ctx, clnet__gemm_problem *p, const prepared_gemm *pg,
                               double *max_rel);

clnet_status clnet__gemm_problem_check(clnet_context *ctx, clnet__gemm_problem *p,
                                       const clnet__tuned *cand, double *max_rel)
{
    prepared_gemm pg;
    CLNET_TRY(gemm_prepare(ctx, p, cand, &pg));
    const clnet_status st = gemm_check(ctx, p, &pg, max_rel);
    gemm_release(&pg);
    return st;
}

/* Runs the candidate once from the initial C and compares the sampled rows with the
 * reference; the same relative measure as the GEMM tests (gemm_check.c). */
static clnet_status gemm_check(clnet_context *ctx, clnet__gemm_problem *p, const prepared_gemm *pg,
                               double *max_rel)
{
    const clnet__gemm_args *g = &p->g;
    CLNET_CL_TRY(ctx, clEnqueueWriteBuffer(ctx->queue, g->c, CL_TRUE, 0, p->c_count * sizeof(float),
                                           p->c0, 0, NULL, NULL));
    CLNET_TRY(gemm_run(ctx, p, pg));
    CLNET_CL_TRY(ctx, clEnqueueReadBuffer(ctx->queue, g->c, CL_TRUE, 0, p->c_count * sizeof(float),
                                          p->c, 0, NULL, NULL));
    *max_rel = 0.0;
    for (int r = 0; r < p->n_rows; ++r)
        for (int j = 0; j < g->n; ++j) {
            const double want = p->want[(size_t)r * g->n + j];
            const double got = p->c[(size_t)p->rows[r] * g->ldc + j];
            double rel = fabs(got - want) / (fabs(want) + p->rms + 1e-7);
            if (rel != rel)
                rel = INFINITY;
            if (rel > *max_rel)
                *max_rel = rel;
        }
    return CLNET_OK;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

clnet_status clnet__tune_median_ms(const timed_run *r, int repeats, double *ms)
{
    double t[64];
    if (repeats > (int)CLNET_COUNTOF(t))
        repeats = (int)CLNET_COUNTOF(t);
    for (int i = 0; i < repeats; ++i) {
        const double t0 = clnet__now();
        CLNET_TRY(r->run(r));
        t[i] = (clnet__now() - t0) * 1e3;
    }
    qsort(t, (size_t)repeats, sizeof t[0], cmp_double);
    *ms = t[repeats / 2];
    return CLNET_OK;
}

static clnet_status gemm_timed(const timed_run *r)
{
    return gemm_run(r->ctx, r->problem, r->prepared);
}

clnet_tune_row *clnet__tune_add_row(clnet_context *ctx, tune_result *res, const char *problem,
                                    const char *candidate, const char *layers)
{
    if (res->n == res->cap) {
        const int cap = res->cap ? res->cap * 2 : 64;
        clnet_tune_row *rows = realloc(res->rows, (size_t)cap * sizeof *rows);
        if (rows)
            res->rows = rows;
        char(*text)[3][128] = rows ? realloc(res->text, (size_t)cap * sizeof *text) : NULL;
        if (!rows || !text) {
            clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
            return NULL;
        }
        res->text = text;
        res->cap = cap;
    }
    clnet_tune_row *row = &res->rows[res->n];
    snprintf(res->text[res->n][0], sizeof res->text[0][0], "%s", problem);
    snprintf(res->text[res->n][1], sizeof res->text[0][1], "%s", candidate);
    snprintf(res->text[res->n][2], sizeof res->text[0][2], "%s", layers);
    memset(row, 0, sizeof *row);
    res->n++;
    return row;
}

static void candidate_name(const clnet__tuned *c, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "%s", c->choice);
    for (int i = 0; i < c->n_params && used < len; ++i)
        used += (size_t)snprintf(buf + used, len - used, " %s=%d", c->param_keys[i],
                                 c->param_values[i]);
}

/* Times every candidate of one recorded GEMM (prepacked: as a plan that prepacks B runs
 * it); *winner gets the fastest that matched the reference (its choice, params and
 * times). */
static clnet_status tune_gemm(clnet_model *m, const clnet_tune_options *o,
                              const clnet__gemm_args *rec, int prepacked, const char *layers,
                              uint64_t seed, clnet__tuned *winner)
{
    clnet_context *ctx = m->ctx;
    clnet__gemm_problem p;
    clnet__tuned cand[MAX_CANDIDATES + 1];
    const int n_cand = clnet__gemm_candidates(ctx, rec, o->gemm_library, cand + 1, MAX_CANDIDATES);
    char key[96], name[128];
    clnet__gemm_key(rec, key, sizeof key);
    clnet_status st = clnet__gemm_problem_init(ctx, rec, seed, &p);
    p.prepacked = prepacked;
    /* What a plan runs without an entry. */
    clnet__gemm_plan rule;
    size_t rule_packed = 0;
    candidate_plan(ctx, &p, NULL, &rule, &rule_packed);
    const char *default_impl = clnet__gemm_impl_name(rule.impl);
    const int first_row = m->tune->n;
    double best = INFINITY;
    int best_i = -1;
    /* Candidate 0 is the default: what clnet__gemm runs without an entry. */
    for (int c = 0; st == CLNET_OK && c <= n_cand; ++c) {
        const clnet__tuned *cnd = c ? &cand[c] : NULL;
        if (cnd)
            candidate_name(cnd, name, sizeof name);
        else
            snprintf(name, sizeof name, "default (%s%s)", default_impl,
                     rule_packed ? ", prepacked" : "");
        clnet_tune_row *row = clnet__tune_add_row(ctx, m->tune, key, name, layers);
        if (!row) {
            st = CLNET_ERR_OUT_OF_MEMORY;
            break;
        }
        row->is_default = c == 0;
        /* A candidate that fails to run (unsupported here, out of resources) or
         * differs from the reference is reported and skipped, not fatal. */
        prepared_gemm pg;
        row->status = gemm_prepare(ctx, &p, cnd, &pg);
        if (row->status == CLNET_OK)
            row->status = gemm_check(ctx, &p, &pg, &row->max_rel_err);
        if (row->status == CLNET_OK && !(row->max_rel_err <= CLNET_GEMM_RTOL))
            row->status = CLNET_ERR_MISMATCH;
        if (row->status == CLNET_OK)
            row->status =
                clnet__tune_median_ms(&(timed_run){ctx, &p, &pg, gemm_timed}, o->repeats, &row->ms);
        gemm_release(&pg);
        if (row->status != CLNET_OK) {
            row->ms = 0.0;
            continue;
        }
        if (row->ms < best) {
            best = row->ms;
            best_i = c;
        }
    }
    /* Within the timing noise of the default, the default stays: an entry should be
     * a measured improvement, not a coin toss. */
    const double default_ms = m->tune->rows[first_row].ms;
    if (best_i > 0 && default_ms > 0.0 && best > default_ms * (1.0 - TUNE_MARGIN)) {
        best_i = 0;
        best = default_ms;
    }
    if (st == CLNET_OK && best_i < 0)
        st = clnet__fail(ctx, CLNET_ERR_MISMATCH, "%s: no candidate matched the reference", key);
    if (st == CLNET_OK) {
        m->tune->rows[first_row + best_i].is_winner = 1;
        if (best_i == 0) {
            /* The default won: store the implementation it ran, without parameters. */
            memset(winner, 0, sizeof *winner);
            snprintf(winner->choice, sizeof winner->choice, "%s", default_impl);
        } else {
            *winner = cand[best_i];
        }
        snprintf(winner->key, sizeof winner->key, "%s", key);
        winner->ms = best;
        winner->default_ms = default_ms;
    }
    clnet__gemm_problem_free(&p);
    return st;
}

static void finish_rows(tune_result *res)
{
    for (int i = 0; i < res->n; ++i) {
        res->rows[i].problem = res->text[i][0];
        res->rows[i].candidate = res->text[i][1];
        res->rows[i].layers = res->text[i][2];
    }
}

clnet_status clnet_model_tune(clnet_model *m, const clnet_tune_options *opt,
                              const clnet_tune_row **rows, int *n)
{
    if (rows)
        *rows = NULL;
    if (n)
        *n = 0;
    if (!m || !rows || !n)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_model_tune: NULL argument")
                 : CLNET_ERR_INVALID_ARG;
    clnet_tune_options o = opt ? *opt : (clnet_tune_options){0};
    o.batch = o.batch > 0 ? o.batch : 1;
    o.repeats = o.repeats > 0 ? o.repeats : 5;
    clnet_context *ctx = m->ctx;
    if (!o.dry_run && !ctx->stats.tune_db[0])
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "no tuning database: set $CLNET_TUNE_DB (or HOME), or tune a dry run");
    clnet__tune_free(m);
    m->tune = calloc(1, sizeof *m->tune);
    if (!m->tune)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    /* Convolution algorithms first: they decide which GEMMs run. Stored before the
     * GEMMs are collected, so those are the ones the chosen algorithms call. */
    clnet__tuned *convs = NULL;
    int n_convs = 0;
    clnet_status st = clnet__tune_convs(m, &o, &convs, &n_convs);
    if (st == CLNET_OK && !o.dry_run && n_convs)
        st = clnet__tune_save(ctx, convs, n_convs);
    free(convs);
    recorded rec = {0};
    clnet__tuned *winners = NULL;
    if (st == CLNET_OK)
        st = collect(m, &o, &rec);
    if (st == CLNET_OK && rec.n) {
        winners = calloc((size_t)rec.n, sizeof *winners);
        if (!winners)
            st = clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    for (int i = 0; st == CLNET_OK && i < rec.n; ++i)
        st = tune_gemm(m, &o, &rec.g[i], rec.prepacked[i], rec.layers[i], 1000u + (uint64_t)i,
                       &winners[i]);
    if (st == CLNET_OK && !o.dry_run && rec.n)
        st = clnet__tune_save(ctx, winners, rec.n);
    free(winners);
    free(rec.g);
    free(rec.prepacked);
    free(rec.layers);
    finish_rows(m->tune);
    if (st != CLNET_OK)
        return st;
    *rows = m->tune->rows;
    *n = m->tune->n;
    return CLNET_OK;
}
