/* keras_tfjs.c - TF.js layers models (keras.h): model.json's modelTopology is the Keras model
 * config; its weightsManifest lists groups of weights, each group's weights concatenated in
 * order and cut into the group's shard files (tensorflowjs's write_weights.py), float32,
 * int32 or bool, or quantized to uint8/uint16 (value = q * scale + min) or float16
 * (quantization.py), decoded as tfjs-core's decodeWeights (io_utils.ts) does. Everything
 * model.json says is checked at open against the shards' sizes; a weight's bytes are read
 * from its shards when the importer asks for it. *model is the caller's (cJSON_Delete).
 * Tests: tests/io/test_keras_tfjs.c. Fuzz: fuzz/fuzz_keras_tfjs.c. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "device/cache.h"
#include "io/keras.h"
#include "io/safetensors.h"

#define MAX_RANK 8
/* Elements of one weight above this are refused (2^31: a weight clnet could hold). */
#define MAX_COUNT ((int64_t)1 << 31)

enum dtype { F32, I32, BOOL };
enum quant { NONE, U8, U16, F16 };

/* One entry of the manifest. */
typedef struct weight {
    const char *name; /* in the JSON document, ":0" dropped */
    int64_t dims[MAX_RANK];
    int rank;
    int64_t count;
    int dtype, quant;
    double scale, min; /* uint8/uint16: value = q * scale + min */
    int group;
    uint64_t offset, bytes; /* where its bytes are in its group's stream */
    int optimizer;          /* "group": "optimizer": an optimizer's, never a layer's */
} weight;

typedef struct shard {
    char *path; /* model.json's directory / the manifest's path */
    const char *rel;
    uint64_t size;
} shard;

/* A group's shards are s[first, first + n): one byte stream cut into files. */
typedef struct group {
    int first, n;
    uint64_t bytes; /* its weights' */
} group;

typedef struct tfjs {
    char *name; /* model.json's path, for messages */
    char *top;  /* the outermost model's name ("" when the config has none) */
    cJSON *doc; /* model.json without the model config (the weights' names live here) */
    weight *w;
    weight **by_name; /* w sorted by name */
    int n_w;
    shard *s;
    int n_s;
    group *g;
    int n_g;
} tfjs;

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int absent(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

/* A shard path stays below model.json's directory: relative, no ".." component. */
static int path_inside(const char *p)
{
    if (p[0] == '/')
        return 0;
    for (const char *c = p; *c;) {
        const size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return 0;
        c += n + (c[n] == '/');
    }
    return 1;
}

static clnet_status parse_shape(const tfjs *t, weight *w, const cJSON *shape, char *err, size_t len)
{
    if (!cJSON_IsArray(shape))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': weight '%s' has no shape (an array of sizes)", t->name,
                              w->name);
    w->rank = cJSON_GetArraySize(shape);
    if (w->rank > MAX_RANK)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s': weight '%s' has %d dimensions",
                              t->name, w->name, w->rank);
    w->count = 1;
    int d = 0;
    for (const cJSON *v = shape->child; v; v = v->next, ++d) {
        const double x = cJSON_IsNumber(v) ? v->valuedouble : -1;
        if (!(x >= 0 && x <= (double)MAX_COUNT && x == floor(x)))
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "'%s': weight '%s': dimension %d is not a size", t->name, w->name,
                                  d);
        w->dims[d] = (int64_t)x;
        w->count *= w->dims[d]; /* each factor <= 2^31 and the product so far too */
        if (w->count > MAX_COUNT)
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "'%s': weight '%s' has more than 2^31 values", t->name, w->name);
    }
    return CLNET_OK;
}

