/* conv2d_algo.h - conv2d's convolution algorithms and the choice between them, inside
 * src/ops: im2col + GEMM and the implicit GEMM (conv2d.c) and Winograd F(2x2, 3x3) + 16
 * GEMMs (conv2d_winograd.c, kernels cl/conv2d_winograd.cl). Tests: tests/ops/test_conv2d.c,
 * tests/ops/test_conv2d_winograd.c. */
#ifndef CLNET_OPS_CONV2D_ALGO_H
#define CLNET_OPS_CONV2D_ALGO_H

#include "gemm/gemm.h"
#include "ops/op.h"

typedef enum clnet__conv_algo {
    CLNET_CONV_AUTO = 0,
    CLNET_CONV_IM2COL = 1, /* im2col + GEMM (one GEMM on x itself for 1x1 stride 1) */
    CLNET_CONV_WINOGRAD = 2,
    CLNET_CONV_GROUPED = 3, /* direct kernels for grouped convolutions (conv2d_grouped.c) */
    CLNET_CONV_DIRECT = 4,  /* forward of few input channels in place (conv2d_direct.c) */
    /* forward as the packed GEMM reading the column matrix from x as it goes (conv2d.c) */
    CLNET_CONV_IMPLICIT = 5,
    CLNET_CONV_ALGO_COUNT
} clnet__conv_algo;

/* Everything the kernels need to address x, y and the workspaces: x {batch, in_h, in_w,
 * cin}, y {batch, out_h, out_w, cout}, kernel {kh, kw, cin / groups, cout}, strides, the
 * padding cells before the input (the ones after follow from the sizes), and the groups
 * (1 or more; both cin and cout are multiples of it). */
typedef struct clnet__conv_geom {
    int batch, in_h, in_w, cin, out_h, out_w, cout, kh, kw, sh, sw, pad_t, pad_l, groups;
} clnet__conv_geom;

/* "auto", "im2col", "winograd", "grouped", "direct", "implicit" (the values of
 * $CLNET_CONV_ALGO). */
const char *clnet__conv_algo_name(clnet__conv_algo algo);
/* Whether algo can run a convolution of this geometry (AUTO and IM2COL always;
 * WINOGRAD: 3x3 kernel, stride 1, one group: its transforms mix all channels; GROUPED:
 * more than one group; DIRECT: one group, cout a multiple of 16, forward only; IMPLICIT:
 * one group, not a 1x1 of stride 1 (a plain GEMM already), forward only). */
int clnet__conv2d_algo_ok(clnet__conv_algo algo, const clnet__conv_geom *g);
/* The tuning database's key of a convolution problem (forward, or dX with
 * backward_data): "conv2d 1x56x56x64 k3x3 s1x1 p1,1 -> 56x56x64" (+ " g4" when grouped,
 * + " dx"). */
void clnet__conv2d_key(const clnet__conv_geom *g, int backward_data, char *buf, size_t len);
/* The geometry of a convolution with params p on input in, checked (conv2d.c). */
clnet_status clnet__conv2d_geom(clnet_context *ctx, const clnet__conv2d_params *p, clnet_shape in,
                                clnet__conv_geom *g);
/* The algorithm for forward (backward_data = 0) or for the data gradient dX
 * (backward_data = 1) of g on ctx: $CLNET_CONV_ALGO (ctx->conv_algo) when it names an
 * algorithm that applies, else (use_db) the tuning database's entry for the problem, else
 * the variant table's rule ("conv2d" keys WINOGRAD, WINOGRAD_MIN_C, WINOGRAD_MIN_TILES;
 * Winograd's transformed kernel must fit the max allocation; GROUPED_MAX_CHANNELS and
 * GROUPED_MIN_WIDTH, for dX GROUPED_DX_MAX_CHANNELS and GROUPED_DX_MIN_WIDTH: grouped
 * convolutions whose groups have at most that many input and output channels, and whose
 * output (dX: input) rows are at least that wide, run GROUPED).
 * Never AUTO. *tuned (may be
 * NULL) is 1 when the database decided. Called by prepare steps only. */
clnet__conv_algo clnet__conv2d_pick(const clnet_context *ctx, const clnet__conv_geom *g,
                                    int backward_data, int use_db, int *tuned);

/* Roles of conv2d's GEMM plans in its execution record. */
enum { CLNET_CONV_GEMM_FWD, CLNET_CONV_GEMM_DX, CLNET_CONV_GEMM_DW };

/* conv2d's prepare step with the algorithms given (AUTO: clnet__conv2d_pick's, with the
 * database when use_db; the tuner forces them and leaves the database out so candidates
 * compare like with like); CLNET_ERR_UNSUPPORTED when one does not apply. conv2d.c. */
clnet_status clnet__conv2d_prepare_with(clnet_context *ctx, const clnet__conv2d_params *p,
                                        const clnet_shape *in, int n_in, int training,
                                        clnet__conv_algo fwd, clnet__conv_algo dx, int use_db,
                                        clnet__op_exec *e);

/* dx = the data gradient of the convolution g from dpre (the gradient before the
 * activation) as e recorded (conv2d's backward and the tuner). conv2d.c. */
clnet_status clnet__conv2d_dx(clnet_context *ctx, const clnet__op_exec *e, const clnet__scratch *s,
                              const clnet__conv_geom *g, cl_mem dpre, cl_mem w, cl_mem dx);

/* Winograd's scratch (U, V in COL, M, and its GEMM's PACK_B, added into scratch[]) and its
 * GEMM plan for the convolution g (dx: its data gradient) at its largest chunk. */
void clnet__conv2d_winograd_prepare(const clnet_context *ctx, const clnet__conv_geom *g, int dx,
                                    int use_db, size_t *scratch, clnet__gemm_plan *gp);
