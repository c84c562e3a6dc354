/* test_decode.c - image decoding (src/data/decode.h): every format from bytes its own
 * library (or a hand-written encoder) made here, EXIF orientation, CMYK JPEGs, 16-bit and
 * palette PNGs, decoding by content, and the errors a user reads: missing, truncated,
 * not an image, a side of 0, more pixels than the limit. No device needed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <stb/stb_image_resize.h>

#include "clnet.h"
#include "data/data.h"
#include "data/decode.h"
#include "support/images.h"
#include "support/tempdir.h"

TestSuite(decode, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

/* w x h x c pixels, each a function of its position, so misplaced pixels show. */
static uint8_t *pattern(int w, int h, int c)
{
    uint8_t *p = malloc((size_t)w * h * c);
    cr_assert_not_null(p);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int k = 0; k < c; ++k)
                p[((size_t)y * w + x) * c + k] = (uint8_t)(37 * x + 91 * y + 59 * k + 11 * x * y);
    return p;
}

static clnet__image decode_ok(const uint8_t *bytes, size_t len, uint64_t max_pixels)
{
    clnet__image im;
    char err[512] = "";
    const clnet_status st =
        clnet__image_decode(bytes, len, "test", max_pixels, &im, err, sizeof err);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), err);
    cr_assert_not_null(im.pixels);
    return im;
}

/* Decoding fails with status and a message holding needle (and needle2 when given). */
static void decode_fails(const uint8_t *bytes, size_t len, const char *name, uint64_t max_pixels,
                         clnet_status status, const char *needle, const char *needle2)
{
    clnet__image im;
    char err[512] = "";
    const clnet_status st = clnet__image_decode(bytes, len, name, max_pixels, &im, err, sizeof err);
    cr_assert_eq(st, status, "got %s (%s)", clnet_status_string(st), err);
    cr_assert_null(im.pixels);
    cr_assert_not_null(strstr(err, needle), "'%s' does not say '%s'", err, needle);
    if (needle2)
        cr_assert_not_null(strstr(err, needle2), "'%s' does not say '%s'", err, needle2);
}

static void expect_image(const clnet__image *im, const uint8_t *want, int w, int h, int c, int tol)
{
    cr_assert(im->w == w && im->h == h && im->c == c, "%dx%dx%d, want %dx%dx%d", im->w, im->h,
              im->c, w, h, c);
    for (size_t i = 0; i < (size_t)w * h * c; ++i) {
        const int d = abs((int)im->pixels[i] - (int)want[i]);
        cr_assert(d <= tol, "sample %zu (pixel %zu, channel %zu): %d, want %d", i, i / c, i % c,
                  im->pixels[i], want[i]);
    }
}

/* Decodes bytes, expects w x h x c pixels within tol of want, frees both. */
static void expect_decodes(uint8_t *bytes, size_t len, const uint8_t *want, int w, int h, int c,
                           int tol)
{
    clnet__image im = decode_ok(bytes, len, 0);
    expect_image(&im, want, w, h, c, tol);
    clnet__image_free(&im);
    free(bytes);
}

/* w x h of four flat quadrants TL, TR, BL, BR (RGB), which survive JPEG almost exactly. */
static uint8_t *quadrants(int w, int h, const uint8_t colors[4][3])
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            memcpy(p + ((size_t)y * w + x) * 3, colors[(y >= h / 2) * 2 + (x >= w / 2)], 3);
    return p;
}

/* The colour at the centre of each quadrant is colors[order[q]]. */
static void expect_quadrants(const clnet__image *im, const uint8_t colors[4][3], const int order[4],
                             int orientation)
{
    for (int q = 0; q < 4; ++q) {
        const int x = (q % 2) * im->w / 2 + im->w / 4, y = (q / 2) * im->h / 2 + im->h / 4;
        const uint8_t *got = im->pixels + ((size_t)y * im->w + x) * im->c;
        const uint8_t *want = colors[order[q]];
        for (int k = 0; k < 3; ++k)
            cr_assert(abs(got[k] - want[k]) <= 8,
                      "orientation %d, quadrant %d: (%d,%d,%d), want (%d,%d,%d)", orientation, q,
                      got[0], got[1], got[2], want[0], want[1], want[2]);
    }
}

