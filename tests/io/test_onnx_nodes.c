/* test_onnx_nodes.c - the ONNX importer (src/io/onnx_*.c) against the node tests of
 * ONNX's own test data (Debian's libonnx-testdata: data/node/<test>/model.onnx, one node,
 * and test_data_set_0/{input,output}_K.pb). Every test whose ops are all in the importer's
 * table (src/io/onnx_ops.c) or Constant is tried in up to two ways:
 *   run:  input 0 stays the model's input, the others become initializers; the import
 *         runs on the device and must give output_0 (rank 4 is NCHW = clnet NHWC, rank 2
 *         is [N, C] = {N, 1, 1, C}; an [N, C] input is fed as [N, C, 1, 1] through a
 *         Flatten, which the importer follows without a layer). A test of elementwise ops
 *         alone (view_ops) with an input of another rank views every tensor as
 *         [N, C, 1, 1] (support/onnx_view.c), N its dim 0 (1 for rank 1) and C the product
 *         of the rest: the same buffer as clnet's {N, 1, 1, C}, so input and output go
 *         unchanged;
 *   fold: every input becomes an initializer and clnet__onnx_fold_memory must give
 *         output_0 (ops the folder knows: ox_fold in onnx_fold.c).
 * A test is skipped only for a stated reason: a rank or data type clnet has no layout for,
 * or the importer's CLNET_ERR_UNSUPPORTED naming the node. The tests that pass now are
 * listed (must_run, must_fold) so that a regression fails rather than becoming a skip.
 * The table of every test, ran or skipped and why, goes to onnx_node_tests.txt in the
 * working directory and to Criterion's log; tests/io/onnx_node_tests.md keeps a copy. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx.h"
#include "io/onnx_ops.h"
#include "support/models.h"
#include "support/tempdir.h"
#include "support/onnx_view.h"

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"

/* Every node test that runs on the device and matches ONNX's output now (names without
 * their "test_"). */
static const char must_run[] =
    "averagepool_2d_ceil averagepool_2d_default averagepool_2d_pads "
    "averagepool_2d_pads_count_include_pad averagepool_2d_precomputed_pads "
    "averagepool_2d_precomputed_pads_count_include_pad averagepool_2d_precomputed_same_upper "
    "averagepool_2d_precomputed_strides averagepool_2d_same_lower averagepool_2d_same_upper "
    "averagepool_2d_strides basic_conv_with_padding basic_conv_without_padding batchnorm_epsilon "
    "batchnorm_example celu_expanded clip_default_min conv_with_autopad_same "
    "conv_with_strides_and_asymmetric_padding conv_with_strides_no_padding "
    "conv_with_strides_padding div_bcast div_example gemm_alpha gemm_beta gemm_default_no_bias "
    "gemm_default_scalar_bias gemm_default_single_elem_vector_bias gemm_default_vector_bias "
    "gemm_default_zero_bias gemm_transposeB hardswish hardswish_expanded "
    "layer_normalization_2d_axis1 layer_normalization_2d_axis_negative_1 leakyrelu "
    "leakyrelu_default leakyrelu_example matmul_2d maxpool_2d_ceil maxpool_2d_default "
    "maxpool_2d_pads maxpool_2d_precomputed_pads maxpool_2d_precomputed_same_upper "
    "maxpool_2d_precomputed_strides maxpool_2d_same_lower maxpool_2d_same_upper "
    "maxpool_2d_strides maxpool_with_argmax_2d_precomputed_pads mul_bcast mul_example relu "
    "sigmoid sigmoid_example softmax_example softmax_large_number split_equal_parts_2d "
    "add_bcast sub_bcast sub_example "
    "split_variable_parts_2d tanh tanh_example";

