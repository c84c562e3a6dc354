/* bench_data.c - `clnet bench data SOURCE`: what the data path alone sustains, with no
 * device: the time to open a dataset, to the first batch, then images/s over an epoch
 * (or --images N) from the batcher's workers, their time per image (the cost of an
 * image on one core), and the peak resident memory. The figures behind issue 16's
 * streaming goals; bench/stream/ compares them with PIL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int usage(FILE *f)
{
    fprintf(f, "usage: clnet bench data SOURCE [options]\n"
               "  SOURCE                 an image folder, idx:DIR or cifar:DIR\n"
               "  --input HxWxC          the size images are made at (default 224x224x3)\n"
               "  --batch N              images per batch (default 32)\n"
               "  --workers N            decoding threads (default 1)\n"
               "  --cache-decoded DIR    the decoded cache (read back when made by a run before)\n"
               "  --images N             stop after N images (default: one epoch)\n"
               "  --augment              the padded random crop and flip\n"
               "  --random-resized-crop S  RandomResizedCrop(scale=(S, 1))\n"
               "  --flip                 RandomHorizontalFlip\n"
               "  --center-crop F        resize the centre F of each image (0: whole, default)\n"
               "  --json                 one JSON object instead of the text\n");
    return f == stdout ? 0 : 2;
}

/* The value after argv[*i] as a number in [lo, hi], or -1 after an error. */
static double number(int argc, char **argv, int *i, double lo, double hi)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "clnet bench data: %s needs a value\n", argv[*i]);
        return -1;
    }
    char *end = NULL;
    const double v = strtod(argv[++*i], &end);
    if (!end || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "clnet bench data: %s: expected a number from %g to %g, got '%s'\n",
                argv[*i - 1], lo, hi, argv[*i]);
        return -1;
    }
    return v;
}

int clnet_cli_bench_data(int argc, char **argv)
{
    const char *source = NULL, *cache = NULL;
    int h = 224, w = 224, c = 3, batch = 32, workers = 1, images = 0, json = 0;
    float crop = 0.0f;
    clnet_augment aug;
    memset(&aug, 0, sizeof aug);
    clnet_batch_options o;
    memset(&o, 0, sizeof o);
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        double v = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout);
        if (!strcmp(a, "--input")) {
            if (i + 1 >= argc || sscanf(argv[++i], "%dx%dx%d", &h, &w, &c) != 3 || h < 1 || w < 1 ||
                (c != 1 && c != 3)) {
                fprintf(stderr, "clnet bench data: --input: expected HxWxC (C 1 or 3)\n");
                return 2;
            }
        } else if (!strcmp(a, "--batch")) {
            if ((v = number(argc, argv, &i, 1, 65536)) < 0)
                return 2;
            batch = (int)v;
        } else if (!strcmp(a, "--workers")) {
            if ((v = number(argc, argv, &i, 1, CLNET_MAX_WORKERS)) < 0)
                return 2;
            workers = (int)v;
        } else if (!strcmp(a, "--images")) {
            if ((v = number(argc, argv, &i, 1, 1e9)) < 0)
                return 2;
            images = (int)v;
        } else if (!strcmp(a, "--random-resized-crop")) {
            if ((v = number(argc, argv, &i, 0.001, 1)) < 0)
                return 2;
            aug.scale_min = (float)v;
        } else if (!strcmp(a, "--center-crop")) {
            if ((v = number(argc, argv, &i, 0, 1)) < 0)
                return 2;
            crop = (float)v;
        } else if (!strcmp(a, "--cache-decoded") && i + 1 < argc) {
            cache = argv[++i];
        } else if (!strcmp(a, "--augment")) {
            o.augment = 1;
        } else if (!strcmp(a, "--flip")) {
            aug.horizontal_flip = 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] != '-' && !source) {
            source = a;
        } else {
            fprintf(stderr, "clnet bench data: unknown argument '%s'\n", a);
            return usage(stderr);
        }
    }
    if (!source)
        return usage(stderr);
    const clnet_dataset_options opt = {.h = h,
                                       .w = w,
                                       .c = c,
                                       .log = clnet_cli_log,
                                       .log_user = (void *)"bench data",
                                       .cache_dir = cache,
                                       .center_crop = crop};
    char err[1024] = "";
    clnet_dataset *d = NULL;
    const double t0 = now_s();
    if (clnet_dataset_open(source, NULL, &opt, &d, err, sizeof err) != CLNET_OK) {
        fprintf(stderr, "clnet bench data: %s\n", err);
        return 1;
    }
    const double opened = now_s() - t0;
    o.batch = batch;
    o.shuffle = 1;
    o.seed = 1;
    o.workers = workers;
    o.aug = aug.scale_min > 0.0f || aug.horizontal_flip ? &aug : NULL;
    clnet_batcher *b = NULL;
    if (clnet_batcher_create(d, &o, &b) != CLNET_OK) {
        fprintf(stderr, "clnet bench data: cannot batch %s\n", source);
        clnet_dataset_destroy(d);
        return 1;
    }
    const double t1 = now_s();
    clnet_batcher_start(b, 0);
    double first = 0.0, waited = 0.0;
    int seen = 0;
    for (;;) {
        const float *x;
        const int *labels;
        int n = 0;
        double ms = 0.0;
        clnet_batcher_next(b, &x, &labels, &n, &ms);
        if (n == 0)
            break;
        if (seen == 0)
            first = now_s() - t1;
        waited += ms * 1e-3;
        seen += n;
        if (images && seen >= images)
            break;
    }
    const double total = now_s() - t1;
    const clnet_batcher_stats st = clnet_batcher_epoch_stats(b);
    clnet_batcher_destroy(b);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double rss_mb = (double)ru.ru_maxrss / 1024.0;
    const double per_s = seen / (total > 0 ? total : 1e-9);
    const double per_core = st.images ? st.images / (st.data_s > 0 ? st.data_s : 1e-9) : 0.0;
    if (json)
        printf("{\"source\": \"%s\", \"h\": %d, \"w\": %d, \"c\": %d, \"files\": %d, \"workers\": "
               "%d, \"open_s\": %.3f, \"first_batch_s\": %.3f, \"images\": %d, \"skipped\": %d, "
               "\"seconds\": %.3f, \"images_per_s\": %.1f, \"images_per_s_per_worker\": %.1f, "
               "\"peak_rss_mb\": %.0f}\n",
               source, h, w, c, clnet_dataset_size(d), workers, opened, first, seen, st.skipped,
               total, per_s, per_core, rss_mb);
    else
        printf("%s at %dx%dx%d: %d files, opened in %.2f s, first batch of %d after %.2f s\n"
               "%d images (%d skipped) in %.2f s on %d worker%s: %.1f images/s, %.1f per "
               "worker's second (%.2f ms an image), peak RSS %.0f MB\n",
               source, h, w, c, clnet_dataset_size(d), opened, batch, first, seen, st.skipped,
               total, workers, workers == 1 ? "" : "s", per_s, per_core,
               per_core > 0 ? 1e3 / per_core : 0.0, rss_mb);
    clnet_dataset_destroy(d);
    return 0;
}
