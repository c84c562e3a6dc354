/* jpeg.c - JPEG by libjpeg-turbo: gray, RGB (YCbCr), and CMYK / YCCK made RGB (Adobe's
 * inverted CMYK too), EXIF orientation from APP1, at a DCT scale (1/8, 1/4, 1/2) when
 * the caller needs fewer pixels (decode.h's clnet__shrink). A file that ends early is an error, not
 * a gray bottom half; other "corrupt data" warnings are tolerated as browsers do.
 * Tests: tests/unit/test_decode.c. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "data/data.h"
#include "data/decode.h"

/* Progressive files with thousands of tiny scans decode for minutes; real ones have
 * about ten (libjpeg-turbo's own fuzzers stop at 500). */
#define MAX_SCANS 1000

/* One decode: libjpeg's state and ours. Everything that changes after setjmp lives here,
 * not in run()'s locals, so it is intact after the longjmp. */
typedef struct job {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr errors;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int whole;    /* every scanline read: a missing end marker no longer matters */
    uint8_t *row; /* one CMYK scanline */
    clnet__image *out;
} job;

static void fail(j_common_ptr cinfo)
{
    job *j = (job *)cinfo->client_data;
    cinfo->err->format_message(cinfo, j->message);
    longjmp(j->jump, 1);
}

/* Warnings: the end of the data before the image's end is fatal, the rest is ignored. */
static void warn(j_common_ptr cinfo, int level)
{
    const job *j = (const job *)cinfo->client_data;
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF && !j->whole)
        fail(cinfo);
}

static void progress(j_common_ptr cinfo)
{
    job *j = (job *)cinfo->client_data;
    if (j->cinfo.input_scan_number > MAX_SCANS) {
        snprintf(j->message, sizeof j->message, "more than %d scans", MAX_SCANS);
        longjmp(j->jump, 1);
    }
}

/* The EXIF orientation of the first APP1 "Exif" marker, 1 without one. */
static int orientation(j_decompress_ptr cinfo)
{
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0)
            return clnet__exif_orientation(m->data, m->data_length);
    return 1;
}

/* CMYK as libjpeg returns it (YCCK already turned into CMYK) to RGB. Adobe's writers
 * (Photoshop) store the inks inverted, 255 = no ink; others store them plainly. */
static void cmyk_to_rgb(const uint8_t *in, uint8_t *out, int w, int inverted)
{
    for (int x = 0; x < w; ++x, in += 4, out += 3) {
        const unsigned k = inverted ? in[3] : 255u - in[3];
        for (int ch = 0; ch < 3; ++ch) {
            const unsigned v = inverted ? in[ch] : 255u - in[ch];
            out[ch] = (uint8_t)((v * k + 127u) / 255u);
        }
    }
}

/* The smallest DCT scale 1/denom (denom 8, 4, 2 or 1) whose image is at least min_h x
 * min_w once turned upright (swap: EXIF orientations 5..8 swap the sides). */
static int scale_denom(const struct jpeg_decompress_struct *c, int swap, int min_h, int min_w)
{
    const uint64_t want_w = (uint64_t)(swap ? min_h : min_w);
    const uint64_t want_h = (uint64_t)(swap ? min_w : min_h);
    for (int denom = 8; denom > 1; denom /= 2) {
        /* libjpeg's output size: the side scaled by 1/denom, rounded up */
        const uint64_t w = ((uint64_t)c->image_width + (uint64_t)denom - 1) / (uint64_t)denom;
        const uint64_t h = ((uint64_t)c->image_height + (uint64_t)denom - 1) / (uint64_t)denom;
        if (w >= want_w && h >= want_h)
            return denom;
    }
    return 1;
}

/* Sets the DCT scale s allows, picking the region first when s has pick (full_h x full_w:
 * the upright size). */
static void choose_scale(struct jpeg_decompress_struct *c, clnet__shrink *s, int swap, int full_h,
                         int full_w)
{
    int min_h = s->min_h, min_w = s->min_w;
    if (!s->pick && min_h <= 0 && min_w <= 0)
        return; /* no size asked for: the whole image */
    if (s->pick) {
        int out_h = 0, out_w = 0;
        s->pick(s->user, full_h, full_w, &s->region, &out_h, &out_w);
        /* The whole image at the scale keeping out_w pixels across the region's width. */
        const clnet__region *r = &s->region;
        min_w =
            r->w > 0
                ? (int)(((uint64_t)out_w * (uint64_t)full_w + (uint64_t)r->w - 1) / (uint64_t)r->w)
                : full_w;
        min_h =
            r->h > 0
                ? (int)(((uint64_t)out_h * (uint64_t)full_h + (uint64_t)r->h - 1) / (uint64_t)r->h)
                : full_h;
    }
    c->scale_num = 1;
    c->scale_denom = (unsigned)scale_denom(c, swap, min_h, min_w);
}

