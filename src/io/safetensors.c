/* safetensors.c - see safetensors.h. The header is built and parsed with cJSON;
 * integers (shapes, offsets) are written as raw JSON numbers so they stay exact.
 * Tests: tests/unit/test_safetensors.c. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"

/* Integers a JSON number (a double) holds exactly. */
#define MAX_EXACT 9007199254740992.0

clnet_status clnet__st_fail(char *err, size_t len, clnet_status st, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* Tensors are little-endian in the file: swaps bytes in place on a big-endian host
 * (the same call converts in both directions). */
static void swap_if_big_endian(float *x, size_t n)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    if (first == 1)
        return;
    for (size_t i = 0; i < n; ++i) {
        unsigned char b[4], r[4];
        memcpy(b, &x[i], 4);
        r[0] = b[3];
        r[1] = b[2];
        r[2] = b[1];
        r[3] = b[0];
        memcpy(&x[i], r, 4);
    }
}

int clnet__utf8_valid(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        const unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return 0;
        }
        if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t j = 2; j <= k; ++j)
            if (s[i + j] < 0x80 || s[i + j] > 0xBF)
                return 0;
        i += k + 1;
    }
    return 1;
}

static int str_valid(const char *s)
{
    return s && *s && clnet__utf8_valid(s, strlen(s));
}

const char *clnet__st_shape_text(const int64_t *shape, int rank, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < rank && used < len; ++d)
        used +=
            (size_t)snprintf(buf + used, len - used, "%s%lld", d ? "," : "", (long long)shape[d]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first string that occurs twice in s[0..n) (sorted in place), or NULL. */
static const char *first_duplicate(const char **s, size_t n)
{
    qsort(s, n, sizeof *s, cmp_str);
    for (size_t i = 1; i < n; ++i)
        if (strcmp(s[i - 1], s[i]) == 0)
            return s[i];
    return NULL;
}

/* ---- writing ---- */

static cJSON *raw_u64(uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(buf);
}

/* Checks the entries and metadata and computes each tensor's element count. */
static clnet_status check_entries(const clnet__st_entry *t, int n, const char *const (*meta)[2],
                                  int n_meta, uint64_t *counts, char *err, size_t len)
{
    const size_t n_names = (size_t)(n > n_meta ? n : n_meta);
    const char **names = malloc((n_names ? n_names : 1) * sizeof *names);
    if (!names)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_status st = CLNET_OK;
    uint64_t total = 0;
    for (int i = 0; i < n && st == CLNET_OK; ++i) {
        names[i] = t[i].name;
        if (!str_valid(t[i].name) || strcmp(t[i].name, "__metadata__") == 0)
            st = clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG,
                                "tensor %d: the name must be non-empty UTF-8 and not __metadata__",
                                i);
        else if (t[i].rank < 0 || t[i].rank > CLNET_ST_MAX_RANK)
            st =
                clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "tensor '%s': rank %d is not 0..%d",
                               t[i].name, t[i].rank, CLNET_ST_MAX_RANK);
        counts[i] = 1;
        for (int d = 0; d < t[i].rank && st == CLNET_OK; ++d) {
            if (t[i].shape[d] < 0 || (double)t[i].shape[d] > MAX_EXACT / 4)
                st = clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "tensor '%s': dimension %lld",
                                    t[i].name, (long long)t[i].shape[d]);
            else if (t[i].shape[d] && counts[i] > (uint64_t)(MAX_EXACT / 4) / t[i].shape[d])
                st = clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "tensor '%s' is too large",
                                    t[i].name);
            else
                counts[i] *= (uint64_t)t[i].shape[d];
        }
        total += counts[i];
        if (st == CLNET_OK && (double)total > MAX_EXACT / 4)
            st = clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG,
                                "the tensors are too large for one file");
    }
    const char *dup = st == CLNET_OK ? first_duplicate(names, (size_t)n) : NULL;
    if (dup)
        st = clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "two tensors are called '%s'", dup);
    for (int k = 0; k < n_meta && st == CLNET_OK; ++k) {
        names[k] = meta[k][0];
        if (!str_valid(meta[k][0]) || !meta[k][1] ||
            !clnet__utf8_valid(meta[k][1], strlen(meta[k][1])))
            st = clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG,
                                "metadata %d: keys must be non-empty UTF-8, values UTF-8", k);
    }
    dup = st == CLNET_OK ? first_duplicate(names, (size_t)n_meta) : NULL;
    if (dup)
        st = clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "two metadata entries are called '%s'",
                            dup);
    free(names);
    return st;
}

