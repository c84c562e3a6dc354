/* fuse.c - the fusion passes: graph layers become plan steps. Inference folds a batch
 * norm into the convolution before it (conv2d, depthwise_conv2d, dense), takes a
 * following standalone activation (relu, relu6, or any of the activation table's ops) as
 * the epilogue's activation and a residual add (+ activation) as conv2d's second input;
 * dropout, stochastic depth and flatten become views, and the fusions look through the
 * first two (conv + BN + stochastic depth + add is one step). Training keeps batch norm
 * (batch statistics) and fuses only the activations (BN + ReLU6 is one kernel whose
 * backward reads the mask from the output; an activation whose backward reads the
 * pre-activation makes the op keep or recompute it, see activation.h); frozen layers
 * decide which steps run backward and which batch norms run in inference mode. A layer
 * whose output the caller keeps (outputs.c) ends its group. Memory: memory.c. Tests:
 * tests/models/test_plan.c, tests/models/test_fuse_act.c, tests/models/test_finetune.c,
 * tests/models/test_layer_output.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

static int is_op(const clnet__layer *l, const char *name)
{
    return l->op && strcmp(l->op->name, name) == 0;
}

/* Whether layer l is a standalone activation an epilogue can run, and which (*act): the ops
 * of the activation table (CLNET_OP_ACTIVATION) and relu / relu6, but not a relu with
 * another max_value (no table entry). */
static int layer_act(const clnet__layer *l, clnet__act *act)
{
    if (l->op && (l->op->flags & CLNET_OP_ACTIVATION)) {
        *act = *(const clnet__act *)((const char *)l->params + l->op->act_offset);
        return 1;
    }
    const float cap = is_op(l, "relu6")  ? 6.0f
                      : is_op(l, "relu") ? ((const clnet__relu_params *)l->params)->cap
                                         : -1.0f;
    if (cap != 0.0f && cap != 6.0f)
        return 0;
    *act = (clnet__act){cap == 0.0f ? CLNET_ACT_RELU : CLNET_ACT_RELU6, 0.0f};
    return 1;
}

/* An add whose second input broadcasts onto its first: it takes no activation and is no
 * convolution's residual (add.c). */
static int broadcast_add(const clnet_graph *g, const clnet__layer *l)
{
    return is_op(l, "add") && l->n_in == 2 &&
           !clnet__shape_eq(g->layers[l->in[0]].out, g->layers[l->in[1]].out);
}

typedef struct builder {
    const clnet_model *m;
    const clnet_graph *g;
    int training, fuse;
    int *uses;        /* per layer: readers, +1 for the output layer */
    int *live;        /* per layer: the output depends on it */
    int *taken;       /* per layer: already in a step */
    int output;       /* the layer whose value the plan gives: the last, or the logits */
    int strip_output; /* training: the output layer's fused softmax is left out */
} builder;

/* The one layer reading layer t, when t is read exactly once and is not the output. */
static int sole_reader(const builder *b, int t)
{
    if (b->uses[t] != 1)
        return -1;
    for (int j = t + 1; j < b->g->n; ++j)
        for (int k = 0; k < b->g->layers[j].n_in; ++k)
            if (b->g->layers[j].in[k] == t)
                return b->taken[j] ? -1 : j;
    return -1;
}

static void take(builder *b, clnet__step *s, int layer)
{
    s->members[s->n_members++] = layer;
    b->taken[layer] = 1;
}

/* The layer after t (s's tail) that s can absorb: t's sole reader, looking in inference
 * through layers that are the identity there (dropout, stochastic depth; each read once)
 * while s keeps room for them, the reader and one activation after it. *via gets the
 * layer the reader reads: t or the last identity. */
static int next_reader(const builder *b, const clnet__step *s, int t, int *via)
{
    int j = sole_reader(b, *via = t), room = CLNET_MAX_MEMBERS - s->n_members - 2;
    while (!b->training && j >= 0 && (b->g->layers[j].op->flags & CLNET_OP_INFERENCE_IDENTITY) &&
           room-- > 0)
        j = sole_reader(b, *via = j);
    return j;
}

