/* graph.c - `clnet graph MODEL --dot [--output FILE]`: the layers of a zoo model or a
 * spec file as a Graphviz DOT picture (clnet_graph_to_dot, src/graph/dot.c). The model
 * argument and its options: model_arg.c. Tests: tests/cli/test_cli.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* What the graph is shown as: the layers, or (--plan) the fused plan, which needs the
 * model on a device (src/plan/describe.c draws it). Both are Graphviz DOT. */
typedef enum view { VIEW_NONE, VIEW_DOT, VIEW_PLAN } view;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet graph MODEL --dot [--plan [--training] [--batch N] [--device N|NAME]\n"
            "                   [--class C]] [--output FILE] [model options]\n\n"
            "Draws the layers of MODEL (a zoo name or a spec file) as a Graphviz DOT graph: one\n"
            "box per layer with its Keras type, key parameters (\"3x3/2, 64\"), output shape and\n"
            "parameter count, coloured by op family, and an arrow from each input to its\n"
            "user. Render it with `dot -Tsvg model.dot > model.svg`. With --plan: the fused plan\n"
            "of MODEL on the device instead, one box per fused group (its layers, kernels,\n"
            "output and buffer), as `clnet plan` lists it.\n\n"
            "options:\n"
            "  --dot              write Graphviz DOT (the only format)\n"
            "  --plan             draw the fused plan on the device instead of the layers\n"
            "  --training         with --plan: the training plan (default: inference)\n"
            "  --batch N          with --plan: images per forward (default 1)\n"
            "  --device N|NAME    with --plan: device index or name substring\n"
            "  --class C          with --plan: the kernel variants of class dgpu, igpu or cpu\n"
            "  --output FILE      write to FILE instead of standard output\n"
            "%s",
            clnet_cli_model_usage);
}

/* Writes text to path, or to standard output when path is NULL. */
static int write_text(const char *path, const char *text)
{
    if (!path)
        return fputs(text, stdout) < 0 ? clnet_cli_error("graph", "cannot write the output") : 0;
    FILE *f = fopen(path, "w");
    if (!f)
        return clnet_cli_error("graph", "cannot create %s", path);
    const int failed = fputs(text, f) < 0;
    if (fclose(f) != 0 || failed)
        return clnet_cli_error("graph", "cannot write %s", path);
    return 0;
}

int clnet_cli_graph(int argc, char **argv)
{
    clnet_cli_model m;
    memset(&m, 0, sizeof m);
    const char *output = NULL;
    view v = VIEW_NONE;
    int plan = 0;
    clnet_cli_plan_args a = {NULL, NULL, 1, 0};
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--dot") == 0) {
            v = VIEW_DOT;
        } else if (strcmp(argv[i], "--plan") == 0) {
            plan = 1;
        } else if (strcmp(argv[i], "--output") == 0 || strcmp(argv[i], "-o") == 0) {
            if (i + 1 >= argc)
                return clnet_cli_error("graph", "%s needs a file name", argv[i]);
            output = argv[++i];
        } else {
            int taken = clnet_cli_plan_arg("graph", argc, argv, &i, &a);
            if (taken == 0)
                taken = clnet_cli_model_arg("graph", argc, argv, &i, &m);
            if (taken < 0)
                return 1;
            if (taken == 0)
                return clnet_cli_error("graph", "unexpected argument '%s' (see --help)", argv[i]);
        }
    }
    if (!m.model)
        return clnet_cli_error("graph", "which model? usage: clnet graph MODEL --dot");
    if (plan)
        v = VIEW_PLAN;
    if (v == VIEW_NONE)
        return clnet_cli_error("graph", "which view? --dot writes Graphviz DOT (see --help)");
    const char *title = NULL;
    clnet_graph *g = clnet_cli_model_build("graph", &m, &title);
    if (!g)
        return 1;
    char *text = NULL;
    int failed = 0;
    if (v == VIEW_PLAN) {
        failed = clnet_cli_plan_write("graph", g, title, &a, 1, &text);
    } else {
        char *dot = NULL;
        if (clnet_graph_to_dot(g, title, &dot) != CLNET_OK || !(text = strdup(dot)))
            failed = clnet_cli_error("graph", "out of memory drawing %s", title);
        clnet_free(dot);
    }
    clnet_graph_destroy(g);
    if (failed)
        return 1;
    const int rc = write_text(output, text);
    free(text);
    return rc;
}
