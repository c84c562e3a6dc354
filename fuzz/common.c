/* common.c - see common.h. */
#define _GNU_SOURCE /* nftw's FTW_DEPTH and FTW_PHYS */
#include "common.h"

#include "clnet.h"
#include "io/keras.h"
#include "io/safetensors.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_dir(void)
{
    if (dir[0])
        nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
    if (dir[0])
        return dir;
    const char *base = getenv("TMPDIR");
    struct stat sb;
    if (!base || !*base)
        base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/clnet-fuzz-XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror(dir);
        abort();
    }
    atexit(remove_dir);
    return dir;
}

const char *fuzz_path(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", fuzz_dir(), name);
    return p;
}

void fuzz_write(const char *name, const void *data, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s", fuzz_path(name));
    for (char *slash = strchr(path + strlen(fuzz_dir()) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(path, 0700);
        *slash = '/';
    }
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

static int remove_inside(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

void fuzz_clear(void)
{
    nftw(fuzz_dir(), remove_inside, 16, FTW_DEPTH | FTW_PHYS);
}

unsigned fuzz_u8(fuzz_input *in)
{
    if (!in->left)
        return 0;
    --in->left;
    return *in->p++;
}

unsigned fuzz_u16(fuzz_input *in)
{
    const unsigned lo = fuzz_u8(in);
    return lo | fuzz_u8(in) << 8;
}

const uint8_t *fuzz_bytes(fuzz_input *in, size_t n, size_t *got)
{
    const uint8_t *p = in->p;
    *got = n < in->left ? n : in->left;
    in->p += *got;
    in->left -= *got;
    return p;
}

void fuzz_read_tensors(clnet__st_file *f)
{
    char err[512] = "";
    for (int t = 0; t < f->n; ++t) {
        const size_t count = (size_t)f->tensors[t].count;
        float *buf = malloc((count ? count : 1) * sizeof *buf);
        FUZZ_CHECK(buf != NULL);
        FUZZ_CHECK(clnet__st_read(f, t, buf, count, err, sizeof err) == CLNET_OK);
        free(buf);
    }
}

void fuzz_note(const char *err)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "fuzz: %s\n", err);
}

void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: harness check failed: %s\n", file, line, what);
    abort();
}

void fuzz_use_dataset(const char *source, const char *part, const clnet_dataset_options *opt)
{
    clnet_dataset *d = NULL, *train = NULL, *val = NULL;
    char err[1024] = "";
    if (clnet_dataset_open(source, part, opt, &d, err, sizeof err) != CLNET_OK) {
        FUZZ_CHECK(d == NULL && err[0] != '\0');
        fuzz_note(err);
        return;
    }
    fuzz_note("accepted");
    const int n = clnet_dataset_size(d), classes = clnet_dataset_class_count(d);
    const clnet_shape s = clnet_dataset_image_shape(d);
    FUZZ_CHECK(n > 0 && classes > 0 && s.h > 0 && s.w > 0 && (s.c == 1 || s.c == 3));
    for (int k = 0; k < classes; ++k)
        FUZZ_CHECK(clnet_dataset_class_name(d, k) != NULL);
    for (int i = 0; i < n; ++i)
        FUZZ_CHECK(clnet_dataset_label(d, i) >= 0 && clnet_dataset_label(d, i) < classes);
    float mean[3], std[3];
    /* An image folder decodes lazily: statistics fail only when no image decodes. */
    const clnet_status stats = clnet_dataset_stats(d, mean, std);
    FUZZ_CHECK(stats == CLNET_OK || (stats == CLNET_ERR_PARSE && clnet_dataset_skipped(d) > 0));
    FUZZ_CHECK(clnet_dataset_split(d, 0.25, 1, &train, &val) == CLNET_OK);
    const float unit[3] = {1.0f, 1.0f, 1.0f};
    const clnet_batch_options bo = {
        .batch = 3, .shuffle = 1, .augment = 1, .std = unit, .seed = 7, .workers = 2};
    clnet_batcher *b = NULL;
    FUZZ_CHECK(clnet_batcher_create(d, &bo, &b) == CLNET_OK);
    FUZZ_CHECK(clnet_batcher_start(b, 1) == CLNET_OK);
    int seen = 0;
    for (;;) {
        const float *images = NULL;
        const int *labels = NULL;
        int got = 0;
        FUZZ_CHECK(clnet_batcher_next(b, &images, &labels, &got, NULL) == CLNET_OK);
        if (!got)
            break;
        for (int i = 0; i < got; ++i)
            FUZZ_CHECK(labels[i] >= 0 && labels[i] < classes);
        seen += got;
    }
    const clnet_batcher_stats bs = clnet_batcher_epoch_stats(b);
    FUZZ_CHECK(seen == bs.images && seen + bs.skipped == n &&
               bs.skipped <= clnet_dataset_skipped(d));
    clnet_batcher_destroy(b);
    clnet_dataset_destroy(train);
    clnet_dataset_destroy(val);
    clnet_dataset_destroy(d);
}

/* A request for an absurd size gets NULL, as without the sanitizer, rather than a report:
 * clnet checks every allocation, and libhdf5 (in keras_hdf5.c's child) asks for sizes read
 * from damaged files and gives up when malloc says no. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

void fuzz_keras_import(const struct cJSON *model, const struct clnet__keras_source *src)
{
    char err[8192] = "";
    clnet__import im;
    if (clnet__keras_import_config(model, src, NULL, &im, err, sizeof err) == CLNET_OK) {
        const int layers = clnet_graph_layer_count(im.g);
        FUZZ_CHECK(im.g != NULL && layers > 1);
        for (int i = 0; i < im.n_w; ++i)
            FUZZ_CHECK(im.w[i].layer > 0 && im.w[i].layer < layers && im.w[i].data != NULL);
        fuzz_note("imported");
    } else {
        FUZZ_CHECK(im.g == NULL && im.w == NULL && err[0] != '\0');
        fuzz_note(err);
    }
    clnet__import_free(&im);
}