/* s->region (full-size pixels of a full_h x full_w image) in the pixels of the decoded
 * image im. */
static void scale_region(clnet__shrink *s, const clnet__image *im, int full_h, int full_w)
{
    clnet__region *r = &s->region;
    const int64_t x0 = (int64_t)r->x * im->w / full_w, y0 = (int64_t)r->y * im->h / full_h;
    int64_t x1 = ((int64_t)(r->x + r->w) * im->w + full_w - 1) / full_w;
    int64_t y1 = ((int64_t)(r->y + r->h) * im->h + full_h - 1) / full_h;
    x1 = x1 > im->w ? im->w : x1 <= x0 ? x0 + 1 : x1;
    y1 = y1 > im->h ? im->h : y1 <= y0 ? y0 + 1 : y1;
    *r = (clnet__region){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
}

/* 0 when libjpeg failed (j->message says why), -1 when out of memory or the size check
 * failed (err says why), 1 on success. */
static int run(job *j, const uint8_t *bytes, size_t len, const char *name, uint64_t max_pixels,
               clnet__shrink *s, clnet_status *st, char *err, size_t err_len)
{
    struct jpeg_decompress_struct *c = &j->cinfo;
    if (setjmp(j->jump))
        return 0;
    jpeg_create_decompress(c);
    c->progress = &j->progress;
    jpeg_mem_src(c, bytes, (unsigned long)len);
    jpeg_save_markers(c, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(c, TRUE);
    *st = clnet__image_check_size(name, "JPEG", c->image_width, c->image_height, max_pixels, err,
                                  err_len);
    if (*st == CLNET_OK)
        *st = clnet__image_check_density(name, "JPEG", c->image_width, c->image_height, len, err,
                                         err_len);
    if (*st != CLNET_OK)
        return -1;
    const int oriented = orientation(c), swap = oriented >= 5 && oriented <= 8;
    const int full_w = (int)(swap ? c->image_height : c->image_width);
    const int full_h = (int)(swap ? c->image_width : c->image_height);
    if (s)
        choose_scale(c, s, swap, full_h, full_w);
    const int cmyk = c->jpeg_color_space == JCS_CMYK || c->jpeg_color_space == JCS_YCCK;
    c->out_color_space = c->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE
                         : cmyk                               ? JCS_CMYK
                                                              : JCS_RGB;
    jpeg_start_decompress(c);
    const int w = (int)c->output_width, h = (int)c->output_height;
    *st = clnet__image_alloc(j->out, w, h, cmyk ? 3 : c->output_components, name, err, err_len);
    if (*st == CLNET_OK && cmyk && !(j->row = malloc((size_t)w * 4)))
        *st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
    if (*st != CLNET_OK)
        return -1;
    while (c->output_scanline < c->output_height) {
        uint8_t *line = j->out->pixels + (size_t)c->output_scanline * w * j->out->c;
        JSAMPROW rows[1] = {cmyk ? j->row : line};
        if (jpeg_read_scanlines(c, rows, 1) != 1)
            break; /* suspension cannot happen with a memory source */
        if (cmyk)
            cmyk_to_rgb(j->row, line, w, c->saw_Adobe_marker);
    }
    j->whole = 1;
    *st = clnet__image_orient(j->out, oriented);
    if (*st != CLNET_OK)
        clnet__data_fail(err, err_len, *st, "%s: out of memory", name);
    else if (s && s->pick)
        scale_region(s, j->out, full_h, full_w);
    return *st == CLNET_OK ? 1 : -1;
}

clnet_status clnet__jpeg_decode(const uint8_t *bytes, size_t len, const char *name,
                                uint64_t max_pixels, clnet__image *out, char *err, size_t err_len)
{
    return clnet__jpeg_decode_scaled(bytes, len, name, max_pixels, NULL, out, err, err_len);
}

clnet_status clnet__jpeg_decode_scaled(const uint8_t *bytes, size_t len, const char *name,
                                       uint64_t max_pixels, clnet__shrink *s, clnet__image *out,
                                       char *err, size_t err_len)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
    j->cinfo.err = jpeg_std_error(&j->errors);
    j->cinfo.client_data = j; /* kept by jpeg_create_decompress, which may fail already */
    j->errors.error_exit = fail;
    j->errors.emit_message = warn;
    j->progress.progress_monitor = progress;
    j->out = out;
    clnet_status st = CLNET_OK;
    const int r = run(j, bytes, len, name, max_pixels, s, &st, err, err_len);
    if (r == 0)
        st = clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: truncated or corrupt JPEG (%s)",
                              name, j->message);
    jpeg_destroy_decompress(&j->cinfo);
    free(j->row);
    free(j);
    if (st != CLNET_OK)
        clnet__image_free(out);
    return st;
}
