/* dist_step.c - data-parallel training equals one process (src/train/dist.c, comm.c):
 * run.sh trains the same small model on the same data for one epoch alone and as N
 * ranks under mpirun, each run writing its weights, then compares them. The global
 * batches of 7 images over 16 (7, 7, 2) give shards of unequal sizes, and 5 ranks leave
 * some shards of the last batch empty, so the weighting by images is what makes the sums
 * agree; the hidden dense layer's 288 KB of gradients put the weights in two buckets
 * (dist.c), so buckets read back while backward runs are summed too. With --bn the model
 * has batch norms and the ranks synchronize them (--sync-bn): their statistics are the
 * global batch's, so N ranks again train as one process, moving statistics included
 * (the end of the run recomputes them over every rank's images); --local-bn keeps them
 * per shard, which must not match. A plain program run by ctest through run.sh.
 *
 *   dist_step train OUT.safetensors [--init INIT.safetensors] [--bn | --local-bn]
 *                                       alone, or under mpirun
 *   dist_step single OUT                alone, through a communicator of one rank (MPI's
 *                                       singleton start): the same as without
 *   dist_step compare A B INIT          A and B within 1e-5 (relative, per weight), and
 *                                       both moved away from INIT, so the check can fail
 *   dist_step hang                      rank 1 stops answering: rank 0 must name it
 *   dist_step mismatch                  rank 1 opens one image fewer: both must refuse */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clnet.h"

#define SPEC                                                                                       \
    "[image]\nop = input\nshape = 12, 10, 1\n"                                                     \
    "[c1]\nop = conv2d\nfilters = 6\nkernel_size = 3\npadding = same\nactivation = relu\n"         \
    "[p1]\nop = max_pool\npool_size = 2\nstrides = 2\n"                                            \
    "[c2]\nop = conv2d\nfilters = 8\nkernel_size = 3\npadding = same\nactivation = relu\n"         \
    "[flat]\nop = flatten\n"                                                                       \
    "[hidden]\nop = dense\nunits = 300\nactivation = relu\n"                                       \
    "[logits]\nop = dense\nunits = 10\n"

/* The same with a batch norm after each convolution (without a bias, as ResNet's: a bias
 * before a batch norm has no gradient but rounding noise), one with a fused activation. */
#define SPEC_BN                                                                                    \
    "[image]\nop = input\nshape = 12, 10, 1\n"                                                     \
    "[c1]\nop = conv2d\nfilters = 6\nkernel_size = 3\npadding = same\nuse_bias = false\n"          \
    "[b1]\nop = batch_norm\nmomentum = 0.9\nactivation = relu\n"                                   \
    "[p1]\nop = max_pool\npool_size = 2\nstrides = 2\n"                                            \
    "[c2]\nop = conv2d\nfilters = 8\nkernel_size = 3\npadding = same\nuse_bias = false\n"          \
    "[b2]\nop = batch_norm\nunbiased_variance = true\n"                                            \
    "[r2]\nop = relu\n"                                                                            \
    "[flat]\nop = flatten\n"                                                                       \
    "[hidden]\nop = dense\nunits = 300\nactivation = relu\n"                                       \
    "[logits]\nop = dense\nunits = 10\n"

enum { IMAGES = 16, H = 12, W = 10 };

static void put_be32(FILE *f, unsigned v)
{
    const unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                                (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* The same idx files on every rank (each writes its own copy: no shared folder assumed). */
static void write_data(const char *dir, int images)
{
    mkdir(dir, 0700);
    char path[512];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    FILE *f = fopen(path, "wb");
    put_be32(f, 0x803);
    put_be32(f, (unsigned)images);
    put_be32(f, H);
    put_be32(f, W);
    unsigned x = 12345;
    for (int i = 0; i < images * H * W; ++i) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 16) & 0xff, f);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    f = fopen(path, "wb");
    put_be32(f, 0x801);
    put_be32(f, (unsigned)images);
    for (int i = 0; i < images; ++i)
        fputc(i % 10, f);
    fclose(f);
}

