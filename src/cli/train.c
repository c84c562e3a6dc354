/* train.c - `clnet train`: a zoo model, a spec or a saved model (--from) trained on an
 * image folder, idx or CIFAR data (clnet_fit), with progress lines, a checkpoint every
 * epoch and the model file at the end. Options and defaults: train_options.c; progress,
 * history, --plot, --log, Ctrl-C: train_report.c. Tests: tests/cli/test_cli.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train.h"

/* Opens source at h x w x c with the classes named (n of them; 0: the data's own), the
 * run's decoded cache and centre crop, printing the reason on error unless quiet. */
static clnet_dataset *open_classes(const settings *s, const char *source, int h, int w, int c,
                                   const char *const *classes, int n, int quiet)
{
    const clnet_dataset_options o = {.h = h,
                                     .w = w,
                                     .c = c,
                                     .log = clnet_cli_log,
                                     .log_user = (void *)"train",
                                     .classes = classes,
                                     .n_classes = n,
                                     .cache_dir = s->a.cache_decoded,
                                     .center_crop = s->center_crop};
    char err[1024] = "";
    clnet_dataset *d = NULL;
    if (clnet_dataset_open(source, "train", &o, &d, err, sizeof err) != CLNET_OK && !quiet)
        clnet_cli_error("train", "%s", err);
    return d;
}

static clnet_dataset *open_data(const settings *s, int h, int w, int c)
{
    return open_classes(s, s->a.data, h, w, c, NULL, 0, 0);
}

/* A zoo model is built for --input (224x224x3 by default, never an image's size) and
 * the data's classes; a spec dictates its input. The data is opened at that size. */
static int build_graph(settings *s, clnet_dataset **data, clnet_graph **g)
{
    clnet_cli_model *m = &s->a.model;
    if (clnet_cli_model_is_spec(m) || !clnet_zoo_name(m->model)) { /* a spec, or the error */
        if (!(*g = clnet_cli_model_build("train", m, &s->title)))
            return 1;
        const clnet_shape in = clnet_graph_layer_shape(*g, 0);
        return (*data = open_data(s, in.h, in.w, in.c)) ? 0 : 1;
    }
    clnet_zoo_options *z = &m->zoo;
    if (!z->h) {
        z->h = z->w = 224;
        z->c = 3;
        printf("Input 224x224x3, the zoo's default (--input HxWxC sets another)\n");
    }
    if (!(*data = open_data(s, z->h, z->w, z->c)))
        return 1;
    const int classes = clnet_dataset_class_count(*data);
    if (z->classes && z->classes != classes)
        return clnet_cli_error("train", "--classes %d, but %s has %d classes", z->classes,
                               s->a.data, classes);
    z->classes = classes;
    return (*g = clnet_cli_model_build("train", m, &s->title)) ? 0 : 1;
}

/* base rebuilt for another input size: the same layers and weights (which must not
 * depend on the input size), labels and normalization. */
