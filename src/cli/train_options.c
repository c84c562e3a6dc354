/* train_options.c - the options of `clnet train`: one table of every option, parsing,
 * the defaults derived from the data and the optimizer (learning rate scaled with the
 * batch, warm-up), and the note a checkpoint keeps (the run's arguments with absolute
 * paths) so that `--resume CKPT` alone continues the run. Tests: tests/cli/test_cli.sh. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train.h"

static void usage(void)
{
    printf("usage: clnet train --model MODEL --data SOURCE --out FILE.safetensors [options]\n"
           "       clnet train --resume CHECKPOINT [options to change]\n\n"
           "Trains MODEL (a zoo name or a spec file) on SOURCE: an image folder (one\n"
           "sub-folder per class), idx:DIR (MNIST / Fashion-MNIST) or cifar:DIR (CIFAR-10).\n"
           "Images are resized to the model's input: --input, a spec's input layer, or\n"
           "224x224x3 for zoo models. A checkpoint is written after every epoch\n"
           "(FILE.ckpt unless --checkpoint) with the run's options: --resume CHECKPOINT\n"
           "continues exactly where it stopped (Ctrl-C stops at the end of a step).\n"
           "Under mpirun -np N, the N processes train one model data-parallel: each takes\n"
           "its share of every batch of --batch images (the global batch), gradients are\n"
           "averaged, rank 0 prints and writes the files; --lr is for the global batch.\n\n"
           "options:\n"
           "  --epochs N           passes over the data (default 10)\n"
           "  --batch N            images per step (default 32)\n"
           "  --optimizer O        sgd (momentum 0.9, Nesterov; default), adam or rmsprop\n"
           "  --lr X               base learning rate (default: sgd 0.0125, adam and\n"
           "                       rmsprop 0.001 at batch 32; sgd scaled by batch / 32,\n"
           "                       adam and rmsprop by its square root; a tenth with --from\n"
           "                       unless --freeze)\n"
           "  --warmup N           linear warm-up steps (default: the first epoch, but at\n"
           "                       most a fifth of the run and at least 5%% of it; 0: none)\n"
           "  --schedule S         constant, step, cosine (default) or onecycle (up from\n"
           "                       lr / 25 over the first 30%% of steps, then down to\n"
           "                       lr / 25e4, the momentum the other way: PyTorch's\n"
           "                       OneCycleLR; no warm-up unless --warmup)\n"
           "  --momentum X         SGD (default 0.9; onecycle 0.95) and RMSprop (default 0)\n"
           "                       momentum; --no-nesterov\n"
           "  --weight-decay X     (default 5e-4 sgd, 0 adam and rmsprop); --adamw decouples\n");
    /* Two strings: C99 promises no more than 4095 characters in one. */
    printf("  --augment            random crops of the image padded by 4 pixels (2 under\n"
           "                       32x32), and horizontal flips\n"
           "  --random-resized-crop S  torchvision's RandomResizedCrop(scale=(S, 1)) of the\n"
           "                       full-resolution image (ratio 3/4..4/3), e.g. 0.08\n"
           "  --flip               RandomHorizontalFlip (Keras RandomFlip(\"horizontal\"))\n"
           "  --color-jitter X     ColorJitter(brightness=X, contrast=X, saturation=X)\n"
           "  --rotation D         RandomRotation(D degrees)\n"
           "  --translation F      RandomAffine(translate=(F, F)) (Keras RandomTranslation)\n"
           "  --center-crop F      the validation's (and the model file's, for eval and\n"
           "                       predict) resize, and training's without random crops:\n"
           "                       the centre F of each image, aspect kept; 0: the whole\n"
           "                       image (default: 0.875, torchvision's Resize + CenterCrop,\n"
           "                       with --random-resized-crop; else 0; a --from base's)\n"
           "  --cache-decoded DIR  keep an image folder's images decoded at the model's size\n"
           "                       in a file in DIR, made in the first epoch, read back in\n"
           "                       later epochs and runs (crops come from those pixels)\n"
           "  --workers N          threads decoding and augmenting images (default: 1 on a\n"
           "                       CPU device, which computes on every core; else the\n"
           "                       cores but one, at most 8)\n"
           "  --label-smoothing X  (default 0)\n"
           "  --class-weight auto  weigh each class's loss by n / (classes x its images)\n"
           "  --val F              fraction held out for validation (default 0.1; 0: none)\n"
           "  --val-data SOURCE    validation images from another folder (instead of --val)\n"
           "  --patience N         stop after N epochs without a better val_loss (loss\n"
           "                       without validation) and keep the best epoch's weights\n"
           "  --min-delta X        the decrease that counts as better (default 0)\n"
           "  --no-normalize       feed pixels in [0, 1] (default: per-channel mean/std)\n"
           "  --no-bn-update       keep the batch-norm statistics of the training steps\n"
           "                       (default: recomputed over the training images)\n"
           "  --seed S             shuffling, augmentation, initialization (default 1)\n"
           "  --checkpoint FILE    where checkpoints go (default FILE.safetensors.ckpt)\n"
           "  --resume [CKPT]      continue from the checkpoint\n"
           "  --plot FILE.png      chart of the loss and accuracy per epoch\n"
           "  --log FILE           the figures of every epoch: .csv, or JSON lines\n"
           "  --from BASE          fine-tune a saved model (instead of --model): its head\n"
           "                       is replaced when the data has other classes; --input\n"
           "                       runs it at another size\n"
           "  --freeze N           train only the last N layers that have weights (N >= 1)\n"
           "  --device N|NAME      --class dgpu|igpu|cpu (under mpirun: default, this\n"
           "                       host's GPU of the rank's local number, else the first)\n"
           "  --mpi-timeout S      under mpirun, how long a rank waits for the others before\n"
           "                       it stops naming the silent ones (default 300)\n"
           "  --sync-bn            under mpirun, batch norms take their statistics over\n"
           "                       every rank's images (PyTorch's SyncBatchNorm): the ranks\n"
           "                       train as one process would, for small shards per device\n"
           "%s",
           clnet_cli_model_usage);
}

