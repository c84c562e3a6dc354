/* graph.c - `clnet graph MODEL --dot [--output FILE]`: the layers of a zoo model or a
 * spec file as a Graphviz DOT picture (clnet_graph_to_dot, src/graph/dot.c). The model
 * argument and its options: model_arg.c. Tests: tests/cli/test_cli.sh. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* What the graph is shown as. Only DOT so far: the fused plan (--plan) needs a model on
 * a device and is drawn by `clnet plan MODEL --dot` (plan.c) until it is wired here. */
typedef enum view { VIEW_NONE, VIEW_DOT, VIEW_PLAN } view;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet graph MODEL --dot [--output FILE] [model options]\n\n"
            "Draws the layers of MODEL (a zoo name or a spec file) as a Graphviz DOT graph: one\n"
            "box per layer with its Keras type, key parameters (\"3x3/2, 64\"), output shape and\n"
            "parameter count, coloured by op family, and an arrow from each input to its\n"
            "user. Render it with `dot -Tsvg model.dot > model.svg`.\n\n"
            "options:\n"
            "  --dot              write Graphviz DOT (required: the only view so far)\n"
            "  --plan             not here: the fused plan is drawn by `clnet plan MODEL --dot`\n"
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
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--dot") == 0) {
            v = VIEW_DOT;
        } else if (strcmp(argv[i], "--plan") == 0) {
            v = VIEW_PLAN;
        } else if (strcmp(argv[i], "--output") == 0 || strcmp(argv[i], "-o") == 0) {
            if (i + 1 >= argc)
                return clnet_cli_error("graph", "%s needs a file name", argv[i]);
            output = argv[++i];
        } else {
            const int taken = clnet_cli_model_arg("graph", argc, argv, &i, &m);
            if (taken < 0)
                return 1;
            if (taken == 0)
                return clnet_cli_error("graph", "unexpected argument '%s' (see --help)", argv[i]);
        }
    }
    if (!m.model)
        return clnet_cli_error("graph", "which model? usage: clnet graph MODEL --dot");
    if (v == VIEW_NONE)
        return clnet_cli_error("graph", "which view? --dot writes Graphviz DOT (see --help)");
    if (v == VIEW_PLAN)
        return clnet_cli_error("graph",
                               "the fused plan view comes with `clnet plan`: run "
                               "`clnet plan %s --dot`",
                               m.model);
    const char *title = NULL;
    clnet_graph *g = clnet_cli_model_build("graph", &m, &title);
    if (!g)
        return 1;
    char *text = NULL;
    const clnet_status st = clnet_graph_to_dot(g, title, &text);
    clnet_graph_destroy(g);
    if (st != CLNET_OK)
        return clnet_cli_error("graph", "%s", clnet_status_string(st));
    const int rc = write_text(output, text);
    clnet_free(text);
    return rc;
}
