// avg_pool.cl - kernels for src/ops/avg_pool.c (Keras AveragePooling2D).
// NHWC: x, dx {batch, in_h, in_w, c}; y, dy {batch, out_h, out_w, c}. The window of output
// (oy, ox) is input rows oy * sh - pad_t + [0, kh) and columns ox * sw - pad_l + [0, kw);
// padding cells add nothing. The divisor is the window's input cells (Keras), or when
// count_include_pad (PyTorch's default for explicit padding) its cells above row end_h and
// left of column end_w: the padded input, so kh * kw unless ceil_mode's last window
// overhangs it (src/ops/pool.c, clnet__pool_counted_end).
// avg_pool_forward:  y = window sum (row-major order) / divisor.
// avg_pool_backward: gathers, no atomics: dx at an input element sums dy / divisor over the
//                    windows (oy, then ox, ascending) that hold it.
//   GPU: one work-item per element (of y forward, of dx backward), global (c, w, batch * h):
//        channels fastest, so neighbouring work-items read neighbouring floats.
//   CPU: one work-item per pixel, global (1, w, batch * h), looping the channels VW at a
//        time with a scalar tail.

#define AVG_DIV int count_include_pad, int end_h, int end_w

// The divisor of output (oy, ox), whose window inside the input is win.
inline float avg_divisor(int oy, int ox, int4 win, int kh, int kw, int sh, int sw, int pad_t,
                         int pad_l, AVG_DIV)
{
    if (!count_include_pad)
        return (float)((win.s1 - win.s0) * (win.s3 - win.s2));
    const int y0 = oy * sh - pad_t, x0 = ox * sw - pad_l;
    return (float)((min(y0 + kh, end_h) - y0) * (min(x0 + kw, end_w) - x0));
}

// Sum of window win, for one channel (SUM_S) or VW channels (SUM_V) at p, the channel(s)
// of the image's first pixel.
#define WINDOW_SUM(T, LD)                                                                  \
    T s = (T)0.0f;                                                                         \
    for (int iy = win.s0; iy < win.s1; ++iy)                                               \
        for (int ix = win.s2; ix < win.s3; ++ix)                                           \
            s += LD(p + ((size_t)iy * in_w + ix) * c);                                     \
    return s;
#define LOAD_S(p) (*(p))
#define LOAD_V(p) VLOAD(0, (p))

inline float window_sum(global const float *p, int4 win, int in_w, int c)
{
    WINDOW_SUM(float, LOAD_S)
}

inline VFLOAT window_sum_v(global const float *p, int4 win, int in_w, int c)
{
    WINDOW_SUM(VFLOAT, LOAD_V)
}

kernel void avg_pool_forward(global const float *x, global float *y, POOL_GEOM, AVG_DIV)
{
    const int ox = get_global_id(1), row = get_global_id(2);
    if (ox >= out_w || row >= batch * out_h)
        return; // global size is rounded up to the work-group size
    const int n = row / out_h, oy = row % out_h;
    const int4 win = pool_window(oy, ox, in_h, in_w, kh, kw, sh, sw, pad_t, pad_l);
    const float div =
        avg_divisor(oy, ox, win, kh, kw, sh, sw, pad_t, pad_l, count_include_pad, end_h, end_w);
    global const float *xn = x + (size_t)n * in_h * in_w * c;
    global float *yp = y + ((size_t)row * out_w + ox) * c;
#if CLNET_GPU
    const int ch = get_global_id(0);
    if (ch < c)
        yp[ch] = window_sum(xn + ch, win, in_w, c) / div;
#else
    int ch = 0;
    for (; ch + VW <= c; ch += VW)
        VSTORE(window_sum_v(xn + ch, win, in_w, c) / div, 0, yp + ch);
    for (; ch < c; ++ch)
        yp[ch] = window_sum(xn + ch, win, in_w, c) / div;
#endif
}

// dx at one input pixel from the windows cov, for one channel (T float, LD LOAD_S) or VW
// channels (VFLOAT, LOAD_V) at d, the channel(s) of dy's first pixel of the image.
#define GATHER(T, LD)                                                                      \
    T g = (T)0.0f;                                                                         \
    for (int oy = cov.s0; oy < cov.s1; ++oy)                                               \
        for (int ox = cov.s2; ox < cov.s3; ++ox) {                                         \
            const int4 win = pool_window(oy, ox, in_h, in_w, kh, kw, sh, sw, pad_t, pad_l); \
            g += LD(d + ((size_t)oy * out_w + ox) * c) /                                   \
                 avg_divisor(oy, ox, win, kh, kw, sh, sw, pad_t, pad_l, count_include_pad,  \
                             end_h, end_w);                                                \
        }                                                                                  \
    return g;

inline float avg_pool_grad(global const float *d, int4 cov, POOL_GEOM, AVG_DIV)
{
    GATHER(float, LOAD_S)
}

inline VFLOAT avg_pool_grad_v(global const float *d, int4 cov, POOL_GEOM, AVG_DIV)
{
    GATHER(VFLOAT, LOAD_V)
}


kernel void avg_pool_backward(global const float *dy, global float *dx, POOL_GEOM, AVG_DIV)
{
    const int ix = get_global_id(1), row = get_global_id(2);
    if (ix >= in_w || row >= batch * in_h)
        return;
    const int n = row / in_h, iy = row % in_h;
    const int4 cov = pool_covering(iy, ix, out_h, out_w, kh, kw, sh, sw, pad_t, pad_l);
    global const float *dyn = dy + (size_t)n * out_h * out_w * c;
    global float *dxp = dx + ((size_t)row * in_w + ix) * c;
#if CLNET_GPU
    const int ch = get_global_id(0);
    if (ch < c)
        dxp[ch] = avg_pool_grad(dyn + ch, cov, POOL_GEOM_ARGS, count_include_pad, end_h, end_w);
#else
    int ch = 0;
    for (; ch + VW <= c; ch += VW)
        VSTORE(avg_pool_grad_v(dyn + ch, cov, POOL_GEOM_ARGS, count_include_pad, end_h, end_w),
               0, dxp + ch);
    for (; ch < c; ++ch)
        dxp[ch] = avg_pool_grad(dyn + ch, cov, POOL_GEOM_ARGS, count_include_pad, end_h, end_w);
#endif
}
