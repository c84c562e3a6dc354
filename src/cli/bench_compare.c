/* bench_compare.c - `clnet bench compare A.json B.json`: two runs of `clnet bench model
 * --json` / `clnet bench device --json` (two devices, drivers or versions) side by
 * side: each model record matched on model, input, batch and mode, each device figure
 * by name, with the ratio B / A. Tests: tests/cli/test_cli.sh. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The JSON objects of a file of JSON lines (lines that are not objects are skipped). */
typedef struct records {
    cJSON **items;
    int n;
} records;

static int load(const char *path, records *r)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return clnet_cli_error("bench", "cannot read %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        cJSON *o = cJSON_Parse(line);
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            continue;
        }
        cJSON **grown = realloc(r->items, (size_t)(r->n + 1) * sizeof *grown);
        if (!grown) {
            cJSON_Delete(o);
            break;
        }
        r->items = grown;
        r->items[r->n++] = o;
    }
    free(line);
    fclose(f);
    return r->n ? 0 : clnet_cli_error("bench", "%s holds no JSON records", path);
}

static void release(records *r)
{
    for (int i = 0; i < r->n; ++i)
        cJSON_Delete(r->items[i]);
    free(r->items);
}

static const char *text(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

static int same_run(const cJSON *a, const cJSON *b)
{
    return !strcmp(text(a, "model"), text(b, "model")) &&
           !strcmp(text(a, "input"), text(b, "input")) &&
           !strcmp(text(a, "mode"), text(b, "mode")) && number(a, "batch") == number(b, "batch");
}

/* Model records: latency and throughput of A and B per matching run. */
static int compare_models(const records *a, const records *b)
{
    int matched = 0;
    printf("%-14s %-10s %5s %-9s %12s %12s %10s %10s %8s\n", "model", "input", "batch", "mode",
           "A median ms", "B median ms", "A img/s", "B img/s", "B/A");
    for (int i = 0; i < a->n; ++i) {
        if (!*text(a->items[i], "model"))
            continue;
        for (int j = 0; j < b->n; ++j) {
            if (!same_run(a->items[i], b->items[j]))
                continue;
            const cJSON *x = a->items[i], *y = b->items[j];
            const double ax = number(x, "images_per_s"), by = number(y, "images_per_s");
            printf("%-14.14s %-10.10s %5.0f %-9.9s %12.2f %12.2f %10.1f %10.1f %8.2f\n",
                   text(x, "model"), text(x, "input"), number(x, "batch"), text(x, "mode"),
                   number(x, "median_ms"), number(y, "median_ms"), ax, by, ax > 0 ? by / ax : 0.0);
            ++matched;
            break;
        }
    }
    return matched;
}

/* Device records: every numeric figure of A's record that B has too. */
static int compare_devices(const records *a, const records *b)
{
    const cJSON *x = NULL, *y = NULL;
    for (int i = 0; i < a->n && !x; ++i)
        x = !strcmp(text(a->items[i], "bench"), "device") ? a->items[i] : NULL;
    for (int j = 0; j < b->n && !y; ++j)
        y = !strcmp(text(b->items[j], "bench"), "device") ? b->items[j] : NULL;
    if (!x || !y)
        return 0;
    printf("%-24s %16.16s %16.16s %8s\n", "device figure", text(x, "device"), text(y, "device"),
           "B/A");
    const cJSON *v = NULL;
    cJSON_ArrayForEach(v, x)
    {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(y, v->string);
        if (cJSON_IsNumber(v) && cJSON_IsNumber(w) && strcmp(v->string, "quick") != 0)
            printf("%-24s %16.3f %16.3f %8.2f\n", v->string, v->valuedouble, w->valuedouble,
                   v->valuedouble != 0.0 ? w->valuedouble / v->valuedouble : 0.0);
    }
    return 1;
}

int clnet_cli_bench_compare(int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        const int help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        fprintf(help ? stdout : stderr,
                "usage: clnet bench compare A.json B.json\n\n"
                "Puts two runs of `clnet bench model --json` or `clnet bench device --json` side\n"
                "by side (runs matched on model, input, batch and mode; device figures by name),\n"
                "with the ratio B/A of images/s or of each figure.\n");
        return help ? 0 : 2;
    }
    records a = {NULL, 0}, b = {NULL, 0};
    int rc = load(argv[1], &a);
    if (rc == 0)
        rc = load(argv[2], &b);
    if (rc == 0) {
        printf("A: %s\nB: %s\n\n", argv[1], argv[2]);
        const int models = compare_models(&a, &b);
        if (models)
            printf("\n");
        const int devices = compare_devices(&a, &b);
        if (!models && !devices)
            rc = clnet_cli_error("bench", "no run of %s matches one of %s", argv[1], argv[2]);
    }
    release(&a);
    release(&b);
    return rc;
}
