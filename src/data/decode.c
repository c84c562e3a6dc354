/* decode.c - clnet__image_decode: the format by magic bytes, then its library's decoder
 * (jpeg.c, png.c, webp.c, heif.c, stb.c); the file wrapper; the size check every decoder
 * makes before allocating pixels. Tests: tests/unit/test_decode.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data.h"
#include "data/decode.h"

/* No decoder is asked for sides above this, whatever max_pixels allows: rows of 4-byte
 * pixels and the resizer's int arithmetic stay far from overflow. */
#define MAX_SIDE (1u << 24)

static int is_space(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f';
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An ISO base media file ("....ftyp") whose major or a compatible brand is a HEIF or
 * AVIF one: images, not movies (mp4 files start the same way). */
static int is_heif(const uint8_t *b, size_t len)
{
    static const char brands[][5] = {"heic", "heix", "hevc", "hevx", "heim", "heis",
                                     "hevm", "hevs", "mif1", "msf1", "avif", "avis"};
    if (len < 12 || memcmp(b + 4, "ftyp", 4) != 0)
        return 0;
    size_t end = be32(b);
    end = end < len ? end : len;
    for (size_t at = 8; at + 4 <= end; at += at == 8 ? 8 : 4) /* skip the minor version */
        for (size_t k = 0; k < sizeof brands / sizeof brands[0]; ++k)
            if (memcmp(b + at, brands[k], 4) == 0)
                return 1;
    return 0;
}

/* stb_image's own TGA test: plausible colour-map and image types, sides and depths. */
static int is_tga(const uint8_t *b, size_t len)
{
    if (len < 18)
        return 0;
    const int map = b[1], type = b[2], map_bits = b[7], bits = b[16];
    const int w = b[12] | b[13] << 8, h = b[14] | b[15] << 8;
    if (map > 1 || w < 1 || h < 1)
        return 0;
    if (map == 1) {
        if (type != 1 && type != 9)
            return 0;
        if (map_bits != 8 && map_bits != 15 && map_bits != 16 && map_bits != 24 && map_bits != 32)
            return 0;
        return bits == 8 || bits == 16;
    }
    if (type != 2 && type != 3 && type != 10 && type != 11)
        return 0;
    return bits == 8 || bits == 15 || bits == 16 || bits == 24 || bits == 32;
}

clnet__image_format clnet__image_sniff(const uint8_t *b, size_t len, int weak)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return CLNET__FORMAT_JPEG;
    if (len >= 8 && memcmp(b, png, 8) == 0)
        return CLNET__FORMAT_PNG;
    if (len >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return CLNET__FORMAT_WEBP;
    if (is_heif(b, len))
        return CLNET__FORMAT_HEIF;
    if (len >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return CLNET__FORMAT_GIF;
    if (len >= 18 && b[0] == 'B' && b[1] == 'M') {
        const uint32_t header = b[14] | (uint32_t)b[15] << 8 | (uint32_t)b[16] << 16 |
                                (uint32_t)b[17] << 24; /* the sizes stb_image reads */
        if (header == 12 || header == 40 || header == 56 || header == 108 || header == 124)
            return CLNET__FORMAT_BMP;
    }
    if (len >= 3 && b[0] == 'P' && (b[1] == '5' || b[1] == '6') && is_space(b[2]))
        return CLNET__FORMAT_PNM;
    if (weak && is_tga(b, len))
        return CLNET__FORMAT_TGA;
    return CLNET__FORMAT_NONE;
}

clnet_status clnet__image_check_size(const char *name, const char *what, uint64_t w, uint64_t h,
                                     uint64_t max_pixels, char *err, size_t err_len)
{
    if (max_pixels == 0)
        max_pixels = CLNET_DEFAULT_MAX_PIXELS;
    if (w == 0 || h == 0)
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                                "%s: %s of %llux%llu pixels: a side of 0 (corrupt header)", name,
                                what, (unsigned long long)w, (unsigned long long)h);
    if (w > MAX_SIDE || h > MAX_SIDE || w * h > max_pixels)
        return clnet__data_fail(err, err_len, CLNET_ERR_TOO_LARGE,
                                "%s: %llux%llu pixels exceed the limit of %llu (max_pixels of "
                                "clnet_dataset_options or clnet_image_load_ex)",
                                name, (unsigned long long)w, (unsigned long long)h,
                                (unsigned long long)(w > MAX_SIDE || h > MAX_SIDE
                                                         ? (uint64_t)MAX_SIDE * MAX_SIDE
                                                         : max_pixels));
    return CLNET_OK;
}

clnet_status clnet__image_check_density(const char *name, const char *what, uint64_t w, uint64_t h,
                                        size_t len, char *err, size_t err_len)
{
    if (w * h <= 2048 * (uint64_t)len + 65536)
        return CLNET_OK;
    return clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                            "%s: a %s of %zu bytes cannot hold the %llux%llu pixels its header "
                            "claims (corrupt or hostile file)",
                            name, what, len, (unsigned long long)w, (unsigned long long)h);
}

clnet_status clnet__image_alloc(clnet__image *im, int w, int h, int c, const char *name, char *err,
                                size_t err_len)
{
    im->pixels = malloc((size_t)w * (size_t)h * (size_t)c);
    if (!im->pixels)
        return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY,
                                "%s: out of memory for %dx%d pixels", name, w, h);
    im->w = w;
    im->h = h;
    im->c = c;
    return CLNET_OK;
}

void clnet__image_free(clnet__image *im)
{
    if (!im)
        return;
    free(im->pixels);
    im->pixels = NULL;
    im->w = im->h = im->c = 0;
}

