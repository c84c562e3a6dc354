/* test_folder.c - image folders (src/data/folder.c, list.c, load.c): classes sorted,
 * images in nested folders in Keras's order, symbolic-link loops, formats found by
 * content, the files ignored (no images) and skipped when read (corrupt, truncated, a
 * side of 0, over the pixel limit) with their counts and log lines, empty class folders
 * as warnings. Images are written here by the formats' own encoders
 * (tests/support/images.h). Batches of folders: test_stream.c. No device needed. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_resize.h>

#include "clnet.h"
#include "data/data.h"
#include "support/datasets.h"
#include "support/images.h"
#include "support/tempdir.h"

TestSuite(folder, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

static const char *at(const char *rel)
{
    return clnet_test_path(rel);
}

/* Image i decoded as a batch reads it (in one of four rotating buffers), or NULL when the
 * file is unreadable. */
static const uint8_t *image(const clnet_dataset *d, int i)
{
    static uint8_t scratch[4][64 * 64 * 3];
    static int turn;
    return clnet__dataset_load(d, i, scratch[turn++ % 4]);
}

/* Reads every image of d as an epoch would; returns how many decode. */
static int read_all(const clnet_dataset *d)
{
    int good = 0;
    for (int i = 0; i < clnet_dataset_size(d); ++i)
        good += image(d, i) != NULL;
    return good;
}

static void make_sub(const char *rel)
{
    cr_assert_eq(mkdir(at(rel), 0700), 0, "mkdir %s", at(rel));
}

/* make_sub of each folder named, up to a NULL. */
static void make_subs(const char *rel, ...)
{
    va_list ap;
    va_start(ap, rel);
    for (; rel; rel = va_arg(ap, const char *))
        make_sub(rel);
    va_end(ap);
}

/* An image of w x h x comp bytes from seed at rel, whose pixels are returned: a BMP when
 * rel ends in .bmp, else a PNG (whatever the name says). */
static uint8_t *write_image(const char *rel, int w, int h, int comp, uint64_t seed)
{
    uint8_t *px = clnet_test_bytes((size_t)w * h * comp, seed);
    const char *ext = strrchr(rel, '.');
    size_t len = 0;
    uint8_t *bytes = ext && strcmp(ext, ".bmp") == 0
                         ? clnet_test_stb("bmp", px, w, h, comp, &len)
                         : clnet_test_png(px, w, h, comp, 8, 0, NULL, 0, &len);
    clnet_test_write_file(at(rel), bytes, len);
    free(bytes);
    return px;
}

Test(folder, folder_classes_sorted_pixels_exact)
{
    make_sub("imgs");
    make_sub("imgs/cat");
    make_sub("imgs/Dog");
    make_sub("imgs/ant");
    make_sub("imgs/.cache"); /* hidden: not a class */
    uint8_t *dog = write_image("imgs/Dog/b.png", 5, 4, 3, 30);
    uint8_t *ant1 = write_image("imgs/ant/z.bmp", 5, 4, 3, 31);
    uint8_t *ant0 = write_image("imgs/ant/a.png", 5, 4, 3, 32);
    uint8_t *cat = write_image("imgs/cat/m.PNG", 5, 4, 4, 33); /* RGBA: alpha dropped */
    free(write_image("imgs/cat/.hidden.png", 5, 4, 3, 34));
    free(write_image("imgs/.cache/x.png", 5, 4, 3, 35));
    clnet_test_write_file(at("imgs/cat/notes.txt"), "not an image", 12);
    clnet_dataset *d = clnet_test_open(at("imgs"), NULL, NULL);
    cr_assert_eq(clnet_dataset_class_count(d), 3);
    cr_assert_str_eq(clnet_dataset_class_name(d, 0), "Dog"); /* strcmp: upper case first */
    cr_assert_str_eq(clnet_dataset_class_name(d, 1), "ant");
    cr_assert_str_eq(clnet_dataset_class_name(d, 2), "cat");
    cr_assert_eq(clnet_dataset_size(d), 4);
    cr_assert_eq(clnet_dataset_skipped(d), 0);
    clnet_test_expect_shape(d, 4, 5, 3);
    const uint8_t *want[4] = {dog, ant0, ant1, NULL};
    const int labels[4] = {0, 1, 1, 2};
    for (int i = 0; i < 4; ++i) {
        cr_assert_eq(clnet_dataset_label(d, i), labels[i]);
        if (want[i])
            cr_assert_eq(memcmp(image(d, i), want[i], 60), 0, "image %d", i);
    }
    const uint8_t *got = image(d, 3);
    for (int p = 0; p < 20; ++p)
        cr_assert_eq(memcmp(got + 3 * p, cat + 4 * p, 3), 0, "RGBA pixel %d", p);
    clnet_dataset_destroy(d);

    /* Resized: exactly what stb_image_resize makes of the RGB pixels. */
    const clnet_dataset_options big = {.h = 7, .w = 9};
    d = clnet_test_open(at("imgs"), NULL, &big);
    clnet_test_expect_shape(d, 7, 9, 3);
    uint8_t resized[7 * 9 * 3];
    cr_assert(stbir_resize_uint8(dog, 5, 4, 0, resized, 9, 7, 0, 3));
    cr_assert_eq(memcmp(image(d, 0), resized, sizeof resized), 0);
    clnet_dataset_destroy(d);
    free(dog);
    free(ant0);
    free(ant1);
    free(cat);
}

