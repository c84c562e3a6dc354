/* clnet/core.h - part of include/clnet.h (include that): status codes, version, devices, contexts,
 * tensors. */
#ifndef CLNET_CORE_H
#define CLNET_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "clnet_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One list makes the enum and clnet_status_string(). OK is 0, errors negative. */
#define CLNET_STATUS_LIST(X)                                                                       \
    X(CLNET_OK, 0, "ok")                                                                           \
    X(CLNET_ERR_INVALID_ARG, -1, "invalid argument")                                               \
    X(CLNET_ERR_NO_PLATFORM, -2, "no OpenCL platform")                                             \
    X(CLNET_ERR_NO_DEVICE, -3, "no such OpenCL device")                                            \
    X(CLNET_ERR_OPENCL, -4, "OpenCL call failed")                                                  \
    X(CLNET_ERR_BUILD, -5, "kernel build failed")                                                  \
    X(CLNET_ERR_OUT_OF_MEMORY, -6, "out of memory")                                                \
    X(CLNET_ERR_TOO_LARGE, -7, "allocation exceeds the device limit")                              \
    X(CLNET_ERR_SHAPE, -8, "shape mismatch")                                                       \
    X(CLNET_ERR_PARSE, -9, "parse error")                                                          \
    X(CLNET_ERR_UNKNOWN_OP, -10, "unknown op")                                                     \
    X(CLNET_ERR_IO, -11, "input/output error")                                                     \
    X(CLNET_ERR_GEMM, -12, "GEMM library failed")                                                  \
    X(CLNET_ERR_UNSUPPORTED, -13, "unsupported")                                                   \
    X(CLNET_ERR_MISMATCH, -14, "result differs from the reference")                                \
    X(CLNET_ERR_DIVERGED, -15, "the loss is not finite")                                           \
    X(CLNET_ERR_INTERNAL, -16, "internal error (a bug in clnet: please report it)")              \
    X(CLNET_ERR_RANK_LOST, -17, "another process of the run failed or stopped answering (MPI)")

typedef enum clnet_status {
#define CLNET_STATUS_ENUM(name, value, text) name = value,
    CLNET_STATUS_LIST(CLNET_STATUS_ENUM)
#undef CLNET_STATUS_ENUM
} clnet_status;

/* A static string; never NULL (unknown codes give "unknown status"). */
CLNET_API const char *clnet_status_string(clnet_status status);

/* The library's version, "major.minor.patch" (a static string): the project version
 * it was built as, which `clnet --version` prints. */
CLNET_API const char *clnet_version(void);

typedef struct clnet_context clnet_context;
typedef struct clnet_tensor clnet_tensor;

/* Tensor shape, NHWC. Weights use {kh, kw, in, out}; vectors {1, 1, 1, c}. */
typedef struct clnet_shape {
    int n, h, w, c;
} clnet_shape;

/* ---- devices ---- */

/* dgpu: discrete GPU; igpu: GPU sharing memory with the host; cpu: CPU device. */
typedef enum clnet_device_class {
    CLNET_CLASS_AUTO = 0, /* detect (or $CLNET_DEVICE_CLASS) */
    CLNET_CLASS_DGPU = 1,
    CLNET_CLASS_IGPU = 2,
    CLNET_CLASS_CPU = 3
} clnet_device_class;

/* "dgpu", "igpu", "cpu" or "auto". */
CLNET_API const char *clnet_device_class_name(clnet_device_class cls);
/* Parses "dgpu"/"igpu"/"cpu"; returns CLNET_ERR_INVALID_ARG for anything else. */
CLNET_API clnet_status clnet_device_class_parse(const char *text, clnet_device_class *out);

typedef struct clnet_device_info {
    int index;          /* position in the flat list over all platforms */
    int platform_index; /* platform number as the ICD loader lists it */
    char platform[128];
    char name[128];
    char vendor[128];
    char driver_version[64];
    char device_version[128];
    char opencl_c_version[64];
    clnet_device_class device_class; /* detected class */
    unsigned compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    uint64_t local_mem_bytes;
    size_t max_work_group_size;
    int fp16;           /* cl_khr_fp16 */
    int fp64;           /* cl_khr_fp64 or a double FP config */
    int unified_memory; /* host-unified memory */
} clnet_device_info;

/* Lists every device of every platform. On success *out is an array of *count
 * entries the caller frees with clnet_devices_free. On failure the message goes
 * into err (err_len bytes, may be 0) and *out is NULL. */
CLNET_API clnet_status clnet_devices_list(clnet_device_info **out, int *count, char *err,
                                          size_t err_len);
CLNET_API void clnet_devices_free(clnet_device_info *list);

/* ---- context: one device, one in-order queue, its programs and caches ---- */

/* level: 0 error, 1 warning, 2 info, 3 debug. msg is valid during the call only. */
typedef void (*clnet_log_fn)(void *user, int level, const char *msg);

