/* bench_device.c - `clnet bench device`: what a device sustains, in the manner of clpeak
 * (clnet_device_bench_run, src/device/bench.c): FP32 GFLOP/s per vector width, memory
 * and transfer GB/s, launch latency, compile times. A table, or one JSON object. A
 * benchmark: it measures and asserts nothing. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet bench device [--quick|--tiny] [--json] [--device N|NAME] [--class C]\n\n"
            "Measures what the device sustains: FP32 multiply-add GFLOP/s with float to\n"
            "float16 arithmetic, global memory read and copy GB/s, host <-> device transfer\n"
            "GB/s (blocking and mapped), the latency of an empty kernel (wall and device\n"
            "time) and the compile time of cl/gemm.cl from source and from clnet's program\n"
            "cache. Kernel figures are medians of device times from profiling events.\n\n"
            "options:\n"
            "  --quick         smaller sizes and fewer repeats, for a quick look\n"
            "  --tiny          the smallest sizes, run once: checks the kernels under a\n"
            "                  simulator such as oclgrind; the figures mean nothing\n"
            "  --json          one JSON object instead of the table\n"
            "  --device N|NAME the device (see `clnet devices`)\n"
            "  --class C       kernel variants of class dgpu, igpu or cpu\n");
}

static void print_json(const clnet_device_bench *b, int quick)
{
    static const char *const widths[5] = {"float", "float2", "float4", "float8", "float16"};
    printf("{\"bench\":\"device\",\"device\":");
    clnet_cli_json_string(b->device);
    printf(",\"class\":\"%s\",\"compute_units\":%u,\"quick\":%d",
           clnet_device_class_name(b->device_class), b->compute_units, quick);
    for (int w = 0; w < 5; ++w)
        printf(",\"gflops_%s\":%.2f", widths[w], b->gflops[w]);
    printf(",\"gflops\":%.2f,\"gflops_width\":%d", b->gflops_best, b->gflops_best_width);
    printf(",\"read_gbs_float4\":%.2f,\"read_gbs_float16\":%.2f,\"read_gbs\":%.2f,"
           "\"copy_gbs\":%.2f,\"memory_bytes\":%zu",
           b->read_gbs[0], b->read_gbs[1], b->read_gbs_best, b->copy_gbs, b->memory_bytes);
    printf(",\"host_to_device_gbs\":%.3f,\"device_to_host_gbs\":%.3f,"
           "\"map_host_to_device_gbs\":%.3f,\"map_device_to_host_gbs\":%.3f,"
           "\"transfer_bytes\":%zu",
           b->host_to_device_gbs, b->device_to_host_gbs, b->map_host_to_device_gbs,
           b->map_device_to_host_gbs, b->transfer_bytes);
    printf(",\"launch_us\":%.2f,\"launch_device_us\":%.3f", b->launch_us, b->launch_device_us);
    printf(",\"compile_program\":");
    clnet_cli_json_string(b->compile_program);
    printf(",\"compile_cold_ms\":%.2f,\"compile_cached_ms\":%.2f}\n", b->compile_cold_ms,
           b->compile_cached_ms);
}

/* "256 MiB", or "64 KiB" below a MiB (the tiny run). */
static void size_text(size_t bytes, char *buf, size_t len)
{
    if (bytes >= ((size_t)1 << 20))
        snprintf(buf, len, "%.0f MiB", (double)bytes / 1048576.0);
    else
        snprintf(buf, len, "%.0f KiB", (double)bytes / 1024.0);
}

static void print_table(const clnet_device_bench *b)
{
    static const char *const widths[5] = {"float", "float2", "float4", "float8", "float16"};
    printf("%s (%s kernels, %u compute units)\n\n", b->device,
           clnet_device_class_name(b->device_class), b->compute_units);
    printf("%-44s %12s\n", "FP32 multiply-add", "GFLOP/s");
    for (int w = 0; w < 5; ++w)
        printf("  %-42s %12.1f\n", widths[w], b->gflops[w]);
    char label[64], size[32];
    snprintf(label, sizeof label, "best (width %d)", b->gflops_best_width);
    printf("  %-42s %12.1f\n", label, b->gflops_best);
    size_text(b->memory_bytes, size, sizeof size);
    snprintf(label, sizeof label, "global memory (%s)", size);
    printf("%-44s %12s\n", label, "GB/s");
    printf("  %-42s %12.2f\n", "read, float4 loads", b->read_gbs[0]);
    printf("  %-42s %12.2f\n", "read, float16 loads", b->read_gbs[1]);
    printf("  %-42s %12.2f\n", "copy (bytes read + written)", b->copy_gbs);
    size_text(b->transfer_bytes, size, sizeof size);
    snprintf(label, sizeof label, "transfers (%s)", size);
    printf("%-44s %12s\n", label, "GB/s");
    printf("  %-42s %12.2f\n", "host to device, clEnqueueWriteBuffer", b->host_to_device_gbs);
    printf("  %-42s %12.2f\n", "device to host, clEnqueueReadBuffer", b->device_to_host_gbs);
    printf("  %-42s %12.2f\n", "host to device, mapped", b->map_host_to_device_gbs);
    printf("  %-42s %12.2f\n", "device to host, mapped", b->map_device_to_host_gbs);
    printf("%-44s %12s\n", "empty kernel", "us");
    printf("  %-42s %12.1f\n", "launch and wait (wall)", b->launch_us);
    printf("  %-42s %12.2f\n", "device time (profiling events)", b->launch_device_us);
    snprintf(label, sizeof label, "compile cl/%s.cl", b->compile_program);
    printf("%-44s %12s\n", label, "ms");
    printf("  %-42s %12.1f\n", "cold (from source)", b->compile_cold_ms);
    if (b->compile_cached_ms > 0.0)
        printf("  %-42s %12.1f\n", "cached (clnet's program cache)", b->compile_cached_ms);
    else
        printf("  %-42s %12s\n", "cached (clnet's program cache)", "disabled");
}

int clnet_cli_bench_device(int argc, char **argv)
{
    const char *device = NULL, *cls = NULL;
    int quick = 0, json = 0;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        const int valued = !strcmp(a, "--device") || !strcmp(a, "--class");
        if (valued && i + 1 >= argc)
            return clnet_cli_error("bench", "%s needs a value (see --help)", a);
        if (!strcmp(a, "--device"))
            device = argv[++i];
        else if (!strcmp(a, "--class"))
            cls = argv[++i];
        else if (!strcmp(a, "--quick"))
            quick = quick > 1 ? quick : 1;
        else if (!strcmp(a, "--tiny"))
            quick = 2;
        else if (!strcmp(a, "--json"))
            json = 1;
        else {
            static const char *const known[] = {"--device", "--class", "--quick", "--tiny",
                                                "--json",   "--help",  NULL};
            return clnet_cli_unknown("bench", a, known);
        }
    }
    clnet_context *ctx = clnet_cli_context("bench", device, cls);
    if (!ctx)
        return 1;
    clnet_device_bench b;
    int rc = 0;
    if (clnet_device_bench_run(ctx, quick, &b) != CLNET_OK)
        rc = clnet_cli_error("bench", "device: %s", clnet_context_error(ctx));
    else if (json)
        print_json(&b, quick);
    else
        print_table(&b);
    clnet_context_destroy(ctx);
    return rc;
}
