// depthwise_conv2d.cl - kernels for src/ops/depthwise_conv2d.c (Keras DepthwiseConv2D).
// Layouts: x NHWC {batch, in_h, in_w, cin}; y, dy NHWC {batch, out_h, out_w, cout} with
// cout = cin * mult and output channel co = ci * mult + m; kernel {kh, kw, cin, mult}, so
// tap t = ky * kw + kx of channel co is w[t * cout + co]; bias {cout}. pad_t / pad_l cells
// precede the input, cells outside it read as 0. Output pixels are rows
// r = (n * out_h + oy) * out_w + ox. dpre = act_backward(dy, v) (common.cl): v is the output
// y, or the pre-activation the forward saved (save_pre) where the activation table says so.
//
// forward  GPU: one work-item per output element, global (cout, out_w, batch * out_h),
//          channels fastest so neighbouring work-items read neighbouring floats.
//          CPU: a work-item owns `run` output pixels of one row x CLNET_CVEC channels,
//          global (ceil(cout / CVEC), ceil(out_w / run), batch * out_h); taps are looped
//          with VW-wide loads along the contiguous channels when mult == 1, scalar
//          otherwise and for the channel tail.
// backward (dx) gathers, no atomics: an input element sums dpre * w over the
//          (output pixel, tap) pairs that read it. Same two mappings over the input.
// dw, db   two-stage reduction over the rows in a fixed order. _partial_backward: block b
//          sums rows [b * rpb, min((b + 1) * rpb, rows)) for taps t0 .. t0 + nt - 1 (tap
//          kh * kw is the bias) into partial[(b * nt + tt) * cout + co]. GPU: a work-group of
//          RED_CT channels x RED_RT row lanes (a power of two) per block; lanes stride the
//          rows, then a local-memory tree over the lanes. CPU: a work-item per (CVEC
//          channels, block, DW_TAPS taps) walks the rows once with VW vectors, one
//          accumulator per tap. _sum_backward adds the blocks in order.
#ifndef RED_CT
#define RED_CT 16
#endif
#ifndef RED_RT
#define RED_RT 4
#endif
#ifndef DW_TAPS
#define DW_TAPS 10
#endif

#define DW_GEOM                                                                                    \
    int batch, int in_h, int in_w, int cin, int out_h, int out_w, int mult, int kh, int kw,        \
        int sh, int sw, int pad_t, int pad_l
#define DW_GEOM_ARGS batch, in_h, in_w, cin, out_h, out_w, mult, kh, kw, sh, sw, pad_t, pad_l

// Runs BODY for each tap (ky, kx) of output pixel (oy, ox) whose input cell (iy, ix) lies
// inside the input.
#define FORWARD_TAPS(BODY)                                                                         \
    for (int ky = 0; ky < kh; ++ky) {                                                              \
        const int iy = oy * sh - pad_t + ky;                                                       \
        if (iy < 0 || iy >= in_h)                                                                  \
            continue;                                                                              \
        for (int kx = 0; kx < kw; ++kx) {                                                          \
            const int ix = ox * sw - pad_l + kx;                                                   \
            if (ix >= 0 && ix < in_w)                                                              \
                BODY                                                                               \
        }                                                                                          \
    }

// Tap sum (no bias) of output channel co at output pixel (n, oy, ox).
inline float dw_point(global const float *x, global const float *w, int n, int oy, int ox, int co,
                      DW_GEOM)
{
    const int cout = cin * mult;
    float acc = 0.0f;
    FORWARD_TAPS({
        acc += x[(((size_t)n * in_h + iy) * in_w + ix) * cin + co / mult] *
               w[(ky * kw + kx) * cout + co];
    })
    return acc;
}

// dw_point for VW channels from c when mult == 1 (input and output channels coincide).
inline VFLOAT dw_point_vw(global const float *x, global const float *w, int n, int oy, int ox,
                          int c, DW_GEOM)
{
    VFLOAT acc = (VFLOAT)0.0f;
    FORWARD_TAPS({
        acc += VLOAD(0, x + (((size_t)n * in_h + iy) * in_w + ix) * cin + c) *
               VLOAD(0, w + (ky * kw + kx) * cin + c);
    })
    return acc;
}

