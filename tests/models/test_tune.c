/* test_tune.c - the tuner (src/plan/tune.c) and its database (src/device/tune_db.c):
 * every problem gets one winner that matched the reference, later contexts run the
 * winners and compute the same results, a wrong result is caught before timing, a
 * broken database is reported by name and never overwritten, and entries whose values
 * the kernels cannot take are ignored with a warning. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/plan.h"
#include "plan/tune.h"
#include "support/models.h"
#include "support/support.h"
#include "support/tempdir.h"

TestSuite(tune, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

/* Warnings of a context, appended one a line. */
static void collect(void *user, int level, const char *msg)
{
    char *buf = user;
    if (level <= 1 && strlen(buf) + strlen(msg) + 2 < 4096) {
        strcat(buf, msg);
        strcat(buf, "\n");
    }
}

/* A context on database db, its log lines collected into log (4096 bytes) when given. */
static clnet_context *context_logged(const char *db, char *log)
{
    char err[1024] = "";
    clnet_context_options opt = {0};
    opt.tune_db = db;
    opt.log = log ? collect : NULL;
    opt.log_user = log;
    opt.error = err;
    opt.error_len = sizeof err;
    clnet_context *ctx = NULL;
    if (clnet_context_create(&opt, &ctx) != CLNET_OK)
        cr_skip_test("no OpenCL device: %s", err);
    return ctx;
}

static clnet_context *context_with_db(const char *db)
{
    return context_logged(db, NULL);
}

/* The inference output of g with weights from seed on ctx, on the host. */
static float *output(clnet_context *ctx, clnet_graph *g, int batch, size_t *count)
{
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, batch);
    clnet_test_randomize_weights(m, 5);
    clnet_tensor *x = clnet_test_input(ctx, g, batch, 6), *y = NULL;
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    float *host = clnet_test_host(y);
    *count = clnet_tensor_count(y);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    return host;
}

/* The problems of a tune's rows (each once, in order). */
static int count_problems(const clnet_tune_row *rows, int n)
{
    int problems = 0;
    for (int i = 0; i < n; ++i)
        problems += i == 0 || strcmp(rows[i].problem, rows[i - 1].problem) != 0;
    return problems;
}

/* Entries of the database file at path: how many, and whether each of the rows'
 * problems has exactly one and every "problem" is there once (no duplicates). */
static int file_entries(const char *path, const clnet_tune_row *rows, int n, int *duplicates,
                        int *missing)
{
    size_t len = 0;
    char *text = (char *)clnet_test_read_file(path, &len);
    int total = 0;
    *duplicates = *missing = 0;
    char *keys[512];
    for (char *at = strstr(text, "\"problem\""); at; at = strstr(at + 1, "\"problem\"")) {
        char *open = strchr(at + 9, '"'), *close = open ? strchr(open + 1, '"') : NULL;
        cr_assert(open && close && total < 512);
        *close = '\0';
        keys[total] = open + 1;
        for (int k = 0; k < total; ++k)
            *duplicates += strcmp(keys[k], keys[total]) == 0;
        ++total;
        at = close;
    }
    for (int i = 0; i < n; ++i) {
        if (i > 0 && strcmp(rows[i].problem, rows[i - 1].problem) == 0)
            continue;
        int found = 0;
        for (int k = 0; k < total; ++k)
            found += strcmp(keys[k], rows[i].problem) == 0;
        *missing += found != 1;
    }
    free(text);
    return total;
}

