// channel_shuffle.cl - kernels for src/ops/channel_shuffle.c (ShuffleNet's shuffle, as
// torchvision's channel_shuffle). NHWC as [pixels][c], cpg = c / groups channels per group:
// channel_shuffle_forward:  y[p][j * groups + g] = x[p][g * cpg + j].
// channel_shuffle_backward: dx[p][g * cpg + j] = dy[p][j * groups + g], which is the same
//   shuffle with cpg groups (the inverse permutation).
//   GPU: one work-item per element of the destination, global (c, pixels): writes of
//        neighbouring work-items are neighbouring floats.
//   CPU: one work-item per run of `run` pixels, global (ceil(pixels / run)), looping the
//        destination channels of each pixel.

inline void shuffle(global const float *src, global float *dst, int pixels, int c, int groups,
                    int run)
{
    const int cpg = c / groups;
#if CLNET_GPU
    const int o = get_global_id(0), p = get_global_id(1);
    if (o >= c || p >= pixels)
        return; // global size is rounded up to the work-group size
    dst[(size_t)p * c + o] = src[(size_t)p * c + o % groups * cpg + o / groups];
#else
    const int p0 = get_global_id(0) * run, p1 = min(p0 + run, pixels);
    for (int p = p0; p < p1; ++p) {
        global const float *s = src + (size_t)p * c;
        global float *d = dst + (size_t)p * c;
        for (int j = 0; j < cpg; ++j)
            for (int g = 0; g < groups; ++g)
                d[j * groups + g] = s[g * cpg + j];
    }
#endif
}

kernel void channel_shuffle_forward(global const float *x, global float *y, int pixels, int c,
                                    int groups, int run)
{
    shuffle(x, y, pixels, c, groups, run);
}

kernel void channel_shuffle_backward(global const float *dy, global float *dx, int pixels, int c,
                                     int groups, int run)
{
    shuffle(dy, dx, pixels, c, c / groups, run);
}
