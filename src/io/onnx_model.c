/* onnx_model.c - an ONNX file as a model on a device (import.c makes it of what
 * onnx_import.c reads), or as a graph alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx.h"
#include "io/safetensors.h"
#include "plan/plan.h"

clnet_status clnet_model_import_onnx(clnet_context *ctx, const char *path,
                                     const clnet_onnx_options *onnx, const clnet_model_options *opt,
                                     clnet_model **out)
{
    if (!out)
        return ctx ? clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "clnet_model_import_onnx: no out")
                   : CLNET_ERR_INVALID_ARG;
    *out = NULL;
    if (!ctx || !path)
        return ctx ? clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "clnet_model_import_onnx: no path")
                   : CLNET_ERR_INVALID_ARG;
    char err[8192] = "";
    clnet__import im;
    clnet_status st = clnet__onnx_import_file(path, onnx, &im, err, sizeof err);
    if (st == CLNET_OK)
        st = clnet__import_model(ctx, &im, opt, out, err, sizeof err);
    clnet__import_free(&im);
    return st == CLNET_OK ? st : clnet__fail(ctx, st, "ONNX model '%s': %s", path, err);
}

clnet_status clnet_graph_from_onnx(const char *path, const clnet_onnx_options *onnx,
                                   clnet_graph **out, char *err, size_t err_len)
{
    if (!out || !path)
        return clnet__st_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                              "clnet_graph_from_onnx: no path or out");
    *out = NULL;
    char buf[8192];
    clnet__import im;
    const clnet_status st = clnet__onnx_import_file(path, onnx, &im, buf, sizeof buf);
    if (st != CLNET_OK)
        return clnet__st_fail(err, err_len, st, "ONNX model '%s': %s", path, buf);
    *out = im.g;
    im.g = NULL;
    clnet__import_free(&im);
    return CLNET_OK;
}
