/* summary.c - `clnet summary SPEC`: the Keras-style table of a model described by a
 * text spec file: layers, output shapes, parameters (total, trainable,
 * non-trainable as Keras counts them) and multiply-adds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The whole file, NUL-terminated and malloc'd, or NULL. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
        len += n;
        if (len + 1 == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown) {
                free(buf);
                buf = NULL;
            }
            buf = grown;
        }
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

int clnet_cli_summary(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: clnet summary SPEC\n\nPrints the layers of the model in the spec "
                   "file SPEC (one [section] per layer) with\noutput shapes, parameter counts "
                   "as Keras reports them, and multiply-adds.\n");
            return 0;
        }
        if (argv[i][0] == '-' || path)
            return clnet_cli_error("summary", "unexpected argument '%s' (see --help)", argv[i]);
        path = argv[i];
    }
    if (!path)
        return clnet_cli_error("summary", "which model? usage: clnet summary SPEC");
    char *text = read_all(path);
    if (!text)
        return clnet_cli_error("summary", "cannot read %s", path);
    char err[1024] = "", *table = NULL;
    clnet_graph *g = NULL;
    clnet_status st = clnet_graph_from_spec(text, path, &g, err, sizeof err);
    free(text);
    if (st != CLNET_OK)
        return clnet_cli_error("summary", "%s", err);
    const char *slash = strrchr(path, '/');
    st = clnet_graph_summary(g, slash ? slash + 1 : path, &table);
    clnet_graph_destroy(g);
    if (st != CLNET_OK)
        return clnet_cli_error("summary", "%s", clnet_status_string(st));
    fputs(table, stdout);
    clnet_free(table);
    return 0;
}
