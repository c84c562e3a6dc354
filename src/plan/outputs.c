/* outputs.c - what a forward computes besides the output, decided when a plan is built:
 * the outputs of named layers the caller keeps (feature extraction, as Keras's
 * Model(inputs, layer.output) or a PyTorch forward hook), and dropout turned off in
 * training. fuse.c ends a fused group at a kept layer and makes dropout steps the
 * identity, memory.c keeps a kept buffer live to the end; model.c rebuilds plans when
 * options_version changes. Tests: tests/models/test_layer_output.c. */
#include <limits.h>
#include <stdlib.h>

#include "plan/plan.h"

int clnet__model_kept(const clnet_model *m, int layer)
{
    return m->kept && m->kept[layer];
}

/* The index of the layer called name, else an error naming it and the nearest name. */
static clnet_status find_layer(clnet_model *m, const char *fn, const char *name, int *layer)
{
    const clnet_graph *g = m->graph;
    *layer = clnet_graph_find(g, name);
    if (*layer != CLNET_LAYER_NONE)
        return CLNET_OK;
    const char *near = NULL;
    int best = INT_MAX;
    for (int i = 0; i < g->n; ++i) {
        const int d = clnet__name_near(name, g->layers[i].name);
        if (d >= 0 && d < best) {
            best = d;
            near = g->layers[i].name;
        }
    }
    return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                       "%s: the model has no layer '%s'%s%s%s (clnet_graph_summary lists them)", fn,
                       name, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
}

clnet_status clnet_model_keep_output(clnet_model *m, const char *layer)
{
    if (!m)
        return CLNET_ERR_INVALID_ARG;
    if (!layer) {
        if (m->kept)
            ++m->options_version;
        free(m->kept);
        m->kept = NULL;
        return CLNET_OK;
    }
    int i = 0;
    CLNET_TRY(find_layer(m, "clnet_model_keep_output", layer, &i));
    if (!m->kept && !(m->kept = calloc((size_t)m->graph->n, sizeof *m->kept)))
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    if (!m->kept[i])
        ++m->options_version;
    m->kept[i] = 1;
    return CLNET_OK;
}

/* Why the last forward's plan p has no kept value of layer i. */
static clnet_status not_kept(clnet_model *m, const clnet__plan *p, int i)
{
    const char *name = m->graph->layers[i].name;
    if (!clnet__model_kept(m, i))
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "layer '%s' was not kept: call clnet_model_keep_output(m, \"%s\") "
                           "before the forward",
                           name, name);
    if (p->options_version != m->options_version)
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "layer '%s' was kept after the last forward: its output comes with "
                           "the next forward",
                           name);
    return clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED,
                       "layer '%s' does not run in a training forward, which computes only "
                       "what its output (the logits the loss reads) depends on: read it after "
                       "an inference forward",
                       name);
}

clnet_status clnet_model_layer_output(clnet_model *m, const char *layer, clnet_tensor **out)
{
    if (out)
        *out = NULL;
    if (!m || !layer || !out)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                               "clnet_model_layer_output: NULL argument")
                 : CLNET_ERR_INVALID_ARG;
    int i = 0;
    CLNET_TRY(find_layer(m, "clnet_model_layer_output", layer, &i));
    const char *name = m->graph->layers[i].name;
    clnet__plan *p = m->ran;
    if (!p)
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "layer '%s': no forward to read it from (none ran since the model "
                           "was made, its plan changed or the last one failed): call "
                           "clnet_model_keep_output, then clnet_model_forward",
                           name);
    int v = -1;
    for (int k = 0; k < p->n_values; ++k)
        if (p->values[k].layer == i && p->values[k].kept)
            v = k;
    if (v < 0)
        return not_kept(m, p, i);
    int fused = 0; /* the layer's softmax is fused: its training value holds the logits */
    if (p->training && clnet__graph_logits(m->graph, &fused) == i && fused)
        return clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED,
                           "layer '%s' gives the logits in a training forward (its softmax is "
                           "left to the loss): read its probabilities after an inference forward",
                           name);
    clnet_tensor *t = &p->values[v].view;
    if (t->shape.n != m->ran_batch)
        return clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED,
                           "layer '%s': the last forward ran its %d images in slices of %d (its "
                           "activations exceed the device's largest buffer) and gathered only "
                           "the model's output: read layer outputs of batches of at most %d",
                           name, m->ran_batch, t->shape.n, t->shape.n);
    *out = t;
    return CLNET_OK;
}

clnet_status clnet_model_set_dropout(clnet_model *m, int enabled)
{
    if (!m)
        return CLNET_ERR_INVALID_ARG;
    if (m->dropout_off == !enabled)
        return CLNET_OK;
    m->dropout_off = !enabled;
    ++m->options_version;
    return CLNET_OK;
}
