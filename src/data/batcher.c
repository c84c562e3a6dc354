/* batcher.c - NHWC float batches of a dataset, made by a pool of worker threads ahead
 * of the caller. Tests: tests/unit/test_dataset.c, tests/unit/test_stream.c,
 * tests/threads/test_batcher_threads.c (which ./test.sh --tsan runs under
 * ThreadSanitizer).
 *
 * Slots: the caller reads batch k from slot k % depth while the workers fill the batches
 * after it, at most depth - 1 of them (depth 2 with one worker: one batch ahead; 3 with
 * more, so that workers never idle at the end of a batch). Work is handed out image by
 * image in order: a worker claims the next image of the batch being filled, makes it
 * (decodes it for a lazy dataset, augments, normalizes) into its place without the lock,
 * and the worker finishing a batch's last image leaves its unreadable images out
 * (compaction in order) and marks it ready. Determinism: the order of epoch e is a
 * shuffle seeded by (seed, e) and each image's augmentation draws come from a generator
 * seeded by (seed, e, position in the epoch); whether an image is readable depends only
 * on its file; so a batch's bytes never depend on how many workers made it or in which
 * order they finished. With shards, each rank's batcher makes its slice of every global
 * batch from the same order, and returns empty slices too, so ranks stay in step. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/augment.h"
#include "data/data.h"

#define MAX_SLOTS 3

typedef struct slot {
    int batch;     /* the batch it holds or is being filled with; -1: none yet this epoch */
    int n;         /* images planned for it */
    int claimed;   /* images handed to workers */
    int finished;  /* images made or found unreadable */
    int count;     /* once finished: the images it holds (unreadable ones left out) */
    double made_s; /* the workers' time making its images */
    float *images;
    int *labels;
    uint8_t *made; /* per planned image: 0 when unreadable */
} slot;

typedef struct worker_arg {
    clnet_batcher *b;
    int id;
} worker_arg;

struct clnet_batcher {
    const clnet_dataset *d;
    int batch, batches, shuffle, augment;
    int shard, shards; /* data-parallel: this shard of each global batch (shards > 1) */
    int pad;           /* zero padding of the random crop, in pixels */
    uint64_t seed;
    float lut[3][256];  /* per channel: byte -> (byte / 255 - mean) / std */
    float unit[3][256]; /* byte -> byte / 255, for images that augment_pixels changes */
    float mean[3], std[3];
    int has_aug, crops; /* aug holds augmentations; crops: RandomResizedCrop among them */
    uint64_t aug_seed;  /* their own stream, so that they leave the padded crop's draws be */
    clnet_augment aug;
    int *order; /* the epoch's images, d->size indices */
    int depth;  /* slots in use */
    slot slots[MAX_SLOTS];
    int workers;
    uint8_t *scratch; /* per worker, one image made at the target size (lazy or cropped) */
    float *floats;    /* with aug: per worker, two images of floats (the image, scratch) */
    pthread_t threads[CLNET_MAX_WORKERS];
    worker_arg args[CLNET_MAX_WORKERS];

    pthread_mutex_t lock; /* guards everything below, and the slots' counters */
    pthread_cond_t work;  /* workers wait here for an image to claim or quit */
    pthread_cond_t done;  /* callers wait here for a finished batch or idle workers */
    int epoch;            /* -1 until the first start (or next) */
    int filling;          /* the batch whose next image is claimed next */
    int ready;            /* batches finished from the epoch's start */
    int taken;            /* batches handed out (or passed over) by next() */
    int busy;             /* images being made without the lock */
    int images;           /* images in the batches taken this epoch */
    int skipped;          /* images left out of them */
    double made_s;        /* the workers' time making them */
    int pausing;          /* restart() waits for the workers to go idle */
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
static void augment(const clnet_batcher *b, const float (*lut)[256], const uint8_t *px, float *out,
                    int position)
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
                    out[ch] = lut[ch][0];
                continue;
            }
            const size_t at = ((size_t)sy * (size_t)w + (size_t)sx) * (size_t)c;
            for (int ch = 0; ch < c; ++ch)
                out[ch] = lut[ch][px[at + (size_t)ch]];
        }
    }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* The images of global batch k: the epoch's rest for the last one. */