/* Every node test whose folded value matches ONNX's output now. */
static const char must_fold[] =
    "add add_bcast add_uint8 cast_DOUBLE_to_FLOAT cast_DOUBLE_to_FLOAT16 cast_FLOAT16_to_DOUBLE "
    "cast_FLOAT16_to_FLOAT cast_FLOAT_to_DOUBLE cast_FLOAT_to_FLOAT16 "
    "castlike_DOUBLE_to_FLOAT16_expanded castlike_DOUBLE_to_FLOAT_expanded "
    "castlike_FLOAT16_to_DOUBLE_expanded castlike_FLOAT16_to_FLOAT_expanded "
    "castlike_FLOAT_to_DOUBLE_expanded castlike_FLOAT_to_FLOAT16_expanded ceil ceil_example "
    "concat_1d_axis_0 concat_1d_axis_negative_1 concat_2d_axis_0 concat_2d_axis_1 "
    "concat_2d_axis_negative_1 concat_2d_axis_negative_2 concat_3d_axis_0 concat_3d_axis_1 "
    "concat_3d_axis_2 concat_3d_axis_negative_1 concat_3d_axis_negative_2 "
    "concat_3d_axis_negative_3 constant constantofshape_float_ones constantofshape_int_shape_zero "
    "constantofshape_int_zeros div div_bcast div_example div_uint8 dropout_default "
    "dropout_default_mask dropout_default_mask_ratio dropout_default_old dropout_default_ratio "
    "dropout_random_old flatten_axis0 flatten_axis1 flatten_axis2 flatten_axis3 "
    "flatten_default_axis flatten_negative_axis1 flatten_negative_axis2 flatten_negative_axis3 "
    "flatten_negative_axis4 floor floor_example gather_0 gather_1 gather_2d_indices "
    "gather_negative_indices identity mul mul_bcast mul_example mul_uint8 neg neg_example pow "
    "pow_bcast_array pow_bcast_scalar pow_example pow_types_float pow_types_float32_int32 "
    "pow_types_float32_int64 pow_types_float32_uint32 pow_types_float32_uint64 pow_types_int "
    "pow_types_int32_float32 pow_types_int32_int32 pow_types_int64_float32 pow_types_int64_int64 "
    "range_float_type_positive_delta range_int32_type_negative_delta reshape_allowzero_reordered "
    "reshape_extended_dims reshape_negative_dim reshape_negative_extended_dims reshape_one_dim "
    "reshape_reduced_dims reshape_reordered_all_dims reshape_reordered_last_dims "
    "reshape_zero_and_negative_dim reshape_zero_dim shape shape_clip_end shape_clip_start "
    "shape_end_1 shape_end_negative_1 shape_example shape_start_1 shape_start_1_end_2 "
    "shape_start_1_end_negative_1 shape_start_negative_1 slice slice_default_axes "
    "slice_default_steps slice_end_out_of_bounds slice_neg slice_neg_steps slice_negative_axes "
    "slice_start_out_of_bounds sqrt sqrt_example squeeze squeeze_negative_axes sub sub_bcast "
    "sub_example sub_uint8 training_dropout_zero_ratio training_dropout_zero_ratio_mask "
    "transpose_all_permutations_0 transpose_all_permutations_1 transpose_all_permutations_2 "
    "transpose_all_permutations_3 transpose_all_permutations_4 transpose_all_permutations_5 "
    "transpose_default unsqueeze_axis_0 unsqueeze_axis_1 unsqueeze_axis_2 unsqueeze_axis_3 "
    "unsqueeze_negative_axes unsqueeze_three_axes unsqueeze_two_axes unsqueeze_unsorted_axes";

/* The ops whose math is position by position, whatever the layout (the second operand
 * broadcast as it lies): a test of these alone runs on any rank through the
 * [N, C, 1, 1] view. Softmax is not one (its axis is a layout). */
static const char *const view_ops[] = {
    "Relu",  "Sigmoid",  "Tanh",    "LeakyRelu", "Elu", "HardSigmoid", "HardSwish", "Clip",
    "PRelu", "Identity", "Dropout", "Add",       "Sub", "Mul",         "Div",       "Sum",
};

/* The ops ox_fold (onnx_fold.c) computes on constants. */
static const char *const fold_ops[] = {
    "Shape",    "Gather",  "Unsqueeze", "Squeeze",  "Concat",
    "Slice",    "Reshape", "Transpose", "Cast",     "ConstantOfShape",
    "Range",    "Add",     "Sub",       "Mul",      "Div",
    "Pow",      "Neg",     "Sqrt",      "Floor",    "Ceil",
    "Identity", "Dropout", "Flatten",   "Constant",
};