/* y = act(conv(x, w) + bias + res) by Winograd, and the value before act into pre unless
 * NULL; bias and res may be NULL. y's pixel p starts at y_off + p * ldy (ldy >= g->cout: a
 * channel block of a wider tensor); res and pre are packed. g must pass
 * clnet__conv2d_algo_ok(CLNET_CONV_WINOGRAD, g); gp and s as prepared for it. */
clnet_status clnet__conv2d_winograd(clnet_context *ctx, const clnet__scratch *s,
                                    const clnet__gemm_plan *gp, const clnet__conv_geom *g, cl_mem x,
                                    cl_mem w, cl_mem bias, cl_mem res, clnet__act act, cl_mem y,
                                    int ldy, int y_off, cl_mem pre);
/* dx = the data gradient of the convolution g from dpre (the gradient before the
 * activation, shaped like y): the 3x3 stride-1 convolution of dpre with w rotated by 180
 * degrees, cin and cout swapped, padding 2 - pad before each axis, by Winograd. */
clnet_status clnet__conv2d_winograd_dx(clnet_context *ctx, const clnet__scratch *s,
                                       const clnet__gemm_plan *gp, const clnet__conv_geom *g,
                                       cl_mem dpre, cl_mem w, cl_mem dx);

/* y = the grouped convolution g of x with w, without bias or activation (conv2d's epilogue
 * follows), by the direct kernel, with clnet__conv2d_grouped_scratch bytes of COL from s;
 * dx = its data gradient from dpre (no scratch). Only enqueue. conv2d_grouped.c. */
clnet_status clnet__conv2d_grouped(clnet_context *ctx, const clnet__scratch *s,
                                   const clnet__conv_geom *g, cl_mem x, cl_mem w, cl_mem y);
size_t clnet__conv2d_grouped_scratch(const clnet_context *ctx, const clnet__conv_geom *g);
clnet_status clnet__conv2d_grouped_dx(clnet_context *ctx, const clnet__conv_geom *g, cl_mem dpre,
                                      cl_mem w, cl_mem dx);

/* y = act(conv(x, w) + bias + res) by the direct kernel for few input
 * channels, and the value before act into pre
 * unless NULL; bias and res may be NULL. y's pixel p starts at y_off + p * ldy; res and pre
 * are packed. g must pass clnet__conv2d_algo_ok(CLNET_CONV_DIRECT, g). */
clnet_status clnet__conv2d_direct(clnet_context *ctx, const clnet__conv_geom *g, cl_mem x, cl_mem w,
                                  cl_mem bias, cl_mem res, clnet__act act, cl_mem y, int ldy,
                                  int y_off, cl_mem pre);

/* The im2col and GEMM paths' shared parts (conv2d_columns.c). The convolution is one GEMM
 * on the activation itself: [pixels, cin] x [cin, cout]. */
int clnet__conv2d_pointwise(const clnet__conv_geom *g);
/* Images per im2col chunk: the column matrix stays within COL_BYTES and the device's max
 * allocation (one image at least); the bytes of a chunk of per images. */
int clnet__conv2d_chunk_images(const clnet_context *ctx, const clnet__conv_geom *g);
size_t clnet__conv2d_col_bytes(const clnet__conv_geom *g, int per);
/* The column buffer of a chunk of *per images (chunk_images), from the scratch. */
clnet_status clnet__conv2d_col_buffer(clnet_context *ctx, const clnet__scratch *s,
                                      const clnet__conv_geom *g, int *per, cl_mem *col);
/* col = the column matrix of images n0 .. n0 + images - 1 of x; dx of those images from
 * their column-matrix gradient dcol. Only enqueue. */
clnet_status clnet__conv2d_im2col(clnet_context *ctx, const clnet__conv_geom *g, cl_mem x, int n0,
                                  int images, cl_mem col);
clnet_status clnet__conv2d_col2im(clnet_context *ctx, const clnet__conv_geom *g, cl_mem dcol,
                                  int n0, int images, cl_mem dx);
/* The product of role (CLNET_CONV_GEMM_*) for one group over rows output pixels, on the
 * group's slices: kin columns of the "input" matrix (the column matrix, or x itself for
 * pointwise; its rows kk = kh * kw * cin long) and og output channels of y, dpre and the
 * kernel (rows cout long). One group: packed matrices. */
clnet__gemm_args clnet__conv2d_role_args(const clnet__conv_geom *g, int role, int rows, float beta);
/* What a GEMM of conv2d runs on: the record and the scratch of the call; for a forward
 * the epilogue its GEMM applies (exec->fused_epilogue; NULL: a pass of its own follows)
 * and the prepacked B (exec->prepacked_bytes; NULL: none). */
typedef struct clnet__conv2d_gemm_ctx {
    clnet_context *ctx;
    const clnet__op_exec *e;
    const clnet__scratch *s;
    const clnet__gemm_epilogue *ep;
    cl_mem b_packed;
    const clnet__gemm_conv *conv; /* the forward's implicit column matrix, or NULL */
} clnet__conv2d_gemm_ctx;
/* The GEMMs of role (CLNET_CONV_GEMM_*) over rows output pixels as the record planned
 * them, one per group, the operands at a_off, b_off, c_off for group 0; ldc 0: C's rows
 * are the role's (else a forward's output rows ldc apart, inside a wider tensor). */
clnet_status clnet__conv2d_gemm(const clnet__conv2d_gemm_ctx *r, const clnet__conv_geom *g,
                                int role, int rows, float beta, cl_mem a, size_t a_off, cl_mem b,
                                size_t b_off, cl_mem c, size_t c_off, int ldc);

#endif
