/* model_file.c - model files (DESIGN.md decision 9) and the metadata they carry: class
 * labels and input normalization. The format is safetensors (safetensors.c):
 *   tensors   "<layer>/<weight>" (e.g. "conv1/kernel"), F32; kernels keep the stored
 *             HWIO shape [kh, kw, in, out] (dense: [1, 1, in, out]); vectors
 *             {1, 1, 1, c} (bias, gamma, beta, moving statistics) are [c];
 *   metadata  "format": "clnet", "format_version": "1", "spec": the architecture spec,
 *             "labels": a JSON array of class names as a string, "input": "h,w,c",
 *             "mean" / "std": one number per input channel, comma-separated.
 * Tests: tests/models/test_model_file.c. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"

#define FORMAT_VERSION "1"
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

void clnet__model_weight_entry(const clnet_model *m, int i, char *name, clnet__st_entry *e)
{
    const clnet_weight_info *w = &m->info[i];
    snprintf(name, NAME_LEN, "%s/%s", w->layer, w->name);
    const clnet_shape s = w->shape;
    e->name = name;
    if (s.n == 1 && s.h == 1 && s.w == 1 && strcmp(w->name, "kernel") != 0) {
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

clnet_status clnet__model_meta_make(clnet_model *m, clnet__model_meta *mm, char *err, size_t len)
{
    memset(mm, 0, sizeof *mm);
    cJSON *array = cJSON_CreateArray();
    clnet_status st = array ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < m->n_labels && st == CLNET_OK; ++i)
        if (!cJSON_AddItemToArray(array, cJSON_CreateString(m->labels[i])))
            st = CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK && !(mm->labels = cJSON_PrintUnformatted(array)))
        st = CLNET_ERR_OUT_OF_MEMORY;
    cJSON_Delete(array);
    if (st == CLNET_OK && (st = clnet_graph_to_spec(m->graph, &mm->spec)) != CLNET_OK) {
        snprintf(err, len, "writing the architecture spec failed");
        return st;
    }
    if (st == CLNET_OK) {
        const clnet_shape in = m->graph->layers[m->input_layer].out;
        snprintf(mm->input, sizeof mm->input, "%d,%d,%d", in.h, in.w, in.c);
        channel_list(m, m->mean, 0.0f, &mm->mean);
        channel_list(m, m->std, 1.0f, &mm->std);
        if (mm->mean.failed || mm->std.failed)
            st = CLNET_ERR_OUT_OF_MEMORY;
    }
    if (st != CLNET_OK) {
        snprintf(err, len, "out of host memory");
        return st;
    }
    const char *const pairs[][2] = {{"format_version", FORMAT_VERSION},
                                    {"spec", mm->spec},
                                    {"labels", mm->labels},
                                    {"input", mm->input},
                                    {"mean", mm->mean.buf},
                                    {"std", mm->std.buf}};
    memcpy(mm->pairs, pairs, sizeof pairs);
    mm->n = (int)CLNET_COUNTOF(pairs);
    return CLNET_OK;
}

void clnet__model_meta_free(clnet__model_meta *mm)
{
    clnet_free(mm->spec);
    cJSON_free(mm->labels);
    free(mm->mean.buf);
    free(mm->std.buf);
    memset(mm, 0, sizeof *mm);
}

clnet_status clnet_model_save(clnet_model *m, const char *path)
{
    if (!m || !path)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_model_save: no path")
                 : CLNET_ERR_INVALID_ARG;
    const int n = m->n_weights;
    char *names = malloc((size_t)(n ? n : 1) * NAME_LEN);
    clnet__st_entry *e = malloc((size_t)(n ? n : 1) * sizeof *e);
    char err[1024] = "out of host memory";
    clnet__model_meta mm;
    memset(&mm, 0, sizeof mm);
    clnet_status st = names && e ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK)
        st = clnet__model_meta_make(m, &mm, err, sizeof err);
    if (st == CLNET_OK) {
        for (int i = 0; i < n; ++i)
            clnet__model_weight_entry(m, i, names + (size_t)i * NAME_LEN, &e[i]);
        const char *meta[1 + CLNET_MODEL_META][2] = {{"format", "clnet"}};
        memcpy(meta + 1, mm.pairs, sizeof mm.pairs);
        st = clnet__st_save(path, e, n, (const char *const(*)[2])meta, 1 + mm.n, fill_weight, m,
                            err, sizeof err);
    }
    clnet__model_meta_free(&mm);
    free(e);
    free(names);
    return st == CLNET_OK ? st : clnet__fail(m->ctx, st, "saving model '%s': %s", path, err);
}

/* ---- loading ---- */

