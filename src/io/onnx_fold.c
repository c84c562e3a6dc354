/* onnx_fold.c - nodes over constants run on the host at import, so that the shape
 * chains exporters write (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Slice,
 * Cast, ConstantOfShape, and arithmetic on them) leave nothing for the device. The batch
 * size is unknown at import: Shape gives it as OX_BATCH, which may be moved around
 * (Gather, Concat, Slice...) but not computed with. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_import.h"

/* A new constant of rank and dims (integers or floats), zeroed; -1 when out of memory. */
static int make(ox_const *c, int rank, const int64_t *dims, int is_int)
{
    memset(c, 0, sizeof *c);
    c->rank = rank;
    c->count = 1;
    for (int d = 0; d < rank; ++d) {
        c->dims[d] = dims[d];
        c->count *= dims[d];
    }
    c->is_int = is_int;
    const size_t n = (size_t)(c->count ? c->count : 1);
    if (is_int)
        c->i = calloc(n, sizeof *c->i);
    else
        c->f = calloc(n, sizeof *c->f);
    return (is_int ? (void *)c->i : (void *)c->f) ? 0 : -1;
}

static double get(const ox_const *c, int64_t j)
{
    return c->is_int ? (double)c->i[j] : (double)c->f[j];
}

/* Sets output o of node k to c (taken). */
static int set_out(ox_ctx *x, int k, int o, ox_const *c)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    if ((size_t)o >= n->n_output || !n->output[o][0]) {
        ox_const_free(c);
        return 0;
    }
    const int v = ox_find(x, n->output[o]);
    if (v < 0) {
        ox_const_free(c);
        x->st = CLNET_ERR_OUT_OF_MEMORY;
        return -1;
    }
    ox_const_free(&x->v[v].c);
    x->v[v].c = *c;
    x->v[v].kind = OX_CONST;
    memset(c, 0, sizeof *c);
    return 0;
}

static int oom(ox_ctx *x, ox_const *c)
{
    ox_const_free(c);
    x->st = CLNET_ERR_OUT_OF_MEMORY;
    return -1;
}

/* An axis in [-rank, rank) as [0, rank), or -1. */
static int axis_of(int64_t a, int rank)
{
    if (a < -rank || a >= rank)
        return -1;
    return (int)(a < 0 ? a + rank : a);
}

/* Integer values of an optional constant input (or attribute before opset `since`). */
static int int_list(ox_ctx *x, int k, int input, const char *attr, int since, int64_t *out, int max)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    if (x->opset < since)
        return ox_attr_ints(n, attr, out, max);
    const int v = ox_input(x, n, input);
    if (v < 0)
        return -1;
    const ox_const *c = ox_constant(x, v);
    if (!c || !c->is_int || c->count > max)
        return -2;
    for (int64_t j = 0; j < c->count; ++j)
        out[j] = c->i[j];
    return (int)c->count;
}

static int fold_constant(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    ox_const c;
    const Onnx__AttributeProto *a;
    if ((a = ox_attr(n, "value")) && a->t) {
        const clnet_status st = ox_tensor(a->t, x->dir, n->output[0], &c, x->err, x->len);
        if (st != CLNET_OK)
            return ox_unsupported(x, k, "its value: %s", x->err);
        return set_out(x, k, 0, &c);
    }
    if ((a = ox_attr(n, "value_float")) || (a = ox_attr(n, "value_int"))) {
        const int is_int = !strcmp(a->name, "value_int");
        if (make(&c, 0, NULL, is_int))
            return oom(x, &c);
        if (is_int)
            c.i[0] = a->i;
        else
            c.f[0] = a->f;
        return set_out(x, k, 0, &c);
    }
    if ((a = ox_attr(n, "value_floats")) || (a = ox_attr(n, "value_ints"))) {
        const int is_int = !strcmp(a->name, "value_ints");
        const int64_t len = (int64_t)(is_int ? a->n_ints : a->n_floats);
        if (make(&c, 1, &len, is_int))
            return oom(x, &c);
        for (int64_t j = 0; j < len; ++j)
            if (is_int)
                c.i[j] = a->ints[j];
            else
                c.f[j] = a->floats[j];
        return set_out(x, k, 0, &c);
    }
    return ox_unsupported(x, k, "no value, value_float(s) or value_int(s) attribute");
}

