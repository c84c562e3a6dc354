/* test_dot.c - the Graphviz DOT export (src/graph/dot.c): one node per layer, one edge
 * per input, escaped names, balanced braces, and a render by `dot -Tsvg` when Graphviz
 * is installed. No device needed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnet.h"

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + strlen(what), what))
        ++n;
    return n;
}

/* conv -> bn -> relu -> conv -> bn, added to the relu's output: a residual block whose
 * layer names need escaping in DOT. 7 layers, 7 inputs in all (the add has two). */
static clnet_graph *residual_block(void)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, "image \"rgb\"", 32, 32, 3);
    x = clnet_graph_layer(g, "conv2d", "stem<3x3>", "filters = 16\nkernel_size = 3\nstrides = 2",
                          &x, 1);
    x = clnet_graph_layer(g, "batch_norm", NULL, "", &x, 1);
    const clnet_layer shortcut = clnet_graph_layer(g, "relu", "relu & co", "", &x, 1);
    x = clnet_graph_layer(g, "conv2d", NULL, "filters = 16\nkernel_size = 3\npadding = same",
                          &shortcut, 1);
    x = clnet_graph_layer(g, "batch_norm", NULL, "", &x, 1);
    const clnet_layer both[2] = {x, shortcut};
    clnet_graph_layer(g, "add", NULL, "activation = relu", both, 2);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    cr_assert_eq(clnet_graph_layer_count(g), 7);
    return g;
}

Test(dot, nodes_edges_and_escapes)
{
    clnet_graph *g = residual_block();
    char *text = NULL;
    cr_assert_eq(clnet_graph_to_dot(g, "block", &text), CLNET_OK);
    cr_expect_eq(strncmp(text, "digraph ", 8), 0, "%s", text);
    cr_expect_eq(count(text, "{"), count(text, "}"), "%s", text);
    cr_expect_eq(count(text, "    L"), 7 + 7, "one node line per layer, one edge per input: %s",
                 text);
    cr_expect_eq(count(text, "->"), 7, "%s", text);
    cr_expect(strstr(text, "L3 -> L6;") && strstr(text, "L5 -> L6;"), "the add's inputs: %s", text);
    cr_expect(strstr(text, "<b>image &quot;rgb&quot;</b>"), "%s", text);
    cr_expect(strstr(text, "<b>stem&lt;3x3&gt;</b>"), "%s", text);
    cr_expect(strstr(text, "<b>relu &amp; co</b>"), "%s", text);
    cr_expect(!strstr(text, "stem<") && !strstr(text, "\"rgb\"") && !strstr(text, "relu & co"),
              "raw names left: %s", text);
    cr_expect(strstr(text, "Conv2D 3x3/2, 16"), "%s", text);
    cr_expect(strstr(text, "Add + ReLU"), "%s", text);
    cr_expect(strstr(text, "15x15x16 &#183; 448 params"), "conv 3*3*3*16 + 16: %s", text);
    cr_expect(strstr(text, "shape=ellipse"), "the input: %s", text);
    char *again = NULL;
    cr_assert_eq(clnet_graph_to_dot(g, "block", &again), CLNET_OK);
    cr_expect_str_eq(again, text, "deterministic");
    clnet_free(again);
    clnet_free(text);
    clnet_graph_destroy(g);
}

Test(dot, quoted_title_and_rank2_shapes)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 8, 8, 1);
    x = clnet_graph_layer(g, "flatten", NULL, "", &x, 1);
    clnet_graph_layer(g, "dense", NULL, "units = 10", &x, 1);
    char *text = NULL;
    cr_assert_eq(clnet_graph_to_dot(g, "a \"b\" \\", &text), CLNET_OK);
    cr_expect_eq(strncmp(text, "digraph \"a \\\"b\\\" /\" {", 21), 0, "%s", text);
    cr_expect(strstr(text, "(None, 64)") && strstr(text, "Dense 10 units"), "%s", text);
    cr_expect(strstr(text, "(None, 10) &#183; 650 params"), "%s", text);
    clnet_free(text);
    cr_assert_eq(clnet_graph_to_dot(g, NULL, &text), CLNET_OK);
    cr_expect_eq(strncmp(text, "digraph \"model\" {", 17), 0, "%s", text);
    clnet_free(text);
    cr_expect_eq(clnet_graph_to_dot(NULL, NULL, &text), CLNET_ERR_INVALID_ARG);
    cr_expect_null(text);
    clnet_graph_destroy(g);
}

Test(dot, renders_with_graphviz)
{
    if (system("command -v dot >/dev/null 2>&1") != 0)
        cr_skip_test("Graphviz `dot` is not on PATH");
    clnet_graph *g = residual_block();
    char *text = NULL;
    cr_assert_eq(clnet_graph_to_dot(g, "block <&>", &text), CLNET_OK);
    FILE *p = popen("dot -Tsvg >/dev/null", "w");
    cr_assert_not_null(p);
    fputs(text, p);
    const int status = pclose(p);
    cr_expect_eq(status, 0, "dot -Tsvg failed (status %d) on:\n%s", status, text);
    clnet_free(text);
    clnet_graph_destroy(g);
}
