/* png.c - PNG by libpng: palette and low bit depths expanded, transparency made alpha,
 * 16-bit samples scaled to 8 (v * 255 / 65535, rounded), interlaced images whole; gamma
 * is left alone, as other loaders do. EXIF orientation from an eXIf chunk before the
 * pixels. Tests: tests/unit/test_decode.c. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "data/data.h"
#include "data/decode.h"

/* One decode. Everything that changes after setjmp lives here, not in run()'s locals. */
typedef struct job {
    png_structp png;
    png_infop info;
    const uint8_t *bytes;
    size_t len, at;
    char message[256];
    png_bytep *rows;
    clnet__image *out;
} job;

static void fail(png_structp png, png_const_charp msg)
{
    job *j = png_get_error_ptr(png);
    snprintf(j->message, sizeof j->message, "%s", msg);
    png_longjmp(png, 1);
}

static void warn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void read_bytes(png_structp png, png_bytep data, size_t n)
{
    job *j = png_get_io_ptr(png);
    if (n > j->len - j->at)
        png_error(png, "the file ends early");
    memcpy(data, j->bytes + j->at, n);
    j->at += n;
}

/* libpng allocates a chunk's declared length before reading its data (only warning,
 * "chunk data is too large", beyond its 8 MB default), so a 52-byte file can ask for
 * 1.5 GB. Every chunk but IDAT (which libpng streams) must fit in the bytes there are;
 * NULL when they do, else the name of the first that does not. */
static const char *oversized_chunk(const uint8_t *bytes, size_t len, char name[5])
{
    for (size_t at = 8; len - at >= 8;) {
        const uint32_t n = (uint32_t)bytes[at] << 24 | (uint32_t)bytes[at + 1] << 16 |
                           (uint32_t)bytes[at + 2] << 8 | bytes[at + 3];
        for (int i = 0; i < 4; ++i) /* printable in the message, whatever the bytes */
            name[i] = bytes[at + 4 + i] >= 0x20 && bytes[at + 4 + i] < 0x7f
                          ? (char)bytes[at + 4 + i]
                          : '?';
        name[4] = '\0';
        if (memcmp(name, "IEND", 4) == 0)
            return NULL;
        if ((uint64_t)n + 12 > len - at)
            return memcmp(name, "IDAT", 4) == 0 ? NULL : name;
        at += (size_t)n + 12;
    }
    return NULL;
}

/* 0 when libpng failed (j->message says why), -1 when out of memory or the size check
 * failed (err says why), 1 on success. */
static int run(job *j, const char *name, uint64_t max_pixels, clnet_status *st, char *err,
               size_t err_len)
{
    png_structp png = j->png;
    png_infop info = j->info;
    if (setjmp(png_jmpbuf(png)))
        return 0;
    png_set_read_fn(png, j, read_bytes);
    png_read_info(png, info);
    const png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    *st = clnet__image_check_size(name, "PNG", w, h, max_pixels, err, err_len);
    if (*st == CLNET_OK)
        *st = clnet__image_check_density(name, "PNG", w, h, j->len, err, err_len);
    if (*st != CLNET_OK)
        return -1;
    png_set_expand(png);
    png_set_scale_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const int c = png_get_channels(png, info);
    if (c < 1 || c > 4 || png_get_rowbytes(png, info) != (size_t)w * c)
        png_error(png, "unexpected sample layout");
    *st = clnet__image_alloc(j->out, (int)w, (int)h, c, name, err, err_len);
    if (*st == CLNET_OK && !(j->rows = malloc((size_t)h * sizeof *j->rows)))
        *st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
    if (*st != CLNET_OK)
        return -1;
    for (png_uint_32 y = 0; y < h; ++y)
        j->rows[y] = j->out->pixels + (size_t)y * w * c;
    png_read_image(png, j->rows);
    png_bytep exif = NULL;
    png_uint_32 exif_len = 0;
    int turn = 1;
    if (png_get_eXIf_1(png, info, &exif_len, &exif) && exif)
        turn = clnet__exif_orientation(exif, exif_len);
    *st = clnet__image_orient(j->out, turn);
    if (*st != CLNET_OK)
        clnet__data_fail(err, err_len, *st, "%s: out of memory", name);
    return *st == CLNET_OK ? 1 : -1;
}

clnet_status clnet__png_decode(const uint8_t *bytes, size_t len, const char *name,
                               uint64_t max_pixels, clnet__image *out, char *err, size_t err_len)
{
    char chunk[5];
    if (len >= 8 && oversized_chunk(bytes, len, chunk))
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                                "%s: truncated or corrupt PNG (chunk '%s' is longer than the file)",
                                name, chunk);
    job *j = calloc(1, sizeof *j);
    if (j)
        j->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, j, fail, warn);
    if (j && j->png)
        j->info = png_create_info_struct(j->png);
    if (!j || !j->info) {
        if (j && j->png)
            png_destroy_read_struct(&j->png, NULL, NULL);
        free(j);
        return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
    }
    j->bytes = bytes;
    j->len = len;
    j->out = out;
    clnet_status st = CLNET_OK;
    if (run(j, name, max_pixels, &st, err, err_len) == 0)
        st = clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: truncated or corrupt PNG (%s)",
                              name, j->message);
    png_destroy_read_struct(&j->png, &j->info, NULL);
    free(j->rows);
    free(j);
    if (st != CLNET_OK)
        clnet__image_free(out);
    return st;
}
