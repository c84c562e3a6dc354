// softmax_cross_entropy.cl - kernels for src/ops/softmax_cross_entropy.c.
// x (logits) and t (targets) are NHWC seen as rows x c (rows = n * h * w, classes
// contiguous); t' = t * keep + spread (label smoothing: keep = 1 - ls, spread = ls / c).
// Per row, with m the row max, s = sum exp(x - m) (stable for any logits) and the row's
// weight u = sw[row] when weighted (per-sample weights: Keras's class_weight), else 1:
//   loss_row = u * sum_j t'_j * (log(s) - (x_j - m))       (= -u sum t' log softmax(x))
//   dx_j     = g * (exp(x_j - m) / s - t'_j), g = u * dout[0] / rows
// softmax_cross_entropy_forward writes loss_row / rows into partial[row]; the host then
// sums partial in a fixed order (clnet__reduce_rows, cl/reduce.cl): sum u * loss / rows,
// Keras's "sum_over_batch_size". Unweighted, sw is any buffer and is never read.
//   GPU: row kernels use local size (L, R): L lanes per row (a power of two), R rows per
//        group, global (L, rows rounded up); lanes stride the row, then a local-memory
//        tree (lanes_sum_exp / lanes_sum, common.cl). Rows past the end join the barriers
//        only.
//   CPU: a work-item per row looping c in VW-wide (float16) steps with a scalar tail
//        (row_sum_exp, common.cl).
// softmax_cross_entropy_sparse is the training plan's loss step (src/train/loss.c): the
// targets are integer labels (one-hot, smoothed), the row weight u = cw[label] (Keras's
// class_weight) when weighted, and one pass writes both the gradient dx of the mean loss
// and per row, into partial[2 * row], u * loss_row / denom and whether the first largest
// logit is the label (1.0 or 0.0), for one fixed-order sum of both (clnet__reduce_rows).
// denom is rows, or with data parallelism the global batch's images, so that the ranks'
// gradients and losses add up to the global batch's mean (src/train/dist.c).

#define TARGET(v) ((v) * keep + spread)
#define ROW_WEIGHT(row) (weighted ? sw[row] : 1.0f)

#if CLNET_GPU

// The GPU row kernels' common start: this row's lanes, scratch and offset.
#define ROW_SETUP                                                                          \
    local float scratch[CLNET_WG];                                                         \
    const int lane = get_local_id(0), lanes = get_local_size(0);                           \
    const int row = get_global_id(1), live = row < rows;                                   \
    local float *mine = scratch + get_local_id(1) * lanes;                                 \
    const size_t base = (size_t)(live ? row : 0) * c;                                      \
    float m;                                                                               \
    const float s = lanes_sum_exp(mine, x + base, c, live, &m);

kernel void softmax_cross_entropy_forward(global const float *x, global const float *t,
                                          global const float *sw, int weighted,
                                          global float *partial, int rows, int c, float keep,
                                          float spread)
{
    ROW_SETUP
    const float log_s = log(s);
    float l = 0.0f;
    for (int j = lane; live && j < c; j += lanes)
        l += TARGET(t[base + j]) * (log_s - (x[base + j] - m));
    l = lanes_sum(mine, l);
    if (live && lane == 0)
        partial[row] = ROW_WEIGHT(row) * l / (float)rows;
}

kernel void softmax_cross_entropy_backward(global const float *x, global const float *t,
                                           global const float *sw, int weighted,
                                           global const float *dout, global float *dx, int rows,
                                           int c, float keep, float spread)
{
    ROW_SETUP
    const float inv = 1.0f / s, g = (live ? ROW_WEIGHT(row) : 0.0f) * dout[0] / (float)rows;
    for (int j = lane; live && j < c; j += lanes)
        dx[base + j] = g * (exp(x[base + j] - m) * inv - TARGET(t[base + j]));
}

