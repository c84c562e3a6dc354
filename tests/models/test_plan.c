/* test_plan.c - the memory plan (src/plan/memory.c) and inference slicing: buffers
 * shared only by tensors whose lives do not overlap, checked structurally and by
 * poisoning every buffer whose tenant died (a plan that lets a dead tensor be read
 * then gives NaN or other numbers than one buffer per tensor). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"

/* No two tensors of one buffer are live at the same time: values, gradients and each
 * step's scratch (live during its step alone, sharing buffers with the others). */
static void expect_disjoint(const clnet__plan *p)
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
    cr_expect_gt(scratch, 0, "the test graphs have steps with scratch");
    for (int i = 0; i < p->n_values; ++i) {
        const clnet__value *v = &p->values[i];
        if (v->alias < 0 && v->slot >= 0)
            l[n++] = (life){v->slot, v->first, v->last};
        if (v->grad_slot >= 0)
            l[n++] = (life){v->grad_slot, v->grad_first, v->grad_last};
    }
    for (int a = 0; a < n; ++a)
        for (int b = a + 1; b < n; ++b)
            if (l[a].slot == l[b].slot)
                cr_expect(l[a].last < l[b].first || l[b].last < l[a].first,
                          "buffer %d: lives [%d, %d] and [%d, %d] overlap", l[a].slot, l[a].first,
                          l[a].last, l[b].first, l[b].last);
    free(l);
}

/* Forward (and in training backward) of the same input and weights, planned with
 * poison against one buffer per tensor: outputs and weight gradients must be equal. */
static void poisoned_equals_unplanned(clnet_graph *g, int training)
{
    clnet_context *ctx = clnet_test_device();
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
    expect_disjoint(planned->plans[training]);
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
}

/* Both small networks, in one mode. */
static void poisoned_networks(int training)
{
    clnet_graph *(*const nets[3])(int, int, int, int) = {
        clnet_test_small_resnet, clnet_test_small_mobilenet, clnet_test_small_shufflenet};
    for (int i = 0; i < 3; ++i) {
        clnet_graph *g = nets[i](12, 10, 3, 4);
        poisoned_equals_unplanned(g, training);
        clnet_graph_destroy(g);
    }
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
