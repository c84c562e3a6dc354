/* import.c - what an importer produced (import.h) made a model on a device: the graph,
 * then each weight written once in clnet's layout, then labels and normalization. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/import.h"
#include "io/safetensors.h"
#include "plan/plan.h"

void clnet__import_free(clnet__import *im)
{
    if (!im)
        return;
    for (int i = 0; i < im->n_w; ++i)
        free(im->w[i].data);
    free(im->w);
    for (int i = 0; i < im->n_labels; ++i)
        free(im->labels[i]);
    free(im->labels);
    clnet_graph_destroy(im->g);
    memset(im, 0, sizeof *im);
}

clnet_status clnet__import_push_weight(clnet__import_weight **w, int *n, int *cap, int layer,
                                       const char *name, float *data, int64_t count)
{
    if (!data)
        return CLNET_ERR_OUT_OF_MEMORY;
    if (*n == *cap) {
        const int grown = *cap ? *cap * 2 : 64;
        clnet__import_weight *more = realloc(*w, (size_t)grown * sizeof *more);
        if (!more) {
            free(data);
            return CLNET_ERR_OUT_OF_MEMORY;
        }
        *w = more;
        *cap = grown;
    }
    clnet__import_weight *at = &(*w)[(*n)++];
    at->layer = layer;
    snprintf(at->name, sizeof at->name, "%s", name);
    at->data = data;
    at->count = count;
    return CLNET_OK;
}

/* Writes every weight of m from im (checked: each present once, of its size). */
static clnet_status write_weights(clnet_model *m, const clnet__import *im, char *err, size_t len)
{
    for (int i = 0; i < clnet_model_weight_count(m); ++i) {
        clnet_weight_info info;
        clnet_tensor *t;
        clnet_status st = clnet_model_weight(m, i, &info, &t, NULL);
        if (st != CLNET_OK)
            return clnet__st_fail(err, len, st, "%s", clnet_context_error(m->ctx));
        const int layer = clnet_graph_find(im->g, info.layer);
        const clnet__import_weight *w = NULL;
        for (int j = 0; j < im->n_w && !w; ++j)
            if (im->w[j].layer == layer && !strcmp(im->w[j].name, info.name))
                w = &im->w[j];
        const int64_t count = (int64_t)info.shape.n * info.shape.h * info.shape.w * info.shape.c;
        if (!w || w->count != count)
            return clnet__st_fail(err, len, CLNET_ERR_INTERNAL,
                                  "the importer gave no %s of %lld values for layer '%s'",
                                  info.name, (long long)count, info.layer);
        if ((st = clnet_tensor_write(t, w->data, (size_t)count)) != CLNET_OK)
            return clnet__st_fail(err, len, st, "%s", clnet_context_error(m->ctx));
    }
    clnet_model_weights_changed(m);
    return CLNET_OK;
}

clnet_status clnet__import_model(clnet_context *ctx, const clnet__import *im,
                                 const clnet_model_options *opt, clnet_model **out, char *err,
                                 size_t len)
{
    clnet_model *m = NULL;
    clnet_status st = clnet_model_create(ctx, im->g, opt, &m);
    if (st != CLNET_OK)
        snprintf(err, len, "%s", clnet_context_error(ctx));
    if (st == CLNET_OK)
        st = write_weights(m, im, err, len);
    const int channels = st == CLNET_OK ? clnet_graph_layer_shape(im->g, 0).c : 0;
    if (st == CLNET_OK && im->has_norm && channels <= 4 &&
        (st = clnet_model_set_normalization(m, im->mean, im->std, channels)) != CLNET_OK)
        snprintf(err, len, "its clnet.mean / clnet.std: %s", clnet_context_error(ctx));
    if (st == CLNET_OK && im->n_labels &&
        (st = clnet_model_set_labels(m, (const char *const *)im->labels, im->n_labels)) != CLNET_OK)
        snprintf(err, len, "its clnet.labels: %s", clnet_context_error(ctx));
    if (st != CLNET_OK) {
        clnet_model_destroy(m);
        m = NULL;
    }
    *out = m;
    return st;
}
