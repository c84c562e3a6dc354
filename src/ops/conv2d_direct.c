/* conv2d_direct.c - conv2d's direct algorithm for convolutions with few input channels
 * (conv2d_algo.h): one kernel reads the input in place, with no column matrix, and applies
 * the epilogue as it stores. A 3-channel stem's column rows are a few dozen floats, and
 * copying them (im2col) cost more than the product: MobileNetV2's 224x224 stem 0.47 ms
 * im2col + GEMM on POCL's CPU device, most of it the copy. Forward only: the gradients stay
 * col2im / im2col + GEMM. clnet__conv2d_pick chooses it for few input channels and short
 * column rows (DIRECT_MAX_CIN, DIRECT_MAX_K). Kernels: cl/conv2d_direct.cl. Tests:
 * tests/ops/test_conv2d_direct.c. */
#include "ops/conv2d_algo.h"

#define PROG "conv2d_direct"

clnet_status clnet__conv2d_direct(clnet_context *ctx, const clnet__conv_geom *g, cl_mem x, cl_mem w,
                                  cl_mem bias, cl_mem res, clnet__act act, cl_mem y, int ldy,
                                  int y_off, cl_mem pre)
{
    /* Unread buffers stand in for the absent ones (the flags say which are read). */
    const clnet_arg args[] = {CLNET_ARG_MEM(x),
                              CLNET_ARG_MEM(w),
                              CLNET_ARG_MEM(bias ? bias : w),
                              CLNET_ARG_MEM(res ? res : x),
                              CLNET_ARG_MEM(y),
                              CLNET_ARG_MEM(pre ? pre : y),
                              CLNET_ARG_INT(ldy),
                              CLNET_ARG_INT(y_off),
                              CLNET_ARG_INT(g->batch),
                              CLNET_ARG_INT(g->in_h),
                              CLNET_ARG_INT(g->in_w),
                              CLNET_ARG_INT(g->cin),
                              CLNET_ARG_INT(g->out_h),
                              CLNET_ARG_INT(g->out_w),
                              CLNET_ARG_INT(g->cout),
                              CLNET_ARG_INT(g->kh),
                              CLNET_ARG_INT(g->kw),
                              CLNET_ARG_INT(g->sh),
                              CLNET_ARG_INT(g->sw),
                              CLNET_ARG_INT(g->pad_t),
                              CLNET_ARG_INT(g->pad_l),
                              CLNET_ARG_INT(bias != NULL),
                              CLNET_ARG_INT(res != NULL),
                              CLNET_ARG_INT(pre != NULL),
                              CLNET_ARG_INT(act.id),
                              CLNET_ARG_FLOAT(act.alpha)};
    const size_t global[3] = {((size_t)g->cout + 31) / 32, ((size_t)g->out_w + 7) / 8,
                              (size_t)g->batch * g->out_h};
    return clnet__launch(ctx, PROG, "conv2d_direct_forward", args, (int)CLNET_COUNTOF(args), 3,
                         global);
}
