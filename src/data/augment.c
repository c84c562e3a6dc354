/* augment.c - torchvision's augmentations of a training image (clnet_augment): the draw
 * of RandomResizedCrop's region (torchvision's get_params, its ten tries and its
 * fallback), then the horizontal flip, ColorJitter and RandomAffine on the image at the
 * model's size in [0, 1] floats. The batcher (batcher.c) calls them with the image's own
 * generator, so every draw is reproducible. Tests: tests/unit/test_augment.c. */
#include <math.h>
#include <string.h>

#include "data/augment.h"

#define PI 3.14159265358979323846

static int round_half_even(double v)
{
    return (int)nearbyint(v); /* Python's round(), as torchvision's get_params uses */
}

/* torch.randint(lo, hi + 1): an integer in [lo, hi]. */
static int uniform_int(clnet__rng *r, int lo, int hi)
{
    const int v = lo + (int)(clnet__rng_uniform(r) * (double)(hi - lo + 1));
    return v > hi ? hi : v;
}

void clnet__random_resized_crop(void *user, int h, int w, clnet__region *region, int *out_h,
                                int *out_w)
{
    clnet__crop_draw *c = user;
    const clnet_augment *a = c->aug;
    const double smin = a->scale_min, smax = a->scale_max > 0.0f ? a->scale_max : 1.0;
    const double rmin = a->ratio_min > 0.0f ? a->ratio_min : 3.0 / 4.0;
    const double rmax = a->ratio_max > 0.0f ? a->ratio_max : 4.0 / 3.0;
    const double area = (double)h * (double)w;
    *out_h = c->out_h;
    *out_w = c->out_w;
    for (int attempt = 0; attempt < 10; ++attempt) {
        const double target = area * (smin + (smax - smin) * clnet__rng_uniform(c->r));
        const double log_ratio = log(rmin) + (log(rmax) - log(rmin)) * clnet__rng_uniform(c->r);
        const double aspect = exp(log_ratio);
        const int cw = round_half_even(sqrt(target * aspect));
        const int ch = round_half_even(sqrt(target / aspect));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
            const int y = uniform_int(c->r, 0, h - ch), x = uniform_int(c->r, 0, w - cw);
            *region = (clnet__region){x, y, cw, ch};
            return;
        }
    }
    /* Fallback: the centre crop of the ratio nearest the image's. */
    const double in_ratio = (double)w / (double)h;
    int cw = w, ch = h;
    if (in_ratio < rmin)
        ch = round_half_even(cw / rmin);
    else if (in_ratio > rmax)
        cw = round_half_even(ch * rmax);
    ch = ch < 1 ? 1 : ch > h ? h : ch;
    cw = cw < 1 ? 1 : cw > w ? w : cw;
    *region = (clnet__region){(w - cw) / 2, (h - ch) / 2, cw, ch};
}

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* The factor of a ColorJitter strength x: uniform in [max(0, 1 - x), 1 + x]. */
static float jitter_factor(clnet__rng *r, float x)
{
    const double lo = x < 1.0f ? 1.0 - x : 0.0;
    return (float)(lo + (1.0 + x - lo) * clnet__rng_uniform(r));
}

static float gray(const float *p)
{
    return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
}

/* torchvision's adjust_brightness, adjust_contrast (against the mean gray level) and
 * adjust_saturation (against each pixel's gray), each clamped. */
static void color_jitter(const clnet_augment *a, clnet__rng *r, float *img, size_t pixels, int c)
{
    const size_t n = pixels * (size_t)c;
    if (a->brightness > 0.0f) {
        const float f = jitter_factor(r, a->brightness);
        for (size_t i = 0; i < n; ++i)
            img[i] = clamp01(img[i] * f);
    }
    if (a->contrast > 0.0f) {
        const float f = jitter_factor(r, a->contrast);
        double sum = 0.0;
        for (size_t p = 0; p < pixels; ++p)
            sum += c == 3 ? gray(img + 3 * p) : img[p];
        const float mean = (float)(sum / (double)pixels);
        for (size_t i = 0; i < n; ++i)
            img[i] = clamp01(f * img[i] + (1.0f - f) * mean);
    }
    if (a->saturation > 0.0f) {
        const float f = jitter_factor(r, a->saturation);
        for (size_t p = 0; c == 3 && p < pixels; ++p) {
            float *q = img + 3 * p;
            const float g = gray(q);
            for (int ch = 0; ch < 3; ++ch)
                q[ch] = clamp01(f * q[ch] + (1.0f - f) * g);
        }
    }
}

