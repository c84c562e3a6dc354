/* concatenate.h - copies of a block of channels between NHWC tensors of the same pixels,
 * shared by concatenate (concatenate.c) and channel_slice (channel_slice.c).
 * Kernels: cl/concatenate.cl. Tests: tests/ops/test_concatenate.c. */
#ifndef CLNET_OPS_CONCATENATE_H
#define CLNET_OPS_CONCATENATE_H

#include "device/runtime.h"
#include "tensor/tensor.h"

/* part has `s.c` channels and wide the same pixels with `wide_c` channels. into_wide 1:
 * part's channels go to channels [offset, offset + s.c) of every pixel of wide (the rest is
 * left as it is); 0: those channels of wide are copied into part. part's pixels are
 * part_stride floats apart from part_off (0 and 0: packed). Only enqueues. */
clnet_status clnet__channel_block(clnet_context *ctx, int into_wide, cl_mem part, clnet_shape s,
                                  int part_stride, int part_off, cl_mem wide, int wide_c,
                                  int offset);

#endif
