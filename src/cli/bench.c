/* bench.c - `clnet bench device|model|data|compare`: what a device sustains
 * (bench_device.c), what a model and each of its layers cost on it (bench_model.c), what
 * the data path alone sustains (bench_data.c), and two runs side by side
 * (bench_compare.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int clnet_cli_bench(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "device") == 0)
        return clnet_cli_bench_device(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "model") == 0)
        return clnet_cli_bench_model(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "data") == 0)
        return clnet_cli_bench_data(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "compare") == 0)
        return clnet_cli_bench_compare(argc - 1, argv + 1);
    const int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    static const char *const known[] = {"device", "model", "data", "compare", NULL};
    const char *near = argc >= 2 && !help ? clnet_cli_nearest(argv[1], known) : NULL;
    if (argc >= 2 && !help)
        fprintf(stderr, "clnet bench: unknown bench '%s'%s%s%s\n\n", argv[1],
                near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
    fprintf(help ? stdout : stderr,
            "usage: clnet bench device [options]   FP32 GFLOP/s, memory and transfer GB/s,\n"
            "                                       launch latency, compile times\n"
            "       clnet bench model MODEL [options]  latency, images/s and a per-layer\n"
            "                                       profile of inference and training\n"
            "       clnet bench data SOURCE [options]  images/s of decoding and\n"
            "                                       augmenting alone, first batch, memory\n"
            "       clnet bench compare A.json B.json  two --json runs side by side\n\n"
            "Run `clnet bench device --help`, `clnet bench model --help` or\n"
            "`clnet bench data --help` for options.\n");
    return help ? 0 : 2;
}
