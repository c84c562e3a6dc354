/* test_augment.c - torchvision's augmentations (src/data/augment.c): RandomResizedCrop's
 * regions (inside the image, the area and aspect asked for, torchvision's fallback), the
 * flip, ColorJitter's factors, RandomAffine's shift, the ranges refused; and through the
 * batcher, the same bytes with any number of workers. No device needed. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clnet.h"
#include "data/augment.h"
#include "support/images.h"

Test(augment, random_resized_crop_regions)
{
    const clnet_augment a = {.scale_min = 0.08f};
    clnet__rng r;
    clnet__rng_seed(&r, 3);
    clnet__crop_draw draw = {&r, &a, 32, 24};
    int small = 0, large = 0, tall = 0, wide = 0;
    for (int k = 0; k < 2000; ++k) {
        clnet__region g;
        int oh = 0, ow = 0;
        clnet__random_resized_crop(&draw, 300, 200, &g, &oh, &ow);
        cr_assert(oh == 32 && ow == 24);
        cr_assert(g.x >= 0 && g.y >= 0 && g.w >= 1 && g.h >= 1 && g.x + g.w <= 200 &&
                      g.y + g.h <= 300,
                  "draw %d: %d %d %d %d", k, g.x, g.y, g.w, g.h);
        const double area = (double)g.w * g.h / (300.0 * 200.0), aspect = (double)g.w / g.h;
        cr_assert(area > 0.07 && area < 1.01, "area %f", area);
        cr_assert(aspect > 0.7 && aspect < 1.4, "aspect %f (%dx%d)", aspect, g.w, g.h);
        small += area < 0.2;
        large += area > 0.8;
        tall += aspect < 0.8;
        wide += aspect > 1.25;
    }
    cr_assert(small > 100 && large > 10 && tall > 100 && wide > 100, "%d %d %d %d", small, large,
              tall, wide);
    /* An image too wide for any try: torchvision's centre crop of the widest ratio. */
    const clnet_augment most = {.scale_min = 0.9f};
    draw.aug = &most;
    clnet__region g;
    int oh, ow;
    clnet__random_resized_crop(&draw, 10, 1000, &g, &oh, &ow);
    cr_assert(g.w == 13 && g.h == 10 && g.x == 493 && g.y == 0, "%d %d %d %d", g.x, g.y, g.w, g.h);
}

/* A w x h x 3 image of [0, 1] floats from seed. */
static float *image(int h, int w, uint64_t seed)
{
    uint8_t *b = clnet_test_bytes((size_t)h * w * 3, seed);
    float *f = malloc((size_t)h * w * 3 * sizeof *f);
    for (int i = 0; i < h * w * 3; ++i)
        f[i] = b[i] / 255.0f;
    free(b);
    return f;
}

Test(augment, flip_half_the_time)
{
    enum { H = 3, W = 5 };
    const clnet_augment a = {.horizontal_flip = 1};
    float tmp[H * W * 3];
    int flipped = 0;
    for (int k = 0; k < 200; ++k) {
        float *img = image(H, W, 10), *orig = image(H, W, 10);
        clnet__rng r;
        clnet__rng_seed(&r, (uint64_t)k);
        clnet__augment_pixels(&a, &r, img, tmp, H, W, 3);
        int same = memcmp(img, orig, sizeof tmp) == 0, mirror = 1;
        for (int y = 0; y < H; ++y)
            for (int x = 0; x < W; ++x)
                for (int c = 0; c < 3; ++c)
                    mirror &= img[(y * W + x) * 3 + c] == orig[(y * W + W - 1 - x) * 3 + c];
        cr_assert(same != mirror, "draw %d: neither the image nor its mirror", k);
        flipped += mirror;
        free(img);
        free(orig);
    }
    cr_assert(flipped > 70 && flipped < 130, "%d of 200 flipped", flipped);
}

