/* tune.c - `clnet tune MODEL`: times the candidate kernels and launch parameters of
 * every problem MODEL runs on the device (clnet_model_tune), each checked against the
 * reference first, and stores the winners in the per-user tuning database, which
 * every later context on this device, driver and class uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet tune MODEL [--batch N] [--train] [--repeats R] [--db FILE] [--dry-run]\n"
            "                        [--gemm-library] [--quiet] [--device N|NAME] [--class C]\n"
            "                        [model options]\n\n"
            "Finds the fastest kernels for MODEL (a zoo name or a spec file) on the device:\n"
            "collects the problems it computes (the algorithm of each distinct convolution,\n"
            "im2col or Winograd, and with --train of its input gradient; then, from one run,\n"
            "every GEMM shape, with --train the backward ones as well), and for each times\n"
            "the candidate algorithms, implementations and launch parameters, each checked\n"
            "against the plain C reference before it is timed (a candidate that differs is\n"
            "rejected). The winners go to the tuning database, keyed by device name, driver\n"
            "version, kernel class and problem; later runs of any model with those problems\n"
            "use them (`clnet bench model` reports how many). Entries override the built-in\n"
            "defaults of the device class; delete the file to return to them.\n\n"
            "options:\n"
            "  --batch N        batch size of the problems (default 1)\n"
            "  --train          also tune the training step (forward and backward)\n"
            "  --repeats R      timed runs per candidate, median kept (default 5, at most 64)\n"
            "  --db FILE        the database (default $CLNET_TUNE_DB, else\n"
            "                   $XDG_DATA_HOME/clnet/tune.json or ~/.local/share/clnet/tune.json)\n"
            "  --dry-run        measure and print, write nothing\n"
            "  --gemm-library   also time CLBlast where the class does not use it (its first\n"
            "                   use compiles for seconds per kernel)\n"
            "  --quiet          one line per problem instead of every candidate\n"
            "  --device, --class  the device and kernel class (as for `clnet devices`)\n"
            "%s",
            clnet_cli_model_usage);
}

/* Warnings (an unreadable database) but not the info lines. */
static void log_warnings(void *user, int level, const char *msg)
{
    /* Errors (level 0) come back as the failing call's message; print them once. */
    if (level == 1)
        clnet_cli_log(user, level, msg);
}

static int positive(const char *cmd, const char *opt, const char *text, int *out)
{
    char *end = NULL;
    const long v = strtol(text, &end, 10);
    if (!end || *end || v < 1 || v > 100000)
        return clnet_cli_error(cmd, "%s %s: expected a positive integer", opt, text);
    *out = (int)v;
    return 0;
}

static void print_rows(const clnet_tune_row *rows, int n, int quiet)
{
    double total_default = 0.0, total_best = 0.0;
    int problems = 0, improved = 0;
    for (int i = 0; i < n; ++i) {
        const clnet_tune_row *r = &rows[i];
        const int first = i == 0 || strcmp(r->problem, rows[i - 1].problem) != 0;
        if (first) {
            problems++;
            if (!quiet)
                printf("%s   (%s)\n", r->problem, r->layers);
        }
        if (r->is_default)
            total_default += r->ms;
        if (r->is_winner) {
            total_best += r->ms;
            /* The default is row 0 of each problem: find its time. */
            int d = i;
            while (d > 0 && !rows[d].is_default)
                d--;
            const double def = rows[d].ms;
            improved += r->ms < def * 0.97;
            if (quiet)
                printf("%-28s %-40s %9.3f ms (default %9.3f ms, %.2fx)\n", r->problem, r->candidate,
                       r->ms, def, r->ms > 0 ? def / r->ms : 0.0);
        }
        if (quiet)
            continue;
        if (r->status == CLNET_OK)
            printf("  %-44s %9.3f ms  err %.1e%s\n", r->candidate, r->ms, r->max_rel_err,
                   r->is_winner ? "  <- winner" : "");
        else
            printf("  %-44s rejected: %s (err %.1e)\n", r->candidate,
                   clnet_status_string(r->status), r->max_rel_err);
    }
    printf("%d problems, %d faster than the default by more than 3%%; one run of each: "
           "default %.2f ms, tuned %.2f ms\n",
           problems, improved, total_default, total_best);
}

