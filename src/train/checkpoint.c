/* checkpoint.c - training checkpoints: one safetensors file (src/io/safetensors.c)
 * with the model's weights ("<layer>/<weight>"), the optimizer's state
 * ("optimizer/<k>/<layer>/<weight>", slot k of train.h: velocity, Adam's moments,
 * RMSprop's averages and momentum buffer), the best epoch's weights when early stopping
 * keeps them ("best/<layer>/<weight>"), and in the metadata the architecture spec,
 * finished epochs, optimizer steps, the model's training step count (dropout seeds), the
 * history of every finished epoch, early stopping's state and the caller's note. Shuffling and
 * augmentation are keyed by seed and epoch, so a resumed run continues exactly as the uninterrupted
 * one. Written to a temporary file then renamed. Tests: tests/models/test_fit.c,
 * tests/models/test_checkpoint.c. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "train/train.h"

#define FORMAT "clnet-checkpoint"
#define NAME_LEN 160

/* The i-th tensor of a checkpoint: the model's weights, each state array, then the best
 * epoch's weights. */
typedef struct slot {
    clnet_tensor *t;
    int weight;
    int state; /* -1: the weight itself, 0..CLNET__OPT_STATES - 1: optimizer state k, BEST */
} slot;

enum { BEST = CLNET__OPT_STATES }; /* the slot of the best epoch's weights */

static int slots(const clnet_optimizer *o, clnet_tensor *const *best, slot *out)
{
    const clnet_model *m = o->model;
    int n = 0;
    for (int i = 0; i < m->n_weights; ++i)
        out[n++] = (slot){m->w[i], i, -1};
    for (int k = 0; k < CLNET__OPT_STATES; ++k)
        for (int i = 0; i < m->n_weights; ++i)
            if (o->state[k] && o->state[k][i])
                out[n++] = (slot){o->state[k][i], i, k};
    for (int i = 0; best && i < m->n_weights; ++i)
        out[n++] = (slot){best[i], i, BEST};
    return n;
}

