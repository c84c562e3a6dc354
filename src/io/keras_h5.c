/* keras_h5.c - Keras 2's HDF5 files (legacy_h5_format.py): a whole model keeps its config
 * as the root attribute model_config (JSON) and its weights under /model_weights; a
 * weights-only file (model.save_weights, keras.applications' downloads) keeps the same
 * groups at the root. Each layer's group lists its datasets in the attribute
 * weight_names ("conv1/kernel:0", ...), in the layer's weight order; a nested model is one
 * group holding every weight of its layers, found by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/keras.h"
#include "io/keras_hdf5.h"
#include "io/safetensors.h"

typedef struct h5_src {
    clnet__hdf5 *f;
    char root[32]; /* "/model_weights" or "" (weights-only) */
    char name[256];
} h5_src;

/* The weight_names of the group of the outermost model's layer top (level 0), into *names;
 * the count, or -1 when the group or attribute is missing. */
static int group_names(h5_src *s, const char *top, char *group, size_t glen, char ***names)
{
    snprintf(group, glen, "%s/%s", s->root, top);
    return clnet__hdf5_attr_strings(s->f, group, "weight_names", names);
}

/* Does weight name w ("model/conv1/kernel:0") end in the component path want
 * ("conv1/kernel"), ":0" or none after it. */
static int ends_with_path(const char *w, const char *want)
{
    size_t n = strlen(w);
    if (n > 2 && !strcmp(w + n - 2, ":0"))
        n -= 2;
    const size_t k = strlen(want);
    return n >= k && !strncmp(w + n - k, want, k) && (n == k || w[n - k - 1] == '/');
}

/* The entry of names for weight index (role) of ref: by position for a layer of the
 * outermost model (checked against the role where the name says it), by name for a
 * layer inside a nested model. -1 when none. */
static int pick(const clnet__keras_layer_ref *ref, int index, const char *role, char **names, int n)
{
    char want[256];
    snprintf(want, sizeof want, "%s/%s", ref->names[ref->depth - 1], role);
    if (ref->depth == 1) {
        if (index < n && (ends_with_path(names[index], role) || !strchr(names[index], '/')))
            return index;
        for (int i = 0; i < n; ++i)
            if (ends_with_path(names[i], role))
                return i;
        return index < n ? index : -1;
    }
    for (int i = 0; i < n; ++i)
        if (ends_with_path(names[i], want))
            return i;
    return -1;
}

static void where(const clnet__keras_layer_ref *ref, char *out, size_t len)
{
    size_t at = 0;
    out[0] = '\0';
    for (int d = 0; d < ref->depth && at < len; ++d)
        at += (size_t)snprintf(out + at, len - at, "%s%s", d ? "/" : "", ref->names[d]);
}

static clnet_status h5_read(void *ctx, const clnet__keras_layer_ref *ref, int index,
                            const char *role, const int64_t *dims, int rank, float *out, char *err,
                            size_t len)
{
    h5_src *s = ctx;
    char group[600], layer[400], path[1200];
    where(ref, layer, sizeof layer);
    char **names;
    const int n = group_names(s, ref->names[0], group, sizeof group, &names);
    const int i = n < 0 ? -1 : pick(ref, index, role, names, n);
    if (i < 0) {
        clnet__hdf5_strings_free(names, n);
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s' has no weight %s of layer '%s' (%s %s)", s->name, role, layer,
                              n < 0 ? "no weight_names on group" : "not listed in", group);
    }
    snprintf(path, sizeof path, "%s/%s", group, names[i]);
    clnet__hdf5_strings_free(names, n);
    int64_t have[CLNET_HDF5_MAX_RANK];
    const int have_rank = clnet__hdf5_shape(s->f, path, have);
    int same = have_rank == rank;
    for (int d = 0; same && d < rank; ++d)
        same = have[d] == dims[d];
    if (!same) {
        char a[128] = "", b[128] = "";
        for (int d = 0, at = 0; d < rank; ++d)
            at +=
                snprintf(a + at, sizeof a - (size_t)at, "%s%lld", d ? "x" : "", (long long)dims[d]);
        for (int d = 0, at = 0; d < have_rank; ++d)
            at +=
                snprintf(b + at, sizeof b - (size_t)at, "%s%lld", d ? "x" : "", (long long)have[d]);
        const char *what = have_rank >= 0                    ? b
                           : have_rank == -2                 ? "kept outside the file (refused)"
                           : !clnet__hdf5_exists(s->f, path) ? "missing (weight_names lists it)"
                                                             : "no numeric dataset";
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': %s of layer '%s' should be %s, and %s is %s", s->name, role,
                              layer, a, path, what);
    }
    int64_t count = 1;
    for (int d = 0; d < rank; ++d)
        count *= dims[d];
    return clnet__hdf5_read(s->f, path, out, count, err, len);
}

static int h5_count(void *ctx, const clnet__keras_layer_ref *ref)
{
    h5_src *s = ctx;
    if (ref->depth != 1)
        return -1;
    char group[600], **names;
    const int n = group_names(s, ref->names[0], group, sizeof group, &names);
    clnet__hdf5_strings_free(names, n);
    return n < 0 ? 0 : n;
}

/* A weights-only file lists its layers at the root. */
static int weights_only(clnet__hdf5 *f)
{
    char **names;
    const int n = clnet__hdf5_attr_strings(f, "/", "layer_names", &names);
    clnet__hdf5_strings_free(names, n);
    return n >= 0;
}

clnet_status clnet__keras_h5_open(const char *path, const void *image, size_t image_size,
                                  cJSON **model, clnet__keras_source *src, char *err, size_t len)
{
    *model = NULL;
    memset(src, 0, sizeof *src);
    h5_src *s = calloc(1, sizeof *s);
    if (!s)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    snprintf(s->name, sizeof s->name, "%s", path ? path : "(memory).h5");
    clnet_status st = clnet__hdf5_open(path, image, image_size, s->name, &s->f, err, len);
    char *config = st == CLNET_OK ? clnet__hdf5_attr_string(s->f, "/", "model_config") : NULL;
    if (st == CLNET_OK && !config)
        st = clnet__st_fail(
            err, len, CLNET_ERR_PARSE, "'%s' has no model_config: %s", s->name,
            weights_only(s->f)
                ? "it holds weights only (model.save_weights); load them onto a "
                  "model of the same architecture (clnet convert WEIGHTS.h5 OUT --model ZOO)"
                : "it is no Keras model file");
    if (st == CLNET_OK && !(*model = cJSON_Parse(config)))
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s': its model_config is not JSON",
                            s->name);
    free(config);
    snprintf(s->root, sizeof s->root, "%s",
             st == CLNET_OK && clnet__hdf5_exists(s->f, "/model_weights") ? "/model_weights" : "");
    src->ctx = s;
    src->read = h5_read;
    src->count = h5_count;
    if (st != CLNET_OK) {
        cJSON_Delete(*model);
        *model = NULL;
        clnet__keras_h5_close(src);
    }
    return st;
}

void clnet__keras_h5_close(clnet__keras_source *src)
{
    h5_src *s = src ? src->ctx : NULL;
    if (s) {
        clnet__hdf5_close(s->f);
        free(s);
    }
    if (src)
        memset(src, 0, sizeof *src);
}
