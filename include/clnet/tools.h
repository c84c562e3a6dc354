/* clnet/tools.h - part of include/clnet.h (include that): charts, benchmarks, self-test. */
#ifndef CLNET_TOOLS_H
#define CLNET_TOOLS_H

#include "clnet/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- charts ----
 * PNG files drawn without a plotting library and written to a temporary file, then
 * renamed over path (an existing file is replaced only by a complete chart). They need
 * no context, so a failure is only the status: CLNET_ERR_INVALID_ARG for bad arguments,
 * CLNET_ERR_IO when path cannot be written, CLNET_ERR_OUT_OF_MEMORY. Nothing is printed. */

/* Training curves of epochs >= 1 epochs (epoch i + 1 is element i), 1200x540: loss (from
 * 0) and accuracy side by side. The accuracy axis is 0..1, so noise never looks like
 * progress; only when every value is at least 0.5 does it start at the tenth below the
 * smallest (0.93 -> 0.9..1, 0.6 -> 0.5..1). The
 * training curve in blue, validation in orange, with a legend and epochs on the x axes.
 * val_loss and val_accuracy may be NULL or hold NAN (no validation); a non-finite value
 * leaves a gap. title may be NULL. */
CLNET_API clnet_status clnet_plot_history(const char *path, const double *loss,
                                          const double *accuracy, const double *val_loss,
                                          const double *val_accuracy, int epochs,
                                          const char *title);
/* The confusion matrix of clnet_evaluate (classes x classes, 1..1000 classes, row = true
 * class, column = predicted, counts >= 0) as a heat map coloured by each count's share
 * of its row, counts written in the cells when they fit. names: classes class names for
 * the axes (cut to 16 characters), or NULL (or a NULL entry) for the class index. title
 * may be NULL. The image grows with the classes: cells shrink to 2 pixels and names are
 * then shown for every few classes. */
CLNET_API clnet_status clnet_plot_confusion(const char *path, const int64_t *confusion, int classes,
                                            const char *const *names, const char *title);

/* ---- benchmarks ---- */

/* What a device sustains, in the manner of clpeak (clnet_device_bench_run). Kernel
 * figures are medians of device times from OpenCL profiling events after a warm-up;
 * host-side figures (transfers, launch latency, compiles) are medians of wall times.
 * GB/s and GFLOP/s count 1e9 bytes and FLOPs per second. */
typedef struct clnet_device_bench {
    char device[128];                /* device name */
    clnet_device_class device_class; /* the context's effective class */
    unsigned compute_units;
    /* FP32 multiply-adds (2 FLOPs each) in float, float2, float4, float8 and float16
     * arithmetic: gflops[i] is vector width 1 << i. */
    double gflops[5];
    double gflops_best;    /* the highest of gflops[] */
    int gflops_best_width; /* its vector width */
    /* Global memory: a kernel reading a buffer of memory_bytes with float4 [0] and
     * float16 [1] loads; a kernel copying it to another buffer, counted as bytes read
     * plus bytes written (the STREAM convention), the better of float4 and float16. */
    double read_gbs[2];
    double read_gbs_best; /* the higher of read_gbs[] */
    double copy_gbs;
    size_t memory_bytes;
    /* Transfers of transfer_bytes: blocking clEnqueueWriteBuffer / clEnqueueReadBuffer
     * with malloc'd host memory, and through a mapped CL_MEM_ALLOC_HOST_PTR buffer (map,
     * memcpy, unmap, finish). */
    double host_to_device_gbs;
    double device_to_host_gbs;
    double map_host_to_device_gbs;
    double map_device_to_host_gbs;
    size_t transfer_bytes;
    /* An empty kernel: the wall time of enqueueing it and waiting for it, and its device
     * time (profiling end - start), which a device may report as 0. */
    double launch_us;
    double launch_device_us;
    /* Building cl/<compile_program>.cl ("gemm") as clnet does: cold, from source with a
     * unique -D so no cache answers, plus storing the binary in clnet's program cache;
     * cached, from that cache entry. compile_cached_ms is 0 when the cache is disabled
     * (clnet_context_stats). */
    double compile_cold_ms;
    double compile_cached_ms;
    char compile_program[32];
} clnet_device_bench;

/* Measures the device of ctx: a few seconds (quick: smaller sizes and fewer repeats,
 * for tests; most of its time is the cold compile). quick >= 2 runs the smallest sizes
 * once, to check the kernels under a simulator such as oclgrind: its figures mean
 * nothing. Allocates up to 2 x 256 MiB on the device and 256 MiB on the host, less
 * where the device's limits are lower. Enqueues on ctx's queue and waits for it. */
CLNET_API clnet_status clnet_device_bench_run(clnet_context *ctx, int quick,
                                              clnet_device_bench *out);

/* ---- self-test: every op and kernel variant against the plain C reference ---- */

typedef struct clnet_selftest_row {
    const char *op;      /* op name */
    const char *variant; /* class whose kernels ran: "dgpu", "igpu", "cpu" */
    const char *check;   /* "forward", "forward-inference", "backward", "gradient" */
    const char *shape;   /* the case, human-readable */
    double max_abs_err;
    double max_rel_err; /* max |got - want| / (|want| + rms(want)) */
    int passed;
} clnet_selftest_row;

/* Called once per checked case; rows are valid during the call only. */
typedef void (*clnet_selftest_fn)(void *user, const clnet_selftest_row *row);

/* Runs every op of every class in classes[0..n_classes) on the device chosen by
 * opt (opt->device_class is ignored). *failed receives the number of failing rows;
 * stats (may be NULL) the program-build statistics summed over the classes' contexts.
 * Returns an error status only when the run itself could not proceed (the message
 * goes to opt->error). */
CLNET_API clnet_status clnet_selftest(const clnet_context_options *opt,
                                      const clnet_device_class *classes, int n_classes,
                                      clnet_selftest_fn report, void *user, int *failed,
                                      clnet_context_stats *stats);

#ifdef __cplusplus
}
#endif

#endif