Test(tune, winners_are_stored_and_used)
{
    const char *db = clnet_test_path("tune.json");
    clnet_context *ctx = context_with_db(db);
    clnet_graph *g = clnet_test_small_resnet(12, 12, 3, 4);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 2);
    const clnet_tune_options opt = {.batch = 2, .training = 1, .repeats = 2};
    const clnet_tune_row *rows = NULL;
    int n = 0;
    cr_assert_eq(clnet_model_tune(m, &opt, &rows, &n), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_gt(n, 0);
    /* Problem by problem: the default first, exactly one winner, which matched. */
    int problems = 0, winners = 0, backward = 0, convs = 0, dx = 0;
    for (int i = 0; i < n; ++i) {
        const int first = i == 0 || strcmp(rows[i].problem, rows[i - 1].problem) != 0;
        cr_expect_eq(rows[i].is_default, first, "%s %s", rows[i].problem, rows[i].candidate);
        cr_expect(rows[i].layers && rows[i].layers[0], "%s: layers '%s'", rows[i].problem,
                  rows[i].layers ? rows[i].layers : "(null)");
        problems += first;
        backward +=
            first && (strstr(rows[i].problem, "gemm NT") || strstr(rows[i].problem, "gemm TN"));
        convs += first && strncmp(rows[i].problem, "conv2d ", 7) == 0;
        dx += first && strstr(rows[i].problem, " dx") != NULL;
        if (rows[i].is_winner) {
            winners++;
            cr_expect_eq(rows[i].status, CLNET_OK);
            cr_expect_gt(rows[i].ms, 0.0);
            cr_expect_leq(rows[i].max_rel_err, CLNET_GEMM_RTOL);
        }
        if (rows[i].status != CLNET_OK)
            cr_expect_eq(rows[i].ms, 0.0);
    }
    cr_expect_eq(winners, problems);
    cr_expect_gt(convs, 0, "the 3x3 stride-1 convolutions choose between im2col and Winograd");
    cr_expect_gt(dx, 0, "training tunes the data gradients' algorithm too");
    cr_expect_gt(backward, 0, "training adds the transposed backward GEMMs");
    clnet_context_stats s;
    clnet_context_get_stats(ctx, &s);
    cr_expect_str_eq(s.tune_db, db);
    cr_expect_eq(s.tune_entries, problems);
    clnet_model_destroy(m);

    /* A new context on the same device reads the entries and runs them; the results
     * are those of the built-in choices. */
    clnet_context *tuned = context_with_db(db), *plain = context_with_db("");
    clnet_context_get_stats(tuned, &s);
    cr_expect_eq(s.tune_entries, problems);
    size_t count = 0, count2 = 0;
    float *a = output(tuned, g, 2, &count), *b = output(plain, g, 2, &count2);
    clnet_context_get_stats(tuned, &s);
    cr_expect_gt(s.tune_hits, 0);
    cr_assert_eq(count, count2);
    cr_expect_lt(clnet_test_rel_diff(a, b, count), 1e-4);
    clnet_context_get_stats(plain, &s);
    cr_expect_eq(s.tune_entries, 0);
    cr_expect_eq(s.tune_hits, 0);
    free(a);
    free(b);

    /* Tuning again replaces entries rather than adding duplicates. Which problems it meets
     * depends on the algorithms the first tune stored (Winograd or im2col change the
     * GEMMs), and which win depends on timing: only the bookkeeping is promised. */
    m = clnet_test_model(tuned, g, 1, 1, 2);
    cr_assert_eq(clnet_model_tune(m, &opt, &rows, &n), CLNET_OK, "%s", clnet_context_error(tuned));
    clnet_context_get_stats(tuned, &s);
    int duplicates = 0, missing = 0;
    const int total = file_entries(db, rows, n, &duplicates, &missing);
    cr_expect_eq(duplicates, 0, "an entry was added beside the one of its problem");
    cr_expect_eq(missing, 0, "a problem of the second tune has no entry");
    cr_expect_eq(s.tune_entries, total);
    clnet_model_destroy(m);
    clnet_context_destroy(plain);
    clnet_context_destroy(tuned);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
}

/* Entries measured with other kernel sources (another clnet version) are ignored, and
 * tuning again replaces them rather than adding to them. Which problems a tune meets and
 * which candidates win depend on timing: the tests assert the bookkeeping only. */
