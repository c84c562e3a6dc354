/* load.c - one image of a dataset at the target size: a pointer into an in-memory one,
 * or its file decoded for a lazy image folder; the record of the files found unreadable,
 * shared by a root and its splits and written by the batchers' workers at once.
 * Tests: tests/unit/test_folder.c, tests/unit/test_dataset.c. */
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

const uint8_t *clnet__dataset_load_crop(const clnet_dataset *d, int i, clnet__pick_fn pick,
                                        void *user, uint8_t *scratch)
{
    if (d->pixels) {
        const uint8_t *px = clnet__dataset_image(d, i);
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
    const int root = clnet__dataset_root_index(d, i);
    if (known_bad(d->skips, root))
        return NULL;
    const char *path = d->paths[root];
    char why[1024] = "skipped ";
    const size_t at = strlen(why);
    clnet__shrink shrink = {d->h, d->w, pick, user, {0, 0, 0, 0}};
    clnet__image im;
    clnet_status st = clnet__image_decode_file_scaled(path, d->max_pixels, &shrink, &im, why + at,
                                                      sizeof why - at);
    if (st == CLNET_OK) {
        const clnet__region r = pick ? shrink.region : (clnet__region){0, 0, im.w, im.h};
        st = clnet__image_convert_region(im.pixels, im.h, im.w, im.c, r.x, r.y, r.w, r.h, scratch,
                                         d->h, d->w, d->c);
        if (st != CLNET_OK)
            clnet__data_fail(why + at, sizeof why - at, st,
                             "%s: cannot convert %dx%dx%d to %dx%dx%d", path, im.h, im.w, im.c,
                             d->h, d->w, d->c);
        clnet__image_free(&im);
    }
    if (st == CLNET_OK)
        return scratch;
    if (st == CLNET_ERR_OUT_OF_MEMORY && d->skips->log) /* this time only: not the file's fault */
        d->skips->log(d->skips->log_user, 1, why);
    else if (st != CLNET_ERR_OUT_OF_MEMORY)
        clnet__skips_mark(d->skips, root, why);
    return NULL;
}

const uint8_t *clnet__dataset_load(const clnet_dataset *d, int i, uint8_t *scratch)
{
    return clnet__dataset_load_crop(d, i, NULL, NULL, scratch);
}
