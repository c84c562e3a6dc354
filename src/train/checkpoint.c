/* checkpoint.c - training checkpoints: one safetensors file (src/io/safetensors.c)
 * with the model's weights ("<layer>/<weight>"), the optimizer's state
 * ("optimizer/<k>/<layer>/<weight>": velocity or Adam's moments), and in the metadata
 * the architecture spec, finished epochs, optimizer steps and the model's training
 * step count (dropout seeds). Shuffling and augmentation are keyed by seed and epoch,
 * so a resumed run continues exactly as the uninterrupted one. Written to a temporary
 * file then renamed. Tests: tests/models/test_fit.c. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "train/train.h"

#define FORMAT "clnet-checkpoint"
#define NAME_LEN 160

/* The i-th tensor of a checkpoint: the model's weights, then each state array. */
typedef struct slot {
    clnet_tensor *t;
    int weight;
    int state; /* -1: the weight itself */
} slot;

static int slots(const clnet_optimizer *o, slot *out)
{
    const clnet_model *m = o->model;
    int n = 0;
    for (int i = 0; i < m->n_weights; ++i)
        out[n++] = (slot){m->w[i], i, -1};
    for (int k = 0; k < 2; ++k)
        for (int i = 0; i < m->n_weights; ++i)
            if (o->state[k] && o->state[k][i])
                out[n++] = (slot){o->state[k][i], i, k};
    return n;
}

static void slot_name(const clnet_model *m, const slot *s, char *buf)
{
    const clnet_weight_info *w = &m->info[s->weight];
    if (s->state < 0)
        snprintf(buf, NAME_LEN, "%s/%s", w->layer, w->name);
    else
        snprintf(buf, NAME_LEN, "optimizer/%d/%s/%s", s->state, w->layer, w->name);
}

typedef struct save_job {
    clnet_optimizer *o;
    slot *s;
} save_job;

static clnet_status fill(void *user, int i, float *dst, size_t count, char *err, size_t len)
{
    const save_job *j = user;
    const clnet_status st = clnet_tensor_read(j->s[i].t, dst, count);
    if (st != CLNET_OK)
        snprintf(err, len, "reading a tensor from the device: %s",
                 clnet_context_error(j->o->model->ctx));
    return st;
}

clnet_status clnet__checkpoint_save(clnet_optimizer *o, const char *path, int epochs)
{
    clnet_model *m = o->model;
    const int cap = 3 * m->n_weights + 1;
    slot *s = malloc((size_t)cap * sizeof *s);
    char *names = malloc((size_t)cap * NAME_LEN), *spec = NULL, err[1024] = "";
    clnet__st_entry *e = malloc((size_t)cap * sizeof *e);
    clnet_status st = s && names && e ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK)
        st = clnet_graph_to_spec(m->graph, &spec);
    if (st == CLNET_OK) {
        const int n = slots(o, s);
        for (int i = 0; i < n; ++i) {
            slot_name(m, &s[i], names + (size_t)i * NAME_LEN);
            const clnet_shape sh = s[i].t->shape;
            e[i] = (clnet__st_entry){names + (size_t)i * NAME_LEN, 4, {sh.n, sh.h, sh.w, sh.c}};
        }
        char ep[32], steps[32], run[32], kind[8];
        snprintf(ep, sizeof ep, "%d", epochs);
        snprintf(steps, sizeof steps, "%" PRId64, o->steps);
        snprintf(run, sizeof run, "%" PRIu64, m->steps_run);
        snprintf(kind, sizeof kind, "%d", (int)o->opt.kind);
        const char *const meta[][2] = {{"format", FORMAT},      {"spec", spec},
                                       {"epochs", ep},          {"optimizer_steps", steps},
                                       {"training_steps", run}, {"optimizer", kind}};
        save_job j = {o, s};
        st = clnet__st_save(path, e, n, meta, (int)CLNET_COUNTOF(meta), fill, &j, err, sizeof err);
    }
    clnet_free(spec);
    free(s);
    free(names);
    free(e);
    if (st == CLNET_OK)
        return st;
    return clnet__fail(m->ctx, st, "writing checkpoint '%s': %s", path,
                       err[0] ? err : clnet_status_string(st));
}