/* The weight's dtype and quantization, as tfjs-core's decodeWeight accepts them. */
static clnet_status parse_type(const tfjs *t, weight *w, const cJSON *e, char *err, size_t len)
{
    const cJSON *dt = get(e, "dtype"), *q = get(e, "quantization");
    const char *dtype = cJSON_IsString(dt) ? dt->valuestring : "(none)";
    if (!strcmp(dtype, "float32"))
        w->dtype = F32;
    else if (!strcmp(dtype, "int32"))
        w->dtype = I32;
    else if (!strcmp(dtype, "bool"))
        w->dtype = BOOL;
    else if (!strcmp(dtype, "string") || !strcmp(dtype, "complex64"))
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                              "'%s': weight '%s' is of dtype %s, which no clnet layer has", t->name,
                              w->name, dtype);
    else
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': weight '%s' has dtype '%s', not float32, int32 or bool",
                              t->name, w->name, dtype);
    if (absent(q))
        return CLNET_OK;
    const cJSON *qt = get(q, "dtype"), *scale = get(q, "scale"), *min = get(q, "min");
    const char *qtype = cJSON_IsString(qt) ? qt->valuestring : "(none)";
    if (!strcmp(qtype, "uint8") || !strcmp(qtype, "uint16")) {
        w->quant = qtype[4] == '8' ? U8 : U16;
        if (!cJSON_IsNumber(scale) || !cJSON_IsNumber(min) || !isfinite(scale->valuedouble) ||
            !isfinite(min->valuedouble))
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "'%s': weight '%s' is quantized to %s without a finite scale "
                                  "and min",
                                  t->name, w->name, qtype);
        w->scale = scale->valuedouble;
        w->min = min->valuedouble;
    } else if (!strcmp(qtype, "float16")) {
        w->quant = F16;
    } else {
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': weight '%s' has quantization dtype '%s', not uint8, uint16 "
                              "or float16",
                              t->name, w->name, qtype);
    }
    if (w->dtype == BOOL || (w->quant == F16 && w->dtype != F32))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': weight '%s': a %s weight cannot be quantized to %s", t->name,
                              w->name, dtype, qtype);
    return CLNET_OK;
}

/* Entry e, the nth (from 1) of its group, into w. */
static clnet_status parse_weight(const tfjs *t, weight *w, int nth, cJSON *e, char *err, size_t len)
{
    cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
    if (!cJSON_IsObject(e) || !cJSON_IsString(name) || !name->valuestring[0])
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s': weight %d of group %d has no name",
                              t->name, nth, w->group + 1);
    /* TensorFlow's output slot; tensorflowjs's converter drops it too. */
    const size_t n = strlen(name->valuestring);
    if (n > 2 && !strcmp(name->valuestring + n - 2, ":0"))
        name->valuestring[n - 2] = '\0';
    w->name = name->valuestring;
    const cJSON *kind = get(e, "group");
    w->optimizer = cJSON_IsString(kind) && !strcmp(kind->valuestring, "optimizer");
    clnet_status st = parse_shape(t, w, get(e, "shape"), err, len);
    if (st == CLNET_OK)
        st = parse_type(t, w, e, err, len);
    static const int value_bytes[] = {[F32] = 4, [I32] = 4, [BOOL] = 1};
    static const int quant_bytes[] = {[U8] = 1, [U16] = 2, [F16] = 2};
    w->bytes =
        (uint64_t)w->count * (uint64_t)(w->quant ? quant_bytes[w->quant] : value_bytes[w->dtype]);
    return st;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const weight *const *)a)->name, (*(const weight *const *)b)->name);
}

/* Checks the manifest's form and counts its groups, shards and weights. */
static clnet_status count_manifest(const tfjs *t, const cJSON *man, int *n_g, int *n_s, int *n_w,
                                   char *err, size_t len)
{
    *n_g = *n_s = *n_w = 0;
    if (absent(man))
        return CLNET_OK;
    if (!cJSON_IsArray(man))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s': weightsManifest is not an array",
                              t->name);
    for (const cJSON *gr = man->child; gr; gr = gr->next) {
        const cJSON *paths = get(gr, "paths"), *ws = get(gr, "weights");
        ++*n_g;
        if (!cJSON_IsObject(gr) || !cJSON_IsArray(paths) || !cJSON_IsArray(ws))
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "'%s': group %d of weightsManifest is not an object with arrays "
                                  "paths and weights",
                                  t->name, *n_g);
        *n_s += cJSON_GetArraySize(paths);
        *n_w += cJSON_GetArraySize(ws);
    }
    return CLNET_OK;
}

