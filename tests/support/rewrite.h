/* rewrite.h - a modified copy of a safetensors file (model files, checkpoints), written
 * through the library's own writer: for tests of what a loader refuses. */
#ifndef CLNET_TESTS_REWRITE_H
#define CLNET_TESTS_REWRITE_H

#include <stdint.h>

/* What to change: drop the tensor drop, give the tensor reshape rank and shape (the
 * same element count), add a tensor extra of two floats, set the metadata key meta_key
 * to meta_value (NULL: remove it). NULL fields change nothing. */
typedef struct clnet_test_edit {
    const char *drop, *reshape, *extra, *meta_key, *meta_value;
    int rank;
    int64_t shape[4];
} clnet_test_edit;

/* Writes src changed by e to dst; asserts that every step works. */
void clnet_test_rewrite_file(const char *src, const char *dst, const clnet_test_edit *e);

#endif
