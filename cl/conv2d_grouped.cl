// conv2d_grouped.cl - kernels for src/ops/conv2d_grouped.c: conv2d's direct algorithm for
// grouped convolutions with narrow groups (ResNeXt-50's 4 to 32 channels per group, RegNetY's
// 8 to 56), where im2col + one GEMM per group leaves every GEMM a few columns wide.
// Layouts as cl/conv2d.cl: x, dx NHWC {batch, in_h, in_w, cin}; y, dpre NHWC {batch, out_h,
// out_w, cout}; kernel HWIO {kh, kw, cg, cout} with cg = cin / groups, og = cout / groups:
// output channel co belongs to group g = co / og and reads input channels g * cg + ci, so
// tap t = ky * kw + kx of (ci, co) is w[(t * cg + ci) * cout + co]. pad_t / pad_l cells
// precede the input; cells outside it read as 0.
//
// conv2d_grouped_forward: y = the tap sums, without bias or activation (conv2d's epilogue
//   kernel follows, as after its GEMMs).
//   GPU: one work-item per output element, global (cout, out_w, batch * out_h).
//   CPU: a work-item owns VW output pixels (ox0 .. ox0 + VW - 1) of one output row and
//        GC_OB output channels of one group, global (groups * ceil(og / GC_OB),
//        ceil(out_w / VW), batch * out_h). Per tap and input channel the VW pixels' inputs
//        are gathered into one vector, which then meets GC_OB weights: the reuse a GEMM of
//        og = 4 columns lacks. Each pixel's sum runs over taps, then channels, in order.
// conv2d_grouped_backward: dx = the data gradient from dpre (the gradient before the
//   activation), gathered (no atomics): input element (iy, ix, c) sums dpre * w over the
//   (output pixel, tap) pairs that read it and the og output channels of c's group.
//   GPU: one work-item per input element, global (cin, in_w, batch * in_h).
//   CPU: a work-item owns VW input pixels of one input row and GC_OB input channels of one
//        group, global (groups * ceil(cg / GC_OB), ceil(in_w / VW), batch * in_h); per tap and
//        output channel the VW pixels' dpre values are gathered into one vector for GC_OB
//        weights.
// Channels a CPU work-item accumulates per pixel vector (the named a0 .. a3 below; the
// host's BLOCK).
#define GC_OB 4

#define GC_GEOM                                                                            \
    int batch, int in_h, int in_w, int cin, int out_h, int out_w, int cout, int kh, int kw, \
        int sh, int sw, int pad_t, int pad_l, int groups

// VW values of p at element offsets off[l] (0 where off[l] < 0) as a vector.
inline VFLOAT gc_gather(global const float *p, const int *off)
{
    float lanes[VW];
    for (int l = 0; l < VW; ++l)
        lanes[l] = off[l] >= 0 ? p[off[l]] : 0.0f;
    return VLOAD(0, lanes);
}

// a<b> += v * w[b * step] for the block's nb (1 to 4) channels b. Named accumulators: POCL
// keeps an array of them in memory.
#define GC_ACCUMULATE(v, w, step, nb)                                                      \
    {                                                                                      \
        a0 += (v) * (w)[0];                                                                \
        if ((nb) == 4) {                                                                   \
            a1 += (v) * (w)[(step)];                                                       \
            a2 += (v) * (w)[2 * (step)];                                                   \
            a3 += (v) * (w)[3 * (step)];                                                   \
        } else {                                                                           \
            if ((nb) > 1)                                                                  \
                a1 += (v) * (w)[(step)];                                                   \
            if ((nb) > 2)                                                                  \
                a2 += (v) * (w)[2 * (step)];                                               \
        }                                                                                  \
    }

// Stores the block's nb accumulators, lanes 0 .. count - 1, to p[b + l * stride].
#define GC_STORE(p, stride, count, nb)                                                     \
    {                                                                                      \
        const VFLOAT acc[4] = {a0, a1, a2, a3};                                            \
        for (int b = 0; b < (nb); ++b)                                                     \
            gc_scatter(acc[b], (p) + b, (stride), (count));                                \
    }

// Stores lanes 0 .. count - 1 of v to p[l * stride].
inline void gc_scatter(VFLOAT v, global float *p, int stride, int count)
{
    float lanes[VW];
    VSTORE(v, 0, lanes);
    for (int l = 0; l < count; ++l)
        p[(size_t)l * stride] = lanes[l];
}

// CPU: the rows of images n0 .. n0 + images - 1 of x transposed for
// conv2d_grouped_forward: row (nl, iy, c, ph) holds the wq cells j of channel c at input
// columns ix = j * sw + ph - pad_l (0 outside the input), so the VW output pixels of a tap
// read one contiguous vector. A work-item per (channel, input row), global (cin, images *
// in_h).
kernel void conv2d_grouped_rows(global const float *x, global float *xt, int n0, int images,
                                int in_h, int in_w, int cin, int sw, int pad_l, int wq)
{
    const int c = get_global_id(0), row = get_global_id(1);
    if (c >= cin || row >= images * in_h)
        return;
    global const float *src = x + ((size_t)n0 * in_h + row) * in_w * cin + c;
    global float *dst = xt + ((size_t)row * cin + c) * sw * wq;
    for (int ph = 0; ph < sw; ++ph)
        for (int j = 0; j < wq; ++j) {
            const int ix = j * sw + ph - pad_l;
            dst[ph * wq + j] = ix >= 0 && ix < in_w ? src[(size_t)ix * cin] : 0.0f;
        }
}

