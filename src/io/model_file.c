/* model_file.c - model files (DESIGN.md decision 9) and the metadata they carry: class
 * labels and input normalization. The format is safetensors (safetensors.c):
 *   tensors   "<layer>/<weight>" (e.g. "conv1/kernel"), F32; kernels keep the stored
 *             HWIO shape [kh, kw, in, out] (dense: [1, 1, in, out]); vectors
 *             {1, 1, 1, c} (bias, gamma, beta, moving statistics) are [c];
 *   metadata  "format": "clnet", "format_version": "1", "spec": the architecture spec,
 *             "labels": a JSON array of class names as a string, "input": "h,w,c",
 *             "mean" / "std": one number per input channel, comma-separated,
 *             "center_crop": the images' resize when it is not 0 (older files lack it).
 * Loading checks the whole file on the host first (model_check.c).
 * Tests: tests/models/test_model_file.c. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/keras.h"
#include "io/model_file.h"
#include "io/onnx.h"
#include "plan/plan.h"

/* "<layer>/<weight>": layer names are below 64 bytes, weight names short. */
#define NAME_LEN CLNET_MODEL_NAME_LEN

static int input_channels(const clnet_model *m)
{
    return m->graph->layers[m->input_layer].out.c;
}

clnet_status clnet_model_set_labels(clnet_model *m, const char *const *names, int n)
{
    if (!m)
        return CLNET_ERR_INVALID_ARG;
    const clnet__layer *out = &m->graph->layers[m->graph->n - 1];
    if (n != out->out.c && n != 0)
        return clnet__fail(m->ctx, CLNET_ERR_SHAPE,
                           "%d labels for an output of %d classes (layer '%s')", n, out->out.c,
                           out->name);
    if (n && !names)
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_model_set_labels: no names");
    char **copy = calloc((size_t)(n ? n : 1), sizeof *copy);
    clnet_status st = copy ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < n && st == CLNET_OK; ++i) {
        if (!names[i] || !clnet__utf8_valid(names[i], strlen(names[i])))
            st = clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "label %d is %s", i,
                             names[i] ? "not valid UTF-8" : "NULL");
        else if (!(copy[i] = strdup(names[i])))
            st = CLNET_ERR_OUT_OF_MEMORY;
    }
    if (st == CLNET_ERR_OUT_OF_MEMORY)
        clnet__fail(m->ctx, st, "out of host memory");
    if (st != CLNET_OK) {
        for (int i = 0; copy && i < n; ++i)
            free(copy[i]);
        free(copy);
        return st;
    }
    for (int i = 0; i < m->n_labels; ++i)
        free(m->labels[i]);
    free(m->labels);
    m->labels = copy;
    m->n_labels = n;
    return CLNET_OK;
}

int clnet_model_label_count(const clnet_model *m)
{
    return m ? m->n_labels : 0;
}

const char *clnet_model_label(const clnet_model *m, int i)
{
    return m && i >= 0 && i < m->n_labels ? m->labels[i] : NULL;
}

clnet_status clnet_model_set_normalization(clnet_model *m, const float *mean, const float *std,
                                           int channels)
{
    if (!m)
        return CLNET_ERR_INVALID_ARG;
    const int c = input_channels(m);
    if (channels != c)
        return clnet__fail(m->ctx, CLNET_ERR_SHAPE,
                           "normalization of %d channels for an input of %d channels", channels, c);
    if (c > 4)
        return clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED,
                           "input normalization covers at most 4 channels, the input has %d", c);
    for (int k = 0; k < c; ++k) {
        const float mk = mean ? mean[k] : 0.0f, sk = std ? std[k] : 1.0f;
        if (!isfinite(mk) || !isfinite(sk) || !(sk > 0.0f))
            return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                               "channel %d: mean %g and std %g (std must be finite and > 0)", k,
                               (double)mk, (double)sk);
    }
    for (int k = 0; k < c; ++k) {
        m->mean[k] = mean ? mean[k] : 0.0f;
        m->std[k] = std ? std[k] : 1.0f;
    }
    return CLNET_OK;
}

