/* graph.c - building a graph layer by layer with shapes inferred at once; parameter
 * and FLOP counts. Summary: summary.c. Tests: tests/unit/test_graph.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

clnet_status clnet_graph_create(clnet_graph **out)
{
    if (!out)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    clnet_graph *g = calloc(1, sizeof *g);
    if (!g)
        return CLNET_ERR_OUT_OF_MEMORY;
    if (clnet__context_create_host(&g->err) != CLNET_OK) {
        free(g);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    *out = g;
    return CLNET_OK;
}

void clnet_graph_destroy(clnet_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n; ++i) {
        free(g->layers[i].params);
        free(g->layers[i].params_text);
    }
    free(g->layers);
    clnet_context_destroy(g->err);
    free(g);
}

clnet_status clnet_graph_status(const clnet_graph *g)
{
    return g ? g->status : CLNET_ERR_INVALID_ARG;
}

const char *clnet_graph_error(const clnet_graph *g)
{
    return g ? clnet_context_error(g->err) : "no graph";
}

/* Records the first failure: the op functions already wrote their message on g->err;
 * fmt, when given, replaces it. */
static clnet_layer fail(clnet_graph *g, clnet_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static clnet_layer fail(clnet_graph *g, clnet_status st, const char *fmt, ...)
{
    if (g->status != CLNET_OK)
        return CLNET_LAYER_NONE;
    g->status = st;
    if (fmt) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        clnet__fail(g->err, st, "%s", msg);
    }
    return CLNET_LAYER_NONE;
}

clnet_layer clnet_graph_find(const clnet_graph *g, const char *name)
{
    for (int i = 0; g && name && i < g->n; ++i)
        if (strcmp(g->layers[i].name, name) == 0)
            return i;
    return CLNET_LAYER_NONE;
}

/* The first character of name the text spec cannot carry (its section headers, its
 * `inputs = a, b` lists, its comments), or 0: ',', '[', ']', '=', '#', control characters,
 * and white space at either end (the reader trims it). */
static int bad_name_char(const char *name)
{
    const size_t n = strlen(name);
    if (n && (isspace((unsigned char)name[0]) || isspace((unsigned char)name[n - 1])))
        return isspace((unsigned char)name[0]) ? name[0] : name[n - 1];
    for (const char *p = name; *p; ++p)
        if (strchr(",[]=#", *p) || (unsigned char)*p < 0x20 || *p == 0x7f)
            return *p;
    return 0;
}

/* The Keras-like automatic name: base when it is free, else "<base>_k" of the smallest
 * free k >= 1. One pass over the layers (probing name after name made adding n unnamed
 * layers of one op cost n^3 string compares). */
static void auto_name(const clnet_graph *g, const char *base, char *out, size_t len)
{
    const size_t n = strlen(base);
    unsigned char *taken = calloc((size_t)g->n + 2, 1); /* taken[k]: "<base>_k" exists */
    int base_taken = 0;
    for (int i = 0; i < g->n; ++i) {
        const char *name = g->layers[i].name;
        if (strncmp(name, base, n) != 0)
            continue;
        base_taken |= !name[n];
        if (name[n] != '_' || name[n + 1] < '1' || name[n + 1] > '9')
            continue;
        long k = 0; /* "<base>_<k>", k without leading zeros, as auto_name writes it */
        const char *d = name + n + 1;
        for (; *d >= '0' && *d <= '9' && k <= g->n + 1; ++d)
            k = 10 * k + (*d - '0');
        if (!*d && k <= g->n + 1 && taken)
            taken[k] = 1;
    }
    int k = 1;
    while (taken && k <= g->n && taken[k])
        ++k;
    free(taken);
    if (base_taken)
        snprintf(out, len, "%s_%d", base, k);
    else
        snprintf(out, len, "%s", base);
}

