/* dataset.c - opening a dataset (dispatch to idx.c, cifar.c, folder.c), converting
 * images to the target size, class names, seeded splits and pixel statistics.
 * Tests: tests/unit/test_dataset.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_resize.h>

#include "data/data.h"
#include "tensor/rng.h"

/* Larger sides are surely a typo, and h * w * c must not overflow an int. */
#define MAX_SIDE 16384

/* clnet_dataset_stats of a lazy dataset: this many images, picked by a fixed seed. */
#define STATS_SAMPLE 256
#define STATS_SEED 0x5eedu

clnet_status clnet__data_fail(char *err, size_t err_len, clnet_status status, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return status;
}

void clnet__data_log(const clnet_dataset_options *opt, int level, const char *fmt, ...)
{
    if (!opt->log)
        return;
    char msg[4352];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    opt->log(opt->log_user, level, msg);
}

clnet_status clnet__class_map(const clnet_dataset_options *opt, const char *const *names, int n,
                              int *map, const char *where, const char *kind, char *err,
                              size_t err_len)
{
    for (int k = 0; k < n; ++k) {
        map[k] = opt->n_classes > 0 ? -1 : k;
        for (int j = 0; j < opt->n_classes && map[k] < 0; ++j)
            if (strcmp(names[k], opt->classes[j]) == 0)
                map[k] = j;
        if (map[k] >= 0)
            continue;
        char known[512] = "";
        size_t at = 0;
        for (int j = 0; j < opt->n_classes && at < sizeof known; ++j) {
            const int w =
                snprintf(known + at, sizeof known - at, "%s%s", j ? ", " : "", opt->classes[j]);
            at += w > 0 ? (size_t)w : 0;
        }
        if (at >= sizeof known) /* cut: say so */
            memcpy(known + sizeof known - 4, "...", 4);
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "%s: %s '%s' is not one of the %d classes given (%s)", where, kind,
                                names[k], opt->n_classes, known);
    }
    return CLNET_OK;
}

/* A class list given in opt: distinct, non-empty names. */
static clnet_status check_classes(const clnet_dataset_options *opt, const char *source, char *err,
                                  size_t err_len)
{
    if (opt->n_classes < 0 || (opt->n_classes > 0 && !opt->classes))
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "%s: n_classes %d needs as many class names", source,
                                opt->n_classes);
    for (int k = 0; k < opt->n_classes; ++k) {
        if (!opt->classes[k] || !*opt->classes[k])
            return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                    "%s: class name %d is empty", source, k);
        for (int j = 0; j < k; ++j)
            if (strcmp(opt->classes[j], opt->classes[k]) == 0)
                return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                        "%s: class '%s' is given twice (%d and %d)", source,
                                        opt->classes[k], j, k);
    }
    return CLNET_OK;
}

/* idx and CIFAR name their own classes: with a class list given, their labels become
 * the list's by name. */
static clnet_status relabel(clnet_dataset *d, const clnet_dataset_options *opt, const char *source,
                            char *err, size_t err_len)
{
    if (opt->n_classes == 0)
        return CLNET_OK;
    int *map = malloc((size_t)d->classes * sizeof *map);
    if (!map)
        return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", source);
    clnet_status st = clnet__class_map(opt, (const char *const *)d->names, d->classes, map, source,
                                       "class", err, err_len);
    for (int i = 0; st == CLNET_OK && i < d->size; ++i)
        d->labels[i] = map[d->labels[i]];
    free(map);
    if (st != CLNET_OK)
        return st;
    for (int k = 0; k < d->classes; ++k)
        free(d->names[k]);
    free(d->names);
    d->names = NULL;
    d->classes = 0;
    st = clnet__dataset_set_names(d, opt->classes, opt->n_classes);
    return st == CLNET_OK ? st : clnet__data_fail(err, err_len, st, "%s: out of memory", source);
}