static int fold_shape(ox_ctx *x, int k, int v)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    int64_t dims[CLNET_ONNX_MAX_RANK];
    int rank;
    const ox_const *in = ox_constant(x, v);
    if (in) {
        rank = in->rank;
        memcpy(dims, in->dims, sizeof dims);
    } else {
        rank = ox_act_dims(x, v, dims);
    }
    int64_t start = ox_attr_int(n, "start", 0), end = ox_attr_int(n, "end", rank);
    start = start < 0 ? start + rank : start;
    end = end < 0 ? end + rank : end;
    start = start < 0 ? 0 : start > rank ? rank : start;
    end = end < start ? start : end > rank ? rank : end;
    const int64_t len = end - start;
    ox_const c;
    if (make(&c, 1, &len, 1))
        return oom(x, &c);
    for (int64_t j = 0; j < len; ++j)
        c.i[j] = dims[start + j];
    return set_out(x, k, 0, &c);
}

static int fold_gather(ox_ctx *x, int k, const ox_const *data, const ox_const *idx)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const int axis = axis_of(ox_attr_int(n, "axis", 0), data->rank);
    if (axis < 0 || !idx->is_int || data->rank + idx->rank - 1 > CLNET_ONNX_MAX_RANK)
        return ox_unsupported(x, k, "axis %lld or indices outside the data's rank %d",
                              (long long)ox_attr_int(n, "axis", 0), data->rank);
    int64_t dims[CLNET_ONNX_MAX_RANK];
    int rank = 0;
    for (int d = 0; d < axis; ++d)
        dims[rank++] = data->dims[d];
    for (int d = 0; d < idx->rank; ++d)
        dims[rank++] = idx->dims[d];
    for (int d = axis + 1; d < data->rank; ++d)
        dims[rank++] = data->dims[d];
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d)
        outer *= data->dims[d];
    for (int d = axis + 1; d < data->rank; ++d)
        inner *= data->dims[d];
    const int64_t len = data->dims[axis];
    ox_const c;
    if (make(&c, rank, dims, data->is_int))
        return oom(x, &c);
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < idx->count; ++j) {
            int64_t at = idx->i[j] < 0 ? idx->i[j] + len : idx->i[j];
            if (at < 0 || at >= len) {
                ox_const_free(&c);
                return ox_unsupported(x, k, "index %lld outside [0, %lld)", (long long)idx->i[j],
                                      (long long)len);
            }
            for (int64_t i = 0; i < inner; ++i) {
                const int64_t src = (o * len + at) * inner + i,
                              dst = (o * idx->count + j) * inner + i;
                if (c.is_int)
                    c.i[dst] = data->i[src];
                else
                    c.f[dst] = data->f[src];
            }
        }
    return set_out(x, k, 0, &c);
}

/* A copy of in with new dims (same count). */
static int reshaped(ox_ctx *x, int k, const ox_const *in, int rank, const int64_t *dims)
{
    ox_const c;
    if (make(&c, rank, dims, in->is_int))
        return oom(x, &c);
    if (c.count != in->count) {
        ox_const_free(&c);
        return ox_unsupported(x, k, "%lld values cannot take the new shape's %lld",
                              (long long)in->count, (long long)c.count);
    }
    if (c.is_int)
        memcpy(c.i, in->i, (size_t)c.count * sizeof *c.i);
    else
        memcpy(c.f, in->f, (size_t)c.count * sizeof *c.f);
    return set_out(x, k, 0, &c);
}

