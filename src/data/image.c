/* image.c - clnet_image_load(_ex): one image file decoded and converted by the code an
 * image folder's batches use (load.c), for prediction. Tests:
 * tests/unit/test_decode.c, tests/cli/test_cli.sh (predict). */
#include <stdlib.h>

#include "data/data.h"
#include "data/decode.h"

clnet_status clnet_image_load_ex(const char *path, int h, int w, int c,
                                 const clnet_image_options *opt, float *out, char *err,
                                 size_t err_len)
{
    const clnet_image_options none = {0};
    if (!opt)
        opt = &none;
    if (!path || !out || h < 1 || w < 1 || (c != 1 && c != 3))
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "clnet_image_load: a path, an output and a size of HxWx1 or "
                                "HxWx3 are needed");
    if (!(opt->center_crop >= 0.0f && opt->center_crop <= 1.0f))
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "clnet_image_load: center_crop %g is not in [0, 1]",
                                (double)opt->center_crop);
    const size_t n = (size_t)h * (size_t)w * (size_t)c;
    uint8_t *px = malloc(n);
    if (!px)
        return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    const clnet_status st = clnet__image_load_target(path, opt->max_pixels, opt->center_crop, NULL,
                                                     NULL, px, h, w, c, err, err_len);
    for (size_t i = 0; st == CLNET_OK && i < n; ++i)
        out[i] = (float)px[i] / 255.0f;
    free(px);
    return st;
}

clnet_status clnet_image_load(const char *path, int h, int w, int c, float *out, char *err,
                              size_t err_len)
{
    return clnet_image_load_ex(path, h, w, c, NULL, out, err, err_len);
}