Test(decode, jpeg_rgb_gray_progressive)
{
    uint8_t *rgb = pattern(24, 16, 3), *gray = pattern(24, 16, 1);
    size_t len = 0;
    uint8_t *jpg = clnet_test_jpeg(rgb, 24, 16, 3, NULL, &len);
    expect_decodes(jpg, len, rgb, 24, 16, 3, 12); /* quality 100, 4:4:4: close, not exact */
    const clnet_test_jpeg_options progressive = {90, 0, 1, NULL, 0};
    jpg = clnet_test_jpeg(rgb, 24, 16, 3, &progressive, &len);
    expect_decodes(jpg, len, rgb, 24, 16, 3, 40);
    jpg = clnet_test_jpeg(gray, 24, 16, 1, NULL, &len);
    expect_decodes(jpg, len, gray, 24, 16, 1, 8);
    free(rgb);
    free(gray);
}

Test(decode, jpeg_cmyk_adobe_plain_and_ycck)
{
    /* Inks (C, M, Y, K) and the RGB they print: (255 - C)(255 - K) / 255 per channel. */
    static const uint8_t inks[4][4] = {
        {0, 255, 255, 0}, {255, 0, 255, 0}, {0, 0, 0, 128}, {0, 0, 255, 0}};
    static const uint8_t rgb[4][3] = {{255, 0, 0}, {0, 255, 0}, {127, 127, 127}, {255, 255, 0}};
    uint8_t px[16 * 16 * 4], want[16 * 16 * 3];
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) {
            const int q = (y >= 8) * 2 + (x >= 8);
            memcpy(px + (y * 16 + x) * 4, inks[q], 4);
            memcpy(want + (y * 16 + x) * 3, rgb[q], 3);
        }
    for (int cmyk = 1; cmyk <= 3; ++cmyk) { /* Adobe inverted, plain, YCCK */
        const clnet_test_jpeg_options o = {100, cmyk, 0, NULL, 0};
        size_t len = 0;
        uint8_t *jpg = clnet_test_jpeg(px, 16, 16, 4, &o, &len);
        expect_decodes(jpg, len, want, 16, 16, 3, 6);
    }
}