/* Reads weightsManifest into t: its groups, shards (paths only) and weights. */
static clnet_status parse_manifest(tfjs *t, const char *dir, char *err, size_t len)
{
    const cJSON *man = get(t->doc, "weightsManifest");
    clnet_status st = count_manifest(t, man, &t->n_g, &t->n_s, &t->n_w, err, len);
    if (st != CLNET_OK || !t->n_g)
        return st;
    t->g = calloc((size_t)t->n_g, sizeof *t->g);
    t->s = calloc((size_t)t->n_s + 1, sizeof *t->s);
    t->w = calloc((size_t)t->n_w + 1, sizeof *t->w);
    t->by_name = calloc((size_t)t->n_w + 1, sizeof *t->by_name);
    if (!t->g || !t->s || !t->w || !t->by_name)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    int k = 0, i = 0, gi = 0;
    for (const cJSON *gr = man->child; gr && st == CLNET_OK; gr = gr->next, ++gi) {
        group *g = &t->g[gi];
        g->first = k;
        for (const cJSON *p = get(gr, "paths")->child; p && st == CLNET_OK; p = p->next, ++k) {
            shard *s = &t->s[k];
            s->rel = cJSON_IsString(p) ? p->valuestring : "";
            if (!s->rel[0] || !path_inside(s->rel))
                st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                    "'%s': shard path '%s' of group %d is not a relative path "
                                    "below model.json's directory",
                                    t->name, s->rel, gi + 1);
            else if (dir && !(s->path = malloc(strlen(dir) + strlen(s->rel) + 2)))
                st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
            else if (dir)
                sprintf(s->path, "%s/%s", dir, s->rel);
        }
        g->n = k - g->first;
        int nth = 1;
        for (cJSON *e = get(gr, "weights")->child; e && st == CLNET_OK; e = e->next, ++i) {
            weight *w = &t->w[i];
            w->group = gi;
            st = parse_weight(t, w, nth++, e, err, len);
            w->offset = g->bytes;
            g->bytes += w->bytes; /* < 2^33 each, and fewer weights than bytes of JSON */
            t->by_name[i] = w;
        }
    }
    if (st != CLNET_OK)
        return st;
    qsort(t->by_name, (size_t)t->n_w, sizeof *t->by_name, by_name);
    for (int j = 1; j < t->n_w; ++j)
        if (!strcmp(t->by_name[j - 1]->name, t->by_name[j]->name))
            return clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s': two weights are called '%s'",
                                  t->name, t->by_name[j]->name);
    return CLNET_OK;
}

/* Each group's shards must hold exactly its weights' bytes. */
static clnet_status check_shards(const tfjs *t, char *err, size_t len)
{
    for (int gi = 0; gi < t->n_g; ++gi) {
        const group *g = &t->g[gi];
        uint64_t total = 0;
        for (int k = g->first; k < g->first + g->n; ++k) {
            shard *s = &t->s[k];
            struct stat sb;
            if (stat(s->path, &sb) != 0)
                return clnet__st_fail(err, len, CLNET_ERR_IO, "'%s': shard '%s' of group %d: %s",
                                      t->name, s->path, gi + 1, strerror(errno));
            if (!S_ISREG(sb.st_mode))
                return clnet__st_fail(err, len, CLNET_ERR_IO,
                                      "'%s': shard '%s' of group %d is not a file", t->name,
                                      s->path, gi + 1);
            s->size = (uint64_t)sb.st_size;
            const uint64_t start = total;
            total += s->size;
            if (total > g->bytes)
                return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                      "'%s': group %d's weights take %llu bytes, but its shards "
                                      "go on: '%s' holds bytes %llu to %llu",
                                      t->name, gi + 1, (unsigned long long)g->bytes, s->path,
                                      (unsigned long long)start, (unsigned long long)total);
        }
        if (total < g->bytes && !g->n)
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "'%s': group %d's weights take %llu bytes, but it names no shard",
                                  t->name, gi + 1, (unsigned long long)g->bytes);
        if (total < g->bytes)
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "'%s': group %d's weights take %llu bytes, but its shards hold "
                                  "%llu: '%s' (%llu bytes) is %llu bytes short",
                                  t->name, gi + 1, (unsigned long long)g->bytes,
                                  (unsigned long long)total, t->s[g->first + g->n - 1].path,
                                  (unsigned long long)t->s[g->first + g->n - 1].size,
                                  (unsigned long long)(g->bytes - total));
    }
    return CLNET_OK;
}

/* The manifest entry called name (an optimizer's excluded), or NULL. */
static const weight *find(const tfjs *t, const char *name)
{
    const weight key = {.name = name}, *kp = &key;
    weight *const *hit =
        t->n_w ? bsearch(&kp, t->by_name, (size_t)t->n_w, sizeof *t->by_name, by_name) : NULL;
    return hit && !(*hit)->optimizer ? *hit : NULL;
}