/* Takes the identities after t up to via, then j (next_reader's), into s; returns j, the
 * new tail. */
static int take_through(builder *b, clnet__step *s, int t, int via, int j)
{
    while (t != via)
        take(b, s, t = sole_reader(b, t));
    take(b, s, j);
    return j;
}

/* Grows the step that starts at its first member through the layers it can absorb. */
static void grow(builder *b, clnet__step *s, clnet__plan *p)
{
    const clnet__layer *head = &b->g->layers[s->members[0]];
    clnet__act *act = clnet__params_act(s->op, s->params);
    int tail = s->members[0], via;
    int *use_bias = clnet__params_use_bias(s->op, s->params);
    if (!b->training && use_bias && act && act->id == CLNET_ACT_NONE && head->n_in == 1) {
        const int j = next_reader(b, s, tail, &via);
        if (j >= 0 && is_op(&b->g->layers[j], "batch_norm")) {
            s->fold_bn = j;
            *use_bias = 1;
            *act = ((const clnet__batch_norm_params *)b->g->layers[j].params)->act;
            tail = take_through(b, s, tail, via, j);
            ++p->fused_bn;
        }
    }
    if (act && act->id == CLNET_ACT_NONE && !broadcast_add(b->g, head)) {
        const int j = next_reader(b, s, tail, &via);
        if (j >= 0 && layer_act(&b->g->layers[j], act)) {
            tail = take_through(b, s, tail, via, j);
            ++p->fused_act;
        }
    }
    if (b->training || !is_op(head, "conv2d") || head->n_in != 1 || act->id != CLNET_ACT_NONE)
        return;
    const int j = next_reader(b, s, tail, &via);
    const clnet__layer *add = j >= 0 ? &b->g->layers[j] : NULL;
    if (!add || !is_op(add, "add") || add->n_in != 2 || add->in[0] == add->in[1] ||
        broadcast_add(b->g, add))
        return;
    s->in[s->n_in++] = add->in[0] == via ? add->in[1] : add->in[0]; /* a layer until mapped */
    *act = ((const clnet__add_params *)add->params)->act;
    tail = take_through(b, s, tail, via, j);
    ++p->fused_add;
    if (act->id == CLNET_ACT_NONE) {
        const int r = next_reader(b, s, tail, &via);
        if (r >= 0 && layer_act(&b->g->layers[r], act)) {
            take_through(b, s, tail, via, r);
            ++p->fused_act;
        }
    }
}

static int tail_of(const clnet__step *s)
{
    return s->members[s->n_members - 1];
}

static int by_tail(const void *a, const void *b)
{
    return tail_of(a) - tail_of(b);
}

/* Marks every layer the output depends on. */
static void mark_live(builder *b, int output)
{
    b->live[output] = 1;
    for (int i = output; i >= 0; --i)
        if (b->live[i])
            for (int k = 0; k < b->g->layers[i].n_in; ++k)
                b->live[b->g->layers[i].in[k]] = 1;
}

static clnet_status make_steps(builder *b, const clnet_model *m, clnet__plan *p)
{
    const clnet_graph *g = b->g;
    for (int i = 0; i < g->n; ++i) {
        const clnet__layer *l = &g->layers[i];
        p->layers += l->op && b->live[i];
        if (!l->op || !b->live[i] || b->taken[i])
            continue;
        /* Inference no-ops become views of their input (memory.c shares the buffer). */
        if (!b->training && b->fuse &&
            ((l->op->flags & CLNET_OP_INFERENCE_IDENTITY) || is_op(l, "flatten")))
            continue;
        clnet__step *s = &p->steps[p->n_steps++];
        s->op = l->op;
        s->fold_bn = -1;
        if (!(s->params = malloc(l->op->params_size ? l->op->params_size : 1)))
            return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        memcpy(s->params, l->params, l->op->params_size);
        if (b->strip_output && i == b->output)
            *clnet__params_act(l->op, s->params) = (clnet__act){CLNET_ACT_NONE, 0.0f};
        s->n_in = l->n_in;
        memcpy(s->in, l->in, sizeof s->in);
        take(b, s, i);
        if (b->fuse)
            grow(b, s, p);
        s->n_w = s->fold_bn >= 0 ? 2 : l->n_w; /* folded: the plan's kernel and bias */
        for (int k = 0; k < s->n_w; ++k)
            s->w_index[k] = s->fold_bn >= 0 ? -1 : m->weight_base[i] + k;
    }
    qsort(p->steps, (size_t)p->n_steps, sizeof *p->steps, by_tail);
    return CLNET_OK;
}

