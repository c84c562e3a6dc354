/* make_corpus.c - writes the seed corpora of the fuzz harnesses: a few small, valid inputs
 * per loader, in the input layout its harness documents, into <root>/<loader>/ (root:
 * the first argument, normally fuzz/corpus). Deterministic: running it again rewrites the
 * same bytes. Files named hostile-* are the inputs of issue 10 that clnet now refuses
 * (each also a unit test); regression seeds that fuzzing found (regress-*) live beside
 * these and are not touched.
 *     build-fuzz/fuzz/make_corpus fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include <stb/stb_image_write.h>

#include "io/safetensors.h"
#include "onnx/onnx.pb-c.h"

static const char *root;

static void write_seed(const char *loader, const char *name, const void *data, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, loader);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", root, loader, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A growing byte buffer. */
typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            exit(1);
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_u16(bytes *b, unsigned v)
{
    const unsigned char le[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(b, le, 2);
}

static void put_be32(bytes *b, unsigned v)
{
    const unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                                 (unsigned char)(v >> 8), (unsigned char)v};
    put(b, be, 4);
}

/* ---- spec ---- */

static const char tiny_spec[] = "[in]\nop = input\nshape = 8, 8, 3\n\n"
                                "[conv]\nop = conv2d\nfilters = 4\nkernel_size = 3\n"
                                "padding = same\nuse_bias = false\n\n"
                                "[bn]\nop = batch_norm\nactivation = relu\n\n"
                                "[pool]\nop = max_pool\n\n"
                                "[gap]\nop = global_avg_pool\n\n"
                                "[logits]\nop = dense\nunits = 3\n";

static const char all_ops_spec[] =
    "# every op once\n[image]\nop = input\nshape = 9, 7, 2\n"
    "[c1]\nop = conv2d\nfilters = 4\nkernel_size = 3, 1\nstrides = 2\npadding = 1, 2, 0, 1\n"
    "activation = relu6\n"
    "[dw]\nop = depthwise_conv2d\nkernel_size = 3\npadding = same\ndepth_multiplier = 2\n"
    "use_bias = false\n"
    "[bn]\nop = batch_norm\nmomentum = 0.9\nepsilon = 0.001\nunbiased_variance = true\n"
    "[r]\nop = relu\nmax_value = 4\n"
    "[r6]\nop = relu6\ninputs = bn\n"
    "[sum]\nop = add\ninputs = r, r6\nactivation = relu\n"
    "[zp]\nop = zero_pad\npadding = 0, 1, 2, 3\n"
    "[cp]\nop = channel_pad\nchannels = 12\nstride = 2\nbefore = 2\n"
    "[mp]\nop = max_pool\npool_size = 2\nstrides = 1\npadding = same\n"
    "[ap]\nop = avg_pool\npool_size = 2, 1\npadding = 1, 0\ncount_include_pad = true\n"
    "[gmp]\nop = global_max_pool\ninputs = ap\n"
    "[gap]\nop = global_avg_pool\ninputs = mp\n"
    "[both]\nop = add\ninputs = gmp, gap\n"
    "[flat]\nop = flatten\n"
    "[drop]\nop = dropout\nrate = 0.25\nseed = 3\n"
    "[logits]\nop = dense\nunits = 5\nactivation = linear\n"
    "[probs]\nop = softmax\naxis = -1\n"
    "[loss]\nop = softmax_cross_entropy\ninputs = logits, probs\nlabel_smoothing = 0.1\n";

static const char names_spec[] =
    "\n# awkward but valid names\n[in put]\nop = input\nshape = 4, 4, 1\n"
    "[a.b/c:d]   # a comment\nop = conv2d\nfilters = 2\n"
    "kernel_size = (2, 2)\n\n[\xc3\xa9tage (2)]\nop = relu\n"
    "inputs = a.b/c:d\n";

static void spec_seeds(void)
{
    write_seed("spec", "tiny.spec", tiny_spec, strlen(tiny_spec));
    write_seed("spec", "all_ops.spec", all_ops_spec, strlen(all_ops_spec));
    write_seed("spec", "names.spec", names_spec, strlen(names_spec));
}

/* ---- model files and checkpoints ---- */

static clnet_status ramp(void *user, int i, float *dst, size_t count, char *err, size_t len)
{
    (void)user;
    (void)err;
    (void)len;
    for (size_t k = 0; k < count; ++k)
        dst[k] = 0.25f * (float)i - 0.125f * (float)k;
    return CLNET_OK;
}

/* Saves through the library's writer into a temporary file, then into the corpus. */
static void save_seed(const char *loader, const char *name, const clnet__st_entry *e, int n,
                      const char *const (*meta)[2], int n_meta)
{
    char tmp[1024], err[512] = "";
    snprintf(tmp, sizeof tmp, "%s/%s/.%s.tmp", root, loader, name);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", root, loader);
    mkdir(dir, 0755);
    if (clnet__st_save(tmp, e, n, meta, n_meta, ramp, NULL, err, sizeof err) != CLNET_OK) {
        fprintf(stderr, "%s: %s\n", tmp, err);
        exit(1);
    }
    FILE *f = fopen(tmp, "rb");
    bytes b = {NULL, 0, 0};
    unsigned char chunk[4096];
    for (size_t got; f && (got = fread(chunk, 1, sizeof chunk, f)) > 0;)
        put(&b, chunk, got);
    if (f)
        fclose(f);
    remove(tmp);
    write_seed(loader, name, b.p, b.n);
    free(b.p);
}