typedef struct clnet_context_options {
    /* Device index ("1") or a case-insensitive name substring; NULL: $CLNET_DEVICE,
     * else the first GPU, else the first device. */
    const char *device;
    /* Force the kernel variants of a class; AUTO: $CLNET_DEVICE_CLASS, else detected. */
    clnet_device_class device_class;
    /* Program cache directory; NULL: $CLNET_CACHE_DIR, else $XDG_CACHE_HOME/clnet,
     * else ~/.cache/clnet. "" disables the cache. */
    const char *cache_dir;
    /* Tuning database (clnet_model_tune); NULL: $CLNET_TUNE_DB, else
     * $XDG_DATA_HOME/clnet/tune.json, else ~/.local/share/clnet/tune.json. "" or
     * $CLNET_TUNE=0: none, the variant table's defaults only. */
    const char *tune_db;
    clnet_log_fn log;
    void *log_user;
    /* Where the failure message goes when creation fails (there is no context to
     * hold it then). May be NULL. */
    char *error;
    size_t error_len;
} clnet_context_options;

/* opt may be NULL for all defaults. */
CLNET_API clnet_status clnet_context_create(const clnet_context_options *opt, clnet_context **out);
CLNET_API void clnet_context_destroy(clnet_context *ctx);
/* The last failure's message ("" if none). Valid until the next failing call. */
CLNET_API const char *clnet_context_error(const clnet_context *ctx);
/* The device of this context; the class is the effective (possibly forced) one. */
CLNET_API const clnet_device_info *clnet_context_device(const clnet_context *ctx);
CLNET_API clnet_device_class clnet_context_class(const clnet_context *ctx);
/* Blocks until every enqueued command has finished. */
CLNET_API clnet_status clnet_context_finish(clnet_context *ctx);

typedef struct clnet_context_stats {
    int programs_built;   /* compiled from source */
    int programs_cached;  /* loaded from the on-disk cache */
    int cache_writes;     /* binaries written to the cache */
    int cache_rejected;   /* corrupt or stale entries rebuilt */
    double build_seconds; /* wall time spent building programs (both kinds) */
    int cache_enabled;    /* 0 when there is no usable cache directory, or driver_cache */
    int driver_cache;     /* 1: the driver caches compiled programs itself (POCL), and reading
                           * a binary back for ours would cost more than it saves */
    char cache_dir[512];
    char tune_db[512];   /* the tuning database consulted ("" none; see clnet_model_tune) */
    int tune_entries;    /* its entries for this device, driver and kernel class */
    int tune_hits;       /* GEMMs and layers that ran a tuned choice */
    int plans_built;     /* model plans built (the first forward of a mode, a larger batch,
                          * freezing, a new tuning database): none for a smaller batch */
    int buffers_created; /* device buffers allocated by the library (tensors, plans) */
    int host_buffers;    /* of those, buffers in the library's own huge-page host memory (a
                          * CPU device: >= 2 MB each; $CLNET_HOST_BUFFERS=0 turns it off) */
    int host_waits;      /* calls that blocked the host on the device: blocking reads and
                          * writes, clnet_context_finish */
} clnet_context_stats;

CLNET_API void clnet_context_get_stats(const clnet_context *ctx, clnet_context_stats *out);

/* ---- tensors: float32 NHWC on the device ---- */

CLNET_API clnet_status clnet_tensor_create(clnet_context *ctx, clnet_shape shape,
                                           clnet_tensor **out);
CLNET_API void clnet_tensor_destroy(clnet_tensor *t);
CLNET_API clnet_shape clnet_tensor_shape(const clnet_tensor *t);
CLNET_API size_t clnet_tensor_count(const clnet_tensor *t);
/* Copies count floats (must equal the tensor's count) from host to device; blocking. */
CLNET_API clnet_status clnet_tensor_write(clnet_tensor *t, const float *src, size_t count);
/* Copies count floats (must equal the tensor's count) from device to host; blocking. */
CLNET_API clnet_status clnet_tensor_read(clnet_tensor *t, float *dst, size_t count);
CLNET_API clnet_status clnet_tensor_fill(clnet_tensor *t, float value);

typedef enum clnet_init {
    CLNET_INIT_UNIFORM,        /* U(a, b) */
    CLNET_INIT_NORMAL,         /* N(mean a, stddev b) */
    CLNET_INIT_GLOROT_UNIFORM, /* U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
    CLNET_INIT_GLOROT_NORMAL,  /* truncated N(0, sqrt(2 / (fan_in + fan_out))) */
    CLNET_INIT_HE_UNIFORM,     /* U(-l, l), l = sqrt(6 / fan_in) */
    CLNET_INIT_HE_NORMAL       /* truncated N(0, sqrt(2 / fan_in)) */
} clnet_init;

/* Fills t from one seeded generator on the host, so a seed gives the same values
 * on every device. Fans come from the weight shape {kh, kw, in, out}:
 * fan_in = kh*kw*in, fan_out = kh*kw*out. a and b are used by UNIFORM and NORMAL only.
 * "Truncated" redraws beyond two standard deviations, as Keras does. */
CLNET_API clnet_status clnet_tensor_init(clnet_tensor *t, clnet_init kind, float a, float b,
                                         uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif
