/* datasets.c - see datasets.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support/datasets.h"

clnet_dataset *clnet_test_open(const char *source, const char *part,
                               const clnet_dataset_options *opt)
{
    char err[1024] = "";
    clnet_dataset *d = NULL;
    const clnet_status st = clnet_dataset_open(source, part, opt, &d, err, sizeof err);
    cr_assert_eq(st, CLNET_OK, "%s: %s", source, err);
    cr_assert_not_null(d);
    return d;
}

void clnet_test_open_fails_at(int line, const char *source, const char *part,
                              const clnet_dataset_options *opt, clnet_status status,
                              const char *needle, const char *needle2)
{
    char err[1024] = "";
    clnet_dataset *d = (clnet_dataset *)&d;
    const clnet_status st = clnet_dataset_open(source, part, opt, &d, err, sizeof err);
    cr_assert_eq(st, status, "line %d: %s: got %s (%s)", line, source, clnet_status_string(st),
                 err);
    cr_assert_null(d);
    cr_assert_not_null(strstr(err, needle), "line %d: '%s' does not name '%s'", line, err, needle);
    if (needle2)
        cr_assert_not_null(strstr(err, needle2), "line %d: '%s' does not say '%s'", line, err,
                           needle2);
}

void clnet_test_expect_shape(const clnet_dataset *d, int h, int w, int c)
{
    const clnet_shape s = clnet_dataset_image_shape(d);
    cr_assert(s.n == 1 && s.h == h && s.w == w && s.c == c, "shape %dx%dx%dx%d, want 1x%dx%dx%d",
              s.n, s.h, s.w, s.c, h, w, c);
}

void clnet_test_log_line(void *user, int level, const char *msg)
{
    clnet_test_log *c = user;
    ++c->lines;
    c->warnings += level == 1;
    const size_t len = strlen(c->text);
    snprintf(c->text + len, sizeof c->text - len, "%d %s\n", level, msg);
}
