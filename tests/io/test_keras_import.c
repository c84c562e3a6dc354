/* test_keras_import.c - the Keras importer (src/io/keras_*.c) end to end on the fixtures
 * of tests/keras/fixtures (made by tests/keras/make_fixtures.py, in the layouts Keras 2,
 * Keras 3 and tfjs-converter write, with the outputs of an independent PyTorch reading of
 * Keras's semantics): every layout of every fixture gives the reference's outputs;
 * keras.applications' ResNet50 and MobileNetV2 have Keras's totals; weights-only files
 * load onto models of the same architecture (the zoo's); what clnet cannot run is one
 * error naming every layer; hostile files get errors that say what is wrong. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/keras.h"
#include "plan/plan.h"
#include "support/models.h"
#include "support/tempdir.h"

TestSuite(keras_import, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir, .timeout = 900);

#define FIXTURES CLNET_SOURCE_DIR "/tests/keras/fixtures"

static cJSON *info_of(const char *dir)
{
    char path[600];
    size_t n;
    snprintf(path, sizeof path, "%s/info.json", dir);
    char *text = (char *)clnet_test_read_file(path, &n);
    cr_assert_not_null(text, "no %s", path);
    cJSON *info = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(info, "%s is not JSON", path);
    return info;
}

/* m's outputs for dir's input.bin (Keras's raw NHWC input, batch from info.json), the
 * model's normalization applied as predict would (pixel p = x / 255). *count outputs. */
static float *outputs(clnet_model *m, const char *dir, size_t *count)
{
    const cJSON *info = info_of(dir);
    const int batch = cJSON_GetObjectItem(info, "batch")->valueint;
    const clnet_shape s = clnet_graph_layer_shape(m->graph, m->input_layer);
    char path[600];
    size_t bytes;
    snprintf(path, sizeof path, "%s/input.bin", dir);
    float *x = (float *)clnet_test_read_file(path, &bytes);
    const size_t n = (size_t)batch * s.h * s.w * s.c;
    cr_assert_eq(bytes, n * sizeof *x, "%s: %zu bytes, want %zu", path, bytes, n * sizeof *x);
    float mean[4], std[4];
    clnet_model_normalization(m, mean, std);
    for (size_t i = 0; i < n; ++i) {
        const size_t c = i % (size_t)s.c;
        if (mean[c] != 0 || std[c] != 1)
            x[i] = (x[i] / 255.0f - mean[c]) / std[c];
    }
    clnet_tensor *t = clnet_test_tensor(m->ctx, (clnet_shape){batch, s.h, s.w, s.c}, x), *y;
    cr_assert_eq(clnet_model_forward(m, t, 0, &y), CLNET_OK, "%s: %s", dir,
                 clnet_context_error(m->ctx));
    const clnet_shape ys = clnet_tensor_shape(y);
    *count = (size_t)ys.n * ys.h * ys.w * ys.c;
    float *got = malloc(*count * sizeof *got);
    clnet_test_read(y, got);
    clnet_tensor_destroy(t);
    free(x);
    cJSON_Delete((cJSON *)info);
    return got;
}

/* How far m's outputs are from expected.bin in dir (relative). */
static double against_expected(clnet_model *m, const char *dir, const char *expected_dir)
{
    size_t n, bytes;
    float *got = outputs(m, dir, &n);
    char path[1024];
    snprintf(path, sizeof path, "%s/expected.bin", expected_dir);
    float *want = (float *)clnet_test_read_file(path, &bytes);
    cr_assert_not_null(want, "no %s", path);
    cr_assert_eq(bytes, n * sizeof *want, "%s: %zu outputs, the model gives %zu", path,
                 bytes / sizeof *want, n);
    const double e = clnet_test_scaled_diff(got, want, n);
    free(got);
    free(want);
    return e;
}