kernel void softmax_cross_entropy_sparse(global const float *x, global const int *labels,
                                         global const float *cw, int weighted, global float *dx,
                                         global float *partial, int rows, int c, float keep,
                                         float spread, float denom)
{
    ROW_SETUP
    const int label = live ? labels[row] : 0;
    const float inv = 1.0f / s, u = live && weighted ? cw[label] : 1.0f;
    const float g = u / denom, log_s = log(s);
    float l = 0.0f;
    for (int j = lane; live && j < c; j += lanes) {
        const float t = (j == label ? keep : 0.0f) + spread, z = x[base + j] - m;
        l += t * (log_s - z);
        dx[base + j] = g * (exp(z) * inv - t);
    }
    l = lanes_sum(mine, l);
    if (live && lane == 0) {
        int best = 0;
        for (int j = 1; j < c; ++j)
            best = x[base + j] > x[base + best] ? j : best;
        partial[2 * (size_t)row] = u * l / denom;
        partial[2 * (size_t)row + 1] = best == label ? 1.0f : 0.0f;
    }
}

#else

kernel void softmax_cross_entropy_sparse(global const float *x, global const int *labels,
                                         global const float *cw, int weighted, global float *dx,
                                         global float *partial, int rows, int c, float keep,
                                         float spread, float denom)
{
    const int row = get_global_id(0);
    if (row >= rows)
        return;
    const size_t base = (size_t)row * c;
    const global float *xr = x + base;
    global float *dr = dx + base;
    const int label = labels[row];
    float m;
    const float s = row_sum_exp(xr, c, &m), inv = 1.0f / s, log_s = log(s);
    const float u = weighted ? cw[label] : 1.0f, g = u / denom;
    float l = 0.0f;
    int best = 0;
    for (int j = 0; j < c; ++j) {
        const float t = (j == label ? keep : 0.0f) + spread, z = xr[j] - m;
        l += t * (log_s - z);
        dr[j] = g * (exp(z) * inv - t);
        best = xr[j] > xr[best] ? j : best;
    }
    partial[2 * (size_t)row] = u * l / denom;
    partial[2 * (size_t)row + 1] = best == label ? 1.0f : 0.0f;
}

kernel void softmax_cross_entropy_forward(global const float *x, global const float *t,
                                          global const float *sw, int weighted,
                                          global float *partial, int rows, int c, float keep,
                                          float spread)
{
    const int row = get_global_id(0);
    if (row >= rows)
        return;
    const global float *xr = x + (size_t)row * c, *tr = t + (size_t)row * c;
    float m;
    const float log_s = log(row_sum_exp(xr, c, &m));
    VFLOAT vl = (VFLOAT)0.0f;
    int j = 0;
    for (; j + VW <= c; j += VW)
        vl += TARGET(VLOAD(0, tr + j)) * (log_s - (VLOAD(0, xr + j) - m));
    float l = vsum(vl);
    for (; j < c; ++j)
        l += TARGET(tr[j]) * (log_s - (xr[j] - m));
    partial[row] = ROW_WEIGHT(row) * l / (float)rows;
}

kernel void softmax_cross_entropy_backward(global const float *x, global const float *t,
                                           global const float *sw, int weighted,
                                           global const float *dout, global float *dx, int rows,
                                           int c, float keep, float spread)
{
    const int row = get_global_id(0);
    if (row >= rows)
        return;
    const size_t base = (size_t)row * c;
    const global float *xr = x + base, *tr = t + base;
    global float *dr = dx + base;
    float m;
    const float inv = 1.0f / row_sum_exp(xr, c, &m), g = ROW_WEIGHT(row) * dout[0] / (float)rows;
    int j = 0;
    for (; j + VW <= c; j += VW)
        VSTORE(g * (exp(VLOAD(0, xr + j) - m) * inv - TARGET(VLOAD(0, tr + j))), 0, dr + j);
    for (; j < c; ++j)
        dr[j] = g * (exp(xr[j] - m) * inv - TARGET(tr[j]));
}

#endif
