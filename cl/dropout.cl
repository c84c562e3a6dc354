// dropout.cl - kernels for src/ops/dropout.c (inverted dropout, training mode) and
// src/ops/stochastic_depth.c (a residual branch dropped per image, training mode).
// Flat over count elements, ELEMENTWISE mapping (common.cl): one element per work-item
// on GPUs, CLNET_CHUNK contiguous elements per work-item on CPUs, where the hash runs
// on VW lanes at once (uint16).
//
// The mask, defined once (src/ref/dropout.c computes the very same bits):
//   mix(x)  = murmur3's 32-bit finalizer: x ^= x >> 16; x *= 0x85ebca6b; x ^= x >> 13;
//             x *= 0xc2b2ae35; x ^= x >> 16  (all arithmetic mod 2^32)
//   key     = mix(seed_lo ^ mix(seed_hi ^ mix(op_seed)))
//             (seed_lo/seed_hi: the low/high 32 bits of the per-step call seed)
//   h(i)    = mix(mix(i ^ key) + key)
//   u(i)    = (h(i) >> 8) * 2^-24, exactly a float in [0, 1)
//   keep i iff u(i) >= rate; y = keep ? x * scale : 0, scale = 1 / (1 - rate).
// For a fixed key, i -> h(i) is a bijection; backward applies the same map to dy.
//
// stochastic_depth_forward: image n (per_image contiguous floats) is kept or dropped whole
// by the mask bit of element n, y = keep ? x * scale : 0 (backward: the same map on dy).
// Global (chunks of an image, images): dimension 1 is the image, dimension 0 walks its
// floats with the ELEMENTWISE mapping.

#define DROPOUT_MIX(x)                                                                     \
    {                                                                                      \
        x ^= x >> 16;                                                                      \
        x *= 0x85ebca6bu;                                                                  \
        x ^= x >> 13;                                                                      \
        x *= 0xc2b2ae35u;                                                                  \
        x ^= x >> 16;                                                                      \
    }

inline uint dropout_key(uint op_seed, uint seed_lo, uint seed_hi)
{
    uint key = op_seed;
    DROPOUT_MIX(key)
    key ^= seed_hi;
    DROPOUT_MIX(key)
    key ^= seed_lo;
    DROPOUT_MIX(key)
    return key;
}

#if VW == 16
#define VUINT uint16
#define VIOTA (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define VCONVERT_FLOAT convert_float16
#elif VW == 4
#define VUINT uint4
#define VIOTA (uint4)(0, 1, 2, 3)
#define VCONVERT_FLOAT convert_float4
#else
#define VUINT uint
#define VIOTA 0u
#define VCONVERT_FLOAT convert_float
#endif

#define DROPOUT_S(i)                                                                       \
    {                                                                                      \
        uint h = (uint)(i) ^ key;                                                          \
        DROPOUT_MIX(h)                                                                     \
        h += key;                                                                          \
        DROPOUT_MIX(h)                                                                     \
        const float u = (float)(h >> 8) * (1.0f / 16777216.0f);                            \
        y[i] = u >= rate ? x[i] * scale : 0.0f;                                            \
    }
#define DROPOUT_V(i)                                                                       \
    {                                                                                      \
        VUINT h = ((VUINT)(uint)(i) + VIOTA) ^ key;                                        \
        DROPOUT_MIX(h)                                                                     \
        h += key;                                                                          \
        DROPOUT_MIX(h)                                                                     \
        const VFLOAT u = VCONVERT_FLOAT(h >> 8) * (1.0f / 16777216.0f);                    \
        const VFLOAT v = VLOAD(0, x + (i)) * scale;                                        \
        VSTORE(select((VFLOAT)0.0f, v, isgreaterequal(u, (VFLOAT)rate)), 0, y + (i));      \
    }

// Forward: y = dropout(x). Backward: dx = dropout(dy), the same mask and scale.
kernel void dropout_forward(global const float *x, global float *y, int count, float rate,
                            float scale, uint op_seed, uint seed_lo, uint seed_hi)
{
    if (get_global_id(1) != 0)
        return; // launched 2D as stochastic_depth_forward is, its one image rounded up
    const uint key = dropout_key(op_seed, seed_lo, seed_hi);
    ELEMENTWISE(count, DROPOUT_V, DROPOUT_S)
}

#define SD_S(i) yn[i] = xn[i] * f;
#define SD_V(i) VSTORE(VLOAD(0, xn + (i)) * f, 0, yn + (i));

kernel void stochastic_depth_forward(global const float *x, global float *y, int per_image,
                                     float rate, float scale, uint op_seed, uint seed_lo,
                                     uint seed_hi, int images)
{
    const int n = get_global_id(1);
    if (n >= images)
        return;
    const uint key = dropout_key(op_seed, seed_lo, seed_hi);
    uint h = (uint)n ^ key;
    DROPOUT_MIX(h)
    h += key;
    DROPOUT_MIX(h)
    const float u = (float)(h >> 8) * (1.0f / 16777216.0f);
    const float f = u >= rate ? scale : 0.0f;
    global const float *xn = x + (size_t)n * per_image;
    global float *yn = y + (size_t)n * per_image;
    ELEMENTWISE(per_image, SD_V, SD_S)
}
