// conv2d_direct.cl - kernels for src/ops/conv2d_direct.c: conv2d's direct algorithm for
// convolutions with few input channels (the 3-channel stems of MobileNets, MnasNet,
// EfficientNets), whose column matrix would be rows of a few dozen floats: copying them
// cost more than the product. Layouts as cl/conv2d.cl: x NHWC {batch, in_h, in_w, cin},
// kernel HWIO {kh, kw, cin, cout}, y rows of cout starting at y_off + r * ldy (r the output
// pixel), res and pre packed rows of cout.
//
// conv2d_direct_forward: y = act(conv(x, w) + bias + res), pre = the value before act.
//   A work-item computes DC_P (8) output pixels of one row times 32 output channels (two
//   float16, cout a multiple of 16; the last block of an odd number of 16s has one), like
//   the packed GEMM's tile, with the input values read in place: per tap and input channel,
//   two weight vectors and eight broadcast input values. A pixel whose tap falls outside the
//   input (padding) or past the row reads a clamped address and gets 0 by a select.
//   global (ceil(cout / 32), ceil(out_w / DC_P), batch * out_h), on every class: the
//   float16 arithmetic is the CPU's shape, and other classes never choose it by default.
#define DC_P 8
#define DC_EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DC_DECL(p)                                                                                 \
    float16 lo##p = (float16)(0.0f), hi##p = (float16)(0.0f);                                      \
    int off##p = 0, in##p = 0;
// Where pixel p's tap kx reads in the input row, and whether that is inside it.
#define DC_OFFSET(p)                                                                               \
    {                                                                                              \
        const int ix = (ox0 + (p)) * sw - pad_l + kx;                                              \
        in##p = ix >= 0 && ix < in_w && ox0 + (p) < out_w;                                         \
        off##p = clamp(ix, 0, in_w - 1) * cin;                                                     \
    }
#define DC_FMA(p)                                                                                  \
    {                                                                                              \
        const float16 a = (float16)(in##p ? xr[off##p + ci] : 0.0f);                              \
        lo##p = fma(a, w0, lo##p);                                                                 \
        hi##p = fma(a, w1, hi##p);                                                                 \
    }
// Interior blocks: every tap of every pixel inside the row, and a tap row's kw * cin
// values of pixel p contiguous from xb + p * sw * cin.
#define DC_FMA_IN(p)                                                                               \
    {                                                                                              \
        const float16 a = (float16)(xb[(size_t)(p)*sw * cin + t]);                                 \
        lo##p = fma(a, w0, lo##p);                                                                 \
        hi##p = fma(a, w1, hi##p);                                                                 \
    }
#define DC_SPILL(p)                                                                                \
    t_[2 * (p)] = lo##p;                                                                           \
    t_[2 * (p) + 1] = hi##p;

// 16 output channels of one pixel, with the epilogue.
inline void dc_store(global float *y, float16 v, global const float *bias,
                     global const float *res, global float *pre, int use_bias, int use_res,
                     int save_pre, int act, float alpha)
{
    if (use_bias)
        v += vload16(0, bias);
    if (use_res)
        v += vload16(0, res);
    if (save_pre)
        vstore16(v, 0, pre);
    v = ACT_FORWARD_FAST(float16, act_forward16, v, act, alpha);
    vstore16(v, 0, y);
}

kernel void conv2d_direct_forward(global const float *x, global const float *w,
                                  global const float *bias, global const float *res,
                                  global float *y, global float *pre, int ldy, int y_off,
                                  int batch, int in_h, int in_w, int cin, int out_h, int out_w,
                                  int cout, int kh, int kw, int sh, int sw, int pad_t, int pad_l,
                                  int use_bias, int use_res, int save_pre, int act, float alpha)
{
    const int co = get_global_id(0) * 32, ox0 = get_global_id(1) * DC_P, row = get_global_id(2);
    if (co >= cout || ox0 >= out_w || row >= batch * out_h)
        return; // global size is rounded up to the work-group size
    const int n = row / out_h, oy = row % out_h, two = co + 32 <= cout;
    const int interior = ox0 * sw >= pad_l && ox0 + DC_P <= out_w &&
                         (ox0 + DC_P - 1) * sw - pad_l + kw <= in_w;
    DC_EACH(DC_DECL)
    for (int ky = 0; ky < kh; ++ky) {
        const int iy = oy * sh - pad_t + ky;
        if (iy < 0 || iy >= in_h)
            continue;
        global const float *xr = x + ((size_t)n * in_h + iy) * in_w * cin;
        if (interior) {
            global const float *xb = xr + (size_t)(ox0 * sw - pad_l) * cin;
            global const float *wk = w + (size_t)ky * kw * cin * cout + co;
            for (int t = 0; t < kw * cin; ++t) {
                const float16 w0 = vload16(0, wk + (size_t)t * cout);
                const float16 w1 = two ? vload16(0, wk + (size_t)t * cout + 16) : (float16)(0.0f);
                DC_EACH(DC_FMA_IN)
            }
            continue;
        }
        for (int kx = 0; kx < kw; ++kx) {
            DC_EACH(DC_OFFSET)
            global const float *wk = w + (size_t)(ky * kw + kx) * cin * cout + co;
            for (int ci = 0; ci < cin; ++ci) {
                const float16 w0 = vload16(0, wk + (size_t)ci * cout);
                const float16 w1 = two ? vload16(0, wk + (size_t)ci * cout + 16) : (float16)(0.0f);
                DC_EACH(DC_FMA)
            }
        }
    }
    // The accumulators go to a private array so that one copy of the store, in a rolled
    // loop, serves the 16 vectors (inlined copies cost code generation time at cold start).
    float16 t_[2 * DC_P];
    DC_EACH(DC_SPILL)
    const int nv = min(DC_P, out_w - ox0) * 2;
    _Pragma("nounroll") for (int q = 0; q < nv; ++q)
    {
        if ((q & 1) && !two)
            continue;
        const size_t r = (size_t)row * out_w + ox0 + q / 2;
        const int c = co + (q & 1) * 16;
        dc_store(y + y_off + r * ldy + c, t_[q], bias + c, res + r * cout + c, pre + r * cout + c,
                 use_bias, use_res, save_pre, act, alpha);
    }
}
