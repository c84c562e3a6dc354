/* memory.c - the memory plan: each value (and, in training, each gradient, and each
 * step's scratch) is live over an interval of the plan's timeline, and intervals that
 * never overlap share a buffer. Inference places the inputs of a channel concatenation
 * inside its output where their producers can write strided (place_concats): the
 * concatenation then copies nothing. Timeline: forward step s runs at time s; in training, the
 * backward of step s runs at time 2n - 1 - s. A buffer is reused only from the step after its last
 * reader, so no op ever writes a buffer it also reads. Steps whose backward does not run (frozen
 * layers, fuse.c) keep nothing for it and get no gradient buffers. Fusion: fuse.c. Tests:
 * tests/models/test_plan.c (poisons dead buffers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

int clnet__bwd_reads_input(const clnet__op_desc *op)
{
    return !(op->flags & CLNET_OP_BWD_INPUT_SHAPE_ONLY);
}

int clnet__bwd_reads_output(const clnet__op_desc *op)
{
    return !(op->flags & CLNET_OP_BWD_NO_OUTPUT);
}

static void extend(clnet__value *v, int t)
{
    if (t > v->last)
        v->last = t;
}

/* Inference: each concatenation whose every input can be written in place goes in place:
 * the inputs' values live in its buffer at their channel offsets (host), their producers
 * write them strided and the step runs nothing. An input qualifies when a step produces it
 * (not the model's input, not a view), its record says it writes strided, the
 * concatenation is its only reader (no other step, no view of it, not kept, not the plan's
 * output) and it is no other input of the same step. Training plans keep the copies: the
 * producers' backward reads their outputs packed (an activation's gradient from y), and
 * every value lives until its backward anyway, so placing would save a copy, not memory. */
static void place_concats(const clnet_model *m, clnet__plan *p)
{
    if (p->training || m->opt.no_memory_plan)
        return;
    for (int s = 0; s < p->n_steps; ++s) {
        clnet__step *st = &p->steps[s];
        if (!(st->op->flags & CLNET_OP_CHANNEL_CONCAT))
            continue;
        int ok = 1;
        for (int k = 0; ok && k < st->n_in; ++k) {
            const int vi = st->in[k];
            const clnet__value *v = &p->values[vi];
            ok = v->def >= 0 && v->alias < 0 && v->host < 0 && !v->kept && vi != p->output &&
                 p->steps[v->def].exec.strided_out;
            for (int j = 0; ok && j < p->n_values; ++j)
                ok = p->values[j].alias != vi;
            for (int t = 0; ok && t < p->n_steps; ++t)
                for (int j = 0; ok && j < p->steps[t].n_in; ++j)
                    ok = p->steps[t].in[j] != vi || (t == s && j == k);
        }
        if (!ok)
            continue;
        int channel = 0;
        for (int k = 0; k < st->n_in; ++k) {
            clnet__value *v = &p->values[st->in[k]];
            v->host = st->out;
            v->host_channel = channel;
            channel += v->view.shape.c;
        }
        st->in_place = 1;
        ++p->concat_in_place;
    }
}

/* The live interval of every value and gradient. A concatenation's buffer holding its
 * inputs in place is live from the first of their producers' writes to its last read. */
static void intervals(clnet__plan *p)
{
    const int n = p->n_steps, end = p->training ? 2 * n : n;
    for (int i = 0; i < p->n_values; ++i) {
        clnet__value *v = &p->values[i];
        v->first = v->def;
        v->last = v->def;
        v->grad_first = v->grad_last = -1;
    }
    for (int s = 0; s < n; ++s) {
        const clnet__step *st = &p->steps[s];
        const int bwd = p->training && st->backward; /* frozen steps do no backward work */
        for (int k = 0; k < st->n_in; ++k) {
            clnet__value *v = &p->values[clnet__value_storage(p, st->in[k])];
            extend(v, s);
            if (bwd && clnet__bwd_reads_input(st->op))
                extend(v, 2 * n - 1 - s);
            /* The gradient of an input is written from the backward of its last reader
             * (the first in backward order) until the backward of its producer. */
            clnet__value *d = &p->values[st->in[k]];
            if (bwd && d->def >= 0 && d->needs_grad &&
                (d->grad_first < 0 || 2 * n - 1 - s < d->grad_first)) {
                d->grad_first = 2 * n - 1 - s;
                d->grad_last = 2 * n - 1 - d->def;
            }
        }
        if (bwd && clnet__bwd_reads_output(st->op))
            extend(&p->values[clnet__value_owner(p, st->out)], 2 * n - 1 - s);
    }
    /* The output stays until the caller is done with it (training: its backward), and so
     * do the outputs the caller keeps (clnet_model_keep_output; a view keeps its storage). */
    for (int i = 0; i < p->n_values; ++i)
        if (p->values[i].kept)
            extend(&p->values[clnet__value_owner(p, i)], end);
    clnet__value *o = &p->values[clnet__value_owner(p, p->output)];
    extend(o, end);
    if (p->training && o->def >= 0)
        extend(o, 2 * n - 1 - o->def);
    /* A placed value lives from its producer to the concatenation (its only reader); its
     * host's buffer from the first such write. */
    for (int i = 0; i < p->n_values; ++i) {
        clnet__value *v = &p->values[i];
        if (v->host < 0)
            continue;
        clnet__value *h = &p->values[v->host];
        v->last = h->def;
        if (v->def < h->first)
            h->first = v->def;
    }
}