/* The header JSON, unformatted, malloc'd (cJSON's allocator: free with cJSON_free). */
static char *build_header(const clnet__st_entry *t, int n, const char *const (*meta)[2], int n_meta,
                          const uint64_t *counts)
{
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    if (ok && n_meta > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        ok = m != NULL;
        for (int k = 0; ok && k < n_meta; ++k)
            ok = cJSON_AddStringToObject(m, meta[k][0], meta[k][1]) != NULL;
    }
    uint64_t offset = 0;
    for (int i = 0; ok && i < n; ++i) {
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
        ok = e && cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *shape = ok ? cJSON_AddArrayToObject(e, "shape") : NULL;
        ok = shape != NULL;
        for (int d = 0; ok && d < t[i].rank; ++d)
            ok = cJSON_AddItemToArray(shape, raw_u64((uint64_t)t[i].shape[d]));
        cJSON *offsets = ok ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
        ok = offsets && cJSON_AddItemToArray(offsets, raw_u64(offset));
        offset += counts[i] * 4;
        ok = ok && cJSON_AddItemToArray(offsets, raw_u64(offset));
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

static clnet_status io_fail(char *err, size_t len, const char *what, const char *path)
{
    return clnet__st_fail(err, len, CLNET_ERR_IO, "%s '%s': %s", what, path, strerror(errno));
}

/* Writes the header and every tensor to f. */
static clnet_status write_all(FILE *f, const char *tmp, const char *header, int n,
                              const uint64_t *counts, clnet__st_fill_fn fill, void *user, char *err,
                              size_t len)
{
    const size_t hlen = strlen(header), pad = (8 - hlen % 8) % 8;
    unsigned char prefix[8];
    for (int b = 0; b < 8; ++b)
        prefix[b] = (unsigned char)((uint64_t)(hlen + pad) >> (8 * b));
    if (fwrite(prefix, 1, 8, f) != 8 || fwrite(header, 1, hlen, f) != hlen ||
        fwrite("        ", 1, pad, f) != pad)
        return io_fail(err, len, "writing", tmp);
    uint64_t most = 1;
    for (int i = 0; i < n; ++i)
        most = counts[i] > most ? counts[i] : most;
    if (most > SIZE_MAX / sizeof(float))
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY,
                              "a tensor does not fit in host memory");
    float *buf = malloc((size_t)most * sizeof *buf);
    if (!buf)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_status st = CLNET_OK;
    for (int i = 0; i < n && st == CLNET_OK; ++i) {
        const size_t count = (size_t)counts[i];
        st = fill(user, i, buf, count, err, len);
        if (st != CLNET_OK)
            break;
        swap_if_big_endian(buf, count);
        if (fwrite(buf, sizeof *buf, count, f) != count)
            st = io_fail(err, len, "writing", tmp);
    }
    free(buf);
    return st;
}

/* Best effort: makes the rename itself durable. */
static void sync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    FILE *d = fopen(dir, "r");
    if (d) {
        fsync(fileno(d));
        fclose(d);
    }
}

clnet_status clnet__st_save(const char *path, const clnet__st_entry *t, int n,
                            const char *const (*meta)[2], int n_meta, clnet__st_fill_fn fill,
                            void *user, char *err, size_t len)
{
    if (!path || !*path || n < 0 || n_meta < 0 || (n && (!t || !fill)) || (n_meta && !meta))
        return clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "clnet__st_save: bad arguments");
    uint64_t *counts = malloc((size_t)(n ? n : 1) * sizeof *counts);
    if (!counts)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_status st = check_entries(t, n, meta, n_meta, counts, err, len);
    char *header = st == CLNET_OK ? build_header(t, n, meta, n_meta, counts) : NULL;
    if (st == CLNET_OK && !header)
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory for the header");
    const size_t tmp_len = strlen(path) + 32;
    char *tmp = st == CLNET_OK ? malloc(tmp_len) : NULL;
    if (st == CLNET_OK && !tmp)
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    FILE *f = NULL;
    if (st == CLNET_OK) {
        snprintf(tmp, tmp_len, "%s.tmp.%ld", path, (long)getpid());
        if (!(f = fopen(tmp, "wb")))
            st = io_fail(err, len, "cannot create the temporary file", tmp);
    }
    if (st == CLNET_OK)
        st = write_all(f, tmp, header, n, counts, fill, user, err, len);
    if (st == CLNET_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        st = io_fail(err, len, "writing", tmp);
    if (f && fclose(f) != 0 && st == CLNET_OK)
        st = io_fail(err, len, "closing", tmp);
    if (st == CLNET_OK && rename(tmp, path) != 0)
        st = clnet__st_fail(err, len, CLNET_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path,
                            strerror(errno));
    if (st == CLNET_OK)
        sync_parent(path);
    else if (f)
        remove(tmp);
    free(tmp);
    cJSON_free(header);
    free(counts);
    return st;
}