Test(augment, color_jitter_factors)
{
    enum { H = 4, W = 6 };
    float tmp[H * W * 3];
    /* Brightness alone scales every value by one factor in [0.6, 1.4]. */
    const clnet_augment b = {.brightness = 0.4f};
    double lo = 9, hi = 0;
    for (int k = 0; k < 100; ++k) {
        float *img = image(H, W, 20), *orig = image(H, W, 20);
        for (int i = 0; i < H * W * 3; ++i)
            orig[i] *= 0.5f, img[i] *= 0.5f; /* no value reaches the clamp */
        clnet__rng r;
        clnet__rng_seed(&r, (uint64_t)k);
        clnet__augment_pixels(&b, &r, img, tmp, H, W, 3);
        int top = 0;
        for (int i = 1; i < H * W * 3; ++i)
            top = orig[i] > orig[top] ? i : top;
        const double f = img[top] / orig[top];
        for (int i = 0; i < H * W * 3; ++i)
            if (orig[i] > 0.05f)
                cr_assert(fabs(img[i] - f * orig[i]) < 1e-5, "value %d", i);
        lo = f < lo ? f : lo;
        hi = f > hi ? f : hi;
        free(img);
        free(orig);
    }
    cr_assert(lo >= 0.6 - 1e-6 && lo < 0.7 && hi <= 1.4 + 1e-6 && hi > 1.3, "%f..%f", lo, hi);
    /* Saturation leaves gray pixels gray; contrast keeps every value in [0, 1]. */
    const clnet_augment sc = {.saturation = 0.9f, .contrast = 0.9f};
    float *img = image(H, W, 21);
    for (int p = 0; p < H * W; ++p)
        img[3 * p + 1] = img[3 * p + 2] = img[3 * p];
    clnet__rng r;
    clnet__rng_seed(&r, 5);
    clnet__augment_pixels(&sc, &r, img, tmp, H, W, 3);
    for (int p = 0; p < H * W; ++p) {
        cr_assert(fabsf(img[3 * p] - img[3 * p + 1]) < 1e-6 &&
                  fabsf(img[3 * p] - img[3 * p + 2]) < 1e-6);
        cr_assert(img[3 * p] >= 0.0f && img[3 * p] <= 1.0f);
    }
    free(img);
}

/* A translation alone moves the image by whole pixels, black where nothing comes in. */
Test(augment, translation_shifts_whole_pixels)
{
    enum { H = 10, W = 10 };
    const clnet_augment a = {.translate = 0.3f};
    float tmp[H * W * 3];
    int moved = 0;
    for (int k = 0; k < 40; ++k) {
        float *img = image(H, W, 30), *orig = image(H, W, 30);
        clnet__rng r;
        clnet__rng_seed(&r, (uint64_t)k);
        clnet__augment_pixels(&a, &r, img, tmp, H, W, 3);
        int found = 0;
        for (int ty = -3; ty <= 3 && !found; ++ty)
            for (int tx = -3; tx <= 3 && !found; ++tx) {
                int ok = 1;
                for (int y = 0; y < H && ok; ++y)
                    for (int x = 0; x < W && ok; ++x)
                        for (int c = 0; c < 3 && ok; ++c) {
                            const int sx = x - tx, sy = y - ty;
                            const float want = sx >= 0 && sx < W && sy >= 0 && sy < H
                                                   ? orig[(sy * W + sx) * 3 + c]
                                                   : 0.0f;
                            ok = fabsf(img[(y * W + x) * 3 + c] - want) < 1e-5f;
                        }
                found = ok;
                moved += ok && (tx || ty);
            }
        cr_assert(found, "draw %d is no shift of at most 3 pixels", k);
        free(img);
        free(orig);
    }
    cr_assert(moved > 20, "only %d of 40 moved", moved);
}

/* A turn keeps a flat image flat around its centre and darkens only corners. */
Test(augment, rotation_about_the_centre)
{
    enum { H = 21, W = 21 };
    const clnet_augment a = {.rotation = 30.0f};
    float img[H * W * 3], tmp[H * W * 3];
    for (int k = 0; k < 20; ++k) {
        for (int i = 0; i < H * W * 3; ++i)
            img[i] = 0.5f;
        clnet__rng r;
        clnet__rng_seed(&r, (uint64_t)k);
        clnet__augment_pixels(&a, &r, img, tmp, H, W, 3);
        for (int y = 0; y < H; ++y)
            for (int x = 0; x < W; ++x) {
                const double d = hypot(x - 10, y - 10);
                const float v = img[(y * W + x) * 3];
                if (d <= 9.0)
                    cr_assert(fabsf(v - 0.5f) < 1e-5f, "draw %d (%d, %d): %f", k, x, y, v);
                cr_assert(v >= 0.0f && v <= 0.5f + 1e-6f);
            }
    }
}

Test(augment, ranges_refused)
{
    const clnet_augment ok = {.scale_min = 0.08f, .brightness = 0.4f, .rotation = 10.0f};
    cr_assert(clnet__augment_valid(&ok));
    const clnet_augment bad[] = {
        {.scale_min = -0.1f},
        {.scale_min = 0.5f, .scale_max = 0.4f},
        {.scale_min = 0.5f, .scale_max = 1.5f},
        {.ratio_min = 2.0f, .ratio_max = 1.0f},
        {.brightness = NAN},
        {.contrast = -1.0f},
        {.rotation = 200.0f},
        {.translate = 1.5f},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; ++k)
        cr_assert(!clnet__augment_valid(&bad[k]), "case %zu", k);
}
