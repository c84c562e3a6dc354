/* dot.c - clnet_graph_to_dot: the graph as Graphviz DOT for `dot -Tsvg`. One box per
 * layer (name, Keras type with its key parameters, output shape, parameter count)
 * filled by op family, inputs as ellipses, an edge from each input to its user; the
 * title, totals and a legend of the families present sit on top. Output depends on
 * the graph alone. CLI: src/cli/graph.c. Tests: tests/unit/test_dot.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

#define FONT "Helvetica,Arial,sans-serif"

/* Op families: legend text, fill colour, member ops. Inputs are family 0; ops in no
 * list fall into the last one. */
static const struct family {
    const char *label, *fill;
    const char *ops[5];
} families[] = {
    {"input", "#ffffff", {NULL}},
    {"convolution", "#cfe2f3", {"conv2d", "depthwise_conv2d"}},
    {"normalization", "#fff2cc", {"batch_norm"}},
    {"activation", "#d9ead3", {"relu", "relu6", "softmax"}},
    {"pooling", "#fce5cd", {"max_pool", "avg_pool", "global_avg_pool", "global_max_pool"}},
    {"merge", "#f4cccc", {"add"}},
    {"dense", "#d9d2e9", {"dense"}},
    {"loss", "#ead1dc", {"softmax_cross_entropy"}},
    {"pad / reshape / dropout", "#eeeeee", {NULL}},
};

static int family_of(const clnet__layer *l)
{
    if (!l->op)
        return 0;
    for (int f = 1; f < (int)CLNET_COUNTOF(families); ++f)
        for (int k = 0; k < 5 && families[f].ops[k]; ++k)
            if (strcmp(families[f].ops[k], l->op->name) == 0)
                return f;
    return (int)CLNET_COUNTOF(families) - 1;
}

/* s as text inside an HTML-like label: markup characters become entities, control
 * characters spaces. */
static void put_html(clnet__text *t, const char *s)
{
    for (; *s; ++s) {
        const unsigned char c = (unsigned char)*s;
        if (c == '&')
            clnet__text_put(t, "&amp;");
        else if (c == '<')
            clnet__text_put(t, "&lt;");
        else if (c == '>')
            clnet__text_put(t, "&gt;");
        else if (c == '"')
            clnet__text_put(t, "&quot;");
        else
            clnet__text_put(t, "%c", c < 0x20 || c == 0x7f ? ' ' : c);
    }
}

/* s as a DOT quoted string. DOT knows only the \" escape, and a backslash just before
 * the closing quote would swallow it, so backslashes become slashes. */
static void put_quoted(clnet__text *t, const char *s)
{
    clnet__text_put(t, "\"");
    for (; *s; ++s) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"')
            clnet__text_put(t, "\\\"");
        else
            clnet__text_put(t, "%c", c == '\\' ? '/' : c < 0x20 || c == 0x7f ? ' ' : c);
    }
    clnet__text_put(t, "\"");
}

/* "3x3/2": a window and its stride, the stride left out when 1. */
static void window(char *buf, size_t len, int kh, int kw, int sh, int sw)
{
    if (sh == 1 && sw == 1)
        snprintf(buf, len, "%dx%d", kh, kw);
    else if (sh == sw)
        snprintf(buf, len, "%dx%d/%d", kh, kw, sh);
    else
        snprintf(buf, len, "%dx%d/%d,%d", kh, kw, sh, sw);
}

/* The parameters a reader looks for, after the Keras type: "3x3/2, 64 + ReLU". */
static void describe(const clnet__layer *l, char *buf, size_t len)
{
    char win[48], act[48];
    const char *op = l->op ? l->op->name : "";
    buf[0] = '\0';
    if (strcmp(op, "conv2d") == 0) {
        const clnet__conv2d_params *p = l->params;
        window(win, sizeof win, p->kh, p->kw, p->sh, p->sw);
        snprintf(buf, len, "%s, %d%s", win, p->filters, clnet__act_suffix(p->act, act, sizeof act));
    } else if (strcmp(op, "depthwise_conv2d") == 0) {
        const clnet__depthwise_conv2d_params *p = l->params;
        window(win, sizeof win, p->kh, p->kw, p->sh, p->sw);
        if (p->mult > 1)
            snprintf(buf, len, "%s, x%d%s", win, p->mult,
                     clnet__act_suffix(p->act, act, sizeof act));
        else
            snprintf(buf, len, "%s%s", win, clnet__act_suffix(p->act, act, sizeof act));
    } else if (strcmp(op, "dense") == 0) {
        const clnet__dense_params *p = l->params;
        snprintf(buf, len, "%d units%s", p->units, clnet__act_suffix(p->act, act, sizeof act));
    } else if (strcmp(op, "batch_norm") == 0) {
        snprintf(
            buf, len, "%s",
            clnet__act_suffix(((const clnet__batch_norm_params *)l->params)->act, act, sizeof act));
    } else if (strcmp(op, "add") == 0) {
        snprintf(buf, len, "%s",
                 clnet__act_suffix(((const clnet__add_params *)l->params)->act, act, sizeof act));
    } else if (strcmp(op, "relu") == 0 || strcmp(op, "relu6") == 0) {
        const clnet__relu_params *p = l->params;
        if (p->cap > 0.0f)
            snprintf(buf, len, "max %g", (double)p->cap);
    } else if (strcmp(op, "max_pool") == 0 || strcmp(op, "avg_pool") == 0) {
        const clnet__pool_params *p = l->params;
        window(buf, len, p->kh, p->kw, p->sh, p->sw);
    } else if (strcmp(op, "zero_pad") == 0) {
        const clnet__zero_pad_params *p = l->params;
        if (p->top == p->bottom && p->top == p->left && p->top == p->right)
            snprintf(buf, len, "%d", p->top);
        else
            snprintf(buf, len, "((%d, %d), (%d, %d))", p->top, p->bottom, p->left, p->right);
    } else if (strcmp(op, "channel_pad") == 0) {
        const clnet__channel_pad_params *p = l->params;
        if (p->stride > 1)
            snprintf(buf, len, "/%d, %d", p->stride, p->channels);
        else
            snprintf(buf, len, "%d", p->channels);
    } else if (strcmp(op, "dropout") == 0) {
        snprintf(buf, len, "%g", (double)((const clnet__dropout_params *)l->params)->rate);
    } else if (strcmp(op, "softmax_cross_entropy") == 0) {
        const clnet__softmax_cross_entropy_params *p = l->params;
        if (p->label_smoothing > 0.0f)
            snprintf(buf, len, "smoothing %g", (double)p->label_smoothing);
    }
}

