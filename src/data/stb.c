/* stb.c - BMP, GIF (first frame), TGA and binary PNM (P5, P6) by stb_image. The size comes
 * from stbi_info_from_memory before stb allocates anything. stb reads zeros past the end
 * of an uncompressed file, so a file too short for the pixels its header declares is
 * refused here (a 122-byte BMP declaring 5x8390148 pixels is not a black image).
 * Tests: tests/unit/test_decode.c. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>

#include "data/data.h"
#include "data/decode.h"

static const char *format_name(clnet__image_format f)
{
    switch (f) {
    case CLNET__FORMAT_BMP:
        return "BMP";
    case CLNET__FORMAT_GIF:
        return "GIF";
    case CLNET__FORMAT_TGA:
        return "TGA";
    default:
        return "PNM";
    }
}

static uint64_t le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = v << 8 | p[i];
    return v;
}

/* The smallest file that holds the w x h pixels of an uncompressed BMP (BI_RGB or
 * BITFIELDS rows padded to 4 bytes after the data offset), 0 when unknown. */
static uint64_t bmp_bytes(const uint8_t *b, size_t len, uint64_t w, uint64_t h)
{
    if (len < 30)
        return 0;
    const uint64_t header = le(b + 14, 4), offset = le(b + 10, 4);
    const uint64_t bits = header == 12 ? le(b + 24, 2) : le(b + 28, 2);
    const uint64_t compression = header == 12 || len < 34 ? 0 : le(b + 30, 4);
    if (compression != 0 && compression != 3)
        return 0;
    return offset + (w * bits + 31) / 32 * 4 * h;
}

/* The same for TGA: uncompressed types need every pixel, run-length ones at least one
 * packet (a byte and a pixel) per 128 pixels. */
static uint64_t tga_bytes(const uint8_t *b, size_t len, uint64_t w, uint64_t h)
{
    if (len < 18)
        return 0;
    const uint64_t map_bytes = b[1] ? le(b + 5, 2) * ((b[7] + 7u) / 8u) : 0;
    const uint64_t offset = 18 + b[0] + map_bytes, pixel = (b[16] + 7u) / 8u;
    return b[2] >= 9 ? offset + (w * h + 127) / 128 * (1 + pixel) : offset + w * h * pixel;
}

/* The same for binary PNM: the header's four fields (comments allowed), one white-space
 * byte, then w * h samples of one byte (maxval < 256) or two. */
static uint64_t pnm_bytes(const uint8_t *b, size_t len, uint64_t w, uint64_t h)
{
    size_t at = 2;
    uint64_t maxval = 0;
    for (int field = 0; field < 3; ++field) {
        for (;;) { /* white space and comments */
            while (at < len && b[at] && strchr(" \t\n\v\f\r", b[at]))
                ++at;
            if (at >= len || b[at] != '#')
                break;
            while (at < len && b[at] != '\n' && b[at] != '\r')
                ++at;
        }
        maxval = 0;
        while (at < len && b[at] >= '0' && b[at] <= '9' && maxval < 1000000)
            maxval = maxval * 10 + (uint64_t)(b[at++] - '0');
    }
    const uint64_t samples = w * h * (b[1] == '6' ? 3 : 1) * (maxval > 255 ? 2 : 1);
    return at + 1 + samples;
}

clnet_status clnet__stb_decode(const uint8_t *bytes, size_t len, clnet__image_format format,
                               const char *name, uint64_t max_pixels, clnet__image *out, char *err,
                               size_t err_len)
{
    const char *what = format_name(format);
    if (len > INT_MAX)
        return clnet__data_fail(err, err_len, CLNET_ERR_TOO_LARGE,
                                "%s: a %s file of %zu bytes is too large", name, what, len);
    int w = 0, h = 0, c = 0;
    if (!stbi_info_from_memory(bytes, (int)len, &w, &h, &c))
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: truncated or corrupt %s (%s)",
                                name, what, stbi_failure_reason());
    clnet_status st = clnet__image_check_size(name, what, w > 0 ? (uint64_t)w : 0,
                                              h > 0 ? (uint64_t)h : 0, max_pixels, err, err_len);
    if (st == CLNET_OK && format == CLNET__FORMAT_GIF)
        st = clnet__image_check_density(name, what, (uint64_t)w, (uint64_t)h, len, err, err_len);
    if (st != CLNET_OK)
        return st;
    const uint64_t need = format == CLNET__FORMAT_BMP   ? bmp_bytes(bytes, len, w, h)
                          : format == CLNET__FORMAT_TGA ? tga_bytes(bytes, len, w, h)
                          : format == CLNET__FORMAT_PNM ? pnm_bytes(bytes, len, w, h)
                                                        : 0;
    if (need > len)
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                                "%s: truncated %s (%dx%d pixels need %llu bytes, the file has %zu)",
                                name, what, w, h, (unsigned long long)need, len);
    int lw = 0, lh = 0;
    stbi_uc *px = stbi_load_from_memory(bytes, (int)len, &lw, &lh, &c, 0);
    if (!px)
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: truncated or corrupt %s (%s)",
                                name, what, stbi_failure_reason());
    if (lw != w || lh != h || c < 1 || c > 4) {
        stbi_image_free(px);
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                                "%s: corrupt %s (%dx%d in the header, %dx%dx%d decoded)", name,
                                what, w, h, lw, lh, c);
    }
    out->pixels = px; /* stb allocates with malloc (STBI_MALLOC's default), as we do */
    out->w = w;
    out->h = h;
    out->c = c;
    return CLNET_OK;
}
