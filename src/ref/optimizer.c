/* optimizer.c - the plain C reference of the optimizer updates (src/train/optimizer.c,
 * cl/optimizer.cl), in double. Tests: tests/ops/test_optimizer.c. */
#include <math.h>

#include "train/train.h"

/* SGD: PyTorch's torch.optim.SGD. s[0]: the velocity. */
static void sgd(const clnet_optimizer_options *o, double lr, double *w, const double *g,
                double *const *s, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        double gi = g[i] + o->weight_decay * w[i];
        if (o->momentum != 0.0f) {
            s[0][i] = o->momentum * s[0][i] + gi;
            gi = o->nesterov ? gi + o->momentum * s[0][i] : s[0][i];
        }
        w[i] -= lr * gi;
    }
}

/* Weight decay of Adam and RMSprop: decoupled, *w shrinks by lr * wd * w and g is
 * returned as it is; coupled, g + wd * w is returned. */
static double decayed(const clnet_optimizer_options *o, double lr, double *w, double g)
{
    if (!o->decoupled)
        return g + o->weight_decay * *w;
    *w -= lr * o->weight_decay * *w;
    return g;
}

/* Adam (coupled weight decay) and AdamW (decoupled). s[0]: m, s[1]: v. */
static void adam(const clnet_optimizer_options *o, double lr, int64_t t, double *w, const double *g,
                 double *const *s, size_t n)
{
    const double b1 = o->beta1, b2 = o->beta2, eps = o->epsilon;
    const double c1 = 1.0 - pow(b1, (double)t), c2 = 1.0 - pow(b2, (double)t);
    for (size_t i = 0; i < n; ++i) {
        const double gi = decayed(o, lr, &w[i], g[i]);
        s[0][i] = b1 * s[0][i] + (1.0 - b1) * gi;
        s[1][i] = b2 * s[1][i] + (1.0 - b2) * gi * gi;
        w[i] -= lr * (s[0][i] / c1) / (sqrt(s[1][i] / c2) + eps);
    }
}

/* RMSprop as torch.optim.RMSprop computes it (include/clnet.h states the update; the
 * variance of the centered form is floored at 0, as the kernel's). s[0]: the squared-
 * gradient average, s[1]: the momentum buffer, s[2]: the gradient average. */
static void rmsprop(const clnet_optimizer_options *o, double lr, double *w, const double *g,
                    double *const *s, size_t n)
{
    const double rho = o->rho, eps = o->epsilon, mu = o->momentum;
    for (size_t i = 0; i < n; ++i) {
        const double gi = decayed(o, lr, &w[i], g[i]);
        s[0][i] = rho * s[0][i] + (1.0 - rho) * gi * gi;
        double var = s[0][i];
        if (o->centered) {
            s[2][i] = rho * s[2][i] + (1.0 - rho) * gi;
            var = fmax(var - s[2][i] * s[2][i], 0.0);
        }
        double q = gi / (sqrt(var) + eps);
        if (mu != 0.0) {
            s[1][i] = mu * s[1][i] + q;
            q = s[1][i];
        }
        w[i] -= lr * q;
    }
}

void clnet__ref_optimizer_step(const clnet_optimizer_options *o, double lr, int64_t t, double *w,
                               const double *g, double *const *s, size_t n)
{
    if (o->kind == CLNET_OPT_SGD)
        sgd(o, lr, w, g, s, n);
    else if (o->kind == CLNET_OPT_ADAM)
        adam(o, lr, t, w, g, s, n);
    else
        rmsprop(o, lr, w, g, s, n);
}
