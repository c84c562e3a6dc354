/* train.c - `clnet train`: a zoo model or a spec trained on an image folder, idx or
 * CIFAR data (clnet_fit), with a Keras-like progress line, a checkpoint every epoch
 * and the model file at the end. Tests: tests/cli/test_cli.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet train --model MODEL --data SOURCE --out FILE.safetensors [options]\n\n"
            "Trains MODEL (a zoo name or a spec file) on SOURCE: an image folder (one\n"
            "sub-folder per class), idx:DIR (MNIST / Fashion-MNIST) or cifar:DIR (CIFAR-10).\n"
            "A checkpoint is written after every epoch (FILE.ckpt unless --checkpoint);\n"
            "--resume continues from it exactly where it stopped.\n\n"
            "options:\n"
            "  --epochs N           passes over the data (default 10)\n"
            "  --batch N            images per step (default 32)\n"
            "  --optimizer sgd|adam (default sgd: momentum 0.9, Nesterov)\n"
            "  --lr X               base learning rate (default 0.05 sgd, 0.001 adam)\n"
            "  --momentum X         SGD momentum (default 0.9); --no-nesterov\n"
            "  --weight-decay X     (default 5e-4 sgd, 0 adam); --adamw decouples it\n"
            "  --schedule S         constant, step or cosine (default cosine)\n"
            "  --warmup N           linear warm-up steps (default 0)\n"
            "  --augment            random crops and horizontal flips\n"
            "  --label-smoothing X  (default 0)\n"
            "  --val F              fraction held out for validation (default 0.1; 0: none)\n"
            "  --no-normalize       feed pixels in [0, 1] (default: per-channel mean/std)\n"
            "  --seed S             shuffling, augmentation, initialization (default 1)\n"
            "  --checkpoint FILE    where checkpoints go (default FILE.safetensors.ckpt)\n"
            "  --resume [CKPT]      continue from the checkpoint (CKPT: its path)\n"
            "  --plot FILE.png      chart of the loss and accuracy per epoch, after the run\n"
            "  --from BASE          fine-tune a saved model (instead of --model): its classifier\n"
            "                       head is replaced when the data has other classes\n"
            "  --freeze N           train only the last N layers that have weights\n"
            "  --device N|NAME      --class dgpu|igpu|cpu\n"
            "%s"
            "  (--input also resizes the data)\n",
            clnet_cli_model_usage);
}

typedef struct settings {
    clnet_cli_model model;
    const char *data, *out, *checkpoint, *device, *cls, *from;
    int freeze; /* -1: none */
    clnet_fit_options fit;
    double val;
    int normalize, nesterov, adamw, tty;
    float lr, momentum, weight_decay;
    /* --plot: the end-of-epoch loss, accuracy, val_loss and val_accuracy, history_len
     * (the run's epochs) each, NAN for epochs not run here (before a resume); figures
     * up to epoch history_epochs were seen. */
    const char *plot;
    double *history;
    int history_len, history_epochs;
} settings;

static void record(settings *s, const clnet_progress *p)
{
    const size_t n = (size_t)p->epochs;
    if (!s->plot || !p->end_of_epoch || p->epoch < 0 || p->epoch >= p->epochs)
        return;
    if (!s->history && (s->history = malloc(4 * n * sizeof *s->history)) != NULL) {
        for (size_t i = 0; i < 4 * n; ++i)
            s->history[i] = NAN;
        s->history_len = p->epochs;
    }
    if (!s->history || s->history_len != p->epochs)
        return;
    double *h = s->history + p->epoch;
    h[0] = p->loss;
    h[n] = p->accuracy;
    h[2 * n] = p->val_loss;
    h[3 * n] = p->val_accuracy;
    s->history_epochs = p->epoch + 1 > s->history_epochs ? p->epoch + 1 : s->history_epochs;
}

/* Writes the --plot chart of the epochs seen (also after a failed run); returns rc, or
 * 1 when the chart cannot be written. */