static int fold_unsqueeze(ox_ctx *x, int k, const ox_const *in, int squeeze)
{
    int64_t axes[CLNET_ONNX_MAX_RANK], dims[CLNET_ONNX_MAX_RANK];
    const int n_axes = int_list(x, k, 1, "axes", 13, axes, CLNET_ONNX_MAX_RANK);
    if (n_axes < -1 || n_axes > CLNET_ONNX_MAX_RANK)
        return ox_unsupported(x, k, "axes are not a constant list of at most %d",
                              CLNET_ONNX_MAX_RANK);
    int rank = 0;
    if (squeeze) {
        char drop[CLNET_ONNX_MAX_RANK] = {0};
        for (int j = 0; j < n_axes; ++j) {
            const int a = axis_of(axes[j], in->rank);
            if (a < 0 || in->dims[a] != 1)
                return ox_unsupported(x, k, "axis %lld is not a dimension of 1",
                                      (long long)axes[j]);
            drop[a] = 1;
        }
        for (int d = 0; d < in->rank; ++d)
            if (n_axes >= 0 ? !drop[d] : in->dims[d] != 1)
                dims[rank++] = in->dims[d];
        return reshaped(x, k, in, rank, dims);
    }
    rank = in->rank + (n_axes > 0 ? n_axes : 0);
    if (n_axes <= 0 || rank > CLNET_ONNX_MAX_RANK)
        return ox_unsupported(x, k, "needs 1 to %d axes", CLNET_ONNX_MAX_RANK - in->rank);
    char ins[CLNET_ONNX_MAX_RANK] = {0};
    for (int j = 0; j < n_axes; ++j) {
        const int a = axis_of(axes[j], rank);
        if (a < 0 || ins[a])
            return ox_unsupported(x, k, "axis %lld repeated or outside rank %d", (long long)axes[j],
                                  rank);
        ins[a] = 1;
    }
    for (int d = 0, s = 0; d < rank; ++d)
        dims[d] = ins[d] ? 1 : in->dims[s++];
    return reshaped(x, k, in, rank, dims);
}

static int fold_concat(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_const *first = ox_constant(x, ox_input(x, n, 0));
    const int axis = axis_of(ox_attr_int(n, "axis", 0), first->rank);
    if (axis < 0)
        return ox_unsupported(x, k, "axis %lld outside rank %d",
                              (long long)ox_attr_int(n, "axis", 0), first->rank);
    int64_t dims[CLNET_ONNX_MAX_RANK];
    memcpy(dims, first->dims, sizeof dims);
    dims[axis] = 0;
    int is_int = 1;
    for (size_t i = 0; i < n->n_input; ++i) {
        const ox_const *c = ox_constant(x, ox_input(x, n, (int)i));
        if (!c)
            continue;
        is_int &= c->is_int;
        for (int d = 0; d < first->rank; ++d)
            if (c->rank != first->rank || (d != axis && c->dims[d] != first->dims[d]))
                return ox_unsupported(x, k, "inputs of different shapes");
        dims[axis] += c->dims[axis];
    }
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d)
        outer *= dims[d];
    for (int d = axis + 1; d < first->rank; ++d)
        inner *= dims[d];
    ox_const c;
    if (make(&c, first->rank, dims, is_int))
        return oom(x, &c);
    int64_t at = 0;
    for (size_t i = 0; i < n->n_input; ++i) {
        const ox_const *in = ox_constant(x, ox_input(x, n, (int)i));
        if (!in)
            continue;
        const int64_t run = in->dims[axis] * inner;
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t j = 0; j < run; ++j) {
                const int64_t dst = o * dims[axis] * inner + at + j;
                if (is_int)
                    c.i[dst] = in->i[o * run + j];
                else
                    c.f[dst] = (float)get(in, o * run + j);
            }
        at += run;
    }
    return set_out(x, k, 0, &c);
}