enum kind { TEXT, NUMBER, FLAG };

/* Every option of train: its kind, where it goes, the range of a number and whether
 * its value is a path (made absolute in the note). */
static const struct option {
    const char *name;
    enum kind kind;
    size_t at;
    double lo, hi;
    int path;
} options[] = {
#define T(name, field, path)                                                                       \
    {                                                                                              \
        name, TEXT, offsetof(train_args, field), 0, 0, path                                        \
    }
#define N(name, field, lo, hi)                                                                     \
    {                                                                                              \
        name, NUMBER, offsetof(train_args, field), lo, hi, 0                                       \
    }
#define F(name, field)                                                                             \
    {                                                                                              \
        name, FLAG, offsetof(train_args, field), 0, 0, 0                                           \
    }
    T("--model", model.model, 0),
    T("--data", data, 1),
    T("--val-data", val_data, 1),
    T("--out", out, 1),
    T("--checkpoint", checkpoint, 1),
    T("--cache-decoded", cache_decoded, 1),
    T("--device", device, 0),
    T("--class", cls, 0),
    T("--from", from, 1),
    T("--plot", plot, 1),
    T("--log", log, 1),
    T("--optimizer", optimizer, 0),
    T("--schedule", schedule, 0),
    T("--class-weight", class_weight, 0),
    N("--epochs", epochs, 1, 1e6),
    N("--batch", batch, 1, 1 << 16),
    N("--lr", lr, 0, 10),
    N("--momentum", momentum, 0, 0.999),
    N("--weight-decay", weight_decay, 0, 1),
    N("--warmup", warmup, 0, 1e9),
    N("--label-smoothing", label_smoothing, 0, 0.99),
    N("--val", val, 0, 0.9),
    N("--seed", seed, 0, 1e18),
    N("--freeze", freeze, 0, 1e6),
    N("--patience", patience, 1, 1e6),
    N("--min-delta", min_delta, 0, 1e9),
    N("--workers", workers, 1, CLNET_MAX_WORKERS),
    N("--random-resized-crop", random_resized_crop, 0.001, 1),
    N("--color-jitter", color_jitter, 0, 1),
    N("--rotation", rotation, 0, 180),
    N("--translation", translation, 0, 1),
    N("--center-crop", center_crop, 0, 1),
    N("--mpi-timeout", mpi_timeout, 1, 1e6),
    F("--augment", augment),
    F("--flip", flip),
    F("--adamw", adamw),
    F("--no-nesterov", no_nesterov),
    F("--no-normalize", no_normalize),
    F("--no-bn-update", no_bn_update),
    F("--sync-bn", sync_bn),
#undef T
#undef N
#undef F
};

