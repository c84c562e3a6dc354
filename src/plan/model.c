/* model.c - clnet_model: a graph's weights on a device and the executor that runs a
 * plan (fuse.c, memory.c) forward and backward. Tests: tests/models/test_model.c,
 * tests/models/test_plan.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

/* splitmix64: independent seeds for each weight and each training step. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The random stream of step st in this training step: the step's seed mixed with the graph
 * index of the step's first layer, so two dropout or stochastic-depth layers with the same
 * seed key draw apart, and a fused and an unfused plan draw alike. */
static uint64_t call_seed(const clnet_model *m, const clnet__step *st)
{
    return mix(m->step_seed ^ mix((uint64_t)st->members[0] + 1));
}

static clnet_status copy_graph(const clnet_graph *g, clnet_graph **out, clnet_context *ctx)
{
    char *spec = NULL, err[512] = "";
    clnet_status st = clnet_graph_to_spec(g, &spec);
    if (st == CLNET_OK)
        st = clnet_graph_from_spec(spec, "model", out, err, sizeof err);
    free(spec);
    return st == CLNET_OK ? st : clnet__fail(ctx, st, "copying the graph: %s", err);
}

/* The graph's one input layer, or an error naming the inputs. */
static clnet_status find_input(clnet_model *m)
{
    const clnet_graph *g = m->graph;
    int n = 0;
    char names[256] = "";
    for (int i = 0; i < g->n; ++i)
        if (!g->layers[i].op) {
            m->input_layer = i;
            const size_t used = strlen(names);
            snprintf(names + used, sizeof names - used, "%s'%s'", n++ ? ", " : "",
                     g->layers[i].name);
        }
    if (n != 1)
        return clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED,
                           "a model takes exactly one input layer; the graph has %d%s%s", n,
                           n ? ": " : "", names);
    if (g->n < 2)
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "the graph has no layer after its input");
    return CLNET_OK;
}

/* The largest layer output of one image and its layer: what decides whether a batch
 * must run in slices. A property of the graph, found once. */
static void largest_output(clnet_model *m)
{
    for (int i = 0; i < m->graph->n; ++i) {
        const uint64_t bytes = clnet__shape_count(m->graph->layers[i].out) * sizeof(float);
        if (bytes > m->image_bytes) {
            m->image_bytes = bytes;
            m->image_bytes_layer = i;
        }
    }
}

/* init = 0: the weights are left as the allocator gave them, for a caller that writes
 * every one next (a model file: initializing ResNet-18's 11.7 M weights first took a
 * tenth of a warm `clnet predict`). */
static clnet_status make_weights(clnet_model *m, int init)
{
    const clnet_graph *g = m->graph;
    if (!(m->weight_base = calloc((size_t)g->n, sizeof *m->weight_base)))
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < g->n; ++i) {
        m->weight_base[i] = m->n_weights;
        m->n_weights += g->layers[i].n_w;
    }
    const size_t n = (size_t)(m->n_weights ? m->n_weights : 1);
    m->info = calloc(n, sizeof *m->info);
    m->w = calloc(n, sizeof *m->w);
    m->dw = calloc(n, sizeof *m->dw);
    m->frozen = calloc(n, sizeof *m->frozen);
    if (!m->info || !m->w || !m->dw || !m->frozen)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < g->n; ++i) {
        const clnet__layer *l = &g->layers[i];
        for (int k = 0; k < l->n_w; ++k) {
            const int idx = m->weight_base[i] + k;
            const clnet__weight_desc *d = &l->w[k];
            m->info[idx] = (clnet_weight_info){l->name, d->name, d->shape, d->trainable};
            CLNET_TRY(clnet_tensor_create(m->ctx, d->shape, &m->w[idx]));
            if (init)
                CLNET_TRY(clnet_tensor_init(m->w[idx], d->init, d->init_a, d->init_b,
                                            mix(m->opt.seed ^ mix((uint64_t)idx))));
            if (d->trainable)
                CLNET_TRY(clnet_tensor_create(m->ctx, d->shape, &m->dw[idx]));
        }
    }
    return CLNET_OK;
}

