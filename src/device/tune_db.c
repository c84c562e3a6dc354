/* tune_db.c - the per-user tuning database: winners of `clnet tune` (src/plan/tune.c)
 * per device name + driver version + kernel class + problem ("gemm NN 3136x64x576",
 * "conv2d 1x56x56x64 k3x3 s1x1 p1,1 -> 56x56x64"), with a digest of the kernel sources
 * they were measured with (entries of other kernels are ignored). A JSON file (cJSON), by default
 * $XDG_DATA_HOME/clnet/tune.json: user data, not a cache, since tuning takes minutes.
 * An entry overrides the variant table's choice (the shipped default, variants.c)
 * for its problem only. The entries of the context's device are loaded when the
 * context opens; a database that cannot be read is logged and ignored, so a broken
 * file never stops inference. Tests: tests/models/test_tune.c. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/cache.h"
#include "device/cl_sources.h"
#include "device/runtime.h"

#define FORMAT "clnet-tune-1"

void clnet__tune_default_path(char *buf, size_t len)
{
    clnet__user_path("CLNET_TUNE_DB", "XDG_DATA_HOME", ".local/share", "clnet/tune.json", buf, len);
}

/* A new, empty database. */
static cJSON *empty_doc(void)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc && (!cJSON_AddStringToObject(doc, "format", FORMAT) ||
                !cJSON_AddArrayToObject(doc, "entries"))) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return doc;
}

/* The database in text (len bytes, from path), or NULL and a message in err when it is
 * not a database of ours. */
