// batch_norm.cl - kernels for src/ops/batch_norm.c (Keras BatchNormalization).
// x, y, dy, dx are NHWC seen as rows x c (rows = n * h * w, channels contiguous);
// gamma, beta, mean, stat and the moving statistics are vectors of c. `stat` is invstd,
// or a variance when is_var (the moving one, in inference): inv = 1 / sqrt(stat + eps).
// dpre = act_backward(dy, y): the activation mask comes from the saved output y.
//
// Statistics and parameter gradients: two stages in a fixed order, no atomics.
// batch_norm_reduce sums per channel over block b's rows [b * rpb, min((b + 1) * rpb, rows)):
// mode BN_MEAN x, BN_VAR (x - mean)^2, BN_GRAD dpre (into k = 0) and dpre * xhat (k = 1);
// partial[(k * blocks + b) * c + ch].
//   GPU: a work-group of RED_CT channels x RED_RT row lanes (a power of two) per block,
//        global (c rounded up, RED_RT * blocks); lanes stride the rows (neighbouring
//        work-items read neighbouring channels), then a local-memory tree over the lanes.
//   CPU: a work-item per (CLNET_CVEC channels, block), global (ceil(c / CVEC), blocks),
//        looping the rows with VW-wide loads, scalar channel tail.
// batch_norm_mean, _variance, _grad_sums: a work-item per channel adds the blocks in order.
// batch_norm_forward (y = act(gamma * (x - mean) * inv + beta)) and batch_norm_backward (dx):
//   GPU: ELEMENTWISE over rows * c (CLNET_CHUNK elements per work-item, channel i % c).
//   CPU: a work-item owns rows [g * run, (g + 1) * run); channel vectors outer (the
//        per-channel factors are loaded once), rows inner; scalar channel tail.
#ifndef RED_CT
#define RED_CT 16
#endif
#ifndef RED_RT
#define RED_RT 4
#endif

#define BN_MEAN 0
#define BN_VAR 1
#define BN_GRAD 2

inline float bn_inv(global const float *stat, int ch, int is_var, float eps)
{
    return is_var ? 1.0f / sqrt(stat[ch] + eps) : stat[ch];
}

inline VFLOAT bn_inv_v(global const float *stat, int ch, int is_var, float eps)
{
    const VFLOAT s = VLOAD(0, stat + ch);
    return is_var ? (VFLOAT)1.0f / sqrt(s + (VFLOAT)eps) : s;
}

#define LOAD_S(p, i) ((p)[i])
#define LOAD_V(p, i) VLOAD(0, (p) + (i))

// What the activation's backward reads at element i: the output y, or where the activation
// table says so (from_pre) the pre-activation gamma * xhat + beta, recomputed as the forward
// computed it (cheaper than keeping it). g, bt, m, inv: the channel's factors, LD a loader.
#define BN_ACT_V(LD, i, g, bt, m, inv) (from_pre ? (g) * (LD(x, i) - (m)) * (inv) + (bt) : LD(y, i))

// Adds row r's terms for the channel(s) from ch to a (and b), given m, inv, g and bt of the
// same width. LD loads that width; ACT_BACK is act_backward or act_backward_v.
#define BN_ROW_TERMS(LD, ACT_BACK)                                                                 \
    {                                                                                              \
        const size_t i_ = (size_t)r * c + ch;                                                      \
        if (mode == BN_MEAN) {                                                                     \
            a += LD(x, i_);                                                                        \
        } else if (mode == BN_VAR) {                                                               \
            a += (LD(x, i_) - m) * (LD(x, i_) - m);                                                \
        } else {                                                                                   \
            a += ACT_BACK(LD(dy, i_), BN_ACT_V(LD, i_, g, bt, m, inv), act, alpha);                \
            b += ACT_BACK(LD(dy, i_), BN_ACT_V(LD, i_, g, bt, m, inv), act, alpha) *               \
                 (LD(x, i_) - m) * inv;                                                            \
        }                                                                                          \
    }

