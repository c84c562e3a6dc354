/* fuzz_keras_tfjs.c - TF.js layers models as src/io/keras_tfjs.c reads them, with no device.
 * The input is model.json's text, then (optionally) a NUL byte, a 16-bit little-endian
 * length n, n bytes of the shard "w1.bin" and the rest as the shard "w2.bin". The JSON alone
 * is opened from memory (shard files refused); then model.json and the shards are written to
 * the scratch folder and opened by path, and every weight the manifest names is counted and
 * read through the source, with its own shape and a wrong one. Seeds: fuzz/corpus/keras_tfjs/
 * (fuzz/make_corpus.c). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "io/keras.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Weights of more values than this are not read (the input is a few KB anyway). */
#define MAX_READ (1 << 20)

/* The layer of a manifest name ("seq/conv/kernel": layer seq/conv, role kernel; Keras 3's
 * "layers/conv2d/vars/1": v3 path layers/conv2d, index 1) into ref; 0 when it has none. */
static int layer_of(char *name, clnet__keras_layer_ref *ref, const char **role, int *index)
{
    memset(ref, 0, sizeof *ref);
    char *last = strrchr(name, '/');
    if (!last)
        return 0;
    *last = '\0';
    *role = last + 1;
    *index = atoi(*role) & 7;
    const size_t n = strlen(name);
    if (n > 5 && !strcmp(name + n - 5, "/vars") && n - 5 < sizeof ref->v3_path)
        memcpy(ref->v3_path, name, n - 5);
    for (char *p = name; p && ref->depth < CLNET_KERAS_MAX_DEPTH; ++ref->depth) {
        ref->names[ref->depth] = p;
        ref->classes[ref->depth] = "Conv2D";
        p = strchr(p, '/');
        if (p)
            *p++ = '\0';
    }
    return 1;
}

/* Counts and reads one manifest entry e through src. */
static void use_weight(const clnet__keras_source *src, const cJSON *e)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    if (!cJSON_IsString(name) || !cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > 8)
        return;
    int64_t dims[9], count = 1;
    int rank = 0;
    for (const cJSON *d = shape->child; d; d = d->next, ++rank) {
        dims[rank] = cJSON_IsNumber(d) && d->valuedouble >= 0 && d->valuedouble <= MAX_READ
                         ? (int64_t)d->valuedouble
                         : 0;
        count *= dims[rank];
        if (count > MAX_READ)
            return;
    }
    char *copy = strdup(name->valuestring);
    clnet__keras_layer_ref ref;
    const char *role = NULL;
    int index = 0;
    FUZZ_CHECK(copy != NULL);
    if (layer_of(copy, &ref, &role, &index)) {
        FUZZ_CHECK(src->count(src->ctx, &ref) >= 0);
        float *out = malloc((size_t)(2 * count + 1) * sizeof *out); /* room for the wrong shape */
        FUZZ_CHECK(out != NULL);
        char err[1024] = "";
        if (src->read(src->ctx, &ref, index, role, dims, rank, out, err, sizeof err) != CLNET_OK)
            FUZZ_CHECK(err[0] != '\0');
        fuzz_note(err[0] ? err : "read");
        err[0] = '\0';
        dims[rank] = 2; /* one more dimension: never the entry's shape */
        if (src->read(src->ctx, &ref, index, role, dims, rank + 1, out, err, sizeof err) !=
            CLNET_OK)
            FUZZ_CHECK(err[0] != '\0');
        free(out);
    }
    free(copy);
}

/* Every weight of the manifest of the JSON text (the harness's own reading of it). */
static void use_weights(const clnet__keras_source *src, const char *json, size_t n)
{
    cJSON *doc = cJSON_ParseWithLength(json, n);
    const cJSON *man = cJSON_GetObjectItemCaseSensitive(doc, "weightsManifest");
    for (const cJSON *g = cJSON_IsArray(man) ? man->child : NULL; g; g = g->next) {
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(g, "weights");
        for (const cJSON *e = cJSON_IsArray(ws) ? ws->child : NULL; e; e = e->next)
            use_weight(src, e);
    }
    cJSON_Delete(doc);
}

/* Opens model.json (path, or json from memory); on success uses what it gives. */
static void open_and_use(const char *path, const char *json, size_t n)
{
    cJSON *model = NULL;
    clnet__keras_source src;
    char err[2048] = "";
    if (clnet__keras_tfjs_open(path, json, n, &model, &src, err, sizeof err) != CLNET_OK) {
        FUZZ_CHECK(model == NULL && src.ctx == NULL && err[0] != '\0');
        fuzz_note(err);
        return;
    }
    fuzz_note(path ? "accepted" : "accepted from memory");
    FUZZ_CHECK(cJSON_IsObject(model) && src.ctx && src.read && src.count);
    FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(model, "class_name")));
    use_weights(&src, json, n);
    fuzz_keras_import(model, path ? &src : NULL);
    clnet__keras_tfjs_close(&src);
    cJSON_Delete(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    const size_t json_n = nul ? (size_t)(nul - data) : size;
    open_and_use(NULL, (const char *)data, json_n);

    fuzz_clear();
    fuzz_write("model.json", data, json_n);
    if (nul) {
        fuzz_input in = {nul + 1, size - json_n - 1};
        size_t got = 0;
        const uint8_t *w1 = fuzz_bytes(&in, fuzz_u16(&in), &got);
        fuzz_write("w1.bin", w1, got);
        const uint8_t *w2 = fuzz_bytes(&in, in.left, &got);
        fuzz_write("w2.bin", w2, got);
    }
    open_and_use(fuzz_path("model.json"), (const char *)data, json_n);
    return 0;
}
