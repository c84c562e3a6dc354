/* test_dataset.c - datasets and the batcher (src/data): tiny idx and CIFAR datasets
 * written to a temporary folder, read back pixel for pixel; conversions, labels by class
 * name, errors that name the file, splits, statistics and batches. The real
 * Fashion-MNIST is read when installed. Image folders: test_folder.c. No device
 * needed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

#include "clnet.h"
#include "data/data.h"
#include "support/datasets.h"
#include "support/images.h"

static char root[256]; /* this test's temporary folder, removed by the fixture */

static void rm_tree(const char *path)
{
    DIR *dp = opendir(path);
    if (dp) {
        for (struct dirent *e; (e = readdir(dp));) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        closedir(dp);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/clnet-data-test-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
}

static void remove_root(void)
{
    rm_tree(root);
}

TestSuite(dataset, .init = make_root, .fini = remove_root);

/* root/rel (static buffer, one at a time). */
static const char *at(const char *rel)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return path;
}

static void move(const char *from, const char *to)
{
    char a[1024];
    snprintf(a, sizeof a, "%s", at(from));
    cr_assert_eq(rename(a, at(to)), 0);
}

static void make_sub(const char *rel)
{
    cr_assert_eq(mkdir(at(rel), 0700), 0, "mkdir %s", at(rel));
}

static void write_bytes(const char *path, const void *data, size_t len, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        cr_assert_not_null(f);
        cr_assert_eq(gzwrite(f, data, (unsigned)len), (int)len);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        cr_assert_eq(fwrite(data, 1, len, f), len);
        fclose(f);
    }
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* dir/{prefix}-images-idx3-ubyte[.gz] and the labels file: n images of h x w. Image i
 * has pixels[i*h*w ..] and label i % 10. keep_bytes (0: all) cuts the images file. */
static void write_idx(const char *dir, const char *prefix, int n, int h, int w,
                      const uint8_t *pixels, int gz, size_t keep_bytes)
{
    const size_t len = 16 + (size_t)n * h * w;
    uint8_t *img = malloc(len), *lab = malloc(8 + (size_t)n);
    put_be32(img, 0x803);
    put_be32(img + 4, (uint32_t)n);
    put_be32(img + 8, (uint32_t)h);
    put_be32(img + 12, (uint32_t)w);
    memcpy(img + 16, pixels, (size_t)n * h * w);
    put_be32(lab, 0x801);
    put_be32(lab + 4, (uint32_t)n);
    for (int i = 0; i < n; ++i)
        lab[8 + i] = (uint8_t)(i % 10);
    char path[1100]; /* dir is up to 1023 chars plus the file name */
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_bytes(path, img, keep_bytes ? keep_bytes : len, gz);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_bytes(path, lab, 8 + (size_t)n, gz);
    free(img);
    free(lab);
}

Test(dataset, idx_raw_and_gz_keep_pixels_and_labels)
{
    const int n = 7, h = 5, w = 3;
    uint8_t *px = clnet_test_bytes((size_t)n * h * w, 1);
    for (int gz = 0; gz < 2; ++gz) {
        char dir[512], source[1100];
        snprintf(dir, sizeof dir, "%s/mnist%d", root, gz);
        cr_assert_eq(mkdir(dir, 0700), 0);
        write_idx(dir, "t10k", n, h, w, px, gz, 0);
        snprintf(source, sizeof source, "idx:%s", dir);
        clnet_dataset *d = clnet_test_open(source, "test", NULL);
        cr_assert_eq(clnet_dataset_size(d), n);
        clnet_test_expect_shape(d, h, w, 1);
        cr_assert_eq(clnet_dataset_class_count(d), 10);
        cr_assert_str_eq(clnet_dataset_class_name(d, 3), "3");
        cr_assert_null(clnet_dataset_class_name(d, 10));
        for (int i = 0; i < n; ++i) {
            cr_assert_eq(clnet_dataset_label(d, i), i % 10);
            cr_assert_eq(memcmp(clnet__dataset_image(d, i), px + (size_t)i * h * w, (size_t)h * w),
                         0, "image %d differs", i);
        }
        cr_assert_eq(clnet_dataset_label(d, n), -1);
        clnet_dataset_destroy(d);
        /* Only the test part exists here. */
        clnet_test_open_fails(source, "train", NULL, CLNET_ERR_IO, "train-images-idx3-ubyte", NULL);
        clnet_test_open_fails(source, "validation", NULL, CLNET_ERR_INVALID_ARG, "validation",
                              NULL);
    }
    free(px);
}