clnet_status clnet_model_set_center_crop(clnet_model *m, float center_crop)
{
    if (!m)
        return CLNET_ERR_INVALID_ARG;
    if (!(center_crop >= 0.0f && center_crop <= 1.0f))
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "center crop %g is not in [0, 1] (0: the whole image resized)",
                           (double)center_crop);
    m->center_crop = center_crop;
    return CLNET_OK;
}

float clnet_model_center_crop(const clnet_model *m)
{
    return m ? m->center_crop : 0.0f;
}

void clnet_model_normalization(const clnet_model *m, float *mean, float *std)
{
    if (!m)
        return;
    for (int k = 0; k < input_channels(m); ++k) {
        if (mean)
            mean[k] = k < 4 ? m->mean[k] : 0.0f;
        if (std)
            std[k] = k < 4 ? m->std[k] : 1.0f;
    }
}

/* The file's name and shape of weight i. */
static void weight_entry(const clnet_model *m, int i, char *name, clnet__st_entry *e)
{
    clnet__model_tensor_entry(m->info[i].layer, m->info[i].name, m->info[i].shape, name, e);
}

/* One number per input channel, "%.9g" (exact for floats), comma-separated. */
static void channel_list(const clnet_model *m, const float *v, float fallback, clnet__text *t)
{
    for (int k = 0; k < input_channels(m); ++k)
        clnet__text_put(t, "%s%.9g", k ? "," : "", (double)(k < 4 ? v[k] : fallback));
}

static clnet_status fill_weight(void *user, int i, float *dst, size_t count, char *err, size_t len)
{
    clnet_model *m = user;
    const clnet_status st = clnet_tensor_read(m->w[i], dst, count);
    if (st != CLNET_OK)
        snprintf(err, len, "reading weight '%s/%s' from the device: %s", m->info[i].layer,
                 m->info[i].name, clnet_context_error(m->ctx));
    return st;
}

clnet_status clnet_model_save(clnet_model *m, const char *path)
{
    if (!m || !path)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_model_save: no path")
                 : CLNET_ERR_INVALID_ARG;
    const int n = m->n_weights;
    char *names = malloc((size_t)(n ? n : 1) * NAME_LEN), *spec = NULL, *labels = NULL;
    clnet__st_entry *e = malloc((size_t)(n ? n : 1) * sizeof *e);
    cJSON *array = cJSON_CreateArray();
    char err[1024] = "", input[64], crop[32];
    clnet__text mean = {0}, std = {0};
    clnet_status st = names && e && array ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < m->n_labels && st == CLNET_OK; ++i)
        if (!cJSON_AddItemToArray(array, cJSON_CreateString(m->labels[i])))
            st = CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK && !(labels = cJSON_PrintUnformatted(array)))
        st = CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK && (st = clnet_graph_to_spec(m->graph, &spec)) != CLNET_OK)
        snprintf(err, sizeof err, "writing the architecture spec failed");
    if (st == CLNET_OK) {
        for (int i = 0; i < n; ++i)
            weight_entry(m, i, names + (size_t)i * NAME_LEN, &e[i]);
        const clnet_shape in = m->graph->layers[m->input_layer].out;
        snprintf(input, sizeof input, "%d,%d,%d", in.h, in.w, in.c);
        channel_list(m, m->mean, 0.0f, &mean);
        channel_list(m, m->std, 1.0f, &std);
        if (mean.failed || std.failed)
            st = CLNET_ERR_OUT_OF_MEMORY;
    }
    if (st == CLNET_OK) {
        snprintf(crop, sizeof crop, "%.9g", (double)m->center_crop);
        const char *const meta[][2] = {
            {"format", "clnet"}, {"format_version", CLNET_MODEL_FORMAT_VERSION},
            {"spec", spec},      {"labels", labels},
            {"input", input},    {"mean", mean.buf},
            {"std", std.buf},    {"center_crop", crop}};
        /* A model without a crop writes what files before center_crop did. */
        const int keys = (int)CLNET_COUNTOF(meta) - (m->center_crop > 0.0f ? 0 : 1);
        st = clnet__st_save(path, e, n, meta, keys, fill_weight, m, err, sizeof err);
    } else if (!err[0]) {
        snprintf(err, sizeof err, "out of host memory");
    }
    clnet_free(spec);
    free(mean.buf);
    free(std.buf);
    cJSON_free(labels);
    cJSON_Delete(array);
    free(e);
    free(names);
    return st == CLNET_OK ? st : clnet__fail(m->ctx, st, "saving model '%s': %s", path, err);
}

