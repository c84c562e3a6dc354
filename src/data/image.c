/* image.c - clnet_image_load: one image file decoded and converted the way the
 * image-folder reader does it (folder.c), for prediction. Tests:
 * tests/unit/test_dataset.c (conversion), tests/cli/test_cli.sh (predict). */
#include <stb/stb_image.h>
#include <stdlib.h>

#include "data/data.h"

clnet_status clnet_image_load(const char *path, int h, int w, int c, float *out, char *err,
                              size_t err_len)
{
    if (!path || !out || h < 1 || w < 1 || (c != 1 && c != 3))
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "clnet_image_load: a path, an output and a size of HxWx1 or "
                                "HxWx3 are needed");
    int sw = 0, sh = 0, sc = 0;
    stbi_uc *src = stbi_load(path, &sw, &sh, &sc, 0);
    if (!src)
        return clnet__data_fail(err, err_len, CLNET_ERR_IO, "cannot decode image %s: %s", path,
                                stbi_failure_reason() ? stbi_failure_reason() : "unreadable");
    const size_t n = (size_t)h * (size_t)w * (size_t)c;
    uint8_t *px = malloc(n);
    clnet_status st =
        px ? clnet__image_convert(src, sh, sw, sc, px, h, w, c) : CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK)
        for (size_t i = 0; i < n; ++i)
            out[i] = (float)px[i] / 255.0f;
    else
        clnet__data_fail(err, err_len, st, "converting image %s to %dx%dx%d: out of memory", path,
                         h, w, c);
    free(px);
    stbi_image_free(src);
    return st;
}
