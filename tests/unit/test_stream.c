/* test_stream.c - image folders read lazily (src/data/load.c, folder.c) through the
 * batcher's worker pool (batcher.c): the same seed gives the same batch bytes with 1, 2
 * or 4 workers, unreadable files are left out of their batches the same way whatever
 * the thread timing and reported once, JPEGs are decoded at the DCT scale that still
 * covers the target, and statistics sample a large folder. Images are written here by
 * the formats' own encoders (tests/support/images.h). No device needed; also run under
 * ThreadSanitizer (./test.sh --tsan). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <utime.h>

#include "clnet.h"
#include "data/data.h"
#include "data/decode.h"
#include "support/datasets.h"
#include "support/images.h"
#include "support/tempdir.h"

TestSuite(stream, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

static const char *at(const char *rel)
{
    return clnet_test_path(rel);
}

static void make_sub(const char *rel)
{
    cr_assert_eq(mkdir(at(rel), 0700), 0, "mkdir %s", at(rel));
}

/* Image i of a folder of n: JPEG or PNG by turns, sides varying, in class i % 3; every
 * bad-th file (0: none) is cut short or noise. Returns how many are bad. */
static int write_folder(const char *dir, int n, int bad)
{
    make_sub(dir);
    const char *classes[3] = {"a", "b", "c"};
    char rel[256];
    for (int k = 0; k < 3; ++k) {
        snprintf(rel, sizeof rel, "%s/%s", dir, classes[k]);
        make_sub(rel);
    }
    int broken = 0;
    for (int i = 0; i < n; ++i) {
        const int w = 20 + 7 * (i % 5), h = 14 + 5 * (i % 4), jpeg = i % 2;
        uint8_t *px = clnet_test_bytes((size_t)w * h * 3, 1000 + (uint64_t)i);
        size_t len = 0;
        uint8_t *bytes = jpeg ? clnet_test_jpeg(px, w, h, 3, NULL, &len)
                              : clnet_test_png(px, w, h, 3, 8, 0, NULL, 0, &len);
        if (bad && i % bad == bad - 1) {
            len = i % 2 ? len / 2 : len; /* a JPEG cut in half */
            if (!(i % 2))
                memset(bytes + 8, 0x5a, len - 8); /* a PNG signature over noise */
            ++broken;
        }
        snprintf(rel, sizeof rel, "%s/%s/img%03d.%s", dir, classes[i % 3], i, jpeg ? "jpg" : "png");
        clnet_test_write_file(at(rel), bytes, len);
        free(bytes);
        free(px);
    }
    return broken;
}

/* Every batch of epochs 0..epochs-1: the floats, labels and sizes one after the other
 * into a malloc'd buffer (*bytes long). */
static uint8_t *all_batches(const clnet_dataset *d, const clnet_batch_options *o, int epochs,
                            size_t *bytes, int *images)
{
    clnet_batcher *b = NULL;
    cr_assert_eq(clnet_batcher_create(d, o, &b), CLNET_OK);
    const clnet_shape s = clnet_dataset_image_shape(d);
    const size_t floats = (size_t)s.h * s.w * s.c;
    size_t cap = 1 << 16, len = 0;
    uint8_t *out = malloc(cap);
    *images = 0;
    for (int e = 0; e < epochs; ++e) {
        cr_assert_eq(clnet_batcher_start(b, e), CLNET_OK);
        for (;;) {
            const float *x = NULL;
            const int *labels = NULL;
            int n = 0;
            cr_assert_eq(clnet_batcher_next(b, &x, &labels, &n, NULL), CLNET_OK);
            if (n == 0)
                break;
            const size_t need = sizeof n + (size_t)n * (sizeof *labels + floats * sizeof *x);
            while (len + need > cap)
                out = realloc(out, cap *= 2);
            memcpy(out + len, &n, sizeof n);
            memcpy(out + len + sizeof n, labels, (size_t)n * sizeof *labels);
            memcpy(out + len + sizeof n + (size_t)n * sizeof *labels, x,
                   (size_t)n * floats * sizeof *x);
            len += need;
            *images += n;
        }
        const clnet_batcher_stats st = clnet_batcher_epoch_stats(b);
        cr_assert_eq(st.images + st.skipped, clnet_dataset_size(d), "epoch %d", e);
        cr_assert_eq(st.workers, o->workers ? o->workers : 1);
    }
    clnet_batcher_destroy(b);
    *bytes = len;
    return out;
}

