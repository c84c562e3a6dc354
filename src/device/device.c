/* device.c - enumerates OpenCL platforms and devices and describes each one,
 * including the device class that picks kernel variants. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"

static void get_string(cl_device_id d, cl_device_info what, char *buf, size_t len)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, len, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    buf[len - 1] = '\0';
    /* Some drivers pad names with spaces. */
    size_t n = strlen(buf);
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
}

static int has_extension(cl_device_id d, const char *ext)
{
    size_t size = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return 0;
    char *exts = malloc(size + 1);
    if (!exts)
        return 0;
    int found = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, size, exts, NULL) == CL_SUCCESS) {
        exts[size] = '\0';
        size_t len = strlen(ext);
        for (const char *p = strstr(exts, ext); p; p = strstr(p + 1, ext)) {
            if ((p == exts || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0')) {
                found = 1;
                break;
            }
        }
    }
    free(exts);
    return found;
}

void clnet__device_describe(cl_platform_id platform, cl_device_id d, int platform_index, int index,
                            clnet_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->index = index;
    info->platform_index = platform_index;
    if (clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform, info->platform,
                          NULL) != CL_SUCCESS)
        info->platform[0] = '\0';
    info->platform[sizeof info->platform - 1] = '\0';
    get_string(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    get_string(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    get_string(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    get_string(d, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    get_string(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version,
               sizeof info->opencl_c_version);

    cl_device_type type = 0;
    cl_uint cu = 0;
    cl_ulong gmem = 0, alloc = 0, lmem = 0;
    size_t wg = 0;
    cl_bool unified = CL_FALSE;
    cl_device_fp_config dbl = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    clGetDeviceInfo(d, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof dbl, &dbl, NULL);
    info->compute_units = cu;
    info->global_mem_bytes = gmem;
    info->max_alloc_bytes = alloc;
    info->local_mem_bytes = lmem;
    info->max_work_group_size = wg;
    info->unified_memory = unified == CL_TRUE;
    info->fp16 = has_extension(d, "cl_khr_fp16");
    info->fp64 = dbl != 0 || has_extension(d, "cl_khr_fp64");
    if (type & CL_DEVICE_TYPE_CPU)
        info->device_class = CLNET_CLASS_CPU;
    else if ((type & CL_DEVICE_TYPE_GPU) && info->unified_memory)
        info->device_class = CLNET_CLASS_IGPU;
    else
        info->device_class = CLNET_CLASS_DGPU;
}

static void set_err(char *err, size_t len, const char *msg)
{
    if (err && len > 0)
        snprintf(err, len, "%s", msg);
}

clnet_status clnet_devices_list(clnet_device_info **out, int *count, char *err, size_t err_len)
{
    if (!out || !count)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    *count = 0;
    cl_uint np = 0;
    cl_int e = clGetPlatformIDs(0, NULL, &np);
    if (e != CL_SUCCESS || np == 0) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "no OpenCL platform found (clGetPlatformIDs: %s): install an OpenCL driver, "
                 "e.g. pocl-opencl-icd for the CPU, and check OCL_ICD_VENDORS",
                 e == CL_SUCCESS ? "0 platforms" : clnet__cl_error_name(e));
        set_err(err, err_len, msg);
        return CLNET_ERR_NO_PLATFORM;
    }
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats) {
        set_err(err, err_len, "out of host memory listing platforms");
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    clGetPlatformIDs(np, plats, NULL);
    clnet_device_info *list = NULL;
    int n = 0;
    clnet_status st = CLNET_OK;
    for (cl_uint p = 0; p < np && st == CLNET_OK; ++p) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
        cl_device_id *devs = calloc(nd, sizeof *devs);
        clnet_device_info *grown = realloc(list, (size_t)(n + (int)nd) * sizeof *list);
        if (!devs || !grown) {
            free(devs);
            if (grown)
                list = grown;
            set_err(err, err_len, "out of host memory listing devices");
            st = CLNET_ERR_OUT_OF_MEMORY;
            break;
        }
        list = grown;
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL);
        for (cl_uint i = 0; i < nd; ++i, ++n)
            clnet__device_describe(plats[p], devs[i], (int)p, n, &list[n]);
        free(devs);
    }
    free(plats);
    if (st == CLNET_OK && n == 0) {
        set_err(err, err_len, "OpenCL platforms were found but they have no devices");
        st = CLNET_ERR_NO_DEVICE;
    }
    if (st != CLNET_OK) {
        free(list);
        return st;
    }
    *out = list;
    *count = n;
    return CLNET_OK;
}

void clnet_devices_free(clnet_device_info *list)
{
    free(list);
}

const char *clnet_device_class_name(clnet_device_class cls)
{
    switch (cls) {
    case CLNET_CLASS_DGPU:
        return "dgpu";
    case CLNET_CLASS_IGPU:
        return "igpu";
    case CLNET_CLASS_CPU:
        return "cpu";
    default:
        return "auto";
    }
}

clnet_status clnet_device_class_parse(const char *text, clnet_device_class *out)
{
    static const clnet_device_class all[] = {CLNET_CLASS_DGPU, CLNET_CLASS_IGPU, CLNET_CLASS_CPU};
    for (size_t i = 0; text && i < CLNET_COUNTOF(all); ++i) {
        if (strcmp(text, clnet_device_class_name(all[i])) == 0) {
            *out = all[i];
            return CLNET_OK;
        }
    }
    return CLNET_ERR_INVALID_ARG;
}