static const char small_spec[] = "[in]\nop = input\nshape = 2, 2, 1\n"
                                 "[conv]\nop = conv2d\nfilters = 2\nkernel_size = 1\n"
                                 "[bn]\nop = batch_norm\n"
                                 "[d]\nop = dense\nunits = 3\n";

static void model_file_seeds(void)
{
    const clnet__st_entry e[] = {
        {"conv/kernel", 4, {1, 1, 1, 2}},
        {"conv/bias", 1, {2}},
        {"bn/gamma", 1, {2}},
        {"bn/beta", 1, {2}},
        {"bn/moving_mean", 1, {2}},
        {"bn/moving_variance", 1, {2}},
        {"d/kernel", 4, {1, 1, 2, 3}},
        {"d/bias", 1, {3}},
    };
    const char *const meta[][2] = {
        {"format", "clnet"},  {"format_version", "1"},
        {"spec", small_spec}, {"labels", "[\"cat\",\"dog\",\"\\u00e9l\\u00e8ve\"]"},
        {"input", "2,2,1"},   {"mean", "0.5"},
        {"std", "0.25"}};
    save_seed("model_file", "small.safetensors", e, 8, meta, 7);
    /* Only what is required: format, version and spec. */
    save_seed("model_file", "minimal.safetensors", e, 8, meta, 3);
}

static void checkpoint_seeds(void)
{
    clnet__st_entry e[3 * 8];
    static char names[3 * 8][96];
    const char *const weights[] = {"conv/kernel",    "conv/bias",          "bn/gamma", "bn/beta",
                                   "bn/moving_mean", "bn/moving_variance", "d/kernel", "d/bias"};
    const int64_t shapes[][4] = {{1, 1, 1, 2}, {1, 1, 1, 2}, {1, 1, 1, 2}, {1, 1, 1, 2},
                                 {1, 1, 1, 2}, {1, 1, 1, 2}, {1, 1, 2, 3}, {1, 1, 1, 3}};
    const int trainable[] = {1, 1, 1, 1, 0, 0, 1, 1};
    int n = 0;
    for (int state = -1; state < 2; ++state)
        for (int i = 0; i < 8; ++i) {
            if (state >= 0 && !trainable[i])
                continue;
            if (state < 0)
                snprintf(names[n], sizeof names[n], "%s", weights[i]);
            else
                snprintf(names[n], sizeof names[n], "optimizer/%d/%s", state, weights[i]);
            e[n] = (clnet__st_entry){
                names[n], 4, {shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3]}};
            ++n;
        }
    const char *const adam[][2] = {
        {"format", "clnet-checkpoint"}, {"spec", small_spec},     {"epochs", "3"},
        {"optimizer_steps", "12"},      {"training_steps", "12"}, {"optimizer", "1"}};
    save_seed("checkpoint", "adam.ckpt", e, n, adam, 6);
    const char *const sgd[][2] = {
        {"format", "clnet-checkpoint"}, {"spec", small_spec},    {"epochs", "1"},
        {"optimizer_steps", "4"},       {"training_steps", "4"}, {"optimizer", "0"}};
    save_seed("checkpoint", "sgd.ckpt", e, 8, sgd, 6); /* weights only: no momentum */
}

/* ---- tuning database (the harness's device: "fuzz device", "1.0", cpu, 0123456789abcdef) ---- */

static const char tune_db[] =
    "{\n  \"format\": \"clnet-tune-1\",\n  \"entries\": [{\n"
    "    \"device\": \"fuzz device\", \"driver\": \"1.0\", \"class\": \"cpu\",\n"
    "    \"kernels\": \"0123456789abcdef\", \"problem\": \"gemm NN 3136x64x576\",\n"
    "    \"choice\": \"packed\", \"params\": {\"GEMM_WG_M\": 16, \"GEMM_KC\": 0, \"GEMM_KB\": "
    "128},\n"
    "    \"ms\": 0.5, \"default_ms\": 0.75, \"tuned\": \"2024-01-01T00:00:00Z\"\n  }, {\n"
    "    \"device\": \"fuzz device\", \"driver\": \"1.0\", \"class\": \"cpu\",\n"
    "    \"kernels\": \"0123456789abcdef\",\n"
    "    \"problem\": \"conv2d 1x56x56x64 k3x3 s1x1 p1,1 -> 56x56x64\",\n"
    "    \"choice\": \"winograd\", \"params\": {}, \"ms\": 2, \"default_ms\": 3,\n"
    "    \"tuned\": \"2024-01-01T00:00:00Z\"\n  }, {\n"
    "    \"device\": \"another device\", \"driver\": \"2\", \"class\": \"dgpu\",\n"
    "    \"kernels\": \"0123456789abcdef\", \"problem\": \"gemm NT 8x8x8\",\n"
    "    \"choice\": \"clblast\", \"params\": {}, \"ms\": 1, \"default_ms\": 1,\n"
    "    \"tuned\": \"2024-01-01T00:00:00Z\"\n  }]\n}\n";