/* A new layer slot named name, or the Keras-like "<base>", "<base>_1", ... */
static clnet__layer *new_layer(clnet_graph *g, const char *name, const char *base)
{
    char generated[64];
    if (g->n >= CLNET_MAX_LAYERS) {
        fail(g, CLNET_ERR_TOO_LARGE, "layer '%s': a graph holds at most %d layers",
             name ? name : base, CLNET_MAX_LAYERS);
        return NULL;
    }
    if (!name) {
        auto_name(g, base, generated, sizeof generated);
        name = generated;
    }
    if (!*name || strlen(name) >= sizeof g->layers[0].name) {
        fail(g, CLNET_ERR_INVALID_ARG, "layer name '%s' must have 1 to %zu characters", name,
             sizeof g->layers[0].name - 1);
        return NULL;
    }
    const int bad = bad_name_char(name);
    if (bad) {
        char what[24];
        if (bad == ' ' || bad == '\t')
            snprintf(what, sizeof what, "white space at an end");
        else if (isprint(bad))
            snprintf(what, sizeof what, "'%c'", bad);
        else
            snprintf(what, sizeof what, "the byte 0x%02x", (unsigned)(unsigned char)bad);
        fail(g, CLNET_ERR_INVALID_ARG,
             "layer name '%s' holds %s: names may not hold ',', '[', ']', '=', '#', control "
             "characters or white space at either end (the text spec cannot carry them)",
             name, what);
        return NULL;
    }
    if (clnet_graph_find(g, name) != CLNET_LAYER_NONE) {
        fail(g, CLNET_ERR_INVALID_ARG, "layer name '%s' is used twice", name);
        return NULL;
    }
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 64;
        clnet__layer *grown = realloc(g->layers, (size_t)cap * sizeof *grown);
        if (!grown) {
            fail(g, CLNET_ERR_OUT_OF_MEMORY, "out of host memory adding layer '%s'", name);
            return NULL;
        }
        g->layers = grown;
        g->cap = cap;
    }
    clnet__layer *l = &g->layers[g->n];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    return l;
}

clnet_layer clnet_graph_input(clnet_graph *g, const char *name, int h, int w, int c)
{
    if (!g || g->status != CLNET_OK)
        return CLNET_LAYER_NONE;
    if (h < 1 || w < 1 || c < 1)
        return fail(g, CLNET_ERR_SHAPE, "input '%s': size %dx%dx%d must be positive",
                    name ? name : "input", h, w, c);
    char where[96];
    snprintf(where, sizeof where, "input '%.64s': shape", name ? name : "input");
    if (clnet__check_shape(g->err, where, (clnet_shape){1, h, w, c}, 0) != CLNET_OK)
        return fail(g, CLNET_ERR_TOO_LARGE, NULL);
    char base[24];
    int k = 1;
    for (int i = 0; i < g->n; ++i)
        k += g->layers[i].op == NULL;
    snprintf(base, sizeof base, "input_%d", k);
    clnet__layer *l = new_layer(g, name, base);
    if (!l)
        return CLNET_LAYER_NONE;
    l->out = (clnet_shape){1, h, w, c};
    return g->n++;
}

static int shows_rank2(const clnet_graph *g, const clnet__layer *l)
{
    if (l->op->flags & CLNET_OP_RANK2)
        return 1;
    for (int i = 0; i < l->n_in; ++i)
        if (!g->layers[l->in[i]].rank2)
            return 0;
    return l->n_in > 0 && l->out.h == 1 && l->out.w == 1;
}

clnet_layer clnet_graph_layer(clnet_graph *g, const char *op_name, const char *name,
                              const char *params, const clnet_layer *inputs, int n_inputs)
{
    return clnet__graph_layer_at(g, op_name, name, params, inputs, n_inputs, NULL, 1);
}

