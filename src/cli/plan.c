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

int clnet_cli_plan_arg(const char *cmd, int argc, char **argv, int *i, clnet_cli_plan_args *a)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--training") == 0) {
        a->training = 1;
        return 1;
    }
    const char **text = !strcmp(arg, "--device")  ? &a->device
                        : !strcmp(arg, "--class") ? &a->cls
                                                  : NULL;
    if (!text && strcmp(arg, "--batch") != 0)
        return 0;
    if (*i + 1 >= argc) {
        clnet_cli_error(cmd, "%s needs a value (see --help)", arg);
        return -1;
    }
    const char *v = argv[++*i];
    if (text) {
        *text = v;
        return 1;
    }
    char *end = NULL;
    const long n = strtol(v, &end, 10);
    if (end == v || *end || n < 1 || n > 1 << 20) {
        clnet_cli_error(cmd, "--batch: expected a positive number, got '%s'", v);
        return -1;
    }
    a->batch = (int)n;
    return 1;
}

/* The table: the plan of the chosen mode, then the other mode's memory (which may not
 * fit where this one does: training cannot slice). */
static void write_table(FILE *f, clnet_model *model, const char *title, const char *plan,
                        const clnet_cli_plan_args *a, clnet_context *ctx)
{
    clnet_plan_stats other;
    fprintf(f, "Model: %s\n%s", title, plan);
    if (clnet_model_plan_stats(model, !a->training, a->batch, &other) != CLNET_OK) {
        fprintf(f, "%s: %s\n", a->training ? "Inference" : "Training", clnet_context_error(ctx));
        return;
    }
    fprintf(f,
            "%s memory: %.2f MiB in %d buffers (unplanned: %.2f MiB with a buffer per tensor, "
            "%.2f MiB per layer unfused)\n",
            a->training ? "Peak inference activation" : "Training activation + gradient",
            mib(other.planned_bytes), other.buffers, mib(other.unplanned_bytes),
            mib(other.layer_bytes));
}

int clnet_cli_plan_write(const char *cmd, const clnet_graph *g, const char *title,
                         const clnet_cli_plan_args *a, int dot, char **text)
{
    *text = NULL;
    clnet_context *ctx = clnet_cli_context(cmd, a->device, a->cls);
    clnet_model *model = NULL;
    char *plan = NULL;
    int rc = ctx ? 0 : 1;
    if (rc == 0 && clnet_model_create(ctx, g, NULL, &model) != CLNET_OK)
        rc = clnet_cli_error(cmd, "%s: %s", title, clnet_context_error(ctx));
    if (rc == 0 && (dot ? clnet_model_plan_dot(model, a->training, a->batch, &plan)
                        : clnet_model_plan_text(model, a->training, a->batch, &plan)) != CLNET_OK)
        rc = clnet_cli_error(cmd, "%s: %s", title, clnet_context_error(ctx));
    if (rc == 0 && dot) {
        if (!(*text = strdup(plan))) /* the caller frees with free(), like the table */
            rc = clnet_cli_error(cmd, "out of memory");
    } else if (rc == 0) {
        size_t size = 0;
        FILE *f = open_memstream(text, &size);
        if (!f)
            rc = clnet_cli_error(cmd, "out of memory");
        else {
            write_table(f, model, title, plan, a, ctx);
            fclose(f);
        }
    }
    clnet_free(plan);
    clnet_model_destroy(model);
    clnet_context_destroy(ctx);
    return rc;
}

int clnet_cli_plan(int argc, char **argv)
{
    clnet_cli_model m;
    memset(&m, 0, sizeof m);
    clnet_cli_plan_args a = {NULL, NULL, 1, 0};
    int dot = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--dot") == 0) {
            dot = 1;
            continue;
        }
        int taken = clnet_cli_plan_arg("plan", argc, argv, &i, &a);
        if (taken == 0)
            taken = clnet_cli_model_arg("plan", argc, argv, &i, &m);
        if (taken < 0)
            return 1;
        static const char *const known[] = {"--dot", CLNET_CLI_PLAN_OPTIONS,
                                            CLNET_CLI_MODEL_OPTIONS, "--help", NULL};
        if (taken == 0)
            return clnet_cli_unknown("plan", argv[i], known);
    }
    const char *title = NULL;
    clnet_graph *g = clnet_cli_model_build("plan", &m, &title);
    if (!g)
        return 1;
    char *text = NULL;
    const int rc = clnet_cli_plan_write("plan", g, title, &a, dot, &text);
    if (rc == 0)
        fputs(text, stdout);
    free(text);
    clnet_graph_destroy(g);
    return rc;
}