Test(folder, folder_gray_and_rgb_convert)
{
    make_sub("g");
    make_sub("g/gray");
    make_sub("g/rgb");
    uint8_t *gray = write_image("g/gray/a.png", 3, 2, 1, 40);
    uint8_t *rgb = write_image("g/rgb/a.png", 3, 2, 3, 41);
    /* Gray first: the data's own channels are then 1. */
    clnet_dataset *d = clnet_test_open(at("g"), NULL, NULL);
    clnet_test_expect_shape(d, 2, 3, 1);
    cr_assert_eq(memcmp(image(d, 0), gray, 6), 0);
    const uint8_t *y = image(d, 1);
    for (int p = 0; p < 6; ++p) {
        const unsigned want =
            (299u * rgb[3 * p] + 587u * rgb[3 * p + 1] + 114u * rgb[3 * p + 2] + 500u) / 1000u;
        cr_assert_eq(y[p], want, "pixel %d", p);
    }
    clnet_dataset_destroy(d);
    const clnet_dataset_options color = {.c = 3};
    d = clnet_test_open(at("g"), NULL, &color);
    clnet_test_expect_shape(d, 2, 3, 3);
    const uint8_t *g3 = image(d, 0);
    for (int p = 0; p < 6; ++p)
        cr_assert(g3[3 * p] == gray[p] && g3[3 * p + 1] == gray[p] && g3[3 * p + 2] == gray[p]);
    cr_assert_eq(memcmp(image(d, 1), rgb, 18), 0);
    clnet_dataset_destroy(d);
    free(gray);
    free(rgb);
}

Test(folder, corrupt_images_are_skipped_logged_and_counted)
{
    make_sub("c");
    make_sub("c/one");
    make_sub("c/two");
    free(write_image("c/one/good.png", 4, 4, 3, 50));
    free(write_image("c/two/good.png", 4, 4, 3, 51));
    uint8_t *noise = clnet_test_bytes(300, 52);
    clnet_test_write_file(at("c/one/broken.png"), noise, 300);
    free(noise);
    /* A PNG cut in half. */
    free(write_image("c/two/whole.png", 16, 16, 3, 53));
    FILE *f = fopen(at("c/two/whole.png"), "rb");
    uint8_t buf[4096];
    const size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    clnet_test_write_file(at("c/two/cut.png"), buf, len / 2);
    clnet_test_log log = {0, 0, ""};
    const clnet_dataset_options opt = {.log = clnet_test_log_line, .log_user = &log};
    clnet_dataset *d = clnet_test_open(at("c"), NULL, &opt);
    cr_assert_eq(clnet_dataset_size(d), 5, "the files named as images are listed");
    /* The size comes from the first image that decodes: one/good.png, after broken.png. */
    cr_assert_eq(clnet_dataset_skipped(d), 1);
    clnet_test_expect_shape(d, 4, 4, 3);
    cr_assert_eq(read_all(d), 3);
    cr_assert_eq(read_all(d), 3);
    cr_assert_eq(clnet_dataset_skipped(d), 2);
    cr_assert_eq(log.warnings, 2, "each once: %s", log.text);
    cr_assert_not_null(strstr(log.text, at("c/one/broken.png")), "%s", log.text);
    cr_assert_not_null(strstr(log.text, at("c/two/cut.png")), "%s", log.text);
    cr_assert_eq(clnet_dataset_label(d, 1), 0);
    cr_assert_eq(clnet_dataset_label(d, 2), 1);
    cr_assert_eq(clnet_dataset_label(d, 4), 1);
    clnet_dataset_destroy(d);
}