/* One buffer request: a value or a gradient, live over [first, last]. */
typedef struct request {
    int first, last;
    size_t bytes;
    int *slot;
} request;

static int by_first(const void *a, const void *b)
{
    const request *x = a, *y = b;
    return x->first != y->first ? x->first - y->first
                                : (x->bytes < y->bytes) - (x->bytes > y->bytes);
}

/* Greedy best fit in order of start time: a free buffer that is large enough and
 * smallest, else the largest free one grown, else a new one. slot_last[] is when
 * each buffer's current tenant dies. */
static int assign(request *r, int n, int share, size_t *bytes, int *slot_last)
{
    int n_slots = 0;
    qsort(r, (size_t)n, sizeof *r, by_first);
    for (int i = 0; i < n; ++i) {
        int best = -1;
        for (int s = 0; share && s < n_slots; ++s) {
            if (slot_last[s] >= r[i].first)
                continue;
            if (best < 0)
                best = s;
            else if (bytes[s] >= r[i].bytes)
                best = bytes[best] < r[i].bytes || bytes[s] < bytes[best] ? s : best;
            else if (bytes[best] < r[i].bytes && bytes[s] > bytes[best])
                best = s;
        }
        if (best < 0) {
            best = n_slots++;
            bytes[best] = 0;
        }
        if (bytes[best] < r[i].bytes)
            bytes[best] = r[i].bytes;
        slot_last[best] = r[i].last;
        *r[i].slot = best;
    }
    return n_slots;
}

/* A tensor of shape s with no device buffer (clnet_tensor_destroy frees it). */
static clnet_status shape_only(clnet_context *ctx, clnet_shape s, clnet_tensor **out)
{
    if (!(*out = calloc(1, sizeof **out)))
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    **out = (clnet_tensor){.ctx = ctx, .shape = s, .count = clnet__shape_count(s)};
    return CLNET_OK;
}

/* Saved state, folded weights and gradient temporaries of the steps; readers: a zeroed
 * count per value. */
static clnet_status step_state_counted(clnet_model *m, clnet__plan *p, int *readers)
{
    size_t acc_count = 0;
    for (int s = 0; s < p->n_steps; ++s) {
        clnet__step *st = &p->steps[s];
        const clnet__layer *head = &m->graph->layers[st->members[0]];
        clnet_shape in[CLNET_MAX_INPUTS];
        for (int k = 0; k < st->n_in; ++k) {
            in[k] = p->values[st->in[k]].view.shape;
            ++readers[st->in[k]];
        }
        if (p->training && st->op->saved && !st->inference) {
            clnet_shape sv[CLNET_MAX_SAVED];
            st->n_saved = st->op->saved(st->params, in, st->n_in, sv);
            for (int k = 0; k < st->n_saved; ++k)
                CLNET_TRY(clnet_tensor_create(m->ctx, sv[k], &st->saved[k]));
        }
        if (!p->training && st->exec.prepacked_bytes) {
            const clnet_shape packed = {1, 1, 1, (int)(st->exec.prepacked_bytes / sizeof(float))};
            CLNET_TRY(clnet_tensor_create(m->ctx, packed, &st->prepacked));
        }
        if (st->fold_bn >= 0) {
            /* A prepacked step's folded kernel lives only in fold.c's host buffer on its way
             * into the panels, which are all the forward reads: its tensor is a shape
             * without a buffer (a third less device memory). */
            if (st->prepacked)
                CLNET_TRY(shape_only(m->ctx, head->w[0].shape, &st->folded[0]));
            else
                CLNET_TRY(clnet_tensor_create(m->ctx, head->w[0].shape, &st->folded[0]));
            const clnet_shape bias = {1, 1, 1, p->values[st->out].view.shape.c};
            CLNET_TRY(clnet_tensor_create(m->ctx, bias, &st->folded[1]));
        }
    }
    /* Training: a value read by several steps gets its gradient's later contributions
     * in a temporary, added in afterwards; one temporary per input position. */
    if (p->training) {
        for (int s = 0; s < p->n_steps; ++s)
            for (int k = 0; k < p->steps[s].n_in; ++k)
                if (readers[p->steps[s].in[k]] > 1 && p->values[p->steps[s].in[k]].needs_grad) {
                    const size_t c = p->values[p->steps[s].in[k]].view.count;
                    acc_count = c > acc_count ? c : acc_count;
                    p->n_acc = k + 1 > p->n_acc ? k + 1 : p->n_acc;
                }
        for (int k = 0; k < p->n_acc; ++k)
            CLNET_TRY(
                clnet_tensor_create(m->ctx, (clnet_shape){1, 1, 1, (int)acc_count}, &p->acc[k]));
    }
    return CLNET_OK;
}

