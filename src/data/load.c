/* load.c - one image of a dataset at the target size: a pointer into an in-memory one,
 * or its file decoded for a lazy image folder (and by clnet_image_load, the same way); the record
 * of the files found unreadable, shared by a root and its splits and written by the batchers'
 * workers at once. Tests: tests/unit/test_folder.c, tests/unit/test_dataset.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data/decode.h"

clnet_status clnet__skips_create(clnet_dataset *d, const clnet_dataset_options *opt)
{
    clnet__skips *s = calloc(1, sizeof *s);
    if (!s)
        return CLNET_ERR_OUT_OF_MEMORY;
    s->bad = calloc((size_t)(d->size ? d->size : 1), 1);
    if (!s->bad || pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s->bad);
        free(s);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    s->log = opt->log;
    s->log_user = opt->log_user;
    d->skips = s;
    return CLNET_OK;
}

void clnet__skips_destroy(clnet__skips *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s->bad);
    free(s);
}

int clnet__dataset_skipped(const clnet_dataset *d)
{
    if (!d->skips)
        return d->skipped;
    pthread_mutex_lock(&d->skips->lock);
    const int n = d->skips->count;
    pthread_mutex_unlock(&d->skips->lock);
    return n;
}

static int known_bad(clnet__skips *s, int root)
{
    pthread_mutex_lock(&s->lock);
    const int bad = s->bad[root];
    pthread_mutex_unlock(&s->lock);
    return bad;
}

void clnet__skips_mark(clnet__skips *s, int root, const char *why)
{
    pthread_mutex_lock(&s->lock);
    if (!s->bad[root]) {
        s->bad[root] = 1;
        ++s->count;
        if (s->log) /* under the lock: one line at a time, whatever thread finds it */
            s->log(s->log_user, 1, why);
    }
    pthread_mutex_unlock(&s->lock);
}

/* px, an image at the target size, as it is, or pick's region of it resized back to the
 * target size into scratch. */
static const uint8_t *crop_of(const clnet_dataset *d, const uint8_t *px, clnet__pick_fn pick,
                              void *user, uint8_t *scratch)
{
    if (!pick)
        return px;
    clnet__region r;
    int out_h = 0, out_w = 0;
    pick(user, d->h, d->w, &r, &out_h, &out_w);
    return clnet__image_convert_region(px, d->h, d->w, d->c, r.x, r.y, r.w, r.h, scratch, d->h,
                                       d->w, d->c) == CLNET_OK
               ? scratch
               : NULL;
}

clnet__region clnet__center_region(int sh, int sw, int th, int tw, float f)
{
    /* The largest region of the target's aspect spans the whole width or the whole height. */
    double rw = sw, rh = (double)sw * th / tw;
    if (rh > sh) {
        rh = sh;
        rw = (double)sh * tw / th;
    }
    int w = (int)lround(rw * f), h = (int)lround(rh * f);
    w = w < 1 ? 1 : w > sw ? sw : w;
    h = h < 1 ? 1 : h > sh ? sh : h;
    return (clnet__region){(sw - w) / 2, (sh - h) / 2, w, h};
}

typedef struct center {
    int th, tw;
    float f;
} center;

static void pick_center(void *user, int h, int w, clnet__region *r, int *out_h, int *out_w)
{
    const center *c = user;
    *r = clnet__center_region(h, w, c->th, c->tw, c->f);
    *out_h = c->th;
    *out_w = c->tw;
}

clnet_status clnet__image_load_target(const char *path, uint64_t max_pixels, float center_crop,
                                      clnet__pick_fn pick, void *user, uint8_t *dst, int th, int tw,
                                      int tc, char *why, size_t why_len)
{
    center c = {th, tw, center_crop};
    if (!pick && center_crop > 0.0f) {
        pick = pick_center;
        user = &c;
    }
    clnet__shrink shrink = {th, tw, pick, user, {0, 0, 0, 0}};
    clnet__image im;
    clnet_status st = clnet__image_decode_file_scaled(path, max_pixels, &shrink, &im, why, why_len);
    if (st != CLNET_OK)
        return st;
    const clnet__region r = pick ? shrink.region : (clnet__region){0, 0, im.w, im.h};
    st = clnet__image_convert_region(im.pixels, im.h, im.w, im.c, r.x, r.y, r.w, r.h, dst, th, tw,
                                     tc);
    if (st != CLNET_OK)
        clnet__data_fail(why, why_len, st, "%s: cannot convert %dx%dx%d to %dx%dx%d", path, im.h,
                         im.w, im.c, th, tw, tc);
    clnet__image_free(&im);
    return st;
}

/* The file at path decoded into dst at d's target size. why (after "skipped ") says
 * what failed. */
static clnet_status decode_into(const clnet_dataset *d, const char *path, clnet__pick_fn pick,
                                void *user, uint8_t *dst, char *why, size_t why_len)
{
    return clnet__image_load_target(path, d->max_pixels, d->center_crop, pick, user, dst, d->h,
                                    d->w, d->c, why, why_len);
}

/* A file that failed: recorded once as unreadable, or, out of memory, logged this time
 * only (not the file's fault). */
static void failed(const clnet_dataset *d, int root, clnet_status st, const char *why)
{
    if (st != CLNET_ERR_OUT_OF_MEMORY)
        clnet__skips_mark(d->skips, root, why);
    else if (d->skips->log)
        d->skips->log(d->skips->log_user, 1, why);
}

const uint8_t *clnet__dataset_load_crop(const clnet_dataset *d, int i, clnet__pick_fn pick,
                                        void *user, uint8_t *scratch)
{
    if (d->pixels)
        return crop_of(d, clnet__dataset_image(d, i), pick, user, scratch);
    const int root = clnet__dataset_root_index(d, i);
    if (known_bad(d->skips, root))
        return NULL;
    const char *path = d->paths[root];
    char why[1024] = "skipped ";
    const size_t at = strlen(why);
    if (d->cache) {
        const uint8_t *slot = NULL;
        int64_t stamp[2];
        const int got = clnet__cache_claim(d->cache, root, path, &slot, stamp);
        if (got == CLNET__CACHE_HIT)
            return crop_of(d, slot, pick, user, scratch);
        if (got == CLNET__CACHE_UNREADABLE) {
            snprintf(why + at, sizeof why - at, "%s: it did not decode when it was cached", path);
            failed(d, root, CLNET_ERR_PARSE, why);
            return NULL;
        }
        if (got == CLNET__CACHE_MAKE) {
            /* The whole image at the target size; a crop is then taken from that. */
            const clnet_status st =
                decode_into(d, path, NULL, NULL, (uint8_t *)slot, why + at, sizeof why - at);
            clnet__cache_publish(d->cache, root, stamp,
                                 st == CLNET_OK                  ? 1
                                 : st == CLNET_ERR_OUT_OF_MEMORY ? -1
                                                                 : 0);
            if (st == CLNET_OK)
                return crop_of(d, slot, pick, user, scratch);
            failed(d, root, st, why);
            return NULL;
        }
        /* Another thread makes it now: decode it here without the cache. */
    }
    const clnet_status st = decode_into(d, path, pick, user, scratch, why + at, sizeof why - at);
    if (st == CLNET_OK)
        return scratch;
    failed(d, root, st, why);
    return NULL;
}

const uint8_t *clnet__dataset_load(const clnet_dataset *d, int i, uint8_t *scratch)
{
    return clnet__dataset_load_crop(d, i, NULL, NULL, scratch);
}
