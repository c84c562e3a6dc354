// conv2d_winograd.cl - kernels for src/ops/conv2d_winograd.c: Winograd F(2x2, 3x3) for 3x3
// stride-1 convolutions, Y = A^T [ (G g G^T) . (B^T d B) ] A per 2x2 output tile.
// Layouts: x NHWC {batch, in_h, in_w, cin}; y NHWC {batch, out_h, out_w, cout}; kernel HWIO
// {3, 3, cin, cout}. A chunk of images n0 .. n0 + images - 1 has tiles = images * tiles_hw
// tiles t = (nl * tiles_h + ty) * tiles_w + tx (nl = n - n0), tile t reading the 4x4 input
// window from (2 ty - pad_t, 2 tx - pad_l), cells outside the image 0, and writing the 2x2
// outputs from (2 ty, 2 tx) that lie inside y. The 16 planes i = 4 * row + col of a tile:
//   V[i][t][ci] (input transform)  x  U[i][ci][co] (weight transform)  =  M[i][t][co]
// (16 GEMMs on the host, through clnet__gemm).
//
// conv2d_winograd_weights: U[i][r][c] = (G g G^T)[i], g(ky, kx) = w[ky][kx][r][c], or with
//   rotate w[2 - ky][2 - kx][r][c]: the kernel of the data gradient, which the host's GEMMs
//   read transposed (the products are then [tiles x cout] x [cout x cin]).
//   GPU: one work-item per U element, global (cout, cin).
//   CPU: one work-item per row r, global (cin), VW columns at a time (scalar tail).
// conv2d_winograd_input: V = B^T d B.
//   GPU: one work-item per (channel, tile), global (cin, tiles).
//   CPU: one work-item per tile, global (tiles), VW channels at a time (scalar tail).
// conv2d_winograd_output: y = act(A^T m A + bias + res), the epilogue of
//   conv2d_epilogue_forward (cl/conv2d.cl) fused; bias / res read only when use_bias /
//   use_res (the host passes y otherwise); with save_pre the pre-activation goes to pre too
//   (training with an activation whose backward reads it). y's pixel p starts at y_off + p *
//   ldy (ldy >= cout: a channel block of a wider tensor); res and pre are packed (cout).
//   GPU: one work-item per (channel, tile), global (cout, tiles).
//   CPU: one work-item per tile, global (tiles), VW channels at a time (scalar tail).
// The transforms are written once as macros over arrays, so the float (GPU, tails) and
// VFLOAT (CPU) paths share them.

// u (4x4) = G g G^T for g (3x3), G = {1, 0, 0; .5, .5, .5; .5, -.5, .5; 0, 0, 1}; s is a
// 12-element temporary.
#define WG_WEIGHT_TF(g, s, u)                                                              \
    for (int j_ = 0; j_ < 3; ++j_) {                                                       \
        s[j_] = g[j_];                                                                     \
        s[3 + j_] = 0.5f * (g[j_] + g[3 + j_] + g[6 + j_]);                                \
        s[6 + j_] = 0.5f * (g[j_] - g[3 + j_] + g[6 + j_]);                                \
        s[9 + j_] = g[6 + j_];                                                             \
    }                                                                                      \
    for (int i_ = 0; i_ < 4; ++i_) {                                                       \
        u[4 * i_] = s[3 * i_];                                                             \
        u[4 * i_ + 1] = 0.5f * (s[3 * i_] + s[3 * i_ + 1] + s[3 * i_ + 2]);                \
        u[4 * i_ + 2] = 0.5f * (s[3 * i_] - s[3 * i_ + 1] + s[3 * i_ + 2]);                \
        u[4 * i_ + 3] = s[3 * i_ + 2];                                                     \
    }