int clnet_cli_tune(int argc, char **argv)
{
    const char *cmd = "tune";
    clnet_cli_model model = {0};
    const char *device = NULL, *cls = NULL, *db = NULL;
    clnet_tune_options to = {0};
    int quiet = 0;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const int taken = clnet_cli_model_arg(cmd, argc, argv, &i, &model);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--train")) {
            to.training = 1;
        } else if (!strcmp(a, "--dry-run")) {
            to.dry_run = 1;
        } else if (!strcmp(a, "--gemm-library")) {
            to.gemm_library = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (i + 1 < argc && (!strcmp(a, "--batch") || !strcmp(a, "--repeats"))) {
            if (positive(cmd, a, argv[i + 1], !strcmp(a, "--batch") ? &to.batch : &to.repeats))
                return 2;
            i++;
        } else if (i + 1 < argc &&
                   (!strcmp(a, "--db") || !strcmp(a, "--device") || !strcmp(a, "--class"))) {
            *(!strcmp(a, "--db") ? &db : !strcmp(a, "--device") ? &device : &cls) = argv[++i];
        } else {
            static const char *const known[] = {"--train",
                                                "--dry-run",
                                                "--gemm-library",
                                                "--quiet",
                                                "--batch",
                                                "--repeats",
                                                "--db",
                                                "--device",
                                                "--class",
                                                "--help",
                                                CLNET_CLI_MODEL_OPTIONS,
                                                NULL};
            return clnet_cli_unknown(cmd, a, known);
        }
    }
    if (!model.model) {
        usage(stderr);
        return 2;
    }
    const char *title = NULL;
    clnet_graph *g = clnet_cli_model_build(cmd, &model, &title);
    if (!g)
        return 1;
    char err[1024] = "";
    clnet_context_options co;
    memset(&co, 0, sizeof co);
    co.device = device;
    co.tune_db = db;
    co.error = err;
    co.error_len = sizeof err;
    co.log = log_warnings;
    co.log_user = (void *)cmd;
    clnet_context *ctx = NULL;
    clnet_model *m = NULL;
    int rc = 1;
    if (cls && clnet_device_class_parse(cls, &co.device_class) != CLNET_OK) {
        clnet_cli_error(cmd, "--class %s: expected dgpu, igpu or cpu", cls);
        rc = 2;
    } else if (clnet_context_create(&co, &ctx) != CLNET_OK) {
        clnet_cli_error(cmd, "%s", err);
    } else if (clnet_model_create(ctx, g, NULL, &m) != CLNET_OK) {
        clnet_cli_error(cmd, "%s", clnet_context_error(ctx));
    } else {
        clnet_context_stats s;
        const clnet_device_info *info = clnet_context_device(ctx);
        printf("tuning %s, batch %d%s, on %s (driver %s, %s kernels)\n", title,
               to.batch ? to.batch : 1, to.training ? ", training" : "", info->name,
               info->driver_version, clnet_device_class_name(clnet_context_class(ctx)));
        const clnet_tune_row *rows = NULL;
        int n = 0;
        const clock_t t0 = clock();
        const time_t w0 = time(NULL);
        if (clnet_model_tune(m, &to, &rows, &n) != CLNET_OK) {
            clnet_cli_error(cmd, "%s", clnet_context_error(ctx));
        } else {
            print_rows(rows, n, quiet);
            printf("tuning took %.0f s (%.0f s of CPU in this process)\n", difftime(time(NULL), w0),
                   (double)(clock() - t0) / CLOCKS_PER_SEC);
            clnet_context_get_stats(ctx, &s);
            if (to.dry_run)
                printf("dry run: %s left as it was\n", s.tune_db[0] ? s.tune_db : "the database");
            else
                printf("database %s: %d entries for this device\n", s.tune_db, s.tune_entries);
            rc = 0;
        }
    }
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
    return rc;
}
