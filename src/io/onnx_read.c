/* onnx_read.c - the leaves of ONNX reading: attributes, tensor values (typed fields,
 * raw_data, external files) and the test data's .pb tensors. Every size a file states
 * is checked against the bytes it has before anything is allocated from it. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_import.h"
#include "io/safetensors.h"

/* Elements above this in one constant are refused (2^31: a weight clnet could hold). */
#define MAX_ELEMENTS ((int64_t)1 << 31)

const Onnx__AttributeProto *ox_attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; ++i)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
            return n->attribute[i];
    return NULL;
}

int64_t ox_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = ox_attr(n, name);
    return a && a->has_i ? a->i : def;
}

float ox_attr_float(const Onnx__NodeProto *n, const char *name, float def)
{
    const Onnx__AttributeProto *a = ox_attr(n, name);
    return a && a->has_f ? a->f : def;
}

int ox_attr_ints(const Onnx__NodeProto *n, const char *name, int64_t *out, int max)
{
    const Onnx__AttributeProto *a = ox_attr(n, name);
    if (!a)
        return -1;
    const int count = a->n_ints > (size_t)max ? max + 1 : (int)a->n_ints;
    for (int i = 0; i < count && i < max; ++i)
        out[i] = a->ints[i];
    return count;
}

const char *ox_attr_str(const Onnx__NodeProto *n, const char *name, const char *def)
{
    const Onnx__AttributeProto *a = ox_attr(n, name);
    if (!a || !a->has_s)
        return def;
    /* Strings of attributes are bytes; only short, NUL-free ones are names we compare. */
    static _Thread_local char buf[64];
    if (a->s.len >= sizeof buf || memchr(a->s.data, 0, a->s.len))
        return "?";
    memcpy(buf, a->s.data, a->s.len);
    buf[a->s.len] = 0;
    return buf;
}

void ox_const_free(ox_const *c)
{
    free(c->i);
    free(c->f);
    memset(c, 0, sizeof *c);
}

/* Bytes per element of a data type, 0 for types clnet does not read. */
static int elem_size(int type, int *is_int)
{
    *is_int = 1;
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        *is_int = 0;
        return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        *is_int = 0;
        return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
        *is_int = 0;
        return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
        return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
        return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
        return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
        return 8;
    default:
        return 0;
    }
}

static float half_to_float(uint16_t h)
{
    const int e = (h >> 10) & 31, m = h & 1023;
    const float s = (h & 0x8000) ? -1.0f : 1.0f;
    if (e == 0)
        return s * ldexpf((float)m, -24);
    if (e == 31)
        return m ? NAN : s * INFINITY;
    return s * ldexpf((float)(m | 1024), e - 25);
}

/* Element j of little-endian bytes p of type into c. */
static void put_raw(ox_const *c, int type, const uint8_t *p, int64_t j)
{
    uint64_t u = 0;
    int is_int;
    const int bytes = elem_size(type, &is_int);
    for (int b = bytes - 1; b >= 0; --b)
        u = u << 8 | p[b];
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
        const uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, 4);
        c->f[j] = f;
        break;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
        double d;
        memcpy(&d, &u, 8);
        c->f[j] = (float)d;
        break;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
        c->f[j] = half_to_float((uint16_t)u);
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
        c->i[j] = (int8_t)u;
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
        c->i[j] = (int16_t)u;
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
        c->i[j] = (int32_t)u;
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
        c->i[j] = u != 0;
        break;
    default: /* unsigned types and int64 */
        c->i[j] = (int64_t)u;
        break;
    }
}

