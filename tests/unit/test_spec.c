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

/* Sizes past CLNET_MAX_DIM are refused where they are parsed, naming the layer and the
 * key; before, `padding = 2147483647` overflowed zero_pad's output to a negative shape
 * the build accepted and trained, and pool or conv padding and same-padded strides near
 * INT_MAX overflowed in window.c. */
Test(spec, sizes_past_the_limits_are_refused_naming_layer_and_key)
{
    static const struct {
        const char *section, *key;
    } cases[] = {
        {"[zp]\nop = zero_pad\npadding = 2147483647\n", "'padding'"},
        {"[zp]\nop = zero_pad\npadding = 0, 1, 2147483647, 0\n", "'padding'"},
        {"[mp]\nop = max_pool\npool_size = 3\npadding = 1100000000\n", "'padding'"},
        {"[ap]\nop = avg_pool\nstrides = 2147483647\npadding = same\n", "'strides'"},
        {"[c]\nop = conv2d\nfilters = 2\nkernel_size = 3\npadding = 1100000000\n", "'padding'"},
        {"[c]\nop = conv2d\nfilters = 2\nkernel_size = 3\nstrides = 2147483647\npadding = same\n",
         "'strides'"},
        {"[c]\nop = conv2d\nfilters = 2147483647\nkernel_size = 3\n", "'filters'"},
        {"[c]\nop = conv2d\nfilters = 2\nkernel_size = 2147483647, 1\npadding = same\n",
         "'kernel_size'"},
        {"[dw]\nop = depthwise_conv2d\nkernel_size = 3\npadding = 1100000000\n", "'padding'"},
        {"[dw]\nop = depthwise_conv2d\nkernel_size = 3\ndepth_multiplier = 2147483647\n",
         "'depth_multiplier'"},
        {"[mp]\nop = max_pool\npool_size = 99999999\n", "'pool_size'"},
        {"[d]\nop = dense\nunits = 16777217\n", "'units'"},
        {"[cp]\nop = channel_pad\nchannels = 2147483647\n", "'channels'"},
        {"[cp]\nop = channel_pad\nchannels = 8\nbefore = 2147483647\n", "'before'"},
        {"[cp]\nop = channel_pad\nchannels = 8\nstride = 2147483647\n", "'stride'"},
        {"[zp]\nop = zero_pad\npadding = 99999999999\n", "'padding'"},
    };
    for (size_t i = 0; i < CLNET_COUNTOF(cases); ++i) {
        char text[512], section[8];
        snprintf(text, sizeof text, HEAD "%s", cases[i].section);
        snprintf(section, sizeof section, "%.*s",
                 (int)(strchr(cases[i].section, ']') - cases[i].section + 1), cases[i].section);
        expect_bad(text, CLNET_ERR_PARSE, section, cases[i].key);
    }
}

/* Within the keys' limits, the shapes they make are checked in 64 bits: an output, an
 * input or a weight past 2^24 a side or 2^31 - 1 elements an image is refused. */
Test(spec, shapes_past_the_limits_are_refused_naming_the_layer)
{
    expect_bad("[in]\nop = input\nshape = 16777216, 1, 1\n[zp]\nop = zero_pad\n"
               "padding = 16777216, 0\n",
               CLNET_ERR_TOO_LARGE, "[zp]", "zero_pad: padding");
    expect_bad("[in]\nop = input\nshape = 1, 1, 65536\n[dw]\nop = depthwise_conv2d\n"
               "kernel_size = 1\ndepth_multiplier = 65536\n",
               CLNET_ERR_TOO_LARGE, "[dw]", "depth_multiplier");
    expect_bad("[in]\nop = input\nshape = 16777216, 16777216, 1\n", CLNET_ERR_TOO_LARGE, "'in'",
               "past the limit of 2147483647");
    expect_bad("[in]\nop = input\nshape = 2147483647, 1, 1\n", CLNET_ERR_TOO_LARGE, "'in'",
               "is 2147483647, past the limit of 16777216");
    expect_bad("[in]\nop = input\nshape = 99999999999, 1, 1\n", CLNET_ERR_PARSE, "[in]", "'shape'");
    expect_bad("[in]\nop = input\nshape = 1, 16777216, 1\n[mp]\nop = max_pool\n"
               "pool_size = 1, 16777216\nstrides = 1\npadding = 0, 16777215\n",
               CLNET_ERR_TOO_LARGE, "[mp]", "max_pool: pool_size, strides and padding");
    expect_bad("[in]\nop = input\nshape = 4096, 4096, 64\n[dw]\nop = depthwise_conv2d\n"
               "kernel_size = 4096\ndepth_multiplier = 2\n",
               CLNET_ERR_TOO_LARGE, "[dw]", "weight 'kernel'");
    expect_bad("[in]\nop = input\nshape = 1, 1, 16777216\n[d]\nop = dense\nunits = 16777216\n",
               CLNET_ERR_TOO_LARGE, "[d]", "dense");
    expect_bad("[in]\nop = input\nshape = 4096, 4096, 64\n[f]\nop = flatten\n", CLNET_ERR_TOO_LARGE,
               "[f]", "flatten");
}

