/* finetune.c - fine-tuning: a model's classifier head replaced for a new class count,
 * and all but the last layers frozen (Keras's semantics: frozen batch norms run in
 * inference mode; fuse.c decides the backward work left). Tests:
 * tests/models/test_finetune.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

/* The last dense layer, or -1 when a layer after it has weights or there is none. */
static int head_layer(const clnet_graph *g)
{
    for (int i = g->n - 1; i >= 0; --i) {
        const clnet__layer *l = &g->layers[i];
        if (l->op && strcmp(l->op->name, "dense") == 0)
            return i;
        if (l->n_w > 0)
            return -1;
    }
    return -1;
}

/* params with its `units` line replaced by units = classes (malloc'd). */
static char *with_units(const char *params, int classes)
{
    const size_t n = strlen(params);
    char *out = malloc(n + 32), *o = out;
    if (!out)
        return NULL;
    for (const char *p = params; *p;) {
        const char *eol = strchr(p, '\n');
        const size_t len = eol ? (size_t)(eol - p) + 1 : strlen(p);
        const char *k = p;
        while (*k == ' ' || *k == '\t')
            ++k;
        const int units = strncmp(k, "units", 5) == 0 && strchr(" \t=", k[5]);
        if (!units) {
            memcpy(o, p, len);
            o += len;
        }
        p += len;
    }
    if (o > out && o[-1] != '\n')
        *o++ = '\n';
    sprintf(o, "units = %d\n", classes);
    return out;
}

/* m's graph with the head resized. */
static clnet_status new_graph(clnet_model *m, int head, int classes, clnet_graph **out)
{
    const clnet_graph *g = m->graph;
    clnet_graph *ng = NULL;
    CLNET_TRY(clnet_graph_create(&ng));
    for (int i = 0; i < g->n; ++i) {
        const clnet__layer *l = &g->layers[i];
        if (!l->op) {
            clnet_graph_input(ng, l->name, l->out.h, l->out.w, l->out.c);
            continue;
        }
        char *params = i == head ? with_units(l->params_text, classes) : NULL;
        if (i == head && !params) {
            clnet_graph_destroy(ng);
            return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        }
        clnet_graph_layer(ng, l->op->name, l->name, params ? params : l->params_text, l->in,
                          l->n_in);
        free(params);
    }
    if (clnet_graph_status(ng) != CLNET_OK) {
        const clnet_status st = clnet__fail(m->ctx, clnet_graph_status(ng),
                                            "replacing the head: %s", clnet_graph_error(ng));
        clnet_graph_destroy(ng);
        return st;
    }
    *out = ng;
    return CLNET_OK;
}

static clnet_status copy_tensor(clnet_tensor *dst, clnet_tensor *src)
{
    return clnet__copy(src->ctx, src->buf, 0, dst->buf, 0, src->count);
}

clnet_status clnet_model_replace_head(clnet_model *m, int classes, uint64_t seed, clnet_model **out)
{
    if (out)
        *out = NULL;
    if (!m || !out)
        return CLNET_ERR_INVALID_ARG;
    if (classes < 1)
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "replacing the head: %d classes",
                           classes);
    const int head = head_layer(m->graph);
    if (head < 0)
        return clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED,
                           "replacing the head: the model does not end in a dense layer "
                           "(followed only by layers without weights)");
    clnet_graph *g = NULL;
    CLNET_TRY(new_graph(m, head, classes, &g));
    clnet_model_options opt = m->opt;
    opt.seed = seed;
    clnet_model *n = NULL;
    clnet_status st = clnet_model_create(m->ctx, g, &opt, &n);
    clnet_graph_destroy(g);
    for (int i = 0; st == CLNET_OK && i < m->graph->n; ++i)
        for (int k = 0; i != head && k < m->graph->layers[i].n_w && st == CLNET_OK; ++k)
            st = copy_tensor(n->w[n->weight_base[i] + k], m->w[m->weight_base[i] + k]);
    if (st == CLNET_OK) {
        memcpy(n->mean, m->mean, sizeof n->mean);
        memcpy(n->std, m->std, sizeof n->std);
        n->center_crop = m->center_crop;
        if (classes == m->n_labels)
            st = clnet_model_set_labels(n, (const char *const *)m->labels, m->n_labels);
    }
    if (st != CLNET_OK) {
        clnet_model_destroy(n);
        return st;
    }
    ++n->weights_version;
    *out = n;
    return CLNET_OK;
}

clnet_status clnet_model_freeze(clnet_model *m, int n, int64_t *trainable)
{
    if (trainable)
        *trainable = 0;
    if (!m)
        return CLNET_ERR_INVALID_ARG;
    int kept = 0;
    int64_t count = 0;
    for (int i = m->graph->n - 1; i >= 0; --i) {
        const clnet__layer *l = &m->graph->layers[i];
        int has = 0;
        for (int k = 0; k < l->n_w; ++k)
            has |= l->w[k].trainable;
        const int frozen = n >= 0 && has && kept >= n;
        kept += has;
        for (int k = 0; k < l->n_w; ++k) {
            const int w = m->weight_base[i] + k;
            m->frozen[w] = frozen;
            if (m->dw[w] && !frozen)
                count += (int64_t)m->w[w]->count;
        }
    }
    ++m->freeze_version; /* training plans decide their backward work from frozen[] */
    if (n < 0)
        clnet__log(m->ctx, 2, "freezing: nothing frozen, %lld trainable parameters",
                   (long long)count);
    else if (count == 0)
        clnet__log(m->ctx, 1,
                   "freezing all but the last %d layers with weights leaves no "
                   "trainable parameter: training would change nothing",
                   n);
    else
        clnet__log(m->ctx, 2,
                   "freezing: %lld trainable parameters in the last %d of %d layers "
                   "with weights",
                   (long long)count, n < kept ? n : kept, kept);
    if (trainable)
        *trainable = count;
    return CLNET_OK;
}