/* Candidate k of the names the weights of ref have in the manifest, as a prefix ending in
 * '/' (the weight's role or index follows), into buf; 0 when candidate k does not apply,
 * -1 past the last. In order:
 *   k = 0        the outermost model's name, then every level's ("sequential/conv2d/"):
 *                Keras 3's variable paths, in legacy .h5 files converted by tensorflowjs;
 *   k = 1..depth the names from level k - 1 down ("block/conv/", "conv/"): Keras 2's
 *                weight names, the layer's own or a nested model's layer's built in place;
 *   k = depth+1  Keras 3's h5 path then "vars/" ("layers/conv2d/vars/", then the index):
 *                tensorflowjs's conversion of .keras files. */
static int candidate(const tfjs *t, const clnet__keras_layer_ref *ref, int k, char *buf,
                     size_t size)
{
    const int depth = ref->depth;
    if (k > depth + 1)
        return -1;
    if (k == depth + 1)
        return ref->v3_path[0] && (size_t)snprintf(buf, size, "%s/vars/", ref->v3_path) < size;
    if (k == 0 && !t->top[0])
        return 0;
    size_t used = 0;
    buf[0] = '\0';
    if (k == 0)
        used = (size_t)snprintf(buf, size, "%s/", t->top);
    for (int d = k ? k - 1 : 0; d < depth && used < size; ++d)
        used +=
            (size_t)snprintf(buf + used, size - used, "%s/", ref->names[d] ? ref->names[d] : "");
    return used < size;
}

/* Does name, after prefix, name one weight of the layer (a role, or for Keras 3's
 * "vars/" an index)? */
static int of_layer(const char *rest, int v3)
{
    if (!rest[0])
        return 0;
    return v3 ? strspn(rest, "0123456789") == strlen(rest) : !strchr(rest, '/');
}

static int layer_ok(const clnet__keras_layer_ref *ref)
{
    return ref && ref->depth >= 1 && ref->depth <= CLNET_KERAS_MAX_DEPTH;
}

static int tfjs_count(void *ctx, const clnet__keras_layer_ref *ref)
{
    const tfjs *t = ctx;
    char prefix[1024];
    if (!layer_ok(ref))
        return 0;
    for (int k = 0, c; (c = candidate(t, ref, k, prefix, sizeof prefix)) >= 0; ++k) {
        if (!c)
            continue;
        /* The entries starting with prefix are together in name order. */
        const size_t n = strlen(prefix);
        int lo = 0, hi = t->n_w, found = 0;
        while (lo < hi) {
            const int mid = lo + (hi - lo) / 2;
            if (strncmp(t->by_name[mid]->name, prefix, n) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (int i = lo; i < t->n_w && !strncmp(t->by_name[i]->name, prefix, n); ++i)
            found +=
                !t->by_name[i]->optimizer && of_layer(t->by_name[i]->name + n, k == ref->depth + 1);
        if (found)
            return found;
    }
    return 0;
}

/* "seq/conv1": the layer's place in the config, for messages. */
static const char *layer_text(const clnet__keras_layer_ref *ref, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < ref->depth && used < size; ++d)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", d ? "/" : "",
                                 ref->names[d] ? ref->names[d] : "");
    return buf;
}

/* IEEE half-precision bits to float, exactly (subnormals, infinities, NaN payloads), as
 * tfjs-core's table-driven getFloat16Decoder. */
