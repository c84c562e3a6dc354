/* test_model_file.c - model files (src/io/model_file.c): save -> load predicts bit for
 * bit what the saved model predicts, with the same weights, labels and normalization;
 * the file has the safetensors layout Python's reader expects; broken files and failed
 * saves give errors naming the file and the problem and change nothing. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "plan/plan.h"
#include "support/models.h"
#include "support/rewrite.h"
#include "support/tempdir.h"

TestSuite(model_file, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir, .timeout = 600);

static const char *const labels[5] = {"cat", "dog", "a, \"quoted\" [name]", "\xc3\xa9l\xc3\xa8ve",
                                      "line\nbreak"};
static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};

/* A small model with random weights (BN moving statistics included), labels and
 * normalization, on the test device. */
static clnet_model *small_model(clnet_context *ctx, int mobile, clnet_graph **g)
{
    *g = mobile ? clnet_test_small_mobilenet(17, 15, 3, 5) : clnet_test_small_resnet(13, 11, 3, 5);
    clnet_model *m = clnet_test_model(ctx, *g, 1, 1, 7);
    clnet_test_randomize_weights(m, 99);
    cr_assert_eq(clnet_model_set_labels(m, labels, 5), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet_model_set_normalization(m, mean, std, 3), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    cr_assert_eq(clnet_model_set_center_crop(m, 0.875f), CLNET_OK);
    return m;
}

/* Inference on a fixed batch of 3, on the host. */
static float *predict(clnet_model *m, clnet_context *ctx, size_t *count)
{
    clnet_shape s = clnet_graph_layer_shape(clnet_model_graph(m), 0);
    s.n = 3;
    float *xs = clnet_test_random((size_t)s.n * s.h * s.w * s.c, 5);
    clnet_tensor *x = clnet_test_tensor(ctx, s, xs), *y = NULL;
    clnet_status st = clnet_model_forward(m, x, 0, &y);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    *count = clnet_tensor_count(y);
    float *out = clnet_test_host(y);
    clnet_tensor_destroy(x);
    free(xs);
    return out;
}

static void save(clnet_model *m, const char *path)
{
    clnet_status st = clnet_model_save(m, path);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(m->ctx));
}

static clnet_model *load(clnet_context *ctx, const char *path)
{
    const clnet_model_options opt = {12345, 0, 0}; /* another seed: nothing comes from it */
    clnet_model *m = NULL;
    clnet_status st = clnet_model_load(ctx, path, &opt, &m);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    return m;
}

static void round_trip(int mobile)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    clnet_model *a = small_model(ctx, mobile, &g);
    size_t na = 0, nb = 0;
    float *ya = predict(a, ctx, &na); /* folds BN before the save: the file has raw weights */
    const char *path = clnet_test_path("model.safetensors");
    save(a, path);
    clnet_model *b = load(ctx, path);
    float *yb = predict(b, ctx, &nb);
    cr_assert_eq(na, nb);
    for (size_t i = 0; i < na; ++i)
        cr_assert(ya[i] == yb[i], "output %zu: %.9g saved, %.9g loaded", i, (double)ya[i],
                  (double)yb[i]);

    cr_assert_eq(clnet_model_weight_count(b), clnet_model_weight_count(a));
    for (int i = 0; i < clnet_model_weight_count(a); ++i) {
        clnet_weight_info ia, ib;
        clnet_tensor *ta = NULL, *tb = NULL;
        cr_assert_eq(clnet_model_weight(a, i, &ia, &ta, NULL), CLNET_OK);
        cr_assert_eq(clnet_model_weight(b, i, &ib, &tb, NULL), CLNET_OK);
        cr_assert_str_eq(ia.layer, ib.layer);
        cr_assert_str_eq(ia.name, ib.name);
        cr_assert_eq(clnet_tensor_count(ta), clnet_tensor_count(tb));
        float *wa = clnet_test_host(ta), *wb = clnet_test_host(tb);
        for (size_t k = 0; k < clnet_tensor_count(ta); ++k)
            cr_assert(wa[k] == wb[k], "%s/%s[%zu]", ia.layer, ia.name, k);
        free(wa);
        free(wb);
    }

    cr_assert_eq(clnet_model_label_count(b), 5);
    for (int i = 0; i < 5; ++i)
        cr_expect_str_eq(clnet_model_label(b, i), labels[i]);
    float m2[3], s2[3];
    clnet_model_normalization(b, m2, s2);
    for (int k = 0; k < 3; ++k)
        cr_expect(m2[k] == mean[k] && s2[k] == std[k], "channel %d", k);
    cr_expect(clnet_model_center_crop(b) == 0.875f, "%g", (double)clnet_model_center_crop(b));

    /* The graph comes back the same: its spec text is identical. */
    char *sa = NULL, *sb = NULL;
    cr_assert_eq(clnet_graph_to_spec(clnet_model_graph(a), &sa), CLNET_OK);
    cr_assert_eq(clnet_graph_to_spec(clnet_model_graph(b), &sb), CLNET_OK);
    cr_expect_str_eq(sa, sb);
    clnet_free(sa);
    clnet_free(sb);
    free(ya);
    free(yb);
    clnet_model_destroy(a);
    clnet_model_destroy(b);
    clnet_graph_destroy(g);
}

