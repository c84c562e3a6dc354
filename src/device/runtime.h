/* runtime.h - the OpenCL runtime inside the library: the context struct, error
 * helpers, per-class kernel parameters, program building and kernel launches.
 * Knows nothing about ops. Implemented in the .c files of src/device. */
#ifndef CLNET_DEVICE_RUNTIME_H
#define CLNET_DEVICE_RUNTIME_H

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "clnet.h"

#define CLNET_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))
#define CLNET_MAX_PROGRAMS 48
#define CLNET_MAX_KERNELS 160

/* Kinds of scratch an op needs within one call. An op's prepare step records the bytes of
 * each (src/ops/op.h); the memory plan gives each a buffer live during that step only
 * (src/plan/memory.c), so scratch shares buffers with activations by liveness. */
typedef enum clnet__scratch_slot {
    CLNET_SCRATCH_COL,        /* im2col / col2im matrices */
    CLNET_SCRATCH_PACK_B,     /* GEMM packed B panels */
    CLNET_SCRATCH_REDUCE,     /* partial sums of reductions */
    CLNET_SCRATCH_TMP,        /* anything an op needs once per call */
    CLNET_SCRATCH_WINOGRAD_U, /* conv2d Winograd transformed weights (V uses COL) */
    CLNET_SCRATCH_WINOGRAD_M, /* conv2d Winograd products before the output transform */
    CLNET_SCRATCH_COUNT
} clnet__scratch_slot;

/* The scratch buffers one op call may use: mem[k] holds at least bytes[k] (NULL and 0 for
 * a kind the call was not given). Borrowed from a plan, or owned by whoever made them
 * with clnet__scratch_create. */
typedef struct clnet__scratch {
    cl_mem mem[CLNET_SCRATCH_COUNT];
    size_t bytes[CLNET_SCRATCH_COUNT];
} clnet__scratch;

/* A tuned choice for one problem (tune_db.c): the implementation or algorithm by
 * name and the host-side launch parameters it overrides. */
#define CLNET_TUNE_MAX_PARAMS 4
typedef struct clnet__tuned {
    char key[96];    /* the problem: "gemm NN 3136x64x576" */
    char choice[24]; /* "packed", "winograd" */
    int n_params;
    char param_keys[CLNET_TUNE_MAX_PARAMS][24];
    int param_values[CLNET_TUNE_MAX_PARAMS];
    double ms, default_ms; /* measured by the tuner: the winner and the untuned choice */
} clnet__tuned;

typedef struct clnet__program {
    char name[48];
    cl_program program;
} clnet__program_entry;

typedef struct clnet__kernel_entry {
    char program[48];
    char name[64];
    cl_kernel kernel;
} clnet__kernel_entry;

struct clnet_context {
    cl_platform_id platform;
    cl_device_id device;
    cl_context cl;
    cl_command_queue queue;
    clnet_device_info info;
    clnet_device_class cls; /* effective class: picks kernel variants */
    char platform_version[128];
    int sync; /* $CLNET_SYNC: finish after every launch */
    /* $CLNET_CONV_ALGO ("im2col", "winograd"; "" none), read once when the context is made;
     * conv2d's prepare step applies it (src/ops/conv2d_winograd.c). */
    char conv_algo[16];
    const char *cl_dir; /* $CLNET_CL_DIR or NULL */
    unsigned quirks;    /* CLNET_QUIRK_* of this driver (quirks.c) */
    /* Launches that leave the work-group size to the driver get this many work-items
     * along their first dimension of more than one item (1 along the others; global
     * sizes rounded up), 0: the driver picks (CLNET_QUIRK_LOCAL_SIZE). */
    int local_size;
    /* The device is the host's CPU: large buffers are host memory of ours in huge pages
     * (launch.c, clnet__buffer); $CLNET_HOST_BUFFERS=0 turns it off. */
    int host_buffers;

    clnet__program_entry programs[CLNET_MAX_PROGRAMS];
    int n_programs;
    clnet__kernel_entry kernels[CLNET_MAX_KERNELS];
    int n_kernels;

