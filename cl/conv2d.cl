// conv2d.cl - kernels for src/ops/conv2d.c (Keras Conv2D as im2col + GEMM) and, shared,
// src/ops/dense.c (the epilogue kernels).
// Layouts: x NHWC {batch, in_h, in_w, cin}; y NHWC {batch, out_h, out_w, cout}; pad_t / pad_l
// cells precede the input, cells outside it read as 0. The column matrix of a chunk of
// images n0 .. n0 + images - 1 has a row per output pixel p = (nl * out_h + oy) * out_w + ox
// (nl = n - n0) and kk = kh * kw * cin columns, one block of kg = kk / groups per group g:
// k = g * kg + (ky * kw + kx) * cg + ci reads channel g * cg + ci (cg = cin / groups). For
// each tap a contiguous run of the group's channels, so block g is the group's own column
// matrix (the A of its GEMM, lda kk) matching its kernel columns {kh, kw, cg, cout} seen as
// [kg, cout]. One group: the plain im2col, k = (ky * kw + kx) * cin + ci.
//
// conv2d_im2col: col[p * kk + k] = x(n, oy * sh - pad_t + ky, ox * sw - pad_l + kx, c) or 0.
//   GPU: one work-item per column element, global (kk, pixels): consecutive work-items
//        write consecutive floats and read consecutive channels.
//   CPU: one work-item per output pixel, global (1, pixels): copies, for each ky, the
//        kw * cg floats of that tap row per group, contiguous in x where inside (one run
//        of kw * cin for one group), VW at a time; its row of col is written in order.
// conv2d_col2im: the transpose, by gather (deterministic, no atomics): dx(n, iy, ix, c) sums
//   dcol over the (output pixel, tap) pairs that read it, taps in order.
//   GPU: one work-item per input element, global (cin, in_w, images * in_h).
//   CPU: one work-item per input row (nl, iy), global (images * in_h), looping pixels and
//        groups, VW channels at a time (a register accumulator over the taps; scalar tail).
// conv2d_epilogue_forward: y = act(y + bias[c] + res), in place on rows x cout; with
//   save_pre the value before act goes to pre too (training with an activation whose
//   backward reads the pre-activation: the op's saved tensor). y's row r starts at
//   y_off + r * ldy (ldy >= cout: the output written into a wider tensor, a concatenation's
//   channel block); res and pre are always packed rows of cout.
//   GPU: one work-item per element, global (cout, rows).
//   CPU: one work-item per `run` whole rows, channels VW at a time (scalar tail).
// conv2d_epilogue_backward: dpre = act_backward(dy, v), ELEMENTWISE (common.cl) over count:
//   v is the output y, or the saved pre-activation where the activation table says so.

#define CV_GEOM                                                                            \
    int in_h, int in_w, int cin, int out_h, int out_w, int kh, int kw, int sh, int sw,     \
        int pad_t, int pad_l, int groups

kernel void conv2d_im2col(global const float *x, global float *col, int n0, int pixels, CV_GEOM)
{
    const int kk = kh * kw * cin, cg = cin / groups, kg = kk / groups;
#if CLNET_GPU
    const int k = get_global_id(0), p = get_global_id(1);
    if (k >= kk || p >= pixels)
        return;  // global size is rounded up to the work-group size
    const int g = k / kg, kl = k % kg, ci = kl % cg, t = kl / cg, kx = t % kw, ky = t / kw;
    const int ox = p % out_w, r = p / out_w, oy = r % out_h, n = n0 + r / out_h;
    const int iy = oy * sh - pad_t + ky, ix = ox * sw - pad_l + kx;
    float v = 0.0f;
    if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w)
        v = x[(((size_t)n * in_h + iy) * in_w + ix) * cin + g * cg + ci];
    col[(size_t)p * kk + k] = v;
#else
    // One work-item writes one pixel's whole row of col, every ky: contiguous stores.
    const int p = get_global_id(1);
    if (p >= pixels)
        return;
    const int ox = p % out_w, r = p / out_w, oy = r % out_h, n = n0 + r / out_h;
    const int ix0 = ox * sw - pad_l;
    // Taps kx0 .. kx1 - 1 fall inside the row.
    const int kx0 = clamp(-ix0, 0, kw), kx1w = clamp(in_w - ix0, kx0, kw);
    for (int ky = 0; ky < kh; ++ky) {
        const int iy = oy * sh - pad_t + ky;
        const int inside = iy >= 0 && iy < in_h;
        const int kx1 = inside ? kx1w : kx0;
        global const float *src =
            x + (((size_t)n * in_h + (inside ? iy : 0)) * in_w + ix0 + kx0) * cin;
        for (int g = 0; g < groups; ++g) {
            global float *dst = col + (size_t)p * kk + g * kg + ky * kw * cg;
            vzero(dst, kx0 * cg);
            if (groups == 1)  // one contiguous run of x
                vcopy(src, dst + kx0 * cin, (kx1 - kx0) * cin);
            else
                for (int kx = kx0; kx < kx1; ++kx)
                    vcopy(src + (kx - kx0) * cin + g * cg, dst + kx * cg, cg);
            vzero(dst + kx1 * cg, (kw - kx1) * cg);
        }
    }
#endif
}

