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
    hostile_seeds();
    return 0;
}
