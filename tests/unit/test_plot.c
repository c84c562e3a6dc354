/* test_plot.c - the PNG charts of src/io/plot.c (clnet_plot_history,
 * clnet_plot_confusion): they decode back at the expected size as RGB, hold the curve
 * and heat-map colours and text, cope with missing validation and a single epoch, and
 * refuse bad arguments and unwritable paths without leaving a temporary file; the
 * accuracy axis spans 0..1 unless every value is high. No device needed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image.h>

#include "clnet.h"
#include "io/plot.h"
#include "support/tempdir.h"

TestSuite(plot, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

/* The colours the charts use (plot.c): the curves, text, and the heat map's ends. */
static const uint8_t train_rgb[3] = {31, 119, 180}, val_rgb[3] = {255, 127, 14},
                     ink_rgb[3] = {34, 34, 34}, navy_rgb[3] = {8, 48, 107},
                     pale_rgb[3] = {247, 251, 255};

typedef struct image {
    int w, h, comp;
    uint8_t *px;
} image;

static image load(const char *path)
{
    image im;
    im.px = stbi_load(path, &im.w, &im.h, &im.comp, 0);
    cr_assert_not_null(im.px, "%s: %s", path, stbi_failure_reason());
    cr_assert_eq(im.comp, 3, "%s has %d channels", path, im.comp);
    return im;
}

/* Pixels of exactly colour c. */
static int count(const image *im, const uint8_t c[3])
{
    int n = 0;
    for (size_t i = 0; i < (size_t)im->w * im->h; ++i)
        n += memcmp(im->px + 3 * i, c, 3) == 0;
    return n;
}