/* bn: 0 no batch norm, 1 synchronized, 2 per shard. */
static int train(const char *out, const char *init, int hang, int single, int fewer, int bn)
{
    char err[1024] = "";
    clnet_comm *comm = NULL;
    if ((clnet_comm_launched() || single) &&
        clnet_comm_create(NULL, hang ? 8.0 : 0.0, &comm, err, sizeof err) != CLNET_OK) {
        fprintf(stderr, "dist_step: %s\n", err);
        return 1;
    }
    if (single && (clnet_comm_size(comm) != 1 || clnet_comm_rank(comm) != 0 ||
                   clnet_comm_create(NULL, -1.0, &comm, err, sizeof err) != CLNET_ERR_INVALID_ARG ||
                   !strstr(err, "timeout"))) {
        fprintf(stderr, "dist_step: a singleton communicator is %d of %d; a negative timeout: %s\n",
                clnet_comm_rank(comm), clnet_comm_size(comm), err);
        return 1;
    }
    const int rank = clnet_comm_rank(comm);
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/clnet-dist-step-%d-%d", (int)getpid(), rank);
    write_data(dir, IMAGES - (fewer && rank == 1));
    char source[160];
    snprintf(source, sizeof source, "idx:%s", dir);
    clnet_dataset *d = NULL;
    clnet_context *ctx = NULL;
    clnet_graph *g = NULL;
    clnet_model *m = NULL;
    int rc = 1;
    const clnet_model_options mo = {7, 0, 0};
    if (clnet_dataset_open(source, "train", NULL, &d, err, sizeof err) != CLNET_OK)
        fprintf(stderr, "dist_step: %s\n", err);
    else if (clnet_context_create(NULL, &ctx) != CLNET_OK)
        fprintf(stderr, "dist_step: no OpenCL device\n");
    else if (clnet_graph_from_spec(bn ? SPEC_BN : SPEC, "dist_step", &g, err, sizeof err) !=
             CLNET_OK)
        fprintf(stderr, "dist_step: %s\n", err);
    else if (clnet_model_create(ctx, g, &mo, &m) != CLNET_OK)
        fprintf(stderr, "dist_step: %s\n", clnet_context_error(ctx));
    else
        rc = 0;
    if (rc == 0 && init && rank == 0 && clnet_model_save(m, init) != CLNET_OK)
        rc = 1;
    if (rc == 0 && rank != 0) {
        /* Other ranks start from other weights: the broadcast must replace them. */
        for (int i = 0; i < clnet_model_weight_count(m); ++i) {
            clnet_tensor *t = NULL;
            clnet_model_weight(m, i, NULL, &t, NULL);
            clnet_tensor_fill(t, 0.5f);
        }
    }
    if (rc == 0 && hang && rank == 1)
        raise(SIGSTOP); /* answers nothing from now on */
    clnet_fit_options o;
    memset(&o, 0, sizeof o);
    o.epochs = 1;
    o.batch = 7;
    o.optimizer.kind = CLNET_OPT_SGD;
    o.optimizer.momentum = 0.9f;
    o.optimizer.nesterov = 1;
    o.optimizer.weight_decay = 5e-4f;
    o.schedule.lr = 0.05f;
    o.seed = 3;
    o.augment = 1;
    o.comm = comm;
    o.sync_bn = bn == 1;
    if (rc == 0) {
        const clnet_status st = clnet_fit(m, d, NULL, &o);
        if (st != CLNET_OK) {
            fprintf(stderr, "dist_step: rank %d: %s\n", rank, clnet_context_error(ctx));
            rc = (hang && st == CLNET_ERR_RANK_LOST) || (fewer && st == CLNET_ERR_INVALID_ARG) ? 3
                                                                                               : 1;
        }
    }
    if (rc == 0 && rank == 0 && clnet_model_save(m, out) != CLNET_OK)
        rc = 1;
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
    clnet_context_destroy(ctx);
    clnet_dataset_destroy(d);
    char path[512];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    unlink(path);
    rmdir(dir);
    if (rc != 3) /* a broken run is left unfinalized: its peer will never answer */
        clnet_comm_destroy(comm);
    return rc;
}