// v (4x4) = B^T d B for d (4x4), B^T = {1, 0, -1, 0; 0, 1, 1, 0; 0, -1, 1, 0; 0, 1, 0, -1};
// t is a 16-element temporary.
#define WG_INPUT_TF(d, t, v)                                                               \
    for (int j_ = 0; j_ < 4; ++j_) {                                                       \
        t[j_] = d[j_] - d[8 + j_];                                                         \
        t[4 + j_] = d[4 + j_] + d[8 + j_];                                                 \
        t[8 + j_] = d[8 + j_] - d[4 + j_];                                                 \
        t[12 + j_] = d[4 + j_] - d[12 + j_];                                               \
    }                                                                                      \
    for (int i_ = 0; i_ < 4; ++i_) {                                                       \
        v[4 * i_] = t[4 * i_] - t[4 * i_ + 2];                                             \
        v[4 * i_ + 1] = t[4 * i_ + 1] + t[4 * i_ + 2];                                     \
        v[4 * i_ + 2] = t[4 * i_ + 2] - t[4 * i_ + 1];                                     \
        v[4 * i_ + 3] = t[4 * i_ + 1] - t[4 * i_ + 3];                                     \
    }

// o (2x2) = A^T m A for m (4x4), A^T = {1, 1, 1, 0; 0, 1, -1, -1}; q is an 8-element
// temporary.
#define WG_OUTPUT_TF(m, q, o)                                                              \
    for (int j_ = 0; j_ < 4; ++j_) {                                                       \
        q[j_] = m[j_] + m[4 + j_] + m[8 + j_];                                             \
        q[4 + j_] = m[4 + j_] - m[8 + j_] - m[12 + j_];                                    \
    }                                                                                      \
    for (int i_ = 0; i_ < 2; ++i_) {                                                       \
        o[2 * i_] = q[4 * i_] + q[4 * i_ + 1] + q[4 * i_ + 2];                             \
        o[2 * i_ + 1] = q[4 * i_ + 1] - q[4 * i_ + 2] - q[4 * i_ + 3];                     \
    }

#define WG_LD_S(p) (*(p))
#define WG_LD_V(p) VLOAD(0, (p))
#define WG_ST_S(v, p) (*(p) = (v))
#define WG_ST_V(v, p) VSTORE((v), 0, (p))

// Transforms the 3x3 taps of U columns c .. c + width - 1 of row r; T is float or VFLOAT.
#define WG_WEIGHTS(T, LD, ST)                                                              \
    {                                                                                      \
        T g[9], s[12], uu[16];                                                             \
        for (int tap = 0; tap < 9; ++tap)                                                  \
            g[tap] = LD(w + ((size_t)(rotate ? 8 - tap : tap) * cin + r) * cout + c);       \
        WG_WEIGHT_TF(g, s, uu)                                                             \
        for (int i = 0; i < 16; ++i)                                                       \
            ST(uu[i], u + ((size_t)i * cin + r) * cout + c);                               \
    }

kernel void conv2d_winograd_weights(global const float *w, global float *u, int cin, int cout,
                                    int rotate)
{
#if CLNET_GPU
    const int c = get_global_id(0), r = get_global_id(1);
    if (c >= cout || r >= cin)
        return;  // global size is rounded up to the work-group size
    WG_WEIGHTS(float, WG_LD_S, WG_ST_S)
#else
    const int r = get_global_id(0);
    if (r >= cin)
        return;
    int c = 0;
    for (; c + VW <= cout; c += VW)
        WG_WEIGHTS(VFLOAT, WG_LD_V, WG_ST_V)
    for (; c < cout; ++c)
        WG_WEIGHTS(float, WG_LD_S, WG_ST_S)
#endif
}

// Offsets in x of the 16 cells of tile t's window, -1 outside the image.
inline void wg_window(int t, int n0, int in_h, int in_w, int cin, int tiles_w, int tiles_hw,
                      int pad_t, int pad_l, long *at)
{
    const int n = n0 + t / tiles_hw, r = t % tiles_hw;
    const int y0 = (r / tiles_w) * 2 - pad_t, x0 = (r % tiles_w) * 2 - pad_l;
    for (int a = 0; a < 4; ++a)
        for (int b = 0; b < 4; ++b) {
            const int iy = y0 + a, ix = x0 + b;
            const int in = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
            at[4 * a + b] = in ? (((long)n * in_h + iy) * in_w + ix) * cin : -1;
        }
}