Test(dataset, idx_fashion_names_and_rgb_resize)
{
    make_sub("Fashion-MNIST");
    const int n = 3, h = 6, w = 4;
    uint8_t *px = clnet_test_bytes((size_t)n * h * w, 2);
    write_idx(at("Fashion-MNIST"), "train", n, h, w, px, 1, 0);
    char source[1100];
    snprintf(source, sizeof source, "idx:%s/", at("Fashion-MNIST"));
    const clnet_dataset_options opt = {.h = 9, .w = 7, .c = 3};
    clnet_dataset *d = clnet_test_open(source, "train", &opt);
    cr_assert_str_eq(clnet_dataset_class_name(d, 0), "T-shirt/top");
    cr_assert_str_eq(clnet_dataset_class_name(d, 9), "Ankle boot");
    clnet_test_expect_shape(d, 9, 7, 3);
    /* Resized as gray by stb_image_resize, then replicated to RGB. */
    uint8_t want[9 * 7];
    for (int i = 0; i < n; ++i) {
        cr_assert(stbir_resize_uint8(px + (size_t)i * h * w, w, h, 0, want, 7, 9, 0, 1));
        const uint8_t *got = clnet__dataset_image(d, i);
        for (int p = 0; p < 9 * 7; ++p)
            cr_assert(got[3 * p] == want[p] && got[3 * p + 1] == want[p] &&
                          got[3 * p + 2] == want[p],
                      "image %d pixel %d", i, p);
    }
    clnet_dataset_destroy(d);
    /* center_crop in memory: the largest centred square of the 6 x 4 images is rows 1..4,
     * kept as they are at 4 x 4; 0.5 of it is the 2 x 2 centre, rows 2..3, columns 1..2. */
    const clnet_dataset_options square = {.h = 4, .w = 4, .c = 1, .center_crop = 1.0f};
    d = clnet_test_open(source, "train", &square);
    for (int i = 0; i < n; ++i)
        cr_assert_eq(memcmp(clnet__dataset_image(d, i), px + (size_t)i * h * w + w, 16), 0,
                     "image %d: not its centre rows", i);
    clnet_dataset_destroy(d);
    const clnet_dataset_options half = {.h = 2, .w = 2, .c = 1, .center_crop = 0.5f};
    d = clnet_test_open(source, "train", &half);
    for (int i = 0; i < n; ++i) {
        const uint8_t *got = clnet__dataset_image(d, i), *img = px + (size_t)i * h * w;
        cr_assert(got[0] == img[2 * w + 1] && got[1] == img[2 * w + 2] &&
                      got[2] == img[3 * w + 1] && got[3] == img[3 * w + 2],
                  "image %d", i);
    }
    clnet_dataset_destroy(d);
    free(px);
}

Test(dataset, idx_errors_name_the_file)
{
    const int n = 4, h = 3, w = 3;
    uint8_t *px = clnet_test_bytes((size_t)n * h * w, 3);
    char source[1100];
    snprintf(source, sizeof source, "idx:%s", root);
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_IO, "train-images-idx3-ubyte", NULL);

    /* Cut in the middle of the third image, raw and gzipped. */
    write_idx(root, "train", n, h, w, px, 0, 16 + 2 * 9 + 4);
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_PARSE, at("train-images-idx3-ubyte"),
                          "truncated");
    unlink(at("train-images-idx3-ubyte"));
    write_idx(root, "train", n, h, w, px, 1, 16 + 2 * 9 + 4);
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_PARSE, at("train-images-idx3-ubyte.gz"),
                          "truncated");
    /* A gzip stream cut short. */
    write_idx(root, "train", n, h, w, px, 1, 0);
    FILE *f = fopen(at("train-images-idx3-ubyte.gz"), "r+b");
    fseek(f, 0, SEEK_END);
    cr_assert_eq(ftruncate(fileno(f), ftell(f) - 12), 0);
    fclose(f);
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_PARSE, at("train-images-idx3-ubyte.gz"),
                          "truncated");
    unlink(at("train-images-idx3-ubyte.gz"));

    /* A labels file where the images file should be: bad magic. */
    write_idx(root, "train", n, h, w, px, 0, 0);
    move("train-labels-idx1-ubyte", "train-images-idx3-ubyte");
    write_idx(root, "t10k", n, h, w, px, 0, 0);
    move("t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte");
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_PARSE, at("train-images-idx3-ubyte"),
                          "magic");

    /* Labels for a different number of images, and a label out of range. */
    write_idx(root, "train", n, h, w, px, 0, 0);
    uint8_t lab[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3};
    write_bytes(at("train-labels-idx1-ubyte"), lab, sizeof lab, 0);
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_PARSE, at("train-labels-idx1-ubyte"),
                          "3 labels");
    uint8_t bad[8 + 4] = {0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 10, 3};
    write_bytes(at("train-labels-idx1-ubyte"), bad, sizeof bad, 0);
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_PARSE, at("train-labels-idx1-ubyte"),
                          "label 10");
    free(px);
}

/* CIFAR file with n records: label (i + first) % classes, pixel bytes from seed. */
static uint8_t *write_cifar(const char *name, int n, int first, int classes, uint64_t seed)
{
    const size_t rec = 3073;
    uint8_t *data = clnet_test_bytes(rec * (size_t)n, seed);
    for (int i = 0; i < n; ++i)
        data[rec * (size_t)i] = (uint8_t)((i + first) % classes);
    write_bytes(at(name), data, rec * (size_t)n, 0);
    return data;
}

/* The HWC image of record i of data. */
static void cifar_hwc(const uint8_t *data, int i, uint8_t *out)
{
    const uint8_t *rec = data + 3073 * (size_t)i + 1;
    for (int p = 0; p < 1024; ++p)
        for (int ch = 0; ch < 3; ++ch)
            out[3 * p + ch] = rec[ch * 1024 + p];
}

