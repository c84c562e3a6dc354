/* test_keras_tfjs.c - the TF.js layers-model reader (src/io/keras_tfjs.c): model.json and
 * shards written here, as tensorflowjs's write_weights.py lays them out, decode to the values
 * tfjs-core's decodeWeights gives (float32, int32, bool, uint8/uint16 affine, float16 with
 * its subnormals, infinities and NaN), across groups and a weight cut between two shards;
 * weights are found by Keras 2 names, nested paths and Keras 3 paths; every hostile
 * model.json (paths out of the directory, sizes that disagree, bad shapes, dtypes and JSON of
 * the wrong types) is refused with a message naming what is wrong. No device needed. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/keras.h"
#include "support/tempdir.h"

TestSuite(keras_tfjs, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

/* A growing little-endian byte buffer (a group's stream before it is cut into shards). */
typedef struct bytes {
    unsigned char b[256];
    size_t n;
} bytes;

static void put_u8(bytes *s, unsigned v)
{
    cr_assert_lt(s->n, sizeof s->b);
    s->b[s->n++] = (unsigned char)v;
}

static void put_u16(bytes *s, unsigned v)
{
    put_u8(s, v & 0xff);
    put_u8(s, v >> 8);
}

static void put_u32(bytes *s, uint32_t v)
{
    put_u16(s, v & 0xffff);
    put_u16(s, v >> 16);
}

static void put_f32(bytes *s, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_u32(s, u);
}

static void write_text(const char *name, const char *text)
{
    clnet_test_write_file(clnet_test_path(name), text, strlen(text));
}

/* model.json of a one-layer Functional model named "model" and the given manifest. */
static void write_model(const char *manifest)
{
    char text[4096];
    snprintf(
        text, sizeof text,
        "{\"format\": \"layers-model\", \"generatedBy\": \"keras v2.15.0\", "
        "\"convertedBy\": \"TensorFlow.js Converter v4.22.0\", \"modelTopology\": "
        "{\"keras_version\": \"2.15.0\", \"backend\": \"tensorflow\", \"model_config\": "
        "{\"class_name\": \"Functional\", \"config\": {\"name\": \"model\", \"layers\": []}}}, "
        "\"weightsManifest\": %s}",
        manifest);
    write_text("model.json", text);
}

/* A layer's place: "seq/conv1" is conv1 inside the nested model seq. */
static clnet__keras_layer_ref ref_of(const char *path, const char *v3_path)
{
    static char names[4][CLNET_KERAS_MAX_DEPTH][64];
    static int next;
    char(*buf)[64] = names[next++ % 4];
    clnet__keras_layer_ref r = {0};
    for (const char *p = path; *p && r.depth < CLNET_KERAS_MAX_DEPTH;) {
        const size_t n = strcspn(p, "/");
        snprintf(buf[r.depth], 64, "%.*s", (int)n, p);
        r.names[r.depth] = buf[r.depth];
        r.classes[r.depth++] = "Conv2D";
        p += n + (p[n] == '/');
    }
    snprintf(r.v3_path, sizeof r.v3_path, "%s", v3_path ? v3_path : "");
    return r;
}

typedef struct opened {
    cJSON *model;
    clnet__keras_source src;
} opened;

static opened open_ok(void)
{
    opened o;
    char err[512] = "";
    const clnet_status st = clnet__keras_tfjs_open(clnet_test_path("model.json"), NULL, 0, &o.model,
                                                   &o.src, err, sizeof err);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), err);
    cr_assert_not_null(o.model);
    cr_assert(o.src.read && o.src.count && o.src.ctx);
    return o;
}

static void close_opened(opened *o)
{
    clnet__keras_tfjs_close(&o->src);
    cr_expect_null(o->src.ctx);
    cJSON_Delete(o->model);
}

/* Reads weight index/role of the layer at path with the given shape into out. */
static clnet_status read_weight(opened *o, const char *path, const char *v3_path, int index,
                                const char *role, int rank, const int64_t *dims, float *out,
                                char *err, size_t len)
{
    const clnet__keras_layer_ref r = ref_of(path, v3_path);
    return o->src.read(o->src.ctx, &r, index, role, dims, rank, out, err, len);
}