/* Reads every slot's tensor by name, checking its size. */
static clnet_status read_slots(clnet_optimizer *o, clnet__st_file *f, char *err, size_t len)
{
    clnet_model *m = o->model;
    slot *s = malloc((size_t)(3 * m->n_weights + 1) * sizeof *s);
    float *buf = NULL;
    if (!s)
        return CLNET_ERR_OUT_OF_MEMORY;
    const int n = slots(o, s);
    clnet_status st = n == f->n ? CLNET_OK : CLNET_ERR_MISMATCH;
    if (st != CLNET_OK)
        snprintf(err, len, "it holds %d tensors where this model and optimizer have %d", f->n, n);
    for (int i = 0; i < n && st == CLNET_OK; ++i) {
        char name[NAME_LEN];
        slot_name(m, &s[i], name);
        const int k = clnet__st_find(f, name);
        if (k < 0 || f->tensors[k].count != s[i].t->count) {
            snprintf(err, len, "tensor '%s' is %s", name, k < 0 ? "missing" : "of another size");
            st = CLNET_ERR_MISMATCH;
            break;
        }
        float *grown = realloc(buf, s[i].t->count * sizeof *buf);
        if (!grown) {
            st = CLNET_ERR_OUT_OF_MEMORY;
            break;
        }
        buf = grown;
        st = clnet__st_read(f, k, buf, s[i].t->count, err, len);
        if (st == CLNET_OK && (st = clnet_tensor_write(s[i].t, buf, s[i].t->count)) != CLNET_OK)
            snprintf(err, len, "%s", clnet_context_error(m->ctx));
    }
    free(buf);
    free(s);
    return st;
}

/* The numbers of a checkpoint's metadata and their ranges, each parsed strictly (the
 * whole value a decimal integer in range) before any is used: a step count near 2^63
 * overflowed in the optimizer, a negative one gave a NaN loss. A new key is one row here
 * (and its value in clnet__checkpoint_save's metadata). */
static const struct {
    const char *key;
    int64_t lo, hi;
    size_t offset; /* of its int64_t in clnet__checkpoint_meta */
} numbers[] = {
    {"epochs", 0, 1000000, offsetof(clnet__checkpoint_meta, epochs)},
    {"optimizer_steps", 0, (int64_t)1 << 53, offsetof(clnet__checkpoint_meta, optimizer_steps)},
    {"training_steps", 0, (int64_t)1 << 53, offsetof(clnet__checkpoint_meta, training_steps)},
    {"optimizer", CLNET_OPT_SGD, CLNET_OPT_ADAM, offsetof(clnet__checkpoint_meta, optimizer)},
};

clnet_status clnet__checkpoint_read_meta(const clnet__st_file *f, clnet__checkpoint_meta *m,
                                         char *err, size_t len)
{
    memset(m, 0, sizeof *m);
    const char *format = NULL;
    CLNET_TRY(clnet__st_meta_require(f, "format", &format, err, len));
    if (strcmp(format, FORMAT) != 0) {
        snprintf(err, len, "it is not a clnet checkpoint (format '%.64s')", format);
        return CLNET_ERR_PARSE;
    }
    CLNET_TRY(clnet__st_meta_require(f, "spec", &m->spec, err, len));
    for (size_t i = 0; i < CLNET_COUNTOF(numbers); ++i)
        CLNET_TRY(clnet__st_meta_int(f, numbers[i].key, numbers[i].lo, numbers[i].hi,
                                     (int64_t *)((char *)m + numbers[i].offset), err, len));
    return CLNET_OK;
}

clnet_status clnet__checkpoint_load(clnet_optimizer *o, const char *path, int *epochs)
{
    clnet_model *m = o->model;
    *epochs = 0;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return CLNET_OK; /* nothing to resume: a fresh start */
    fclose(probe);
    clnet__st_file *f = NULL;
    char err[1024] = "", *spec = NULL;
    clnet__checkpoint_meta meta;
    clnet_status st = clnet__st_open(path, &f, err, sizeof err);
    if (st == CLNET_OK)
        st = clnet__checkpoint_read_meta(f, &meta, err, sizeof err);
    if (st == CLNET_OK && (st = clnet_graph_to_spec(m->graph, &spec)) == CLNET_OK &&
        strcmp(spec, meta.spec) != 0) {
        snprintf(err, sizeof err, "it was written for another architecture");
        st = CLNET_ERR_MISMATCH;
    }
    if (st == CLNET_OK && meta.optimizer != (int64_t)o->opt.kind) {
        snprintf(err, sizeof err, "it was written with the %s optimizer",
                 meta.optimizer == CLNET_OPT_ADAM ? "adam" : "sgd");
        st = CLNET_ERR_MISMATCH;
    }
    if (st == CLNET_OK)
        st = read_slots(o, f, err, sizeof err);
    if (st == CLNET_OK) {
        *epochs = (int)meta.epochs;
        o->steps = meta.optimizer_steps;
        m->steps_run = (uint64_t)meta.training_steps;
        ++m->weights_version;
    }
    clnet_free(spec);
    clnet__st_close(f);
    if (st == CLNET_OK)
        return st;
    return clnet__fail(m->ctx, st, "resuming from checkpoint '%s': %s", path,
                       err[0] ? err : clnet_status_string(st));
}
