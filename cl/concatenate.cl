// concatenate.cl - kernels for src/ops/concatenate.c (and channel_slice.c): a block of
// channels moved between NHWC tensors of the same pixels, viewed as [pixels][channels].
// x holds cin channels; they are channels [offset, offset + cin) of y's cout. x itself is
// channels [x_off, x_off + cin) of pixels x_stride floats apart (x_stride = cin, x_off = 0:
// packed; wider: a channel_slice written in place into a concatenation's buffer).
// concatenate_forward:  y[p][offset + j] = x[p][j] (one launch per input; the other
//                       channels of y are left alone).
// concatenate_backward: dx[p][j] = dy[p][offset + j] (also channel_slice's forward).
//   GPU: one work-item per element of x, global (cin, pixels): channels fastest, so
//        neighbouring work-items touch neighbouring floats.
//   CPU: one work-item per run of `run` pixels, global (ceil(pixels / run)), each pixel's
//        channels VW at a time with a scalar tail (vcopy).

inline void copy_block(global const float *src, int src_c, int src_off, global float *dst,
                       int dst_c, int dst_off, int pixels, int n, int run)
{
#if CLNET_GPU
    const int j = get_global_id(0), p = get_global_id(1);
    if (j >= n || p >= pixels)
        return; // global size is rounded up to the work-group size
    dst[(size_t)p * dst_c + dst_off + j] = src[(size_t)p * src_c + src_off + j];
#else
    const int p0 = get_global_id(0) * run, p1 = min(p0 + run, pixels);
    for (int p = p0; p < p1; ++p)
        vcopy(src + (size_t)p * src_c + src_off, dst + (size_t)p * dst_c + dst_off, n);
#endif
}

kernel void concatenate_forward(global const float *x, global float *y, int pixels, int cin,
                                int cout, int offset, int x_stride, int x_off, int run)
{
    copy_block(x, x_stride, x_off, y, cout, offset, pixels, cin, run);
}

kernel void concatenate_backward(global const float *dy, global float *dx, int pixels, int cin,
                                 int cout, int offset, int x_stride, int x_off, int run)
{
    copy_block(dy, cout, offset, dx, x_stride, x_off, pixels, cin, run);
}