/* Entries of clnet_test_dir whose name contains ".tmp.". */
static int temp_files(void)
{
    DIR *d = opendir(clnet_test_dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

/* Twelve epochs of plausible curves. */
static void curves(double *loss, double *acc, double *val_loss, double *val_acc, int n)
{
    for (int i = 0; i < n; ++i) {
        loss[i] = 0.3 + 0.9 * exp(-i / 2.5);
        acc[i] = 0.93 - 0.3 * exp(-i / 2.2);
        val_loss[i] = 0.38 + 0.75 * exp(-i / 2.8);
        val_acc[i] = 0.9 - 0.26 * exp(-i / 2.6);
    }
}

Test(plot, history_with_validation)
{
    double loss[12], acc[12], vl[12], va[12];
    curves(loss, acc, vl, va, 12);
    cr_assert_eq(clnet_plot_history(clnet_test_path("h.png"), loss, acc, vl, va, 12, "resnet20"),
                 CLNET_OK);
    image im = load(clnet_test_path("h.png"));
    cr_expect_eq(im.w, 1200);
    cr_expect_eq(im.h, 540);
    cr_expect_gt(count(&im, train_rgb), 500, "train curve: %d pixels", count(&im, train_rgb));
    cr_expect_gt(count(&im, val_rgb), 500, "validation curve: %d pixels", count(&im, val_rgb));
    cr_expect_gt(count(&im, ink_rgb), 1000, "text: %d pixels", count(&im, ink_rgb));
    cr_expect_eq(temp_files(), 0);
    stbi_image_free(im.px);
}

Test(plot, history_without_validation)
{
    double loss[12], acc[12], vl[12], va[12];
    curves(loss, acc, vl, va, 12);
    for (int i = 0; i < 12; ++i)
        vl[i] = va[i] = NAN;
    cr_assert_eq(clnet_plot_history(clnet_test_path("nan.png"), loss, acc, vl, va, 12, NULL),
                 CLNET_OK);
    cr_assert_eq(clnet_plot_history(clnet_test_path("null.png"), loss, acc, NULL, NULL, 12, ""),
                 CLNET_OK);
    for (int k = 0; k < 2; ++k) {
        image im = load(clnet_test_path(k ? "null.png" : "nan.png"));
        cr_expect_gt(count(&im, train_rgb), 500);
        cr_expect_eq(count(&im, val_rgb), 0, "no validation curve nor legend");
        cr_expect_gt(count(&im, ink_rgb), 500);
        stbi_image_free(im.px);
    }
}

Test(plot, history_with_gaps_and_one_epoch)
{
    /* Validation every other epoch, a diverged last training loss: gaps, not failures. */
    double loss[6] = {2.0, 1.5, 1.2, 1.0, 0.9, INFINITY}, acc[6] = {0.3, 0.5, 0.6, 0.7, 0.75, NAN};
    double vl[6] = {NAN, 1.6, NAN, 1.1, NAN, NAN}, va[6] = {NAN, 0.45, NAN, 0.65, NAN, NAN};
    cr_assert_eq(clnet_plot_history(clnet_test_path("gaps.png"), loss, acc, vl, va, 6, "gaps"),
                 CLNET_OK);
    image im = load(clnet_test_path("gaps.png"));
    cr_expect_gt(count(&im, val_rgb), 50, "isolated validation points get markers");
    stbi_image_free(im.px);

    const double one_loss = 1.3, one_acc = 0.55, one_vl = 1.4, one_va = 0.5;
    cr_assert_eq(clnet_plot_history(clnet_test_path("one.png"), &one_loss, &one_acc, &one_vl,
                                    &one_va, 1, "one epoch"),
                 CLNET_OK);
    im = load(clnet_test_path("one.png"));
    cr_expect_eq(im.w, 1200);
    cr_expect_gt(count(&im, train_rgb), 20, "a marker at the single point");
    cr_expect_gt(count(&im, val_rgb), 20);
    stbi_image_free(im.px);
}

Test(plot, confusion_fashion_mnist)
{
    static const char *const names[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                          "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                          "Bag",         "Ankle boot"};
    int64_t m[100];
    for (int i = 0; i < 10; ++i)
        for (int j = 0; j < 10; ++j)
            m[i * 10 + j] = i == j ? 900 : (i + j) % 7 == 0 ? 25 : 0;
    for (int j = 0; j < 10; ++j)
        m[3 * 10 + j] = j == 3 ? 1000 : 0; /* a perfect row: the darkest colour */
    cr_assert_eq(clnet_plot_confusion(clnet_test_path("c.png"), m, 10, names, "Fashion-MNIST"),
                 CLNET_OK);
    image im = load(clnet_test_path("c.png"));
    cr_expect_gt(im.w, 10 * 40);
    cr_expect_gt(im.h, 10 * 40);
    cr_expect_gt(count(&im, navy_rgb), 500, "the perfect row's diagonal cell");
    cr_expect_gt(count(&im, pale_rgb), 10000, "empty cells");
    cr_expect_gt(count(&im, ink_rgb), 2000, "names and counts");
    cr_expect_eq(temp_files(), 0);
    stbi_image_free(im.px);
}

Test(plot, confusion_many_classes_and_no_names)
{
    const int n = 100;
    int64_t *m = calloc((size_t)n * n, sizeof *m);
    cr_assert_not_null(m);
    for (int i = 0; i < n; ++i)
        m[(size_t)i * n + i] = 50;
    cr_assert_eq(clnet_plot_confusion(clnet_test_path("c100.png"), m, n, NULL, NULL), CLNET_OK);
    image im = load(clnet_test_path("c100.png"));
    cr_expect_geq(im.w, n * 2);
    cr_expect_gt(count(&im, navy_rgb), n, "every diagonal cell");
    stbi_image_free(im.px);

    /* One class, no images: a single pale cell, still a chart. */
    const int64_t zero = 0;
    const char *const one[1] = {NULL};
    cr_assert_eq(clnet_plot_confusion(clnet_test_path("c1.png"), &zero, 1, one, "empty"), CLNET_OK);
    im = load(clnet_test_path("c1.png"));
    cr_expect_gt(count(&im, pale_rgb), 1000);
    stbi_image_free(im.px);
    free(m);
}

Test(plot, bad_arguments)
{
    const double v[2] = {1, 2};
    const int64_t m[4] = {1, 0, 0, 1}, negative[4] = {1, -1, 0, 1};
    cr_expect_eq(clnet_plot_history(NULL, v, v, NULL, NULL, 2, NULL), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_plot_history("", v, v, NULL, NULL, 2, NULL), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_plot_history(clnet_test_path("x.png"), NULL, v, NULL, NULL, 2, NULL),
                 CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_plot_history(clnet_test_path("x.png"), v, NULL, NULL, NULL, 2, NULL),
                 CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_plot_history(clnet_test_path("x.png"), v, v, NULL, NULL, 0, NULL),
                 CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_plot_confusion(NULL, m, 2, NULL, NULL), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_plot_confusion(clnet_test_path("x.png"), NULL, 2, NULL, NULL),
                 CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_plot_confusion(clnet_test_path("x.png"), m, 0, NULL, NULL),
                 CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_plot_confusion(clnet_test_path("x.png"), m, 1001, NULL, NULL),
                 CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_plot_confusion(clnet_test_path("x.png"), negative, 2, NULL, NULL),
                 CLNET_ERR_INVALID_ARG);
    cr_expect_eq(access(clnet_test_path("x.png"), F_OK), -1, "nothing written");
    cr_expect_eq(temp_files(), 0);
}

Test(plot, unwritable_path)
{
    const double v[2] = {1, 2};
    const int64_t m[4] = {1, 0, 0, 1};
    cr_expect_eq(clnet_plot_history(clnet_test_path("missing/h.png"), v, v, NULL, NULL, 2, NULL),
                 CLNET_ERR_IO);
    cr_expect_eq(clnet_plot_confusion(clnet_test_path("missing/c.png"), m, 2, NULL, NULL),
                 CLNET_ERR_IO);
    /* The temporary file is made beside a directory, then cannot replace it: removed. */
    cr_assert_eq(mkdir(clnet_test_path("a-directory"), 0755), 0);
    cr_expect_eq(clnet_plot_history(clnet_test_path("a-directory"), v, v, NULL, NULL, 2, NULL),
                 CLNET_ERR_IO);
    cr_expect_eq(clnet_plot_confusion(clnet_test_path("a-directory"), m, 2, NULL, NULL),
                 CLNET_ERR_IO);
    cr_expect_eq(temp_files(), 0, "no temporary file left behind");
}

Test(plot, replaces_an_existing_file)
{
    FILE *f = fopen(clnet_test_path("old.png"), "wb");
    cr_assert_not_null(f);
    fputs("not a png", f);
    cr_assert_eq(fclose(f), 0);
    const int64_t m[4] = {3, 1, 0, 4};
    cr_assert_eq(clnet_plot_confusion(clnet_test_path("old.png"), m, 2, NULL, "two"), CLNET_OK);
    image im = load(clnet_test_path("old.png"));
    stbi_image_free(im.px);
    cr_expect_eq(temp_files(), 0);
}

/* lo and hi of the axis for accuracies in [min, max]. */
static void expect_accuracy_axis(double min, double max, double lo, double hi)
{
    const clnet__plot_axis a = clnet__plot_value_axis(min, max, 0);
    cr_expect(fabs(a.lo - lo) < 1e-9 && fabs(a.hi - hi) < 1e-9,
              "accuracies %g..%g: axis %g..%g, not %g..%g", min, max, a.lo, a.hi, lo, hi);
    cr_expect_gt(a.step, 0.0);
    cr_expect_leq((a.hi - a.lo) / a.step, 10.5, "%g..%g in steps of %g", a.lo, a.hi, a.step);
}

Test(plot, accuracy_axis_does_not_zoom_into_noise)
{
    expect_accuracy_axis(0.30, 0.44, 0.0, 1.0); /* the band of issue 10: all of 0..1 */
    expect_accuracy_axis(0.10, 0.12, 0.0, 1.0);
    expect_accuracy_axis(0.45, 0.95, 0.0, 1.0); /* one value below 0.5 */
    expect_accuracy_axis(0.5, 0.7, 0.4, 1.0);   /* all high: from a tenth below, up to 1 */
    expect_accuracy_axis(0.6, 0.8, 0.5, 1.0);
    expect_accuracy_axis(0.93, 0.99, 0.9, 1.0);
    expect_accuracy_axis(0.905, 0.95, 0.8, 1.0); /* a margin below the smallest value */
    expect_accuracy_axis(0.97, 0.97, 0.9, 1.0);  /* flat */
    expect_accuracy_axis(1.0, 1.0, 0.9, 1.0);
    expect_accuracy_axis(INFINITY, -INFINITY, 0.0, 1.0); /* no data */
    /* The loss axis still starts at 0 and ends past the largest value. */
    const clnet__plot_axis loss = clnet__plot_value_axis(0.3, 1.2, 1);
    cr_expect_eq(loss.lo, 0.0);
    cr_expect(loss.hi >= 1.2 && loss.hi < 1.6, "loss axis to %g", loss.hi);
}

/* Rows of the accuracy panel (the right half) holding the training curve's colour. */
static void curve_rows(const image *im, int *top, int *bottom)
{
    *top = im->h;
    *bottom = -1;
    for (int y = 0; y < im->h; ++y)
        for (int x = im->w / 2; x < im->w; ++x)
            if (memcmp(im->px + 3 * ((size_t)y * im->w + x), train_rgb, 3) == 0) {
                *top = y < *top ? y : *top;
                *bottom = y > *bottom ? y : *bottom;
            }
}

Test(plot, a_flat_low_accuracy_curve_stays_flat)
{
    /* Accuracy wandering in 0.30..0.44 over 8 epochs: drawn on 0..1, the curve takes a
     * small part of the panel's height instead of all of it. */
    double loss[8], acc[8];
    for (int i = 0; i < 8; ++i) {
        loss[i] = 1.5 - 0.01 * i;
        acc[i] = i % 2 ? 0.30 + 0.02 * i : 0.44 - 0.01 * i;
    }
    cr_assert_eq(clnet_plot_history(clnet_test_path("flat.png"), loss, acc, NULL, NULL, 8, NULL),
                 CLNET_OK);
    image im = load(clnet_test_path("flat.png"));
    int top = 0, bottom = 0;
    curve_rows(&im, &top, &bottom);
    cr_assert_geq(bottom, top, "no curve drawn");
    cr_expect_lt(bottom - top, im.h / 5, "the curve spans rows %d..%d of %d", top, bottom, im.h);
    stbi_image_free(im.px);
}