enum outcome { RAN, SKIPPED, FAILED };

typedef struct row {
    char name[96];
    int outcome;
    char why[200];
} row;

typedef struct table {
    row *rows;
    int n, cap;
} table;

static void record(table *t, const char *name, int outcome, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void record(table *t, const char *name, int outcome, const char *fmt, ...)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->rows = realloc(t->rows, (size_t)t->cap * sizeof *t->rows);
        cr_assert(t->rows);
    }
    row *r = &t->rows[t->n++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->outcome = outcome;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    /* The importer's reason is one line: the first of its message. */
    char *nl = strchr(r->why, '\n');
    if (nl)
        *nl = 0;
    if (outcome == FAILED)
        cr_expect(0, "%s: %s", name, r->why);
}

static int in_list(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; ++i)
        if (list[i] && !strcmp(list[i], name))
            return 1;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The node tests' folder names, sorted; NULL when the test data is not installed. */
static char **list_tests(int *n)
{
    DIR *d = opendir(NODE_DIR);
    if (!d)
        return NULL;
    char **names = NULL;
    int cap = 0;
    *n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            names = realloc(names, (size_t)cap * sizeof *names);
            cr_assert(names);
        }
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)*n, sizeof *names, cmp_names);
    return names;
}

/* The data types clnet reads as numbers (onnx_read.c's elem_size); NULL, else the name. */
static const char *unread_type(int type)
{
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
        return NULL;
    case ONNX__TENSOR_PROTO__DATA_TYPE__STRING:
        return "STRING";
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
        return "BFLOAT16";
    default:
        return "complex or unknown";
    }
}

/* One node test: its model and the tensors of test_data_set_0. */
typedef struct node_test {
    const char *name;
    Onnx__ModelProto *model;
    Onnx__TensorProto *in[16]; /* input_K.pb, K < n_in */
    int n_in;
    clnet__onnx_tensor want; /* output_0.pb as float32 */
    int want_int;            /* output_0 holds integers: compared exactly */
} node_test;

static Onnx__TensorProto *read_tensor(const char *test, const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/test_data_set_0/%s", NODE_DIR, test, file);
    size_t size;
    uint8_t *buf = (uint8_t *)clnet_test_read_file(path, &size);
    if (!buf)
        return NULL;
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, size, buf);
    free(buf);
    return t;
}

static void close_test(node_test *t)
{
    for (int k = 0; k < t->n_in; ++k)
        if (t->in[k])
            onnx__tensor_proto__free_unpacked(t->in[k], NULL);
    if (t->model)
        onnx__model_proto__free_unpacked(t->model, NULL);
    clnet__onnx_tensor_free(&t->want);
    memset(t, 0, sizeof *t);
}