Test(stream, workers_make_the_same_bytes_and_skip_the_same_files)
{
    const int n = 61, broken = write_folder("f", n, 9);
    clnet_test_log log = {0, 0, ""};
    const clnet_dataset_options opt = {
        .h = 12, .w = 16, .c = 3, .log = clnet_test_log_line, .log_user = &log};
    clnet_dataset *d = clnet_test_open(at("f"), NULL, &opt);
    cr_assert_eq(clnet_dataset_size(d), n, "every file that may be an image is listed");
    cr_assert_eq(clnet_dataset_skipped(d), 0, "nothing is decoded when the size is given");
    const float mean[3] = {0.5f, 0.4f, 0.3f}, std[3] = {0.2f, 0.25f, 0.3f};
    clnet_batch_options o = {
        .batch = 7, .shuffle = 1, .seed = 9, .augment = 1, .mean = mean, .std = std};
    size_t len1 = 0, len = 0;
    int images1 = 0, images = 0;
    uint8_t *one = all_batches(d, &o, 3, &len1, &images1);
    cr_assert_eq(images1, 3 * (n - broken));
    cr_assert_eq(clnet_dataset_skipped(d), broken);
    cr_assert_eq(log.warnings, broken, "each unreadable file is reported once:\n%s", log.text);
    for (int i = 8; i < n; i += 9) {
        char rel[64], want[300];
        snprintf(rel, sizeof rel, "f/%c/img%03d.%s", "abc"[i % 3], i, i % 2 ? "jpg" : "png");
        snprintf(want, sizeof want, "1 skipped %s: ", at(rel));
        cr_assert_not_null(strstr(log.text, want), "%s not in:\n%s", want, log.text);
    }
    for (int workers = 2; workers <= 4; workers += 2) {
        o.workers = workers;
        uint8_t *many = all_batches(d, &o, 3, &len, &images);
        cr_assert_eq(len, len1, "%d workers", workers);
        cr_assert_eq(memcmp(one, many, len), 0, "%d workers: other batches", workers);
        free(many);
    }
    cr_assert_eq(log.warnings, broken, "found again, not reported again:\n%s", log.text);
    /* torchvision's augmentations too, the crop taken from each file's full size. */
    const clnet_augment aug = {.scale_min = 0.2f,
                               .horizontal_flip = 1,
                               .brightness = 0.3f,
                               .contrast = 0.3f,
                               .saturation = 0.3f,
                               .rotation = 10.0f,
                               .translate = 0.1f};
    o.aug = &aug;
    o.workers = 1;
    uint8_t *aug1 = all_batches(d, &o, 2, &len1, &images1);
    o.workers = 4;
    uint8_t *aug4 = all_batches(d, &o, 2, &len, &images);
    cr_assert(len == len1 && memcmp(aug1, aug4, len) == 0, "augmented: other batches");
    cr_assert(memcmp(aug1, one, len < len1 ? len : len1) != 0, "augmentations changed nothing");
    free(aug1);
    free(aug4);
    free(one);

    /* The same with the files found unreadable by another run first. */
    clnet_dataset_destroy(d);
    log = (clnet_test_log){0, 0, ""};
    d = clnet_test_open(at("f"), NULL, &opt);
    o.workers = 4;
    uint8_t *fresh = all_batches(d, &o, 3, &len, &images);
    o.workers = 1;
    uint8_t *again = all_batches(d, &o, 3, &len1, &images1);
    cr_assert(len == len1 && memcmp(fresh, again, len) == 0);
    free(fresh);
    free(again);
    clnet_dataset_destroy(d);
}

/* Unshuffled and unaugmented, the batches are the readable images in the folder's order,
 * each batch closing the gaps its unreadable files leave. */
