/* keras_hdf5_walk.c - the half of keras_hdf5.c that calls libhdf5, run in a child process:
 * libhdf5 crashes on some damaged files (fuzzing found reads out of bounds in its global
 * heap code, H5HG_read), so the file is read there and its contents streamed back through
 * a pipe: every group and dataset, each object's string attributes, each numeric
 * dataset's shape and values as float32. The stream (keras_hdf5.h's records):
 *   'O' path dataset(u8) [rank(u8) dims(u64 x rank) readable(u8) [floats]]
 *                                    (rank 255: not numeric; 254: data outside the file)
 *   'A' name count(u32) strings      an attribute of the object before it
 *   'E'                              the end: everything was read
 *   'X'                              libhdf5 cannot open the file
 * Strings are a u32 length, the bytes and a NUL; numbers in the host's order (the reader
 * is the same process's parent). */
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/keras_hdf5.h"

/* Datasets over this many values are sent as unreadable (a damaged file's claims). */
#define MAX_VALUES ((int64_t)1 << 31)

/* Bytes of values still to send: a dataset with no data stored reads as its fill value,
 * so a small damaged file could claim gigabytes; past the budget, datasets go unread. */
static int64_t budget;

static void put(int fd, const void *p, size_t n)
{
    for (const char *at = p; n;) {
        const ssize_t w = write(fd, at, n);
        if (w <= 0)
            _exit(3);
        at += w;
        n -= (size_t)w;
    }
}

static void put_u8(int fd, unsigned v)
{
    const uint8_t b = (uint8_t)v;
    put(fd, &b, 1);
}

static void put_str(int fd, const char *s)
{
    const uint32_t n = (uint32_t)strlen(s);
    put(fd, &n, sizeof n);
    put(fd, s, n + 1);
}

/* The strings of an open attribute (fixed or variable length, any count) as a malloc'd
 * array; -1 when it holds no strings or cannot be read. */
static int read_strings(hid_t attr, char ***out)
{
    *out = NULL;
    const hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    const hssize_t points = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int n = -1;
    if (type < 0 || H5Tget_class(type) != H5T_STRING || points < 0 || points > (1 << 20))
        goto done;
    char **s = calloc((size_t)(points ? points : 1), sizeof *s);
    if (!s)
        goto done;
    const htri_t variable = H5Tis_variable_str(type);
    const size_t size = H5Tget_size(type);
    int ok = 0;
    if (variable > 0) {
        char **raw = calloc((size_t)(points ? points : 1), sizeof *raw);
        const hid_t mem = H5Tcopy(H5T_C_S1);
        if (raw && mem >= 0 && H5Tset_size(mem, H5T_VARIABLE) >= 0 &&
            H5Tset_cset(mem, H5Tget_cset(type)) >= 0 && H5Aread(attr, mem, raw) >= 0) {
            ok = 1;
            for (hssize_t i = 0; i < points; ++i)
                if (!(s[i] = strdup(raw[i] ? raw[i] : "")))
                    ok = 0;
            H5Dvlen_reclaim(mem, space, H5P_DEFAULT, raw);
        }
        if (mem >= 0)
            H5Tclose(mem);
        free(raw);
    } else if (variable == 0 && size > 0 && size < (1 << 20)) {
        /* Fixed length: each string in size bytes, NUL-padded or not terminated at all. */
        char *raw = calloc((size_t)(points ? points : 1), size);
        if (raw && H5Aread(attr, type, raw) >= 0) {
            ok = 1;
            for (hssize_t i = 0; i < points; ++i) {
                /* Not strndup: its checked form reads to a NUL that may not be there. */
                const char *at = raw + (size_t)i * size, *nul = memchr(at, '\0', size);
                const size_t bytes = nul ? (size_t)(nul - at) : size;
                if ((s[i] = malloc(bytes + 1))) {
                    memcpy(s[i], at, bytes);
                    s[i][bytes] = '\0';
                } else {
                    ok = 0;
                }
            }
        }
        free(raw);
    }
    if (ok) {
        n = (int)points;
        *out = s;
    } else {
        for (hssize_t i = 0; i < points; ++i)
            free(s[i]);
        free(s);
    }
done:
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    return n;
}

static int shape_of(hid_t d, int64_t *dims)
{
    const hid_t space = H5Dget_space(d);
    const int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t h[H5S_MAX_RANK];
    int ok = rank >= 0 && rank <= CLNET_HDF5_MAX_RANK &&
             H5Sget_simple_extent_dims(space, h, NULL) == rank;
    for (int i = 0; ok && i < rank; ++i) {
        ok = h[i] <= ((hsize_t)1 << 40);
        dims[i] = (int64_t)h[i];
    }
    if (space >= 0)
        H5Sclose(space);
    return ok ? rank : -1;
}

