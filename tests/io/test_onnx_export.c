/* test_onnx_export.c - clnet_model_export_onnx (src/io/onnx_export.c, onnx_export_layers.c):
 * the written file parsed back with protobuf-c has opset 13, a symbolic batch, the layers as
 * the expected nodes and the weights transposed to ONNX's layouts; refusals leave an existing
 * file alone; and, where Python's onnx package is installed, onnx.checker (full_check) accepts
 * the export of a representative zoo model of every family and of the tests' small networks.
 * That the exports compute what clnet computes: bench/compare/onnx_export_check.sh (ONNX
 * Runtime). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx/onnx.pb-c.h"
#include "plan/plan.h"
#include "support/models.h"
#include "support/tempdir.h"

TestSuite(onnx_export, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir, .timeout = 600);

/* Every conversion the small spec exercises: an asymmetric 'same' convolution with a fused
 * relu6 (Clip), a strided depthwise with depth multiplier 2 and hard_swish (HardSigmoid, Mul),
 * batch norm, a global pool and a dense head with softmax on [N, C] (Flatten, Gemm). */
static const char tiny_spec[] =
    "[image]\nop = input\nshape = 6, 5, 3\n"
    "[conv]\nop = conv2d\nfilters = 4\nkernel_size = 3, 2\npadding = same\nactivation = relu6\n"
    "[dw]\nop = depthwise_conv2d\nkernel_size = 3\nstrides = 2\npadding = same\n"
    "depth_multiplier = 2\nactivation = hard_swish\n"
    "[bn]\nop = batch_norm\n"
    "[pool]\nop = global_avg_pool\n"
    "[fc]\nop = dense\nunits = 3\nactivation = softmax\n";

static clnet_graph *from_spec(const char *text)
{
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_graph_from_spec(text, "test.spec", &g, err, sizeof err), CLNET_OK, "%s",
                 err);
    return g;
}

static void export_ok(clnet_model *m, const char *path, int nhwc)
{
    const clnet_onnx_export_options opt = {nhwc, 0};
    const clnet_status st = clnet_model_export_onnx(m, path, &opt);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(m->ctx));
}

static Onnx__ModelProto *read_back(const char *path)
{
    size_t n = 0;
    unsigned char *data = clnet_test_read_file(path, &n);
    Onnx__ModelProto *p = onnx__model_proto__unpack(NULL, n, data);
    free(data);
    cr_assert_not_null(p, "%s does not parse as an ONNX ModelProto", path);
    return p;
}

static const Onnx__TensorProto *init_of(const Onnx__ModelProto *p, const char *name)
{
    for (size_t i = 0; i < p->graph->n_initializer; ++i)
        if (strcmp(p->graph->initializer[i]->name, name) == 0)
            return p->graph->initializer[i];
    cr_assert_fail("no initializer %s", name);
    return NULL;
}

static const Onnx__AttributeProto *attr_of(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; ++i)
        if (strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    cr_assert_fail("node %s has no attribute %s", n->name, name);
    return NULL;
}

static void expect_ints(const Onnx__AttributeProto *a, int n, const int64_t *want)
{
    cr_assert_eq(a->n_ints, (size_t)n, "%s: %zu values", a->name, a->n_ints);
    for (int i = 0; i < n; ++i)
        cr_expect_eq(a->ints[i], want[i], "%s[%d] = %lld, want %lld", a->name, i,
                     (long long)a->ints[i], (long long)want[i]);
}

