/* keras_v3.c - Keras 3's .keras files (keras.h): a zip of config.json (the model's
 * serialized config), metadata.json (keras_version, date_saved) and model.weights.h5, read
 * through libzip, the weights through keras_hdf5.c. Where a layer's variables are is
 * keras_v3_path.c's. The layout is keras/src/saving/saving_lib.py's (also written by tf.keras
 * 2.12 to 2.15). Tests: tests/io/test_keras_v3.c. Fuzz: fuzz/fuzz_keras_v3.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "io/keras_v3.h"
#include "io/safetensors.h"

/* What clnet reads of a .keras zip, refused above these before anything is allocated: the
 * config of a large model is a few MB; 2^31 float32 weights are 8 GiB. */
#define V3_MAX_CONFIG ((zip_uint64_t)64 << 20)
#define V3_MAX_METADATA ((zip_uint64_t)1 << 20)
#define V3_MAX_WEIGHTS ((zip_uint64_t)8 << 30)
/* Deflate expands at most 1032:1, so a member that claims more than this over its compressed
 * size is damaged or a zip bomb. */
#define V3_MAX_RATIO 1032

typedef struct v3 {
    clnet__hdf5 *h5;
    cJSON *model;       /* the source's own copy of the config, for keras_v3_path.c */
    char weights[1100]; /* "<file>:model.weights.h5", for messages */
    /* The last layer asked about and its group: the importer asks for a layer's weights one
     * after another. */
    char key[1100];
    char group[CLNET_KERAS_V3_GROUP_MAX];
} v3;

/* A zip being read: the archive and what messages call it. */
typedef struct archive {
    zip_t *za;
    const char *name;
    zip_uint64_t size; /* of the whole file: no member's compressed data is larger */
} archive;

/* Does the file at path, or the bytes zip, start with HDF5's signature. */
static int is_hdf5(const char *path, const void *zip, size_t zip_size)
{
    static const char magic[8] = "\x89HDF\r\n\x1a\n";
    char head[8];
    if (!path)
        return zip_size >= 8 && !memcmp(zip, magic, 8);
    FILE *f = fopen(path, "rb");
    const int yes = f && fread(head, 1, 8, f) == 8 && !memcmp(head, magic, 8);
    if (f)
        fclose(f);
    return yes;
}

static clnet_status open_archive(const char *path, const void *zip, size_t zip_size, archive *a,
                                 char *err, size_t len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    if (path) {
        struct stat info;
        int code = 0;
        const int known = stat(path, &info) == 0;
        if (known && S_ISDIR(info.st_mode))
            return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                                  "'%s' is a folder (Keras's model.save(..., zipped=False)); clnet "
                                  "reads .keras zips",
                                  path);
        if (known)
            a->size = (zip_uint64_t)info.st_size;
        a->za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
        zip_error_init_with_code(&ze, code);
    } else {
        a->size = zip_size;
        zip_source_t *src = zip_source_buffer_create(zip, zip_size, 0, &ze);
        if (src && !(a->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze)))
            zip_source_free(src); /* the archive owns its source only once open */
    }
    if (a->za)
        return CLNET_OK;
    const int code = zip_error_code_zip(&ze);
    clnet_status st = CLNET_ERR_PARSE;
    if (code == ZIP_ER_MEMORY)
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    else if (code == ZIP_ER_NOENT || code == ZIP_ER_OPEN || code == ZIP_ER_READ ||
             code == ZIP_ER_SEEK)
        st = clnet__st_fail(err, len, CLNET_ERR_IO, "cannot read '%s': %s", a->name,
                            zip_error_strerror(&ze));
    else if (is_hdf5(path, zip, zip_size))
        clnet__st_fail(err, len, st,
                       "'%s' is an HDF5 file, not the zip a Keras 3 .keras file is: a Keras 2 "
                       "model named .keras? (clnet reads it named .h5)",
                       a->name);
    else
        clnet__st_fail(err, len, st,
                       "'%s' is not a zip archive libzip can read (%s); a Keras 3 .keras "
                       "file is a zip of config.json, metadata.json and model.weights.h5",
                       a->name, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return st;
}

/* Reads the member at index `at` (its name: member) whole into *out (malloc'd, with a NUL
 * after its *n bytes), refusing one that claims more than max bytes or decompresses to
 * another size than its header says. */
