/* image.c - clnet_image_load(_ex): one image file decoded (decode.c) and converted the
 * way the image-folder reader does it (folder.c), for prediction. Tests:
 * tests/unit/test_decode.c, tests/cli/test_cli.sh (predict). */
#include <stdlib.h>

#include "data/data.h"
#include "data/decode.h"

clnet_status clnet_image_load_ex(const char *path, int h, int w, int c, uint64_t max_pixels,
                                 float *out, char *err, size_t err_len)
{
    if (!path || !out || h < 1 || w < 1 || (c != 1 && c != 3))
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "clnet_image_load: a path, an output and a size of HxWx1 or "
                                "HxWx3 are needed");
    clnet__image im;
    clnet_status st = clnet__image_decode_file(path, max_pixels, &im, err, err_len);
    if (st != CLNET_OK)
        return st;
    const size_t n = (size_t)h * (size_t)w * (size_t)c;
    uint8_t *px = malloc(n);
    st = px ? clnet__image_convert(im.pixels, im.h, im.w, im.c, px, h, w, c)
            : CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK)
        for (size_t i = 0; i < n; ++i)
            out[i] = (float)px[i] / 255.0f;
    else
        clnet__data_fail(err, err_len, st, "%s: converting %dx%dx%d to %dx%dx%d: %s", path, im.h,
                         im.w, im.c, h, w, c, clnet_status_string(st));
    free(px);
    clnet__image_free(&im);
    return st;
}

clnet_status clnet_image_load(const char *path, int h, int w, int c, float *out, char *err,
                              size_t err_len)
{
    return clnet_image_load_ex(path, h, w, c, 0, out, err, err_len);
}
