// relu.cl - kernels for src/ops/relu.c (relu and relu6: y = min(max(x, 0), cap),
// no cap when cap <= 0). Flat over count elements, ELEMENTWISE mapping
// (common.cl): one element per work-item on GPUs, CLNET_CHUNK contiguous elements
// in float16 steps per work-item on CPUs.

#define RELU_V(i)                                                                          \
    {                                                                                      \
        VFLOAT v = fmax(VLOAD(0, x + (i)), (VFLOAT)0.0f);                                  \
        if (cap > 0.0f)                                                                    \
            v = fmin(v, (VFLOAT)cap);                                                      \
        VSTORE(v, 0, y + (i));                                                             \
    }
#define RELU_S(i)                                                                          \
    {                                                                                      \
        float v = fmax(x[i], 0.0f);                                                        \
        y[i] = cap > 0.0f ? fmin(v, cap) : v;                                              \
    }

kernel void relu_forward(global const float *x, global float *y, int count, float cap)
{
    ELEMENTWISE(count, RELU_V, RELU_S)
}

// dx = dy where 0 < x (< cap), else 0; reads the input x.
#define RELU_BACK_S(i)                                                                     \
    {                                                                                      \
        const float v = x[i];                                                              \
        dx[i] = (v > 0.0f && (cap <= 0.0f || v < cap)) ? dy[i] : 0.0f;                     \
    }
#if VW > 1
#define RELU_BACK_V(i)                                                                     \
    {                                                                                      \
        const VFLOAT v = VLOAD(0, x + (i));                                                \
        const VFLOAT g = VLOAD(0, dy + (i));                                               \
        VINT keep = isgreater(v, (VFLOAT)0.0f);                                            \
        if (cap > 0.0f)                                                                    \
            keep &= isless(v, (VFLOAT)cap);                                                \
        VSTORE(select((VFLOAT)0.0f, g, keep), 0, dx + (i));                                \
    }
#else
#define RELU_BACK_V RELU_BACK_S
#endif

kernel void relu_backward(global const float *x, global const float *dy, global float *dx,
                          int count, float cap)
{
    ELEMENTWISE(count, RELU_BACK_V, RELU_BACK_S)
}