static void tune_db_seeds(void)
{
    write_seed("tune_db", "three_entries.json", tune_db, strlen(tune_db));
    static const char empty[] = "{\"format\": \"clnet-tune-1\", \"entries\": []}";
    write_seed("tune_db", "empty.json", empty, strlen(empty));
}

/* ---- idx ---- */

/* data as a gzip stream. */
static void gzip(const unsigned char *data, size_t n, bytes *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    unsigned char buf[4096];
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        exit(1);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)n;
    int st;
    do {
        z.next_out = buf;
        z.avail_out = sizeof buf;
        st = deflate(&z, Z_FINISH);
        put(out, buf, sizeof buf - z.avail_out);
    } while (st == Z_OK);
    deflateEnd(&z);
}

static void idx_seeds(void)
{
    bytes images = {NULL, 0, 0}, labels = {NULL, 0, 0};
    put_be32(&images, 0x803);
    put_be32(&images, 3);
    put_be32(&images, 4);
    put_be32(&images, 5);
    for (int i = 0; i < 3 * 4 * 5; ++i)
        put(&images, &(unsigned char){(unsigned char)(i * 37)}, 1);
    put_be32(&labels, 0x801);
    put_be32(&labels, 3);
    put(&labels, "\x00\x01\x09", 3);
    bytes seed = {NULL, 0, 0};
    put_u16(&seed, (unsigned)images.n);
    put(&seed, images.p, images.n);
    put(&seed, labels.p, labels.n);
    write_seed("idx", "raw", seed.p, seed.n);
    bytes gz_images = {NULL, 0, 0}, gz_labels = {NULL, 0, 0};
    gzip(images.p, images.n, &gz_images);
    gzip(labels.p, labels.n, &gz_labels);
    seed.n = 0;
    put_u16(&seed, (unsigned)gz_images.n);
    put(&seed, gz_images.p, gz_images.n);
    put(&seed, gz_labels.p, gz_labels.n);
    write_seed("idx", "gzipped", seed.p, seed.n);
    free(images.p);
    free(labels.p);
    free(gz_images.p);
    free(gz_labels.p);
    free(seed.p);
}

/* ---- CIFAR ---- */

static void cifar_seeds(void)
{
    unsigned char record[3073];
    record[0] = 1;
    for (int i = 1; i < 3073; ++i)
        record[i] = (unsigned char)(i % 251);
    static const char names[] = "cat\ndog\nbird\n";
    bytes seed = {NULL, 0, 0};
    put_u16(&seed, sizeof names - 1);
    put(&seed, names, sizeof names - 1);
    put(&seed, record, sizeof record);
    write_seed("cifar", "named", seed.p, seed.n);
    seed.n = 0;
    record[0] = 9;
    put_u16(&seed, 0);
    put(&seed, record, sizeof record);
    write_seed("cifar", "standard_names", seed.p, seed.n);
    free(seed.p);
}

/* ---- image folders ---- */

static void to_bytes(void *context, void *data, int size)
{
    put(context, data, (size_t)size);
}

/* One file of the harness's layout: class, extension index, length, bytes. */
static void put_file(bytes *seed, unsigned cls, unsigned ext, const bytes *file)
{
    put(seed, &(unsigned char){(unsigned char)cls}, 1);
    put(seed, &(unsigned char){(unsigned char)ext}, 1);
    put_u16(seed, (unsigned)file->n);
    put(seed, file->p, file->n);
}

static void image_folder_seeds(void)
{
    /* 3x2 pictures of every format stb_image_write makes, and a PGM by hand. Extension
     * indices as fuzz_image_folder.c: png 0, jpg 1, bmp 2, gif 3, tga 4, pgm 5, ppm 6. */
    unsigned char rgb[3 * 2 * 3], gray[40 * 36];
    for (size_t i = 0; i < sizeof rgb; ++i)
        rgb[i] = (unsigned char)(i * 29);
    for (size_t i = 0; i < sizeof gray; ++i)
        gray[i] = (unsigned char)((i % 40) * 6);
    bytes png = {NULL, 0, 0}, jpg = {NULL, 0, 0}, bmp = {NULL, 0, 0}, tga = {NULL, 0, 0},
          pgm = {NULL, 0, 0}, big = {NULL, 0, 0}, seed = {NULL, 0, 0};
    stbi_write_png_to_func(to_bytes, &png, 3, 2, 3, rgb, 9);
    stbi_write_jpg_to_func(to_bytes, &jpg, 3, 2, 3, rgb, 90);
    stbi_write_bmp_to_func(to_bytes, &bmp, 3, 2, 3, rgb);
    stbi_write_tga_to_func(to_bytes, &tga, 3, 2, 3, rgb);
    static const char header[] = "P5\n3 2\n255\n";
    put(&pgm, header, sizeof header - 1);
    put(&pgm, rgb, 6);
    put(&seed, "\x00", 1); /* options: the first image's size and channels */
    put_file(&seed, 0, 0, &png);
    put_file(&seed, 0, 2, &bmp);
    put_file(&seed, 1, 4, &tga);
    put_file(&seed, 1, 5, &pgm);
    put_file(&seed, 2, 1, &jpg);
    write_seed("image_folder", "five_formats", seed.p, seed.n);
    /* A 40x36 gray picture (crops padded by 4) and a 3x2 RGB one, at 7x7 gray. */
    stbi_write_png_to_func(to_bytes, &big, 40, 36, 1, gray, 40);
    seed.n = 0;
    put(&seed, "\x09", 1); /* gray, side 7 */
    put_file(&seed, 0, 0, &big);
    put_file(&seed, 1, 0, &png);
    write_seed("image_folder", "resized", seed.p, seed.n);
    seed.n = 0;
    put(&seed, "\x00", 1);
    put_file(&seed, 0, 0, &big);
    put_file(&seed, 2, 0, &big);
    write_seed("image_folder", "large_crops", seed.p, seed.n);
    free(png.p);
    free(jpg.p);
    free(bmp.p);
    free(tga.p);
    free(pgm.p);
    free(big.p);
    free(seed.p);
}

