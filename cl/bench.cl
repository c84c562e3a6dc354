// bench.cl - kernels for src/device/bench.c (clnet_device_bench_run): what a device
// sustains, in the manner of clpeak.
//
// bench_peak_<type> (float, float2, float4, float8, float16): one work-item per global
// id, any 1-D global size. Each work-item keeps PEAK_ACC independent accumulators
// (so FMA latency is hidden inside one work-item, as CPU runtimes need) and runs
// `iters` rounds of 16 steps a = mad(a, m, c) on each of them. m and c are kernel
// arguments, so nothing folds; with 0 < m < 1 every value converges to c / (1 - m)
// and never overflows nor goes denormal. The accumulators' sum is written to
// out[gid] so no chain is dead code. FLOPs per work-item:
// iters * 16 * PEAK_ACC * 2 * width (the host mirrors PEAK_ACC).
//
// bench_read_<type> / bench_copy_<type> (float4, float16): the buffers hold n vectors;
// work-item g of G = get_global_size(0) handles per_item = n / G of them (the host
// makes n a multiple of G). On CPUs (CLNET_CPU) a work-item streams the contiguous
// run [g * per_item, (g + 1) * per_item), which a CPU core prefetches; elsewhere it
// takes vectors g, g + G, g + 2G, ..., so neighbouring work-items touch neighbouring
// vectors (coalesced). read sums its vectors in four chains and writes the sum to
// out[g] (G vectors); copy writes out[i] = in[i].
//
// bench_empty: does nothing; global = 1. Launch latency.

#ifdef CLNET_CPU
#define PEAK_ACC 16
#define MEM_AT(i) (base + (size_t)(i))
#define MEM_BASE ((size_t)get_global_id(0) * (size_t)per_item)
#else
#define PEAK_ACC 8
#define MEM_AT(i) ((size_t)(i) * (size_t)get_global_size(0) + base)
#define MEM_BASE ((size_t)get_global_id(0))
#endif

// One step: four independent multiply-adds.
#define MAD4(p, q, r, s)                                                                           \
    p = mad(p, m, c);                                                                              \
    q = mad(q, m, c);                                                                              \
    r = mad(r, m, c);                                                                              \
    s = mad(s, m, c);
#if PEAK_ACC == 16
#define PEAK_STEP                                                                                  \
    MAD4(a0, a1, a2, a3) MAD4(a4, a5, a6, a7) MAD4(a8, a9, a10, a11) MAD4(a12, a13, a14, a15)
#define PEAK_SUM                                                                                   \
    (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15)
#else
#define PEAK_STEP MAD4(a0, a1, a2, a3) MAD4(a4, a5, a6, a7)
#define PEAK_SUM (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7)
#endif

#define PEAK_STEP4 PEAK_STEP PEAK_STEP PEAK_STEP PEAK_STEP

// T is the accumulator type; every accumulator starts at a different value.
#define PEAK_KERNEL(name, T)                                                                       \
    kernel void name(global T *out, float m_, float c_, int iters)                                 \
    {                                                                                              \
        const T m = (T)(m_), c = (T)(c_);                                                          \
        const float x = (float)get_local_id(0) * 1e-3f;                                            \
        T a0 = (T)(x), a1 = (T)(x + 0.01f), a2 = (T)(x + 0.02f), a3 = (T)(x + 0.03f);              \
        T a4 = (T)(x + 0.04f), a5 = (T)(x + 0.05f), a6 = (T)(x + 0.06f);                           \
        T a7 = (T)(x + 0.07f);                                                                     \
        PEAK_EXTRA(T)                                                                              \
        for (int i = 0; i < iters; ++i) {                                                          \
            PEAK_STEP4 PEAK_STEP4 PEAK_STEP4 PEAK_STEP4                                            \
        }                                                                                          \
        out[get_global_id(0)] = PEAK_SUM;                                                          \
    }

#if PEAK_ACC == 16
#define PEAK_EXTRA(T)                                                                              \
    T a8 = (T)(x + 0.08f), a9 = (T)(x + 0.09f), a10 = (T)(x + 0.10f);                              \
    T a11 = (T)(x + 0.11f), a12 = (T)(x + 0.12f), a13 = (T)(x + 0.13f);                            \
    T a14 = (T)(x + 0.14f), a15 = (T)(x + 0.15f);
#else
#define PEAK_EXTRA(T)
#endif

PEAK_KERNEL(bench_peak_float, float)
PEAK_KERNEL(bench_peak_float2, float2)
PEAK_KERNEL(bench_peak_float4, float4)
PEAK_KERNEL(bench_peak_float8, float8)
PEAK_KERNEL(bench_peak_float16, float16)

#define READ_KERNEL(name, T)                                                                       \
    kernel void name(global const T *in, global T *out, int per_item)                              \
    {                                                                                              \
        const size_t base = MEM_BASE;                                                              \
        T s0 = (T)(0.0f), s1 = (T)(0.0f), s2 = (T)(0.0f), s3 = (T)(0.0f);                          \
        int i = 0;                                                                                 \
        for (; i + 4 <= per_item; i += 4) {                                                        \
            s0 += in[MEM_AT(i)];                                                                   \
            s1 += in[MEM_AT(i + 1)];                                                               \
            s2 += in[MEM_AT(i + 2)];                                                               \
            s3 += in[MEM_AT(i + 3)];                                                               \
        }                                                                                          \
        for (; i < per_item; ++i)                                                                  \
            s0 += in[MEM_AT(i)];                                                                   \
        out[get_global_id(0)] = (s0 + s1) + (s2 + s3);                                             \
    }

#define COPY_KERNEL(name, T)                                                                       \
    kernel void name(global const T *in, global T *out, int per_item)                              \
    {                                                                                              \
        const size_t base = MEM_BASE;                                                              \
        for (int i = 0; i < per_item; ++i)                                                         \
            out[MEM_AT(i)] = in[MEM_AT(i)];                                                        \
    }

READ_KERNEL(bench_read_float4, float4)
READ_KERNEL(bench_read_float16, float16)
COPY_KERNEL(bench_copy_float4, float4)
COPY_KERNEL(bench_copy_float16, float16)

kernel void bench_empty(void)
{
}
