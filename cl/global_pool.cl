// global_pool.cl - kernels for src/ops/global_pool.c (global_avg_pool, global_max_pool).
// x, dx NHWC seen as n images of hw = h * w pixels x c channels; y, dy {n, 1, 1, c}.
// The maximum is the FIRST one in pixel order (a later pixel wins only when strictly
// greater); its pixel index (argmax) is where the gradient goes, as in src/ref/global_pool.c.
//
// global_pool_forward, mode GP_AVG: y = sum / hw; GP_MAX: y = max; GP_ARGMAX: arg = the
// argmax pixel index (backward's first step). Fixed order, no atomics:
//   GPU: a work-group of GP_CT channels x GP_RT pixel lanes (a power of two) per (image,
//        channel group), global (c rounded up to GP_CT, GP_RT, n), local (GP_CT, GP_RT, 1).
//        Lane l takes pixels l, l + GP_RT, ... in order (neighbouring work-items read
//        neighbouring channels), then a local-memory tree over the lanes; for max the tree
//        carries pixel indices and a tie goes to the smaller one: the first maximum wins.
//   CPU: a work-item per (image, CLNET_CVEC channels), global (ceil(c / CVEC), n), looping
//        the pixels in order with VW-wide loads, scalar channel tail.
// global_pool_backward: dx = dy / hw (avg), or dy at the argmax pixel and 0 elsewhere (max).
//   GPU: one work-item per element of dx, global (c, hw, n).
//   CPU: a work-item per GP_RUN pixels of one image, global (ceil(hw / GP_RUN), n),
//        channels VW at a time, scalar tail.
#ifndef GP_CT
#define GP_CT 16
#endif
#ifndef GP_RT
#define GP_RT 4
#endif
#ifndef GP_RUN
#define GP_RUN 16
#endif

#define GP_AVG 0
#define GP_MAX 1
#define GP_ARGMAX 2

// Sum (GP_AVG) or first maximum of one channel over pixels i0, i0 + step, ... < hw; p
// points at the channel in the image's first pixel. *arg gets the maximum's pixel, or hw
// when there is no pixel (then the result is 0 or -INFINITY).
inline float pixels_reduce(global const float *p, int i0, int step, int hw, int c, int mode,
                           int *arg)
{
    float v = mode == GP_AVG ? 0.0f : -INFINITY;
    int a = hw;
    for (int i = i0; i < hw; i += step) {
        const float xi = p[(size_t)i * c];
        if (mode == GP_AVG) {
            v += xi;
        } else if (a == hw || xi > v) {
            v = xi;
            a = i;
        }
    }
    *arg = a;
    return v;
}

inline void gp_store(global float *y, global int *arg, size_t i, float v, int a, int hw,
                     int mode)
{
    if (mode == GP_ARGMAX)
        arg[i] = a;
    else
        y[i] = mode == GP_AVG ? v / (float)hw : v;
}

kernel void global_pool_forward(global const float *x, global float *y, global int *arg, int n,
                                int hw, int c, int mode)
{
#if CLNET_GPU
    local float val[GP_RT][GP_CT];
    local int idx[GP_RT][GP_CT];
    const int ch = get_global_id(0), lc = get_local_id(0), lane = get_local_id(1);
    const int img = get_global_id(2);
    float v = -INFINITY;
    int a = hw;
    if (ch < c && img < n)
        v = pixels_reduce(x + (size_t)img * hw * c + ch, lane, GP_RT, hw, c, mode, &a);
    val[lane][lc] = v;
    idx[lane][lc] = a;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = GP_RT / 2; s > 0; s >>= 1) {
        if (lane < s) {
            const float ov = val[lane + s][lc], mv = val[lane][lc];
            const int oa = idx[lane + s][lc], ma = idx[lane][lc];
            if (mode == GP_AVG) {
                val[lane][lc] = mv + ov;
            } else if (oa < hw && (ma == hw || ov > mv || (ov == mv && oa < ma))) {
                val[lane][lc] = ov;
                idx[lane][lc] = oa;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && ch < c && img < n)
        gp_store(y, arg, (size_t)img * c + ch, val[0][lc], idx[0][lc], hw, mode);
#else
    const int img = get_global_id(1);
    const int c0 = get_global_id(0) * CLNET_CVEC, c1 = min(c0 + CLNET_CVEC, c);
    if (img >= n)
        return;
    global const float *p = x + (size_t)img * hw * c;
    int ch = c0;
    for (; ch + VW <= c1; ch += VW) {
        VFLOAT v = VLOAD(0, p + ch);
        VINT a = (VINT)0;
        for (int i = 1; i < hw; ++i) {
            const VFLOAT xi = VLOAD(0, p + (size_t)i * c + ch);
            if (mode == GP_AVG) {
                v += xi;
            } else {
                const VINT wins = isgreater(xi, v);
                v = select(v, xi, wins);
                a = select(a, (VINT)i, wins);
            }
        }
        const size_t o = (size_t)img * c + ch;
        if (mode == GP_ARGMAX)
            VSTORE(a, 0, arg + o);
        else
            VSTORE(mode == GP_AVG ? v / (float)hw : v, 0, y + o);
    }
    for (; ch < c1; ++ch) {
        int a;
        const float v = pixels_reduce(p + ch, 0, 1, hw, c, mode, &a);
        gp_store(y, arg, (size_t)img * c + ch, v, a, hw, mode);
    }
#endif
}

// arg is read only when is_max.
kernel void global_pool_backward(global const float *dy, global const int *arg, global float *dx,
                                 int n, int hw, int c, int is_max)
{
#if CLNET_GPU
    const int ch = get_global_id(0), i = get_global_id(1), img = get_global_id(2);
    if (ch >= c || i >= hw || img >= n)
        return;
    const size_t o = (size_t)img * c + ch;
    dx[((size_t)img * hw + i) * c + ch] =
        is_max ? (arg[o] == i ? dy[o] : 0.0f) : dy[o] / (float)hw;
#else
    const int i0 = get_global_id(0) * GP_RUN, i1 = min(i0 + GP_RUN, hw), img = get_global_id(1);
    if (img >= n)
        return;
    global const float *d = dy + (size_t)img * c;
    global const int *a = arg + (size_t)img * c;
    for (int i = i0; i < i1; ++i) {
        global float *out = dx + ((size_t)img * hw + i) * c;
        int ch = 0;
        for (; ch + VW <= c; ch += VW) {
            const VFLOAT g = VLOAD(0, d + ch);
            VSTORE(is_max ? select((VFLOAT)0.0f, g, VLOAD(0, a + ch) == (VINT)i)
                          : g / (float)hw,
                   0, out + ch);
        }
        for (; ch < c; ++ch)
            out[ch] = is_max ? (a[ch] == i ? d[ch] : 0.0f) : d[ch] / (float)hw;
    }
#endif
}