kernel void batch_norm_reduce(global const float *x, global const float *dy, global const float *y,
                              global const float *gamma, global const float *beta,
                              global const float *mean, global const float *stat, int is_var,
                              float eps, int act, float alpha, int from_pre, int rows, int c,
                              int rpb, int blocks, int mode, global float *partial)
{
#if CLNET_GPU
    local float part_a[RED_RT][RED_CT], part_b[RED_RT][RED_CT];
    const int ch = get_global_id(0), lc = get_local_id(0), lane = get_local_id(1);
    const int blk = get_group_id(1);
    float a = 0.0f, b = 0.0f;
    if (ch < c) {
        const float m = mode != BN_MEAN ? mean[ch] : 0.0f;
        const float inv = mode == BN_GRAD ? bn_inv(stat, ch, is_var, eps) : 0.0f;
        const float g = mode == BN_GRAD ? gamma[ch] : 0.0f, bt = mode == BN_GRAD ? beta[ch] : 0.0f;
        const int r1 = min((blk + 1) * rpb, rows);
        for (int r = blk * rpb + lane; r < r1; r += RED_RT)
            BN_ROW_TERMS(LOAD_S, act_backward)
    }
    part_a[lane][lc] = a;
    part_b[lane][lc] = b;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_RT / 2; s > 0; s >>= 1) {
        if (lane < s) {
            part_a[lane][lc] += part_a[lane + s][lc];
            part_b[lane][lc] += part_b[lane + s][lc];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && ch < c) {
        partial[(size_t)blk * c + ch] = part_a[0][lc];
        if (mode == BN_GRAD)
            partial[((size_t)blocks + blk) * c + ch] = part_b[0][lc];
    }
#else
    const int blk = get_global_id(1);
    if (blk >= blocks)
        return; // past the last block: global size is rounded up to the work-group size
    const int c0 = get_global_id(0) * CLNET_CVEC, c1 = min(c0 + CLNET_CVEC, c);
    const int r0 = blk * rpb, r1 = min(r0 + rpb, rows);
    global float *out_a = partial + (size_t)blk * c, *out_b = partial + ((size_t)blocks + blk) * c;
    int ch = c0;
    for (; ch + VW <= c1; ch += VW) {
        const VFLOAT m = mode != BN_MEAN ? VLOAD(0, mean + ch) : (VFLOAT)0.0f;
        const VFLOAT inv = mode == BN_GRAD ? bn_inv_v(stat, ch, is_var, eps) : (VFLOAT)0.0f;
        const VFLOAT g = mode == BN_GRAD ? VLOAD(0, gamma + ch) : (VFLOAT)0.0f;
        const VFLOAT bt = mode == BN_GRAD ? VLOAD(0, beta + ch) : (VFLOAT)0.0f;
        VFLOAT a = (VFLOAT)0.0f, b = (VFLOAT)0.0f;
        for (int r = r0; r < r1; ++r)
            BN_ROW_TERMS(LOAD_V, act_backward_v)
        VSTORE(a, 0, out_a + ch);
        if (mode == BN_GRAD)
            VSTORE(b, 0, out_b + ch);
    }
    for (; ch < c1; ++ch) {
        const float m = mode != BN_MEAN ? mean[ch] : 0.0f;
        const float inv = mode == BN_GRAD ? bn_inv(stat, ch, is_var, eps) : 0.0f;
        const float g = mode == BN_GRAD ? gamma[ch] : 0.0f, bt = mode == BN_GRAD ? beta[ch] : 0.0f;
        float a = 0.0f, b = 0.0f;
        for (int r = r0; r < r1; ++r)
            BN_ROW_TERMS(LOAD_S, act_backward)
        out_a[ch] = a;
        if (mode == BN_GRAD)
            out_b[ch] = b;
    }
#endif
}

// Stage 2: sum over the blocks, in order, of partial set k for channel ch.
inline float bn_blocks_sum(global const float *partial, int k, int blocks, int c, int ch)
{
    float s = 0.0f;
    for (int b = 0; b < blocks; ++b)
        s += partial[((size_t)k * blocks + b) * c + ch];
    return s;
}

kernel void batch_norm_mean(global const float *partial, global float *mean, int blocks, int c,
                            int rows)
{
    const int ch = get_global_id(0);
    if (ch < c)
        mean[ch] = bn_blocks_sum(partial, 0, blocks, c, ch) / (float)rows;
}

// invstd from the biased variance; the moving statistics move towards the batch's,
// the variance scaled by rows / (rows - 1) when unbiased (PyTorch's convention).
kernel void batch_norm_variance(global const float *partial, global const float *mean,
                                global float *invstd, global float *moving_mean,
                                global float *moving_var, int blocks, int c, int rows, float eps,
                                float momentum, int unbiased)
{
    const int ch = get_global_id(0);
    if (ch >= c)
        return;
    const float var = bn_blocks_sum(partial, 0, blocks, c, ch) / (float)rows;
    const float unb = unbiased && rows > 1 ? (float)rows / (float)(rows - 1) : 1.0f;
    invstd[ch] = 1.0f / sqrt(var + eps);
    moving_mean[ch] = momentum * moving_mean[ch] + (1.0f - momentum) * mean[ch];
    moving_var[ch] = momentum * moving_var[ch] + (1.0f - momentum) * var * unb;
}