clnet_status clnet__model_create(clnet_context *ctx, const clnet_graph *g,
                                 const clnet_model_options *opt, int init, clnet_model **out)
{
    if (!out)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    if (!ctx || !g)
        return ctx ? clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "clnet_model_create: no graph")
                   : CLNET_ERR_INVALID_ARG;
    if (clnet_graph_status(g) != CLNET_OK)
        return clnet__fail(ctx, clnet_graph_status(g), "the graph failed to build: %s",
                           clnet_graph_error(g));
    clnet_model *m = calloc(1, sizeof *m);
    if (!m)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    m->ctx = ctx;
    if (opt)
        m->opt = *opt;
    m->weights_version = 1;
    for (int c = 0; c < 4; ++c)
        m->std[c] = 1.0f;
    clnet_status st = copy_graph(g, &m->graph, ctx);
    if (st == CLNET_OK)
        st = find_input(m);
    if (st == CLNET_OK)
        largest_output(m);
    if (st == CLNET_OK)
        st = make_weights(m, init);
    if (st != CLNET_OK) {
        clnet_model_destroy(m);
        return st;
    }
    *out = m;
    return CLNET_OK;
}

clnet_status clnet_model_create(clnet_context *ctx, const clnet_graph *g,
                                const clnet_model_options *opt, clnet_model **out)
{
    return clnet__model_create(ctx, g, opt, 1, out);
}

void clnet_model_destroy(clnet_model *m)
{
    if (!m)
        return;
    /* Its kernels may still be queued: let them finish before their buffers go (and
     * before a process that exits next tears down a runtime still compiling them). */
    clnet_context_finish(m->ctx);
    for (int i = 0; i < m->n_weights; ++i) {
        clnet_tensor_destroy(m->w[i]);
        clnet_tensor_destroy(m->dw[i]);
    }
    clnet__plan_free(m->plans[0]);
    clnet__plan_free(m->plans[1]);
    clnet__profile_free(m);
    clnet__tune_free(m);
    clnet_tensor_destroy(m->output);
    clnet_tensor_destroy(m->slice_input);
    free(m->w);
    free(m->dw);
    free(m->frozen);
    free(m->info);
    free(m->weight_base);
    free(m->kept);
    for (int i = 0; i < m->n_labels; ++i)
        free(m->labels[i]);
    free(m->labels);
    clnet_graph_destroy(m->graph);
    free(m);
}

const clnet_graph *clnet_model_graph(const clnet_model *m)
{
    return m ? m->graph : NULL;
}

int clnet_model_weight_count(const clnet_model *m)
{
    return m ? m->n_weights : 0;
}

clnet_status clnet_model_weight(clnet_model *m, int i, clnet_weight_info *info,
                                clnet_tensor **value, clnet_tensor **grad)
{
    if (value)
        *value = NULL;
    if (grad)
        *grad = NULL;
    if (!m)
        return CLNET_ERR_INVALID_ARG;
    if (i < 0 || i >= m->n_weights)
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "weight %d does not exist: the model has %d weights", i, m->n_weights);
    if (info)
        *info = m->info[i];
    if (value) {
        *value = m->w[i];
        ++m->weights_version; /* the caller may write it */
    }
    if (grad)
        *grad = m->dw[i];
    return CLNET_OK;
}

void clnet_model_weights_changed(clnet_model *m)
{
    if (m)
        ++m->weights_version;
}

/* The plan of a mode for a batch: reused for any batch up to the one it was made for, so a
 * partial last batch or alternating sizes cost neither planning nor allocation; a larger
 * batch replaces it. */
static clnet_status get_plan(clnet_model *m, int training, int batch, clnet__plan **out)
{
    clnet__plan *p = m->plans[training];
    if (p && p->batch >= batch && p->freeze_version == m->freeze_version &&
        p->tune_version == m->ctx->tune_version && p->options_version == m->options_version) {
        *out = p;
        return CLNET_OK;
    }
    if (m->ran == p)
        m->ran = NULL;
    clnet__plan_free(p);
    m->plans[training] = NULL;
    CLNET_TRY(clnet__plan_build(m, training, batch, &p));
    clnet_status st = clnet__plan_allocate(m, p);
    if (st != CLNET_OK) {
        clnet__plan_free(p);
        return st;
    }
    m->plans[training] = *out = p;
    return CLNET_OK;
}