static int resize_base(settings *s, clnet_context *ctx, clnet_model **base)
{
    const clnet_zoo_options *z = &s->a.model.zoo;
    const clnet_graph *g = clnet_model_graph(*base);
    const clnet_shape in = clnet_graph_layer_shape(g, 0);
    if (in.h == z->h && in.w == z->w && in.c == z->c)
        return 0;
    if (in.c != z->c)
        return clnet_cli_error("train", "--input %dx%dx%d: %s takes %d channels", z->h, z->w, z->c,
                               s->a.from, in.c);
    char *spec = NULL, *at = NULL, want[64], err[1024] = "";
    clnet_graph *resized = NULL;
    clnet_model *m = NULL;
    int rc =
        clnet_graph_to_spec(g, &spec) == CLNET_OK ? 0 : clnet_cli_error("train", "out of memory");
    snprintf(want, sizeof want, "op = input\nshape = %d, %d, %d\n", in.h, in.w, in.c);
    if (rc == 0 && !(at = strstr(spec, want)))
        rc = clnet_cli_error("train", "%s: cannot find its input layer's shape", s->a.from);
    if (rc == 0) {
        const size_t keep = (size_t)(at - spec), len = strlen(spec);
        char *text = malloc(len + 64);
        if (!text) {
            rc = clnet_cli_error("train", "out of memory");
        } else {
            snprintf(text, len + 64, "%.*sop = input\nshape = %d, %d, %d\n%s", (int)keep, spec,
                     z->h, z->w, z->c, at + strlen(want));
            if (clnet_graph_from_spec(text, s->a.from, &resized, err, sizeof err) != CLNET_OK)
                rc = clnet_cli_error("train", "%s at --input %dx%dx%d: %s", s->a.from, z->h, z->w,
                                     z->c, err);
            free(text);
        }
    }
    if (rc == 0 && clnet_model_create(ctx, resized, NULL, &m) != CLNET_OK)
        rc = clnet_cli_error("train", "%s", clnet_context_error(ctx));
    float *buf = NULL;
    for (int i = 0; rc == 0 && i < clnet_model_weight_count(m); ++i) {
        clnet_weight_info a, b;
        clnet_tensor *from = NULL, *to = NULL;
        clnet_model_weight(*base, i, &a, &from, NULL);
        clnet_model_weight(m, i, &b, &to, NULL);
        if (a.shape.n != b.shape.n || a.shape.h != b.shape.h || a.shape.w != b.shape.w ||
            a.shape.c != b.shape.c) {
            rc = clnet_cli_error("train",
                                 "--input %dx%dx%d changes the shape of layer '%s''s %s (its "
                                 "input depends on the image size): fine-tune %s at %dx%dx%d",
                                 z->h, z->w, z->c, a.layer, a.name, s->a.from, in.h, in.w, in.c);
            break;
        }
        const size_t n = clnet_tensor_count(from);
        float *grown = realloc(buf, n * sizeof *buf);
        if (!grown || clnet_tensor_read(from, grown, n) != CLNET_OK ||
            clnet_tensor_write(to, grown, n) != CLNET_OK)
            rc = clnet_cli_error("train", "copying the weights: %s",
                                 grown ? clnet_context_error(ctx) : "out of memory");
        buf = grown ? grown : buf;
    }
    free(buf);
    const int labels = rc == 0 ? clnet_model_label_count(*base) : 0;
    const char **names = labels ? malloc((size_t)labels * sizeof *names) : NULL;
    for (int k = 0; names && k < labels; ++k)
        names[k] = clnet_model_label(*base, k);
    if (rc == 0 && labels && (!names || clnet_model_set_labels(m, names, labels) != CLNET_OK))
        rc = clnet_cli_error("train", "copying the labels: %s", clnet_context_error(ctx));
    free(names);
    float mean[4], std[4];
    clnet_model_normalization(*base, mean, std);
    if (rc == 0 && in.c <= 4 && clnet_model_set_normalization(m, mean, std, in.c) != CLNET_OK)
        rc = clnet_cli_error("train", "%s", clnet_context_error(ctx));
    if (rc == 0)
        clnet_model_set_center_crop(m, clnet_model_center_crop(*base));
    clnet_free(spec);
    clnet_graph_destroy(resized);
    if (rc != 0) {
        clnet_model_destroy(m);
        return 1;
    }
    printf("Running %s at %dx%dx%d (trained at %dx%dx%d)\n", s->a.from, z->h, z->w, z->c, in.h,
           in.w, in.c);
    clnet_model_destroy(*base);
    *base = m;
    return 0;
}

/* --from: the saved base model on ctx, at --input when given, with its head replaced
 * when the data has other classes; the data opened at the base's input size. */