static clnet_status read_member(const archive *a, zip_int64_t at, const char *member,
                                zip_uint64_t max, char **out, size_t *n, char *err, size_t len)
{
    *out = NULL;
    zip_stat_t st;
    zip_stat_init(&st);
    const zip_uint64_t need = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if (zip_stat_index(a->za, (zip_uint64_t)at, 0, &st) < 0 || (st.valid & need) != need)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s': libzip cannot read the entry of %s",
                              a->name, member);
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                              "'%s': %s is compressed with zip method %u; clnet reads stored "
                              "and deflated members (what Keras and zip tools write)",
                              a->name, member, (unsigned)st.comp_method);
    if (st.size > max)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': %s holds %llu bytes, more than the %llu clnet reads", a->name,
                              member, (unsigned long long)st.size, (unsigned long long)max);
    const zip_uint64_t most =
        st.comp_method == ZIP_CM_STORE ? st.comp_size : st.comp_size * V3_MAX_RATIO + 64;
    if (st.comp_size > a->size || st.size > most)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': %s claims %llu bytes from %llu compressed, which no zip "
                              "member holds (damaged, or a zip bomb)",
                              a->name, member, (unsigned long long)st.size,
                              (unsigned long long)st.comp_size);
    char *buf = malloc((size_t)st.size + 1);
    zip_file_t *zf = buf ? zip_fopen_index(a->za, (zip_uint64_t)at, 0) : NULL;
    clnet_status status = CLNET_OK;
    if (!buf) {
        status = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY,
                                "out of host memory for %s of '%s' (%llu bytes)", member, a->name,
                                (unsigned long long)st.size);
    } else if (!zf) {
        status = clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s': libzip cannot open %s: %s",
                                a->name, member, zip_strerror(a->za));
    } else {
        zip_uint64_t done = 0;
        zip_int64_t got = 1;
        while (done < st.size && (got = zip_fread(zf, buf + done, st.size - done)) > 0)
            done += (zip_uint64_t)got;
        /* Reading past the end is what makes libzip check the CRC. */
        char more;
        if (got >= 0 && done == st.size)
            got = zip_fread(zf, &more, 1);
        if (got < 0)
            status = clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s': cannot decompress %s: %s",
                                    a->name, member, zip_file_strerror(zf));
        else if (done != st.size || got > 0)
            status = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                    "'%s': %s decompresses to %s %llu bytes its header says",
                                    a->name, member, got > 0 ? "more than the" : "fewer than the",
                                    (unsigned long long)st.size);
    }
    if (zf)
        zip_fclose(zf);
    if (status != CLNET_OK) {
        free(buf);
        return status;
    }
    buf[st.size] = '\0';
    *out = buf;
    *n = (size_t)st.size;
    return CLNET_OK;
}

/* The index of member in the archive, or -1. */
static zip_int64_t find(const archive *a, const char *member)
{
    return zip_name_locate(a->za, member, 0);
}

/* The weights' member: model.weights.h5, or a clear error for the formats Keras also wrote. */
static clnet_status find_weights(const archive *a, zip_int64_t *at, char *err, size_t len)
{
    if ((*at = find(a, "model.weights.h5")) >= 0)
        return CLNET_OK;
    if (find(a, "model.weights.npz") >= 0)
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                              "'%s' keeps its weights in model.weights.npz (Keras's "
                              "weights_format=\"npz\"), which clnet does not read: save the "
                              "model with the default weights_format=\"h5\"",
                              a->name);
    if (find(a, "variables.h5") >= 0)
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                              "'%s' keeps its weights in variables.h5, the experimental format "
                              "of Keras 2.10 and 2.11, which clnet does not read",
                              a->name);
    return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                          "'%s' has no member model.weights.h5 (a Keras 3 .keras file holds "
                          "config.json, metadata.json and model.weights.h5)",
                          a->name);
}