static int compare(const char *a_path, const char *b_path, const char *init_path)
{
    clnet_context *ctx = NULL;
    clnet_model *a = NULL, *b = NULL, *init = NULL;
    if (clnet_context_create(NULL, &ctx) != CLNET_OK ||
        clnet_model_load(ctx, a_path, NULL, &a) != CLNET_OK ||
        clnet_model_load(ctx, b_path, NULL, &b) != CLNET_OK ||
        clnet_model_load(ctx, init_path, NULL, &init) != CLNET_OK) {
        fprintf(stderr, "dist_step compare: %s\n", ctx ? clnet_context_error(ctx) : "no device");
        return 1;
    }
    int failures = 0;
    double worst = 0.0, least_moved = HUGE_VAL;
    char worst_name[160] = "";
    for (int i = 0; i < clnet_model_weight_count(a); ++i) {
        clnet_weight_info info;
        clnet_tensor *ta = NULL, *tb = NULL, *t0 = NULL;
        clnet_model_weight(a, i, &info, &ta, NULL);
        clnet_model_weight(b, i, NULL, &tb, NULL);
        clnet_model_weight(init, i, NULL, &t0, NULL);
        const size_t n = clnet_tensor_count(ta);
        float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = malloc(n * sizeof *z);
        clnet_tensor_read(ta, x, n);
        clnet_tensor_read(tb, y, n);
        clnet_tensor_read(t0, z, n);
        double scale = 0.0, diff = 0.0, moved = 0.0;
        for (size_t k = 0; k < n; ++k) {
            scale = fmax(scale, fabs(x[k]));
            diff = fmax(diff, fabs((double)x[k] - y[k]));
            moved = fmax(moved, fabs((double)x[k] - z[k]));
        }
        const double rel = scale > 0 ? diff / scale : diff;
        if (rel > worst || !worst_name[0])
            snprintf(worst_name, sizeof worst_name, "%s/%s", info.layer, info.name);
        worst = fmax(worst, rel);
        least_moved = fmin(least_moved, scale > 0 ? moved / scale : moved);
        if (!(rel <= 1e-5)) {
            fprintf(stderr, "%s/%s: differs by %.3g relative (max |w| %.3g)\n", info.layer,
                    info.name, rel, scale);
            ++failures;
        }
        free(x);
        free(y);
        free(z);
    }
    if (!(least_moved > 1e-4)) {
        fprintf(stderr, "a weight barely moved in training (%.3g): the check could not fail\n",
                least_moved);
        ++failures;
    }
    printf("%d weights: largest relative difference %.3g (%s), every weight moved by at least "
           "%.3g relative\n",
           clnet_model_weight_count(a), worst, worst_name, least_moved);
    clnet_model_destroy(a);
    clnet_model_destroy(b);
    clnet_model_destroy(init);
    clnet_context_destroy(ctx);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "train")) {
        const char *init = NULL;
        int bn = 0;
        for (int i = 3; i < argc; ++i) {
            if (!strcmp(argv[i], "--init") && i + 1 < argc)
                init = argv[++i];
            else if (!strcmp(argv[i], "--bn") || !strcmp(argv[i], "--local-bn"))
                bn = argv[i][2] == 'b' ? 1 : 2;
            else
                return 2;
        }
        return train(argv[2], init, 0, 0, 0, bn);
    }
    if (argc == 3 && !strcmp(argv[1], "single"))
        return train(argv[2], NULL, 0, 1, 0, 0);
    if (argc >= 2 && !strcmp(argv[1], "hang"))
        return train("/dev/null", NULL, 1, 0, 0, 0);
    if (argc >= 2 && !strcmp(argv[1], "mismatch"))
        return train("/dev/null", NULL, 0, 0, 1, 0);
    if (argc == 5 && !strcmp(argv[1], "compare"))
        return compare(argv[2], argv[3], argv[4]);
    fprintf(
        stderr,
        "usage: dist_step train OUT [--init INIT] [--bn | --local-bn] | single OUT | compare A B "
        "INIT | hang | mismatch\n");
    return 2;
}
