/* ops.c - `clnet ops [OP...] [--json]`: what a model spec's sections may hold, from the
 * ops' own descriptors (clnet_op_info_at): each op's Keras class, what it does, and its
 * keys with their values and defaults. Tests: tests/cli/test_cli.sh. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clnet ops [OP...] [--json]\n\n"
               "Lists the ops a model spec (or clnet_graph_layer) can use, with their Keras\n"
               "class, what they compute and every key their [section] takes: the values it\n"
               "accepts and its default (or `required`). OP (a spec name or a Keras class name,\n"
               "any case) shows only those ops. --json prints the same as a JSON array.\n");
}

/* The op called name: its spec name or Keras class name, ignoring case. */
static const clnet_op_info *find(const char *name)
{
    for (int i = 0; i < clnet_op_count(); ++i) {
        const clnet_op_info *op = clnet_op_info_at(i);
        if (strcasecmp(op->name, name) == 0 || strcasecmp(op->keras, name) == 0)
            return op;
    }
    return NULL;
}

static void print_text(const clnet_op_info *op)
{
    if (op->max_inputs <= 1)
        printf("%s  (Keras %s) %s\n", op->name, op->keras, op->description);
    else
        printf("%s  (Keras %s, %d to %d inputs) %s\n", op->name, op->keras, op->min_inputs,
               op->max_inputs, op->description);
    if (op->n_keys == 0)
        printf("    (no keys)\n");
    /* A value longer than VALUE_W (the activations' list of names) keeps a line of its own,
     * so the column of descriptions stays narrow. */
    enum { VALUE_W = 48 };
    char value[16][512];
    int name_w = 0, value_w = 0;
    for (int k = 0; k < op->n_keys && k < 16; ++k) {
        const clnet_op_key *key = &op->keys[k];
        if (key->default_value)
            snprintf(value[k], sizeof value[k], "%s (default %s)", key->type, key->default_value);
        else
            snprintf(value[k], sizeof value[k], "%s, required", key->type);
        const int len = (int)strlen(value[k]);
        name_w = (int)strlen(key->name) > name_w ? (int)strlen(key->name) : name_w;
        value_w = len > value_w && len <= VALUE_W ? len : value_w;
    }
    for (int k = 0; k < op->n_keys && k < 16; ++k) {
        if ((int)strlen(value[k]) > VALUE_W)
            printf("    %-*s  %s\n    %-*s  %-*s  %s\n", name_w, op->keys[k].name, value[k], name_w,
                   "", value_w, "", op->keys[k].description);
        else
            printf("    %-*s  %-*s  %s\n", name_w, op->keys[k].name, value_w, value[k],
                   op->keys[k].description);
    }
}

static void print_json(const clnet_op_info *op, int first)
{
    printf("%s\n  {\"name\": ", first ? "" : ",");
    clnet_cli_json_string(op->name);
    printf(", \"keras\": ");
    clnet_cli_json_string(op->keras);
    printf(", \"description\": ");
    clnet_cli_json_string(op->description);
    printf(", \"min_inputs\": %d, \"max_inputs\": %d, \"keys\": [", op->min_inputs, op->max_inputs);
    for (int k = 0; k < op->n_keys; ++k) {
        const clnet_op_key *key = &op->keys[k];
        printf("%s{\"name\": ", k ? ", " : "");
        clnet_cli_json_string(key->name);
        printf(", \"type\": ");
        clnet_cli_json_string(key->type);
        printf(", \"required\": %s, \"default\": ", key->default_value ? "false" : "true");
        if (key->default_value)
            clnet_cli_json_string(key->default_value);
        else
            printf("null");
        printf(", \"description\": ");
        clnet_cli_json_string(key->description);
        printf("}");
    }
    printf("]}");
}

int clnet_cli_ops(int argc, char **argv)
{
    static const char *const known[] = {"--json", "--help", NULL};
    const clnet_op_info *chosen[64];
    int n = 0, json = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
            continue;
        }
        if (argv[i][0] == '-')
            return clnet_cli_unknown("ops", argv[i], known);
        const clnet_op_info *op = find(argv[i]);
        if (!op) {
            const char *names[64];
            int count = 0;
            for (; count < clnet_op_count() && count < 63; ++count)
                names[count] = clnet_op_info_at(count)->name;
            names[count] = NULL;
            const char *near = clnet_cli_nearest(argv[i], names);
            clnet_cli_error("ops", "no op is called '%s'%s%s%s", argv[i],
                            near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
            return 1;
        }
        if (n < 64)
            chosen[n++] = op;
    }
    if (n == 0)
        for (; n < clnet_op_count() && n < 64; ++n)
            chosen[n] = clnet_op_info_at(n);
    if (json) {
        printf("[");
        for (int i = 0; i < n; ++i)
            print_json(chosen[i], i == 0);
        printf("\n]\n");
        return 0;
    }
    if (argc == 1 || n > 1)
        printf("A model spec has one [section] per layer, named after it, holding op = NAME,\n"
               "inputs = a, b (the layers it reads; default: the layer above) and the op's "
               "keys:\n\n");
    for (int i = 0; i < n; ++i) {
        print_text(chosen[i]);
        if (i + 1 < n)
            printf("\n");
    }
    return 0;
}
