/* heif.c - HEIC, HEIF and AVIF (in HEIF) by libheif: the primary image, with the file's
 * own rotation, mirroring and cropping applied by libheif, high bit depths reduced to
 * 8, RGBA when it has alpha, else RGB. Tests: tests/unit/test_decode.c. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libheif/heif.h>

#include "data/data.h"
#include "data/decode.h"

/* libheif's error as ours: an image this libheif cannot decode (a codec it was built
 * without) is still an image, so not CLNET_ERR_UNSUPPORTED, which says "no image". */
static clnet_status corrupt(const char *name, struct heif_error e, char *err, size_t err_len)
{
    const int unsupported =
        e.code == heif_error_Unsupported_feature || e.code == heif_error_Unsupported_filetype;
    return clnet__data_fail(
        err, err_len,
        e.code == heif_error_Memory_allocation_error ? CLNET_ERR_OUT_OF_MEMORY : CLNET_ERR_PARSE,
        "%s: %s HEIF (%s)", name, unsupported ? "unsupported" : "truncated or corrupt",
        e.message ? e.message : "unknown error");
}

/* The decoded interleaved plane, row by row into out (its stride may be wider). */
static clnet_status copy_plane(const struct heif_image *img, int c, const char *name,
                               clnet__image *out, char *err, size_t err_len)
{
    int stride = 0;
    const uint8_t *plane = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
    const int w = heif_image_get_width(img, heif_channel_interleaved);
    const int h = heif_image_get_height(img, heif_channel_interleaved);
    if (!plane || w < 1 || h < 1 || stride < w * c)
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                                "%s: truncated or corrupt HEIF (no %dx%d RGB plane)", name, w, h);
    clnet_status st = clnet__image_alloc(out, w, h, c, name, err, err_len);
    for (int y = 0; st == CLNET_OK && y < h; ++y)
        memcpy(out->pixels + (size_t)y * w * c, plane + (size_t)y * stride, (size_t)w * c);
    return st;
}

clnet_status clnet__heif_decode(const uint8_t *bytes, size_t len, const char *name,
                                uint64_t max_pixels, clnet__image *out, char *err, size_t err_len)
{
    struct heif_context *ctx = heif_context_alloc();
    struct heif_image_handle *handle = NULL;
    struct heif_image *img = NULL;
    struct heif_decoding_options *opt = heif_decoding_options_alloc();
    if (!ctx || !opt) {
        heif_decoding_options_free(opt);
        heif_context_free(ctx);
        return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
    }
    /* libheif's own side limit, so that it refuses what the pixel limit would anyway. */
    const uint64_t side = max_pixels < INT_MAX ? max_pixels + 1 : INT_MAX;
    heif_context_set_maximum_image_size_limit(ctx, (int)side);
    clnet_status st = CLNET_OK;
    struct heif_error e = heif_context_read_from_memory_without_copy(ctx, bytes, len, NULL);
    if (e.code == heif_error_Ok)
        e = heif_context_get_primary_image_handle(ctx, &handle);
    if (e.code != heif_error_Ok) {
        st = corrupt(name, e, err, err_len);
        goto done;
    }
    /* Both the size after rotation and cropping and the coded size (what is decoded),
     * when the file states it. */
    const int w = heif_image_handle_get_width(handle), h = heif_image_handle_get_height(handle);
    const int iw = heif_image_handle_get_ispe_width(handle);
    const int ih = heif_image_handle_get_ispe_height(handle);
    st = clnet__image_check_size(name, "HEIF", w > 0 ? (uint64_t)w : 0, h > 0 ? (uint64_t)h : 0,
                                 max_pixels, err, err_len);
    if (st == CLNET_OK && iw > 0 && ih > 0)
        st = clnet__image_check_size(name, "HEIF", (uint64_t)iw, (uint64_t)ih, max_pixels, err,
                                     err_len);
    if (st != CLNET_OK)
        goto done;
    const int alpha = heif_image_handle_has_alpha_channel(handle);
    opt->convert_hdr_to_8bit = 1;
    e = heif_decode_image(handle, &img, heif_colorspace_RGB,
                          alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, opt);
    st = e.code == heif_error_Ok ? copy_plane(img, alpha ? 4 : 3, name, out, err, err_len)
                                 : corrupt(name, e, err, err_len);
done:
    heif_image_release(img);
    heif_image_handle_release(handle);
    heif_decoding_options_free(opt);
    heif_context_free(ctx);
    return st;
}