/* Images per forward such that no activation exceeds the device's largest buffer. */
static clnet_status slice_size(clnet_model *m, int training, int batch, int *slice)
{
    const int layer = m->image_bytes_layer;
    const uint64_t per_image = m->image_bytes;
    const uint64_t limit = m->slice_limit ? m->slice_limit : m->ctx->info.max_alloc_bytes;
    const uint64_t fit = per_image ? limit / per_image : (uint64_t)batch;
    if (fit < 1 || (training && fit < (uint64_t)batch))
        return clnet__fail(m->ctx, CLNET_ERR_TOO_LARGE,
                           "layer '%s': %llu bytes for a batch of %d exceed the largest buffer "
                           "of %s (%llu bytes)%s",
                           m->graph->layers[layer].name,
                           (unsigned long long)(per_image * (uint64_t)(training ? batch : 1)),
                           training ? batch : 1, m->ctx->info.name, (unsigned long long)limit,
                           training ? ": train with a smaller batch" : "");
    *slice = fit < (uint64_t)batch ? (int)fit : batch;
    return CLNET_OK;
}

clnet_status clnet__model_plan(clnet_model *m, int training, int batch, clnet__plan **p, int *slice)
{
    CLNET_TRY(slice_size(m, training, batch, slice));
    CLNET_TRY(get_plan(m, training, *slice, p));
    clnet__plan_set_batch(*p, *slice);
    return CLNET_OK;
}

/* Tests: after time t, fill every buffer whose tenant died at t with NaN, so a plan
 * that lets a dead value be read shows up as NaN. */
static clnet_status poison(clnet_model *m, const clnet__plan *p, int t)
{
    for (int i = 0; m->poison && i < p->n_values; ++i) {
        const clnet__value *v = &p->values[i];
        if (v->alias < 0 && v->slot >= 0 && v->last == t)
            CLNET_TRY(clnet__fill(m->ctx, v->view.buf, 0, v->view.count, NAN));
        if (v->grad_slot >= 0 && v->grad_last == t)
            CLNET_TRY(clnet__fill(m->ctx, v->grad_view.buf, 0, v->grad_view.count, NAN));
    }
    return CLNET_OK;
}

/* Tests: before a step, fill its scratch with NaN, so an op that reads scratch it did not
 * write, or scratch that shares a buffer with a live tensor, shows up as NaN. */
static clnet_status poison_scratch(clnet_model *m, const clnet__scratch *s)
{
    for (int k = 0; m->poison && k < CLNET_SCRATCH_COUNT; ++k)
        if (s->mem[k])
            CLNET_TRY(clnet__fill(m->ctx, s->mem[k], 0, s->bytes[k] / sizeof(float), NAN));
    return CLNET_OK;
}

void clnet__step_weights(clnet_model *m, const clnet__step *s, clnet_tensor **w, clnet_tensor **dw)
{
    for (int k = 0; k < s->n_w; ++k) {
        w[k] = s->w_index[k] >= 0 ? m->w[s->w_index[k]] : s->folded[k];
        if (dw)
            dw[k] = s->w_grad[k] ? m->dw[s->w_index[k]] : NULL;
    }
}

/* momentum (not NULL) into the params of st when its op has moving statistics: the
 * override goes into the step's own copy of the params, its own value into *own, for
 * the caller to put back through the pointer returned (NULL: nothing overridden). */
static float *override_momentum(clnet__step *st, const float *momentum, float *own)
{
    if (!momentum || !(st->op->flags & CLNET_OP_MOVING_STATS))
        return NULL;
    float *mom = (float *)((char *)st->params + st->op->momentum_offset);
    *own = *mom;
    *mom = *momentum;
    return mom;
}

/* Runs the steps of p on x. momentum (not NULL): the momentum of every op with moving
 * statistics that runs in training mode, for this forward only. */