/* ONNX's Slice arithmetic for one axis: the first index and the count. */
void ox_slice_range(int64_t len, int64_t start, int64_t end, int64_t step, int64_t *first,
                    int64_t *count)
{
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (step > 0) {
        start = start < 0 ? 0 : start > len ? len : start;
        end = end < 0 ? 0 : end > len ? len : end;
        *count = end > start ? (end - start + step - 1) / step : 0;
    } else {
        start = start < 0 ? -1 : start > len - 1 ? len - 1 : start;
        end = end < -1 ? -1 : end > len - 1 ? len - 1 : end;
        *count = start > end ? (start - end - step - 1) / -step : 0;
    }
    *first = start;
}

static int fold_slice(ox_ctx *x, int k, const ox_const *in)
{
    int64_t starts[CLNET_ONNX_MAX_RANK], ends[CLNET_ONNX_MAX_RANK], axes[CLNET_ONNX_MAX_RANK],
        steps[CLNET_ONNX_MAX_RANK];
    const int ns = int_list(x, k, 1, "starts", 10, starts, CLNET_ONNX_MAX_RANK);
    const int ne = int_list(x, k, 2, "ends", 10, ends, CLNET_ONNX_MAX_RANK);
    int na = int_list(x, k, 3, "axes", 10, axes, CLNET_ONNX_MAX_RANK);
    int nt = x->opset < 10 ? -1 : int_list(x, k, 4, "steps", 10, steps, CLNET_ONNX_MAX_RANK);
    if (ns < 0 || ns != ne || ns > in->rank || na < -1 || (na >= 0 && na != ns) || nt < -1 ||
        (nt >= 0 && nt != ns))
        return ox_unsupported(x, k,
                              "starts, ends, axes and steps are not constant lists of one "
                              "length");
    int64_t first[CLNET_ONNX_MAX_RANK], step[CLNET_ONNX_MAX_RANK], dims[CLNET_ONNX_MAX_RANK];
    for (int d = 0; d < in->rank; ++d) {
        first[d] = 0;
        step[d] = 1;
        dims[d] = in->dims[d];
    }
    for (int j = 0; j < ns; ++j) {
        const int a = axis_of(na >= 0 ? axes[j] : j, in->rank);
        const int64_t s = nt >= 0 ? steps[j] : 1;
        if (a < 0 || s == 0)
            return ox_unsupported(x, k, "axis outside rank %d, or a step of 0", in->rank);
        ox_slice_range(in->dims[a], starts[j], ends[j], s, &first[a], &dims[a]);
        step[a] = s;
    }
    ox_const c;
    if (make(&c, in->rank, dims, in->is_int))
        return oom(x, &c);
    for (int64_t j = 0; j < c.count; ++j) {
        int64_t rest = j, src = 0, stride = 1;
        for (int d = in->rank - 1; d >= 0; --d) {
            const int64_t at = rest % dims[d];
            rest /= dims[d];
            src += (first[d] + at * step[d]) * stride;
            stride *= in->dims[d];
        }
        if (c.is_int)
            c.i[j] = in->i[src];
        else
            c.f[j] = in->f[src];
    }
    return set_out(x, k, 0, &c);
}

/* The target of a Reshape of in (0 copies a dimension unless allowzero, -1 is inferred). */
int ox_reshape_dims(const int64_t *in_dims, int in_rank, int64_t in_count, const ox_const *shape,
                    int allowzero, int64_t *dims)
{
    if (!shape->is_int || shape->rank != 1 || shape->count > CLNET_ONNX_MAX_RANK)
        return -1;
    int infer = -1;
    int64_t known = 1;
    for (int d = 0; d < shape->count; ++d) {
        int64_t v = shape->i[d];
        if (v == 0 && !allowzero) {
            if (d >= in_rank)
                return -1;
            v = in_dims[d];
        }
        if (v == -1) {
            if (infer >= 0)
                return -1;
            infer = d;
            continue;
        }
        if (v < 0 || (v && known > INT64_MAX / v))
            return -1;
        dims[d] = v;
        known *= v;
    }
    if (infer >= 0) {
        if (!known || in_count % known)
            return -1;
        dims[infer] = in_count / known;
    } else if (known != in_count) {
        return -1;
    }
    return (int)shape->count;
}

