/* test_tensor.c - tensors (src/tensor/tensor.c): transfers, fill, limits, and the
 * seeded initializers' determinism and statistics. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"
#include "tensor/tensor.h"

Test(tensor, write_read_fill_round_trip)
{
    clnet_context *ctx = clnet_test_device();
    clnet_shape s = {3, 5, 7, 11};
    clnet_tensor *t = NULL;
    cr_assert_eq(clnet_tensor_create(ctx, s, &t), CLNET_OK, "%s", clnet_context_error(ctx));
    size_t n = clnet_tensor_count(t);
    cr_assert_eq(n, 3u * 5 * 7 * 11);
    float *src = clnet_test_random(n, 1), *dst = calloc(n, sizeof *dst);
    cr_assert_eq(clnet_tensor_write(t, src, n), CLNET_OK);
    cr_assert_eq(clnet_tensor_read(t, dst, n), CLNET_OK);
    cr_assert_eq(memcmp(src, dst, n * sizeof *src), 0);
    cr_assert_eq(clnet_tensor_fill(t, 2.5f), CLNET_OK);
    cr_assert_eq(clnet_tensor_read(t, dst, n), CLNET_OK);
    for (size_t i = 0; i < n; ++i)
        cr_assert_eq(dst[i], 2.5f);
    clnet_shape got = clnet_tensor_shape(t);
    cr_assert(got.n == 3 && got.h == 5 && got.w == 7 && got.c == 11);
    cr_assert_eq(clnet_tensor_read(t, dst, n - 1), CLNET_ERR_SHAPE);
    cr_assert(strstr(clnet_context_error(ctx), "3x5x7x11"), "%s", clnet_context_error(ctx));
    clnet_tensor_destroy(t);
    clnet_tensor_destroy(NULL);
    free(src);
    free(dst);
}

/* On a CPU device a large tensor lives in the library's huge-page host memory, and it
 * must behave as any other: written, computed on, read back, and freed with the tensor
 * (ASan's leak check sees the last). */
static void round_trip_large(clnet_context *ctx, int want_host)
{
    clnet_context_stats before, after;
    clnet_context_get_stats(ctx, &before);
    clnet_shape s = {1, 3, 1000, 301}; /* 3.6 MB: over the 2 MB threshold */
    clnet_tensor *t = NULL;
    cr_assert_eq(clnet_tensor_create(ctx, s, &t), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_context_get_stats(ctx, &after);
    cr_assert_eq(after.host_buffers - before.host_buffers, want_host);
    size_t n = clnet_tensor_count(t);
    float *src = clnet_test_random(n, 7), *dst = calloc(n, sizeof *dst);
    cr_assert_eq(clnet_tensor_write(t, src, n), CLNET_OK);
    cr_assert_eq(clnet_tensor_read(t, dst, n), CLNET_OK);
    cr_assert_eq(memcmp(src, dst, n * sizeof *src), 0);
    cr_assert_eq(clnet_tensor_fill(t, -1.5f), CLNET_OK);
    cr_assert_eq(clnet_tensor_read(t, dst, n), CLNET_OK);
    cr_assert(dst[0] == -1.5f && dst[n - 1] == -1.5f && dst[n / 2] == -1.5f);
    clnet_tensor_destroy(t);
    free(src);
    free(dst);
}

Test(tensor, large_buffers_in_host_memory_on_a_cpu_device)
{
    clnet_context *ctx = clnet_test_device();
    const char *off = getenv("CLNET_HOST_BUFFERS");
    const int cpu = clnet_context_device(ctx)->device_class == CLNET_CLASS_CPU;
    round_trip_large(ctx, cpu && !(off && strcmp(off, "0") == 0));
    /* Small ones stay the driver's. */
    clnet_context_stats before, after;
    clnet_context_get_stats(ctx, &before);
    clnet_tensor *t = NULL;
    cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, 1000}, &t), CLNET_OK);
    clnet_context_get_stats(ctx, &after);
    cr_assert_eq(after.host_buffers, before.host_buffers);
    cr_assert_eq(after.buffers_created, before.buffers_created + 1);
    clnet_tensor_destroy(t);
}

Test(tensor, host_buffers_zero_leaves_every_buffer_to_the_driver)
{
    setenv("CLNET_HOST_BUFFERS", "0", 1);
    char err[1024] = "";
    clnet_context_options opt = {0};
    opt.tune_db = "";
    opt.error = err;
    opt.error_len = sizeof err;
    clnet_context *ctx = NULL;
    if (clnet_context_create(&opt, &ctx) != CLNET_OK) {
        const char *req = getenv("CLNET_TEST_REQUIRE_DEVICE");
        cr_assert(!req || strcmp(req, "1") != 0, "no OpenCL device: %s", err);
        cr_skip_test("no OpenCL device: %s", err);
    }
    round_trip_large(ctx, 0);
    clnet_context_destroy(ctx);
}

