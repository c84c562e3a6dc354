/* onnx_match.c - subgraphs exporters write for one function, found from their first node
 * in topological order and translated into one clnet op:
 *   x * Sigmoid(x)                                 swish (SiLU)
 *   x * HardSigmoid(x) (alpha 1/6, beta 0.5)       hard_swish
 *   x / sqrt 2 -> Erf -> + 1 -> x * . -> * 0.5     gelu (PyTorch's erf form)
 *   x^3 -> * 0.044715 -> x + . -> * sqrt(2 / pi) -> Tanh -> + 1 -> x * . -> * 0.5
 *                                                  gelu_tanh (clnet's own export)
 *   ReduceMean -> Sub -> Pow 2 -> ReduceMean -> + eps -> Sqrt -> Div (-> * gamma -> + beta)
 *                                                  layer_norm over the channels
 * Each inner value must have no reader outside the subgraph, so nothing else needs it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_ops.h"

/* The one node of type reading value v (v read once, the node not yet run), or -1. */
static int next(ox_ctx *x, int v, const char *type)
{
    if (v < 0 || x->v[v].uses != 1)
        return -1;
    const int q = x->v[v].consumer;
    return q >= 0 && !x->done[q] && !strcmp(x->graph->node[q]->op_type, type) ? q : -1;
}

/* Node q's input other than value v (q reads v as input 0 or 1), or -1. */
static int other(ox_ctx *x, int q, int v)
{
    const Onnx__NodeProto *n = x->graph->node[q];
    if (n->n_input != 2)
        return -1;
    const int a = ox_input(x, n, 0), b = ox_input(x, n, 1);
    return a == v ? b : b == v ? a : -1;
}

/* Is value v one constant float near want? */
static int scalar_near(ox_ctx *x, int v, double want)
{
    const ox_const *c = ox_constant(x, v);
    if (!c || c->count != 1)
        return 0;
    const double got = c->is_int ? (double)c->i[0] : (double)c->f[0];
    return fabs(got - want) <= 1e-5 * fabs(want);
}

static int done_all(ox_ctx *x, const int *nodes, int n)
{
    for (int i = 0; i < n; ++i)
        x->done[nodes[i]] = 1;
    return 1;
}

/* An activation layer on x's input value v, named after node root, setting root's output. */
static int activation(ox_ctx *x, int root, int v, const char *act)
{
    const int in = ox_materialize(x, root, v);
    if (in < 0)
        return -1;
    const int l = ox_layer(x, root, "", "activation", &in, 1, "activation = %s", act);
    return l < 0 ? -1 : ox_set_act(x, root, 0, l, x->v[v].layout, &x->v[v]);
}

/* Sigmoid / HardSigmoid at k, then x * that. */
static int gated(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const int v = ox_input(x, n, 0), s = ox_output(x, k, 0);
    const int q = next(x, s, "Mul");
    if (q < 0 || other(x, q, s) != v)
        return 0;
    const int hard = !strcmp(n->op_type, "HardSigmoid");
    if (hard && (fabsf(ox_attr_float(n, "alpha", 0.2f) - 1.0f / 6.0f) > 1e-6f ||
                 ox_attr_float(n, "beta", 0.5f) != 0.5f))
        return 0;
    const int nodes[2] = {k, q};
    done_all(x, nodes, 2);
    return activation(x, q, v, hard ? "hard_swish" : "swish") < 0 ? -1 : 1;
}

/* Div(x, sqrt 2) or Mul(x, 1 / sqrt 2) at k, then Erf, + 1, x * ., * 0.5. */
static int gelu(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const int v = ox_input(x, n, 0);
    if (!ox_act(x, n, 0) || ox_input(x, n, 1) < 0)
        return 0;
    const int divide = !strcmp(n->op_type, "Div");
    if (!scalar_near(x, ox_input(x, n, 1), divide ? sqrt(2.0) : sqrt(0.5)))
        return 0;
    const int erf = next(x, ox_output(x, k, 0), "Erf");
    const int add = erf < 0 ? -1 : next(x, ox_output(x, erf, 0), "Add");
    if (add < 0 || !scalar_near(x, other(x, add, ox_output(x, erf, 0)), 1.0))
        return 0;
    const int mul = next(x, ox_output(x, add, 0), "Mul");
    if (mul < 0 || other(x, mul, ox_output(x, add, 0)) != v)
        return 0;
    const int half = next(x, ox_output(x, mul, 0), "Mul");
    if (half < 0 || !scalar_near(x, other(x, half, ox_output(x, mul, 0)), 0.5))
        return 0;
    const int nodes[5] = {k, erf, add, mul, half};
    done_all(x, nodes, 5);
    return activation(x, half, v, "gelu") < 0 ? -1 : 1;
}

/* The node after node q's output when it is of type and its other operand a constant
 * near want (NAN: any value), else -1. */
static int then(ox_ctx *x, int q, const char *type, double want)
{
    const int out = q < 0 ? -1 : ox_output(x, q, 0);
    const int r = next(x, out, type);
    if (r < 0 || (!isnan(want) && !scalar_near(x, other(x, r, out), want)))
        return -1;
    return r;
}

/* Pow(x, 3) at k, then the tanh approximation of GELU. */
static int gelu_tanh(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const int v = ox_input(x, n, 0);
    if (!ox_act(x, n, 0) || !scalar_near(x, ox_input(x, n, 1), 3.0))
        return 0;
    const int kappa = then(x, k, "Mul", 0.044715);
    const int add = then(x, kappa, "Add", NAN);
    if (add < 0 || other(x, add, ox_output(x, kappa, 0)) != v)
        return 0;
    const int beta = then(x, add, "Mul", sqrt(2.0 / 3.14159265358979323846));
    const int tanh_ = beta < 0 ? -1 : next(x, ox_output(x, beta, 0), "Tanh");
    const int one = then(x, tanh_, "Add", 1.0);
    const int mul = then(x, one, "Mul", NAN);
    if (mul < 0 || other(x, mul, ox_output(x, one, 0)) != v)
        return 0;
    const int half = then(x, mul, "Mul", 0.5);
    if (half < 0)
        return 0;
    const int nodes[8] = {k, kappa, add, beta, tanh_, one, mul, half};
    done_all(x, nodes, 8);
    return activation(x, half, v, "gelu_tanh") < 0 ? -1 : 1;
}

