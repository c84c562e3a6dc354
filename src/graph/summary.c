/* summary.c - clnet_graph_summary: the Keras model.summary() table, with each
 * layer's multiply-adds added. Tests: tests/unit/test_graph.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

static void rule(clnet__text *t, char c)
{
    for (int i = 0; i < 118; ++i)
        clnet__text_put(t, "%c", c);
    clnet__text_put(t, "\n");
}

clnet_status clnet_graph_summary(const clnet_graph *g, const char *title, char **out)
{
    if (!g || !out)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    clnet__text t = {NULL, 0, 0, 0};
    char num[48], shape[64], name[128];
    clnet__text_put(&t, "Model: \"%s\"\n", title ? title : "model");
    rule(&t, '_');
    clnet__text_put(&t, " %-40s %-22s %-12s %-14s %s\n", "Layer (type)", "Output Shape", "Param #",
                    "Mult-adds", "Connected to");
    rule(&t, '=');
    for (int i = 0; i < g->n; ++i) {
        const clnet__layer *l = &g->layers[i];
        int64_t params = 0;
        for (int k = 0; k < l->n_w; ++k)
            params += (int64_t)clnet__shape_count(l->w[k].shape);
        snprintf(name, sizeof name, "%s (%s)", l->name, clnet__keras_type(l));
        if (l->rank2)
            snprintf(shape, sizeof shape, "(None, %d)", l->out.c);
        else
            snprintf(shape, sizeof shape, "(None, %d, %d, %d)", l->out.h, l->out.w, l->out.c);
        clnet__text_put(&t, " %-40s %-22s %-12s ", name, shape,
                        clnet__grouped((double)params, num, sizeof num));
        clnet__text_put(&t, "%-14s ", clnet__grouped(l->flops, num, sizeof num));
        if (l->n_in == 0)
            clnet__text_put(&t, "[]");
        for (int k = 0; k < l->n_in; ++k)
            clnet__text_put(&t, "%s'%s'", k ? ", " : "", g->layers[l->in[k]].name);
        clnet__text_put(&t, "\n");
        rule(&t, i + 1 == g->n ? '=' : ' ');
    }
    if (g->n == 0)
        rule(&t, '=');
    const clnet_param_counts c = clnet_graph_params(g);
    clnet__text_put(&t, "Total params: %s\n", clnet__grouped((double)c.total, num, sizeof num));
    clnet__text_put(&t, "Trainable params: %s\n",
                    clnet__grouped((double)c.trainable, num, sizeof num));
    clnet__text_put(&t, "Non-trainable params: %s\n",
                    clnet__grouped((double)c.non_trainable, num, sizeof num));
    clnet__text_put(&t, "Mult-adds per image: %s\n",
                    clnet__grouped(clnet_graph_flops(g), num, sizeof num));
    rule(&t, '_');
    if (t.failed) {
        free(t.buf);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    *out = t.buf;
    return CLNET_OK;
}