/* 1814083944 -> "1.81 G", 54160 -> "54,160": totals in the title. */
static const char *scaled(double v, char *buf, size_t len)
{
    if (v >= 1e9)
        snprintf(buf, len, "%.2f G", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2f M", v / 1e6);
    else
        clnet__grouped(v, buf, len);
    return buf;
}

/* The graph label: title, totals, and a swatch per family present (a table of its own,
 * so the swatches keep their width under a wide title). */
static void put_title(clnet__text *t, const clnet_graph *g, const char *title)
{
    unsigned present = 0;
    for (int i = 0; i < g->n; ++i)
        present |= 1u << family_of(&g->layers[i]);
    char params[48], flops[48];
    clnet__text_put(t, "    label=<<table border=\"0\" cellspacing=\"2\">\n");
    clnet__text_put(t, "        <tr><td><font point-size=\"18\"><b>");
    put_html(t, title);
    clnet__text_put(t, "</b></font></td></tr>\n");
    clnet__text_put(t, "        <tr><td>%d layers &#183; %s params &#183; ", g->n,
                    clnet__grouped((double)clnet_graph_params(g).total, params, sizeof params));
    clnet__text_put(t, "%s mult-adds per image</td></tr>\n",
                    scaled(clnet_graph_flops(g), flops, sizeof flops));
    if (present) {
        clnet__text_put(t, "        <tr><td><table border=\"0\" cellspacing=\"3\"><tr>");
        for (int f = 0; f < (int)CLNET_COUNTOF(families); ++f)
            if ((present >> f) & 1u)
                clnet__text_put(t,
                                "<td bgcolor=\"%s\" border=\"1\" color=\"#666666\">"
                                "<font point-size=\"10\">%s</font></td>",
                                families[f].fill, families[f].label);
        clnet__text_put(t, "</tr></table></td></tr>\n");
    }
    clnet__text_put(t, "    </table>>;\n");
}

/* One node: bold name; type and key parameters; output shape and parameter count. */
static void put_node(clnet__text *t, int i, const clnet__layer *l)
{
    char detail[128], shape[64], num[48];
    int64_t params = 0;
    for (int k = 0; k < l->n_w; ++k)
        params += (int64_t)clnet__shape_count(l->w[k].shape);
    describe(l, detail, sizeof detail);
    if (l->rank2)
        snprintf(shape, sizeof shape, "(None, %d)", l->out.c);
    else
        snprintf(shape, sizeof shape, "%dx%dx%d", l->out.h, l->out.w, l->out.c);
    /* A table rather than <br/> lines: the cell padding keeps the name's underscores
     * off the line below. */
    clnet__text_put(t,
                    "    L%d [%sfillcolor=\"%s\", label=<<table border=\"0\" cellspacing=\"0\" "
                    "cellpadding=\"1\"><tr><td><b>",
                    i, l->op ? "" : "shape=ellipse, ", families[family_of(l)].fill);
    put_html(t, l->name);
    clnet__text_put(t, "</b></td></tr><tr><td>%s%s%s</td></tr>", clnet__keras_type(l),
                    detail[0] && detail[0] != ' ' ? " " : "", detail);
    clnet__text_put(t, "<tr><td><font color=\"#555555\" point-size=\"9\">%s", shape);
    if (params > 0)
        clnet__text_put(t, " &#183; %s params", clnet__grouped((double)params, num, sizeof num));
    clnet__text_put(t, "</font></td></tr></table>>];\n");
}

clnet_status clnet_graph_to_dot(const clnet_graph *g, const char *title, char **text)
{
    if (!text)
        return CLNET_ERR_INVALID_ARG;
    *text = NULL;
    if (!g)
        return CLNET_ERR_INVALID_ARG;
    if (!title)
        title = "model";
    clnet__text t = {NULL, 0, 0, 0};
    clnet__text_put(&t, "digraph ");
    put_quoted(&t, title);
    clnet__text_put(&t, " {\n    graph [rankdir=TB, fontname=\"" FONT "\", labelloc=t, "
                        "nodesep=0.25, ranksep=0.3];\n");
    clnet__text_put(&t, "    node [shape=box, style=\"rounded,filled\", fontname=\"" FONT
                        "\", fontsize=11, margin=\"0.1,0.02\", penwidth=0.8, "
                        "color=\"#666666\"];\n");
    clnet__text_put(&t, "    edge [arrowsize=0.6, color=\"#444444\"];\n");
    put_title(&t, g, title);
    for (int i = 0; i < g->n; ++i) {
        const clnet__layer *l = &g->layers[i];
        put_node(&t, i, l);
        for (int k = 0; k < l->n_in; ++k)
            clnet__text_put(&t, "    L%d -> L%d;\n", l->in[k], i);
    }
    clnet__text_put(&t, "}\n");
    if (t.failed) {
        free(t.buf);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    *text = t.buf;
    return CLNET_OK;
}