static int write_plot(const settings *s, const char *title, int rc)
{
    const int n = s->history_len;
    const double *h = s->history;
    char heading[512];
    snprintf(heading, sizeof heading, "%s on %s", title ? title : "model", s->data);
    const clnet_status st =
        clnet_plot_history(s->plot, h, h + n, h + 2 * n, h + 3 * n, s->history_epochs, heading);
    if (st != CLNET_OK)
        return clnet_cli_error("train", "cannot write the chart %s: %s", s->plot,
                               clnet_status_string(st));
    printf("Wrote %s\n", s->plot);
    return rc;
}

static int progress(void *user, const clnet_progress *p)
{
    settings *s = user;
    record(s, p);
    const int width = 30, done = p->batches ? p->batch * width / p->batches : width;
    if (p->batch == 1 && !p->end_of_epoch)
        printf("Epoch %d/%d\n", p->epoch + 1, p->epochs);
    /* Not a terminal: a line every tenth of the epoch instead of a redrawn bar. */
    const int step = p->batches >= 10 ? p->batches / 10 : 1;
    if (!p->end_of_epoch && !s->tty && p->batch % step != 0)
        return 0;
    char bar[64];
    for (int i = 0; i < width; ++i)
        bar[i] = i < done ? '=' : i == done ? '>' : '.';
    bar[width] = '\0';
    printf("%s%*d/%d [%s] - ", s->tty ? "\r" : "", 6, p->batch, p->batches, bar);
    if (p->end_of_epoch)
        printf("%.0fs", p->epoch_s);
    else
        printf("ETA: %.0fs", p->eta_s);
    printf(" - loss: %.4f - accuracy: %.4f", p->loss, p->accuracy);
    if (p->end_of_epoch && !isnan(p->val_loss))
        printf(" - val_loss: %.4f - val_accuracy: %.4f", p->val_loss, p->val_accuracy);
    printf(" - %.0f img/s - device busy %.0f%% - lr %.3g%s", p->images_per_s,
           100.0 * p->device_busy, p->lr, s->tty && !p->end_of_epoch ? "   " : "\n");
    fflush(stdout);
    return 0;
}

/* The value of option name when argv[*i] is it (advancing *i), else NULL; *bad is set
 * when the value is missing. */
static const char *value(const char *name, int argc, char **argv, int *i, int *bad)
{
    if (strcmp(argv[*i], name) != 0)
        return NULL;
    if (*i + 1 >= argc) {
        clnet_cli_error("train", "%s needs a value (see --help)", name);
        *bad = 1;
        return NULL;
    }
    return argv[++*i];
}

/* v as a number in [lo, hi], or NAN (after printing why). */
static double number(const char *name, const char *v, double lo, double hi)
{
    char *end = NULL;
    const double x = strtod(v, &end);
    if (end == v || *end || !(x >= lo && x <= hi)) {
        clnet_cli_error("train", "%s: expected a number from %g to %g, got '%s'", name, lo, hi, v);
        return NAN;
    }
    return x;
}