clnet_status clnet__dataset_set_names(clnet_dataset *d, const char *const *names, int n)
{
    d->names = calloc((size_t)n, sizeof *d->names);
    if (!d->names)
        return CLNET_ERR_OUT_OF_MEMORY;
    d->classes = n; /* set first: destroy frees the names made before a failure */
    for (int k = 0; k < n; ++k) {
        const size_t len = strlen(names[k]) + 1;
        d->names[k] = malloc(len);
        if (!d->names[k])
            return CLNET_ERR_OUT_OF_MEMORY;
        memcpy(d->names[k], names[k], len);
    }
    return CLNET_OK;
}

/* n pixels from sc channels (1..4) to dc (1 or 3). Integer luminance so a gray value
 * does not depend on the compiler's float contraction. */
static void convert_channels(const uint8_t *src, size_t n, int sc, uint8_t *dst, int dc)
{
    for (size_t i = 0; i < n; ++i, src += sc, dst += dc) {
        if (sc <= 2) { /* gray, maybe with alpha */
            for (int k = 0; k < dc; ++k)
                dst[k] = src[0];
        } else if (dc == 1) {
            dst[0] = (uint8_t)((299u * src[0] + 587u * src[1] + 114u * src[2] + 500u) / 1000u);
        } else {
            memcpy(dst, src, 3);
        }
    }
}

/* rows x cols pixels of sc channels, rows stride bytes apart, to dc channels, packed. */
static void convert_rows(const uint8_t *src, size_t stride, int rows, int cols, int sc,
                         uint8_t *dst, int dc)
{
    for (int y = 0; y < rows; ++y)
        convert_channels(src + (size_t)y * stride, (size_t)cols, sc,
                         dst + (size_t)y * (size_t)cols * (size_t)dc, dc);
}

clnet_status clnet__image_convert_region(const uint8_t *src, int sh, int sw, int sc, int x, int y,
                                         int rw, int rh, uint8_t *dst, int dh, int dw, int dc)
{
    /* The resizer asserts (aborts) on an empty side: refused here, never passed on. */
    if (!src || !dst || sh < 1 || sw < 1 || sc < 1 || sc > 4 || dh < 1 || dw < 1 ||
        (dc != 1 && dc != 3) || x < 0 || y < 0 || rw < 1 || rh < 1 || rw > sw - x || rh > sh - y)
        return CLNET_ERR_INVALID_ARG;
    const size_t stride = (size_t)sw * (size_t)sc;
    src += (size_t)y * stride + (size_t)x * (size_t)sc;
    sh = rh;
    sw = rw;
    if (sh == dh && sw == dw) {
        convert_rows(src, stride, sh, sw, sc, dst, dc);
        return CLNET_OK;
    }
    /* Resize with as few channels as needed: alpha dropped and RGB made gray before,
     * gray made RGB after. */
    const int mid = (sc <= 2 || dc == 1) ? 1 : 3;
    uint8_t *before = NULL, *after = NULL, *narrow = NULL;
    clnet_status st = CLNET_ERR_OUT_OF_MEMORY;
    const uint8_t *in = src;
    int in_stride = (int)stride;
    if (sc != mid) {
        before = malloc((size_t)sh * (size_t)sw * (size_t)mid);
        if (!before)
            goto done;
        convert_rows(src, stride, sh, sw, sc, before, mid);
        in = before;
        in_stride = 0;
    }
    uint8_t *out = dst;
    if (mid != dc) {
        after = malloc((size_t)dh * (size_t)dw * (size_t)mid);
        if (!after)
            goto done;
        out = after;
    }
    /* stb_image_resize filters every input row to the output width, then down the
     * columns: O(sh * dw) work. An image shrunk in height but widened (5 x 8,390,148 to
     * 224 x 224: minutes) has its height reduced first, alone: O(sh * sw). The filters
     * are the ones stbir_resize_uint8 picks (Mitchell to shrink, Catmull-Rom to widen;
     * Catmull-Rom leaves the unscaled axis of each pass as it is), so only the rounding
     * between the passes differs. */
    if (sh > dh && sw < dw) {
        narrow = malloc((size_t)dh * (size_t)sw * (size_t)mid);
        if (!narrow ||
            !stbir_resize(in, sw, sh, in_stride, narrow, sw, dh, 0, STBIR_TYPE_UINT8, mid, -1, 0,
                          STBIR_EDGE_CLAMP, STBIR_EDGE_CLAMP, STBIR_FILTER_CATMULLROM,
                          STBIR_FILTER_MITCHELL, STBIR_COLORSPACE_LINEAR, NULL) ||
            !stbir_resize(narrow, sw, dh, 0, out, dw, dh, 0, STBIR_TYPE_UINT8, mid, -1, 0,
                          STBIR_EDGE_CLAMP, STBIR_EDGE_CLAMP, STBIR_FILTER_CATMULLROM,
                          STBIR_FILTER_CATMULLROM, STBIR_COLORSPACE_LINEAR, NULL))
            goto done;
    } else if (!stbir_resize_uint8(in, sw, sh, in_stride, out, dw, dh, 0, mid)) {
        goto done;
    }
    if (after)
        convert_channels(after, (size_t)dh * (size_t)dw, mid, dst, dc);
    st = CLNET_OK;
done:
    free(before);
    free(after);
    free(narrow);
    return st;
}