static void slot_name(const clnet_model *m, const slot *s, char *buf)
{
    const clnet_weight_info *w = &m->info[s->weight];
    if (s->state < 0)
        snprintf(buf, NAME_LEN, "%s/%s", w->layer, w->name);
    else if (s->state == BEST)
        snprintf(buf, NAME_LEN, "best/%s/%s", w->layer, w->name);
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

/* The history as {"loss": [...], "accuracy": [...], ...}, NaN as null. */
static const char *const figure_names[] = {"loss",         "accuracy", "val_loss",
                                           "val_accuracy", "lr",       "seconds"};

static double *figure(clnet__epoch_figures *e, int k)
{
    double *const f[] = {&e->loss,         &e->accuracy, &e->val_loss,
                         &e->val_accuracy, &e->lr,       &e->seconds};
    return f[k];
}

static char *history_json(const clnet__run_record *r)
{
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    for (size_t k = 0; ok && k < CLNET_COUNTOF(figure_names); ++k) {
        cJSON *a = cJSON_AddArrayToObject(root, figure_names[k]);
        ok = a != NULL;
        for (int e = 0; ok && e < r->n_history; ++e) {
            /* %.17g round-trips exactly; cJSON's own printing may drop the last bit. */
            const double v = *figure(&r->history[e], (int)k);
            char text[32];
            snprintf(text, sizeof text, "%.17g", v);
            ok = cJSON_AddItemToArray(a, isfinite(v) ? cJSON_CreateRaw(text) : cJSON_CreateNull());
        }
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

clnet_status clnet__checkpoint_save(clnet_optimizer *o, const char *path,
                                    const clnet__run_record *r)
{
    clnet_model *m = o->model;
    const int cap = (2 + CLNET__OPT_STATES) * m->n_weights + 1;
    slot *s = malloc((size_t)cap * sizeof *s);
    char *names = malloc((size_t)cap * NAME_LEN), *history = history_json(r), *spec = NULL;
    char err[1024] = "";
    clnet__st_entry *e = malloc((size_t)cap * sizeof *e);
    clnet_status st = s && names && e && history ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK)
        st = clnet_graph_to_spec(m->graph, &spec);
    if (st == CLNET_OK) {
        const int n = slots(o, r->best_w, s);
        for (int i = 0; i < n; ++i) {
            slot_name(m, &s[i], names + (size_t)i * NAME_LEN);
            const clnet_shape sh = s[i].t->shape;
            e[i] = (clnet__st_entry){names + (size_t)i * NAME_LEN, 4, {sh.n, sh.h, sh.w, sh.c}};
        }
        char ep[32], steps[32], run[32], kind[8], best[40], best_epoch[16], wait[16];
        snprintf(ep, sizeof ep, "%d", r->epochs);
        snprintf(steps, sizeof steps, "%" PRId64, o->steps);
        snprintf(run, sizeof run, "%" PRIu64, m->steps_run);
        snprintf(kind, sizeof kind, "%d", (int)o->opt.kind);
        snprintf(best, sizeof best, "%.17g", isfinite(r->best) ? r->best : HUGE_VAL);
        snprintf(best_epoch, sizeof best_epoch, "%d", r->best_epoch);
        snprintf(wait, sizeof wait, "%d", r->wait);
        const char *const meta[][2] = {{"format", FORMAT},
                                       {"spec", spec},
                                       {"epochs", ep},
                                       {"optimizer_steps", steps},
                                       {"training_steps", run},
                                       {"optimizer", kind},
                                       {"history", history},
                                       {"best", best},
                                       {"best_epoch", best_epoch},
                                       {"wait", wait},
                                       {"note", r->note}};
        const int n_meta = (int)CLNET_COUNTOF(meta) - (r->note ? 0 : 1); /* the note last */
        save_job j = {o, s};
        st = clnet__st_save(path, e, n, meta, n_meta, fill, &j, err, sizeof err);
    }
    clnet_free(spec);
    cJSON_free(history);
    free(s);
    free(names);
    free(e);
    if (st == CLNET_OK)
        return st;
    return clnet__fail(m->ctx, st, "writing checkpoint '%s': %s", path,
                       err[0] ? err : clnet_status_string(st));
}

/* Reads every slot's tensor by name, checking its size; the best epoch's weights only
 * when the file has them (best: NULL when the run does not keep them). */
static clnet_status read_slots(clnet_optimizer *o, clnet__st_file *f, clnet_tensor *const *best,
                               int *got_best, char *err, size_t len)
{
    clnet_model *m = o->model;
    /* Best weights, when the file has them (a run that kept them wrote them all). */
    char probe[NAME_LEN];
    const slot first_best = {NULL, 0, BEST};
    int has_best = 0;
    if (m->n_weights > 0) {
        slot_name(m, &first_best, probe);
        has_best = clnet__st_find(f, probe) >= 0;
    }
    best = has_best ? best : NULL;
    slot *s = malloc((size_t)((2 + CLNET__OPT_STATES) * m->n_weights + 1) * sizeof *s);
    float *buf = NULL;
    if (!s)
        return CLNET_ERR_OUT_OF_MEMORY;
    const int n = slots(o, best, s);
    const int expected = n + (has_best && !best ? m->n_weights : 0);
    clnet_status st = expected == f->n ? CLNET_OK : CLNET_ERR_MISMATCH;
    if (st != CLNET_OK)
        snprintf(err, len, "it holds %d tensors where this model and optimizer have %d", f->n,
                 expected);
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
    *got_best = best != NULL;
    return st;
}

/* "history" (arrays of one length, at most the finished epochs) checked, and read into
 * r->history unless r is NULL. */
static clnet_status read_history(const char *text, int64_t epochs, clnet__run_record *r, char *err,
                                 size_t len)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(root, figure_names[0]);
    const int n = cJSON_IsArray(first) ? cJSON_GetArraySize(first) : -1;
    clnet_status st = cJSON_IsObject(root) && n >= 0 && n <= epochs ? CLNET_OK : CLNET_ERR_PARSE;
    if (st == CLNET_OK && r)
        st = clnet__run_record_reserve(r, n);
    for (size_t k = 0; st == CLNET_OK && k < CLNET_COUNTOF(figure_names); ++k) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, figure_names[k]);
        if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) {
            st = CLNET_ERR_PARSE;
            break;
        }
        int e = 0;
        for (const cJSON *v = a->child; v; v = v->next, ++e) {
            if (!cJSON_IsNumber(v) && !cJSON_IsNull(v)) {
                st = CLNET_ERR_PARSE;
                break;
            }
            if (r)
                *figure(&r->history[e], (int)k) = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        }
    }
    cJSON_Delete(root);
    if (r)
        r->n_history = st == CLNET_OK ? n : 0;
    if (st == CLNET_ERR_PARSE)
        clnet__st_fail(err, len, st,
                       "__metadata__ history is not arrays of %s, %s, ... of one length of at "
                       "most %lld epochs",
                       figure_names[0], figure_names[1], (long long)epochs);
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
    {"optimizer", CLNET_OPT_SGD, CLNET_OPT_RMSPROP, offsetof(clnet__checkpoint_meta, optimizer)},
};

