/* graph.c - `clnet graph MODEL [--output FILE.dot|svg|png|pdf]`: the layers of a zoo
 * model or a spec file as a Graphviz picture (clnet_graph_to_dot, src/graph/dot.c), DOT
 * text or an image rendered by Graphviz's `dot` command, which only the CLI runs (the
 * library never starts processes). The model argument and its options: model_arg.c.
 * Tests: tests/cli/test_cli.sh. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet graph MODEL [--output FILE] [--dot] [--plan [--training] [--batch N]\n"
            "                   [--device N|NAME] [--class C]] [model options]\n\n"
            "Draws the layers of MODEL (a zoo name or a spec file) as a Graphviz graph: one\n"
            "box per layer with its Keras type, key parameters (\"3x3/2, 64\"), output shape and\n"
            "parameter count, coloured by op family, and an arrow from each input to its\n"
            "user. With --plan: the fused plan of MODEL on the device instead, one box per fused\n"
            "group (its layers, kernels, output and buffer), as `clnet plan` lists it.\n\n"
            "The picture is Graphviz DOT text on standard output, or a file named by --output:\n"
            "FILE.svg, FILE.png and FILE.pdf are rendered by Graphviz's `dot` command (on PATH;\n"
            "scripts/install-deps.sh installs graphviz), FILE.dot or FILE.gv hold the DOT text.\n\n"
            "options:\n"
            "  --output FILE      write FILE (.dot, .gv, .svg, .png or .pdf); -o FILE too\n"
            "  --dot              write DOT text whatever the file's extension\n"
            "  --plan             draw the fused plan on the device instead of the layers\n"
            "  --training         with --plan: the training plan (default: inference)\n"
            "  --batch N          with --plan: images per forward (default 1)\n"
            "  --device N|NAME    with --plan: device index or name substring\n"
            "  --class C          with --plan: the kernel variants of class dgpu, igpu or cpu\n"
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

/* The Graphviz output format of path's extension ("svg", "png", "pdf"), "" for DOT
 * (.dot, .gv), NULL for an extension clnet does not know. */
static const char *format_of(const char *path)
{
    static const char *const images[] = {"svg", "png", "pdf"};
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return NULL;
    for (size_t i = 0; i < sizeof images / sizeof images[0]; ++i)
        if (strcmp(dot + 1, images[i]) == 0)
            return images[i];
    return strcmp(dot, ".dot") == 0 || strcmp(dot, ".gv") == 0 ? "" : NULL;
}

/* Renders DOT text into path through `dot -T<format> -o <path> <temporary file>`, run
 * with posix_spawnp (no shell, so no quoting). */
static int render(const char *text, const char *format, const char *path)
{
    const char *tmpdir = getenv("TMPDIR");
    char tmp[512], flag[16];
    snprintf(tmp, sizeof tmp, "%s/clnet-graph-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    snprintf(flag, sizeof flag, "-T%s", format);
    const int fd = mkstemp(tmp);
    if (fd < 0)
        return clnet_cli_error("graph", "cannot create a temporary file in %s: %s",
                               tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
    const size_t len = strlen(text);
    const int written = write(fd, text, len) == (ssize_t)len;
    close(fd);
    int rc = written ? 0 : clnet_cli_error("graph", "cannot write %s", tmp);
    char *const args[] = {"dot", flag, "-o", (char *)path, tmp, NULL};
    pid_t pid = 0;
    const int spawned = rc == 0 ? posix_spawnp(&pid, "dot", NULL, NULL, args, environ) : -1;
    int status = 0;
    if (rc == 0 && spawned != 0)
        rc = clnet_cli_error("graph",
                             "cannot run Graphviz's dot to draw %s: %s; install graphviz "
                             "(scripts/install-deps.sh does), or write DOT with --output "
                             "FILE.dot",
                             path, strerror(spawned));
    else if (rc == 0 && waitpid(pid, &status, 0) < 0)
        rc = clnet_cli_error("graph", "waiting for dot: %s", strerror(errno));
    else if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        rc = clnet_cli_error("graph", "dot -T%s failed (exit status %d) writing %s", format,
                             WIFEXITED(status) ? WEXITSTATUS(status) : -1, path);
    unlink(tmp);
    return rc;
}

int clnet_cli_graph(int argc, char **argv)
{
    clnet_cli_model m;
    memset(&m, 0, sizeof m);
    const char *output = NULL;
    int plan = 0, dot = 0;
    clnet_cli_plan_args a = {NULL, NULL, 1, 0};
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--dot") == 0) {
            dot = 1;
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
            static const char *const known[] = {
                "--output", "--dot", "--plan", CLNET_CLI_PLAN_OPTIONS, CLNET_CLI_MODEL_OPTIONS,
                "--help",   NULL};
            if (taken == 0)
                return clnet_cli_unknown("graph", argv[i], known);
        }
    }
    if (!m.model)
        return clnet_cli_error("graph", "which model? usage: clnet graph MODEL [--output FILE]");
    const char *format = output && !dot ? format_of(output) : "";
    if (!format)
        return clnet_cli_error("graph",
                               "%s: which format? name the file .svg, .png or .pdf (drawn by "
                               "Graphviz's dot) or .dot, or give --dot for DOT text",
                               output);
    const char *title = NULL;
    clnet_graph *g = clnet_cli_model_build("graph", &m, &title);
    if (!g)
        return 1;
    char *text = NULL;
    int failed = 0;
    if (plan) {
        failed = clnet_cli_plan_write("graph", g, title, &a, 1, &text);
    } else {
        char *drawn = NULL;
        if (clnet_graph_to_dot(g, title, &drawn) != CLNET_OK || !(text = strdup(drawn)))
            failed = clnet_cli_error("graph", "out of memory drawing %s", title);
        clnet_free(drawn);
    }
    clnet_graph_destroy(g);
    if (failed)
        return 1;
    const int rc = format[0] ? render(text, format, output) : write_text(output, text);
    free(text);
    return rc;
}
