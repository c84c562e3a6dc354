/* quirks.c - the quirk table: what a driver does that the rest of the runtime must work
 * around, keyed by the platform's version string (which names the driver and its
 * version), read once when a context is made (ctx->quirks) and applied by context.c
 * (the program cache) and launch.c (work-group sizes).
 * $CLNET_QUIRKS=none turns every quirk off (tests of the paths the quirks bypass);
 * $CLNET_LOCAL_SIZE=L sets the fixed work-group size of CLNET_QUIRK_LOCAL_SIZE on any
 * driver (0: off), so the kernels' guards against rounded-up global sizes are tested
 * everywhere. Tests: tests/unit/test_quirks.c. */
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"

typedef struct quirk_row {
    const char *platform; /* substring of the platform version, any case */
    unsigned quirks;
} quirk_row;

static const quirk_row rows[] = {
    /* POCL generates a kernel's code when it is first enqueued, once for each distinct
     * work-group size (a size left to it follows the global size, so ResNet-18 compiled
     * conv2d_im2col 7 times); asking it for a program's binary makes it generate a
     * generic version of every kernel in the program, used or not; and it keeps its own
     * cache of both (~/.cache/pocl). Measured on 2 cores, cold `clnet predict` of
     * ResNet-18 (bench model --startup): 34 kernel compiles, 15 of them generic. */
    {"pocl", CLNET_QUIRK_LOCAL_SIZE | CLNET_QUIRK_OWN_CACHE},
};

/* The fixed work-group size of CLNET_QUIRK_LOCAL_SIZE along a launch's first dimension
 * of more than one item (1 along the others). 16 timed level with or ahead of the sizes
 * POCL picks (bench model --profile, the sum of each step's best of 3 runs, 2 cores):
 * ResNet-18 inference b1 21.8 vs 22.3 ms, b8 133.9 vs 133.9; MobileNetV2 b1 7.9 vs 8.3,
 * b8 52.3 vs 52.8; ResNet-18 training at 64x64, b32, forward 42.0 vs 43.4, backward 38.8
 * vs 41.6. 64 was no better; 1 cost 20% (a call per item). */
#define LOCAL_SIZE 16

unsigned clnet__quirks_for(const char *platform_version)
{
    unsigned q = 0;
    for (size_t i = 0; i < CLNET_COUNTOF(rows); ++i)
        if (clnet__contains_nocase(platform_version, rows[i].platform))
            q |= rows[i].quirks;
    return q;
}

void clnet__quirks_apply(clnet_context *ctx)
{
    const char *off = getenv("CLNET_QUIRKS");
    ctx->quirks = off && strcmp(off, "none") == 0 ? 0u : clnet__quirks_for(ctx->platform_version);
    ctx->local_size = ctx->quirks & CLNET_QUIRK_LOCAL_SIZE ? LOCAL_SIZE : 0;
    const char *size = getenv("CLNET_LOCAL_SIZE");
    if (size && *size) {
        const long v = strtol(size, NULL, 10);
        ctx->local_size = v > 0 && v <= 1024 ? (int)v : 0;
    }
}