clnet_layer clnet__graph_layer_at(clnet_graph *g, const char *op_name, const char *name,
                                  const char *params, const clnet_layer *inputs, int n_inputs,
                                  const char *where_given, int first_line)
{
    if (!g || g->status != CLNET_OK)
        return CLNET_LAYER_NONE;
    const char *shown = name ? name : op_name ? op_name : "?";
    for (int i = 0; i < n_inputs; ++i)
        if (inputs[i] == CLNET_LAYER_NONE)
            return fail(g, CLNET_ERR_INVALID_ARG, "layer '%s': input %d is not a layer", shown, i);
    const clnet__op_desc *op = op_name ? clnet__op_find(op_name) : NULL;
    char hint[512];
    if (!op)
        return fail(g, CLNET_ERR_UNKNOWN_OP, "layer '%s': unknown op '%s' (%s)", shown,
                    op_name ? op_name : "(null)",
                    clnet__op_unknown_hint(op_name ? op_name : "", 0, hint, sizeof hint));
    if (n_inputs < op->min_inputs || n_inputs > op->max_inputs || (n_inputs > 0 && !inputs))
        return fail(g, CLNET_ERR_INVALID_ARG, "layer '%s': %s takes %d to %d inputs, got %d", shown,
                    op->name, op->min_inputs, op->max_inputs, n_inputs);
    for (int i = 0; i < n_inputs; ++i)
        if (inputs[i] < 0 || inputs[i] >= g->n)
            return fail(g, CLNET_ERR_INVALID_ARG,
                        "layer '%s': input %d (%d) is not a layer of "
                        "this graph",
                        shown, i, inputs[i]);
    clnet__layer *l = new_layer(g, name, op->name);
    if (!l)
        return CLNET_LAYER_NONE;
    char where[160];
    if (where_given)
        snprintf(where, sizeof where, "%s", where_given);
    else
        snprintf(where, sizeof where, "layer '%s' (%s)", l->name, op->name);
    clnet_status st =
        clnet__op_parse_at(g->err, op, params ? params : "", where, first_line, &l->params);
    clnet_shape in[CLNET_MAX_INPUTS];
    for (int i = 0; i < n_inputs; ++i) {
        l->in[i] = inputs[i];
        in[i] = g->layers[inputs[i]].out;
    }
    l->n_in = n_inputs;
    l->op = op;
    if (st == CLNET_OK)
        st = op->infer(g->err, l->params, in, n_inputs, &l->out);
    /* Every op's output and weights within the limits, whatever its infer checked. */
    if (st == CLNET_OK)
        st = clnet__check_shape(g->err, "the output", l->out, 0);
    if (st == CLNET_OK)
        l->n_w = op->weights ? op->weights(l->params, in, n_inputs, l->w) : 0;
    for (int k = 0; k < l->n_w && st == CLNET_OK; ++k) {
        char what[64];
        snprintf(what, sizeof what, "weight '%s'", l->w[k].name);
        st = clnet__check_shape(g->err, what, l->w[k].shape, 1);
    }
    if (st != CLNET_OK && st != CLNET_ERR_PARSE) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", clnet_context_error(g->err));
        clnet__fail(g->err, st, "%s: %s", where, msg);
    }
    if (st == CLNET_OK) {
        l->params_text = malloc(strlen(params ? params : "") + 1);
        if (!l->params_text)
            st = clnet__fail(g->err, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        else
            strcpy(l->params_text, params ? params : "");
    }
    if (st != CLNET_OK) {
        free(l->params);
        free(l->params_text);
        g->status = st;
        return CLNET_LAYER_NONE;
    }
    l->flops = op->flops(l->params, in, n_inputs, l->out);
    l->rank2 = shows_rank2(g, l);
    return g->n++;
}

int clnet_graph_layer_count(const clnet_graph *g)
{
    return g ? g->n : 0;
}

clnet_shape clnet_graph_layer_shape(const clnet_graph *g, clnet_layer layer)
{
    clnet_shape none = {0, 0, 0, 0};
    return g && layer >= 0 && layer < g->n ? g->layers[layer].out : none;
}

const char *clnet_graph_layer_name(const clnet_graph *g, clnet_layer layer)
{
    return g && layer >= 0 && layer < g->n ? g->layers[layer].name : NULL;
}

clnet_param_counts clnet_graph_params(const clnet_graph *g)
{
    clnet_param_counts c = {0, 0, 0};
    for (int i = 0; g && i < g->n; ++i) {
        const clnet__layer *l = &g->layers[i];
        for (int k = 0; k < l->n_w; ++k) {
            const int64_t n = (int64_t)clnet__shape_count(l->w[k].shape);
            if (l->w[k].trainable)
                c.trainable += n;
            else
                c.non_trainable += n;
        }
    }
    c.total = c.trainable + c.non_trainable;
    return c;
}

double clnet_graph_flops(const clnet_graph *g)
{
    double f = 0.0;
    for (int i = 0; g && i < g->n; ++i)
        f += g->layers[i].flops;
    return f;
}

void clnet_free(void *p)
{
    free(p);
}