static int fine_tune_base(settings *s, clnet_context *ctx, clnet_dataset **data, clnet_model **m)
{
    clnet_model *base = NULL;
    if (clnet_model_load(ctx, s->a.from, NULL, &base) != CLNET_OK)
        return clnet_cli_error("train", "%s", clnet_context_error(ctx));
    const clnet_zoo_options *z = &s->a.model.zoo;
    if (z->h && resize_base(s, ctx, &base) != 0) {
        clnet_model_destroy(base);
        return 1;
    }
    const clnet_graph *g = clnet_model_graph(base);
    const clnet_shape in = clnet_graph_layer_shape(g, 0);
    const int classes = clnet_graph_layer_shape(g, clnet_graph_layer_count(g) - 1).c;
    if (s->a.center_crop < 0)
        s->center_crop = clnet_model_center_crop(base);
    /* Data whose classes are among the base's keeps its head, labelled by class name. */
    const int n = clnet_model_label_count(base);
    const char **names = n == classes ? malloc((size_t)n * sizeof *names) : NULL;
    for (int k = 0; names && k < n; ++k)
        names[k] = clnet_model_label(base, k);
    if (names)
        *data = open_classes(s, s->a.data, in.h, in.w, in.c, names, n, 1);
    free(names);
    if (*data) {
        printf("Keeping the head of %s: the classes of %s are among its %d\n", s->a.from, s->a.data,
               classes);
        *m = base;
        return 0;
    }
    if (!(*data = open_data(s, in.h, in.w, in.c))) {
        clnet_model_destroy(base);
        return 1;
    }
    const int want = clnet_dataset_class_count(*data);
    printf("Replacing the %d-class head of %s with a %d-class one for the classes of %s\n", classes,
           s->a.from, want, s->a.data);
    const clnet_status st = clnet_model_replace_head(base, want, s->fit.seed, m);
    clnet_model_destroy(base);
    return st == CLNET_OK ? 0 : clnet_cli_error("train", "%s", clnet_context_error(ctx));
}

/* d's class names (borrowed from d) in a malloc'd array, or NULL when out of memory. */
static const char **class_names(const clnet_dataset *d)
{
    const int n = clnet_dataset_class_count(d);
    const char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    for (int k = 0; names && k < n; ++k)
        names[k] = clnet_dataset_class_name(d, k);
    return names;
}

/* Labels from the data, normalization from the training part (a fine-tuned base keeps
 * the normalization it was trained with). */
static int describe_model(const settings *s, clnet_model *m, const clnet_dataset *all,
                          const clnet_dataset *train, clnet_context *ctx)
{
    const int n = clnet_dataset_class_count(all);
    const char **names = class_names(all);
    if (!names)
        return clnet_cli_error("train", "out of memory");
    clnet_status st = clnet_model_set_labels(m, names, n);
    free(names);
    float mean[4] = {0, 0, 0, 0}, std[4] = {1, 1, 1, 1};
    const int c = clnet_dataset_image_shape(all).c;
    if (st == CLNET_OK && !s->a.no_normalize && c <= 4 && !s->a.from)
        st = clnet_dataset_stats(train, mean, std);
    if (st == CLNET_OK && c <= 4 && !s->a.from)
        st = clnet_model_set_normalization(m, mean, std, c);
    if (st == CLNET_OK)
        st = clnet_model_set_center_crop(m, s->center_crop);
    return st == CLNET_OK ? 0 : clnet_cli_error("train", "%s", clnet_context_error(ctx));
}

/* The validation part: --val-data opened like the training data, with the same classes,
 * or a fraction split off the training data. */
static int validation(settings *s, clnet_dataset *all, clnet_dataset **train, clnet_dataset **val)
{
    if (s->a.val_data) { /* labelled by the training data's class names */
        const clnet_shape img = clnet_dataset_image_shape(all);
        const char **names = class_names(all);
        if (!names)
            return clnet_cli_error("train", "out of memory");
        *val = open_classes(s, s->a.val_data, img.h, img.w, img.c, names,
                            clnet_dataset_class_count(all), 0);
        free(names);
        return *val ? 0 : 1;
    }
    const double fraction = s->a.val >= 0 ? s->a.val : 0.1;
    if (fraction > 0.0 && clnet_dataset_split(all, fraction, s->fit.seed, train, val) != CLNET_OK)
        return clnet_cli_error("train", "cannot split the data for validation");
    return 0;
}

