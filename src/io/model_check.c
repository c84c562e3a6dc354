/* model_check.c - a model file checked on the host before any model exists (model_file.h):
 * the graph comes from the spec, and the weights it describes are matched against the
 * file's tensors by name, shape and size before clnet_model_load (model_file.c) creates
 * a model and allocates device memory. A 144-byte file whose spec declares a 16384 x 16384
 * dense layer is refused here in microseconds instead of after 2 GB of weights.
 * Tests: tests/models/test_model_file.c; fuzzed by fuzz/fuzz_model_file.c. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"

void clnet__model_tensor_entry(const char *layer, const char *weight, clnet_shape s, char *name,
                               clnet__st_entry *e)
{
    snprintf(name, CLNET_MODEL_NAME_LEN, "%s/%s", layer, weight);
    e->name = name;
    if (s.n == 1 && s.h == 1 && s.w == 1 && strcmp(weight, "kernel") != 0) {
        e->rank = 1;
        e->shape[0] = s.c;
    } else {
        e->rank = 4;
        e->shape[0] = s.n;
        e->shape[1] = s.h;
        e->shape[2] = s.w;
        e->shape[3] = s.c;
    }
}

static clnet_status read_spec(clnet__st_file *f, clnet__model_file *mf, char *err, size_t len)
{
    const char *format = NULL, *version = NULL, *spec = NULL;
    CLNET_TRY(clnet__st_meta_require(f, "format", &format, err, len));
    if (strcmp(format, "clnet") != 0)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "not a clnet model: __metadata__ format is \"%.64s\"", format);
    CLNET_TRY(clnet__st_meta_require(f, "format_version", &version, err, len));
    if (strcmp(version, CLNET_MODEL_FORMAT_VERSION) != 0)
        return clnet__st_fail(
            err, len, CLNET_ERR_UNSUPPORTED,
            "format_version \"%.32s\": this clnet reads version " CLNET_MODEL_FORMAT_VERSION,
            version);
    CLNET_TRY(clnet__st_meta_require(f, "spec", &spec, err, len));
    char gerr[768] = "";
    const clnet_status st = clnet_graph_from_spec(spec, "spec", &mf->g, gerr, sizeof gerr);
    if (st != CLNET_OK)
        return clnet__st_fail(err, len, st,
                              "the architecture spec in __metadata__ does not parse: %s", gerr);
    int inputs = 0;
    for (int i = 0; i < mf->g->n; ++i)
        if (!mf->g->layers[i].op) {
            mf->input = i;
            ++inputs;
        }
    if (inputs != 1 || mf->g->n < 2)
        return clnet__st_fail(
            err, len, CLNET_ERR_UNSUPPORTED,
            "the architecture spec has %d input layers and %d layers: a model takes one "
            "input and at least one layer after it",
            inputs, mf->g->n);
    return CLNET_OK;
}

/* Is the file's tensor called name a weight of g? */
static int is_weight(const clnet_graph *g, const char *name)
{
    const char *slash = strrchr(name, '/');
    char layer[CLNET_MODEL_NAME_LEN];
    if (!slash || (size_t)(slash - name) >= sizeof layer)
        return 0;
    snprintf(layer, sizeof layer, "%.*s", (int)(slash - name), name);
    const clnet_layer l = clnet_graph_find(g, layer);
    for (int k = 0; l != CLNET_LAYER_NONE && k < g->layers[l].n_w; ++k)
        if (strcmp(g->layers[l].w[k].name, slash + 1) == 0)
            return 1;
    return 0;
}

/* Every weight of g has its tensor with its shape (F32: the reader takes no other
 * dtype), and nothing else is there. Since the file's tensors tile its data section,
 * that also bounds the spec's weights by the file's bytes; a spec declaring more than
 * the file holds says so where it names the first missing tensor. */
static clnet_status match_tensors(const clnet__st_file *f, const clnet_graph *g, char *err,
                                  size_t len)
{
    const uint64_t data = f->size - f->data_start;
    uint64_t need = 0;
    for (int i = 0; i < g->n; ++i)
        for (int k = 0; k < g->layers[i].n_w; ++k)
            need += (uint64_t)clnet__shape_count(g->layers[i].w[k].shape) * sizeof(float);
    char beyond[160] = "";
    if (need > data)
        snprintf(beyond, sizeof beyond,
                 "; the spec's weights need %llu bytes, the file holds %llu bytes of tensor data",
                 (unsigned long long)need, (unsigned long long)data);
    for (int i = 0; i < g->n; ++i)
        for (int k = 0; k < g->layers[i].n_w; ++k) {
            const clnet__layer *l = &g->layers[i];
            char name[CLNET_MODEL_NAME_LEN], a[160], b[160];
            clnet__st_entry e;
            clnet__model_tensor_entry(l->name, l->w[k].name, l->w[k].shape, name, &e);
            const int t = clnet__st_find(f, name);
            if (t < 0)
                return clnet__st_fail(
                    err, len, CLNET_ERR_PARSE,
                    "tensor '%s' is missing (the spec's layer '%s' has a weight '%s' of "
                    "shape %s%s)",
                    name, l->name, l->w[k].name, clnet__st_shape_text(e.shape, e.rank, b, sizeof b),
                    beyond);
            const clnet__st_tensor *ft = &f->tensors[t];
            int same = ft->rank == e.rank;
            for (int d = 0; same && d < e.rank; ++d)
                same = ft->shape[d] == e.shape[d];
            if (!same)
                return clnet__st_fail(err, len, CLNET_ERR_SHAPE,
                                      "tensor '%s' has shape %s, the spec's weight has %s", name,
                                      clnet__st_shape_text(ft->shape, ft->rank, a, sizeof a),
                                      clnet__st_shape_text(e.shape, e.rank, b, sizeof b));
        }
    for (int t = 0; t < f->n; ++t)
        if (!is_weight(g, f->tensors[t].name))
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "tensor '%.200s' is not a weight of the spec's model",
                                  f->tensors[t].name);
    return CLNET_OK;
}

