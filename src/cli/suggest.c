/* suggest.c - small things every subcommand shares: "did you mean" for an unknown
 * option, and the terminal's width for progress lines. Tests: tests/cli/test_cli.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

/* Edit distance of a and b (insertions, deletions, substitutions), capped at 99. */
static int distance(const char *a, const char *b)
{
    const size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    int row[66];
    for (size_t j = 0; j <= lb; ++j)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; ++i) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; ++j) {
            const int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            row[j] = best < up + 1 ? best : up + 1;
            row[j] = row[j] < row[j - 1] + 1 ? row[j] : row[j - 1] + 1;
            diag = up;
        }
    }
    return row[lb];
}

/* Options other tools spell another way. */
static const char *const aliases[][2] = {
    {"--batch-size", "--batch"},   {"--batch_size", "--batch"}, {"--learning-rate", "--lr"},
    {"--learning_rate", "--lr"},   {"--epoch", "--epochs"},     {"--output", "--out"},
    {"--validation-data", "--val-data"}, {"--validation_split", "--val"},
    {"--validation-split", "--val"},     {"--image-size", "--input"},
    {"--input-shape", "--input"},  {"--num-classes", "--classes"},
};

int clnet_cli_unknown(const char *cmd, const char *arg, const char *const *known)
{
    char name[128];
    snprintf(name, sizeof name, "%s", arg);
    char *eq = strchr(name, '=');
    if (eq)
        *eq = '\0';
    const char *best = NULL;
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; ++k)
        if (strcmp(name, aliases[k][0]) == 0)
            for (int i = 0; known && known[i] && !best; ++i)
                if (strcmp(known[i], aliases[k][1]) == 0)
                    best = known[i];
    int closest = 99;
    for (int i = 0; !best && known && known[i]; ++i) {
        const int d = distance(name, known[i]);
        if (d < closest) {
            closest = d;
            best = known[i];
        }
    }
    if (best && (name[0] != '-' || closest > 2 + (int)strlen(name) / 6) && closest != 99)
        best = NULL; /* too far to be a slip */
    if (best)
        return clnet_cli_error(cmd, "unexpected argument '%s' (did you mean %s?)", arg, best);
    return clnet_cli_error(cmd, "unexpected argument '%s' (see --help)", arg);
}

int clnet_cli_columns(int fallback)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return fallback;
}