Test(dataset, cifar_records_to_hwc)
{
    uint8_t *batches[5];
    for (int b = 0; b < 5; ++b) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b + 1);
        batches[b] = write_cifar(name, 2, 2 * b, 10, 10 + (uint64_t)b);
    }
    uint8_t *test = write_cifar("test_batch.bin", 3, 0, 10, 20);
    char source[1100];
    snprintf(source, sizeof source, "cifar:%s", root);
    clnet_dataset *d = clnet_test_open(source, "train", NULL);
    cr_assert_eq(clnet_dataset_size(d), 10);
    clnet_test_expect_shape(d, 32, 32, 3);
    cr_assert_str_eq(clnet_dataset_class_name(d, 0), "airplane");
    cr_assert_str_eq(clnet_dataset_class_name(d, 9), "truck");
    uint8_t want[3072];
    for (int i = 0; i < 10; ++i) {
        cr_assert_eq(clnet_dataset_label(d, i), i);
        cifar_hwc(batches[i / 2], i % 2, want);
        cr_assert_eq(memcmp(clnet__dataset_image(d, i), want, sizeof want), 0, "image %d", i);
    }
    clnet_dataset_destroy(d);

    /* Gray by luminance 0.299 R + 0.587 G + 0.114 B, rounded. */
    const clnet_dataset_options gray = {.c = 1};
    d = clnet_test_open(source, "test", &gray);
    cr_assert_eq(clnet_dataset_size(d), 3);
    clnet_test_expect_shape(d, 32, 32, 1);
    for (int i = 0; i < 3; ++i) {
        cifar_hwc(test, i, want);
        const uint8_t *got = clnet__dataset_image(d, i);
        for (int p = 0; p < 1024; ++p) {
            const double y =
                0.299 * want[3 * p] + 0.587 * want[3 * p + 1] + 0.114 * want[3 * p + 2];
            cr_assert(fabs(got[p] - y) <= 0.5 + 1e-9, "image %d pixel %d: %d, want %.3f", i, p,
                      got[p], y);
        }
    }
    clnet_dataset_destroy(d);

    /* Names from batches.meta.txt; a label beyond them is an error naming the file. */
    const char meta[] = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n";
    write_bytes(at("batches.meta.txt"), meta, strlen(meta), 0);
    d = clnet_test_open(source, "train", NULL);
    cr_assert_eq(clnet_dataset_class_count(d), 10);
    cr_assert_str_eq(clnet_dataset_class_name(d, 4), "e");
    clnet_dataset_destroy(d);
    write_bytes(at("batches.meta.txt"), "x\ny\n", 4, 0);
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_PARSE, at("data_batch_2.bin"),
                          "label 2");
    unlink(at("batches.meta.txt"));

    /* Truncated and missing batches. */
    write_bytes(at("data_batch_3.bin"), batches[2], 3073 + 100, 0);
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_PARSE, at("data_batch_3.bin"),
                          "truncated");
    unlink(at("data_batch_3.bin"));
    clnet_test_open_fails(source, "train", NULL, CLNET_ERR_IO, at("data_batch_3.bin"), "not found");
    for (int b = 0; b < 5; ++b)
        free(batches[b]);
    free(test);
}

/* A PNG of w x h x comp bytes from seed, whose pixels are returned. */
static uint8_t *write_image(const char *rel, int w, int h, int comp, uint64_t seed)
{
    uint8_t *px = clnet_test_bytes((size_t)w * h * comp, seed);
    cr_assert(stbi_write_png(at(rel), w, h, comp, px, w * comp), "writing %s", rel);
    return px;
}

Test(dataset, labels_by_class_name_for_folders)
{
    static const char *const model[3] = {"cat", "dog", "fox"};
    const clnet_dataset_options by_name = {.classes = model, .n_classes = 3};
    /* The folder holds two of the model's three classes: labels are the model's. */
    make_sub("some");
    make_sub("some/fox");
    make_sub("some/dog");
    uint8_t *fox = write_image("some/fox/1.png", 3, 2, 3, 80);
    uint8_t *dog = write_image("some/dog/1.png", 3, 2, 3, 81);
    clnet_dataset *d = clnet_test_open(at("some"), NULL, &by_name);
    cr_assert_eq(clnet_dataset_class_count(d), 3);
    for (int k = 0; k < 3; ++k)
        cr_assert_str_eq(clnet_dataset_class_name(d, k), model[k]);
    cr_assert_eq(clnet_dataset_size(d), 2);
    uint8_t px[18];
    cr_assert_eq(memcmp(clnet__dataset_load(d, 0, px), dog, 18), 0); /* folders still sorted */
    cr_assert_eq(clnet_dataset_label(d, 0), 1);
    cr_assert_eq(memcmp(clnet__dataset_load(d, 1, px), fox, 18), 0);
    cr_assert_eq(clnet_dataset_label(d, 1), 2);
    clnet_dataset_destroy(d);
    /* Without the list the folder's own two classes, in sorted order. */
    d = clnet_test_open(at("some"), NULL, NULL);
    cr_assert_eq(clnet_dataset_class_count(d), 2);
    cr_assert_eq(clnet_dataset_label(d, 1), 1);
    clnet_dataset_destroy(d);
    /* A folder that is none of the classes names itself and the known ones. */
    make_sub("some/cow");
    free(write_image("some/cow/1.png", 3, 2, 3, 82));
    clnet_test_open_fails(at("some"), NULL, &by_name, CLNET_ERR_INVALID_ARG, at("some"),
                          "class folder 'cow' is not one of the 3 classes given (cat, dog, fox)");
    /* The list itself: distinct, non-empty names. */
    static const char *const twice[2] = {"dog", "dog"}, *const empty[2] = {"dog", ""};
    const clnet_dataset_options dup = {.classes = twice, .n_classes = 2};
    clnet_test_open_fails(at("some"), NULL, &dup, CLNET_ERR_INVALID_ARG, "'dog' is given twice",
                          NULL);
    const clnet_dataset_options blank = {.classes = empty, .n_classes = 2};
    clnet_test_open_fails(at("some"), NULL, &blank, CLNET_ERR_INVALID_ARG, "class name 1 is empty",
                          NULL);
    const clnet_dataset_options none = {.n_classes = 2};
    clnet_test_open_fails(at("some"), NULL, &none, CLNET_ERR_INVALID_ARG, "n_classes 2", NULL);
    free(fox);
    free(dog);
}