static int fold_reshape(ox_ctx *x, int k, const ox_const *in, const ox_const *shape)
{
    int64_t dims[CLNET_ONNX_MAX_RANK];
    const int rank = ox_reshape_dims(in->dims, in->rank, in->count, shape,
                                     (int)ox_attr_int(x->graph->node[k], "allowzero", 0), dims);
    if (rank < 0)
        return ox_unsupported(x, k, "the shape does not fit %lld values", (long long)in->count);
    return reshaped(x, k, in, rank, dims);
}

static int fold_transpose(ox_ctx *x, int k, const ox_const *in)
{
    int64_t perm[CLNET_ONNX_MAX_RANK], dims[CLNET_ONNX_MAX_RANK];
    int np = ox_attr_ints(x->graph->node[k], "perm", perm, CLNET_ONNX_MAX_RANK);
    if (np < 0)
        for (np = 0; np < in->rank; ++np)
            perm[np] = in->rank - 1 - np;
    char seen[CLNET_ONNX_MAX_RANK] = {0};
    if (np != in->rank)
        return ox_unsupported(x, k, "perm of %d axes for rank %d", np, in->rank);
    for (int d = 0; d < np; ++d) {
        if (perm[d] < 0 || perm[d] >= np || seen[perm[d]]++)
            return ox_unsupported(x, k, "perm is not a permutation");
        dims[d] = in->dims[perm[d]];
    }
    int64_t stride[CLNET_ONNX_MAX_RANK];
    for (int64_t d = np - 1, s = 1; d >= 0; --d) {
        stride[d] = s;
        s *= in->dims[d];
    }
    ox_const c;
    if (make(&c, np, dims, in->is_int))
        return oom(x, &c);
    for (int64_t j = 0; j < c.count; ++j) {
        int64_t rest = j, src = 0;
        for (int d = np - 1; d >= 0; --d) {
            src += (rest % dims[d]) * stride[perm[d]];
            rest /= dims[d];
        }
        if (c.is_int)
            c.i[j] = in->i[src];
        else
            c.f[j] = in->f[src];
    }
    return set_out(x, k, 0, &c);
}

enum { ADD, SUB, MUL, DIV, POW };

/* Shape arithmetic from a hostile file must not overflow (undefined in C): -1 refuses it. */
static int int_arith(int op, int64_t p, int64_t q, int64_t *out)
{
    switch (op) {
    case ADD:
        return __builtin_add_overflow(p, q, out) ? -1 : 0;
    case SUB:
        return __builtin_sub_overflow(p, q, out) ? -1 : 0;
    case MUL:
        return __builtin_mul_overflow(p, q, out) ? -1 : 0;
    case DIV:
        if (q == 0 || (p == INT64_MIN && q == -1))
            return -1;
        *out = p / q;
        return 0;
    default: /* POW; |p| >= 2 overflows within 63 steps, so the loop is short. */
        if (p == 0 && q < 0)
            return -1;
        if (p == 0 || p == 1 || p == -1 || q <= 0) {
            *out = q == 0 || p == 1 ? 1 : p == -1 ? (q % 2 ? -1 : 1) : 0;
            return 0;
        }
        *out = 1;
        for (int64_t e = 0; e < q; ++e)
            if (__builtin_mul_overflow(*out, p, out))
                return -1;
        return 0;
    }
}