/* The image turned by deg degrees about its centre and shifted by (tx, ty) pixels,
 * sampled bilinearly from img into out (zero outside). */
static void affine(const float *img, float *out, int h, int w, int c, double deg, double tx,
                   double ty)
{
    const double th = deg * PI / 180.0, cs = cos(th), sn = sin(th);
    const double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            /* The inverse map: where output (x, y) comes from. */
            const double dx = x - cx - tx, dy = y - cy - ty;
            const double sx = cs * dx + sn * dy + cx, sy = -sn * dx + cs * dy + cy;
            const int x0 = (int)floor(sx), y0 = (int)floor(sy);
            const float fx = (float)(sx - x0), fy = (float)(sy - y0);
            float *o = out + ((size_t)y * (size_t)w + (size_t)x) * (size_t)c;
            for (int ch = 0; ch < c; ++ch)
                o[ch] = 0.0f;
            for (int k = 0; k < 4; ++k) {
                const int px = x0 + (k & 1), py = y0 + (k >> 1);
                if (px < 0 || px >= w || py < 0 || py >= h)
                    continue;
                const float wt = ((k & 1) ? fx : 1.0f - fx) * ((k >> 1) ? fy : 1.0f - fy);
                const float *p = img + ((size_t)py * (size_t)w + (size_t)px) * (size_t)c;
                for (int ch = 0; ch < c; ++ch)
                    o[ch] += wt * p[ch];
            }
        }
}

void clnet__augment_pixels(const clnet_augment *a, clnet__rng *r, float *img, float *tmp, int h,
                           int w, int c)
{
    const size_t pixels = (size_t)h * (size_t)w;
    if (a->horizontal_flip && clnet__rng_uniform(r) < 0.5)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w / 2; ++x) {
                float *p = img + ((size_t)y * (size_t)w + (size_t)x) * (size_t)c;
                float *q = img + ((size_t)y * (size_t)w + (size_t)(w - 1 - x)) * (size_t)c;
                for (int ch = 0; ch < c; ++ch) {
                    const float t = p[ch];
                    p[ch] = q[ch];
                    q[ch] = t;
                }
            }
    color_jitter(a, r, img, pixels, c);
    if (a->rotation > 0.0f || a->translate > 0.0f) {
        const double deg = a->rotation * (2.0 * clnet__rng_uniform(r) - 1.0);
        const double tx = round_half_even(a->translate * w * (2.0 * clnet__rng_uniform(r) - 1.0));
        const double ty = round_half_even(a->translate * h * (2.0 * clnet__rng_uniform(r) - 1.0));
        affine(img, tmp, h, w, c, deg, tx, ty);
        memcpy(img, tmp, pixels * (size_t)c * sizeof *img);
    }
}

int clnet__augment_valid(const clnet_augment *a)
{
    const float v[] = {a->scale_min, a->scale_max,  a->ratio_min, a->ratio_max, a->brightness,
                       a->contrast,  a->saturation, a->rotation,  a->translate};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; ++i)
        if (!(v[i] >= 0.0f) || !isfinite(v[i]))
            return 0;
    const float smax = a->scale_max > 0.0f ? a->scale_max : 1.0f;
    const float rmin = a->ratio_min > 0.0f ? a->ratio_min : 0.75f;
    const float rmax = a->ratio_max > 0.0f ? a->ratio_max : 4.0f / 3.0f;
    return a->scale_min <= smax && smax <= 1.0f && rmin <= rmax && a->translate <= 1.0f &&
           a->rotation <= 180.0f;
}
