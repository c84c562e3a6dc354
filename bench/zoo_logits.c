/* zoo_logits.c - bench_zoo_logits: runs a zoo model on weights and an input given as
 * safetensors, for bench/compare/torch_logits.py, which writes torchvision's weights under
 * clnet's names and layouts and compares the logits with torchvision's own. A check
 * tool, never a test (torchvision is not a clnet dependency).
 *
 *   bench_zoo_logits MODEL HxWxC CLASSES FILE.safetensors OUT.f32 [--unfused]
 *
 * FILE holds "<layer>/<weight>" for every weight of the model, in clnet's layout (a
 * tensor of the same element count is taken as it is: a depthwise kernel [kh, kw, 1, c]
 * is clnet's [kh, kw, c, 1]) and "input" [n, h, w, c]. OUT gets the n x classes logits of
 * the inference plan (fused unless --unfused) as raw little-endian floats. Exit 1 with a
 * message naming the weight when the file does not fit the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnet.h"
#include "io/safetensors.h"

static int die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_zoo_logits: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

/* Reads tensor name of f into a new buffer of *count floats, or NULL (message printed). */
static float *read_tensor(clnet__st_file *f, const char *name, size_t *count)
{
    const int i = clnet__st_find(f, name);
    if (i < 0) {
        die("the file has no tensor", name);
        return NULL;
    }
    *count = (size_t)f->tensors[i].count;
    float *v = malloc(*count * sizeof *v + 1);
    char err[256];
    if (v && clnet__st_read(f, i, v, *count, err, sizeof err) != CLNET_OK) {
        die(name, err);
        free(v);
        return NULL;
    }
    return v;
}

/* Writes every weight of m from f; returns the number of file tensors used. */
static int load_weights(clnet_model *m, clnet__st_file *f, int *used)
{
    *used = 0;
    for (int i = 0; i < clnet_model_weight_count(m); ++i) {
        clnet_weight_info info;
        clnet_tensor *t = NULL;
        if (clnet_model_weight(m, i, &info, &t, NULL) != CLNET_OK)
            return die("cannot read the model's weight list", NULL);
        char name[160];
        snprintf(name, sizeof name, "%s/%s", info.layer, info.name);
        size_t count = 0;
        float *v = read_tensor(f, name, &count);
        if (!v)
            return 1;
        if (count != clnet_tensor_count(t)) {
            char detail[96];
            snprintf(detail, sizeof detail, "%zu values in the file, the model's has %zu", count,
                     clnet_tensor_count(t));
            free(v);
            return die(name, detail);
        }
        const clnet_status st = clnet_tensor_write(t, v, count);
        free(v);
        if (st != CLNET_OK)
            return die(name, clnet_status_string(st));
        ++*used;
    }
    clnet_model_weights_changed(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 6)
        return die("usage", "bench_zoo_logits MODEL HxWxC CLASSES FILE.safetensors OUT.f32 "
                            "[--unfused]");
    clnet_zoo_options zo = {0, 0, 0, 0, "torch", 0.0, 0};
    if (sscanf(argv[2], "%dx%dx%d", &zo.h, &zo.w, &zo.c) != 3)
        return die("input is HxWxC, not", argv[2]);
    zo.classes = atoi(argv[3]);
    const int unfused = argc > 6 && strcmp(argv[6], "--unfused") == 0;
    char err[512] = "";
    clnet_graph *g = NULL;
    if (clnet_zoo_build(argv[1], &zo, &g, err, sizeof err) != CLNET_OK)
        return die(argv[1], err);
    clnet__st_file *f = NULL;
    if (clnet__st_open(argv[4], &f, err, sizeof err) != CLNET_OK)
        return die(argv[4], err);
    clnet_context *ctx = NULL;
    clnet_model *m = NULL;
    if (clnet_context_create(NULL, &ctx) != CLNET_OK)
        return die("no OpenCL device", NULL);
    const clnet_model_options mo = {1, unfused, unfused};
    if (clnet_model_create(ctx, g, &mo, &m) != CLNET_OK)
        return die(argv[1], clnet_context_error(ctx));
    int used = 0, rc = load_weights(m, f, &used);
    size_t n_in = 0;
    float *in = rc ? NULL : read_tensor(f, "input", &n_in);
    rc |= !in;
    if (!rc && used + 1 != f->n)
        fprintf(stderr, "bench_zoo_logits: the file has %d tensors the model does not use\n",
                f->n - used - 1);
    const int per_image = zo.h * zo.w * zo.c, n = in ? (int)(n_in / (size_t)per_image) : 0;
    clnet_tensor *x = NULL, *y = NULL;
    if (!rc && (clnet_tensor_create(ctx, (clnet_shape){n, zo.h, zo.w, zo.c}, &x) != CLNET_OK ||
                clnet_tensor_write(x, in, n_in) != CLNET_OK ||
                clnet_model_forward(m, x, 0, &y) != CLNET_OK))
        rc = die("forward", clnet_context_error(ctx));
    if (!rc) {
        const size_t count = clnet_tensor_count(y);
        float *out = malloc(count * sizeof *out);
        FILE *o = fopen(argv[5], "wb");
        if (!out || !o || clnet_tensor_read(y, out, count) != CLNET_OK ||
            fwrite(out, sizeof *out, count, o) != count)
            rc = die("cannot write", argv[5]);
        if (o && fclose(o) != 0)
            rc = die("cannot write", argv[5]);
        free(out);
    }
    free(in);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    clnet__st_close(f);
    clnet_graph_destroy(g);
    return rc;
}
