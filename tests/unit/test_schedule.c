/* test_schedule.c - learning-rate schedules (src/train/schedule.c). No device needed. */
#include <criterion/criterion.h>
#include <math.h>

#include "clnet.h"

Test(schedule, constant_step_and_cosine)
{
    const clnet_schedule c = {CLNET_LR_CONSTANT, 0.1f, 0.0f, 0.0f, 0, 0};
    cr_expect_float_eq(clnet_schedule_lr(&c, 0, 100, 10), 0.1f, 1e-7f);
    cr_expect_float_eq(clnet_schedule_lr(&c, 99, 100, 10), 0.1f, 1e-7f);
    /* Step: x0.5 every 2 epochs of 10 steps. */
    const clnet_schedule s = {CLNET_LR_STEP, 0.1f, 0.0f, 0.5f, 2, 0};
    cr_expect_float_eq(clnet_schedule_lr(&s, 19, 100, 10), 0.1f, 1e-7f);
    cr_expect_float_eq(clnet_schedule_lr(&s, 20, 100, 10), 0.05f, 1e-7f);
    cr_expect_float_eq(clnet_schedule_lr(&s, 45, 100, 10), 0.025f, 1e-7f);
    /* Cosine: lr at the start, the midpoint halfway, min_lr at the last step. */
    const clnet_schedule k = {CLNET_LR_COSINE, 0.1f, 0.001f, 0.0f, 0, 0};
    cr_expect_float_eq(clnet_schedule_lr(&k, 0, 101, 10), 0.1f, 1e-6f);
    cr_expect_float_eq(clnet_schedule_lr(&k, 50, 101, 10), 0.0505f, 1e-6f);
    cr_expect_float_eq(clnet_schedule_lr(&k, 100, 101, 10), 0.001f, 1e-6f);
    for (int i = 1; i < 101; ++i)
        cr_expect_leq(clnet_schedule_lr(&k, i, 101, 10), clnet_schedule_lr(&k, i - 1, 101, 10));
}

Test(schedule, linear_warmup)
{
    const clnet_schedule w = {CLNET_LR_COSINE, 0.2f, 0.0f, 0.0f, 0, 4};
    cr_expect_float_eq(clnet_schedule_lr(&w, 0, 1000, 10), 0.05f, 1e-6f);
    cr_expect_float_eq(clnet_schedule_lr(&w, 1, 1000, 10), 0.1f, 1e-5f);
    cr_expect_float_eq(clnet_schedule_lr(&w, 3, 1000, 10), 0.2f * 0.99999f, 1e-5f);
    cr_expect_gt(clnet_schedule_lr(&w, 4, 1000, 10), 0.19f);
    cr_expect_float_eq(clnet_schedule_lr(NULL, 3, 10, 1), 0.0f, 0.0f);
}