clnet_status clnet__image_convert(const uint8_t *src, int sh, int sw, int sc, uint8_t *dst, int dh,
                                  int dw, int dc)
{
    return clnet__image_convert_region(src, sh, sw, sc, 0, 0, sw, sh, dst, dh, dw, dc);
}

/* Converts every image of a root read at its own size to opt's size and channels, through
 * its centre crop. */
static clnet_status fit(clnet_dataset *d, const clnet_dataset_options *opt)
{
    if (!d->pixels) /* a lazy folder makes each image at the target size when it loads it */
        return CLNET_OK;
    const int h = opt->h ? opt->h : d->h, w = opt->w ? opt->w : d->w, c = opt->c ? opt->c : d->c;
    const clnet__region r = opt->center_crop > 0.0f
                                ? clnet__center_region(d->h, d->w, h, w, opt->center_crop)
                                : (clnet__region){0, 0, d->w, d->h};
    if (h == d->h && w == d->w && c == d->c && r.w == d->w && r.h == d->h)
        return CLNET_OK;
    const size_t from = (size_t)d->h * d->w * d->c, to = (size_t)h * w * c;
    uint8_t *pixels = malloc(to * (size_t)d->size);
    if (!pixels)
        return CLNET_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < d->size; ++i) {
        const clnet_status st =
            clnet__image_convert_region(d->pixels + from * (size_t)i, d->h, d->w, d->c, r.x, r.y,
                                        r.w, r.h, pixels + to * (size_t)i, h, w, c);
        if (st != CLNET_OK) {
            free(pixels);
            return st;
        }
    }
    free(d->pixels);
    d->pixels = pixels;
    d->h = h;
    d->w = w;
    d->c = c;
    return CLNET_OK;
}

char *clnet__path_join(const char *dir, const char *name)
{
    const size_t ld = strlen(dir), ln = strlen(name);
    char *s = malloc(ld + ln + 2);
    if (s) {
        memcpy(s, dir, ld);
        s[ld] = '/';
        memcpy(s + ld + 1, name, ln + 1);
    }
    return s;
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

clnet_status clnet_dataset_open(const char *source, const char *part,
                                const clnet_dataset_options *opt, clnet_dataset **out, char *err,
                                size_t err_len)
{
    if (!out)
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG, "no place for the dataset");
    *out = NULL;
    if (!source || !*source)
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG, "no dataset source given");
    const clnet_dataset_options defaults = {0};
    if (!opt)
        opt = &defaults;
    if (opt->h < 0 || opt->w < 0 || opt->h > MAX_SIDE || opt->w > MAX_SIDE ||
        (opt->c != 0 && opt->c != 1 && opt->c != 3))
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "%s: bad image size %dx%dx%d (sides 0..%d, channels 0, 1 or 3)",
                                source, opt->h, opt->w, opt->c, MAX_SIDE);
    if (!(opt->center_crop >= 0.0f && opt->center_crop <= 1.0f))
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "%s: center_crop %g is not in [0, 1] (0: none)", source,
                                (double)opt->center_crop);
    const clnet_status valid = check_classes(opt, source, err, err_len);
    if (valid != CLNET_OK)
        return valid;
    const int is_idx = has_prefix(source, "idx:"), is_cifar = has_prefix(source, "cifar:");
    const char *dir = is_idx ? source + 4 : is_cifar ? source + 6 : source;
    if (!*dir)
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG, "%s: no directory given",
                                source);
    if (!part)
        part = "train";
    if ((is_idx || is_cifar) && strcmp(part, "train") != 0 && strcmp(part, "test") != 0)
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "%s: part '%s' is neither 'train' nor 'test'", source, part);
    clnet_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", source);
    d->center_crop = opt->center_crop;
    clnet_status st = is_idx     ? clnet__idx_open(d, dir, part, opt, err, err_len)
                      : is_cifar ? clnet__cifar_open(d, dir, part, opt, err, err_len)
                                 : clnet__folder_open(d, dir, opt, err, err_len);
    if (st == CLNET_OK && (is_idx || is_cifar))
        st = relabel(d, opt, source, err, err_len);
    if (st == CLNET_OK && fit(d, opt) != CLNET_OK)
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY,
                              "%s: out of memory converting %d images to the target size", source,
                              d->size);
    if (st != CLNET_OK) {
        clnet_dataset_destroy(d);
        return st;
    }
    *out = d;
    return CLNET_OK;
}