/* Values: the input, each step's output, and the views; step inputs become values. */
static clnet_status make_values(builder *b, clnet__plan *p, int batch, int input_layer,
                                clnet_context *ctx)
{
    const clnet_graph *g = b->g;
    int *value_of = malloc((size_t)g->n * sizeof *value_of);
    if (!value_of)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < g->n; ++i)
        value_of[i] = -1;
    int step = 0;
    for (int i = 0; i < g->n; ++i) {
        const clnet__layer *l = &g->layers[i];
        const int produced = step < p->n_steps && tail_of(&p->steps[step]) == i;
        const int is_view = !produced && b->live[i] && l->op && !b->taken[i];
        if (i != input_layer && !produced && !is_view)
            continue;
        clnet__value *v = &p->values[p->n_values];
        memset(v, 0, sizeof *v);
        v->layer = i;
        v->kept = clnet__model_kept(b->m, i);
        /* A view of a view shares the first owner's storage: one step from any value. */
        v->alias = is_view ? clnet__value_owner(p, value_of[l->in[0]]) : -1;
        v->def = produced ? step : -1;
        v->slot = v->grad_slot = v->host = -1;
        v->view.shape = l->out;
        v->view.shape.n = batch;
        v->view.count = clnet__shape_count(v->view.shape);
        v->view.ctx = ctx;
        v->grad_view = v->view;
        value_of[i] = p->n_values++;
        if (produced) {
            clnet__step *s = &p->steps[step++];
            s->out = value_of[i];
            for (int k = 0; k < s->n_in; ++k)
                s->in[k] = value_of[s->in[k]];
        }
    }
    p->input = value_of[input_layer];
    p->output = value_of[b->output];
    free(value_of);
    return CLNET_OK;
}

/* Training: what freezing leaves to do (Keras's semantics). An op with moving statistics
 * whose trainable weights are all frozen runs in inference mode; a value needs its
 * gradient when a trainable weight lies in its step or upstream of it; a step runs
 * backward when its output needs a gradient, asking only for the input and weight
 * gradients that are needed. Steps are in graph order, so producers come first (training
 * plans have no views). */
static void mark_backward(const clnet_model *m, clnet__plan *p)
{
    for (int s = 0; s < p->n_steps; ++s) {
        clnet__step *st = &p->steps[s];
        int trains = 0, has_trainable = 0;
        for (int k = 0; k < st->n_w; ++k) {
            const int w = st->w_index[k];
            st->w_grad[k] = w >= 0 && m->dw[w] && !m->frozen[w];
            trains |= st->w_grad[k];
            has_trainable |= w >= 0 && m->dw[w] != NULL;
        }
        st->inference = (st->op->flags & CLNET_OP_MOVING_STATS) && has_trainable && !trains;
        int upstream = 0;
        for (int k = 0; k < st->n_in; ++k)
            upstream |= p->values[st->in[k]].needs_grad;
        st->backward = trains || upstream;
        p->values[st->out].needs_grad = st->backward;
        p->backward_steps += st->backward;
        p->frozen_stats += st->inference;
        p->moving_stats += (st->op->flags & CLNET_OP_MOVING_STATS) && !st->inference;
        /* Dropout turned off (clnet_model_set_dropout): the identity forward and backward,
         * as in inference (PyTorch's eval() on the dropout modules alone). */
        if (m->dropout_off && st->op == &clnet__op_dropout)
            st->inference = 1;
    }
}

