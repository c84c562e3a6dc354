/* test_keras_v3.c - Keras 3's .keras reader (src/io/keras_v3.c, keras_v3_path.c) with no
 * device: zips made here (tests/support/keras_file.c) in the layout of Keras's
 * saving_lib.py, their weights read through the source's callbacks as the importer reads
 * them; the path of each layer's variables, also where the importer's path is wrong and in
 * tf.keras 2.13's and 2.14's layouts; and an error naming the file, the member, the layer
 * and the weight for each way a file can be wrong. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/keras.h"
#include "io/keras_v3.h"
#include "support/keras_file.h"
#include "support/tempdir.h"

TestSuite(keras_v3, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

/* Weight values: distinct for each dataset (seed) and element. */
static float value(int seed, int64_t i)
{
    return (float)seed + 0.001f * (float)i;
}

static void put_floats(clnet_test_h5 *f, const char *path, int seed, int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int d = 0; d < rank; ++d)
        n *= dims[d];
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; ++i)
        v[i] = value(seed, i);
    cr_assert_eq(clnet_test_h5_floats(f, path, rank, dims, v), 0, "%s", path);
    free(v);
}

static void put_group(clnet_test_h5 *f, const char *path, const char *name)
{
    cr_assert_eq(clnet_test_h5_group(f, path, name), 0, "%s", path);
}

static const int64_t conv_dims[] = {3, 3, 2, 4}, vec4[] = {4}, dense_dims[] = {4, 5};

/* A Sequential model as Keras 3 saves it: the config lists its InputLayer, saving_lib's
 * walk leaves it out (Sequential.layers does); each layer's vars group is labelled with its
 * name (Keras 3.6 and later), also the empty one of ReLU and the model's own at /vars. */
static const char sequential_config[] =
    "{\"module\": \"keras\", \"class_name\": \"Sequential\", \"registered_name\": null,"
    " \"config\": {\"name\": \"seq\", \"layers\": ["
    "  {\"module\": \"keras.layers\", \"class_name\": \"InputLayer\","
    "   \"config\": {\"batch_shape\": [null, 8, 8, 2], \"name\": \"input\"}},"
    "  {\"module\": \"keras.layers\", \"class_name\": \"Conv2D\", \"config\": {\"name\": \"c1\"}},"
    "  {\"module\": \"keras.layers\", \"class_name\": \"BatchNormalization\","
    "   \"config\": {\"name\": \"bn\"}},"
    "  {\"module\": \"keras.layers\", \"class_name\": \"ReLU\", \"config\": {\"name\": \"act\"}},"
    "  {\"module\": \"keras.layers\", \"class_name\": \"Conv2D\", \"config\": {\"name\": \"c2\"}},"
    "  {\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"config\": {\"name\": \"fc\"}}"
    "]}}";
static const char metadata[] =
    "{\"keras_version\": \"3.10.0\", \"date_saved\": \"2025-05-01@10:00:00\"}";

/* sequential_config's weights; with names the groups carry the layer names. */
static unsigned char *sequential_h5(int names, int compact, size_t *n)
{
    clnet_test_h5 *f = clnet_test_h5_create(compact);
    cr_assert_not_null(f);
    put_group(f, "/vars", names ? "seq" : NULL);
    put_group(f, "/layers/conv2d/vars", names ? "c1" : NULL);
    put_floats(f, "/layers/conv2d/vars/0", 1, 4, conv_dims);
    put_floats(f, "/layers/conv2d/vars/1", 2, 1, vec4);
    put_group(f, "/layers/batch_normalization/vars", names ? "bn" : NULL);
    for (int i = 0; i < 4; ++i) {
        char path[64];
        snprintf(path, sizeof path, "/layers/batch_normalization/vars/%d", i);
        put_floats(f, path, 3 + i, 1, vec4);
    }
    put_group(f, "/layers/re_lu/vars", names ? "act" : NULL);
    put_group(f, "/layers/conv2d_1/vars", names ? "c2" : NULL);
    put_floats(f, "/layers/conv2d_1/vars/0", 7, 4, conv_dims);
    put_group(f, "/layers/dense/vars", names ? "fc" : NULL);
    put_floats(f, "/layers/dense/vars/0", 8, 2, dense_dims);
    put_floats(f, "/layers/dense/vars/1", 9, 1, (int64_t[]){5});
    unsigned char *image = clnet_test_h5_finish(f, n);
    cr_assert_not_null(image);
    return image;
}

/* The zip bytes of config, metadata and the weights image. */
static unsigned char *keras_zip(const char *config, const char *meta, const unsigned char *h5,
                                size_t h5_size, int deflate, size_t *n)
{
    unsigned char *zip = clnet_test_keras(config, meta, h5, h5_size, deflate, n);
    cr_assert_not_null(zip);
    return zip;
}