/* Everything a load holds, released in one place. */
typedef struct load_job {
    clnet_context *ctx;
    clnet__st_file *f;
    clnet_graph *g;
    clnet_model *m;
    float *buf;
    char err[1024];
} load_job;

static clnet_status job_fail(load_job *j, clnet_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static clnet_status job_fail(load_job *j, clnet_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof j->err, fmt, ap);
    va_end(ap);
    return st;
}

/* A failure the library recorded on the context, moved into the job's message. */
static clnet_status ctx_fail(load_job *j, clnet_status st)
{
    return job_fail(j, st, "%s", clnet_context_error(j->ctx));
}

static clnet_status read_spec(load_job *j)
{
    const char *format = NULL, *version = NULL, *spec = NULL;
    CLNET_TRY(clnet__st_meta_require(j->f, "format", &format, j->err, sizeof j->err));
    if (strcmp(format, "clnet") != 0)
        return job_fail(j, CLNET_ERR_PARSE, "not a clnet model: __metadata__ format is \"%.64s\"",
                        format);
    CLNET_TRY(clnet__st_meta_require(j->f, "format_version", &version, j->err, sizeof j->err));
    if (strcmp(version, FORMAT_VERSION) != 0)
        return job_fail(j, CLNET_ERR_UNSUPPORTED,
                        "format_version \"%.32s\": this clnet reads version " FORMAT_VERSION,
                        version);
    CLNET_TRY(clnet__st_meta_require(j->f, "spec", &spec, j->err, sizeof j->err));
    char gerr[768] = "";
    const clnet_status st = clnet_graph_from_spec(spec, "spec", &j->g, gerr, sizeof gerr);
    if (st != CLNET_OK)
        return job_fail(j, st, "the architecture spec in __metadata__ does not parse: %s", gerr);
    return CLNET_OK;
}

/* Is the file's tensor t a weight of the model? */
static int is_weight(const clnet_model *m, const char *name)
{
    const char *slash = strrchr(name, '/');
    char layer[NAME_LEN];
    if (!slash || (size_t)(slash - name) >= sizeof layer)
        return 0;
    snprintf(layer, sizeof layer, "%.*s", (int)(slash - name), name);
    const clnet_layer l = clnet_graph_find(m->graph, layer);
    for (int k = 0; l != CLNET_LAYER_NONE && k < m->graph->layers[l].n_w; ++k)
        if (strcmp(m->graph->layers[l].w[k].name, slash + 1) == 0)
            return 1;
    return 0;
}

/* Every weight of the model has its tensor with its shape, and nothing else is there;
 * checked before anything is read. */
static clnet_status match_tensors(load_job *j, size_t *most)
{
    const clnet_model *m = j->m;
    *most = 1;
    for (int i = 0; i < m->n_weights; ++i) {
        char name[NAME_LEN], a[160], b[160];
        clnet__st_entry e;
        clnet__model_weight_entry(m, i, name, &e);
        const int t = clnet__st_find(j->f, name);
        if (t < 0)
            return job_fail(j, CLNET_ERR_PARSE,
                            "tensor '%s' is missing (the spec's layer '%s' "
                            "has a weight '%s')",
                            name, m->info[i].layer, m->info[i].name);
        const clnet__st_tensor *ft = &j->f->tensors[t];
        int same = ft->rank == e.rank;
        for (int d = 0; same && d < e.rank; ++d)
            same = ft->shape[d] == e.shape[d];
        if (!same) {
            size_t ua = 0, ub = 0;
            for (int d = 0; d < ft->rank; ++d)
                ua += (size_t)snprintf(a + ua, sizeof a - ua, "%s%lld", d ? "," : "",
                                       (long long)ft->shape[d]);
            for (int d = 0; d < e.rank; ++d)
                ub += (size_t)snprintf(b + ub, sizeof b - ub, "%s%lld", d ? "," : "",
                                       (long long)e.shape[d]);
            return job_fail(j, CLNET_ERR_SHAPE,
                            "tensor '%s' has shape [%s], the spec's weight has [%s]", name, a, b);
        }
        *most = ft->count > *most ? (size_t)ft->count : *most;
    }
    for (int t = 0; t < j->f->n; ++t)
        if (!is_weight(m, j->f->tensors[t].name))
            return job_fail(j, CLNET_ERR_PARSE,
                            "tensor '%.200s' is not a weight of the spec's model",
                            j->f->tensors[t].name);
    return CLNET_OK;
}