/* clnet__image_decode, smaller where s allows (NULL: full size). */
static clnet_status decode_scaled(const uint8_t *bytes, size_t len, const char *name,
                                  uint64_t max_pixels, clnet__shrink *s, clnet__image *out,
                                  char *err, size_t err_len)
{
    if (!name)
        name = "image";
    if (!out)
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG, "%s: no place for the image",
                                name);
    memset(out, 0, sizeof *out);
    if (!bytes)
        len = 0;
    if (max_pixels == 0)
        max_pixels = CLNET_DEFAULT_MAX_PIXELS;
    const clnet__image_format f = clnet__image_sniff(bytes, len, 1);
    clnet_status st;
    switch (f) {
    case CLNET__FORMAT_JPEG:
        st = clnet__jpeg_decode_scaled(bytes, len, name, max_pixels, s, out, err, err_len);
        break;
    case CLNET__FORMAT_PNG:
        st = clnet__png_decode(bytes, len, name, max_pixels, out, err, err_len);
        break;
    case CLNET__FORMAT_WEBP:
        st = clnet__webp_decode(bytes, len, name, max_pixels, out, err, err_len);
        break;
    case CLNET__FORMAT_HEIF:
        st = clnet__heif_decode(bytes, len, name, max_pixels, out, err, err_len);
        break;
    case CLNET__FORMAT_NONE:
        if (len >= 3 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '4' && is_space(bytes[2]))
            return clnet__data_fail(err, err_len, CLNET_ERR_UNSUPPORTED,
                                    "%s: netpbm P%c (plain text or bitmap) is not supported, only "
                                    "binary P5 and P6",
                                    name, bytes[1]);
        return clnet__data_fail(err, err_len, CLNET_ERR_UNSUPPORTED,
                                "%s: not an image (" CLNET__IMAGE_FORMATS ")", name);
    default:
        st = clnet__stb_decode(bytes, len, f, name, max_pixels, out, err, err_len);
        break;
    }
    if (st != CLNET_OK) {
        clnet__image_free(out);
    } else if (s && s->pick && f != CLNET__FORMAT_JPEG) { /* decoded whole: pick from that */
        int out_h = 0, out_w = 0;
        s->pick(s->user, out->h, out->w, &s->region, &out_h, &out_w);
    }
    return st;
}

clnet_status clnet__image_decode(const uint8_t *bytes, size_t len, const char *name,
                                 uint64_t max_pixels, clnet__image *out, char *err, size_t err_len)
{
    return decode_scaled(bytes, len, name, max_pixels, NULL, out, err, err_len);
}

/* The message for a file that cannot be opened or read: "no such file" for the common
 * case, the system's words otherwise. */
static clnet_status file_error(const char *path, int code, char *err, size_t err_len)
{
    if (code == ENOENT || code == ENOTDIR)
        return clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: no such file", path);
    return clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: cannot read: %s", path,
                            strerror(code));
}

clnet__image_format clnet__image_sniff_file(const char *path, int weak)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return CLNET__FORMAT_NONE;
    uint8_t head[32];
    const size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    return clnet__image_sniff(head, got, weak);
}

clnet_status clnet__image_decode_file_scaled(const char *path, uint64_t max_pixels,
                                             clnet__shrink *s, clnet__image *out, char *err,
                                             size_t err_len)
{
    if (!out || !path)
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG, "no image file or no output");
    memset(out, 0, sizeof *out);
    if (max_pixels == 0)
        max_pixels = CLNET_DEFAULT_MAX_PIXELS;
    FILE *f = fopen(path, "rb");
    if (!f)
        return file_error(path, errno, err, err_len);
    uint8_t *bytes = NULL;
    clnet_status st = CLNET_OK;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        st = file_error(path, errno, err, err_len);
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: %s, not a file", path,
                              S_ISDIR(sb.st_mode) ? "a folder" : "a device or pipe");
        goto done;
    }
    /* The first bytes decide whether the rest is worth reading: a video in an image
     * folder is not read whole to learn that it is no image. */
    uint8_t head[32];
    const size_t got = fread(head, 1, sizeof head, f);
    if (got < sizeof head && ferror(f)) {
        st = file_error(path, errno, err, err_len);
        goto done;
    }
    if (clnet__image_sniff(head, got, 1) == CLNET__FORMAT_NONE) {
        st = decode_scaled(head, got, path, max_pixels, NULL, out, err, err_len);
        goto done;
    }
    /* No image within the pixel limit needs more than 16 bytes a pixel (16-bit RGBA,
     * stored) plus room for metadata. */
    const uint64_t most = ((uint64_t)64 << 20) + 16 * max_pixels;
    if ((uint64_t)sb.st_size > most) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_TOO_LARGE,
                              "%s: a file of %lld bytes is larger than any image within the limit "
                              "of %llu pixels",
                              path, (long long)sb.st_size, (unsigned long long)max_pixels);
        goto done;
    }
    const size_t len = (size_t)sb.st_size;
    bytes = malloc(len > got ? len : got);
    if (!bytes) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto done;
    }
    memcpy(bytes, head, got);
    size_t have = got;
    while (have < len) {
        const size_t n = fread(bytes + have, 1, len - have, f);
        if (n == 0)
            break; /* shorter than fstat said (still being written): decode what is there */
        have += n;
    }
    if (ferror(f))
        st = file_error(path, errno, err, err_len);
    else
        st = decode_scaled(bytes, have, path, max_pixels, s, out, err, err_len);
done:
    free(bytes);
    fclose(f);
    return st;
}

clnet_status clnet__image_decode_file(const char *path, uint64_t max_pixels, clnet__image *out,
                                      char *err, size_t err_len)
{
    return clnet__image_decode_file_scaled(path, max_pixels, NULL, out, err, err_len);
}