/* ---- ONNX models (protobuf-c over onnx.proto), as fuzz_onnx.c reads them ---- */

/* Everything a model's protos hold is allocated here and freed once it is written. */
static void *arena[4096];
static int n_arena;

static void *grab(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p || n_arena == (int)(sizeof arena / sizeof arena[0]))
        exit(1);
    return arena[n_arena++] = p;
}

static char *text(const char *s)
{
    return strcpy(grab(strlen(s) + 1), s);
}

static Onnx__AttributeProto *attr_ints(const char *name, int n, const int64_t *v)
{
    Onnx__AttributeProto *a = grab(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = text(name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = (size_t)n;
    a->ints = grab((size_t)n * sizeof *a->ints);
    memcpy(a->ints, v, (size_t)n * sizeof *v);
    return a;
}

static Onnx__AttributeProto *attr_int(const char *name, int64_t v)
{
    Onnx__AttributeProto *a = grab(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = text(name);
    a->has_type = a->has_i = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->i = v;
    return a;
}

/* A node of op with inputs and outputs (space-separated names) and attributes. */
static Onnx__NodeProto *node(const char *op, const char *in, const char *out, int n_attr,
                             Onnx__AttributeProto *const *attrs)
{
    Onnx__NodeProto *n = grab(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = text(op);
    n->name = text(out);
    const char *lists[2] = {in, out};
    for (int l = 0; l < 2; ++l) {
        char **names = grab(8 * sizeof *names);
        size_t count = 0;
        for (const char *p = lists[l]; *p && count < 8;) {
            const size_t len = strcspn(p, " ");
            names[count] = grab(len + 1);
            memcpy(names[count++], p, len);
            p += len + (p[len] == ' ');
        }
        *(l ? &n->output : &n->input) = names;
        *(l ? &n->n_output : &n->n_input) = count;
    }
    n->n_attribute = (size_t)n_attr;
    n->attribute = grab((size_t)(n_attr ? n_attr : 1) * sizeof *n->attribute);
    for (int i = 0; i < n_attr; ++i)
        n->attribute[i] = attrs[i];
    return n;
}

/* An initializer of dims holding i * scale (float) or ints[i] (int64 when ints). */
static Onnx__TensorProto *tensor(const char *name, int rank, const int64_t *dims, float scale,
                                 const int64_t *ints)
{
    Onnx__TensorProto *t = grab(sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = text(name);
    t->has_data_type = 1;
    t->data_type =
        ints ? ONNX__TENSOR_PROTO__DATA_TYPE__INT64 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = (size_t)rank;
    t->dims = grab((size_t)(rank ? rank : 1) * sizeof *t->dims);
    size_t count = 1;
    for (int d = 0; d < rank; ++d)
        count *= (size_t)(t->dims[d] = dims[d]);
    if (ints) {
        t->n_int64_data = count;
        t->int64_data = grab(count * sizeof *t->int64_data);
        memcpy(t->int64_data, ints, count * sizeof *ints);
    } else {
        t->n_float_data = count;
        t->float_data = grab(count * sizeof *t->float_data);
        for (size_t i = 0; i < count; ++i)
            t->float_data[i] = (float)((i * 7919) % 17) * scale - 8.0f * scale;
    }
    return t;
}

/* A float32 graph input or output of dims (0: a symbolic "N"). */
static Onnx__ValueInfoProto *value(const char *name, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *v = grab(sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = text(name);
    Onnx__TypeProto *ty = v->type = grab(sizeof *ty);
    onnx__type_proto__init(ty);
    ty->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    Onnx__TypeProto__Tensor *tt = ty->tensor_type = grab(sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    Onnx__TensorShapeProto *s = tt->shape = grab(sizeof *s);
    onnx__tensor_shape_proto__init(s);
    s->n_dim = (size_t)rank;
    s->dim = grab((size_t)rank * sizeof *s->dim);
    for (int d = 0; d < rank; ++d) {
        Onnx__TensorShapeProto__Dimension *dim = s->dim[d] = grab(sizeof *dim);
        onnx__tensor_shape_proto__dimension__init(dim);
        if (dims[d]) {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim->dim_value = dims[d];
        } else {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dim->dim_param = text("N");
        }
    }
    return v;
}

/* Writes the model of nodes and inits (input: NULL for a graph of constants) as seed
 * name at opset 13, then frees the arena. */
static void write_model(const char *name, Onnx__NodeProto **nodes, int n_nodes,
                        Onnx__TensorProto **inits, int n_inits, Onnx__ValueInfoProto *input,
                        Onnx__ValueInfoProto *output)
{
    Onnx__GraphProto g;
    onnx__graph_proto__init(&g);
    g.name = text("seed");
    g.node = nodes;
    g.n_node = (size_t)n_nodes;
    g.initializer = inits;
    g.n_initializer = (size_t)n_inits;
    g.input = &input;
    g.n_input = input != NULL;
    g.output = &output;
    g.n_output = 1;
    Onnx__OperatorSetIdProto opset;
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = text("");
    opset.has_version = 1;
    opset.version = 13;
    Onnx__OperatorSetIdProto *opsets = &opset;
    Onnx__ModelProto m;
    onnx__model_proto__init(&m);
    m.has_ir_version = 1;
    m.ir_version = 7;
    m.producer_name = text("clnet make_corpus");
    m.opset_import = &opsets;
    m.n_opset_import = 1;
    m.graph = &g;
    const size_t n = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = grab(n);
    onnx__model_proto__pack(&m, buf);
    write_seed("onnx", name, buf, n);
    while (n_arena)
        free(arena[--n_arena]);
}

static void onnx_seeds(void)
{
    static const int64_t image[4] = {0, 3, 8, 8}, logits[2] = {0, 4}, map[4] = {0, 8, 8, 8};
    static const int64_t k3[4] = {8, 3, 3, 3}, k1[4] = {8, 8, 1, 1}, c8[1] = {8}, fc[2] = {4, 8},
                         b4[1] = {4}, ks[2] = {3, 3}, pads[4] = {1, 1, 1, 1}, two[2] = {2, 2},
                         one[1] = {1}, flat[2] = {4, 512}, five[1] = {5}, g5[5] = {0, 2, 4, 8, 8},
                         g4[4] = {0, 8, 8, 8}, perm[5] = {0, 2, 1, 3, 4}, k13[4] = {8, 3, 1, 1},
                         halves[2] = {4, 4}, zero[1] = {0}, minus1[1] = {-1}, dims[3] = {2, 3, 4},
                         six[1] = {6}, four[1] = {4}, two1[1] = {2};
    /* A conv net: Conv, BatchNormalization, Relu, MaxPool, a residual 1x1 Conv + Add,
     * GlobalAveragePool, Flatten, Gemm, Softmax. */
    Onnx__AttributeProto *conv[] = {attr_ints("kernel_shape", 2, ks), attr_ints("pads", 4, pads)};
    Onnx__AttributeProto *pool[] = {attr_ints("kernel_shape", 2, two),
                                    attr_ints("strides", 2, two)};
    Onnx__AttributeProto *trans_b[] = {attr_int("transB", 1)};
    Onnx__AttributeProto *axis1[] = {attr_int("axis", 1)};
    Onnx__NodeProto *net[] = {
        node("Conv", "x w1 b1", "c1", 2, conv),
        node("BatchNormalization", "c1 g m0 m1 v", "n1", 0, NULL),
        node("Relu", "n1", "r1", 0, NULL),
        node("MaxPool", "r1", "p1", 2, pool),
        node("Conv", "p1 w2", "c2", 0, NULL),
        node("Add", "c2 p1", "a2", 0, NULL),
        node("GlobalAveragePool", "a2", "gp", 0, NULL),
        node("Flatten", "gp", "f", 1, axis1),
        node("Gemm", "f wf bf", "z", 1, trans_b),
        node("Softmax", "z", "y", 1, axis1),
    };
    Onnx__TensorProto *net_w[] = {
        tensor("w1", 4, k3, 0.05f, NULL), tensor("b1", 1, c8, 0.1f, NULL),
        tensor("g", 1, c8, 0.01f, NULL),  tensor("m0", 1, c8, 0.1f, NULL),
        tensor("m1", 1, c8, 0.1f, NULL),  tensor("v", 1, c8, 0.0f, NULL),
        tensor("w2", 4, k1, 0.05f, NULL), tensor("wf", 2, fc, 0.1f, NULL),
        tensor("bf", 1, b4, 0.1f, NULL),
    };
    write_model("conv_net.onnx", net, 10, net_w, 9, value("x", 4, image), value("y", 2, logits));

    /* The shape chain exporters write before a classifier's Reshape: Shape, Gather,
     * Unsqueeze, Concat (the batch kept symbolic), then Reshape and Gemm. */
    Onnx__AttributeProto *axis0[] = {attr_int("axis", 0)};
    Onnx__AttributeProto *conv2[] = {attr_ints("kernel_shape", 2, ks), attr_ints("pads", 4, pads)};
    Onnx__AttributeProto *trans_b2[] = {attr_int("transB", 1)};
    Onnx__NodeProto *chain[] = {
        node("Conv", "x w", "c", 2, conv2),           node("Shape", "c", "s", 0, NULL),
        node("Gather", "s i0", "n", 1, axis0),        node("Unsqueeze", "n ax", "n1", 0, NULL),
        node("Concat", "n1 rest", "shape", 1, axis0), node("Reshape", "c shape", "r", 0, NULL),
        node("Gemm", "r wf", "y", 1, trans_b2),
    };
    Onnx__TensorProto *chain_w[] = {
        tensor("w", 4, k3, 0.05f, NULL),    tensor("i0", 0, NULL, 0, zero),
        tensor("ax", 1, one, 0, zero),      tensor("rest", 1, one, 0, minus1),
        tensor("wf", 2, flat, 0.01f, NULL),
    };
    write_model("shape_chain.onnx", chain, 7, chain_w, 5, value("x", 4, image),
                value("y", 2, logits));

    /* ShuffleNet's channel shuffle as exported: Reshape to groups, Transpose, Reshape
     * back, then a Split whose halves meet again in a Concat. */
    Onnx__AttributeProto *perm_attr[] = {attr_ints("perm", 5, perm)};
    Onnx__AttributeProto *axis1b[] = {attr_int("axis", 1)}, *axis1c[] = {attr_int("axis", 1)};
    Onnx__NodeProto *shuffle[] = {
        node("Conv", "x w", "c", 0, NULL),
        node("Reshape", "c g5", "grouped", 0, NULL),
        node("Transpose", "grouped", "swapped", 1, perm_attr),
        node("Reshape", "swapped g4", "shuffled", 0, NULL),
        node("Split", "shuffled halves", "a b", 1, axis1b),
        node("Relu", "b", "rb", 0, NULL),
        node("Concat", "a rb", "y", 1, axis1c),
    };
    Onnx__TensorProto *shuffle_w[] = {
        tensor("w", 4, k13, 0.1f, NULL),
        tensor("g5", 1, five, 0, g5),
        tensor("g4", 1, four, 0, g4),
        tensor("halves", 1, two1, 0, halves),
    };
    write_model("shufflenet_unit.onnx", shuffle, 7, shuffle_w, 4, value("x", 4, image),
                value("y", 4, map));

    /* Constants alone (clnet__onnx_fold_memory): Constant, ConstantOfShape, Shape, Cast,
     * Sqrt, Pow, Slice, Concat. */
    Onnx__AttributeProto *ints[] = {attr_ints("value_ints", 3, dims)};
    Onnx__AttributeProto *to_float[] = {attr_int("to", 1)};
    Onnx__AttributeProto *axis0b[] = {attr_int("axis", 0)};
    Onnx__NodeProto *folds[] = {
        node("Constant", "", "d", 1, ints),
        node("ConstantOfShape", "d", "z", 0, NULL),
        node("Shape", "z", "s", 0, NULL),
        node("Cast", "s", "f", 1, to_float),
        node("Sqrt", "f", "q", 0, NULL),
        node("Pow", "q e", "p", 0, NULL),
        node("Slice", "f start end", "head", 0, NULL),
        node("Concat", "p head", "y", 1, axis0b),
    };
    static const int64_t start[1] = {0}, end[1] = {3};
    Onnx__TensorProto *fold_w[] = {
        tensor("e", 0, NULL, -0.25f, NULL), /* 2 */
        tensor("start", 1, one, 0, start),
        tensor("end", 1, one, 0, end),
    };
    write_model("constant_chain.onnx", folds, 8, fold_w, 3, NULL, value("y", 1, six));
}

/* ---- TF.js layers models: model.json, a NUL, u16 LE length of w1.bin, w1.bin, w2.bin ---- */

static void put_f32(bytes *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_u16(b, u & 0xffff);
    put_u16(b, u >> 16);
}

static void tfjs_seed(const char *name, const char *json, const bytes *w1, const bytes *w2)
{
    bytes b = {NULL, 0, 0};
    put(&b, json, strlen(json) + 1);
    put_u16(&b, (unsigned)w1->n);
    put(&b, w1->p, w1->n);
    put(&b, w2->p, w2->n);
    write_seed("keras_tfjs", name, b.p, b.n);
    free(b.p);
}

/* A Functional model as tensorflowjs_converter writes it: float32 in w1.bin; uint8,
 * uint16 and float16 in w2.bin. */
static const char tfjs_small[] =
    "{\"format\": \"layers-model\", \"generatedBy\": \"keras v2.15.0\", \"convertedBy\": "
    "\"TensorFlow.js Converter v4.22.0\", \"modelTopology\": {\"keras_version\": "
    "\"2.15.0\", \"backend\": \"tensorflow\", \"model_config\": {\"class_name\": "
    "\"Functional\", \"config\": {\"name\": \"small\", \"layers\": [{\"class_name\": "
    "\"InputLayer\", \"config\": {\"name\": \"input_1\", \"batch_input_shape\": [null, 4, "
    "4, 1], \"dtype\": \"float32\"}, \"name\": \"input_1\", \"inbound_nodes\": []}, "
    "{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"conv1\", \"filters\": 2, "
    "\"kernel_size\": [1, 1], \"strides\": [1, 1], \"padding\": \"same\", \"use_bias\": "
    "false}, \"name\": \"conv1\", \"inbound_nodes\": [[[\"input_1\", 0, 0, {}]]]}, "
    "{\"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"bn\", \"epsilon\": "
    "0.001}, \"name\": \"bn\", \"inbound_nodes\": [[[\"conv1\", 0, 0, {}]]]}, "
    "{\"class_name\": \"DepthwiseConv2D\", \"config\": {\"name\": \"dw\", "
    "\"kernel_size\": [3, 3], \"depth_multiplier\": 1, \"use_bias\": false, \"padding\": "
    "\"valid\"}, \"name\": \"dw\", \"inbound_nodes\": [[[\"bn\", 0, 0, {}]]]}, "
    "{\"class_name\": \"GlobalAveragePooling2D\", \"config\": {\"name\": \"gap\"}, "
    "\"name\": \"gap\", \"inbound_nodes\": [[[\"dw\", 0, 0, {}]]]}, {\"class_name\": "
    "\"Dense\", \"config\": {\"name\": \"dense\", \"units\": 3}, \"name\": \"dense\", "
    "\"inbound_nodes\": [[[\"gap\", 0, 0, {}]]]}], \"input_layers\": [[\"input_1\", 0, "
    "0]], \"output_layers\": [[\"dense\", 0, 0]]}}}, \"weightsManifest\": [{\"paths\": "
    "[\"w1.bin\"], \"weights\": [{\"name\": \"conv1/kernel\", \"shape\": [1, 1, 1, 2], "
    "\"dtype\": \"float32\"}, {\"name\": \"bn/gamma\", \"shape\": [2], \"dtype\": "
    "\"float32\"}, {\"name\": \"bn/beta\", \"shape\": [2], \"dtype\": \"float32\"}, "
    "{\"name\": \"bn/moving_mean\", \"shape\": [2], \"dtype\": \"float32\"}, {\"name\": "
    "\"bn/moving_variance\", \"shape\": [2], \"dtype\": \"float32\"}]}, {\"paths\": "
    "[\"w2.bin\"], \"weights\": [{\"name\": \"dw/depthwise_kernel\", \"shape\": [3, 3, 2, "
    "1], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"uint8\", \"scale\": "
    "0.01, \"min\": -1.2, \"original_dtype\": \"float32\"}}, {\"name\": \"dense/kernel\", "
    "\"shape\": [2, 3], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"uint16\", "
    "\"scale\": 0.0001, \"min\": -3, \"original_dtype\": \"float32\"}}, {\"name\": "
    "\"dense/bias\", \"shape\": [3], \"dtype\": \"float32\", \"quantization\": "
    "{\"dtype\": \"float16\", \"original_dtype\": \"float32\"}}]}]}";

/* One group cut into two shards; int32 and bool weights. */
static const char tfjs_split[] =
    "{\"format\": \"layers-model\", \"generatedBy\": \"keras v2.15.0\", \"convertedBy\": "
    "\"TensorFlow.js Converter v4.22.0\", \"modelTopology\": {\"keras_version\": "
    "\"2.15.0\", \"backend\": \"tensorflow\", \"model_config\": {\"class_name\": "
    "\"Sequential\", \"config\": {\"name\": \"seq\", \"layers\": []}}}, "
    "\"weightsManifest\": [{\"paths\": [\"w1.bin\", \"./w2.bin\"], \"weights\": "
    "[{\"name\": \"dense/kernel\", \"shape\": [4], \"dtype\": \"float32\"}, {\"name\": "
    "\"norm/count\", \"shape\": [], \"dtype\": \"int32\"}, {\"name\": \"m/mask\", "
    "\"shape\": [2], \"dtype\": \"bool\"}]}]}";

/* Nested models' names, TensorFlow's :0, a Keras 3 path, an optimizer's weight. */
static const char tfjs_nested[] =
    "{\"format\": \"layers-model\", \"generatedBy\": \"keras v2.15.0\", \"convertedBy\": "
    "\"TensorFlow.js Converter v4.22.0\", \"modelTopology\": {\"keras_version\": "
    "\"2.15.0\", \"backend\": \"tensorflow\", \"model_config\": {\"class_name\": "
    "\"Sequential\", \"config\": {\"name\": \"outer\", \"layers\": [{\"class_name\": "
    "\"Functional\", \"config\": {\"name\": \"inner\", \"layers\": []}}]}}}, "
    "\"weightsManifest\": [{\"paths\": [\"w1.bin\"], \"weights\": [{\"name\": "
    "\"inner/conv/kernel:0\", \"shape\": [1], \"dtype\": \"float32\"}, {\"name\": "
    "\"conv/bias\", \"shape\": [1], \"dtype\": \"float32\"}, {\"name\": "
    "\"outer/dense/kernel\", \"shape\": [1], \"dtype\": \"float32\"}, {\"name\": "
    "\"layers/conv2d/vars/0\", \"shape\": [1], \"dtype\": \"float32\"}, {\"name\": "
    "\"Adam/iter\", \"shape\": [], \"dtype\": \"int32\", \"group\": \"optimizer\"}]}]}";

static void keras_tfjs_seeds(void)
{
    bytes w1 = {NULL, 0, 0}, w2 = {NULL, 0, 0};
    for (int i = 0; i < 10; ++i)
        put_f32(&w1, 0.25f * (float)i - 1.0f);
    for (int i = 0; i < 18; ++i)
        put(&w2, &(unsigned char){(unsigned char)(i * 14)}, 1);
    for (int i = 0; i < 6; ++i)
        put_u16(&w2, (unsigned)(i * 9000));
    static const unsigned half[3] = {0x3c00, 0x0001, 0xfc00};
    for (int i = 0; i < 3; ++i)
        put_u16(&w2, half[i]);
    tfjs_seed("small_quantized", tfjs_small, &w1, &w2);
    /* dense/kernel (16 bytes), count (4), mask (2): cut after 10 bytes. */
    w1.n = w2.n = 0;
    for (int i = 0; i < 4; ++i)
        put_f32(&w1, (float)i);
    put_u16(&w1, 7);
    put_u16(&w1, 0);
    put(&w1, "\1\0", 2);
    put(&w2, w1.p + 10, 12);
    w1.n = 10;
    tfjs_seed("split_shards", tfjs_split, &w1, &w2);
    w1.n = w2.n = 0;
    for (int i = 0; i < 5; ++i)
        put_f32(&w1, (float)i);
    tfjs_seed("nested_names", tfjs_nested, &w1, &w2);
    /* A model name longer than the lookup's name buffers. */
    char long_names[1400];
    char x[1101];
    memset(x, 'x', sizeof x - 1);
    x[sizeof x - 1] = '\0';
    snprintf(long_names, sizeof long_names,
             "{\"modelTopology\": {\"class_name\": \"Sequential\", \"config\": {\"name\": "
             "\"%s\"}}, \"weightsManifest\": [{\"paths\": [\"w1.bin\"], \"weights\": "
             "[{\"name\": \"a/kernel\", \"shape\": [1], \"dtype\": \"float32\"}]}]}",
             x);
    w1.n = w2.n = 0;
    put_f32(&w1, 1.0f);
    tfjs_seed("long_model_name", long_names, &w1, &w2);
    free(w1.p);
    free(w2.p);
    static const char topology_only[] =
        "{\"modelTopology\": {\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", "
        "\"layers\": []}, \"keras_version\": \"tfjs-layers 4.22.0\", \"backend\": "
        "\"tensor_flow.js\"}}";
    write_seed("keras_tfjs", "topology_only.json", topology_only, strlen(topology_only));
}

/* ---- the hostile inputs of issue 10, refused now ---- */

static void hostile_seeds(void)
{
    static const char *const specs[][2] = {
        {"hostile-zero-pad-int-max.spec",
         "[in]\nop = input\nshape = 8, 8, 3\n[zp]\nop = zero_pad\npadding = 2147483647\n"},
        {"hostile-pool-padding.spec", "[in]\nop = input\nshape = 8, 8, 3\n[mp]\nop = max_pool\n"
                                      "pool_size = 3\npadding = 1100000000\n"},
        {"hostile-same-strides.spec", "[in]\nop = input\nshape = 8, 8, 3\n[c]\nop = conv2d\n"
                                      "filters = 2\nkernel_size = 3\nstrides = 2147483647\n"
                                      "padding = same\n"},
        {"hostile-comma-name.spec",
         "[in]\nop = input\nshape = 4, 4, 2\n[a,b]\nop = relu\n[c]\nop = relu\ninputs = a,b\n"},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; ++i)
        write_seed("spec", specs[i][0], specs[i][1], strlen(specs[i][1]));
    /* 144 bytes whose spec's dense layer has a 1 GiB kernel. */
    const char *const dense[][2] = {
        {"format", "clnet"},
        {"format_version", "1"},
        {"spec", "[in]\nop = input\nshape = 1, 1, 16384\n[d]\nop = dense\nunits = 16384\n"}};
    save_seed("model_file", "hostile-dense-16384-no-tensors.safetensors", NULL, 0, dense, 3);
    const char *const steps[][2] = {{"format", "clnet-checkpoint"},
                                    {"spec", small_spec},
                                    {"epochs", "-3"},
                                    {"optimizer_steps", "9223372036854775807"},
                                    {"training_steps", "-1"},
                                    {"optimizer", "1"}};
    save_seed("checkpoint", "hostile-steps.ckpt", NULL, 0, steps, 6);
    static const char wg0[] =
        "{\"format\": \"clnet-tune-1\", \"entries\": [{\"device\": \"fuzz device\", "
        "\"driver\": \"1.0\", \"class\": \"cpu\", \"kernels\": \"0123456789abcdef\", "
        "\"problem\": \"gemm NN 45x37x30\", \"choice\": \"packed\", "
        "\"params\": {\"GEMM_WG_M\": 0}, \"ms\": 1, \"default_ms\": 1}]}";
    write_seed("tune_db", "hostile-gemm-wg-m-0.json", wg0, strlen(wg0));
}

/* fuzz_keras_v3's seeds (make_corpus_keras.c), written through write_seed. */
void keras_v3_seeds(void (*write)(const char *loader, const char *name, const void *data,
                                  size_t n));

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus root, e.g. fuzz/corpus>\n", argv[0]);
        return 2;
    }
    root = argv[1];
    mkdir(root, 0755);
    spec_seeds();
    model_file_seeds();
    checkpoint_seeds();
    tune_db_seeds();
    idx_seeds();
    cifar_seeds();
    image_folder_seeds();
    onnx_seeds();
    keras_tfjs_seeds();
    hostile_seeds();
    keras_v3_seeds(write_seed);
    return 0;
}