static clnet_status read_weights(load_job *j)
{
    size_t most = 1;
    CLNET_TRY(match_tensors(j, &most));
    if (!(j->buf = malloc(most * sizeof *j->buf)))
        return job_fail(j, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < j->m->n_weights; ++i) {
        char name[NAME_LEN];
        clnet__st_entry e;
        clnet__model_weight_entry(j->m, i, name, &e);
        const int t = clnet__st_find(j->f, name);
        const size_t count = (size_t)j->f->tensors[t].count;
        CLNET_TRY(clnet__st_read(j->f, t, j->buf, count, j->err, sizeof j->err));
        if (clnet_tensor_write(j->m->w[i], j->buf, count) != CLNET_OK)
            return ctx_fail(j, CLNET_ERR_OPENCL);
    }
    clnet_model_weights_changed(j->m);
    return CLNET_OK;
}

/* "a,b,c" of exactly n numbers into v. */
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

/* Labels, input size and normalization from __metadata__ (each optional). */
static clnet_status read_metadata(load_job *j)
{
    clnet_model *m = j->m;
    const char *input = clnet__st_meta(j->f, "input");
    const clnet_shape in = m->graph->layers[m->input_layer].out;
    int h = 0, w = 0, c = 0;
    char tail = 0;
    if (input && (sscanf(input, "%d,%d,%d%c", &h, &w, &c, &tail) != 3 || h != in.h || w != in.w ||
                  c != in.c))
        return job_fail(j, CLNET_ERR_PARSE,
                        "__metadata__ input \"%.32s\" does not match the spec's input %d,%d,%d",
                        input, in.h, in.w, in.c);
    const char *mean_text = clnet__st_meta(j->f, "mean"), *std_text = clnet__st_meta(j->f, "std");
    float mean[4] = {0, 0, 0, 0}, std[4] = {1, 1, 1, 1};
    if (in.c <= 4 && ((mean_text && !parse_floats(mean_text, mean, in.c)) ||
                      (std_text && !parse_floats(std_text, std, in.c))))
        return job_fail(j, CLNET_ERR_PARSE,
                        "__metadata__ mean \"%.64s\" / std \"%.64s\" are not %d numbers each",
                        mean_text ? mean_text : "", std_text ? std_text : "", in.c);
    if (in.c <= 4 && clnet_model_set_normalization(m, mean, std, in.c) != CLNET_OK)
        return ctx_fail(j, CLNET_ERR_PARSE);
    const char *labels = clnet__st_meta(j->f, "labels");
    if (!labels)
        return CLNET_OK;
    cJSON *array = cJSON_Parse(labels);
    const int n = cJSON_IsArray(array) ? cJSON_GetArraySize(array) : -1;
    const char **names = n >= 0 ? calloc((size_t)(n ? n : 1), sizeof *names) : NULL;
    clnet_status st = names ? CLNET_OK : CLNET_ERR_PARSE;
    const cJSON *e = array ? array->child : NULL;
    for (int i = 0; e && st == CLNET_OK; e = e->next, ++i)
        if (!cJSON_IsString(e) || !(names[i] = e->valuestring))
            st = CLNET_ERR_PARSE;
    if (st != CLNET_OK)
        job_fail(j, st, "__metadata__ labels is not a JSON array of strings");
    else if ((st = clnet_model_set_labels(m, names, n)) != CLNET_OK)
        ctx_fail(j, st);
    free(names);
    cJSON_Delete(array);
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
    load_job j = {ctx, NULL, NULL, NULL, NULL, ""};
    clnet_status st = clnet__st_open(path, &j.f, j.err, sizeof j.err);
    if (st == CLNET_OK)
        st = read_spec(&j);
    if (st == CLNET_OK && (st = clnet_model_create(ctx, j.g, opt, &j.m)) != CLNET_OK)
        ctx_fail(&j, st);
    if (st == CLNET_OK)
        st = read_weights(&j);
    if (st == CLNET_OK)
        st = read_metadata(&j);
    free(j.buf);
    clnet_graph_destroy(j.g);
    clnet__st_close(j.f);
    if (st != CLNET_OK) {
        clnet_model_destroy(j.m);
        return clnet__fail(ctx, st, "model file '%s': %s", path, j.err);
    }
    *out = j.m;
    return CLNET_OK;
}
