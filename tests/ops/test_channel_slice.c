/* test_channel_slice.c - channel_slice against src/ref/channel_slice.c on every class, the
 * two halves of a split by hand, shape and parse errors, and its output written strided. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>

#include "support/support.h"

static const clnet__op_case channel_slice_extra_cases[] = {
    {"start = 3\nsize = 32", 1, {{2, 2, 300, 40}}, 0},
    {"start = 32\nsize = 1", 1, {{1, 1, 1, 33}}, 0},
};

CLNET_TEST_OP(channel_slice)

/* Two pixels of 4 channels, as torchvision's x.chunk(2, dim=1): the second half; its
 * gradient lands in channels 2 and 3, zeros in 0 and 1. */
Test(channel_slice, second_half_of_a_split)
{
    const float in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, want[4] = {3, 4, 7, 8};
    const float dout[4] = {10, 20, 30, 40}, want_din[8] = {0, 0, 10, 20, 0, 0, 30, 40};
    clnet_test_expect_op("channel_slice", "start = 2\nsize = 2", (clnet_shape){1, 1, 2, 4}, in,
                         (clnet_shape){1, 1, 2, 2}, want, dout, want_din, 0);
}

Test(channel_slice, errors_name_the_shapes_and_keys)
{
    const clnet_shape s = {1, 2, 2, 8};
    clnet_test_expect_error("channel_slice", "start = 5\nsize = 4", s, CLNET_ERR_SHAPE, "1x2x2x8",
                            "needs 9 channels");
    clnet_test_expect_error("channel_slice", "start = 1", s, CLNET_ERR_PARSE, "size", "required");
    clnet_test_expect_error("channel_slice", "size = 0", s, CLNET_ERR_PARSE, "size", "positive");
    clnet_test_expect_error("channel_slice", "start = -1\nsize = 2", s, CLNET_ERR_PARSE, "start",
                            "negative");
}

CLNET_TEST_CLASS_PARAMS(channel_slice, strided_output_into_wider_tensor)

/* Written as channels [off, off + size) of a wider tensor (the memory plan's in-place
 * concatenation, as ShuffleNetV2's first half): the slice there, every other float as it
 * was. 33 channels (a vector body and a scalar tail on the CPU class), an odd pixel count. */
ParameterizedTest(clnet_device_class *cls, channel_slice, strided_output_into_wider_tensor)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const clnet_shape in = {3, 5, 7, 40}, out = {3, 5, 7, 33};
    const int start = 4, wide = 40, off = 5;
    const size_t pixels = 3 * 5 * 7;
    float *x = clnet_test_random(clnet__shape_count(in), 11);
    float *got = malloc(pixels * wide * sizeof *got);
    const clnet__op_desc *op = clnet__op_find("channel_slice");
    void *params = NULL;
    clnet_tensor *tx = NULL, *ty = NULL;
    cr_assert_eq(clnet__op_parse(ctx, op, "start = 4\nsize = 33", "test", &params), CLNET_OK);
    cr_assert_eq(clnet_tensor_create(ctx, in, &tx), CLNET_OK);
    cr_assert_eq(clnet_tensor_write(tx, x, clnet__shape_count(in)), CLNET_OK);
    cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){3, 5, 7, wide}, &ty), CLNET_OK);
    cr_assert_eq(clnet_tensor_fill(ty, 7.0f), CLNET_OK);
    clnet__op_alone a;
    cr_assert_eq(clnet__op_alone_prepare(ctx, op, params, &in, 1, 0, &a), CLNET_OK);
    cr_expect(a.exec.strided_out);
    clnet_tensor view = *ty;
    view.shape = out;
    view.count = clnet__shape_count(out);
    clnet_tensor *ins[1] = {tx};
    const clnet__op_call call = {.ctx = ctx,
                                 .params = params,
                                 .n_in = 1,
                                 .in = ins,
                                 .out = &view,
                                 .exec = &a.exec,
                                 .scratch = &a.scratch,
                                 .out_stride = wide,
                                 .out_offset = off};
    cr_assert_eq(op->forward(&call), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet_tensor_read(ty, got, pixels * wide), CLNET_OK);
    int bad = 0;
    for (size_t p = 0; p < pixels; ++p)
        for (int c = 0; c < wide; ++c) {
            const int inside = c >= off && c < off + out.c;
            const float want = inside ? x[p * in.c + (size_t)(start + c - off)] : 7.0f;
            bad += got[p * wide + (size_t)c] != want;
        }
    cr_expect_eq(bad, 0, "%d floats differ", bad);
    clnet__op_alone_release(&a);
    clnet_tensor_destroy(tx);
    clnet_tensor_destroy(ty);
    free(params);
    free(x);
    free(got);
}
