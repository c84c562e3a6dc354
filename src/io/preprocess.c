/* preprocess.c - changes to a model that move a preprocessing step into its weights:
 * reading RGB where the model was trained on BGR (Caffe's order, keras.applications'
 * "caffe" mode) is a permutation of the first convolutions' input channels. */
#include <stdlib.h>
#include <string.h>

#include "ops/op_params.h"
#include "plan/plan.h"

clnet_status clnet_model_reverse_input_channels(clnet_model *m)
{
    if (!m)
        return CLNET_ERR_INVALID_ARG;
    const clnet_graph *g = m->graph;
    const int input = m->input_layer;
    if (g->layers[input].out.c != 3)
        return clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED,
                           "reversing the input's channels: it has %d, not 3",
                           g->layers[input].out.c);
    /* Every reader of the input must be a plain convolution, checked before any change. */
    for (int pass = 0; pass < 2; ++pass)
        for (int l = 0; l < g->n; ++l) {
            const clnet__layer *y = &g->layers[l];
            int reads = 0;
            for (int i = 0; i < y->n_in; ++i)
                reads |= y->in[i] == input;
            if (!reads)
                continue;
            const clnet__conv2d_params *p = y->params;
            if (strcmp(y->op->name, "conv2d") || y->n_in != 1 || p->groups > 1)
                return clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED,
                                   "reversing the input's channels: layer '%s' (%s) reads the "
                                   "input, and only ungrouped convolutions can take the "
                                   "reversal into their weights",
                                   y->name, y->op->name);
            if (pass == 0)
                continue;
            clnet_tensor *w = m->w[m->weight_base[l]];
            const clnet_shape s = clnet_tensor_shape(w); /* {kh, kw, 3, filters} */
            const size_t count = (size_t)s.n * s.h * s.w * s.c;
            float *k = malloc(count * sizeof *k);
            if (!k)
                return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
            clnet_status st = clnet_tensor_read(w, k, count);
            for (size_t at = 0; st == CLNET_OK && at < (size_t)s.n * s.h; ++at)
                for (int o = 0; o < s.c; ++o) {
                    float *row = k + at * 3 * (size_t)s.c;
                    const float t = row[o];
                    row[o] = row[2 * (size_t)s.c + o];
                    row[2 * (size_t)s.c + o] = t;
                }
            if (st == CLNET_OK)
                st = clnet_tensor_write(w, k, count);
            free(k);
            if (st != CLNET_OK)
                return st;
        }
    clnet_model_weights_changed(m);
    return CLNET_OK;
}