/* --class-weight auto: each class's loss weighed by n / (classes x its images). */
static int balance(settings *s, const clnet_dataset *d, float **weights)
{
    const int n = clnet_dataset_class_count(d);
    if (!(*weights = malloc((size_t)n * sizeof **weights)))
        return clnet_cli_error("train", "out of memory");
    if (clnet_dataset_class_weights(d, *weights) != CLNET_OK)
        return clnet_cli_error("train", "cannot weigh the classes of %s", s->a.data);
    printf("Class weights:");
    for (int k = 0; k < n; ++k)
        printf("%s %s %.3g", k ? "," : "", clnet_dataset_class_name(d, k), (double)(*weights)[k]);
    printf("\n");
    s->fit.class_weight = *weights;
    return 0;
}

/* Checks that need no data or device; fills the checkpoint's path. */
static int check_args(settings *s)
{
    const train_args *a = &s->a;
    if (a->from && a->model.model)
        return clnet_cli_error("train",
                               "--from %s fine-tunes a saved model and --model %s builds "
                               "a new one: give one of them",
                               a->from, a->model.model);
    if ((!a->model.model && !a->from) || !a->data || !a->out)
        return clnet_cli_error("train", "--model (or --from), --data and --out are needed (see "
                                        "--help)");
    if (a->freeze == 0)
        return clnet_cli_error("train", "--freeze 0 would train no layer: give how many of the "
                                        "last layers with weights train (--freeze 1: the "
                                        "classifier only)");
    if (a->val_data && a->val >= 0)
        return clnet_cli_error("train", "--val-data and --val both say where validation images "
                                        "come from: give one of them");
    if (a->from && a->model.model == NULL) {
        const clnet_zoo_options *z = &a->model.zoo;
        if (z->classes || z->style || z->alpha != 0.0 || z->shortcut_a)
            return clnet_cli_error("train",
                                   "--classes, --style, --alpha and --shortcut build zoo "
                                   "models; --from %s has its own (--input applies)",
                                   a->from);
    }
    if (!a->checkpoint)
        snprintf(s->ckpt, sizeof s->ckpt, "%s.ckpt", a->out);
    else if (a->checkpoint != s->ckpt)
        snprintf(s->ckpt, sizeof s->ckpt, "%s", a->checkpoint);
    s->fit.checkpoint = s->ckpt;
    s->fit.resume = a->resume;
    s->freeze = a->freeze > 0 ? (int)a->freeze : -1;
    if (!a->resume && access(s->ckpt, F_OK) == 0)
        printf("Replacing the checkpoint %s of an earlier run (--resume continues it)\n", s->ckpt);
    return 0;
}

/* What the user sees when the run stops with an error. */
static int failed(const settings *s, clnet_context *ctx, clnet_status st)
{
    clnet_cli_error("train", "%s", clnet_context_error(ctx));
    if (st == CLNET_ERR_RANK_LOST && access(s->ckpt, F_OK) == 0)
        fprintf(stderr,
                "  go on from the last checkpoint, with as many ranks as are left: "
                "mpirun -np N clnet train --resume %s\n",
                s->ckpt);
    if (st == CLNET_ERR_DIVERGED) {
        const double lr = s->fit.schedule.lr / 10.0;
        if (access(s->ckpt, F_OK) == 0)
            fprintf(stderr,
                    "  try a tenth of the learning rate from the last good epoch: clnet "
                    "train --resume %s --lr %.3g\n",
                    s->ckpt, lr);
        else
            fprintf(stderr, "  try a tenth of the learning rate: --lr %.3g\n", lr);
    }
    return 1;
}

