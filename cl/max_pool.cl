// max_pool.cl - kernels for src/ops/max_pool.c (Keras MaxPooling2D).
// NHWC: x, dx {batch, in_h, in_w, c}; y, dy {batch, out_h, out_w, c}. The window of output
// (oy, ox) is input rows oy * sh - pad_t + [0, kh) and columns ox * sw - pad_l + [0, kw)
// clipped to the input: padding cells never win (the host keeps padding below the pool
// size, so every window holds an input cell), nor do the cells past the padded input that
// ceil_mode's last window overhangs (it starts inside the input or its leading padding,
// src/ops/pool.c). The maximum is the FIRST one in the
// window's row-major scan (a later cell wins only when strictly greater) here, in the
// backward pass and in the reference (src/ref/max_pool.c), so ties go the same way.
// max_pool_forward:  y = the window maximum.
// max_pool_backward: gathers, no atomics: dx at an input element sums dy over the windows
//                    (oy, then ox, ascending) whose maximum it is, recomputed from x.
//   GPU: one work-item per element (of y forward, of dx backward), global (c, w, batch * h):
//        channels fastest, so neighbouring work-items read neighbouring floats.
//   CPU: one work-item per pixel, global (1, w, batch * h), looping the channels VW at a
//        time with a scalar tail.

// Maximum of window win of one channel; p points at that channel of the image's first
// pixel. *arg gets the pixel index iy * in_w + ix of the first maximum.
inline float window_max(global const float *p, int4 win, int in_w, int c, int *arg)
{
    int a = win.s0 * in_w + win.s2;
    float best = p[(size_t)a * c];
    for (int iy = win.s0; iy < win.s1; ++iy)
        for (int ix = win.s2; ix < win.s3; ++ix) {
            const int i = iy * in_w + ix;
            const float v = p[(size_t)i * c];
            if (v > best) {
                best = v;
                a = i;
            }
        }
    *arg = a;
    return best;
}

#if !CLNET_GPU
// window_max for VW channels at once: each lane keeps its own first maximum.
inline VFLOAT window_max_v(global const float *p, int4 win, int in_w, int c, VINT *arg)
{
    const int first = win.s0 * in_w + win.s2;
    VINT a = (VINT)first;
    VFLOAT best = VLOAD(0, p + (size_t)first * c);
    for (int iy = win.s0; iy < win.s1; ++iy)
        for (int ix = win.s2; ix < win.s3; ++ix) {
            const int i = iy * in_w + ix;
            const VFLOAT v = VLOAD(0, p + (size_t)i * c);
            const VINT wins = isgreater(v, best);
            best = select(best, v, wins);
            a = select(a, (VINT)i, wins);
        }
    *arg = a;
    return best;
}
#endif

kernel void max_pool_forward(global const float *x, global float *y, POOL_GEOM)
{
    const int ox = get_global_id(1), row = get_global_id(2);
    if (ox >= out_w || row >= batch * out_h)
        return; // global size is rounded up to the work-group size
    const int n = row / out_h, oy = row % out_h;
    const int4 win = pool_window(oy, ox, in_h, in_w, kh, kw, sh, sw, pad_t, pad_l);
    global const float *xn = x + (size_t)n * in_h * in_w * c;
    global float *yp = y + ((size_t)row * out_w + ox) * c;
    int arg;
#if CLNET_GPU
    const int ch = get_global_id(0);
    if (ch < c)
        yp[ch] = window_max(xn + ch, win, in_w, c, &arg);
#else
    int ch = 0;
    for (; ch + VW <= c; ch += VW) {
        VINT args;
        VSTORE(window_max_v(xn + ch, win, in_w, c, &args), 0, yp + ch);
    }
    for (; ch < c; ++ch)
        yp[ch] = window_max(xn + ch, win, in_w, c, &arg);
#endif
}

// dx at input pixel me (= iy * in_w + ix) of one channel, from the windows cov; xn and
// dyn point at that channel of the image's first pixel in x and dy.
inline float max_pool_grad(global const float *xn, global const float *dyn, int me, int4 cov,
                           POOL_GEOM)
{
    float g = 0.0f;
    for (int oy = cov.s0; oy < cov.s1; ++oy)
        for (int ox = cov.s2; ox < cov.s3; ++ox) {
            int arg;
            window_max(xn, pool_window(oy, ox, in_h, in_w, kh, kw, sh, sw, pad_t, pad_l),
                       in_w, c, &arg);
            if (arg == me)
                g += dyn[((size_t)oy * out_w + ox) * c];
        }
    return g;
}

kernel void max_pool_backward(global const float *x, global const float *dy, global float *dx,
                              POOL_GEOM)
{
    const int ix = get_global_id(1), row = get_global_id(2);
    if (ix >= in_w || row >= batch * in_h)
        return;
    const int n = row / in_h, iy = row % in_h, me = iy * in_w + ix;
    const int4 cov = pool_covering(iy, ix, out_h, out_w, kh, kw, sh, sw, pad_t, pad_l);
    global const float *xn = x + (size_t)n * in_h * in_w * c;
    global const float *dyn = dy + (size_t)n * out_h * out_w * c;
    global float *dxp = dx + ((size_t)row * in_w + ix) * c;
#if CLNET_GPU
    const int ch = get_global_id(0);
    if (ch < c)
        dxp[ch] = max_pool_grad(xn + ch, dyn + ch, me, cov, POOL_GEOM_ARGS);
#else
    int ch = 0;
    for (; ch + VW <= c; ch += VW) {
        VFLOAT g = (VFLOAT)0.0f;
        for (int oy = cov.s0; oy < cov.s1; ++oy)
            for (int ox = cov.s2; ox < cov.s3; ++ox) {
                const int4 win = pool_window(oy, ox, in_h, in_w, kh, kw, sh, sw, pad_t, pad_l);
                VINT args;
                window_max_v(xn + ch, win, in_w, c, &args);
                const VFLOAT d = VLOAD(0, dyn + ((size_t)oy * out_w + ox) * c + ch);
                g += select((VFLOAT)0.0f, d, args == (VINT)me);
            }
        VSTORE(g, 0, dxp + ch);
    }
    for (; ch < c; ++ch)
        dxp[ch] = max_pool_grad(xn + ch, dyn + ch, me, cov, POOL_GEOM_ARGS);
#endif
}