int clnet__graph_logits(const clnet_graph *g, int *fused)
{
    *fused = 0;
    if (!g || g->n < 2)
        return -1;
    const clnet__layer *l = &g->layers[g->n - 1];
    if (!l->op)
        return -1;
    const clnet__act *act = clnet__params_act(l->op, l->params);
    if (act && act->id == CLNET_ACT_SOFTMAX) {
        *fused = 1;
        return g->n - 1;
    }
    if (!(l->op->flags & CLNET_OP_PROBABILITIES) || l->n_in != 1 || !g->layers[l->in[0]].op)
        return -1;
    return l->in[0];
}

/* Every step's execution record, for its shapes at the plan's batch. */
static clnet_status prepare_steps(const clnet_model *m, clnet__plan *p)
{
    for (int s = 0; s < p->n_steps; ++s) {
        clnet__step *st = &p->steps[s];
        clnet_shape in[CLNET_MAX_INPUTS];
        for (int k = 0; k < st->n_in; ++k)
            in[k] = p->values[st->in[k]].view.shape;
        const clnet__value *x = &p->values[st->in[0]];
        const int dx = x->def >= 0 && x->needs_grad; /* as clnet_model_backward asks */
        /* An inference plan's weights change only between runs (fold.c refreshes what an
         * op keeps of them). */
        const int training = p->training && st->backward
                                 ? CLNET_PREPARE_TRAINING | (dx ? 0 : CLNET_PREPARE_NO_DX)
                             : p->training ? 0
                                           : CLNET_PREPARE_PREPACK;
        const clnet_status status =
            clnet__op_prepare(m->ctx, st->op, st->params, in, st->n_in, training, &st->exec);
        if (status != CLNET_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", clnet_context_error(m->ctx));
            return clnet__fail(m->ctx, status, "layer '%s': %s",
                               m->graph->layers[st->members[0]].name, msg);
        }
    }
    return CLNET_OK;
}

clnet_status clnet__plan_build(const clnet_model *m, int training, int batch, clnet__plan **out)
{
    *out = NULL;
    const clnet_graph *g = m->graph;
    clnet__plan *p = calloc(1, sizeof *p);
    builder b = {m,
                 g,
                 training,
                 !m->opt.no_fusion,
                 calloc((size_t)g->n, sizeof(int)),
                 calloc((size_t)g->n, sizeof(int)),
                 calloc((size_t)g->n, sizeof(int)),
                 g->n - 1,
                 0};
    clnet_status st = CLNET_OK;
    if (!p || !b.uses || !b.live || !b.taken ||
        !(p->steps = calloc((size_t)g->n, sizeof *p->steps)) ||
        !(p->values = calloc((size_t)g->n, sizeof *p->values))) {
        st = clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory planning");
        goto done;
    }
    p->training = training;
    p->batch = p->n = batch;
    ++m->ctx->stats.plans_built;
    if (training) {
        const int logits = clnet__graph_logits(g, &b.strip_output);
        b.output = logits >= 0 ? logits : b.output;
    }
    mark_live(&b, b.output);
    /* Kept layers (clnet_model_keep_output) are read by the caller, as the output is, so
     * nothing fuses past them. Inference runs them even off the output's path; training
     * runs what the logits need (the loss reads them) and no more. */
    for (int i = 0; !training && i < g->n; ++i)
        if (clnet__model_kept(m, i))
            mark_live(&b, i);
    for (int i = 0; i < g->n; ++i)
        for (int k = 0; b.live[i] && k < g->layers[i].n_in; ++k)
            ++b.uses[g->layers[i].in[k]];
    ++b.uses[b.output];
    for (int i = 0; i < g->n; ++i)
        b.uses[i] += clnet__model_kept(m, i);
    st = make_steps(&b, m, p);
    if (st == CLNET_OK)
        st = make_values(&b, p, batch, m->input_layer, m->ctx);
    if (st == CLNET_OK && training)
        mark_backward(m, p);
    p->freeze_version = m->freeze_version;
    p->options_version = m->options_version;
    p->tune_version = m->ctx->tune_version;
    if (st == CLNET_OK)
        st = prepare_steps(m, p);
done:
    free(b.uses);
    free(b.live);
    free(b.taken);
    if (st != CLNET_OK) {
        clnet__plan_free(p);
        return st;
    }
    *out = p;
    return CLNET_OK;
}
