/* schedule.c - learning-rate schedules: constant, step decay, cosine, each with an
 * optional linear warm-up. Host arithmetic only. Tests: tests/unit/test_schedule.c. */
#include <math.h>

#include "clnet.h"

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
        lr = s->min_lr + (s->lr - s->min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * t));
    }
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        lr *= (double)(step + 1) / (double)s->warmup_steps;
    return (float)lr;
}