/* Reads test name; NULL with the reason in why when it cannot be compared at all. */
static const char *open_test(const char *name, node_test *t, char *why, size_t len)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    char path[512];
    snprintf(path, sizeof path, "%s/%s/model.onnx", NODE_DIR, name);
    size_t size;
    uint8_t *buf = (uint8_t *)clnet_test_read_file(path, &size);
    cr_assert(buf, "%s: no model.onnx", name);
    t->model = onnx__model_proto__unpack(NULL, size, buf);
    free(buf);
    cr_assert(t->model && t->model->graph, "%s: model.onnx does not parse", name);
    const Onnx__ModelProto *m = t->model;
    /* The model's own opset and IR version: outside clnet's, the whole file is refused. */
    int64_t opset = 0;
    for (size_t i = 0; i < m->n_opset_import; ++i)
        if (!m->opset_import[i]->domain || !m->opset_import[i]->domain[0])
            opset = m->opset_import[i]->version;
    if (opset < CLNET_ONNX_MIN_OPSET || opset > CLNET_ONNX_MAX_OPSET)
        return snprintf(why, len, "opset %lld is outside the %d to %d clnet reads",
                        (long long)opset, CLNET_ONNX_MIN_OPSET, CLNET_ONNX_MAX_OPSET),
               NULL;
    if (m->ir_version < CLNET_ONNX_MIN_IR || m->ir_version > CLNET_ONNX_MAX_IR)
        return snprintf(why, len, "IR version %lld is outside the %d to %d clnet reads",
                        (long long)m->ir_version, CLNET_ONNX_MIN_IR, CLNET_ONNX_MAX_IR),
               NULL;
    /* Data types as the model declares them (the .pb files hold BFLOAT16 as UINT16). */
    const Onnx__GraphProto *g = m->graph;
    for (size_t k = 0; k < g->n_input + 1; ++k) {
        const Onnx__ValueInfoProto *v = k < g->n_input ? g->input[k] : g->output[0];
        const Onnx__TypeProto *ty = v->type;
        if (!ty || ty->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
            return snprintf(why, len, "%s is not a tensor (sequence or optional)", v->name), NULL;
        const char *bad = unread_type(ty->tensor_type->elem_type);
        if (bad)
            return snprintf(why, len, "%s is of data type %s", v->name, bad), NULL;
    }
    cr_assert(g->n_input <= 16, "%s: %zu inputs", name, g->n_input);
    t->n_in = (int)g->n_input;
    for (int k = 0; k < t->n_in; ++k) {
        char file[32];
        snprintf(file, sizeof file, "input_%d.pb", k);
        t->in[k] = read_tensor(name, file);
        cr_assert(t->in[k], "%s: %s does not parse", name, file);
    }
    const int out_type = g->output[0]->type->tensor_type->elem_type;
    t->want_int = out_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
                  out_type != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE &&
                  out_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    char err[1024];
    snprintf(path, sizeof path, "%s/%s/test_data_set_0/output_0.pb", NODE_DIR, name);
    const clnet_status st = clnet__onnx_tensor_file(path, &t->want, err, sizeof err);
    cr_assert_eq(st, CLNET_OK, "%s: %s", name, err);
    return name;
}

/* Input k of the graph becomes an initializer holding input_k.pb (taken from t). */
static void to_initializer(node_test *t, Onnx__GraphProto *g, int k)
{
    Onnx__TensorProto *value = t->in[k];
    t->in[k] = NULL;
    /* Both names are protobuf-c's optional strings (malloc'd or NULL): a swap keeps each
     * freeable by free_unpacked. */
    char *name = value->name;
    value->name = g->input[k]->name;
    g->input[k]->name = name;
    g->initializer = realloc(g->initializer, (g->n_initializer + 1) * sizeof *g->initializer);
    cr_assert(g->initializer);
    g->initializer[g->n_initializer++] = value;
}

static char *copy(const char *s)
{
    char *d = strdup(s);
    cr_assert(d);
    return d;
}

/* How the run check feeds input 0: as it is (NCHW), as [N, C] rows through a Flatten, or
 * (a test of view_ops) with every tensor viewed as [N, C, 1, 1]. */
enum feed { AS_NCHW, AS_ROWS, AS_VIEW, NO_FEED };

/* The model rewritten: inputs [first, n_in) made initializers, output 0 the only output,
 * and input 0 fed as feed says (AS_VIEW: x is input 0's value); packed into *size bytes. */