static int exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* The layouts a fixture may have, each a file under its directory, with the directory
 * of its expected.bin ("" the fixture's own). */
static const char *const layouts[][2] = {
    {"model.h5", ""},
    {"model.keras", ""},
    {"model_keras3.h5", ""},
    {"tfjs/model.json", ""},
    {"tfjs_uint8/model.json", "/tfjs_uint8"},
    {"tfjs_uint16/model.json", "/tfjs_uint16"},
    {"tfjs_float16/model.json", "/tfjs_float16"},
};

Test(keras_import, every_layout_gives_the_references_outputs)
{
    clnet_context *ctx = clnet_test_device();
    DIR *d = opendir(FIXTURES);
    cr_assert_not_null(d, "no %s", FIXTURES);
    int fixtures = 0, files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char dir[512], path[700], expected_dir[600];
        snprintf(dir, sizeof dir, "%s/%s", FIXTURES, e->d_name);
        snprintf(path, sizeof path, "%s/expected.bin", dir);
        if (e->d_name[0] == '.' || !exists(path))
            continue;
        ++fixtures;
        for (size_t k = 0; k < sizeof layouts / sizeof *layouts; ++k) {
            snprintf(path, sizeof path, "%s/%s", dir, layouts[k][0]);
            if (!exists(path))
                continue;
            snprintf(expected_dir, sizeof expected_dir, "%.500s%.60s", dir, layouts[k][1]);
            clnet_model *m = NULL;
            if (clnet_model_import_keras(ctx, path, NULL, NULL, &m) != CLNET_OK) {
                cr_expect_fail("%s: %s", path, clnet_context_error(ctx));
                continue;
            }
            const double err = against_expected(m, dir, expected_dir);
            cr_expect_lt(err, 1e-4, "%s/%s: outputs differ from the reference's by %.3g", e->d_name,
                         layouts[k][0], err);
            clnet_model_destroy(m);
            ++files;
        }
    }
    closedir(d);
    /* Sequential, Functional, MobileNet and separable blocks, nested models, Rescaling
     * and Normalization, split layer_names: a missing directory must not pass unnoticed. */
    cr_expect_geq(fixtures, 7, "only %d fixtures in %s", fixtures, FIXTURES);
    cr_expect_geq(files, fixtures, "only %d files", files);
}

/* Keras's own totals of the keras.applications models (BN statistics non-trainable). */
Test(keras_import, applications_have_keras_totals)
{
    static const struct {
        const char *file;
        int64_t total, trainable;
    } cases[] = {
        {"resnet50_app/model.h5", 25636712, 25583592},
        {"resnet50_app/model.keras", 25636712, 25583592},
        {"mobilenetv2_app/model.h5", 3538984, 3504872},
        {"mobilenetv2_app/model.keras", 3538984, 3504872},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        clnet_graph *g = NULL;
        char err[4096];
        char path[600];
        snprintf(path, sizeof path, "%s/%s", FIXTURES, cases[i].file);
        cr_assert_eq(clnet_graph_from_keras(path, NULL, &g, err, sizeof err), CLNET_OK, "%s", err);
        const clnet_param_counts c = clnet_graph_params(g);
        cr_expect_eq(c.total, cases[i].total, "%s: %lld", cases[i].file, (long long)c.total);
        cr_expect_eq(c.trainable, cases[i].trainable, "%s: %lld trainable", cases[i].file,
                     (long long)c.trainable);
        clnet_graph_destroy(g);
    }
}

/* A weights-only file gives the model of the same architecture the whole model file's
 * outputs: by name, and in order when the names differ. */
Test(keras_import, weights_only_files_load_onto_the_same_architecture)
{
    clnet_context *ctx = clnet_test_device();
    static const char *const names[] = {"sequential_basic", "finetune_sequential",
                                        "rescaling_nested"};
    int tried = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; ++i) {
        char dir[512], model[600], weights[600];
        snprintf(dir, sizeof dir, "%s/%s", FIXTURES, names[i]);
        snprintf(model, sizeof model, "%s/model.h5", dir);
        snprintf(weights, sizeof weights, "%s/weights.h5", dir);
        if (!exists(weights))
            continue;
        clnet_model *whole = NULL;
        if (clnet_model_import_keras(ctx, model, NULL, NULL, &whole) != CLNET_OK)
            continue; /* a layer clnet lacks (listed by another test) */
        clnet_model *fresh = NULL;
        cr_assert_eq(clnet_model_create(ctx, whole->graph, NULL, &fresh), CLNET_OK);
        float mean[4], std[4]; /* a Rescaling layer's, which the weights file has not */
        clnet_model_normalization(whole, mean, std);
        clnet_model_set_normalization(fresh, mean, std, clnet_graph_layer_shape(whole->graph, 0).c);
        int loaded = 0;
        cr_assert_eq(clnet_model_load_keras_weights(fresh, weights, &loaded), CLNET_OK, "%s: %s",
                     weights, clnet_context_error(ctx));
        cr_expect_gt(loaded, 0);
        size_t n, n2;
        float *a = outputs(whole, dir, &n), *b = outputs(fresh, dir, &n2);
        cr_assert_eq(n, n2);
        cr_expect_eq(clnet_test_scaled_diff(a, b, n), 0, "%s: weights.h5 gives other outputs",
                     names[i]);
        free(a), free(b);
        clnet_model_destroy(fresh);
        clnet_model_destroy(whole);
        ++tried;
    }
    cr_expect_geq(tried, 3);
}

