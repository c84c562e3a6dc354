/* test_spec.c - the text architecture spec (src/graph/spec.c): builder -> spec ->
 * graph gives the identical graph, and bad specs give errors naming the file, the
 * line, the section and the key. No device needed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

static clnet_graph *residual_net(void)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, "image", 32, 32, 3);
    x = clnet_graph_layer(g, "conv2d", "stem",
                          "filters = 16\nkernel_size = 3\npadding = same\n"
                          "use_bias = false  # BN follows",
                          &x, 1);
    x = clnet_graph_layer(g, "batch_norm", NULL, "momentum = 0.9\nactivation = relu", &x, 1);
    clnet_layer y = clnet_graph_layer(g, "depthwise_conv2d", NULL,
                                      "kernel_size = 3\npadding = 1, 1, 1, 1", &x, 1);
    y = clnet_graph_layer(g, "conv2d", NULL, "filters = 16\nkernel_size = 1", &y, 1);
    const clnet_layer both[2] = {y, x};
    x = clnet_graph_layer(g, "add", NULL, "activation = relu6", both, 2);
    x = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "dropout", NULL, "rate = 0.2", &x, 1);
    clnet_graph_layer(g, "dense", "logits", "units = 10", &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    return g;
}

Test(spec, round_trip_gives_the_identical_graph)
{
    clnet_graph *a = residual_net(), *b = NULL;
    char *text = NULL, *again = NULL, err[512] = "";
    cr_assert_eq(clnet_graph_to_spec(a, &text), CLNET_OK);
    cr_assert_eq(clnet_graph_from_spec(text, "net.spec", &b, err, sizeof err), CLNET_OK, "%s\n%s",
                 err, text);
    cr_assert_eq(b->n, a->n);
    for (int i = 0; i < a->n; ++i) {
        const clnet__layer *x = &a->layers[i], *y = &b->layers[i];
        cr_expect_str_eq(x->name, y->name);
        cr_expect_eq(x->op, y->op, "layer %s", x->name);
        cr_expect_eq(x->n_in, y->n_in, "layer %s", x->name);
        for (int k = 0; k < x->n_in; ++k)
            cr_expect_eq(x->in[k], y->in[k], "layer %s input %d", x->name, k);
        cr_expect(clnet__shape_eq(x->out, y->out), "layer %s", x->name);
        if (x->op)
            cr_expect_eq(memcmp(x->params, y->params, x->op->params_size), 0,
                         "layer %s: params differ", x->name);
    }
    const clnet_param_counts ca = clnet_graph_params(a), cb = clnet_graph_params(b);
    cr_expect_eq(ca.total, cb.total);
    cr_expect_eq(ca.non_trainable, cb.non_trainable);
    cr_assert_eq(clnet_graph_to_spec(b, &again), CLNET_OK);
    cr_expect_str_eq(again, text, "writing the read graph changes the spec");
    cr_expect(strstr(text, "[stem]\nop = conv2d\ninputs = image\nfilters = 16\n"), "%s", text);
    cr_expect(strstr(text, "[add]\nop = add\ninputs = conv2d, batch_norm\n"), "%s", text);
    clnet_free(text);
    clnet_free(again);
    clnet_graph_destroy(a);
    clnet_graph_destroy(b);
}

Test(spec, inputs_default_to_the_layer_above)
{
    const char *text = "# a tiny net\n[in]\nop = input\nshape = 8, 8, 1\n\n[c]\nop = conv2d\n"
                       "filters = 2\nkernel_size = 3\n[r]\nop = relu\n";
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_graph_from_spec(text, "t.spec", &g, err, sizeof err), CLNET_OK, "%s", err);
    cr_assert_eq(clnet_graph_layer_count(g), 3);
    clnet_shape s = clnet_graph_layer_shape(g, clnet_graph_find(g, "r"));
    cr_expect(s.h == 6 && s.w == 6 && s.c == 2);
    clnet_graph_destroy(g);
}

static void expect_bad(const char *text, clnet_status want, const char *n1, const char *n2)
{
    clnet_graph *g = (clnet_graph *)&g;
    char err[512] = "";
    clnet_status st = clnet_graph_from_spec(text, "bad.spec", &g, err, sizeof err);
    cr_expect_eq(st, want, "got %s: %s", clnet_status_string(st), err);
    cr_expect_null(g);
    cr_expect(strstr(err, "bad.spec") && strstr(err, n1) && strstr(err, n2),
              "'%s' and '%s' not in: %s", n1, n2, err);
}

#define HEAD "[in]\nop = input\nshape = 8, 8, 3\n"

Test(spec, bad_specs_name_file_line_section_and_key)
{
    /* line 4 is the [x] header, line 6 its first parameter line */
    expect_bad(HEAD "[x]\nop = conv9d\n", CLNET_ERR_UNKNOWN_OP, "line 4 [x]", "conv9d");
    expect_bad(HEAD "[x]\nop = conv2d\nkernel_size = 3\n", CLNET_ERR_PARSE, "line 4 [x]",
               "'filters'");
    expect_bad(HEAD "[x]\nop = conv2d\nfilters = two\nkernel_size = 3\n", CLNET_ERR_PARSE,
               "line 6 [x]", "'filters'");
    expect_bad(HEAD "[x]\nop = conv2d\nfilters = 2\nkernel_size = 3\nstride = 2\n", CLNET_ERR_PARSE,
               "line 8", "'stride'");
    expect_bad(HEAD "[x]\nop = conv2d\nfilters = 2\nkernel_size = 3\n[y]\nop = add\n"
                    "inputs = x, in\n",
               CLNET_ERR_SHAPE, "line 8 [y]", "1x6x6x2");
    expect_bad(HEAD "[x]\nop = relu\ninputs = nowhere\n", CLNET_ERR_PARSE, "line 4 [x]",
               "'nowhere'");
    expect_bad(HEAD "[a]\nop = relu\ninputs = b\n[b]\nop = relu\ninputs = a\n", CLNET_ERR_PARSE,
               "line 4 [a]", "cycles");
    expect_bad(HEAD "[x]\nfilters = 2\n", CLNET_ERR_PARSE, "line 4 [x]", "'op'");
    expect_bad("op = relu\n", CLNET_ERR_PARSE, "line 1", "outside");
    expect_bad("[in]\nop = input\nshape = 8, 8\n", CLNET_ERR_PARSE, "line 1 [in]", "'shape'");
    expect_bad(HEAD "[in]\nop = relu\n", CLNET_ERR_INVALID_ARG, "[in]", "used twice");
    expect_bad("", CLNET_ERR_PARSE, "no layers", "");
}