void clnet_dataset_destroy(clnet_dataset *d)
{
    if (!d)
        return;
    if (!d->index) {
        free(d->pixels);
        for (int i = 0; d->paths && i < d->size; ++i)
            free(d->paths[i]);
        free(d->paths);
        clnet__skips_destroy(d->skips);
        clnet__cache_close(d->cache);
        free(d->labels);
        if (d->names)
            for (int k = 0; k < d->classes; ++k)
                free(d->names[k]);
        free(d->names);
    }
    free(d->index);
    free(d);
}

int clnet_dataset_size(const clnet_dataset *d)
{
    return d ? d->size : 0;
}

clnet_shape clnet_dataset_image_shape(const clnet_dataset *d)
{
    const clnet_shape none = {0, 0, 0, 0};
    if (!d)
        return none;
    const clnet_shape s = {1, d->h, d->w, d->c};
    return s;
}

int clnet_dataset_class_count(const clnet_dataset *d)
{
    return d ? d->classes : 0;
}

const char *clnet_dataset_class_name(const clnet_dataset *d, int k)
{
    return d && k >= 0 && k < d->classes ? d->names[k] : NULL;
}

int clnet_dataset_skipped(const clnet_dataset *d)
{
    return d ? clnet__dataset_skipped(d) : 0;
}

int clnet_dataset_ignored(const clnet_dataset *d)
{
    return d ? d->ignored : 0;
}

int clnet_dataset_label(const clnet_dataset *d, int i)
{
    return d && i >= 0 && i < d->size ? clnet__dataset_label_at(d, i) : -1;
}