/* ---- loading ---- */

/* Every weight's tensor, in the model's order, onto the device; the file was checked
 * against the model's graph already (clnet__model_file_check). */
static clnet_status read_weights(clnet_model *m, clnet__st_file *f, char *err, size_t len)
{
    size_t most = 1;
    for (int t = 0; t < f->n; ++t)
        most = f->tensors[t].count > most ? (size_t)f->tensors[t].count : most;
    float *buf = malloc(most * sizeof *buf);
    clnet_status st = buf ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
    if (!buf)
        snprintf(err, len, "out of host memory");
    for (int i = 0; i < m->n_weights && st == CLNET_OK; ++i) {
        char name[NAME_LEN];
        clnet__st_entry e;
        weight_entry(m, i, name, &e);
        const int t = clnet__st_find(f, name);
        const size_t count = (size_t)f->tensors[t].count;
        st = clnet__st_read(f, t, buf, count, err, len);
        if (st == CLNET_OK && (st = clnet_tensor_write(m->w[i], buf, count)) != CLNET_OK)
            snprintf(err, len, "%s", clnet_context_error(m->ctx));
    }
    free(buf);
    if (st == CLNET_OK)
        clnet_model_weights_changed(m);
    return st;
}

clnet_status clnet_model_load(clnet_context *ctx, const char *path, const clnet_model_options *opt,
                              clnet_model **out)
{
    if (!out)
        return ctx ? clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "clnet_model_load: no out")
                   : CLNET_ERR_INVALID_ARG;
    *out = NULL;
    if (!ctx || !path)
        return ctx ? clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "clnet_model_load: no path")
                   : CLNET_ERR_INVALID_ARG;
    if (clnet__onnx_path(path))
        return clnet_model_import_onnx(ctx, path, NULL, opt, out);
    if (clnet__keras_path(path))
        return clnet_model_import_keras(ctx, path, NULL, opt, out);
    char err[1024] = "";
    clnet__st_file *f = NULL;
    clnet__model_file mf = {0};
    clnet_model *m = NULL;
    clnet_status st = clnet__st_open(path, &f, err, sizeof err);
    /* Everything the file claims is checked before a model (and its device memory) exists. */
    if (st == CLNET_OK)
        st = clnet__model_file_check(f, &mf, err, sizeof err);
    if (st == CLNET_OK && (st = clnet__model_create(ctx, mf.g, opt, 0, &m)) != CLNET_OK)
        snprintf(err, sizeof err, "%s", clnet_context_error(ctx));
    if (st == CLNET_OK)
        st = read_weights(m, f, err, sizeof err);
    if (st == CLNET_OK && mf.has_norm &&
        (st = clnet_model_set_normalization(m, mf.mean, mf.std, input_channels(m))) != CLNET_OK)
        snprintf(err, sizeof err, "%s", clnet_context_error(ctx));
    if (st == CLNET_OK)
        m->center_crop = mf.center_crop;
    if (st == CLNET_OK && mf.n_labels &&
        (st = clnet_model_set_labels(m, (const char *const *)mf.labels, mf.n_labels)) != CLNET_OK)
        snprintf(err, sizeof err, "%s", clnet_context_error(ctx));
    clnet__model_file_free(&mf);
    clnet__st_close(f);
    if (st != CLNET_OK) {
        clnet_model_destroy(m);
        return clnet__fail(ctx, st, "model file '%s': %s", path, err);
    }
    *out = m;
    return CLNET_OK;
}
