// common.cl - prepended to every program (src/device/program.c) before a
// `#line 1 "<op>.cl"`, so compiler messages keep the op file's line numbers.
// Every program is compiled with the variant table's -D parameters
// (src/device/variants.c): CLNET_GPU or CLNET_CPU, CLNET_WG, CLNET_CHUNK, CLNET_CVEC, ...
#ifndef CLNET_WG
#define CLNET_WG 64
#endif
#ifndef CLNET_CHUNK
#define CLNET_CHUNK 1
#endif
#ifndef CLNET_CVEC
#define CLNET_CVEC 1
#endif

// Activation codes shared with src/ops/op_params.h (clnet__act).
#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_RELU6 2

// Vector width of elementwise loops: CLNET_CHUNK elements per work-item are
// processed VW at a time (float16 on CPUs: one AVX-512 register).
#if CLNET_CHUNK >= 16
#define VW 16
#define VFLOAT float16
#define VINT int16
#define VLOAD vload16
#define VSTORE vstore16
#elif CLNET_CHUNK >= 4
#define VW 4
#define VFLOAT float4
#define VINT int4
#define VLOAD vload4
#define VSTORE vstore4
#else
#define VW 1
#define VFLOAT float
#define VINT int
#define VLOAD(off, p) ((p)[off])
#define VSTORE(v, off, p) ((p)[off] = (v))
#endif

// The elementwise loop. With CLNET_CHUNK == 1 each work-item does one element;
// otherwise work-item g does [g*CHUNK, min((g+1)*CHUNK, count)), VW at a time, then
// a scalar tail. BODY(i) handles one scalar element i; VBODY(i) VW elements from i.
#define ELEMENTWISE(count, VBODY, BODY)                                                   \
    {                                                                                     \
        const int start_ = (int)get_global_id(0) * CLNET_CHUNK;                           \
        const int end_ = min(start_ + CLNET_CHUNK, (count));                              \
        int i_ = start_;                                                                  \
        if (VW > 1)                                                                       \
            for (; i_ + VW <= end_; i_ += VW) {                                           \
                VBODY(i_);                                                                \
            }                                                                             \
        for (; i_ < end_; ++i_) {                                                         \
            BODY(i_);                                                                     \
        }                                                                                 \
    }

inline float act_forward(float x, int act)
{
    if (act == ACT_RELU)
        return fmax(x, 0.0f);
    if (act == ACT_RELU6)
        return fmin(fmax(x, 0.0f), 6.0f);
    return x;
}

// Gradient of the activation read from its *output* y: relu passes where y > 0,
// relu6 where 0 < y < 6 (the saved output is all the backward pass needs).
inline float act_backward(float dy, float y, int act)
{
    if (act == ACT_RELU)
        return y > 0.0f ? dy : 0.0f;
    if (act == ACT_RELU6)
        return (y > 0.0f && y < 6.0f) ? dy : 0.0f;
    return dy;
}
