/* decode.h - image decoding from memory, one reference library per format: JPEG by
 * libjpeg-turbo (jpeg.c), PNG by libpng (png.c), WebP by libwebp (webp.c), HEIC/HEIF/AVIF
 * by libheif (heif.c), BMP, GIF, TGA and binary PNM by stb_image (stb.c). decode.c picks
 * the format by magic bytes, never by file name, and holds the file wrapper; exif.c the
 * EXIF orientation. Every decoder checks width x height against max_pixels from the
 * header before allocating any pixels. Tests: tests/unit/test_decode.c, fuzzed by
 * fuzz/fuzz_image.c. */
#ifndef CLNET_DATA_DECODE_H
#define CLNET_DATA_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "clnet.h"
#include "data/data.h"

/* A decoded image: 8-bit pixels, HWC, row-major, c = 1 (gray), 2 (gray + alpha), 3 (RGB)
 * or 4 (RGBA); pixels malloc'd, freed by clnet__image_free. */
typedef struct clnet__image {
    uint8_t *pixels;
    int w, h, c;
} clnet__image;

typedef enum clnet__image_format {
    CLNET__FORMAT_NONE,
    CLNET__FORMAT_JPEG,
    CLNET__FORMAT_PNG,
    CLNET__FORMAT_WEBP,
    CLNET__FORMAT_HEIF,
    CLNET__FORMAT_BMP,
    CLNET__FORMAT_GIF,
    CLNET__FORMAT_PNM, /* binary P5 / P6 */
    CLNET__FORMAT_TGA, /* no magic: recognized by a plausible header, and only when asked */
} clnet__image_format;

/* "not an image (JPEG, PNG, WebP, HEIC, BMP, GIF, TGA or PNM)" says this list. */
#define CLNET__IMAGE_FORMATS "JPEG, PNG, WebP, HEIC, BMP, GIF, TGA or PNM"

/* The format of the len bytes at bytes by their first bytes (16 are enough; fewer give
 * NONE for formats that need more). TGA, which has no magic, only when weak is 1. */
clnet__image_format clnet__image_sniff(const uint8_t *bytes, size_t len, int weak);

/* Decodes bytes[0..len) into *out. name only names the image in messages. Errors, with
 * the message in err:
 *   CLNET_ERR_UNSUPPORTED  not an image of a supported format;
 *   CLNET_ERR_PARSE        truncated or corrupt, a side of 0, or a feature the format's
 *                          library lacks (an image all the same);
 *   CLNET_ERR_TOO_LARGE    the header declares more than max_pixels (0: the default);
 *   CLNET_ERR_OUT_OF_MEMORY.
 * *out is zeroed on failure. EXIF orientation is applied (JPEG APP1, PNG eXIf, WebP
 * EXIF; libheif applies HEIF's own transforms). */
clnet_status clnet__image_decode(const uint8_t *bytes, size_t len, const char *name,
                                 uint64_t max_pixels, clnet__image *out, char *err, size_t err_len);

/* The same for a file: "photo.jpg: no such file" (CLNET_ERR_IO) when it is missing, and
 * CLNET_ERR_UNSUPPORTED after reading only its first bytes when they are no image's. */
clnet_status clnet__image_decode_file(const char *path, uint64_t max_pixels, clnet__image *out,
                                      char *err, size_t err_len);

/* What a decoder may shrink an image to where that is cheaper (a JPEG's DCT scaling, as
 * PIL's draft mode does): no less than min_h x min_w once upright (0: no limit on that
 * side; full size when both are 0), or, with pick, what pick asks for. pick gets the upright full size and sets the
 * region to keep, in full-size pixels (inside the image, sides at least 1), and the size
 * that region will be resized to; the decoder keeps at least that many pixels across the
 * region, and region then holds it in the decoded image's pixels. */
typedef struct clnet__shrink {
    int min_h, min_w;
    clnet__pick_fn pick;
    void *user;
    clnet__region region;
} clnet__shrink;