#define CHOICES 5 /* the option's name, then its values, NULL-ended when fewer */
static const char *const choices[][CHOICES] = {
    {"--optimizer", "sgd", "adam", "rmsprop", NULL},
    {"--schedule", "constant", "step", "cosine", "onecycle"},
    {"--class-weight", "auto", "none", NULL, NULL},
};

/* The names train knows, for "did you mean". */
static const char *const *known_names(void)
{
    static const char *names[COUNT(options) + 12];
    if (!names[0]) {
        size_t n = 0;
        for (size_t k = 0; k < COUNT(options); ++k)
            names[n++] = options[k].name;
        static const char *const more[] = {"--resume", "--input",    "--classes", "--style",
                                           "--alpha",  "--shortcut", "--help"};
        for (size_t k = 0; k < COUNT(more); ++k)
            names[n++] = more[k];
        names[n] = NULL;
    }
    return names;
}

static void args_init(train_args *a)
{
    memset(a, 0, sizeof *a);
    a->epochs = a->batch = a->lr = a->momentum = a->weight_decay = a->warmup = -1;
    a->label_smoothing = a->val = a->seed = a->freeze = a->patience = a->min_delta = -1;
    a->workers = a->random_resized_crop = a->color_jitter = a->rotation = a->translation = -1;
    a->center_crop = a->mpi_timeout = -1;
}

static int check_choice(const char *name, const char *v)
{
    for (size_t k = 0; k < COUNT(choices); ++k) {
        if (strcmp(choices[k][0], name) != 0)
            continue;
        char list[128] = "";
        int c = 1;
        for (; c < CHOICES && choices[k][c]; ++c) {
            if (strcmp(v, choices[k][c]) == 0)
                return 0;
            const int last = c + 1 == CHOICES || !choices[k][c + 1];
            const size_t at = strlen(list);
            snprintf(list + at, sizeof list - at, "%s%s",
                     c == 1 ? ""
                     : last ? " or "
                            : ", ",
                     choices[k][c]);
        }
        return clnet_cli_error("train", "%s: expected %s, got '%s'", name, list, v);
    }
    return 0;
}

/* One argument (and its value) at argv[*i] into a; 1 taken, -1 error, 0 unknown. */
static int take(train_args *a, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--resume") == 0) {
        a->resume = 1;
        /* --resume CKPT: an optional path (anything not an option) names the checkpoint. */
        if (*i + 1 < argc && argv[*i + 1][0] != '-')
            a->checkpoint = argv[++*i];
        return 1;
    }
    for (size_t k = 0; k < COUNT(options); ++k) {
        const struct option *o = &options[k];
        const size_t len = strlen(o->name);
        if (strncmp(arg, o->name, len) != 0 || (arg[len] && (arg[len] != '=' || o->kind == FLAG)))
            continue;
        char *field = (char *)a + o->at;
        if (o->kind == FLAG) {
            *(int *)field = 1;
            return 1;
        }
        const char *v = arg[len] == '=' ? arg + len + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!v)
            return clnet_cli_error("train", "%s needs a value (see --help)", o->name), -1;
        if (o->kind == TEXT) {
            if (check_choice(o->name, v))
                return -1;
            *(const char **)field = v;
            return 1;
        }
        char *end = NULL;
        const double x = strtod(v, &end);
        if (end == v || *end || !(x >= o->lo && x <= o->hi))
            return clnet_cli_error("train", "%s: expected a number from %g to %g, got '%s'",
                                   o->name, o->lo, o->hi, v),
                   -1;
        *(double *)field = x;
        return 1;
    }
    return clnet_cli_model_arg("train", argc, argv, i, &a->model);
}

