/* exif.c - the EXIF orientation tag, read from the TIFF structure of an EXIF block (JPEG
 * APP1, PNG eXIf, WebP EXIF), and the mirror or rotation that turns an image upright.
 * Only IFD0's tag 0x0112 is read; every offset is checked against the block's length.
 * Tests: tests/unit/test_decode.c. */
#include <stdlib.h>
#include <string.h>

#include "data/decode.h"

#define TAG_ORIENTATION 0x0112
#define TYPE_SHORT 3
#define TYPE_LONG 4

static uint32_t get(const uint8_t *p, int bytes, int big)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= (uint32_t)p[big ? i : bytes - 1 - i] << (8 * (bytes - 1 - i));
    return v;
}

int clnet__exif_orientation(const uint8_t *tiff, size_t len)
{
    if (!tiff)
        return 1;
    if (len >= 6 && memcmp(tiff, "Exif\0\0", 6) == 0) {
        tiff += 6;
        len -= 6;
    }
    if (len < 8)
        return 1;
    int big;
    if (memcmp(tiff, "II*\0", 4) == 0)
        big = 0;
    else if (memcmp(tiff, "MM\0*", 4) == 0)
        big = 1;
    else
        return 1;
    const uint32_t ifd = get(tiff + 4, 4, big);
    if (ifd > len || len - ifd < 2)
        return 1;
    const uint32_t entries = get(tiff + ifd, 2, big);
    const size_t room = (len - ifd - 2) / 12; /* whole entries inside the block */
    for (size_t i = 0; i < entries && i < room; ++i) {
        const uint8_t *e = tiff + ifd + 2 + 12 * i;
        if (get(e, 2, big) != TAG_ORIENTATION)
            continue;
        const uint32_t type = get(e + 2, 2, big), count = get(e + 4, 4, big);
        if (count != 1 || (type != TYPE_SHORT && type != TYPE_LONG))
            return 1;
        const uint32_t v = get(e + 8, type == TYPE_SHORT ? 2 : 4, big);
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

clnet_status clnet__image_orient(clnet__image *im, int orientation)
{
    if (orientation < 2 || orientation > 8 || !im->pixels)
        return CLNET_OK;
    const int w = im->w, h = im->h, c = im->c, swap = orientation >= 5;
    const int ow = swap ? h : w, oh = swap ? w : h;
    uint8_t *out = malloc((size_t)w * (size_t)h * (size_t)c);
    if (!out)
        return CLNET_ERR_OUT_OF_MEMORY;
    /* Output pixel (x, y) of the upright image comes from source pixel
     * (sx, sy) = (a x + b y, c x + d y) + the offset that keeps it inside:
     * 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse,
     * 8 rotate 90 counter-clockwise (EXIF 2.32, tag 0x0112). */
    static const signed char m[9][4] = {{1, 0, 0, 1},   {1, 0, 0, 1},   {-1, 0, 0, 1},
                                        {-1, 0, 0, -1}, {1, 0, 0, -1},  {0, 1, 1, 0},
                                        {0, 1, -1, 0},  {0, -1, -1, 0}, {0, -1, 1, 0}};
    const signed char *t = m[orientation];
    const int x0 = t[0] + t[1] < 0 ? w - 1 : 0, y0 = t[2] + t[3] < 0 ? h - 1 : 0;
    for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x) {
            const int sx = x0 + t[0] * x + t[1] * y, sy = y0 + t[2] * x + t[3] * y;
            memcpy(out + ((size_t)y * ow + x) * c, im->pixels + ((size_t)sy * w + sx) * c,
                   (size_t)c);
        }
    free(im->pixels);
    im->pixels = out;
    im->w = ow;
    im->h = oh;
    return CLNET_OK;
}