/* A name holding what the spec uses for its own syntax would not come back the same
 * (`inputs = a, b` splits at commas, sections are [name], '#' starts a comment, values
 * are trimmed): the builder refuses it. Names with anything else round-trip. */
Test(spec, layer_names_round_trip_or_are_refused)
{
    static const char *const bad[] = {"a,b",         "[x",    "x]",     "k=v",       "c#1",
                                      "line\nbreak", " lead", "trail ", "tab\there", "bell\a"};
    for (size_t i = 0; i < CLNET_COUNTOF(bad); ++i) {
        clnet_graph *g = NULL;
        cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
        clnet_layer x = clnet_graph_input(g, "in", 4, 4, 2);
        cr_expect_eq(clnet_graph_layer(g, "relu", bad[i], "", &x, 1), CLNET_LAYER_NONE);
        cr_expect_eq(clnet_graph_status(g), CLNET_ERR_INVALID_ARG, "%s", bad[i]);
        cr_expect(strstr(clnet_graph_error(g), "layer name") &&
                      strstr(clnet_graph_error(g), "the text spec cannot carry"),
                  "%s", clnet_graph_error(g));
        clnet_graph_destroy(g);
        cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
        cr_expect_eq(clnet_graph_input(g, bad[i], 4, 4, 2), CLNET_LAYER_NONE, "%s", bad[i]);
        clnet_graph_destroy(g);
    }

    static const char *const good[] = {"conv 1",  "a.b/c:d",  "\xc3\xa9tage (2)",
                                       "x-y_z+1", "'quoted'", "{braces}"};
    clnet_graph *a = NULL, *b = NULL;
    cr_assert_eq(clnet_graph_create(&a), CLNET_OK);
    clnet_layer first = clnet_graph_input(a, "in put", 4, 4, 2), x = first;
    for (size_t i = 0; i < CLNET_COUNTOF(good); ++i)
        x = clnet_graph_layer(a, "relu", good[i], "", &x, 1);
    const clnet_layer both[2] = {x, first};
    clnet_graph_layer(a, "add", "sum", "", both, 2);
    cr_assert_eq(clnet_graph_status(a), CLNET_OK, "%s", clnet_graph_error(a));
    char *text = NULL, *again = NULL, err[512] = "";
    cr_assert_eq(clnet_graph_to_spec(a, &text), CLNET_OK);
    cr_assert_eq(clnet_graph_from_spec(text, "names.spec", &b, err, sizeof err), CLNET_OK, "%s\n%s",
                 err, text);
    cr_assert_eq(b->n, a->n);
    for (int i = 0; i < a->n; ++i) {
        cr_expect_str_eq(b->layers[i].name, a->layers[i].name);
        cr_expect_eq(b->layers[i].n_in, a->layers[i].n_in);
        for (int k = 0; k < a->layers[i].n_in; ++k)
            cr_expect_eq(b->layers[i].in[k], a->layers[i].in[k]);
    }
    cr_assert_eq(clnet_graph_to_spec(b, &again), CLNET_OK);
    cr_expect_str_eq(again, text);
    clnet_free(text);
    clnet_free(again);
    clnet_graph_destroy(a);
    clnet_graph_destroy(b);

    /* A spec naming a section so is refused too, naming the line. */
    expect_bad("[in]\nop = input\nshape = 4, 4, 2\n[a,b]\nop = relu\n", CLNET_ERR_INVALID_ARG,
               "line 4 [a,b]", "holds ','");
}
