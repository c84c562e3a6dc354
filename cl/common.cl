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

// The activation table (src/ops/activation.h): the codes of its clnet__act_id, each
// activation's forward y = f(x), and its backward dx = dy * f'(x) read from v, which is the
// output y, or the pre-activation x for the entries the table marks CLNET_ACT_FROM_INPUT
// (swish, hard_swish, gelu). The C reference is src/ref/activation.c. Both functions are
// written once for T = float (act_forward, act_backward) and T = VFLOAT (act_forward_v,
// act_backward_v: the CPU paths' channel vectors): select and the is* comparisons work on
// both (a scalar select tests c != 0, a vector one the sign bit, and is* give 1 and -1).
#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_RELU6 2
#define ACT_LEAKY_RELU 3
#define ACT_ELU 4
#define ACT_SIGMOID 5
#define ACT_TANH 6
#define ACT_HARD_SIGMOID 7
#define ACT_SWISH 8
#define ACT_HARD_SWISH 9
#define ACT_GELU 10
#define ACT_GELU_TANH 11

#define ACT_SQRT_HALF 0.70710678118654752f    // 1 / sqrt(2)
#define ACT_INV_SQRT_2PI 0.39894228040143268f // 1 / sqrt(2 pi)
#define ACT_SQRT_2_PI 0.79788456080286536f    // sqrt(2 / pi)

#define ACT_FUNCTIONS(T, SUFFIX)                                                          \
    inline T act_forward##SUFFIX(T x, int act, float alpha)                               \
    {                                                                                     \
        const T zero = (T)0.0f, one = (T)1.0f, six = (T)6.0f;                             \
        switch (act) {                                                                    \
        case ACT_RELU:                                                                    \
            return fmax(x, zero);                                                         \
        case ACT_RELU6:                                                                   \
            return fmin(fmax(x, zero), six);                                              \
        case ACT_LEAKY_RELU:                                                              \
            return select(x * alpha, x, isgreater(x, zero));                              \
        case ACT_ELU:                                                                     \
            return select((T)alpha * expm1(x), x, isgreater(x, zero));                    \
        case ACT_SIGMOID:                                                                 \
            return one / (one + exp(-x));                                                 \
        case ACT_TANH:                                                                    \
            return tanh(x);                                                               \
        case ACT_HARD_SIGMOID:                                                            \
            return fmin(fmax(x + (T)3.0f, zero), six) / six;                              \
        case ACT_SWISH:                                                                   \
            return x / (one + exp(-x));                                                   \
        case ACT_HARD_SWISH:                                                              \
            return x * (fmin(fmax(x + (T)3.0f, zero), six) / six);                        \
        case ACT_GELU:                                                                    \
            return (T)0.5f * x * (one + erf(x * ACT_SQRT_HALF));                          \
        case ACT_GELU_TANH:                                                               \
            return (T)0.5f * x *                                                          \
                   (one + tanh(ACT_SQRT_2_PI * (x + 0.044715f * x * x * x)));             \
        }                                                                                 \
        return x;                                                                         \
    }                                                                                     \
    inline T act_backward##SUFFIX(T dy, T v, int act, float alpha)                        \
    {                                                                                     \
        const T zero = (T)0.0f, one = (T)1.0f;                                            \
        switch (act) {                                                                    \
        case ACT_RELU: /* v = y: y > 0 exactly where x > 0 */                             \
            return select(zero, dy, isgreater(v, zero));                                  \
        case ACT_RELU6:                                                                   \
            return select(zero, dy, isgreater(v, zero) & isless(v, (T)6.0f));             \
        case ACT_LEAKY_RELU: /* v = y, alpha >= 0 keeps the sign */                       \
            return select(dy * alpha, dy, isgreater(v, zero));                            \
        case ACT_ELU: /* v = y; below 0, alpha e^x = y + alpha */                         \
            return select(dy * (v + alpha), dy, isgreater(v, zero));                      \
        case ACT_SIGMOID:                                                                 \
            return dy * v * (one - v);                                                    \
        case ACT_TANH:                                                                    \
            return dy * (one - v * v);                                                    \
        case ACT_HARD_SIGMOID:                                                            \
            return select(zero, dy / (T)6.0f, isgreater(v, zero) & isless(v, one));       \
        case ACT_SWISH: { /* v = x */                                                     \
            const T s = one / (one + exp(-v));                                            \
            return dy * s * (one + v * (one - s));                                        \
        }                                                                                 \
        case ACT_HARD_SWISH: /* v = x: 0 up to -3, 1 from 3 */                            \
            return select(select(zero, dy * ((T)2.0f * v + (T)3.0f) / (T)6.0f,            \
                                 isgreater(v, (T)-3.0f)),                                 \
                          dy, isgreaterequal(v, (T)3.0f));                                \
        case ACT_GELU: /* v = x: Phi(x) + x phi(x) */                                     \
            return dy * ((T)0.5f * (one + erf(v * ACT_SQRT_HALF)) +                       \
                         v * ACT_INV_SQRT_2PI * exp((T)-0.5f * v * v));                   \
        case ACT_GELU_TANH: { /* v = x */                                                 \
            const T t = tanh(ACT_SQRT_2_PI * (v + 0.044715f * v * v * v));                \
            return dy * (T)0.5f *                                                         \
                   (one + t +                                                             \
                    v * (one - t * t) * ACT_SQRT_2_PI * (one + 0.134145f * v * v));       \
        }                                                                                 \
        }                                                                                 \
        return dy;                                                                        \
    }

