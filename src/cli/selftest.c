/* selftest.c - `clnet selftest`: every op and kernel variant on a device against
 * the plain C reference; prints a table and exits non-zero on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct table {
    int verbose;
    int rows;
} table;

static void print_row(void *user, const clnet_selftest_row *r)
{
    table *t = user;
    ++t->rows;
    if (!t->verbose && r->passed)
        return;
    printf("%-22s %-5s %-18s %-44.44s %10.2e %10.2e  %s\n", r->op, r->variant, r->check, r->shape,
           r->max_abs_err, r->max_rel_err, r->passed ? "pass" : "FAIL");
}

static void usage(FILE *f)
{
    fprintf(f, "usage: clnet selftest [--device N|NAME] [--class dgpu|igpu|cpu|all] [--verbose]\n\n"
               "Runs every op (forward in each mode and backward) with the kernel variants of the\n"
               "chosen class(es) on the device and compares with the plain C reference. Default\n"
               "class: the device's own. --verbose prints every row (else only failures) and the\n"
               "program cache statistics. Exit status 1 if any check fails.\n");
}

int clnet_cli_selftest(int argc, char **argv)
{
    const char *device = NULL, *cls_text = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            device = argv[++i];
        } else if (strcmp(argv[i], "--class") == 0 && i + 1 < argc) {
            cls_text = argv[++i];
        } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            static const char *const known[] = {"--device", "--class", "--verbose", "--help", NULL};
            return clnet_cli_unknown("selftest", argv[i], known);
        }
    }
    clnet_device_class classes[3];
    int n_classes = 0;
    char err[4096] = "";
    clnet_context_options opt = {0};
    opt.device = device;
    opt.error = err;
    opt.error_len = sizeof err;
    if (cls_text && strcmp(cls_text, "all") == 0) {
        classes[0] = CLNET_CLASS_DGPU;
        classes[1] = CLNET_CLASS_IGPU;
        classes[2] = CLNET_CLASS_CPU;
        n_classes = 3;
    } else if (cls_text) {
        if (clnet_device_class_parse(cls_text, &classes[0]) != CLNET_OK)
            return clnet_cli_error("selftest", "--class %s: expected dgpu, igpu, cpu or all",
                                   cls_text);
        n_classes = 1;
    } else {
        /* The device's own (or $CLNET_DEVICE_CLASS) class. */
        clnet_context *ctx = NULL;
        if (clnet_context_create(&opt, &ctx) != CLNET_OK)
            return clnet_cli_error("selftest", "%s", err);
        classes[0] = clnet_context_class(ctx);
        n_classes = 1;
        clnet_context_destroy(ctx);
    }

    printf("%-22s %-5s %-18s %-44s %10s %10s  %s\n", "op", "class", "check", "case", "max abs",
           "max rel", "result");
    table t = {verbose, 0};
    int failed = 0;
    clnet_context_stats stats;
    clnet_status st = clnet_selftest(&opt, classes, n_classes, print_row, &t, &failed, &stats);
    if (st != CLNET_OK)
        return clnet_cli_error("selftest", "%s: %s", clnet_status_string(st), err);
    printf("\n%d checks, %d failed (classes:", t.rows, failed);
    for (int i = 0; i < n_classes; ++i)
        printf(" %s", clnet_device_class_name(classes[i]));
    printf(")\n");
    if (verbose && stats.driver_cache)
        printf("programs: %d built, %.2f s; the driver caches them itself (ours is not used: "
               "CLNET_QUIRKS=none to use it)\n",
               stats.programs_built, stats.build_seconds);
    else if (verbose)
        printf("programs: %d built from source, %d loaded from the cache (%d stale entries "
               "rebuilt), %d written; %.2f s building; cache %s\n",
               stats.programs_built, stats.programs_cached, stats.cache_rejected,
               stats.cache_writes, stats.build_seconds,
               stats.cache_enabled ? stats.cache_dir : "disabled");
    if (failed) {
        printf("selftest FAILED: the device computes differently from the reference\n");
        return 1;
    }
    printf("selftest passed\n");
    return 0;
}
