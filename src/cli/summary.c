/* summary.c - `clnet summary MODEL`: the Keras-style table of a zoo model or a model spec
 * file: layers, output shapes, parameters (total, trainable, non-trainable as Keras counts
 * them) and multiply-adds. MODEL: model_arg.c. Tests: tests/cli/test_cli.sh. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int clnet_cli_summary(int argc, char **argv)
{
    clnet_cli_model m = {NULL, {0, 0, 0, 0, NULL, 0.0, 0}};
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(
                "usage: clnet summary MODEL [--input HxWxC] [--classes N] [--style keras|torch]\n"
                "                     [--alpha A] [--shortcut a|b]\n\n"
                "Prints the layers of MODEL with output shapes, parameter counts as Keras\n"
                "reports them (batch-norm statistics are non-trainable parameters) and\n"
                "multiply-adds.\n\n%s",
                clnet_cli_model_usage);
            return 0;
        }
        const int taken = clnet_cli_model_arg("summary", argc, argv, &i, &m);
        if (taken < 0)
            return 1;
        static const char *const known[] = {CLNET_CLI_MODEL_OPTIONS, "--help", NULL};
        if (!taken)
            return clnet_cli_unknown("summary", argv[i], known);
    }
    const char *title = NULL;
    clnet_graph *g = clnet_cli_model_build("summary", &m, &title);
    if (!g)
        return 1;
    char *table = NULL;
    clnet_status st = clnet_graph_summary(g, title, &table);
    clnet_graph_destroy(g);
    if (st != CLNET_OK)
        return clnet_cli_error("summary", "%s", clnet_status_string(st));
    fputs(table, stdout);
    clnet_free(table);
    return 0;
}