static float half_to_float(unsigned h)
{
    const uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 0x3ff;
    if (exp == 0) {
        const float f = ldexpf((float)man, -24); /* zero and subnormals */
        return sign ? -f : f;
    }
    const uint32_t bits = sign | (exp == 31 ? 0x7f800000u : (exp + 112) << 23) | man << 13;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* JavaScript's Math.round: the nearest integer, halves toward +infinity. */
static double js_round(double x)
{
    const double r = floor(x);
    return x - r >= 0.5 ? r + 1 : r;
}

/* The weight's bytes b (little-endian, as numpy's tobytes on the converter's machine and
 * tfjs's typed arrays read them) into count floats. */
static void decode(const weight *w, const unsigned char *b, float *out)
{
    for (int64_t i = 0; i < w->count; ++i) {
        const size_t at = (size_t)i;
        if (w->quant == U8 || w->quant == U16) {
            const unsigned q = w->quant == U8 ? b[at] : b[2 * at] | (unsigned)b[2 * at + 1] << 8;
            /* tfjs computes in double, then stores into a Float32Array (or rounds to int32). */
            const double v = q * w->scale + w->min;
            out[i] = (float)(w->dtype == I32 ? js_round(v) : v);
        } else if (w->quant == F16) {
            out[i] = half_to_float(b[2 * at] | (unsigned)b[2 * at + 1] << 8);
        } else if (w->dtype == BOOL) {
            out[i] = b[at] != 0;
        } else {
            const unsigned char *p = b + 4 * at;
            const uint32_t u =
                p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            int32_t k;
            memcpy(&k, &u, sizeof k);
            if (w->dtype == F32)
                memcpy(&out[i], &u, sizeof u);
            else
                out[i] = (float)k;
        }
    }
}

/* The weight's bytes, from the shards of its group that hold them, into b. */
static clnet_status read_bytes(const tfjs *t, const weight *w, unsigned char *b, char *err,
                               size_t len)
{
    const group *g = &t->g[w->group];
    uint64_t start = 0, done = 0; /* where shard k starts in the group's stream */
    for (int k = g->first; k < g->first + g->n && done < w->bytes; start += t->s[k++].size) {
        const shard *s = &t->s[k];
        const uint64_t from = w->offset + done;
        if (from >= start + s->size)
            continue;
        const uint64_t left = start + s->size - from,
                       n = left < w->bytes - done ? left : w->bytes - done;
        FILE *f = fopen(s->path, "rb");
        const int ok = f && fseeko(f, (off_t)(from - start), SEEK_SET) == 0 &&
                       fread(b + done, 1, (size_t)n, f) == n;
        if (f)
            fclose(f);
        if (!ok)
            return clnet__st_fail(err, len, CLNET_ERR_IO,
                                  "'%s': weight '%s': shard '%s' has no %llu bytes at %llu "
                                  "(it changed since model.json was opened)",
                                  t->name, w->name, s->path, (unsigned long long)n,
                                  (unsigned long long)(from - start));
        done += n;
    }
    return CLNET_OK;
}

static clnet_status tfjs_read(void *ctx, const clnet__keras_layer_ref *ref, int index,
                              const char *role, const int64_t *dims, int rank, float *out,
                              char *err, size_t len)
{
    const tfjs *t = ctx;
    if (!layer_ok(ref) || !role || rank < 0)
        return clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG,
                              "'%s': a weight was asked for no layer", t->name);
    char name[1024], tried[768] = "", layer[512], have[160], want[160];
    size_t used = 0;
    const weight *w = NULL;
    for (int k = 0, c; !w && (c = candidate(t, ref, k, name, sizeof name)) >= 0; ++k) {
        const size_t n = strlen(name);
        if (!c || (k == ref->depth + 1
                       ? snprintf(name + n, sizeof name - n, "%d", index)
                       : snprintf(name + n, sizeof name - n, "%s", role)) >= (int)(sizeof name - n))
            continue;
        w = find(t, name);
        if (used < sizeof tried)
            used += (size_t)snprintf(tried + used, sizeof tried - used, "%s'%s'", used ? ", " : "",
                                     name);
    }
    layer_text(ref, layer, sizeof layer);
    const char *cls = ref->classes[ref->depth - 1] ? ref->classes[ref->depth - 1] : "?";
    if (!w)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s' has no %s (weight %d) of layer '%s' (%s): looked for %s",
                              t->name, role, index, layer, cls,
                              used ? tried : "nothing (the names are too long)");
    int same = w->rank == rank;
    for (int d = 0; same && d < rank; ++d)
        same = w->dims[d] == dims[d];
    if (!same)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': weight '%s' is %s, but the %s of layer '%s' (%s) is %s",
                              t->name, w->name,
                              clnet__st_shape_text(w->dims, w->rank, have, sizeof have), role,
                              layer, cls, clnet__st_shape_text(dims, rank, want, sizeof want));
    unsigned char *b = malloc(w->bytes ? (size_t)w->bytes : 1);
    if (!b)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY,
                              "'%s': weight '%s': out of host memory", t->name, w->name);
    const clnet_status st = read_bytes(t, w, b, err, len);
    if (st == CLNET_OK)
        decode(w, b, out);
    free(b);
    return st;
}

/* The model config in t->doc: modelTopology's model_config when there is one (the
 * converter's form: Keras's whole saved JSON), else modelTopology itself (tfjs-layers'
 * own saves, and older converters), as tfjs-layers' loadLayersModelFromIOHandler. */