/* ---- reading ---- */

void clnet__st_close(clnet__st_file *f)
{
    if (!f)
        return;
    if (f->f)
        fclose(f->f);
    for (int i = 0; f->tensors && i < f->n; ++i)
        free(f->tensors[i].name);
    for (int k = 0; f->meta && k < f->n_meta; ++k) {
        free(f->meta[k][0]);
        free(f->meta[k][1]);
    }
    free(f->tensors);
    free(f->by_name);
    free(f->meta);
    free(f);
}

/* A JSON number that is an exact non-negative integer. */
static int get_u64(const cJSON *item, uint64_t *v)
{
    if (!cJSON_IsNumber(item))
        return 0;
    const double d = item->valuedouble;
    if (!(d >= 0 && d <= MAX_EXACT) || d != (double)(uint64_t)d)
        return 0;
    *v = (uint64_t)d;
    return 1;
}

static clnet_status parse_meta(clnet__st_file *f, const cJSON *m, char *err, size_t len)
{
    if (!cJSON_IsObject(m))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "__metadata__ is not an object");
    f->has_meta = 1;
    const int n = cJSON_GetArraySize(m);
    if (!(f->meta = calloc((size_t)(n ? n : 1), sizeof *f->meta)))
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, m)
    {
        if (!cJSON_IsString(e))
            return clnet__st_fail(
                err, len, CLNET_ERR_PARSE,
                "__metadata__ \"%s\" is not a string (metadata values are strings)", e->string);
        char **kv = f->meta[f->n_meta];
        kv[0] = strdup(e->string);
        kv[1] = strdup(e->valuestring);
        ++f->n_meta;
        if (!kv[0] || !kv[1])
            return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    const char **keys = malloc((size_t)(n ? n : 1) * sizeof *keys);
    if (!keys)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int k = 0; k < n; ++k)
        keys[k] = f->meta[k][0];
    const char *dup = first_duplicate(keys, (size_t)n);
    clnet_status st =
        dup ? clnet__st_fail(err, len, CLNET_ERR_PARSE, "__metadata__ has \"%s\" twice", dup)
            : CLNET_OK;
    free(keys);
    return st;
}

/* One tensor entry of the header: its dtype, shape and offsets, checked against the
 * data section's size. */
