/* images.h - small images encoded in memory by the formats' own libraries (libjpeg,
 * libpng, libwebp, libheif, stb_image_write) or by hand (GIF, PNM, EXIF), for the
 * decoder and image-folder tests. Every function returns malloc'd bytes (*len of them)
 * and asserts on failure, except clnet_test_heif, which returns NULL when libheif has
 * no encoder for the format. px: w x h x c bytes, HWC. */
#ifndef CLNET_TESTS_IMAGES_H
#define CLNET_TESTS_IMAGES_H

#include <stddef.h>
#include <stdint.h>

/* n bytes drawn from seed (clnet's generator), malloc'd. */
uint8_t *clnet_test_bytes(size_t n, uint64_t seed);

typedef struct clnet_test_jpeg_options {
    int quality; /* 0: 100 */
    /* c = 4 only: px are CMYK inks. 1: written with Adobe's marker and inverted inks, as
     * Photoshop does; 2: plain inks, no Adobe marker; 3: YCCK (Adobe, inverted). */
    int cmyk;
    int progressive;
    const uint8_t *app1; /* payload of an APP1 marker (EXIF: "Exif\0\0" + TIFF), or NULL */
    size_t app1_len;
} clnet_test_jpeg_options;

uint8_t *clnet_test_jpeg(const uint8_t *px, int w, int h, int c, const clnet_test_jpeg_options *o,
                         size_t *len);
/* c 1..4 (gray, gray+alpha, RGB, RGBA); bits 8 (px bytes) or 16 (px holds uint16_t
 * samples); exif (raw TIFF, may be NULL) as an eXIf chunk before the pixels. */
uint8_t *clnet_test_png(const void *px, int w, int h, int c, int bits, int interlaced,
                        const uint8_t *exif, size_t exif_len, size_t *len);
/* A palette PNG: index bytes, n RGB entries, and n alpha values (tRNS) or NULL. */
uint8_t *clnet_test_png_palette(const uint8_t *index, int w, int h, const uint8_t *rgb,
                                const uint8_t *alpha, int n, size_t *len);
/* c 3 or 4; lossless or lossy (quality 90); exif (raw TIFF) wraps the image in a VP8X
 * container with an EXIF chunk. */
uint8_t *clnet_test_webp(const uint8_t *px, int w, int h, int c, int lossless, const uint8_t *exif,
                         size_t exif_len, size_t *len);
/* av1: AVIF (AV1 in HEIF), else HEIC (HEVC); c = 3. Lossy, quality 90. */
uint8_t *clnet_test_heif(const uint8_t *px, int w, int h, int av1, size_t *len);
/* stb_image_write: "bmp" or "tga" (c 1..4). */
uint8_t *clnet_test_stb(const char *format, const uint8_t *px, int w, int h, int c, size_t *len);
/* Binary PGM (c = 1) or PPM (c = 3). */
uint8_t *clnet_test_pnm(const uint8_t *px, int w, int h, int c, size_t *len);
/* A GIF of palette indices (n colours, 2..256, RGB triples). */
uint8_t *clnet_test_gif(const uint8_t *index, int w, int h, const uint8_t *rgb, int n, size_t *len);
/* An EXIF block holding only the orientation: raw TIFF, or with the "Exif\0\0" prefix
 * of a JPEG APP1 marker; big or little endian. out has room for 32 bytes. */
size_t clnet_test_exif(uint8_t *out, int orientation, int prefix, int big_endian);

#endif
