// stochastic_depth.cl - kernels for src/ops/stochastic_depth.c (training mode).
// x, y NHWC: images of per_image contiguous floats. Global (chunks of an image, images):
// dimension 1 is the image, dimension 0 walks its floats with the ELEMENTWISE mapping of
// common.cl (one per work-item on GPUs, CLNET_CHUNK contiguous ones VW at a time on CPUs).
//
// The draw of image n is dropout's mask bit for element n (cl/dropout.cl defines it; the
// reference uses the same function, src/ref/dropout.c):
//   key = mix(seed_lo ^ mix(seed_hi ^ mix(op_seed))), h = mix(mix(n ^ key) + key),
//   u = (h >> 8) * 2^-24; keep image n iff u >= rate; y = keep ? x * scale : 0.
// Backward applies the same map to dy.

#define SD_MIX(x)                                                                          \
    {                                                                                      \
        x ^= x >> 16;                                                                      \
        x *= 0x85ebca6bu;                                                                  \
        x ^= x >> 13;                                                                      \
        x *= 0xc2b2ae35u;                                                                  \
        x ^= x >> 16;                                                                      \
    }

#define SD_S(i) yn[i] = xn[i] * f;
#define SD_V(i) VSTORE(VLOAD(0, xn + (i)) * f, 0, yn + (i));

kernel void stochastic_depth_forward(global const float *x, global float *y, int per_image,
                                     int images, float rate, float scale, uint op_seed,
                                     uint seed_lo, uint seed_hi)
{
    const int n = get_global_id(1);
    if (n >= images)
        return;
    uint key = op_seed;
    SD_MIX(key)
    key ^= seed_hi;
    SD_MIX(key)
    key ^= seed_lo;
    SD_MIX(key)
    uint h = (uint)n ^ key;
    SD_MIX(h)
    h += key;
    SD_MIX(h)
    const float u = (float)(h >> 8) * (1.0f / 16777216.0f);
    const float f = u >= rate ? scale : 0.0f;
    global const float *xn = x + (size_t)n * per_image;
    global float *yn = y + (size_t)n * per_image;
    ELEMENTWISE(per_image, SD_V, SD_S)
}