static clnet_status parse_tensor(clnet__st_tensor *t, const cJSON *e, uint64_t data_size, char *err,
                                 size_t len)
{
    if (!(t->name = strdup(e->string)))
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    const char *name = t->name;
    if (!cJSON_IsObject(e))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "tensor '%s' is not a JSON object", name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dtype))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "tensor '%s' has no dtype string", name);
    if (strcmp(dtype->valuestring, "F32") != 0)
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                              "tensor '%s' has dtype \"%.16s\": clnet reads F32 tensors only", name,
                              dtype->valuestring);
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > CLNET_ST_MAX_RANK)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "tensor '%s': shape is not an array of at most %d dimensions", name,
                              CLNET_ST_MAX_RANK);
    t->count = 1;
    const cJSON *d;
    cJSON_ArrayForEach(d, shape)
    {
        uint64_t v = 0;
        if (!get_u64(d, &v))
            return clnet__st_fail(
                err, len, CLNET_ERR_PARSE,
                "tensor '%s': shape holds something other than a non-negative integer", name);
        if (v && t->count > data_size / v) /* more elements than the data section holds */
            return clnet__st_fail(
                err, len, CLNET_ERR_PARSE,
                "tensor '%s': its shape needs more than the %llu bytes of the data section: "
                "the file is truncated or corrupt",
                name, (unsigned long long)data_size);
        t->count *= v;
        t->shape[t->rank++] = (int64_t)v;
    }
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !get_u64(cJSON_GetArrayItem(offsets, 0), &t->begin) ||
        !get_u64(cJSON_GetArrayItem(offsets, 1), &t->end))
        return clnet__st_fail(
            err, len, CLNET_ERR_PARSE,
            "tensor '%s': data_offsets is not [begin, end] in non-negative integers", name);
    char s[160];
    if (t->begin > t->end)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "tensor '%s': data_offsets [%llu, %llu) end first", name,
                              (unsigned long long)t->begin, (unsigned long long)t->end);
    if (t->end > data_size)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "tensor '%s': data_offsets [%llu, %llu) run past the end of the data "
                              "section (%llu bytes): the file is truncated or corrupt",
                              name, (unsigned long long)t->begin, (unsigned long long)t->end,
                              (unsigned long long)data_size);
    if (t->end - t->begin != t->count * 4)
        return clnet__st_fail(
            err, len, CLNET_ERR_PARSE,
            "tensor '%s': data_offsets [%llu, %llu) hold %llu bytes but shape %s of F32 "
            "needs %llu",
            name, (unsigned long long)t->begin, (unsigned long long)t->end,
            (unsigned long long)(t->end - t->begin),
            clnet__st_shape_text(t->shape, t->rank, s, sizeof s),
            (unsigned long long)(t->count * 4));
    return CLNET_OK;
}

static int cmp_offset(const void *a, const void *b)
{
    const clnet__st_tensor *x = *(const clnet__st_tensor *const *)a;
    const clnet__st_tensor *y = *(const clnet__st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(const clnet__st_tensor *const *)a)->name,
                  (*(const clnet__st_tensor *const *)b)->name);
}

/* The tensors tile the data section: sorted by offset, each starts where the previous
 * ended and the last ends at its end. Also builds the by-name index and refuses
 * duplicate names. */
static clnet_status check_layout(clnet__st_file *f, uint64_t data_size, char *err, size_t len)
{
    const size_t n = (size_t)f->n;
    clnet__st_tensor **p = malloc((n ? n : 1) * sizeof *p);
    if (!p || !(f->by_name = malloc((n ? n : 1) * sizeof *f->by_name))) {
        free(p);
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    clnet_status st = CLNET_OK;
    for (size_t i = 0; i < n; ++i)
        p[i] = &f->tensors[i];
    qsort(p, n, sizeof *p, cmp_offset);
    uint64_t pos = 0;
    for (size_t i = 0; i < n && st == CLNET_OK; ++i) {
        if (p[i]->begin < pos)
            st = clnet__st_fail(
                err, len, CLNET_ERR_PARSE,
                "tensors '%s' and '%s' overlap: data_offsets [%llu, %llu) and [%llu, %llu)",
                p[i - 1]->name, p[i]->name, (unsigned long long)p[i - 1]->begin,
                (unsigned long long)p[i - 1]->end, (unsigned long long)p[i]->begin,
                (unsigned long long)p[i]->end);
        else if (p[i]->begin > pos)
            st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                "bytes [%llu, %llu) of the data section belong to no tensor",
                                (unsigned long long)pos, (unsigned long long)p[i]->begin);
        pos = p[i]->end;
    }
    if (st == CLNET_OK && pos != data_size)
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                            "bytes [%llu, %llu) at the end of the data section belong to no tensor",
                            (unsigned long long)pos, (unsigned long long)data_size);
    if (st == CLNET_OK) {
        qsort(p, n, sizeof *p, cmp_name);
        for (size_t i = 0; i < n; ++i) {
            f->by_name[i] = (int)(p[i] - f->tensors);
            if (i && strcmp(p[i - 1]->name, p[i]->name) == 0 && st == CLNET_OK)
                st = clnet__st_fail(err, len, CLNET_ERR_PARSE, "two tensors are called '%s'",
                                    p[i]->name);
        }
    }
    free(p);
    return st;
}

