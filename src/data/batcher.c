/* batcher.c - NHWC float batches of a dataset, filled by one background thread one
 * batch ahead of the caller. Tests: tests/unit/test_dataset.c.
 *
 * Two slots: while the caller reads batch k from slot k % 2, the worker fills batch
 * k + 1 into the other; batch k + 2 waits until next() hands out k + 1 (which frees
 * slot k % 2). Determinism: the order of epoch e is a shuffle seeded by (seed, e) and
 * each image's augmentation draws come from a generator seeded by (seed, e, position
 * in the epoch), so no result depends on thread timing, and a parallel worker could
 * fill images in any order and give the same batches. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/data.h"

struct clnet_batcher {
    const clnet_dataset *d;
    int batch, batches, shuffle, augment;
    int pad; /* zero padding of the random crop, in pixels */
    uint64_t seed;
    float lut[3][256]; /* per channel: byte -> (byte / 255 - mean) / std */
    int *order;        /* the epoch's images, d->size indices */
    float *images[2];  /* the slots: batch * h * w * c floats each */
    int *labels[2];
    int count[2]; /* images in the slot's batch */

    pthread_t thread;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t work;  /* the worker waits here for a free slot, a new epoch or quit */
    pthread_cond_t done;  /* callers wait here for a filled slot or an idle worker */
    int epoch;            /* -1 until the first start (or next) */
    int ready;            /* batches of the epoch filled; never more than taken + 1 */
    int taken;            /* batches of the epoch handed out by next() */
    int busy;             /* the worker is filling slot ready % 2 without the lock */
    int pausing;          /* start() waits for the worker to go idle */
    int quit;
};

/* splitmix64's finalizer: spreads a counter into an unrelated seed. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The generator of one stream of an epoch: stream 0 shuffles, stream 1 + p augments
 * the image at position p. */
static void seed_stream(clnet__rng *r, uint64_t seed, int epoch, uint64_t stream)
{
    clnet__rng_seed(r, mix(mix(mix(seed) + (uint64_t)epoch) + stream));
}

/* Pad with zero bytes (black, before normalization, as torchvision's RandomCrop
 * with padding does), crop back at a random offset, then flip with p = 0.5. */
static void augment(const clnet_batcher *b, const uint8_t *px, float *out, int position)
{
    const int h = b->d->h, w = b->d->w, c = b->d->c, span = 2 * b->pad + 1;
    clnet__rng r;
    seed_stream(&r, b->seed, b->epoch, 1 + (uint64_t)position);
    const int oy = (int)(clnet__rng_uniform(&r) * span) - b->pad;
    const int ox = (int)(clnet__rng_uniform(&r) * span) - b->pad;
    const int flip = clnet__rng_uniform(&r) < 0.5;
    for (int y = 0; y < h; ++y) {
        const int sy = y + oy;
        for (int x = 0; x < w; ++x, out += c) {
            const int sx = (flip ? w - 1 - x : x) + ox;
            /* An index, never a pointer, outside the image: forming px + a negative
             * offset is undefined even when nothing is read through it. */
            if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
                for (int ch = 0; ch < c; ++ch)
                    out[ch] = b->lut[ch][0];
                continue;
            }
            const size_t at = ((size_t)sy * (size_t)w + (size_t)sx) * (size_t)c;
            for (int ch = 0; ch < c; ++ch)
                out[ch] = b->lut[ch][px[at + (size_t)ch]];
        }
    }
}

/* Fills batch k of the current epoch into slot k % 2. Runs without the lock: start()
 * does not touch epoch or order while busy is set. */
static void fill(clnet_batcher *b, int k)
{
    const clnet_dataset *d = b->d;
    const int first = k * b->batch, rest = d->size - first;
    const int n = rest < b->batch ? rest : b->batch, c = d->c;
    const size_t floats = (size_t)d->h * d->w * c;
    float *out = b->images[k % 2];
    for (int i = 0; i < n; ++i, out += floats) {
        const int at = b->order[first + i];
        const uint8_t *px = clnet__dataset_image(d, at);
        b->labels[k % 2][i] = clnet__dataset_label_at(d, at);
        if (b->augment)
            augment(b, px, out, first + i);
        else
            for (size_t j = 0; j < floats; ++j)
                out[j] = b->lut[j % (size_t)c][px[j]];
    }
    b->count[k % 2] = n;
}

static void *worker(void *arg)
{
    clnet_batcher *b = arg;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->quit &&
               (b->pausing || b->epoch < 0 || b->ready == b->batches || b->ready > b->taken))
            pthread_cond_wait(&b->work, &b->lock);
        if (b->quit)
            break;
        const int k = b->ready;
        b->busy = 1;
        pthread_mutex_unlock(&b->lock);
        fill(b, k);
        pthread_mutex_lock(&b->lock);
        b->busy = 0;
        b->ready = k + 1;
        pthread_cond_broadcast(&b->done);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static void release(clnet_batcher *b)
{
    for (int s = 0; s < 2; ++s) {
        free(b->images[s]);
        free(b->labels[s]);
    }
    free(b->order);
    free(b);
}