Test(dataset, labels_by_class_name_for_idx_and_cifar)
{
    /* idx digits mapped onto a model whose classes are the digits in reverse. */
    static const char *const reversed[10] = {"9", "8", "7", "6", "5", "4", "3", "2", "1", "0"};
    const clnet_dataset_options rev = {.classes = reversed, .n_classes = 10};
    uint8_t *px = clnet_test_bytes(12 * 4 * 4, 90);
    write_idx(root, "train", 12, 4, 4, px, 0, 0);
    char source[1100];
    snprintf(source, sizeof source, "idx:%s", root);
    clnet_dataset *d = clnet_test_open(source, "train", &rev);
    for (int i = 0; i < 12; ++i) /* item i has digit i % 10 */
        cr_assert_eq(clnet_dataset_label(d, i), 9 - i % 10, "item %d", i);
    cr_assert_str_eq(clnet_dataset_class_name(d, 0), "9");
    clnet_dataset_destroy(d);
    static const char *const two[2] = {"0", "1"};
    const clnet_dataset_options binary = {.classes = two, .n_classes = 2};
    clnet_test_open_fails(source, "train", &binary, CLNET_ERR_INVALID_ARG, source,
                          "class '2' is not one of the 2 classes given (0, 1)");
    free(px);
    /* CIFAR: names from batches.meta.txt, mapped onto a longer list in another order. */
    uint8_t *test = write_cifar("test_batch.bin", 6, 0, 3, 91);
    write_bytes(at("batches.meta.txt"), "red\ngreen\nblue\n", 15, 0);
    static const char *const colors[4] = {"blue", "cyan", "green", "red"};
    const clnet_dataset_options by_name = {.classes = colors, .n_classes = 4};
    snprintf(source, sizeof source, "cifar:%s", root);
    d = clnet_test_open(source, "test", &by_name);
    cr_assert_eq(clnet_dataset_class_count(d), 4);
    static const int want[3] = {3, 2, 0}; /* red, green, blue */
    for (int i = 0; i < 6; ++i)
        cr_assert_eq(clnet_dataset_label(d, i), want[i % 3], "record %d", i);
    clnet_dataset_destroy(d);
    free(test);
}

/* An idx dataset of n h x w images whose first two bytes hold the image number. */
static clnet_dataset *numbered(int n, int h, int w)
{
    uint8_t *px = clnet_test_bytes((size_t)n * h * w, 70);
    for (int i = 0; i < n; ++i) {
        px[(size_t)i * h * w] = (uint8_t)(i & 255);
        px[(size_t)i * h * w + 1] = (uint8_t)(i >> 8);
    }
    write_idx(root, "train", n, h, w, px, 0, 0);
    free(px);
    char source[1100];
    snprintf(source, sizeof source, "idx:%s", root);
    return clnet_test_open(source, "train", NULL);
}

static int number_of(const clnet_dataset *d, int i)
{
    const uint8_t *p = clnet__dataset_image(d, i);
    return p[0] | p[1] << 8;
}

