// add.cl - kernels for src/ops/add.c (Keras Add: y = act(a0 + a1 + ... + a[n_in-1]),
// 2 <= n_in <= 8, summed in input order; act, alpha: the fused activation (common.cl), the
// residual ReLU; with save_pre the sum goes to pre too, for a backward that reads it).
// Flat over count elements, ELEMENTWISE mapping (common.cl): one element per work-item
// on GPUs, CLNET_CHUNK contiguous elements in float16 steps per work-item on CPUs.
// Unused input (output) pointers alias the first one and are never touched.

#define LOAD_S(p, i) (p)[i]
#define LOAD_V(p, i) VLOAD(0, (p) + (i))

// s = a0 + a1 (+ a2 ...), of type T, read with LD.
#define ADD_SUM(T, LD, i)                                                                  \
    T s = LD(a0, i) + LD(a1, i);                                                           \
    if (n_in > 2)                                                                          \
        s += LD(a2, i);                                                                    \
    if (n_in > 3)                                                                          \
        s += LD(a3, i);                                                                    \
    if (n_in > 4)                                                                          \
        s += LD(a4, i);                                                                    \
    if (n_in > 5)                                                                          \
        s += LD(a5, i);                                                                    \
    if (n_in > 6)                                                                          \
        s += LD(a6, i);                                                                    \
    if (n_in > 7)                                                                          \
        s += LD(a7, i);

#define ADD_S(i)                                                                           \
    {                                                                                      \
        ADD_SUM(float, LOAD_S, i)                                                          \
        if (save_pre)                                                                      \
            pre[i] = s;                                                                    \
        y[i] = act_forward(s, act, alpha);                                                 \
    }
#define ADD_V(i)                                                                           \
    {                                                                                      \
        ADD_SUM(VFLOAT, LOAD_V, i)                                                         \
        if (save_pre)                                                                      \
            VSTORE(s, 0, pre + (i));                                                       \
        VSTORE(act_forward_v(s, act, alpha), 0, y + (i));                                  \
    }

kernel void add_forward(global const float *a0, global const float *a1, global const float *a2,
                        global const float *a3, global const float *a4, global const float *a5,
                        global const float *a6, global const float *a7, global float *y,
                        global float *pre, int n_in, int count, int save_pre, int act,
                        float alpha)
{
    ELEMENTWISE(count, ADD_V, ADD_S)
}

// Every input gets the same gradient: d = act_backward(dy, v), v the output or the saved sum
// as the activation table says (not read at all without an activation); written to
// d0 .. d[n_out-1].
#define STORE_S(g, p, i) (p)[i] = (g)
#define STORE_V(g, p, i) VSTORE((g), 0, (p) + (i))
#define ADD_SCATTER(ST, i)                                                                 \
    ST(g, d0, i);                                                                          \
    if (n_out > 1)                                                                         \
        ST(g, d1, i);                                                                      \
    if (n_out > 2)                                                                         \
        ST(g, d2, i);                                                                      \
    if (n_out > 3)                                                                         \
        ST(g, d3, i);                                                                      \
    if (n_out > 4)                                                                         \
        ST(g, d4, i);                                                                      \
    if (n_out > 5)                                                                         \
        ST(g, d5, i);                                                                      \
    if (n_out > 6)                                                                         \
        ST(g, d6, i);                                                                      \
    if (n_out > 7)                                                                         \
        ST(g, d7, i);

#define ADD_BACK_S(i)                                                                      \
    {                                                                                      \
        const float g = act == ACT_NONE ? dy[i] : act_backward(dy[i], v[i], act, alpha);   \
        ADD_SCATTER(STORE_S, i)                                                            \
    }
#define ADD_BACK_V(i)                                                                      \
    {                                                                                      \
        const VFLOAT g = act == ACT_NONE                                                   \
                             ? LOAD_V(dy, i)                                               \
                             : act_backward_v(LOAD_V(dy, i), LOAD_V(v, i), act, alpha);    \
        ADD_SCATTER(STORE_V, i)                                                            \
    }

kernel void add_backward(global const float *v, global const float *dy, global float *d0,
                         global float *d1, global float *d2, global float *d3, global float *d4,
                         global float *d5, global float *d6, global float *d7, int n_out,
                         int count, int act, float alpha)
{
    ELEMENTWISE(count, ADD_BACK_V, ADD_BACK_S)
}
