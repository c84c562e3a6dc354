/* train_report.c - what `clnet train` shows and keeps while it runs: Keras-like progress
 * lines that fit the terminal (80 columns when stdout is not one), the history of every
 * epoch (those before a resume too, replayed from the checkpoint), the --plot chart and
 * the --log file rewritten after every epoch so they survive Ctrl-C and kills, and the
 * Ctrl-C handler that stops at the end of a step. Tests: tests/cli/test_cli.sh. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* SIGTERM under mpirun: the launcher stopping the run because another rank failed (or
 * the job was cancelled). What to do next, written without stdio (a signal handler). */
static char term_note[2 * 4096 + 300];
static size_t term_len;

static void on_sigterm(int sig)
{
    if (write(STDERR_FILENO, term_note, term_len) < 0)
        term_len = 0;
    _exit(128 + sig);
}

void clnet_cli_train_sigterm(const settings *s)
{
    snprintf(term_note, sizeof term_note,
             "clnet train: rank %d: stopped by the MPI launcher (another rank failed, or the job "
             "was cancelled); %s keeps the finished epochs: `mpirun -np N clnet train --resume "
             "%s` goes on\n",
             s->rank, s->ckpt, s->ckpt);
    term_len = strlen(term_note);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigterm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
}

void clnet_cli_train_sigint(int on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? on_sigint : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = on ? (int)SA_RESETHAND : 0; /* a second Ctrl-C ends the process at once */
    sigaction(SIGINT, &sa, NULL);
}

static int record(settings *s, const clnet_progress *p)
{
    if (p->epoch >= s->cap_history) {
        const int cap = p->epoch + 16;
        struct epoch_row *h = realloc(s->history, (size_t)cap * sizeof *h);
        if (!h)
            return 0;
        s->history = h;
        s->cap_history = cap;
    }
    for (int e = s->n_history; e < p->epoch; ++e) /* epochs never reported: gaps */
        s->history[e] = (struct epoch_row){NAN, NAN, NAN, NAN, NAN, NAN, 0};
    s->history[p->epoch] = (struct epoch_row){
        p->loss, p->accuracy, p->val_loss, p->val_accuracy, p->lr, p->epoch_s, 0};
    for (int e = 0; e <= p->epoch; ++e)
        s->history[e].best = e == p->best_epoch;
    s->n_history = p->epoch + 1;
    return 1;
}

/* "  12/50 [=====>....] - " with a bar as wide as the rest of the line allows. */
static void bar_line(const settings *s, const clnet_progress *p, const char *tail)
{
    char head[48];
    const int digits = snprintf(head, sizeof head, "%d", p->batches);
    snprintf(head, sizeof head, "%*d/%d", digits, p->batch, p->batches);
    int width = s->columns - 1 - (int)strlen(head) - 3 - (int)strlen(tail) - 3;
    width = width > 30 ? 30 : width < 10 ? 10 : width;
    const int done = p->batches ? p->batch * width / p->batches : width;
    char bar[32];
    for (int i = 0; i < width; ++i)
        bar[i] = i < done ? '=' : i == done ? '>' : '.';
    bar[width] = '\0';
    printf("%s%s [%s] - %s", s->tty ? "\r" : "", head, bar, tail);
}

static void print_epoch_end(const settings *s, const clnet_progress *p)
{
    char a[32], b[32], c[32], d[32], tail[160], line2[200] = "";
    snprintf(tail, sizeof tail, "%.0fs - loss: %s - accuracy: %s", p->epoch_s,
             clnet_cli_figure(a, sizeof a, p->loss), clnet_cli_figure(b, sizeof b, p->accuracy));
    bar_line(s, p, tail);
    printf("%s\n", s->tty ? "\033[K" : "");
    size_t n = 0;
    if (!isnan(p->val_loss))
        n += (size_t)snprintf(line2 + n, sizeof line2 - n, "val_loss: %s - val_accuracy: %s - ",
                              clnet_cli_figure(c, sizeof c, p->val_loss),
                              clnet_cli_figure(d, sizeof d, p->val_accuracy));
    n += (size_t)snprintf(line2 + n, sizeof line2 - n, "%.0f img/s - lr %.3g", p->images_per_s,
                          (double)p->lr);
    char busy[32];
    snprintf(busy, sizeof busy, " - busy %.0f%%", 100.0 * p->device_busy);
    if (4 + n + strlen(busy) < (size_t)s->columns) /* only when it fits the line */
        snprintf(line2 + n, sizeof line2 - n, "%s", busy);
    printf("    %s\n", line2);
    /* Loading apart from the device: the workers' time making the batches, and how long
     * the steps waited for them (which the busy figure is the rest of). */
    printf("    data: %.1fs on %d worker%s, the device waited %.1fs - %d images", p->data_s,
           p->workers, p->workers == 1 ? "" : "s", p->epoch_s * (1.0 - p->device_busy), p->images);
    if (p->skipped)
        printf(", %d skipped (unreadable)", p->skipped);
    printf("\n");
    if (p->ranks > 1) /* the exchange backward did not hide (and slower ranks) */
        printf("    %d ranks: after their backward, steps waited %.1fs for the gradient exchange "
               "(the most of any rank)\n",
               p->ranks, p->sync_s);
    if (p->early_stop)
        printf("Early stop: %s has not improved for %d epochs; keeping the weights of epoch %d\n",
               isnan(p->val_loss) ? "loss" : "val_loss", s->fit.patience, p->best_epoch + 1);
}

