// channel_pad.cl - kernels for src/ops/channel_pad.c (the option-A ResNet shortcut).
// NHWC: x, dx {batch, in_h, in_w, cin}; y, dy {batch, out_h, out_w, cout} with
// out = ceil(in / stride). y(n, oy, ox, co) = x(n, oy * stride, ox * stride, co - before)
// for co - before in [0, cin), else 0.
// channel_pad_forward:  that copy, zeros included.
// channel_pad_backward: dx(n, iy, ix, ci) = dy(n, iy / stride, ix / stride, ci + before)
//                       where stride divides iy and ix, else 0 (pixels the shortcut skips).
//   GPU: one work-item per element (of y forward, of dx backward), global (channels, w,
//        batch * h): channels fastest, so neighbouring work-items touch neighbouring floats.
//   CPU: one work-item per pixel row, global (batch * h), channel runs VW at a time with a
//        scalar tail.

kernel void channel_pad_forward(global const float *x, global float *y, int batch, int in_h,
                                int in_w, int cin, int out_h, int out_w, int cout, int stride,
                                int before)
{
#if CLNET_GPU
    const int co = get_global_id(0), ox = get_global_id(1), row = get_global_id(2);
    if (co >= cout || ox >= out_w || row >= batch * out_h)
        return; // global size is rounded up to the work-group size
    const int n = row / out_h, iy = row % out_h * stride, ci = co - before;
    y[((size_t)row * out_w + ox) * cout + co] =
        ci >= 0 && ci < cin
            ? x[(((size_t)n * in_h + iy) * in_w + (size_t)ox * stride) * cin + ci]
            : 0.0f;
#else
    const int row = get_global_id(0);
    if (row >= batch * out_h)
        return;
    const int n = row / out_h, iy = row % out_h * stride;
    for (int ox = 0; ox < out_w; ++ox) {
        global float *yp = y + ((size_t)row * out_w + ox) * cout;
        vzero(yp, before);
        vcopy(x + (((size_t)n * in_h + iy) * in_w + (size_t)ox * stride) * cin, yp + before, cin);
        vzero(yp + before + cin, cout - before - cin);
    }
#endif
}

kernel void channel_pad_backward(global const float *dy, global float *dx, int batch, int in_h,
                                 int in_w, int cin, int out_h, int out_w, int cout, int stride,
                                 int before)
{
#if CLNET_GPU
    const int ci = get_global_id(0), ix = get_global_id(1), row = get_global_id(2);
    if (ci >= cin || ix >= in_w || row >= batch * in_h)
        return;
    const int n = row / in_h, iy = row % in_h;
    dx[((size_t)row * in_w + ix) * cin + ci] =
        iy % stride == 0 && ix % stride == 0
            ? dy[(((size_t)n * out_h + iy / stride) * out_w + ix / stride) * cout + before + ci]
            : 0.0f;
#else
    const int row = get_global_id(0);
    if (row >= batch * in_h)
        return;
    const int n = row / in_h, iy = row % in_h;
    global float *dxr = dx + (size_t)row * in_w * cin;
    if (iy % stride != 0) {
        vzero(dxr, in_w * cin);
        return;
    }
    global const float *dyr = dy + ((size_t)n * out_h + iy / stride) * out_w * cout + before;
    for (int ix = 0; ix < in_w; ++ix) {
        if (ix % stride == 0)
            vcopy(dyr + (size_t)(ix / stride) * cout, dxr + (size_t)ix * cin, cin);
        else
            vzero(dxr + (size_t)ix * cin, cin);
    }
#endif
}