Test(model_file, resnet_round_trip_predicts_bit_identically)
{
    round_trip(0);
}

Test(model_file, mobilenet_round_trip_predicts_bit_identically)
{
    round_trip(1);
}

/* A model without labels or normalization saves and loads as one. */
Test(model_file, defaults_round_trip)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(13, 11, 1, 4);
    clnet_model *a = clnet_test_model(ctx, g, 1, 1, 3);
    cr_expect_eq(clnet_model_label_count(a), 0);
    cr_expect_null(clnet_model_label(a, 0));
    float m1[1] = {9}, s1[1] = {9};
    clnet_model_normalization(a, m1, s1);
    cr_expect(m1[0] == 0.0f && s1[0] == 1.0f);
    save(a, clnet_test_path("plain.safetensors"));
    clnet_model *b = load(ctx, clnet_test_path("plain.safetensors"));
    cr_expect_eq(clnet_model_label_count(b), 0);
    clnet_model_normalization(b, m1, s1);
    cr_expect(m1[0] == 0.0f && s1[0] == 1.0f);
    cr_expect(clnet_model_center_crop(b) == 0.0f);
    /* No crop writes no key: the file is what a clnet before center_crop wrote. */
    size_t n = 0;
    char *bytes = (char *)clnet_test_read_file(clnet_test_path("plain.safetensors"), &n);
    int found = 0;
    for (size_t i = 0; i + 11 <= n && !found; ++i)
        found = !memcmp(bytes + i, "center_crop", 11);
    cr_expect(!found);
    free(bytes);
    clnet_model_destroy(a);
    clnet_model_destroy(b);
    clnet_graph_destroy(g);
}