static unsigned char *sequential_zip(size_t *n)
{
    size_t h5_size;
    unsigned char *h5 = sequential_h5(1, 0, &h5_size);
    unsigned char *zip = keras_zip(sequential_config, metadata, h5, h5_size, 0, n);
    free(h5);
    return zip;
}

/* A layer of the outermost model, as the importer makes it. */
static clnet__keras_layer_ref ref1(const char *name, const char *cls, const char *path)
{
    clnet__keras_layer_ref r = {.depth = 1, .names = {name}, .classes = {cls}};
    snprintf(r.v3_path, sizeof r.v3_path, "%s", path);
    return r;
}

/* A layer of a model nested in the outermost one. */
static clnet__keras_layer_ref ref2(const char *model, const char *model_cls, const char *name,
                                   const char *cls, const char *path)
{
    clnet__keras_layer_ref r = {.depth = 2, .names = {model, name}, .classes = {model_cls, cls}};
    snprintf(r.v3_path, sizeof r.v3_path, "%s", path);
    return r;
}

static clnet_status open_zip(const unsigned char *zip, size_t n, cJSON **model,
                             clnet__keras_source *src, char *err, size_t len)
{
    return clnet__keras_v3_open(NULL, zip, n, model, src, err, len);
}

/* Reads weight index of ref (dims) and checks it holds value(seed, i). */
static void expect_weight(const clnet__keras_source *src, const clnet__keras_layer_ref *ref,
                          int index, const char *role, int rank, const int64_t *dims, int seed)
{
    int64_t n = 1;
    for (int d = 0; d < rank; ++d)
        n *= dims[d];
    float *got = calloc((size_t)n, sizeof *got);
    char err[1024] = "";
    cr_assert_eq(src->read(src->ctx, ref, index, role, dims, rank, got, err, sizeof err), CLNET_OK,
                 "%s", err);
    for (int64_t i = 0; i < n; ++i)
        cr_assert_eq(got[i], value(seed, i), "%s[%lld]", role, (long long)i);
    free(got);
}

/* Reads weight index of ref, which must fail with st and a message holding each of the
 * NULL-terminated words. */
static void expect_read_error(const clnet__keras_source *src, const clnet__keras_layer_ref *ref,
                              int index, const char *role, int rank, const int64_t *dims,
                              clnet_status st, const char *const *words)
{
    float out[256];
    char err[1024] = "";
    cr_assert_eq(src->read(src->ctx, ref, index, role, dims, rank, out, err, sizeof err), st, "%s",
                 err);
    for (; *words; ++words)
        cr_assert_not_null(strstr(err, *words), "'%s' not in: %s", *words, err);
}