Test(folder, folder_errors_name_the_folder)
{
    clnet_test_open_fails(at("missing"), NULL, NULL, CLNET_ERR_IO, at("missing"), NULL);
    make_sub("flat");
    free(write_image("flat/a.png", 2, 2, 3, 60));
    clnet_test_open_fails(at("flat"), NULL, NULL, CLNET_ERR_INVALID_ARG, at("flat"),
                          "no class folders");
    make_sub("e");
    make_sub("e/full");
    make_sub("e/empty");
    free(write_image("e/full/a.png", 2, 2, 3, 61));
    clnet_test_write_file(at("e/empty/readme.txt"), "x", 1);
    const clnet_dataset_options bad = {.c = 2};
    clnet_test_open_fails(at("e"), NULL, &bad, CLNET_ERR_INVALID_ARG, at("e"), "channels");
    /* Classes that all hold no image: nothing to train on. */
    cr_assert_eq(unlink(at("e/full/a.png")), 0);
    clnet_test_open_fails(at("e"), NULL, NULL, CLNET_ERR_INVALID_ARG, at("e"),
                          "no image in any of its 2 class folders");
}

/* The label of the image whose first pixel bytes are px's, or -1: images are found by
 * content, since their order is what is being tested. */
static int index_of(const clnet_dataset *d, const uint8_t *px, size_t bytes)
{
    for (int i = 0; i < clnet_dataset_size(d); ++i)
        if (memcmp(image(d, i), px, bytes) == 0)
            return i;
    return -1;
}

Test(folder, nested_folders_belong_to_their_class_in_keras_order)
{
    make_subs("n", "n/cls", "n/cls/sub", "n/cls/sub/deeper", "n/cls/sub-x", "n/other", NULL);
    /* Keras sorts (folder, name): "n/cls" < "n/cls/sub" < "n/cls/sub-x" < "n/cls/sub/deeper"
     * ('-' sorts before '/'), names within a folder by strcmp. */
    const char *order[5] = {"n/cls/a.png", "n/cls/z.png", "n/cls/sub/b.png", "n/cls/sub-x/c.png",
                            "n/cls/sub/deeper/d.png"};
    uint8_t *px[5];
    for (int i = 0; i < 5; ++i)
        px[i] = write_image(order[i], 3, 2, 3, 100 + (uint64_t)i);
    uint8_t *other = write_image("n/other/o.png", 3, 2, 3, 110);
    clnet_dataset *d = clnet_test_open(at("n"), NULL, NULL);
    cr_assert_eq(clnet_dataset_size(d), 6);
    for (int i = 0; i < 5; ++i) {
        cr_assert_eq(memcmp(image(d, i), px[i], 18), 0, "image %d is not %s", i, order[i]);
        cr_assert_eq(clnet_dataset_label(d, i), 0);
        free(px[i]);
    }
    cr_assert_eq(memcmp(image(d, 5), other, 18), 0);
    cr_assert_eq(clnet_dataset_label(d, 5), 1);
    clnet_dataset_destroy(d);
    free(other);

    /* The public listing gives the same order. */
    char **paths = NULL, err[512] = "";
    int n = 0;
    cr_assert_eq(clnet_folder_list(at("n/cls"), &paths, &n, err, sizeof err), CLNET_OK, "%s", err);
    cr_assert_eq(n, 5);
    for (int i = 0; i < 5; ++i)
        cr_assert_str_eq(paths[i], at(order[i]));
    clnet_folder_list_free(paths, n);
    cr_assert_eq(clnet_folder_list(at("n/none"), &paths, &n, err, sizeof err), CLNET_ERR_IO);
    cr_assert_not_null(strstr(err, at("n/none")), "%s", err);
    cr_assert_null(paths);
}

Test(folder, symbolic_link_loops_end_and_folders_count_once)
{
    make_subs("s", "s/a", "s/a/inner", "s/b", NULL);
    uint8_t *a = write_image("s/a/1.png", 2, 2, 3, 120);
    uint8_t *inner = write_image("s/a/inner/2.png", 2, 2, 3, 121);
    uint8_t *b = write_image("s/b/3.png", 2, 2, 3, 122);
    cr_assert_eq(symlink("..", at("s/a/inner/up")), 0);    /* back to the class folder */
    cr_assert_eq(symlink(".", at("s/a/inner/self")), 0);   /* to itself */
    cr_assert_eq(symlink("inner", at("s/a/again")), 0);    /* a second way to inner */
    cr_assert_eq(symlink("missing", at("s/a/broken")), 0); /* to nothing: not an image */
    cr_assert_eq(symlink("../a", at("s/b/link-to-a")), 0); /* another class's folder */
    clnet_dataset *d = clnet_test_open(at("s"), NULL, NULL);
    /* a: 1.png and inner/2.png once each; b: 3.png and, through its link, a's two. */
    cr_assert_eq(clnet_dataset_size(d), 5);
    cr_assert_eq(clnet_dataset_ignored(d), 2, "the broken link, seen from a and from b");
    cr_assert_eq(clnet_dataset_label(d, index_of(d, a, 12)), 0);
    cr_assert_eq(clnet_dataset_label(d, index_of(d, inner, 12)), 0);
    cr_assert_eq(clnet_dataset_label(d, index_of(d, b, 12)), 1);
    clnet_dataset_destroy(d);
    free(a);
    free(inner);
    free(b);
}