static cJSON *parse_doc(const char *path, const char *text, size_t len, char *err, size_t err_len)
{
    cJSON *doc = cJSON_ParseWithLength(text, len);
    const cJSON *format = doc ? cJSON_GetObjectItemCaseSensitive(doc, "format") : NULL;
    if (!doc || !cJSON_IsString(format) || strcmp(format->valuestring, FORMAT) != 0 ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "entries"))) {
        snprintf(err, err_len,
                 "the tuning database %s is not valid: %s (expected JSON with \"format\": \"%s\" "
                 "and an \"entries\" array; move it away or pass another path)",
                 path, doc ? "wrong format or no entries" : "not JSON", FORMAT);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* The parsed database at path: an empty one when the file does not exist; NULL and
 * a message in err when it exists but is not a database of ours. */
static cJSON *load_doc(const char *path, char *err, size_t err_len)
{
    size_t len = 0;
    char *text = clnet__read_file(path, &len);
    if (!text) {
        cJSON *doc = errno == ENOENT ? empty_doc() : NULL;
        if (errno == ENOENT && !doc)
            snprintf(err, err_len, "out of host memory");
        else if (!doc)
            snprintf(err, err_len, "cannot read the tuning database %s: %s", path, strerror(errno));
        return doc;
    }
    cJSON *doc = parse_doc(path, text, len, err, err_len);
    free(text);
    return doc;
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

/* A digest of every embedded kernel source: entries tuned against other kernels
 * (another clnet version) measured something else and are ignored. */
static void kernels_digest(char out[17])
{
    const void *parts[2 * 64];
    size_t lens[2 * 64];
    int n = 0;
    for (int i = 0; clnet__cl_sources[i].name && n + 2 <= (int)CLNET_COUNTOF(parts); ++i) {
        parts[n] = clnet__cl_sources[i].name;
        lens[n++] = strlen(clnet__cl_sources[i].name);
        parts[n] = clnet__cl_sources[i].text;
        lens[n++] = clnet__cl_sources[i].length;
    }
    unsigned char h[32];
    clnet__sha256(parts, lens, n, h);
    for (int i = 0; i < 8; ++i)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Whether entry e is of this context's device, driver and kernel class, and (unless
 * digest is NULL) of the kernel sources with that digest. */
static int ours(const clnet_context *ctx, const cJSON *e, const char *digest)
{
    const char *dev = str_of(e, "device"), *drv = str_of(e, "driver"), *cls = str_of(e, "class");
    const char *kernels = str_of(e, "kernels");
    return dev && drv && cls && strcmp(dev, ctx->info.name) == 0 &&
           strcmp(drv, ctx->info.driver_version) == 0 &&
           strcmp(cls, clnet_device_class_name(ctx->cls)) == 0 &&
           (!digest || (kernels && strcmp(kernels, digest) == 0));
}

/* e as a clnet__tuned: 1, or 0 with the reason in why (the entry is skipped). Every
 * parameter is checked against the values its launcher accepts (clnet__param_tunable): a
 * GEMM_WG_M of 0 would divide by zero in gemm.c. */
static int from_json(const clnet_context *ctx, const cJSON *e, clnet__tuned *t, char *why,
                     size_t len)
{
    memset(t, 0, sizeof *t);
    const char *key = str_of(e, "problem"), *choice = str_of(e, "choice");
    if (!key || !choice || strlen(key) >= sizeof t->key || strlen(choice) >= sizeof t->choice) {
        snprintf(why, len, "no \"problem\" or \"choice\" string of at most %zu and %zu bytes",
                 sizeof t->key - 1, sizeof t->choice - 1);
        return 0;
    }
    strcpy(t->key, key);
    strcpy(t->choice, choice);
    t->ms = num_of(e, "ms");
    t->default_ms = num_of(e, "default_ms");
    if (!(t->ms >= 0.0 && t->ms < 1e12 && t->default_ms >= 0.0 && t->default_ms < 1e12)) {
        snprintf(why, len, "\"ms\" %g or \"default_ms\" %g is not a time", t->ms, t->default_ms);
        return 0;
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(e, "params"), *p;
    if (params && !cJSON_IsObject(params)) {
        snprintf(why, len, "\"params\" is not an object");
        return 0;
    }
    cJSON_ArrayForEach(p, params)
    {
        if (!cJSON_IsNumber(p) || strlen(p->string) >= sizeof t->param_keys[0] ||
            t->n_params == CLNET_TUNE_MAX_PARAMS) {
            snprintf(why, len, "parameter '%.24s' is not a number, or more than %d parameters",
                     p->string, CLNET_TUNE_MAX_PARAMS);
            return 0;
        }
        if (!clnet__param_tunable(ctx, p->string, p->valuedouble, why, len))
            return 0;
        strcpy(t->param_keys[t->n_params], p->string);
        t->param_values[t->n_params++] = (int)p->valuedouble;
    }
    return 1;
}

static cJSON *to_json(const clnet_context *ctx, const clnet__tuned *t, const char *when,
                      const char *digest)
{
    cJSON *e = cJSON_CreateObject(), *params = NULL;
    int ok = e && cJSON_AddStringToObject(e, "device", ctx->info.name) &&
             cJSON_AddStringToObject(e, "driver", ctx->info.driver_version) &&
             cJSON_AddStringToObject(e, "class", clnet_device_class_name(ctx->cls)) &&
             cJSON_AddStringToObject(e, "kernels", digest) &&
             cJSON_AddStringToObject(e, "problem", t->key) &&
             cJSON_AddStringToObject(e, "choice", t->choice) &&
             (params = cJSON_AddObjectToObject(e, "params")) != NULL &&
             cJSON_AddNumberToObject(e, "ms", t->ms) &&
             cJSON_AddNumberToObject(e, "default_ms", t->default_ms) &&
             cJSON_AddStringToObject(e, "tuned", when);
    for (int i = 0; ok && i < t->n_params; ++i)
        ok = cJSON_AddNumberToObject(params, t->param_keys[i], t->param_values[i]) != NULL;
    if (!ok) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

static void clear(clnet_context *ctx)
{
    free(ctx->tuned);
    ctx->tuned = NULL;
    ctx->n_tuned = 0;
    ctx->stats.tune_entries = 0;
    ++ctx->tune_version; /* every load and save comes through here */
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const clnet__tuned *)a)->key, ((const clnet__tuned *)b)->key);
}

/* Keeps the entries of doc that are ours, sorted by key for clnet__tune_find; an entry
 * that is ours but invalid is left out with a warning naming path and the entry. digest
 * NULL: the embedded kernels'. */
static clnet_status take_ours(clnet_context *ctx, const cJSON *doc, const char *path,
                              const char *digest)
{
    clear(ctx);
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(doc, "entries"), *e;
    if (!cJSON_GetArraySize(entries))
        return CLNET_OK; /* no file yet: no digest to compute either */
    char ours_digest[17];
    if (!digest) {
        kernels_digest(ours_digest);
        digest = ours_digest;
    }
    int n = 0;
    cJSON_ArrayForEach(e, entries) n += ours(ctx, e, digest);
    if (n == 0)
        return CLNET_OK;
    ctx->tuned = calloc((size_t)n, sizeof *ctx->tuned);
    if (!ctx->tuned)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory loading %s", path);
    int index = 0;
    cJSON_ArrayForEach(e, entries)
    {
        char why[256];
        if (ours(ctx, e, digest)) {
            if (from_json(ctx, e, &ctx->tuned[ctx->n_tuned], why, sizeof why))
                ctx->n_tuned++;
            else
                clnet__log(ctx, 1, "tuning database %s: entry %d (problem \"%.96s\") ignored: %s",
                           path, index, str_of(e, "problem") ? str_of(e, "problem") : "?", why);
        }
        ++index;
    }
    qsort(ctx->tuned, (size_t)ctx->n_tuned, sizeof *ctx->tuned, by_key);
    ctx->stats.tune_entries = ctx->n_tuned;
    return CLNET_OK;
}

void clnet__tune_load_text(clnet_context *ctx, const char *path, const char *text, size_t len,
                           const char *digest)
{
    char err[1024];
    cJSON *doc = parse_doc(path, text, len, err, sizeof err);
    if (!doc) {
        clear(ctx);
        clnet__log(ctx, 1, "%s; using the default kernel choices", err);
        return;
    }
    if (take_ours(ctx, doc, path, digest) != CLNET_OK)
        clnet__log(ctx, 1, "%s; using the default kernel choices", clnet_context_error(ctx));
    cJSON_Delete(doc);
}

void clnet__tune_load(clnet_context *ctx, const char *path)
{
    clear(ctx);
    if (path)
        snprintf(ctx->stats.tune_db, sizeof ctx->stats.tune_db, "%s", path);
    else
        clnet__tune_default_path(ctx->stats.tune_db, sizeof ctx->stats.tune_db);
    const char *off = getenv("CLNET_TUNE");
    if (!ctx->stats.tune_db[0] || (off && strcmp(off, "0") == 0))
        return;
    size_t len = 0;
    char *text = clnet__read_file(ctx->stats.tune_db, &len);
    if (text)
        clnet__tune_load_text(ctx, ctx->stats.tune_db, text, len, NULL);
    else if (errno != ENOENT)
        clnet__log(ctx, 1,
                   "cannot read the tuning database %s: %s; using the default kernel choices",
                   ctx->stats.tune_db, strerror(errno));
    free(text);
}

void clnet__tune_unload(clnet_context *ctx)
{
    clear(ctx);
}

const clnet__tuned *clnet__tune_find(const clnet_context *ctx, const char *key)
{
    if (!ctx->n_tuned)
        return NULL;
    /* Every GEMM and convolution of a plan asks: a binary search, not a scan. */
    clnet__tuned want;
    snprintf(want.key, sizeof want.key, "%s", key);
    return bsearch(&want, ctx->tuned, (size_t)ctx->n_tuned, sizeof *ctx->tuned, by_key);
}

/* Writes doc to path through a temporary file renamed over it, so a crash or a full
 * disk leaves the previous database whole. */
static clnet_status write_doc(clnet_context *ctx, const char *path, const cJSON *doc)
{
    char *text = cJSON_Print(doc);
    if (!text)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory writing %s", path);
    char dir[600];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    const void *parts[] = {text, "\n"};
    const size_t lens[] = {strlen(text), 1};
    const int failed = (slash && slash != dir && clnet__make_dirs(dir) != 0) ||
                       clnet__write_atomic(path, parts, lens, 2) != 0;
    const int e = errno;
    free(text);
    if (failed)
        return clnet__fail(ctx, CLNET_ERR_IO, "cannot write the tuning database %s: %s", path,
                           strerror(e));
    return CLNET_OK;
}

clnet_status clnet__tune_save(clnet_context *ctx, const clnet__tuned *entries, int n)
{
    const char *path = ctx->stats.tune_db;
    if (!path[0])
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "no tuning database path: set $CLNET_TUNE_DB or HOME, or pass one");
    char err[1024];
    cJSON *doc = load_doc(path, err, sizeof err);
    if (!doc)
        return clnet__fail(ctx, CLNET_ERR_IO, "%s", err);
    char when[32], digest[17];
    kernels_digest(digest);
    const time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "entries");
    clnet_status st = CLNET_OK;
    for (int i = 0; i < n && st == CLNET_OK; ++i) {
        /* A new winner replaces the old entry of the same problem. */
        cJSON *e = list->child, *next;
        for (; e; e = next) {
            next = e->next;
            const char *key = str_of(e, "problem");
            /* ... and entries of older kernels for the same problem. */
            if (ours(ctx, e, NULL) && key && strcmp(key, entries[i].key) == 0)
                cJSON_Delete(cJSON_DetachItemViaPointer(list, e));
        }
        cJSON *add = to_json(ctx, &entries[i], when, digest);
        if (!add || !cJSON_AddItemToArray(list, add)) {
            cJSON_Delete(add);
            st = clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        }
    }
    if (st == CLNET_OK)
        st = write_doc(ctx, path, doc);
    if (st == CLNET_OK)
        st = take_ours(ctx, doc, path, NULL);
    cJSON_Delete(doc);
    return st;
}

int clnet__tuned_param(const clnet__tuned *t, const char *key, int *value)
{
    for (int i = 0; t && i < t->n_params; ++i)
        if (strcmp(t->param_keys[i], key) == 0) {
            *value = t->param_values[i];
            return 1;
        }
    return 0;
}
