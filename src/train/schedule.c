/* schedule.c - learning-rate schedules: constant, step decay, cosine, each with an
 * optional linear warm-up, and one-cycle (with its momentum). Host arithmetic only.
 * Tests: tests/unit/test_schedule.c. */
#include <math.h>

#include "clnet.h"

#define PI 3.14159265358979323846

/* From a to b as t goes from 0 to 1, by half a cosine. */
static double anneal(double a, double b, double t)
{
    return b + (a - b) * 0.5 * (1.0 + cos(PI * t));
}

/* One-cycle: where step lies, as (phase, t in [0, 1]). PyTorch's OneCycleLR ends the rise
 * at step pct_start * total - 1 and the fall at total - 1. */
static int onecycle_phase(const clnet_schedule *s, int64_t step, int64_t total, double *t)
{
    const double pct = s->pct_start > 0.0f && s->pct_start < 1.0f ? s->pct_start : 0.3;
    const double peak = pct * (double)total - 1.0, end = (double)total - 1.0;
    const double x = (double)(step < total ? step : total - 1);
    if (x <= peak || end <= peak) {
        *t = peak > 0.0 ? x / peak : 1.0;
        return 0;
    }
    *t = (x - peak) / (end - peak);
    return 1;
}

float clnet_schedule_lr(const clnet_schedule *s, int64_t step, int64_t total_steps,
                        int64_t steps_per_epoch)
{
    if (!s)
        return 0.0f;
    step = step < 0 ? 0 : step;
    double lr = s->lr;
    if (s->kind == CLNET_LR_STEP) {
        const int every = s->step_epochs > 0 ? s->step_epochs : 30;
        const double gamma = s->gamma > 0.0f ? s->gamma : 0.1;
        const int64_t epoch = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
        lr *= pow(gamma, (double)(epoch / every));
    } else if (s->kind == CLNET_LR_COSINE && total_steps > 1) {
        const double t =
            (double)(step < total_steps ? step : total_steps - 1) / (double)(total_steps - 1);
        lr = anneal(s->lr, s->min_lr, t);
    } else if (s->kind == CLNET_LR_ONECYCLE && total_steps > 0) {
        const double div = s->div_factor > 0.0f ? s->div_factor : 25.0;
        double t;
        lr = onecycle_phase(s, step, total_steps, &t) == 0 ? anneal(s->lr / div, s->lr, t)
                                                           : anneal(s->lr, s->min_lr, t);
    }
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        lr *= (double)(step + 1) / (double)s->warmup_steps;
    return (float)lr;
}

float clnet_schedule_momentum(const clnet_schedule *s, int64_t step, int64_t total_steps,
                              float momentum)
{
    const double low = s && s->momentum_low > 0.0f ? s->momentum_low : 0.85;
    if (!s || s->kind != CLNET_LR_ONECYCLE || total_steps <= 0 || momentum <= low)
        return momentum;
    double t;
    step = step < 0 ? 0 : step;
    return (float)(onecycle_phase(s, step, total_steps, &t) == 0 ? anneal(momentum, low, t)
                                                                 : anneal(low, momentum, t));
}
