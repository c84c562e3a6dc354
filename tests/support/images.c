/* images.c - see images.h. */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <libheif/heif.h>
#include <png.h>
#include <stb/stb_image_write.h>
#include <webp/encode.h>

#include "support/images.h"
#include "tensor/rng.h"

/* A growing byte buffer. */
typedef struct buffer {
    uint8_t *data;
    size_t len, cap;
} buffer;

static void append(buffer *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = 2 * (b->len + n) + 64;
        b->data = realloc(b->data, b->cap);
        cr_assert_not_null(b->data);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void append_le(buffer *b, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; ++i) {
        const uint8_t byte = (uint8_t)(v >> (8 * i));
        append(b, &byte, 1);
    }
}

uint8_t *clnet_test_bytes(size_t n, uint64_t seed)
{
    clnet__rng r;
    clnet__rng_seed(&r, seed);
    uint8_t *p = malloc(n ? n : 1);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; ++i)
        p[i] = (uint8_t)(clnet__rng_next(&r) >> 56);
    return p;
}

static void jpeg_failed(j_common_ptr cinfo)
{
    char msg[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, msg);
    cr_assert_fail("libjpeg: %s", msg);
}

uint8_t *clnet_test_jpeg(const uint8_t *px, int w, int h, int c, const clnet_test_jpeg_options *o,
                         size_t *len)
{
    const clnet_test_jpeg_options none = {0, 0, 0, NULL, 0};
    if (!o)
        o = &none;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr je;
    ci.err = jpeg_std_error(&je);
    je.error_exit = jpeg_failed;
    jpeg_create_compress(&ci);
    unsigned char *out = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&ci, &out, &size);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = c;
    ci.in_color_space = c == 1 ? JCS_GRAYSCALE : c == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, o->quality ? o->quality : 100, TRUE);
    if (o->cmyk == 3)
        jpeg_set_colorspace(&ci, JCS_YCCK);
    if (o->cmyk == 2)
        ci.write_Adobe_marker = FALSE;
    for (int k = 0; k < ci.num_components; ++k) /* 4:4:4, so colours stay close */
        ci.comp_info[k].h_samp_factor = ci.comp_info[k].v_samp_factor = 1;
    if (o->progressive)
        jpeg_simple_progression(&ci);
    jpeg_start_compress(&ci, TRUE);
    if (o->app1)
        jpeg_write_marker(&ci, JPEG_APP0 + 1, o->app1, (unsigned)o->app1_len);
    uint8_t *row = malloc((size_t)w * c);
    cr_assert_not_null(row);
    while (ci.next_scanline < ci.image_height) {
        const uint8_t *src = px + (size_t)ci.next_scanline * w * c;
        for (int i = 0; i < w * c; ++i) /* Adobe's writers store inks inverted */
            row[i] = o->cmyk == 1 || o->cmyk == 3 ? (uint8_t)(255 - src[i]) : src[i];
        JSAMPROW rows[1] = {row};
        jpeg_write_scanlines(&ci, rows, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    free(row);
    *len = size;
    return out;
}

static void png_failed(png_structp png, png_const_charp msg)
{
    (void)png;
    cr_assert_fail("libpng: %s", msg);
}

static void png_append(png_structp png, png_bytep data, size_t n)
{
    append(png_get_io_ptr(png), data, n);
}

static void png_flush(png_structp png)
{
    (void)png;
}

/* Writes rows (already in PNG's byte order) of an image described by the callers. */
static uint8_t *png_write(int w, int h, int type, int bits, int interlaced, const uint8_t *bytes,
                          size_t row_bytes, const uint8_t *palette, const uint8_t *alpha, int n,
                          const uint8_t *exif, size_t exif_len, size_t *len)
{
    buffer b = {NULL, 0, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_failed, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    png_set_write_fn(png, &b, png_append, png_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bits, type,
                 interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette) {
        png_color colors[256];
        for (int i = 0; i < n; ++i) {
            colors[i].red = palette[3 * i];
            colors[i].green = palette[3 * i + 1];
            colors[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, colors, n);
        if (alpha)
            png_set_tRNS(png, info, alpha, n, NULL);
    }
    if (exif)
        png_set_eXIf_1(png, info, (png_uint_32)exif_len, (png_bytep)exif);
    png_write_info(png, info);
    png_bytep *rows = malloc((size_t)h * sizeof *rows);
    cr_assert_not_null(rows);
    for (int y = 0; y < h; ++y)
        rows[y] = (png_bytep)bytes + (size_t)y * row_bytes;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *len = b.len;
    return b.data;
}

uint8_t *clnet_test_png(const void *px, int w, int h, int c, int bits, int interlaced,
                        const uint8_t *exif, size_t exif_len, size_t *len)
{
    static const int types[4] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                 PNG_COLOR_TYPE_RGBA};
    const size_t samples = (size_t)w * h * c, row = (size_t)w * c * (bits / 8);
    uint8_t *bytes = malloc(samples * (bits / 8));
    cr_assert_not_null(bytes);
    for (size_t i = 0; i < samples; ++i) {
        if (bits == 16) { /* PNG is big-endian */
            const uint16_t v = ((const uint16_t *)px)[i];
            bytes[2 * i] = (uint8_t)(v >> 8);
            bytes[2 * i + 1] = (uint8_t)v;
        } else {
            bytes[i] = ((const uint8_t *)px)[i];
        }
    }
    uint8_t *out = png_write(w, h, types[c - 1], bits, interlaced, bytes, row, NULL, NULL, 0, exif,
                             exif_len, len);
    free(bytes);
    return out;
}

uint8_t *clnet_test_png_palette(const uint8_t *index, int w, int h, const uint8_t *rgb,
                                const uint8_t *alpha, int n, size_t *len)
{
    return png_write(w, h, PNG_COLOR_TYPE_PALETTE, 8, 0, index, (size_t)w, rgb, alpha, n, NULL, 0,
                     len);
}

uint8_t *clnet_test_webp(const uint8_t *px, int w, int h, int c, int lossless, const uint8_t *exif,
                         size_t exif_len, size_t *len)
{
    uint8_t *enc = NULL;
    size_t n = c == 4 ? (lossless ? WebPEncodeLosslessRGBA(px, w, h, w * 4, &enc)
                                  : WebPEncodeRGBA(px, w, h, w * 4, 90.0f, &enc))
                      : (lossless ? WebPEncodeLosslessRGB(px, w, h, w * 3, &enc)
                                  : WebPEncodeRGB(px, w, h, w * 3, 90.0f, &enc));
    cr_assert(n > 12 && enc, "WebP encoding failed");
    buffer b = {NULL, 0, 0};
    if (!exif) {
        append(&b, enc, n);
    } else {
        /* RIFF, then VP8X (EXIF and alpha flags, canvas size - 1 in 24 bits), the
         * encoder's image chunk as it is, and the EXIF chunk padded to even length. */
        cr_assert(memcmp(enc + 12, "VP8 ", 4) == 0 || memcmp(enc + 12, "VP8L", 4) == 0);
        append(&b, "RIFF\0\0\0\0WEBPVP8X", 16);
        append_le(&b, 10, 4);
        append_le(&b, 0x08u | (c == 4 ? 0x10u : 0u), 4);
        append_le(&b, (uint32_t)(w - 1), 3);
        append_le(&b, (uint32_t)(h - 1), 3);
        append(&b, enc + 12, n - 12);
        append(&b, "EXIF", 4);
        append_le(&b, (uint32_t)exif_len, 4);
        append(&b, exif, exif_len);
        if (exif_len % 2)
            append(&b, "", 1);
        const uint32_t riff = (uint32_t)b.len - 8;
        for (int i = 0; i < 4; ++i)
            b.data[4 + i] = (uint8_t)(riff >> (8 * i));
    }
    WebPFree(enc);
    *len = b.len;
    return b.data;
}

static struct heif_error heif_append(struct heif_context *ctx, const void *data, size_t size,
                                     void *user)
{
    (void)ctx;
    append(user, data, size);
    const struct heif_error ok = {heif_error_Ok, heif_suberror_Unspecified, "ok"};
    return ok;
}

uint8_t *clnet_test_heif(const uint8_t *px, int w, int h, int av1, size_t *len)
{
    const enum heif_compression_format format = av1 ? heif_compression_AV1 : heif_compression_HEVC;
    if (!heif_have_encoder_for_format(format))
        return NULL;
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    struct heif_image *img = NULL;
    struct heif_error e = heif_context_get_encoder_for_format(ctx, format, &enc);
    cr_assert_eq(e.code, heif_error_Ok, "%s", e.message);
    e = heif_image_create(w, h, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img);
    cr_assert_eq(e.code, heif_error_Ok, "%s", e.message);
    e = heif_image_add_plane(img, heif_channel_interleaved, w, h, 8);
    cr_assert_eq(e.code, heif_error_Ok, "%s", e.message);
    int stride = 0;
    uint8_t *plane = heif_image_get_plane(img, heif_channel_interleaved, &stride);
    for (int y = 0; y < h; ++y)
        memcpy(plane + (size_t)y * stride, px + (size_t)y * w * 3, (size_t)w * 3);
    heif_encoder_set_lossy_quality(enc, 90);
    e = heif_context_encode_image(ctx, img, enc, NULL, NULL);
    cr_assert_eq(e.code, heif_error_Ok, "%s", e.message);
    buffer b = {NULL, 0, 0};
    struct heif_writer writer = {1, heif_append};
    e = heif_context_write(ctx, &writer, &b);
    cr_assert_eq(e.code, heif_error_Ok, "%s", e.message);
    heif_image_release(img);
    heif_encoder_release(enc);
    heif_context_free(ctx);
    *len = b.len;
    return b.data;
}

static void stb_append(void *user, void *data, int size)
{
    append(user, data, (size_t)size);
}

uint8_t *clnet_test_stb(const char *format, const uint8_t *px, int w, int h, int c, size_t *len)
{
    buffer b = {NULL, 0, 0};
    const int ok = strcmp(format, "bmp") == 0 ? stbi_write_bmp_to_func(stb_append, &b, w, h, c, px)
                                              : stbi_write_tga_to_func(stb_append, &b, w, h, c, px);
    cr_assert(ok, "stb_image_write %s", format);
    *len = b.len;
    return b.data;
}

uint8_t *clnet_test_pnm(const uint8_t *px, int w, int h, int c, size_t *len)
{
    char head[64];
    const int n = snprintf(head, sizeof head, "P%c\n%d %d\n255\n", c == 1 ? '5' : '6', w, h);
    buffer b = {NULL, 0, 0};
    append(&b, head, (size_t)n);
    append(&b, px, (size_t)w * h * c);
    *len = b.len;
    return b.data;
}

/* LZW codes packed from the least significant bit, in sub-blocks of up to 255 bytes. */
typedef struct bits {
    buffer *out;
    uint8_t block[255];
    int used;
    uint32_t acc;
    int n;
} bits;

static void put_code(bits *s, uint32_t code, int width)
{
    s->acc |= code << s->n;
    s->n += width;
    while (s->n >= 8) {
        s->block[s->used++] = (uint8_t)s->acc;
        s->acc >>= 8;
        s->n -= 8;
        if (s->used == 255) {
            const uint8_t size = 255;
            append(s->out, &size, 1);
            append(s->out, s->block, 255);
            s->used = 0;
        }
    }
}

uint8_t *clnet_test_gif(const uint8_t *index, int w, int h, const uint8_t *rgb, int n, size_t *len)
{
    int depth = 1; /* the colour table holds 2^depth entries */
    while ((1 << depth) < n)
        ++depth;
    buffer b = {NULL, 0, 0};
    append(&b, "GIF89a", 6);
    append_le(&b, (uint32_t)w, 2);
    append_le(&b, (uint32_t)h, 2);
    append_le(&b, 0x80u | (uint32_t)(depth - 1) << 4 | (uint32_t)(depth - 1), 1);
    append_le(&b, 0, 2); /* background colour, aspect */
    for (int i = 0; i < (1 << depth); ++i)
        append(&b, i < n ? rgb + 3 * i : (const uint8_t *)"\0\0\0", 3);
    append(&b, ",", 1);
    append_le(&b, 0, 4); /* left, top */
    append_le(&b, (uint32_t)w, 2);
    append_le(&b, (uint32_t)h, 2);
    append_le(&b, 0, 1);
    /* A clear code before every pixel: the code width never grows, so any LZW decoder
     * reads literal after literal. */
    const int min = depth < 2 ? 2 : depth, width = min + 1;
    const uint32_t clear = 1u << min;
    append_le(&b, (uint32_t)min, 1);
    bits s = {&b, {0}, 0, 0, 0};
    for (int i = 0; i < w * h; ++i) {
        put_code(&s, clear, width);
        put_code(&s, index[i], width);
    }
    put_code(&s, clear + 1, width);
    if (s.n > 0)
        put_code(&s, 0, 8 - s.n);
    if (s.used) {
        append_le(&b, (uint32_t)s.used, 1);
        append(&b, s.block, (size_t)s.used);
    }
    append(&b, "\0;", 2);
    *len = b.len;
    return b.data;
}

size_t clnet_test_exif(uint8_t *out, int orientation, int prefix, int big_endian)
{
    size_t at = 0;
    if (prefix) {
        memcpy(out, "Exif\0\0", 6);
        at = 6;
    }
    /* TIFF header, IFD0 at offset 8 with one entry (0x0112 SHORT 1 orientation), then the
     * offset of the next IFD, 0. */
    const uint8_t be[26] = {'M',  'M',  0, 42, 0, 0, 0, 8, 0, 1,
                            0x01, 0x12, 0, 3,  0, 0, 0, 1, 0, (uint8_t)orientation,
                            0,    0,    0, 0,  0, 0};
    const uint8_t le[26] = {
        'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (uint8_t)orientation,
        0,   0,   0,  0, 0, 0, 0};
    memcpy(out + at, big_endian ? be : le, 26);
    return at + 26;
}