static int parse_into(train_args *a, int argc, char **argv, int *help)
{
    for (int i = 1; i < argc; ++i) {
        if (help && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
            usage();
            *help = 1;
            return 0;
        }
        const int taken = take(a, argc, argv, &i);
        if (taken < 0)
            return 1;
        if (taken == 0)
            return clnet_cli_unknown("train", argv[i], known_names());
    }
    return 0;
}

int clnet_cli_train_parse(settings *s, int argc, char **argv, int *help)
{
    args_init(&s->a);
    *help = 0;
    return parse_into(&s->a, argc, argv, help);
}

/* ---- the note: the run's arguments, paths made absolute ---- */

/* path as an absolute path (malloc'd); "idx:" and "cifar:" prefixes kept. */
static char *absolute(const char *path)
{
    const char *prefix = "";
    if (strncmp(path, "idx:", 4) == 0 || strncmp(path, "cifar:", 6) == 0) {
        prefix = path[0] == 'i' ? "idx:" : "cifar:";
        path += strlen(prefix);
    }
    char cwd[PATH_MAX] = "", *out = NULL;
    char *real = realpath(path, NULL);
    const char *base = real ? real : path;
    const int relative = !real && path[0] != '/' && getcwd(cwd, sizeof cwd);
    const size_t len = strlen(prefix) + strlen(cwd) + strlen(base) + 2;
    if ((out = malloc(len)) != NULL)
        snprintf(out, len, "%s%s%s%s", prefix, relative ? cwd : "", relative ? "/" : "", base);
    free(real);
    return out;
}

static int add_arg(cJSON *list, const char *text)
{
    return text && cJSON_AddItemToArray(list, cJSON_CreateString(text));
}

/* {"clnet_train": 1, "args": [...]}: every option given, with absolute paths, so the
 * same command line can be parsed again from anywhere. The checkpoint's own path and
 * --resume are left out. */