/* A value [N, dims...] with the batch symbolic. */
static void expect_value(const Onnx__ValueInfoProto *v, int rank, const int64_t *dims)
{
    const Onnx__TensorShapeProto *s = v->type->tensor_type->shape;
    cr_assert_eq(v->type->tensor_type->elem_type, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    cr_assert_eq(s->n_dim, (size_t)rank, "%s: rank %zu", v->name, s->n_dim);
    cr_expect_eq(s->dim[0]->value_case, ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM);
    cr_expect_str_eq(s->dim[0]->dim_param, "N");
    for (int i = 1; i < rank; ++i)
        cr_expect_eq(s->dim[i]->dim_value, dims[i - 1], "%s: dim %d", v->name, i);
}

/* The floats of a raw_data initializer, checked to have dims. */
static const float *raw_floats(const Onnx__TensorProto *t, int rank, const int64_t *dims)
{
    size_t count = 1;
    cr_assert_eq(t->n_dims, (size_t)rank, "%s: rank %zu", t->name, t->n_dims);
    for (int i = 0; i < rank; ++i) {
        cr_assert_eq(t->dims[i], dims[i], "%s: dim %d is %lld", t->name, i, (long long)t->dims[i]);
        count *= (size_t)dims[i];
    }
    cr_assert_eq(t->data_type, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    cr_assert(t->has_raw_data && t->raw_data.len == count * sizeof(float), "%s", t->name);
    return (const float *)t->raw_data.data; /* the tests run on little-endian hosts */
}

/* Weight index i of m on the host (free()). */
static float *weight(clnet_model *m, int i)
{
    clnet_tensor *t = NULL;
    cr_assert_eq(clnet_model_weight(m, i, NULL, &t, NULL), CLNET_OK);
    return clnet_test_host(t);
}

Test(onnx_export, tiny_spec_nodes_shapes_and_transposed_weights)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = from_spec(tiny_spec);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 3);
    clnet_test_randomize_weights(m, 17);
    const char *path = clnet_test_path("tiny.onnx");
    export_ok(m, path, 0);
    Onnx__ModelProto *p = read_back(path);

    cr_expect_eq(p->ir_version, 7);
    cr_assert_eq(p->n_opset_import, 1);
    cr_expect_str_eq(p->opset_import[0]->domain ? p->opset_import[0]->domain : "", "");
    cr_expect_eq(p->opset_import[0]->version, 13);
    cr_expect_str_eq(p->producer_name, "clnet");
    const Onnx__GraphProto *gr = p->graph;
    cr_assert_eq(gr->n_input, 1);
    cr_assert_eq(gr->n_output, 1);
    expect_value(gr->input[0], 4, (const int64_t[]){3, 6, 5});
    cr_expect_str_eq(gr->input[0]->name, "image");
    expect_value(gr->output[0], 2, (const int64_t[]){3});
    cr_expect_str_eq(gr->output[0]->name, "fc");

    static const char *const types[] = {"Conv",
                                        "Clip",
                                        "Conv",
                                        "HardSigmoid",
                                        "Mul",
                                        "BatchNormalization",
                                        "GlobalAveragePool",
                                        "Flatten",
                                        "Gemm",
                                        "Softmax"};
    cr_assert_eq(gr->n_node, CLNET_COUNTOF(types), "%zu nodes", gr->n_node);
    for (size_t i = 0; i < gr->n_node; ++i)
        cr_expect_str_eq(gr->node[i]->op_type, types[i], "node %zu", i);
    /* Nodes are named after their layers; every value is written once. */
    cr_expect_str_eq(gr->node[0]->name, "conv");
    cr_expect_str_eq(gr->node[2]->name, "dw");
    cr_expect_str_eq(gr->node[8]->name, "fc");
    for (size_t i = 0; i < gr->n_node; ++i)
        for (size_t j = 0; j < i; ++j) {
            cr_expect_str_neq(gr->node[i]->output[0], gr->node[j]->output[0]);
            cr_expect_str_neq(gr->node[i]->name, gr->node[j]->name);
        }

    /* 'same' puts the odd cell after: kernel 3x2 on 6x5 pads rows 1 + 1, columns 0 + 1. */
    expect_ints(attr_of(gr->node[0], "pads"), 4, (const int64_t[]){1, 0, 1, 1});
    expect_ints(attr_of(gr->node[0], "kernel_shape"), 2, (const int64_t[]){3, 2});
    expect_ints(attr_of(gr->node[2], "strides"), 2, (const int64_t[]){2, 2});
    expect_ints(attr_of(gr->node[2], "pads"), 4, (const int64_t[]){0, 1, 1, 1});
    cr_expect_eq(attr_of(gr->node[2], "group")->i, 4);
    cr_expect_float_eq(attr_of(gr->node[3], "alpha")->f, 1.0f / 6.0f, 1e-7);
    cr_expect_eq(attr_of(gr->node[8], "transB")->i, 1);
    cr_expect_eq(attr_of(gr->node[9], "axis")->i, 1);

    /* conv kernel HWIO {3, 2, 3, 4} -> OIHW [4, 3, 3, 2]. */
    float *k = weight(m, 0);
    const float *w = raw_floats(init_of(p, "conv/kernel"), 4, (const int64_t[]){4, 3, 3, 2});
    for (int o = 0; o < 4; ++o)
        for (int i = 0; i < 3; ++i)
            for (int y = 0; y < 3; ++y)
                for (int x = 0; x < 2; ++x)
                    cr_assert_eq(w[((o * 3 + i) * 3 + y) * 2 + x], k[((y * 2 + x) * 3 + i) * 4 + o],
                                 "conv/kernel[%d][%d][%d][%d]", o, i, y, x);
    free(k);
    /* depthwise {3, 3, 4, 2}: output channel c * 2 + j is group c's filter j. */
    k = weight(m, 2);
    w = raw_floats(init_of(p, "dw/kernel"), 4, (const int64_t[]){8, 1, 3, 3});
    for (int o = 0; o < 8; ++o)
        for (int yx = 0; yx < 9; ++yx)
            cr_assert_eq(w[o * 9 + yx], k[yx * 8 + o], "dw/kernel[%d][0][%d]", o, yx);
    free(k);
    /* dense {1, 1, 8, 3} -> Gemm's B [3, 8] (transB). */
    const int fc = m->weight_base[clnet_graph_find(g, "fc")];
    k = weight(m, fc);
    w = raw_floats(init_of(p, "fc/kernel"), 2, (const int64_t[]){3, 8});
    for (int o = 0; o < 3; ++o)
        for (int i = 0; i < 8; ++i)
            cr_assert_eq(w[o * 8 + i], k[i * 3 + o], "fc/kernel[%d][%d]", o, i);
    free(k);
    k = weight(m, fc + 1);
    w = raw_floats(init_of(p, "fc/bias"), 1, (const int64_t[]){3});
    cr_expect_arr_eq(w, k, 3 * sizeof *k);
    free(k);
    const int bn = m->weight_base[clnet_graph_find(g, "bn")];
    k = weight(m, bn + 3);
    w = raw_floats(init_of(p, "bn/moving_variance"), 1, (const int64_t[]){8});
    cr_expect_arr_eq(w, k, 8 * sizeof *k);
    free(k);

    onnx__model_proto__free_unpacked(p, NULL);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

Test(onnx_export, nhwc_input_and_metadata)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = from_spec(tiny_spec);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 3);
    static const char *const labels[3] = {"cat", "dog \"big\"", "\xc3\xa9l\xc3\xa8ve"};
    cr_assert_eq(clnet_model_set_labels(m, labels, 3), CLNET_OK);
    cr_assert_eq(clnet_model_set_normalization(m, (const float[]){0.5f, 0.25f, 0.125f},
                                               (const float[]){2.0f, 1.0f, 0.5f}, 3),
                 CLNET_OK);
    const char *path = clnet_test_path("nhwc.onnx");
    export_ok(m, path, 1);
    Onnx__ModelProto *p = read_back(path);
    const Onnx__GraphProto *gr = p->graph;
    expect_value(gr->input[0], 4, (const int64_t[]){6, 5, 3});
    cr_assert_str_eq(gr->node[0]->op_type, "Transpose");
    cr_expect_str_eq(gr->node[0]->input[0], "image");
    expect_ints(attr_of(gr->node[0], "perm"), 4, (const int64_t[]){0, 3, 1, 2});
    cr_expect_str_eq(gr->node[1]->input[0], gr->node[0]->output[0]);
    expect_value(gr->output[0], 2, (const int64_t[]){3});

    const char *want[][2] = {
        {"clnet.labels", "[\"cat\",\"dog \\\"big\\\"\",\"\xc3\xa9l\xc3\xa8ve\"]"},
        {"clnet.mean", "0.5,0.25,0.125"},
        {"clnet.std", "2,1,0.5"}};
    cr_assert_eq(p->n_metadata_props, 3);
    for (int i = 0; i < 3; ++i) {
        cr_expect_str_eq(p->metadata_props[i]->key, want[i][0]);
        cr_expect_str_eq(p->metadata_props[i]->value, want[i][1]);
    }
    onnx__model_proto__free_unpacked(p, NULL);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* Whether a file named like "<name>.tmp.*" was left in the test directory. */
