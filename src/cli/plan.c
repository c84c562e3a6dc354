/* plan.c - `clnet plan MODEL`: the scheduler's plan of a model on a device: the fused
 * groups in execution order with the kernels chosen for the device, each buffer, and
 * the activation memory of inference and training against the unplanned sums
 * (clnet_model_plan_text, src/plan/describe.c). Tests: tests/cli/test_cli.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet plan MODEL [--batch N] [--training] [--dot] [--device N|NAME]\n"
            "                  [--class dgpu|igpu|cpu] [model options]\n\n"
            "Builds MODEL (a zoo name or a spec file) on the device and prints its inference\n"
            "plan: the fused groups (conv + batch norm + relu, the residual add) in execution\n"
            "order, the kernels this device runs for each, the activation buffer each output\n"
            "lives in, and the peak activation memory against one buffer per tensor; then the\n"
            "training plan's memory. --training prints the training plan's groups instead.\n"
            "--dot writes the plan as Graphviz DOT.\n\n"
            "options:\n"
            "  --batch N          images per forward (default 1)\n"
            "  --training         the training plan (batch statistics, gradients)\n"
            "  --dot              Graphviz DOT of the plan instead of the table\n"
            "  --device N|NAME    device index or name substring (default: the first GPU)\n"
            "  --class C          use the kernel variants of class C on the device\n"
            "%s",
            clnet_cli_model_usage);
}

clnet_context *clnet_cli_context(const char *cmd, const char *device, const char *cls)
{
    char err[1024] = "";
    clnet_context_options opt;
    memset(&opt, 0, sizeof opt);
    opt.device = device;
    opt.error = err;
    opt.error_len = sizeof err;
    if (cls && clnet_device_class_parse(cls, &opt.device_class) != CLNET_OK) {
        clnet_cli_error(cmd, "--class %s: expected dgpu, igpu or cpu", cls);
        return NULL;
    }
    clnet_context *ctx = NULL;
    if (clnet_context_create(&opt, &ctx) != CLNET_OK)
        clnet_cli_error(cmd, "%s", err);
    return ctx;
}

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

int clnet_cli_plan(int argc, char **argv)
{
    clnet_cli_model m;
    memset(&m, 0, sizeof m);
    const char *device = NULL, *cls = NULL;
    int batch = 1, training = 0, dot = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--training") == 0) {
            training = 1;
        } else if (strcmp(argv[i], "--dot") == 0) {
            dot = 1;
        } else if ((strcmp(argv[i], "--batch") == 0 || strcmp(argv[i], "--device") == 0 ||
                    strcmp(argv[i], "--class") == 0)) {
            if (i + 1 >= argc)
                return clnet_cli_error("plan", "%s needs a value (see --help)", argv[i]);
            const char *v = argv[++i];
            if (argv[i - 1][2] == 'd') {
                device = v;
            } else if (argv[i - 1][2] == 'c') {
                cls = v;
            } else {
                char *end = NULL;
                const long n = strtol(v, &end, 10);
                if (end == v || *end || n < 1 || n > 1 << 20)
                    return clnet_cli_error("plan", "--batch: expected a positive number, got '%s'",
                                           v);
                batch = (int)n;
            }
        } else {
            const int taken = clnet_cli_model_arg("plan", argc, argv, &i, &m);
            if (taken < 0)
                return 1;
            if (taken == 0)
                return clnet_cli_error("plan", "unexpected argument '%s' (see --help)", argv[i]);
        }
    }
    const char *title = NULL;
    clnet_graph *g = clnet_cli_model_build("plan", &m, &title);
    if (!g)
        return 1;
    clnet_context *ctx = clnet_cli_context("plan", device, cls);
    clnet_model *model = NULL;
    int rc = 1;
    char *text = NULL;
    clnet_plan_stats other;
    if (!ctx)
        goto done;
    if (clnet_model_create(ctx, g, NULL, &model) != CLNET_OK) {
        clnet_cli_error("plan", "%s: %s", title, clnet_context_error(ctx));
        goto done;
    }
    clnet_status st = dot ? clnet_model_plan_dot(model, training, batch, &text)
                          : clnet_model_plan_text(model, training, batch, &text);
    if (st != CLNET_OK) {
        clnet_cli_error("plan", "%s: %s", title, clnet_context_error(ctx));
        goto done;
    }
    if (dot) {
        fputs(text, stdout);
    } else if (clnet_model_plan_stats(model, !training, batch, &other) != CLNET_OK) {
        /* The other mode may not fit where this one does (training cannot slice). */
        printf("Model: %s\n%s%s: %s\n", title, text, training ? "Inference" : "Training",
               clnet_context_error(ctx));
    } else {
        printf("Model: %s\n%s", title, text);
        printf("%s memory: %.2f MiB in %d buffers (unplanned: %.2f MiB with a buffer per "
               "tensor, %.2f MiB per layer unfused)\n",
               training ? "Peak inference activation" : "Training activation + gradient",
               mib(other.planned_bytes), other.buffers, mib(other.unplanned_bytes),
               mib(other.layer_bytes));
    }
    rc = 0;
done:
    clnet_free(text);
    clnet_model_destroy(model);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
    return rc;
}