static void read_ok(opened *o, const char *path, const char *v3_path, int index, const char *role,
                    int rank, const int64_t *dims, float *out)
{
    char err[512] = "";
    const clnet_status st =
        read_weight(o, path, v3_path, index, role, rank, dims, out, err, sizeof err);
    cr_assert_eq(st, CLNET_OK, "%s %s: %s", path, role, err);
}

static int count_of(opened *o, const char *path, const char *v3_path)
{
    const clnet__keras_layer_ref r = ref_of(path, v3_path);
    return o->src.count(o->src.ctx, &r);
}

static void expect_bits(const float *got, const float *want, int n, const char *what)
{
    for (int i = 0; i < n; ++i)
        cr_expect(memcmp(&got[i], &want[i], sizeof *got) == 0, "%s[%d]: got %.9g, want %.9g", what,
                  i, (double)got[i], (double)want[i]);
}

/* Opening model.json (or, with memory set, its bytes) fails with want, the message holding
 * every needle (NULL-terminated list), *model NULL and the source empty. */
static void expect_refused_as(int memory, clnet_status want, ...)
{
    cJSON *model = (cJSON *)&model;
    clnet__keras_source src = {.ctx = &src};
    char err[1024] = "";
    size_t n = 0;
    unsigned char *text = clnet_test_read_file(clnet_test_path("model.json"), &n);
    const clnet_status st =
        memory ? clnet__keras_tfjs_open(NULL, (const char *)text, n, &model, &src, err, sizeof err)
               : clnet__keras_tfjs_open(clnet_test_path("model.json"), NULL, 0, &model, &src, err,
                                        sizeof err);
    free(text);
    cr_expect_eq(st, want, "got %s, want %s (%s)", clnet_status_string(st),
                 clnet_status_string(want), err);
    cr_expect_null(model);
    cr_expect(src.ctx == NULL && src.read == NULL && src.count == NULL);
    va_list ap;
    va_start(ap, want);
    for (const char *needle; (needle = va_arg(ap, const char *));)
        cr_expect(strstr(err, needle) != NULL, "message \"%s\" should say \"%s\"", err, needle);
    va_end(ap);
    if (st == CLNET_OK) {
        clnet__keras_tfjs_close(&src);
        cJSON_Delete(model);
    }
}

#define expect_refused(want, ...) expect_refused_as(0, want, __VA_ARGS__, NULL)
#define expect_refused_memory(want, ...) expect_refused_as(1, want, __VA_ARGS__, NULL)

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