static uint8_t *rewrite(node_test *t, int first, int feed, const clnet__onnx_tensor *x,
                        size_t *size)
{
    Onnx__GraphProto *g = t->model->graph;
    for (int k = first; k < t->n_in; ++k) {
        to_initializer(t, g, k);
        if (feed == AS_VIEW) {
            char path[512], err[1024];
            snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_%d.pb", NODE_DIR, t->name, k);
            clnet__onnx_tensor v;
            cr_assert_eq(clnet__onnx_tensor_file(path, &v, err, sizeof err), CLNET_OK, "%s", err);
            Onnx__TensorProto **c = &g->initializer[g->n_initializer - 1];
            *c = clnet_test_onnx_view_constant(*c, &v, x);
            clnet__onnx_tensor_free(&v);
        }
    }
    for (size_t k = (size_t)first; k < g->n_input; ++k)
        onnx__value_info_proto__free_unpacked(g->input[k], NULL);
    g->n_input = (size_t)first;
    for (size_t o = 1; o < g->n_output; ++o)
        onnx__value_info_proto__free_unpacked(g->output[o], NULL);
    g->n_output = 1;
    if (feed == AS_VIEW) {
        int64_t view[4];
        clnet_test_onnx_view(x->dims, x->rank, view);
        clnet_test_onnx_declare(g->input[0], view);
        clnet_test_onnx_declare(g->output[0], view);
        /* Values between the nodes (hardswish_expanded's) keep no shape of the old rank. */
        for (size_t v = 0; v < g->n_value_info; ++v)
            onnx__value_info_proto__free_unpacked(g->value_info[v], NULL);
        g->n_value_info = 0;
    }
    if (feed == AS_ROWS) {
        Onnx__TensorShapeProto *s = g->input[0]->type->tensor_type->shape;
        s->dim = realloc(s->dim, 4 * sizeof *s->dim);
        cr_assert(s->dim);
        for (int d = 2; d < 4; ++d)
            s->dim[d] = clnet_test_onnx_dim(1);
        s->n_dim = 4;
        Onnx__NodeProto *n = malloc(sizeof *n);
        cr_assert(n);
        onnx__node_proto__init(n);
        n->op_type = copy("Flatten");
        n->name = copy("clnet_test_rows");
        n->input = malloc(sizeof *n->input);
        n->output = malloc(sizeof *n->output);
        cr_assert(n->input && n->output);
        n->n_input = n->n_output = 1;
        n->output[0] = g->input[0]->name; /* taken */
        g->input[0]->name = copy("clnet_test_nchw");
        n->input[0] = copy("clnet_test_nchw");
        g->node = realloc(g->node, (g->n_node + 1) * sizeof *g->node);
        cr_assert(g->node);
        g->node[g->n_node++] = n;
    }
    *size = onnx__model_proto__get_packed_size(t->model);
    uint8_t *buf = malloc(*size ? *size : 1);
    cr_assert(buf);
    onnx__model_proto__pack(t->model, buf);
    return buf;
}

/* Does an importer error count as a skip: CLNET_ERR_UNSUPPORTED naming a node. */
static int unsupported_node(clnet_status st, const char *err)
{
    return st == CLNET_ERR_UNSUPPORTED && strstr(err, "node '");
}

/* The importer's reason for a node: the text after "): " on its line. */
static const char *reason(const char *err)
{
    const char *node = strstr(err, "node '");
    const char *why = node ? strstr(node, "): ") : NULL;
    return why ? why + 3 : err;
}

/* |got - want| <= tol * max(1, max |want|) for every value (NaN only against NaN); the
 * worst error into *worst. */
static int close_enough(const float *got, const float *want, int64_t count, double tol,
                        double *worst)
{
    double scale = 1.0;
    for (int64_t j = 0; j < count; ++j)
        if (fabs(want[j]) > scale)
            scale = fabs(want[j]);
    *worst = 0.0;
    for (int64_t j = 0; j < count; ++j) {
        if (isnan(want[j]) || isnan(got[j])) {
            if (isnan(want[j]) != isnan(got[j]))
                return *worst = INFINITY, 0;
            continue;
        }
        const double e = fabs((double)got[j] - (double)want[j]);
        if (e > *worst)
            *worst = e;
    }
    return *worst <= tol * scale;
}

/* clnet's activation layouts: rank 4 [N, C, H, W] is {N, H, W, C}, rank 2 [N, C] is
 * {N, 1, 1, C}; 0 for other ranks. */
static int clnet_shape_of(const int64_t *d, int rank, clnet_shape *s)
{
    if (rank == 4)
        *s = (clnet_shape){(int)d[0], (int)d[2], (int)d[3], (int)d[1]};
    else if (rank == 2)
        *s = (clnet_shape){(int)d[0], 1, 1, (int)d[1]};
    else
        return 0;
    return 1;
}

/* NCHW (c, h, w) of n images to NHWC, or back (to_nchw). */
static void transpose(const float *src, float *dst, clnet_shape s, int to_nchw)
{
    for (int n = 0; n < s.n; ++n)
        for (int c = 0; c < s.c; ++c)
            for (int y = 0; y < s.h; ++y)
                for (int x = 0; x < s.w; ++x) {
                    const size_t nchw = (((size_t)n * s.c + c) * s.h + y) * s.w + x,
                                 nhwc = (((size_t)n * s.h + y) * s.w + x) * s.c + c;
                    if (to_nchw)
                        dst[nchw] = src[nhwc];
                    else
                        dst[nhwc] = src[nchw];
                }
}

