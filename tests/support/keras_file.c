/* keras_file.c - see keras_file.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "support/keras_file.h"

/* Creation properties of class cls that record no modification time (h5py writes none
 * either): the same calls make the same bytes. */
static hid_t untimed(hid_t cls)
{
    const hid_t p = H5Pcreate(cls);
    if (p >= 0 && H5Pset_obj_track_times(p, 0) < 0) {
        H5Pclose(p);
        return -1;
    }
    return p;
}

/* Makes a group at path unless there is one. */
static int make_group(clnet_test_h5 *f, const char *path)
{
    if (H5Lexists(f->file, path, H5P_DEFAULT) > 0)
        return 1;
    const hid_t gcpl = untimed(H5P_GROUP_CREATE);
    const hid_t g = gcpl >= 0 ? H5Gcreate2(f->file, path, H5P_DEFAULT, gcpl, H5P_DEFAULT) : -1;
    if (gcpl >= 0)
        H5Pclose(gcpl);
    if (g >= 0)
        H5Gclose(g);
    return g >= 0;
}

/* Makes the groups on the way to path that are missing. */
static int make_parents(clnet_test_h5 *f, const char *path)
{
    char part[512];
    for (const char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        const size_t n = (size_t)(slash - path);
        if (n >= sizeof part)
            return 0;
        memcpy(part, path, n);
        part[n] = '\0';
        if (!make_group(f, part))
            return 0;
    }
    return 1;
}

clnet_test_h5 *clnet_test_h5_create(int compact)
{
    clnet_test_h5 *f = calloc(1, sizeof *f);
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    int fd = -1;
    if (f) {
        const char *tmp = getenv("TMPDIR");
        snprintf(f->path, sizeof f->path, "%.200s/clnet-h5-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        fd = mkstemp(f->path);
    }
    int ok = fd >= 0 && close(fd) == 0 && fapl >= 0;
    if (ok && compact)
        ok = H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0;
    const hid_t fcpl = untimed(H5P_FILE_CREATE);
    ok = ok && fcpl >= 0;
    if (ok)
        f->file = H5Fcreate(f->path, H5F_ACC_TRUNC, fcpl, fapl);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (!ok || f->file < 0) {
        if (fd >= 0)
            unlink(f->path);
        free(f);
        return NULL;
    }
    return f;
}

/* Writes the variable-length UTF-8 string attribute "name" on the object obj. */
static int name_attr(hid_t obj, const char *name)
{
    const hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
    const hid_t a = type >= 0 && space >= 0 && H5Tset_size(type, H5T_VARIABLE) >= 0 &&
                            H5Tset_cset(type, H5T_CSET_UTF8) >= 0
                        ? H5Acreate2(obj, "name", type, space, H5P_DEFAULT, H5P_DEFAULT)
                        : -1;
    const int ok = a >= 0 && H5Awrite(a, type, &name) >= 0;
    if (a >= 0)
        H5Aclose(a);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    return ok;
}

int clnet_test_h5_group(clnet_test_h5 *f, const char *path, const char *name)
{
    if (!make_parents(f, path) || !make_group(f, path))
        return -1;
    const hid_t g = name ? H5Gopen2(f->file, path, H5P_DEFAULT) : -1;
    const int ok = !name || (g >= 0 && name_attr(g, name));
    if (g >= 0)
        H5Gclose(g);
    return ok ? 0 : -1;
}

int clnet_test_h5_floats(clnet_test_h5 *f, const char *path, int rank, const int64_t *dims,
                         const float *data)
{
    hsize_t h[H5S_MAX_RANK];
    for (int d = 0; d < rank && d < H5S_MAX_RANK; ++d)
        h[d] = (hsize_t)dims[d];
    const hid_t space = rank ? H5Screate_simple(rank, h, NULL) : H5Screate(H5S_SCALAR);
    const hid_t dcpl = untimed(H5P_DATASET_CREATE);
    const hid_t d =
        make_parents(f, path) && space >= 0 && dcpl >= 0
            ? H5Dcreate2(f->file, path, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)
            : -1;
    const int ok =
        d >= 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
    if (d >= 0)
        H5Dclose(d);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return ok ? 0 : -1;
}

unsigned char *clnet_test_h5_finish(clnet_test_h5 *f, size_t *size)
{
    *size = 0;
    if (!f)
        return NULL;
    unsigned char *image = NULL;
    FILE *in = H5Fclose(f->file) >= 0 ? fopen(f->path, "rb") : NULL;
    long n = -1;
    if (in && fseek(in, 0, SEEK_END) == 0 && (n = ftell(in)) > 0 && fseek(in, 0, SEEK_SET) == 0 &&
        (image = malloc((size_t)n)) && fread(image, 1, (size_t)n, in) != (size_t)n) {
        free(image);
        image = NULL;
    }
    if (in)
        fclose(in);
    unlink(f->path);
    free(f);
    *size = image ? (size_t)n : 0;
    return image;
}

/* The bytes written to the in-memory source src (malloc'd, *size), or NULL. */
static unsigned char *source_bytes(zip_source_t *src, size_t *size)
{
    unsigned char *out = NULL;
    if (zip_source_open(src) < 0)
        return NULL;
    zip_int64_t n = -1;
    if (zip_source_seek(src, 0, SEEK_END) == 0 && (n = zip_source_tell(src)) > 0 &&
        zip_source_seek(src, 0, SEEK_SET) == 0 && (out = malloc((size_t)n)) &&
        zip_source_read(src, out, (zip_uint64_t)n) != n) {
        free(out);
        out = NULL;
    }
    zip_source_close(src);
    *size = out ? (size_t)n : 0;
    return out;
}

unsigned char *clnet_test_zip(const clnet_test_zip_member *m, int n, size_t *size)
{
    *size = 0;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *buf = zip_source_buffer_create(NULL, 0, 0, &ze);
    if (!buf)
        return NULL;
    zip_source_keep(buf); /* zip_close must leave it for us to read */
    zip_t *za = zip_open_from_source(buf, ZIP_TRUNCATE, &ze);
    int ok = za != NULL;
    for (int i = 0; ok && i < n; ++i) {
        zip_source_t *s = zip_source_buffer(za, m[i].data, m[i].size, 0);
        const zip_int64_t at = s ? zip_file_add(za, m[i].name, s, ZIP_FL_ENC_UTF_8) : -1;
        if (s && at < 0)
            zip_source_free(s);
        /* A fixed time (2020-01-01), so that the same members make the same bytes. */
        ok = at >= 0 &&
             zip_set_file_compression(za, (zip_uint64_t)at,
                                      m[i].deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) == 0 &&
             zip_file_set_mtime(za, (zip_uint64_t)at, 1577836800, 0) == 0;
    }
    unsigned char *out = NULL;
    if (ok && zip_close(za) == 0)
        out = source_bytes(buf, size);
    else if (za)
        zip_discard(za);
    zip_source_free(buf);
    zip_error_fini(&ze);
    return out;
}

unsigned char *clnet_test_keras(const char *config, const char *metadata, const void *h5,
                                size_t h5_size, int deflate, size_t *size)
{
    clnet_test_zip_member m[3];
    int n = 0;
    if (metadata)
        m[n++] = (clnet_test_zip_member){"metadata.json", metadata, strlen(metadata), deflate};
    m[n++] = (clnet_test_zip_member){"config.json", config, strlen(config), deflate};
    m[n++] = (clnet_test_zip_member){"model.weights.h5", h5, h5_size, deflate};
    return clnet_test_zip(m, n, size);
}