/* The external file's bytes [offset, offset + size) of a tensor into a new buffer. */
static clnet_status read_external(const Onnx__TensorProto *t, const char *dir, const char *what,
                                  uint64_t size, uint8_t **out, char *err, size_t len)
{
    const char *location = NULL;
    int64_t offset = 0, length = -1;
    for (size_t i = 0; i < t->n_external_data; ++i) {
        const Onnx__StringStringEntryProto *e = t->external_data[i];
        if (!e->key || !e->value)
            continue;
        char *end;
        if (!strcmp(e->key, "location"))
            location = e->value;
        else if (!strcmp(e->key, "offset") || !strcmp(e->key, "length")) {
            errno = 0;
            const long long v = strtoll(e->value, &end, 10);
            if (errno || *end || end == e->value || v < 0)
                return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                      "%s: external data %s '%s' is not a byte count", what, e->key,
                                      e->value);
            *(!strcmp(e->key, "offset") ? &offset : &length) = v;
        }
    }
    if (!location || !location[0])
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "%s: external data without a location",
                              what);
    if (!dir)
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                              "%s: external data '%s' needs the model's directory (a model read "
                              "from memory has none)",
                              what, location);
    /* As ONNX Runtime: a location is a path below the model's directory, never above it. */
    if (location[0] == '/' || !strcmp(location, "..") || !strncmp(location, "../", 3) ||
        strstr(location, "/../") ||
        (strlen(location) >= 3 && !strcmp(location + strlen(location) - 3, "/..")))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "%s: external data location '%s' is outside the model's directory",
                              what, location);
    if (length >= 0 && (uint64_t)length != size)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "%s: external data length %lld, but its shape needs %llu bytes", what,
                              (long long)length, (unsigned long long)size);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, location) >= sizeof path)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "%s: external data path too long", what);
    FILE *f = fopen(path, "rb");
    if (!f)
        return clnet__st_fail(err, len, CLNET_ERR_IO, "%s: external data file '%s': %s", what, path,
                              strerror(errno));
    uint8_t *buf = malloc(size ? size : 1);
    clnet_status st = CLNET_OK;
    if (!buf)
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of host memory", what);
    else if (fseeko(f, (off_t)offset, SEEK_SET) || fread(buf, 1, size, f) != size)
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                            "%s: external data file '%s' has no %llu bytes at offset %lld", what,
                            path, (unsigned long long)size, (long long)offset);
    fclose(f);
    if (st != CLNET_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return CLNET_OK;
}

clnet_status ox_tensor(const Onnx__TensorProto *t, const char *dir, const char *what, ox_const *c,
                       char *err, size_t len)
{
    memset(c, 0, sizeof *c);
    const int type = t->has_data_type ? t->data_type : 0;
    int is_int;
    const int size = elem_size(type, &is_int);
    if (!size)
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED,
                              "%s: data type %d is not a number type clnet reads", what, type);
    if (t->n_dims > CLNET_ONNX_MAX_RANK)
        return clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED, "%s: rank %zu (at most %d)", what,
                              t->n_dims, CLNET_ONNX_MAX_RANK);
    int64_t count = 1;
    for (size_t d = 0; d < t->n_dims; ++d) {
        if (t->dims[d] < 0 || (t->dims[d] && count > MAX_ELEMENTS / t->dims[d]))
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "%s: dimension %zu is %lld (negative, or beyond 2^31 elements)",
                                  what, d, (long long)t->dims[d]);
        count *= t->dims[d];
        c->dims[d] = t->dims[d];
    }
    c->rank = (int)t->n_dims;
    c->count = count;
    c->is_int = is_int;
    /* Where the values are, and how many each place holds. */
    const int external =
        t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    size_t have;
    if (external)
        have = (size_t)count;
    else if (t->has_raw_data)
        have = t->raw_data.len / (size_t)size;
    else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        have = t->n_float_data;
    else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
        have = t->n_double_data;
    else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
        have = t->n_int64_data;
    else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT32 ||
             type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT64)
        have = t->n_uint64_data;
    else
        have = t->n_int32_data;
    if (have != (size_t)count ||
        (!external && t->has_raw_data && t->raw_data.len != (size_t)count * (size_t)size))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "%s: its shape holds %lld values but the file gives %zu", what,
                              (long long)count, have);
    if (is_int)
        c->i = malloc((size_t)(count ? count : 1) * sizeof *c->i);
    else
        c->f = malloc((size_t)(count ? count : 1) * sizeof *c->f);
    if (!c->i && !c->f)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of host memory", what);
    const uint8_t *raw = t->has_raw_data ? t->raw_data.data : NULL;
    uint8_t *ext = NULL;
    if (external) {
        const clnet_status st =
            read_external(t, dir, what, (uint64_t)count * (uint64_t)size, &ext, err, len);
        if (st != CLNET_OK) {
            ox_const_free(c);
            return st;
        }
        raw = ext;
    }
    for (int64_t j = 0; j < count; ++j) {
        if (raw)
            put_raw(c, type, raw + j * size, j);
        else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
            c->f[j] = t->float_data[j];
        else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
            c->f[j] = (float)t->double_data[j];
        else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16)
            c->f[j] = half_to_float((uint16_t)t->int32_data[j]);
        else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
            c->i[j] = t->int64_data[j];
        else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT32 ||
                 type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT64)
            c->i[j] = (int64_t)t->uint64_data[j];
        else
            c->i[j] = t->int32_data[j];
    }
    free(ext);
    return CLNET_OK;
}