Test(stream, unreadable_files_leave_no_gap)
{
    const int n = 40, broken = write_folder("g", n, 4);
    const clnet_dataset_options opt = {.h = 5, .w = 7, .c = 3};
    clnet_dataset *d = clnet_test_open(at("g"), NULL, &opt);
    const clnet_batch_options o = {.batch = 6, .workers = 3};
    size_t len = 0;
    int images = 0;
    uint8_t *got = all_batches(d, &o, 1, &len, &images);
    cr_assert_eq(images, n - broken);
    size_t off = 0;
    int batches = 0;
    uint8_t px[5 * 7 * 3];
    for (int first = 0; first < n; first += 6, ++batches) {
        int count = 0;
        memcpy(&count, got + off, sizeof count);
        const int *labels = (const int *)(got + off + sizeof count);
        const float *x = (const float *)(got + off + sizeof count + (size_t)count * sizeof *labels);
        int k = 0;
        for (int i = first; i < first + 6 && i < n; ++i) {
            const uint8_t *want = clnet__dataset_load(d, i, px);
            if (!want)
                continue;
            cr_assert(k < count, "batch %d holds %d images", batches, count);
            cr_assert_eq(labels[k], clnet_dataset_label(d, i), "batch %d image %d", batches, k);
            for (int p = 0; p < 5 * 7 * 3; ++p)
                cr_assert_eq(x[k * 5 * 7 * 3 + p], want[p] / 255.0f, "batch %d image %d", batches,
                             k);
            ++k;
        }
        cr_assert_eq(k, count, "batch %d", batches);
        off += sizeof count + (size_t)count * (sizeof *labels + 5 * 7 * 3 * sizeof *x);
    }
    cr_assert_eq(off, len);
    free(got);
    clnet_dataset_destroy(d);
}

/* Batches whose images are all unreadable are passed over; an epoch of none ends at
 * once. */
Test(stream, batches_of_unreadable_files_are_passed_over)
{
    write_folder("u", 12, 1); /* every file broken */
    const clnet_dataset_options opt = {.h = 8, .w = 8, .c = 3};
    clnet_dataset *d = clnet_test_open(at("u"), NULL, &opt);
    const clnet_batch_options o = {.batch = 5, .workers = 2};
    size_t len = 0;
    int images = 0;
    free(all_batches(d, &o, 2, &len, &images));
    cr_assert_eq(images, 0);
    cr_assert_eq(clnet_dataset_skipped(d), 12);
    float mean[3], std[3];
    cr_assert_eq(clnet_dataset_stats(d, mean, std), CLNET_ERR_PARSE);
    clnet_dataset_destroy(d);
    /* Without a size to decode to, opening needs one image that decodes. */
    clnet_test_open_fails(at("u"), NULL, NULL, CLNET_ERR_PARSE, at("u"),
                          "none of its 12 image files decodes");
}

/* The first image that decodes gives the size; the broken ones before it are counted. */
Test(stream, size_from_the_first_image_that_decodes)
{
    make_sub("s");
    make_sub("s/x");
    clnet_test_write_file(at("s/x/a.jpg"), "\xff\xd8\xff\xe0 not really", 15);
    uint8_t *px = clnet_test_bytes(13 * 7 * 3, 5);
    size_t len = 0;
    uint8_t *png = clnet_test_png(px, 13, 7, 3, 8, 0, NULL, 0, &len);
    clnet_test_write_file(at("s/x/b.png"), png, len);
    free(png);
    clnet_dataset *d = clnet_test_open(at("s"), NULL, NULL);
    clnet_test_expect_shape(d, 7, 13, 3);
    cr_assert_eq(clnet_dataset_skipped(d), 1);
    uint8_t scratch[13 * 7 * 3];
    cr_assert_null(clnet__dataset_load(d, 0, scratch));
    const uint8_t *got = clnet__dataset_load(d, 1, scratch);
    cr_assert_eq(memcmp(got, px, sizeof scratch), 0);
    cr_assert_eq(clnet_dataset_skipped(d), 1, "a known bad file is not counted again");
    clnet_dataset_destroy(d);
    free(px);
}

/* libjpeg-turbo's scales: the smallest of 1/8, 1/4, 1/2, 1 whose image covers the target,
 * sides swapped for an EXIF orientation that turns the image. */