static clnet_status step_state(clnet_model *m, clnet__plan *p)
{
    int *readers = calloc((size_t)p->n_values, sizeof *readers);
    if (!readers)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    const clnet_status st = step_state_counted(m, p, readers);
    free(readers);
    return st;
}

/* Names buffer s after the layer whose tensor sized it, so "does not fit" says where. */
static void slot_name(const clnet_model *m, const clnet__plan *p, int s, char *buf, size_t len)
{
    const char *layer = "?", *kind = "output";
    for (int i = 0; i < p->n_values; ++i) {
        const clnet__value *v = &p->values[i];
        const size_t bytes = v->view.count * sizeof(float);
        if ((v->slot == s || v->grad_slot == s) && bytes == p->slot_bytes[s]) {
            layer = m->graph->layers[v->layer].name;
            kind = v->slot == s ? "output" : "gradient";
            break;
        }
    }
    for (int i = 0; layer[0] == '?' && i < p->n_steps; ++i)
        for (int d = 0; d < 2; ++d)
            for (int k = 0; k < CLNET_SCRATCH_COUNT; ++k)
                if (p->steps[i].scratch_slot[d][k] == s &&
                    p->steps[i].exec.scratch[d][k] == p->slot_bytes[s]) {
                    layer = m->graph->layers[p->steps[i].members[0]].name;
                    kind = clnet__scratch_name((clnet__scratch_slot)k);
                }
    snprintf(buf, len, "the %s of layer '%s' at batch %d (%s buffer %d)", kind, layer, p->batch,
             p->training ? "training" : "inference", s);
}

/* Refuses, before anything is allocated, a plan whose buffers with the model's weights
 * (and the other mode's plan, which stays allocated) exceed the device's global memory:
 * a driver may otherwise fail inside its allocator at the first launch (POCL asserts). */
static clnet_status check_fits(clnet_model *m, const clnet__plan *p)
{
    uint64_t weights = 0, other = 0;
    for (int i = 0; i < m->n_weights; ++i)
        weights += (m->w[i]->count + (m->dw[i] ? m->dw[i]->count : 0)) * sizeof(float);
    const clnet__plan *q = m->plans[!p->training];
    if (q)
        other = q->planned_bytes;
    const uint64_t limit = m->memory_limit ? m->memory_limit : m->ctx->info.global_mem_bytes;
    const uint64_t total = p->planned_bytes + weights + other;
    if (total <= limit)
        return CLNET_OK;
    int largest = 0;
    for (int s = 1; s < p->n_slots; ++s)
        largest = p->slot_bytes[s] > p->slot_bytes[largest] ? s : largest;
    char what[160] = "";
    if (p->n_slots > 0)
        slot_name(m, p, largest, what, sizeof what);
    return clnet__fail(m->ctx, CLNET_ERR_TOO_LARGE,
                       "the %s plan at batch %d needs %.1f MiB (activations%s %.1f MiB, weights "
                       "%.1f MiB%s) but %s has %.1f MiB of global memory; the largest buffer is "
                       "%s, %.1f MiB: use a smaller input or batch",
                       p->training ? "training" : "inference", p->batch, total / 1048576.0,
                       p->training ? " and gradients" : "", p->planned_bytes / 1048576.0,
                       weights / 1048576.0, other ? ", the other plan's buffers too" : "",
                       m->ctx->info.name, limit / 1048576.0, what,
                       p->n_slots ? p->slot_bytes[largest] / 1048576.0 : 0.0);
}

