/* test_bench_device.c - clnet_device_bench_run (src/device/bench.c, cl/bench.cl): a quick
 * run completes and gives finite, positive figures. Sanity only: benchmarks measure,
 * tests do not assert speed. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "support/support.h"

static void expect_positive(const char *what, double v)
{
    cr_expect(isfinite(v) && v > 0.0, "%s = %g, expected a finite positive figure", what, v);
}

Test(bench_device, quick_run_gives_sane_figures)
{
    clnet_context *ctx = clnet_test_device();
    clnet_device_bench b;
    const clnet_status st = clnet_device_bench_run(ctx, 1, &b);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));

    cr_expect_str_eq(b.device, clnet_context_device(ctx)->name);
    cr_expect_eq(b.device_class, clnet_context_class(ctx));
    static const char *const widths[5] = {"float", "float2", "float4", "float8", "float16"};
    double best = 0.0;
    for (int w = 0; w < 5; ++w) {
        expect_positive(widths[w], b.gflops[w]);
        best = b.gflops[w] > best ? b.gflops[w] : best;
    }
    cr_expect_eq(b.gflops_best, best);
    int best_w = 0;
    while (best_w < 4 && (1 << best_w) != b.gflops_best_width)
        ++best_w;
    cr_expect_eq(1 << best_w, b.gflops_best_width);
    cr_expect_eq(b.gflops[best_w], best);
    /* Wide arithmetic is never much slower than scalar: catches a wrong FLOP count. */
    cr_expect_geq(b.gflops[4], 0.5 * b.gflops[0], "float16 %.1f GFLOP/s, float %.1f", b.gflops[4],
                  b.gflops[0]);

    expect_positive("read float4", b.read_gbs[0]);
    expect_positive("read float16", b.read_gbs[1]);
    cr_expect_eq(b.read_gbs_best, b.read_gbs[0] > b.read_gbs[1] ? b.read_gbs[0] : b.read_gbs[1]);
    expect_positive("copy", b.copy_gbs);
    cr_expect_gt(b.memory_bytes, 0);
    cr_expect_gt(b.transfer_bytes, 0);
    expect_positive("host to device", b.host_to_device_gbs);
    expect_positive("device to host", b.device_to_host_gbs);
    expect_positive("mapped host to device", b.map_host_to_device_gbs);
    expect_positive("mapped device to host", b.map_device_to_host_gbs);
    expect_positive("launch", b.launch_us);
    /* A device may report no time at all for an empty kernel (start == end). */
    cr_expect(isfinite(b.launch_device_us) && b.launch_device_us >= 0.0, "device launch %g us",
              b.launch_device_us);

    cr_expect_str_eq(b.compile_program, "gemm");
    expect_positive("compile cold", b.compile_cold_ms);
    clnet_context_stats stats;
    clnet_context_get_stats(ctx, &stats);
    /* That the cached compile is faster is what the benchmark measures, not something a
     * test may assert: on a busy machine two timings promise no order. That it loaded the
     * binary back from the cache is checked by the benchmark itself (an error otherwise). */
    if (stats.cache_enabled)
        expect_positive("compile cached", b.compile_cached_ms);
}

/* The smallest sizes (for simulators) run through every kernel too. */
Test(bench_device, tiny_run_completes)
{
    clnet_context *ctx = clnet_test_device();
    clnet_device_bench b;
    const clnet_status st = clnet_device_bench_run(ctx, 2, &b);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    cr_expect_eq(b.memory_bytes, (size_t)64 << 10);
}

Test(bench_device, rejects_null_arguments)
{
    clnet_device_bench b;
    cr_expect_eq(clnet_device_bench_run(NULL, 1, &b), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_device_bench_run(clnet_test_device(), 1, NULL), CLNET_ERR_INVALID_ARG);
}
