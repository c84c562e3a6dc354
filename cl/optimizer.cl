// optimizer.cl - kernels for src/train/optimizer.c: one update of a weight tensor
// from its gradient, in place. Flat over count elements, ELEMENTWISE mapping
// (common.cl): one element per work-item on GPUs, CLNET_CHUNK contiguous elements in
// float16 steps per work-item on CPUs. Each element is read and written by one
// work-item only, so w, v and m are updated in place without races.
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
                          float lr, float momentum, int nesterov, float weight_decay)
{
    ELEMENTWISE(count, SGD_V, SGD_S)
}

// Adam: g' = g + wd * w (coupled, PyTorch's Adam) unless decoupled (AdamW: w -= lr * wd
// * w first); m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
// w -= lr * (m / c1) / (sqrt(v / c2) + eps) with the bias corrections c1 = 1 - b1^t,
// c2 = 1 - b2^t computed on the host in double.
#define ADAM_BODY(T, LD, ST, i)                                                            \
    {                                                                                      \
        T wi = LD(w, i);                                                                   \
        T gi = LD(g, i);                                                                   \
        if (decoupled)                                                                     \
            wi -= lr * weight_decay * wi;                                                  \
        else                                                                               \
            gi += weight_decay * wi;                                                       \
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
                           float eps, float weight_decay, int decoupled, float c1, float c2)
{
    ELEMENTWISE(count, ADAM_V, ADAM_S)
}