Test(stream, jpeg_decoded_at_the_scale_that_covers_the_target)
{
    uint8_t *px = clnet_test_bytes(96 * 64 * 3, 7);
    size_t len = 0;
    uint8_t *jpg = clnet_test_jpeg(px, 96, 64, 3, NULL, &len);
    clnet_test_write_file(at("p.jpg"), jpg, len);
    free(jpg);
    const struct {
        int min_h, min_w, h, w;
    } cases
        [] =
            {
                {0, 0, 64, 96},   {8, 12, 8, 12},   {9, 12, 16, 24}, {8, 13, 16, 24},
                {16, 24, 16, 24}, {17, 10, 32, 48}, {33, 1, 64, 96}, {64, 96, 64, 96},
                {65, 97, 64, 96}, /* never upscaled: the full image is the most there is */
            };
    char err[512] = "";
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
        clnet__image im;
        clnet__shrink s = {.min_h = cases[k].min_h, .min_w = cases[k].min_w};
        cr_assert_eq(clnet__image_decode_file_scaled(at("p.jpg"), 0, &s, &im, err, sizeof err),
                     CLNET_OK, "%s", err);
        cr_assert(im.h == cases[k].h && im.w == cases[k].w, "min %dx%d: %dx%d, want %dx%d",
                  cases[k].min_h, cases[k].min_w, im.h, im.w, cases[k].h, cases[k].w);
        clnet__image_free(&im);
    }
    /* Orientation 6 (turned 90 degrees): the upright image is 96 high and 64 wide. */
    uint8_t exif[32];
    const clnet_test_jpeg_options turned = {.app1 = exif,
                                            .app1_len = clnet_test_exif(exif, 6, 1, 0)};
    jpg = clnet_test_jpeg(px, 96, 64, 3, &turned, &len);
    clnet_test_write_file(at("t.jpg"), jpg, len);
    free(jpg);
    clnet__image im;
    clnet__shrink s = {.min_h = 24, .min_w = 9};
    cr_assert_eq(clnet__image_decode_file_scaled(at("t.jpg"), 0, &s, &im, err, sizeof err),
                 CLNET_OK, "%s", err);
    cr_assert(im.h == 24 && im.w == 16, "%dx%d", im.h, im.w);
    clnet__image_free(&im);
    free(px);
}

/* What a pick sees and asks: the region of the upright full-size image, mapped into the
 * pixels of the image decoded no smaller than the region needs. */
typedef struct picked {
    int h, w, calls;
    clnet__region want;
    int out_h, out_w;
} picked;

static void pick_fixed(void *user, int h, int w, clnet__region *region, int *out_h, int *out_w)
{
    picked *p = user;
    p->h = h;
    p->w = w;
    ++p->calls;
    *region = p->want;
    *out_h = p->out_h;
    *out_w = p->out_w;
}

Test(stream, regions_picked_from_the_full_size)
{
    uint8_t *px = clnet_test_bytes(96 * 64 * 3, 9);
    size_t len = 0;
    uint8_t *jpg = clnet_test_jpeg(px, 96, 64, 3, NULL, &len);
    clnet_test_write_file(at("r.jpg"), jpg, len);
    free(jpg);
    uint8_t *png = clnet_test_png(px, 96, 64, 3, 8, 0, NULL, 0, &len);
    clnet_test_write_file(at("r.png"), png, len);
    free(png);
    char err[512] = "";
    /* A 48 x 32 region at (40, 16) to be resized to 8 x 6: a quarter of the JPEG's pixels
     * are enough (the region is then 12 x 8 of a 24 x 16 image at (10, 4)). */
    picked p = {.want = {40, 16, 48, 32}, .out_h = 6, .out_w = 8};
    clnet__shrink s = {.pick = pick_fixed, .user = &p};
    clnet__image im;
    cr_assert_eq(clnet__image_decode_file_scaled(at("r.jpg"), 0, &s, &im, err, sizeof err),
                 CLNET_OK, "%s", err);
    cr_assert(p.calls == 1 && p.h == 64 && p.w == 96, "%d calls, %dx%d", p.calls, p.h, p.w);
    cr_assert(im.h == 16 && im.w == 24, "%dx%d", im.h, im.w);
    cr_assert(s.region.x == 10 && s.region.y == 4 && s.region.w == 12 && s.region.h == 8,
              "%d %d %d %d", s.region.x, s.region.y, s.region.w, s.region.h);
    clnet__image_free(&im);
    /* Resized to its own size, it keeps every pixel: the region stays at full size. */
    p = (picked){.want = {40, 16, 48, 32}, .out_h = 32, .out_w = 48};
    s = (clnet__shrink){.pick = pick_fixed, .user = &p};
    cr_assert_eq(clnet__image_decode_file_scaled(at("r.jpg"), 0, &s, &im, err, sizeof err),
                 CLNET_OK, "%s", err);
    cr_assert(im.h == 64 && im.w == 96 && s.region.x == 40 && s.region.w == 48);
    clnet__image_free(&im);
    /* Other formats decode whole and pick from that. */
    p = (picked){.want = {5, 6, 7, 8}, .out_h = 2, .out_w = 2};
    s = (clnet__shrink){.pick = pick_fixed, .user = &p};
    cr_assert_eq(clnet__image_decode_file_scaled(at("r.png"), 0, &s, &im, err, sizeof err),
                 CLNET_OK, "%s", err);
    cr_assert(p.calls == 1 && im.h == 64 && im.w == 96 && s.region.x == 5 && s.region.h == 8);
    clnet__image_free(&im);
    free(px);
}