Test(model_file, labels_and_normalization_are_checked)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(13, 11, 3, 5);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 3);
    cr_assert_eq(clnet_model_set_labels(m, labels, 5), CLNET_OK);
    cr_expect_eq(clnet_model_set_labels(m, labels, 4), CLNET_ERR_SHAPE);
    cr_expect(strstr(clnet_context_error(ctx), "4 labels for an output of 5 classes") != NULL, "%s",
              clnet_context_error(ctx));
    const char *const with_null[5] = {"a", "b", NULL, "d", "e"};
    cr_expect_eq(clnet_model_set_labels(m, with_null, 5), CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(clnet_context_error(ctx), "label 2 is NULL") != NULL);
    const char *const bad_utf8[5] = {"a", "b", "c", "\xff", "e"};
    cr_expect_eq(clnet_model_set_labels(m, bad_utf8, 5), CLNET_ERR_INVALID_ARG);
    cr_expect_str_eq(clnet_model_label(m, 2), labels[2], "a failed call keeps the old labels");
    cr_expect_null(clnet_model_label(m, 5));
    cr_expect_null(clnet_model_label(m, -1));
    cr_expect_eq(clnet_model_set_labels(m, NULL, 0), CLNET_OK, "0 clears the labels");
    cr_expect_eq(clnet_model_label_count(m), 0);

    cr_expect_eq(clnet_model_set_normalization(m, mean, std, 1), CLNET_ERR_SHAPE);
    cr_expect(strstr(clnet_context_error(ctx), "1 channels for an input of 3") != NULL, "%s",
              clnet_context_error(ctx));
    const float zero[3] = {0.2f, 0.0f, 0.2f};
    cr_expect_eq(clnet_model_set_normalization(m, mean, zero, 3), CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(clnet_context_error(ctx), "channel 1") != NULL);
    float m2[3], s2[3];
    clnet_model_normalization(m, m2, s2);
    cr_expect(m2[1] == 0.0f && s2[1] == 1.0f, "a failed call keeps the old normalization");

    cr_expect_eq(clnet_model_center_crop(m), 0.0f, "the default: the whole image");
    cr_expect_eq(clnet_model_set_center_crop(m, 1.5f), CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(clnet_context_error(ctx), "center crop 1.5 is not in [0, 1]") != NULL, "%s",
              clnet_context_error(ctx));
    cr_expect_eq(clnet_model_set_center_crop(m, NAN), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_model_set_center_crop(m, 1.0f), CLNET_OK);
    cr_expect_eq(clnet_model_center_crop(m), 1.0f);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* The layout a Python reader (safetensors.safe_open) expects, checked against the
 * format's definition rather than with our reader: u64 LE header length; a JSON
 * object padded with spaces so the data starts 8-aligned; string metadata; every
 * tensor F32 with data_offsets tiling the data section, little-endian floats. */
Test(model_file, the_file_has_the_safetensors_layout)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    clnet_model *m = small_model(ctx, 0, &g);
    const char *path = clnet_test_path("layout.safetensors");
    save(m, path);
    size_t n = 0;
    unsigned char *b = clnet_test_read_file(path, &n);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; ++i)
        hlen |= (uint64_t)b[i] << (8 * i);
    cr_assert_leq(8 + hlen, n);
    cr_expect_eq((8 + hlen) % 8, 0);
    cr_expect_eq(b[8], '{');
    cJSON *root = cJSON_ParseWithLength((const char *)b + 8, (size_t)hlen);
    cr_assert(cJSON_IsObject(root), "header is not a JSON object");

    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    cr_assert(cJSON_IsObject(meta));
    for (const cJSON *e = meta->child; e; e = e->next)
        cr_expect(cJSON_IsString(e), "metadata %s is not a string", e->string);
    cr_expect_str_eq(cJSON_GetObjectItem(meta, "format")->valuestring, "clnet");
    cr_expect_str_eq(cJSON_GetObjectItem(meta, "format_version")->valuestring, "1");
    cr_expect_str_eq(cJSON_GetObjectItem(meta, "input")->valuestring, "13,11,3");
    cr_expect_str_eq(cJSON_GetObjectItem(meta, "mean")->valuestring,
                     "0.485000014,0.456,0.405999988");
    char *spec = NULL;
    cr_assert_eq(clnet_graph_to_spec(g, &spec), CLNET_OK);
    cr_expect_str_eq(cJSON_GetObjectItem(meta, "spec")->valuestring, spec);
    clnet_free(spec);
    cJSON *names = cJSON_Parse(cJSON_GetObjectItem(meta, "labels")->valuestring);
    cr_assert(cJSON_IsArray(names) && cJSON_GetArraySize(names) == 5);
    for (int i = 0; i < 5; ++i)
        cr_expect_str_eq(cJSON_GetArrayItem(names, i)->valuestring, labels[i]);
    cJSON_Delete(names);

    /* Offsets tile the data section in header order (how clnet writes them). */
    uint64_t pos = 0;
    int tensors = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0)
            continue;
        ++tensors;
        cr_expect_str_eq(cJSON_GetObjectItem(e, "dtype")->valuestring, "F32", "%s", e->string);
        uint64_t count = 1;
        const cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItem(e, "shape")) count *= (uint64_t)d->valuedouble;
        const cJSON *off = cJSON_GetObjectItem(e, "data_offsets");
        cr_expect_eq((uint64_t)cJSON_GetArrayItem(off, 0)->valuedouble, pos, "%s", e->string);
        pos += count * 4;
        cr_expect_eq((uint64_t)cJSON_GetArrayItem(off, 1)->valuedouble, pos, "%s", e->string);
    }
    cr_expect_eq(tensors, clnet_model_weight_count(m));
    cr_expect_eq(8 + hlen + pos, n, "the data section is exactly the tensors");

    /* Names, shapes and bytes of two weights: a conv kernel (HWIO) and a BN vector. */
    const cJSON *kernel = cJSON_GetObjectItem(root, "conv2d/kernel");
    const cJSON *var = cJSON_GetObjectItem(root, "batch_norm/moving_variance");
    cr_assert(kernel && var, "conv2d/kernel and batch_norm/moving_variance");
    const int want_kernel[4] = {3, 3, 3, 8};
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(kernel, "shape")), 4);
    for (int d = 0; d < 4; ++d)
        cr_expect_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(kernel, "shape"), d)->valueint,
                     want_kernel[d]);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(var, "shape")), 1);
    cr_expect_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(var, "shape"), 0)->valueint, 8);
    for (int w = 0; w < clnet_model_weight_count(m); ++w) {
        clnet_weight_info info;
        clnet_tensor *t = NULL;
        cr_assert_eq(clnet_model_weight(m, w, &info, &t, NULL), CLNET_OK);
        const cJSON *e =
            strcmp(info.layer, "batch_norm") == 0 && strcmp(info.name, "moving_variance") == 0 ? var
            : strcmp(info.layer, "conv2d") == 0 ? kernel
                                                : NULL;
        if (!e)
            continue;
        float *host = clnet_test_host(t);
        const uint64_t begin =
            8 + hlen +
            (uint64_t)cJSON_GetArrayItem(cJSON_GetObjectItem(e, "data_offsets"), 0)->valuedouble;
        for (size_t k = 0; k < clnet_tensor_count(t); ++k) {
            uint32_t bits = 0;
            for (int i = 0; i < 4; ++i)
                bits |= (uint32_t)b[begin + 4 * k + (size_t)i] << (8 * i);
            float v;
            memcpy(&v, &bits, 4);
            cr_assert(v == host[k], "%s/%s[%zu]", info.layer, info.name, k);
        }
        free(host);
    }
    cJSON_Delete(root);
    free(b);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* ---- broken files ---- */

