/* make_corpus_keras.c - make_corpus's seeds of fuzz_keras_v3.c (its input layouts are
 * described there): small .keras files in Keras 3's layout (saving_lib.py), a Sequential
 * model with Keras 3.6's labels, a Functional model nesting another, tf.keras 2.13's
 * _layer_checkpoint_dependencies; whole zips and the pieces the harness zips itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/keras_file.h"

typedef void (*seed_writer)(const char *loader, const char *name, const void *data, size_t n);

static const char sequential[] =
    "{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", "
    "\"layers\": [{\"class_name\": \"InputLayer\", \"config\": {\"name\": \"in\", \"batch_shape\": "
    "[null, 4, 4, 2]}}, {\"class_name\": \"Conv2D\", \"config\": {\"name\": \"c1\"}}, "
    "{\"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"bn\"}}, {\"class_name\": "
    "\"ReLU\", \"config\": {\"name\": \"r\"}}, {\"class_name\": \"Conv2D\", \"config\": "
    "{\"name\": \"c2\"}}]}}";

static const char functional[] =
    "{\"class_name\": \"Functional\", \"config\": {\"name\": \"f\", \"layers\": ["
    "{\"class_name\": \"InputLayer\", \"name\": \"in\", \"config\": {}}, {\"class_name\": "
    "\"Functional\", \"name\": \"inner\", \"config\": {\"layers\": [{\"class_name\": "
    "\"Conv2D\", \"name\": \"k\", \"config\": {}}]}}, {\"class_name\": \"Dense\", \"name\": "
    "\"fc\", \"config\": {}}]}}";

static const char metadata[] = "{\"keras_version\": \"3.10.0\"}";

/* A dataset of dims at path holding 0.5, 1.5, ... */
static void floats(clnet_test_h5 *f, const char *path, int rank, const int64_t *dims)
{
    float v[64];
    for (int i = 0; i < 64; ++i)
        v[i] = (float)i + 0.5f;
    if (clnet_test_h5_floats(f, path, rank, dims, v) != 0) {
        fprintf(stderr, "make_corpus: cannot write %s\n", path);
        exit(1);
    }
}

static void group(clnet_test_h5 *f, const char *path, const char *name)
{
    if (clnet_test_h5_group(f, path, name) != 0) {
        fprintf(stderr, "make_corpus: cannot write %s\n", path);
        exit(1);
    }
}

static const int64_t kernel[] = {1, 1, 2, 2}, two[] = {2};

/* The weights of `sequential` (prefix: "/layers" or tf.keras 2.13's
 * "/_layer_checkpoint_dependencies", which counted c1 twice: c2 is conv2d_2 there). */
static unsigned char *sequential_h5(const char *prefix, int labels, size_t *n)
{
    clnet_test_h5 *f = clnet_test_h5_create(1);
    if (!f)
        exit(1);
    const int tf_2_13 = prefix[1] == '_';
    char path[128];
    snprintf(path, sizeof path, "%s/conv2d/vars", prefix);
    group(f, path, labels ? "c1" : NULL);
    snprintf(path, sizeof path, "%s/conv2d/vars/0", prefix);
    floats(f, path, 4, kernel);
    snprintf(path, sizeof path, "%s/batch_normalization/vars", prefix);
    group(f, path, labels ? "bn" : NULL);
    for (int i = 0; i < 4; ++i) {
        snprintf(path, sizeof path, "%s/batch_normalization/vars/%d", prefix, i);
        floats(f, path, 1, two);
    }
    snprintf(path, sizeof path, "%s/re_lu/vars", prefix);
    group(f, path, labels ? "r" : NULL);
    snprintf(path, sizeof path, "%s/conv2d_%d/vars/0", prefix, tf_2_13 ? 2 : 1);
    floats(f, path, 4, kernel);
    return clnet_test_h5_finish(f, n);
}

static unsigned char *functional_h5(size_t *n)
{
    clnet_test_h5 *f = clnet_test_h5_create(1);
    if (!f)
        exit(1);
    group(f, "/vars", "f");
    group(f, "/layers/input_layer/vars", "in");
    group(f, "/layers/functional/vars", "inner");
    floats(f, "/layers/functional/layers/conv2d/vars/0", 4, kernel);
    floats(f, "/layers/dense/vars/0", 2, (const int64_t[]){2, 2});
    floats(f, "/layers/dense/vars/1", 1, two);
    return clnet_test_h5_finish(f, n);
}

static void put_u16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

/* The harness's odd layout: how, config, metadata and the weights, in one seed. */
static void pieces(seed_writer write, const char *name, unsigned how, const char *config,
                   const unsigned char *h5, size_t h5_size)
{
    const size_t nc = strlen(config), nm = strlen(metadata), n = 5 + nc + nm + h5_size;
    unsigned char *seed = malloc(n);
    if (!seed || !h5)
        exit(1);
    seed[0] = (unsigned char)how;
    put_u16(seed + 1, nc);
    memcpy(seed + 3, config, nc);
    put_u16(seed + 3 + nc, nm);
    memcpy(seed + 5 + nc, metadata, nm);
    memcpy(seed + 5 + nc + nm, h5, h5_size);
    write("keras_v3", name, seed, n);
    free(seed);
}

void keras_v3_seeds(seed_writer write)
{
    size_t n, zip_size;
    unsigned char *h5 = sequential_h5("/layers", 1, &n);
    unsigned char *zip = clnet_test_keras(sequential, metadata, h5, n, 0, &zip_size);
    unsigned char *whole = zip ? malloc(zip_size + 1) : NULL;
    if (!whole)
        exit(1);
    whole[0] = 0; /* even: a whole zip */
    memcpy(whole + 1, zip, zip_size);
    write("keras_v3", "sequential.keras", whole, zip_size + 1);
    pieces(write, "sequential", 1, sequential, h5, n);
    pieces(write, "sequential_deflated_own_walk", 1 | 2 | 4, sequential, h5, n);
    free(whole);
    free(zip);
    free(h5);
    h5 = sequential_h5("/_layer_checkpoint_dependencies", 0, &n);
    pieces(write, "tf_keras_2_13", 1, sequential, h5, n);
    free(h5);
    h5 = functional_h5(&n);
    pieces(write, "nested_functional", 1, functional, h5, n);
    free(h5);
}
