// zero_pad.cl - kernels for src/ops/zero_pad.c (Keras ZeroPadding2D).
// NHWC: x, dx {batch, in_h, in_w, c}; y, dy {batch, in_h + top + bottom,
// in_w + left + right, c}. Both directions are one shifted copy, dst(y, x) = src(y - top,
// x - left) or 0 outside src: forward pads x into y; backward crops dy into dx (src dy,
// dst dx, top and left negated).
//   GPU: one work-item per dst element, global (c, dst_w, batch * dst_h): channels
//        fastest, so neighbouring work-items read and write neighbouring floats.
//   CPU: one work-item per dst row, global (batch * dst_h): a row is zeros, a contiguous
//        run of src_w * c floats, zeros, each VW at a time with a scalar tail.

inline void shifted_copy(global const float *src, global float *dst, int batch, int src_h,
                         int src_w, int c, int dst_h, int dst_w, int top, int left)
{
#if CLNET_GPU
    const int ch = get_global_id(0), x = get_global_id(1), row = get_global_id(2);
    if (ch >= c || x >= dst_w || row >= batch * dst_h)
        return; // global size is rounded up to the work-group size
    const int n = row / dst_h, sy = row % dst_h - top, sx = x - left;
    const int inside = sy >= 0 && sy < src_h && sx >= 0 && sx < src_w;
    dst[((size_t)row * dst_w + x) * c + ch] =
        inside ? src[(((size_t)n * src_h + sy) * src_w + sx) * c + ch] : 0.0f;
#else
    const int row = get_global_id(0);
    if (row >= batch * dst_h)
        return;
    const int n = row / dst_h, sy = row % dst_h - top;
    global float *d = dst + (size_t)row * dst_w * c;
    if (sy < 0 || sy >= src_h) {
        vzero(d, dst_w * c);
        return;
    }
    // Columns [x0, x1) of the dst row come from src columns [x0 - left, x1 - left).
    const int x0 = max(left, 0), x1 = min(src_w + left, dst_w);
    vzero(d, x0 * c);
    vcopy(src + (((size_t)n * src_h + sy) * src_w + (x0 - left)) * c, d + (size_t)x0 * c,
          (x1 - x0) * c);
    vzero(d + (size_t)x1 * c, (dst_w - x1) * c);
#endif
}

kernel void zero_pad_forward(global const float *x, global float *y, int batch, int in_h,
                             int in_w, int c, int out_h, int out_w, int top, int left)
{
    shifted_copy(x, y, batch, in_h, in_w, c, out_h, out_w, top, left);
}

kernel void zero_pad_backward(global const float *dy, global float *dx, int batch, int in_h,
                              int in_w, int c, int out_h, int out_w, int top, int left)
{
    shifted_copy(dy, dx, batch, out_h, out_w, c, in_h, in_w, -top, -left);
}