/* The first op of g that is not one of view_ops; NULL when all are. */
static const char *unviewable(const Onnx__GraphProto *g)
{
    for (size_t k = 0; k < g->n_node; ++k)
        if (!in_list(view_ops, CLNET_COUNTOF(view_ops), g->node[k]->op_type))
            return g->node[k]->op_type;
    return NULL;
}

/* Imports t rewritten with feed, runs it on x (clnet's in_shape, x's values in NCHW) and
 * compares with output_0 (clnet's want_shape); records the row. */
static void run_model(clnet_context *ctx, node_test *t, const clnet__onnx_tensor *x, int feed,
                      clnet_shape in_shape, clnet_shape want_shape, table *tab)
{
    const char *name = t->name;
    char err[4096];
    size_t size;
    uint8_t *model = rewrite(t, 1, feed, x, &size);
    clnet__import im;
    clnet_status st = clnet__onnx_import_memory(model, size, NULL, &im, err, sizeof err);
    free(model);
    clnet_model *m = NULL;
    if (unsupported_node(st, err)) {
        record(tab, name, SKIPPED, "%s", reason(err));
        goto done;
    }
    if (st != CLNET_OK) {
        record(tab, name, FAILED, "import: %s: %s", clnet_status_string(st), err);
        goto done;
    }
    const clnet_model_options opt = {1, 0, 0};
    if ((st = clnet__import_model(ctx, &im, &opt, &m, err, sizeof err)) != CLNET_OK) {
        record(tab, name, FAILED, "the imported graph makes no model: %s: %s",
               clnet_status_string(st), err);
        goto done;
    }
    float *nhwc = malloc((size_t)x->count * sizeof *nhwc);
    cr_assert(nhwc);
    transpose(x->data, nhwc, in_shape, 0);
    clnet_tensor *in = clnet_test_tensor(ctx, in_shape, nhwc), *y = NULL;
    st = clnet_model_forward(m, in, 0, &y);
    if (st != CLNET_OK) {
        record(tab, name, FAILED, "forward: %s: %s", clnet_status_string(st),
               clnet_context_error(ctx));
    } else {
        const clnet_shape s = clnet_tensor_shape(y);
        float *got = clnet_test_host(y), *nchw = malloc((size_t)t->want.count * 4);
        cr_assert(nchw);
        double worst;
        if (memcmp(&s, &want_shape, sizeof s))
            record(tab, name, FAILED, "output {%d, %d, %d, %d}, ONNX's {%d, %d, %d, %d}", s.n, s.h,
                   s.w, s.c, want_shape.n, want_shape.h, want_shape.w, want_shape.c);
        else if (transpose(got, nchw, s, 1),
                 !close_enough(nchw, t->want.data, t->want.count, 1e-4, &worst))
            record(tab, name, FAILED, "off by %g (tolerance 1e-4 x max(1, |ONNX's|))", worst);
        else
            record(tab, name, RAN, "within %.2g", worst);
        free(got);
        free(nchw);
    }
    clnet_tensor_destroy(in);
    free(nhwc);
done:
    clnet_model_destroy(m);
    clnet__import_free(&im);
}