ACT_FUNCTIONS(float, )
ACT_FUNCTIONS(VFLOAT, _v)

// The forward on a float16 whatever the class's VW (the packed GEMM's tiles, the direct
// convolution's channel blocks): the vector function where VFLOAT is float16, else lane by
// lane.
#if VW == 16
#define act_forward16 act_forward_v
#else
inline float16 act_forward16(float16 v, int act, float alpha)
{
    float t[16];
    vstore16(v, 0, t);
    for (int j = 0; j < 16; ++j)
        t[j] = act_forward(t[j], act, alpha);
    return vload16(0, t);
}
#endif

// act_forward through F (act_forward, act_forward_v, act_forward16) on a T, with relu and
// relu6 in line: POCL does not inline the table's functions, and a call per vector of
// outputs cost more than the products of a tiny-k layer (MnasNet's 16 -> 48 expansion).
#define ACT_FORWARD_FAST(T, F, v, act, alpha)                                             \
    ((act) == ACT_RELU    ? fmax(v, (T)(0.0f))                                            \
     : (act) == ACT_RELU6 ? fmin(fmax(v, (T)(0.0f)), (T)(6.0f))                          \
                          : F(v, act, alpha))

// Horizontal sum / max of the VW lanes of a vector, in a fixed order (row loops of
// the CPU paths).
inline float vsum(VFLOAT v)
{
#if VW == 16
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
    return (b.x + b.y) + (b.z + b.w);
#elif VW == 4
    return (v.x + v.y) + (v.z + v.w);
#else
    return v;
#endif
}

inline float vmax(VFLOAT v)
{
#if VW == 16
    const float8 a = fmax(v.lo, v.hi);
    const float4 b = fmax(a.lo, a.hi);
    return fmax(fmax(b.x, b.y), fmax(b.z, b.w));
#elif VW == 4
    return fmax(fmax(v.x, v.y), fmax(v.z, v.w));
#else
    return v;
#endif
}

