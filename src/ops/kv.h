/* kv.h - the key = value lines of one spec section, as op parameters come in
 * (`filters = 64`, `kernel_size = 3, 3`, `padding = same`). Every getter names the
 * key, its line and the section on error; unknown keys are an error too.
 * kv.c. Tests: tests/unit/test_kv.c. */
#ifndef CLNET_OPS_KV_H
#define CLNET_OPS_KV_H

#include <limits.h>

#include "device/runtime.h"

#define CLNET_KV_MAX 32
/* Limits of every size a spec gives (kernel_size, strides, filters, units, padding, ...)
 * and of the shapes they make, per image: a side or channel count at most CLNET_MAX_DIM,
 * a tensor at most CLNET_MAX_ELEMENTS (kernels index with int). Sizes past them are
 * refused when parsed, naming the key, so shape arithmetic cannot overflow. */
#define CLNET_MAX_DIM (1 << 24)
#define CLNET_MAX_ELEMENTS INT_MAX
#define CLNET_KV_REQUIRED INT_MIN /* as an int default: the key must be present */

typedef struct clnet__kv_item {
    char key[48];
    char value[208];
    int line;
    int used;
} clnet__kv_item;

typedef struct clnet__kv {
    char where[160]; /* "model.spec [conv1]", used to prefix messages */
    clnet__kv_item items[CLNET_KV_MAX];
    int n;
    /* Every key a getter looked for, present or not (tests check each op documents
     * every key its parse function reads). */
    char asked[CLNET_KV_MAX][48];
    int n_asked;
} clnet__kv;

/* Removes leading and trailing white space in place. */
void clnet__trim(char *s);

/* Parses "key = value" lines; '#' starts a comment; blank lines are skipped.
 * first_line numbers the first line of text (for messages). */
clnet_status clnet__kv_parse(clnet_context *ctx, const char *text, const char *where,
                             int first_line, clnet__kv *kv);
/* NULL if absent; marks the key used and records it as asked. */
const clnet__kv_item *clnet__kv_find(clnet__kv *kv, const char *key);
/* Records "<where> line N: key 'k': <msg>" on ctx. item may be NULL. */
clnet_status clnet__kv_error(clnet_context *ctx, const clnet__kv *kv, const clnet__kv_item *item,
                             const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* def == CLNET_KV_REQUIRED makes the key required. */
clnet_status clnet__kv_int(clnet_context *ctx, clnet__kv *kv, const char *key, int def, int *out);
/* clnet__kv_int whose value must be in lo..hi (def need not be). */
clnet_status clnet__kv_int_in(clnet_context *ctx, clnet__kv *kv, const char *key, int def, int lo,
                              int hi, int *out);
/* "3" gives {3, 3}; "3, 5" or "(3, 5)" gives {3, 5}. */
clnet_status clnet__kv_int2(clnet_context *ctx, clnet__kv *kv, const char *key, int def,
                            int out[2]);
/* Up to max integers separated by commas (optionally in parentheses); *count gets
 * how many. Absent key: *count = 0 and OK. */
clnet_status clnet__kv_ints(clnet_context *ctx, clnet__kv *kv, const char *key, int *out, int max,
                            int *count);
/* clnet__kv_ints whose values must each be in lo..hi. */
clnet_status clnet__kv_ints_in(clnet_context *ctx, clnet__kv *kv, const char *key, int *out,
                               int max, int *count, int lo, int hi);
clnet_status clnet__kv_float(clnet_context *ctx, clnet__kv *kv, const char *key, double def,
                             double *out);
/* true/false/1/0/yes/no. */
clnet_status clnet__kv_bool(clnet_context *ctx, clnet__kv *kv, const char *key, int def, int *out);
/* One of names[0..n); def is an index, or CLNET_KV_REQUIRED. */
clnet_status clnet__kv_enum(clnet_context *ctx, clnet__kv *kv, const char *key,
                            const char *const *names, int n, int def, int *out);
/* An error naming the first key no getter asked for. */
clnet_status clnet__kv_check_unused(clnet_context *ctx, const clnet__kv *kv, const char *op);

#endif
