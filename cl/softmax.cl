// softmax.cl - kernels for src/ops/softmax.c (softmax over the last axis).
// x, y, dy, dx are NHWC seen as rows x c (rows = n * h * w, classes contiguous).
// Forward y = exp(x - max) / sum(exp(x - max)) per row (stable: the row max first);
// backward dx = y * (dy - sum(dy * y)) per row, from the saved output y.
//   GPU: local size (L, R): L lanes per row (a power of two, min(CLNET_WG, c rounded
//        up)), R = CLNET_WG / L rows per work-group; global (L, rows rounded up).
//        Lanes stride the row (neighbouring lanes read neighbouring floats), then a
//        local-memory tree (lanes_sum_exp / lanes_sum, common.cl). Rows past the end still
//        take part in the barriers but touch no memory.
//   CPU: a work-item per row, global (rows), looping c in VW-wide (float16) steps
//        with a scalar tail; no local memory.
// Both orders are fixed, so results repeat exactly.

#if CLNET_GPU

kernel void softmax_forward(global const float *x, global float *y, int rows, int c)
{
    local float scratch[CLNET_WG];
    const int lane = get_local_id(0), lanes = get_local_size(0);
    const int row = get_global_id(1);
    local float *mine = scratch + get_local_id(1) * lanes;
    const int live = row < rows;
    const global float *xr = x + (size_t)(live ? row : 0) * c;
    float m;
    const float inv = 1.0f / lanes_sum_exp(mine, xr, c, live, &m);
    global float *yr = y + (size_t)(live ? row : 0) * c;
    for (int j = lane; live && j < c; j += lanes)
        yr[j] = exp(xr[j] - m) * inv;
}

kernel void softmax_backward(global const float *y, global const float *dy, global float *dx,
                             int rows, int c)
{
    local float scratch[CLNET_WG];
    const int lane = get_local_id(0), lanes = get_local_size(0);
    const int row = get_global_id(1);
    local float *mine = scratch + get_local_id(1) * lanes;
    const int live = row < rows;
    const size_t base = (size_t)(live ? row : 0) * c;
    float s = 0.0f;
    for (int j = lane; live && j < c; j += lanes)
        s += dy[base + j] * y[base + j];
    s = lanes_sum(mine, s);
    for (int j = lane; live && j < c; j += lanes)
        dx[base + j] = y[base + j] * (dy[base + j] - s);
}

#else

kernel void softmax_forward(global const float *x, global float *y, int rows, int c)
{
    const int row = get_global_id(0);
    if (row >= rows)
        return;
    const global float *xr = x + (size_t)row * c;
    global float *yr = y + (size_t)row * c;
    float m;
    const float inv = 1.0f / row_sum_exp(xr, c, &m);
    int j = 0;
    for (; j + VW <= c; j += VW)
        VSTORE(exp(VLOAD(0, xr + j) - m) * inv, 0, yr + j);
    for (; j < c; ++j)
        yr[j] = exp(xr[j] - m) * inv;
}

kernel void softmax_backward(global const float *y, global const float *dy, global float *dx,
                             int rows, int c)
{
    const int row = get_global_id(0);
    if (row >= rows)
        return;
    const size_t base = (size_t)row * c;
    const global float *yr = y + base, *gr = dy + base;
    global float *dr = dx + base;
    VFLOAT vs = (VFLOAT)0.0f;
    int j = 0;
    for (; j + VW <= c; j += VW)
        vs += VLOAD(0, gr + j) * VLOAD(0, yr + j);
    float s = vsum(vs);
    for (; j < c; ++j)
        s += gr[j] * yr[j];
    for (j = 0; j + VW <= c; j += VW)
        VSTORE(VLOAD(0, yr + j) * (VLOAD(0, gr + j) - s), 0, dr + j);
    for (; j < c; ++j)
        dr[j] = yr[j] * (gr[j] - s);
}

#endif