static int fold_binary(ox_ctx *x, int k, int op, const ox_const *a, const ox_const *b)
{
    const int rank = a->rank > b->rank ? a->rank : b->rank;
    int64_t dims[CLNET_ONNX_MAX_RANK], da[CLNET_ONNX_MAX_RANK], db[CLNET_ONNX_MAX_RANK];
    for (int d = 0; d < rank; ++d) {
        da[d] = d < rank - a->rank ? 1 : a->dims[d - (rank - a->rank)];
        db[d] = d < rank - b->rank ? 1 : b->dims[d - (rank - b->rank)];
        if (da[d] != db[d] && da[d] != 1 && db[d] != 1)
            return ox_unsupported(x, k, "shapes that do not broadcast");
        dims[d] = da[d] == 1 ? db[d] : da[d];
    }
    const int is_int = a->is_int && b->is_int;
    ox_const c;
    if (make(&c, rank, dims, is_int))
        return oom(x, &c);
    for (int64_t j = 0; j < c.count; ++j) {
        int64_t rest = j, ia = 0, ib = 0, sa = 1, sb = 1;
        for (int d = rank - 1; d >= 0; --d) {
            const int64_t at = rest % dims[d];
            rest /= dims[d];
            ia += (da[d] == 1 ? 0 : at) * sa;
            ib += (db[d] == 1 ? 0 : at) * sb;
            sa *= da[d];
            sb *= db[d];
        }
        if (is_int) {
            const int64_t p = a->i[ia], q = b->i[ib];
            /* The batch passes through *1, /1 and +0 (exporters write them), nothing else. */
            if (p == OX_BATCH || q == OX_BATCH) {
                const int keeps = p == OX_BATCH ? ((op == MUL || op == DIV) && q == 1) ||
                                                      ((op == ADD || op == SUB) && q == 0)
                                                : (op == MUL && p == 1) || (op == ADD && p == 0);
                if (keeps) {
                    c.i[j] = OX_BATCH;
                    continue;
                }
                ox_const_free(&c);
                return ox_unsupported(x, k,
                                      "arithmetic on the batch size, which clnet leaves "
                                      "free (fix the batch when exporting)");
            }
            if (int_arith(op, p, q, &c.i[j])) {
                ox_const_free(&c);
                return ox_unsupported(x, k,
                                      "integer arithmetic that divides by zero or "
                                      "overflows 64 bits");
            }
        } else {
            const double p = get(a, ia), q = get(b, ib);
            c.f[j] = (float)(op == ADD   ? p + q
                             : op == SUB ? p - q
                             : op == MUL ? p * q
                             : op == DIV ? p / q
                                         : pow(p, q));
        }
    }
    return set_out(x, k, 0, &c);
}

static int fold_unary(ox_ctx *x, int k, const char *type, const ox_const *in)
{
    ox_const c;
    if (make(&c, in->rank, in->dims, in->is_int && strcmp(type, "Sqrt")))
        return oom(x, &c);
    for (int64_t j = 0; j < c.count; ++j) {
        const double v = get(in, j);
        const double r = !strcmp(type, "Neg")     ? -v
                         : !strcmp(type, "Sqrt")  ? sqrt(v)
                         : !strcmp(type, "Floor") ? floor(v)
                         : !strcmp(type, "Ceil")  ? ceil(v)
                                                  : v; /* Identity */
        if (c.is_int)
            c.i[j] = !strcmp(type, "Neg") ? -in->i[j] : in->i[j];
        else
            c.f[j] = (float)r;
    }
    return set_out(x, k, 0, &c);
}

/* v rounded to the nearest (ties to even) number of bits significant bits whose last
 * bit is worth at least 2^min_exp (float16: 11 and -24, bfloat16: 8 and -133), infinite
 * when that is above the type's largest finite value max. */
static float round_to(double v, int bits, int min_exp, double max)
{
    if (!isfinite(v) || v == 0.0)
        return (float)v;
    int e;
    frexp(v, &e);
    const int q = e - bits < min_exp ? min_exp : e - bits;
    const double r = ldexp(nearbyint(ldexp(v, -q)), q);
    return fabs(r) > max ? (v < 0 ? -INFINITY : INFINITY) : (float)r;
}

/* A float outside int64's range is undefined to cast; ONNX leaves it undefined too, so clamp. */
static int64_t float_to_int(float v)
{
    if (v != v)
        return 0;
    if (v >= 9.2233720368547758e18f)
        return INT64_MAX;
    if (v <= -9.2233720368547758e18f)
        return INT64_MIN;
    return (int64_t)v;
}