static int temporary_left(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q '\\.tmp\\.'", clnet_test_dir);
    return system(cmd) == 0;
}

Test(onnx_export, refusal_names_the_layer_and_keeps_the_file)
{
    clnet_context *ctx = clnet_test_device();
    /* A loss layer is no inference op: the exporter refuses it by name. */
    clnet_graph *g = from_spec("[image]\nop = input\nshape = 4, 4, 2\n"
                               "[flat]\nop = flatten\n"
                               "[logits]\nop = dense\nunits = 3\n"
                               "[target]\nop = softmax\n"
                               "[xent]\nop = softmax_cross_entropy\ninputs = logits, target\n");
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 3);
    const char *path = clnet_test_path("kept.onnx");
    static const char old[] = "an existing file";
    clnet_test_write_file(path, old, sizeof old);
    clnet_status st = clnet_model_export_onnx(m, path, NULL);
    cr_assert_eq(st, CLNET_ERR_UNSUPPORTED, "%s", clnet_status_string(st));
    const char *msg = clnet_context_error(ctx);
    cr_expect(strstr(msg, "'xent'") && strstr(msg, "softmax_cross_entropy") && strstr(msg, path),
              "%s", msg);
    size_t n = 0;
    unsigned char *data = clnet_test_read_file(path, &n);
    cr_expect(n == sizeof old && memcmp(data, old, n) == 0, "the existing file changed");
    free(data);
    cr_expect(!temporary_left(), "a temporary file was left");

    /* A directory that does not exist: an I/O error naming the temporary file. */
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
    g = from_spec(tiny_spec);
    m = clnet_test_model(ctx, g, 1, 1, 3);
    const char *bad = clnet_test_path("missing/dir.onnx");
    st = clnet_model_export_onnx(m, bad, NULL);
    cr_assert_eq(st, CLNET_ERR_IO, "%s", clnet_status_string(st));
    cr_expect(strstr(clnet_context_error(ctx), "missing/dir.onnx.tmp."), "%s",
              clnet_context_error(ctx));
    cr_expect_eq(clnet_model_export_onnx(NULL, path, NULL), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_model_export_onnx(m, NULL, NULL), CLNET_ERR_INVALID_ARG);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* ---- onnx.checker, where Python's onnx package is installed ---- */

