/* main.c - the clnet command: dispatches to one file per subcommand. */
#include <stdarg.h>
#include <stdio.h>
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

void clnet_cli_log(void *cmd, int level, const char *msg)
{
    (void)level;
    fprintf(stderr, "clnet %s: %s\n", (const char *)cmd, msg);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: clnet <command> [options]\n\n"
               "commands:\n"
               "  devices     list OpenCL platforms and devices, with the class clnet uses\n"
               "  selftest    check every op and kernel variant against the reference\n"
               "  summary     layers, shapes, parameters and multiply-adds of a zoo model or spec\n"
               "  spec        the text spec of a zoo model, to edit or to keep as a file\n"
               "  graph       a model's layers as a Graphviz DOT picture (--dot)\n"
               "  plan        the fused plan of a model on a device, with its memory\n"
               "  train       train a model on an image folder, idx or CIFAR data\n"
               "  eval        loss, accuracy, per-class figures and confusion of a saved model\n"
               "  predict     the top classes of image files by a saved model\n"
               "  bench       what the device sustains, and what a model and its layers cost\n"
               "\nRun `clnet <command> --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "devices") == 0)
        return clnet_cli_devices(argc - 1, argv + 1);
    if (strcmp(cmd, "selftest") == 0)
        return clnet_cli_selftest(argc - 1, argv + 1);
    if (strcmp(cmd, "summary") == 0)
        return clnet_cli_summary(argc - 1, argv + 1);
    if (strcmp(cmd, "spec") == 0)
        return clnet_cli_spec(argc - 1, argv + 1);
    if (strcmp(cmd, "graph") == 0)
        return clnet_cli_graph(argc - 1, argv + 1);
    if (strcmp(cmd, "plan") == 0)
        return clnet_cli_plan(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0)
        return clnet_cli_train(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0)
        return clnet_cli_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0)
        return clnet_cli_predict(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return clnet_cli_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "clnet: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