// CPU forward of DW_P (8) output pixels (n, oy, ox .. ox + 7), channels c0 .. c1 - 1
// (mult == 1): VW at a time into eight named accumulators, the tail lane by lane. Each
// tap's weights are loaded once for the eight pixels; edge: some windows reach past the
// input's left or right side, so each tap tests its column (interior blocks test none). The
// accumulators are named rather than an array: POCL keeps a private array in memory, and the loads
// and stores of it bounded the per-pixel loop.
#define DW_P 8
#define DW_EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DW_INIT(p) VFLOAT acc##p = b0;
#define DW_FMA(p) acc##p += VLOAD(0, xr + (size_t)((p)*sw + kx) * cin) * wv;
#define DW_FMA_EDGE(p)                                                                             \
    if ((uint)(ix0 + (p)*sw + kx) < (uint)in_w)                                                    \
    DW_FMA(p)
#define DW_OUT(p)                                                                                  \
    if (save_pre)                                                                                  \
        VSTORE(acc##p, 0, pre + o + (size_t)(p)*cin + c);                                          \
    VSTORE(act_forward_v(acc##p, act, alpha), 0, y + o + (size_t)(p)*cin + c);

inline void dw_block(global const float *x, global const float *w, global const float *bias,
                     global float *y, global float *pre, int n, int oy, int ox, int c0, int c1,
                     int use_bias, int save_pre, int act, float alpha, DW_GEOM)
{
    const int ix0 = ox * sw - pad_l, edge = ix0 < 0 || ix0 + (DW_P - 1) * sw + kw > in_w;
    const size_t o = (((size_t)n * out_h + oy) * out_w + ox) * cin;
    int c = c0;
    for (; c + VW <= c1; c += VW) {
        const VFLOAT b0 = use_bias ? VLOAD(0, bias + c) : (VFLOAT)0.0f;
        DW_EACH(DW_INIT)
        for (int ky = 0; ky < kh; ++ky) {
            const int iy = oy * sh - pad_t + ky;
            if (iy < 0 || iy >= in_h)
                continue;
            global const float *xr = x + (((size_t)n * in_h + iy) * in_w + ix0) * cin + c;
            global const float *wr = w + (size_t)ky * kw * cin + c;
            if (edge)
                for (int kx = 0; kx < kw; ++kx) {
                    const VFLOAT wv = VLOAD(0, wr + (size_t)kx * cin);
                    DW_EACH(DW_FMA_EDGE)
                }
            else
                for (int kx = 0; kx < kw; ++kx) {
                    const VFLOAT wv = VLOAD(0, wr + (size_t)kx * cin);
                    DW_EACH(DW_FMA)
                }
        }
        DW_EACH(DW_OUT)
    }
    for (; c < c1; ++c)
        for (int p = 0; p < DW_P; ++p) {
            const float v =
                (use_bias ? bias[c] : 0.0f) + dw_point(x, w, n, oy, ox + p, c, DW_GEOM_ARGS);
            if (save_pre)
                pre[o + (size_t)p * cin + c] = v;
            y[o + (size_t)p * cin + c] = act_forward(v, act, alpha);
        }
}

kernel void depthwise_conv2d_forward(global const float *x, global const float *w,
                                     global const float *bias, global float *y, global float *pre,
                                     DW_GEOM, int use_bias, int save_pre, int act, float alpha,
                                     int run)
{
    const int cout = cin * mult, row = get_global_id(2);
    if (row >= batch * out_h)
        return;
    const int n = row / out_h, oy = row % out_h;
#if CLNET_GPU
    const int co = get_global_id(0), ox = get_global_id(1);
    if (co >= cout || ox >= out_w)
        return; // global size is rounded up to the work-group size
    const float b = use_bias ? bias[co] : 0.0f;
    const float v = b + dw_point(x, w, n, oy, ox, co, DW_GEOM_ARGS);
    const size_t o = ((size_t)row * out_w + ox) * cout + co;
    if (save_pre)
        pre[o] = v;
    y[o] = act_forward(v, act, alpha);
#else
    const int c0 = get_global_id(0) * CLNET_CVEC, c1 = min(c0 + CLNET_CVEC, cout);
    const int ox0 = get_global_id(1) * run, ox1 = min(ox0 + run, out_w);
    int ox = ox0;
    if (mult == 1)
        for (; ox + DW_P <= ox1; ox += DW_P)
            dw_block(x, w, bias, y, pre, n, oy, ox, c0, c1, use_bias, save_pre, act, alpha,
                     DW_GEOM_ARGS);
    for (; ox < ox1; ++ox) {
        const size_t o = ((size_t)row * out_w + ox) * cout;
        global float *yp = y + o;
        int co = c0;
        if (mult == 1)
            for (; co + VW <= c1; co += VW) {
                VFLOAT acc = dw_point_vw(x, w, n, oy, ox, co, DW_GEOM_ARGS);
                if (use_bias)
                    acc = VLOAD(0, bias + co) + acc;
                if (save_pre)
                    VSTORE(acc, 0, pre + o + co);
                VSTORE(act_forward_v(acc, act, alpha), 0, yp + co);
            }
        for (; co < c1; ++co) {
            const float b = use_bias ? bias[co] : 0.0f;
            const float v = b + dw_point(x, w, n, oy, ox, co, DW_GEOM_ARGS);
            if (save_pre)
                pre[o + co] = v;
            yp[co] = act_forward(v, act, alpha);
        }
    }
#endif
}

#if !CLNET_GPU
// CPU forward of 3x3 and 5x5 windows with mult == 1 (the depthwise layers of MobileNets,
// MnasNet and EfficientNets), 2-4x the general kernel on their large rows. A work-item
// owns one output row of VW channels, global (ceil(cin / VW), batch * out_h). The interior
// pixels (windows inside the input's columns) go in blocks of 8, the last block ending at
// the interior's end and overlapping the one before (its pixels computed again, the same
// values stored twice) rather than a block of 4 and single pixels: one expansion of the
// block, whose code generation took ~0.3 s of a cold start. For each input row inside the
// input, the block's columns are loaded once per tap column (the window size K and column
// stride S are constants in each expansion of kk_interior, so the loops unroll and the
// pixels' shared columns are loaded once: stride 1, 3x3: 10 loads for 24 multiply-adds).
// The pixels at the row's ends, and rows of fewer than 8 interior pixels, take the general
// per-pixel code. A channel tail (cin not a multiple of VW) computes the last VW channels
// and stores only its own.
#define KK_EACH8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define KK_INIT(p) VFLOAT acc##p = b;
#define KK_FMA(p) acc##p += VLOAD(0, xr + (size_t)((p)*S + j) * cin) * wv;
#define KK_OUT(p)                                                                                  \
    if (save_pre)                                                                                  \
        kk_store(pr + (size_t)(ox + (p)) * cin, acc##p, skip);                                     \
    kk_store(yr + (size_t)(ox + (p)) * cin, DW_ACT(acc##p), skip);
#define KK_BLOCK(EACH)                                                                             \
    {                                                                                              \
        EACH(KK_INIT)                                                                              \
        for (int r = 0; r < K; ++r) {                                                              \
            if (iy + r < 0 || iy + r >= in_h)                                                      \
                continue;                                                                          \
            global const float *xr = xb + ((size_t)(iy + r) * in_w + ox * S - pad_l) * cin;        \
            for (int j = 0; j < K; ++j) {                                                          \
                const VFLOAT wv = VLOAD(0, wp + (size_t)(r * K + j) * cin);                        \
                EACH(KK_FMA)                                                                       \
            }                                                                                      \
        }                                                                                          \
        EACH(KK_OUT)                                                                               \
    }
#define DW_ACT(v) ACT_FORWARD_FAST(VFLOAT, act_forward_v, v, act, alpha)

// Stores lanes skip .. VW - 1 of v at p (skip > 0 only in a channel tail's block). Not
// inlined: a lane loop in each of the row's stores cost seconds of code generation.
#define KK_LANE(j)                                                                                 \
    if (0x##j >= skip)                                                                             \
        p[0x##j] = v.s##j;
__attribute__((noinline)) void kk_store_tail(global float *p, VFLOAT v, int skip)
{
#if VW == 16
    // clang-format off
    KK_LANE(0) KK_LANE(1) KK_LANE(2) KK_LANE(3) KK_LANE(4) KK_LANE(5) KK_LANE(6) KK_LANE(7)
    KK_LANE(8) KK_LANE(9) KK_LANE(a) KK_LANE(b) KK_LANE(c) KK_LANE(d) KK_LANE(e) KK_LANE(f)
    // clang-format on
#endif
}
#define kk_store(p, v, skip)                                                                       \
    do {                                                                                           \
        if (skip == 0)                                                                             \
            VSTORE(v, 0, p);                                                                       \
        else                                                                                       \
            kk_store_tail(p, v, skip);                                                             \
    } while (0)

// Interior pixels lo .. hi - 1 of one output row whose window starts at input row iy;
// returns the first one left undone (all of them when there are fewer than 8).
__attribute__((always_inline)) inline int
kk_interior(global const float *xb, global const float *wp, VFLOAT b, global float *yr,
            global float *pr, int iy, int lo, int hi, const int K, const int S, int in_h, int in_w,
            int cin, int pad_l, int skip, int save_pre, int act, float alpha)
{
    if (hi - lo < 8)
        return lo;
    for (int ox = lo;; ox = min(ox + 8, hi - 8)) {
        KK_BLOCK(KK_EACH8)
        if (ox + 8 >= hi)
            break;
    }
    return hi;
}

#define KK_KERNEL(NAME, K)                                                                         \
    kernel void NAME(global const float *x, global const float *w, global const float *bias,       \
                     global float *y, global float *pre, DW_GEOM, int use_bias, int save_pre,      \
                     int act, float alpha)                                                         \
    {                                                                                              \
        const int row = get_global_id(1), c0 = get_global_id(0) * VW;                              \
        if (row >= batch * out_h || c0 >= cin)                                                     \
            return;                                                                                \
        const int n = row / out_h, oy = row % out_h;                                               \
        const int c = c0 + VW > cin && cin >= VW && VW == 16 ? cin - VW : c0, skip = c0 - c;       \
        global float *yr = y + (size_t)row * out_w * cin + c;                                      \
        global float *pr = pre + (size_t)row * out_w * cin + c;                                    \
        if (c + VW > cin) { /* fewer than VW channels in all */                                    \
            for (int ox = 0; ox < out_w; ++ox)                                                     \
                for (int co = 0; co < cin - c; ++co) {                                             \
                    const float v = (use_bias ? bias[c + co] : 0.0f) +                             \
                                    dw_point(x, w, n, oy, ox, c + co, DW_GEOM_ARGS);               \
                    if (save_pre)                                                                  \
                        pr[(size_t)ox * cin + co] = v;                                             \
                    yr[(size_t)ox * cin + co] = act_forward(v, act, alpha);                        \
                }                                                                                  \
            return;                                                                                \
        }                                                                                          \
        const VFLOAT b = use_bias ? VLOAD(0, bias + c) : (VFLOAT)0.0f;                             \
        const int iy = oy * sh - pad_t;                                                            \
        global const float *xb = x + (size_t)n * in_h * in_w * cin + c;                            \
        /* Interior: ox * sw - pad_l >= 0 and ox * sw - pad_l + K - 1 < in_w. */                   \
        const int lo = min((pad_l + sw - 1) / sw, out_w);                                          \
        const int hi = max(lo, min(out_w, (in_w - K + pad_l) / sw + 1));                           \
        const int done = sw == 1 ? kk_interior(xb, w + c, b, yr, pr, iy, lo, hi, K, 1, in_h, in_w, \
                                               cin, pad_l, skip, save_pre, act, alpha)             \
                                 : kk_interior(xb, w + c, b, yr, pr, iy, lo, hi, K, 2, in_h, in_w, \
                                               cin, pad_l, skip, save_pre, act, alpha);            \
        for (int ox = 0; ox < out_w; ++ox) {                                                       \
            if (ox == lo)                                                                          \
                ox = done;                                                                         \
            if (ox >= out_w)                                                                       \
                break;                                                                             \
            const VFLOAT acc = b + dw_point_vw(x, w, n, oy, ox, c, DW_GEOM_ARGS);                  \
            if (save_pre)                                                                          \
                kk_store(pr + (size_t)ox * cin, acc, skip);                                        \
            kk_store(yr + (size_t)ox * cin, DW_ACT(acc), skip);                                    \
        }                                                                                          \
    }

KK_KERNEL(depthwise_conv2d_forward_k3, 3)
KK_KERNEL(depthwise_conv2d_forward_k5, 5)
#endif

// Runs BODY for each tap (ky, kx) that reads input pixel (iy, ix), with the output pixel
// (oy, ox) it belongs to: iy + pad_t - ky must be a whole number of strides inside the output.
#define BACKWARD_TAPS(BODY)                                                                        \
    for (int ky = 0; ky < kh; ++ky) {                                                              \
        const int ty = iy + pad_t - ky, oy = ty / sh;                                              \
        if (ty < 0 || ty % sh != 0 || oy >= out_h)                                                 \
            continue;                                                                              \
        for (int kx = 0; kx < kw; ++kx) {                                                          \
            const int tx = ix + pad_l - kx, ox = tx / sw;                                          \
            if (tx >= 0 && tx % sw == 0 && ox < out_w)                                             \
                BODY                                                                               \
        }                                                                                          \
    }

// Gradient of input channel ci at input pixel (n, iy, ix): over its taps and the mult
// output channels of ci.
inline float dw_dx_point(global const float *dy, global const float *v, global const float *w,
                         int n, int iy, int ix, int ci, int act, float alpha, DW_GEOM)
{
    const int cout = cin * mult;
    float acc = 0.0f;
    BACKWARD_TAPS({
        const size_t o = (((size_t)n * out_h + oy) * out_w + ox) * cout + ci * mult;
        global const float *wt = w + (ky * kw + kx) * cout + ci * mult;
        for (int m = 0; m < mult; ++m)
            acc += act_backward(dy[o + m], v[o + m], act, alpha) * wt[m];
    })
    return acc;
}

// dw_dx_point for VW channels from c when mult == 1.
inline VFLOAT dw_dx_point_vw(global const float *dy, global const float *v, global const float *w,
                             int n, int iy, int ix, int c, int act, float alpha, DW_GEOM)
{
    VFLOAT acc = (VFLOAT)0.0f;
    BACKWARD_TAPS({
        const size_t o = (((size_t)n * out_h + oy) * out_w + ox) * cin + c;
        const VFLOAT g = act_backward_v(VLOAD(0, dy + o), VLOAD(0, v + o), act, alpha);
        acc += g * VLOAD(0, w + (ky * kw + kx) * cin + c);
    })
    return acc;
}

kernel void depthwise_conv2d_backward(global const float *dy, global const float *v,
                                      global const float *w, global float *dx, DW_GEOM, int act,
                                      float alpha, int run)
{
    const int row = get_global_id(2);
    if (row >= batch * in_h)
        return;
    const int n = row / in_h, iy = row % in_h;
#if CLNET_GPU
    const int ci = get_global_id(0), ix = get_global_id(1);
    if (ci >= cin || ix >= in_w)
        return;
    dx[((size_t)row * in_w + ix) * cin + ci] =
        dw_dx_point(dy, v, w, n, iy, ix, ci, act, alpha, DW_GEOM_ARGS);
#else
    const int c0 = get_global_id(0) * CLNET_CVEC, c1 = min(c0 + CLNET_CVEC, cin);
    const int ix0 = get_global_id(1) * run, ix1 = min(ix0 + run, in_w);
    for (int ix = ix0; ix < ix1; ++ix) {
        global float *dxp = dx + ((size_t)row * in_w + ix) * cin;
        int ci = c0;
        if (mult == 1)
            for (; ci + VW <= c1; ci += VW)
                VSTORE(dw_dx_point_vw(dy, v, w, n, iy, ix, ci, act, alpha, DW_GEOM_ARGS), 0,
                       dxp + ci);
        for (; ci < c1; ++ci)
            dxp[ci] = dw_dx_point(dy, v, w, n, iy, ix, ci, act, alpha, DW_GEOM_ARGS);
    }
#endif
}

// Row r's term of tap t's gradient for channel co: dpre * x under the tap, or dpre
// alone for the bias (t == kh * kw).
inline float dw_tap_term(global const float *x, global const float *dy, global const float *v,
                         int r, int t, int co, int act, float alpha, DW_GEOM)
{
    const int cout = cin * mult;
    const size_t o = (size_t)r * cout + co;
    const float g = act_backward(dy[o], v[o], act, alpha);
    if (t == kh * kw)
        return g;
    const int ox = r % out_w, q = r / out_w, oy = q % out_h, n = q / out_h;
    const int iy = oy * sh - pad_t + t / kw, ix = ox * sw - pad_l + t % kw;
    if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w)
        return 0.0f;
    return g * x[(((size_t)n * in_h + iy) * in_w + ix) * cin + co / mult];
}

kernel void depthwise_conv2d_partial_backward(global const float *x, global const float *dy,
                                              global const float *v, global float *partial, DW_GEOM,
                                              int act, float alpha, int rpb, int t0, int nt)
{
    const int cout = cin * mult, rows = batch * out_h * out_w;
#if CLNET_GPU
    const int tt = get_global_id(2), t = t0 + tt;
    local float part[RED_RT][RED_CT];
    const int co = get_global_id(0), lc = get_local_id(0), lane = get_local_id(1);
    const int blk = get_group_id(1), live = co < cout && tt < nt;
    float acc = 0.0f;
    if (live) {
        const int r1 = min((blk + 1) * rpb, rows);
        for (int r = blk * rpb + lane; r < r1; r += RED_RT)
            acc += dw_tap_term(x, dy, v, r, t, co, act, alpha, DW_GEOM_ARGS);
    }
    part[lane][lc] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_RT / 2; s > 0; s >>= 1) {
        if (lane < s)
            part[lane][lc] += part[lane + s][lc];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && live)
        partial[((size_t)blk * nt + tt) * cout + co] = part[0][lc];
#else
    // Taps tg .. tg + ntg - 1 (of the nt) of this work-item. The vector path walks the rows
    // once: dpre is loaded once per row and feeds one accumulator per tap.
    const int blk = get_global_id(1), tg = get_global_id(2) * DW_TAPS, ntg = min(DW_TAPS, nt - tg);
    const int c0 = get_global_id(0) * CLNET_CVEC, c1 = min(c0 + CLNET_CVEC, cout);
    const int r0 = blk * rpb, r1 = min(r0 + rpb, rows);
    // Past the last tap group or block (global size rounded up to the work-group size);
    // block 0 always stores, zeros when there are no rows.
    if (ntg <= 0 || (blk > 0 && r0 >= rows))
        return;
    int oky[DW_TAPS], okx[DW_TAPS], bias[DW_TAPS]; // tap offsets from the window corner
    for (int k = 0; k < ntg; ++k) {
        const int t = t0 + tg + k;
        bias[k] = t == kh * kw;
        oky[k] = t / kw - pad_t;
        okx[k] = t % kw - pad_l;
    }
    global float *out = partial + ((size_t)blk * nt + tg) * cout;
    int co = c0;
    if (mult == 1)
        for (; co + VW <= c1; co += VW) {
            VFLOAT acc[DW_TAPS];
            for (int k = 0; k < DW_TAPS; ++k)
                acc[k] = (VFLOAT)0.0f;
            int ox = r0 % out_w, oy = r0 / out_w % out_h, n = r0 / out_w / out_h;
            for (int r = r0; r < r1; ++r) {
                const size_t o = (size_t)r * cout + co;
                const VFLOAT g = act_backward_v(VLOAD(0, dy + o), VLOAD(0, v + o), act, alpha);
                for (int k = 0; k < ntg; ++k) {
                    const int iy = oy * sh + oky[k], ix = ox * sw + okx[k];
                    if (bias[k])
                        acc[k] += g;
                    else if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w)
                        acc[k] +=
                            g * VLOAD(0, x + (((size_t)n * in_h + iy) * in_w + ix) * cin + co);
                }
                if (++ox == out_w) {
                    ox = 0;
                    if (++oy == out_h) {
                        oy = 0;
                        ++n;
                    }
                }
            }
            for (int k = 0; k < ntg; ++k)
                VSTORE(acc[k], 0, out + (size_t)k * cout + co);
        }
    for (; co < c1; ++co)
        for (int k = 0; k < ntg; ++k) {
            float acc = 0.0f;
            for (int r = r0; r < r1; ++r)
                acc += dw_tap_term(x, dy, v, r, t0 + tg + k, co, act, alpha, DW_GEOM_ARGS);
            out[(size_t)k * cout + co] = acc;
        }
#endif
}

// Stage 2: out[k * cout + co] = sum over blocks, in order, of tap tt0 + k.
// global (cout, ntaps); a work-item per output.
kernel void depthwise_conv2d_sum_backward(global const float *partial, global float *out,
                                          int blocks, int nt, int tt0, int ntaps, int cout)
{
    const int co = get_global_id(0), k = get_global_id(1);
    if (co >= cout || k >= ntaps)
        return;
    float s = 0.0f;
    for (int b = 0; b < blocks; ++b)
        s += partial[((size_t)b * nt + tt0 + k) * cout + co];
    out[(size_t)k * cout + co] = s;
}