Test(dataset, split_sizes_disjoint_deterministic)
{
    clnet_dataset *d = numbered(101, 2, 2);
    clnet_dataset *train = NULL, *val = NULL, *train2 = NULL, *val2 = NULL;
    cr_assert_eq(clnet_dataset_split(d, 0.2, 7, &train, &val), CLNET_OK);
    cr_assert_eq(clnet_dataset_size(val), 20); /* round(20.2) */
    cr_assert_eq(clnet_dataset_size(train), 81);
    cr_assert_eq(clnet_dataset_class_count(val), 10);
    cr_assert_eq(clnet_dataset_class_name(val, 2), clnet_dataset_class_name(d, 2));
    int seen[101] = {0};
    for (int i = 0; i < 81; ++i) {
        const int k = number_of(train, i);
        ++seen[k];
        cr_assert_eq(clnet_dataset_label(train, i), k % 10);
    }
    for (int i = 0; i < 20; ++i)
        ++seen[number_of(val, i)];
    for (int k = 0; k < 101; ++k)
        cr_assert_eq(seen[k], 1, "image %d in %d parts", k, seen[k]);

    cr_assert_eq(clnet_dataset_split(d, 0.2, 7, &train2, &val2), CLNET_OK);
    for (int i = 0; i < 20; ++i)
        cr_assert_eq(number_of(val, i), number_of(val2, i));
    clnet_dataset_destroy(train2);
    clnet_dataset_destroy(val2);
    cr_assert_eq(clnet_dataset_split(d, 0.2, 8, &train2, &val2), CLNET_OK);
    int same = 1;
    for (int i = 0; i < 20; ++i)
        same &= number_of(val, i) == number_of(val2, i);
    cr_assert(!same, "another seed picks other images");
    clnet_dataset_destroy(train2);
    clnet_dataset_destroy(val2);

    /* A split of a split still names images of the root. */
    cr_assert_eq(clnet_dataset_split(val, 0.5, 1, &train2, &val2), CLNET_OK);
    cr_assert_eq(clnet_dataset_size(val2) + clnet_dataset_size(train2), 20);
    for (int i = 0; i < clnet_dataset_size(val2); ++i) {
        const int k = number_of(val2, i);
        int found = 0;
        for (int j = 0; j < 20; ++j)
            found |= number_of(val, j) == k;
        cr_assert(found);
    }
    clnet_dataset_destroy(train2);
    clnet_dataset_destroy(val2);
    cr_assert_eq(clnet_dataset_split(d, 1.5, 1, &train2, &val2), CLNET_ERR_INVALID_ARG);
    cr_assert(!train2 && !val2);
    clnet_dataset_destroy(train);
    clnet_dataset_destroy(val);
    clnet_dataset_destroy(d);
}

/* A CIFAR test part of n records from seed. */
static clnet_dataset *cifar_test_set(int n, uint64_t seed)
{
    free(write_cifar("test_batch.bin", n, 0, 10, seed));
    char source[1100];
    snprintf(source, sizeof source, "cifar:%s", root);
    return clnet_test_open(source, "test", NULL);
}

Test(dataset, stats_match_a_direct_computation)
{
    clnet_dataset *d = cifar_test_set(5, 80);
    clnet_dataset *train = NULL, *val = NULL;
    cr_assert_eq(clnet_dataset_split(d, 0.4, 3, &train, &val), CLNET_OK);
    const clnet_dataset *sets[2] = {d, val};
    for (int s = 0; s < 2; ++s) {
        float mean[3], std[3];
        cr_assert_eq(clnet_dataset_stats(sets[s], mean, std), CLNET_OK);
        for (int ch = 0; ch < 3; ++ch) {
            double sum = 0, sq = 0, n = 0;
            for (int i = 0; i < clnet_dataset_size(sets[s]); ++i)
                for (int p = 0; p < 1024; ++p, ++n) {
                    const double x = clnet__dataset_image(sets[s], i)[3 * p + ch] / 255.0;
                    sum += x;
                    sq += x * x;
                }
            const double m = sum / n, sd = sqrt(sq / n - m * m);
            cr_assert(fabs(mean[ch] - m) < 1e-6 && fabs(std[ch] - sd) < 1e-6,
                      "channel %d: %f %f, want %f %f", ch, mean[ch], std[ch], m, sd);
        }
    }
    clnet_dataset_destroy(train);
    clnet_dataset_destroy(val);
    clnet_dataset_destroy(d);
}

/* One epoch: batch sizes into sizes[] (returns the number of batches), the floats into
 * all (may be NULL) and, when order is not NULL, the numbers of numbered() images in
 * order of appearance (unaugmented, the first two bytes give them back). */
static int run_epoch(clnet_batcher *b, int epoch, const clnet_dataset *d, int *order, int *sizes,
                     float *all)
{
    cr_assert_eq(clnet_batcher_start(b, epoch), CLNET_OK);
    const clnet_shape s = clnet_dataset_image_shape(d);
    const size_t floats = (size_t)s.h * s.w * s.c;
    int batches = 0, seen = 0;
    for (;;) {
        const float *images = NULL;
        const int *labels = NULL;
        int n = -1;
        double waited = -1;
        cr_assert_eq(clnet_batcher_next(b, &images, &labels, &n, &waited), CLNET_OK);
        cr_assert(waited >= 0.0);
        if (n == 0)
            return batches;
        sizes[batches++] = n;
        for (int i = 0; order && i < n; ++i) {
            const float *img = images + floats * (size_t)i;
            order[seen + i] = (int)lroundf(img[0] * 255) | (int)lroundf(img[1] * 255) << 8;
            cr_assert_eq(labels[i], order[seen + i] % 10);
        }
        if (all)
            memcpy(all + floats * (size_t)seen, images, floats * (size_t)n * sizeof *all);
        seen += n;
    }
}

