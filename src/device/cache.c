/* cache.c - the on-disk cache of compiled program binaries.
 *
 * An entry is <dir>/<sha256 key in hex>.bin:
 *   "CLNETPC1" | key[32] | payload length (u64 LE) | sha256(payload)[32] | payload
 * The key already covers device, driver, platform, options, source and the format
 * version (program.c). Entries are written to a temporary file and renamed, so a
 * reader never sees half an entry; a truncated or corrupt one fails the checks and
 * is rebuilt. Any filesystem failure only disables caching for this context.
 * Tests: tests/unit/test_cache.c. */
#include <errno.h>
#include <fcntl.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/cache.h"

static const char magic[8] = {'C', 'L', 'N', 'E', 'T', 'P', 'C', '1'};
enum { HEADER = 8 + 32 + 8 + 32 };

static void entry_path(const char *dir, const unsigned char key[32], char *buf, size_t len)
{
    char hex[65];
    for (int i = 0; i < 32; ++i)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    snprintf(buf, len, "%s/%s.bin", dir, hex);
}

int clnet__make_dirs(const char *path)
{
    char tmp[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; ++i) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            tmp[i] = c;
        }
    }
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
}

void clnet__sha256(const void *const *parts, const size_t *lens, int n, unsigned char out[32])
{
    SHA2_CTX h;
    SHA256Init(&h);
    for (int i = 0; i < n; ++i) {
        /* The length before each part keeps ("ab","c") and ("a","bc") apart. */
        uint64_t len = lens[i];
        SHA256Update(&h, (const uint8_t *)&len, sizeof len);
        SHA256Update(&h, parts[i], lens[i]);
    }
    SHA256Final(out, &h);
}

int clnet__cache_load(const char *dir, const unsigned char key[32], unsigned char **data,
                      size_t *size)
{
    *data = NULL;
    *size = 0;
    char path[1200];
    entry_path(dir, key, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0; /* a miss, not a fault */
    unsigned char head[HEADER];
    int ok = fread(head, 1, HEADER, f) == HEADER && memcmp(head, magic, 8) == 0 &&
             memcmp(head + 8, key, 32) == 0;
    uint64_t len = 0;
    for (int i = 0; ok && i < 8; ++i)
        len |= (uint64_t)head[40 + i] << (8 * i);
    ok = ok && len > 0 && len < ((uint64_t)1 << 32);
    unsigned char *buf = ok ? malloc((size_t)len) : NULL;
    ok = ok && buf && fread(buf, 1, (size_t)len, f) == (size_t)len && fgetc(f) == EOF;
    fclose(f);
    if (ok) {
        unsigned char sum[32];
        const void *parts[] = {buf};
        const size_t lens[] = {(size_t)len};
        clnet__sha256(parts, lens, 1, sum);
        ok = memcmp(sum, head + 48, 32) == 0;
    }
    if (!ok) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = (size_t)len;
    return 1;
}

int clnet__cache_store(const char *dir, const unsigned char key[32], const unsigned char *data,
                       size_t size)
{
    if (clnet__make_dirs(dir) != 0)
        return -1;
    char path[1200];
    entry_path(dir, key, path, sizeof path);
    unsigned char head[HEADER];
    memcpy(head, magic, 8);
    memcpy(head + 8, key, 32);
    for (int i = 0; i < 8; ++i)
        head[40 + i] = (unsigned char)((uint64_t)size >> (8 * i));
    const void *payload[] = {data};
    const size_t payload_len[] = {size};
    clnet__sha256(payload, payload_len, 1, head + 48);
    const void *parts[] = {head, data};
    const size_t lens[] = {HEADER, size};
    return clnet__write_atomic(path, parts, lens, 2);
}

int clnet__write_atomic(const char *path, const void *const *parts, const size_t *lens, int n)
{
    char tmp[1300];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        const int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    int ok = 1;
    for (int i = 0; ok && i < n; ++i)
        ok = fwrite(parts[i], 1, lens[i], f) == lens[i];
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

char *clnet__read_file(const char *path, size_t *len)
{
    /* Non-blocking, and regular files only: a FIFO would wait for a writer forever, a
     * directory or device has no size to read. */
    const int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        const int e = fstat(fd, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
        close(fd);
        errno = e;
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        const int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
                errno = EIO;
            } else {
                buf[n] = '\0';
                *len = (size_t)n;
            }
        }
    }
    const int e = errno;
    fclose(f);
    errno = e;
    return buf;
}
