/* spec.c - the text architecture spec: one INI-like section per layer, named after
 * the layer, holding `op`, `inputs` (layer names; default: the previous layer) or,
 * for inputs, `shape = h, w, c`, then the op's own Keras keys:
 *
 *     [conv1]
 *     op = conv2d
 *     inputs = input_1
 *     filters = 64
 *     kernel_size = 7
 *
 * Layers may only use layers defined above them, so a spec can hold no cycle.
 * Writing a graph and reading it back gives the identical graph.
 * Tests: tests/unit/test_spec.c. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

/* One section: its name, where it starts, and its lines (without the header). */
typedef struct section {
    char name[64];
    int header_line, first_line;
    const char *body, *end;
} section;

static void set_error(char *err, size_t len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_error(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* The value of `key = value` on one line, or NULL. */
static int line_key(const char *line, size_t len, const char *key, char *value, size_t vlen)
{
    char buf[512];
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, line, len);
    buf[len] = '\0';
    char *hash = strchr(buf, '#');
    if (hash)
        *hash = '\0';
    char *eq = strchr(buf, '=');
    if (!eq)
        return 0;
    *eq = '\0';
    clnet__trim(buf);
    if (strcmp(buf, key) != 0)
        return 0;
    snprintf(value, vlen, "%s", eq + 1);
    clnet__trim(value);
    return 1;
}

/* Copies the section's body into params with the `op`, `inputs` and `shape` lines
 * blanked (kept as empty lines so the op's messages keep the file's numbering),
 * and returns those three values. */
static int split_section(const section *s, char *params, size_t cap, char *op, char *inputs,
                         char *shape)
{
    size_t used = 0;
    op[0] = inputs[0] = shape[0] = '\0';
    int has_inputs = 0;
    for (const char *p = s->body; p < s->end;) {
        const char *eol = memchr(p, '\n', (size_t)(s->end - p));
        size_t len = eol ? (size_t)(eol - p) : (size_t)(s->end - p);
        int special = line_key(p, len, "op", op, 64) || line_key(p, len, "shape", shape, 64);
        if (!special && line_key(p, len, "inputs", inputs, 512))
            special = has_inputs = 1;
        if (used + len + 2 > cap)
            return -1;
        if (!special) {
            memcpy(params + used, p, len);
            used += len;
        }
        params[used++] = '\n';
        p += len + (eol ? 1 : 0);
    }
    params[used] = '\0';
    return has_inputs;
}

/* "h, w, c": exactly three integers that fit an int (sscanf's %d is undefined past it;
 * clnet_graph_input checks the sizes). */
static int parse_shape(const char *text, int v[3])
{
    const char *p = text;
    for (int i = 0; i < 3; ++i) {
        char *end = NULL;
        errno = 0;
        const long x = strtol(p, &end, 10);
        if (end == p || errno || x < INT_MIN || x > INT_MAX)
            return 0;
        v[i] = (int)x;
        while (isspace((unsigned char)*end))
            ++end;
        if (*end != (i < 2 ? ',' : '\0'))
            return 0;
        p = end + 1;
    }
    return 1;
}

/* Resolves a comma-separated list of names to layers defined so far. */
static int resolve_inputs(const clnet_graph *g, const char *list, clnet_layer *out, int max,
                          char *bad, size_t bad_len)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    int n = 0;
    char *rest = NULL; /* strtok_r: strtok's hidden state is shared by every thread */
    for (char *tok = strtok_r(buf, ",", &rest); tok; tok = strtok_r(NULL, ",", &rest)) {
        clnet__trim(tok);
        if (n == max) {
            snprintf(bad, bad_len, "more than %d inputs", max);
            return -1;
        }
        out[n] = clnet_graph_find(g, tok);
        if (out[n] == CLNET_LAYER_NONE) {
            snprintf(bad, bad_len, "%s", tok);
            return -1;
        }
        ++n;
    }
    return n;
}