/* Parses one option; returns 1 when taken, -1 on error, 0 when unknown. */
static int option(settings *s, int argc, char **argv, int *i)
{
    int bad = 0;
    const char *v = NULL;
    const char **text[] = {&s->model.model, &s->data, &s->out,  &s->checkpoint,
                           &s->device,      &s->cls,  &s->from, &s->plot};
    static const char *const texts[] = {"--model",  "--data",  "--out",  "--checkpoint",
                                        "--device", "--class", "--from", "--plot"};
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; ++k)
        if ((v = value(texts[k], argc, argv, i, &bad)) != NULL || bad) {
            *text[k] = v;
            return bad ? -1 : 1;
        }
    struct {
        const char *name;
        double lo, hi;
    } nums[] = {{"--epochs", 1, 1e6},
                {"--batch", 1, 1 << 16},
                {"--lr", 0, 10},
                {"--momentum", 0, 0.999},
                {"--weight-decay", 0, 1},
                {"--warmup", 0, 1e9},
                {"--label-smoothing", 0, 0.99},
                {"--val", 0, 0.9},
                {"--seed", 0, 1e18},
                {"--freeze", 0, 1e6}};
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; ++k) {
        if ((v = value(nums[k].name, argc, argv, i, &bad)) == NULL) {
            if (bad)
                return -1;
            continue;
        }
        const double x = number(nums[k].name, v, nums[k].lo, nums[k].hi);
        if (isnan(x))
            return -1;
        switch (k) {
        case 0:
            s->fit.epochs = (int)x;
            break;
        case 1:
            s->fit.batch = (int)x;
            break;
        case 2:
            s->lr = (float)x;
            break;
        case 3:
            s->momentum = (float)x;
            break;
        case 4:
            s->weight_decay = (float)x;
            break;
        case 5:
            s->fit.schedule.warmup_steps = (int)x;
            break;
        case 6:
            s->fit.label_smoothing = (float)x;
            break;
        case 7:
            s->val = x;
            break;
        case 8:
            s->fit.seed = (uint64_t)x;
            break;
        default:
            s->freeze = (int)x;
            break;
        }
        return 1;
    }
    if ((v = value("--optimizer", argc, argv, i, &bad)) != NULL) {
        if (strcmp(v, "sgd") != 0 && strcmp(v, "adam") != 0)
            return clnet_cli_error("train", "--optimizer: expected sgd or adam, got '%s'", v), -1;
        s->fit.optimizer.kind = v[0] == 'a' ? CLNET_OPT_ADAM : CLNET_OPT_SGD;
        return 1;
    }
    if ((v = value("--schedule", argc, argv, i, &bad)) != NULL) {
        static const char *const kinds[] = {"constant", "step", "cosine"};
        for (int k = 0; k < 3; ++k)
            if (strcmp(v, kinds[k]) == 0) {
                s->fit.schedule.kind = (clnet_schedule_kind)k;
                return 1;
            }
        return clnet_cli_error("train",
                               "--schedule: expected constant, step or cosine, got "
                               "'%s'",
                               v),
               -1;
    }
    if (bad)
        return -1;
    struct {
        const char *name;
        int *flag, set;
    } flags[] = {{"--augment", &s->fit.augment, 1},
                 {"--resume", &s->fit.resume, 1},
                 {"--adamw", &s->adamw, 1},
                 {"--no-nesterov", &s->nesterov, 0},
                 {"--no-normalize", &s->normalize, 0}};
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; ++k)
        if (strcmp(argv[*i], flags[k].name) == 0) {
            *flags[k].flag = flags[k].set;
            /* --resume CKPT: an optional path (anything not an option) names the checkpoint. */
            if (flags[k].flag == &s->fit.resume && *i + 1 < argc && argv[*i + 1][0] != '-')
                s->checkpoint = argv[++*i];
            return 1;
        }
    return 0;
}

/* Opens the training data at h x w x c (0: its own size), printing the reason on error. */
static clnet_dataset *open_data(const char *source, int h, int w, int c)
{
    const clnet_dataset_options o = {
        .h = h, .w = w, .c = c, .log = clnet_cli_log, .log_user = (void *)"train"};
    char err[1024] = "";
    clnet_dataset *d = NULL;
    if (clnet_dataset_open(source, "train", &o, &d, err, sizeof err) != CLNET_OK)
        clnet_cli_error("train", "%s", err);
    return d;
}

/* Data and graph agree: a spec dictates the image size; a zoo model is built for the
 * data's image size and its classes. */