// Along one axis, taps t = first, first + s, ... < *end read input coordinate i, each
// from output o = (i + pad - t) / s: t = i + pad (mod s) and 0 <= o < out. No taps when
// first >= *end.
inline int cv_first_tap(int i, int pad, int k, int s, int out, int *end)
{
    const int off = i + pad, lo = max(0, off - (out - 1) * s);
    *end = min(k, off + 1);
    return lo + (off - lo) % s;
}

// ACC += every dcol entry that reads input (iy, ix) at the channel(s) whose tap-0 column
// is off (g * kg + ci), taps in order; LD loads one or VW channels.
#define CV_GATHER(ACC, LD, off)                                                            \
    for (int ky = ky0; ky < ky1; ky += sh) {                                               \
        const int oy = (iy + pad_t - ky) / sh;                                             \
        for (int kx = kx0; kx < kx1; kx += sw) {                                           \
            const size_t p = ((size_t)nl * out_h + oy) * out_w + (ix + pad_l - kx) / sw;   \
            ACC += LD(dcol + p * kk + (ky * kw + kx) * cg + (off));                        \
        }                                                                                  \
    }
#define CV_LD_S(q) (*(q))
#define CV_LD_V(q) VLOAD(0, (q))

kernel void conv2d_col2im(global const float *dcol, global float *dx, int n0, int images,
                          CV_GEOM)
{
    const int kk = kh * kw * cin, cg = cin / groups, kg = kk / groups;
    int ky1, kx1;
#if CLNET_GPU
    const int c = get_global_id(0), ix = get_global_id(1), row = get_global_id(2);
    if (c >= cin || ix >= in_w || row >= images * in_h)
        return;
    const int nl = row / in_h, iy = row % in_h;
    const int ky0 = cv_first_tap(iy, pad_t, kh, sh, out_h, &ky1);
    const int kx0 = cv_first_tap(ix, pad_l, kw, sw, out_w, &kx1);
    float acc = 0.0f;
    CV_GATHER(acc, CV_LD_S, c / cg * kg + c % cg)
    dx[(((size_t)n0 * in_h + row) * in_w + ix) * cin + c] = acc;
#else
    const int row = get_global_id(0);
    if (row >= images * in_h)
        return;
    const int nl = row / in_h, iy = row % in_h;
    const int ky0 = cv_first_tap(iy, pad_t, kh, sh, out_h, &ky1);
    for (int ix = 0; ix < in_w; ++ix) {
        global float *dpix = dx + (((size_t)n0 * in_h + row) * in_w + ix) * cin;
        const int kx0 = cv_first_tap(ix, pad_l, kw, sw, out_w, &kx1);
        for (int g = 0; g < groups; ++g) {
            global float *d = dpix + g * cg;
            int c = 0;
            for (; c + VW <= cg; c += VW) {
                VFLOAT acc = (VFLOAT)0.0f;
                CV_GATHER(acc, CV_LD_V, g * kg + c)
                VSTORE(acc, 0, d + c);
            }
            for (; c < cg; ++c) {
                float acc = 0.0f;
                CV_GATHER(acc, CV_LD_S, g * kg + c)
                d[c] = acc;
            }
        }
    }
#endif
}

// bias, res and pre are touched only when use_bias / use_res / save_pre (the host passes y
// otherwise).
kernel void conv2d_epilogue_forward(global float *y, global const float *bias,
                                    global const float *res, global float *pre, int rows,
                                    int cout, int ldy, int y_off, int use_bias, int use_res,
                                    int save_pre, int act, float alpha, int run)
{
#if CLNET_GPU
    const int c = get_global_id(0), r = get_global_id(1);
    if (c >= cout || r >= rows)
        return;
    const size_t i = (size_t)r * cout + c, o = (size_t)r * ldy + y_off + c;
    float v = y[o];
    if (use_bias)
        v += bias[c];
    if (use_res)
        v += res[i];
    if (save_pre)
        pre[i] = v;
    y[o] = act_forward(v, act, alpha);
#else
    const int r0 = get_global_id(0) * run, r1 = min(r0 + run, rows);
    for (int r = r0; r < r1; ++r) {
        const size_t base = (size_t)r * cout, ybase = (size_t)r * ldy + y_off;
        int c = 0;
        for (; c + VW <= cout; c += VW) {
            VFLOAT v = VLOAD(0, y + ybase + c);
            if (use_bias)
                v += VLOAD(0, bias + c);
            if (use_res)
                v += VLOAD(0, res + base + c);
            if (save_pre)
                VSTORE(v, 0, pre + base + c);
            VSTORE(act_forward_v(v, act, alpha), 0, y + ybase + c);
        }
        for (; c < cout; ++c) {
            float v = y[ybase + c];
            if (use_bias)
                v += bias[c];
            if (use_res)
                v += res[base + c];
            if (save_pre)
                pre[base + c] = v;
            y[ybase + c] = act_forward(v, act, alpha);
        }
    }
#endif
}

#define CV_BACK_S(i) dpre[i] = act_backward(dy[i], v[i], act, alpha);
#define CV_BACK_V(i)                                                                       \
    VSTORE(act_backward_v(VLOAD(0, dy + (i)), VLOAD(0, v + (i)), act, alpha), 0, dpre + (i));

kernel void conv2d_epilogue_backward(global const float *dy, global const float *v,
                                     global float *dpre, int count, int act, float alpha)
{
    ELEMENTWISE(count, CV_BACK_V, CV_BACK_S)
}