static clnet_status topology(const tfjs *t, cJSON **parent, cJSON **model, char *err, size_t len)
{
    if (!cJSON_IsObject(t->doc))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s' is not a JSON object", t->name);
    const cJSON *format = get(t->doc, "format");
    if (!absent(format) && !cJSON_IsString(format))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s': format is not a string", t->name);
    if (!absent(format) && strcmp(format->valuestring, "layers-model"))
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                              "'%s' is a TF.js '%s', not a 'layers-model' (tensorflowjs_converter "
                              "--output_format=tfjs_layers_model makes one)",
                              t->name, format->valuestring);
    cJSON *topo = cJSON_GetObjectItemCaseSensitive(t->doc, "modelTopology");
    if (absent(topo))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s' has no modelTopology (weights alone; clnet needs the model)",
                              t->name);
    cJSON *config = cJSON_GetObjectItemCaseSensitive(topo, "model_config");
    *parent = absent(config) ? t->doc : topo;
    *model = absent(config) ? topo : config;
    const cJSON *cls = get(*model, "class_name");
    if (!cJSON_IsObject(*model) || !cJSON_IsString(cls))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': %s is not a Keras model config (an object with a class_name)",
                              t->name,
                              *model == topo ? "modelTopology" : "modelTopology.model_config");
    return CLNET_OK;
}

static void tfjs_free(tfjs *t)
{
    if (!t)
        return;
    for (int k = 0; t->s && k < t->n_s; ++k)
        free(t->s[k].path);
    free(t->s);
    free(t->g);
    free(t->w);
    free(t->by_name);
    cJSON_Delete(t->doc);
    free(t->top);
    free(t->name);
    free(t);
}

/* Parses the JSON text and its model config, the manifest and the shards' sizes. */
static clnet_status tfjs_parse(tfjs *t, const char *path, const char *json, size_t size,
                               cJSON **model, char *err, size_t len)
{
    const char *end = NULL;
    t->doc = cJSON_ParseWithLengthOpts(json, size, &end, 0);
    if (!t->doc)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s' is not JSON (at byte %zu)", t->name,
                              end && end >= json ? (size_t)(end - json) : (size_t)0);
    for (; end < json + size; ++end)
        if (!strchr(" \t\r\n", *end) || !*end)
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "'%s': something follows the JSON object at byte %zu", t->name,
                                  (size_t)(end - json));
    cJSON *parent = NULL, *m = NULL;
    clnet_status st = topology(t, &parent, &m, err, len);
    if (st != CLNET_OK)
        return st;
    const cJSON *name = get(get(m, "config"), "name");
    if (!(t->top = strdup(cJSON_IsString(name) ? name->valuestring : "")))
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    /* Shards are found beside model.json. */
    char *dir = path ? strdup(path) : NULL, *slash = dir ? strrchr(dir, '/') : NULL;
    if (path && !dir)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    if (slash)
        *slash = '\0';
    st = parse_manifest(t, !dir ? NULL : slash ? dir : ".", err, len);
    free(dir);
    if (st == CLNET_OK && !path && t->n_s)
        st = clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG,
                            "'%s': its weights are in shard files ('%s', ...), which are read "
                            "from model.json's directory: open model.json by its path",
                            t->name, t->s[0].rel);
    if (st == CLNET_OK)
        st = check_shards(t, err, len);
    if (st == CLNET_OK)
        *model = cJSON_DetachItemViaPointer(parent, m);
    return st;
}

clnet_status clnet__keras_tfjs_open(const char *path, const char *json, size_t json_size,
                                    cJSON **model, clnet__keras_source *src, char *err, size_t len)
{
    if (model)
        *model = NULL;
    if (src)
        memset(src, 0, sizeof *src);
    if (!model || !src || (!path && !json))
        return clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG,
                              "clnet__keras_tfjs_open: no model.json path or bytes");
    tfjs *t = calloc(1, sizeof *t);
    char *text = NULL;
    clnet_status st;
    if (!t || !(t->name = strdup(path ? path : "model.json (in memory)")))
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    else if (path && !(text = clnet__read_file(path, &json_size)))
        st = clnet__st_fail(err, len, CLNET_ERR_IO, "'%s': %s", path, strerror(errno));
    else
        st = tfjs_parse(t, path, path ? text : json, json_size, model, err, len);
    free(text);
    if (st != CLNET_OK) {
        tfjs_free(t);
        return st;
    }
    src->ctx = t;
    src->read = tfjs_read;
    src->count = tfjs_count;
    return CLNET_OK;
}

void clnet__keras_tfjs_close(clnet__keras_source *src)
{
    if (!src)
        return;
    tfjs_free(src->ctx);
    memset(src, 0, sizeof *src);
}
