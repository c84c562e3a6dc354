// optimizer.cl - kernels for src/train/optimizer.c: one update of a weight tensor
// from its gradient, in place. Flat over count elements, ELEMENTWISE mapping
// (common.cl): one element per work-item on GPUs, CLNET_CHUNK contiguous elements in
// float16 steps per work-item on CPUs. Each element is read and written by one
// work-item only, so w and its state arrays are updated in place without races.
// Every kernel first reads the step's loss (the training plan's loss step, or a finite
// stand-in): when it is not finite the update is skipped on the device, leaving weights
// and state as they were (PyTorch's GradScaler skips such steps), so the host need not
// wait for the loss before enqueueing the update.
#define SKIP_UNLESS_FINITE                                                                 \
    if (!isfinite(loss[0]))                                                                \
        return;
// Reference: src/ref/optimizer.c. Tests: tests/ops/test_optimizer.c.

#define LOAD_S(p, i) (p)[i]
#define STORE_S(x, p, i) (p)[i] = (x)
#define LOAD_V(p, i) VLOAD(0, (p) + (i))
#define STORE_V(x, p, i) VSTORE((x), 0, (p) + (i))

// PyTorch's SGD: g' = g + wd * w; v = momentum * v + g'; step = g' + momentum * v
// (Nesterov) or v; w -= lr * step. With momentum 0 the velocity is never read.
#define SGD_BODY(T, LD, ST, i)                                                             \
    {                                                                                      \
        const T wi = LD(w, i);                                                             \
        T gi = LD(g, i) + weight_decay * wi;                                               \
        if (momentum != 0.0f) {                                                            \
            const T vi = momentum * LD(v, i) + gi;                                         \
            ST(vi, v, i);                                                                  \
            if (nesterov)                                                                  \
                gi += momentum * vi;                                                       \
            else                                                                           \
                gi = vi;                                                                   \
        }                                                                                  \
        ST(wi - lr * gi, w, i);                                                            \
    }
#define SGD_S(i) SGD_BODY(float, LOAD_S, STORE_S, i)
#define SGD_V(i) SGD_BODY(VFLOAT, LOAD_V, STORE_V, i)

kernel void optimizer_sgd(global float *w, global const float *g, global float *v, int count,
                          float lr, float momentum, int nesterov, float weight_decay,
                          global const float *loss)
{
    SKIP_UNLESS_FINITE
    ELEMENTWISE(count, SGD_V, SGD_S)
}

// Adam's and RMSprop's start: wi and gi from w and g with weight decay, coupled (the L2
// gradient, g' = g + wd * w, PyTorch's Adam and RMSprop) or decoupled (w -= lr * wd * w
// first: AdamW, Keras).
#define DECAYED(T, LD, i)                                                                  \
    T wi = LD(w, i);                                                                       \
    T gi = LD(g, i);                                                                       \
    if (decoupled)                                                                         \
        wi -= lr * weight_decay * wi;                                                      \
    else                                                                                   \
        gi += weight_decay * wi;

// Adam: g' = g + wd * w (coupled, PyTorch's Adam) unless decoupled (AdamW: w -= lr * wd
// * w first); m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
// w -= lr * (m / c1) / (sqrt(v / c2) + eps) with the bias corrections c1 = 1 - b1^t,
// c2 = 1 - b2^t computed on the host in double.
#define ADAM_BODY(T, LD, ST, i)                                                            \
    {                                                                                      \
        DECAYED(T, LD, i)                                                                  \
        const T mi = beta1 * LD(m, i) + (1.0f - beta1) * gi;                               \
        const T vi = beta2 * LD(v, i) + (1.0f - beta2) * gi * gi;                          \
        ST(mi, m, i);                                                                      \
        ST(vi, v, i);                                                                      \
        ST(wi - lr * (mi / c1) / (sqrt(vi / c2) + eps), w, i);                             \
    }
#define ADAM_S(i) ADAM_BODY(float, LOAD_S, STORE_S, i)
#define ADAM_V(i) ADAM_BODY(VFLOAT, LOAD_V, STORE_V, i)

kernel void optimizer_adam(global float *w, global const float *g, global float *m,
                           global float *v, int count, float lr, float beta1, float beta2,
                           float eps, float weight_decay, int decoupled, float c1, float c2,
                           global const float *loss)
{
    SKIP_UNLESS_FINITE
    ELEMENTWISE(count, ADAM_V, ADAM_S)
}

// RMSprop, PyTorch's form (torch/optim/rmsprop.py, _single_tensor_rmsprop; Keras's
// keras/src/optimizers/rmsprop.py update_step differs as include/clnet.h says) with
// Keras's defaults filled in on the host: g' = g + wd * w (coupled) unless decoupled (w -= lr *
// wd * w first); v = rho v + (1 - rho) g'^2; centered: a = rho a + (1 - rho) g', the
// variance v - a^2 (floored at 0 against rounding: it is >= 0 in exact arithmetic); q =
// g' / (sqrt(v~) + eps); momentum: b = momentum b + q, q = b; w -= lr * q. v is state 0,
// b state 1 (read only with momentum), a state 2 (read only when centered).
#define RMSPROP_BODY(T, LD, ST, i)                                                         \
    {                                                                                      \
        DECAYED(T, LD, i)                                                                  \
        const T vi = rho * LD(v, i) + (1.0f - rho) * gi * gi;                              \
        ST(vi, v, i);                                                                      \
        T var = vi;                                                                        \
        if (centered) {                                                                    \
            const T ai = rho * LD(a, i) + (1.0f - rho) * gi;                               \
            ST(ai, a, i);                                                                  \
            var = fmax(vi - ai * ai, (T)0.0f);                                             \
        }                                                                                  \
        T qi = gi / (sqrt(var) + eps);                                                     \
        if (momentum != 0.0f) {                                                            \
            qi += momentum * LD(b, i);                                                     \
            ST(qi, b, i);                                                                  \
        }                                                                                  \
        ST(wi - lr * qi, w, i);                                                            \
    }
#define RMSPROP_S(i) RMSPROP_BODY(float, LOAD_S, STORE_S, i)
#define RMSPROP_V(i) RMSPROP_BODY(VFLOAT, LOAD_V, STORE_V, i)

kernel void optimizer_rmsprop(global float *w, global const float *g, global float *v,
                              global float *b, global float *a, int count, float lr, float rho,
                              float eps, float momentum, int centered, float weight_decay,
                              int decoupled, global const float *loss)
{
    SKIP_UNLESS_FINITE
    ELEMENTWISE(count, RMSPROP_V, RMSPROP_S)
}