Test(dataset, batcher_every_image_once_in_reproducible_order)
{
    clnet_dataset *d = numbered(10, 2, 3);
    const clnet_batch_options o = {.batch = 4, .shuffle = 1, .seed = 5};
    clnet_batcher *b = NULL;
    cr_assert_eq(clnet_batcher_create(d, &o, &b), CLNET_OK);
    cr_assert_eq(clnet_batcher_batches(b), 3);
    int order[3][10], sizes[4];
    for (int e = 0; e < 3; ++e) {
        cr_assert_eq(run_epoch(b, e == 2 ? 0 : e, d, order[e], sizes, NULL), 3);
        cr_assert(sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 2);
        int seen[10] = {0};
        for (int i = 0; i < 10; ++i)
            ++seen[order[e][i]];
        for (int k = 0; k < 10; ++k)
            cr_assert_eq(seen[k], 1, "epoch %d: image %d seen %d times", e, k, seen[k]);
    }
    cr_assert(memcmp(order[0], order[1], sizeof order[0]) != 0, "epochs 0 and 1 in one order");
    cr_assert(memcmp(order[0], order[2], sizeof order[0]) == 0, "epoch 0 replayed differs");
    clnet_batcher_destroy(b);

    /* A new batcher with the same seed gives the same epoch 1. */
    cr_assert_eq(clnet_batcher_create(d, &o, &b), CLNET_OK);
    int again[10];
    run_epoch(b, 1, d, again, sizes, NULL);
    cr_assert(memcmp(order[1], again, sizeof again) == 0);
    clnet_batcher_destroy(b);

    /* Without shuffling: the dataset's order, one batch when the batch is large. */
    const clnet_batch_options plain = {.batch = 64};
    cr_assert_eq(clnet_batcher_create(d, &plain, &b), CLNET_OK);
    cr_assert_eq(clnet_batcher_batches(b), 1);
    cr_assert_eq(run_epoch(b, 3, d, again, sizes, NULL), 1);
    for (int i = 0; i < 10; ++i)
        cr_assert_eq(again[i], i);
    clnet_batcher_destroy(b);
    clnet_dataset_destroy(d);
}

/* Several workers make the bytes one makes, augmented, over a split (tests/unit/test_stream.c
 * does the same for image folders read lazily). */
Test(dataset, batcher_workers_give_the_same_bytes)
{
    enum { N = 50, H = 6, W = 5 };
    clnet_dataset *d = numbered(N, H, W);
    clnet_dataset *train = NULL, *val = NULL;
    cr_assert_eq(clnet_dataset_split(d, 0.3, 4, &train, &val), CLNET_OK);
    const int size = clnet_dataset_size(train);
    float *one = malloc((size_t)size * H * W * sizeof *one);
    float *many = malloc((size_t)size * H * W * sizeof *many);
    int sizes[N], sizes3[N];
    for (int e = 0; e < 2; ++e) {
        clnet_batch_options o = {.batch = 4, .shuffle = 1, .seed = 2, .augment = 1};
        clnet_batcher *b = NULL;
        cr_assert_eq(clnet_batcher_create(train, &o, &b), CLNET_OK);
        const int batches = run_epoch(b, e, train, NULL, sizes, one);
        clnet_batcher_destroy(b);
        o.workers = 3;
        cr_assert_eq(clnet_batcher_create(train, &o, &b), CLNET_OK);
        cr_assert_eq(run_epoch(b, e, train, NULL, sizes3, many), batches);
        clnet_batcher_destroy(b);
        cr_assert_eq(memcmp(sizes, sizes3, (size_t)batches * sizeof *sizes), 0);
        cr_assert_eq(memcmp(one, many, (size_t)size * H * W * sizeof *one), 0, "epoch %d", e);
    }
    clnet_batch_options o = {.batch = 4, .workers = CLNET_MAX_WORKERS + 1};
    clnet_batcher *b = NULL;
    cr_assert_eq(clnet_batcher_create(train, &o, &b), CLNET_ERR_INVALID_ARG);
    free(one);
    free(many);
    clnet_dataset_destroy(train);
    clnet_dataset_destroy(val);
    clnet_dataset_destroy(d);
}

/* Data-parallel shards: batch k of shards 0..S-1, one after the other, is batch k of one
 * batcher byte for byte (augmentation draws follow the global position), empty slices
 * included, every batcher returning the same number of batches. */
Test(dataset, batcher_shards_split_each_global_batch)
{
    enum { N = 23, H = 6, W = 5, B = 4 };
    clnet_dataset *d = numbered(N, H, W);
    const size_t floats = (size_t)H * W;
    for (int shards = 2; shards <= 5; shards += 3) {
        clnet_batch_options o = {.batch = B, .shuffle = 1, .seed = 7, .augment = 1, .workers = 2};
        clnet_batcher *whole = NULL, *part[5] = {NULL};
        cr_assert_eq(clnet_batcher_create(d, &o, &whole), CLNET_OK);
        for (int r = 0; r < shards; ++r) {
            clnet_batch_options q = o;
            q.shard = r;
            q.shards = shards;
            cr_assert_eq(clnet_batcher_create(d, &q, &part[r]), CLNET_OK);
            cr_assert_eq(clnet_batcher_batches(part[r]), (N + B - 1) / B);
            cr_assert_eq(clnet_batcher_start(part[r], 1), CLNET_OK);
        }
        cr_assert_eq(clnet_batcher_start(whole, 1), CLNET_OK);
        int empty = 0;
        for (int k = 0; k < clnet_batcher_batches(whole); ++k) {
            const float *x = NULL;
            const int *labels = NULL;
            int n = 0, at = 0;
            cr_assert_eq(clnet_batcher_next(whole, &x, &labels, &n, NULL), CLNET_OK);
            for (int r = 0; r < shards; ++r) {
                const float *y = NULL;
                const int *ly = NULL;
                int m = -1;
                cr_assert_eq(clnet_batcher_next(part[r], &y, &ly, &m, NULL), CLNET_OK);
                const int want = (r + 1) * n / shards - r * n / shards;
                cr_assert_eq(m, want, "shards %d, batch %d, shard %d: %d images", shards, k, r, m);
                empty += m == 0;
                cr_assert(m == 0 || memcmp(y, x + (size_t)at * floats, (size_t)m * floats * 4) == 0,
                          "shards %d, batch %d, shard %d", shards, k, r);
                cr_assert(m == 0 || memcmp(ly, labels + at, (size_t)m * sizeof *ly) == 0);
                at += m;
            }
            cr_assert_eq(at, n);
        }
        cr_assert(shards < 5 || empty > 0, "the last batch of 3 leaves some of 5 shards empty");
        clnet_batcher_destroy(whole);
        for (int r = 0; r < shards; ++r)
            clnet_batcher_destroy(part[r]);
    }
    clnet_batch_options bad = {.batch = 4, .shard = 2, .shards = 2};
    clnet_batcher *b = NULL;
    cr_assert_eq(clnet_batcher_create(d, &bad, &b), CLNET_ERR_INVALID_ARG);
    clnet_dataset_destroy(d);
}

