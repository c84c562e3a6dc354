/* cache.c - the decoded cache of an image folder (clnet_dataset_options.cache_dir, `clnet
 * train --cache-decoded DIR`): every image at the target size as 8-bit pixels in one
 * memory-mapped file, filled as batches first decode them and read back on later epochs
 * and later runs, so that small images are not decoded again every epoch.
 *
 * The file, DIR/clnet-<key>.u8, its key a hash of the folder's real path, the file list,
 * the target size and the centre crop: a header, one record per image (the source file's size and
 * modification time when it was decoded, and its state: empty, made, unreadable, or
 * being made by a thread now), then the pixels, page-aligned. A record whose file
 * changed since is made again. States change through atomics, pixels are written before
 * the state that publishes them, so workers and the statistics' thread can share it; a
 * second process finding the file locked streams without it.
 * Tests: tests/unit/test_stream.c, tests/threads/test_batcher_threads.c. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/data.h"

#define MAGIC "clnetdc1"
#define HEADER_BYTES 64
#define PAGE 4096

enum { EMPTY = 0, MADE = 1, UNREADABLE = 2, MAKING = 3 };

typedef struct record {
    int64_t size, mtime_ns; /* of the source file when it was made */
    uint32_t state;
    uint32_t pad;
} record;

struct clnet__cache {
    int fd;
    size_t bytes; /* mapped */
    uint8_t *map;
    record *records;
    uint8_t *pixels;
    size_t image_bytes;
    char path[4096];
};

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; ++i)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t key_of(const clnet_dataset *d, const char *dir)
{
    char *real = realpath(dir, NULL);
    uint64_t h = fnv(0xcbf29ce484222325ull, real ? real : dir, strlen(real ? real : dir));
    free(real);
    const int shape[4] = {d->size, d->h, d->w, d->c};
    h = fnv(h, shape, sizeof shape);
    if (d->center_crop > 0.0f) /* a cache made before center_crop keeps its key */
        h = fnv(h, &d->center_crop, sizeof d->center_crop);
    for (int i = 0; i < d->size; ++i)
        h = fnv(h, d->paths[i], strlen(d->paths[i]) + 1);
    return h;
}

void clnet__cache_close(clnet__cache *c)
{
    if (!c)
        return;
    if (c->map && c->map != MAP_FAILED)
        munmap(c->map, c->bytes);
    if (c->fd >= 0)
        close(c->fd); /* releases the lock */
    free(c);
}

clnet_status clnet__cache_open(clnet_dataset *d, const char *dir, const char *cache_dir,
                               const clnet_dataset_options *opt, char *err, size_t err_len)
{
    clnet__cache *c = calloc(1, sizeof *c);
    if (!c)
        return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "out of memory");
    c->fd = -1;
    const uint64_t key = key_of(d, dir);
    snprintf(c->path, sizeof c->path, "%s/clnet-%016llx.u8", cache_dir, (unsigned long long)key);
    c->image_bytes = (size_t)d->h * d->w * d->c;
    const size_t records =
        ((HEADER_BYTES + (size_t)d->size * sizeof(record)) + PAGE - 1) / PAGE * PAGE;
    c->bytes = records + (size_t)d->size * c->image_bytes;
    mkdir(cache_dir, 0755); /* one level; an existing folder is fine */
    c->fd = open(c->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (c->fd < 0) {
        clnet__data_fail(err, err_len, CLNET_ERR_IO, "--cache-decoded %s: cannot open %s: %s",
                         cache_dir, c->path, strerror(errno));
        clnet__cache_close(c);
        return CLNET_ERR_IO;
    }
    if (flock(c->fd, LOCK_EX | LOCK_NB) != 0) {
        clnet__data_log(opt, 1, "%s is in use by another process: this run decodes without it",
                        c->path);
        clnet__cache_close(c);
        return CLNET_OK;
    }
    struct stat sb;
    uint8_t header[HEADER_BYTES] = {0};
    memcpy(header, MAGIC, 8);
    memcpy(header + 8, &key, sizeof key);
    const int shape[4] = {d->size, d->h, d->w, d->c};
    memcpy(header + 16, shape, sizeof shape);
    uint8_t found[HEADER_BYTES] = {0};
    const int fresh = fstat(c->fd, &sb) != 0 || (size_t)sb.st_size != c->bytes ||
                      pread(c->fd, found, sizeof found, 0) != (ssize_t)sizeof found ||
                      memcmp(found, header, sizeof header) != 0;
    /* A new file, or one of another layout: made again from empty (sparse) records. */
    if (fresh && (ftruncate(c->fd, 0) != 0 || ftruncate(c->fd, (off_t)c->bytes) != 0 ||
                  pwrite(c->fd, header, sizeof header, 0) != (ssize_t)sizeof header)) {
        clnet__data_fail(err, err_len, CLNET_ERR_IO,
                         "--cache-decoded: cannot make %s of %zu bytes: %s", c->path, c->bytes,
                         strerror(errno));
        clnet__cache_close(c);
        return CLNET_ERR_IO;
    }
    c->map = mmap(NULL, c->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    if (c->map == MAP_FAILED) {
        clnet__data_fail(err, err_len, CLNET_ERR_IO, "--cache-decoded: cannot map %s: %s", c->path,
                         strerror(errno));
        clnet__cache_close(c);
        return CLNET_ERR_IO;
    }
    c->records = (record *)(c->map + HEADER_BYTES);
    c->pixels = c->map + records;
    /* A run that stopped while making an image left it half made. */
    for (int i = 0; i < d->size; ++i)
        if (c->records[i].state == MAKING)
            c->records[i].state = EMPTY;
    d->cache = c;
    clnet__data_log(opt, 2, "%s: the decoded cache (%s, %.1f MB)", dir, c->path,
                    (double)c->bytes / 1e6);
    return CLNET_OK;
}

/* The source file's size and modification time, or -1s when it cannot be read. */
static void file_stamp(const char *path, int64_t *size, int64_t *mtime_ns)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        *size = *mtime_ns = -1;
        return;
    }
    *size = (int64_t)sb.st_size;
    *mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
}

int clnet__cache_claim(clnet__cache *c, int i, const char *path, const uint8_t **pixels,
                       int64_t stamp[2])
{
    record *r = &c->records[i];
    file_stamp(path, &stamp[0], &stamp[1]);
    uint32_t st = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
    if ((st == MADE || st == UNREADABLE) && r->size == stamp[0] && r->mtime_ns == stamp[1]) {
        *pixels = c->pixels + (size_t)i * c->image_bytes;
        return st == MADE ? CLNET__CACHE_HIT : CLNET__CACHE_UNREADABLE;
    }
    if (st == MAKING ||
        !__atomic_compare_exchange_n(&r->state, &st, MAKING, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return CLNET__CACHE_BUSY; /* another thread makes it: decode without the cache */
    *pixels = c->pixels + (size_t)i * c->image_bytes;
    return CLNET__CACHE_MAKE;
}

void clnet__cache_publish(clnet__cache *c, int i, const int64_t stamp[2], int made)
{
    record *r = &c->records[i];
    r->size = stamp[0];
    r->mtime_ns = stamp[1];
    __atomic_store_n(&r->state, made > 0 ? MADE : made == 0 ? UNREADABLE : EMPTY, __ATOMIC_RELEASE);
}
