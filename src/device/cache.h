/* cache.h - on-disk cache of compiled program binaries (cache.c). */
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

#endif