/* A folder's statistics: exact over a small one, a fixed sample of 256 over a large one. */
Test(stream, statistics_sample_a_large_folder)
{
    write_folder("q", 300, 0);
    const clnet_dataset_options opt = {.h = 6, .w = 6, .c = 3};
    clnet_dataset *d = clnet_test_open(at("q"), NULL, &opt);
    float mean[3], std[3], mean2[3], std2[3];
    cr_assert_eq(clnet_dataset_stats(d, mean, std), CLNET_OK);
    cr_assert_eq(clnet_dataset_stats(d, mean2, std2), CLNET_OK);
    cr_assert_eq(memcmp(mean, mean2, sizeof mean), 0, "the same sample each time");
    /* The whole folder's figures, from every image. */
    uint8_t scratch[6 * 6 * 3];
    double sum[3] = {0}, sq[3] = {0};
    for (int i = 0; i < 300; ++i) {
        const uint8_t *p = clnet__dataset_load(d, i, scratch);
        for (int k = 0; k < 36 * 3; ++k) {
            sum[k % 3] += p[k] / 255.0;
            sq[k % 3] += (p[k] / 255.0) * (p[k] / 255.0);
        }
    }
    int differs = 0;
    for (int ch = 0; ch < 3; ++ch) {
        const double m = sum[ch] / (300 * 36), sd = sqrt(sq[ch] / (300 * 36) - m * m);
        cr_assert(fabs(mean[ch] - m) < 0.02 && fabs(std[ch] - sd) < 0.02,
                  "channel %d: %f %f, all images %f %f", ch, mean[ch], std[ch], m, sd);
        differs |= fabs(mean[ch] - m) > 1e-7;
    }
    cr_assert(differs, "a sample of 256 of 300 equals the whole exactly");
    clnet_dataset_destroy(d);
}

/* The decoded cache: the first run makes it with the bytes a run without it gives, the
 * next reads it back (a pixel changed in the file shows), a source file touched since
 * is decoded again, unreadable files stay recorded, and a second opening while the first
 * holds it streams without it. */
Test(stream, decoded_cache_made_then_read_back)
{
    const int n = 30, broken = write_folder("k", n, 10);
    clnet_test_log log = {0, 0, ""};
    clnet_dataset_options opt = {
        .h = 10, .w = 12, .c = 3, .log = clnet_test_log_line, .log_user = &log};
    const clnet_batch_options o = {.batch = 4, .shuffle = 1, .seed = 5, .augment = 1, .workers = 3};
    clnet_dataset *d = clnet_test_open(at("k"), NULL, &opt);
    size_t len0 = 0, len1 = 0, len2 = 0;
    int images = 0;
    uint8_t *plain = all_batches(d, &o, 2, &len0, &images);
    clnet_dataset_destroy(d);

    opt.cache_dir = at("cache");
    d = clnet_test_open(at("k"), NULL, &opt);
    uint8_t *made = all_batches(d, &o, 2, &len1, &images);
    cr_assert(len1 == len0 && memcmp(made, plain, len0) == 0, "the cache changed the batches");
    cr_assert_eq(clnet_dataset_skipped(d), broken);
    /* Opened again while d holds it: no cache, the same batches. */
    clnet_test_log other = {0, 0, ""};
    clnet_dataset_options again = opt;
    again.log_user = &other;
    clnet_dataset *d2 = clnet_test_open(at("k"), NULL, &again);
    cr_assert_not_null(strstr(other.text, "in use by another process"), "%s", other.text);
    uint8_t *without = all_batches(d2, &o, 1, &len2, &images);
    cr_assert(memcmp(without, plain, len2) == 0);
    free(without);
    clnet_dataset_destroy(d2);
    clnet_dataset_destroy(d);

    /* The file: header, records, then 30 images of 360 bytes, page-aligned. */
    char cache_file[600] = "";
    DIR *dir = opendir(at("cache"));
    cr_assert_not_null(dir);
    for (struct dirent *e; (e = readdir(dir));)
        if (strncmp(e->d_name, "clnet-", 6) == 0)
            snprintf(cache_file, sizeof cache_file, "%s/%s", at("cache"), e->d_name);
    closedir(dir);
    struct stat sb;
    cr_assert_eq(stat(cache_file, &sb), 0, "no cache file in %s", at("cache"));
    cr_assert_eq(sb.st_size, 4096 + n * 10 * 12 * 3);
    /* Read back: image 0's pixels changed in the file show in its batch. */
    FILE *f = fopen(cache_file, "r+b");
    uint8_t white[360];
    memset(white, 255, sizeof white);
    cr_assert(f && fseek(f, 4096, SEEK_SET) == 0 && fwrite(white, 1, 360, f) == 360);
    fclose(f);
    log = (clnet_test_log){0, 0, ""};
    d = clnet_test_open(at("k"), NULL, &opt);
    uint8_t px[360];
    cr_assert_eq(memcmp(clnet__dataset_load(d, 0, px), white, 360), 0, "not read from the cache");
    clnet_dataset_destroy(d);
    /* The source touched since: decoded again, the file's own pixels back. */
    struct utimbuf later = {time(NULL) + 100, time(NULL) + 100};
    char first[300];
    snprintf(first, sizeof first, "%s", at("k/a/img000.png"));
    cr_assert_eq(utime(first, &later), 0);
    d = clnet_test_open(at("k"), NULL, &opt);
    cr_assert_neq(memcmp(clnet__dataset_load(d, 0, px), white, 360), 0, "a stale record was read");
    uint8_t *read = all_batches(d, &o, 2, &len2, &images);
    cr_assert(len2 == len0 && memcmp(read, plain, len0) == 0, "read back: other batches");
    cr_assert_eq(clnet_dataset_skipped(d), broken);
    cr_assert_not_null(strstr(log.text, "did not decode when it was cached"), "%s", log.text);
    free(read);
    clnet_dataset_destroy(d);
    free(made);
    free(plain);
}