/* keras.applications' weights-only files onto the zoo's Keras-style models: MobileNetV2
 * has keras.applications' layers; the zoo's ResNet-50 is the tutorials' (no pool1_pad, an
 * average pool and flatten before the head), whose weights are the same at 64x64. */
Test(keras_import, application_weights_load_onto_the_zoo)
{
    clnet_context *ctx = clnet_test_device();
    static const struct {
        const char *zoo, *file;
        int h, layers;
    } cases[] = {
        {"mobilenetv2", "mobilenetv2_app/weights.h5", 224, 0},
        {"resnet50", "resnet50_app/weights.h5", 64, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        const clnet_zoo_options z = {cases[i].h, cases[i].h, 3, 1000, "keras", 0, 0};
        clnet_graph *g = NULL;
        char err[1024], path[600];
        cr_assert_eq(clnet_zoo_build(cases[i].zoo, &z, &g, err, sizeof err), CLNET_OK, "%s", err);
        clnet_model *m = NULL;
        cr_assert_eq(clnet_model_create(ctx, g, NULL, &m), CLNET_OK);
        snprintf(path, sizeof path, "%s/%s", FIXTURES, cases[i].file);
        int loaded = 0, layers = 0;
        cr_assert_eq(clnet_model_load_keras_weights(m, path, &loaded), CLNET_OK, "%s: %s", path,
                     clnet_context_error(ctx));
        for (int w = 0; w < m->n_weights; ++w)
            layers += w == 0 || strcmp(m->info[w].layer, m->info[w - 1].layer);
        cr_expect_eq(loaded, layers, "%s: %d of %d layers loaded", path, loaded, layers);
        clnet_model_destroy(m);
        clnet_graph_destroy(g);
    }
}

/* One error names every layer clnet cannot run, with its class and the key at fault. */
Test(keras_import, unsupported_layers_are_one_error)
{
    clnet_graph *g = NULL;
    char err[4096];
    cr_assert_eq(
        clnet_graph_from_keras(FIXTURES "/unsupported/model.h5", NULL, &g, err, sizeof err),
        CLNET_ERR_UNSUPPORTED);
    cr_expect_null(g);
    cr_expect(strstr(err, "4 layers") &&
                  strstr(err, "'conv_dilated' (Conv2D): config key 'dilation_rate' = 2, 2") &&
                  strstr(err, "'upsample' (UpSampling2D)") &&
                  strstr(err, "'deconv' (Conv2DTranspose)") &&
                  strstr(err, "'conv_channels_first' (Conv2D): config key 'data_format' = "
                              "'channels_first'"),
              "%s", err);
}

/* m's logits for x, *n of them (malloc'd). */
static float *logits(clnet_model *m, clnet_tensor *x, size_t *n)
{
    clnet_tensor *y = NULL;
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK, "%s", clnet_context_error(m->ctx));
    const clnet_shape s = clnet_tensor_shape(y);
    *n = (size_t)s.n * s.h * s.w * s.c;
    float *out = malloc(*n * sizeof *out);
    clnet_test_read(y, out);
    return out;
}

/* Every zoo model with the Keras style, saved by clnet and written in each Keras layout by
 * tests/keras/from_clnet.py (Debian's h5py), imports back to clnet's own logits. */