clnet_status clnet__plan_allocate(clnet_model *m, clnet__plan *p)
{
    place_concats(m, p);
    intervals(p);
    const int n_req = 2 * p->n_values + 2 * CLNET_SCRATCH_COUNT * p->n_steps;
    request *r = calloc((size_t)n_req, sizeof *r);
    int *slot_last = calloc((size_t)n_req, sizeof *slot_last);
    p->slot_bytes = calloc((size_t)n_req, sizeof *p->slot_bytes);
    if (!r || !slot_last || !p->slot_bytes) {
        free(r);
        free(slot_last);
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    int n = 0;
    for (int i = 0; i < p->n_values; ++i) {
        clnet__value *v = &p->values[i];
        const size_t bytes = v->view.count * sizeof(float);
        if (v->alias < 0 && v->host < 0 && v->def >= 0)
            r[n++] = (request){v->first, v->last, bytes, &v->slot};
        if (v->alias < 0 && v->def >= 0) /* placed values too: a buffer each unplanned */
            p->unplanned_bytes += bytes;
        if (v->grad_first >= 0) {
            r[n++] = (request){v->grad_first, v->grad_last, bytes, &v->grad_slot};
            p->unplanned_bytes += bytes;
        }
    }
    /* Scratch lives during its step alone: forward s at time s, backward at 2n - 1 - s. */
    for (int s = 0; s < p->n_steps; ++s) {
        clnet__step *st = &p->steps[s];
        memset(st->scratch_slot, 0xff, sizeof st->scratch_slot); /* -1: none */
        for (int d = 0; d < 1 + (p->training && st->backward); ++d) {
            const int t = d ? 2 * p->n_steps - 1 - s : s;
            uint64_t step_bytes = 0;
            for (int k = 0; k < CLNET_SCRATCH_COUNT; ++k) {
                const size_t bytes = st->exec.scratch[d][k];
                if (!bytes)
                    continue;
                r[n++] = (request){t, t, bytes, &st->scratch_slot[d][k]};
                p->unplanned_bytes += bytes;
                step_bytes += bytes;
            }
            if (step_bytes > p->scratch_bytes)
                p->scratch_bytes = step_bytes;
        }
    }
    p->n_slots = assign(r, n, !m->opt.no_memory_plan, p->slot_bytes, slot_last);
    free(r);
    free(slot_last);
    if (!(p->slots = calloc((size_t)(p->n_slots ? p->n_slots : 1), sizeof *p->slots)))
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int s = 0; s < p->n_slots; ++s)
        p->planned_bytes += p->slot_bytes[s];
    const uint64_t loss = clnet__loss_step_size(m, p);
    p->planned_bytes += loss;
    p->unplanned_bytes += loss;
    CLNET_TRY(check_fits(m, p));
    CLNET_TRY(clnet__loss_step_allocate(m, p));
    for (int s = 0; s < p->n_slots; ++s) {
        char what[160];
        slot_name(m, p, s, what, sizeof what);
        CLNET_TRY(clnet__buffer(m->ctx, p->slot_bytes[s], what, &p->slots[s]));
    }
    for (int i = 0; i < p->n_values; ++i) {
        clnet__value *v = &p->values[i];
        const int rv = clnet__value_storage(p, i);
        if (p->values[rv].slot >= 0)
            v->view.buf = p->slots[p->values[rv].slot];
        if (v->grad_slot >= 0)
            v->grad_view.buf = p->slots[v->grad_slot];
    }
    for (int s = 0; s < p->n_steps; ++s) {
        clnet__step *st = &p->steps[s];
        for (int d = 0; d < 2; ++d)
            for (int k = 0; k < CLNET_SCRATCH_COUNT; ++k)
                if (st->exec.scratch[d][k] && st->scratch_slot[d][k] >= 0) {
                    st->scratch[d].mem[k] = p->slots[st->scratch_slot[d][k]];
                    st->scratch[d].bytes[k] = st->exec.scratch[d][k];
                }
    }
    return step_state(m, p);
}

void clnet__plan_set_batch(clnet__plan *p, int n)
{
    p->n = n;
    for (int i = 0; i < p->n_values; ++i) {
        clnet__value *v = &p->values[i];
        v->view.shape.n = v->grad_view.shape.n = n;
        v->view.count = v->grad_view.count = clnet__shape_count(v->view.shape);
    }
}

void clnet__plan_free(clnet__plan *p)
{
    if (!p)
        return;
    for (int s = 0; s < p->n_steps; ++s) {
        clnet__step *st = &p->steps[s];
        free(st->params);
        for (int k = 0; k < CLNET_MAX_SAVED; ++k)
            clnet_tensor_destroy(st->saved[k]);
        clnet_tensor_destroy(st->prepacked);
        clnet_tensor_destroy(st->folded[0]);
        clnet_tensor_destroy(st->folded[1]);
    }
    for (int s = 0; s < p->n_slots && p->slots; ++s)
        if (p->slots[s])
            clReleaseMemObject(p->slots[s]);
    for (int k = 0; k < CLNET_MAX_INPUTS; ++k)
        clnet_tensor_destroy(p->acc[k]);
    clnet__loss_step_free(&p->loss);
    free(p->slots);
    free(p->slot_bytes);
    free(p->steps);
    free(p->values);
    free(p);
}