/* A broken copy of a good file (clnet_test_rewrite_file) and what loading it must say. */
typedef struct rewrite {
    clnet_test_edit edit;
    clnet_status want;
    const char *needle;
} rewrite;

static clnet_status zeros(void *user, int i, float *dst, size_t count, char *err, size_t len)
{
    (void)i;
    (void)err;
    (void)len;
    ++*(int *)user;
    memset(dst, 0, count * sizeof *dst);
    return CLNET_OK;
}

/* Loading path fails with want, *out NULL, the message naming the path and needle. */
static void expect_load_error(clnet_context *ctx, const char *path, clnet_status want,
                              const char *needle)
{
    clnet_model *m = (clnet_model *)&m;
    clnet_status st = clnet_model_load(ctx, path, NULL, &m);
    const char *msg = clnet_context_error(ctx);
    cr_expect_eq(st, want, "%s: got %s, want %s: %s", path, clnet_status_string(st),
                 clnet_status_string(want), msg);
    cr_expect_null(m, "%s: *out not NULL", path);
    cr_expect(strstr(msg, path) != NULL, "message \"%s\" should name %s", msg, path);
    cr_expect(strstr(msg, needle) != NULL, "message \"%s\" should say \"%s\"", msg, needle);
    if (st == CLNET_OK)
        clnet_model_destroy(m);
}