/* Parses and checks the header text (hlen bytes, NUL-terminated at hlen). */
static clnet_status parse_header(clnet__st_file *f, const char *text, size_t hlen, char *err,
                                 size_t len)
{
    if (memchr(text, '\0', hlen))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "the header holds a NUL byte: not JSON");
    if (!clnet__utf8_valid(text, hlen))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "the header is not valid UTF-8");
    if (text[0] != '{')
        return clnet__st_fail(
            err, len, CLNET_ERR_PARSE,
            "the header does not start with '{' (starts \"%.16s\"): not a safetensors "
            "file",
            text);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, hlen, &end, 0);
    if (!root) {
        const size_t at = end && end >= text && end <= text + hlen ? (size_t)(end - text) : 0;
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "the header is not JSON (at byte %zu: \"%.24s\")", at, text + at);
    }
    clnet_status st = CLNET_OK;
    for (const char *c = end; c < text + hlen && st == CLNET_OK; ++c)
        if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r')
            st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                "the header has text after its JSON object (at byte %zu)",
                                (size_t)(c - text));
    if (st == CLNET_OK && !cJSON_IsObject(root))
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE, "the header is not a JSON object");
    const uint64_t data_size = f->size - f->data_start;
    const int n = st == CLNET_OK ? cJSON_GetArraySize(root) : 0;
    if (st == CLNET_OK && !(f->tensors = calloc((size_t)(n ? n : 1), sizeof *f->tensors)))
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    const cJSON *e = st == CLNET_OK ? root->child : NULL;
    for (; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            st = f->has_meta ? clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                              "the header has __metadata__ twice")
                             : parse_meta(f, e, err, len);
        } else {
            st = parse_tensor(&f->tensors[f->n], e, data_size, err, len);
            ++f->n; /* even on failure: the name is freed by clnet__st_close */
        }
        if (st != CLNET_OK)
            break;
    }
    if (st == CLNET_OK)
        st = check_layout(f, data_size, err, len);
    cJSON_Delete(root);
    return st;
}

/* Reads and checks the header of f (its stream and size set); on failure the caller
 * closes f. */
static clnet_status read_header(clnet__st_file *f, char *err, size_t len)
{
    unsigned char prefix[8];
    uint64_t hlen = 0;
    if (f->size < 8 || fread(prefix, 1, 8, f->f) != 8)
        return clnet__st_fail(
            err, len, CLNET_ERR_PARSE,
            "%llu bytes are too few for the 8-byte header length: not a safetensors file",
            (unsigned long long)f->size);
    for (int b = 0; b < 8; ++b)
        hlen |= (uint64_t)prefix[b] << (8 * b);
    if (hlen > CLNET_ST_MAX_HEADER || hlen > f->size - 8 || hlen < 2)
        return clnet__st_fail(
            err, len, CLNET_ERR_PARSE,
            "header length %llu is %s: the file is truncated or not a safetensors file",
            (unsigned long long)hlen,
            hlen < 2                     ? "too short for a JSON object"
            : hlen > CLNET_ST_MAX_HEADER ? "above the limit of 100 MB"
                                         : "beyond the end of the file");
    f->data_start = 8 + hlen;
    char *text = malloc((size_t)hlen + 1);
    if (!text)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_status st = CLNET_OK;
    if (fread(text, 1, (size_t)hlen, f->f) != (size_t)hlen) {
        st = clnet__st_fail(err, len, CLNET_ERR_IO, "reading the header: %s",
                            ferror(f->f) ? strerror(errno) : "the file ended early");
    } else {
        text[hlen] = '\0';
        st = parse_header(f, text, (size_t)hlen, err, len);
    }
    free(text);
    return st;
}

clnet_status clnet__st_open(const char *path, clnet__st_file **out, char *err, size_t len)
{
    if (!out)
        return clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "clnet__st_open: no out");
    *out = NULL;
    if (!path)
        return clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "clnet__st_open: no path");
    clnet__st_file *f = calloc(1, sizeof *f);
    if (!f)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_status st = CLNET_OK;
    struct stat sb;
    /* Non-blocking, so a FIFO is refused below instead of waiting for a writer. */
    const int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = clnet__st_fail(err, len, CLNET_ERR_IO, "cannot open: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
    } else if (!S_ISREG(sb.st_mode) || !(f->f = fdopen(fd, "rb"))) {
        st = clnet__st_fail(err, len, CLNET_ERR_IO, "%s",
                            S_ISDIR(sb.st_mode)   ? "not a regular file (a directory)"
                            : S_ISREG(sb.st_mode) ? strerror(errno)
                                                  : "not a regular file");
        close(fd);
    } else {
        f->size = (uint64_t)sb.st_size;
        st = read_header(f, err, len);
    }
    if (st != CLNET_OK)
        clnet__st_close(f);
    else
        *out = f;
    return st;
}