Test(tune, entries_of_other_kernels_are_stale)
{
    const char *db = clnet_test_path("stale.json");
    clnet_context *ctx = context_with_db(db);
    clnet_graph *g = clnet_test_small_resnet(12, 12, 3, 4);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 1);
    const clnet_tune_options opt = {.repeats = 1};
    const clnet_tune_row *rows = NULL;
    int n = 0;
    cr_assert_eq(clnet_model_tune(m, &opt, &rows, &n), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_context_stats s;
    clnet_context_get_stats(ctx, &s);
    const int entries = s.tune_entries;
    cr_assert_gt(entries, 0);
    /* Every digest made a non-hex string, as a build with other kernels would write. */
    size_t len = 0;
    char *text = (char *)clnet_test_read_file(db, &len);
    int changed = 0;
    for (char *at = strstr(text, "\"kernels\""); at; at = strstr(at + 1, "\"kernels\"")) {
        char *q = strchr(at + 9, '"');
        cr_assert_not_null(q);
        q[1] = 'z';
        changed++;
    }
    cr_assert_eq(changed, entries);
    clnet_test_write_file(db, text, len);
    free(text);
    clnet_context *later = context_with_db(db);
    clnet_context_get_stats(later, &s);
    cr_expect_eq(s.tune_entries, 0, "stale entries were used");
    clnet_model *m2 = clnet_test_model(later, g, 1, 1, 1);
    cr_assert_eq(clnet_model_tune(m2, &opt, &rows, &n), CLNET_OK, "%s", clnet_context_error(later));
    clnet_context_get_stats(later, &s);
    /* One fresh entry per problem the new tune met (which problems depends on the
     * algorithms it chose, so not necessarily the first tune's), each replacing the stale
     * entry of its problem; stale entries of problems it did not meet stay, ignored. */
    int duplicates = 0, missing = 0;
    file_entries(db, rows, n, &duplicates, &missing);
    cr_expect_eq(s.tune_entries, count_problems(rows, n));
    cr_expect_eq(duplicates, 0, "stale entries were kept beside the new ones");
    cr_expect_eq(missing, 0);
    clnet_model_destroy(m2);
    clnet_model_destroy(m);
    clnet_context_destroy(later);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
}

/* A kernel computing the wrong product must fail the check: the device's B is
 * replaced after the reference was computed from the host copy. */