Test(decode, exif_orientation_turns_jpeg_png_webp_upright)
{
    static const uint8_t colors[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
    /* Which source quadrant (TL 0, TR 1, BL 2, BR 3) each output quadrant shows, for
     * EXIF orientations 1..8 (EXIF 2.32, tag 0x0112). */
    static const int order[9][4] = {{0},          {0, 1, 2, 3}, {1, 0, 3, 2},
                                    {3, 2, 1, 0}, {2, 3, 0, 1}, {0, 2, 1, 3},
                                    {2, 0, 3, 1}, {3, 1, 2, 0}, {1, 3, 0, 2}};
    uint8_t *px = quadrants(32, 16, colors);
    for (int o = 1; o <= 8; ++o)
        for (int format = 0; format < 3; ++format) {
            uint8_t exif[32];
            const size_t n = clnet_test_exif(exif, o, format == 0, o % 2);
            const clnet_test_jpeg_options jo = {100, 0, 0, exif, n};
            size_t len = 0;
            uint8_t *bytes = format == 0   ? clnet_test_jpeg(px, 32, 16, 3, &jo, &len)
                             : format == 1 ? clnet_test_png(px, 32, 16, 3, 8, 0, exif, n, &len)
                                           : clnet_test_webp(px, 32, 16, 3, 1, exif, n, &len);
            clnet__image im = decode_ok(bytes, len, 0);
            const int turned = o >= 5; /* 5..8 swap width and height */
            cr_assert(im.w == (turned ? 16 : 32) && im.h == (turned ? 32 : 16),
                      "format %d, orientation %d: %dx%d", format, o, im.w, im.h);
            expect_quadrants(&im, colors, order[o], o);
            clnet__image_free(&im);
            free(bytes);
        }
    free(px);
}

Test(decode, exif_parser_stays_inside_the_block)
{
    uint8_t exif[32];
    const size_t n = clnet_test_exif(exif, 6, 1, 1);
    cr_assert_eq(clnet__exif_orientation(exif, n), 6);
    cr_assert_eq(clnet__exif_orientation(exif + 6, n - 6), 6); /* raw TIFF */
    for (size_t cut = 0; cut < n - 4; ++cut) /* cut inside the entry: orientation 1 */
        cr_assert_eq(clnet__exif_orientation(exif, cut), 1, "cut at %zu", cut);
    cr_assert_eq(clnet__exif_orientation(exif, n - 4), 6); /* the next-IFD offset is not needed */
    uint8_t bad[32];
    memcpy(bad, exif, n);
    bad[6 + 7] = 200; /* IFD0 offset past the end */
    cr_assert_eq(clnet__exif_orientation(bad, n), 1);
    memcpy(bad, exif, n);
    bad[6 + 8] = 0xff; /* 65281 entries claimed, the one there is another tag */
    bad[6 + 9] = 0x01;
    bad[6 + 11] = 0x13;
    cr_assert_eq(clnet__exif_orientation(bad, n), 1);
    memcpy(bad, exif, n);
    bad[6 + 19] = 9; /* not an orientation */
    cr_assert_eq(clnet__exif_orientation(bad, n), 1);
    cr_assert_eq(clnet__exif_orientation(NULL, 10), 1);
}

Test(decode, png_depths_palette_alpha_interlace)
{
    for (int c = 1; c <= 4; ++c)
        for (int interlaced = 0; interlaced < 2; ++interlaced) {
            uint8_t *px = pattern(13, 7, c);
            size_t len = 0;
            uint8_t *png = clnet_test_png(px, 13, 7, c, 8, interlaced, NULL, 0, &len);
            expect_decodes(png, len, px, 13, 7, c, 0);
            free(px);
        }
    /* 16 bits: v * 255 / 65535, rounded. */
    uint16_t deep[5 * 3 * 3];
    uint8_t want[5 * 3 * 3];
    for (int i = 0; i < 45; ++i) {
        deep[i] = (uint16_t)(i * 1489 + (i % 3) * 128);
        want[i] = (uint8_t)((deep[i] * 255u + 32767u) / 65535u);
    }
    size_t len = 0;
    uint8_t *png = clnet_test_png(deep, 5, 3, 3, 16, 0, NULL, 0, &len);
    expect_decodes(png, len, want, 5, 3, 3, 0);
    /* A palette with transparency becomes RGBA. */
    static const uint8_t palette[3 * 3] = {10, 20, 30, 200, 100, 50, 0, 255, 0};
    static const uint8_t alpha[3] = {255, 128, 0};
    static const uint8_t index[4] = {0, 1, 2, 1};
    uint8_t rgba[16];
    for (int i = 0; i < 4; ++i) {
        memcpy(rgba + 4 * i, palette + 3 * index[i], 3);
        rgba[4 * i + 3] = alpha[index[i]];
    }
    png = clnet_test_png_palette(index, 2, 2, palette, alpha, 3, &len);
    expect_decodes(png, len, rgba, 2, 2, 4, 0);
}

Test(decode, webp_lossless_lossy_alpha)
{
    for (int c = 3; c <= 4; ++c) {
        uint8_t *px = pattern(19, 11, c);
        for (int i = 0; c == 4 && i < 19 * 11; ++i)
            px[4 * i + 3] |= 1; /* the encoder may change the colour of invisible pixels */
        size_t len = 0;
        uint8_t *webp = clnet_test_webp(px, 19, 11, c, 1, NULL, 0, &len);
        expect_decodes(webp, len, px, 19, 11, c, 0);
        free(px);
    }
    static const uint8_t colors[4][3] = {{200, 30, 30}, {30, 200, 30}, {30, 30, 200}, {90, 90, 90}};
    static const int same[4] = {0, 1, 2, 3};
    uint8_t *px = quadrants(32, 32, colors);
    size_t len = 0;
    uint8_t *webp = clnet_test_webp(px, 32, 32, 3, 0, NULL, 0, &len);
    clnet__image im = decode_ok(webp, len, 0);
    cr_assert(im.w == 32 && im.h == 32 && im.c == 3);
    expect_quadrants(&im, colors, same, 1);
    clnet__image_free(&im);
    decode_fails(webp, len / 2, "cut.webp", 0, CLNET_ERR_PARSE,
                 "cut.webp: truncated or corrupt WebP", NULL);
    free(webp);
    free(px);
}

Test(decode, heic_and_avif_by_libheif)
{
    static const uint8_t colors[4][3] = {
        {220, 40, 40}, {40, 220, 40}, {40, 40, 220}, {128, 128, 128}};
    static const int same[4] = {0, 1, 2, 3};
    uint8_t *px = quadrants(64, 48, colors);
    int encoded = 0;
    for (int av1 = 0; av1 < 2; ++av1) {
        size_t len = 0;
        uint8_t *heif = clnet_test_heif(px, 64, 48, av1, &len);
        if (!heif)
            continue; /* this libheif has no encoder for the format */
        ++encoded;
        clnet__image im = decode_ok(heif, len, 0);
        cr_assert(im.w == 64 && im.h == 48 && im.c == 3, "%dx%dx%d", im.w, im.h, im.c);
        expect_quadrants(&im, colors, same, 1);
        clnet__image_free(&im);
        decode_fails(heif, len, "big.heic", 1000, CLNET_ERR_TOO_LARGE,
                     "big.heic: 64x48 pixels exceed the limit of 1000", NULL);
        decode_fails(heif, len * 2 / 3, "cut.heic", 0, CLNET_ERR_PARSE,
                     "cut.heic: truncated or corrupt HEIF", NULL);
        free(heif);
    }
    free(px);
    if (!encoded)
        cr_skip_test("libheif has neither an HEVC nor an AV1 encoder");
}

Test(decode, bmp_tga_pnm_gif_by_stb)
{
    for (int c = 1; c <= 4; ++c) {
        uint8_t *px = pattern(9, 5, c);
        size_t len = 0;
        uint8_t *tga = clnet_test_stb("tga", px, 9, 5, c, &len);
        expect_decodes(tga, len, px, 9, 5, c, 0);
        if (c == 3 || c == 4) { /* stb writes BMPs of 3 and 4 channels as such */
            uint8_t *bmp = clnet_test_stb("bmp", px, 9, 5, c, &len);
            decode_fails(bmp, len - 20, "cut.bmp", 0, CLNET_ERR_PARSE, "cut.bmp: truncated BMP",
                         NULL);
            expect_decodes(bmp, len, px, 9, 5, c, 0);
        }
        if (c == 1 || c == 3) {
            uint8_t *pnm = clnet_test_pnm(px, 9, 5, c, &len);
            decode_fails(pnm, len - 1, "cut.pgm", 0, CLNET_ERR_PARSE, "cut.pgm: truncated PNM",
                         NULL);
            expect_decodes(pnm, len, px, 9, 5, c, 0);
        }
        free(px);
    }
    static const uint8_t palette[3 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255};
    uint8_t index[7 * 4], want[7 * 4 * 4];
    for (int i = 0; i < 28; ++i) {
        index[i] = (uint8_t)(i * 7 % 3);
        memcpy(want + 4 * i, palette + 3 * index[i], 3);
        want[4 * i + 3] = 255;
    }
    size_t len = 0;
    uint8_t *gif = clnet_test_gif(index, 7, 4, palette, 3, &len);
    expect_decodes(gif, len, want, 7, 4, 4, 0); /* stb gives GIFs as RGBA */
}

Test(decode, every_format_refuses_more_pixels_than_the_limit)
{
    uint8_t *px = pattern(40, 30, 3);
    size_t len = 0;
    uint8_t *bytes[6];
    size_t lens[6];
    const char *names[6] = {"a.jpg", "a.png", "a.webp", "a.bmp", "a.tga", "a.ppm"};
    bytes[0] = clnet_test_jpeg(px, 40, 30, 3, NULL, &lens[0]);
    bytes[1] = clnet_test_png(px, 40, 30, 3, 8, 0, NULL, 0, &lens[1]);
    bytes[2] = clnet_test_webp(px, 40, 30, 3, 1, NULL, 0, &lens[2]);
    bytes[3] = clnet_test_stb("bmp", px, 40, 30, 3, &lens[3]);
    bytes[4] = clnet_test_stb("tga", px, 40, 30, 3, &lens[4]);
    bytes[5] = clnet_test_pnm(px, 40, 30, 3, &lens[5]);
    for (int f = 0; f < 6; ++f) {
        char want[128];
        snprintf(want, sizeof want, "%s: 40x30 pixels exceed the limit of 1199", names[f]);
        decode_fails(bytes[f], lens[f], names[f], 1199, CLNET_ERR_TOO_LARGE, want,
                     "clnet_dataset_options");
        clnet__image im = decode_ok(bytes[f], lens[f], 1200);
        clnet__image_free(&im);
        free(bytes[f]);
    }
    (void)len;
    free(px);
}

/* The files: headers that promise far more than the bytes hold. */
Test(decode, headers_declaring_huge_images_are_refused_before_decoding)
{
    /* A GIF of 18704x24941 (466 million pixels) in 30 bytes. */
    uint8_t gif[30] = {'G',  'I', 'F', '8', '9',  'a',  0x10, 0x49, 0x6d, 0x61,
                       0x80, 0,   0,   255, 255,  255,  0,    0,    0,    ',',
                       0,    0,   0,   0,   0x10, 0x49, 0x6d, 0x61, 0,    2};
    decode_fails(gif, sizeof gif, "bomb.gif", 0, CLNET_ERR_TOO_LARGE,
                 "bomb.gif: 18704x24941 pixels exceed the limit of 134217728", NULL);
    /* A 122-byte BMP of 5x8390148: under the default limit, but its pixels are missing. */
    uint8_t bmp[122] = {'B', 'M', 122, 0, 0, 0, 0, 0,    0,    0,    54, 0, 0, 0,  40,
                        0,   0,   0,   5, 0, 0, 0, 0x04, 0x06, 0x80, 0,  1, 0, 24, 0};
    decode_fails(bmp, sizeof bmp, "photo.bmp", 0, CLNET_ERR_PARSE, "photo.bmp: truncated BMP",
                 "5x8390148");
    decode_fails(bmp, sizeof bmp, "photo.bmp", 1000000, CLNET_ERR_TOO_LARGE,
                 "photo.bmp: 5x8390148 pixels exceed the limit of 1000000", NULL);
    /* Real JPEG and PNG files whose headers are patched to 60000x60000. */
    uint8_t *px = pattern(8, 8, 3);
    size_t len = 0;
    uint8_t *jpg = clnet_test_jpeg(px, 8, 8, 3, NULL, &len);
    for (size_t i = 0; i + 9 < len; ++i)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) { /* SOF0: length, precision, h, w */
            jpg[i + 5] = jpg[i + 7] = 0xea;
            jpg[i + 6] = jpg[i + 8] = 0x60;
            break;
        }
    decode_fails(jpg, len, "huge.jpg", 0, CLNET_ERR_TOO_LARGE, "huge.jpg: 60000x60000 pixels",
                 NULL);
    free(jpg);
    uint8_t *png = clnet_test_png(px, 8, 8, 3, 8, 0, NULL, 0, &len);
    const uint8_t side[4] = {0, 0, 0xea, 0x60};
    memcpy(png + 16, side, 4); /* IHDR width, height, then its CRC */
    memcpy(png + 20, side, 4);
    const uint32_t crc = (uint32_t)crc32(0, png + 12, 17);
    for (int i = 0; i < 4; ++i)
        png[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    decode_fails(png, len, "huge.png", 0, CLNET_ERR_TOO_LARGE, "huge.png: 60000x60000 pixels",
                 NULL);
    free(png);
    /* A chunk declaring 1.5 GB (libpng would allocate it, warning only), found by
     * fuzzing: refused before libpng sees it. */
    png = clnet_test_png(px, 8, 8, 3, 8, 0, NULL, 0, &len);
    uint8_t *bomb = malloc(33 + 12);
    memcpy(bomb, png, 33); /* signature and IHDR */
    memcpy(bomb + 33,
           "\x59\x00\x00\x1a"
           "eXIfII*\0"
           "\0\0\0\0",
           12);
    decode_fails(bomb, 45, "bomb.png", 0, CLNET_ERR_PARSE,
                 "bomb.png: truncated or corrupt PNG (chunk 'eXIf' is longer than the file)", NULL);
    free(bomb);
    free(png);
    free(px);
}

Test(decode, side_of_zero_is_an_error_not_an_abort)
{
    /* The 11 bytes: a PGM of width 0. */
    static const uint8_t pgm[11] = {0x50, 0x35, 0x0a, 0x30, 0x20, 0x34,
                                    0x0a, 0x32, 0x35, 0x35, 0x0a};
    decode_fails(pgm, sizeof pgm, "zero.pgm", 0, CLNET_ERR_PARSE, "zero.pgm", NULL);
    clnet_test_write_file(clnet_test_path("zero.pgm"), pgm, sizeof pgm);
    float out[4 * 4];
    char err[512] = "";
    const clnet_status st =
        clnet_image_load(clnet_test_path("zero.pgm"), 4, 4, 1, out, err, sizeof err);
    cr_assert_neq(st, CLNET_OK);
    cr_assert_not_null(strstr(err, "zero.pgm"), "%s", err);
    /* The converter itself refuses empty sides instead of handing them to the resizer. */
    uint8_t src[4] = {1, 2, 3, 4}, dst[16];
    cr_assert_eq(clnet__image_convert(src, 0, 4, 1, dst, 4, 4, 1), CLNET_ERR_INVALID_ARG);
    cr_assert_eq(clnet__image_convert(src, 4, 0, 1, dst, 4, 4, 1), CLNET_ERR_INVALID_ARG);
    cr_assert_eq(clnet__image_convert(src, 2, 2, 1, dst, 0, 4, 1), CLNET_ERR_INVALID_ARG);
    cr_assert_eq(clnet__image_convert(src, 2, 2, 5, dst, 4, 4, 1), CLNET_ERR_INVALID_ARG);
    cr_assert_eq(clnet__image_convert(src, 2, 2, 1, dst, 4, 4, 1), CLNET_OK);
}

/* A tall narrow image made wide and short is resized height first (stb's one pass costs
 * height x output width: minutes for 5 x 8,390,148); the result stays within one level
 * of the one-pass resize. */
Test(decode, tall_narrow_images_resize_in_two_passes)
{
    uint8_t *src = clnet_test_bytes(3 * 4000, 150);
    uint8_t got[8 * 16], want[8 * 16];
    cr_assert_eq(clnet__image_convert(src, 4000, 3, 1, got, 8, 16, 1), CLNET_OK);
    cr_assert(stbir_resize_uint8(src, 3, 4000, 0, want, 16, 8, 0, 1));
    for (int i = 0; i < 8 * 16; ++i)
        cr_assert(abs(got[i] - want[i]) <= 1, "pixel %d: %d, want %d", i, got[i], want[i]);
    free(src);
}

Test(decode, files_errors_a_user_understands)
{
    clnet__image im;
    char err[512] = "";
    const char *missing = clnet_test_path("photo.jpg");
    cr_assert_eq(clnet__image_decode_file(missing, 0, &im, err, sizeof err), CLNET_ERR_IO);
    char want[320];
    snprintf(want, sizeof want, "%s: no such file", missing);
    cr_assert_str_eq(err, want);

    clnet_test_write_file(clnet_test_path("notes.txt"), "shopping list\n", 14);
    cr_assert_eq(clnet__image_decode_file(clnet_test_path("notes.txt"), 0, &im, err, sizeof err),
                 CLNET_ERR_UNSUPPORTED);
    snprintf(want, sizeof want, "%s: not an image (JPEG, PNG, WebP, HEIC, BMP, GIF, TGA or PNM)",
             clnet_test_path("notes.txt"));
    cr_assert_str_eq(err, want);

    /* A JPEG cut in the middle of its pixels, and one named .png (decoded by content). */
    uint8_t *px = pattern(64, 64, 3);
    size_t len = 0;
    uint8_t *jpg = clnet_test_jpeg(px, 64, 64, 3, NULL, &len);
    clnet_test_write_file(clnet_test_path("cut.jpg"), jpg, len / 2);
    cr_assert_eq(clnet__image_decode_file(clnet_test_path("cut.jpg"), 0, &im, err, sizeof err),
                 CLNET_ERR_PARSE);
    snprintf(want, sizeof want, "%s: truncated or corrupt JPEG (", clnet_test_path("cut.jpg"));
    cr_assert_eq(strncmp(err, want, strlen(want)), 0, "%s", err);
    clnet_test_write_file(clnet_test_path("really_a_jpeg.png"), jpg, len);
    cr_assert_eq(
        clnet__image_decode_file(clnet_test_path("really_a_jpeg.png"), 0, &im, err, sizeof err),
        CLNET_OK, "%s", err);
    expect_image(&im, px, 64, 64, 3, 12);
    clnet__image_free(&im);
    /* UTF-8 names are only bytes to the file system. */
    clnet_test_write_file(clnet_test_path("ünïcødé 写真.jpg"), jpg, len);
    cr_assert_eq(
        clnet__image_decode_file(clnet_test_path("ünïcødé 写真.jpg"), 0, &im, err, sizeof err),
        CLNET_OK, "%s", err);
    clnet__image_free(&im);
    /* A folder is not an image file. */
    cr_assert_eq(clnet__image_decode_file(clnet_test_dir, 0, &im, err, sizeof err), CLNET_ERR_IO);
    cr_assert_not_null(strstr(err, "a folder"), "%s", err);
    free(jpg);
    free(px);
}

Test(decode, image_load_converts_and_scales)
{
    uint8_t *px = pattern(6, 4, 3);
    size_t len = 0;
    uint8_t *png = clnet_test_png(px, 6, 4, 3, 8, 0, NULL, 0, &len);
    clnet_test_write_file(clnet_test_path("a.png"), png, len);
    float out[4 * 6 * 3];
    char err[512] = "";
    cr_assert_eq(clnet_image_load(clnet_test_path("a.png"), 4, 6, 3, out, err, sizeof err),
                 CLNET_OK, "%s", err);
    for (int i = 0; i < 72; ++i)
        cr_assert_float_eq(out[i], px[i] / 255.0f, 1e-6f);
    const clnet_image_options small = {.max_pixels = 23};
    cr_assert_eq(
        clnet_image_load_ex(clnet_test_path("a.png"), 4, 6, 3, &small, out, err, sizeof err),
        CLNET_ERR_TOO_LARGE);
    cr_assert_not_null(strstr(err, "6x4 pixels exceed the limit of 23"), "%s", err);
    free(png);
    free(px);
}
