/* predict.c - clnet_model_predict: images in [0, 1] normalized as the model was trained,
 * through the inference plan, softmax in double on the host (unless the model ends in
 * one: clnet__graph_logits). Tests:
 * tests/models/test_fit.c, tests/cli/test_cli.sh. */
#include <math.h>
#include <stdlib.h>

#include "train/train.h"

clnet_status clnet_model_predict(clnet_model *m, const float *images, int n, float *probs)
{
    if (!m || !images || !probs || n < 1)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                               "clnet_model_predict: images, at least one, and an output needed")
                 : CLNET_ERR_INVALID_ARG;
    clnet_shape s = m->graph->layers[m->input_layer].out;
    s.n = n;
    const size_t count = clnet__shape_count(s);
    float *x = malloc(count * sizeof *x);
    if (!x)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (size_t i = 0; i < count; ++i) {
        const int c = (int)(i % (size_t)s.c);
        x[i] = (images[i] - (c < 4 ? m->mean[c] : 0.0f)) / (c < 4 ? m->std[c] : 1.0f);
    }
    clnet_tensor *t = NULL, *y = NULL;
    clnet_status st = clnet_tensor_create(m->ctx, s, &t);
    if (st == CLNET_OK)
        st = clnet_tensor_write(t, x, count);
    if (st == CLNET_OK)
        st = clnet_model_forward(m, t, 0, &y);
    if (st == CLNET_OK)
        st = clnet_tensor_read(y, probs, y->count);
    int fused = 0;
    if (st == CLNET_OK && clnet__graph_logits(m->graph, &fused) < 0) {
        const int classes = (int)(y->count / (size_t)n);
        for (int i = 0; i < n; ++i) {
            float *row = probs + (size_t)i * classes;
            const double top = row[clnet__argmax(row, classes)];
            double sum = 0.0;
            for (int k = 0; k < classes; ++k)
                sum += exp((double)row[k] - top);
            for (int k = 0; k < classes; ++k)
                row[k] = (float)(exp((double)row[k] - top) / sum);
        }
    }
    clnet_tensor_destroy(t);
    free(x);
    return st;
}