Test(keras_tfjs, decodes_every_dtype_across_groups_and_shards)
{
    /* Group 1: a float32 kernel cut between two shards, a bias quantized to uint8. */
    bytes g1 = {0};
    const float kernel[6] = {1.5f, -2.25f, 1e-30f, 3.0e38f, -0.0f, 3.14159274f};
    for (int i = 0; i < 6; ++i)
        put_f32(&g1, kernel[i]);
    const unsigned bias_q[3] = {0, 3, 255};
    for (int i = 0; i < 3; ++i)
        put_u8(&g1, bias_q[i]);
    cr_assert_eq(g1.n, 27);
    clnet_test_write_file(clnet_test_path("group1-shard1of2.bin"), g1.b, 16);
    clnet_test_write_file(clnet_test_path("group1-shard2of2.bin"), g1.b + 16, g1.n - 16);
    /* Group 2: uint16, float16, int32 (a scalar), bool, and int32 quantized to uint8. */
    bytes g2 = {0};
    put_u16(&g2, 0);
    put_u16(&g2, 65535);
    const unsigned half[10] = {0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400,
                               0x7bff, 0x7c00, 0xfc00, 0x8000, 0x7e01};
    for (int i = 0; i < 10; ++i)
        put_u16(&g2, half[i]);
    put_u32(&g2, 12345);
    put_u8(&g2, 0);
    put_u8(&g2, 1);
    put_u8(&g2, 2);
    put_u8(&g2, 1);
    put_u8(&g2, 3);
    put_u8(&g2, 5);
    clnet_test_write_file(clnet_test_path("group2-shard1of1.bin"), g2.b, g2.n);
    write_model(
        "[{\"paths\": [\"group1-shard1of2.bin\", \"group1-shard2of2.bin\"], \"weights\": ["
        "{\"name\": \"conv1/kernel\", \"shape\": [1, 1, 2, 3], \"dtype\": \"float32\"},"
        "{\"name\": \"conv1/bias\", \"shape\": [3], \"dtype\": \"float32\", \"quantization\": "
        "{\"dtype\": \"uint8\", \"scale\": 0.1, \"min\": -0.3, \"original_dtype\": \"float32\"}}]},"
        "{\"paths\": [\"group2-shard1of1.bin\"], \"weights\": ["
        "{\"name\": \"bn/gamma\", \"shape\": [2], \"dtype\": \"float32\", \"quantization\": "
        "{\"dtype\": \"uint16\", \"scale\": 0.001, \"min\": 0.5, \"original_dtype\": \"float32\"}},"
        "{\"name\": \"bn/beta\", \"shape\": [2, 5], \"dtype\": \"float32\", \"quantization\": "
        "{\"dtype\": \"float16\", \"original_dtype\": \"float32\"}},"
        "{\"name\": \"norm/count\", \"shape\": [], \"dtype\": \"int32\"},"
        "{\"name\": \"mask/flags\", \"shape\": [3], \"dtype\": \"bool\"},"
        "{\"name\": \"q/ints\", \"shape\": [3], \"dtype\": \"int32\", \"quantization\": "
        "{\"dtype\": \"uint8\", \"scale\": 0.5, \"min\": -1}}]}]");
    opened o = open_ok();
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(o.model, "class_name");
    cr_expect(cJSON_IsString(cls) && !strcmp(cls->valuestring, "Functional"));
    cr_expect(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o.model, "config")));

    float got[10];
    read_ok(&o, "conv1", NULL, 0, "kernel", 4, (const int64_t[]){1, 1, 2, 3}, got);
    expect_bits(got, kernel, 6, "conv1/kernel");
    /* tfjs: q * scale + min in double (JavaScript numbers), stored into a Float32Array. */
    read_ok(&o, "conv1", NULL, 1, "bias", 1, (const int64_t[]){3}, got);
    float want[10];
    for (int i = 0; i < 3; ++i)
        want[i] = (float)(bias_q[i] * 0.1 + -0.3);
    expect_bits(got, want, 3, "conv1/bias");
    cr_expect_eq(got[1], 5.551115123125783e-17f, "in float arithmetic 3 * 0.1f - 0.3f is not this");
    read_ok(&o, "bn", NULL, 0, "gamma", 1, (const int64_t[]){2}, got);
    want[0] = 0.5f;
    want[1] = (float)(65535 * 0.001 + 0.5);
    expect_bits(got, want, 2, "bn/gamma");
    read_ok(&o, "bn", NULL, 1, "beta", 2, (const int64_t[]){2, 5}, got);
    const float half_want[10] = {1.0f,     -2.0f,    0x1p-24f,  0x3ffp-24f, 0x1p-14f,
                                 65504.0f, INFINITY, -INFINITY, -0.0f,      from_bits(0x7fc02000)};
    expect_bits(got, half_want, 10, "bn/beta (float16)");
    read_ok(&o, "norm", NULL, 0, "count", 0, NULL, got);
    cr_expect_eq(got[0], 12345.0f);
    read_ok(&o, "mask", NULL, 0, "flags", 1, (const int64_t[]){3}, got);
    expect_bits(got, (const float[]){0.0f, 1.0f, 1.0f}, 3, "mask/flags (bool)");
    /* int32 quantized: Math.round, halves up (-0.5 -> 0, 0.5 -> 1, 1.5 -> 2). */
    read_ok(&o, "q", NULL, 0, "ints", 1, (const int64_t[]){3}, got);
    expect_bits(got, (const float[]){0.0f, 1.0f, 2.0f}, 3, "q/ints");

    cr_expect_eq(count_of(&o, "conv1", NULL), 2);
    cr_expect_eq(count_of(&o, "bn", NULL), 2);
    cr_expect_eq(count_of(&o, "norm", NULL), 1);
    cr_expect_eq(count_of(&o, "absent", NULL), 0);
    close_opened(&o);
}