Test(folder, formats_by_content_ignored_and_skipped_files_reported)
{
    make_subs("f", "f/x", NULL);
    uint8_t *px = clnet_test_bytes(8 * 8 * 3, 130);
    size_t len = 0;
    uint8_t *jpg = clnet_test_jpeg(px, 8, 8, 3, NULL, &len);
    clnet_test_write_file(at("f/x/a.jpg"), jpg, len);
    clnet_test_write_file(at("f/x/b_really_jpeg.png"), jpg, len);
    clnet_test_write_file(at("f/x/c_cut.jpg"), jpg, len / 2);
    free(jpg);
    uint8_t *webp = clnet_test_webp(px, 8, 8, 3, 1, NULL, 0, &len);
    clnet_test_write_file(at("f/x/d.webp"), webp, len);
    free(webp);
    uint8_t *png = clnet_test_png(px, 8, 8, 3, 8, 0, NULL, 0, &len);
    clnet_test_write_file(at("f/x/e_no_extension"), png, len); /* an image by its bytes */
    free(png);
    /* The 11-byte PGM of width 0, and an image over the pixel limit. */
    clnet_test_write_file(at("f/x/f_zero.pgm"), "P5\n0 4\n255\n", 11);
    uint8_t *big = clnet_test_bytes(40 * 40 * 3, 131);
    png = clnet_test_png(big, 40, 40, 3, 8, 0, NULL, 0, &len);
    clnet_test_write_file(at("f/x/g_big.png"), png, len);
    free(png);
    free(big);
    clnet_test_write_file(at("f/x/notes.txt"), "not an image", 12);
    clnet_test_write_file(at("f/x/video.mp4"),
                          "\0\0\0\x18"
                          "ftypisom",
                          12);
    clnet_test_write_file(at("f/loose.txt"), "beside the classes", 18);
    int heic = 0;
    uint8_t *heif = clnet_test_heif(px, 8, 8, 0, &len);
    if (heif) {
        clnet_test_write_file(at("f/x/h.heic"), heif, len);
        heic = 1;
        free(heif);
    }
    clnet_test_log log = {0, 0, ""};
    const clnet_dataset_options opt = {
        .h = 8, .w = 8, .c = 3, .log = clnet_test_log_line, .log_user = &log, .max_pixels = 1000};
    clnet_dataset *d = clnet_test_open(at("f"), NULL, &opt);
    cr_assert_eq(clnet_dataset_size(d), 7 + heic, "%s", log.text);
    cr_assert_eq(clnet_dataset_skipped(d), 0, "the size is given: nothing decoded yet");
    cr_assert_eq(read_all(d), 4 + heic, "%s", log.text);
    cr_assert_eq(clnet_dataset_skipped(d), 3, "%s", log.text);
    cr_assert_eq(clnet_dataset_ignored(d), 3, "%s", log.text);
    cr_assert_eq(log.warnings, 3, "%s", log.text);
    char want[512];
    snprintf(want, sizeof want, "1 skipped %s: truncated or corrupt JPEG", at("f/x/c_cut.jpg"));
    cr_assert_not_null(strstr(log.text, want), "%s", log.text);
    snprintf(want, sizeof want, "1 skipped %s: PNM of 0x4 pixels: a side of 0",
             at("f/x/f_zero.pgm"));
    cr_assert_not_null(strstr(log.text, want), "%s", log.text);
    snprintf(want, sizeof want, "1 skipped %s: 40x40 pixels exceed the limit of 1000",
             at("f/x/g_big.png"));
    cr_assert_not_null(strstr(log.text, want), "%s", log.text);
    snprintf(want, sizeof want, "2 %s: %d images in 1 classes, 3 ignored (not images), 8x8x3",
             at("f"), 7 + heic);
    cr_assert_not_null(strstr(log.text, want), "%s", log.text);
    clnet_dataset_destroy(d);
    free(px);
}

