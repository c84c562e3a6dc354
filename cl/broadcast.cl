// broadcast.cl - kernels for src/ops/broadcast.c: y = a op b for multiply, subtract, divide
// and add (add.c's broadcast form, add_broadcast_*), b broadcast onto a's shape. The host views a (and y, dy, da) flat as
// [groups][rows][cols] and b as [groups][cols]: b's dimensions of size 1 are the rows
// (src/ops/broadcast.c finds them), so element i of a reads b at
// i / (rows * cols) * cols + i % cols. Same shapes: rows = 1 and b is read at i.
// <op>_forward:  y = a op b.
// <op>_backward: da = dy * d(a op b)/da, and t = dy * d(a op b)/db per element of a; t is
//   b's gradient itself when rows = 1, else a scratch buffer the host sums over the rows
//   (clnet__reduce_rows, or clnet__reduce_groups when groups > 1). Unwanted outputs
//   (want_da, want_t 0) alias another buffer and are never touched; subtract never reads
//   a or b.
// Flat ELEMENTWISE mapping (common.cl): one element per work-item on GPUs, CLNET_CHUNK
// contiguous elements VW at a time on CPUs; b is read as a vector where a run of VW
// elements of a reads contiguous b, else lane by lane.
#define BC_MUL 0
#define BC_SUB 1
#define BC_DIV 2
#define BC_ADD 3

inline int bc_index(int i, int rows, int cols)
{
    return rows == 1 ? i : i / (rows * cols) * cols + i % cols;
}

inline VFLOAT bc_load(global const float *b, int i, int rows, int cols)
{
    if (rows == 1)
        return VLOAD(0, b + i);
    const int k = i % cols;
    if (k + VW <= cols)
        return VLOAD(0, b + i / (rows * cols) * cols + k);
    float lanes[VW];
    for (int l = 0; l < VW; ++l)
        lanes[l] = b[bc_index(i + l, rows, cols)];
    return VLOAD(0, lanes);
}

// Works on floats and on VFLOATs alike.
#define BC_APPLY(u, v, op)                                                                 \
    ((op) == BC_MUL   ? (u) * (v)                                                          \
     : (op) == BC_SUB ? (u) - (v)                                                          \
     : (op) == BC_ADD ? (u) + (v)                                                          \
                      : (u) / (v))

#define BC_FWD_S(i) y[i] = BC_APPLY(a[i], b[bc_index(i, rows, cols)], op)
#define BC_FWD_V(i) VSTORE(BC_APPLY(VLOAD(0, a + (i)), bc_load(b, i, rows, cols), op), 0, y + (i))

inline void bc_forward(global const float *a, global const float *b, global float *y, int count,
                       int rows, int cols, const int op)
{
    ELEMENTWISE(count, BC_FWD_V, BC_FWD_S)
}

// One element (T float) or VW of them (T VFLOAT): g is dy, u is a (read for multiply and
// divide only), v is b (not read for subtract and add).
#define BC_BACK(T, LD, ST, BLOAD, i)                                                       \
    {                                                                                      \
        const T g = LD(dy, i);                                                             \
        if (op == BC_SUB || op == BC_ADD) {                                                \
            if (want_da)                                                                   \
                ST(g, da, i);                                                              \
            if (want_t)                                                                    \
                ST(op == BC_ADD ? g : -g, t, i);                                           \
        } else {                                                                           \
            const T v = BLOAD;                                                             \
            const T q = op == BC_MUL ? g * v : g / v;                                      \
            if (want_da)                                                                   \
                ST(q, da, i);                                                              \
            if (want_t)                                                                    \
                ST(op == BC_MUL ? g * LD(a, i) : -q * LD(a, i) / v, t, i);                 \
        }                                                                                  \
    }
#define BC_LD_S(p, i) (p)[i]
#define BC_ST_S(x, p, i) (p)[i] = (x)
#define BC_LD_V(p, i) VLOAD(0, (p) + (i))
#define BC_ST_V(x, p, i) VSTORE((x), 0, (p) + (i))
#define BC_BACK_S(i) BC_BACK(float, BC_LD_S, BC_ST_S, b[bc_index(i, rows, cols)], i)
#define BC_BACK_V(i) BC_BACK(VFLOAT, BC_LD_V, BC_ST_V, bc_load(b, i, rows, cols), i)

inline void bc_backward(global const float *a, global const float *b, global const float *dy,
                        global float *da, global float *t, int count, int rows, int cols,
                        int want_da, int want_t, const int op)
{
    ELEMENTWISE(count, BC_BACK_V, BC_BACK_S)
}

#define BC_KERNELS(name, op)                                                               \
    kernel void name##_forward(global const float *a, global const float *b, global float *y, \
                               int count, int rows, int cols)                              \
    {                                                                                      \
        bc_forward(a, b, y, count, rows, cols, op);                                        \
    }                                                                                      \
    kernel void name##_backward(global const float *a, global const float *b,             \
                                global const float *dy, global float *da, global float *t, \
                                int count, int rows, int cols, int want_da, int want_t)    \
    {                                                                                      \
        bc_backward(a, b, dy, da, t, count, rows, cols, want_da, want_t, op);              \
    }

BC_KERNELS(multiply, BC_MUL)
BC_KERNELS(subtract, BC_SUB)
BC_KERNELS(divide, BC_DIV)
BC_KERNELS(add_broadcast, BC_ADD)