    int gemm_clblast_failed; /* src/gemm/gemm.c: CLBlast failed here, use the tiled kernel */
    cl_mem zeros;            /* clnet__zeros: zeros_count floats of 0, grown on demand */
    size_t zeros_count;
    /* Set by a layer that keeps OpenCL objects of this context in a library's global
     * cache (CLBlast's programs): called first by clnet_context_destroy. */
    void (*before_destroy)(clnet_context *ctx);

    /* Tuning database entries of this device, driver and class (tune_db.c), read only by
     * prepare steps when a plan is built; tune_version changes whenever they do, so plans
     * made before are rebuilt. */
    clnet__tuned *tuned;
    int n_tuned;
    uint64_t tune_version;

    /* Profiling (bench/): while profiling, every launch keeps its event. */
    int profiling;
    cl_event *events;
    int n_events, cap_events;

    clnet_context_stats stats;
    clnet_log_fn log;
    void *log_user;
    char *error; /* heap: build logs can be long */
    size_t error_cap;
};

/* ---- driver quirks (quirks.c) ---- */

enum {
    /* The driver generates a kernel's code once per work-group size it is launched with:
     * launches without a size get ctx->local_size. */
    CLNET_QUIRK_LOCAL_SIZE = 1u << 0,
    /* The driver caches compiled programs itself, and reading a program's binary costs
     * a compile of every kernel in it: our program cache is not used. */
    CLNET_QUIRK_OWN_CACHE = 1u << 1,
};

/* 1 when needle occurs in hay, ignoring case (an empty needle always does). */
int clnet__contains_nocase(const char *hay, const char *needle);
/* The quirks of a platform from its CL_PLATFORM_VERSION. */
unsigned clnet__quirks_for(const char *platform_version);
/* Sets ctx->quirks and ctx->local_size (after the platform version is known), honouring
 * $CLNET_QUIRKS=none and $CLNET_LOCAL_SIZE. */
void clnet__quirks_apply(clnet_context *ctx);

/* ---- errors ---- */