Test(folder, empty_class_folders_are_warnings_and_keep_their_labels)
{
    make_subs("e", "e/a_empty", "e/b_full", "e/c_text", "e/d_full", NULL);
    uint8_t *b = write_image("e/b_full/1.png", 2, 2, 3, 140);
    uint8_t *d4 = write_image("e/d_full/1.png", 2, 2, 3, 141);
    clnet_test_write_file(at("e/c_text/readme.txt"), "x", 1);
    clnet_test_log log = {0, 0, ""};
    const clnet_dataset_options opt = {.log = clnet_test_log_line, .log_user = &log};
    clnet_dataset *d = clnet_test_open(at("e"), NULL, &opt);
    cr_assert_eq(clnet_dataset_class_count(d), 4);
    cr_assert_str_eq(clnet_dataset_class_name(d, 0), "a_empty");
    cr_assert_str_eq(clnet_dataset_class_name(d, 2), "c_text");
    cr_assert_eq(clnet_dataset_size(d), 2);
    cr_assert_eq(clnet_dataset_label(d, 0), 1);
    cr_assert_eq(clnet_dataset_label(d, 1), 3);
    cr_assert_eq(log.warnings, 2, "%s", log.text);
    char want[512];
    snprintf(want, sizeof want, "1 %s: empty class folder", at("e/a_empty"));
    cr_assert_not_null(strstr(log.text, want), "%s", log.text);
    snprintf(want, sizeof want, "1 %s: empty class folder", at("e/c_text"));
    cr_assert_not_null(strstr(log.text, want), "%s", log.text);
    clnet_dataset_destroy(d);
    free(b);
    free(d4);
}

/* Files whose headers claim more than the file holds are skipped before a decoder allocates
 * for them: stb_image reserved what they claim (a 94-byte PNG whose IDAT chunk claims 1 GiB;
 * a PGM or BMP header claiming 30000 x 30000 pixels) before reading any of it. */
Test(folder, images_claiming_more_than_their_file_are_skipped)
{
    make_sub("h");
    make_sub("h/a");
    make_sub("h/b");
    free(write_image("h/a/good.png", 4, 4, 3, 70));
    free(write_image("h/b/good.png", 4, 4, 3, 71));
    /* fuzz/corpus/image_folder/regress-png-chunk-claims-1gib's PNG. */
    static const uint8_t png[94] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
        0x44, 0x52, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x24, 0x08, 0x00, 0x00, 0x00,
        0x00, 0xde, 0x57, 0x27, 0xca, 0x40, 0x00, 0x00, 0x25, 0x49, 0x44, 0x41, 0x54, 0x78,
        0x5e, 0x63, 0x64, 0x60, 0x23, 0x0e, 0x30, 0x31, 0x10, 0x09, 0x46, 0x15, 0xe2, 0x0d,
        0xa8, 0xd1, 0xe0, 0x19, 0x0d, 0x1e, 0x8c, 0x10, 0x18, 0x4d, 0x14, 0xa3, 0x89, 0x82,
        0xfc, 0x44, 0x01, 0x00, 0x07, 0xa4, 0x01, 0x32, 0x86, 0x99, 0xa9, 0x8a, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
    clnet_test_write_file(at("h/a/chunk.png"), png, sizeof png);
    static const char pgm[] = "P5\n30000 30000\n255\n0123456789";
    clnet_test_write_file(at("h/a/huge.pgm"), pgm, sizeof pgm - 1);
    uint8_t bmp[64] = {'B', 'M'};
    const uint32_t fields[][2] = {{2, 64}, {10, 54}, {14, 40}, {18, 20000}, {22, 20000}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; ++i)
        for (int k = 0; k < 4; ++k)
            bmp[fields[i][0] + (uint32_t)k] = (uint8_t)(fields[i][1] >> (8 * k));
    bmp[26] = 1;  /* planes */
    bmp[28] = 24; /* bits per pixel */
    clnet_test_write_file(at("h/b/huge.bmp"), bmp, sizeof bmp);
    clnet_test_log log = {0, 0, ""};
    const clnet_dataset_options opt = {.log = clnet_test_log_line, .log_user = &log};
    clnet_dataset *d = clnet_test_open(at("h"), NULL, &opt);
    cr_expect_eq(clnet_dataset_size(d), 5);
    cr_expect_eq(read_all(d), 2);
    cr_expect_eq(clnet_dataset_skipped(d), 3);
    /* Each named with its reason (the decoders' own words: tests/unit/test_decode.c). */
    const char *const files[] = {"h/a/chunk.png", "h/a/huge.pgm", "h/b/huge.bmp"};
    for (int k = 0; k < 3; ++k)
        cr_expect_not_null(strstr(log.text, at(files[k])), "%s not in: %s", files[k], log.text);
    clnet_dataset_destroy(d);
}
