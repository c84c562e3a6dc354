/* test_plan.c - the memory plan (src/plan/memory.c) and inference slicing: buffers
 * shared only by tensors whose lives do not overlap, checked structurally and by
 * poisoning every buffer whose tenant died (a plan that lets a dead tensor be read
 * then gives NaN or other numbers than one buffer per tensor). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"

/* A value placed in a concatenation's buffer (memory.c): inference only, the host a
 * concatenation's output with a buffer of its own whose life covers the value's, from its
 * producer's write to the concatenation (its only reader); its channels inside the host's
 * and apart from every other placed value's of that host. */
static void expect_placed(const clnet__plan *p, int i)
{
    const clnet__value *v = &p->values[i], *h = &p->values[v->host];
    cr_assert(!p->training, "value %d placed in a training plan", i);
    cr_assert(h->def >= 0 && (p->steps[h->def].op->flags & CLNET_OP_CHANNEL_CONCAT) &&
                  p->steps[h->def].in_place,
              "value %d's host %d is no in-place concatenation", i, v->host);
    cr_expect(v->slot < 0 && v->alias < 0 && h->host < 0 && h->alias < 0 && h->slot >= 0);
    cr_expect(v->def >= 0 && p->steps[v->def].exec.strided_out, "value %d: producer", i);
    cr_expect(h->first <= v->def && v->last == h->def && h->def <= h->last,
              "value %d lives [%d, %d], its host [%d, %d]", i, v->def, v->last, h->first, h->last);
    cr_expect(v->host_channel >= 0 && v->host_channel + v->view.shape.c <= h->view.shape.c);
    cr_expect_eq(v->view.buf, h->view.buf);
    for (int j = 0; j < p->n_values; ++j) {
        const clnet__value *o = &p->values[j];
        if (j != i && o->host == v->host)
            cr_expect(o->host_channel + o->view.shape.c <= v->host_channel ||
                          v->host_channel + v->view.shape.c <= o->host_channel,
                      "values %d and %d overlap in their host's channels", i, j);
    }
    for (int s = 0; s < p->n_steps; ++s)
        for (int k = 0; k < p->steps[s].n_in; ++k)
            cr_expect(p->steps[s].in[k] != i || s == h->def, "value %d: read by step %d", i, s);
}

/* No two tensors of one buffer are live at the same time: values, gradients and each
 * step's scratch (live during its step alone, sharing buffers with the others). Values
 * placed in a concatenation's buffer are checked against their host (expect_placed).
 * Returns how many scratch tensors it checked. */
static int expect_disjoint(const clnet__plan *p)
{
    typedef struct {
        int slot, first, last;
    } life;
    life *l =
        calloc(2 * (size_t)p->n_values + 2 * CLNET_SCRATCH_COUNT * (size_t)p->n_steps, sizeof *l);
    int n = 0, scratch = 0;
    for (int s = 0; s < p->n_steps; ++s)
        for (int d = 0; d < 2; ++d)
            for (int k = 0; k < CLNET_SCRATCH_COUNT; ++k) {
                const clnet__step *st = &p->steps[s];
                if (!st->exec.scratch[d][k] || (d && !(p->training && st->backward)))
                    continue;
                const int t = d ? 2 * p->n_steps - 1 - s : s, slot = st->scratch_slot[d][k];
                cr_assert(slot >= 0 && slot < p->n_slots, "step %d: no buffer for scratch %d", s,
                          k);
                cr_expect(p->slot_bytes[slot] >= st->exec.scratch[d][k]);
                cr_expect_eq(st->scratch[d].mem[k], p->slots[slot]);
                l[n++] = (life){slot, t, t};
                ++scratch;
            }
    for (int i = 0; i < p->n_values; ++i) {
        const clnet__value *v = &p->values[i];
        if (v->alias < 0 && v->slot >= 0)
            l[n++] = (life){v->slot, v->first, v->last};
        if (v->grad_slot >= 0)
            l[n++] = (life){v->grad_slot, v->grad_first, v->grad_last};
        if (v->host >= 0)
            expect_placed(p, i);
    }
    for (int a = 0; a < n; ++a)
        for (int b = a + 1; b < n; ++b)
            if (l[a].slot == l[b].slot)
                cr_expect(l[a].last < l[b].first || l[b].last < l[a].first,
                          "buffer %d: lives [%d, %d] and [%d, %d] overlap", l[a].slot, l[a].first,
                          l[a].last, l[b].first, l[b].last);
    free(l);
    return scratch;
}