/* The run check of one test on ctx; records its row. */
static void run_test(clnet_context *ctx, const char *name, table *tab)
{
    node_test t;
    char why[512];
    if (!open_test(name, &t, why, sizeof why)) {
        record(tab, name, SKIPPED, "%s", why);
        close_test(&t);
        return;
    }
    const Onnx__TypeProto__Tensor *ty = t.n_in ? t.model->graph->input[0]->type->tensor_type : NULL;
    const int rank = ty && ty->shape ? (int)ty->shape->n_dim : -1;
    /* Elementwise ops alone take any rank but 0 through the [N, C, 1, 1] view. */
    const char *other = unviewable(t.model->graph);
    const int feed = rank == 4            ? AS_NCHW
                     : rank == 2          ? AS_ROWS
                     : rank > 0 && !other ? AS_VIEW
                                          : NO_FEED;
    clnet__onnx_tensor x = {0};
    clnet_shape in_shape, want_shape;
    if (!t.n_in || feed == NO_FEED) {
        record(tab, name, SKIPPED, "input rank %d has no clnet layout%s%s%s", rank,
               rank > 0 && other ? " and " : "", rank > 0 && other ? other : "",
               rank > 0 && other ? " is not elementwise (no [N, C, 1, 1] view)" : "");
    } else if (t.in[0]->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        record(tab, name, SKIPPED, "input 0 is not float32 (clnet's images are)");
    } else if (feed != AS_VIEW && !clnet_shape_of(t.want.dims, t.want.rank, &want_shape)) {
        record(tab, name, SKIPPED, "output rank %d has no clnet layout", t.want.rank);
    } else {
        char path[512], err[4096];
        snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_0.pb", NODE_DIR, name);
        cr_assert_eq(clnet__onnx_tensor_file(path, &x, err, sizeof err), CLNET_OK, "%s", err);
        if (feed != AS_VIEW) {
            clnet_shape_of(x.dims, rank, &in_shape);
            run_model(ctx, &t, &x, feed, in_shape, want_shape, tab);
        } else if (t.want.rank != x.rank ||
                   memcmp(t.want.dims, x.dims, (size_t)x.rank * sizeof *x.dims)) {
            record(tab, name, SKIPPED,
                   "output dims are not input 0's (input 0 broadcast): no [N, C, 1, 1] view");
        } else {
            int64_t view[4];
            clnet_test_onnx_view(x.dims, x.rank, view);
            in_shape = want_shape = (clnet_shape){(int)view[0], 1, 1, (int)view[1]};
            run_model(ctx, &t, &x, feed, in_shape, want_shape, tab);
        }
    }
    clnet__onnx_tensor_free(&x);
    close_test(&t);
}

/* The fold check of one test; records its row. */
static void fold_test(const char *name, table *tab)
{
    node_test t;
    char why[512], err[4096];
    if (!open_test(name, &t, why, sizeof why)) {
        record(tab, name, SKIPPED, "%s", why);
        close_test(&t);
        return;
    }
    size_t size;
    uint8_t *model = rewrite(&t, 0, AS_NCHW, NULL, &size);
    clnet__onnx_tensor got;
    const clnet_status st = clnet__onnx_fold_memory(model, size, &got, err, sizeof err);
    free(model);
    double worst;
    if (unsupported_node(st, err))
        record(tab, name, SKIPPED, "%s", reason(err));
    else if (st != CLNET_OK)
        record(tab, name, FAILED, "fold: %s: %s", clnet_status_string(st), err);
    else if (got.rank != t.want.rank ||
             memcmp(got.dims, t.want.dims, (size_t)got.rank * sizeof *got.dims))
        record(tab, name, FAILED, "rank %d dims [%lld, ...], ONNX's rank %d [%lld, ...]", got.rank,
               got.rank ? (long long)got.dims[0] : 0LL, t.want.rank,
               t.want.rank ? (long long)t.want.dims[0] : 0LL);
    else if (!close_enough(got.data, t.want.data, got.count, t.want_int ? 0.0 : 1e-6, &worst))
        record(tab, name, FAILED, "off by %g (%s)", worst,
               t.want_int ? "integers: exactly" : "tolerance 1e-6 x max(1, |ONNX's|)");
    else
        record(tab, name, RAN, "%s", t.want_int ? "exact" : "within 1e-6");
    clnet__onnx_tensor_free(&got);
    close_test(&t);
}

/* Whether every node of test name is an op of this check: the run check takes the ops of
 * the importer's table with a handler of their own (not ox_fold_only), the fold check the
 * ops ox_fold computes. Else 0 and why not in *op. */