/* clnet__image_decode_file, smaller where s allows (NULL: full size); other formats than
 * JPEG at full size, with s->pick called on that size. */
clnet_status clnet__image_decode_file_scaled(const char *path, uint64_t max_pixels,
                                             clnet__shrink *s, clnet__image *out, char *err,
                                             size_t err_len);

/* The format of a file by its first bytes (TGA only when weak), NONE when it cannot be
 * read. */
clnet__image_format clnet__image_sniff_file(const char *path, int weak);

void clnet__image_free(clnet__image *im);

/* For the decoders: CLNET_OK when 1 <= w, h and w * h <= max_pixels, else the error
 * naming the image, its size and the limit. what is the format's name. */
clnet_status clnet__image_check_size(const char *name, const char *what, uint64_t w, uint64_t h,
                                     uint64_t max_pixels, char *err, size_t err_len);
/* CLNET_ERR_PARSE when a compressed file of len bytes claims more pixels than its format
 * can pack into it: more than 2048 per byte plus 64 Ki (deflate peaks near 1032:1,
 * JPEG's entropy coding lower, GIF's LZW near 2730:1 only for one flat colour). Checked
 * from the header for PNG, JPEG and GIF, whose decoders allocate for the claimed size
 * before reading the data: a 94-byte PNG or a 346-byte GIF would otherwise reserve
 * hundreds of megabytes within max_pixels. */
clnet_status clnet__image_check_density(const char *name, const char *what, uint64_t w,
                                        uint64_t h, size_t len, char *err, size_t err_len);

/* im->pixels of w x h x c allocated (pixels NULL on failure: CLNET_ERR_OUT_OF_MEMORY
 * naming the image). */
clnet_status clnet__image_alloc(clnet__image *im, int w, int h, int c, const char *name, char *err,
                                size_t err_len);

/* The EXIF orientation (1..8) in a TIFF-structured EXIF block (starting "II*\0" or
 * "MM\0*"; a leading "Exif\0\0" is skipped); 1 when there is none or the block is
 * malformed. Bounds-checked: reads nothing outside tiff[0..len). */
int clnet__exif_orientation(const uint8_t *tiff, size_t len);

/* Turns im upright for EXIF orientation 2..8 (mirrors and rotations; 5..8 swap w and h);
 * 1 and unknown values change nothing. CLNET_ERR_OUT_OF_MEMORY leaves im as it was. */
clnet_status clnet__image_orient(clnet__image *im, int orientation);

/* One decoder per library, called by clnet__image_decode with the format sniffed; the
 * same contract. */
clnet_status clnet__jpeg_decode(const uint8_t *bytes, size_t len, const char *name,
                                uint64_t max_pixels, clnet__image *out, char *err, size_t err_len);
/* At the smallest DCT scale (1/8, 1/4, 1/2 or 1) that s allows (NULL: full size). */
clnet_status clnet__jpeg_decode_scaled(const uint8_t *bytes, size_t len, const char *name,
                                       uint64_t max_pixels, clnet__shrink *s, clnet__image *out,
                                       char *err, size_t err_len);
clnet_status clnet__png_decode(const uint8_t *bytes, size_t len, const char *name,
                               uint64_t max_pixels, clnet__image *out, char *err, size_t err_len);
clnet_status clnet__webp_decode(const uint8_t *bytes, size_t len, const char *name,
                                uint64_t max_pixels, clnet__image *out, char *err, size_t err_len);
clnet_status clnet__heif_decode(const uint8_t *bytes, size_t len, const char *name,
                                uint64_t max_pixels, clnet__image *out, char *err, size_t err_len);
clnet_status clnet__stb_decode(const uint8_t *bytes, size_t len, clnet__image_format format,
                               const char *name, uint64_t max_pixels, clnet__image *out, char *err,
                               size_t err_len);

#endif