Test(dataset, batcher_normalizes)
{
    clnet_dataset *d = cifar_test_set(3, 90);
    const float mean[3] = {0.5f, 0.25f, 0.125f}, std[3] = {0.2f, 0.3f, 0.4f};
    const clnet_batch_options o = {.batch = 2, .mean = mean, .std = std};
    clnet_batcher *b = NULL;
    cr_assert_eq(clnet_batcher_create(d, &o, &b), CLNET_OK);
    const float *images;
    const int *labels;
    int n;
    cr_assert_eq(clnet_batcher_next(b, &images, &labels, &n, NULL), CLNET_OK); /* epoch 0 */
    cr_assert_eq(n, 2);
    for (int i = 0; i < 2; ++i)
        for (int p = 0; p < 3072; ++p) {
            const float x = clnet__dataset_image(d, i)[p] / 255.0f;
            const float want = (x - mean[p % 3]) / std[p % 3];
            cr_assert(fabsf(images[3072 * i + p] - want) <= 1e-6f, "image %d value %d", i, p);
        }
    clnet_batcher_destroy(b);
    const float zero[3] = {1, 0, 1};
    const clnet_batch_options bad = {.batch = 2, .std = zero};
    b = (clnet_batcher *)&b;
    cr_assert_eq(clnet_batcher_create(d, &bad, &b), CLNET_ERR_INVALID_ARG);
    cr_assert_null(b);
    clnet_dataset_destroy(d);
}

Test(dataset, batcher_augments_reproducibly)
{
    clnet_dataset *d = numbered(40, 12, 10);
    const size_t floats = 12 * 10;
    float *plain = malloc(40 * floats * sizeof *plain);
    float *aug = malloc(40 * floats * sizeof *aug), *aug2 = malloc(40 * floats * sizeof *aug);
    int order[40], sizes[8];
    clnet_batcher *b = NULL;
    const clnet_batch_options po = {.batch = 8};
    cr_assert_eq(clnet_batcher_create(d, &po, &b), CLNET_OK);
    run_epoch(b, 0, d, order, sizes, plain);
    clnet_batcher_destroy(b);

    /* Augmented batches hold garbled numbers, so compare the floats only. */
    const clnet_batch_options ao = {.batch = 8, .augment = 1, .seed = 11};
    for (int pass = 0; pass < 2; ++pass) {
        cr_assert_eq(clnet_batcher_create(d, &ao, &b), CLNET_OK);
        cr_assert_eq(run_epoch(b, 2, d, NULL, sizes, pass ? aug2 : aug), 5);
        clnet_batcher_destroy(b);
    }
    cr_assert_eq(memcmp(aug, aug2, 40 * floats * sizeof *aug), 0, "same seed and epoch");
    int changed = 0;
    for (int i = 0; i < 40; ++i)
        changed += memcmp(aug + floats * i, plain + floats * i, floats * sizeof *aug) != 0;
    cr_assert(changed >= 20, "only %d of 40 images augmented", changed);
    /* A crop of a padded image: every value is a pixel of the image or the zero pad. */
    for (int i = 0; i < 40; ++i)
        for (size_t p = 0; p < floats; ++p) {
            const float v = aug[floats * i + p];
            int found = v == 0.0f;
            for (size_t q = 0; q < floats && !found; ++q)
                found = plain[floats * i + q] == v;
            cr_assert(found, "image %d value %zu (%f) is not from the image", i, p, v);
        }
    free(plain);
    free(aug);
    free(aug2);
    clnet_dataset_destroy(d);
}

/* The crop of image plain (h x w, one channel) at offset (oy, ox), flipped or not, with
 * zeros outside: what augmentation makes of it. */
static int is_crop(const float *aug, const float *plain, int h, int w, int oy, int ox, int flip)
{
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const int sy = y + oy, sx = (flip ? w - 1 - x : x) + ox;
            const int inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
            if (aug[y * w + x] != (inside ? plain[sy * w + sx] : 0.0f))
                return 0;
        }
    return 1;
}