clnet_status clnet_batcher_create(const clnet_dataset *d, const clnet_batch_options *o,
                                  clnet_batcher **out)
{
    if (out)
        *out = NULL;
    if (!d || !o || !out || o->batch < 1 || d->size < 1)
        return CLNET_ERR_INVALID_ARG;
    for (int ch = 0; ch < d->c; ++ch)
        if (o->std && !(o->std[ch] > 0.0f))
            return CLNET_ERR_INVALID_ARG;
    clnet_batcher *b = calloc(1, sizeof *b);
    if (!b)
        return CLNET_ERR_OUT_OF_MEMORY;
    b->d = d;
    b->batch = o->batch < d->size ? o->batch : d->size;
    b->batches = (d->size + o->batch - 1) / o->batch;
    b->shuffle = o->shuffle;
    b->augment = o->augment;
    b->pad = d->h < 32 || d->w < 32 ? 2 : 4;
    b->seed = o->seed;
    b->epoch = -1;
    for (int ch = 0; ch < d->c; ++ch) {
        const float mean = o->mean ? o->mean[ch] : 0.0f, std = o->std ? o->std[ch] : 1.0f;
        for (int v = 0; v < 256; ++v)
            b->lut[ch][v] = ((float)v / 255.0f - mean) / std;
    }
    const size_t floats = (size_t)b->batch * d->h * d->w * d->c;
    b->order = malloc((size_t)d->size * sizeof *b->order);
    for (int s = 0; s < 2; ++s) {
        b->images[s] = malloc(floats * sizeof *b->images[s]);
        b->labels[s] = malloc((size_t)b->batch * sizeof *b->labels[s]);
    }
    if (!b->order || !b->images[0] || !b->images[1] || !b->labels[0] || !b->labels[1]) {
        release(b);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    int made = 0; /* how many of lock, work, done and the thread exist */
    if (pthread_mutex_init(&b->lock, NULL) == 0 && ++made &&
        pthread_cond_init(&b->work, NULL) == 0 && ++made &&
        pthread_cond_init(&b->done, NULL) == 0 && ++made &&
        pthread_create(&b->thread, NULL, worker, b) == 0) {
        *out = b;
        return CLNET_OK;
    }
    if (made > 2)
        pthread_cond_destroy(&b->done);
    if (made > 1)
        pthread_cond_destroy(&b->work);
    if (made > 0)
        pthread_mutex_destroy(&b->lock);
    release(b);
    return CLNET_ERR_OUT_OF_MEMORY; /* threads and their locks are resources too */
}

void clnet_batcher_destroy(clnet_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->quit = 1; /* the worker finishes at most the batch it is filling */
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->done);
    pthread_cond_destroy(&b->work);
    pthread_mutex_destroy(&b->lock);
    release(b);
}

/* With the lock held: waits for the worker to go idle, then begins epoch from its
 * first batch. */
static void restart(clnet_batcher *b, int epoch)
{
    b->pausing = 1;
    while (b->busy)
        pthread_cond_wait(&b->done, &b->lock);
    const int n = b->d->size;
    for (int i = 0; i < n; ++i)
        b->order[i] = i;
    if (b->shuffle) {
        clnet__rng r;
        seed_stream(&r, b->seed, epoch, 0);
        clnet__shuffle(b->order, n, &r);
    }
    b->epoch = epoch;
    b->ready = b->taken = 0;
    b->pausing = 0;
    pthread_cond_broadcast(&b->work);
}

clnet_status clnet_batcher_start(clnet_batcher *b, int epoch)
{
    if (!b || epoch < 0)
        return CLNET_ERR_INVALID_ARG;
    pthread_mutex_lock(&b->lock);
    restart(b, epoch);
    pthread_mutex_unlock(&b->lock);
    return CLNET_OK;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

clnet_status clnet_batcher_next(clnet_batcher *b, const float **images, const int **labels, int *n,
                                double *waited_ms)
{
    if (images)
        *images = NULL;
    if (labels)
        *labels = NULL;
    if (n)
        *n = 0;
    if (waited_ms)
        *waited_ms = 0.0;
    if (!b || !images || !labels || !n)
        return CLNET_ERR_INVALID_ARG;
    pthread_mutex_lock(&b->lock);
    if (b->epoch < 0) /* next() before any start() runs epoch 0 */
        restart(b, 0);
    if (b->taken == b->batches) {
        pthread_mutex_unlock(&b->lock);
        return CLNET_OK; /* the end of the epoch, until the next start() */
    }
    const double t0 = now_ms();
    while (b->ready <= b->taken)
        pthread_cond_wait(&b->done, &b->lock);
    if (waited_ms)
        *waited_ms = now_ms() - t0;
    const int slot = b->taken++ % 2;
    pthread_cond_signal(&b->work); /* the slot of the previous batch is free */
    *images = b->images[slot];
    *labels = b->labels[slot];
    *n = b->count[slot];
    pthread_mutex_unlock(&b->lock);
    return CLNET_OK;
}

int clnet_batcher_batches(const clnet_batcher *b)
{
    return b ? b->batches : 0;
}