static clnet_status run_forward(clnet_model *m, clnet__plan *p, const clnet_tensor *x,
                                const float *momentum)
{
    for (int i = 0; i < p->n_values; ++i)
        if (clnet__value_owner(p, i) == p->input)
            p->values[i].view.buf = x->buf;
    for (int s = 0; s < p->n_steps; ++s) {
        clnet__step *st = &p->steps[s];
        if (st->in_place) { /* its inputs' producers wrote its output (memory.c) */
            CLNET_TRY(poison(m, p, s));
            continue;
        }
        clnet_tensor *in[CLNET_MAX_INPUTS], *w[CLNET_MAX_WEIGHTS];
        for (int k = 0; k < st->n_in; ++k)
            in[k] = &p->values[st->in[k]].view;
        clnet__step_weights(m, st, w, NULL);
        const int training = p->training && !st->inference;
        /* An output placed in a concatenation's buffer: its channel block of every pixel. */
        const clnet__value *out = &p->values[st->out];
        const int host = out->host;
        const clnet__op_call call = {.ctx = m->ctx,
                                     .params = st->params,
                                     .n_in = st->n_in,
                                     .in = in,
                                     .out = &p->values[st->out].view,
                                     .n_w = st->n_w,
                                     .w = w,
                                     .saved = st->saved,
                                     .training = training,
                                     .seed = call_seed(m, st),
                                     .exec = &st->exec,
                                     .scratch = &st->scratch[0],
                                     .out_stride = host >= 0 ? p->values[host].view.shape.c : 0,
                                     .out_offset = host >= 0 ? (size_t)out->host_channel : 0,
                                     .prepacked = st->prepacked ? st->prepacked->buf : NULL,
                                     .sync = training ? m->sync : NULL};
        float own = 0.0f;
        float *mom = training ? override_momentum(st, momentum, &own) : NULL;
        CLNET_TRY(poison_scratch(m, &st->scratch[0]));
        if (m->hook)
            m->hook(m->hook_user, p, s, 0, 0);
        clnet_status status = st->op->forward(&call);
        if (mom)
            *mom = own;
        if (m->hook && status == CLNET_OK)
            m->hook(m->hook_user, p, s, 0, 1);
        if (status != CLNET_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", clnet_context_error(m->ctx));
            return clnet__fail(m->ctx, status, "layer '%s': %s",
                               m->graph->layers[st->members[0]].name, msg);
        }
        CLNET_TRY(poison(m, p, s));
    }
    return CLNET_OK;
}

/* An inference batch too large for the device's buffers, slice by slice: each slice
 * is copied into a staging input (the last one zero-padded: images are independent in
 * inference) and its outputs into the whole batch's output. */
static clnet_status run_sliced(clnet_model *m, clnet__plan *p, const clnet_tensor *x, int batch,
                               int slice)
{
    clnet_shape in = x->shape, out = p->values[p->output].view.shape;
    in.n = slice;
    out.n = batch;
    if (m->slice_input && !clnet__shape_eq(m->slice_input->shape, in)) {
        clnet_tensor_destroy(m->slice_input);
        m->slice_input = NULL;
    }
    if (m->output && !clnet__shape_eq(m->output->shape, out)) {
        clnet_tensor_destroy(m->output);
        m->output = NULL;
    }
    if (!m->slice_input)
        CLNET_TRY(clnet_tensor_create(m->ctx, in, &m->slice_input));
    if (!m->output)
        CLNET_TRY(clnet_tensor_create(m->ctx, out, &m->output));
    const size_t in_img = m->slice_input->count / (size_t)slice;
    const size_t out_img = m->output->count / (size_t)batch;
    for (int i0 = 0; i0 < batch; i0 += slice) {
        const int n = batch - i0 < slice ? batch - i0 : slice;
        if (n < slice)
            CLNET_TRY(clnet_tensor_fill(m->slice_input, 0.0f));
        CLNET_TRY(clnet__copy(m->ctx, x->buf, (size_t)i0 * in_img, m->slice_input->buf, 0,
                              (size_t)n * in_img));
        CLNET_TRY(run_forward(m, p, m->slice_input, NULL));
        CLNET_TRY(clnet__copy(m->ctx, p->values[p->output].view.buf, 0, m->output->buf,
                              (size_t)i0 * out_img, (size_t)n * out_img));
    }
    return CLNET_OK;
}

