/* test_context.c - device choice and its errors, forced classes, status strings and the
 * version (src/device/context.c, device.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

Test(status, every_code_has_a_distinct_string)
{
    static const clnet_status codes[] = {
#define CODE(name, value, text) name,
        CLNET_STATUS_LIST(CODE)
#undef CODE
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; ++i) {
        cr_assert_not_null(clnet_status_string(codes[i]));
        for (size_t j = 0; j < i; ++j)
            cr_assert_neq(strcmp(clnet_status_string(codes[i]), clnet_status_string(codes[j])), 0);
    }
    cr_assert_str_eq(clnet_status_string((clnet_status)12345), "unknown status");
    cr_assert_eq(CLNET_OK, 0);
}

Test(status, the_version_is_major_minor_patch)
{
    int major = -1, minor = -1, patch = -1, used = 0;
    const char *v = clnet_version();
    cr_assert_not_null(v);
    cr_expect_eq(sscanf(v, "%d.%d.%d%n", &major, &minor, &patch, &used), 3, "'%s'", v);
    cr_expect(major >= 0 && minor >= 0 && patch >= 0 && v[used] == '\0', "'%s'", v);
}

Test(devices, lists_at_least_one_device_with_a_class)
{
    clnet_test_device(); /* skips or fails per CLNET_TEST_REQUIRE_DEVICE when there is none */
    clnet_device_info *list = NULL;
    int n = 0;
    char err[256];
    cr_assert_eq(clnet_devices_list(&list, &n, err, sizeof err), CLNET_OK, "%s", err);
    cr_assert_gt(n, 0);
    for (int i = 0; i < n; ++i) {
        cr_expect_eq(list[i].index, i);
        cr_expect(list[i].device_class >= CLNET_CLASS_DGPU &&
                  list[i].device_class <= CLNET_CLASS_CPU);
        cr_expect_gt(list[i].compute_units, 0u);
        cr_expect_gt(list[i].max_alloc_bytes, 0u);
        cr_expect_gt(strlen(list[i].name), 0u);
    }
    clnet_devices_free(list);
}

static clnet_status open_with(const char *device, clnet_device_class cls, char *err, size_t len,
                              clnet_context **ctx)
{
    clnet_context_options opt = {0};
    opt.device = device;
    opt.device_class = cls;
    opt.error = err;
    opt.error_len = len;
    opt.cache_dir = "";
    return clnet_context_create(&opt, ctx);
}

Test(context, index_out_of_range_is_a_clear_error)
{
    clnet_test_device();
    char err[512] = "";
    clnet_context *ctx = (clnet_context *)&err;
    cr_assert_eq(open_with("99", CLNET_CLASS_AUTO, err, sizeof err, &ctx), CLNET_ERR_NO_DEVICE);
    cr_assert_null(ctx);
    cr_assert(strstr(err, "99") && strstr(err, "out of range"), "%s", err);
    cr_assert_eq(open_with("no-such-device-name", CLNET_CLASS_AUTO, err, sizeof err, &ctx),
                 CLNET_ERR_NO_DEVICE);
    cr_assert(strstr(err, "no-such-device-name"), "%s", err);
}

Test(context, chooses_by_index_and_name_and_forces_a_class)
{
    clnet_context *first = clnet_test_device();
    const clnet_device_info *d = clnet_context_device(first);
    char err[512] = "", name_part[16];
    snprintf(name_part, sizeof name_part, "%.6s", d->name);
    clnet_context *ctx = NULL;
    cr_assert_eq(open_with(name_part, CLNET_CLASS_DGPU, err, sizeof err, &ctx), CLNET_OK, "%s",
                 err);
    cr_assert_str_eq(clnet_context_device(ctx)->name, d->name);
    cr_assert_eq(clnet_context_class(ctx), CLNET_CLASS_DGPU);
    cr_assert_eq(clnet_context_finish(ctx), CLNET_OK);
    clnet_context_destroy(ctx);
    cr_assert_eq(open_with("0", CLNET_CLASS_AUTO, err, sizeof err, &ctx), CLNET_OK, "%s", err);
    cr_assert_eq(clnet_context_device(ctx)->index, 0);
    clnet_context_destroy(ctx);
    clnet_context_destroy(NULL);
}

Test(context, class_from_environment)
{
    clnet_test_device();
    char err[512] = "";
    clnet_context *ctx = NULL;
    setenv("CLNET_DEVICE_CLASS", "igpu", 1);
    cr_assert_eq(open_with(NULL, CLNET_CLASS_AUTO, err, sizeof err, &ctx), CLNET_OK, "%s", err);
    cr_assert_eq(clnet_context_class(ctx), CLNET_CLASS_IGPU);
    clnet_context_destroy(ctx);
    setenv("CLNET_DEVICE_CLASS", "tpu", 1);
    cr_assert_eq(open_with(NULL, CLNET_CLASS_AUTO, err, sizeof err, &ctx), CLNET_ERR_INVALID_ARG);
    cr_assert(strstr(err, "CLNET_DEVICE_CLASS=tpu"), "%s", err);
    unsetenv("CLNET_DEVICE_CLASS");
    clnet_device_class c;
    cr_assert_eq(clnet_device_class_parse("cpu", &c), CLNET_OK);
    cr_assert_eq(c, CLNET_CLASS_CPU);
    cr_assert_eq(clnet_device_class_parse("gpu", &c), CLNET_ERR_INVALID_ARG);
}

Test(context, no_platform_is_a_clear_error)
{
    /* The ICD loader reads OCL_ICD_VENDORS on its first call in this process. */
    setenv("OCL_ICD_VENDORS", "/nonexistent", 1);
    char err[512] = "";
    clnet_context *ctx = NULL;
    cr_assert_eq(open_with(NULL, CLNET_CLASS_AUTO, err, sizeof err, &ctx), CLNET_ERR_NO_PLATFORM);
    cr_assert_null(ctx);
    cr_assert(strstr(err, "no OpenCL platform"), "%s", err);
    clnet_device_info *list = NULL;
    int n = 5;
    cr_assert_eq(clnet_devices_list(&list, &n, err, sizeof err), CLNET_ERR_NO_PLATFORM);
    cr_assert_null(list);
    cr_assert_eq(n, 0);
}