static clnet_status read_section(clnet_graph *g, const section *s, const char *source,
                                 clnet_layer prev, char *err, size_t err_len)
{
    const size_t cap = (size_t)(s->end - s->body) + 2;
    char *params = malloc(cap);
    if (!params)
        return CLNET_ERR_OUT_OF_MEMORY;
    char op[64], inputs[512], shape[64], bad[128];
    clnet_status st = CLNET_OK;
    const int has_inputs = split_section(s, params, cap, op, inputs, shape);
    if (has_inputs < 0) {
        set_error(err, err_len, "%s line %d [%s]: section too long", source, s->header_line,
                  s->name);
        st = CLNET_ERR_PARSE;
    } else if (!op[0]) {
        set_error(err, err_len, "%s line %d [%s]: key 'op' is missing", source, s->header_line,
                  s->name);
        st = CLNET_ERR_PARSE;
    } else if (strcmp(op, "input") == 0) {
        int v[3] = {0, 0, 0};
        if (!parse_shape(shape, v)) {
            set_error(err, err_len, "%s line %d [%s]: key 'shape': expected h, w, c, got '%s'",
                      source, s->header_line, s->name, shape);
            st = CLNET_ERR_PARSE;
        } else if (clnet_graph_input(g, s->name, v[0], v[1], v[2]) == CLNET_LAYER_NONE) {
            st = clnet_graph_status(g);
        }
    } else if (!clnet__op_find(op)) {
        char hint[512];
        set_error(err, err_len, "%s line %d [%s]: unknown op '%s' (%s)", source, s->header_line,
                  s->name, op, clnet__op_unknown_hint(op, 1, hint, sizeof hint));
        st = CLNET_ERR_UNKNOWN_OP;
    } else {
        clnet_layer in[CLNET_MAX_INPUTS];
        int n = 0;
        if (has_inputs) {
            n = resolve_inputs(g, inputs, in, CLNET_MAX_INPUTS, bad, sizeof bad);
            if (n < 0) {
                set_error(err, err_len,
                          "%s line %d [%s]: key 'inputs': '%s' is not a layer defined above "
                          "(inputs must come before their users, so cycles are impossible)",
                          source, s->header_line, s->name, bad);
                st = CLNET_ERR_PARSE;
            }
        } else if (prev != CLNET_LAYER_NONE) {
            in[n++] = prev;
        }
        char where[160];
        snprintf(where, sizeof where, "%s [%s]", source, s->name);
        if (st == CLNET_OK && clnet__graph_layer_at(g, op, s->name, params, in, n, where,
                                                    s->first_line) == CLNET_LAYER_NONE)
            st = clnet_graph_status(g);
    }
    if (st != CLNET_OK && clnet_graph_status(g) != CLNET_OK) {
        /* The graph's message: give it the file and line when it has none. */
        const char *msg = clnet_graph_error(g);
        const size_t n = strlen(source);
        char prefix[160];
        snprintf(prefix, sizeof prefix, "%s [%s] line ", source, s->name);
        const size_t pn = strlen(prefix);
        if (strncmp(msg, prefix, pn) == 0) { /* "<source> [x] line 6: ..." from the op's keys */
            char *rest = NULL;
            const long at = strtol(msg + pn, &rest, 10);
            set_error(err, err_len, "%s line %ld [%s]%s", source, at, s->name, rest);
        } else if (strncmp(msg, source, n) == 0 && strstr(msg, " line "))
            set_error(err, err_len, "%s", msg);
        else if (strncmp(msg, source, n) == 0) /* "<source> [x]: ...": add the line */
            set_error(err, err_len, "%s line %d%s", source, s->header_line, msg + n);
        else
            set_error(err, err_len, "%s line %d [%s]: %s", source, s->header_line, s->name, msg);
    }
    free(params);
    return st;
}

clnet_status clnet_graph_from_spec(const char *text, const char *source, clnet_graph **out,
                                   char *err, size_t err_len)
{
    if (!out)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    if (!text) {
        set_error(err, err_len, "no spec text");
        return CLNET_ERR_INVALID_ARG;
    }
    source = source ? source : "spec";
    clnet_graph *g = NULL;
    clnet_status st = clnet_graph_create(&g);
    if (st != CLNET_OK)
        return st;
    section s = {{0}, 0, 0, NULL, NULL};
    clnet_layer prev = CLNET_LAYER_NONE;
    int line = 1, in_section = 0;
    for (const char *p = text;; ++line) {
        const char *eol = strchr(p, '\n');
        const size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), p);
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        clnet__trim(buf);
        const int header = buf[0] == '[';
        if ((header || !*p) && in_section) {
            s.end = p;
            st = read_section(g, &s, source, prev, err, err_len);
            if (st != CLNET_OK)
                break;
            prev = g->n - 1;
            in_section = 0;
        }
        if (!*p)
            break;
        if (header) {
            size_t n = strlen(buf);
            if (n < 3 || buf[n - 1] != ']' || n - 2 >= sizeof s.name) {
                set_error(err, err_len, "%s line %d: bad section header '%s'", source, line, buf);
                st = CLNET_ERR_PARSE;
                break;
            }
            snprintf(s.name, sizeof s.name, "%.*s", (int)(n - 2), buf + 1);
            clnet__trim(s.name);
            s.header_line = line;
            s.first_line = line + 1;
            s.body = eol ? eol + 1 : p + len;
            in_section = 1;
        } else if (buf[0] && !in_section) {
            set_error(err, err_len, "%s line %d: '%s' is outside any [layer] section", source, line,
                      buf);
            st = CLNET_ERR_PARSE;
            break;
        }
        p = eol ? eol + 1 : p + len;
    }
    if (st == CLNET_OK && g->n == 0) {
        set_error(err, err_len, "%s: no layers", source);
        st = CLNET_ERR_PARSE;
    }
    if (st != CLNET_OK) {
        clnet_graph_destroy(g);
        return st;
    }
    *out = g;
    return CLNET_OK;
}

clnet_status clnet_graph_to_spec(const clnet_graph *g, char **out)
{
    if (!g || !out)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    if (g->status != CLNET_OK)
        return g->status;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return CLNET_ERR_OUT_OF_MEMORY;
    fprintf(f, "# clnet model spec: one [section] per layer, in order.\n");
    for (int i = 0; i < g->n; ++i) {
        const clnet__layer *l = &g->layers[i];
        fprintf(f, "\n[%s]\n", l->name);
        if (!l->op) {
            fprintf(f, "op = input\nshape = %d, %d, %d\n", l->out.h, l->out.w, l->out.c);
            continue;
        }
        fprintf(f, "op = %s\ninputs = ", l->op->name);
        for (int k = 0; k < l->n_in; ++k)
            fprintf(f, "%s%s", k ? ", " : "", g->layers[l->in[k]].name);
        fprintf(f, "\n");
        /* The parameter lines as given, one per line, comments and blanks dropped. */
        for (const char *p = l->params_text; *p;) {
            const char *eol = strchr(p, '\n');
            const size_t len = eol ? (size_t)(eol - p) : strlen(p);
            char line[512];
            snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1),
                     p);
            char *hash = strchr(line, '#');
            if (hash)
                *hash = '\0';
            clnet__trim(line);
            if (line[0])
                fprintf(f, "%s\n", line);
            p = eol ? eol + 1 : p + len;
        }
    }
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    *out = buf;
    return CLNET_OK;
}
