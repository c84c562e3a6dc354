/* onnx_view.h - ONNX tensors of any rank viewed as [N, C, 1, 1], the same buffer as
 * clnet's {N, 1, 1, C}: how tests/io/test_onnx_nodes.c runs the node tests of elementwise
 * ops whose rank clnet has no layout for. */
#ifndef CLNET_TESTS_ONNX_VIEW_H
#define CLNET_TESTS_ONNX_VIEW_H

#include <stdint.h>

#include "io/onnx.h"
#include "onnx/onnx.pb-c.h"

/* The [N, C, 1, 1] view of dims (rank > 0) into view[0..4): N is dim 0 (1 for rank 1), C
 * the product of the rest. */
void clnet_test_onnx_view(const int64_t *dims, int rank, int64_t *view);
/* A fixed dim of a declared shape, malloc'd as protobuf-c's free_unpacked frees it. */
Onnx__TensorShapeProto__Dimension *clnet_test_onnx_dim(int64_t value);
/* The declared shape of v made dims[0..4). */
void clnet_test_onnx_declare(Onnx__ValueInfoProto *v, const int64_t *dims);
/* Initializer c, whose values are v, laid on the view of x (the graph input's value):
 * one value stays as it is; dims equal to x's take x's view (the same buffer); any other
 * broadcast is written out over x's dims, as [1, C, 1, 1] float32 when it is the same for
 * every n (it has no dim 0 of its own), else as [N, C, 1, 1]. Returns the initializer to
 * keep: c, or c freed and a new one of c's name. */
Onnx__TensorProto *clnet_test_onnx_view_constant(Onnx__TensorProto *c, const clnet__onnx_tensor *v,
                                                 const clnet__onnx_tensor *x);

#endif
