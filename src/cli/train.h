/* train.h - what the files of `clnet train` share: train.c (the run: data, model,
 * fit, save), train_options.c (options, defaults, the note a checkpoint keeps so that
 * `--resume CKPT` alone continues a run) and train_report.c (progress lines, history,
 * --plot, --log, Ctrl-C). Tests: tests/cli/test_cli.sh. */
#ifndef CLNET_CLI_TRAIN_H
#define CLNET_CLI_TRAIN_H

#include <signal.h>

#include "cli.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The options of a run as given (NULL / negative: not given, the default applies). */
typedef struct train_args {
    clnet_cli_model model;
    const char *data, *val_data, *out, *checkpoint, *device, *cls, *from, *plot, *log;
    const char *optimizer, *schedule, *class_weight, *cache_decoded;
    double epochs, batch, lr, momentum, weight_decay, warmup, label_smoothing, val, seed;
    double freeze, patience, min_delta, workers;
    double random_resized_crop, color_jitter, rotation, translation; /* torchvision's */
    double center_crop, mpi_timeout;
    int augment, flip, adamw, no_nesterov, no_normalize, no_bn_update, sync_bn, resume;
} train_args;

/* The run's effective settings, derived from train_args (train_options.c). */
typedef struct settings {
    train_args a;
    char *note;       /* the args as JSON, stored in the checkpoint (malloc'd) */
    char **recalled;  /* the stored arguments a resumed run's args point into (malloc'd) */
    int n_recalled;
    char ckpt[4096];  /* the checkpoint's path */
    clnet_fit_options fit;
    clnet_augment aug; /* fit.aug points here when an augmentation is asked for */
    /* The images' resize (clnet_dataset_options.center_crop): --center-crop, else a
     * fine-tuned base's, else 0.875 with --random-resized-crop (torchvision's eval
     * transform beside its training one) and 0 without; kept in the model file. */
    float center_crop;
    clnet_comm *comm; /* under mpirun: the run's ranks (fit.comm) */
    int rank;         /* 0 prints and writes the files */
    int freeze;       /* -1: none */
    int tty, columns; /* stdout is a terminal of this width (80 otherwise) */
    /* The history of end-of-epoch figures (restored ones too), for --plot and --log:
     * history[e] for epoch e, n_history of them. */
    struct epoch_row {
        double loss, accuracy, val_loss, val_accuracy, lr, seconds;
        int best;
    } *history;
    int n_history, cap_history;
    const char *title;
    int interrupted; /* the run stopped on Ctrl-C */
} settings;

/* Parses argv into s->a (1 .. argc); returns 0, or 1 after printing the error. --help
 * prints the usage and sets *help. */
int clnet_cli_train_parse(settings *s, int argc, char **argv, int *help);
/* --resume CKPT with nothing else: the run's options from the checkpoint's note, with
 * any option given on this command line on top. Returns 0 or 1 after printing why. */
int clnet_cli_train_recall(settings *s, int argc, char **argv);
/* Defaults and derived settings (learning rate, warm-up, optimizer) once the data's
 * size is known: images in an epoch. Prints what it chose. Returns 0 or 1. */
int clnet_cli_train_settle(settings *s, int train_images);
void clnet_cli_train_free(settings *s);

/* The progress callback of clnet_fit (train_report.c): progress lines, history, and the
 * --plot / --log files rewritten after every epoch. Stops on Ctrl-C. */
int clnet_cli_train_progress(void *user, const clnet_progress *p);
/* Under mpirun: SIGTERM (the launcher stopping the job when a rank fails) prints how to
 * resume from the checkpoint, then ends the process. */
void clnet_cli_train_sigterm(const settings *s);
/* Installs (on) or removes the Ctrl-C handler. */
void clnet_cli_train_sigint(int on);
/* Writes --plot and --log from the history (also after a failed or stopped run);
 * returns 0 or 1. */
int clnet_cli_train_write_files(const settings *s);

#endif