clnet_status clnet__checkpoint_read_meta(const clnet__st_file *f, clnet__checkpoint_meta *m,
                                         char *err, size_t len)
{
    memset(m, 0, sizeof *m);
    m->best = HUGE_VAL;
    m->best_epoch = -1;
    const char *format = NULL;
    CLNET_TRY(clnet__st_meta_require(f, "format", &format, err, len));
    if (strcmp(format, FORMAT) != 0)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "it is not a clnet checkpoint (format '%.64s')", format);
    CLNET_TRY(clnet__st_meta_require(f, "spec", &m->spec, err, len));
    for (size_t i = 0; i < CLNET_COUNTOF(numbers); ++i)
        CLNET_TRY(clnet__st_meta_int(f, numbers[i].key, numbers[i].lo, numbers[i].hi,
                                     (int64_t *)((char *)m + numbers[i].offset), err, len));
    /* Written since early stopping and the history: absent in older checkpoints. */
    m->history = clnet__st_meta(f, "history");
    m->note = clnet__st_meta(f, "note");
    if (m->history)
        CLNET_TRY(read_history(m->history, m->epochs, NULL, err, len));
    const char *best = clnet__st_meta(f, "best");
    if (best) {
        char *end = NULL;
        m->best = strtod(best, &end);
        if (end == best || *end || isnan(m->best))
            return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                                  "__metadata__ best \"%.32s\" is not a number", best);
        CLNET_TRY(clnet__st_meta_int(f, "best_epoch", -1, m->epochs - 1, &m->best_epoch, err, len));
        CLNET_TRY(clnet__st_meta_int(f, "wait", 0, m->epochs, &m->wait, err, len));
    }
    return CLNET_OK;
}