static herr_t put_attr(hid_t object, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    const int fd = *(const int *)data;
    const hid_t a = H5Aopen(object, name, H5P_DEFAULT);
    char **s = NULL;
    const int n = a >= 0 ? read_strings(a, &s) : -1;
    if (n >= 0) {
        put_u8(fd, 'A');
        put_str(fd, name);
        const uint32_t count = (uint32_t)n;
        put(fd, &count, sizeof count);
        for (int i = 0; i < n; ++i)
            put_str(fd, s[i]);
    }
    for (int i = 0; i < n; ++i)
        free(s[i]);
    free(s);
    if (a >= 0)
        H5Aclose(a);
    return 0;
}

/* The object at path: 'O' with a dataset's values, then its string attributes. */
static void put_object(int fd, hid_t file, const char *path)
{
    H5O_info_t info;
    if (H5Oget_info_by_name(file, path, &info, H5P_DEFAULT) < 0 ||
        (info.type != H5O_TYPE_GROUP && info.type != H5O_TYPE_DATASET))
        return;
    const hid_t o = H5Oopen(file, path, H5P_DEFAULT);
    if (o < 0)
        return;
    put_u8(fd, 'O');
    put_str(fd, path);
    put_u8(fd, info.type == H5O_TYPE_DATASET);
    if (info.type == H5O_TYPE_DATASET) {
        int64_t dims[CLNET_HDF5_MAX_RANK];
        const hid_t type = H5Dget_type(o), dcpl = H5Dget_create_plist(o);
        const H5T_class_t c = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
        int rank = c == H5T_FLOAT || c == H5T_INTEGER ? shape_of(o, dims) : -1;
        /* External storage and virtual datasets read other files of this machine: refused,
         * as Keras's saving_lib does (safe_get_h5_dataset). */
        const int outside =
            dcpl < 0 || H5Pget_external_count(dcpl) != 0 || H5Pget_layout(dcpl) == H5D_VIRTUAL;
        if (type >= 0)
            H5Tclose(type);
        if (dcpl >= 0)
            H5Pclose(dcpl);
        if (outside) {
            put_u8(fd, 254);
            H5Oclose(o);
            return;
        }
        int64_t count = 1;
        for (int i = 0; i < rank; ++i)
            count = count > MAX_VALUES ? count : count * dims[i];
        if (rank >= 0 && count > MAX_VALUES)
            rank = -1;
        put_u8(fd, (unsigned)(rank < 0 ? 255 : rank));
        for (int i = 0; i < rank; ++i) {
            const uint64_t d = (uint64_t)dims[i];
            put(fd, &d, sizeof d);
        }
        const int fits = rank >= 0 && count * (int64_t)sizeof(float) <= budget;
        if (fits)
            budget -= count * (int64_t)sizeof(float);
        float *v = fits ? malloc((size_t)(count ? count : 1) * sizeof *v) : NULL;
        const int readable =
            v && (!count || H5Dread(o, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
        if (rank >= 0) {
            put_u8(fd, (unsigned)readable);
            if (readable)
                put(fd, v, (size_t)count * sizeof *v);
        }
        free(v);
    }
    int at = fd;
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, put_attr, &at);
    H5Oclose(o);
}

typedef struct walk {
    int fd;
    hid_t file;
} walk;

static herr_t visit(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)group;
    const walk *w = data;
    /* A compiled Keras 2 model's optimizer state is not needed. */
    if (!strncmp(name, "optimizer_weights", 17))
        return 0;
    char path[4096];
    if (strlen(name) + 2 > sizeof path)
        return 0;
    path[0] = '/';
    strcpy(path + 1, name);
    if (info->type != H5L_TYPE_HARD) {
        /* Not followed (they may point anywhere, other files too), but named as outside
         * the file, so a reader can say why it is refused. */
        put_u8(w->fd, 'O');
        put_str(w->fd, path);
        put_u8(w->fd, 1);
        put_u8(w->fd, 254);
        return 0;
    }
    put_object(w->fd, w->file, path);
    return 0;
}

void clnet__hdf5_walk(int fd, const char *path, const void *image, size_t size, int64_t max_bytes)
{
    budget = max_bytes;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = -1;
    if (path) {
        file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    } else {
        const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
        /* The core driver reads the image in place (no backing store written). */
        if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 &&
            H5Pset_file_image(fapl, (void *)image, size) >= 0)
            file = H5Fopen("image.h5", H5F_ACC_RDONLY, fapl);
        if (fapl >= 0)
            H5Pclose(fapl);
    }
    if (file < 0) {
        put_u8(fd, 'X');
        return;
    }
    put_object(fd, file, "/");
    walk w = {fd, file};
    H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, visit, &w);
    H5Fclose(file);
    put_u8(fd, 'E');
}
