/* fuzz_keras_v3.c - Keras 3 .keras files as clnet reads them (src/io/keras_v3.c,
 * keras_v3_path.c, keras_hdf5.c), with no device. The first byte says how the rest is used:
 *   even: the rest is the .keras zip (libzip's parsing, the members' sizes and CRCs);
 *   odd:  the rest is [u16 n][n bytes of config.json][u16 m][m bytes of metadata.json]
 *         [model.weights.h5], zipped here (deflated when bit 1 is set) so that mutations reach
 *         the JSON and libhdf5 instead of stopping at the zip's CRCs.
 * Bit 2 leaves the paths of the layers to the reader's own walk (keras_v3_path.c). Each layer
 * of the config is then looked for through the source (count, a read), and in the odd form
 * every vars group of the weights file is read whole at its own shape. Seeds:
 * fuzz/corpus/keras_v3/ (fuzz/make_corpus.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "io/keras.h"
#include "io/keras_v3.h"
#include "support/keras_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bounds on the work one input makes. */
#define MAX_LAYERS 256
#define MAX_GROUPS 512
#define MAX_FLOATS (1 << 20)

typedef struct walk {
    const clnet__keras_source *src;
    int own_paths; /* compute each layer's path as the importer does, else leave it empty */
    int layers;
} walk;

/* Looks for each layer of the model config `model` (at ref's depth) through the source. */
static void walk_config(walk *w, const cJSON *model, clnet__keras_layer_ref ref)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(model, "config");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(cfg, "layers");
    if (!cJSON_IsArray(list) || ref.depth >= CLNET_KERAS_MAX_DEPTH)
        return;
    const size_t at = strlen(ref.v3_path);
    int index = 0;
    for (const cJSON *l = list->child; l && w->layers < MAX_LAYERS; l = l->next, ++index) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(l, "name");
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(l, "class_name");
        if (!cJSON_IsString(name))
            name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "config"),
                                                    "name");
        clnet__keras_layer_ref r = ref;
        r.names[r.depth] = cJSON_IsString(name) ? name->valuestring : "";
        r.classes[r.depth] = cJSON_IsString(cls) ? cls->valuestring : "";
        ++r.depth;
        if (w->own_paths) {
            /* saving_lib's name: the class in snake case, _N for the N-th of that class. */
            char snake[256], other[256];
            clnet__keras_snake_case(r.classes[r.depth - 1], snake, sizeof snake);
            int same = 0, k = 0;
            for (const cJSON *e = list->child; e && k < index; e = e->next, ++k) {
                const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "class_name");
                clnet__keras_snake_case(cJSON_IsString(c) ? c->valuestring : "", other,
                                        sizeof other);
                same += !strcmp(snake, other);
            }
            snprintf(r.v3_path + at, sizeof r.v3_path - at, same ? "%slayers/%s_%d" : "%slayers/%s",
                     at ? "/" : "", snake, same);
        }
        ++w->layers;
        char err[2048] = "";
        const int n = w->src->count(w->src->ctx, &r);
        FUZZ_CHECK(n >= -1);
        float one;
        const int64_t dims[1] = {1};
        if (w->src->read(w->src->ctx, &r, 0, "kernel", dims, 1, &one, err, sizeof err) != CLNET_OK)
            FUZZ_CHECK(err[0] != '\0');
        walk_config(w, l, r);
    }
}

/* Reads every dataset of each vars group at or below path of the weights file h5 through the
 * source, at the shape h5 gives it. */
static void walk_file(walk *w, clnet__hdf5 *h5, const char *path, int depth, int *groups)
{
    char **members;
    const int n = clnet__hdf5_members(h5, path, &members);
    for (int i = 0; i < n && *groups < MAX_GROUPS; ++i) {
        char child[1024];
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, members[i]) >= 500)
            continue;
        ++*groups;
        if (strcmp(members[i], "vars") != 0) {
            if (depth < 16)
                walk_file(w, h5, child, depth + 1, groups);
            continue;
        }
        clnet__keras_layer_ref r = {.depth = 1, .names = {"layer"}, .classes = {"Layer"}};
        snprintf(r.v3_path, sizeof r.v3_path, "%s", path[0] ? path + 1 : "");
        char **vars;
        const int m = clnet__hdf5_members(h5, child, &vars);
        clnet__hdf5_strings_free(vars, m);
        /* A group the path names is taken as it is (the root's /vars is the model's own). */
        const int counted = w->src->count(w->src->ctx, &r);
        FUZZ_CHECK(counted >= -1 && (!path[0] || counted == m));
        for (int k = 0; k < m && k < 64; ++k) {
            char var[1100];
            snprintf(var, sizeof var, "%s/%d", child, k);
            int64_t dims[CLNET_HDF5_MAX_RANK], count = 1;
            const int rank = clnet__hdf5_shape(h5, var, dims);
            for (int d = 0; d < rank && count <= MAX_FLOATS; ++d)
                count *= dims[d];
            if (rank < 0 || count > MAX_FLOATS)
                continue;
            float *out = malloc((size_t)(count ? count : 1) * sizeof *out);
            char err[2048] = "";
            if (out &&
                w->src->read(w->src->ctx, &r, k, "w", dims, rank, out, err, sizeof err) != CLNET_OK)
                FUZZ_CHECK(err[0] != '\0');
            free(out);
        }
    }
    clnet__hdf5_strings_free(members, n);
}

/* The next piece of in ([u16 n][n bytes]) as a NUL-terminated string (malloc'd). */
static char *text_piece(fuzz_input *in)
{
    size_t n;
    const uint8_t *p = fuzz_bytes(in, fuzz_u16(in), &n);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* The odd form's pieces zipped as Keras does; *h5 and *h5_size: the weights' bytes. */
static unsigned char *zip_pieces(fuzz_input *in, int deflate, size_t *zip_size, const uint8_t **h5,
                                 size_t *h5_size)
{
    char *config = text_piece(in), *meta = text_piece(in);
    *h5 = in->p;
    *h5_size = in->left;
    unsigned char *zip =
        config && meta ? clnet_test_keras(config, meta, *h5, *h5_size, deflate, zip_size) : NULL;
    free(config);
    free(meta);
    return zip;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    const unsigned how = fuzz_u8(&in);
    const uint8_t *h5 = NULL;
    size_t h5_size = 0, zip_size = in.left;
    unsigned char *built = NULL;
    const unsigned char *zip = in.p;
    if (how & 1) {
        zip = built = zip_pieces(&in, how & 2, &zip_size, &h5, &h5_size);
        if (!built)
            return 0;
    }
    cJSON *model = NULL;
    clnet__keras_source src;
    char err[4096] = "";
    if (clnet__keras_v3_open(NULL, zip, zip_size, &model, &src, err, sizeof err) != CLNET_OK) {
        FUZZ_CHECK(model == NULL && src.ctx == NULL && err[0] != '\0');
        fuzz_note(err);
        free(built);
        return 0;
    }
    FUZZ_CHECK(cJSON_IsObject(model) && src.ctx && src.read && src.count);
    fuzz_note("accepted");
    walk w = {&src, !(how & 4), 0};
    clnet__keras_layer_ref top = {0};
    walk_config(&w, model, top);
    clnet__hdf5 *file;
    if (h5 && clnet__hdf5_open(NULL, h5, h5_size, "weights", &file, err, sizeof err) == CLNET_OK) {
        int groups = 0;
        walk_file(&w, file, "", 0, &groups);
        clnet__hdf5_close(file);
    }
    fuzz_keras_import(model, &src);
    cJSON_Delete(model);
    clnet__keras_v3_close(&src);
    free(built);
    return 0;
}