Test(keras_v3, reads_a_sequential_model)
{
    size_t n;
    unsigned char *zip = sequential_zip(&n);
    cJSON *model;
    clnet__keras_source src;
    char err[1024] = "";
    cr_assert_eq(open_zip(zip, n, &model, &src, err, sizeof err), CLNET_OK, "%s", err);
    free(zip);
    cr_assert_str_eq(cJSON_GetObjectItem(model, "class_name")->valuestring, "Sequential");
    /* metadata.json's version is put where Keras 2's configs have it, for the producer. */
    cr_assert_str_eq(cJSON_GetObjectItem(model, "keras_version")->valuestring, "3.10.0");
    /* The source keeps its own copy of the config: the model may go first. */
    cJSON_Delete(model);

    const clnet__keras_layer_ref c1 = ref1("c1", "Conv2D", "layers/conv2d"),
                                 bn =
                                     ref1("bn", "BatchNormalization", "layers/batch_normalization"),
                                 act = ref1("act", "ReLU", "layers/re_lu"),
                                 c2 = ref1("c2", "Conv2D", "layers/conv2d_1"),
                                 fc = ref1("fc", "Dense", "layers/dense"),
                                 input = ref1("input", "InputLayer", "layers/input_layer");
    cr_assert_eq(src.count(src.ctx, &c1), 2);
    cr_assert_eq(src.count(src.ctx, &bn), 4);
    cr_assert_eq(src.count(src.ctx, &act), 0);
    cr_assert_eq(src.count(src.ctx, &c2), 1);
    cr_assert_eq(src.count(src.ctx, &fc), 2);
    cr_assert_eq(src.count(src.ctx, &input), 0); /* no group: Sequential.layers leaves it out */
    expect_weight(&src, &c1, 0, "kernel", 4, conv_dims, 1);
    expect_weight(&src, &c1, 1, "bias", 1, vec4, 2);
    static const char *const roles[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    for (int i = 0; i < 4; ++i)
        expect_weight(&src, &bn, i, roles[i], 1, vec4, 3 + i);
    expect_weight(&src, &c2, 0, "kernel", 4, conv_dims, 7);
    expect_weight(&src, &fc, 0, "kernel", 2, dense_dims, 8);
    expect_weight(&src, &fc, 1, "bias", 1, (int64_t[]){5}, 9);
    /* Back to an earlier layer after others (the cache of the last layer found). */
    expect_weight(&src, &c1, 1, "bias", 1, vec4, 2);
    clnet__keras_v3_close(&src);
    cr_assert_null(src.ctx);
    clnet__keras_v3_close(&src); /* closing twice is harmless */
}

Test(keras_v3, reads_a_deflated_file_by_path)
{
    size_t h5_size, n;
    unsigned char *h5 = sequential_h5(0, 1, &h5_size);
    unsigned char *zip = keras_zip(sequential_config, NULL, h5, h5_size, 1, &n);
    const char *path = clnet_test_path("model.keras");
    clnet_test_write_file(path, zip, n);
    free(zip);
    free(h5);
    cJSON *model;
    clnet__keras_source src;
    char err[1024] = "";
    cr_assert_eq(clnet__keras_v3_open(path, NULL, 0, &model, &src, err, sizeof err), CLNET_OK, "%s",
                 err);
    cr_assert_null(cJSON_GetObjectItem(model, "keras_version")); /* no metadata.json */
    const clnet__keras_layer_ref c2 = ref1("c2", "Conv2D", "layers/conv2d_1");
    cr_assert_eq(src.count(src.ctx, &c2), 1);
    expect_weight(&src, &c2, 0, "kernel", 4, conv_dims, 7);
    clnet__keras_v3_close(&src);
    cJSON_Delete(model);
}

/* A Functional model with a Functional backbone in it (keras.applications under a new
 * head): the backbone's layers are under its own group, layers/functional/layers/... */
static const char nested_config[] =
    "{\"module\": \"keras.src.models.functional\", \"class_name\": \"Functional\","
    " \"config\": {\"name\": \"outer\", \"layers\": ["
    "  {\"class_name\": \"InputLayer\", \"name\": \"in\", \"config\": {\"name\": \"in\"}},"
    "  {\"class_name\": \"Functional\", \"name\": \"backbone\", \"config\": {\"name\": "
    "   \"backbone\", \"layers\": ["
    "    {\"class_name\": \"InputLayer\", \"name\": \"b_in\", \"config\": {}},"
    "    {\"class_name\": \"Conv2D\", \"name\": \"conv1\", \"config\": {}},"
    "    {\"class_name\": \"Conv2D\", \"name\": \"conv2\", \"config\": {}}]}},"
    "  {\"class_name\": \"Conv2D\", \"name\": \"head\", \"config\": {}},"
    "  {\"class_name\": \"Dense\", \"name\": \"fc\", \"config\": {}}]}}";

static unsigned char *nested_zip(size_t *n)
{
    clnet_test_h5 *f = clnet_test_h5_create(0);
    cr_assert_not_null(f);
    put_group(f, "/vars", NULL);
    put_group(f, "/layers/input_layer/vars", NULL);
    put_group(f, "/layers/functional/vars", NULL);
    put_group(f, "/layers/functional/layers/input_layer/vars", NULL);
    put_floats(f, "/layers/functional/layers/conv2d/vars/0", 1, 4, conv_dims);
    put_floats(f, "/layers/functional/layers/conv2d_1/vars/0", 2, 4, conv_dims);
    put_floats(f, "/layers/conv2d/vars/0", 3, 4, conv_dims);
    put_floats(f, "/layers/dense/vars/0", 4, 2, dense_dims);
    size_t h5_size;
    unsigned char *h5 = clnet_test_h5_finish(f, &h5_size);
    cr_assert_not_null(h5);
    unsigned char *zip = keras_zip(nested_config, metadata, h5, h5_size, 0, n);
    free(h5);
    return zip;
}

Test(keras_v3, reads_a_nested_model)
{
    size_t n;
    unsigned char *zip = nested_zip(&n);
    cJSON *model;
    clnet__keras_source src;
    char err[1024] = "";
    cr_assert_eq(open_zip(zip, n, &model, &src, err, sizeof err), CLNET_OK, "%s", err);
    const clnet__keras_layer_ref conv2 = ref2("backbone", "Functional", "conv2", "Conv2D",
                                              "layers/functional/layers/conv2d_1"),
                                 head = ref1("head", "Conv2D", "layers/conv2d"),
                                 backbone = ref1("backbone", "Functional", "layers/functional");
    cr_assert_eq(src.count(src.ctx, &conv2), 1);
    cr_assert_eq(src.count(src.ctx, &backbone), 0);
    expect_weight(&src, &conv2, 0, "kernel", 4, conv_dims, 2);
    expect_weight(&src, &head, 0, "kernel", 4, conv_dims, 3);
    /* With no path from the importer, the walk through the config finds them too. */
    const clnet__keras_layer_ref conv1 = ref2("backbone", "Functional", "conv1", "Conv2D", ""),
                                 fc = ref1("fc", "Dense", "");
    expect_weight(&src, &conv1, 0, "kernel", 4, conv_dims, 1);
    expect_weight(&src, &fc, 0, "kernel", 2, dense_dims, 4);
    clnet__keras_v3_close(&src);
    cJSON_Delete(model);
    free(zip);
}

/* Opens zip (which must open) into src. */
static void open_ok(const unsigned char *zip, size_t n, clnet__keras_source *src)
{
    cJSON *model;
    char err[1024] = "";
    cr_assert_eq(open_zip(zip, n, &model, src, err, sizeof err), CLNET_OK, "%s", err);
    cJSON_Delete(model);
}

/* Opens sequential_zip() into src. */
static void open_sequential(clnet__keras_source *src)
{
    size_t n;
    unsigned char *zip = sequential_zip(&n);
    open_ok(zip, n, src);
    free(zip);
}

/* libhdf5 took a second image opened under the same name for the first. */
Test(keras_v3, two_files_open_at_once_stay_apart)
{
    size_t n1, n2;
    unsigned char *a = sequential_zip(&n1), *b = nested_zip(&n2);
    clnet__keras_source sa, sb;
    open_ok(a, n1, &sa);
    open_ok(b, n2, &sb);
    const clnet__keras_layer_ref head = ref1("head", "Conv2D", "layers/conv2d"),
                                 c1 = ref1("c1", "Conv2D", "layers/conv2d");
    expect_weight(&sb, &head, 0, "kernel", 4, conv_dims, 3);
    expect_weight(&sa, &c1, 0, "kernel", 4, conv_dims, 1);
    clnet__keras_v3_close(&sa);
    clnet__keras_v3_close(&sb);
    free(a);
    free(b);
}

Test(keras_v3, finds_layers_where_the_importer_did_not)
{
    clnet__keras_source src;
    open_sequential(&src);
    /* A path with no group, or none: found by the layer's rank among its class in the
     * config (c2 is the second Conv2D). A group the path names is taken as it is: Keras
     * 3.6's labels of the groups are not read (keras_v3_path.c). */
    const clnet__keras_layer_ref lost = ref1("c2", "Conv2D", "layers/conv2d_9"),
                                 none = ref1("c2", "Conv2D", ""),
                                 taken = ref1("c2", "Conv2D", "layers/conv2d"),
                                 renamed = ref1("c2", "MyConv", "");
    expect_weight(&src, &lost, 0, "kernel", 4, conv_dims, 7);
    expect_weight(&src, &none, 0, "kernel", 4, conv_dims, 7);
    expect_weight(&src, &taken, 0, "kernel", 4, conv_dims, 1);
    cr_assert_eq(src.count(src.ctx, &renamed), 0);
    clnet__keras_v3_close(&src);
}

/* sequential_config's weights as tf.keras 2.13 or 2.14 saved them, under
 * _layer_checkpoint_dependencies; 2.13 counted each layer with weights twice there, so the
 * second Conv2D is conv2d_2. */
static unsigned char *checkpoint_zip(int tf_2_13, size_t *n)
{
    clnet_test_h5 *f = clnet_test_h5_create(0);
    cr_assert_not_null(f);
    put_floats(f, "/_layer_checkpoint_dependencies/conv2d/vars/0", 1, 4, conv_dims);
    put_floats(f, "/_layer_checkpoint_dependencies/batch_normalization/vars/0", 3, 1, vec4);
    put_group(f, "/_layer_checkpoint_dependencies/re_lu/vars", NULL);
    put_floats(f,
               tf_2_13 ? "/_layer_checkpoint_dependencies/conv2d_2/vars/0"
                       : "/_layer_checkpoint_dependencies/conv2d_1/vars/0",
               7, 4, conv_dims);
    put_floats(f, "/_layer_checkpoint_dependencies/dense/vars/0", 8, 2, dense_dims);
    size_t h5_size;
    unsigned char *h5 = clnet_test_h5_finish(f, &h5_size);
    cr_assert_not_null(h5);
    unsigned char *zip =
        keras_zip(sequential_config, "{\"keras_version\": \"2.13.1\"}", h5, h5_size, 0, n);
    free(h5);
    return zip;
}

Test(keras_v3, reads_tf_keras_2_13_and_2_14_layouts)
{
    for (int tf_2_13 = 0; tf_2_13 < 2; ++tf_2_13) {
        size_t n;
        unsigned char *zip = checkpoint_zip(tf_2_13, &n);
        clnet__keras_source src;
        open_ok(zip, n, &src);
        free(zip);
        const clnet__keras_layer_ref c1 = ref1("c1", "Conv2D", "layers/conv2d"),
                                     c2 = ref1("c2", "Conv2D", "layers/conv2d_1"),
                                     fc = ref1("fc", "Dense", "layers/dense");
        expect_weight(&src, &c1, 0, "kernel", 4, conv_dims, 1);
        expect_weight(&src, &c2, 0, "kernel", 4, conv_dims, 7);
        expect_weight(&src, &fc, 0, "kernel", 2, dense_dims, 8);
        cr_assert_eq(src.count(src.ctx, &c2), 1);
        clnet__keras_v3_close(&src);
    }
}

Test(keras_v3, snake_case_is_keras_naming)
{
    static const char *const cases[][2] = {
        {"Conv2D", "conv2d"},
        {"BatchNormalization", "batch_normalization"},
        {"ReLU", "re_lu"},
        {"PReLU", "p_re_lu"},
        {"LeakyReLU", "leaky_re_lu"},
        {"DepthwiseConv2D", "depthwise_conv2d"},
        {"GlobalAveragePooling2D", "global_average_pooling2d"},
        {"InputLayer", "input_layer"},
        {"Conv2DTranspose", "conv2d_transpose"},
        {"RMSNormalization", "rms_normalization"},
        {"X2Block", "x2_block"},
        {"My_Layer", "my__layer"},
        {"HTTPServer", "http_server"},
        {"aBCdEF", "a_b_cd_ef"},
        {"Odd Name!", "odd_name"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        char out[64];
        clnet__keras_snake_case(cases[i][0], out, sizeof out);
        cr_expect_str_eq(out, cases[i][1], "'%s'", cases[i][0]);
    }
    char small[4];
    clnet__keras_snake_case("BatchNormalization", small, sizeof small);
    cr_expect_str_eq(small, "bat");
}

/* Opening zip must fail with st and a message holding each of the NULL-terminated words. */
static void expect_open_error(const void *zip, size_t n, clnet_status st, const char *const *words)
{
    cJSON *model = (cJSON *)1;
    clnet__keras_source src = {(void *)1, NULL, NULL};
    char err[1024] = "";
    cr_assert_eq(clnet__keras_v3_open(NULL, zip, n, &model, &src, err, sizeof err), st, "%s", err);
    cr_assert_null(model);
    cr_assert_null(src.ctx);
    for (; *words; ++words)
        cr_assert_not_null(strstr(err, *words), "'%s' not in: %s", *words, err);
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A zip of the named members, each holding text. */
static unsigned char *members_zip(const char *const *names, const char *const *texts, int count,
                                  size_t *n)
{
    clnet_test_zip_member m[4];
    for (int i = 0; i < count; ++i)
        m[i] = (clnet_test_zip_member){names[i], texts[i], strlen(texts[i]), 0};
    unsigned char *zip = clnet_test_zip(m, count, n);
    cr_assert_not_null(zip);
    return zip;
}

Test(keras_v3, missing_members_are_named)
{
    size_t h5_size, n;
    unsigned char *h5 = sequential_h5(1, 1, &h5_size);
    clnet_test_zip_member weights_only[] = {{"model.weights.h5", h5, h5_size, 0}};
    unsigned char *zip = clnet_test_zip(weights_only, 1, &n);
    expect_open_error(zip, n, CLNET_ERR_PARSE,
                      WORDS("(.keras in memory)", "no member config.json"));
    free(zip);
    free(h5);

    zip = members_zip(WORDS("config.json"), WORDS(sequential_config), 1, &n);
    expect_open_error(zip, n, CLNET_ERR_PARSE, WORDS("no member model.weights.h5"));
    free(zip);
    zip = members_zip(WORDS("config.json", "model.weights.npz"), WORDS(sequential_config, "x"), 2,
                      &n);
    expect_open_error(zip, n, CLNET_ERR_UNSUPPORTED, WORDS("model.weights.npz", "weights_format"));
    free(zip);
    zip = members_zip(WORDS("config.json", "variables.h5"), WORDS(sequential_config, "x"), 2, &n);
    expect_open_error(zip, n, CLNET_ERR_UNSUPPORTED, WORDS("variables.h5", "2.10"));
    free(zip);

    /* A file that is not there is named with the system's reason. */
    cJSON *model;
    clnet__keras_source src;
    char err[1024] = "";
    const char *path = clnet_test_path("absent.keras");
    cr_assert_eq(clnet__keras_v3_open(path, NULL, 0, &model, &src, err, sizeof err), CLNET_ERR_IO,
                 "%s", err);
    cr_assert_not_null(strstr(err, path), "%s", err);
    /* Keras's unzipped layout, a folder. */
    cr_assert_eq(clnet__keras_v3_open(clnet_test_dir, NULL, 0, &model, &src, err, sizeof err),
                 CLNET_ERR_UNSUPPORTED, "%s", err);
    cr_assert_not_null(strstr(err, "zipped=False"), "%s", err);
}

Test(keras_v3, damaged_zips_are_refused)
{
    size_t n;
    unsigned char *zip = sequential_zip(&n);
    const size_t cuts[] = {0, 4, 100, n / 2, n - 30, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; ++i)
        expect_open_error(zip, cuts[i], CLNET_ERR_PARSE, WORDS("(.keras in memory)"));
    /* A byte of config.json changed: libzip's CRC check catches it. */
    size_t at = 0;
    while (at + 10 <= n && memcmp(zip + at, "Sequential", 10))
        ++at;
    cr_assert_lt(at + 10, n);
    zip[at] = 's';
    expect_open_error(zip, n, CLNET_ERR_PARSE, WORDS("config.json", "CRC"));
    free(zip);
    /* An HDF5 file (a Keras 2 model named .keras) is no zip. */
    size_t h5_size;
    unsigned char *h5 = sequential_h5(1, 0, &h5_size);
    expect_open_error(h5, h5_size, CLNET_ERR_PARSE, WORDS("is an HDF5 file", "Keras 2"));
    free(h5);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void set_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Sets the uncompressed size that member's local and central headers give to size: a zip
 * whose headers lie, consistently. */
static void set_size(unsigned char *zip, size_t n, const char *member, uint32_t size)
{
    const size_t len = strlen(member);
    int found = 0;
    for (size_t p = 0; p + 30 <= n && le32(zip + p) == 0x04034b50;) {
        if (le16(zip + p + 26) == len && !memcmp(zip + p + 30, member, len))
            set_le32(zip + p + 22, size), ++found;
        p += 30 + le16(zip + p + 26) + le16(zip + p + 28) + le32(zip + p + 18);
    }
    for (size_t p = le32(zip + n - 22 + 16); p + 46 <= n && le32(zip + p) == 0x02014b50;) {
        if (le16(zip + p + 28) == len && !memcmp(zip + p + 46, member, len))
            set_le32(zip + p + 24, size), ++found;
        p += 46 + le16(zip + p + 28) + le16(zip + p + 30) + le16(zip + p + 32);
    }
    cr_assert_eq(found, 2, "%s", member);
}

Test(keras_v3, members_of_another_size_than_said_are_refused)
{
    const size_t config_size = strlen(sequential_config);
    for (int deflate = 0; deflate < 2; ++deflate) {
        size_t h5_size, n;
        unsigned char *h5 = sequential_h5(1, 1, &h5_size);
        unsigned char *zip = keras_zip(sequential_config, NULL, h5, h5_size, deflate, &n);
        set_size(zip, n, "config.json", (uint32_t)config_size - 1);
        expect_open_error(zip, n, CLNET_ERR_PARSE, WORDS("config.json"));
        /* A size no member of this zip can expand to: refused before it is allocated. */
        set_size(zip, n, "config.json", 60u << 20);
        expect_open_error(zip, n, CLNET_ERR_PARSE, WORDS("config.json"));
        set_size(zip, n, "config.json", 65u << 20);
        expect_open_error(zip, n, CLNET_ERR_PARSE, WORDS("config.json", "more than the"));
        free(zip);
        free(h5);
    }
}

Test(keras_v3, configs_of_the_wrong_kind_are_refused)
{
    size_t h5_size, n;
    unsigned char *h5 = sequential_h5(1, 1, &h5_size);
    static const char *const configs[] = {"",
                                          "not json",
                                          "[]",
                                          "{\"class_name\": 3, \"config\": {}}",
                                          "{\"class_name\": \"Sequential\", \"config\": []}",
                                          "{\"config\": {}}"};
    for (size_t i = 0; i < sizeof configs / sizeof *configs; ++i) {
        unsigned char *zip = keras_zip(configs[i], NULL, h5, h5_size, 0, &n);
        expect_open_error(zip, n, CLNET_ERR_PARSE, WORDS("config.json"));
        free(zip);
    }
    /* Wrong types below the top open, and finding a layer in them fails cleanly. */
    unsigned char *zip = keras_zip(
        "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [3, null, {\"class_name\": 5,"
        " \"config\": []}, {\"name\": 7}, {\"name\": \"c2\", \"config\": 1}]}}",
        NULL, h5, h5_size, 0, &n);
    clnet__keras_source src;
    open_ok(zip, n, &src);
    const clnet__keras_layer_ref ghost = ref1("ghost", "Conv2D", ""), c2 = ref1("c2", "Conv2D", "");
    cr_assert_eq(src.count(src.ctx, &ghost), 0);
    /* No Conv2D before it in this list: c2 takes conv2d, which holds two weights. */
    cr_assert_eq(src.count(src.ctx, &c2), 2);
    clnet__keras_v3_close(&src);
    free(zip);
    free(h5);
}

Test(keras_v3, metadata_of_no_keras_3_file_is_refused)
{
    size_t h5_size, n;
    unsigned char *h5 = sequential_h5(1, 1, &h5_size);
    unsigned char *zip =
        keras_zip(sequential_config, "{\"keras_version\": \"1.2.2\"}", h5, h5_size, 0, &n);
    expect_open_error(zip, n, CLNET_ERR_PARSE, WORDS("metadata.json", "1.2.2"));
    free(zip);
    /* Metadata clnet cannot make sense of is no reason to refuse (Keras never reads it). */
    static const char *const ignored[] = {"garbage", "{\"keras_version\": 3}", "[]"};
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; ++i) {
        zip = keras_zip(sequential_config, ignored[i], h5, h5_size, 0, &n);
        clnet__keras_source src;
        open_ok(zip, n, &src);
        clnet__keras_v3_close(&src);
        free(zip);
    }
    free(h5);
}

Test(keras_v3, weights_that_are_not_hdf5_are_refused)
{
    size_t n;
    unsigned char *zip = keras_zip(sequential_config, metadata,
                                   (const unsigned char *)"this is no HDF5 file", 20, 0, &n);
    expect_open_error(zip, n, CLNET_ERR_PARSE, WORDS("(.keras in memory):model.weights.h5"));
    free(zip);
    /* A truncated weights file. */
    size_t h5_size;
    unsigned char *h5 = sequential_h5(1, 0, &h5_size);
    zip = keras_zip(sequential_config, metadata, h5, h5_size / 2, 0, &n);
    expect_open_error(zip, n, CLNET_ERR_PARSE, WORDS("model.weights.h5"));
    free(zip);
    free(h5);
}

Test(keras_v3, weights_of_the_wrong_shape_or_missing_are_named)
{
    clnet__keras_source src;
    open_sequential(&src);
    const clnet__keras_layer_ref c1 = ref1("c1", "Conv2D", "layers/conv2d"),
                                 c2 = ref1("c2", "Conv2D", "layers/conv2d_1"),
                                 ghost = ref1("ghost", "Conv2D", "layers/conv2d_5");
    expect_read_error(&src, &c1, 0, "kernel", 4, (int64_t[]){3, 3, 2, 5}, CLNET_ERR_PARSE,
                      WORDS("layer 'c1' (Conv2D)", "'kernel'", "/layers/conv2d/vars/0", "[3,3,2,4]",
                            "[3,3,2,5]", "model.weights.h5"));
    expect_read_error(&src, &c1, 1, "bias", 2, (int64_t[]){4, 1}, CLNET_ERR_PARSE,
                      WORDS("'bias'", "[4]", "[4,1]"));
    expect_read_error(
        &src, &c2, 1, "bias", 1, vec4, CLNET_ERR_PARSE,
        WORDS("layer 'c2' (Conv2D)", "weight 1 ('bias') is missing", "/layers/conv2d_1/vars/1"));
    cr_assert_eq(src.count(src.ctx, &ghost), 0);
    expect_read_error(&src, &ghost, 0, "kernel", 4, conv_dims, CLNET_ERR_PARSE,
                      WORDS("layer 'ghost' (Conv2D)", "layers/conv2d_5/vars", "is missing"));
    expect_read_error(&src, &c1, -1, "kernel", 4, conv_dims, CLNET_ERR_INVALID_ARG,
                      WORDS("layer 'c1'"));
    clnet__keras_v3_close(&src);
}

/* A weights file whose /layers/conv2d/vars/0 is a dataset of type (one element). */
static unsigned char *odd_dataset_zip(hid_t type, const char *dtype_attr, size_t *n)
{
    clnet_test_h5 *f = clnet_test_h5_create(0);
    cr_assert_not_null(f);
    put_group(f, "/layers/conv2d/vars", "c1");
    const hsize_t one = 1;
    const hid_t space = H5Screate_simple(1, &one, NULL);
    const hid_t d = H5Dcreate2(f->file, "/layers/conv2d/vars/0", type, space, H5P_DEFAULT,
                               H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(d, 0);
    if (dtype_attr) {
        const hid_t s = H5Tcopy(H5T_C_S1), scalar = H5Screate(H5S_SCALAR);
        H5Tset_size(s, strlen(dtype_attr));
        const hid_t a = H5Acreate2(d, "dtype", s, scalar, H5P_DEFAULT, H5P_DEFAULT);
        cr_assert_geq(H5Awrite(a, s, dtype_attr), 0);
        H5Aclose(a);
        H5Sclose(scalar);
        H5Tclose(s);
    }
    H5Dclose(d);
    H5Sclose(space);
    size_t h5_size;
    unsigned char *h5 = clnet_test_h5_finish(f, &h5_size);
    cr_assert_not_null(h5);
    unsigned char *zip = keras_zip(sequential_config, NULL, h5, h5_size, 0, n);
    free(h5);
    return zip;
}

Test(keras_v3, weights_of_other_types_are_named)
{
    const clnet__keras_layer_ref c1 = ref1("c1", "Conv2D", "layers/conv2d");
    const hid_t bf16 = H5Tcreate(H5T_OPAQUE, 2);
    size_t n;
    unsigned char *zip = odd_dataset_zip(bf16, "bfloat16", &n);
    clnet__keras_source src;
    open_ok(zip, n, &src);
    expect_read_error(&src, &c1, 0, "kernel", 1, (int64_t[]){1}, CLNET_ERR_PARSE,
                      WORDS("layer 'c1'", "no numeric dataset /layers/conv2d/vars/0", "bfloat16"));
    clnet__keras_v3_close(&src);
    free(zip);
    H5Tclose(bf16);

    const hid_t text = H5Tcopy(H5T_C_S1);
    H5Tset_size(text, 8);
    zip = odd_dataset_zip(text, NULL, &n);
    open_ok(zip, n, &src);
    expect_read_error(&src, &c1, 0, "kernel", 1, (int64_t[]){1}, CLNET_ERR_PARSE,
                      WORDS("no numeric dataset /layers/conv2d/vars/0"));
    clnet__keras_v3_close(&src);
    free(zip);
    H5Tclose(text);
}

/* What kind of pointer out of the weights file a dataset is. */
typedef enum outside { EXTERNAL_STORAGE, EXTERNAL_LINK, VIRTUAL, SOFT_LINK } outside;

/* A weights file whose /layers/conv2d/vars/0 (4 floats) is kept outside it, at secret (a
 * raw file of 16 bytes, or an HDF5 file with /data). */
static unsigned char *outside_zip(outside how, const char *secret, size_t *n)
{
    clnet_test_h5 *f = clnet_test_h5_create(0);
    cr_assert_not_null(f);
    put_group(f, "/layers/conv2d/vars", NULL);
    put_floats(f, "/layers/other/vars/0", 1, 1, vec4);
    const hsize_t four = 4;
    const hid_t space = H5Screate_simple(1, &four, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const char *path = "/layers/conv2d/vars/0";
    if (how == EXTERNAL_LINK)
        cr_assert_geq(H5Lcreate_external(secret, "/data", f->file, path, H5P_DEFAULT, H5P_DEFAULT),
                      0);
    else if (how == SOFT_LINK)
        cr_assert_geq(
            H5Lcreate_soft("/layers/other/vars/0", f->file, path, H5P_DEFAULT, H5P_DEFAULT), 0);
    else {
        if (how == EXTERNAL_STORAGE)
            cr_assert_geq(H5Pset_external(dcpl, secret, 0, 16), 0);
        else
            cr_assert_geq(H5Pset_virtual(dcpl, space, secret, "/data", space), 0);
        const hid_t d =
            H5Dcreate2(f->file, path, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        cr_assert_geq(d, 0);
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
    size_t h5_size;
    unsigned char *h5 = clnet_test_h5_finish(f, &h5_size);
    cr_assert_not_null(h5);
    unsigned char *zip = keras_zip(sequential_config, NULL, h5, h5_size, 0, n);
    free(h5);
    return zip;
}

/* Keras refuses weights kept outside the file (saving_lib's safe_get_h5_dataset): a
 * .keras from elsewhere must not read other files of this machine into a model. */
Test(keras_v3, weights_outside_the_file_are_refused)
{
    static const float secret[4] = {42, 42, 42, 42};
    const char *raw = clnet_test_path("secret.bin"), *h5_path = clnet_test_path("secret.h5");
    clnet_test_write_file(raw, secret, sizeof secret);
    clnet_test_h5 *other = clnet_test_h5_create(0);
    cr_assert_not_null(other);
    cr_assert_eq(clnet_test_h5_floats(other, "/data", 1, vec4, secret), 0);
    size_t other_size;
    unsigned char *other_image = clnet_test_h5_finish(other, &other_size);
    clnet_test_write_file(h5_path, other_image, other_size);
    free(other_image);
    const clnet__keras_layer_ref c1 = ref1("c1", "Conv2D", "layers/conv2d");
    for (outside how = EXTERNAL_STORAGE; how <= SOFT_LINK; ++how) {
        size_t n;
        unsigned char *zip = outside_zip(how, how == EXTERNAL_STORAGE ? raw : h5_path, &n);
        clnet__keras_source src;
        open_ok(zip, n, &src);
        float got[4] = {0};
        char err[1024] = "";
        cr_assert_eq(src.read(src.ctx, &c1, 0, "kernel", vec4, 1, got, err, sizeof err),
                     CLNET_ERR_PARSE, "case %d: %s", (int)how, err);
        cr_assert_neq(got[0], 42.0f, "case %d", (int)how);
        cr_assert_not_null(strstr(err, "/layers/conv2d/vars/0 of"), "%s", err);
        cr_assert_not_null(strstr(err, "outside the file"), "%s", err);
        clnet__keras_v3_close(&src);
        free(zip);
    }
}