/* One image of d as clnet__dataset_load makes it, into a malloc'd copy. */
static uint8_t *loaded(const clnet_dataset *d, int i)
{
    const clnet_shape s = clnet_dataset_image_shape(d);
    const size_t n = (size_t)s.h * s.w * s.c;
    uint8_t *scratch = malloc(n), *copy = malloc(n);
    const uint8_t *px = clnet__dataset_load(d, i, scratch);
    cr_assert_not_null(px, "image %d did not load", i);
    memcpy(copy, px, n);
    free(scratch);
    return copy;
}

/* The evaluation transform: the centre of an image, aspect kept, resized to the target;
 * clnet_image_load (predict) gives the very pixels a folder's batches do. */
Test(stream, center_crop_keeps_the_centre_as_predict_sees_it)
{
    /* 60 wide, 40 high: random pixels in the centre 40 x 40, white bands either side. */
    const int w = 60, h = 40;
    uint8_t *px = clnet_test_bytes((size_t)w * h * 3, 21);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            if (x < 10 || x >= 50)
                memset(px + ((size_t)y * w + x) * 3, 255, 3);
    size_t len = 0;
    uint8_t *png = clnet_test_png(px, w, h, 3, 8, 0, NULL, 0, &len);
    make_sub("cc");
    make_sub("cc/a");
    make_sub("cc/b");
    clnet_test_write_file(at("cc/a/band.png"), png, len);
    free(png);
    uint8_t *big = clnet_test_bytes(96 * 64 * 3, 22);
    uint8_t *jpg = clnet_test_jpeg(big, 96, 64, 3, NULL, &len);
    clnet_test_write_file(at("cc/b/photo.jpg"), jpg, len);
    free(jpg);
    free(big);

    const float crops[] = {0.0f, 1.0f, 0.5f, 0.875f};
    const clnet__region want[] = {
        {0, 0, 60, 40}, {10, 0, 40, 40}, {20, 10, 20, 20}, {12, 2, 35, 35}};
    uint8_t expect[20 * 20 * 3];
    for (size_t k = 0; k < sizeof crops / sizeof crops[0]; ++k) {
        const clnet__region r = clnet__center_region(h, w, 20, 20, crops[k] > 0 ? crops[k] : 1);
        if (crops[k] > 0)
            cr_assert(r.x == want[k].x && r.y == want[k].y && r.w == want[k].w && r.h == want[k].h,
                      "crop %g: %d %d %d %d", (double)crops[k], r.x, r.y, r.w, r.h);
        const clnet_dataset_options opt = {.h = 20, .w = 20, .c = 3, .center_crop = crops[k]};
        clnet_dataset *d = clnet_test_open(at("cc"), NULL, &opt);
        uint8_t *got = loaded(d, 0);
        cr_assert_eq(clnet__image_convert_region(px, h, w, 3, want[k].x, want[k].y, want[k].w,
                                                 want[k].h, expect, 20, 20, 3),
                     CLNET_OK);
        cr_assert_eq(memcmp(got, expect, sizeof expect), 0, "crop %g: not the centre region",
                     (double)crops[k]);
        if (crops[k] == 1.0f) /* the white bands are gone: no pure white column is left */
            for (int x = 0; x < 20; ++x)
                cr_assert(got[x * 3] != 255 || got[(19 * 20 + x) * 3] != 255, "column %d", x);
        /* predict's loader: the same bytes, as floats, for both files (the JPEG through its
         * DCT scale). */
        for (int i = 0; i < 2; ++i) {
            uint8_t *bytes = i ? loaded(d, 1) : got;
            float f[20 * 20 * 3];
            char err[512] = "";
            const clnet_image_options io = {.center_crop = crops[k]};
            cr_assert_eq(clnet_image_load_ex(at(i ? "cc/b/photo.jpg" : "cc/a/band.png"), 20, 20, 3,
                                             &io, f, err, sizeof err),
                         CLNET_OK, "%s", err);
            for (size_t j = 0; j < sizeof f / sizeof f[0]; ++j)
                cr_assert(f[j] == bytes[j] / 255.0f, "crop %g, file %d, value %zu: %g vs %d",
                          (double)crops[k], i, j, (double)f[j], bytes[j]);
            if (i)
                free(bytes);
        }
        free(got);
        clnet_dataset_destroy(d);
    }
    /* A tall target from a wide image: the largest 2:1-high region is the full height. */
    const clnet__region t = clnet__center_region(40, 60, 30, 15, 1.0f);
    cr_assert(t.x == 20 && t.y == 0 && t.w == 20 && t.h == 40, "%d %d %d %d", t.x, t.y, t.w, t.h);
    const clnet__region thin = clnet__center_region(1000, 3, 8, 8, 0.1f);
    cr_assert(thin.w == 1 && thin.h == 1 && thin.x == 1 && thin.y == 499);

    /* Out of range: refused, naming the source. */
    char err[512] = "";
    clnet_dataset *d = NULL;
    const clnet_dataset_options bad = {.h = 20, .w = 20, .c = 3, .center_crop = 1.5f};
    cr_assert_eq(clnet_dataset_open(at("cc"), NULL, &bad, &d, err, sizeof err),
                 CLNET_ERR_INVALID_ARG);
    cr_assert_not_null(strstr(err, "center_crop 1.5 is not in [0, 1]"), "%s", err);
    float f[3];
    const clnet_image_options worse = {.center_crop = -0.5f};
    cr_assert_eq(clnet_image_load_ex(at("cc/a/band.png"), 1, 1, 3, &worse, f, err, sizeof err),
                 CLNET_ERR_INVALID_ARG);

    /* The decoded cache keeps one file per crop, each giving the uncached bytes. */
    for (size_t k = 0; k < 2; ++k) {
        const clnet_dataset_options plain = {.h = 20, .w = 20, .c = 3, .center_crop = crops[k + 2]};
        clnet_dataset_options cached = plain;
        cached.cache_dir = at("ccache");
        clnet_dataset *a = clnet_test_open(at("cc"), NULL, &plain),
                      *b = clnet_test_open(at("cc"), NULL, &cached);
        for (int i = 0; i < 2; ++i) {
            uint8_t *x = loaded(a, i), *y = loaded(b, i);
            cr_assert_eq(memcmp(x, y, sizeof expect), 0, "crop %g, image %d", (double)crops[k + 2],
                         i);
            free(x);
            free(y);
        }
        clnet_dataset_destroy(a);
        clnet_dataset_destroy(b);
    }
    int files = 0;
    DIR *dir = opendir(at("ccache"));
    cr_assert_not_null(dir);
    for (struct dirent *e; (e = readdir(dir));)
        files += strncmp(e->d_name, "clnet-", 6) == 0;
    closedir(dir);
    cr_assert_eq(files, 2, "one cache file per crop");
    free(px);
}