static int global_size(const clnet_batcher *b, int k)
{
    const int rest = b->d->size - k * b->batch;
    return rest < b->batch ? rest : b->batch;
}

/* The epoch position of the first image this batcher makes of batch k: its shard's
 * start. Positions, not shards, seed the augmentation draws, so N shards make what one
 * batcher would. */
static int first(const clnet_batcher *b, int k)
{
    return k * b->batch +
           (b->shards > 1 ? (int)((int64_t)b->shard * global_size(b, k) / b->shards) : 0);
}

/* Images planned for batch k: its shard's. */
static int planned(const clnet_batcher *b, int k)
{
    if (b->shards <= 1)
        return global_size(b, k);
    const int64_t n = global_size(b, k);
    return (int)((b->shard + 1) * n / b->shards - b->shard * n / b->shards);
}

/* Makes image i of batch k into its place in s, or marks it unreadable. Runs without the
 * lock: the epoch and order do not change while busy is set, and no other worker
 * touches image i. */
static void make(clnet_batcher *b, int worker, slot *s, int k, int i)
{
    const clnet_dataset *d = b->d;
    const int position = first(b, k) + i, at = b->order[position], c = d->c;
    const size_t floats = (size_t)d->h * d->w * c;
    uint8_t *scratch = b->scratch ? b->scratch + (size_t)worker * floats : NULL;
    clnet__rng r; /* torchvision's augmentations: drawn only when there are some */
    if (b->has_aug)
        seed_stream(&r, b->aug_seed, b->epoch, 1 + (uint64_t)position);
    clnet__crop_draw draw = {&r, &b->aug, d->h, d->w};
    const uint8_t *px =
        b->crops ? clnet__dataset_load_crop(d, at, clnet__random_resized_crop, &draw, scratch)
                 : clnet__dataset_load(d, at, scratch);
    s->labels[i] = clnet__dataset_label_at(d, at);
    s->made[i] = px != NULL;
    if (!px)
        return;
    /* Bytes to floats, through the padded crop or not: normalized at once, or in [0, 1]
     * for the augmentations and normalized after them. */
    float *out = s->images + (size_t)i * floats;
    float *dst = b->has_aug ? b->floats + (size_t)worker * 2 * floats : out;
    const float(*lut)[256] = (const float(*)[256])(b->has_aug ? b->unit : b->lut);
    if (b->augment)
        augment(b, lut, px, dst, position);
    else
        for (size_t j = 0; j < floats; ++j)
            dst[j] = lut[j % (size_t)c][px[j]];
    if (!b->has_aug)
        return;
    clnet__augment_pixels(&b->aug, &r, dst, dst + floats, d->h, d->w, c);
    for (size_t j = 0; j < floats; ++j)
        out[j] = (dst[j] - b->mean[j % (size_t)c]) / b->std[j % (size_t)c];
}

/* With the lock held, once every image of s is made: closes the gaps of unreadable
 * images in order, then advances ready over the finished batches. */
static void finish(clnet_batcher *b, slot *s)
{
    const size_t floats = (size_t)b->d->h * b->d->w * b->d->c;
    int kept = 0;
    for (int i = 0; i < s->n; ++i) {
        if (!s->made[i])
            continue;
        if (i != kept) {
            memmove(s->images + (size_t)kept * floats, s->images + (size_t)i * floats,
                    floats * sizeof *s->images);
            s->labels[kept] = s->labels[i];
        }
        ++kept;
    }
    s->count = kept;
    for (;;) {
        const slot *r = &b->slots[b->ready % b->depth];
        if (b->ready == b->batches || r->batch != b->ready || r->finished < r->n)
            break;
        ++b->ready;
    }
    pthread_cond_broadcast(&b->done);
}

/* With the lock held: an image can be claimed (its batch's slot is not the caller's). */
static int claimable(const clnet_batcher *b)
{
    return !b->pausing && b->epoch >= 0 && b->filling < b->batches &&
           b->filling < b->taken + b->depth - 1;
}

static void *worker(void *arg)
{
    clnet_batcher *b = ((worker_arg *)arg)->b;
    const int id = ((worker_arg *)arg)->id;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->quit && !claimable(b))
            pthread_cond_wait(&b->work, &b->lock);
        if (b->quit)
            break;
        const int k = b->filling;
        slot *s = &b->slots[k % b->depth];
        if (s->batch != k) {
            s->batch = k;
            s->n = planned(b, k);
            s->claimed = s->finished = s->count = 0;
            s->made_s = 0.0;
            if (s->n == 0) { /* a shard with no image of this batch: ready at once */
                ++b->filling;
                finish(b, s);
                continue;
            }
        }
        const int i = s->claimed++;
        if (s->claimed == s->n)
            ++b->filling;
        ++b->busy;
        pthread_mutex_unlock(&b->lock);
        const double t0 = now_ms();
        make(b, id, s, k, i);
        const double ms = now_ms() - t0;
        pthread_mutex_lock(&b->lock);
        s->made_s += ms * 1e-3;
        --b->busy;
        if (++s->finished == s->n)
            finish(b, s);
        else if (b->pausing && b->busy == 0)
            pthread_cond_broadcast(&b->done);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static void release(clnet_batcher *b)
{
    for (int s = 0; s < MAX_SLOTS; ++s) {
        free(b->slots[s].images);
        free(b->slots[s].labels);
        free(b->slots[s].made);
    }
    free(b->scratch);
    free(b->floats);
    free(b->order);
    free(b);
}

/* Stops and joins the first started workers, destroys the lock and conditions. */
static void stop_workers(clnet_batcher *b, int started)
{
    pthread_mutex_lock(&b->lock);
    b->quit = 1; /* each worker finishes at most the image it is making */
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->lock);
    for (int t = 0; t < started; ++t)
        pthread_join(b->threads[t], NULL);
    pthread_cond_destroy(&b->done);
    pthread_cond_destroy(&b->work);
    pthread_mutex_destroy(&b->lock);
}

clnet_status clnet_batcher_create(const clnet_dataset *d, const clnet_batch_options *o,
                                  clnet_batcher **out)
{
    if (out)
        *out = NULL;
    if (!d || !o || !out || o->batch < 1 || d->size < 1 || o->workers < 0 ||
        o->workers > CLNET_MAX_WORKERS || (o->aug && !clnet__augment_valid(o->aug)) ||
        o->shards < 0 || (o->shards > 1 && (o->shard < 0 || o->shard >= o->shards)))
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
    b->shard = o->shards > 1 ? o->shard : 0;
    b->shards = o->shards > 1 ? o->shards : 1;
    b->pad = d->h < 32 || d->w < 32 ? 2 : 4;
    b->seed = o->seed;
    b->epoch = -1;
    b->workers = o->workers ? o->workers : 1;
    b->depth = b->workers > 1 ? 3 : 2;
    for (int ch = 0; ch < d->c; ++ch) {
        const float mean = o->mean ? o->mean[ch] : 0.0f, std = o->std ? o->std[ch] : 1.0f;
        b->mean[ch] = mean;
        b->std[ch] = std;
        for (int v = 0; v < 256; ++v) {
            b->lut[ch][v] = ((float)v / 255.0f - mean) / std;
            b->unit[ch][v] = (float)v / 255.0f;
        }
    }
    if (o->aug) {
        const clnet_augment *a = o->aug;
        b->aug = *a;
        b->aug_seed = mix(b->seed ^ 0xa0761d6478bd642full);
        b->crops = a->scale_min > 0.0f;
        b->has_aug = b->crops || a->horizontal_flip || a->brightness > 0.0f || a->contrast > 0.0f ||
                     a->saturation > 0.0f || a->rotation > 0.0f || a->translate > 0.0f;
    }
    const size_t bytes = (size_t)d->h * d->w * d->c;
    int ok = (b->order = malloc((size_t)d->size * sizeof *b->order)) != NULL;
    if (ok && (!d->pixels || b->crops))
        ok = (b->scratch = malloc((size_t)b->workers * bytes)) != NULL;
    if (ok && b->has_aug)
        ok = (b->floats = malloc((size_t)b->workers * 2 * bytes * sizeof *b->floats)) != NULL;
    for (int s = 0; ok && s < b->depth; ++s) {
        slot *sl = &b->slots[s];
        sl->batch = -1;
        ok = (sl->images = malloc((size_t)b->batch * bytes * sizeof *sl->images)) &&
             (sl->labels = malloc((size_t)b->batch * sizeof *sl->labels)) &&
             (sl->made = malloc((size_t)b->batch));
    }
    if (!ok) {
        release(b);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    int made = 0; /* how many of lock, work and done exist */
    if (pthread_mutex_init(&b->lock, NULL) == 0 && ++made &&
        pthread_cond_init(&b->work, NULL) == 0 && ++made &&
        pthread_cond_init(&b->done, NULL) == 0 && ++made) {
        int started = 0;
        for (; started < b->workers; ++started) {
            b->args[started] = (worker_arg){b, started};
            if (pthread_create(&b->threads[started], NULL, worker, &b->args[started]) != 0)
                break;
        }
        if (started == b->workers) {
            *out = b;
            return CLNET_OK;
        }
        stop_workers(b, started);
        release(b);
        return CLNET_ERR_OUT_OF_MEMORY; /* threads are resources too */
    }
    if (made > 2)
        pthread_cond_destroy(&b->done);
    if (made > 1)
        pthread_cond_destroy(&b->work);
    if (made > 0)
        pthread_mutex_destroy(&b->lock);
    release(b);
    return CLNET_ERR_OUT_OF_MEMORY;
}

void clnet_batcher_destroy(clnet_batcher *b)
{
    if (!b)
        return;
    stop_workers(b, b->workers);
    release(b);
}

/* With the lock held: waits for the workers to go idle, then begins epoch from its
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
    for (int s = 0; s < b->depth; ++s)
        b->slots[s].batch = -1;
    b->epoch = epoch;
    b->filling = b->ready = b->taken = b->images = b->skipped = 0;
    b->made_s = 0.0;
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
    const double t0 = now_ms();
    const slot *s = NULL;
    while (b->taken < b->batches) { /* passes over batches left empty */
        while (b->ready <= b->taken)
            pthread_cond_wait(&b->done, &b->lock);
        s = &b->slots[b->taken++ % b->depth];
        b->images += s->count;
        b->skipped += s->n - s->count;
        b->made_s += s->made_s;
        pthread_cond_broadcast(&b->work);  /* the slot of the previous batch is free */
        if (s->count > 0 || b->shards > 1) /* shards keep every batch, in step */
            break;
        s = NULL;
    }
    if (waited_ms)
        *waited_ms = now_ms() - t0;
    if (s) { /* else the end of the epoch, until the next start() */
        *images = s->images;
        *labels = s->labels;
        *n = s->count;
    }
    pthread_mutex_unlock(&b->lock);
    return CLNET_OK;
}

int clnet_batcher_batches(const clnet_batcher *b)
{
    return b ? b->batches : 0;
}

clnet_batcher_stats clnet_batcher_epoch_stats(const clnet_batcher *b)
{
    clnet_batcher_stats st = {0, 0, 0.0, 0};
    if (!b)
        return st;
    clnet_batcher *m = (clnet_batcher *)b; /* the lock is not part of its value */
    pthread_mutex_lock(&m->lock);
    st = (clnet_batcher_stats){m->images, m->skipped, m->made_s, m->workers};
    pthread_mutex_unlock(&m->lock);
    return st;
}