static char *make_note(const settings *s)
{
    const train_args *a = &s->a;
    cJSON *root = cJSON_CreateObject(), *list = NULL;
    int ok = root && cJSON_AddNumberToObject(root, "clnet_train", 1) &&
             (list = cJSON_AddArrayToObject(root, "args")) != NULL;
    if (ok && a->model.model) {
        FILE *f = fopen(a->model.model, "rb");
        char *path = f ? absolute(a->model.model) : NULL;
        if (f)
            fclose(f);
        ok = add_arg(list, "--model") && add_arg(list, path ? path : a->model.model);
        free(path);
    }
    const clnet_zoo_options *z = &a->model.zoo;
    char v[64];
    if (ok && z->h) {
        snprintf(v, sizeof v, "%dx%dx%d", z->h, z->w, z->c);
        ok = add_arg(list, "--input") && add_arg(list, v);
    }
    if (ok && z->classes) {
        snprintf(v, sizeof v, "%d", z->classes);
        ok = add_arg(list, "--classes") && add_arg(list, v);
    }
    if (ok && z->style)
        ok = add_arg(list, "--style") && add_arg(list, z->style);
    if (ok && z->alpha > 0.0) {
        snprintf(v, sizeof v, "%.17g", z->alpha);
        ok = add_arg(list, "--alpha") && add_arg(list, v);
    }
    if (ok && z->shortcut_a)
        ok = add_arg(list, "--shortcut") && add_arg(list, "a");
    for (size_t k = 0; ok && k < COUNT(options); ++k) {
        const struct option *o = &options[k];
        const char *field = (const char *)a + o->at;
        if (strcmp(o->name, "--checkpoint") == 0 || strcmp(o->name, "--model") == 0)
            continue; /* the checkpoint is the resume's argument; the model is above */
        if (o->kind == FLAG && *(const int *)field) {
            ok = add_arg(list, o->name);
        } else if (o->kind == NUMBER && *(const double *)field >= 0.0) {
            snprintf(v, sizeof v, "%.17g", *(const double *)field);
            ok = add_arg(list, o->name) && add_arg(list, v);
        } else if (o->kind == TEXT && *(const char *const *)field) {
            const char *text = *(const char *const *)field;
            char *path = o->path ? absolute(text) : NULL;
            ok = add_arg(list, o->name) && add_arg(list, path ? path : text);
            free(path);
        }
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

int clnet_cli_train_recall(settings *s, int argc, char **argv)
{
    const char *ckpt = s->a.checkpoint;
    char err[1024] = "", *note = NULL;
    int epochs = 0;
    if (clnet_checkpoint_note(ckpt, &note, &epochs, err, sizeof err) != CLNET_OK)
        return clnet_cli_error("train", "%s", err);
    cJSON *root = note ? cJSON_Parse(note) : NULL;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "args");
    clnet_free(note);
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(root);
        /* A checkpoint without a note: the command line must say everything. */
        return 0;
    }
    const int n = cJSON_GetArraySize(list);
    char **stored = calloc((size_t)n + 2, sizeof *stored);
    int rc = stored ? 0 : clnet_cli_error("train", "out of memory");
    int k = 1;
    for (const cJSON *e = list->child; rc == 0 && e; e = e->next, ++k)
        if (!cJSON_IsString(e) || !(stored[k] = strdup(e->valuestring)))
            rc = clnet_cli_error("train", "checkpoint '%s': its note is not a list of options",
                                 ckpt);
    train_args a;
    args_init(&a);
    if (rc == 0)
        rc = parse_into(&a, k, stored, NULL);
    if (rc == 0)
        rc = parse_into(&a, argc, argv, NULL); /* this command line wins */
    cJSON_Delete(root);
    /* The recalled args point into stored: the settings keep it. */
    s->recalled = stored;
    s->n_recalled = k;
    if (rc == 0) {
        a.resume = 1;
        a.checkpoint = ckpt;
        s->a = a;
        printf("Resuming %s after epoch %d\n", ckpt, epochs);
    }
    return rc;
}

void clnet_cli_train_free(settings *s)
{
    for (int i = 0; s->recalled && i < s->n_recalled; ++i)
        free(s->recalled[i]);
    free(s->recalled);
    cJSON_free(s->note);
    free(s->history);
}

/* ---- defaults ---- */

/* The learning rate when --lr is not given. SGD: 0.1 per 256 images (Goyal et al.,
 * "Accurate, Large Minibatch SGD", the torchvision ResNet recipe), so 0.0125 at batch
 * 32, where 0.05 sent ResNet-50 to a loss of 1e20; Adam and RMSprop: Keras's 0.001 at
 * batch 32, scaled by the square root of the batch. Fine-tuning a saved model starts
 * from a tenth, unless only the last layers train (--freeze). */
static double default_lr(const settings *s, int adaptive)
{
    const double batch = s->fit.batch;
    double lr = adaptive ? 1e-3 * sqrt(batch / 32.0) : 0.1 * batch / 256.0;
    if (s->a.from && s->freeze < 0)
        lr /= 10.0;
    return lr;
}

