/* datasets.h - opening datasets in tests: success or the expected failure, and a log
 * callback that keeps what the readers report. */
#ifndef CLNET_TESTS_DATASETS_H
#define CLNET_TESTS_DATASETS_H

#include "clnet.h"

/* Opens source (asserting success, with the reader's message on failure). */
clnet_dataset *clnet_test_open(const char *source, const char *part,
                               const clnet_dataset_options *opt);

/* Opening fails with status, *out stays NULL, and the message contains needle (and
 * needle2 if not NULL). line: the caller's, for the failure message. */
void clnet_test_open_fails_at(int line, const char *source, const char *part,
                              const clnet_dataset_options *opt, clnet_status status,
                              const char *needle, const char *needle2);
#define clnet_test_open_fails(...) clnet_test_open_fails_at(__LINE__, __VA_ARGS__)

/* Asserts that d's images are h x w x c. */
void clnet_test_expect_shape(const clnet_dataset *d, int h, int w, int c);

/* A clnet_log_fn keeping every line as "<level> <msg>\n" in text (cut when full). */
typedef struct clnet_test_log {
    int lines, warnings;
    char text[8192];
} clnet_test_log;

void clnet_test_log_line(void *user, int level, const char *msg);

#endif