kernel void conv2d_grouped_forward(global const float *x, global const float *w, global float *y,
                                   int n0, int images, int wq, GC_GEOM)
{
    const int cg = cin / groups, og = cout / groups, row = get_global_id(2);
    if (row >= images * out_h)
        return;
    const int nl = row / out_h, oy = row % out_h;
#if CLNET_GPU
    const int co = get_global_id(0), ox = get_global_id(1);
    if (co >= cout || ox >= out_w)
        return; // global size is rounded up to the work-group size
    const int g = co / og;
    float acc = 0.0f;
    for (int ky = 0; ky < kh; ++ky) {
        const int iy = oy * sh - pad_t + ky;
        if (iy < 0 || iy >= in_h)
            continue;
        for (int kx = 0; kx < kw; ++kx) {
            const int ix = ox * sw - pad_l + kx;
            if (ix < 0 || ix >= in_w)
                continue;
            global const float *xp =
                x + ((((size_t)n0 + nl) * in_h + iy) * in_w + ix) * cin + g * cg;
            global const float *wp = w + (ky * kw + kx) * cg * cout + co;
            for (int ci = 0; ci < cg; ++ci)
                acc += xp[ci] * wp[ci * cout];
        }
    }
    y[(((size_t)n0 * out_h + row) * out_w + ox) * cout + co] = acc;
#else
    // x is conv2d_grouped_rows' transpose of the chunk.
    const int blocks = (og + GC_OB - 1) / GC_OB, g = get_global_id(0) / blocks;
    const int o0 = get_global_id(0) % blocks * GC_OB, ox0 = get_global_id(1) * VW;
    if (g >= groups || ox0 >= out_w)
        return;
    const int co0 = g * og + o0, nb = min(GC_OB, og - o0), pixels = min(VW, out_w - ox0);
    VFLOAT a0 = (VFLOAT)0.0f, a1 = a0, a2 = a0, a3 = a0;
    for (int ky = 0; ky < kh; ++ky) {
        const int iy = oy * sh - pad_t + ky;
        if (iy < 0 || iy >= in_h)
            continue;
        global const float *xrow = x + (((size_t)nl * in_h + iy) * cin + g * cg) * sw * wq + ox0;
        for (int kx = 0; kx < kw; ++kx) {
            global const float *xp = xrow + kx % sw * wq + kx / sw;
            global const float *wp = w + (ky * kw + kx) * cg * cout + co0;
            for (int ci = 0; ci < cg; ++ci) {
                const VFLOAT xv = VLOAD(0, xp + (size_t)ci * sw * wq);
                GC_ACCUMULATE(xv, wp + ci * cout, 1, nb)
            }
        }
    }
    GC_STORE(y + (((size_t)n0 * out_h + row) * out_w + ox0) * cout + co0, cout, pixels, nb)
#endif
}

// Output coordinate o reading input coordinate i through tap t (stride s, pad cells before),
// or -1 when no output does.
inline int gc_source(int i, int t, int pad, int s, int out)
{
    const int d = i + pad - t;
    return d >= 0 && d % s == 0 && d / s < out ? d / s : -1;
}

kernel void conv2d_grouped_backward(global const float *dpre, global const float *w,
                                    global float *dx, GC_GEOM)
{
    const int cg = cin / groups, og = cout / groups, row = get_global_id(2);
    if (row >= batch * in_h)
        return;
    const int n = row / in_h, iy = row % in_h;
#if CLNET_GPU
    const int c = get_global_id(0), ix = get_global_id(1);
    if (c >= cin || ix >= in_w)
        return;
    const int g = c / cg, ci = c % cg;
    float acc = 0.0f;
    for (int ky = 0; ky < kh; ++ky) {
        const int oy = gc_source(iy, ky, pad_t, sh, out_h);
        if (oy < 0)
            continue;
        for (int kx = 0; kx < kw; ++kx) {
            const int ox = gc_source(ix, kx, pad_l, sw, out_w);
            if (ox < 0)
                continue;
            global const float *dp = dpre + (((size_t)n * out_h + oy) * out_w + ox) * cout + g * og;
            global const float *wp = w + ((ky * kw + kx) * cg + ci) * cout + g * og;
            for (int o = 0; o < og; ++o)
                acc += dp[o] * wp[o];
        }
    }
    dx[((size_t)row * in_w + ix) * cin + c] = acc;
#else
    const int blocks = (cg + GC_OB - 1) / GC_OB, g = get_global_id(0) / blocks;
    const int c0 = get_global_id(0) % blocks * GC_OB, ix0 = get_global_id(1) * VW;
    if (g >= groups || ix0 >= in_w)
        return;
    const int nb = min(GC_OB, cg - c0), pixels = min(VW, in_w - ix0);
    VFLOAT a0 = (VFLOAT)0.0f, a1 = a0, a2 = a0, a3 = a0;
    for (int ky = 0; ky < kh; ++ky) {
        const int oy = gc_source(iy, ky, pad_t, sh, out_h);
        if (oy < 0)
            continue;
        global const float *drow = dpre + ((size_t)n * out_h + oy) * out_w * cout + g * og;
        for (int kx = 0; kx < kw; ++kx) {
            int off[VW];
            for (int l = 0; l < VW; ++l) {
                const int ox = l < pixels ? gc_source(ix0 + l, kx, pad_l, sw, out_w) : -1;
                off[l] = ox >= 0 ? ox * cout : -1;
            }
            global const float *wp = w + ((ky * kw + kx) * cg + c0) * cout + g * og;
            for (int o = 0; o < og; ++o) {
                const VFLOAT dv = gc_gather(drow + o, off);
                GC_ACCUMULATE(dv, wp + o, cout, nb)
            }
        }
    }
    GC_STORE(dx + ((size_t)row * in_w + ix0) * cin + g * cg + c0, cin, pixels, nb)
#endif
}