void clnet__shuffle(int *a, int n, clnet__rng *r)
{
    for (int i = n - 1; i > 0; --i) {
        const int j = (int)(clnet__rng_uniform(r) * (i + 1));
        const int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static int compare_int(const void *a, const void *b)
{
    const int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* A split of d holding root indices of d's images at[0..n), in increasing order so
 * that reading the part walks memory forwards (the batcher shuffles anyway). */
static clnet_dataset *part_of(const clnet_dataset *d, const int *at, int n)
{
    clnet_dataset *p = malloc(sizeof *p);
    int *index = malloc((size_t)(n ? n : 1) * sizeof *index);
    if (!p || !index) {
        free(p);
        free(index);
        return NULL;
    }
    *p = *d;
    p->size = n;
    for (int i = 0; i < n; ++i)
        index[i] = d->index ? d->index[at[i]] : at[i];
    qsort(index, (size_t)n, sizeof *index, compare_int);
    p->index = index;
    return p;
}

clnet_status clnet_dataset_split(clnet_dataset *d, double fraction, uint64_t seed,
                                 clnet_dataset **train, clnet_dataset **val)
{
    if (train)
        *train = NULL;
    if (val)
        *val = NULL;
    if (!d || !train || !val || !(fraction >= 0.0 && fraction <= 1.0))
        return CLNET_ERR_INVALID_ARG;
    int *perm = malloc((size_t)(d->size ? d->size : 1) * sizeof *perm);
    if (!perm)
        return CLNET_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < d->size; ++i)
        perm[i] = i;
    clnet__rng r;
    clnet__rng_seed(&r, seed);
    clnet__shuffle(perm, d->size, &r);
    const int n_val = (int)floor(fraction * d->size + 0.5);
    clnet_dataset *v = part_of(d, perm, n_val);
    clnet_dataset *t = part_of(d, perm + n_val, d->size - n_val);
    free(perm);
    if (!v || !t) {
        clnet_dataset_destroy(v);
        clnet_dataset_destroy(t);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    *train = t;
    *val = v;
    return CLNET_OK;
}

clnet_status clnet_dataset_stats(const clnet_dataset *d, float *mean, float *std)
{
    if (!d || !mean || !std || d->size == 0)
        return CLNET_ERR_INVALID_ARG;
    /* A lazy dataset is sampled: decoding every file of a large folder before the first
     * step is what lazy datasets avoid, and a few hundred images pin the mean and
     * deviation of millions of pixels well enough for normalization. */
    const int lazy = d->pixels == NULL;
    const int want = lazy && d->size > STATS_SAMPLE ? STATS_SAMPLE : d->size;
    int *pick = malloc((size_t)d->size * sizeof *pick);
    uint8_t *scratch = lazy ? malloc((size_t)d->h * d->w * d->c) : NULL;
    if (!pick || (lazy && !scratch)) {
        free(pick);
        free(scratch);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    for (int i = 0; i < d->size; ++i)
        pick[i] = i;
    if (want < d->size) {
        clnet__rng r;
        clnet__rng_seed(&r, STATS_SEED);
        clnet__shuffle(pick, d->size, &r);
    }
    /* Exact integer sums (255^2 per value leaves room for 2^47 pixels); the population
     * standard deviation, as normalization uses it. */
    uint64_t sum[3] = {0, 0, 0}, sq[3] = {0, 0, 0};
    const size_t pixels = (size_t)d->h * d->w;
    int used = 0;
    for (int i = 0; i < d->size && used < want; ++i) {
        const uint8_t *p = clnet__dataset_load(d, pick[i], scratch);
        if (!p)
            continue; /* unreadable: counted and reported by the load */
        ++used;
        for (size_t k = 0; k < pixels; ++k)
            for (int ch = 0; ch < d->c; ++ch) {
                const uint64_t v = p[k * (size_t)d->c + (size_t)ch];
                sum[ch] += v;
                sq[ch] += v * v;
            }
    }
    free(pick);
    free(scratch);
    if (used == 0)
        return CLNET_ERR_PARSE;
    const double n = (double)pixels * used;
    for (int ch = 0; ch < d->c; ++ch) {
        const double m = (double)sum[ch] / n, var = (double)sq[ch] / n - m * m;
        mean[ch] = (float)(m / 255.0);
        std[ch] = (float)(sqrt(var > 0.0 ? var : 0.0) / 255.0);
    }
    return CLNET_OK;
}

/* scikit-learn's compute_class_weight("balanced") (sklearn/utils/class_weight.py):
 * len(y) / (len(classes present) * bincount(y)); it refuses a class absent from y,
 * where this gives 1. */
clnet_status clnet_dataset_class_weights(const clnet_dataset *d, float *weights)
{
    if (!d || !weights)
        return CLNET_ERR_INVALID_ARG;
    int *count = calloc((size_t)(d->classes ? d->classes : 1), sizeof *count);
    if (!count)
        return CLNET_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < d->size; ++i)
        ++count[clnet__dataset_label_at(d, i)];
    int present = 0;
    for (int k = 0; k < d->classes; ++k)
        present += count[k] > 0;
    for (int k = 0; k < d->classes; ++k)
        weights[k] = count[k] ? (float)((double)d->size / ((double)present * count[k])) : 1.0f;
    free(count);
    return CLNET_OK;
}
