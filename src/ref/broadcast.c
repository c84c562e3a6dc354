/* broadcast.c - reference of multiply, subtract and divide (src/ops/broadcast.c), and of
 * add's broadcast form (clnet__ref_add_broadcast_*, for src/ref/add.c): y = a op b
 * with b read at (n, y, x, c) clamped to 0 along each of its dimensions of size 1 (NumPy's
 * broadcasting of b onto a's shape); b's gradient sums over the cells that read each of its
 * elements. */
#include "ref/ref.h"

enum { MUL, SUB, DIV, ADD };

/* Index into b of a's element (n, y, x, c). */
static size_t b_at(clnet_shape b, int n, int y, int x, int c)
{
    return clnet__ref_at(b, b.n == 1 ? 0 : n, b.h == 1 ? 0 : y, b.w == 1 ? 0 : x, b.c == 1 ? 0 : c);
}

static void forward(const clnet__ref_args *a, int op)
{
    const clnet_shape s = a->out_shape, bs = a->in_shape[1];
    for (int n = 0; n < s.n; ++n)
        for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x)
                for (int c = 0; c < s.c; ++c) {
                    const size_t i = clnet__ref_at(s, n, y, x, c);
                    const double u = a->in[0][i], v = a->in[1][b_at(bs, n, y, x, c)];
                    a->out[i] = op == MUL ? u * v : op == SUB ? u - v : op == ADD ? u + v : u / v;
                }
}

/* da = dy * dy/da; db accumulates dy * dy/db over the cells that read it. */
static void backward(const clnet__ref_args *a, int op)
{
    const clnet_shape s = a->out_shape, bs = a->in_shape[1];
    double *da = a->din[0], *db = a->din[1];
    if (db)
        for (size_t i = 0, n = clnet__shape_count(bs); i < n; ++i)
            db[i] = 0.0;
    for (int n = 0; n < s.n; ++n)
        for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x)
                for (int c = 0; c < s.c; ++c) {
                    const size_t i = clnet__ref_at(s, n, y, x, c), j = b_at(bs, n, y, x, c);
                    const double u = a->in[0][i], v = a->in[1][j], g = a->dout[i];
                    if (da)
                        da[i] = op == MUL ? g * v : op == SUB || op == ADD ? g : g / v;
                    if (db)
                        db[j] += op == MUL   ? g * u
                                 : op == SUB ? -g
                                 : op == ADD ? g
                                             : -g * u / (v * v);
                }
}

void clnet__ref_multiply_forward(const clnet__ref_args *a)
{
    forward(a, MUL);
}

void clnet__ref_multiply_backward(const clnet__ref_args *a)
{
    backward(a, MUL);
}

void clnet__ref_subtract_forward(const clnet__ref_args *a)
{
    forward(a, SUB);
}

void clnet__ref_subtract_backward(const clnet__ref_args *a)
{
    backward(a, SUB);
}

void clnet__ref_divide_forward(const clnet__ref_args *a)
{
    forward(a, DIV);
}

void clnet__ref_divide_backward(const clnet__ref_args *a)
{
    backward(a, DIV);
}

void clnet__ref_add_broadcast_forward(const clnet__ref_args *a)
{
    forward(a, ADD);
}

void clnet__ref_add_broadcast_backward(const clnet__ref_args *a)
{
    backward(a, ADD);
}