static void export_zoo(clnet_context *ctx, const char *name, const char *style, int shortcut_a,
                       const char *file, int nhwc)
{
    clnet_zoo_options zo = {64, 64, 3, 10, style, 0.0, shortcut_a};
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_zoo_build(name, &zo, &g, err, sizeof err), CLNET_OK, "%s", err);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    export_ok(m, clnet_test_path(file), nhwc);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

static void export_graph(clnet_context *ctx, clnet_graph *g, const char *file)
{
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    export_ok(m, clnet_test_path(file), 0);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* One model of each zoo family at 64x64x3 (the largest variants only repeat their family's
 * blocks at widths that cost time, not coverage), the ResNets' Keras style (zero_pad) and
 * option-A shortcuts (channel_pad), an NHWC input and the tests' small networks. */
Test(onnx_export, onnx_checker_accepts_every_family)
{
    if (system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") != 0)
        cr_skip_test("Python's onnx package is not installed (Debian: python3-onnx)");
    clnet_context *ctx = clnet_test_device();
    static const char *const zoo[] = {
        "mobilenetv3_small", "shufflenet_v2_x0_5", "convnext_tiny", "densenet121",
        "resnet18",          "resnet50",           "mobilenetv2",   "mnasnet",
        "mobilenetv3_large", "efficientnet_b0",    "squeezenet1_1", "resnext50_32x4d",
        "regnet_y_400mf"};
    char file[96];
    /* Under the sanitizers (10x slower) the families whose exports hold every op kind
     * stand for the rest: the checker's verdict does not depend on memory errors. */
#if defined(__SANITIZE_ADDRESS__)
    const size_t n_zoo = 4;
#else
    const size_t n_zoo = CLNET_COUNTOF(zoo);
#endif
    for (size_t i = 0; i < n_zoo; ++i) {
        snprintf(file, sizeof file, "%s.onnx", zoo[i]);
        export_zoo(ctx, zoo[i], "torch", 0, file, 0);
    }
    export_zoo(ctx, "resnet18", "keras", 0, "resnet18_keras.onnx", 0);
    export_zoo(ctx, "resnet18", "torch", 1, "resnet18_shortcut_a.onnx", 0);
    export_zoo(ctx, "mobilenetv2", "torch", 0, "mobilenetv2_nhwc.onnx", 1);
    export_graph(ctx, clnet_test_small_shufflenet(9, 7, 3, 4), "small_shufflenet.onnx");
    export_graph(ctx, clnet_test_small_mobilenetv3(17, 15, 3, 5), "small_mobilenetv3.onnx");
    export_graph(ctx, clnet_test_small_efficientnet(17, 15, 3, 5), "small_efficientnet.onnx");
    export_graph(ctx, from_spec(tiny_spec), "tiny.onnx");

    /* One interpreter for all files; it names each one it rejects. */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"\n"
             "import glob, sys, onnx\n"
             "bad = 0\n"
             "for f in sorted(glob.glob('%s/*.onnx')):\n"
             "    try:\n"
             "        onnx.checker.check_model(onnx.load(f), full_check=True)\n"
             "    except Exception as e:\n"
             "        bad += 1\n"
             "        print(f, e, file=sys.stderr)\n"
             "sys.exit(1 if bad else 0)\n\"",
             clnet_test_dir);
    cr_expect_eq(system(cmd), 0, "onnx.checker rejected a file (stderr names it)");
}