Test(tensor, oversize_and_bad_shapes_are_clear_errors)
{
    clnet_context *ctx = clnet_test_device();
    const clnet_device_info *d = clnet_context_device(ctx);
    clnet_tensor *t = (clnet_tensor *)&t;
    /* One float more than the max allocation. */
    int c = (int)(d->max_alloc_bytes / sizeof(float) / 1024) + 1;
    clnet_shape big = {1, 32, 32, c};
    cr_assert_eq(clnet_tensor_create(ctx, big, &t), CLNET_ERR_TOO_LARGE);
    cr_assert_null(t);
    const char *msg = clnet_context_error(ctx);
    cr_assert(strstr(msg, "max allocation") && strstr(msg, "bytes"), "%s", msg);
    clnet_shape huge = {1 << 30, 1 << 30, 1 << 30, 1 << 30};
    cr_assert_eq(clnet_tensor_create(ctx, huge, &t), CLNET_ERR_TOO_LARGE);
    clnet_shape zero = {1, 0, 3, 3};
    cr_assert_eq(clnet_tensor_create(ctx, zero, &t), CLNET_ERR_SHAPE);
    cr_assert(strstr(clnet_context_error(ctx), "1x0x3x3"));
}

static double mean_of(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; ++i)
        s += x[i];
    return s / (double)n;
}

static double std_of(const float *x, size_t n)
{
    double m = mean_of(x, n), s = 0;
    for (size_t i = 0; i < n; ++i)
        s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (double)n);
}

Test(tensor, init_is_seeded_and_has_the_right_spread)
{
    clnet_context *ctx = clnet_test_device();
    clnet_shape s = {3, 3, 64, 128}; /* fan_in 576, fan_out 1152 */
    clnet_tensor *t = NULL;
    cr_assert_eq(clnet_tensor_create(ctx, s, &t), CLNET_OK);
    size_t n = clnet_tensor_count(t);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    struct {
        clnet_init kind;
        double want_std, bound;
    } cases[] = {
        {CLNET_INIT_HE_NORMAL, sqrt(2.0 / 576), 2.0 * sqrt(2.0 / 576) / 0.8796},
        {CLNET_INIT_HE_UNIFORM, sqrt(6.0 / 576) / sqrt(3.0), sqrt(6.0 / 576)},
        {CLNET_INIT_GLOROT_UNIFORM, sqrt(6.0 / 1728) / sqrt(3.0), sqrt(6.0 / 1728)},
        {CLNET_INIT_GLOROT_NORMAL, sqrt(2.0 / 1728), 2.0 * sqrt(2.0 / 1728) / 0.8796},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
        cr_assert_eq(clnet_tensor_init(t, cases[k].kind, 0, 0, 7), CLNET_OK);
        cr_assert_eq(clnet_tensor_read(t, a, n), CLNET_OK);
        cr_assert_eq(clnet_tensor_init(t, cases[k].kind, 0, 0, 7), CLNET_OK);
        cr_assert_eq(clnet_tensor_read(t, b, n), CLNET_OK);
        cr_expect_eq(memcmp(a, b, n * sizeof *a), 0, "same seed, same values (kind %d)",
                     (int)cases[k].kind);
        cr_expect_lt(fabs(mean_of(a, n)), 0.01 * cases[k].want_std * 10);
        cr_expect_lt(fabs(std_of(a, n) / cases[k].want_std - 1.0), 0.02, "kind %d: std %g want %g",
                     (int)cases[k].kind, std_of(a, n), cases[k].want_std);
        for (size_t i = 0; i < n; ++i)
            cr_assert_leq(fabs(a[i]), cases[k].bound * 1.0001);
    }
    cr_assert_eq(clnet_tensor_init(t, CLNET_INIT_UNIFORM, 2.0f, 3.0f, 8), CLNET_OK);
    cr_assert_eq(clnet_tensor_read(t, b, n), CLNET_OK);
    cr_expect_neq(memcmp(a, b, n * sizeof *a), 0);
    for (size_t i = 0; i < n; ++i)
        cr_assert(b[i] >= 2.0f && b[i] <= 3.0f);
    cr_expect_lt(fabs(mean_of(b, n) - 2.5), 0.01);
    cr_assert_eq(clnet_tensor_init(t, CLNET_INIT_NORMAL, 1.0f, 0.5f, 9), CLNET_OK);
    cr_assert_eq(clnet_tensor_read(t, b, n), CLNET_OK);
    cr_expect_lt(fabs(mean_of(b, n) - 1.0), 0.01);
    cr_expect_lt(fabs(std_of(b, n) - 0.5), 0.01);
    clnet_tensor_destroy(t);
    free(a);
    free(b);
}