static int prepare(settings *s, clnet_dataset **data, clnet_graph **g, const char **title)
{
    clnet_zoo_options *z = &s->model.zoo;
    int is_zoo = 0;
    for (const char *const *n = clnet_zoo_names(); *n; ++n)
        is_zoo |= strcmp(*n, s->model.model) == 0;
    if (!is_zoo) {
        if (!(*g = clnet_cli_model_build("train", &s->model, title)))
            return 1;
        const clnet_shape in = clnet_graph_layer_shape(*g, 0);
        return (*data = open_data(s->data, in.h, in.w, in.c)) ? 0 : 1;
    }
    if (!(*data = open_data(s->data, z->h, z->w, z->c)))
        return 1;
    const clnet_shape img = clnet_dataset_image_shape(*data);
    z->h = img.h;
    z->w = img.w;
    z->c = img.c;
    z->classes = clnet_dataset_class_count(*data);
    return (*g = clnet_cli_model_build("train", &s->model, title)) ? 0 : 1;
}

/* --from: the saved base model on ctx with its head replaced when the data has another
 * number of classes; the data opened at the base's input size. */
static int fine_tune_base(settings *s, clnet_context *ctx, clnet_dataset **data, clnet_model **m)
{
    clnet_model *base = NULL;
    if (clnet_model_load(ctx, s->from, NULL, &base) != CLNET_OK)
        return clnet_cli_error("train", "%s", clnet_context_error(ctx));
    const clnet_graph *g = clnet_model_graph(base);
    const clnet_shape in = clnet_graph_layer_shape(g, 0);
    const int classes = clnet_graph_layer_shape(g, clnet_graph_layer_count(g) - 1).c;
    if (!(*data = open_data(s->data, in.h, in.w, in.c))) {
        clnet_model_destroy(base);
        return 1;
    }
    const int want = clnet_dataset_class_count(*data);
    if (want == classes) {
        *m = base;
        return 0;
    }
    printf("Replacing the %d-class head of %s with a %d-class one\n", classes, s->from, want);
    const clnet_status st = clnet_model_replace_head(base, want, s->fit.seed, m);
    clnet_model_destroy(base);
    return st == CLNET_OK ? 0 : clnet_cli_error("train", "%s", clnet_context_error(ctx));
}

/* Labels from the data, normalization from the training part (a fine-tuned base keeps
 * the normalization it was trained with). */
static int describe_model(const settings *s, clnet_model *m, const clnet_dataset *all,
                          const clnet_dataset *train, clnet_context *ctx)
{
    const int n = clnet_dataset_class_count(all);
    const char **names = malloc((size_t)n * sizeof *names);
    if (!names)
        return clnet_cli_error("train", "out of memory");
    for (int k = 0; k < n; ++k)
        names[k] = clnet_dataset_class_name(all, k);
    clnet_status st = clnet_model_set_labels(m, names, n);
    free(names);
    float mean[4] = {0, 0, 0, 0}, std[4] = {1, 1, 1, 1};
    const int c = clnet_dataset_image_shape(all).c;
    if (st == CLNET_OK && s->normalize && c <= 4 && !s->from)
        st = clnet_dataset_stats(train, mean, std);
    if (st == CLNET_OK && c <= 4 && !s->from)
        st = clnet_model_set_normalization(m, mean, std, c);
    return st == CLNET_OK ? 0 : clnet_cli_error("train", "%s", clnet_context_error(ctx));
}