Test(model_file, broken_files_are_refused_with_the_file_and_the_problem)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    clnet_model *m = small_model(ctx, 0, &g);
    const char *good = clnet_test_path("good.safetensors"),
               *bad = clnet_test_path("bad.safetensors");
    save(m, good);

    static const rewrite cases[] = {
        {.edit = {.drop = "conv2d_1/kernel"},
         .want = CLNET_ERR_PARSE,
         .needle = "tensor 'conv2d_1/kernel' is missing"},
        {.edit = {.reshape = "conv2d/kernel", .rank = 4, .shape = {3, 3, 8, 3}},
         .want = CLNET_ERR_SHAPE,
         .needle = "tensor 'conv2d/kernel' has shape [3,3,8,3], the spec's weight has [3,3,3,8]"},
        {.edit = {.reshape = "logits/bias", .rank = 4, .shape = {1, 1, 1, 5}},
         .want = CLNET_ERR_SHAPE,
         .needle = "tensor 'logits/bias' has shape [1,1,1,5]"},
        {.edit = {.extra = "ghost/kernel"},
         .want = CLNET_ERR_PARSE,
         .needle = "tensor 'ghost/kernel' is not a weight"},
        {.edit = {.meta_key = "spec",
                  .meta_value = "[input_1]\nop = input\nshape = 13, 11, 3\n"
                                "[conv2d]\nop = conv2d\nfilterz = 8\n"},
         .want = CLNET_ERR_PARSE,
         .needle = "the architecture spec in __metadata__ does not parse: spec line"},
        {.edit = {.meta_key = "spec"},
         .want = CLNET_ERR_PARSE,
         .needle = "__metadata__ has no \"spec\""},
        {.edit = {.meta_key = "format", .meta_value = "pytorch"},
         .want = CLNET_ERR_PARSE,
         .needle = "not a clnet model"},
        {.edit = {.meta_key = "format_version", .meta_value = "2"},
         .want = CLNET_ERR_UNSUPPORTED,
         .needle = "format_version \"2\""},
        {.edit = {.meta_key = "labels", .meta_value = "[\"just one\"]"},
         .want = CLNET_ERR_SHAPE,
         .needle = "1 labels for an output of 5 classes"},
        {.edit = {.meta_key = "labels", .meta_value = "cat,dog"},
         .want = CLNET_ERR_PARSE,
         .needle = "labels is not a JSON array of strings"},
        {.edit = {.meta_key = "input", .meta_value = "32,32,3"},
         .want = CLNET_ERR_PARSE,
         .needle = "input \"32,32,3\" does not match"},
        {.edit = {.meta_key = "std", .meta_value = "0.2,0.2"},
         .want = CLNET_ERR_PARSE,
         .needle = "are not 3 numbers each"},
        {.edit = {.meta_key = "center_crop", .meta_value = "1.25"},
         .want = CLNET_ERR_PARSE,
         .needle = "center_crop \"1.25\" is not a number in [0, 1]"},
        {.edit = {.meta_key = "center_crop", .meta_value = "0.875x"},
         .want = CLNET_ERR_PARSE,
         .needle = "center_crop \"0.875x\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        clnet_test_rewrite_file(good, bad, &cases[i].edit);
        expect_load_error(ctx, bad, cases[i].want, cases[i].needle);
    }

    size_t n = 0;
    unsigned char *bytes = clnet_test_read_file(good, &n);
    const size_t cuts[] = {0, 5, 8, 200, n / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; ++i) {
        FILE *f = fopen(bad, "wb");
        cr_assert_eq(fwrite(bytes, 1, cuts[i], f), cuts[i]);
        fclose(f);
        expect_load_error(ctx, bad, CLNET_ERR_PARSE, cuts[i] < 8 ? "too few" : "truncated");
    }
    free(bytes);

    expect_load_error(ctx, clnet_test_dir, CLNET_ERR_IO, "a directory");
    expect_load_error(ctx, clnet_test_path("missing.safetensors"), CLNET_ERR_IO,
                      "No such file or directory");

    /* The good file still loads after all that. */
    clnet_model_destroy(load(ctx, good));
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* A file of no tensors whose spec declares a 16384 x 16384 dense layer (1 GiB of kernel):
 * refused naming the tensor and the sizes, before any model or weight exists.
 * Before, the load built every weight of the spec (20 s and 2.2 GB) to report the tensor
 * missing. ru_maxrss says how much memory the process ever held. */
Test(model_file, a_spec_larger_than_the_file_is_refused_before_allocating)
{
    clnet_context *ctx = clnet_test_device();
    const char *path = clnet_test_path("huge.safetensors");
    static const char *const meta[][2] = {
        {"format", "clnet"},
        {"format_version", "1"},
        {"spec", "[in]\nop = input\nshape = 1, 1, 16384\n[d]\nop = dense\nunits = 16384\n"}};
    char err[256] = "";
    cr_assert_eq(clnet__st_save(path, NULL, 0, meta, 3, NULL, NULL, err, sizeof err), CLNET_OK,
                 "%s", err);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_expect_lt(sb.st_size, 200, "the file is %lld bytes", (long long)sb.st_size);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    expect_load_error(ctx, path, CLNET_ERR_PARSE,
                      "tensor 'd/kernel' is missing (the spec's layer 'd' has a weight 'kernel' "
                      "of shape [1,1,16384,16384]; the spec's weights need 1073807360 bytes, the "
                      "file holds 0 bytes of tensor data)");
    getrusage(RUSAGE_SELF, &after);
    const long grown_kb = after.ru_maxrss - before.ru_maxrss;
    cr_expect_lt(grown_kb, 64 * 1024, "the refused load held %ld KiB more", grown_kb);

    /* With its kernel present but not the bias, the message names the bias. */
    static const char *const small[][2] = {
        {"format", "clnet"},
        {"format_version", "1"},
        {"spec", "[in]\nop = input\nshape = 1, 1, 3\n[d]\nop = dense\nunits = 2\n"}};
    const clnet__st_entry kernel = {"d/kernel", 4, {1, 1, 3, 2}};
    int calls = 0;
    cr_assert_eq(clnet__st_save(path, &kernel, 1, small, 3, zeros, &calls, err, sizeof err),
                 CLNET_OK, "%s", err);
    expect_load_error(ctx, path, CLNET_ERR_PARSE,
                      "tensor 'd/bias' is missing (the spec's layer 'd' has a weight 'bias' of "
                      "shape [2]; the spec's weights need 32 bytes, the file holds 24");
}

/* A save that fails leaves the file it would have replaced as it was. */
Test(model_file, a_failed_save_keeps_the_existing_file)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    clnet_model *m = small_model(ctx, 0, &g);
    const char *path = clnet_test_path("model.safetensors");
    save(m, path);
    size_t n0 = 0, n1 = 0;
    unsigned char *before = clnet_test_read_file(path, &n0);

    clnet_test_randomize_weights(m, 1234); /* a save that succeeded would change the file */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    cr_assert_eq(mkdir(tmp, 0755), 0); /* the temporary file cannot be created */
    cr_expect_eq(clnet_model_save(m, path), CLNET_ERR_IO);
    const char *msg = clnet_context_error(ctx);
    cr_expect(strstr(msg, "saving model '") && strstr(msg, path) &&
                  strstr(msg, "cannot create the temporary file"),
              "%s", msg);
    cr_assert_eq(rmdir(tmp), 0);
    unsigned char *after = clnet_test_read_file(path, &n1);
    cr_expect(n0 == n1 && memcmp(before, after, n0) == 0, "the existing file changed");
    free(after);

    cr_expect_eq(clnet_model_save(m, clnet_test_path("no/such/dir/model.safetensors")),
                 CLNET_ERR_IO);
    cr_expect(strstr(clnet_context_error(ctx), "no/such/dir/model.safetensors") != NULL, "%s",
              clnet_context_error(ctx));

    /* Saving over a directory fails at the rename: the temporary file goes too. */
    const char *sub = clnet_test_path("subdir");
    cr_assert_eq(mkdir(sub, 0755), 0);
    cr_expect_eq(clnet_model_save(m, sub), CLNET_ERR_IO);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", sub, (long)getpid());
    cr_expect_neq(access(tmp, F_OK), 0, "the temporary file was left behind");

    /* And the old file still loads to the old model. */
    clnet_model *old = load(ctx, path);
    save(old, clnet_test_path("again.safetensors"));
    unsigned char *again = clnet_test_read_file(clnet_test_path("again.safetensors"), &n1);
    cr_expect(n0 == n1 && memcmp(before, again, n0) == 0, "load -> save changed the bytes");
    free(again);
    free(before);
    clnet_model_destroy(old);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}
