/* test_schedule.c - learning-rate schedules (src/train/schedule.c). No device needed. */
#include <criterion/criterion.h>
#include <math.h>

#include "clnet.h"

Test(schedule, constant_step_and_cosine)
{
    const clnet_schedule c = {.kind = CLNET_LR_CONSTANT, .lr = 0.1f};
    cr_expect_float_eq(clnet_schedule_lr(&c, 0, 100, 10), 0.1f, 1e-7f);
    cr_expect_float_eq(clnet_schedule_lr(&c, 99, 100, 10), 0.1f, 1e-7f);
    /* Step: x0.5 every 2 epochs of 10 steps. */
    const clnet_schedule s = {.kind = CLNET_LR_STEP, .lr = 0.1f, .gamma = 0.5f, .step_epochs = 2};
    cr_expect_float_eq(clnet_schedule_lr(&s, 19, 100, 10), 0.1f, 1e-7f);
    cr_expect_float_eq(clnet_schedule_lr(&s, 20, 100, 10), 0.05f, 1e-7f);
    cr_expect_float_eq(clnet_schedule_lr(&s, 45, 100, 10), 0.025f, 1e-7f);
    /* Cosine: lr at the start, the midpoint halfway, min_lr at the last step. */
    const clnet_schedule k = {.kind = CLNET_LR_COSINE, .lr = 0.1f, .min_lr = 0.001f};
    cr_expect_float_eq(clnet_schedule_lr(&k, 0, 101, 10), 0.1f, 1e-6f);
    cr_expect_float_eq(clnet_schedule_lr(&k, 50, 101, 10), 0.0505f, 1e-6f);
    cr_expect_float_eq(clnet_schedule_lr(&k, 100, 101, 10), 0.001f, 1e-6f);
    for (int i = 1; i < 101; ++i)
        cr_expect_leq(clnet_schedule_lr(&k, i, 101, 10), clnet_schedule_lr(&k, i - 1, 101, 10));
}

Test(schedule, linear_warmup)
{
    const clnet_schedule w = {.kind = CLNET_LR_COSINE, .lr = 0.2f, .warmup_steps = 4};
    cr_expect_float_eq(clnet_schedule_lr(&w, 0, 1000, 10), 0.05f, 1e-6f);
    cr_expect_float_eq(clnet_schedule_lr(&w, 1, 1000, 10), 0.1f, 1e-5f);
    cr_expect_float_eq(clnet_schedule_lr(&w, 3, 1000, 10), 0.2f * 0.99999f, 1e-5f);
    cr_expect_gt(clnet_schedule_lr(&w, 4, 1000, 10), 0.19f);
    cr_expect_float_eq(clnet_schedule_lr(NULL, 3, 10, 1), 0.0f, 0.0f);
}

/* PyTorch 1.13's OneCycleLR(max_lr=0.4, total_steps=10) on SGD(momentum=0.95 by its
 * max_momentum): the lr and momentum it gives at each of the 10 steps. */
Test(schedule, onecycle_is_pytorchs)
{
    static const double lr[10] = {0.016,         0.208,         0.4,           0.38019385281,
                                  0.32469826158, 0.24450480877, 0.15549679123, 0.07530333842,
                                  0.01980774719, 1.6e-06};
    static const double mom[10] = {0.95,          0.9,           0.85,          0.85495155660,
                                   0.86882550991, 0.88887395330, 0.91112604670, 0.93117449009,
                                   0.94504844340, 0.95};
    const clnet_schedule s = {.kind = CLNET_LR_ONECYCLE, .lr = 0.4f, .min_lr = 0.4f / 25e4f};
    for (int i = 0; i < 10; ++i) {
        cr_expect_float_eq(clnet_schedule_lr(&s, i, 10, 5), (float)lr[i], 1e-6f, "step %d", i);
        cr_expect_float_eq(clnet_schedule_momentum(&s, i, 10, 0.95f), (float)mom[i], 1e-6f,
                           "step %d", i);
    }
    /* Past the end it stays at the last step's values. */
    cr_expect_float_eq(clnet_schedule_lr(&s, 12, 10, 5), (float)lr[9], 1e-9f);
}

Test(schedule, onecycle_options)
{
    /* pct_start 0.5 of 101 steps: the peak at step 49.5, reached between 49 and 50;
     * div_factor 10: the start at lr / 10. */
    const clnet_schedule s = {.kind = CLNET_LR_ONECYCLE,
                              .lr = 1.0f,
                              .min_lr = 0.0f,
                              .pct_start = 0.5f,
                              .div_factor = 10.0f,
                              .momentum_low = 0.8f};
    cr_expect_float_eq(clnet_schedule_lr(&s, 0, 101, 10), 0.1f, 1e-6f);
    for (int i = 1; i < 50; ++i)
        cr_expect_gt(clnet_schedule_lr(&s, i, 101, 10), clnet_schedule_lr(&s, i - 1, 101, 10));
    for (int i = 51; i < 101; ++i)
        cr_expect_lt(clnet_schedule_lr(&s, i, 101, 10), clnet_schedule_lr(&s, i - 1, 101, 10));
    cr_expect_float_eq(clnet_schedule_lr(&s, 100, 101, 10), 0.0f, 1e-7f);
    cr_expect_gt(clnet_schedule_momentum(&s, 49, 101, 0.9f), 0.8f);
    cr_expect_lt(clnet_schedule_momentum(&s, 49, 101, 0.9f), 0.8001f);
    cr_expect_float_eq(clnet_schedule_momentum(&s, 100, 101, 0.9f), 0.9f, 1e-6f);
    /* An optimizer without momentum, or with less than momentum_low, keeps its own. */
    cr_expect_float_eq(clnet_schedule_momentum(&s, 49, 101, 0.0f), 0.0f, 0.0f);
    cr_expect_float_eq(clnet_schedule_momentum(&s, 49, 101, 0.5f), 0.5f, 0.0f);
    /* Other schedules never touch the momentum. */
    const clnet_schedule k = {.kind = CLNET_LR_COSINE, .lr = 1.0f};
    cr_expect_float_eq(clnet_schedule_momentum(&k, 50, 101, 0.9f), 0.9f, 0.0f);
    /* As in PyTorch, a run of one step is its end (the peak would be at step -0.5). */
    cr_expect_float_eq(clnet_schedule_lr(&s, 0, 1, 1), 0.0f, 1e-7f);
}