int clnet_cli_train_settle(settings *s, int train_images)
{
    const train_args *a = &s->a;
    clnet_fit_options *f = &s->fit;
    f->epochs = a->epochs >= 0 ? (int)a->epochs : 10;
    f->batch = a->batch >= 0 ? (int)a->batch : 32;
    f->seed = a->seed >= 0 ? (uint64_t)a->seed : 1;
    f->augment = a->augment;
    f->workers = a->workers >= 0 ? (int)a->workers : 0;
    clnet_augment *g = &s->aug;
    memset(g, 0, sizeof *g);
    g->scale_min = a->random_resized_crop > 0 ? (float)a->random_resized_crop : 0.0f;
    g->horizontal_flip = a->flip;
    g->brightness = g->contrast = g->saturation =
        a->color_jitter > 0 ? (float)a->color_jitter : 0.0f;
    g->rotation = a->rotation > 0 ? (float)a->rotation : 0.0f;
    g->translate = a->translation > 0 ? (float)a->translation : 0.0f;
    f->aug = g->scale_min > 0.0f || g->horizontal_flip || g->brightness > 0.0f ||
                     g->rotation > 0.0f || g->translate > 0.0f
                 ? g
                 : NULL;
    f->label_smoothing = a->label_smoothing >= 0 ? (float)a->label_smoothing : 0.0f;
    f->patience = a->patience >= 0 ? (int)a->patience : 0;
    f->min_delta = a->min_delta >= 0 ? (float)a->min_delta : 0.0f;
    f->restore_best = f->patience > 0;
    f->keep_bn_statistics = a->no_bn_update;
    f->sync_bn = a->sync_bn;
    const char *opt = a->optimizer ? a->optimizer : "sgd";
    clnet_optimizer_options *o = &f->optimizer;
    if (clnet_optimizer_kind_parse(opt, &o->kind) != CLNET_OK)
        return clnet_cli_error("train", "--optimizer: unknown '%s'", opt);
    const int adam = o->kind == CLNET_OPT_ADAM, rms = o->kind == CLNET_OPT_RMSPROP;
    static const clnet_schedule_kind kinds[] = {CLNET_LR_CONSTANT, CLNET_LR_STEP, CLNET_LR_COSINE,
                                                CLNET_LR_ONECYCLE};
    const char *sched = a->schedule ? a->schedule : "cosine";
    for (int k = 0; k < (int)COUNT(kinds); ++k)
        if (strcmp(sched, choices[1][k + 1]) == 0)
            f->schedule.kind = kinds[k];
    const int onecycle = f->schedule.kind == CLNET_LR_ONECYCLE;
    /* SGD: momentum 0.9 (Nesterov), 0.95 cycling down to 0.85 with onecycle (PyTorch's
     * OneCycleLR); RMSprop: Keras's 0; Adam has none (onecycle cycles its beta1). */
    o->momentum = adam               ? 0.0f
                  : a->momentum >= 0 ? (float)a->momentum
                  : rms              ? 0.0f
                  : onecycle         ? 0.95f
                                     : 0.9f;
    o->nesterov = o->kind == CLNET_OPT_SGD && !a->no_nesterov && o->momentum > 0.0f;
    if (adam && a->momentum >= 0)
        return clnet_cli_error("train", "--momentum applies to sgd and rmsprop, not adam");
    o->weight_decay = a->weight_decay >= 0 ? (float)a->weight_decay : adam || rms ? 0.0f : 5e-4f;
    o->decoupled = a->adamw;
    if (a->adamw && o->kind == CLNET_OPT_SGD)
        return clnet_cli_error("train", "--adamw (decoupled weight decay) applies to adam and "
                                        "rmsprop");
    const double lr = a->lr >= 0 ? a->lr : default_lr(s, adam || rms);
    f->schedule.lr = (float)lr;
    /* onecycle: PyTorch's final rate, lr / 25 / 1e4 */
    f->schedule.min_lr = (float)(onecycle ? lr / 25e4 : lr * 1e-3);
    const int per_epoch = (train_images + f->batch - 1) / f->batch;
    const int64_t total = (int64_t)per_epoch * f->epochs;
    /* Warm-up: the first epoch, but at most a fifth of the run and at least 5% of it. */
    int64_t warm = per_epoch < total / 5 ? per_epoch : total / 5;
    warm = warm < total / 20 ? total / 20 : warm;
    f->schedule.warmup_steps = a->warmup >= 0 ? (int)a->warmup : onecycle ? 0 : (int)warm;
    printf("Optimizer %s, learning rate %.3g%s, %s schedule, %d warm-up steps, batch %d\n", opt, lr,
           a->lr >= 0                 ? ""
           : a->from && s->freeze < 0 ? " (the default for fine-tuning)"
                                      : " (the default at this batch size)",
           sched, f->schedule.warmup_steps, f->batch);
    s->note = make_note(s);
    f->note = s->note;
    return s->note ? 0 : clnet_cli_error("train", "out of memory");
}
