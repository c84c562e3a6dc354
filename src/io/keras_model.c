/* keras_model.c - Keras files as models on a device: a whole model (Keras 2 .h5, Keras 3
 * .keras, TF.js model.json) through its format's reader and keras_import.c, or a
 * weights-only .h5 loaded onto a model of the same architecture, as Keras's
 * load_weights does it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "graph/graph.h"
#include "io/keras.h"
#include "io/keras_hdf5.h"
#include "io/safetensors.h"
#include "plan/plan.h"

static int ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n > k && !strcasecmp(s + n - k, suffix);
}

int clnet__keras_path(const char *path)
{
    return path && (ends_with(path, ".h5") || ends_with(path, ".hdf5") ||
                    ends_with(path, ".keras") || ends_with(path, ".json"));
}

clnet_status clnet__keras_import_file(const char *path, const clnet_onnx_options *opt,
                                      int graph_only, clnet__import *out, char *err, size_t len)
{
    memset(out, 0, sizeof *out);
    cJSON *model = NULL;
    clnet__keras_source src;
    clnet_status st;
    void (*close)(clnet__keras_source *) = NULL;
    if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) {
        st = clnet__keras_h5_open(path, NULL, 0, &model, &src, err, len);
        close = clnet__keras_h5_close;
    } else if (ends_with(path, ".keras")) {
        st = clnet__keras_v3_open(path, NULL, 0, &model, &src, err, len);
        close = clnet__keras_v3_close;
    } else if (ends_with(path, ".json")) {
        st = clnet__keras_tfjs_open(path, NULL, 0, &model, &src, err, len);
        close = clnet__keras_tfjs_close;
    } else {
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                              "'%s' is no Keras file clnet reads (.h5, .hdf5, .keras, TF.js "
                              ".json)",
                              path);
    }
    if (st == CLNET_OK)
        st = clnet__keras_import_config(model, graph_only ? NULL : &src, opt, out, err, len);
    if (close)
        close(&src);
    cJSON_Delete(model);
    return st;
}

clnet_status clnet_model_import_keras(clnet_context *ctx, const char *path,
                                      const clnet_keras_options *keras,
                                      const clnet_model_options *opt, clnet_model **out)
{
    if (!out)
        return ctx ? clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "clnet_model_import_keras: no out")
                   : CLNET_ERR_INVALID_ARG;
    *out = NULL;
    if (!ctx || !path)
        return ctx ? clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "clnet_model_import_keras: no path")
                   : CLNET_ERR_INVALID_ARG;
    char err[8192] = "";
    clnet__import im;
    clnet_status st = clnet__keras_import_file(path, keras, 0, &im, err, sizeof err);
    if (st == CLNET_OK)
        st = clnet__import_model(ctx, &im, opt, out, err, sizeof err);
    clnet__import_free(&im);
    /* The readers name the file; the importer's list of layers does not. */
    return st == CLNET_OK      ? st
           : strstr(err, path) ? clnet__fail(ctx, st, "%s", err)
                               : clnet__fail(ctx, st, "Keras model '%s': %s", path, err);
}

clnet_status clnet_graph_from_keras(const char *path, const clnet_keras_options *keras,
                                    clnet_graph **out, char *err, size_t err_len)
{
    if (!out || !path)
        return clnet__st_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                              "clnet_graph_from_keras: no path or out");
    *out = NULL;
    char buf[8192];
    clnet__import im;
    const clnet_status st = clnet__keras_import_file(path, keras, 1, &im, buf, sizeof buf);
    if (st != CLNET_OK)
        return strstr(buf, path)
                   ? clnet__st_fail(err, err_len, st, "%s", buf)
                   : clnet__st_fail(err, err_len, st, "Keras model '%s': %s", path, buf);
    *out = im.g;
    im.g = NULL;
    clnet__import_free(&im);
    return CLNET_OK;
}

/* ---- weights-only files ---- */

/* A layer's weights in a weights file: its datasets in the file's order. A nested model
 * is one group holding the weights of its layers ("model/conv1/kernel:0", trainable ones
 * first), here taken apart by the layer name before the weight's. */
#define MAX_LAYER_WEIGHTS 8

typedef struct wlayer {
    char name[128];
    char *paths[MAX_LAYER_WEIGHTS]; /* malloc'd */
    int n;
} wlayer;