int clnet_cli_train_progress(void *user, const clnet_progress *p)
{
    settings *s = user;
    char a[32], b[32], c[32], d[32], tail[160];
    if (p->restored) {
        record(s, p);
        printf("Restored epoch %d/%d - loss: %s - accuracy: %s", p->epoch + 1, p->epochs,
               clnet_cli_figure(a, sizeof a, p->loss), clnet_cli_figure(b, sizeof b, p->accuracy));
        if (!isnan(p->val_loss))
            printf("\n    val_loss: %s - val_accuracy: %s",
                   clnet_cli_figure(c, sizeof c, p->val_loss),
                   clnet_cli_figure(d, sizeof d, p->val_accuracy));
        printf("\n");
        fflush(stdout);
        return interrupted;
    }
    if (p->end_of_epoch) {
        record(s, p);
        print_epoch_end(s, p);
        fflush(stdout);
        clnet_cli_train_write_files(s);
        s->interrupted |= interrupted;
        return interrupted;
    }
    if (p->batch == 1)
        printf("Epoch %d/%d\n", p->epoch + 1, p->epochs);
    /* Not a terminal: a line every tenth of the epoch instead of a redrawn bar. */
    const int step = p->batches >= 10 ? p->batches / 10 : 1;
    if (s->tty || (p->batch % step == 0 && p->batch < p->batches)) {
        snprintf(tail, sizeof tail, "ETA: %.0fs - loss: %s - accuracy: %s", p->eta_s,
                 clnet_cli_figure(a, sizeof a, p->loss),
                 clnet_cli_figure(b, sizeof b, p->accuracy));
        bar_line(s, p, tail);
        printf("%s", s->tty ? "\033[K" : "\n");
        fflush(stdout);
    }
    if (interrupted) {
        s->interrupted = 1;
        if (s->tty)
            printf("\n");
        return 1;
    }
    return 0;
}

/* The history as CSV or JSON lines (by the file's extension), written to a temporary
 * file then renamed over path. */
static int write_log(const settings *s)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", s->a.log, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return clnet_cli_error("train", "cannot write the log %s: %s", s->a.log, strerror(errno));
    const char *dot = strrchr(s->a.log, '.');
    const int csv = dot && strcmp(dot, ".csv") == 0;
    if (csv)
        fprintf(f, "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,best\n");
    for (int e = 0; e < s->n_history; ++e) {
        const struct epoch_row *r = &s->history[e];
        const double v[6] = {r->loss, r->accuracy, r->val_loss, r->val_accuracy, r->lr, r->seconds};
        static const char *const keys[6] = {"loss",         "accuracy", "val_loss",
                                            "val_accuracy", "lr",       "seconds"};
        fprintf(f, csv ? "%d" : "{\"epoch\":%d", e + 1);
        for (int k = 0; k < 6; ++k) {
            if (csv)
                fprintf(f, isfinite(v[k]) ? ",%.9g" : ",", v[k]);
            else if (isfinite(v[k]))
                fprintf(f, ",\"%s\":%.9g", keys[k], v[k]);
            else
                fprintf(f, ",\"%s\":null", keys[k]);
        }
        if (csv)
            fprintf(f, ",%d\n", r->best);
        else
            fprintf(f, ",\"best\":%s}\n", r->best ? "true" : "false");
    }
    const int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, s->a.log) != 0) {
        const int saved = errno;
        remove(tmp);
        return clnet_cli_error("train", "cannot write the log %s: %s", s->a.log, strerror(saved));
    }
    return 0;
}

static int write_plot(const settings *s)
{
    const int n = s->n_history;
    double *h = malloc(4 * (size_t)(n ? n : 1) * sizeof *h);
    if (!h)
        return clnet_cli_error("train", "out of memory");
    for (int e = 0; e < n; ++e) {
        h[e] = s->history[e].loss;
        h[n + e] = s->history[e].accuracy;
        h[2 * n + e] = s->history[e].val_loss;
        h[3 * n + e] = s->history[e].val_accuracy;
    }
    char heading[512];
    snprintf(heading, sizeof heading, "%s on %s", s->title ? s->title : "model",
             s->a.data ? s->a.data : "data");
    const clnet_status st =
        clnet_plot_history(s->a.plot, h, h + n, h + 2 * n, h + 3 * n, n, heading);
    free(h);
    if (st != CLNET_OK)
        return clnet_cli_error("train", "cannot write the chart %s: %s", s->a.plot,
                               clnet_status_string(st));
    return 0;
}

int clnet_cli_train_write_files(const settings *s)
{
    int rc = 0;
    if (s->a.plot && s->n_history > 0)
        rc |= write_plot(s);
    if (s->a.log && s->n_history > 0)
        rc |= write_log(s);
    return rc;
}
