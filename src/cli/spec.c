/* spec.c - `clnet spec MODEL`: the text spec of a zoo model (or a spec file rewritten),
 * which `clnet summary FILE` and clnet_graph_from_spec read back to the same graph; it
 * wrote the files in samples/models/. MODEL: model_arg.c. Tests: tests/cli/test_cli.sh. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int clnet_cli_spec(int argc, char **argv)
{
    clnet_cli_model m = {NULL, {0, 0, 0, 0, NULL, 0.0, 0}};
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: clnet spec MODEL [--input HxWxC] [--classes N] [--style keras|torch]\n"
                   "                  [--alpha A] [--shortcut a|b] > FILE\n\n"
                   "Prints the text architecture spec of MODEL (one [section] per layer), to\n"
                   "edit, or to use as a model anywhere a spec file is accepted.\n\n%s",
                   clnet_cli_model_usage);
            return 0;
        }
        const int taken = clnet_cli_model_arg("spec", argc, argv, &i, &m);
        if (taken < 0)
            return 1;
        static const char *const known[] = {CLNET_CLI_MODEL_OPTIONS, "--help", NULL};
        if (!taken)
            return clnet_cli_unknown("spec", argv[i], known);
    }
    clnet_graph *g = clnet_cli_model_build("spec", &m, NULL);
    if (!g)
        return 1;
    char *text = NULL;
    clnet_status st = clnet_graph_to_spec(g, &text);
    clnet_graph_destroy(g);
    if (st != CLNET_OK)
        return clnet_cli_error("spec", "%s", clnet_status_string(st));
    fputs(text, stdout);
    clnet_free(text);
    return 0;
}