typedef struct wfile {
    clnet__hdf5 *f;
    wlayer *layers; /* in the file's order (layer_names) */
    int n, cap;
} wfile;

static void wfile_free(wfile *w)
{
    for (int i = 0; i < w->n; ++i)
        for (int k = 0; k < w->layers[i].n; ++k)
            free(w->layers[i].paths[k]);
    free(w->layers);
}

/* The layer a weight name belongs to: the component before the weight's ("conv1" of
 * "model/conv1/kernel:0"), or group when the name has none. */
static void owner(const char *weight, const char *group, char out[128])
{
    const char *last = strrchr(weight, '/');
    if (!last) {
        snprintf(out, 128, "%s", group);
        return;
    }
    const char *start = last;
    while (start > weight && start[-1] != '/')
        --start;
    snprintf(out, 128, "%.*s", (int)(last - start), start);
}

static clnet_status add_weight(wfile *w, const char *layer, const char *path)
{
    wlayer *l = NULL;
    for (int i = 0; i < w->n && !l; ++i)
        if (!strcmp(w->layers[i].name, layer))
            l = &w->layers[i];
    if (!l) {
        if (w->n == w->cap) {
            const int cap = w->cap ? 2 * w->cap : 64;
            wlayer *grown = realloc(w->layers, (size_t)cap * sizeof *grown);
            if (!grown)
                return CLNET_ERR_OUT_OF_MEMORY;
            w->layers = grown;
            w->cap = cap;
        }
        l = &w->layers[w->n++];
        memset(l, 0, sizeof *l);
        snprintf(l->name, sizeof l->name, "%s", layer);
    }
    if (l->n == MAX_LAYER_WEIGHTS)
        return CLNET_ERR_PARSE;
    return (l->paths[l->n] = strdup(path)) ? (++l->n, CLNET_OK) : CLNET_ERR_OUT_OF_MEMORY;
}

static clnet_status weighted_layers(clnet__hdf5 *f, const char *path, wfile *w, char *err,
                                    size_t len)
{
    char **groups;
    const int n = clnet__hdf5_attr_strings(f, "/", "layer_names", &groups);
    if (n < 0)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s' has no layer_names: it is no Keras weights file", path);
    w->f = f;
    clnet_status st = CLNET_OK;
    for (int i = 0; st == CLNET_OK && i < n; ++i) {
        char group[600], **names, layer[128], full[1200];
        snprintf(group, sizeof group, "/%s", groups[i]);
        const int k = clnet__hdf5_attr_strings(f, group, "weight_names", &names);
        for (int j = 0; st == CLNET_OK && j < k; ++j) {
            owner(names[j], groups[i], layer);
            snprintf(full, sizeof full, "%s/%s", group, names[j]);
            st = add_weight(w, layer, full);
            if (st == CLNET_ERR_PARSE)
                clnet__st_fail(err, len, st, "'%s': layer '%s' has over %d weights", path, layer,
                               MAX_LAYER_WEIGHTS);
            else if (st != CLNET_OK)
                clnet__st_fail(err, len, st, "out of host memory");
        }
        clnet__hdf5_strings_free(names, k);
    }
    clnet__hdf5_strings_free(groups, n);
    return st;
}

/* Writes the weights of the file's layer l (in its order) onto model weights first ..
 * first + n - 1, which belong to one layer, checking each size (write 0: only checks). */
static clnet_status load_layer(clnet_model *m, const wfile *w, const wlayer *l, int first, int n,
                               int write, char *err, size_t len)
{
    clnet_weight_info info;
    clnet_tensor *t;
    clnet_model_weight(m, first, &info, &t, NULL);
    if (l->n != n)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "layer '%s' has %d weights, and the file's '%s' %d", info.layer, n,
                              l->name, l->n);
    clnet_status st = CLNET_OK;
    for (int i = 0; st == CLNET_OK && i < n; ++i) {
        clnet_model_weight(m, first + i, &info, &t, NULL);
        const int64_t count = (int64_t)info.shape.n * info.shape.h * info.shape.w * info.shape.c;
        int64_t dims[CLNET_HDF5_MAX_RANK];
        const int rank = clnet__hdf5_shape(w->f, l->paths[i], dims);
        int64_t have = rank < 0 ? -1 : 1;
        for (int d = 0; d < rank; ++d)
            have *= dims[d];
        float *data =
            have == count && write ? malloc((size_t)(count ? count : 1) * sizeof *data) : NULL;
        if (have != count)
            st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                "%s of layer '%s' has %lld values, and the file's %s %lld",
                                info.name, info.layer, (long long)count, l->paths[i],
                                (long long)have);
        else if (write && !data)
            st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        else if (write &&
                 (st = clnet__hdf5_read(w->f, l->paths[i], data, count, err, len)) == CLNET_OK &&
                 (st = clnet_tensor_write(t, data, (size_t)count)) != CLNET_OK)
            snprintf(err, len, "%s", clnet_context_error(m->ctx));
        free(data);
    }
    return st;
}