clnet_status clnet__st_open_memory(const void *data, size_t size, clnet__st_file **out, char *err,
                                   size_t len)
{
    if (!out)
        return clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "clnet__st_open_memory: no out");
    *out = NULL;
    if (!data && size)
        return clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "clnet__st_open_memory: no data");
    clnet__st_file *f = calloc(1, sizeof *f);
    if (!f)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    f->size = size;
    clnet_status st = CLNET_OK;
    /* fmemopen refuses an empty buffer: read_header refuses it first, without a stream. */
    if (size >= 8 && !(f->f = fmemopen((void *)data, size, "rb")))
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "cannot read from memory: %s",
                            strerror(errno));
    if (st == CLNET_OK)
        st = read_header(f, err, len);
    if (st != CLNET_OK)
        clnet__st_close(f);
    else
        *out = f;
    return st;
}

int clnet__st_find(const clnet__st_file *f, const char *name)
{
    int lo = 0, hi = f ? f->n : 0;
    while (name && lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        const int c = strcmp(f->tensors[f->by_name[mid]].name, name);
        if (c == 0)
            return f->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

clnet_status clnet__st_read(clnet__st_file *f, int i, float *dst, size_t count, char *err,
                            size_t len)
{
    if (!f || i < 0 || i >= f->n || (count && !dst))
        return clnet__st_fail(err, len, CLNET_ERR_INVALID_ARG, "clnet__st_read: no tensor %d", i);
    const clnet__st_tensor *t = &f->tensors[i];
    if (count != t->count)
        return clnet__st_fail(err, len, CLNET_ERR_SHAPE, "tensor '%s' holds %llu floats, not %zu",
                              t->name, (unsigned long long)t->count, count);
    if (!count)
        return CLNET_OK;
    if (fseeko(f->f, (off_t)(f->data_start + t->begin), SEEK_SET) != 0)
        return clnet__st_fail(err, len, CLNET_ERR_IO, "tensor '%s': seek: %s", t->name,
                              strerror(errno));
    const size_t got = fread(dst, sizeof *dst, count, f->f);
    if (got != count)
        return clnet__st_fail(err, len, CLNET_ERR_IO, "tensor '%s': read %zu of %zu floats: %s",
                              t->name, got, count,
                              ferror(f->f) ? strerror(errno) : "the file ended early");
    swap_if_big_endian(dst, count);
    return CLNET_OK;
}

const char *clnet__st_meta(const clnet__st_file *f, const char *key)
{
    for (int k = 0; f && key && k < f->n_meta; ++k)
        if (strcmp(f->meta[k][0], key) == 0)
            return f->meta[k][1];
    return NULL;
}

clnet_status clnet__st_meta_int(const clnet__st_file *f, const char *key, int64_t lo, int64_t hi,
                                int64_t *value, char *err, size_t len)
{
    const char *text = NULL;
    const clnet_status st = clnet__st_meta_require(f, key, &text, err, len);
    if (st != CLNET_OK)
        return st;
    const char *digits = text[0] == '-' ? text + 1 : text;
    char *end = NULL;
    errno = 0;
    const long long v = strtoll(text, &end, 10);
    if (*digits < '0' || *digits > '9' || *end || errno || v < lo || v > hi)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "__metadata__ \"%s\" is \"%.40s\": not an integer in %lld..%lld", key,
                              text, (long long)lo, (long long)hi);
    *value = v;
    return CLNET_OK;
}

clnet_status clnet__st_meta_require(const clnet__st_file *f, const char *key, const char **value,
                                    char *err, size_t len)
{
    *value = clnet__st_meta(f, key);
    if (*value)
        return CLNET_OK;
    if (!f->has_meta)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "the header has no __metadata__ (needed: \"%s\")", key);
    return clnet__st_fail(err, len, CLNET_ERR_PARSE, "__metadata__ has no \"%s\"", key);
}
