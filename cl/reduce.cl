// reduce.cl - kernels for src/ops/reduce.c: column sums of a row-major matrix
// x[rows][cols] starting x_off floats into its buffer, out[c] = sum over r of
// x[r * cols + c], in a fixed order (no atomics), in two stages.
//
// reduce_rows_partial: block b sums rows [b * rpb, min((b + 1) * rpb, rows)) of every
//   column into dst[dst_off + b * cols + c] (the partials; the output itself when there
//   is one block).
//   GPU: a work-group of RED_CT columns x RED_RT row lanes (a power of two) per block,
//        global (cols rounded up to RED_CT, RED_RT * blocks); neighbouring work-items read
//        neighbouring columns (coalesced); lane l sums rows l, l + RED_RT, ... of the
//        block, then a local-memory tree over the lanes.
//   CPU: a work-item per (CLNET_CVEC contiguous columns, block), global
//        (ceil(cols / CVEC), blocks), looping the block's rows with VW-wide loads (float16
//        on CPUs); a scalar tail when cols is not a multiple of VW.
// reduce_rows_sum: out[out_off + c] = partial[c] + partial[cols + c] + ... (blocks in order).
//   GPU: a work-item per column. CPU: a work-item per CLNET_CVEC columns, VW-wide.
#ifndef RED_CT
#define RED_CT 16
#endif
#ifndef RED_RT
#define RED_RT 4
#endif

kernel void reduce_rows_partial(global const float *x, int x_off, int rows, int cols, int rpb,
                                global float *dst, int dst_off)
{
#if CLNET_GPU
    const int blk = get_group_id(1);
#else
    const int blk = get_global_id(1);
#endif
    const int r0 = blk * rpb, r1 = min(r0 + rpb, rows);
    x += x_off;
    dst += dst_off + (size_t)blk * cols;
#if CLNET_GPU
    local float part[RED_RT][RED_CT];
    const int c = get_global_id(0), lc = get_local_id(0), lane = get_local_id(1);
    float acc = 0.0f;
    if (c < cols)
        for (int r = r0 + lane; r < r1; r += RED_RT)
            acc += x[(size_t)r * cols + c];
    part[lane][lc] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_RT / 2; s > 0; s >>= 1) {
        if (lane < s)
            part[lane][lc] += part[lane + s][lc];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && c < cols)
        dst[c] = part[0][lc];
#else
    if (r0 >= rows)
        return; // past the last block (rows >= 1): global size rounded up to the work-group size
    const int c0 = get_global_id(0) * CLNET_CVEC, c1 = min(c0 + CLNET_CVEC, cols);
    int c = c0;
    for (; c + VW <= c1; c += VW) {
        VFLOAT acc = (VFLOAT)0.0f;
        for (int r = r0; r < r1; ++r)
            acc += VLOAD(0, x + (size_t)r * cols + c);
        VSTORE(acc, 0, dst + c);
    }
    for (; c < c1; ++c) {
        float acc = 0.0f;
        for (int r = r0; r < r1; ++r)
            acc += x[(size_t)r * cols + c];
        dst[c] = acc;
    }
#endif
}

kernel void reduce_rows_sum(global const float *partial, int blocks, int cols,
                            global float *out, int out_off)
{
    out += out_off;
#if CLNET_GPU
    const int c = get_global_id(0);
    if (c >= cols)
        return;  // global size is rounded up to the work-group size
    float acc = 0.0f;
    for (int b = 0; b < blocks; ++b)
        acc += partial[(size_t)b * cols + c];
    out[c] = acc;
#else
    const int c0 = get_global_id(0) * CLNET_CVEC, c1 = min(c0 + CLNET_CVEC, cols);
    int c = c0;
    for (; c + VW <= c1; c += VW) {
        VFLOAT acc = (VFLOAT)0.0f;
        for (int b = 0; b < blocks; ++b)
            acc += VLOAD(0, partial + (size_t)b * cols + c);
        VSTORE(acc, 0, out + c);
    }
    for (; c < c1; ++c) {
        float acc = 0.0f;
        for (int b = 0; b < blocks; ++b)
            acc += partial[(size_t)b * cols + c];
        out[c] = acc;
    }
#endif
}
