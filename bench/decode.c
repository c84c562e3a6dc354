/* decode.c - image decoding speed: each file given decoded from memory by
 * clnet__image_decode (src/data/decode.h: libjpeg-turbo, libpng, libwebp, libheif, stb)
 * and, for comparison, by stb_image alone, which decoded every format before.
 *     bench_decode [--repeats N] FILE...
 * One JSON line per file: size, bytes, and min / median milliseconds of each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stb/stb_image.h>

#include "data/decode.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int compare_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = n > 0 ? malloc((size_t)n) : NULL;
    *len = b ? fread(b, 1, (size_t)n, f) : 0;
    fclose(f);
    return b;
}

/* Times of `repeats` decodes with clnet (which = 0) or stb (1), sorted; 0 on failure. */
static int time_decodes(const unsigned char *b, size_t len, int which, int repeats, double *ms,
                        int *w, int *h)
{
    for (int r = 0; r < repeats; ++r) {
        const double t0 = now_ms();
        int ok;
        if (which == 0) {
            clnet__image im;
            char err[256];
            ok = clnet__image_decode(b, len, "bench", 0, &im, err, sizeof err) == CLNET_OK;
            *w = im.w;
            *h = im.h;
            clnet__image_free(&im);
            if (!ok)
                fprintf(stderr, "%s\n", err);
        } else {
            int c = 0;
            stbi_uc *p = stbi_load_from_memory(b, (int)len, w, h, &c, 0);
            ok = p != NULL;
            stbi_image_free(p);
        }
        ms[r] = now_ms() - t0;
        if (!ok)
            return 0;
    }
    qsort(ms, (size_t)repeats, sizeof *ms, compare_double);
    return 1;
}

int main(int argc, char **argv)
{
    int repeats = 10, first = 1;
    if (argc > 2 && strcmp(argv[1], "--repeats") == 0) {
        repeats = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || repeats < 1) {
        fprintf(stderr, "usage: bench_decode [--repeats N] FILE...\n");
        return 2;
    }
    double *ms = malloc((size_t)repeats * sizeof *ms);
    for (int i = first; i < argc; ++i) {
        size_t len = 0;
        unsigned char *b = read_all(argv[i], &len);
        if (!b) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            continue;
        }
        int w = 0, h = 0;
        printf("{\"file\":\"%s\",\"bytes\":%zu", argv[i], len);
        const char *names[2] = {"clnet", "stb"};
        for (int which = 0; which < 2; ++which) {
            if (time_decodes(b, len, which, repeats, ms, &w, &h))
                printf(",\"%s_min_ms\":%.3f,\"%s_median_ms\":%.3f", names[which], ms[0],
                       names[which], ms[repeats / 2]);
            else
                printf(",\"%s\":\"failed\"", names[which]);
        }
        printf(",\"size\":\"%dx%d\"}\n", w, h);
        free(b);
    }
    free(ms);
    return 0;
}