static int fold_cast(ox_ctx *x, int k, const ox_const *in)
{
    const int64_t to = ox_attr_int(x->graph->node[k], "to", 1);
    const int is_int = !(to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
                         to == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
                         to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ||
                         to == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16);
    ox_const c;
    if (make(&c, in->rank, in->dims, is_int))
        return oom(x, &c);
    for (int64_t j = 0; j < c.count; ++j) {
        /* Constants are kept as float32: a cast to a narrower float rounds to its values. */
        if (to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16)
            c.f[j] = round_to(get(in, j), 11, -24, 65504.0);
        else if (to == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16)
            c.f[j] = round_to(get(in, j), 8, -133, 3.3895313892515355e38);
        else if (!is_int)
            c.f[j] = (float)get(in, j);
        else if (to == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
            c.i[j] = get(in, j) != 0;
        else
            c.i[j] = in->is_int ? in->i[j] : float_to_int(in->f[j]);
    }
    return set_out(x, k, 0, &c);
}

static int fold_constant_of_shape(ox_ctx *x, int k, const ox_const *shape)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    if (!shape->is_int || shape->rank != 1 || shape->count > CLNET_ONNX_MAX_RANK)
        return ox_unsupported(x, k, "the shape is not a list of at most %d integers",
                              CLNET_ONNX_MAX_RANK);
    /* At most 2^24 values, as Range: shape chains fill small tensors, and a fuzzed shape
     * of 2^31 asked for 16 GB of int64s. */
    int64_t count = 1;
    for (int64_t d = 0; d < shape->count; ++d)
        if (shape->i[d] < 0 || (shape->i[d] && count > ((int64_t)1 << 24) / shape->i[d]))
            return ox_unsupported(x, k, "a shape of negative or too many elements");
        else
            count *= shape->i[d];
    ox_const value = {0};
    const Onnx__AttributeProto *a = ox_attr(n, "value");
    if (a && a->t) {
        const clnet_status st = ox_tensor(a->t, NULL, n->output[0], &value, x->err, x->len);
        if (st != CLNET_OK || value.count != 1) {
            ox_const_free(&value);
            return ox_unsupported(x, k, "its value is not one number");
        }
    }
    ox_const c;
    if (make(&c, (int)shape->count, shape->i, !a || value.is_int)) {
        ox_const_free(&value);
        return oom(x, &c);
    }
    for (int64_t j = 0; j < c.count; ++j)
        if (c.is_int)
            c.i[j] = a ? value.i[0] : 0;
        else
            c.f[j] = value.f[0];
    ox_const_free(&value);
    return set_out(x, k, 0, &c);
}

static int fold_range(ox_ctx *x, int k, const ox_const *s, const ox_const *l, const ox_const *d)
{
    if (s->count != 1 || l->count != 1 || d->count != 1 || get(d, 0) == 0)
        return ox_unsupported(x, k, "start, limit and delta are not nonzero scalars");
    const double start = get(s, 0), limit = get(l, 0), delta = get(d, 0);
    const double steps = ceil((limit - start) / delta);
    if (steps > (double)((int64_t)1 << 24))
        return ox_unsupported(x, k, "a range of %.0f values", steps);
    const int64_t len = steps > 0 ? (int64_t)steps : 0;
    ox_const c;
    if (make(&c, 1, &len, s->is_int))
        return oom(x, &c);
    for (int64_t j = 0; j < len; ++j)
        if (c.is_int) {
            int64_t step;
            if (int_arith(MUL, j, d->i[0], &step) || int_arith(ADD, s->i[0], step, &c.i[j])) {
                ox_const_free(&c);
                return ox_unsupported(x, k, "a range that overflows 64 bits");
            }
        } else
            c.f[j] = (float)(start + (double)j * delta);
    return set_out(x, k, 0, &c);
}

int ox_dropout_trains(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    if (ox_input(x, n, 2) < 0)
        return 0;
    const ox_const *training = ox_constant(x, ox_input(x, n, 2));
    if (training && training->count == 1 && !get(training, 0))
        return 0;
    /* Training with a ratio of 0 keeps every value (ratio's default is 0.5). */
    const ox_const *ratio = ox_constant(x, ox_input(x, n, 1));
    return !(ratio && ratio->count == 1 && get(ratio, 0) == 0.0);
}