// Transforms channels c .. c + width - 1 of tile t; T is float or VFLOAT, ZERO its 0.
#define WG_INPUT(T, LD, ST, ZERO)                                                          \
    {                                                                                      \
        T d[16], tt[16], vv[16];                                                           \
        for (int k = 0; k < 16; ++k)                                                       \
            d[k] = at[k] < 0 ? ZERO : LD(x + at[k] + c);                                \
        WG_INPUT_TF(d, tt, vv)                                                             \
        for (int i = 0; i < 16; ++i)                                                       \
            ST(vv[i], v + ((size_t)i * tiles + t) * cin + c);                              \
    }

kernel void conv2d_winograd_input(global const float *x, global float *v, int n0, int tiles,
                                  int in_h, int in_w, int cin, int tiles_w, int tiles_hw,
                                  int pad_t, int pad_l)
{
    long at[16];
#if CLNET_GPU
    const int c = get_global_id(0), t = get_global_id(1);
    if (c >= cin || t >= tiles)
        return;
    wg_window(t, n0, in_h, in_w, cin, tiles_w, tiles_hw, pad_t, pad_l, at);
    WG_INPUT(float, WG_LD_S, WG_ST_S, 0.0f)
#else
    const int t = get_global_id(0);
    if (t >= tiles)
        return;
    wg_window(t, n0, in_h, in_w, cin, tiles_w, tiles_hw, pad_t, pad_l, at);
    int c = 0;
    for (; c + VW <= cin; c += VW)
        WG_INPUT(VFLOAT, WG_LD_V, WG_ST_V, (VFLOAT)0.0f)
    for (; c < cin; ++c)
        WG_INPUT(float, WG_LD_S, WG_ST_S, 0.0f)
#endif
}

// Writes channels c .. c + width - 1 of tile t's outputs inside y; T is float or VFLOAT.
#define WG_OUTPUT(T, LD, ST, ACT)                                                          \
    {                                                                                      \
        T mm[16], q[8], o[4];                                                              \
        for (int i = 0; i < 16; ++i)                                                       \
            mm[i] = LD(m + ((size_t)i * tiles + t) * cout + c);                         \
        WG_OUTPUT_TF(mm, q, o)                                                             \
        for (int k = 0; k < 4; ++k) {                                                      \
            if (oy + k / 2 >= out_h || ox + k % 2 >= out_w)                                \
                continue;                                                                  \
            const size_t px = ((size_t)n * out_h + oy + k / 2) * out_w + ox + k % 2;          \
            const size_t at = px * cout, yat = px * ldy + y_off;                           \
            T val = o[k];                                                                  \
            if (use_bias)                                                                  \
                val += LD(bias + c);                                                    \
            if (use_res)                                                                   \
                val += LD(res + at + c);                                                \
            if (save_pre)                                                                  \
                ST(val, pre + at + c);                                                     \
            ST(ACT(val, act, alpha), y + yat + c);                                         \
        }                                                                                  \
    }

kernel void conv2d_winograd_output(global const float *m, global float *y,
                                   global const float *bias, global const float *res,
                                   global float *pre, int n0, int tiles, int out_h, int out_w,
                                   int cout, int ldy, int y_off, int tiles_w, int tiles_hw,
                                   int use_bias, int use_res,
                                   int save_pre, int act, float alpha)
{
#if CLNET_GPU
    const int c = get_global_id(0), t = get_global_id(1);
    if (c >= cout || t >= tiles)
        return;
#else
    const int t = get_global_id(0);
    if (t >= tiles)
        return;
#endif
    const int n = n0 + t / tiles_hw, r = t % tiles_hw;
    const int oy = (r / tiles_w) * 2, ox = (r % tiles_w) * 2;
#if CLNET_GPU
    WG_OUTPUT(float, WG_LD_S, WG_ST_S, act_forward)
#else
    int c = 0;
    for (; c + VW <= cout; c += VW)
        WG_OUTPUT(VFLOAT, WG_LD_V, WG_ST_V, act_forward_v)
    for (; c < cout; ++c)
        WG_OUTPUT(float, WG_LD_S, WG_ST_S, act_forward)
#endif
}
