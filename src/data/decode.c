/* decode.c - image files decoded by stb_image once what their headers claim has been
 * checked against the file (data.h). stb_image trusts a header: it reserves the pixels of
 * the claimed size, or the length a PNG chunk claims, before it reads any of it, so a
 * file of a hundred bytes could make it reserve gigabytes (found by
 * fuzz/fuzz_image_folder.c). The file is read once, checked, and decoded from memory.
 * Tests: tests/unit/test_dataset.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>

#include "data/data.h"

#define MAX_FILE (256u << 20)
#define MAX_SIDE 16384
#define MAX_PIXELS (1 << 26)
#define MAX_RATIO 2048u /* pixel bytes per file byte */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A PNG's chunks, each of which must fit in what is left of the file (stb reserves
 * every IDAT chunk's claimed length before reading it). 1, or 0 with why. */
static int png_chunks_fit(const uint8_t *data, size_t n, char *why, size_t len)
{
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 8 || memcmp(data, signature, 8) != 0)
        return 1; /* not a PNG */
    for (size_t at = 8; at + 12 <= n;) {
        const uint32_t length = be32(data + at);
        if (length > n - at - 12) {
            snprintf(why, len, "PNG chunk '%.4s' at byte %zu claims %lu bytes, the file has %zu",
                     (const char *)data + at + 4, at, (unsigned long)length, n - at - 12);
            return 0;
        }
        if (memcmp(data + at + 4, "IEND", 4) == 0)
            break;
        at += 12 + (size_t)length;
    }
    return 1;
}

/* The whole file, malloc'd, or NULL with why. */
static uint8_t *read_all(const char *path, size_t *n, char *why, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, len, "%s", strerror(errno));
        return NULL;
    }
    uint8_t *data = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
        snprintf(why, len, "cannot read its size");
    else if ((unsigned long)size > MAX_FILE)
        snprintf(why, len, "%ld bytes: image files are at most %u MiB", size, MAX_FILE >> 20);
    else if (!(data = malloc(size ? (size_t)size : 1)))
        snprintf(why, len, "out of memory for %ld bytes", size);
    else if ((*n = fread(data, 1, (size_t)size, f)) != (size_t)size) {
        snprintf(why, len, "read %zu of %ld bytes", *n, size);
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

uint8_t *clnet__image_decode(const char *path, int *w, int *h, int *comp, char *why, size_t len)
{
    size_t n = 0;
    uint8_t *data = read_all(path, &n, why, len), *pixels = NULL;
    if (!data)
        return NULL;
    if (n > (size_t)INT32_MAX || !png_chunks_fit(data, n, why, len))
        goto done;
    if (!stbi_info_from_memory(data, (int)n, w, h, comp)) {
        const char *reason = stbi_failure_reason();
        snprintf(why, len, "%s", reason ? reason : "not an image stb_image reads");
        goto done;
    }
    const uint64_t px = (uint64_t)*w * (uint64_t)*h, bytes = px * (uint64_t)*comp;
    if (*w < 1 || *h < 1 || *w > MAX_SIDE || *h > MAX_SIDE || px > MAX_PIXELS ||
        bytes > MAX_RATIO * (uint64_t)n + (64u << 10)) {
        snprintf(why, len,
                 "its header claims %dx%d pixels of %d channels: more than its %zu bytes can "
                 "hold, or past the limits (sides up to %d, %d pixels)",
                 *w, *h, *comp, n, MAX_SIDE, MAX_PIXELS);
        goto done;
    }
    if (!(pixels = stbi_load_from_memory(data, (int)n, w, h, comp, 0))) {
        const char *reason = stbi_failure_reason();
        snprintf(why, len, "%s", reason ? reason : "stb_image cannot decode it");
    }
done:
    free(data);
    return pixels;
}
