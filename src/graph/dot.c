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

/* The legend text and fill colour of each op family (clnet__op_family, on the op's
 * descriptor); index 0 (no family) holds the inputs. */
static const struct family {
    const char *label, *fill;
} families[CLNET_FAMILY_COUNT] = {
    [CLNET_FAMILY_NONE] = {"input", "#ffffff"},
    [CLNET_FAMILY_CONVOLUTION] = {"convolution", "#cfe2f3"},
    [CLNET_FAMILY_NORMALIZATION] = {"normalization", "#fff2cc"},
    [CLNET_FAMILY_ACTIVATION] = {"activation", "#d9ead3"},
    [CLNET_FAMILY_POOLING] = {"pooling", "#fce5cd"},
    [CLNET_FAMILY_MERGE] = {"merge", "#f4cccc"},
    [CLNET_FAMILY_DENSE] = {"dense", "#d9d2e9"},
    [CLNET_FAMILY_LOSS] = {"loss", "#ead1dc"},
    [CLNET_FAMILY_RESHAPE] = {"pad / reshape / dropout", "#eeeeee"},
};

static int family_of(const clnet__layer *l)
{
    if (!l->op)
        return CLNET_FAMILY_NONE;
    return l->op->family > CLNET_FAMILY_NONE && l->op->family < CLNET_FAMILY_COUNT
               ? (int)l->op->family
               : CLNET_FAMILY_RESHAPE;
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

/* The parameters a reader looks for, after the Keras type: "3x3/2, 64 + ReLU". */
static void describe(const clnet__layer *l, char *buf, size_t len)
{
    buf[0] = '\0';
    if (l->op && l->op->describe)
        l->op->describe(l->params, buf, len);
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