/* Under an MPI launcher: this process joins the run's ranks (MPI initialized here),
 * only rank 0 prints, and unless --device or $CLNET_DEVICE says otherwise the device is
 * this host's GPU of the rank's local number (the first device when there is no GPU),
 * into device (len bytes). Returns 0, or 1 after saying why. */
static int join_ranks(settings *s, char *device, size_t len)
{
    if (!clnet_comm_launched())
        return 0;
    char err[1024] = "";
    if (clnet_comm_create(NULL, s->a.mpi_timeout > 0 ? s->a.mpi_timeout : 0.0, &s->comm, err,
                          sizeof err) != CLNET_OK)
        return clnet_cli_error("train", "mpirun: %s", err);
    s->rank = clnet_comm_rank(s->comm);
    s->fit.comm = s->comm;
    if (s->rank != 0 && !freopen("/dev/null", "w", stdout))
        return clnet_cli_error("train", "rank %d: cannot silence its output", s->rank);
    if (s->rank != 0)
        clnet_cli_log_quiet(); /* its skipped files still show: each rank reads its own */
    s->tty = s->tty && s->rank == 0;
    clnet_device_info *list = NULL;
    int n = 0, gpus = 0;
    if (!s->a.device && !getenv("CLNET_DEVICE") &&
        clnet_devices_list(&list, &n, err, sizeof err) == CLNET_OK) {
        for (int i = 0; i < n; ++i)
            gpus += list[i].device_class != CLNET_CLASS_CPU;
        for (int i = 0, k = 0; gpus && i < n; ++i)
            if (list[i].device_class != CLNET_CLASS_CPU &&
                k++ == clnet_comm_local_rank(s->comm) % gpus)
                snprintf(device, len, "%d", list[i].index);
        clnet_devices_free(list);
    }
    return 0;
}