/* config.json: the serialized model, an object with "class_name" and "config". */
static clnet_status read_config(const archive *a, cJSON **model, char *err, size_t len)
{
    const zip_int64_t at = find(a, "config.json");
    if (at < 0)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s' has no member config.json (a Keras 3 .keras file holds "
                              "config.json, metadata.json and model.weights.h5)",
                              a->name);
    char *text;
    size_t n;
    const clnet_status st = read_member(a, at, "config.json", V3_MAX_CONFIG, &text, &n, err, len);
    if (st != CLNET_OK)
        return st;
    *model = cJSON_ParseWithLength(text, n);
    free(text);
    if (!*model)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': config.json is not JSON (or nests deeper than %d)", a->name,
                              CJSON_NESTING_LIMIT);
    if (!cJSON_IsObject(*model) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(*model, "class_name")) ||
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(*model, "config"))) {
        cJSON_Delete(*model);
        *model = NULL;
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': config.json is no serialized Keras model (an object with "
                              "the strings class_name and the object config)",
                              a->name);
    }
    return CLNET_OK;
}

/* metadata.json, when there is one (Keras itself never reads it): its keras_version goes
 * onto the model as "keras_version", where Keras 2's configs keep it, for the import's
 * producer. .keras zips are Keras 3's format, also written by tf.keras 2.12 to 2.15: a
 * version below 2 is no file Keras wrote. Unreadable metadata is no reason to refuse. */
static clnet_status read_metadata(const archive *a, cJSON *model, char *err, size_t len)
{
    const zip_int64_t at = find(a, "metadata.json");
    char *text, ignored[256];
    size_t n;
    if (at < 0 || read_member(a, at, "metadata.json", V3_MAX_METADATA, &text, &n, ignored,
                              sizeof ignored) != CLNET_OK)
        return CLNET_OK;
    cJSON *meta = cJSON_ParseWithLength(text, n);
    free(text);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, "keras_version");
    clnet_status st = CLNET_OK;
    if (cJSON_IsString(v) && v->valuestring[0] >= '0' && v->valuestring[0] <= '9' &&
        strtol(v->valuestring, NULL, 10) < 2)
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                            "'%s': metadata.json says keras_version %.40s, but .keras files are "
                            "Keras 3's (and tf.keras 2.12 to 2.15's)",
                            a->name, v->valuestring);
    else if (cJSON_IsString(v) && !cJSON_HasObjectItem(model, "keras_version") &&
             !cJSON_AddStringToObject(model, "keras_version", v->valuestring))
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    cJSON_Delete(meta);
    return st;
}

/* ref's layer for messages: "layer 'conv1' (Conv2D)". */
static const char *layer_text(const clnet__keras_layer_ref *ref, char *buf, size_t len)
{
    const int d = ref->depth > 0 && ref->depth <= CLNET_KERAS_MAX_DEPTH ? ref->depth - 1 : -1;
    snprintf(buf, len, "layer '%.100s' (%.60s)", d >= 0 && ref->names[d] ? ref->names[d] : "?",
             d >= 0 && ref->classes[d] ? ref->classes[d] : "?");
    return buf;
}

/* The group of ref's variables ("/layers/conv2d/vars"), or NULL when the file has none. */
static const char *group_of(v3 *s, const clnet__keras_layer_ref *ref)
{
    /* The key: the path the importer computed and the layer's names on the way. */
    char key[sizeof s->key];
    size_t k = (size_t)snprintf(key, sizeof key, "%s", ref->v3_path);
    for (int d = 0; d < ref->depth && d < CLNET_KERAS_MAX_DEPTH && k < sizeof key; ++d)
        k += (size_t)snprintf(key + k, sizeof key - k, "\n%s", ref->names[d] ? ref->names[d] : "");
    if (strcmp(key, s->key) != 0) {
        snprintf(s->key, sizeof s->key, "%s", key);
        if (!clnet__keras_v3_group(s->h5, s->model, ref, s->group, sizeof s->group))
            s->group[0] = '\0';
    }
    return s->group[0] ? s->group : NULL;
}

