/* devices.c - `clnet devices`: every platform and device, with the class whose
 * kernel variants clnet would use. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void print_bytes(const char *label, uint64_t b)
{
    if (b >= (1ull << 30))
        printf("    %-22s %.2f GiB\n", label, (double)b / (double)(1ull << 30));
    else if (b >= (1ull << 20))
        printf("    %-22s %.1f MiB\n", label, (double)b / (double)(1ull << 20));
    else
        printf("    %-22s %.0f KiB\n", label, (double)b / 1024.0);
}

int clnet_cli_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: clnet devices\n\nLists every OpenCL platform and device. Choose one "
                   "with --device N|NAME or CLNET_DEVICE;\nforce a kernel class with "
                   "CLNET_DEVICE_CLASS=dgpu|igpu|cpu.\n");
            return 0;
        }
        static const char *const known[] = {"--help", NULL};
        return clnet_cli_unknown("devices", argv[i], known);
    }
    char err[512];
    clnet_device_info *list = NULL;
    int n = 0;
    clnet_status st = clnet_devices_list(&list, &n, err, sizeof err);
    if (st != CLNET_OK)
        return clnet_cli_error("devices", "%s", err);
    int last_platform = -1;
    for (int i = 0; i < n; ++i) {
        const clnet_device_info *d = &list[i];
        if (d->platform_index != last_platform) {
            printf("platform %d: %s\n", d->platform_index, d->platform);
            last_platform = d->platform_index;
        }
        printf("  device %d: %s\n", d->index, d->name);
        printf("    %-22s %s\n", "class", clnet_device_class_name(d->device_class));
        printf("    %-22s %s\n", "vendor", d->vendor);
        printf("    %-22s %s\n", "driver version", d->driver_version);
        printf("    %-22s %s\n", "device version", d->device_version);
        printf("    %-22s %s\n", "OpenCL C version", d->opencl_c_version);
        printf("    %-22s %u\n", "compute units", d->compute_units);
        print_bytes("global memory", d->global_mem_bytes);
        print_bytes("max allocation", d->max_alloc_bytes);
        print_bytes("local memory", d->local_mem_bytes);
        printf("    %-22s %zu\n", "max work-group size", d->max_work_group_size);
        printf("    %-22s %s\n", "host-unified memory", d->unified_memory ? "yes" : "no");
        printf("    %-22s %s\n", "fp16", d->fp16 ? "yes" : "no");
        printf("    %-22s %s\n", "fp64", d->fp64 ? "yes" : "no");
    }
    clnet_devices_free(list);
    return 0;
}