/* clnet_model_forward, with momentum as run_forward takes it. */
static clnet_status forward(clnet_model *m, const clnet_tensor *x, int training,
                            const float *momentum, clnet_tensor **y)
{
    if (y)
        *y = NULL;
    if (!m || !x || !y)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_model_forward: NULL argument")
                 : CLNET_ERR_INVALID_ARG;
    training = training != 0;
    const clnet_shape want = m->graph->layers[m->input_layer].out;
    if (x->shape.h != want.h || x->shape.w != want.w || x->shape.c != want.c || x->shape.n < 1) {
        char a[48];
        return clnet__fail(m->ctx, CLNET_ERR_SHAPE,
                           "input '%s' takes N x %dx%dx%d images, got a tensor %s",
                           m->graph->layers[m->input_layer].name, want.h, want.w, want.c,
                           clnet__shape_str(x->shape, a, sizeof a));
    }
    const int batch = x->shape.n;
    int slice = batch;
    clnet__plan *p = NULL;
    CLNET_TRY(clnet__model_plan(m, training, batch, &p, &slice));
    m->ran = NULL;
    m->ran_batch = batch;
    if (training) {
        m->step_seed = mix(m->opt.seed ^ mix(++m->steps_run));
        CLNET_TRY(run_forward(m, p, x, momentum));
        ++m->weights_version; /* moving statistics */
    } else {
        CLNET_TRY(clnet__plan_fold(m, p));
        if (slice == batch) {
            CLNET_TRY(run_forward(m, p, x, NULL));
        } else {
            CLNET_TRY(run_sliced(m, p, x, batch, slice));
            *y = m->output;
            m->ran = p;
            return CLNET_OK;
        }
    }
    m->ran = p;
    *y = &p->values[p->output].view;
    return CLNET_OK;
}

clnet_status clnet_model_forward(clnet_model *m, const clnet_tensor *x, int training,
                                 clnet_tensor **y)
{
    return forward(m, x, training, NULL, y);
}

clnet_status clnet__model_forward_momentum(clnet_model *m, const clnet_tensor *x, float momentum)
{
    /* Training's dropout stream (and checkpoints' record of it) stays where it was. */
    const uint64_t run = m->steps_run;
    clnet_tensor *y = NULL;
    const clnet_status st = forward(m, x, 1, &momentum, &y);
    m->steps_run = run;
    return st;
}

/* dv += the contribution in acc (the add op's kernel reads each element before
 * writing it, so its output may be its first input). */
static clnet_status accumulate(clnet_model *m, clnet_tensor *dv, clnet_tensor *acc)
{
    static const clnet__add_params none = {{CLNET_ACT_NONE, 0.0f}};
    static const clnet__op_exec sum = {0}; /* a same-shape sum: what add's prepare records */
    clnet_tensor *in[2] = {dv, acc};
    const clnet__op_call call = {
        .ctx = m->ctx, .params = &none, .n_in = 2, .in = in, .out = dv, .exec = &sum};
    return clnet__op_add.forward(&call);
}

