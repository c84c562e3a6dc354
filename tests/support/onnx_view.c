/* onnx_view.c - see onnx_view.h. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support/onnx_view.h"

void clnet_test_onnx_view(const int64_t *dims, int rank, int64_t *view)
{
    view[0] = rank == 1 ? 1 : dims[0];
    view[1] = 1;
    for (int d = rank == 1 ? 0 : 1; d < rank; ++d)
        view[1] *= dims[d];
    view[2] = view[3] = 1;
}

Onnx__TensorShapeProto__Dimension *clnet_test_onnx_dim(int64_t value)
{
    Onnx__TensorShapeProto__Dimension *d = malloc(sizeof *d);
    cr_assert(d);
    onnx__tensor_shape_proto__dimension__init(d);
    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d->dim_value = value;
    return d;
}

void clnet_test_onnx_declare(Onnx__ValueInfoProto *v, const int64_t *dims)
{
    Onnx__TensorShapeProto *s = v->type->tensor_type->shape;
    if (!s) {
        s = v->type->tensor_type->shape = malloc(sizeof *s);
        cr_assert(s);
        onnx__tensor_shape_proto__init(s);
    }
    for (size_t d = 0; d < s->n_dim; ++d)
        protobuf_c_message_free_unpacked(&s->dim[d]->base, NULL);
    s->dim = realloc(s->dim, 4 * sizeof *s->dim);
    cr_assert(s->dim);
    for (int d = 0; d < 4; ++d)
        s->dim[d] = clnet_test_onnx_dim(dims[d]);
    s->n_dim = 4;
}

Onnx__TensorProto *clnet_test_onnx_view_constant(Onnx__TensorProto *c, const clnet__onnx_tensor *v,
                                                 const clnet__onnx_tensor *x)
{
    int64_t view[4];
    clnet_test_onnx_view(x->dims, x->rank, view);
    /* A constant of higher rank than x makes the output another shape: the test skips. */
    if (v->count == 1 || v->rank > x->rank)
        return c;
    if (v->rank == x->rank && !memcmp(v->dims, x->dims, (size_t)v->rank * sizeof *v->dims)) {
        c->dims = realloc(c->dims, 4 * sizeof *c->dims);
        cr_assert(c->dims);
        memcpy(c->dims, view, sizeof view);
        c->n_dims = 4;
        return c;
    }
    const int per_n = v->rank == x->rank && v->dims[0] != 1;
    const int64_t count = (per_n ? view[0] : 1) * view[1];
    float *data = malloc((size_t)count * sizeof *data);
    int64_t *dims = malloc(4 * sizeof *dims);
    cr_assert(data && dims);
    for (int64_t j = 0; j < count; ++j) {
        /* j is a flat index into x: its coordinates, right-aligned against v's dims. */
        int64_t rest = j, at = 0, stride = 1;
        for (int e = x->rank - 1; e >= 0; --e) {
            const int64_t i = rest % x->dims[e], ve = e - (x->rank - v->rank);
            rest /= x->dims[e];
            if (ve >= 0) {
                at += v->dims[ve] == 1 ? 0 : i * stride;
                stride *= v->dims[ve];
            }
        }
        data[j] = v->data[at];
    }
    memcpy(dims, view, sizeof view);
    dims[0] = per_n ? view[0] : 1;
    Onnx__TensorProto *w = malloc(sizeof *w);
    cr_assert(w);
    onnx__tensor_proto__init(w);
    w->name = c->name; /* taken */
    c->name = NULL;
    w->has_data_type = 1;
    w->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    w->n_dims = 4;
    w->dims = dims;
    w->n_float_data = (size_t)count;
    w->float_data = data;
    onnx__tensor_proto__free_unpacked(c, NULL);
    return w;
}