// Sum / max over dimension 0 of a work-group (get_local_size(0) lanes, a power of
// two) through scratch[0 .. lanes): a fixed-order local-memory tree, so the result
// repeats exactly. Every work-item of the group must call it (barriers); every lane
// of the row gets the result, and scratch is free again on return.
inline float lanes_sum(local float *scratch, float v)
{
    const int lane = get_local_id(0);
    scratch[lane] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = (int)get_local_size(0) / 2; step > 0; step >>= 1) {
        if (lane < step)
            scratch[lane] += scratch[lane + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline float lanes_max(local float *scratch, float v)
{
    const int lane = get_local_id(0);
    scratch[lane] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = (int)get_local_size(0) / 2; step > 0; step >>= 1) {
        if (lane < step)
            scratch[lane] = fmax(scratch[lane], scratch[lane + step]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// The stable softmax denominator of a row xr[0 .. c): *max gets the row max m, the
// result is sum(exp(x - m)). lanes_sum_exp: GPU row kernels whose dimension 0 is the
// row's lanes (mine: the row's lanes_* scratch; a row past the end passes live = 0 and
// still joins the barriers). row_sum_exp: a CPU work-item looping the row VW at a time.
inline float lanes_sum_exp(local float *mine, const global float *xr, int c, int live,
                           float *max)
{
    const int lane = get_local_id(0), lanes = get_local_size(0);
    float m = -INFINITY;
    for (int j = lane; live && j < c; j += lanes)
        m = fmax(m, xr[j]);
    m = lanes_max(mine, m);
    float s = 0.0f;
    for (int j = lane; live && j < c; j += lanes)
        s += exp(xr[j] - m);
    *max = m;
    return lanes_sum(mine, s);
}

inline float row_sum_exp(const global float *xr, int c, float *max)
{
    VFLOAT vm = (VFLOAT)(-INFINITY);
    int j = 0;
    for (; j + VW <= c; j += VW)
        vm = fmax(vm, VLOAD(0, xr + j));
    float m = vmax(vm);
    for (; j < c; ++j)
        m = fmax(m, xr[j]);
    VFLOAT vs = (VFLOAT)0.0f;
    for (j = 0; j + VW <= c; j += VW)
        vs += exp(VLOAD(0, xr + j) - m);
    float s = vsum(vs);
    for (; j < c; ++j)
        s += exp(xr[j] - m);
    *max = m;
    return s;
}

// n floats from src to dst / zeros into dst, VW at a time with a scalar tail (CPU paths
// that own contiguous runs: padding, cropping, channel copies).
inline void vcopy(global const float *src, global float *dst, int n)
{
    int i = 0;
    for (; i + VW <= n; i += VW)
        VSTORE(VLOAD(0, src + i), 0, dst + i);
    for (; i < n; ++i)
        dst[i] = src[i];
}

inline void vzero(global float *dst, int n)
{
    int i = 0;
    for (; i + VW <= n; i += VW)
        VSTORE((VFLOAT)0.0f, 0, dst + i);
    for (; i < n; ++i)
        dst[i] = 0.0f;
}

// The sliding windows of max_pool and avg_pool (src/ops/pool.c computes the geometry).
#define POOL_GEOM                                                                          \
    int batch, int in_h, int in_w, int c, int out_h, int out_w, int kh, int kw, int sh,   \
        int sw, int pad_t, int pad_l
#define POOL_GEOM_ARGS batch, in_h, in_w, c, out_h, out_w, kh, kw, sh, sw, pad_t, pad_l

// The window of output (oy, ox) inside the input: rows [.s0, .s1), columns [.s2, .s3).
inline int4 pool_window(int oy, int ox, int in_h, int in_w, int kh, int kw, int sh, int sw,
                        int pad_t, int pad_l)
{
    const int y0 = oy * sh - pad_t, x0 = ox * sw - pad_l;
    return (int4)(max(y0, 0), min(y0 + kh, in_h), max(x0, 0), min(x0 + kw, in_w));
}

// The outputs whose windows hold input (iy, ix): rows [.s0, .s1), columns [.s2, .s3).
inline int4 pool_covering(int iy, int ix, int out_h, int out_w, int kh, int kw, int sh, int sw,
                          int pad_t, int pad_l)
{
    const int fy = iy + pad_t - kh + 1, fx = ix + pad_l - kw + 1; // first o with o * s >= f
    return (int4)(fy <= 0 ? 0 : (fy + sh - 1) / sh, min((iy + pad_t) / sh + 1, out_h),
                  fx <= 0 ? 0 : (fx + sw - 1) / sw, min((ix + pad_l) / sw + 1, out_w));
}