static int supported(const char *name, int fold, char *op, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/model.onnx", NODE_DIR, name);
    size_t size;
    uint8_t *buf = (uint8_t *)clnet_test_read_file(path, &size);
    if (!buf)
        return snprintf(op, len, "no model.onnx"), 0;
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, buf);
    free(buf);
    int ok = m && m->graph && m->graph->n_node > 0, runs = 0;
    for (size_t k = 0; ok && k < m->graph->n_node; ++k) {
        const char *type = m->graph->node[k]->op_type;
        const ox_op *o = ox_op_find(type);
        /* Constants fold beside the ops that run (test_celu_expanded's). */
        runs |= o != NULL && o->run != ox_fold_only;
        ok = fold ? in_list(fold_ops, CLNET_COUNTOF(fold_ops), type)
                  : (o != NULL && o->run != ox_fold_only) || !strcmp(type, "Constant");
        if (!ok && (o || !strcmp(type, "Constant")))
            snprintf(op, len, "op %s %s", type,
                     fold ? "is not one the importer folds" : "runs on constants only (folded)");
        else if (!ok)
            snprintf(op, len, "op %s not supported", type);
    }
    if (ok && !fold && !runs) {
        snprintf(op, len, "op Constant runs on constants only (folded)");
        ok = 0;
    }
    if (m)
        onnx__model_proto__free_unpacked(m, NULL);
    return ok;
}

/* Writes the table to path and the log; returns the count of each outcome. */
static void report(const table *tab, const char *mode, const char *path, int *counts)
{
    FILE *f = fopen(path, "w");
    counts[RAN] = counts[SKIPPED] = counts[FAILED] = 0;
    static const char *const words[] = {"ran", "skipped", "FAILED"};
    for (int i = 0; i < tab->n; ++i) {
        const row *r = &tab->rows[i];
        ++counts[r->outcome];
        if (f)
            fprintf(f, "%-56s %-8s %s\n", r->name, words[r->outcome], r->why);
    }
    if (f) {
        fprintf(f, "%s: %d ran, %d skipped, %d failed\n", mode, counts[RAN], counts[SKIPPED],
                counts[FAILED]);
        fclose(f);
    }
    cr_log_info("ONNX node tests, %s: %d ran and matched, %d skipped, %d failed (table: %s)", mode,
                counts[RAN], counts[SKIPPED], counts[FAILED], path);
}

/* Every test of list (space-separated names without "test_") ran and matched. */
static void expect_listed(const table *tab, const char *list, const char *mode)
{
    for (const char *p = list; *p;) {
        const size_t len = strcspn(p, " ");
        char name[96];
        snprintf(name, sizeof name, "test_%.*s", (int)len, p);
        int ran = 0;
        for (int r = 0; r < tab->n && !ran; ++r)
            ran = tab->rows[r].outcome == RAN && !strcmp(tab->rows[r].name, name);
        cr_expect(ran, "%s: %s no longer runs and matches ONNX's output", mode, name);
        p += len + (p[len] == ' ');
    }
}

static void each_test(int fold, clnet_context *ctx, table *tab)
{
    int n = 0;
    char **names = list_tests(&n);
    if (!names)
        cr_skip_test("no ONNX test data in " NODE_DIR " (Debian's libonnx-testdata)");
    for (int i = 0; i < n; ++i) {
        char op[128];
        if (supported(names[i], fold, op, sizeof op)) {
            if (fold)
                fold_test(names[i], tab);
            else
                run_test(ctx, names[i], tab);
        } else {
            record(tab, names[i], SKIPPED, "%s", op);
        }
        free(names[i]);
    }
    free(names);
}

Test(onnx_nodes, run_on_the_device, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device(); /* skips when there is no device */
    table tab = {0};
    each_test(0, ctx, &tab);
    int counts[3];
    report(&tab, "run", "onnx_node_tests_run.txt", counts);
    expect_listed(&tab, must_run, "run");
    cr_expect_gt(counts[RAN], 0);
    free(tab.rows);
}

Test(onnx_nodes, fold_on_the_host, .timeout = 600)
{
    table tab = {0};
    each_test(1, NULL, &tab);
    int counts[3];
    report(&tab, "fold", "onnx_node_tests_fold.txt", counts);
    expect_listed(&tab, must_fold, "fold");
    cr_expect_gt(counts[RAN], 0);
    free(tab.rows);
}
