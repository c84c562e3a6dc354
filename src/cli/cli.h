/* cli.h - the clnet command's subcommands (one file each in src/cli/). The CLI
 * uses only the public header. */
#ifndef CLNET_CLI_H
#define CLNET_CLI_H

#include "clnet.h"

int clnet_cli_devices(int argc, char **argv);
int clnet_cli_selftest(int argc, char **argv);
int clnet_cli_summary(int argc, char **argv);
int clnet_cli_spec(int argc, char **argv);
int clnet_cli_graph(int argc, char **argv);
int clnet_cli_plan(int argc, char **argv);
int clnet_cli_train(int argc, char **argv);
int clnet_cli_eval(int argc, char **argv);
int clnet_cli_predict(int argc, char **argv);
int clnet_cli_convert(int argc, char **argv);
int clnet_cli_bench(int argc, char **argv);
int clnet_cli_bench_device(int argc, char **argv);
int clnet_cli_bench_model(int argc, char **argv);
int clnet_cli_bench_compare(int argc, char **argv);
int clnet_cli_bench_data(int argc, char **argv);
int clnet_cli_tune(int argc, char **argv);
int clnet_cli_ops(int argc, char **argv);
/* `clnet bench model --startup` (bench_startup.c): a cold and a warm `clnet predict`
 * of m (saved to a temporary file) as new processes; prints the times. 0 or 1. */
int clnet_cli_bench_startup(clnet_context *ctx, clnet_model *m, const char *device, const char *cls,
                            int json);

/* Prints s to stdout as a JSON string (quotes, backslashes and control characters
 * escaped). */
void clnet_cli_json_string(const char *s);

/* A loss or accuracy for people (main.c): 4 decimals, or an exponent when they would hide
 * it (1.268e+30, 3.200e-07); into buf (len bytes), returned. */
const char *clnet_cli_figure(char *buf, size_t len, double x);

/* --center-crop F (main.c): v as a fraction in [0, 1] into *out; 0, or 1 after saying
 * what is wrong. The help line for it is CLNET_CLI_CENTER_CROP_HELP. */
int clnet_cli_center_crop(const char *cmd, const char *v, float *out);
#define CLNET_CLI_CENTER_CROP_HELP                                                              \
    "  --center-crop F      resize the centre F of each image, aspect kept (0.875:\n"        \
    "                       torchvision's Resize + CenterCrop eval); 0: whole image\n"

/* A clnet_log_fn printing "clnet <user as const char *cmd>: <msg>" to stderr for levels
 * 0..2: the datasets' skipped images by path, empty classes, the summary line. */
void clnet_cli_log(void *cmd, int level, const char *msg);
/* From now on clnet_cli_log prints errors and warnings only (the ranks of an MPI run
 * other than 0, whose summaries rank 0 prints). */
void clnet_cli_log_quiet(void);

/* The options of a plan on a device (plan.c), shared by `plan` and `graph --plan`. */
typedef struct clnet_cli_plan_args {
    const char *device, *cls;
    int batch, training;
} clnet_cli_plan_args;

/* Takes --batch N, --training, --device D and --class C as clnet_cli_model_arg does. */
int clnet_cli_plan_arg(const char *cmd, int argc, char **argv, int *i, clnet_cli_plan_args *a);
/* g put on the device and planned: the plan table (with the other mode's memory) or,
 * with dot, its DOT into *text (malloc'd, free()). Prints errors; returns 0 or 1. */
int clnet_cli_plan_write(const char *cmd, const clnet_graph *g, const char *title,
                         const clnet_cli_plan_args *a, int dot, char **text);

/* A context on --device / --class (either may be NULL); prints the error and returns
 * NULL on failure. */
clnet_context *clnet_cli_context(const char *cmd, const char *device, const char *cls);

/* The MODEL argument shared by summary, graph and plan: a zoo name or a spec file, with
 * --input HxWxC, --classes N, --style keras|torch, --alpha A, --shortcut a|b
 * (implemented in model_arg.c). */
typedef struct clnet_cli_model {
    const char *model; /* zoo name or spec file path; NULL until given */
    clnet_zoo_options zoo;
} clnet_cli_model;

/* Does path end in suffix (any case); does it name a Keras file (.h5, .hdf5, .keras, TF.js
 * .json), which the MODEL argument and convert import. */
int clnet_cli_ends_with(const char *path, const char *suffix);
int clnet_cli_is_keras(const char *path);

/* The option lines for a command's --help. */
extern const char clnet_cli_model_usage[];
/* Takes argv[*i] (and its value, advancing *i) when it is MODEL or a model option:
 * returns 1 when taken, 0 when argv[*i] is not a model argument, -1 after printing an
 * error for a bad value. */
int clnet_cli_model_arg(const char *cmd, int argc, char **argv, int *i, clnet_cli_model *m);
/* Is m->model a spec file (a readable file, or a name that looks like a path) rather
 * than a zoo name? */
int clnet_cli_model_is_spec(const clnet_cli_model *m);
/* Builds the graph: a spec file when m->model names a readable file, else a zoo model.
 * Prints the error (file, line, layer) and returns NULL on failure. *title gets a name
 * for tables (borrowed from m->model). */
clnet_graph *clnet_cli_model_build(const char *cmd, const clnet_cli_model *m, const char **title);

/* An argument a command does not take (suggest.c), for every subcommand's final else:
 *
 *     static const char *const known[] = {"--epochs", "--batch", "--lr", ..., NULL};
 *     ...
 *     else
 *         return clnet_cli_unknown("train", argv[i], known);
 *
 * known: the command's options, NULL-terminated (CLNET_CLI_MODEL_OPTIONS and
 * CLNET_CLI_PLAN_OPTIONS list the shared ones). Prints "clnet <cmd>: unexpected argument
 * '--batch-size' (did you mean --batch?)" when an option is close to a known one (other
 * tools' names such as --batch-size, --learning-rate, --epoch, --output; a known option
 * plus a suffix; one or two typos), else "... (see --help)". "--opt=value" is matched
 * on --opt; a known option reaching it (a valued option without its value) says so.
 * Returns 2, the exit status of a usage error. */
int clnet_cli_unknown(const char *cmd, const char *arg, const char *const *known);
/* The entry of known (NULL-terminated) arg probably means, as clnet_cli_unknown picks
 * it, or NULL. */
const char *clnet_cli_nearest(const char *arg, const char *const *known);

/* The options clnet_cli_model_arg and clnet_cli_plan_arg take, for known lists. */
#define CLNET_CLI_MODEL_OPTIONS "--input", "--classes", "--style", "--alpha", "--shortcut"
#define CLNET_CLI_PLAN_OPTIONS "--batch", "--training", "--device", "--class"
/* The terminal's width when stdout is one, else fallback. */
int clnet_cli_columns(int fallback);

/* Prints "clnet <cmd>: <msg>" to stderr; returns 1 for `return cli_error(...)`. */
int clnet_cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