clnet_status clnet_model_backward(clnet_model *m, const clnet_tensor *dy)
{
    if (!m || !dy)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_model_backward: no gradient")
                 : CLNET_ERR_INVALID_ARG;
    clnet__plan *p = m->ran;
    if (!p || !p->training)
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "clnet_model_backward needs a training forward first");
    const clnet_tensor *y = &p->values[p->output].view;
    if (!clnet__shape_eq(dy->shape, y->shape)) {
        char a[48], b[48];
        return clnet__fail(
            m->ctx, CLNET_ERR_SHAPE, "the output gradient %s does not match the output %s",
            clnet__shape_str(dy->shape, a, sizeof a), clnet__shape_str(y->shape, b, sizeof b));
    }
    int *written = calloc((size_t)p->n_values, sizeof *written);
    if (!written)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_status status = CLNET_OK;
    const int n = p->n_steps;
    for (int s = n - 1; s >= 0 && status == CLNET_OK; --s) {
        clnet__step *st = &p->steps[s];
        if (!st->backward) { /* nothing in or upstream of it trains (frozen layers) */
            status = poison(m, p, 2 * n - 1 - s);
            continue;
        }
        clnet_tensor *in[CLNET_MAX_INPUTS], *din[CLNET_MAX_INPUTS] = {0}, acc[CLNET_MAX_INPUTS];
        clnet_tensor *w[CLNET_MAX_WEIGHTS], *dw[CLNET_MAX_WEIGHTS];
        for (int k = 0; k < st->n_in; ++k) {
            clnet__value *v = &p->values[st->in[k]];
            in[k] = &v->view;
            if (v->grad_slot < 0 || (k >= 1 && (st->op->flags & CLNET_OP_LABELS_INPUT1)))
                continue;
            if (!written[st->in[k]]) {
                din[k] = &v->grad_view;
                written[st->in[k]] = 1; /* a second use in this step accumulates */
            } else {
                acc[k] = v->view;
                acc[k].buf = p->acc[k]->buf;
                din[k] = &acc[k];
            }
        }
        clnet__step_weights(m, st, w, dw);
        clnet__value *o = &p->values[st->out];
        clnet_tensor *dout = st->out == p->output ? (clnet_tensor *)dy : &o->grad_view;
        const clnet__op_call call = {.ctx = m->ctx,
                                     .params = st->params,
                                     .n_in = st->n_in,
                                     .in = in,
                                     .out = &o->view,
                                     .n_w = st->n_w,
                                     .w = w,
                                     .saved = st->saved,
                                     .training = !st->inference,
                                     .seed = call_seed(m, st),
                                     .dout = dout,
                                     .din = din,
                                     .dw = dw,
                                     .exec = &st->exec,
                                     .scratch = &st->scratch[1],
                                     .sync = st->inference ? NULL : m->sync};
        status = poison_scratch(m, &st->scratch[1]);
        if (m->hook)
            m->hook(m->hook_user, p, s, 1, 0);
        if (status == CLNET_OK)
            status = st->op->backward(&call);
        for (int k = 0; status == CLNET_OK && k < st->n_in; ++k)
            if (din[k] == &acc[k])
                status = accumulate(m, &p->values[st->in[k]].grad_view, din[k]);
        if (m->hook && status == CLNET_OK)
            m->hook(m->hook_user, p, s, 1, 1);
        if (m->grad_hook && status == CLNET_OK)
            m->grad_hook(m->grad_hook_user, p, s);
        if (status != CLNET_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", clnet_context_error(m->ctx));
            status = clnet__fail(m->ctx, status, "layer '%s' backward: %s",
                                 m->graph->layers[st->members[0]].name, msg);
        } else {
            status = poison(m, p, 2 * n - 1 - s);
        }
    }
    free(written);
    return status;
}

clnet_status clnet__model_sync_idle(clnet_model *m, int backward, const float *momentum)
{
    clnet__plan *p = NULL;
    int slice = 1;
    CLNET_TRY(clnet__model_plan(m, 1, 1, &p, &slice)); /* any batch: the same steps */
    /* The steps run_forward and clnet_model_backward give m->sync, in their order, each
     * called as they call it but with no images (its output's n is 0). */
    for (int k = 0; k < p->n_steps; ++k) {
        clnet__step *st = &p->steps[backward ? p->n_steps - 1 - k : k];
        if (!st->op->sync_idle || st->inference || (backward ? !st->backward : st->in_place))
            continue;
        clnet_tensor *w[CLNET_MAX_WEIGHTS], none = p->values[st->out].view;
        none.shape.n = 0;
        none.count = 0;
        clnet__step_weights(m, st, w, NULL);
        const clnet__op_call call = {.ctx = m->ctx,
                                     .params = st->params,
                                     .out = &none,
                                     .n_w = st->n_w,
                                     .w = w,
                                     .saved = st->saved,
                                     .training = 1,
                                     .exec = &st->exec,
                                     .scratch = &st->scratch[backward],
                                     .sync = m->sync};
        float own = 0.0f;
        float *mom = backward ? NULL : override_momentum(st, momentum, &own);
        const clnet_status status = st->op->sync_idle(&call, backward);
        if (mom)
            *mom = own;
        CLNET_TRY(status);
    }
    return CLNET_OK;
}