/* Forward (and in training backward) of the same input and weights, planned with
 * poison against one buffer per tensor, the convolutions by algo ("": the class's rule):
 * outputs and weight gradients must be equal. */
static int poisoned_equals_unplanned(clnet_graph *g, int training, const char *algo)
{
    clnet_context *ctx = clnet_test_device();
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "%s", algo);
    clnet_model *planned = clnet_test_model(ctx, g, 1, 1, 5),
                *plain = clnet_test_model(ctx, g, 1, 0, 5);
    planned->poison = 1;
    clnet_test_randomize_weights(plain, 3);
    clnet_test_copy_weights(planned, plain);
    clnet_tensor *x = clnet_test_input(ctx, g, 2, 8);
    clnet_tensor *ya = NULL, *yb = NULL;
    cr_assert_eq(clnet_model_forward(planned, x, training, &ya), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    cr_assert_eq(clnet_model_forward(plain, x, training, &yb), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    float *a = clnet_test_host(ya), *b = clnet_test_host(yb);
    const size_t n = clnet_tensor_count(ya);
    cr_expect_eq(clnet_test_max_abs_diff(a, b, n), 0.0f, "outputs differ");
    const int scratch = expect_disjoint(planned->plans[training]);
    cr_expect_lt(planned->plans[training]->planned_bytes, plain->plans[training]->planned_bytes);
    if (training) {
        float *r = clnet_test_random(n, 9);
        clnet_tensor *dy = clnet_test_tensor(ctx, clnet_tensor_shape(ya), r);
        cr_assert_eq(clnet_model_backward(planned, dy), CLNET_OK, "%s", clnet_context_error(ctx));
        cr_assert_eq(clnet_model_backward(plain, dy), CLNET_OK, "%s", clnet_context_error(ctx));
        for (int i = 0; i < clnet_model_weight_count(plain); ++i) {
            clnet_weight_info info;
            clnet_tensor *ga = NULL, *gb = NULL;
            cr_assert_eq(clnet_model_weight(planned, i, &info, NULL, &ga), CLNET_OK);
            cr_assert_eq(clnet_model_weight(plain, i, NULL, NULL, &gb), CLNET_OK);
            if (!ga)
                continue;
            float *da = clnet_test_host(ga), *db = clnet_test_host(gb);
            cr_expect_eq(clnet_test_max_abs_diff(da, db, clnet_tensor_count(ga)), 0.0f,
                         "%s/%s: gradients differ", info.layer, info.name);
            free(da);
            free(db);
        }
        free(r);
        clnet_tensor_destroy(dy);
    }
    free(a);
    free(b);
    clnet_tensor_destroy(x);
    clnet_model_destroy(planned);
    clnet_model_destroy(plain);
    ctx->conv_algo[0] = '\0';
    return scratch;
}

/* The three small networks, in one mode, by the class's rule and with im2col forced
 * (scratch: the CPU class's inference runs stems direct and the other convolutions as
 * implicit GEMMs, without any, but im2col's column matrix is). */
static void poisoned_networks(int training)
{
    clnet_graph *(*const nets[3])(int, int, int, int) = {
        clnet_test_small_resnet, clnet_test_small_mobilenet, clnet_test_small_shufflenet};
    int scratch = 0;
    for (int i = 0; i < 6; ++i) {
        clnet_graph *g = nets[i % 3](12, 10, 3, 4);
        scratch += poisoned_equals_unplanned(g, training, i < 3 ? "" : "im2col");
        clnet_graph_destroy(g);
    }
    cr_expect_gt(scratch, 0, "the test graphs have steps with scratch");
}

Test(plan, poisoned_inference_equals_unplanned, .timeout = 600)
{
    poisoned_networks(0);
}

Test(plan, poisoned_training_equals_unplanned, .timeout = 600)
{
    poisoned_networks(1);
}

/* A batch whose activations exceed the largest buffer runs in slices (the last one
 * padded) and gives what one pass gives. */
Test(plan, oversized_inference_batch_runs_in_slices, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 12, 3, 4);
    clnet_model *whole = clnet_test_model(ctx, g, 1, 1, 5),
                *sliced = clnet_test_model(ctx, g, 1, 1, 5);
    clnet_test_randomize_weights(whole, 4);
    clnet_test_copy_weights(sliced, whole);
    /* The largest activation is the stem's 12x12x8 floats per image: 2 images a slice. */
    sliced->slice_limit = 2 * 12 * 12 * 8 * sizeof(float) + 100;
    clnet_tensor *x = clnet_test_input(ctx, g, 5, 2), *ya = NULL, *yb = NULL;
    cr_assert_eq(clnet_model_forward(whole, x, 0, &ya), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet_model_forward(sliced, x, 0, &yb), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert(clnet__shape_eq(clnet_tensor_shape(ya), clnet_tensor_shape(yb)));
    float *a = clnet_test_host(ya), *b = clnet_test_host(yb);
    cr_expect_eq(clnet_test_max_abs_diff(a, b, clnet_tensor_count(ya)), 0.0f);
    clnet_plan_stats ps;
    cr_assert_eq(clnet_model_plan_stats(sliced, 0, 5, &ps), CLNET_OK);
    cr_expect_eq(ps.slices, 3);
    /* Training cannot slice (batch statistics): the error names the layer and sizes. */
    clnet_tensor *y = NULL;
    cr_expect_eq(clnet_model_forward(sliced, x, 1, &y), CLNET_ERR_TOO_LARGE);
    const char *msg = clnet_context_error(ctx);
    cr_expect(strstr(msg, "layer '") && strstr(msg, "bytes"), "%s", msg);
    free(a);
    free(b);
    clnet_tensor_destroy(x);
    clnet_model_destroy(whole);
    clnet_model_destroy(sliced);
    clnet_graph_destroy(g);
}

/* A plan whose buffers and weights together exceed the device's global memory is
 * refused when it is built, naming the largest buffer's layer, the bytes and the limit,
 * before any buffer is allocated; a smaller batch still plans. */
Test(plan, plan_beyond_global_memory_is_refused, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 12, 3, 4);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    clnet_plan_stats small;
    cr_assert_eq(clnet_model_plan_stats(m, 1, 2, &small), CLNET_OK, "%s", clnet_context_error(ctx));
    /* Room for the weights and the batch-2 plan, not for a batch 8 times larger. */
    uint64_t weights = 0;
    for (int i = 0; i < m->n_weights; ++i)
        weights += (m->w[i]->count + (m->dw[i] ? m->dw[i]->count : 0)) * sizeof(float);
    clnet__plan_free(m->plans[1]);
    m->plans[1] = NULL;
    m->memory_limit = weights + 2 * small.planned_bytes;
    clnet_plan_stats ps;
    cr_expect_eq(clnet_model_plan_stats(m, 1, 16, &ps), CLNET_ERR_TOO_LARGE);
    const char *msg = clnet_context_error(ctx);
    cr_expect(strstr(msg, "training plan at batch 16") && strstr(msg, "global memory") &&
                  strstr(msg, "layer '") && strstr(msg, "MiB"),
              "%s", msg);
    cr_expect_null(m->plans[1], "nothing of the refused plan stays");
    cr_expect_eq(clnet_model_plan_stats(m, 1, 2, &ps), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* Forward and backward of the first n images of x with dy's first n rows; the output and
 * every weight gradient, concatenated, into a malloc'd array of *count floats. */
static float *train_pass(clnet_model *m, const clnet_tensor *x, const clnet_tensor *dy, int n,
                         size_t *count)
{
    clnet_tensor xv = *x, dv = *dy, *y = NULL;
    xv.shape.n = dv.shape.n = n;
    xv.count = clnet__shape_count(xv.shape);
    dv.count = clnet__shape_count(dv.shape);
    cr_assert_eq(clnet_model_forward(m, &xv, 1, &y), CLNET_OK, "%s", clnet_context_error(m->ctx));
    cr_assert_eq(clnet_model_backward(m, &dv), CLNET_OK, "%s", clnet_context_error(m->ctx));
    size_t total = y->count;
    for (int i = 0; i < m->n_weights; ++i)
        total += m->dw[i] ? m->dw[i]->count : 0;
    float *out = malloc(total * sizeof *out);
    cr_assert_eq(clnet_tensor_read(y, out, y->count), CLNET_OK);
    size_t at = y->count;
    for (int i = 0; i < m->n_weights; ++i)
        if (m->dw[i]) {
            cr_assert_eq(clnet_tensor_read(m->dw[i], out + at, m->dw[i]->count), CLNET_OK);
            at += m->dw[i]->count;
        }
    *count = total;
    return out;
}

/* One plan serves every batch up to its own: batches of 16 and 15 in turn build no plan
 * and allocate no device buffer after the first, and a batch of 15 run on the plan of 16
 * gives what a model planned at 15 gives. */
Test(plan, one_plan_serves_every_smaller_batch, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 10, 3, 4);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5), *fresh = clnet_test_model(ctx, g, 1, 1, 5);
    clnet_test_randomize_weights(m, 6);
    clnet_test_copy_weights(fresh, m);
    m->poison = 1;
    clnet_tensor *x = clnet_test_input(ctx, g, 16, 7);
    float *r = clnet_test_random(16 * 4, 8);
    clnet_tensor *dy = clnet_test_tensor(ctx, (clnet_shape){16, 1, 1, 4}, r);
    size_t n16 = 0, n15 = 0, nf = 0;
    free(train_pass(m, x, dy, 16, &n16));
    clnet_context_stats before, after;
    clnet_context_get_stats(ctx, &before);
    float *got = NULL;
    for (int i = 0; i < 4; ++i) {
        free(got);
        got = train_pass(m, x, dy, i % 2 ? 16 : 15, i % 2 ? &n16 : &n15);
    }
    free(got);
    got = train_pass(m, x, dy, 15, &n15);
    clnet_context_get_stats(ctx, &after);
    cr_expect_eq(after.plans_built, before.plans_built, "plans built for a smaller batch");
    cr_expect_eq(after.buffers_created, before.buffers_created, "buffers made for a smaller batch");
    cr_expect_eq(m->plans[1]->batch, 16);
    float *want = train_pass(fresh, x, dy, 15, &nf);
    cr_assert_eq(fresh->plans[1]->batch, 15);
    cr_assert_eq(n15, nf);
    float worst = 0.0f;
    for (size_t i = 0; i < nf; ++i) {
        const float d = fabsf(got[i] - want[i]) / (fabsf(want[i]) + 1e-3f);
        worst = d > worst || d != d ? d : worst;
    }
    cr_expect_lt(worst, 1e-4f, "batch 15 on the plan of 16 differs from its own plan: %g", worst);
    free(got);
    free(want);
    free(r);
    clnet_tensor_destroy(dy);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_model_destroy(fresh);
    clnet_graph_destroy(g);
}

