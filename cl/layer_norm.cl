// layer_norm.cl - kernels for src/ops/layer_norm.c (normalization over each pixel's channels).
// x, y, dy, dx, xg are NHWC seen as rows x c (rows = n * h * w, channels contiguous).
// Per row: mean = sum(x) / c, var = sum((x - mean)^2) / c (two passes: no cancellation),
// inv = 1 / sqrt(var + eps), xhat = (x - mean) * inv; forward y = xhat * gamma + beta.
// Backward per row, g = dy * gamma: dx = inv * (g - mean(g) - xhat * mean(g * xhat)) (when
// want_dx), and xg = dy * xhat (when want_xg), whose column sums are dgamma (the host sums
// them with reduce.cl, in a fixed order). The statistics are recomputed, not saved.
//   GPU: as softmax.cl: local size (L, R), L lanes per row (a power of two), R rows per
//        work-group; lanes stride the row, then lanes_sum (common.cl), a fixed-order
//        local tree. Rows past the end still join the barriers but touch no memory.
//   CPU: a work-item per row, global (rows), looping c VW at a time with a scalar tail.
// Both orders are fixed, so results repeat exactly.

// No fused multiply-adds: g - mean(g) must cancel exactly where the g are all equal (one
// channel), which fma(dy, gamma, -mean) computed from the unrounded product would not.
#pragma OPENCL FP_CONTRACT OFF

#if CLNET_GPU

// (mean, inv) of row xr, in every lane of the row.
inline float2 ln_stats(local float *mine, const global float *xr, int c, int live, float eps)
{
    const int lane = get_local_id(0), lanes = get_local_size(0);
    float s = 0.0f;
    for (int j = lane; live && j < c; j += lanes)
        s += xr[j];
    const float mean = lanes_sum(mine, s) / c;
    float q = 0.0f;
    for (int j = lane; live && j < c; j += lanes) {
        const float d = xr[j] - mean;
        q += d * d;
    }
    const float var = lanes_sum(mine, q) / c;
    return (float2)(mean, 1.0f / sqrt(var + eps));
}

kernel void layer_norm_forward(global const float *x, global float *y, global const float *gamma,
                               global const float *beta, int rows, int c, float eps)
{
    local float scratch[CLNET_WG];
    const int lane = get_local_id(0), lanes = get_local_size(0), row = get_global_id(1);
    local float *mine = scratch + get_local_id(1) * lanes;
    const int live = row < rows;
    const size_t base = (size_t)(live ? row : 0) * c;
    const float2 st = ln_stats(mine, x + base, c, live, eps);
    for (int j = lane; live && j < c; j += lanes)
        y[base + j] = (x[base + j] - st.x) * st.y * gamma[j] + beta[j];
}

kernel void layer_norm_backward(global const float *x, global const float *dy,
                                global const float *gamma, global float *dx, global float *xg,
                                int rows, int c, float eps, int want_dx, int want_xg)
{
    local float scratch[CLNET_WG];
    const int lane = get_local_id(0), lanes = get_local_size(0), row = get_global_id(1);
    local float *mine = scratch + get_local_id(1) * lanes;
    const int live = row < rows;
    const size_t base = (size_t)(live ? row : 0) * c;
    const float2 st = ln_stats(mine, x + base, c, live, eps);
    float sg = 0.0f, sgx = 0.0f;
    for (int j = lane; live && j < c; j += lanes) {
        const float xh = (x[base + j] - st.x) * st.y, g = dy[base + j] * gamma[j];
        sg += g;
        sgx += g * xh;
        if (want_xg)
            xg[base + j] = dy[base + j] * xh;
    }
    sg = lanes_sum(mine, sg) / c;
    sgx = lanes_sum(mine, sgx) / c;
    for (int j = lane; live && want_dx && j < c; j += lanes) {
        const float xh = (x[base + j] - st.x) * st.y;
        dx[base + j] = st.y * (dy[base + j] * gamma[j] - sg - xh * sgx);
    }
}

#else

// (mean, inv) of row xr.
inline float2 ln_stats(const global float *xr, int c, float eps)
{
    VFLOAT vs = (VFLOAT)0.0f;
    int j = 0;
    for (; j + VW <= c; j += VW)
        vs += VLOAD(0, xr + j);
    float s = vsum(vs);
    for (; j < c; ++j)
        s += xr[j];
    const float mean = s / c;
    VFLOAT vq = (VFLOAT)0.0f;
    for (j = 0; j + VW <= c; j += VW) {
        const VFLOAT d = VLOAD(0, xr + j) - mean;
        vq += d * d;
    }
    float q = vsum(vq);
    for (; j < c; ++j)
        q += (xr[j] - mean) * (xr[j] - mean);
    return (float2)(mean, 1.0f / sqrt(q / c + eps));
}

kernel void layer_norm_forward(global const float *x, global float *y, global const float *gamma,
                               global const float *beta, int rows, int c, float eps)
{
    const int row = get_global_id(0);
    if (row >= rows)
        return;
    const size_t base = (size_t)row * c;
    const float2 st = ln_stats(x + base, c, eps);
    int j = 0;
    for (; j + VW <= c; j += VW)
        VSTORE((VLOAD(0, x + base + j) - st.x) * st.y * VLOAD(0, gamma + j) + VLOAD(0, beta + j),
               0, y + base + j);
    for (; j < c; ++j)
        y[base + j] = (x[base + j] - st.x) * st.y * gamma[j] + beta[j];
}

kernel void layer_norm_backward(global const float *x, global const float *dy,
                                global const float *gamma, global float *dx, global float *xg,
                                int rows, int c, float eps, int want_dx, int want_xg)
{
    const int row = get_global_id(0);
    if (row >= rows)
        return;
    const size_t base = (size_t)row * c;
    const global float *xr = x + base, *dr = dy + base;
    const float2 st = ln_stats(xr, c, eps);
    VFLOAT vg = (VFLOAT)0.0f, vgx = (VFLOAT)0.0f;
    int j = 0;
    for (; j + VW <= c; j += VW) {
        const VFLOAT xh = (VLOAD(0, xr + j) - st.x) * st.y, d = VLOAD(0, dr + j);
        const VFLOAT g = d * VLOAD(0, gamma + j);
        vg += g;
        vgx += g * xh;
        if (want_xg)
            VSTORE(d * xh, 0, xg + base + j);
    }
    float sg = vsum(vg), sgx = vsum(vgx);
    for (; j < c; ++j) {
        const float xh = (xr[j] - st.x) * st.y, g = dr[j] * gamma[j];
        sg += g;
        sgx += g * xh;
        if (want_xg)
            xg[base + j] = dr[j] * xh;
    }
    sg /= c;
    sgx /= c;
    if (!want_dx)
        return;
    for (j = 0; j + VW <= c; j += VW) {
        const VFLOAT xh = (VLOAD(0, xr + j) - st.x) * st.y;
        VSTORE(st.y * (VLOAD(0, dr + j) * VLOAD(0, gamma + j) - sg - xh * sgx), 0,
               dx + base + j);
    }
    for (; j < c; ++j)
        dx[base + j] = st.y * (dr[j] * gamma[j] - sg - (xr[j] - st.x) * st.y * sgx);
}

#endif
