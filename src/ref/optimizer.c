/* optimizer.c - the plain C reference of the optimizer updates (src/train/optimizer.c,
 * cl/optimizer.cl), in double. Tests: tests/ops/test_optimizer.c. */
#include <math.h>

#include "train/train.h"

void clnet__ref_optimizer_step(const clnet_optimizer_options *o, double lr, int64_t t, double *w,
                               const double *g, double *s0, double *s1, size_t n)
{
    const double wd = o->weight_decay;
    if (o->kind == CLNET_OPT_SGD) {
        for (size_t i = 0; i < n; ++i) {
            double gi = g[i] + wd * w[i];
            if (o->momentum != 0.0f) {
                s0[i] = o->momentum * s0[i] + gi;
                gi = o->nesterov ? gi + o->momentum * s0[i] : s0[i];
            }
            w[i] -= lr * gi;
        }
        return;
    }
    const double b1 = o->beta1, b2 = o->beta2, eps = o->epsilon;
    const double c1 = 1.0 - pow(b1, (double)t), c2 = 1.0 - pow(b2, (double)t);
    for (size_t i = 0; i < n; ++i) {
        double gi = g[i];
        if (o->decoupled)
            w[i] -= lr * wd * w[i];
        else
            gi += wd * w[i];
        s0[i] = b1 * s0[i] + (1.0 - b1) * gi;
        s1[i] = b2 * s1[i] + (1.0 - b2) * gi * gi;
        w[i] -= lr * (s0[i] / c1) / (sqrt(s1[i] / c2) + eps);
    }
}