static clnet_status v3_read(void *ctx, const clnet__keras_layer_ref *ref, int index,
                            const char *role, const int64_t *dims, int rank, float *out, char *err,
                            size_t len)
{
    v3 *s = ctx;
    char layer[200], want[160], have_text[160], path[CLNET_KERAS_V3_GROUP_MAX + 16];
    layer_text(ref, layer, sizeof layer);
    if (index < 0 || rank < 0 || rank > CLNET_HDF5_MAX_RANK)
        return clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG,
                              "%s: weight %d ('%s') of rank %d is not one to look for", layer,
                              index, role, rank);
    const char *group = group_of(s, ref);
    if (!group)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "%s: weight %d ('%s') is missing: '%s' has no group of the layer's "
                              "variables (looked for /%s/vars, tf.keras 2.13's and 2.14's "
                              "_layer_checkpoint_dependencies, and the layer by its rank among "
                              "its class)",
                              layer, index, role, s->weights, ref->v3_path);
    snprintf(path, sizeof path, "%s/%d", group, index);
    int64_t have[CLNET_HDF5_MAX_RANK];
    const int r = clnet__hdf5_shape(s->h5, path, have);
    if (r < 0) {
        if (r == -2)
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "%s: weight %d ('%s') at %s of '%s' is kept outside the file "
                                  "(a soft or external link, external storage or a virtual "
                                  "dataset), which clnet refuses as Keras does",
                                  layer, index, role, path, s->weights);
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "%s: weight %d ('%s') is missing: '%s' has no numeric dataset %s "
                              "(Keras keeps bfloat16 as opaque data, which clnet does not read)",
                              layer, index, role, s->weights, path);
    }
    int64_t count = 1;
    int same = r == rank;
    for (int d = 0; d < rank; ++d) {
        same = same && have[d] == dims[d];
        count *= dims[d] > 0 ? dims[d] : 0;
    }
    if (!same)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "%s: weight %d ('%s') at %s of '%s' is %s, not the %s its config "
                              "gives",
                              layer, index, role, path, s->weights,
                              clnet__st_shape_text(have, r, have_text, sizeof have_text),
                              clnet__st_shape_text(dims, rank, want, sizeof want));
    char why[512];
    const clnet_status st = clnet__hdf5_read(s->h5, path, out, count, why, sizeof why);
    if (st != CLNET_OK)
        return clnet__st_fail(err, len, st, "%s: weight %d ('%s'): %s", layer, index, role, why);
    return CLNET_OK;
}

static int v3_count(void *ctx, const clnet__keras_layer_ref *ref)
{
    v3 *s = ctx;
    const char *group = group_of(s, ref);
    if (!group)
        return 0;
    char **names;
    const int n = clnet__hdf5_members(s->h5, group, &names);
    clnet__hdf5_strings_free(names, n);
    return n < 0 ? -1 : n;
}

void clnet__keras_v3_close(clnet__keras_source *src)
{
    if (!src || !src->ctx)
        return;
    v3 *s = src->ctx;
    clnet__hdf5_close(s->h5);
    cJSON_Delete(s->model);
    free(s);
    memset(src, 0, sizeof *src);
}

/* Opens the weights' member as an HDF5 file from memory; the member's bytes are freed as
 * soon as libhdf5 has its copy. */
static clnet_status open_weights(const archive *a, v3 *s, char *err, size_t len)
{
    zip_int64_t at;
    clnet_status st = find_weights(a, &at, err, len);
    char *image = NULL;
    size_t n = 0;
    if (st == CLNET_OK)
        st = read_member(a, at, "model.weights.h5", V3_MAX_WEIGHTS, &image, &n, err, len);
    if (st == CLNET_OK)
        st = clnet__hdf5_open(NULL, image, n, s->weights, &s->h5, err, len);
    free(image);
    return st;
}

clnet_status clnet__keras_v3_open(const char *path, const void *zip, size_t zip_size, cJSON **model,
                                  clnet__keras_source *src, char *err, size_t len)
{
    *model = NULL;
    memset(src, 0, sizeof *src);
    archive a = {.name = path ? path : "(.keras in memory)"};
    v3 *s = calloc(1, sizeof *s);
    if (!s)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    snprintf(s->weights, sizeof s->weights, "%.1000s:model.weights.h5", a.name);
    cJSON *m = NULL;
    clnet_status st = open_archive(path, zip, zip_size, &a, err, len);
    if (st == CLNET_OK)
        st = read_config(&a, &m, err, len);
    if (st == CLNET_OK)
        st = read_metadata(&a, m, err, len);
    if (st == CLNET_OK)
        st = open_weights(&a, s, err, len);
    if (a.za)
        zip_discard(a.za);
    if (st == CLNET_OK && !(s->model = cJSON_Duplicate(m, 1)))
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st != CLNET_OK) {
        cJSON_Delete(m);
        src->ctx = s;
        clnet__keras_v3_close(src);
        return st;
    }
    *model = m;
    src->ctx = s;
    src->read = v3_read;
    src->count = v3_count;
    return CLNET_OK;
}