/* The checkpoint's metadata into r, checked against o: the architecture and optimizer. */
static clnet_status read_meta(clnet__st_file *f, const clnet_optimizer *o, clnet__run_record *r,
                              char *err, size_t len)
{
    const clnet_model *m = o->model;
    clnet__checkpoint_meta meta;
    CLNET_TRY(clnet__checkpoint_read_meta(f, &meta, err, len));
    char *spec = NULL;
    CLNET_TRY(clnet_graph_to_spec(m->graph, &spec));
    const int same = strcmp(spec, meta.spec) == 0;
    clnet_free(spec);
    if (!same)
        return clnet__st_fail(err, len, CLNET_ERR_MISMATCH,
                              "it was written for another architecture");
    if (meta.optimizer != (int64_t)o->opt.kind)
        return clnet__st_fail(err, len, CLNET_ERR_MISMATCH,
                              "it was written with the %s optimizer, not %s",
                              clnet_optimizer_kind_name((clnet_optimizer_kind)meta.optimizer),
                              clnet_optimizer_kind_name(o->opt.kind));
    r->epochs = (int)meta.epochs;
    r->n_history = 0; /* an older checkpoint has no figures to replay */
    if (meta.history)
        CLNET_TRY(read_history(meta.history, meta.epochs, r, err, len));
    r->best = meta.best;
    r->best_epoch = (int)meta.best_epoch;
    r->wait = (int)meta.wait;
    free(r->note);
    r->note = meta.note ? strdup(meta.note) : NULL;
    if (meta.note && !r->note)
        return CLNET_ERR_OUT_OF_MEMORY;
    r->steps = meta.optimizer_steps;
    r->steps_run = (uint64_t)meta.training_steps;
    return CLNET_OK;
}

clnet_status clnet__checkpoint_load(clnet_optimizer *o, const char *path, clnet__run_record *r)
{
    clnet_model *m = o->model;
    r->epochs = r->n_history = 0;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return CLNET_OK; /* nothing to resume: a fresh start */
    fclose(probe);
    clnet__st_file *f = NULL;
    char err[1024] = "";
    clnet_status st = clnet__st_open(path, &f, err, sizeof err);
    if (st == CLNET_OK)
        st = read_meta(f, o, r, err, sizeof err);
    int got_best = 0;
    if (st == CLNET_OK)
        st = read_slots(o, f, r->best_w, &got_best, err, sizeof err);
    if (st == CLNET_OK && r->best_w && !got_best) { /* not kept by the run: track anew */
        r->best = HUGE_VAL;
        r->best_epoch = -1;
        r->wait = 0;
    }
    if (st == CLNET_OK) {
        o->steps = r->steps;
        m->steps_run = r->steps_run;
        ++m->weights_version;
    } else {
        r->epochs = r->n_history = 0;
    }
    clnet__st_close(f);
    if (st == CLNET_OK)
        return st;
    return clnet__fail(m->ctx, st, "resuming from checkpoint '%s': %s", path, err);
}

clnet_status clnet__run_record_reserve(clnet__run_record *r, int epochs)
{
    if (epochs <= r->cap)
        return CLNET_OK;
    clnet__epoch_figures *h = realloc(r->history, (size_t)epochs * sizeof *h);
    if (!h)
        return CLNET_ERR_OUT_OF_MEMORY;
    r->history = h;
    r->cap = epochs;
    return CLNET_OK;
}

void clnet__run_record_free(clnet__run_record *r)
{
    free(r->history);
    free(r->note);
    r->history = NULL;
    r->note = NULL;
    r->cap = 0;
}

clnet_status clnet_checkpoint_note(const char *path, char **note, int *epochs, char *err,
                                   size_t err_len)
{
    if (note)
        *note = NULL;
    if (epochs)
        *epochs = 0;
    if (!path || !note)
        return clnet__st_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                              "clnet_checkpoint_note: no path or no place for the note");
    clnet__st_file *f = NULL;
    char why[1024] = "";
    clnet__checkpoint_meta meta;
    clnet_status st = clnet__st_open(path, &f, why, sizeof why);
    if (st == CLNET_OK)
        st = clnet__checkpoint_read_meta(f, &meta, why, sizeof why);
    if (st == CLNET_OK && meta.note && !(*note = strdup(meta.note)))
        st = clnet__st_fail(why, sizeof why, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st == CLNET_OK && epochs)
        *epochs = (int)meta.epochs;
    clnet__st_close(f);
    if (st != CLNET_OK)
        clnet__st_fail(err, err_len, st, "checkpoint '%s': %s", path, why);
    return st;
}