int clnet_cli_train(int argc, char **argv)
{
    settings s;
    memset(&s, 0, sizeof s);
    s.fit.epochs = 10;
    s.fit.batch = 32;
    s.fit.seed = 1;
    s.fit.schedule.kind = CLNET_LR_COSINE;
    s.val = 0.1;
    s.normalize = s.nesterov = 1;
    s.lr = s.weight_decay = -1.0f;
    s.freeze = -1;
    s.momentum = 0.9f;
    s.tty = isatty(STDOUT_FILENO);
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        int taken = option(&s, argc, argv, &i);
        if (taken == 0)
            taken = clnet_cli_model_arg("train", argc, argv, &i, &s.model);
        if (taken < 0)
            return 1;
        if (taken == 0)
            return clnet_cli_error("train", "unexpected argument '%s' (see --help)", argv[i]);
    }
    if ((!s.model.model && !s.from) || !s.data || !s.out)
        return clnet_cli_error("train", "--model (or --from), --data and --out are needed (see "
                                        "--help)");
    const int adam = s.fit.optimizer.kind == CLNET_OPT_ADAM;
    s.fit.optimizer.momentum = adam ? 0.0f : s.momentum;
    s.fit.optimizer.nesterov = !adam && s.nesterov && s.momentum > 0.0f;
    s.fit.optimizer.weight_decay = s.weight_decay >= 0.0f ? s.weight_decay : adam ? 0.0f : 5e-4f;
    s.fit.optimizer.decoupled = s.adamw;
    s.fit.schedule.lr = s.lr >= 0.0f ? s.lr : adam ? 1e-3f : 0.05f;
    s.fit.schedule.min_lr = s.fit.schedule.lr * 1e-3f;
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", s.out);
    s.fit.checkpoint = s.checkpoint ? s.checkpoint : ckpt;
    s.fit.progress = progress;
    s.fit.user = &s;

    clnet_dataset *all = NULL, *train = NULL, *val = NULL;
    clnet_graph *g = NULL;
    clnet_context *ctx = NULL;
    clnet_model *m = NULL;
    const char *title = NULL;
    int rc = 0;
    if (s.from) {
        title = s.from;
        if (!(ctx = clnet_cli_context("train", s.device, s.cls)))
            rc = 1;
        else
            rc = fine_tune_base(&s, ctx, &all, &m);
    } else {
        rc = prepare(&s, &all, &g, &title);
    }
    if (rc == 0 && s.val > 0.0 &&
        clnet_dataset_split(all, s.val, s.fit.seed, &train, &val) != CLNET_OK)
        rc = clnet_cli_error("train", "cannot split the data for validation");
    if (rc == 0 && !ctx && !(ctx = clnet_cli_context("train", s.device, s.cls)))
        rc = 1;
    const clnet_model_options mo = {s.fit.seed, 0, 0};
    if (rc == 0 && !m && clnet_model_create(ctx, g, &mo, &m) != CLNET_OK)
        rc = clnet_cli_error("train", "%s: %s", title, clnet_context_error(ctx));
    if (rc == 0)
        rc = describe_model(&s, m, all, train ? train : all, ctx);
    int64_t trainable = 0;
    if (rc == 0 && s.freeze >= 0 && clnet_model_freeze(m, s.freeze, &trainable) == CLNET_OK)
        printf("Training the last %d layers with weights: %lld parameters\n", s.freeze,
               (long long)trainable);
    if (rc == 0) {
        const clnet_shape img = clnet_dataset_image_shape(all);
        printf("Training %s on %d images of %dx%dx%d in %d classes (%d for validation), %s\n",
               title, clnet_dataset_size(train ? train : all), img.h, img.w, img.c,
               clnet_dataset_class_count(all), val ? clnet_dataset_size(val) : 0,
               clnet_context_device(ctx)->name);
        if (clnet_fit(m, train ? train : all, val, &s.fit) != CLNET_OK)
            rc = clnet_cli_error("train", "%s", clnet_context_error(ctx));
    }
    if (rc == 0 && clnet_model_save(m, s.out) != CLNET_OK)
        rc = clnet_cli_error("train", "%s", clnet_context_error(ctx));
    if (rc == 0)
        printf("Saved %s (checkpoint %s)\n", s.out, s.fit.checkpoint);
    if (s.history_epochs > 0)
        rc = write_plot(&s, title, rc);
    free(s.history);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
    clnet_dataset_destroy(train);
    clnet_dataset_destroy(val);
    clnet_dataset_destroy(all);
    return rc;
}