/* ---- the test data's tensors ---- */

/* The whole of path (at most max bytes) into a new buffer. */
static clnet_status slurp(const char *path, uint64_t max, uint8_t **out, size_t *size, char *err,
                          size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return clnet__st_fail(err, len, CLNET_ERR_IO, "'%s': %s", path, strerror(errno));
    long end = -1;
    if (!fseek(f, 0, SEEK_END))
        end = ftell(f);
    clnet_status st = CLNET_OK;
    uint8_t *buf = NULL;
    if (end < 0 || fseek(f, 0, SEEK_SET))
        st = clnet__st_fail(err, len, CLNET_ERR_IO, "'%s': cannot be read to its end", path);
    else if ((uint64_t)end > max)
        st = clnet__st_fail(err, len, CLNET_ERR_TOO_LARGE,
                            "'%s': %ld bytes, above the %llu an ONNX file can hold", path, end,
                            (unsigned long long)max);
    else if (!(buf = malloc((size_t)end + 1)))
        st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "'%s': out of host memory", path);
    else if (fread(buf, 1, (size_t)end, f) != (size_t)end)
        st = clnet__st_fail(err, len, CLNET_ERR_IO, "'%s': read failed", path);
    fclose(f);
    if (st != CLNET_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *size = (size_t)end;
    return CLNET_OK;
}

clnet_status clnet__onnx_read_file(const char *path, uint8_t **out, size_t *size, char *err,
                                   size_t len)
{
    return slurp(path, CLNET_ONNX_MAX_FILE, out, size, err, len);
}

clnet_status clnet__onnx_tensor_file(const char *path, clnet__onnx_tensor *out, char *err,
                                     size_t len)
{
    memset(out, 0, sizeof *out);
    uint8_t *buf = NULL;
    size_t size = 0;
    clnet_status st = slurp(path, CLNET_ONNX_MAX_FILE, &buf, &size, err, len);
    if (st != CLNET_OK)
        return st;
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, size, buf);
    free(buf);
    if (!t)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s' is not a serialized ONNX TensorProto (truncated or corrupt)",
                              path);
    ox_const c;
    st = ox_tensor(t, NULL, path, &c, err, len);
    onnx__tensor_proto__free_unpacked(t, NULL);
    if (st != CLNET_OK)
        return st;
    out->rank = c.rank;
    memcpy(out->dims, c.dims, sizeof c.dims);
    out->count = c.count;
    if (c.is_int) {
        out->data = malloc((size_t)(c.count ? c.count : 1) * sizeof *out->data);
        for (int64_t j = 0; out->data && j < c.count; ++j)
            out->data[j] = (float)c.i[j];
        ox_const_free(&c);
        if (!out->data)
            return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    } else {
        out->data = c.f;
    }
    return CLNET_OK;
}

void clnet__onnx_tensor_free(clnet__onnx_tensor *t)
{
    if (!t)
        return;
    free(t->data);
    memset(t, 0, sizeof *t);
}