/* "a,b,c" of exactly n finite numbers into v. */
static int parse_floats(const char *text, float *v, int n)
{
    const char *p = text;
    for (int k = 0; k < n; ++k) {
        char *end = NULL;
        v[k] = strtof(p, &end);
        if (end == p || !isfinite(v[k]) || *end != (k + 1 < n ? ',' : '\0'))
            return 0;
        p = end + 1;
    }
    return 1;
}

static clnet_status read_input_and_norm(const clnet__st_file *f, clnet__model_file *mf, char *err,
                                        size_t len)
{
    const clnet_shape in = mf->g->layers[mf->input].out;
    const char *input = clnet__st_meta(f, "input");
    int h = 0, w = 0, c = 0;
    char tail = 0;
    /* %d of a number past int is undefined: the digits are limited first. */
    if (input && (strlen(input) > 32 || sscanf(input, "%9d,%9d,%9d%c", &h, &w, &c, &tail) != 3 ||
                  h != in.h || w != in.w || c != in.c))
        return clnet__st_fail(
            err, len, CLNET_ERR_PARSE,
            "__metadata__ input \"%.32s\" does not match the spec's input %d,%d,%d", input, in.h,
            in.w, in.c);
    const char *crop = clnet__st_meta(f, "center_crop");
    if (crop && (!parse_floats(crop, &mf->center_crop, 1) ||
                 !(mf->center_crop >= 0.0f && mf->center_crop <= 1.0f)))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "__metadata__ center_crop \"%.32s\" is not a number in [0, 1]", crop);
    const char *mean = clnet__st_meta(f, "mean"), *std = clnet__st_meta(f, "std");
    for (int k = 0; k < 4; ++k) {
        mf->mean[k] = 0.0f;
        mf->std[k] = 1.0f;
    }
    if (in.c > 4)
        return CLNET_OK; /* normalization covers at most 4 channels */
    if ((mean && !parse_floats(mean, mf->mean, in.c)) || (std && !parse_floats(std, mf->std, in.c)))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "__metadata__ mean \"%.64s\" / std \"%.64s\" are not %d numbers each",
                              mean ? mean : "", std ? std : "", in.c);
    for (int k = 0; k < in.c; ++k)
        if (!(mf->std[k] > 0.0f))
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "__metadata__ std \"%.64s\": channel %d is %g (must be > 0)", std,
                                  k, (double)mf->std[k]);
    mf->has_norm = 1;
    return CLNET_OK;
}

static clnet_status read_labels(const clnet__st_file *f, clnet__model_file *mf, char *err,
                                size_t len)
{
    const char *text = clnet__st_meta(f, "labels");
    if (!text)
        return CLNET_OK;
    const int classes = mf->g->layers[mf->g->n - 1].out.c;
    cJSON *array = cJSON_Parse(text);
    const int n = cJSON_IsArray(array) ? cJSON_GetArraySize(array) : -1;
    clnet_status st = CLNET_OK;
    if (n < 0)
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                            "__metadata__ labels is not a JSON array of strings");
    else if (n != classes && n != 0)
        st = clnet__st_fail(err, len, CLNET_ERR_SHAPE,
                            "%d labels for an output of %d classes (layer '%s')", n, classes,
                            mf->g->layers[mf->g->n - 1].name);
    else if (n && !(mf->labels = calloc((size_t)n, sizeof *mf->labels)))
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    const cJSON *e = st == CLNET_OK ? array->child : NULL;
    for (int i = 0; e && st == CLNET_OK; e = e->next, ++i) {
        if (!cJSON_IsString(e))
            st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                "__metadata__ labels is not a JSON array of strings");
        else if (!clnet__utf8_valid(e->valuestring, strlen(e->valuestring)))
            st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                "__metadata__ label %d is not valid UTF-8", i);
        else if (!(mf->labels[i] = strdup(e->valuestring)))
            st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        mf->n_labels = i + 1; /* freed by clnet__model_file_free, NULL or not */
    }
    cJSON_Delete(array);
    return st;
}

clnet_status clnet__model_file_check(clnet__st_file *f, clnet__model_file *out, char *err,
                                     size_t len)
{
    memset(out, 0, sizeof *out);
    clnet_status st = read_spec(f, out, err, len);
    if (st == CLNET_OK)
        st = match_tensors(f, out->g, err, len);
    if (st == CLNET_OK)
        st = read_input_and_norm(f, out, err, len);
    if (st == CLNET_OK)
        st = read_labels(f, out, err, len);
    if (st != CLNET_OK)
        clnet__model_file_free(out);
    return st;
}

void clnet__model_file_free(clnet__model_file *mf)
{
    if (!mf)
        return;
    clnet_graph_destroy(mf->g);
    for (int i = 0; i < mf->n_labels; ++i)
        free(mf->labels[i]);
    free(mf->labels);
    memset(mf, 0, sizeof *mf);
}