/* The file's layer with the model layer's name, or -1. */
static int file_layer(const wfile *w, const char *name)
{
    for (int j = 0; j < w->n; ++j)
        if (!strcmp(w->layers[j].name, name))
            return j;
    return -1;
}

/* Loads the weights: by name when any of the model's layers with weights has a group of
 * its name in the file (then every such group of the file must find its layer, and the
 * model's other layers keep theirs), else in order (Keras's load_weights without by_name),
 * the counts equal. Every size is checked before anything is written. */
static clnet_status load_weights(clnet_model *m, const wfile *w, int *loaded, char *err, size_t len)
{
    const int n_w = clnet_model_weight_count(m);
    int n_layers = 0, named = 0;
    clnet_weight_info info, next;
    clnet_tensor *t;
    for (int i = 0; i < n_w; ++i) {
        clnet_model_weight(m, i, &info, &t, NULL);
        if (i && clnet_model_weight(m, i - 1, &next, &t, NULL) == CLNET_OK &&
            !strcmp(next.layer, info.layer))
            continue;
        ++n_layers;
        named += file_layer(w, info.layer) >= 0;
    }
    if (!named && n_layers != w->n)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "the model has %d layers with weights, and the file %d (and no "
                              "name in common, so they cannot be matched by name)",
                              n_layers, w->n);
    if (named && named < w->n) {
        clnet__text t2 = {0};
        for (int j = 0, listed = 0; j < w->n; ++j) {
            int found = 0;
            for (int i = 0; i < n_w && !found; ++i)
                found = clnet_model_weight(m, i, &info, &t, NULL) == CLNET_OK &&
                        !strcmp(info.layer, w->layers[j].name);
            if (!found && listed++ < 8)
                clnet__text_put(&t2, "%s'%s'", listed > 1 ? ", " : "", w->layers[j].name);
        }
        const clnet_status st =
            clnet__st_fail(err, len, CLNET_ERR_PARSE, "the file's layers %s%s are not in the model",
                           t2.buf ? t2.buf : "", w->n - named > 8 ? " ..." : "");
        free(t2.buf);
        return st;
    }
    for (int pass = 0; pass < 2; ++pass) {
        *loaded = 0;
        for (int i = 0, layer = 0; i < n_w; ++layer) {
            clnet_model_weight(m, i, &info, &t, NULL);
            int n = 1;
            while (i + n < n_w && clnet_model_weight(m, i + n, &next, &t, NULL) == CLNET_OK &&
                   !strcmp(next.layer, info.layer))
                ++n;
            const int j = named ? file_layer(w, info.layer) : layer;
            if (j >= 0) {
                const clnet_status st = load_layer(m, w, &w->layers[j], i, n, pass, err, len);
                if (st != CLNET_OK)
                    return st;
                ++*loaded;
            }
            i += n;
        }
    }
    clnet_model_weights_changed(m);
    return CLNET_OK;
}

clnet_status clnet_model_load_keras_weights(clnet_model *m, const char *path, int *loaded)
{
    if (!m || !path)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                               "clnet_model_load_keras_weights: no path")
                 : CLNET_ERR_INVALID_ARG;
    char err[4096] = "";
    clnet__hdf5 *f = NULL;
    wfile w = {0};
    clnet_status st = clnet__hdf5_open(path, NULL, 0, path, &f, err, sizeof err);
    if (st == CLNET_OK)
        st = weighted_layers(f, path, &w, err, sizeof err);
    int count = 0;
    if (st == CLNET_OK)
        st = load_weights(m, &w, &count, err, sizeof err);
    if (loaded)
        *loaded = st == CLNET_OK ? count : 0;
    wfile_free(&w);
    clnet__hdf5_close(f);
    return st == CLNET_OK ? st : clnet__fail(m->ctx, st, "Keras weights '%s': %s", path, err);
}