/* Records a printf-style message on ctx and returns status. */
clnet_status clnet__fail(clnet_context *ctx, clnet_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Records a failed OpenCL call (its CL_* name, file, line) and returns CLNET_ERR_OPENCL,
 * or CLNET_ERR_OUT_OF_MEMORY for the allocation failures. */
clnet_status clnet__cl_fail(clnet_context *ctx, cl_int err, const char *call, const char *file,
                            int line);
const char *clnet__cl_error_name(cl_int err);
void clnet__log(clnet_context *ctx, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define CLNET_TRY(expr)                                                                            \
    do {                                                                                           \
        clnet_status clnet__st = (expr);                                                           \
        if (clnet__st != CLNET_OK)                                                                 \
            return clnet__st;                                                                      \
    } while (0)

#define CLNET_CL_TRY(ctx, call)                                                                    \
    do {                                                                                           \
        cl_int clnet__err = (call);                                                                \
        if (clnet__err != CL_SUCCESS)                                                              \
            return clnet__cl_fail((ctx), clnet__err, #call, __FILE__, __LINE__);                   \
    } while (0)

/* A context without a device that only records errors, for host-side work (graph
 * building, spec parsing) that reports through the op functions' ctx argument. */
clnet_status clnet__context_create_host(clnet_context **out);

/* ---- device discovery (device.c) ---- */

/* Fills info for one device; class detection: CPU type -> cpu, GPU with host-unified
 * memory -> igpu, other GPUs and accelerators -> dgpu. */
void clnet__device_describe(cl_platform_id platform, cl_device_id device, int platform_index,
                            int index, clnet_device_info *info);

/* ---- per-class kernel parameters (variants.c) ---- */

/* An integer parameter of a program for the context's class (tile sizes,
 * work-group sizes, vector widths). Programs are built with every parameter of
 * theirs as -Dkey=value. Returns fallback when the table has no entry. */
int clnet__param(const clnet_context *ctx, const char *program, const char *key, int fallback);
/* Whether a tuning database entry may set key to value on ctx's device: 1, or 0 with the
 * reason in why (len bytes), naming the key and the accepted range. */
int clnet__param_tunable(const clnet_context *ctx, const char *key, double value, char *why,
                         size_t len);
/* Writes the -D options of a program for the context's class into buf. */
void clnet__param_defines(const clnet_context *ctx, const char *program, char *buf, size_t len);

/* ---- tuning database (tune_db.c) ---- */

/* A per-user file or directory (context.c): $env_var if set, else $xdg_var/name,
 * else $HOME/home_dir/name, else "". */
void clnet__user_path(const char *env_var, const char *xdg_var, const char *home_dir,
                      const char *name, char *buf, size_t len);

/* $CLNET_TUNE_DB, else $XDG_DATA_HOME/clnet/tune.json, else
 * ~/.local/share/clnet/tune.json; "" when there is no home. */
void clnet__tune_default_path(char *buf, size_t len);
/* Loads the entries of this context's device from the database at path (NULL: the
 * default path; "": none); $CLNET_TUNE=0 disables. A missing file is an empty
 * database; an unreadable or invalid one is logged as a warning and ignored. */
void clnet__tune_load(clnet_context *ctx, const char *path);
/* The same for a database already read: text (len bytes) as if read from path (for
 * messages), entries of kernel sources with digest (NULL: the embedded ones). Entries of
 * this device whose values their launchers would not accept (clnet__param_tunable) are
 * left out, each with a warning naming path and the entry. */
void clnet__tune_load_text(clnet_context *ctx, const char *path, const char *text, size_t len,
                           const char *digest);
void clnet__tune_unload(clnet_context *ctx);
/* The tuned choice for a problem key, or NULL. Borrowed: valid until the next save. */
const clnet__tuned *clnet__tune_find(const clnet_context *ctx, const char *key);
/* Adds (or replaces) entries of this device in the database file, written to a
 * temporary file renamed over the old one, and reloads. A file that exists but is
 * not a valid database is an error naming it, and is left as it is. */
clnet_status clnet__tune_save(clnet_context *ctx, const clnet__tuned *entries, int n);
/* The value t sets for key: 1 and *value, or 0. */
int clnet__tuned_param(const clnet__tuned *t, const char *key, int *value);

/* ---- programs and kernels (program.c, cache.c) ---- */

/* The kernel `kernel` of cl/<program>.cl, built on first use (from the on-disk cache
 * when possible) with cl/common.cl prepended. The returned kernel is owned by ctx. */
clnet_status clnet__kernel(clnet_context *ctx, const char *program, const char *kernel,
                           cl_kernel *out);
/* Builds (or loads) a whole program now; used by warm-up and tests. */
clnet_status clnet__program(clnet_context *ctx, const char *program, cl_program *out);

/* A build log whose "<file>:<line>:" positions count lines of the assembled source
 * (compilers that ignore #line), rewritten to name.cl / common.cl lines, given the
 * line dir_line of the #line directive; malloc'd, or NULL when there is nothing to
 * rewrite (the log already names name.cl). */
char *clnet__fix_build_log(const char *log, const char *name, int dir_line);

/* ---- launches (launch.c) ---- */

typedef enum {
    CLNET_ARG_KIND_MEM,
    CLNET_ARG_KIND_INT,
    CLNET_ARG_KIND_FLOAT,
    CLNET_ARG_KIND_LOCAL
} clnet__arg_kind;

typedef struct clnet_arg {
    clnet__arg_kind kind;
    cl_mem mem;
    cl_int i;
    cl_float f;
    size_t local_bytes;
} clnet_arg;

#define CLNET_ARG_MEM(m) ((clnet_arg){CLNET_ARG_KIND_MEM, (m), 0, 0.0f, 0})
#define CLNET_ARG_INT(v) ((clnet_arg){CLNET_ARG_KIND_INT, NULL, (cl_int)(v), 0.0f, 0})
#define CLNET_ARG_FLOAT(v) ((clnet_arg){CLNET_ARG_KIND_FLOAT, NULL, 0, (cl_float)(v), 0})
#define CLNET_ARG_LOCAL(bytes) ((clnet_arg){CLNET_ARG_KIND_LOCAL, NULL, 0, 0.0f, (bytes)})

/* Sets the arguments and enqueues the kernel. local may be NULL (the runtime
 * chooses); otherwise global is rounded up to a multiple of local, so kernels
 * must bounds-check. An argument error names the kernel and the index. */
clnet_status clnet__launch_local(clnet_context *ctx, const char *program, const char *kernel,
                                 const clnet_arg *args, int n_args, int dims, const size_t *global,
                                 const size_t *local);
static inline clnet_status clnet__launch(clnet_context *ctx, const char *program,
                                         const char *kernel, const clnet_arg *args, int n_args,
                                         int dims, const size_t *global)
{
    return clnet__launch_local(ctx, program, kernel, args, n_args, dims, global, NULL);
}

/* Buffers of bytes[k] for each kind k (none for 0), for an op run outside a plan (tests,
 * checks, benchmarks, the tuner). On failure s holds nothing. */
clnet_status clnet__scratch_create(clnet_context *ctx, const size_t *bytes, clnet__scratch *s);
void clnet__scratch_release(clnet__scratch *s);
/* The scratch buffer of kind slot, which must hold bytes: more than s has is an error
 * naming who and the bytes (a prepare step that under-counted), never a new allocation. */
clnet_status clnet__scratch_get(clnet_context *ctx, const clnet__scratch *s,
                                clnet__scratch_slot slot, size_t bytes, const char *who,
                                cl_mem *out);
/* "im2col workspace", ... */
const char *clnet__scratch_name(clnet__scratch_slot slot);
/* Creates a device buffer, checking the device's max allocation and memory first so
 * an oversize request is a clear error naming what and the sizes. */
clnet_status clnet__buffer(clnet_context *ctx, size_t bytes, const char *what, cl_mem *out);
/* A read-only device buffer of at least count zero floats, the context's (never release
 * it): what kernels read in place of the cells outside an input (implicit padding). */
clnet_status clnet__zeros(clnet_context *ctx, size_t count, cl_mem *out);
/* Host memory of bytes (free() it), aligned to and asking for huge pages from 2 MB on: a
 * fresh 4 KB page costs a fault on first touch (~12 us in a VM), a 2 MB page one. */
void *clnet__host_alloc(size_t bytes);
/* Fills count floats at offset (in floats) of mem with value. */
clnet_status clnet__fill(clnet_context *ctx, cl_mem mem, size_t offset, size_t count, float value);
/* Enqueues a copy of bytes from host into mem without waiting: host must stay unchanged
 * until the next wait on the queue (a blocking read, clnet_context_finish). */
clnet_status clnet__write_async(clnet_context *ctx, cl_mem mem, size_t bytes, const void *host);
/* Copies count floats between buffers (offsets in floats). */
clnet_status clnet__copy(clnet_context *ctx, cl_mem src, size_t src_off, cl_mem dst, size_t dst_off,
                         size_t count);

static inline size_t clnet__round_up(size_t x, size_t m)
{
    return (x + m - 1) / m * m;
}

/* Global size of an ELEMENTWISE kernel (cl/common.cl) over count elements: one
 * work-item per CLNET_CHUNK elements of the program's class. */
size_t clnet__chunks(const clnet_context *ctx, const char *program, size_t count);

/* Starts keeping an event per launch (GEMM library calls included). */
void clnet__profile_begin(clnet_context *ctx);
/* Waits for the queue, then returns the summed device time in milliseconds of
 * the launches since clnet__profile_begin (from OpenCL profiling events). */
clnet_status clnet__profile_end(clnet_context *ctx, double *device_ms);
/* Where a launcher that enqueues by itself (CLBlast) should put its event, or
 * NULL when not profiling; the event is owned by ctx after the call. */
cl_event *clnet__profile_slot(clnet_context *ctx);

/* Monotonic wall time in seconds. */
double clnet__now(void);

#endif
