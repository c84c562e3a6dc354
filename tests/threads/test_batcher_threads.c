/* test_batcher_threads.c - the batcher's worker pool (src/data/batcher.c) with the
 * threads racing each other: a lazy image folder with unreadable files, batches made by
 * 1, 2, 4 and 8 workers compared byte for byte, restarts and destruction mid-epoch, and
 * the skips record read and written from the caller's thread (statistics, counts) while
 * workers decode. A plain program, not a Criterion test, because it is what
 * `./test.sh --tsan` runs under ThreadSanitizer, which Criterion cannot start under
 * (Snaipe/Criterion#274); the normal suite runs it too. Exit status 0 when every check
 * holds; each failure is printed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "clnet.h"
#include "data/data.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)

enum { FILES = 96, BAD_EVERY = 3, H = 24, W = 32 };

static char dir[64];

static void rm_tree(const char *path)
{
    DIR *dp = opendir(path);
    if (!dp) {
        unlink(path);
        return;
    }
    for (struct dirent *e; (e = readdir(dp));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rm_tree(sub);
    }
    closedir(dp);
    rmdir(path);
}

/* FILES images in three classes, JPEG and PNG by turns at varying sizes; every
 * BAD_EVERY-th is cut to 40 bytes. Returns how many are cut. */
static int write_folder(void)
{
    int cut = 0;
    for (int k = 0; k < 3; ++k) {
        char sub[128];
        snprintf(sub, sizeof sub, "%s/class%d", dir, k);
        mkdir(sub, 0700);
    }
    for (int i = 0; i < FILES; ++i) {
        const int w = 40 + 9 * (i % 4), h = 30 + 11 * (i % 3);
        unsigned char *px = malloc((size_t)w * h * 3);
        uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        for (int p = 0; p < w * h * 3; ++p) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            px[p] = (unsigned char)(((p / 3) % w * 5 + (p / 3) / w * 3 + (int)(x & 31)) & 255);
        }
        char path[256];
        snprintf(path, sizeof path, "%s/class%d/%02d.%s", dir, i % 3, i, i % 2 ? "jpg" : "png");
        const int ok = i % 2 ? stbi_write_jpg(path, w, h, 3, px, 90)
                             : stbi_write_png(path, w, h, 3, px, w * 3);
        free(px);
        CHECK(ok, "cannot write %s", path);
        if (i % BAD_EVERY == BAD_EVERY - 1) {
            CHECK(truncate(path, 40) == 0, "cannot cut %s", path);
            ++cut;
        }
    }
    return cut;
}

static void count_line(void *user, int level, const char *msg)
{
    (void)msg;
    if (level == 1)
        ++*(int *)user; /* the skips record calls it under its lock */
}

/* Every batch of epochs [first, first + epochs) as sizes, labels and floats one after
 * the other (malloc'd, *len bytes). */
