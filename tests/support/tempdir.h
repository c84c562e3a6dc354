/* tempdir.h - one temporary directory per test: Criterion runs each test in its own
 * process, so a suite's .init / .fini make and remove it:
 *     TestSuite(name, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir); */
#ifndef CLNET_TESTS_TEMPDIR_H
#define CLNET_TESTS_TEMPDIR_H

#include <stddef.h>

extern char clnet_test_dir[64];

void clnet_test_make_dir(void);
void clnet_test_remove_dir(void);
/* "<clnet_test_dir>/<name>" in one of four rotating static buffers. */
const char *clnet_test_path(const char *name);

/* Writes n bytes to path; reads a whole file (malloc'd, *n bytes and a NUL after them,
 * free()). Both assert. */
void clnet_test_write_file(const char *path, const void *data, size_t n);
unsigned char *clnet_test_read_file(const char *path, size_t *n);

#endif