int clnet_cli_train(int argc, char **argv)
{
    settings s;
    memset(&s, 0, sizeof s);
    s.tty = isatty(STDOUT_FILENO);
    s.columns = clnet_cli_columns(80);
    int help = 0, rc = clnet_cli_train_parse(&s, argc, argv, &help);
    if (rc || help) {
        clnet_cli_train_free(&s);
        return rc;
    }
    char rank_device[16] = ""; /* before anything prints: only rank 0 does */
    rc = join_ranks(&s, rank_device, sizeof rank_device);
    if (rc == 0 && s.a.resume) {
        if (!s.a.checkpoint && !s.a.out)
            rc = clnet_cli_error("train", "--resume needs the checkpoint: --resume CHECKPOINT");
        else if (!s.a.checkpoint)
            snprintf(s.ckpt, sizeof s.ckpt, "%s.ckpt", s.a.out);
        else
            snprintf(s.ckpt, sizeof s.ckpt, "%s", s.a.checkpoint);
        if (rc == 0 && access(s.ckpt, F_OK) != 0)
            rc = clnet_cli_error("train",
                                 "no checkpoint %s to resume from (train without "
                                 "--resume to start a run)",
                                 s.ckpt);
        s.a.checkpoint = s.ckpt;
        if (rc == 0)
            rc = clnet_cli_train_recall(&s, argc, argv);
    }
    if (rc == 0)
        rc = check_args(&s);
    if (rc == 0 && s.comm) /* after a resume's recalled options */
        printf("Data-parallel on %d ranks (MPI): each trains on its share of every batch%s\n",
               clnet_comm_size(s.comm),
               s.a.sync_bn ? ", batch norms over the whole batch (--sync-bn)" : "");
    else if (rc == 0 && s.a.sync_bn)
        fprintf(stderr, "train: --sync-bn: one process, not under mpirun: nothing to "
                        "synchronize\n");
    clnet_dataset *all = NULL, *train = NULL, *val = NULL;
    clnet_graph *g = NULL;
    clnet_context *ctx = NULL;
    clnet_model *m = NULL;
    if (rc == 0 &&
        !(ctx = clnet_cli_context("train", rank_device[0] ? rank_device : s.a.device, s.a.cls)))
        rc = 1;
    s.fit.seed = s.a.seed >= 0 ? (uint64_t)s.a.seed : 1;
    s.center_crop = s.a.center_crop >= 0          ? (float)s.a.center_crop
                    : s.a.random_resized_crop > 0 ? 0.875f
                                                  : 0.0f;
    if (rc == 0 && s.a.from) {
        s.title = s.a.from;
        rc = fine_tune_base(&s, ctx, &all, &m);
    } else if (rc == 0) {
        rc = build_graph(&s, &all, &g);
    }
    if (rc == 0 && s.center_crop > 0.0f)
        printf("Images resized from their centre %g (aspect kept)%s; random crops from the whole "
               "image\n",
               (double)s.center_crop, s.a.center_crop >= 0 ? "" : " (--center-crop sets another)");
    if (rc == 0)
        rc = validation(&s, all, &train, &val);
    const clnet_model_options mo = {s.fit.seed, 0, 0};
    if (rc == 0 && !m && clnet_model_create(ctx, g, &mo, &m) != CLNET_OK)
        rc = clnet_cli_error("train", "%s: %s", s.title, clnet_context_error(ctx));
    if (rc == 0)
        rc = describe_model(&s, m, all, train ? train : all, ctx);
    int64_t trainable = 0;
    if (rc == 0 && s.freeze > 0) {
        if (clnet_model_freeze(m, s.freeze, &trainable) != CLNET_OK)
            rc = clnet_cli_error("train", "%s", clnet_context_error(ctx));
        else if (trainable == 0)
            rc = clnet_cli_error("train", "--freeze %d leaves no weight to train in %s", s.freeze,
                                 s.title);
        else
            printf("Training the last %d layers with weights: %lld parameters\n", s.freeze,
                   (long long)trainable);
    }
    const clnet_dataset *fit_data = train ? train : all;
    if (rc == 0)
        rc = clnet_cli_train_settle(&s, clnet_dataset_size(fit_data));
    float *class_weight = NULL;
    if (rc == 0 && s.a.class_weight && strcmp(s.a.class_weight, "auto") == 0)
        rc = balance(&s, fit_data, &class_weight);
    if (rc == 0) {
        const clnet_shape img = clnet_dataset_image_shape(all);
        printf("Training %s on %d images of %dx%dx%d in %d classes (%d for validation), %s\n",
               s.title, clnet_dataset_size(fit_data), img.h, img.w, img.c,
               clnet_dataset_class_count(all), val ? clnet_dataset_size(val) : 0,
               clnet_context_device(ctx)->name);
        s.fit.progress = clnet_cli_train_progress;
        s.fit.user = &s;
        clnet_cli_train_sigint(1);
        if (s.comm)
            clnet_cli_train_sigterm(&s);
        const clnet_status st = clnet_fit(m, fit_data, val, &s.fit);
        clnet_cli_train_sigint(0);
        if (st != CLNET_OK)
            rc = failed(&s, ctx, st);
    }
    if (rc == 0 && s.interrupted) {
        printf("Interrupted: %s holds the finished epochs; `clnet train --resume %s` goes on\n",
               s.ckpt, s.ckpt);
        rc = 130;
    }
    const int writer = s.rank == 0; /* one writer of the run's files */
    if (rc == 0 && writer && clnet_model_save(m, s.a.out) != CLNET_OK)
        rc = clnet_cli_error("train", "%s", clnet_context_error(ctx));
    if (rc == 0)
        printf("Saved %s (checkpoint %s)\n", s.a.out, s.ckpt);
    if (writer && clnet_cli_train_write_files(&s) != 0 && rc == 0)
        rc = 1;
    if (rc == 0 && s.a.plot)
        printf("Wrote %s\n", s.a.plot);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
    clnet_dataset_destroy(train);
    clnet_dataset_destroy(val);
    clnet_dataset_destroy(all);
    free(class_weight);
    clnet_comm_destroy(s.comm);
    clnet_cli_train_free(&s);
    return rc;
}