static unsigned char *batches(const clnet_dataset *d, int workers, int first, int epochs,
                              size_t *len)
{
    const float mean[3] = {0.4f, 0.5f, 0.6f}, std[3] = {0.25f, 0.2f, 0.3f};
    /* The padded crop, then torchvision's: a RandomResizedCrop from each file's full size. */
    const clnet_augment aug = {
        .scale_min = 0.3f, .horizontal_flip = 1, .brightness = 0.2f, .rotation = 5.0f};
    const clnet_batch_options o = {.batch = 5,
                                   .shuffle = 1,
                                   .seed = 77,
                                   .augment = 1,
                                   .mean = mean,
                                   .std = std,
                                   .workers = workers,
                                   .aug = &aug};
    clnet_batcher *b = NULL;
    *len = 0;
    if (clnet_batcher_create(d, &o, &b) != CLNET_OK) {
        CHECK(0, "%d workers: no batcher", workers);
        return NULL;
    }
    size_t cap = 1 << 20;
    unsigned char *out = malloc(cap);
    const size_t floats = (size_t)H * W * 3;
    for (int e = first; e < first + epochs; ++e) {
        clnet_batcher_start(b, e);
        for (;;) {
            const float *x;
            const int *labels;
            int n = 0;
            CHECK(clnet_batcher_next(b, &x, &labels, &n, NULL) == CLNET_OK, "next");
            /* Read while the workers fill the next batches. */
            const clnet_batcher_stats st = clnet_batcher_epoch_stats(b);
            CHECK(st.workers == workers, "%d workers reported for %d", st.workers, workers);
            CHECK(clnet_dataset_skipped(d) <= FILES, "skipped");
            if (n == 0)
                break;
            const size_t need = sizeof n + (size_t)n * (sizeof *labels + floats * sizeof *x);
            while (*len + need > cap)
                out = realloc(out, cap *= 2);
            memcpy(out + *len, &n, sizeof n);
            memcpy(out + *len + sizeof n, labels, (size_t)n * sizeof *labels);
            memcpy(out + *len + sizeof n + (size_t)n * sizeof *labels, x,
                   (size_t)n * floats * sizeof *x);
            *len += need;
        }
    }
    clnet_batcher_destroy(b);
    return out;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/clnet-threads-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const int cut = write_folder();
    int lines = 0;
    const clnet_dataset_options opt = {
        .h = H, .w = W, .c = 3, .log = count_line, .log_user = &lines};
    clnet_dataset *d = NULL;
    char err[512] = "";
    CHECK(clnet_dataset_open(dir, NULL, &opt, &d, err, sizeof err) == CLNET_OK, "%s", err);
    if (!d) {
        rm_tree(dir);
        return 1;
    }
    CHECK(clnet_dataset_size(d) == FILES, "%d files listed", clnet_dataset_size(d));

    /* Eight workers find the unreadable files first, racing to record them. */
    size_t ref_len = 0, first_len = 0;
    unsigned char *first = batches(d, 8, 0, 2, &first_len);
    CHECK(clnet_dataset_skipped(d) == cut, "%d skipped, %d cut", clnet_dataset_skipped(d), cut);
    unsigned char *ref = batches(d, 1, 0, 2, &ref_len);
    CHECK(first_len == ref_len && first && memcmp(first, ref, ref_len) == 0,
          "8 workers finding the unreadable files: other batches than one worker's");
    free(first);
    for (int workers = 2; workers <= 8; workers *= 2) {
        size_t len = 0;
        unsigned char *got = batches(d, workers, 0, 2, &len);
        CHECK(len == ref_len && got && memcmp(got, ref, len) == 0,
              "%d workers: other batches than one worker's", workers);
        free(got);
    }

    CHECK(lines == cut, "%d skip lines for %d unreadable files", lines, cut);
    clnet_dataset_destroy(d);

    /* Splits share the skips record: the validation part's statistics decode on this
     * thread while a batcher's workers decode the training part, both finding files
     * unreadable for the first time. */
    lines = 0;
    char cache[96];
    snprintf(cache, sizeof cache, "%s-cache", dir); /* the decoded cache, shared too */
    clnet_dataset_options cached = opt;
    cached.cache_dir = cache;
    CHECK(clnet_dataset_open(dir, NULL, &cached, &d, err, sizeof err) == CLNET_OK, "%s", err);
    clnet_dataset *train = NULL, *val = NULL;
    CHECK(clnet_dataset_split(d, 0.25, 5, &train, &val) == CLNET_OK, "split");
    const clnet_batch_options o = {.batch = 4, .shuffle = 1, .seed = 3, .workers = 4};
    clnet_batcher *b = NULL;
    CHECK(clnet_batcher_create(train, &o, &b) == CLNET_OK, "batcher over the split");
    clnet_batcher_start(b, 1);
    float mean[3], std[3];
    CHECK(clnet_dataset_stats(val, mean, std) == CLNET_OK, "statistics");
    /* Restarts with batches in flight, then a whole epoch. */
    for (int again = 0; again < 3; ++again) {
        const float *x;
        const int *labels;
        int n = 0;
        clnet_batcher_next(b, &x, &labels, &n, NULL);
        clnet_batcher_start(b, again);
    }
    int images = 0;
    for (int n = 1; n > 0;) {
        const float *x;
        const int *labels;
        clnet_batcher_next(b, &x, &labels, &n, NULL);
        images += n;
    }
    const clnet_batcher_stats st = clnet_batcher_epoch_stats(b);
    CHECK(images == st.images && st.images + st.skipped == clnet_dataset_size(train),
          "%d images, %d skipped of %d", st.images, st.skipped, clnet_dataset_size(train));
    clnet_batcher_destroy(b);
    /* Destroyed with every worker busy. */
    for (int k = 0; k < 4; ++k) {
        CHECK(clnet_batcher_create(train, &o, &b) == CLNET_OK, "batcher");
        clnet_batcher_start(b, k);
        clnet_batcher_destroy(b);
    }
    clnet_dataset_destroy(train);
    clnet_dataset_destroy(val);
    CHECK(lines == clnet_dataset_skipped(d), "%d skip lines for %d skipped", lines,
          clnet_dataset_skipped(d));
    clnet_dataset_destroy(d);
    free(ref);
    rm_tree(dir);
    rm_tree(cache);
    if (failures)
        fprintf(stderr, "%d checks failed\n", failures);
    else
        printf("test_batcher_threads: every check holds\n");
    return failures ? 1 : 0;
}
