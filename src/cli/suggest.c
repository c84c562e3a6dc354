/* suggest.c - "did you mean" for mistyped options and commands (cli.h): the names users
 * bring from other tools (--batch-size, --learning-rate), a known option the argument
 * starts with (--batch-size is --batch plus a suffix), else the nearest by edit distance.
 * Tests: tests/cli/test_cli.sh. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

/* What other tools call clnet's options: {theirs, ours}. Used only when ours is one of
 * the command's options. */
static const char *const aliases[][2] = {
    {"--batch-size", "--batch"},
    {"--batch_size", "--batch"},
    {"--bs", "--batch"},
    {"--learning-rate", "--lr"},
    {"--learning_rate", "--lr"},
    {"--epoch", "--epochs"},
    {"--num-epochs", "--epochs"},
    {"--output", "--out"},
    {"-o", "--out"},
    {"--out", "--output"},
    {"--save", "--out"},
    {"--num-classes", "--classes"},
    {"--num_classes", "--classes"},
    {"--input-shape", "--input"},
    {"--input-size", "--input"},
    {"--image-size", "--input"},
    {"--shape", "--input"},
    {"--size", "--input"},
    {"--arch", "--model"},
    {"--network", "--model"},
    {"--dataset", "--data"},
    {"--data-dir", "--data"},
    {"--validation-split", "--val"},
    {"--val-split", "--val"},
    {"--gpu", "--device"},
    {"--top-k", "--top"},
    {"--topk", "--top"},
    {"--optim", "--optimizer"},
    {"--wd", "--weight-decay"},
    {"--repeat", "--repeats"},
    {"--iterations", "--repeats"},
    {"--train", "--training"},
    {"--training", "--train"},
};

static int is_known(const char *name, const char *const *known)
{
    for (; *known; ++known)
        if (strcmp(*known, name) == 0)
            return 1;
    return 0;
}

static char same_dash(char c)
{
    return c == '_' ? '-' : c;
}

static int min2(int a, int b)
{
    return a < b ? a : b;
}

/* Edits from a to b (each cut at 31 characters): insertions, deletions, substitutions
 * and swaps of neighbours ("trian"), '_' and '-' counting as the same character. */
static int distance(const char *a, const char *b)
{
    int d[32][32];
    const int na = (int)strnlen(a, 31), nb = (int)strnlen(b, 31);
    for (int i = 0; i <= na; ++i)
        for (int j = 0; j <= nb; ++j) {
            if (i == 0 || j == 0) {
                d[i][j] = i + j;
                continue;
            }
            const int diff = same_dash(a[i - 1]) != same_dash(b[j - 1]);
            d[i][j] = min2(min2(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + diff);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = min2(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[na][nb];
}

const char *clnet_cli_nearest(const char *arg, const char *const *known)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; ++i)
        if (strcmp(aliases[i][0], name) == 0 && is_known(aliases[i][1], known))
            return aliases[i][1];
    /* A known option the argument starts with, followed by a separator: --batch-size. */
    const char *best = NULL;
    for (const char *const *k = known; *k; ++k) {
        const size_t n = strlen(*k);
        if (n >= 3 && strncmp(name, *k, n) == 0 && strchr("-_", name[n]) && name[n] != '\0' &&
            (!best || n > strlen(best)))
            best = *k;
    }
    if (best)
        return best;
    int best_d = 1 << 30;
    for (const char *const *k = known; *k; ++k) {
        const int d = distance(name, *k);
        const size_t longer = strlen(name) > strlen(*k) ? strlen(name) : strlen(*k);
        if (d < best_d && (d <= 1 || (size_t)d * 3 <= longer))
            best = *k, best_d = d;
    }
    return best;
}

int clnet_cli_unknown(const char *cmd, const char *arg, const char *const *known)
{
    const char *near = arg[0] == '-' ? clnet_cli_nearest(arg, known) : NULL;
    if (is_known(arg, known)) /* a valued option at the end of the line */
        clnet_cli_error(cmd, "%s needs a value (see --help)", arg);
    else if (near)
        clnet_cli_error(cmd, "unexpected argument '%s' (did you mean %s?)", arg, near);
    else
        clnet_cli_error(cmd, "unexpected argument '%s' (see --help)", arg);
    return 2;
}

int clnet_cli_columns(int fallback)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return fallback;
}