int ox_fold(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const char *t = n->op_type;
    if (!strcmp(t, "Constant"))
        return fold_constant(x, k) < 0 ? -1 : 1;
    const ox_const *in[4] = {0};
    for (size_t i = 0; i < n->n_input; ++i) {
        const int v = ox_input(x, n, (int)i);
        if (v < 0)
            continue;
        const ox_const *c = ox_constant(x, v);
        if (x->st != CLNET_OK)
            return -1;
        if (!c && !(i == 0 && !strcmp(t, "Shape") && x->v[v].kind == OX_ACT))
            return 0;
        if (i < 4)
            in[i] = c;
    }
    /* Shape of nothing would read value -1 (a node that names no input: fuzz_onnx). */
    if (!strcmp(t, "Shape") && ox_input(x, n, 0) < 0)
        return ox_unsupported(x, k, "no input");
    if (!in[0] && strcmp(t, "Shape"))
        return 0;
    int r;
    if (!strcmp(t, "Shape"))
        r = fold_shape(x, k, ox_input(x, n, 0));
    else if (!strcmp(t, "Gather") && in[1])
        r = fold_gather(x, k, in[0], in[1]);
    else if (!strcmp(t, "Unsqueeze") || !strcmp(t, "Squeeze"))
        r = fold_unsqueeze(x, k, in[0], !strcmp(t, "Squeeze"));
    else if (!strcmp(t, "Concat"))
        r = fold_concat(x, k);
    else if (!strcmp(t, "Slice"))
        r = fold_slice(x, k, in[0]);
    else if (!strcmp(t, "Reshape") && in[1])
        r = fold_reshape(x, k, in[0], in[1]);
    else if (!strcmp(t, "Transpose"))
        r = fold_transpose(x, k, in[0]);
    else if (!strcmp(t, "Cast"))
        r = fold_cast(x, k, in[0]);
    else if (!strcmp(t, "ConstantOfShape"))
        r = fold_constant_of_shape(x, k, in[0]);
    else if (!strcmp(t, "Range") && in[1] && in[2])
        r = fold_range(x, k, in[0], in[1], in[2]);
    else if ((!strcmp(t, "Add") || !strcmp(t, "Sub") || !strcmp(t, "Mul") || !strcmp(t, "Div") ||
              !strcmp(t, "Pow")) &&
             in[1])
        r = fold_binary(x, k,
                        t[0] == 'A'   ? ADD
                        : t[0] == 'S' ? SUB
                        : t[0] == 'M' ? MUL
                        : t[0] == 'D' ? DIV
                                      : POW,
                        in[0], in[1]);
    else if (!strcmp(t, "Dropout") && ox_dropout_trains(x, k))
        return ox_unsupported(x, k, "training_mode: its output is random");
    else if (!strcmp(t, "Neg") || !strcmp(t, "Sqrt") || !strcmp(t, "Floor") || !strcmp(t, "Ceil") ||
             !strcmp(t, "Identity") || !strcmp(t, "Dropout"))
        r = fold_unary(x, k, t, in[0]);
    else if (!strcmp(t, "Flatten")) {
        /* axis is in [-rank, rank]; a negative one counts from the rank (-1: the last
         * dimension alone goes to the second dim), not from rank + 1. */
        const int64_t axis = ox_attr_int(n, "axis", 1), rank = in[0]->rank;
        const int a = axis < -rank || axis > rank ? -1 : (int)(axis < 0 ? axis + rank : axis);
        if (a < 0)
            return ox_unsupported(x, k, "axis outside the rank");
        int64_t dims[2] = {1, 1};
        for (int d = 0; d < in[0]->rank; ++d)
            dims[d >= a] *= in[0]->dims[d];
        r = reshaped(x, k, in[0], 2, dims);
    } else
        return 0;
    return r < 0 ? -1 : 1;
}
