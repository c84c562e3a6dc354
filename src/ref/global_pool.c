/* global_pool.c - reference of global_avg_pool and global_max_pool (src/ops/global_pool.c):
 * the mean, or the first maximum in pixel order, of each channel of each image. */
#include "ref/ref.h"

/* Index in a->in[0] of the first maximum of channel ch of image n. */
static size_t argmax(const clnet__ref_args *a, int n, int ch)
{
    const clnet_shape s = a->in_shape[0];
    size_t best = clnet__ref_at(s, n, 0, 0, ch);
    for (int y = 0; y < s.h; ++y)
        for (int x = 0; x < s.w; ++x) {
            const size_t i = clnet__ref_at(s, n, y, x, ch);
            if (a->in[0][i] > a->in[0][best])
                best = i;
        }
    return best;
}

void clnet__ref_global_avg_pool_forward(const clnet__ref_args *a)
{
    const clnet_shape s = a->in_shape[0];
    for (int n = 0; n < s.n; ++n)
        for (int ch = 0; ch < s.c; ++ch) {
            double sum = 0.0;
            for (int y = 0; y < s.h; ++y)
                for (int x = 0; x < s.w; ++x)
                    sum += a->in[0][clnet__ref_at(s, n, y, x, ch)];
            a->out[(size_t)n * s.c + ch] = sum / ((double)s.h * s.w);
        }
}

void clnet__ref_global_avg_pool_backward(const clnet__ref_args *a)
{
    const clnet_shape s = a->in_shape[0];
    if (!a->din[0])
        return;
    for (int n = 0; n < s.n; ++n)
        for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x)
                for (int ch = 0; ch < s.c; ++ch)
                    a->din[0][clnet__ref_at(s, n, y, x, ch)] =
                        a->dout[(size_t)n * s.c + ch] / ((double)s.h * s.w);
}

void clnet__ref_global_max_pool_forward(const clnet__ref_args *a)
{
    const clnet_shape s = a->in_shape[0];
    for (int n = 0; n < s.n; ++n)
        for (int ch = 0; ch < s.c; ++ch)
            a->out[(size_t)n * s.c + ch] = a->in[0][argmax(a, n, ch)];
}

void clnet__ref_global_max_pool_backward(const clnet__ref_args *a)
{
    const clnet_shape s = a->in_shape[0];
    if (!a->din[0])
        return;
    for (size_t i = 0, count = clnet__shape_count(s); i < count; ++i)
        a->din[0][i] = 0.0;
    for (int n = 0; n < s.n; ++n)
        for (int ch = 0; ch < s.c; ++ch)
            a->din[0][argmax(a, n, ch)] = a->dout[(size_t)n * s.c + ch];
}