Test(keras_tfjs, finds_weights_by_nested_path_own_name_and_keras3_path)
{
    bytes g = {0};
    for (int i = 1; i <= 8; ++i)
        put_f32(&g, (float)i);
    clnet_test_write_file(clnet_test_path("w.bin"), g.b, g.n);
    write_model("[{\"paths\": [\"./w.bin\"], \"weights\": ["
                "{\"name\": \"seq/conv/kernel\", \"shape\": [1], \"dtype\": \"float32\"},"
                "{\"name\": \"conv/kernel\", \"shape\": [1], \"dtype\": \"float32\"},"
                "{\"name\": \"dense/kernel:0\", \"shape\": [1], \"dtype\": \"float32\"},"
                "{\"name\": \"model/top/kernel\", \"shape\": [1], \"dtype\": \"float32\"},"
                "{\"name\": \"layers/conv2d/vars/0\", \"shape\": [1], \"dtype\": \"float32\"},"
                "{\"name\": \"layers/conv2d/vars/1\", \"shape\": [1], \"dtype\": \"float32\"},"
                "{\"name\": \"dense/bias\", \"shape\": [1], \"dtype\": \"float32\", "
                "\"group\": \"optimizer\"},"
                "{\"name\": \"inner/deep/kernel\", \"shape\": [1], \"dtype\": \"float32\"}]}]");
    opened o = open_ok();
    static const struct {
        const char *layer, *v3_path, *role;
        int index;
        float want;
    } cases[] = {
        {"seq/conv", NULL, "kernel", 0, 1},          /* the nested path first */
        {"conv", NULL, "kernel", 0, 2},              /* a top-level layer */
        {"other/conv", NULL, "kernel", 0, 2},        /* a nested layer built alone: its own name */
        {"dense", NULL, "kernel", 0, 3},             /* TensorFlow's ":0" dropped */
        {"top", NULL, "kernel", 0, 4},               /* Keras 3's paths start at the model's name */
        {"conv2d", "layers/conv2d", "kernel", 0, 5}, /* Keras 3 .keras: vars/<index> */
        {"conv2d", "layers/conv2d", "bias", 1, 6},
        {"block/inner/deep", NULL, "kernel", 0, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        float got = 0;
        read_ok(&o, cases[i].layer, cases[i].v3_path, cases[i].index, cases[i].role, 1,
                (const int64_t[]){1}, &got);
        cr_expect_eq(got, cases[i].want, "%s %s: %g", cases[i].layer, cases[i].role, (double)got);
    }
    cr_expect_eq(count_of(&o, "seq/conv", NULL), 1);
    cr_expect_eq(count_of(&o, "dense", NULL), 1, "an optimizer's weight is no layer's");
    cr_expect_eq(count_of(&o, "conv2d", "layers/conv2d"), 2);
    cr_expect_eq(count_of(&o, "top", NULL), 1);
    cr_expect_eq(count_of(&o, "block/inner", NULL), 0, "inner/deep/kernel is deep's, not inner's");

    float got;
    char err[1024] = "";
    cr_expect_eq(
        read_weight(&o, "dense", NULL, 1, "bias", 1, (const int64_t[]){1}, &got, err, sizeof err),
        CLNET_ERR_PARSE);
    cr_expect(strstr(err, "has no bias (weight 1) of layer 'dense' (Conv2D): looked for "
                          "'model/dense/bias', 'dense/bias'"),
              "%s", err);
    close_opened(&o);
}

Test(keras_tfjs, takes_the_model_config_where_tfjs_does)
{
    /* tfjs-layers' own saves: modelTopology is the config itself; no format, no weights. */
    write_text("model.json", "{\"modelTopology\": {\"class_name\": \"Sequential\", \"config\": "
                             "{\"name\": \"seq\", \"layers\": []}, \"keras_version\": "
                             "\"tfjs-layers 4.22.0\", \"backend\": \"tensor_flow.js\"}}");
    opened o = open_ok();
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(o.model, "class_name");
    cr_expect(cJSON_IsString(cls) && !strcmp(cls->valuestring, "Sequential"));
    cr_expect_eq(count_of(&o, "anything", NULL), 0);
    close_opened(&o);
    /* The same from memory: no shards, nothing refused. */
    size_t n = 0;
    unsigned char *text = clnet_test_read_file(clnet_test_path("model.json"), &n);
    char err[256] = "";
    cr_expect_eq(
        clnet__keras_tfjs_open(NULL, (const char *)text, n, &o.model, &o.src, err, sizeof err),
        CLNET_OK, "%s", err);
    free(text);
    close_opened(&o);

    write_model("[]");
    o = open_ok();
    close_opened(&o);

    write_text("model.json", "{\"format\": \"graph-model\", \"modelTopology\": {}}");
    expect_refused(CLNET_ERR_UNSUPPORTED, "is a TF.js 'graph-model', not a 'layers-model'");
    write_text("model.json", "{\"format\": 3, \"modelTopology\": {}}");
    expect_refused(CLNET_ERR_PARSE, "format is not a string");
    write_text("model.json", "{\"format\": \"layers-model\", \"weightsManifest\": []}");
    expect_refused(CLNET_ERR_PARSE, "has no modelTopology");
    write_text("model.json", "{\"modelTopology\": null}");
    expect_refused(CLNET_ERR_PARSE, "has no modelTopology");
    write_text("model.json", "{\"modelTopology\": \"Sequential\"}");
    expect_refused(CLNET_ERR_PARSE, "modelTopology is not a Keras model config");
    write_text("model.json", "{\"modelTopology\": {\"model_config\": [1, 2]}}");
    expect_refused(CLNET_ERR_PARSE, "modelTopology.model_config is not a Keras model config");
    write_text("model.json", "{\"modelTopology\": {\"model_config\": {\"class_name\": 7}}}");
    expect_refused(CLNET_ERR_PARSE, "model_config is not a Keras model config");
    write_text("model.json", "[1]");
    expect_refused(CLNET_ERR_PARSE, "is not a JSON object");
    write_text("model.json", "{\"modelTopology\": ");
    expect_refused(CLNET_ERR_PARSE, "is not JSON");
    write_text("model.json", "{} x");
    expect_refused(CLNET_ERR_PARSE, "something follows the JSON object at byte 3");
    expect_refused_memory(CLNET_ERR_PARSE, "'model.json (in memory)': something follows");
    write_text("model.json", "");
    expect_refused(CLNET_ERR_PARSE, "is not JSON");
    cJSON *model = NULL;
    clnet__keras_source src;
    char err2[256] = "";
    cr_expect_eq(clnet__keras_tfjs_open(clnet_test_path("absent.json"), NULL, 0, &model, &src, err2,
                                        sizeof err2),
                 CLNET_ERR_IO);
    cr_expect(strstr(err2, "absent.json': No such file"), "%s", err2);
    cr_expect_eq(clnet__keras_tfjs_open(NULL, NULL, 0, &model, &src, err2, sizeof err2),
                 CLNET_ERR_INVALID_ARG);
    clnet__keras_tfjs_close(NULL);
    clnet__keras_tfjs_close(&src); /* zeroed by the failed open: nothing to free */
}

/* A manifest of one group: the shard paths given (a JSON array's inside) and one float32
 * weight "a/kernel" of shape [n]. */
static void write_one(const char *paths, int n)
{
    char manifest[512];
    snprintf(manifest, sizeof manifest,
             "[{\"paths\": [%s], \"weights\": [{\"name\": \"a/kernel\", \"shape\": [%d], "
             "\"dtype\": \"float32\"}]}]",
             paths, n);
    write_model(manifest);
}

Test(keras_tfjs, reads_shards_below_model_json_only)
{
    static const char *const outside[] = {"\"/etc/passwd\"",
                                          "\"../w.bin\"",
                                          "\"a/../../w.bin\"",
                                          "\"sub/..\"",
                                          "\"..\"",
                                          "\"\"",
                                          "7"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; ++i) {
        write_one(outside[i], 1);
        expect_refused(CLNET_ERR_PARSE, "of group 1 is not a relative path below model.json's");
    }
    write_one("\"../w.bin\"", 1);
    expect_refused(CLNET_ERR_PARSE, "shard path '../w.bin'");

    const float one = 42.0f;
    char sub[300];
    snprintf(sub, sizeof sub, "%s/sub", clnet_test_dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    clnet_test_write_file(clnet_test_path("sub/w.bin"), &one, 4);
    write_one("\"sub/w.bin\"", 1);
    opened o = open_ok();
    float got = 0;
    read_ok(&o, "a", NULL, 0, "kernel", 1, (const int64_t[]){1}, &got);
    cr_expect_eq(got, 42.0f);
    close_opened(&o);

    /* From memory there is no directory to read shards from. */
    expect_refused_memory(CLNET_ERR_INVALID_ARG, "shard files ('sub/w.bin', ...)",
                          "open model.json by its path");
}

Test(keras_tfjs, refuses_shards_that_disagree_with_the_manifest)
{
    write_one("\"group1-shard1of1.bin\"", 2);
    expect_refused(CLNET_ERR_IO, "group1-shard1of1.bin' of group 1: No such file");

    const unsigned char b[12] = {0};
    clnet_test_write_file(clnet_test_path("group1-shard1of1.bin"), b, 6);
    expect_refused(CLNET_ERR_PARSE, "group 1's weights take 8 bytes, but its shards hold 6",
                   "group1-shard1of1.bin' (6 bytes) is 2 bytes short");

    clnet_test_write_file(clnet_test_path("group1-shard1of2.bin"), b, 4);
    clnet_test_write_file(clnet_test_path("group1-shard2of2.bin"), b, 8);
    write_one("\"group1-shard1of2.bin\", \"group1-shard2of2.bin\"", 2);
    expect_refused(CLNET_ERR_PARSE, "group 1's weights take 8 bytes, but its shards go on",
                   "group1-shard2of2.bin' holds bytes 4 to 12");

    write_one("", 2);
    expect_refused(CLNET_ERR_PARSE, "group 1's weights take 8 bytes, but it names no shard");
    expect_refused_memory(CLNET_ERR_PARSE, "names no shard");

    char sub[300];
    snprintf(sub, sizeof sub, "%s/dir.bin", clnet_test_dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_one("\"dir.bin\"", 2);
    expect_refused(CLNET_ERR_IO, "dir.bin' of group 1 is not a file");

    /* Two groups: the second's shard is the short one, and the message says so. */
    clnet_test_write_file(clnet_test_path("g1.bin"), b, 4);
    clnet_test_write_file(clnet_test_path("g2.bin"), b, 3);
    write_model("[{\"paths\": [\"g1.bin\"], \"weights\": [{\"name\": \"a/kernel\", \"shape\": "
                "[1], \"dtype\": \"float32\"}]}, {\"paths\": [\"g2.bin\"], \"weights\": "
                "[{\"name\": \"a/bias\", \"shape\": [2], \"dtype\": \"float32\", "
                "\"quantization\": {\"dtype\": \"uint16\", \"scale\": 1, \"min\": 0}}]}]");
    expect_refused(CLNET_ERR_PARSE, "group 2's weights take 4 bytes, but its shards hold 3");
}

/* model.json of one group, shard "w.bin" of 64 bytes, whose only weight is entry (JSON). */
static void write_entry(const char *entry)
{
    const unsigned char b[64] = {0};
    clnet_test_write_file(clnet_test_path("w.bin"), b, sizeof b);
    char manifest[1024];
    snprintf(manifest, sizeof manifest, "[{\"paths\": [\"w.bin\"], \"weights\": [%s]}]", entry);
    write_model(manifest);
}

Test(keras_tfjs, refuses_bad_manifest_entries_naming_the_weight)
{
    static const struct {
        const char *entry;
        clnet_status st;
        const char *needle;
    } cases[] = {
        {"{\"name\": \"a/k\", \"shape\": [-1], \"dtype\": \"float32\"}", CLNET_ERR_PARSE,
         "weight 'a/k': dimension 0 is not a size"},
        {"{\"name\": \"a/k\", \"shape\": [2, 1.5], \"dtype\": \"float32\"}", CLNET_ERR_PARSE,
         "weight 'a/k': dimension 1 is not a size"},
        {"{\"name\": \"a/k\", \"shape\": [\"3\"], \"dtype\": \"float32\"}", CLNET_ERR_PARSE,
         "weight 'a/k': dimension 0 is not a size"},
        {"{\"name\": \"a/k\", \"shape\": [65536, 32769], \"dtype\": \"float32\"}", CLNET_ERR_PARSE,
         "weight 'a/k' has more than 2^31 values"},
        {"{\"name\": \"a/k\", \"shape\": [1e300], \"dtype\": \"float32\"}", CLNET_ERR_PARSE,
         "weight 'a/k': dimension 0 is not a size"},
        {"{\"name\": \"a/k\", \"shape\": [1,1,1,1,1,1,1,1,1], \"dtype\": \"float32\"}",
         CLNET_ERR_PARSE, "weight 'a/k' has 9 dimensions"},
        {"{\"name\": \"a/k\", \"shape\": \"3\", \"dtype\": \"float32\"}", CLNET_ERR_PARSE,
         "weight 'a/k' has no shape"},
        {"{\"name\": \"a/k\", \"shape\": [1], \"dtype\": \"float64\"}", CLNET_ERR_PARSE,
         "weight 'a/k' has dtype 'float64', not float32, int32 or bool"},
        {"{\"name\": \"a/k\", \"shape\": [1]}", CLNET_ERR_PARSE, "weight 'a/k' has dtype '(none)'"},
        {"{\"name\": \"a/k\", \"shape\": [1], \"dtype\": \"string\"}", CLNET_ERR_UNSUPPORTED,
         "weight 'a/k' is of dtype string"},
        {"{\"name\": \"a/k\", \"shape\": [1], \"dtype\": \"float32\", \"quantization\": "
         "{\"dtype\": \"int4\", \"scale\": 1, \"min\": 0}}",
         CLNET_ERR_PARSE, "weight 'a/k' has quantization dtype 'int4'"},
        {"{\"name\": \"a/k\", \"shape\": [1], \"dtype\": \"float32\", \"quantization\": \"uint8\"}",
         CLNET_ERR_PARSE, "weight 'a/k' has quantization dtype '(none)'"},
        {"{\"name\": \"a/k\", \"shape\": [1], \"dtype\": \"float32\", \"quantization\": "
         "{\"dtype\": \"uint8\", \"scale\": 0.5}}",
         CLNET_ERR_PARSE, "weight 'a/k' is quantized to uint8 without a finite scale and min"},
        {"{\"name\": \"a/k\", \"shape\": [1], \"dtype\": \"int32\", \"quantization\": "
         "{\"dtype\": \"float16\"}}",
         CLNET_ERR_PARSE, "weight 'a/k': a int32 weight cannot be quantized to float16"},
        {"{\"name\": \"a/k\", \"shape\": [1], \"dtype\": \"float32\"}, "
         "{\"name\": \"a/k:0\", \"shape\": [1], \"dtype\": \"float32\"}",
         CLNET_ERR_PARSE, "two weights are called 'a/k'"},
        {"{\"shape\": [1], \"dtype\": \"float32\"}", CLNET_ERR_PARSE,
         "weight 1 of group 1 has no name"},
        {"{\"name\": 5, \"shape\": [1], \"dtype\": \"float32\"}", CLNET_ERR_PARSE,
         "weight 1 of group 1 has no name"},
        {"3", CLNET_ERR_PARSE, "weight 1 of group 1 has no name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        write_entry(cases[i].entry);
        expect_refused(cases[i].st, cases[i].needle);
        /* From memory the entry is checked before the shards are refused. */
        expect_refused_memory(cases[i].st, cases[i].needle);
    }
    write_model("[{\"paths\": [], \"weights\": []}, {\"paths\": [], \"weights\": [{\"name\": "
                "\"a/k\", \"shape\": [0], \"dtype\": \"float32\"}, {\"shape\": [1]}]}]");
    expect_refused(CLNET_ERR_PARSE, "weight 2 of group 2 has no name");
    static const char *const manifests[] = {"\"group1\"", "[3]",
                                            "[{\"paths\": \"w.bin\", "
                                            "\"weights\": []}]",
                                            "[{\"paths\": [], \"weights\": "
                                            "{}}]",
                                            "[{\"weights\": []}]"};
    for (size_t i = 0; i < sizeof manifests / sizeof manifests[0]; ++i) {
        write_model(manifests[i]);
        expect_refused(CLNET_ERR_PARSE, i ? "group 1 of weightsManifest is not an object with "
                                            "arrays paths and weights"
                                          : "weightsManifest is not an array");
    }
}

Test(keras_tfjs, read_names_the_layer_the_weight_and_both_shapes)
{
    bytes g = {0};
    for (int i = 0; i < 6; ++i)
        put_f32(&g, (float)i);
    clnet_test_write_file(clnet_test_path("w.bin"), g.b, g.n);
    write_model("[{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": \"conv1/kernel\", \"shape\": "
                "[1, 1, 2, 3], \"dtype\": \"float32\"}]}]");
    opened o = open_ok();
    float got[64];
    char err[1024] = "";
    cr_expect_eq(read_weight(&o, "conv1", NULL, 0, "kernel", 4, (const int64_t[]){3, 3, 2, 3}, got,
                             err, sizeof err),
                 CLNET_ERR_PARSE);
    cr_expect(strstr(err, "weight 'conv1/kernel' is [1,1,2,3], but the kernel of layer 'conv1' "
                          "(Conv2D) is [3,3,2,3]"),
              "%s", err);
    cr_expect_eq(read_weight(&o, "conv1", NULL, 0, "kernel", 2, (const int64_t[]){2, 3}, got, err,
                             sizeof err),
                 CLNET_ERR_PARSE);
    cr_expect(strstr(err, "is [1,1,2,3], but the kernel of layer 'conv1' (Conv2D) is [2,3]"), "%s",
              err);
    cr_expect_eq(
        read_weight(&o, "blk/bn", NULL, 0, "gamma", 1, (const int64_t[]){3}, got, err, sizeof err),
        CLNET_ERR_PARSE);
    cr_expect(strstr(err, "has no gamma (weight 0) of layer 'blk/bn' (Conv2D): looked for "
                          "'model/blk/bn/gamma', 'blk/bn/gamma', 'bn/gamma'"),
              "%s", err);
    /* A shard cut short after open is an error, never a read past its end. */
    clnet_test_write_file(clnet_test_path("w.bin"), g.b, 10);
    cr_expect_eq(read_weight(&o, "conv1", NULL, 0, "kernel", 4, (const int64_t[]){1, 1, 2, 3}, got,
                             err, sizeof err),
                 CLNET_ERR_IO);
    cr_expect(strstr(err, "weight 'conv1/kernel': shard"), "%s", err);
    cr_expect(strstr(err, "w.bin' has no 24 bytes at 0 (it changed since model.json was opened)"),
              "%s", err);
    close_opened(&o);
}

Test(keras_tfjs, long_names_are_refused_not_overrun)
{
    /* A model and a layer named with thousands of characters: no candidate name fits the
     * lookup's buffers, and none is written past them. */
    char long_name[3001], text[8192];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const float one = 1.0f;
    clnet_test_write_file(clnet_test_path("w.bin"), &one, 4);
    snprintf(text, sizeof text,
             "{\"modelTopology\": {\"class_name\": \"Sequential\", \"config\": {\"name\": "
             "\"%s\"}}, \"weightsManifest\": [{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": "
             "\"%.1500s/kernel\", \"shape\": [1], \"dtype\": \"float32\"}]}]}",
             long_name, long_name);
    write_text("model.json", text);
    opened o = open_ok();
    clnet__keras_layer_ref r = {
        .depth = 2, .names = {long_name, long_name + 1500}, .classes = {"Sequential", "Conv2D"}};
    memset(r.v3_path, 'v', sizeof r.v3_path - 1);
    float got;
    char err[512] = "";
    cr_expect_eq(
        o.src.read(o.src.ctx, &r, 0, "kernel", (const int64_t[]){1}, 1, &got, err, sizeof err),
        CLNET_ERR_PARSE);
    cr_expect(strstr(err, "has no kernel (weight 0)"), "%s", err);
    cr_expect_eq(o.src.count(o.src.ctx, &r), 0);
    close_opened(&o);
}
