/* main.c - the clnet command: dispatches to one file per subcommand; --version. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int clnet_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "clnet %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

void clnet_cli_json_string(const char *s)
{
    putchar('"');
    for (; *s; ++s) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

const char *clnet_cli_figure(char *buf, size_t len, double x)
{
    if (!isfinite(x))
        snprintf(buf, len, "%s", isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
    else if (fabs(x) >= 1e4 || (x != 0.0 && fabs(x) < 1e-4))
        snprintf(buf, len, "%.3e", x);
    else
        snprintf(buf, len, "%.4f", x);
    return buf;
}

int clnet_cli_center_crop(const char *cmd, const char *v, float *out)
{
    char *end = NULL;
    const double f = strtod(v, &end);
    if (end == v || *end || !(f >= 0.0 && f <= 1.0))
        return clnet_cli_error(cmd,
                               "--center-crop: expected a fraction in [0, 1] (0: the whole "
                               "image), got '%s'",
                               v);
    *out = (float)f;
    return 0;
}

static int log_most = 2; /* debug lines (each file an image folder ignores) are not for users */

void clnet_cli_log_quiet(void)
{
    log_most = 1;
}

void clnet_cli_log(void *cmd, int level, const char *msg)
{
    if (level > log_most)
        return;
    fprintf(stderr, "clnet %s: %s\n", (const char *)cmd, msg);
}

/* Every subcommand once: its name, its file's entry point and the line --help shows. */
static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} commands[] = {
    {"devices", clnet_cli_devices, "list OpenCL platforms and devices, with the class clnet uses"},
    {"selftest", clnet_cli_selftest, "check every op and kernel variant against the reference"},
    {"summary", clnet_cli_summary,
     "layers, shapes, parameters and multiply-adds of a zoo model or spec"},
    {"spec", clnet_cli_spec, "the text spec of a zoo model, to edit or to keep as a file"},
    {"ops", clnet_cli_ops, "the ops a spec can use, with their keys, values and defaults"},
    {"graph", clnet_cli_graph, "a model's layers as a picture: SVG, PNG, PDF or Graphviz DOT"},
    {"plan", clnet_cli_plan, "the fused plan of a model on a device, with its memory"},
    {"convert", clnet_cli_convert,
     "an ONNX model into a clnet model file (labels, preprocessing), or out to ONNX"},
    {"train", clnet_cli_train, "train a model on an image folder, idx or CIFAR data"},
    {"eval", clnet_cli_eval, "loss, accuracy, per-class figures and confusion of a saved model"},
    {"predict", clnet_cli_predict, "the top classes of image files by a saved model"},
    {"bench", clnet_cli_bench, "what the device sustains, and what a model and its layers cost"},
    {"tune", clnet_cli_tune,
     "find and store the fastest kernels for a model's layers on the device"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: clnet <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].what);
    fprintf(f, "  %-11s %s\n", "version", "the version of clnet (also --version)");
    fprintf(f, "\nRun `clnet <command> --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("clnet %s\n", clnet_version());
        return 0;
    }
    const char *names[sizeof commands / sizeof commands[0] + 4] = {"version", "--version",
                                                                   "--help"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        names[i + 3] = commands[i].name;
    const char *near = clnet_cli_nearest(cmd, names);
    if (near)
        fprintf(stderr, "clnet: unknown command '%s' (did you mean %s?)\n\n", cmd, near);
    else
        fprintf(stderr, "clnet: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