/* Concatenation steps whose forward the executor ran (the model's step hook). */
static void count_concats(void *user, const clnet__plan *p, int step, int backward, int after)
{
    if (!backward && !after && (p->steps[step].op->flags & CLNET_OP_CHANNEL_CONCAT))
        ++*(int *)user;
}

typedef struct concat_case {
    char name[24];
    int in_place; /* concatenations expected in place at 32x32 */
} concat_case;

ParameterizedTestParameters(plan, concatenations_in_place)
{
    /* SqueezeNet's 8 fire modules; ShuffleNetV2's 3 downsampling units (both branches end
     * in a convolution) and 13 basic units (the split's first half and a convolution);
     * DenseNet's chained concatenations are read by the next layer's batch norm too. */
    static concat_case cases[] = {
        {"squeezenet1_1", 8}, {"shufflenet_v2_x0_5", 16}, {"densenet121", 0}};
    return cr_make_param_array(concat_case, cases, CLNET_COUNTOF(cases));
}

/* The inference plan writes the concatenations' inputs in place (no concatenate runs, the
 * placements keep every buffer's tenants apart) and gives, with dead buffers poisoned, what
 * the same fusion gives with a buffer per tensor, and the unfused layers within 1e-5.
 * Training plans keep the copies. */
ParameterizedTest(concat_case *k, plan, concatenations_in_place, .timeout = 900)
{
    clnet_context *ctx = clnet_test_device();
    clnet_zoo_options zo = {32, 32, 3, 10, "torch", 0, 0};
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_zoo_build(k->name, &zo, &g, err, sizeof err), CLNET_OK, "%s", err);
    clnet_model *placed = clnet_test_model(ctx, g, 1, 1, 1),
                *copied = clnet_test_model(ctx, g, 1, 0, 1),
                *plain = clnet_test_model(ctx, g, 0, 0, 1);
    clnet_test_randomize_weights(plain, 17);
    clnet_test_copy_weights(placed, plain);
    clnet_test_copy_weights(copied, plain);
    placed->poison = 1;
    int ran = 0;
    placed->hook = count_concats;
    placed->hook_user = &ran;
    clnet_tensor *x = clnet_test_input(ctx, g, 2, 3), *y[3] = {NULL, NULL, NULL};
    clnet_model *models[3] = {placed, copied, plain};
    float *out[3];
    for (int i = 0; i < 3; ++i) {
        cr_assert_eq(clnet_model_forward(models[i], x, 0, &y[i]), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        out[i] = clnet_test_host(y[i]);
    }
    const size_t n = clnet_tensor_count(y[0]);
    const double same = clnet_test_rel_diff(out[0], out[1], n),
                 unfused = clnet_test_rel_diff(out[0], out[2], n);
    cr_expect(same <= 1e-6, "%s: in place vs copies, relative difference %g", k->name, same);
    cr_expect(unfused <= 1e-5, "%s: in place vs unfused, relative difference %g", k->name, unfused);
    const clnet__plan *p = placed->plans[0];
    int concats = 0;
    for (int s = 0; s < p->n_steps; ++s)
        concats += (p->steps[s].op->flags & CLNET_OP_CHANNEL_CONCAT) != 0;
    clnet_plan_stats ps, pt, pc;
    cr_assert_eq(clnet_model_plan_stats(placed, 0, 2, &ps), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    cr_expect_eq(ps.concat_in_place, k->in_place, "%s: %d of %d concatenations in place", k->name,
                 ps.concat_in_place, concats);
    cr_expect_eq(ran, concats - k->in_place, "%s: concatenations run", k->name);
    expect_disjoint(p);
    cr_assert_eq(clnet_model_plan_stats(copied, 0, 2, &pc), CLNET_OK);
    cr_expect_eq(pc.concat_in_place, 0, "a buffer per tensor places nothing");
    cr_assert_eq(clnet_model_plan_stats(placed, 1, 2, &pt), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    cr_expect_eq(pt.concat_in_place, 0, "training keeps the copies");
    expect_disjoint(placed->plans[1]);
    for (int i = 0; i < 3; ++i) {
        free(out[i]);
        clnet_model_destroy(models[i]);
    }
    clnet_tensor_destroy(x);
    clnet_graph_destroy(g);
}

/* An inference plan keeps weights of its own (batch norm folded into convolutions, the
 * GEMM panels of prepacked convolutions and dense layers): after the model's weights
 * change, its next forward must use the new ones, as a model made with them does. */
Test(plan, inference_after_a_weight_change_uses_the_new_weights, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 10, 3, 4);
    clnet_model *a = clnet_test_model(ctx, g, 1, 1, 5), *b = clnet_test_model(ctx, g, 1, 1, 6);
    clnet_tensor *x = clnet_test_input(ctx, g, 2, 8), *ya = NULL, *yb = NULL;
    clnet_test_randomize_weights(a, 3);
    cr_assert_eq(clnet_model_forward(a, x, 0, &ya), CLNET_OK, "%s", clnet_context_error(ctx));
    float *before = clnet_test_host(ya);
    int prepacked = 0, head = 0, host_only = 0;
    for (int s = 0; s < a->plans[0]->n_steps; ++s) {
        const clnet__step *st = &a->plans[0]->steps[s];
        prepacked += st->prepacked != NULL;
        head += st->prepacked != NULL && strcmp(st->op->name, "dense") == 0;
        /* The folded kernel of a prepacked step lives only on the host, packed from there. */
        if (st->prepacked && st->fold_bn >= 0) {
            cr_expect_null(st->folded[0]->buf, "step %d keeps a folded kernel it never reads", s);
            host_only++;
        }
    }
    if (clnet_context_class(ctx) == CLNET_CLASS_CPU) {
        cr_expect_gt(prepacked, 0, "the cpu class prepacks the convolutions' weights");
        cr_expect_gt(host_only, 0, "no prepacked convolution has a batch norm folded in");
        /* At a batch of 5 the rule gives the head to gemv; prepacked it runs packed. */
        cr_expect_eq(head, 1, "the dense head is prepacked");
    }
    clnet_test_randomize_weights(a, 4);
    cr_assert_eq(clnet_model_forward(a, x, 0, &ya), CLNET_OK, "%s", clnet_context_error(ctx));
    float *after = clnet_test_host(ya);
    clnet_test_copy_weights(b, a);
    cr_assert_eq(clnet_model_forward(b, x, 0, &yb), CLNET_OK, "%s", clnet_context_error(ctx));
    float *fresh = clnet_test_host(yb);
    const size_t n = clnet_tensor_count(yb);
    cr_expect_gt(clnet_test_max_abs_diff(before, after, n), 0.0f, "the weights changed nothing");
    cr_expect_eq(clnet_test_max_abs_diff(after, fresh, n), 0.0f, "stale weights after a change");
    free(before);
    free(after);
    free(fresh);
    clnet_tensor_destroy(x);
    clnet_model_destroy(a);
    clnet_model_destroy(b);
    clnet_graph_destroy(g);
}
