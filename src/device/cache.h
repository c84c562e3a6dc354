/* cache.h - on-disk cache of compiled program binaries, and the file helpers it and
 * the tuning database share (cache.c). */
#ifndef CLNET_DEVICE_CACHE_H
#define CLNET_DEVICE_CACHE_H

#include <stddef.h>

/* SHA-256 over n parts, each preceded by its length. */
void clnet__sha256(const void *const *parts, const size_t *lens, int n, unsigned char out[32]);

/* 1: hit (*data malloc'd, caller frees); 0: no entry; -1: entry present but corrupt. */
int clnet__cache_load(const char *dir, const unsigned char key[32], unsigned char **data,
                      size_t *size);
/* 0 on success, -1 when the directory or file cannot be written. */
int clnet__cache_store(const char *dir, const unsigned char key[32], const unsigned char *data,
                       size_t size);

/* mkdir -p: 0 when path is a directory afterwards, else -1. */
int clnet__make_dirs(const char *path);
/* Writes the n parts to a temporary file beside path, then renames it over path, so a
 * reader sees the old file or the whole new one. 0, or -1 with errno set. */
int clnet__write_atomic(const char *path, const void *const *parts, const size_t *lens, int n);
/* The whole regular file, NUL-terminated and malloc'd, its length in *len; NULL with errno
 * set (ENOENT: no such file; EISDIR, EINVAL: a directory, a FIFO or a device, never
 * waited on) when it cannot be read. */
char *clnet__read_file(const char *path, size_t *len);

#endif