/* Every augmented image is the padded image cropped at one offset in [-2, 2] (images
 * below 32 pixels are padded by 2) and maybe flipped, and the offsets seen include
 * negative ones and whole crops of padding. The offsets outside the image used to form
 * pointers before the image (undefined even unread; clang's UBSan in the fuzz build,
 * fuzz/fuzz_image_folder.c, reports it). */
Test(dataset, batcher_crops_at_every_offset)
{
    enum { N = 300, H = 5, W = 4 };
    clnet_dataset *d = numbered(N, H, W);
    float *plain = malloc((size_t)N * H * W * sizeof *plain);
    float *aug = malloc((size_t)N * H * W * sizeof *aug);
    int sizes[N];
    clnet_batcher *b = NULL;
    const clnet_batch_options po = {.batch = 7};
    cr_assert_eq(clnet_batcher_create(d, &po, &b), CLNET_OK);
    run_epoch(b, 0, d, NULL, sizes, plain);
    clnet_batcher_destroy(b);
    const clnet_batch_options ao = {.batch = 7, .augment = 1, .seed = 3};
    cr_assert_eq(clnet_batcher_create(d, &ao, &b), CLNET_OK);
    run_epoch(b, 1, d, NULL, sizes, aug);
    clnet_batcher_destroy(b);
    int seen[5][5] = {{0}};
    for (int i = 0; i < N; ++i) {
        int found = 0;
        for (int oy = -2; oy <= 2; ++oy)
            for (int ox = -2; ox <= 2; ++ox)
                for (int flip = 0; flip < 2; ++flip)
                    if (is_crop(aug + i * H * W, plain + i * H * W, H, W, oy, ox, flip)) {
                        seen[oy + 2][ox + 2] = 1;
                        found = 1;
                    }
        cr_assert(found, "image %d is no crop of the padded image", i);
    }
    for (int oy = 0; oy < 5; ++oy)
        for (int ox = 0; ox < 5; ++ox)
            cr_expect(seen[oy][ox], "no crop at offset %d, %d in %d images", oy - 2, ox - 2, N);
    free(plain);
    free(aug);
    clnet_dataset_destroy(d);
}

Test(dataset, batcher_destroy_mid_epoch)
{
    clnet_dataset *d = numbered(50, 8, 8);
    const clnet_batch_options o = {.batch = 3, .shuffle = 1, .augment = 1};
    for (int stop = 0; stop < 4; ++stop) {
        clnet_batcher *b = NULL;
        cr_assert_eq(clnet_batcher_create(d, &o, &b), CLNET_OK);
        if (stop >= 1)
            cr_assert_eq(clnet_batcher_start(b, stop), CLNET_OK);
        for (int k = 0; k < stop; ++k) {
            const float *images;
            const int *labels;
            int n;
            cr_assert_eq(clnet_batcher_next(b, &images, &labels, &n, NULL), CLNET_OK);
            cr_assert_eq(n, 3);
            if (k == 1)
                cr_assert_eq(clnet_batcher_start(b, 0), CLNET_OK); /* restart mid-epoch */
        }
        clnet_batcher_destroy(b);
    }
    clnet_batcher_destroy(NULL);
    clnet_dataset_destroy(NULL);
    clnet_dataset_destroy(d);
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define FASHION "/usr/share/datasets/fashion-mnist"

Test(dataset, fashion_mnist_when_installed)
{
    if (access(FASHION "/train-images-idx3-ubyte.gz", R_OK) != 0)
        cr_skip_test("Fashion-MNIST is not installed in " FASHION);
    const double t0 = seconds();
    clnet_dataset *train = clnet_test_open("idx:" FASHION, "train", NULL);
    const double opened = seconds() - t0;
    clnet_dataset *test = clnet_test_open("idx:" FASHION, "test", NULL);
    cr_assert_eq(clnet_dataset_size(train), 60000);
    cr_assert_eq(clnet_dataset_size(test), 10000);
    clnet_test_expect_shape(train, 28, 28, 1);
    clnet_test_expect_shape(test, 28, 28, 1);
    cr_assert_str_eq(clnet_dataset_class_name(train, 0), "T-shirt/top");
    int per_class[10] = {0};
    for (int i = 0; i < 60000; ++i) {
        const int y = clnet_dataset_label(train, i);
        cr_assert(y >= 0 && y <= 9);
        ++per_class[y];
    }
    for (int k = 0; k < 10; ++k)
        cr_assert_eq(per_class[k], 6000, "class %d", k);

    const clnet_batch_options o = {.batch = 128, .shuffle = 1, .augment = 1, .seed = 1};
    clnet_batcher *b = NULL;
    cr_assert_eq(clnet_batcher_create(train, &o, &b), CLNET_OK);
    cr_assert_eq(clnet_batcher_batches(b), 469);
    static int sizes[470];
    const double t1 = seconds();
    const int batches = run_epoch(b, 0, train, NULL, sizes, NULL);
    const double epoch = seconds() - t1;
    cr_assert_eq(batches, 469);
    cr_assert(sizes[0] == 128 && sizes[468] == 60000 - 468 * 128);
    cr_log_info("Fashion-MNIST train opened in %.3f s; one augmented epoch of 128-image "
                "batches in %.3f s (%.0f batches/s)",
                opened, epoch, batches / epoch);
    clnet_batcher_destroy(b);
    clnet_dataset_destroy(test);
    clnet_dataset_destroy(train);
}