/* Is node q a ReduceMean over a's channel axis alone, dims kept? */
static int channel_mean(ox_ctx *x, int q, const ox_value *a)
{
    const Onnx__NodeProto *n = x->graph->node[q];
    int64_t axes[2];
    if (ox_attr_ints(n, "axes", axes, 2) != 1 || !ox_attr_int(n, "keepdims", 1))
        return 0;
    const int rank = a->layout == OX_NC ? 2 : 4, axis = a->layout == OX_NHWC ? 3 : 1;
    return (axes[0] < 0 ? axes[0] + rank : axes[0]) == axis;
}

/* The readers of value v (at most max) into out; their count. */
static int readers(ox_ctx *x, int v, int *out, int max)
{
    int m = 0;
    for (size_t q = 0; q < x->graph->n_node && m <= max; ++q) {
        const Onnx__NodeProto *n = x->graph->node[q];
        for (size_t i = 0; i < n->n_input; ++i)
            if (ox_input(x, n, (int)i) == v) {
                if (m < max)
                    out[m] = (int)q;
                ++m;
                break;
            }
    }
    return m;
}

static int layer_norm(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    const int v = ox_input(x, n, 0);
    if (!a || (a->layout != OX_NHWC && a->layout != OX_NC && a->layout != OX_NCHW) ||
        !channel_mean(x, k, a))
        return 0;
    const int mean = ox_output(x, k, 0);
    const int sub = next(x, mean, "Sub");
    if (sub < 0 || ox_input(x, x->graph->node[sub], 0) != v)
        return 0;
    const int d = ox_output(x, sub, 0);
    int r[2];
    if (x->v[d].uses != 2 || readers(x, d, r, 2) != 2)
        return 0;
    const int pow_ = !strcmp(x->graph->node[r[0]]->op_type, "Pow") ? r[0] : r[1];
    const int div = pow_ == r[0] ? r[1] : r[0];
    if (strcmp(x->graph->node[pow_]->op_type, "Pow") ||
        strcmp(x->graph->node[div]->op_type, "Div") || ox_input(x, x->graph->node[pow_], 0) != d ||
        !scalar_near(x, ox_input(x, x->graph->node[pow_], 1), 2.0) ||
        ox_input(x, x->graph->node[div], 0) != d)
        return 0;
    const int var = next(x, ox_output(x, pow_, 0), "ReduceMean");
    if (var < 0 || !channel_mean(x, var, a))
        return 0;
    const int add = next(x, ox_output(x, var, 0), "Add");
    const ox_const *eps = add < 0 ? NULL : ox_constant(x, other(x, add, ox_output(x, var, 0)));
    if (!eps || eps->count != 1 || eps->is_int)
        return 0;
    const int sqrt_ = next(x, ox_output(x, add, 0), "Sqrt");
    if (sqrt_ < 0 || ox_input(x, x->graph->node[div], 1) != ox_output(x, sqrt_, 0) ||
        x->v[ox_output(x, sqrt_, 0)].uses != 1)
        return 0;
    const int c = clnet_graph_layer_shape(x->g, a->layer).c;
    int nodes[9] = {k, sub, pow_, var, add, sqrt_, div};
    int count = 7, root = div;
    const float *gamma = NULL, *beta = NULL;
    const int mul = next(x, ox_output(x, div, 0), "Mul");
    const ox_const *g = mul < 0 ? NULL : ox_constant(x, other(x, mul, ox_output(x, div, 0)));
    if (g && !g->is_int && g->count == c) {
        gamma = g->f;
        nodes[count++] = root = mul;
        const int badd = next(x, ox_output(x, mul, 0), "Add");
        const ox_const *b = badd < 0 ? NULL : ox_constant(x, other(x, badd, ox_output(x, mul, 0)));
        if (b && !b->is_int && b->count == c) {
            beta = b->f;
            nodes[count++] = root = badd;
        }
    }
    done_all(x, nodes, count);
    ox_value in = *a;
    if ((in.layer = ox_materialize(x, k, v)) < 0)
        return -1;
    memset(in.pad, 0, sizeof in.pad);
    if (gamma)
        return ox_layer_norm_layer(x, root, root, &in, eps->f[0], gamma, beta) < 0 ? -1 : 1;
    float *ones = malloc((size_t)c * sizeof *ones);
    if (!ones) {
        x->st = CLNET_ERR_OUT_OF_MEMORY;
        return -1;
    }
    for (int j = 0; j < c; ++j)
        ones[j] = 1.0f;
    const int l = ox_layer_norm_layer(x, root, root, &in, eps->f[0], ones, NULL);
    free(ones);
    return l < 0 ? -1 : 1;
}

int ox_match(ox_ctx *x, int k)
{
    const char *t = x->graph->node[k]->op_type;
    if (!strcmp(t, "Sigmoid") || !strcmp(t, "HardSigmoid"))
        return gated(x, k);
    if (!strcmp(t, "Div") || !strcmp(t, "Mul"))
        return gelu(x, k);
    if (!strcmp(t, "ReduceMean"))
        return layer_norm(x, k);
    if (!strcmp(t, "Pow"))
        return gelu_tanh(x, k);
    return 0;
}