Test(tune, a_wrong_result_is_rejected)
{
    clnet_context *ctx = context_with_db("");
    const clnet__gemm_args rec = {0,  1,    45, 37, 29,   1.0f, 0.0f, NULL, 0,
                                  29, NULL, 0,  29, NULL, 0,    37,   NULL};
    clnet__gemm_problem p;
    cr_assert_eq(clnet__gemm_problem_init(ctx, &rec, 3, &p), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    double err = -1.0;
    cr_assert_eq(clnet__gemm_problem_check(ctx, &p, NULL, &err), CLNET_OK);
    cr_expect_leq(err, CLNET_GEMM_RTOL);
    cr_expect_geq(err, 0.0);
    p.b[5] += 0.5f;
    cr_assert_eq(clEnqueueWriteBuffer(ctx->queue, p.g.b, CL_TRUE, 0, p.b_count * sizeof(float), p.b,
                                      0, NULL, NULL),
                 CL_SUCCESS);
    cr_assert_eq(clnet__gemm_problem_check(ctx, &p, NULL, &err), CLNET_OK);
    cr_expect_gt(err, CLNET_GEMM_RTOL, "B changed on the device went unnoticed (err %g)", err);
    clnet__gemm_problem_free(&p);
    clnet_context_destroy(ctx);
}

Test(tune, a_broken_database_is_named_and_kept)
{
    const char *db = clnet_test_path("broken.json");
    static const char junk[] = "{\"format\": \"clnet-tune-1\", \"entries\": [ {";
    clnet_test_write_file(db, junk, sizeof junk - 1);
    /* Inference does not depend on it: the context opens with the defaults. */
    clnet_context *ctx = context_with_db(db);
    clnet_context_stats s;
    clnet_context_get_stats(ctx, &s);
    cr_expect_eq(s.tune_entries, 0);
    clnet_graph *g = clnet_test_small_resnet(12, 12, 3, 4);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 1);
    const clnet_tune_row *rows = NULL;
    int n = 0;
    clnet_tune_options opt = {.repeats = 1};
    cr_expect_eq(clnet_model_tune(m, &opt, &rows, &n), CLNET_ERR_IO);
    cr_expect(strstr(clnet_context_error(ctx), db) != NULL, "%s", clnet_context_error(ctx));
    cr_expect_null(rows);
    size_t len = 0;
    unsigned char *kept = clnet_test_read_file(db, &len);
    cr_expect(len == sizeof junk - 1 && memcmp(kept, junk, len) == 0, "the file was rewritten");
    free(kept);
    /* A dry run measures without touching it. */
    opt.dry_run = 1;
    cr_expect_eq(clnet_model_tune(m, &opt, &rows, &n), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect_gt(n, 0);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
}

/* "GEMM_WG_M": 0 divided by zero in gemm_packed; values out of range, not powers of two
 * or keys no launcher reads are as bad. Each such entry is ignored with a warning naming
 * the file and the entry; the valid entries are still used. */
Test(tune, invalid_entries_are_ignored_with_a_warning)
{
    const char *db = clnet_test_path("invalid.json");
    clnet_context *writer = context_with_db(db);
    static const struct {
        const char *problem, *key;
        int value;
        const char *why;
    } cases[] = {
        {"gemm NN 45x37x29", "GEMM_WG_M", 16, NULL},
        {"gemm NN 45x37x30", "GEMM_WG_M", 0, "GEMM_WG_M = 0 is not a power of two in 1.."},
        {"gemm NN 45x37x31", "GEMM_WG_M", 24, "GEMM_WG_M = 24 is not a power of two"},
        {"gemm NN 45x37x32", "GEMM_KC", -5, "GEMM_KC = -5 is not an integer in 0..16777216"},
        {"gemm NN 45x37x33", "GEMM_TILE", 64, "'GEMM_TILE' is not a parameter a tuned entry"},
    };
    clnet__tuned entries[CLNET_COUNTOF(cases)];
    for (size_t i = 0; i < CLNET_COUNTOF(cases); ++i) {
        memset(&entries[i], 0, sizeof entries[i]);
        snprintf(entries[i].key, sizeof entries[i].key, "%s", cases[i].problem);
        snprintf(entries[i].choice, sizeof entries[i].choice, "packed");
        snprintf(entries[i].param_keys[0], sizeof entries[i].param_keys[0], "%s", cases[i].key);
        entries[i].param_values[0] = cases[i].value;
        entries[i].n_params = 1;
        entries[i].ms = entries[i].default_ms = 1.0;
    }
    cr_assert_eq(clnet__tune_save(writer, entries, (int)CLNET_COUNTOF(entries)), CLNET_OK, "%s",
                 clnet_context_error(writer));
    clnet_context_destroy(writer);

    static char log[4096];
    clnet_context *ctx = context_logged(db, log);
    clnet_context_stats s;
    clnet_context_get_stats(ctx, &s);
    cr_expect_eq(s.tune_entries, 1, "the valid entry is kept, the others ignored");
    for (size_t i = 0; i < CLNET_COUNTOF(cases); ++i) {
        char entry[160];
        snprintf(entry, sizeof entry,
                 "tuning database %s: entry %zu (problem \"%s\") ignored: ", db, i,
                 cases[i].problem);
        const char *at = strstr(log, entry);
        if (!cases[i].why) {
            cr_expect_null(at, "the valid entry was warned about: %s", log);
            continue;
        }
        cr_expect(at && strstr(at, cases[i].why) == at + strlen(entry), "no \"%s%s\" in:\n%s",
                  entry, cases[i].why, log);
    }

    /* Each problem runs: the valid entry's choice, the default for the ignored ones. */
    for (int k = 29; k <= 33; ++k) {
        const clnet__gemm_args rec = {0, 0,    45, 37, k,    1.0f, 0.0f, NULL, 0,
                                      k, NULL, 0,  37, NULL, 0,    37,   NULL};
        clnet__gemm_problem p;
        cr_assert_eq(clnet__gemm_problem_init(ctx, &rec, 3, &p), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        cr_assert_eq(clnet__gemm_with(ctx, CLNET_GEMM_AUTO, &p.g), CLNET_OK, "k %d: %s", k,
                     clnet_context_error(ctx));
        cr_assert_eq(clFinish(ctx->queue), CL_SUCCESS);
        clnet_context_get_stats(ctx, &s);
        cr_expect_eq(s.tune_hits, 1, "after k = %d", k);
        clnet__gemm_problem_free(&p);
    }
    clnet_context_destroy(ctx);
}

/* A database path that is a FIFO or a directory is warned about, never waited on: opening
 * a FIFO for reading blocked until some writer came. */
Test(tune, a_fifo_or_directory_is_not_waited_on, .timeout = 60)
{
    const char *fifo = clnet_test_path("fifo.json");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const char *paths[] = {fifo, clnet_test_dir};
    for (size_t i = 0; i < CLNET_COUNTOF(paths); ++i) {
        static char log[4096];
        log[0] = '\0';
        clnet_context *ctx = context_logged(paths[i], log);
        clnet_context_stats s;
        clnet_context_get_stats(ctx, &s);
        cr_expect_eq(s.tune_entries, 0);
        cr_expect(strstr(log, "cannot read the tuning database") && strstr(log, paths[i]), "%s",
                  log);
        clnet_context_destroy(ctx);
    }
}

/* The prepacked step of an inference plan of g at batch 1 whose GEMM has m = 1 (the dense
 * head), its key into key. */
static const clnet__gemm_plan *head_gemm(clnet_model *m, char *key, size_t len)
{
    clnet__plan *p = NULL;
    int slice = 0;
    cr_assert_eq(clnet__model_plan(m, 0, 1, &p, &slice), CLNET_OK, "%s",
                 clnet_context_error(m->ctx));
    for (int s = 0; s < p->n_steps; ++s)
        for (int i = 0; i < p->steps[s].exec.n_gemms; ++i) {
            const clnet__gemm_plan *gp = &p->steps[s].exec.gemm[i];
            if (gp->args.m == 1 && !gp->args.trans_b) {
                clnet__gemm_key(&gp->args, key, len);
                return gp;
            }
        }
    cr_assert_fail("no GEMM of one row in the inference plan");
    return NULL;
}

/* An inference plan prepacks its weights, turning the rule's gemv of one row into the
 * packed kernel: the tuner times each problem as the plan runs it (the default named so,
 * the candidates on prepacked panels), and an entry it stores is what the plan runs, never
 * overridden by the prepacking (an entry choosing gemv here was silently dropped). */
Test(tune, inference_gemms_are_timed_and_run_as_planned)
{
    clnet_context *ctx = context_with_db("");
    clnet_graph *g = clnet_test_small_resnet(12, 10, 3, 4);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 1);
    char key[96];
    const clnet__gemm_plan *head = head_gemm(m, key, sizeof key);
    cr_expect_eq(head->impl, CLNET_GEMM_PACKED, "the rule's gemv, prepacked");
    cr_expect(head->prepacked);
    const clnet_tune_options opt = {.batch = 1, .repeats = 1, .dry_run = 1};
    const clnet_tune_row *rows = NULL;
    int n = 0, found = 0;
    cr_assert_eq(clnet_model_tune(m, &opt, &rows, &n), CLNET_OK, "%s", clnet_context_error(ctx));
    for (int i = 0; i < n; ++i)
        if (strcmp(rows[i].problem, key) == 0 && rows[i].is_default) {
            found = 1;
            cr_expect_str_eq(rows[i].candidate, "default (packed, prepacked)");
            cr_expect_eq(rows[i].status, CLNET_OK);
        }
    cr_expect(found, "no default row for %s", key);
    clnet_model_destroy(m);

    const char *db = clnet_test_path("gemv.json");
    clnet_context *writer = context_with_db(db);
    clnet__tuned entry;
    memset(&entry, 0, sizeof entry);
    snprintf(entry.key, sizeof entry.key, "%s", key);
    snprintf(entry.choice, sizeof entry.choice, "gemv");
    entry.ms = entry.default_ms = 1.0;
    cr_assert_eq(clnet__tune_save(writer, &entry, 1), CLNET_OK, "%s", clnet_context_error(writer));
    clnet_context_destroy(writer);
    clnet_context *tuned = context_with_db(db);
    m = clnet_test_model(tuned, g, 1, 1, 1);
    head = head_gemm(m, key, sizeof key);
    cr_expect_eq(head->impl, CLNET_GEMM_GEMV, "the entry's choice");
    cr_expect(head->tuned);
    cr_expect(!head->prepacked);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
    clnet_context_destroy(tuned);
    clnet_context_destroy(ctx);
}