Test(keras_import, zoo_models_come_back_from_every_layout, .timeout = 1800)
{
    clnet_context *ctx = clnet_test_device();
    static const char *const zoo[] = {"resnet18",  "resnet34",  "resnet50",
                                      "resnet101", "resnet152", "mobilenetv2"};
    static const char *const files[] = {"model.h5", "model.keras", "tfjs/model.json"};
    for (size_t i = 0; i < sizeof zoo / sizeof *zoo; ++i) {
        if (clnet_test_sanitize_skips(zoo[i]))
            continue;
        const clnet_zoo_options z = {64, 64, 3, 10, "keras", 0, 0};
        clnet_graph *g = NULL;
        char err[1024], saved[600], dir[600], cmd[2048], path[700];
        cr_assert_eq(clnet_zoo_build(zoo[i], &z, &g, err, sizeof err), CLNET_OK, "%s", err);
        clnet_model *m = NULL;
        cr_assert_eq(clnet_model_create(ctx, g, NULL, &m), CLNET_OK);
        clnet_test_randomize_weights(m, 7 + i);
        snprintf(saved, sizeof saved, "%s", clnet_test_path("zoo.safetensors"));
        snprintf(dir, sizeof dir, "%s/%s", clnet_test_path("keras"), zoo[i]);
        cr_assert_eq(clnet_model_save(m, saved), CLNET_OK, "%s", clnet_context_error(ctx));
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/keras/from_clnet.py '%s' '%s'",
                 CLNET_SOURCE_DIR, saved, dir);
        cr_assert_eq(system(cmd), 0, "%s failed", cmd);
        clnet_tensor *x = clnet_test_input(ctx, g, 2, 11);
        size_t n, n2;
        float *want = logits(m, x, &n);
        for (size_t k = 0; k < sizeof files / sizeof *files; ++k) {
            snprintf(path, sizeof path, "%s/%s", dir, files[k]);
            clnet_model *back = NULL;
            const clnet_status st = clnet_model_import_keras(ctx, path, NULL, NULL, &back);
            cr_assert_eq(st, CLNET_OK, "%s: %s", path, clnet_context_error(ctx));
            float *got = logits(back, x, &n2);
            cr_assert_eq(n, n2);
            const double e = clnet_test_scaled_diff(got, want, n);
            cr_expect_lt(e, 1e-5, "%s %s: logits differ by %.3g", zoo[i], files[k], e);
            free(got);
            clnet_model_destroy(back);
        }
        /* The weights-only file onto the zoo model, by layer name. */
        clnet_model *fresh = NULL;
        int loaded = 0;
        cr_assert_eq(clnet_model_create(ctx, g, NULL, &fresh), CLNET_OK);
        snprintf(path, sizeof path, "%s/weights.h5", dir);
        cr_assert_eq(clnet_model_load_keras_weights(fresh, path, &loaded), CLNET_OK, "%s: %s", path,
                     clnet_context_error(ctx));
        float *got = logits(fresh, x, &n2);
        cr_expect_eq(clnet_test_scaled_diff(got, want, n), 0, "%s weights.h5", zoo[i]);
        free(got);
        free(want);
        clnet_tensor_destroy(x);
        clnet_model_destroy(fresh);
        clnet_model_destroy(m);
        clnet_graph_destroy(g);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, saved);
        cr_assert_eq(system(cmd), 0);
    }
}

/* Damaged and hostile files (tests/keras/fixtures/hostile/README.md) get errors that name
 * the file and what is wrong, and no model. */
Test(keras_import, hostile_files_get_clear_errors)
{
    clnet_context *ctx = clnet_test_device();
    static const struct {
        const char *file, *says[2];
    } cases[] = {
        {"truncated.h5", {"truncated.h5' is not an HDF5 file", "damaged or truncated"}},
        {"not_hdf5.h5", {"not_hdf5.h5' is not an HDF5 file", ""}},
        {"config_not_json.h5", {"config_not_json.h5", "model_config is not JSON"}},
        {"missing_weights.h5", {"kernel of layer 'dense'", "kernel:0 is missing"}},
        {"wrong_shape.h5", {"should be 3x3x3x8", "is 3x3x3x6"}},
        {"no_weights.keras", {"no_weights.keras' has no member model.weights.h5", ""}},
        {"missing_vars.keras", {"layer 'dense_1' (Dense)", "/layers/dense_1/vars/0"}},
        {"truncated.keras", {"truncated.keras' is not a zip archive", ""}},
        {"tfjs_missing_shard/model.json", {"group1-shard3of3.bin", "No such file"}},
        {"tfjs_short_shard/model.json", {"4500 bytes", "hold 4400"}},
        {"tfjs_huge_shape/model.json", {"batch_normalization/gamma", "2^31 values"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        char path[600];
        snprintf(path, sizeof path, "%s/hostile/%s", FIXTURES, cases[i].file);
        clnet_model *m = NULL;
        cr_expect_neq(clnet_model_import_keras(ctx, path, NULL, NULL, &m), CLNET_OK, "%s",
                      cases[i].file);
        cr_expect_null(m);
        const char *err = clnet_context_error(ctx);
        for (int k = 0; k < 2; ++k)
            cr_expect(strstr(err, cases[i].says[k]) != NULL, "%s: '%s' not in: %s", cases[i].file,
                      cases[i].says[k], err);
        clnet_model_destroy(m);
    }
}
