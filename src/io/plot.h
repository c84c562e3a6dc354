/* plot.h - the value axes of clnet_plot_history (plot.c), apart so that tests can check
 * the rule. Tests: tests/unit/test_plot.c. */
#ifndef CLNET_IO_PLOT_H
#define CLNET_IO_PLOT_H

/* A value axis: ticks every step from lo to hi, printed with decimals digits. */
typedef struct clnet__plot_axis {
    double lo, hi, step;
    int decimals;
} clnet__plot_axis;

/* The axis for data in [min, max] (min > max: no data).
 * zero_based (loss): from 0 up past the largest value.
 * Otherwise data within [0, 1] is a fraction (accuracy), drawn on the whole 0..1 scale so
 * that noise in a narrow band never looks like progress; only when every value is at
 * least 0.5 does the axis start higher, at the tenth below the smallest value that leaves
 * it a margin of 0.01 (0.93 -> 0.9, 0.905 -> 0.8, 0.5 -> 0.4), and it always ends at 1.
 * Other data gets a tight range a little wider than the values. */
clnet__plot_axis clnet__plot_value_axis(double min, double max, int zero_based);

#endif