// sums[ch] = dgamma = sum dpre * xhat, sums[c + ch] = dbeta = sum dpre (weight order).
kernel void batch_norm_grad_sums(global const float *partial, global float *sums, int blocks, int c)
{
    const int ch = get_global_id(0);
    if (ch >= c)
        return;
    sums[ch] = bn_blocks_sum(partial, 1, blocks, c, ch);
    sums[c + ch] = bn_blocks_sum(partial, 0, blocks, c, ch);
}

#define BN_FWD_S(i)                                                                                \
    {                                                                                              \
        const int ch_ = (i) % c;                                                                   \
        const float inv_ = bn_inv(stat, ch_, is_var, eps);                                         \
        y[i] = act_forward(gamma[ch_] * (x[i] - mean[ch_]) * inv_ + beta[ch_], act, alpha);        \
    }
#define BN_FWD_V(i) for (int k_ = 0; k_ < VW; ++k_) BN_FWD_S((i) + k_)

kernel void batch_norm_forward(global const float *x, global float *y, global const float *gamma,
                               global const float *beta, global const float *mean,
                               global const float *stat, int is_var, float eps, int act,
                               float alpha, int rows, int c, int run)
{
#if CLNET_GPU
    ELEMENTWISE(rows * c, BN_FWD_V, BN_FWD_S)
#else
    const int r0 = get_global_id(0) * run, r1 = min(r0 + run, rows);
    int ch = 0;
    for (; ch + VW <= c; ch += VW) {
        const VFLOAT g = VLOAD(0, gamma + ch), bt = VLOAD(0, beta + ch), m = VLOAD(0, mean + ch);
        const VFLOAT inv = bn_inv_v(stat, ch, is_var, eps);
        for (int r = r0; r < r1; ++r) {
            const size_t i = (size_t)r * c + ch;
            VSTORE(act_forward_v(g * (VLOAD(0, x + i) - m) * inv + bt, act, alpha), 0, y + i);
        }
    }
    for (; ch < c; ++ch)
        for (int r = r0; r < r1; ++r)
            BN_FWD_S((size_t)r * c + ch)
#endif
}

// Training: dx = gamma * inv / M * (M * dpre - dbeta - xhat * dgamma) with M = rows;
// inference (frozen statistics): dx = dpre * gamma * inv.
#define BN_BACK_S(i)                                                                               \
    {                                                                                              \
        const int ch_ = (i) % c;                                                                   \
        const float inv_ = bn_inv(stat, ch_, is_var, eps);                                         \
        const float g_ = act_backward(                                                             \
            dy[i], BN_ACT_V(LOAD_S, i, gamma[ch_], beta[ch_], mean[ch_], inv_), act, alpha);       \
        const float xhat_ = (x[i] - mean[ch_]) * inv_;                                             \
        dx[i] = training ? gamma[ch_] * inv_ / mf * (mf * g_ - sums[c + ch_] - xhat_ * sums[ch_])  \
                         : g_ * gamma[ch_] * inv_;                                                 \
    }
#define BN_BACK_V(i) for (int k_ = 0; k_ < VW; ++k_) BN_BACK_S((i) + k_)

kernel void batch_norm_backward(global const float *x, global const float *dy,
                                global const float *y, global const float *gamma,
                                global const float *beta, global const float *mean,
                                global const float *stat, global const float *sums, int is_var,
                                float eps, int act, float alpha, int from_pre, int rows, int c,
                                int training, int run, global float *dx)
{
    const float mf = (float)rows;
#if CLNET_GPU
    ELEMENTWISE(rows * c, BN_BACK_V, BN_BACK_S)
#else
    const int r0 = get_global_id(0) * run, r1 = min(r0 + run, rows);
    int ch = 0;
    for (; ch + VW <= c; ch += VW) {
        const VFLOAT m = VLOAD(0, mean + ch), inv = bn_inv_v(stat, ch, is_var, eps);
        const VFLOAT gm = VLOAD(0, gamma + ch), bt = VLOAD(0, beta + ch), k = gm * inv;
        const VFLOAT dgamma = training ? VLOAD(0, sums + ch) : (VFLOAT)0.0f;
        const VFLOAT dbeta = training ? VLOAD(0, sums + c + ch) : (VFLOAT)0.0f;
        for (int r = r0; r < r1; ++r) {
            const size_t i = (size_t)r * c + ch;
            const VFLOAT g = act_backward_v(VLOAD(0, dy + i), BN_ACT_V(LOAD_V, i, gm, bt, m, inv),
                                            act, alpha);
            const VFLOAT xhat = (VLOAD(0, x + i) - m) * inv;
            VSTORE(training ? k / mf * (mf * g - dbeta - xhat * dgamma) : g * k, 0, dx + i);
        }
    }
    for (; ch < c; ++ch)
        for (int r = r0; r < r1; ++r)
            BN_BACK_S((size_t)r * c + ch)
#endif
}
